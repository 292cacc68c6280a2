"""A sans-IO HTTP/2 client connection (RFC 9113): bytes in, events out; bytes out on demand.

The pure-Python twin of ``_h2_connection.pyx``; :mod:`cyhttp.h2_connection` selects one.

The connection does no I/O. The caller writes what :meth:`H2Connection.data_to_send`
returns, feeds what it reads to :meth:`H2Connection.receive_data` and acts on the events
(see :mod:`cyhttp._h2_events`)::

    conn = H2Connection()
    sock.sendall(conn.initiate())            # preface + our SETTINGS
    sid = conn.send_request([(":method", "GET"), (":scheme", "https"),
                             (":authority", "example.com"), (":path", "/")], end_stream=True)
    sock.sendall(conn.data_to_send())
    for event in conn.receive_data(sock.recv(65536)):
        ...                                  # ResponseHeaders, DataReceived, StreamEnded...
    conn.acknowledge_received_data(sid, n)   # as the reader CONSUMES body bytes
    sock.sendall(conn.data_to_send())        # SETTINGS/PING acks, window updates, resets

It keeps the stream states of RFC 9113 section 5.1 (a client never reserves a stream: we
send SETTINGS_ENABLE_PUSH=0, so a PUSH_PROMISE is a connection error), both directions of
flow control (section 5.2), the SETTINGS exchange (the SETTINGS_TIMEOUT is the caller's:
:attr:`H2Connection.settings_acknowledged`), PING answers and GOAWAY.

What the peer does wrong is never raised by :meth:`~H2Connection.receive_data`: an error
that fails one stream queues RST_STREAM and reports :class:`StreamReset` (``remote=False``,
with the :class:`~cyhttp.h2_errors.StreamError`); one that fails the connection queues
GOAWAY and reports :class:`ConnectionTerminated` (with the
:class:`~cyhttp.h2_errors.HTTP2Error`), after which the connection ignores its input.
The caller's mistakes (a closed stream, too many streams, a forbidden header) raise
:class:`H2UsageError` subclasses or ``ValueError``.

Memory stays bounded: the frame reader refuses frames above our SETTINGS_MAX_FRAME_SIZE and
header blocks above ``max_header_block_size``; HPACK bounds its table and the decoded list
(SETTINGS_MAX_HEADER_LIST_SIZE); flow control bounds the body bytes in flight, and the
record of closed streams keeps at most ``max_closed_streams`` ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from . import h2_frames, hpack
from ._h2_events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    GoAway,
    InformationalResponse,
    PingAcked,
    PingReceived,
    ResponseHeaders,
    SettingsAcked,
    SettingsChanged,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from ._h2_headers import (
    Malformed,
    outgoing_trailers,
    request_fields,
    request_headers_for,
    response_head,
    strip_connection_headers,
    trailer_fields,
)
from ._h2_models import (
    CONNECTION_PREFACE,
    MAX_STREAM_ID,
    MAX_WINDOW,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
)
from ._h2_state import (
    DEFAULT_HEADER_TABLE_SIZE,
    DEFAULT_LOCAL_SETTINGS,
    DEFAULT_WINDOW,
    PEER_DEFAULTS,
    UNLIMITED,
    ConnectionClosedError,
    H2UsageError,
    NoAvailableStreamError,
    StreamClosedError,
    StreamState,
    check_local_settings,
)
from .h2_errors import ErrorCode, FrameError, HeaderListTooLarge, HTTP2Error, StreamError

__all__ = (
    "DEFAULT_HEADER_TABLE_SIZE",
    "DEFAULT_LOCAL_SETTINGS",
    "DEFAULT_WINDOW",
    "UNLIMITED",
    "ConnectionClosedError",
    "ConnectionTerminated",
    "DataReceived",
    "ErrorCode",
    "Event",
    "GoAway",
    "H2Connection",
    "H2UsageError",
    "InformationalResponse",
    "NoAvailableStreamError",
    "PingAcked",
    "PingReceived",
    "ResponseHeaders",
    "SettingCode",
    "SettingsAcked",
    "SettingsChanged",
    "StreamClosedError",
    "StreamEnded",
    "StreamReset",
    "StreamState",
    "TrailersReceived",
    "WindowUpdated",
    "request_headers_for",
    "strip_connection_headers",
)

_PEER_DEFAULTS = PEER_DEFAULTS

PROTOCOL_ERROR = ErrorCode.PROTOCOL_ERROR
FLOW_CONTROL_ERROR = ErrorCode.FLOW_CONTROL_ERROR
STREAM_CLOSED = ErrorCode.STREAM_CLOSED

_HEADER_TABLE_SIZE = int(SettingCode.HEADER_TABLE_SIZE)
_ENABLE_PUSH = int(SettingCode.ENABLE_PUSH)
_INITIAL_WINDOW_SIZE = int(SettingCode.INITIAL_WINDOW_SIZE)
_MAX_FRAME_SIZE = int(SettingCode.MAX_FRAME_SIZE)
_MAX_CONCURRENT_STREAMS = int(SettingCode.MAX_CONCURRENT_STREAMS)
_MAX_HEADER_LIST_SIZE = int(SettingCode.MAX_HEADER_LIST_SIZE)


class _Stream:
    """One of our requests: its two halves, windows and response framing."""

    __slots__ = (
        "body_allowed",
        "content_length",
        "credit",
        "head",
        "local_ended",
        "received",
        "recv_window",
        "remote_ended",
        "response_started",
        "send_window",
        "stream_id",
    )

    def __init__(self, stream_id: int, send_window: int, recv_window: int, head: bool) -> None:
        self.stream_id = stream_id
        self.local_ended = False
        self.remote_ended = False
        self.send_window = send_window  # what we may still send
        self.recv_window = recv_window  # what the peer may still send
        self.credit = 0  # consumed bytes not yet returned in a WINDOW_UPDATE
        self.head = head  # a HEAD request: the response has no content
        self.response_started = False  # the final (non-1xx) head arrived
        self.body_allowed = True
        self.content_length: int | None = None
        self.received = 0  # body bytes, padding excluded


def _frame_header(length: int, ftype: int, flags: int, stream_id: int) -> bytes:
    return length.to_bytes(3, "big") + bytes((ftype, flags)) + stream_id.to_bytes(4, "big")


class H2Connection:
    """The client side of one HTTP/2 connection (see the module docstring).

    ``local_settings``: SETTINGS identifier -> value, over :data:`DEFAULT_LOCAL_SETTINGS`
    (INITIAL_WINDOW_SIZE is how much body each stream may have in flight unread).
    ``connection_window``: the same for the whole connection (sent as a WINDOW_UPDATE);
    it grows as streams open, to twice the stream windows of the open streams, so that
    streams nobody reads cannot starve the one being read (memory stays bounded by the
    stream windows, which open only as the reader consumes).
    ``max_header_block_size``: the largest header block, CONTINUATIONs included, accepted.
    ``max_closed_streams``: how many closed stream ids are remembered to tell late frames
    (ignored) from frames on streams that ended (answered with STREAM_CLOSED).
    ``max_idle_frames``: how many frames in a row may carry nothing for the caller (PING,
    SETTINGS, empty DATA, PRIORITY, unknown types, frames on closed streams) before the
    peer is told ENHANCE_YOUR_CALM: they cost work and no flow control bounds them.
    A header block, body bytes or a new request start the count again.

    ``frame_codec`` and ``hpack_codec`` are the codec modules in use (the selected twins);
    a subclass may name others (tests drive both twins this way).
    """

    frame_codec: Any = h2_frames
    hpack_codec: Any = hpack

    def __init__(
        self,
        local_settings: Mapping[int, int] | None = None,
        *,
        connection_window: int = 1 << 20,
        max_header_block_size: int = 262144,
        max_closed_streams: int = 1024,
        max_idle_frames: int = 10000,
    ) -> None:
        self._local = local = check_local_settings(local_settings)
        if not DEFAULT_WINDOW <= connection_window <= MAX_WINDOW:
            raise ValueError("connection_window must be from 65535 to 2**31 - 1")
        self._peer = dict(_PEER_DEFAULTS)
        self._connection_window = connection_window
        self._serialize = self.frame_codec.serialize
        self._reader = self.frame_codec.FrameReader(
            max_frame_size=local[_MAX_FRAME_SIZE],
            max_header_block_size=max_header_block_size,
            coalesce_data=True,
        )
        codec = self.hpack_codec
        self._decoder = codec.Decoder(local[_HEADER_TABLE_SIZE], local[_MAX_HEADER_LIST_SIZE])
        self._encoder = codec.Encoder(DEFAULT_HEADER_TABLE_SIZE)
        self._out = bytearray()
        self._streams: dict[int, _Stream] = {}
        #: the last request head as given, and what it became (see _request_head)
        self._last_request: tuple[list[Any], list[tuple[Any, ...]], bytes, int] | None = None
        self._unconsumed: dict[int, int] = {}  # stream -> received, not yet acknowledged
        self._closed: dict[int, bool] = {}  # stream -> late frames are ignored (we reset it)
        self._max_closed = max(1, max_closed_streams)
        self._next_stream_id = 1
        self._send_window = DEFAULT_WINDOW  # connection: what we may still send
        self._recv_window = DEFAULT_WINDOW  # connection: what the peer may still send
        self._credit = 0  # connection: consumed bytes not yet returned
        self._settings_pending = 0  # our SETTINGS frames not acknowledged yet
        self._initiated = False
        self._terminated = False  # the peer broke the protocol: we sent GOAWAY
        self._goaway_sent = False
        self._goaway_last: int | None = None  # the peer's GOAWAY last stream id
        self._ping_counter = 0
        self._idle_frames = 0  # frames in a row that carried nothing for the caller
        self._max_idle_frames = max_idle_frames
        self._handlers: dict[type, Any] = {
            DataFrame: self._on_data,
            HeadersFrame: self._on_headers,
            RstStreamFrame: self._on_rst_stream,
            SettingsFrame: self._on_settings,
            PingFrame: self._on_ping,
            GoAwayFrame: self._on_goaway,
            WindowUpdateFrame: self._on_window_update,
            PushPromiseFrame: self._on_push_promise,
            PriorityFrame: self._ignore,
            UnknownFrame: self._ignore,
        }

    # -- state -----------------------------------------------------------------------------

    @property
    def local_settings(self) -> Mapping[int, int]:
        """What we advertise (identifier -> value, read-only)."""
        return MappingProxyType(self._local)

    @property
    def peer_settings(self) -> Mapping[int, int]:
        """The peer's settings as they apply now: the RFC 9113 defaults until its SETTINGS
        arrive (MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE: 2**32, unlimited)."""
        return MappingProxyType(self._peer)

    @property
    def peer_max_concurrent_streams(self) -> int:
        """``peer_settings[MAX_CONCURRENT_STREAMS]``, without building the mapping (the
        pool asks before every request)."""
        return self._peer[_MAX_CONCURRENT_STREAMS]

    @property
    def settings_acknowledged(self) -> bool:
        """Whether the peer acknowledged all our SETTINGS (else the caller's
        SETTINGS_TIMEOUT may run out: then ``close(ErrorCode.SETTINGS_TIMEOUT)``)."""
        return self._initiated and not self._settings_pending

    @property
    def open_stream_count(self) -> int:
        """Our streams not closed yet (what SETTINGS_MAX_CONCURRENT_STREAMS counts)."""
        return len(self._streams)

    @property
    def open_stream_ids(self) -> tuple[int, ...]:
        """Our streams not closed yet, oldest first (to fail them when the socket dies)."""
        return tuple(self._streams)

    @property
    def is_closed(self) -> bool:
        """True once the connection failed, or a GOAWAY was sent or received and no stream
        is left: the caller should close the socket (after ``data_to_send``)."""
        if self._terminated:
            return True
        return (self._goaway_sent or self._goaway_last is not None) and not self._streams

    def can_open_stream(self) -> bool:
        """Whether ``send_request`` may open a stream now."""
        if self._terminated or self._goaway_sent or self._goaway_last is not None:
            return False
        if self._next_stream_id > MAX_STREAM_ID:
            return False
        return len(self._streams) < self._peer[_MAX_CONCURRENT_STREAMS]

    def stream_state(self, stream_id: int) -> StreamState:
        """Where ``stream_id`` is in its life (section 5.1)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id % 2 and stream_id < self._next_stream_id:
                return StreamState.CLOSED
            return StreamState.IDLE
        if stream.local_ended:
            return StreamState.HALF_CLOSED_LOCAL
        if stream.remote_ended:
            return StreamState.HALF_CLOSED_REMOTE
        return StreamState.OPEN

    def local_flow_control_window(self, stream_id: int) -> int:
        """How many body bytes ``send_data`` would accept on ``stream_id`` right now."""
        stream = self._sendable(stream_id)
        return max(0, min(self._send_window, stream.send_window))

    @property
    def max_outbound_frame_size(self) -> int:
        """The peer's SETTINGS_MAX_FRAME_SIZE."""
        return self._peer[_MAX_FRAME_SIZE]

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        out = bytes(self._out)
        self._out.clear()
        return out

    # -- sending ---------------------------------------------------------------------------

    def initiate(self) -> bytes:
        """Start the connection: returns (and dequeues) the preface, our SETTINGS and the
        WINDOW_UPDATE that grows the connection window (section 3.4)."""
        if self._initiated:
            raise H2UsageError("the connection is already initiated")
        self._initiated = True
        defaults = {**_PEER_DEFAULTS, _ENABLE_PUSH: 1}
        settings = tuple(
            (identifier, value)
            for identifier, value in self._local.items()
            if defaults.get(identifier) != value
        )
        self._out += CONNECTION_PREFACE + self._serialize(SettingsFrame(settings))
        self._settings_pending += 1
        if self._connection_window > DEFAULT_WINDOW:
            increment = self._connection_window - DEFAULT_WINDOW
            self._out += self._serialize(WindowUpdateFrame(0, increment))
            self._recv_window += increment
        return self.data_to_send()

    def _check_sending(self) -> None:
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        if self._terminated:
            raise ConnectionClosedError("the connection failed")

    def send_request(self, headers: Iterable[Any], end_stream: bool = False) -> int:
        """Open a stream with the request head ``headers`` and return its id.

        ``headers``: ``(name, value)`` or ``(name, value, sensitive)`` items, str or bytes,
        with the pseudo-headers ``:method``, ``:scheme``, ``:authority`` and ``:path`` (in
        any position: they are sent first). Names are lower-cased; connection-specific
        headers raise ``ValueError``. ``end_stream``: the request has no body.
        """
        self._check_sending()
        if not self.can_open_stream():
            if self._goaway_sent or self._goaway_last is not None:
                raise ConnectionClosedError("the connection is going away: open a new one")
            raise NoAvailableStreamError("no stream is available on this connection now")
        last = self._last_request
        if last is not None and type(headers) is list and headers == last[0]:
            fields, method, size = last[1:]  # the same head as the last request
        else:
            fields, method, size = self._request_head(headers)
        self._check_header_list_size(size)
        stream_id = self._next_stream_id
        self._next_stream_id += 2
        stream = _Stream(
            stream_id,
            self._peer[_INITIAL_WINDOW_SIZE],
            self._local[_INITIAL_WINDOW_SIZE],
            method == b"HEAD",
        )
        self._streams[stream_id] = stream
        self._idle_frames = 0
        self._grow_connection_window()
        self._send_headers(stream, fields, end_stream)
        return stream_id

    def _grow_connection_window(self) -> None:
        """Keep the connection window at least twice the open streams' windows.

        Bytes are credited back only as the reader consumes them, so streams whose bodies
        are not read hold connection window too; were it smaller than their windows, the
        stream being read could get nothing more, for ever. Body memory is bounded by the
        stream windows anyway: a larger connection window costs nothing.
        """
        need = min(MAX_WINDOW, 2 * len(self._streams) * self._local[_INITIAL_WINDOW_SIZE])
        if need > self._connection_window:
            increment = need - self._connection_window
            self._connection_window = need
            self._recv_window += increment
            self._out += _window_update(0, increment)

    def _request_head(self, headers: Iterable[Any]) -> tuple[list[tuple[Any, ...]], bytes, int]:
        """The checked fields of a request head, its method and its header list size,
        remembered with a copy of ``headers``: a client sends the same head again and
        again, and comparing two lists of the same objects costs far less than checking
        every field again."""
        fields, method = request_fields(headers)
        size = _header_list_size(fields)
        if type(headers) is list:
            self._last_request = (list(headers), fields, method, size)
        else:
            self._last_request = None
        return fields, method, size

    def _check_header_list_size(self, size: int) -> None:
        """The peer's SETTINGS_MAX_HEADER_LIST_SIZE is advisory, but a larger list would
        only be refused: fail it here."""
        limit = self._peer[_MAX_HEADER_LIST_SIZE]
        if size > limit:
            raise ValueError(f"the header list ({size} bytes) is larger than the peer's {limit}")

    def _send_headers(self, stream: _Stream, fields: list[tuple[Any, ...]], end: bool) -> None:
        """The header block of ``fields`` as HEADERS (and CONTINUATION when it is larger
        than the peer's frame size); a block that fits one frame is written as it is, with
        no frame object."""
        block = self._encoder.encode(fields)
        max_frame = self._peer[_MAX_FRAME_SIZE]
        if len(block) <= max_frame:
            flags = 0x4 | 0x1 if end else 0x4  # END_HEADERS, END_STREAM
            self._out += _frame_header(len(block), 0x1, flags, stream.stream_id) + block
        else:
            self._out += self._serialize(HeadersFrame(stream.stream_id, block, end), max_frame)
        if end:
            self._local_end(stream)

    def _sendable(self, stream_id: int) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamClosedError(stream_id, f"stream {stream_id} is not open")
        if stream.local_ended:
            raise StreamClosedError(stream_id, f"stream {stream_id} already ended its request")
        return stream

    def send_data(
        self, stream_id: int, data: bytes | bytearray | memoryview, end_stream: bool = False
    ) -> int:
        """Send as much of ``data`` as the flow-control windows allow; returns how many
        bytes were taken. ``end_stream`` applies only when all of ``data`` was taken. When
        less was taken, wait for :class:`WindowUpdated` (or :class:`SettingsChanged`) and
        send the rest; :meth:`local_flow_control_window` says how much would go now."""
        self._check_sending()
        stream = self._sendable(stream_id)
        size = len(data)
        taken = max(0, min(size, self._send_window, stream.send_window))
        end = end_stream and taken == size
        if taken or end:
            self._idle_frames = 0
            self._write_data(stream_id, memoryview(data)[:taken], end)
        self._send_window -= taken
        stream.send_window -= taken
        if end:
            self._local_end(stream)
        return taken

    def _write_data(self, stream_id: int, view: memoryview, end: bool) -> None:
        """DATA frames of at most the peer's SETTINGS_MAX_FRAME_SIZE, END_STREAM on the
        last one when ``end``."""
        max_frame = self._peer[_MAX_FRAME_SIZE]
        out = self._out
        size = len(view)
        pos = 0
        while True:
            stop = min(pos + max_frame, size)
            last = stop == size
            out += _frame_header(stop - pos, 0x0, 1 if last and end else 0, stream_id)
            out += view[pos:stop]
            if last:
                return
            pos = stop

    def end_stream(self, stream_id: int) -> None:
        """End the request body (an empty DATA frame with END_STREAM)."""
        self.send_data(stream_id, b"", end_stream=True)

    def send_trailers(self, stream_id: int, headers: Iterable[Any]) -> None:
        """End the request with trailer fields (no pseudo-headers, names lower-cased)."""
        self._check_sending()
        stream = self._sendable(stream_id)
        fields = outgoing_trailers(headers)
        self._check_header_list_size(_header_list_size(fields))
        self._send_headers(stream, fields, True)

    def reset_stream(self, stream_id: int, error_code: int = ErrorCode.CANCEL) -> None:
        """Abandon ``stream_id`` (RST_STREAM). Body bytes received on it and not
        acknowledged yet are returned to the connection window. A closed stream, or any
        stream once the connection failed, is left alone (so cleanup code may always call
        this)."""
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        if stream_id in self._streams:
            self._reset(stream_id, int(error_code))
        elif self.stream_state(stream_id) == StreamState.IDLE:
            raise StreamClosedError(stream_id, f"stream {stream_id} was never opened")

    def ping(self, data: bytes | None = None) -> bytes:
        """Send a PING; returns its 8 bytes, which the :class:`PingAcked` will carry."""
        self._check_sending()
        if data is None:
            self._ping_counter += 1
            data = self._ping_counter.to_bytes(8, "big")
        if len(data) != 8:
            raise ValueError("PING data is exactly 8 bytes")
        self._out += self._serialize(PingFrame(bytes(data)))
        return bytes(data)

    def close(self, error_code: int = ErrorCode.NO_ERROR, debug_data: bytes = b"") -> None:
        """Send GOAWAY: no new streams; those open may still finish (the caller decides
        when to close the socket: :attr:`is_closed`). Once the connection failed, its
        GOAWAY is already queued and this does nothing."""
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        if self._terminated:
            return
        # a client accepts no stream from the server: the last one it processed is 0
        self._out += self._serialize(GoAwayFrame(0, int(error_code), bytes(debug_data)))
        self._goaway_sent = True

    def acknowledge_received_data(self, stream_id: int, size: int) -> None:
        """The reader consumed ``size`` bytes of ``stream_id``'s body (the total of their
        ``DataReceived.flow_controlled_length``): let the peer send that much more. Window
        updates go out once half a window is consumed, to keep them few."""
        if size < 0:
            raise ValueError("the acknowledged size cannot be negative")
        left = self._unconsumed.get(stream_id)
        if left is None or size == 0 or self._terminated:
            return  # the stream was reset: its bytes were already returned
        if size > left:
            raise ValueError(f"only {left} bytes of stream {stream_id} await acknowledgement")
        left -= size
        stream = self._streams.get(stream_id)
        if left or stream is not None:
            self._unconsumed[stream_id] = left
        else:
            del self._unconsumed[stream_id]
        if stream is not None:
            self._credit_stream(stream, size)
        self._credit_connection(size)

    def _credit_connection(self, size: int) -> None:
        self._credit += size
        if self._credit >= self._connection_window // 2:
            self._out += _window_update(0, self._credit)
            self._recv_window += self._credit
            self._credit = 0

    def _credit_stream(self, stream: _Stream, size: int) -> None:
        if stream.remote_ended:
            return
        stream.credit += size
        if stream.credit >= self._local[_INITIAL_WINDOW_SIZE] // 2:
            self._out += _window_update(stream.stream_id, stream.credit)
            stream.recv_window += stream.credit
            stream.credit = 0

    # -- stream life -----------------------------------------------------------------------

    def _local_end(self, stream: _Stream) -> None:
        stream.local_ended = True
        if stream.remote_ended:
            self._forget(stream.stream_id, False)

    def _remote_end(self, stream: _Stream, events: list[Event]) -> None:
        stream.remote_ended = True
        events.append(StreamEnded(stream.stream_id))
        if stream.local_ended:
            self._forget(stream.stream_id, False)

    def _forget(self, stream_id: int, ignore_late: bool) -> None:
        """Close ``stream_id``. ``ignore_late``: frames the peer sent before it learnt of
        the close may still come and are dropped (we reset it); otherwise a DATA or HEADERS
        frame on it is answered with STREAM_CLOSED."""
        del self._streams[stream_id]
        closed = self._closed
        closed[stream_id] = ignore_late
        if len(closed) > self._max_closed:
            del closed[next(iter(closed))]
        if self._unconsumed.get(stream_id) == 0:
            del self._unconsumed[stream_id]

    def _drop_unconsumed(self, stream_id: int) -> None:
        """A reset stream's unread bytes will never be acknowledged: return them now."""
        left = self._unconsumed.pop(stream_id, 0)
        if left:
            self._credit_connection(left)

    def _reset(self, stream_id: int, error_code: int) -> None:
        self._out += self._serialize(RstStreamFrame(stream_id, error_code))
        self._forget(stream_id, True)
        self._drop_unconsumed(stream_id)

    # -- receiving -------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Process bytes from the peer; returns what happened, in order. Answers (acks,
        resets, GOAWAY) are queued for :meth:`data_to_send`."""
        if self._terminated or not data:
            return []
        events: list[Event] = []
        reader = self._reader
        reader.feed(data)
        try:
            while True:
                try:
                    frame = reader.next_frame()
                    if frame is None:
                        break
                    self._handlers[type(frame)](frame, events)
                except StreamError as exc:
                    self._on_stream_error(exc, events)
        except HTTP2Error as exc:  # FrameError or HPACKError: the connection is over
            self._terminate(exc, events)
        return events

    def _terminate(self, exc: HTTP2Error, events: list[Event]) -> None:
        code = int(exc.error_code)
        debug = str(exc).encode("utf-8", "replace")[:256]
        self._out += self._serialize(GoAwayFrame(0, code, debug))
        self._terminated = True
        self._goaway_sent = True
        open_streams = tuple(self._streams)
        self._streams.clear()
        self._unconsumed.clear()
        events.append(ConnectionTerminated(code, exc, open_streams))

    def _on_stream_error(self, exc: StreamError, events: list[Event]) -> None:
        """Reset the stream (when it is ours and open) and report it."""
        frame = exc.frame
        stream_id = exc.stream_id
        if isinstance(frame, HeadersFrame):  # keep HPACK in step even so
            self._check_not_idle(stream_id, "HEADERS")
            self._decode_quietly(frame.block)
        if stream_id not in self._streams:
            if self._closed.get(stream_id) is False and exc.error_code == STREAM_CLOSED:
                self._out += self._serialize(RstStreamFrame(stream_id, STREAM_CLOSED))
            return
        self._reset(stream_id, int(exc.error_code))
        events.append(StreamReset(stream_id, int(exc.error_code), False, exc))

    def _check_not_idle(self, stream_id: int, what: str) -> None:
        """A frame other than PRIORITY on a stream we never opened is a connection error
        (section 5.1); even ids would be the server's, and we accept none."""
        if stream_id % 2 == 0 or stream_id >= self._next_stream_id:
            raise FrameError(PROTOCOL_ERROR, f"{what} frame on idle stream {stream_id}")

    def _late_frame(self, stream_id: int, what: str) -> None:
        """DATA or HEADERS on a closed stream: dropped if we reset it (or forgot it), a
        STREAM_CLOSED stream error if it ended."""
        self._check_not_idle(stream_id, what)
        self._idle()
        if self._closed.get(stream_id) is False:
            raise StreamError(STREAM_CLOSED, stream_id, f"{what} frame on closed stream")

    def _decode_quietly(self, block: bytes) -> None:
        try:
            self._decoder.decode(block)
        except HeaderListTooLarge:
            pass

    def _idle(self) -> None:
        """Count a frame that brought the caller nothing (see ``max_idle_frames``)."""
        self._idle_frames += 1
        if self._idle_frames > self._max_idle_frames:
            raise FrameError(
                ErrorCode.ENHANCE_YOUR_CALM,
                f"more than {self._max_idle_frames} frames in a row without any content",
            )

    def _ignore(self, frame: Frame, events: list[Event]) -> None:
        """PRIORITY (deprecated, section 5.3.2) and unknown frames (section 5.5)."""
        self._idle()

    def _on_push_promise(self, frame: PushPromiseFrame, events: list[Event]) -> None:
        raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE received although push is disabled")

    def _on_data(self, frame: DataFrame, events: list[Event]) -> None:
        stream_id = frame.stream_id
        flow = frame.flow_controlled_length
        if flow > self._recv_window:
            raise FrameError(FLOW_CONTROL_ERROR, "DATA beyond the connection's flow window")
        self._recv_window -= flow
        stream = self._streams.get(stream_id)
        if stream is None or stream.remote_ended:
            self._credit_connection(flow)  # nobody will read it
            if stream is None:
                self._late_frame(stream_id, "DATA")
                return
            raise StreamError(STREAM_CLOSED, stream_id, "DATA after the end of the response")
        try:
            self._check_body(stream, frame, flow)
        except StreamError:
            self._credit_connection(flow)
            raise
        stream.recv_window -= flow
        size = len(frame.data)
        padding = flow - size
        if padding:  # padding is nobody's to read: return it at once
            self._credit_connection(padding)
            self._credit_stream(stream, padding)
        if size:
            self._idle_frames = 0
            self._unconsumed[stream_id] = self._unconsumed.get(stream_id, 0) + size
            events.append(DataReceived(stream_id, frame.data, size))
        elif not frame.end_stream:
            self._idle()
        if frame.end_stream:
            self._remote_end(stream, events)

    def _check_body(self, stream: _Stream, frame: DataFrame, flow: int) -> None:
        """Flow control and framing of one DATA frame (sections 6.9.1 and 8.1.1)."""
        stream_id = stream.stream_id
        if flow > stream.recv_window:
            raise StreamError(FLOW_CONTROL_ERROR, stream_id, "DATA beyond the stream's window")
        if not stream.response_started:
            raise StreamError(PROTOCOL_ERROR, stream_id, "DATA before the response head")
        size = len(frame.data)
        if size and not stream.body_allowed:
            raise StreamError(PROTOCOL_ERROR, stream_id, "content in a response that has none")
        expected = stream.content_length
        if expected is not None and stream.body_allowed:
            total = stream.received + size
            if total > expected or (frame.end_stream and total != expected):
                raise StreamError(
                    PROTOCOL_ERROR,
                    stream_id,
                    f"the body length does not match content-length {expected}",
                )
        stream.received += size

    def _on_headers(self, frame: HeadersFrame, events: list[Event]) -> None:
        stream_id = frame.stream_id
        stream = self._streams.get(stream_id)
        if stream is None:
            self._check_not_idle(stream_id, "HEADERS")
            self._decode_quietly(frame.block)
            self._late_frame(stream_id, "HEADERS")
            return
        self._idle_frames = 0
        try:
            fields = self._decoder.decode(frame.block)
        except HeaderListTooLarge as exc:
            raise StreamError(exc.error_code, stream_id, str(exc)) from None
        if stream.remote_ended:
            raise StreamError(STREAM_CLOSED, stream_id, "HEADERS after the end of the response")
        try:
            if stream.response_started:
                self._on_trailers(stream, frame, fields, events)
            else:
                self._on_response_head(stream, frame, fields, events)
        except Malformed as exc:
            raise StreamError(PROTOCOL_ERROR, stream_id, str(exc)) from None

    def _on_response_head(
        self,
        stream: _Stream,
        frame: HeadersFrame,
        fields: list[tuple[bytes, bytes]],
        events: list[Event],
    ) -> None:
        status, headers, length = response_head(fields)
        if status < 200:
            if frame.end_stream:
                raise Malformed("an informational response cannot end the stream")
            events.append(InformationalResponse(stream.stream_id, status, headers))
            return
        body_allowed = not stream.head and status not in (204, 304)
        if frame.end_stream and body_allowed and length:
            raise Malformed(f"the response ended without the {length} bytes of content-length")
        stream.response_started = True
        stream.body_allowed = body_allowed
        stream.content_length = length
        events.append(ResponseHeaders(stream.stream_id, status, headers, length))
        if frame.end_stream:
            self._remote_end(stream, events)

    def _on_trailers(
        self,
        stream: _Stream,
        frame: HeadersFrame,
        fields: list[tuple[bytes, bytes]],
        events: list[Event],
    ) -> None:
        if not frame.end_stream:
            raise Malformed("a second header block that does not end the stream")
        headers = trailer_fields(fields)
        expected = stream.content_length
        if expected is not None and stream.body_allowed and stream.received != expected:
            raise Malformed(f"the body length does not match content-length {expected}")
        events.append(TrailersReceived(stream.stream_id, headers))
        self._remote_end(stream, events)

    def _on_rst_stream(self, frame: RstStreamFrame, events: list[Event]) -> None:
        stream_id = frame.stream_id
        if stream_id not in self._streams:
            self._check_not_idle(stream_id, "RST_STREAM")
            self._idle()
            return
        self._forget(stream_id, False)
        self._drop_unconsumed(stream_id)
        events.append(StreamReset(stream_id, frame.error_code, True))

    def _on_window_update(self, frame: WindowUpdateFrame, events: list[Event]) -> None:
        self._idle()  # the count starts again when we send body bytes
        stream_id = frame.stream_id
        increment = frame.increment
        if stream_id == 0:
            if self._send_window + increment > MAX_WINDOW:
                raise FrameError(FLOW_CONTROL_ERROR, "the connection window exceeds 2**31 - 1")
            self._send_window += increment
            events.append(WindowUpdated(0, increment))
            return
        stream = self._streams.get(stream_id)
        if stream is None:
            self._check_not_idle(stream_id, "WINDOW_UPDATE")
            return
        if stream.send_window + increment > MAX_WINDOW:
            raise StreamError(
                FLOW_CONTROL_ERROR, stream_id, f"the window of stream {stream_id} exceeds 2**31-1"
            )
        stream.send_window += increment
        if not stream.local_ended:
            events.append(WindowUpdated(stream_id, increment))

    def _on_ping(self, frame: PingFrame, events: list[Event]) -> None:
        if frame.ack:
            events.append(PingAcked(frame.opaque_data))
            return
        self._idle()
        self._out += self._serialize(PingFrame(frame.opaque_data, True))
        events.append(PingReceived(frame.opaque_data))

    def _on_settings(self, frame: SettingsFrame, events: list[Event]) -> None:
        if frame.ack:
            if self._settings_pending:
                self._settings_pending -= 1
            events.append(SettingsAcked())
            return
        self._idle()
        changed: dict[int, int] = {}
        for identifier, value in frame.settings:
            if identifier in _PEER_DEFAULTS or identifier == SettingCode.ENABLE_CONNECT_PROTOCOL:
                self._apply_setting(identifier, value, events)
                changed[identifier] = value
        self._out += self._serialize(SettingsFrame(ack=True))
        events.append(SettingsChanged(changed))

    def _apply_setting(self, identifier: int, value: int, events: list[Event]) -> None:
        if identifier == _ENABLE_PUSH and value:
            raise FrameError(PROTOCOL_ERROR, "a server cannot set SETTINGS_ENABLE_PUSH to 1")
        if identifier == _HEADER_TABLE_SIZE:
            self._encoder.header_table_size = value
        elif identifier == _INITIAL_WINDOW_SIZE:
            self._change_initial_window(value, events)
        self._peer[identifier] = value

    def _change_initial_window(self, value: int, events: list[Event]) -> None:
        """Section 6.9.2: every stream's send window moves by the difference (and may go
        negative); one above 2**31 - 1 is a connection error."""
        delta = value - self._peer[_INITIAL_WINDOW_SIZE]
        if not delta:
            return
        for stream in self._streams.values():
            if stream.send_window + delta > MAX_WINDOW:
                raise FrameError(FLOW_CONTROL_ERROR, "a stream window exceeds 2**31 - 1")
        for stream in self._streams.values():
            stream.send_window += delta
            if delta > 0 and not stream.local_ended:
                events.append(WindowUpdated(stream.stream_id, delta))

    def _on_goaway(self, frame: GoAwayFrame, events: list[Event]) -> None:
        last = frame.last_stream_id
        if self._goaway_last is not None:
            last = min(last, self._goaway_last)  # it may only go down
        self._goaway_last = last
        unprocessed = tuple(sorted(sid for sid in self._streams if sid > last))
        for stream_id in unprocessed:
            self._forget(stream_id, True)
            self._drop_unconsumed(stream_id)
        events.append(GoAway(last, frame.error_code, frame.debug_data, unprocessed))


def _header_list_size(fields: list[tuple[Any, ...]]) -> int:
    """A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it."""
    return sum(len(f[0]) + len(f[1]) + 32 for f in fields)


def _window_update(stream_id: int, increment: int) -> bytes:
    return _frame_header(4, 0x8, 0, stream_id) + increment.to_bytes(4, "big")
