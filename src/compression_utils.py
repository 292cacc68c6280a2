"""``set_zlib_backend``: choose the zlib implementation cyhttp compresses and decompresses
with (aiohttp 3.14's hook), e.g. ``zlib_ng.zlib_ng`` or ``isal.isal_zlib``, which are
API-compatible with the standard library's module and faster.

Every module of cyhttp that uses zlib (response decoding, request compression, multipart
parts, the WebSocket permessage-deflate extension) looks the backend up through its module
global ``zlib`` each time it makes a (de)compressor, so switching takes effect for the
next body or message. Pass the standard :mod:`zlib` to go back.
"""

from __future__ import annotations

import importlib
import zlib as _stdlib_zlib
from typing import Any

__all__ = ("set_zlib_backend", "zlib_backend")

#: the modules whose ``zlib`` global is the backend in use
_USERS = ("streams", "http_writer", "multipart", "multipart_reader", "_ws_deflate")
#: what a backend must offer (the rest, such as ``error`` or ``Z_SYNC_FLUSH``, may come
#: from the standard module when the backend lacks it)
_REQUIRED = ("compressobj", "decompressobj", "MAX_WBITS")


class _Backend:
    """A zlib-compatible module, completed by the standard module for missing names."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            return getattr(_stdlib_zlib, name)

    def __repr__(self) -> str:
        return f"<zlib backend {getattr(self._module, '__name__', self._module)!r}>"


_current: Any = _stdlib_zlib


def set_zlib_backend(new_zlib_backend: Any) -> None:
    """Use ``new_zlib_backend`` (a module with zlib's API) for all of cyhttp's zlib work."""
    missing = [name for name in _REQUIRED if not hasattr(new_zlib_backend, name)]
    if missing:
        raise TypeError(
            f"{new_zlib_backend!r} is not a zlib-compatible module: no {', '.join(missing)}"
        )
    global _current
    backend = _stdlib_zlib if new_zlib_backend is _stdlib_zlib else _Backend(new_zlib_backend)
    for name in _USERS:
        module = importlib.import_module(f"{__package__}.{name}")
        module.zlib = backend  # type: ignore[attr-defined]
    _current = new_zlib_backend


def zlib_backend() -> Any:
    """The zlib module in use (the standard one unless :func:`set_zlib_backend` was called)."""
    return _current
