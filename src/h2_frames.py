"""The HTTP/2 frame reader and writer, selected at import time (see :mod:`cyhttp._compat`).

``FrameReader`` and ``serialize`` come from the implementation in use, whose API is
documented in ``_h2frames_py``; the frames themselves are the classes of
:mod:`cyhttp._h2_models`. ``h2frames_py`` is always the pure-Python twin and ``h2frames_c``
the compiled one (``None`` when it is not built); the twin that is not in use is imported
only when asked for.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _compat
from .h2_errors import FrameError, StreamError

__all__ = ("FrameError", "FrameReader", "StreamError", "h2frames_c", "h2frames_py", "serialize")

if TYPE_CHECKING:
    from . import _h2frames_py as h2frames_py

    impl = h2frames_py
    h2frames_c: ModuleType | None = h2frames_py
else:
    impl = _compat.load("_h2frames", "_h2frames_py")

    def __getattr__(name: str) -> Any:
        twins = {"h2frames_py": "_h2frames_py", "h2frames_c": "_h2frames"}
        if name not in twins:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = _compat.import_twin(twins[name])
        return value


FrameReader = impl.FrameReader
serialize = impl.serialize
