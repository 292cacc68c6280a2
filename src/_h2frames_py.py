"""HTTP/2 frames (RFC 9113 sections 4 and 6): a sans-IO reader and writer, pure Python.

``FrameReader(max_frame_size=16384, max_header_block_size=262144, preface=True,
coalesce_data=False)``
    ``feed(data)`` appends received bytes; ``next_frame()`` returns the next frame (see
    :mod:`cyhttp._h2_models`) or ``None`` when more bytes are needed; iterating the reader
    yields frames until then. Every frame type is checked as RFC 9113 section 6 asks
    (stream 0 or not, fixed lengths, padding, SETTINGS values, zero window increments).
    Frames of unknown types come back as :class:`UnknownFrame` (to be ignored) and unknown
    flags are ignored. A HEADERS or PUSH_PROMISE without END_HEADERS is held until its
    CONTINUATION frames complete it, and is returned whole; nothing else may come in
    between. ``max_frame_size`` is our SETTINGS_MAX_FRAME_SIZE (set it when the peer
    acknowledges a new value); a larger frame is refused from its header alone, before its
    payload is buffered. ``max_header_block_size`` bounds a field block with its
    CONTINUATIONs (counting 9 bytes per CONTINUATION, so that floods of empty frames
    are bounded too). With ``preface`` the first frame must be a SETTINGS frame (the server's
    connection preface); a peer that answers in HTTP/1.1 gets a message that says so.
    With ``coalesce_data``, DATA frames that follow each other on one stream and are all
    in the buffer come back as one :class:`DataFrame` (their bytes joined, END_STREAM from
    the last): a large body costs one frame object per read instead of one per 16 KiB.
    Only frames that cannot fail join a run (unpadded, within ``max_frame_size``, not
    empty unless they end the stream), and a run stops after END_STREAM, so the frames
    and errors that follow are the same as without it.

    Errors: :class:`~cyhttp.h2_errors.FrameError` fails the connection (the reader stays
    failed: it raises the same error again); :class:`~cyhttp.h2_errors.StreamError` fails
    one stream, and the reader, already past that frame, goes on at the next call. Both
    carry the RFC 9113 ``error_code`` and ``offset``, the stream position of the frame.

``serialize(frame, max_frame_size=16384) -> bytes``
    The wire form of a frame; a header block longer than ``max_frame_size`` (the peer's
    setting) is split into HEADERS/PUSH_PROMISE + CONTINUATION frames. Invalid frames
    (out-of-range ids, values or sizes) raise ``ValueError``: they are our own bugs.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._h2_models import (
    DEFAULT_MAX_FRAME_SIZE,
    FRAME_HEADER_SIZE,
    MAX_STREAM_ID,
    MAX_WINDOW,
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    Priority,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
    check_max_frame_size,
    settings_error,
)
from .h2_errors import ErrorCode, FrameError, StreamError

__all__ = ("DEFAULT_MAX_HEADER_BLOCK_SIZE", "FrameReader", "serialize")

DEFAULT_MAX_HEADER_BLOCK_SIZE = 262144

# frame types and flags as plain ints (the enums are in _h2_models)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS = 0x0, 0x1, 0x2, 0x3, 0x4
PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0x5, 0x6, 0x7, 0x8, 0x9
END_STREAM = ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

PROTOCOL_ERROR = ErrorCode.PROTOCOL_ERROR
FRAME_SIZE_ERROR = ErrorCode.FRAME_SIZE_ERROR

_NAMES = {
    DATA: "DATA",
    HEADERS: "HEADERS",
    PRIORITY: "PRIORITY",
    RST_STREAM: "RST_STREAM",
    SETTINGS: "SETTINGS",
    PUSH_PROMISE: "PUSH_PROMISE",
    PING: "PING",
    GOAWAY: "GOAWAY",
    WINDOW_UPDATE: "WINDOW_UPDATE",
    CONTINUATION: "CONTINUATION",
}


# -- reader ----------------------------------------------------------------------------


class _PendingBlock:
    """A HEADERS or PUSH_PROMISE waiting for CONTINUATION frames."""

    __slots__ = ("head", "parts", "size")

    def __init__(self, head: HeadersFrame | PushPromiseFrame, size: int) -> None:
        self.head = head
        self.parts = [head.block]
        self.size = size


class FrameReader:
    """Turns received bytes into frames (see the module docstring)."""

    __slots__ = (
        "_buffer",
        "_consumed",
        "_error",
        "_max_frame_size",
        "_offset",
        "_pending",
        "_preface",
        "coalesce_data",
        "max_header_block_size",
    )

    def __init__(
        self,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_header_block_size: int = DEFAULT_MAX_HEADER_BLOCK_SIZE,
        preface: bool = True,
        coalesce_data: bool = False,
    ) -> None:
        self._max_frame_size = check_max_frame_size(max_frame_size)
        self.coalesce_data = bool(coalesce_data)
        self.max_header_block_size = int(max_header_block_size)
        self._buffer = bytearray()
        self._offset = 0  # start of the unread bytes in _buffer
        self._consumed = 0  # bytes of the stream before _buffer[0]
        self._pending: _PendingBlock | None = None
        self._preface = bool(preface)
        self._error: FrameError | None = None

    @property
    def max_frame_size(self) -> int:
        """Our SETTINGS_MAX_FRAME_SIZE: the largest frame payload accepted."""
        return self._max_frame_size

    @max_frame_size.setter
    def max_frame_size(self, value: int) -> None:
        self._max_frame_size = check_max_frame_size(value)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as frames."""
        return len(self._buffer) - self._offset

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes."""
        self._buffer += data

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.next_frame()) is not None:
            yield frame

    def next_frame(self) -> Frame | None:
        """The next complete frame, or ``None`` when more bytes are needed."""
        if self._error is not None:
            raise self._error
        try:
            return self._next_frame()
        except FrameError as exc:
            self._error = exc
            raise

    def _compact(self) -> None:
        if self._offset:
            del self._buffer[: self._offset]
            self._consumed += self._offset
            self._offset = 0

    def _next_frame(self) -> Frame | None:
        while True:
            buf = self._buffer
            start = self._offset
            if len(buf) - start < FRAME_HEADER_SIZE:
                self._compact()
                if self._preface and buf:
                    self._check_preface_start(bytes(buf[:FRAME_HEADER_SIZE]))
                return None
            at = self._consumed + start
            length = int.from_bytes(buf[start : start + 3], "big")
            ftype = buf[start + 3]
            flags = buf[start + 4]
            stream_id = int.from_bytes(buf[start + 5 : start + 9], "big") & MAX_STREAM_ID
            if self._preface:
                self._check_preface(bytes(buf[start : start + FRAME_HEADER_SIZE]), ftype, flags)
            if length > self._max_frame_size:
                raise FrameError(
                    FRAME_SIZE_ERROR,
                    f"{_NAMES.get(ftype, 'a')} frame of {length} bytes is larger than the "
                    f"maximum frame size {self._max_frame_size}",
                    at,
                )
            end = start + FRAME_HEADER_SIZE + length
            if len(buf) < end:
                self._compact()
                return None
            payload = bytes(buf[start + FRAME_HEADER_SIZE : end])
            if (
                ftype == DATA
                and self.coalesce_data
                and length
                and stream_id
                and not flags & (PADDED | END_STREAM)
                and self._pending is None
            ):
                payload, end, flags = self._data_run(payload, end, stream_id)
            self._offset = end
            if end > 65536:
                self._compact()
            self._preface = False
            frame = self._frame(ftype, flags, stream_id, payload, at)
            if frame is not None:
                return frame

    def _data_run(self, payload: bytes, end: int, stream_id: int) -> tuple[bytes, int, int]:
        """``payload`` joined with the DATA frames of ``stream_id`` that follow it whole in
        the buffer (see ``coalesce_data``); where the run ends and its flags."""
        buf = self._buffer
        parts = [payload]
        flags = 0
        while not flags & END_STREAM and len(buf) - end >= FRAME_HEADER_SIZE:
            length = int.from_bytes(buf[end : end + 3], "big")
            next_flags = buf[end + 4]
            next_end = end + FRAME_HEADER_SIZE + length
            if (
                buf[end + 3] != DATA
                or int.from_bytes(buf[end + 5 : end + 9], "big") & MAX_STREAM_ID != stream_id
                or next_flags & PADDED
                or length > self._max_frame_size
                or not (length or next_flags & END_STREAM)
                or len(buf) < next_end
            ):
                break
            parts.append(bytes(buf[end + FRAME_HEADER_SIZE : next_end]))
            flags = next_flags & END_STREAM
            end = next_end
        return (b"".join(parts) if len(parts) > 1 else payload), end, flags

    # -- the preface --------------------------------------------------------------------

    @staticmethod
    def _check_preface_start(head: bytes) -> None:
        """Fail early on a peer that answers in HTTP/1.x (fewer than 9 bytes seen)."""
        if head.startswith(b"HTTP/"):
            raise FrameError(
                PROTOCOL_ERROR, "the peer does not speak HTTP/2: its reply starts with HTTP/", 0
            )

    def _check_preface(self, head: bytes, ftype: int, flags: int) -> None:
        self._check_preface_start(head)
        if ftype != SETTINGS or flags & ACK:
            raise FrameError(
                PROTOCOL_ERROR,
                f"the connection preface must start with SETTINGS, not "
                f"{_NAMES.get(ftype, f'frame type {ftype:#x}')}",
                self._consumed + self._offset,
            )

    # -- frames ---------------------------------------------------------------------------

    def _frame(
        self, ftype: int, flags: int, stream_id: int, payload: bytes, at: int
    ) -> Frame | None:
        pending = self._pending
        if pending is not None:
            return self._continuation(pending, ftype, flags, stream_id, payload, at)
        if ftype == DATA:
            return self._data(flags, stream_id, payload, at)
        if ftype == HEADERS:
            return self._headers(flags, stream_id, payload, at)
        if ftype == PRIORITY:
            return self._priority(stream_id, payload, at)
        if ftype == RST_STREAM:
            return self._rst_stream(stream_id, payload, at)
        if ftype == SETTINGS:
            return self._settings(flags, stream_id, payload, at)
        if ftype == PUSH_PROMISE:
            return self._push_promise(flags, stream_id, payload, at)
        if ftype == PING:
            return self._ping(flags, stream_id, payload, at)
        if ftype == GOAWAY:
            return self._goaway(stream_id, payload, at)
        if ftype == WINDOW_UPDATE:
            return self._window_update(stream_id, payload, at)
        if ftype == CONTINUATION:
            raise FrameError(PROTOCOL_ERROR, "CONTINUATION without a header block", at)
        return UnknownFrame(ftype, flags, stream_id, payload)

    @staticmethod
    def _on_stream(name: str, stream_id: int, at: int) -> None:
        if stream_id == 0:
            raise FrameError(PROTOCOL_ERROR, f"{name} frame on stream 0", at)

    @staticmethod
    def _on_connection(name: str, stream_id: int, at: int) -> None:
        if stream_id != 0:
            raise FrameError(PROTOCOL_ERROR, f"{name} frame on stream {stream_id}", at)

    @staticmethod
    def _unpad(
        name: str, flags: int, payload: bytes, fixed: int, at: int
    ) -> tuple[int, int | None]:
        """Where the content ends, and the pad length (None when not PADDED). ``fixed``:
        the bytes of mandatory fields after the Pad Length field."""
        if not flags & PADDED:
            if len(payload) < fixed:
                raise FrameError(FRAME_SIZE_ERROR, f"{name} frame too short", at)
            return len(payload), None
        if len(payload) < 1 + fixed:
            raise FrameError(FRAME_SIZE_ERROR, f"{name} frame too short", at)
        pad = payload[0]
        if pad > len(payload) - 1 - fixed:
            raise FrameError(PROTOCOL_ERROR, f"{name} padding is longer than the frame", at)
        return len(payload) - pad, pad

    def _data(self, flags: int, stream_id: int, payload: bytes, at: int) -> DataFrame:
        self._on_stream("DATA", stream_id, at)
        end, pad = self._unpad("DATA", flags, payload, 0, at)
        data = payload if pad is None else payload[1:end]
        return DataFrame(stream_id, data, bool(flags & END_STREAM), pad)

    def _headers(self, flags: int, stream_id: int, payload: bytes, at: int) -> Frame | None:
        self._on_stream("HEADERS", stream_id, at)
        fixed = 5 if flags & PRIORITY_FLAG else 0
        end, pad = self._unpad("HEADERS", flags, payload, fixed, at)
        pos = 0 if pad is None else 1
        priority = None
        if fixed:
            priority = self._priority_fields(payload, pos)
            pos += 5
        frame = HeadersFrame(stream_id, payload[pos:end], bool(flags & END_STREAM), priority, pad)
        return self._block(frame, flags, at)

    def _push_promise(self, flags: int, stream_id: int, payload: bytes, at: int) -> Frame | None:
        self._on_stream("PUSH_PROMISE", stream_id, at)
        end, pad = self._unpad("PUSH_PROMISE", flags, payload, 4, at)
        pos = 0 if pad is None else 1
        promised = int.from_bytes(payload[pos : pos + 4], "big") & MAX_STREAM_ID
        if promised == 0:
            raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE of stream 0", at)
        frame = PushPromiseFrame(stream_id, promised, payload[pos + 4 : end], pad)
        return self._block(frame, flags, at)

    def _block(self, frame: HeadersFrame | PushPromiseFrame, flags: int, at: int) -> Frame | None:
        """Return a complete field block, or hold it for its CONTINUATIONs."""
        size = len(frame.block)
        if size > self.max_header_block_size:
            self._block_too_large(at)
        if not flags & END_HEADERS:
            self._pending = _PendingBlock(frame, size)
            return None
        return self._checked(frame, at)

    def _block_too_large(self, at: int) -> None:
        raise FrameError(
            ErrorCode.ENHANCE_YOUR_CALM,
            f"header block larger than {self.max_header_block_size} bytes",
            at,
        )

    def _checked(self, frame: HeadersFrame | PushPromiseFrame, at: int) -> Frame:
        """A stream that depends on itself fails (RFC 9113 section 5.3.1); the frame
        travels with the error so that its block can still be decoded."""
        priority = frame.priority if isinstance(frame, HeadersFrame) else None
        if priority is not None and priority.depends_on == frame.stream_id:
            message = f"stream {frame.stream_id} depends on itself"
            raise StreamError(PROTOCOL_ERROR, frame.stream_id, message, at, frame)
        return frame

    def _continuation(
        self, pending: _PendingBlock, ftype: int, flags: int, stream_id: int, payload: bytes,
        at: int,
    ) -> Frame | None:  # fmt: skip
        head = pending.head
        if ftype != CONTINUATION or stream_id != head.stream_id:
            what = _NAMES.get(ftype, f"frame type {ftype:#x}")
            raise FrameError(
                PROTOCOL_ERROR,
                f"{what} on stream {stream_id} inside the header block of stream "
                f"{head.stream_id} (only its CONTINUATION frames may follow)",
                at,
            )
        # a frame header counts too, so that a flood of empty CONTINUATIONs is bounded
        pending.size += len(payload) + FRAME_HEADER_SIZE
        if pending.size > self.max_header_block_size:
            self._block_too_large(at)
        pending.parts.append(payload)
        if not flags & END_HEADERS:
            return None
        self._pending = None
        block = b"".join(pending.parts)
        if isinstance(head, HeadersFrame):
            frame: HeadersFrame | PushPromiseFrame = HeadersFrame(
                head.stream_id, block, head.end_stream, head.priority, head.pad_length
            )
        else:
            frame = PushPromiseFrame(
                head.stream_id, head.promised_stream_id, block, head.pad_length
            )
        return self._checked(frame, at)

    @staticmethod
    def _priority_fields(payload: bytes, pos: int) -> Priority:
        dependency = int.from_bytes(payload[pos : pos + 4], "big")
        return Priority(dependency & MAX_STREAM_ID, payload[pos + 4] + 1, bool(dependency >> 31))

    def _priority(self, stream_id: int, payload: bytes, at: int) -> PriorityFrame:
        self._on_stream("PRIORITY", stream_id, at)
        if len(payload) != 5:
            raise StreamError(
                FRAME_SIZE_ERROR, stream_id, f"PRIORITY frame of {len(payload)} bytes", at
            )
        priority = self._priority_fields(payload, 0)
        if priority.depends_on == stream_id:
            raise StreamError(
                PROTOCOL_ERROR, stream_id, f"stream {stream_id} depends on itself", at
            )
        return PriorityFrame(stream_id, priority)

    def _rst_stream(self, stream_id: int, payload: bytes, at: int) -> RstStreamFrame:
        self._on_stream("RST_STREAM", stream_id, at)
        if len(payload) != 4:
            raise FrameError(FRAME_SIZE_ERROR, f"RST_STREAM frame of {len(payload)} bytes", at)
        return RstStreamFrame(stream_id, int.from_bytes(payload, "big"))

    def _settings(self, flags: int, stream_id: int, payload: bytes, at: int) -> SettingsFrame:
        self._on_connection("SETTINGS", stream_id, at)
        if flags & ACK:
            if payload:
                raise FrameError(FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload", at)
            return SettingsFrame((), True)
        if len(payload) % 6:
            raise FrameError(
                FRAME_SIZE_ERROR, f"SETTINGS frame of {len(payload)} bytes (not 6 * n)", at
            )
        settings = []
        for pos in range(0, len(payload), 6):
            identifier = int.from_bytes(payload[pos : pos + 2], "big")
            value = int.from_bytes(payload[pos + 2 : pos + 6], "big")
            problem = settings_error(identifier, value)
            if problem is not None:
                raise FrameError(problem[0], problem[1], at)
            settings.append((identifier, value))
        return SettingsFrame(tuple(settings))

    def _ping(self, flags: int, stream_id: int, payload: bytes, at: int) -> PingFrame:
        self._on_connection("PING", stream_id, at)
        if len(payload) != 8:
            raise FrameError(FRAME_SIZE_ERROR, f"PING frame of {len(payload)} bytes", at)
        return PingFrame(payload, bool(flags & ACK))

    def _goaway(self, stream_id: int, payload: bytes, at: int) -> GoAwayFrame:
        self._on_connection("GOAWAY", stream_id, at)
        if len(payload) < 8:
            raise FrameError(FRAME_SIZE_ERROR, f"GOAWAY frame of {len(payload)} bytes", at)
        last = int.from_bytes(payload[:4], "big") & MAX_STREAM_ID
        return GoAwayFrame(last, int.from_bytes(payload[4:8], "big"), payload[8:])

    def _window_update(self, stream_id: int, payload: bytes, at: int) -> WindowUpdateFrame:
        if len(payload) != 4:
            raise FrameError(FRAME_SIZE_ERROR, f"WINDOW_UPDATE frame of {len(payload)} bytes", at)
        increment = int.from_bytes(payload, "big") & MAX_WINDOW
        if increment == 0:
            if stream_id == 0:
                raise FrameError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection", at)
            raise StreamError(
                PROTOCOL_ERROR, stream_id, f"WINDOW_UPDATE of 0 on stream {stream_id}", at
            )
        return WindowUpdateFrame(stream_id, increment)


# -- writer ----------------------------------------------------------------------------


def frame_header(length: int, ftype: int, flags: int, stream_id: int) -> bytes:
    """The 9-byte frame header."""
    return (
        length.to_bytes(3, "big")
        + bytes((ftype, flags))
        + (stream_id & MAX_STREAM_ID).to_bytes(4, "big")
    )


def raw_frame(ftype: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """Any frame, unchecked: for extension frames and for tests of faulty peers."""
    return frame_header(len(payload), ftype, flags, stream_id) + payload


def _check_id(name: str, stream_id: int) -> None:
    if not 0 <= stream_id <= MAX_STREAM_ID:
        raise ValueError(f"{name}: stream id {stream_id} out of range")


def _check_stream(name: str, stream_id: int, zero: bool) -> None:
    """``stream_id`` in range, and 0 exactly when ``zero``."""
    _check_id(name, stream_id)
    if zero and stream_id != 0:
        raise ValueError(f"{name} frames belong to stream 0")
    if not zero and stream_id == 0:
        raise ValueError(f"{name} frames need a stream id")


def _padding(pad_length: int | None) -> tuple[bytes, bytes, int]:
    """(Pad Length field, padding, PADDED flag)."""
    if pad_length is None:
        return b"", b"", 0
    if not 0 <= pad_length <= 255:
        raise ValueError(f"pad_length {pad_length} is not 0..255")
    return bytes((pad_length,)), bytes(pad_length), PADDED


def _priority_bytes(priority: Priority) -> bytes:
    if not 1 <= priority.weight <= 256:
        raise ValueError(f"priority weight {priority.weight} is not 1..256")
    if not 0 <= priority.depends_on <= MAX_STREAM_ID:
        raise ValueError(f"stream dependency {priority.depends_on} out of range")
    dependency = priority.depends_on | (0x80000000 if priority.exclusive else 0)
    return dependency.to_bytes(4, "big") + bytes((priority.weight - 1,))


def _fitted(name: str, payload: bytes, max_frame_size: int) -> bytes:
    if len(payload) > max_frame_size:
        raise ValueError(f"{name} payload of {len(payload)} bytes exceeds {max_frame_size}")
    return payload


def _field_block(
    ftype: int, flags: int, stream_id: int, prefix: bytes, block: bytes, suffix: bytes,
    max_frame_size: int,
) -> bytes:  # fmt: skip
    """HEADERS or PUSH_PROMISE (``prefix`` + block + ``suffix`` padding), followed by as
    many CONTINUATION frames as the block needs."""
    room = max_frame_size - len(prefix) - len(suffix)
    if room < 0:
        raise ValueError("padding and priority leave no room for the header block")
    first = block[:room]
    rest = block[room:]
    if not rest:
        flags |= END_HEADERS
    out = [raw_frame(ftype, flags, stream_id, prefix + first + suffix)]
    while rest:
        piece, rest = rest[:max_frame_size], rest[max_frame_size:]
        out.append(raw_frame(CONTINUATION, 0 if rest else END_HEADERS, stream_id, piece))
    return b"".join(out)


def serialize(frame: Frame, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> bytes:
    """The bytes of ``frame`` (see the module docstring)."""
    max_frame_size = check_max_frame_size(max_frame_size)
    if isinstance(frame, DataFrame):
        _check_stream("DATA", frame.stream_id, False)
        field, padding, flags = _padding(frame.pad_length)
        payload = _fitted("DATA", field + frame.data + padding, max_frame_size)
        flags |= END_STREAM if frame.end_stream else 0
        return raw_frame(DATA, flags, frame.stream_id, payload)
    if isinstance(frame, HeadersFrame):
        _check_stream("HEADERS", frame.stream_id, False)
        field, padding, flags = _padding(frame.pad_length)
        flags |= END_STREAM if frame.end_stream else 0
        if frame.priority is not None:
            field += _priority_bytes(frame.priority)
            flags |= PRIORITY_FLAG
        return _field_block(
            HEADERS, flags, frame.stream_id, field, frame.block, padding, max_frame_size
        )
    if isinstance(frame, PushPromiseFrame):
        _check_stream("PUSH_PROMISE", frame.stream_id, False)
        if not 0 < frame.promised_stream_id <= MAX_STREAM_ID:
            raise ValueError(f"promised stream id {frame.promised_stream_id} out of range")
        field, padding, flags = _padding(frame.pad_length)
        field += frame.promised_stream_id.to_bytes(4, "big")
        return _field_block(
            PUSH_PROMISE, flags, frame.stream_id, field, frame.block, padding, max_frame_size
        )
    return _serialize_control(frame, max_frame_size)


def _serialize_control(frame: Frame, max_frame_size: int) -> bytes:
    if isinstance(frame, SettingsFrame):
        _check_stream("SETTINGS", frame.stream_id, True)
        if frame.ack:
            if frame.settings:
                raise ValueError("a SETTINGS acknowledgement carries no settings")
            return raw_frame(SETTINGS, ACK, 0, b"")
        parts = []
        for identifier, value in frame.settings:
            if not 0 <= identifier <= 0xFFFF or not 0 <= value <= 0xFFFFFFFF:
                raise ValueError(f"setting {identifier}={value} out of range")
            problem = settings_error(identifier, value)
            if problem is not None:
                raise ValueError(problem[1])
            parts.append(identifier.to_bytes(2, "big") + value.to_bytes(4, "big"))
        payload = _fitted("SETTINGS", b"".join(parts), max_frame_size)
        return raw_frame(SETTINGS, 0, 0, payload)
    if isinstance(frame, PingFrame):
        _check_stream("PING", frame.stream_id, True)
        if len(frame.opaque_data) != 8:
            raise ValueError("PING carries exactly 8 bytes")
        return raw_frame(PING, ACK if frame.ack else 0, 0, bytes(frame.opaque_data))
    if isinstance(frame, GoAwayFrame):
        _check_stream("GOAWAY", frame.stream_id, True)
        if not 0 <= frame.last_stream_id <= MAX_STREAM_ID:
            raise ValueError(f"last stream id {frame.last_stream_id} out of range")
        payload = (
            frame.last_stream_id.to_bytes(4, "big")
            + _error_code(frame.error_code)
            + frame.debug_data
        )
        return raw_frame(GOAWAY, 0, 0, _fitted("GOAWAY", payload, max_frame_size))
    if isinstance(frame, WindowUpdateFrame):
        _check_id("WINDOW_UPDATE", frame.stream_id)
        if not 1 <= frame.increment <= MAX_WINDOW:
            raise ValueError(f"window increment {frame.increment} is not 1..2**31 - 1")
        return raw_frame(WINDOW_UPDATE, 0, frame.stream_id, frame.increment.to_bytes(4, "big"))
    return _serialize_stream_control(frame, max_frame_size)


def _error_code(code: int) -> bytes:
    if not 0 <= code <= 0xFFFFFFFF:
        raise ValueError(f"error code {code} out of range")
    return int(code).to_bytes(4, "big")


def _serialize_stream_control(frame: Frame, max_frame_size: int) -> bytes:
    if isinstance(frame, RstStreamFrame):
        _check_stream("RST_STREAM", frame.stream_id, False)
        return raw_frame(RST_STREAM, 0, frame.stream_id, _error_code(frame.error_code))
    if isinstance(frame, PriorityFrame):
        _check_stream("PRIORITY", frame.stream_id, False)
        return raw_frame(PRIORITY, 0, frame.stream_id, _priority_bytes(frame.priority))
    if isinstance(frame, ContinuationFrame):
        _check_stream("CONTINUATION", frame.stream_id, False)
        payload = _fitted("CONTINUATION", frame.block, max_frame_size)
        return raw_frame(
            CONTINUATION, END_HEADERS if frame.end_headers else 0, frame.stream_id, payload
        )
    if isinstance(frame, UnknownFrame):
        if not 0 <= frame.type <= 255 or not 0 <= frame.flags <= 255:
            raise ValueError("frame type and flags are single bytes")
        _check_id("extension", frame.stream_id)
        payload = _fitted("extension", frame.payload, max_frame_size)
        return raw_frame(frame.type, frame.flags, frame.stream_id, payload)
    raise TypeError(f"not an HTTP/2 frame: {frame!r}")
