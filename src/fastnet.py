"""Optional compiled transports: aiofastnet's TCP and TLS transports under cyhttp's connections.

aiofastnet (the ``speedups`` extra) reimplements asyncio's socket and TLS transports in
C/Cython on top of whatever event loop runs (asyncio's own or uvloop): it needs only the
loop's ``add_reader``/``add_writer``. Over TLS it calls OpenSSL directly, which is where
most of its gain comes from. A :class:`~cyhttp.TCPConnector` opens its sockets and does its
Happy Eyeballs exactly as without it; only the transport put on a connected socket (and the
TLS layer of a CONNECT tunnel) comes from aiofastnet.

The choice is made once per connector, from its ``fast_transports`` argument:

* ``None`` (the default): used when aiofastnet is importable, unless the environment has
  ``CYHTTP_NO_AIOFASTNET`` set to a non-empty value;
* ``True``: used, and RuntimeError at construction when aiofastnet is not installed;
* ``False``: never used (the loop's own ``create_connection``/``start_tls``).

Nothing here changes the event loop: other code on the same loop keeps the loop's transports.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import ssl
from types import ModuleType
from typing import Any

__all__ = ("ENV_OFF", "available", "create_connection", "resolve", "start_tls")

#: a non-empty value turns aiofastnet off for connectors that do not choose explicitly
ENV_OFF = "CYHTTP_NO_AIOFASTNET"


#: the import's outcome, computed once: the module, or the reason it could not be had
_module: ModuleType | None = None
_import_error: BaseException | None = None
_tried = False


def _load() -> ModuleType | None:
    """aiofastnet, or None when it does not import (not installed, or a broken build: the
    reason is kept for :func:`resolve`'s error message)."""
    global _module, _import_error, _tried
    if not _tried:
        _tried = True
        try:
            _module = importlib.import_module("aiofastnet")
        except Exception as exc:  # a missing or broken optional package: the loop still works
            _import_error = exc
    return _module


def available() -> bool:
    """True when aiofastnet can be imported here."""
    return _load() is not None


def resolve(setting: bool | None) -> ModuleType | None:
    """The aiofastnet module a connector with ``fast_transports=setting`` uses, or None for
    the loop's own transports (see the module docstring for the rules)."""
    if setting is not None and not isinstance(setting, bool):
        raise TypeError(f"fast_transports must be None, True or False, got {setting!r}")
    if setting is False:
        return None
    if setting is None and os.environ.get(ENV_OFF):
        return None
    module = _load()
    if module is None and setting is True:
        raise RuntimeError(
            "fast_transports=True needs aiofastnet (pip install 'cyhttp[speedups]'): "
            f"{_import_error!r}"
        )
    return module


async def create_connection(
    fast: ModuleType | None,
    loop: asyncio.AbstractEventLoop,
    factory: Any,
    **kwargs: Any,
) -> tuple[asyncio.Transport, Any]:
    """``loop.create_connection(factory, **kwargs)``, on aiofastnet's transports when
    ``fast`` is the aiofastnet module (its function takes the same keywords)."""
    if fast is None:
        return await loop.create_connection(factory, **kwargs)
    transport, proto = await fast.create_connection(loop, factory, **kwargs)
    return transport, proto


async def start_tls(
    fast: ModuleType | None,
    loop: asyncio.AbstractEventLoop,
    transport: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    sslcontext: ssl.SSLContext,
    **kwargs: Any,
) -> asyncio.Transport | None:
    """``loop.start_tls(...)``, with aiofastnet's TLS layer when ``fast`` is set. aiofastnet's
    works over any transport that has ``set_protocol`` (its own, asyncio's or uvloop's),
    TLS ones included (TLS to the target through an ``https://`` proxy)."""
    if fast is None:
        return await loop.start_tls(transport, protocol, sslcontext, **kwargs)
    tls: asyncio.Transport = await fast.start_tls(loop, transport, protocol, sslcontext, **kwargs)
    return tls
