"""The pure-Python twin of :mod:`cyhttp._protocol`: the per-connection HTTP/1.1 protocol.

:mod:`cyhttp.client_proto` describes the layer and re-exports the twin in use (chosen by
:mod:`cyhttp._compat`). Both twins behave identically; the compiled one exists for speed,
this one for interpreters without the extension and as its readable reference. The
constants and module-level helpers both use live in :mod:`cyhttp._protocol_common`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from ._models import ResponseHead
from ._protocol_common import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_READ_LIMITS,
    DIRECT_BODY_MAX,
    DIRECT_BODY_MIN,
    MAX_INFORMATIONAL,
    DirectBody,
    Receiver,
    _direct_size,
    _foreign_transfer_coding,
    _os_args,
    _take_buffered,
    deliver_failure,
)
from .client_exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .deadline import LazyDeadline
from .http_exceptions import BadHttpMessage, BadHttpPayload, HttpParserError
from .http_parser import HttpResponseParser
from .streams import EMPTY_PAYLOAD, DecodedBody, StreamReader, make_decoder, undecodable

__all__ = (
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_READ_LIMITS",
    "DIRECT_BODY_MAX",
    "DIRECT_BODY_MIN",
    "MAX_INFORMATIONAL",
    "DirectBody",
    "Receiver",
    "ResponseHandler",
    "deliver_failure",
)

_NO_BODY_STATUSES = frozenset((204, 304))


class ResponseHandler(asyncio.Protocol):
    """Drives the parser for one connection; see the module docstring."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._parser: Any = None
        #: (max_line_size, max_field_size, max_headers, read_bufsize) of the parser in use
        self._limits = DEFAULT_READ_LIMITS
        self._method = ""
        self._head_waiter: asyncio.Future[tuple[ResponseHead, StreamReader]] | None = None
        self._head: ResponseHead | None = None
        self.payload: StreamReader | None = None
        self._decoder: DecodedBody | None = None
        self._eof_pending = False  # message complete but decoder output still queued
        self._auto_decompress = True
        self._read_until_eof = True
        self._discard_body = False
        #: True when this connection must not carry another request.
        self.should_close = False
        #: True between start() and the end of the response body.
        self.busy = False
        #: True once any byte arrived for the current request (stale-connection retries).
        self.got_bytes = False
        #: Bytes written for the current request (ClientResponse.output_size).
        self.output_size = 0
        #: Called (no arguments) when a response completed and the connection is reusable.
        self.on_message_done: Callable[[], None] | None = None
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closed = False
        #: The whole-request timeout of the request in flight (one lazy timer per socket).
        self.deadline = LazyDeadline(loop)
        self._read_timeout: float | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._upgraded = False
        self._tail: list[bytes] = []
        self._receiver: Receiver | None = None
        self._informational: Callable[[ResponseHead], None] | None = None
        self._informational_count = 0
        self._max_decompressed = DEFAULT_MAX_DECOMPRESSED_SIZE
        self._parsed_complete = False  # the parser finished a message in this feed
        self._check_later = False  # ... while its body was still being decoded
        #: while the rest of a body is read straight into its buffer: the transport's
        #: protocol meanwhile, the buffer and how much of it is filled
        self._direct: DirectBody | None = None
        self._direct_body: bytearray | None = None
        self._direct_filled = 0

    # ----- asyncio.Protocol -----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - e.g. exotic socket types
                pass

    def data_received(self, data: bytes) -> None:
        if self._receiver is not None:
            self._receiver.feed_data(data)
            return
        if self._upgraded:
            self._tail.append(data)
            return
        self.got_bytes = True
        if self._read_timer is not None:
            self._last_read = self._loop.time()
        parser = self._parser
        if parser is None or not self.busy:
            # bytes nobody asked for: the connection can no longer be trusted
            self._fail(ClientResponseError(None, message="unexpected data from the server"))
            return
        self._parsed_complete = False
        try:
            tail = parser.feed_data(data)
        except BadHttpMessage as exc:
            self._fail(
                ClientResponseError(None, status=400, message=f"invalid response: {exc}"), exc
            )
            return
        except BadHttpPayload as exc:
            self._fail(ClientPayloadError(f"invalid response body: {exc}"), exc)
            return
        except ClientPayloadError as exc:  # from a decoder
            self._fail(exc)
            return
        except ClientResponseError as exc:  # from on_headers / on_informational
            self._fail(exc)
            return
        if tail is not None:
            self._upgraded = True
            self.should_close = True
            if tail:
                self._tail.append(tail)
        elif self._parsed_complete:
            if self._eof_pending:
                self._check_later = True  # the body is still being decoded
            else:
                self._check_leftover()

    def _check_leftover(self) -> None:
        """After a complete response: bytes the parser kept (the start of an unrequested
        response, garbage) must never be read as the next request's answer."""
        self._check_later = False
        try:
            self._parser.feed_eof()  # does nothing between messages, raises on a partial one
        except HttpParserError:
            self.should_close = True
            transport = self.transport
            if not self.busy and transport is not None and not transport.is_closing():
                transport.abort()

    def eof_received(self) -> bool | None:
        self.should_close = True
        return None  # let the transport close

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closed = True
        self.should_close = True
        self._cancel_read_timer()
        # the lazy whole-request timer may be minutes away: a closed socket must not keep
        # it (and this protocol) scheduled until then
        self.deadline.close()
        receiver = self._receiver
        if receiver is not None:
            if exc is None:
                receiver.feed_eof()
            else:
                receiver.set_exception(ClientOSError(*_os_args(exc)))
        elif self.busy and not self._upgraded:
            self._on_peer_gone(exc)
        drain = self._drain_waiter
        if drain is not None:
            self._drain_waiter = None
            if not drain.done():
                drain.set_exception(
                    ClientOSError(*_os_args(exc)) if exc else ServerDisconnectedError()
                )
        self.transport = None

    def _on_peer_gone(self, exc: BaseException | None) -> None:
        """The socket closed while a response was expected: finish or fail it."""
        if self._eof_pending:
            return  # body fully received; the rest is decoded as the reader drains it
        parser = self._parser
        if parser is not None:
            try:
                parser.feed_eof()
            except BadHttpPayload as perr:
                self._fail(
                    ClientPayloadError(f"response payload is not completed: {perr}"), exc or perr
                )
                return
            except HttpParserError as perr:
                self._fail(ServerDisconnectedError(perr.message), exc or perr)
                return
            except ClientPayloadError as derr:
                self._fail(derr, exc)
                return
        if self.busy:
            if self._head_waiter is not None:
                self._fail(ServerDisconnectedError(), exc)
            else:
                self._fail(ClientPayloadError("response payload is not completed"), exc)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # ----- flow control asked by the StreamReader -----

    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            try:
                self.transport.pause_reading()
            except (AttributeError, NotImplementedError, RuntimeError):  # pragma: no cover
                pass

    def resume_reading(self) -> None:
        if self._decoder is not None:
            try:
                self._pump()
            except ClientPayloadError as exc:
                self._fail(exc)
                return
            if self.payload is not None and self.payload.paused:
                return
        self._resume_transport()

    def _resume_transport(self) -> None:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            try:
                self.transport.resume_reading()
            except (AttributeError, NotImplementedError, RuntimeError):  # pragma: no cover
                pass

    # ----- used by the request/response layer -----

    @property
    def closed(self) -> bool:
        return self._closed

    def is_connected(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def is_reusable(self) -> bool:
        """Idle, open, and nothing left over from a previous response."""
        if self.should_close or self.busy or self._closed:
            return False
        transport = self.transport
        return transport is not None and not transport.is_closing()

    def start(
        self,
        method: str,
        *,
        auto_decompress: bool = True,
        read_until_eof: bool = True,
        read_timeout: float | None = None,
        informational: Callable[[ResponseHead], None] | None = None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        limits: tuple[int, int, int, int] = DEFAULT_READ_LIMITS,
    ) -> asyncio.Future[tuple[ResponseHead, StreamReader]]:
        """Expect a response to a ``method`` request; returns the future of its head and
        body reader (taken together: the connection may serve another request before the
        awaiting coroutine resumes). ``max_decompressed_size`` bounds the decoded body of
        a compressed response (None or 0: no bound)."""
        if self._closed or self.transport is None:
            raise ServerDisconnectedError()
        parser = self._parser
        if parser is None or limits != self._limits:
            # a connection keeps its parser; one made for other limits is replaced between
            # messages (start() is only called on an idle connection)
            self._limits = limits
            max_line_size, max_field_size, max_headers, _ = limits
            parser = self._parser = HttpResponseParser(
                self,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
            )
        parser.set_request_method(method)
        self._method = method
        self._auto_decompress = auto_decompress
        self._read_until_eof = read_until_eof
        self._informational = informational
        self._informational_count = 0
        self._max_decompressed = max_decompressed_size or 0
        self.busy = True
        self.got_bytes = False
        self.output_size = 0
        self.payload = None
        self._decoder = None
        self._eof_pending = False
        self._discard_body = False
        waiter = self._head_waiter = self._loop.create_future()
        if read_timeout:
            self._read_timeout = read_timeout
            self._last_read = self._loop.time()
            self._read_timer = self._loop.call_at(
                self._last_read + read_timeout, self._on_read_timer
            )
        return waiter

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        self.output_size += len(data)
        transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._closed:
            raise ClientConnectionResetError("Connection lost")
        if not self._write_paused:
            return
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        await asyncio.shield(waiter)

    def close(self) -> None:
        """Close the socket now (abort: buffered writes are dropped)."""
        self.should_close = True
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()
        elif transport is None and not self._closed:
            self._closed = True

    def take_over(self, receiver: Receiver) -> None:
        """After an upgrade: send the leftover bytes and everything that follows to
        ``receiver`` (EOF and errors too). The connection is no longer HTTP."""
        self.should_close = True
        self.busy = False
        self._cancel_read_timer()
        self._receiver = receiver
        tail, self._tail = self._tail, []
        for data in tail:
            receiver.feed_data(data)
        if self._closed:
            receiver.feed_eof()
            return
        self._resume_transport()

    # ----- the rest of a large body read straight into its final buffer -----

    def receive_rest_directly(self, reader: StreamReader) -> bool:
        """``reader.read()`` wants the whole body: when the rest of it is long and its
        length known, the transport reads it straight into one buffer of the body's size
        (through :class:`DirectBody`) instead of one new piece per socket read, joined at
        the end. Returns True when that began. Parts read meanwhile by ``read(n)`` wait
        for the whole body (only a cancelled ``read()`` leaves anyone to ask)."""
        total = _direct_size(self, reader)
        if not total:
            return False
        buffered = _take_buffered(reader)
        body = bytearray(total)
        body[: len(buffered)] = buffered
        self._direct_body = body
        self._direct_filled = len(buffered)
        self._direct = DirectBody(self)
        self.transport.set_protocol(self._direct)  # type: ignore[union-attr]
        return True

    def _direct_buffer(self) -> memoryview:
        """Where the next socket read lands: the unfilled end of the body's buffer."""
        assert self._direct_body is not None
        return memoryview(self._direct_body)[self._direct_filled :]

    def _direct_data(self, data: bytes) -> None:
        """A transport that hands over bytes instead of reading into the buffer: they are
        copied in; bytes beyond the body go where bytes after a response always go."""
        assert self._direct_body is not None
        take = min(len(data), len(self._direct_body) - self._direct_filled)
        self._direct_body[self._direct_filled : self._direct_filled + take] = memoryview(data)[
            :take
        ]
        self._direct_received(take)
        if take < len(data):
            self.data_received(data[take:])

    def _direct_received(self, nbytes: int) -> None:
        """``nbytes`` more of the body landed; at its end the reader gets it whole, the
        transport comes back to this protocol and the parser completes the message."""
        body = self._direct_body
        assert body is not None
        if nbytes <= 0:
            return  # nothing landed (transports report EOF apart, but never trust a count)
        self._direct_filled += nbytes
        if self._read_timer is not None:
            self._last_read = self._loop.time()
        if self._direct_filled < len(body):
            self._parser.body_received(nbytes)
            return
        self._end_direct()
        assert self.payload is not None
        self.payload.feed_data(bytes(body))  # (the compiled twin fills a bytes object)
        self._parser.body_received(nbytes)

    def _end_direct(self) -> None:
        self._direct = None
        self._direct_body = None
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.set_protocol(self)

    def _direct_lost(self, exc: BaseException | None) -> None:
        """The connection ended while the body was arriving: fail it as usual."""
        self._direct = None
        self._direct_body = None
        self.connection_lost(exc)

    # ----- parser sink -----

    def on_informational(self, head: ResponseHead) -> None:
        self._informational_count += 1
        if self._informational_count > MAX_INFORMATIONAL:
            raise ClientResponseError(
                None,
                status=head.status,
                message=f"more than {MAX_INFORMATIONAL} interim (1xx) responses",
                headers=head.headers,
            )
        if self._informational is not None:
            self._informational(head)

    def on_headers(self, head: ResponseHead) -> None:
        waiter = self._head_waiter
        if waiter is None:
            raise BadHttpMessage("a second response arrived for one request")
        self._head = head
        if head.keep_alive is False:
            self.should_close = True
        if head.upgrade:
            self.should_close = True
            self.payload = EMPTY_PAYLOAD
        elif head.content_length == 0 or self._method == "HEAD" or head.status in _NO_BODY_STATUSES:
            self.payload = EMPTY_PAYLOAD
        elif not self._read_until_eof and head.content_length is None and not head.chunked:
            # body delimited by the connection closing, which the caller does not want
            self.payload = EMPTY_PAYLOAD
            self._discard_body = True
            self.should_close = True
        else:
            if head.chunked or head.content_length is None or head.encoding is not None:
                self._check_codings(head)  # only a body with codings can be refused
            self.payload = StreamReader(self, self._limits[3], loop=self._loop)
            if self._auto_decompress and head.encoding is not None:
                decoder = make_decoder(head.encoding)
                if decoder is not None:
                    self._decoder = DecodedBody(decoder, self._max_decompressed)
        self._head_waiter = None  # only now: a refused head fails this waiter (see _fail)
        if not waiter.done():
            waiter.set_result((head, self.payload))

    def on_body(self, data: bytes) -> None:
        payload = self.payload
        if payload is None or payload is EMPTY_PAYLOAD:
            return  # body we were told to drop (read_until_eof=False)
        decoder = self._decoder
        if decoder is None:
            payload.feed_data(data)
        else:
            payload.total_compressed_bytes = (payload.total_compressed_bytes or 0) + len(data)
            decoder.feed(data)
            if not payload.paused:
                self._pump()

    def on_chunk_end(self) -> None:
        payload = self.payload
        if payload is not None and payload is not EMPTY_PAYLOAD:
            payload.end_http_chunk()

    def on_message_complete(self) -> None:
        self._parsed_complete = True
        head = self._head
        if head is not None and head.upgrade:
            return  # 101: the connection is not released; it awaits take_over()
        payload = self.payload
        if payload is not None and payload is not EMPTY_PAYLOAD and self._decoder is not None:
            self._eof_pending = True
            self._pump()
            if self._eof_pending:
                return  # the reader is paused; finished when it resumes
        elif payload is not None and payload is not EMPTY_PAYLOAD:
            payload.feed_eof()
        self._message_done()

    # ----- internals -----

    def _check_codings(self, head: ResponseHead) -> None:
        """Refuse a body we could only hand out still encoded: a transfer coding other
        than chunked, or (when decoding) a content coding we cannot decode."""
        if head.chunked or head.content_length is None:
            coding = _foreign_transfer_coding(head.raw_headers)
            if coding is not None:
                raise ClientResponseError(
                    None,
                    status=head.status,
                    message=f"unsupported Transfer-Encoding {coding!r}",
                    headers=head.headers,
                )
        if self._auto_decompress and head.encoding is not None:
            unknown = undecodable(head.encoding)
            if unknown is not None:
                raise ClientResponseError(
                    None,
                    status=head.status,
                    message=f"Can not decode content-encoding: {unknown!r} "
                    "(unknown, or its decoder is not installed)",
                    headers=head.headers,
                )

    def _pump(self) -> None:
        """Move decoded output into the reader while it is not paused; at the end of the
        message, the decoder's last output and the end of the body."""
        body = self._decoder
        payload = self.payload
        assert body is not None and payload is not None
        body.pump(payload)
        if self._eof_pending and not payload.paused:
            self._eof_pending = False
            body.finish(payload)
            if self._check_later:
                self._check_leftover()
            payload.feed_eof()
            self._message_done()

    def _message_done(self) -> None:
        self.busy = False
        # an idle pooled connection keeps nothing of the response it carried
        self.payload = None
        self._head = None
        if self._read_timer is not None:
            self._cancel_read_timer()
        # the finished body no longer needs flow control; the socket must read again
        if self._reading_paused:
            self._resume_transport()
        if self._discard_body:
            self.should_close = True
        callback = self.on_message_done
        if callback is not None:
            callback()

    def _fail(self, exc: BaseException, cause: BaseException | None = None) -> None:
        """Deliver ``exc`` to whoever waits (head or body) and close the connection."""
        if cause is not None and exc.__cause__ is None:
            exc.__cause__ = cause
        self.should_close = True
        self._cancel_read_timer()
        waiter, self._head_waiter = self._head_waiter, None
        deliver_failure(waiter, self.payload, exc)
        self.busy = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    def _cancel_read_timer(self) -> None:
        timer = self._read_timer
        if timer is not None:
            self._read_timer = None
            timer.cancel()

    def _on_read_timer(self) -> None:
        self._read_timer = None
        timeout = self._read_timeout
        if not self.busy or timeout is None:
            return
        now = self._loop.time()
        if self._reading_paused:
            # the reader is full: silence is our consumer's doing, not the server's
            self._last_read = now
        deadline = self._last_read + timeout
        if now >= deadline:
            self._fail(SocketTimeoutError("Timeout on reading data from socket"))
        else:
            self._read_timer = self._loop.call_at(deadline, self._on_read_timer)
