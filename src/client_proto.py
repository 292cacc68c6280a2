"""The per-connection ``asyncio.Protocol``: bytes in → parser → response head and body.

One :class:`ResponseHandler` lives as long as its socket and carries the responses of all the
requests sent on it, one at a time. For each request the layer above calls :meth:`start`
and awaits the head; body bytes go (through a decoder when the body is compressed) into the
response's :class:`~cyhttp.streams.StreamReader`, with flow control in both directions.

This is the one place where parser and OS errors become the public exception tree:

* a malformed status line or header block → :class:`ClientResponseError` (request_info is
  filled in by the response layer, which knows it);
* a malformed or truncated body, bad compression → :class:`ClientPayloadError`;
* a Content-Encoding we cannot decode (unknown, or its decoder not installed), a
  Transfer-Encoding coding other than chunked, or more than :data:`MAX_INFORMATIONAL`
  interim (1xx) responses before the final one → :class:`ClientResponseError` (never
  the still-encoded bytes given out as the body; ``auto_decompress=False`` passes a
  Content-Encoding through untouched, as asked);
* the peer closing (or resetting) before the head is complete →
  :class:`ServerDisconnectedError`;
* writing to a connection already closed → :class:`ClientConnectionResetError`;
* no bytes for ``sock_read`` seconds → :class:`SocketTimeoutError` (a ServerTimeoutError);
* a compressed body inflating past ``max_decompressed_size`` → :class:`ClientPayloadError`
  (a decompression bomb is stopped after at most that many output bytes).

Bytes that follow a complete keep-alive response in the same read (a partial second
response, garbage) mean the connection can no longer be trusted: it is closed rather than
pooled, so the next request never reads them.

After a 101 (or a 2xx answer to CONNECT) the parser stops and :meth:`take_over` hands every
following byte to another receiver (the WebSocket reader).

The protocol runs once per request on every connection, so it has a compiled core
(:mod:`cyhttp._protocol`) and a pure-Python twin (:mod:`cyhttp._protocol_py`) that behave
identically; :mod:`cyhttp._compat` picks one at import (:data:`impl` is the module in use)
and this module re-exports it. The constants and :func:`deliver_failure` are shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _compat
from ._protocol_common import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_READ_LIMITS,
    MAX_INFORMATIONAL,
    Receiver,
    deliver_failure,
)

__all__ = (
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_READ_LIMITS",
    "MAX_INFORMATIONAL",
    "Receiver",
    "ResponseHandler",
    "deliver_failure",
    "impl",
)

if TYPE_CHECKING:
    from . import _protocol_py as impl
    from ._protocol_py import ResponseHandler
else:
    impl = _compat.load("_protocol", "_protocol_py")
    ResponseHandler = impl.ResponseHandler
