"""What both twins of the HTTP/1.1 protocol share: its defaults and the module-level helpers.

A module of its own so that the compiled twin (:mod:`cyhttp._protocol`) imports these
without importing its pure twin (:mod:`cyhttp._protocol_py`), which a compiled run never
uses otherwise: one definition of each, and no pure class built at ``import cyhttp``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from .streams import EMPTY_PAYLOAD, StreamReader

__all__ = (
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_READ_LIMITS",
    "DIRECT_BODY_MAX",
    "DIRECT_BODY_MIN",
    "MAX_INFORMATIONAL",
    "DirectBody",
    "Receiver",
    "deliver_failure",
)

#: Default bound of a decompressed response body (bytes); ``None``/0 in the API disables.
DEFAULT_MAX_DECOMPRESSED_SIZE = 2**28
#: aiohttp's defaults: max_line_size, max_field_size, max_headers, read_bufsize
DEFAULT_READ_LIMITS = (8190, 8190, 128, 2**18)
#: Interim (1xx) responses accepted before the final one: a server may send them forever.
MAX_INFORMATIONAL = 100


class Receiver(Protocol):
    """What :meth:`ResponseHandler.take_over` feeds after an upgrade."""

    def feed_data(self, data: bytes) -> Any: ...
    def feed_eof(self) -> Any: ...
    def set_exception(self, exc: BaseException) -> Any: ...


#: a body is read straight into its buffer when at least this much of it is still to come
DIRECT_BODY_MIN = 2**16
#: ... and it is no longer than this (a Content-Length is only a claim: nothing larger is
#: allocated before it arrives)
DIRECT_BODY_MAX = 2**26


class DirectBody(asyncio.BufferedProtocol):
    """The transport's protocol while the rest of a body is read straight into its final
    buffer (see ``ResponseHandler.receive_rest_directly``): reads land in the buffer, and
    everything else is the connection's protocol's business. Shared by both twins."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Any) -> None:
        self._owner = owner

    def get_buffer(self, sizehint: int) -> Any:
        return self._owner._direct_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self._owner._direct_received(nbytes)

    def data_received(self, data: bytes) -> None:
        self._owner._direct_data(data)

    def eof_received(self) -> bool | None:
        return self._owner.eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._owner._direct_lost(exc)

    def pause_writing(self) -> None:
        self._owner.pause_writing()

    def resume_writing(self) -> None:
        self._owner.resume_writing()


def _direct_size(handler: Any, reader: StreamReader) -> int:
    """The whole body's length when the rest of it may be read straight into one buffer
    (its length known, long enough, not decoded, the connection open and not TLS), else 0."""
    if (
        reader is not handler.payload
        or handler._decoder is not None
        or handler._direct is not None
        or not handler.busy
        or handler._upgraded
        or handler._receiver is not None
    ):
        return 0
    transport = handler.transport
    if transport is None or transport.is_closing() or handler._parser is None:
        return 0
    if transport.get_extra_info("ssl_object") is not None:
        # measured on TLS: level on asyncio, slower on uvloop, and aiofastnet's TLS
        # transport keeps asking the connection's protocol for buffers once switched back
        return 0
    remaining: int = handler._parser.body_remaining()
    if remaining < DIRECT_BODY_MIN:
        return 0
    total = remaining + reader._size
    return total if total <= DIRECT_BODY_MAX else 0


def _take_buffered(reader: StreamReader) -> bytes:
    """What the reader holds of the body, taken back to go first into the body's buffer
    (fed again with the rest, so it is counted once)."""
    if not reader._size:
        return b""
    data: bytes = reader._take_all()
    reader._total -= len(data)
    reader._consumed -= len(data)
    return data


def deliver_failure(
    waiter: asyncio.Future[Any] | None, payload: StreamReader | None, exc: BaseException
) -> None:
    """Give ``exc`` to whoever waits for the response: the head's waiter while the head
    is awaited, else the body's reader (unless the body already ended or failed). The
    HTTP/1.1 connection and each HTTP/2 stream fail their response this way."""
    if waiter is not None:
        if not waiter.done():
            waiter.set_exception(exc)
    elif (
        payload is not None
        and payload is not EMPTY_PAYLOAD
        and not payload.is_eof()
        and payload.exception() is None
    ):
        payload.set_exception(exc)


def _foreign_transfer_coding(raw_headers: tuple[tuple[bytes, bytes], ...]) -> str | None:
    """The first transfer coding other than chunked (identity: a no-op, ignored), or None.
    The parser frames a body by its last coding only: gzip under chunked would reach the
    reader still compressed."""
    for name, value in raw_headers:
        if len(name) == 17 and name.lower() == b"transfer-encoding":
            for item in value.split(b","):
                coding = item.strip(b" \t").lower()
                if coding and coding != b"chunked" and coding != b"identity":
                    return coding.decode("latin-1")
    return None


def _os_args(exc: BaseException | None) -> tuple[Any, ...]:
    if isinstance(exc, OSError) and exc.errno is not None:
        return (exc.errno, exc.strerror)
    return (0, str(exc) if exc else "connection lost")
