"""HTTP/2 on a socket: one :class:`H2Protocol` per connection, one :class:`H2Stream` per
request on it.

:class:`H2Protocol` is the ``asyncio.Protocol`` of a connection that speaks HTTP/2. It
wraps the sans-IO :class:`~cyhttp.h2_connection.H2Connection`: what the socket brings goes
to ``receive_data``, the events go to the streams they name, and whatever the connection
has to say (acks, window updates, resets) is written after every action.

:class:`H2Stream` is what a :class:`~cyhttp.connector.Connection` lent for one request
holds as its ``protocol``: the request's side of one stream. It builds the response head
(a :class:`~cyhttp._models.ResponseHead` like the HTTP/1.1 parser's), feeds the body into a
:class:`~cyhttp.streams.StreamReader` (through the Content-Encoding decoder when there is
one) and is that reader's flow-control object: body bytes are acknowledged to the peer
(``acknowledge_received_data``, hence WINDOW_UPDATE) as the reader takes them, and held
back while the reader is full, so a slow consumer bounds what the server may send.

Errors end up in the same exception tree as HTTP/1.1: the socket closing →
:class:`ServerDisconnectedError`; the server resetting a stream or breaking the protocol →
:class:`ClientPayloadError` (body) or :class:`ServerDisconnectedError` (head); a stream the
server never processed (GOAWAY above its last stream id, REFUSED_STREAM) is marked
``unprocessed``, which lets the session retry an idempotent request once elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from ._h2_events import (
    ConnectionTerminated,
    DataReceived,
    GoAway,
    InformationalResponse,
    ResponseHeaders,
    SettingsChanged,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from ._models import HttpVersion, ResponseHead
from .client_exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE, ResponseHandler, deliver_failure
from .deadline import LazyDeadline
from .h2_connection import H2Connection, H2UsageError, StreamState
from .h2_errors import ErrorCode
from .streams import EMPTY_PAYLOAD, DecodedBody, StreamReader, make_decoder, undecodable

__all__ = ("AlpnResponseHandler", "H2Protocol", "H2Stream", "HttpVersion20")

HttpVersion20 = HttpVersion(2, 0)
_NO_BODY_STATUSES = frozenset((204, 304))
_REFUSED = int(ErrorCode.REFUSED_STREAM)
_NO_ERROR = int(ErrorCode.NO_ERROR)


#: HTTP/2 has no reason phrase: the response gets the standard one for its status
_REASONS = {int(s): s.phrase for s in HTTPStatus}


def _os_error(exc: BaseException | None) -> BaseException:
    if isinstance(exc, OSError) and exc.errno is not None:
        return ClientOSError(exc.errno, exc.strerror)
    return ServerDisconnectedError()


class H2Protocol(asyncio.Protocol):
    """One HTTP/2 connection (see the module docstring).

    ``on_idle``: called with the protocol when it has no stream left (the pool arms its
    keep-alive timer); ``on_lost``: called once when the connection can carry no new
    stream any more (closed, failed or told to go away), for the pool to forget it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        on_lost: Callable[[H2Protocol], None] | None = None,
    ) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.conn = H2Connection()
        self._streams: dict[int, H2Stream] = {}
        #: streams handed out (reserved) and not released yet: what the pool counts
        self.reserved = 0
        self._closed = False
        self._going_away = False
        self._on_lost = on_lost
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._window_waiters: list[asyncio.Future[None]] = []
        #: whole-request timers of finished streams, for the next ones (see LazyDeadline:
        #: a reused one re-arms lazily instead of scheduling a timer per request)
        self._spare_deadlines: list[LazyDeadline] = []
        self._flush_scheduled = False
        #: resolved when the server's first SETTINGS arrived (or the connection failed)
        self.settings_received: asyncio.Future[None] = loop.create_future()
        #: loop time the last stream was released (keep-alive bookkeeping of the pool)
        self.idle_since: float | None = loop.time()
        #: header lists already translated for HTTP/2 (``h2_request.h2_fields``)
        self.fields_cache: dict[Any, Any] = {}
        #: the header lists of request templates sent before (``h2_request.h2_fields``)
        self.fields_memo: dict[int, Any] = {}
        #: streams that took body bytes in the current ``data_received``: acknowledged
        #: once at its end, not once per DATA frame
        self._ack_later: list[H2Stream] = []
        #: inside ``data_received``, which writes what is queued at its end: nothing
        #: needs a flush scheduled meanwhile (a response released by its last frame)
        self._reading = False

    # ----- asyncio.Protocol -----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - exotic sockets
                pass
        transport.write(self.conn.initiate())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except Exception as exc:  # pragma: no cover - the connection never raises here
            self._terminate(f"HTTP/2 error: {exc}")
            return
        streams = self._streams
        self._reading = True
        try:
            self._dispatch(events, streams)
        finally:
            self._reading = False
        self.flush()

    def _dispatch(self, events: list[Any], streams: dict[int, H2Stream]) -> None:
        """Each event to its stream, then the acknowledgements of the body bytes taken."""
        event: Any
        for event in events:
            kind = type(event)
            if kind is DataReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.on_data(event.data, event.flow_controlled_length)
            elif kind is ResponseHeaders:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.on_headers(event)
            elif kind is StreamEnded:
                stream = streams.pop(event.stream_id, None)
                if stream is not None:
                    stream.on_end()
            else:
                self._on_other(event)
        acks = self._ack_later
        if acks:
            self._ack_later = []
            for stream in acks:
                stream.acknowledge_batch()

    def _on_other(self, event: Any) -> None:
        """The events that are not the body of a response: resets, settings, windows,
        GOAWAY, the end of the connection."""
        kind = type(event)
        if kind is StreamReset:
            stream = self._streams.pop(event.stream_id, None)
            if stream is not None:
                stream.on_reset(event.error_code, event.remote, event.error)
            self._wake_senders()  # an upload waiting for a window on it must stop
        elif kind is WindowUpdated:
            self._wake_senders()
        elif kind is SettingsChanged:
            if not self.settings_received.done():
                self.settings_received.set_result(None)
            self._wake_senders()
        elif kind is InformationalResponse:
            pass  # 1xx heads before the final one: nothing to do in HTTP/2
        elif kind is GoAway:
            self._on_goaway(event)
        elif kind is ConnectionTerminated:
            self._terminate(f"HTTP/2 protocol error: {event.error}")

    def _on_goaway(self, event: GoAway) -> None:
        """No new stream; the ones the server never processed fail as retryable."""
        self._going_away = True
        self._lost()
        for stream_id in event.unprocessed:
            stream = self._streams.pop(stream_id, None)
            if stream is not None:
                stream.unprocessed = True
                stream.fail(ServerDisconnectedError("the server went away (HTTP/2 GOAWAY)"))
        self._close_when_done()

    def _terminate(self, message: str) -> None:
        """The connection is over (the peer broke HTTP/2): fail every stream, send our
        GOAWAY and close."""
        self._going_away = True
        self._lost()
        streams, self._streams = self._streams, {}
        for stream in streams.values():
            stream.broken(ClientResponseError(None, message=message), message)
        self.flush()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closed = True
        self._going_away = True
        self.transport = None
        self._lost()
        if not self.settings_received.done():
            self.settings_received.set_exception(_os_error(exc))
            self.settings_received.exception()  # retrieved: nobody may be waiting
        streams, self._streams = self._streams, {}
        for stream in streams.values():
            stream.broken(_os_error(exc), "the connection was lost", exc)
        for waiter in self._drain_waiters + self._window_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters = []
        self._window_waiters = []
        spare, self._spare_deadlines = self._spare_deadlines, []
        for deadline in spare:
            deadline.close()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # ----- state the pool reads -----

    def is_connected(self) -> bool:
        transport = self.transport
        return transport is not None and not transport.is_closing() and not self._closed

    @property
    def max_streams(self) -> int:
        """How many streams the server lets us have open at once."""
        return self.conn.peer_max_concurrent_streams

    def available(self) -> bool:
        """Whether one more request may be given a stream on this connection now."""
        if self._going_away or not self.is_connected():
            return False
        conn = self.conn
        return self.reserved < conn.peer_max_concurrent_streams and conn.can_open_stream()

    @property
    def going_away(self) -> bool:
        return self._going_away

    def _lost(self) -> None:
        callback = self._on_lost
        if callback is not None:
            self._on_lost = None
            callback(self)

    # ----- used by the streams -----

    def flush(self) -> int:
        """Write what the connection has queued (acks, window updates, frames); how many
        bytes that was."""
        data = self.conn.data_to_send()
        if data:
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.write(data)
        return len(data)

    def flush_soon(self) -> None:
        """Write what is queued at the next turn of the loop: the requests started in one
        turn (a burst of concurrent ones, a head and its small body) go out in one write."""
        if not self._flush_scheduled and not self._reading:
            self._flush_scheduled = True
            self.loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def new_stream(self) -> H2Stream:
        """Reserve a stream for one request (the pool checked :meth:`available`)."""
        self.reserved += 1
        self.idle_since = None
        spare = self._spare_deadlines
        return H2Stream(self, spare.pop() if spare else LazyDeadline(self.loop))

    def open_stream(self, stream: H2Stream, headers: list[tuple[Any, Any]], end: bool) -> int:
        """Send the request head of ``stream``; its stream id."""
        if not self.is_connected():
            raise ServerDisconnectedError()
        try:
            stream_id = self.conn.send_request(headers, end_stream=end)
        except H2UsageError as exc:  # the connection is going away, or full after all
            stream.unprocessed = True
            raise ServerDisconnectedError(f"no HTTP/2 stream available: {exc}") from exc
        self._streams[stream_id] = stream
        self.flush_soon()
        return stream_id

    def released(self, stream: H2Stream) -> None:
        """The request of ``stream`` is done with the connection (an unfinished stream
        is reset)."""
        self.reserved -= 1
        if not (stream._remote_ended and stream.local_done):  # else closed on both sides
            self.reset(stream)
        deadline = stream.deadline
        if deadline.armed or self._closed:
            deadline.close()
        else:
            self._spare_deadlines.append(deadline)
        if not self.reserved:
            self.idle_since = self.loop.time()
        if self._going_away:
            self._close_when_done()

    def reset(self, stream: H2Stream) -> None:
        """RST_STREAM(CANCEL) for ``stream`` unless it is closed already."""
        stream_id = stream.stream_id
        if not stream_id:
            return
        if self._streams.get(stream_id) is stream:
            del self._streams[stream_id]
        conn = self.conn
        if conn.stream_state(stream_id) != StreamState.CLOSED and not self._closed:
            conn.reset_stream(stream_id, ErrorCode.CANCEL)
            self.flush_soon()
            self._wake_senders()  # an upload waiting for a window on it must stop

    def _close_when_done(self) -> None:
        if not self._streams and not self.reserved:
            transport = self.transport
            if transport is not None and not transport.is_closing():
                self.flush()
                transport.close()

    async def drain(self) -> None:
        """Wait while the socket's write buffer is full."""
        if self._closed:
            raise ClientConnectionResetError("Connection lost")
        if self._write_paused:
            waiter = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter

    async def wait_window(self) -> None:
        """Wait until the peer opens a flow-control window (or the connection ends)."""
        if self._closed:
            raise ClientConnectionResetError("Connection lost")
        waiter = self.loop.create_future()
        self._window_waiters.append(waiter)
        await waiter

    def _wake_senders(self) -> None:
        waiters, self._window_waiters = self._window_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """Close the connection: GOAWAY, then the socket."""
        self._going_away = True
        self._lost()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        try:
            self.conn.close()
            self.flush()
        except H2UsageError:  # pragma: no cover - never initiated
            pass
        transport.close()

    def abort(self) -> None:
        """Drop the socket at once."""
        self._going_away = True
        self._lost()
        transport = self.transport
        if transport is not None:
            transport.abort()


