"""The WebSocket frame masker and reader, selected at import time (see :mod:`cyhttp._compat`).

``impl`` is the module in use; ``websocket_py`` is always the pure-Python twin and
``websocket_c`` the compiled one (``None`` when it is not built). The API is documented in
``_websocket_py``. The twin that is not in use is imported only when asked for.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _compat

__all__ = ("impl", "websocket_c", "websocket_py")

if TYPE_CHECKING:
    from . import _websocket_py as websocket_py

    impl = websocket_py
    websocket_c: ModuleType | None = websocket_py
else:
    impl = _compat.load("_websocket", "_websocket_py")

    def __getattr__(name: str) -> Any:
        twins = {"websocket_py": "_websocket_py", "websocket_c": "_websocket"}
        if name not in twins:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = _compat.import_twin(twins[name])
        return value
