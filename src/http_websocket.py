"""The WebSocket frame masker and reader, selected at import time (see :mod:`cyhttp._compat`).

``impl`` is the module in use; ``websocket_py`` is always the pure-Python twin and
``websocket_c`` the compiled one (``None`` when it is not built). The API is documented in
``_websocket_py``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from . import _compat
from . import _websocket_py as websocket_py

__all__ = ("impl", "websocket_c", "websocket_py")

websocket_c: ModuleType | None
if TYPE_CHECKING:
    impl = websocket_py
    websocket_c = websocket_py
else:
    impl = _compat.load("_websocket", "_websocket_py")
    try:
        from . import _websocket as websocket_c
    except ImportError:
        websocket_c = None