class H2Stream:
    """One request on an :class:`H2Protocol` (see the module docstring): what a lent
    :class:`~cyhttp.connector.Connection` has as its protocol."""

    #: what ClientRequest.send looks at to take the HTTP/2 path
    is_h2_stream = True

    def __init__(self, owner: H2Protocol, deadline: LazyDeadline) -> None:
        self.owner = owner
        self._loop = owner.loop
        self.stream_id = 0
        #: called (no arguments) once the response is complete (set by ClientResponse)
        self.on_message_done: Callable[[], None] | None = None
        #: request bytes written (head fields and body)
        self.output_size = 0
        #: True when the stream cannot be finished cleanly (ClientResponse reads it)
        self.should_close = False
        #: True once any byte of the response arrived
        self.got_bytes = False
        #: True when the server never processed the request: it may be sent again
        self.unprocessed = False
        #: the whole-request timer (ClientResponse arms it)
        self.deadline = deadline
        self.payload: StreamReader | None = None
        self._head_waiter: asyncio.Future[tuple[ResponseHead, StreamReader]] | None = None
        self._method = "GET"
        self._auto_decompress = True
        self._bufsize = 2**18
        self._max_decompressed = DEFAULT_MAX_DECOMPRESSED_SIZE
        self._decoder: DecodedBody | None = None
        self._paused = False
        self._unacked = 0  # body bytes received and not acknowledged to the peer
        self._ack_queued = False  # in the owner's ``_ack_later``
        self._eof_pending = False
        self._ended = False  # the response is complete (or failed)
        self._remote_ended = False  # the server ended the stream
        self._released = False
        self.local_done = False  # the request body is all sent
        self._read_timeout: float | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0

    def __repr__(self) -> str:
        return f"<H2Stream {self.stream_id}>"

    # ----- what Connection and ClientResponse read -----

    @property
    def transport(self) -> asyncio.Transport | None:
        return self.owner.transport

    @property
    def closed(self) -> bool:
        return self._ended

    def is_connected(self) -> bool:
        return self.owner.is_connected()

    # ----- the request side -----

    def start(
        self,
        method: str,
        *,
        auto_decompress: bool = True,
        read_timeout: float | None = None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        read_bufsize: int = 2**18,
    ) -> asyncio.Future[tuple[ResponseHead, StreamReader]]:
        """Expect the response; returns the future of its head and body reader."""
        self._method = method
        self._auto_decompress = auto_decompress
        self._max_decompressed = max_decompressed_size or 0
        self._bufsize = read_bufsize
        waiter = self._head_waiter = self._loop.create_future()
        if read_timeout:
            self._read_timeout = read_timeout
            self._last_read = self._loop.time()
            self._read_timer = self._loop.call_at(
                self._last_read + read_timeout, self._on_read_timer
            )
        return waiter

    def open(
        self, headers: list[tuple[Any, Any]], end_stream: bool, size: int | None = None
    ) -> None:
        """Send the request head (``end_stream``: there is no body). ``size``: the
        header list's size before compression, when the caller counted it already."""
        self.stream_id = self.owner.open_stream(self, headers, end_stream)
        # the header block's size before compression: what HTTP/1.1 would have written
        if size is None:
            size = sum(len(name) + len(value) + 4 for name, value in headers)
        self.output_size += size
        if end_stream:
            self.local_done = True

    async def send_body(self, data: bytes | bytearray | memoryview, end: bool) -> None:
        """Send ``data`` as the windows allow, waiting for WINDOW_UPDATEs (and for the
        socket's buffer to drain); ``end`` ends the request body with it."""
        owner = self.owner
        conn = owner.conn
        view = memoryview(data)
        while True:
            self._check_sendable()
            try:
                taken = conn.send_data(self.stream_id, view, end_stream=end)
            except H2UsageError as exc:
                raise ClientConnectionResetError(f"the HTTP/2 stream is closed: {exc}") from exc
            self.output_size += taken
            owner.flush()
            view = view[taken:]
            if not view:  # all of it taken (END_STREAM with the last of it, when ``end``)
                if end:
                    self.local_done = True
                break
            await owner.wait_window()
        await owner.drain()

    def _check_sendable(self) -> None:
        if self._released or not self.owner.is_connected():
            raise ClientConnectionResetError("the HTTP/2 stream is closed")

    # ----- events from the connection -----

    def on_headers(self, event: ResponseHeaders) -> None:
        self.got_bytes = True
        if self._read_timer is not None:  # a read timeout is armed: note the activity
            self._last_read = self._loop.time()
        waiter = self._head_waiter
        if waiter is None or waiter.done():
            return
        self._head_waiter = None
        status = event.status
        raw = tuple(event.headers)
        encoding = None
        codings = None
        for name, value in raw:  # a loop, not a comprehension: no frame per response
            if name == b"content-encoding":
                if codings is None:
                    codings = []
                codings.append(value)
        if codings is not None:
            encoding = b", ".join(codings).decode("latin-1").lower()
        head = ResponseHead(
            HttpVersion20,
            status,
            _REASONS.get(status, ""),  # HTTP/2 has no reason phrase: the standard one
            raw,
            True,
            False,
            False,
            event.content_length,
            encoding,
        )
        if event.content_length == 0 or self._method == "HEAD" or status in _NO_BODY_STATUSES:
            self.payload = EMPTY_PAYLOAD
        else:
            if self._auto_decompress and encoding is not None:
                unknown = undecodable(encoding)
                if unknown is not None:
                    error = ClientResponseError(
                        None,
                        status=status,
                        message=f"Can not decode content-encoding: {unknown!r} "
                        "(unknown, or its decoder is not installed)",
                        headers=head.headers,
                    )
                    waiter.set_exception(error)
                    self._give_up(error)
                    return
                decoder = make_decoder(encoding)
                if decoder is not None:
                    self._decoder = DecodedBody(decoder, self._max_decompressed)
            self.payload = StreamReader(self, self._bufsize, loop=self._loop)
        waiter.set_result((head, self.payload))

    def on_data(self, data: bytes, flow: int) -> None:
        if self._read_timer is not None:  # a read timeout is armed: note the activity
            self._last_read = self._loop.time()
        payload = self.payload
        if payload is None or payload is EMPTY_PAYLOAD or self._ended:
            self.owner.conn.acknowledge_received_data(self.stream_id, flow)
            return
        self._unacked += flow
        decoder = self._decoder
        if decoder is None:
            payload.feed_data(data)
        else:
            decoder.feed(data)
            if not payload.paused and not self._pump():
                return
        if not self._ack_queued:  # acknowledged at the end of this read (one call per
            self._ack_queued = True  # stream and read, instead of one per DATA frame)
            self.owner._ack_later.append(self)

    def acknowledge_batch(self) -> None:
        """The end of a ``data_received`` that gave this stream body bytes: let the peer
        send as much again, unless the reader is full (then it is done as the reader
        takes them, :meth:`resume_reading`). The protocol flushes right after."""
        self._ack_queued = False
        payload = self.payload
        if self._unacked and not self._paused and payload is not None and not payload.paused:
            self._acknowledge(flush=False)

    def on_end(self) -> None:
        """The response is complete."""
        self._remote_ended = True
        if self._read_timer is not None:
            self._cancel_read_timer()
        waiter = self._head_waiter
        if waiter is not None:  # ended without a final head (cannot happen: the
            self._head_waiter = None  # connection checks it), but never hang
            waiter.set_exception(ServerDisconnectedError("the stream ended without a response"))
            self._finish()
            return
        payload = self.payload
        if payload is not None and payload is not EMPTY_PAYLOAD:
            if self._decoder is not None:
                self._eof_pending = True
                if not payload.paused:
                    self._pump()
                return
            payload.feed_eof()
        self._finish()

    def on_reset(self, error_code: int, remote: bool, error: Any) -> None:
        """RST_STREAM from the server, or our reset of a stream it got wrong."""
        if remote and error_code == _REFUSED:
            self.unprocessed = True  # RFC 9113 section 8.7: never processed, may be retried
        if self._remote_ended:
            return  # the response is complete: the reset only stops our upload
        what = f"HTTP/2 stream reset by the server (error code {error_code})"
        if not remote:
            what = f"HTTP/2 stream error: {error}"
        if self._head_waiter is not None:
            self.fail(ServerDisconnectedError(what))
        else:
            self.fail(ClientPayloadError(f"response payload is not completed: {what}"))

    def fail(self, exc: BaseException) -> None:
        """Deliver ``exc`` to whoever waits for the head or reads the body."""
        if self._read_timer is not None:
            self._cancel_read_timer()
        self.should_close = True
        waiter, self._head_waiter = self._head_waiter, None
        deliver_failure(waiter, self.payload, exc)
        self._ended = True

    def broken(
        self, head_error: BaseException, what: str, cause: BaseException | None = None
    ) -> None:
        """The connection failed under the stream: ``head_error`` while the head is
        awaited, a ClientPayloadError once the body is being read (as on HTTP/1.1)."""
        error = head_error
        if self._head_waiter is None:
            error = ClientPayloadError(f"response payload is not completed: {what}")
        if cause is not None:
            error.__cause__ = cause
        self.fail(error)

    def _fail(self, exc: BaseException, cause: BaseException | None = None) -> None:
        """The request gave up (timeout, a failed upload): fail it and reset the stream
        (RST_STREAM CANCEL); the connection goes on for the other streams."""
        if cause is not None and exc.__cause__ is None:
            exc.__cause__ = cause
        self.fail(exc)
        self._reset()

    def _give_up(self, exc: BaseException) -> None:
        self.fail(exc)
        self._reset()

    def _reset(self) -> None:
        self.owner.reset(self)

    # ----- flow control asked by the StreamReader -----

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        if self._decoder is not None:
            if not self._pump():
                return
            if self.payload is not None and self.payload.paused:
                return
        self._acknowledge()

    def _acknowledge(self, flush: bool = True) -> None:
        """Let the peer send as much again as the reader took (``flush``: write it out
        at the next turn of the loop; False when the caller writes anyway)."""
        unacked = self._unacked
        if unacked and self.stream_id:
            self._unacked = 0
            owner = self.owner
            owner.conn.acknowledge_received_data(self.stream_id, unacked)
            if flush and not owner._reading:  # else data_received writes it at its end
                owner.flush_soon()

    def _pump(self) -> bool:
        """Move decoded output into the reader while it is not paused; False when the
        body failed (too large once decoded, or corrupt)."""
        body = self._decoder
        payload = self.payload
        assert body is not None and payload is not None
        try:
            body.pump(payload)
            if self._eof_pending and not payload.paused:
                self._eof_pending = False
                body.finish(payload)
                payload.feed_eof()
                self._finish()
        except ClientPayloadError as exc:
            self._give_up(exc)
            return False
        return True

    def _finish(self) -> None:
        self._ended = True
        if not self.local_done:
            # an answer before the upload ended: the rest of the upload is not wanted,
            # and the stream is reset when the response lets go of it
            self.should_close = True
        if self._read_timer is not None:
            self._cancel_read_timer()
        callback = self.on_message_done
        if callback is not None:
            self.on_message_done = None
            callback()

    # ----- read timeout -----

    def _cancel_read_timer(self) -> None:
        timer = self._read_timer
        if timer is not None:
            self._read_timer = None
            timer.cancel()

    def _on_read_timer(self) -> None:
        self._read_timer = None
        timeout = self._read_timeout
        if self._ended or timeout is None:
            return
        now = self._loop.time()
        if self._paused:
            self._last_read = now  # the reader is full: the silence is ours
        deadline = self._last_read + timeout
        if now >= deadline:
            self._fail(SocketTimeoutError("Timeout on reading data from socket"))
        else:
            self._read_timer = self._loop.call_at(deadline, self._on_read_timer)

    # ----- giving the stream back -----

    def release(self) -> None:
        """The request is done with the stream: an unfinished one is reset."""
        if self._released:
            return
        self._released = True
        if self._read_timer is not None:
            self._cancel_read_timer()
        self.on_message_done = None
        # bytes of a complete body still in the reader: they no longer need to hold the
        # connection's window (the reader's memory is the response's now)
        if self._unacked:
            self._acknowledge()
        self.owner.released(self)


class AlpnResponseHandler(ResponseHandler):
    """The protocol of a connection that may turn out to speak HTTP/2: when TLS chose
    ``h2`` by ALPN (or ``prior_knowledge`` says so for plain TCP), it hands the transport
    to a new :class:`H2Protocol` (:attr:`h2`) before any byte is read; otherwise it is a
    plain HTTP/1.1 :class:`ResponseHandler`."""

    is_h2_stream = False

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        prior_knowledge: bool = False,
        on_lost: Callable[[H2Protocol], None] | None = None,
    ) -> None:
        super().__init__(loop)
        self._prior_knowledge = prior_knowledge
        self._on_h2_lost = on_lost
        #: the HTTP/2 protocol that took the connection over, when it speaks HTTP/2
        self.h2: H2Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._prior_knowledge or _alpn(transport) == "h2":
            h2 = self.h2 = H2Protocol(self._loop, on_lost=self._on_h2_lost)
            transport.set_protocol(h2)
            h2.connection_made(transport)
            self._closed = True  # this handler never carries a request
            return
        super().connection_made(transport)


def _alpn(transport: asyncio.BaseTransport) -> str | None:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    chosen: str | None = ssl_object.selected_alpn_protocol()
    return chosen
