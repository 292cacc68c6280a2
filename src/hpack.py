"""HPACK (RFC 7541) for HTTP/2, selected at import time (see :mod:`cyhttp._compat`).

``Decoder`` and ``Encoder`` come from the implementation in use, whose API is documented in
``_hpack_py``. ``hpack_py`` is always the pure-Python twin and ``hpack_c`` the compiled one
(``None`` when it is not built), so tests and benchmarks can drive each explicitly; the
twin that is not in use is imported only when asked for.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _compat
from .h2_errors import HeaderListTooLarge, HPACKError

__all__ = ("Decoder", "Encoder", "HPACKError", "HeaderListTooLarge", "hpack_c", "hpack_py")

if TYPE_CHECKING:
    from . import _hpack_py as hpack_py

    impl = hpack_py
    hpack_c: ModuleType | None = hpack_py
else:
    impl = _compat.load("_hpack", "_hpack_py")

    def __getattr__(name: str) -> Any:
        twins = {"hpack_py": "_hpack_py", "hpack_c": "_hpack"}
        if name not in twins:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = _compat.import_twin(twins[name])
        return value


Decoder = impl.Decoder
Encoder = impl.Encoder
