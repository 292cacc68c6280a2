# cython: language_level=3
"""Compiled HTTP/2 frame reader and writer (RFC 9113); twin of ``_h2frames_py.py``.

The contract (API, checks, errors, their messages and offsets) is documented in
``_h2frames_py``; this module must behave identically. The difference: frame headers and
fixed-size fields are read and written as C integers straight from the buffer, and each
payload is copied once, into the bytes object the frame keeps.
"""

from cpython.bytearray cimport (
    PyByteArray_AS_STRING,
    PyByteArray_GET_SIZE,
    PyByteArray_Resize,
)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint32_t
from libc.string cimport memcpy

from cyhttp._h2_models import (
    DEFAULT_MAX_FRAME_SIZE,
    ContinuationFrame,
    DataFrame,
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
from cyhttp.h2_errors import ErrorCode, FrameError, StreamError

__all__ = ("DEFAULT_MAX_HEADER_BLOCK_SIZE", "FrameReader", "serialize")

DEFAULT_MAX_HEADER_BLOCK_SIZE = 262144

cdef enum:
    HEADER_SIZE = 9
    T_DATA = 0x0
    T_HEADERS = 0x1
    T_PRIORITY = 0x2
    T_RST_STREAM = 0x3
    T_SETTINGS = 0x4
    T_PUSH_PROMISE = 0x5
    T_PING = 0x6
    T_GOAWAY = 0x7
    T_WINDOW_UPDATE = 0x8
    T_CONTINUATION = 0x9
    F_END_STREAM = 0x1
    F_ACK = 0x1
    F_END_HEADERS = 0x4
    F_PADDED = 0x8
    F_PRIORITY = 0x20
    COMPACT_AT = 65536

cdef uint32_t STREAM_MASK = 0x7FFFFFFF

PROTOCOL_ERROR = ErrorCode.PROTOCOL_ERROR
FRAME_SIZE_ERROR = ErrorCode.FRAME_SIZE_ERROR

cdef dict _NAMES = {
    T_DATA: "DATA",
    T_HEADERS: "HEADERS",
    T_PRIORITY: "PRIORITY",
    T_RST_STREAM: "RST_STREAM",
    T_SETTINGS: "SETTINGS",
    T_PUSH_PROMISE: "PUSH_PROMISE",
    T_PING: "PING",
    T_GOAWAY: "GOAWAY",
    T_WINDOW_UPDATE: "WINDOW_UPDATE",
    T_CONTINUATION: "CONTINUATION",
}


cdef inline uint32_t _u32(const unsigned char* p) noexcept:
    return (
        (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | <uint32_t>p[3]
    )


cdef inline const unsigned char* _ptr(bytes data) noexcept:
    return <const unsigned char*>PyBytes_AS_STRING(data)


# -- reader ----------------------------------------------------------------------------


cdef class _PendingBlock:
    """A HEADERS or PUSH_PROMISE waiting for CONTINUATION frames."""

    cdef object head
    cdef list parts
    cdef Py_ssize_t size

    def __cinit__(self, head, Py_ssize_t size):
        self.head = head
        self.parts = [head.block]
        self.size = size


cdef class FrameReader:
    """Turns received bytes into frames (see ``_h2frames_py``).

    Received bytes are read where they are when they can be: a ``bytes`` object fed while
    nothing waits in the buffer (or only the start of one frame, which is completed from
    it first) is kept as ``_chunk`` and its frames are read in place; only the start of a
    frame left at its end is copied into the buffer. A large body is then copied once
    (into its frames' bytes objects) instead of twice. The frames and errors are those of
    the pure twin, which reads everything from its buffer.
    """

    cdef bytearray _buffer
    cdef Py_ssize_t _offset  # start of the unread bytes in _buffer
    cdef Py_ssize_t _consumed  # bytes of the stream before _buffer[0]
    cdef bytes _chunk  # bytes fed and read in place (after the buffer's), or None
    cdef Py_ssize_t _chunk_pos  # start of the unread bytes in _chunk
    cdef Py_ssize_t _chunk_at  # the stream position of _chunk[0]
    cdef _PendingBlock _pending
    cdef bint _preface
    cdef object _error
    cdef Py_ssize_t _max_frame_size
    cdef public Py_ssize_t max_header_block_size
    cdef public bint coalesce_data

    def __init__(
        self,
        max_frame_size=DEFAULT_MAX_FRAME_SIZE,
        max_header_block_size=DEFAULT_MAX_HEADER_BLOCK_SIZE,
        preface=True,
        coalesce_data=False,
    ):
        self._max_frame_size = check_max_frame_size(max_frame_size)
        self.coalesce_data = bool(coalesce_data)
        self.max_header_block_size = int(max_header_block_size)
        self._buffer = bytearray()
        self._offset = 0
        self._consumed = 0
        self._chunk = None
        self._chunk_pos = 0
        self._chunk_at = 0
        self._pending = None
        self._preface = bool(preface)
        self._error = None

    @property
    def max_frame_size(self):
        """Our SETTINGS_MAX_FRAME_SIZE: the largest frame payload accepted."""
        return self._max_frame_size

    @max_frame_size.setter
    def max_frame_size(self, value):
        self._max_frame_size = check_max_frame_size(value)

    @property
    def buffered(self):
        """Bytes received and not yet returned as frames."""
        cdef Py_ssize_t n = PyByteArray_GET_SIZE(self._buffer) - self._offset
        if self._chunk is not None:
            n += PyBytes_GET_SIZE(self._chunk) - self._chunk_pos
        return n

    def feed(self, data):
        """Append received bytes."""
        cdef Py_ssize_t unread, taken
        if self._chunk is not None:  # fed again before everything was read
            self._spill()
        unread = PyByteArray_GET_SIZE(self._buffer) - self._offset
        if self._preface or type(data) is not bytes or self._error is not None:
            self._buffer += data
            return
        if unread == 0:
            self._compact()
            self._keep(<bytes>data, 0)
            return
        taken = self._complete_from(<bytes>data, unread)
        if taken >= 0:
            self._keep(<bytes>data, taken)

    cdef void _keep(self, bytes data, Py_ssize_t taken):
        """Read ``data[taken:]`` in place, after the buffer's bytes."""
        if taken == PyBytes_GET_SIZE(data):
            return
        self._chunk = data
        self._chunk_pos = taken
        self._chunk_at = self._consumed + PyByteArray_GET_SIZE(self._buffer) - taken

    cdef Py_ssize_t _complete_from(self, bytes data, Py_ssize_t unread) except -2:
        """Append to the buffer what completes the frame it starts (``unread`` bytes of it
        there); how many bytes of ``data`` that took, or -1 when all of ``data`` went to
        the buffer (the buffer held more than a frame's start, or a frame too large)."""
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data), taken = 0, length
        cdef const unsigned char* p
        if unread < HEADER_SIZE:
            taken = min(HEADER_SIZE - unread, n)
            self._append(_ptr(data), taken)
            unread += taken
            if unread < HEADER_SIZE:
                return -1  # all of ``data`` is in the buffer
        p = <const unsigned char*>PyByteArray_AS_STRING(self._buffer) + self._offset
        length = (<Py_ssize_t>p[0] << 16) | (<Py_ssize_t>p[1] << 8) | p[2]
        if length > self._max_frame_size or unread >= HEADER_SIZE + length:
            self._append(_ptr(data) + taken, n - taken)
            return -1
        length = min(HEADER_SIZE + length - unread, n - taken)
        self._append(_ptr(data) + taken, length)
        return taken + length

    cdef void _append(self, const unsigned char* data, Py_ssize_t n) except *:
        cdef Py_ssize_t size = PyByteArray_GET_SIZE(self._buffer)
        if n:
            PyByteArray_Resize(self._buffer, size + n)
            memcpy(PyByteArray_AS_STRING(self._buffer) + size, data, n)

    cdef void _spill(self) except *:
        """Move the unread bytes of ``_chunk`` into the buffer (the start of a frame left
        at its end, or all of it when more bytes come first)."""
        cdef bytes chunk = self._chunk
        cdef Py_ssize_t pos = self._chunk_pos
        if PyByteArray_GET_SIZE(self._buffer) == self._offset:
            del self._buffer[:]
            self._offset = 0
            self._consumed = self._chunk_at + pos
        self._chunk = None
        self._append(_ptr(chunk) + pos, PyBytes_GET_SIZE(chunk) - pos)

    def __iter__(self):
        while True:
            frame = self.next_frame()
            if frame is None:
                return
            yield frame

    def next_frame(self):
        """The next complete frame, or ``None`` when more bytes are needed."""
        if self._error is not None:
            raise self._error
        try:
            return self._next_frame()
        except FrameError as exc:
            self._error = exc
            raise

    cdef void _compact(self):
        if self._offset:
            del self._buffer[: self._offset]
            self._consumed += self._offset
            self._offset = 0

    cdef void _advance(self, bint in_chunk, Py_ssize_t n):
        """``n`` bytes of the source being read are used."""
        if in_chunk:
            self._chunk_pos += n
            if self._chunk_pos == PyBytes_GET_SIZE(self._chunk):
                self._spill()  # nothing left: back to the (empty) buffer
            return
        self._offset += n
        if self._offset > COMPACT_AT:
            self._compact()

    cdef object _need_more(self, bint in_chunk):
        if in_chunk:
            self._spill()  # the start of a frame: to the buffer, for the next bytes
            return None
        self._compact()
        if self._preface and PyByteArray_GET_SIZE(self._buffer):
            _check_preface_start(bytes(self._buffer[:HEADER_SIZE]))
        return None

    cdef object _next_frame(self):
        cdef const unsigned char* p
        cdef const unsigned char* rest
        cdef Py_ssize_t avail, end, at, length, rest_size, used
        cdef unsigned char ftype, flags
        cdef uint32_t stream_id
        cdef bint in_chunk
        cdef bytes payload
        while True:
            # the buffer first; the chunk once the buffer is read
            in_chunk = (
                self._chunk is not None
                and PyByteArray_GET_SIZE(self._buffer) == self._offset
            )
            if in_chunk:
                p = _ptr(self._chunk) + self._chunk_pos
                avail = PyBytes_GET_SIZE(self._chunk) - self._chunk_pos
                at = self._chunk_at + self._chunk_pos
            else:
                p = <const unsigned char*>PyByteArray_AS_STRING(self._buffer) + self._offset
                avail = PyByteArray_GET_SIZE(self._buffer) - self._offset
                at = self._consumed + self._offset
            if avail < HEADER_SIZE:
                return self._need_more(in_chunk)
            length = (<Py_ssize_t>p[0] << 16) | (<Py_ssize_t>p[1] << 8) | p[2]
            ftype = p[3]
            flags = p[4]
            stream_id = _u32(p + 5) & STREAM_MASK
            if self._preface:
                self._check_preface(
                    PyBytes_FromStringAndSize(<const char*>p, HEADER_SIZE), ftype, flags
                )
            if length > self._max_frame_size:
                raise FrameError(
                    FRAME_SIZE_ERROR,
                    f"{_NAMES.get(ftype, 'a')} frame of {length} bytes is larger than the "
                    f"maximum frame size {self._max_frame_size}",
                    at,
                )
            end = HEADER_SIZE + length
            if avail < end:
                return self._need_more(in_chunk)
            if (
                ftype == T_DATA
                and self.coalesce_data
                and length
                and stream_id
                and not flags & (F_PADDED | F_END_STREAM)
                and self._pending is None
            ):
                if not in_chunk and avail == end and self._chunk is not None:
                    # the buffer's last frame: the run goes on in the chunk
                    rest = _ptr(self._chunk) + self._chunk_pos
                    rest_size = PyBytes_GET_SIZE(self._chunk) - self._chunk_pos
                    frame = self._data_run(p, length, stream_id, rest, rest_size, &used)
                    self._advance(False, end)
                    self._advance(True, used)
                else:
                    frame = self._data_run(p, length, stream_id, p + end, avail - end, &used)
                    self._advance(in_chunk, end + used)
                self._preface = False
                return frame
            payload = PyBytes_FromStringAndSize(<const char*>p + HEADER_SIZE, length)
            self._advance(in_chunk, end)
            self._preface = False
            frame = self._frame(ftype, flags, stream_id, payload, at)
            if frame is not None:
                return frame

    cdef object _data_run(
        self, const unsigned char* p, Py_ssize_t length, uint32_t stream_id,
        const unsigned char* rest, Py_ssize_t rest_size, Py_ssize_t* used,
    ):
        """The DATA frame at ``p`` joined with the DATA frames of ``stream_id`` that follow
        it whole in ``rest`` (see ``coalesce_data`` in ``_h2frames_py``); ``used``: how
        many bytes of ``rest`` they took. The run is measured first, then its payloads are
        copied once, into one bytes object."""
        cdef Py_ssize_t pos = 0, total = length, n
        cdef const unsigned char* q
        cdef unsigned char flags = 0, next_flags
        cdef unsigned char* out
        while not flags & F_END_STREAM and rest_size - pos >= HEADER_SIZE:
            q = rest + pos
            n = (<Py_ssize_t>q[0] << 16) | (<Py_ssize_t>q[1] << 8) | q[2]
            next_flags = q[4]
            if (
                q[3] != T_DATA
                or (_u32(q + 5) & STREAM_MASK) != stream_id
                or next_flags & F_PADDED
                or n > self._max_frame_size
                or not (n or next_flags & F_END_STREAM)
                or rest_size - pos < HEADER_SIZE + n
            ):
                break
            total += n
            flags = next_flags & F_END_STREAM
            pos += HEADER_SIZE + n
        data = PyBytes_FromStringAndSize(NULL, total)
        out = <unsigned char*>PyBytes_AS_STRING(data)
        memcpy(out, p + HEADER_SIZE, length)
        out += length
        q = rest
        while q < rest + pos:  # the payloads of the rest, skipping the frame headers
            n = (<Py_ssize_t>q[0] << 16) | (<Py_ssize_t>q[1] << 8) | q[2]
            memcpy(out, q + HEADER_SIZE, n)
            out += n
            q += HEADER_SIZE + n
        used[0] = pos
        return _data_frame(stream_id, data, flags != 0, None)

    # -- the preface --------------------------------------------------------------------

    cdef void _check_preface(self, bytes head, int ftype, int flags) except *:
        _check_preface_start(head)
        if ftype != T_SETTINGS or flags & F_ACK:
            raise FrameError(
                PROTOCOL_ERROR,
                f"the connection preface must start with SETTINGS, not "
                f"{_NAMES.get(ftype, f'frame type {ftype:#x}')}",
                self._consumed + self._offset,
            )

    # -- frames ---------------------------------------------------------------------------

    cdef object _frame(self, int ftype, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        if self._pending is not None:
            return self._continuation(ftype, flags, stream_id, payload, at)
        if ftype == T_DATA:
            return self._data(flags, stream_id, payload, at)
        if ftype == T_HEADERS:
            return self._headers(flags, stream_id, payload, at)
        if ftype == T_PRIORITY:
            return self._priority(stream_id, payload, at)
        if ftype == T_RST_STREAM:
            return self._rst_stream(stream_id, payload, at)
        if ftype == T_SETTINGS:
            return self._settings(flags, stream_id, payload, at)
        if ftype == T_PUSH_PROMISE:
            return self._push_promise(flags, stream_id, payload, at)
        if ftype == T_PING:
            return self._ping(flags, stream_id, payload, at)
        if ftype == T_GOAWAY:
            return self._goaway(stream_id, payload, at)
        if ftype == T_WINDOW_UPDATE:
            return self._window_update(stream_id, payload, at)
        if ftype == T_CONTINUATION:
            raise FrameError(PROTOCOL_ERROR, "CONTINUATION without a header block", at)
        return UnknownFrame(ftype, flags, stream_id, payload)

    cdef object _data(self, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        cdef Py_ssize_t end
        cdef int pad
        _on_stream("DATA", stream_id, at)
        pad = _unpad("DATA", flags, payload, 0, at, &end)
        if pad < 0:
            return _data_frame(stream_id, payload, flags & F_END_STREAM, None)
        data = PyBytes_FromStringAndSize(<const char*>_ptr(payload) + 1, end - 1)
        return _data_frame(stream_id, data, flags & F_END_STREAM, pad)

    cdef object _headers(self, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        cdef Py_ssize_t end, pos
        cdef int pad
        cdef int fixed = 5 if flags & F_PRIORITY else 0
        _on_stream("HEADERS", stream_id, at)
        pad = _unpad("HEADERS", flags, payload, fixed, at, &end)
        pos = 0 if pad < 0 else 1
        priority = None
        if fixed:
            priority = _priority_fields(_ptr(payload) + pos)
            pos += 5
        frame = _headers_frame(
            stream_id, payload[pos:end], flags & F_END_STREAM, priority,
            None if pad < 0 else pad,
        )
        return self._block(frame, flags, at)

    cdef object _push_promise(self, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        cdef Py_ssize_t end, pos
        cdef int pad
        cdef uint32_t promised
        _on_stream("PUSH_PROMISE", stream_id, at)
        pad = _unpad("PUSH_PROMISE", flags, payload, 4, at, &end)
        pos = 0 if pad < 0 else 1
        promised = _u32(_ptr(payload) + pos) & STREAM_MASK
        if promised == 0:
            raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE of stream 0", at)
        frame = PushPromiseFrame(
            stream_id, promised, payload[pos + 4 : end], None if pad < 0 else pad
        )
        return self._block(frame, flags, at)

    cdef object _block(self, frame, int flags, Py_ssize_t at):
        """Return a complete field block, or hold it for its CONTINUATIONs."""
        cdef Py_ssize_t size = PyBytes_GET_SIZE(frame.block)
        if size > self.max_header_block_size:
            self._block_too_large(at)
        if not flags & F_END_HEADERS:
            self._pending = _PendingBlock(frame, size)
            return None
        return _checked(frame, at)

    cdef void _block_too_large(self, Py_ssize_t at) except *:
        raise FrameError(
            ErrorCode.ENHANCE_YOUR_CALM,
            f"header block larger than {self.max_header_block_size} bytes",
            at,
        )

    cdef object _continuation(
        self, int ftype, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at
    ):
        cdef _PendingBlock pending = self._pending
        head = pending.head
        if ftype != T_CONTINUATION or stream_id != head.stream_id:
            what = _NAMES.get(ftype, f"frame type {ftype:#x}")
            raise FrameError(
                PROTOCOL_ERROR,
                f"{what} on stream {stream_id} inside the header block of stream "
                f"{head.stream_id} (only its CONTINUATION frames may follow)",
                at,
            )
        pending.size += PyBytes_GET_SIZE(payload) + HEADER_SIZE
        if pending.size > self.max_header_block_size:
            self._block_too_large(at)
        pending.parts.append(payload)
        if not flags & F_END_HEADERS:
            return None
        self._pending = None
        block = b"".join(pending.parts)
        if isinstance(head, HeadersFrame):
            frame = HeadersFrame(
                head.stream_id, block, head.end_stream, head.priority, head.pad_length
            )
        else:
            frame = PushPromiseFrame(
                head.stream_id, head.promised_stream_id, block, head.pad_length
            )
        return _checked(frame, at)

    cdef object _priority(self, uint32_t stream_id, bytes payload, Py_ssize_t at):
        _on_stream("PRIORITY", stream_id, at)
        if PyBytes_GET_SIZE(payload) != 5:
            raise StreamError(
                FRAME_SIZE_ERROR, stream_id, f"PRIORITY frame of {len(payload)} bytes", at
            )
        priority = _priority_fields(_ptr(payload))
        if priority.depends_on == stream_id:
            raise StreamError(
                PROTOCOL_ERROR, stream_id, f"stream {stream_id} depends on itself", at
            )
        return PriorityFrame(stream_id, priority)

    cdef object _rst_stream(self, uint32_t stream_id, bytes payload, Py_ssize_t at):
        _on_stream("RST_STREAM", stream_id, at)
        if PyBytes_GET_SIZE(payload) != 4:
            raise FrameError(FRAME_SIZE_ERROR, f"RST_STREAM frame of {len(payload)} bytes", at)
        return RstStreamFrame(stream_id, _u32(_ptr(payload)))

    cdef object _settings(self, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
        cdef Py_ssize_t pos
        cdef const unsigned char* p = _ptr(payload)
        cdef int identifier
        cdef uint32_t value
        _on_connection("SETTINGS", stream_id, at)
        if flags & F_ACK:
            if n:
                raise FrameError(FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload", at)
            return SettingsFrame((), True)
        if n % 6:
            raise FrameError(FRAME_SIZE_ERROR, f"SETTINGS frame of {n} bytes (not 6 * n)", at)
        settings = []
        for pos in range(0, n, 6):
            identifier = (p[pos] << 8) | p[pos + 1]
            value = _u32(p + pos + 2)
            problem = settings_error(identifier, value)
            if problem is not None:
                raise FrameError(problem[0], problem[1], at)
            settings.append((identifier, value))
        return SettingsFrame(tuple(settings))

    cdef object _ping(self, int flags, uint32_t stream_id, bytes payload, Py_ssize_t at):
        _on_connection("PING", stream_id, at)
        if PyBytes_GET_SIZE(payload) != 8:
            raise FrameError(FRAME_SIZE_ERROR, f"PING frame of {len(payload)} bytes", at)
        return PingFrame(payload, bool(flags & F_ACK))

    cdef object _goaway(self, uint32_t stream_id, bytes payload, Py_ssize_t at):
        _on_connection("GOAWAY", stream_id, at)
        if PyBytes_GET_SIZE(payload) < 8:
            raise FrameError(FRAME_SIZE_ERROR, f"GOAWAY frame of {len(payload)} bytes", at)
        p = _ptr(payload)
        return GoAwayFrame(_u32(p) & STREAM_MASK, _u32(p + 4), payload[8:])

    cdef object _window_update(self, uint32_t stream_id, bytes payload, Py_ssize_t at):
        cdef uint32_t increment
        if PyBytes_GET_SIZE(payload) != 4:
            raise FrameError(FRAME_SIZE_ERROR, f"WINDOW_UPDATE frame of {len(payload)} bytes", at)
        increment = _u32(_ptr(payload)) & STREAM_MASK
        if increment == 0:
            if stream_id == 0:
                raise FrameError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection", at)
            raise StreamError(
                PROTOCOL_ERROR, stream_id, f"WINDOW_UPDATE of 0 on stream {stream_id}", at
            )
        return WindowUpdateFrame(stream_id, increment)


cdef void _check_preface_start(bytes head) except *:
    """Fail early on a peer that answers in HTTP/1.x (fewer than 9 bytes seen)."""
    if head.startswith(b"HTTP/"):
        raise FrameError(
            PROTOCOL_ERROR, "the peer does not speak HTTP/2: its reply starts with HTTP/", 0
        )


cdef void _on_stream(str name, uint32_t stream_id, Py_ssize_t at) except *:
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, f"{name} frame on stream 0", at)


cdef void _on_connection(str name, uint32_t stream_id, Py_ssize_t at) except *:
    if stream_id != 0:
        raise FrameError(PROTOCOL_ERROR, f"{name} frame on stream {stream_id}", at)


cdef int _unpad(
    str name, int flags, bytes payload, int fixed, Py_ssize_t at, Py_ssize_t* end
) except -2:
    """Store where the content ends in ``end``; return the pad length, -1 when the frame is
    not PADDED. ``fixed``: the bytes of mandatory fields after the Pad Length field."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
    cdef int pad
    if not flags & F_PADDED:
        if n < fixed:
            raise FrameError(FRAME_SIZE_ERROR, f"{name} frame too short", at)
        end[0] = n
        return -1
    if n < 1 + fixed:
        raise FrameError(FRAME_SIZE_ERROR, f"{name} frame too short", at)
    pad = _ptr(payload)[0]
    if pad > n - 1 - fixed:
        raise FrameError(PROTOCOL_ERROR, f"{name} padding is longer than the frame", at)
    end[0] = n - pad
    return pad


# Frames read per response are made without their dataclass ``__init__``: a Python-level
# call each, a measurable share of a small request's cost. ``object.__new__`` and the
# slot setters are C.
cdef object _object_new = object.__new__


cdef inline object _data_frame(uint32_t stream_id, object data, bint end, object pad):
    frame = _object_new(DataFrame)
    frame.stream_id = stream_id
    frame.data = data
    frame.end_stream = end
    frame.pad_length = pad
    return frame


cdef inline object _headers_frame(
    uint32_t stream_id, object block, bint end, object priority, object pad
):
    frame = _object_new(HeadersFrame)
    frame.stream_id = stream_id
    frame.block = block
    frame.end_stream = end
    frame.priority = priority
    frame.pad_length = pad
    return frame


cdef object _priority_fields(const unsigned char* p):
    cdef uint32_t dependency = _u32(p)
    return Priority(dependency & STREAM_MASK, p[4] + 1, bool(dependency >> 31))


cdef object _checked(frame, Py_ssize_t at):
    """A stream that depends on itself fails (RFC 9113 section 5.3.1); the frame travels
    with the error so that its block can still be decoded."""
    priority = frame.priority if isinstance(frame, HeadersFrame) else None
    if priority is not None and priority.depends_on == frame.stream_id:
        message = f"stream {frame.stream_id} depends on itself"
        raise StreamError(PROTOCOL_ERROR, frame.stream_id, message, at, frame)
    return frame


# -- writer ----------------------------------------------------------------------------


cdef bytes _pack(int ftype, int flags, uint32_t stream_id, const unsigned char* payload,
                 Py_ssize_t length):
    """Header and payload in one bytes object (one copy of the payload)."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, HEADER_SIZE + length)
    cdef unsigned char* p = <unsigned char*>PyBytes_AS_STRING(out)
    p[0] = <unsigned char>(length >> 16)
    p[1] = <unsigned char>(length >> 8)
    p[2] = <unsigned char>length
    p[3] = <unsigned char>ftype
    p[4] = <unsigned char>flags
    stream_id &= STREAM_MASK
    p[5] = <unsigned char>(stream_id >> 24)
    p[6] = <unsigned char>(stream_id >> 16)
    p[7] = <unsigned char>(stream_id >> 8)
    p[8] = <unsigned char>stream_id
    if length:
        memcpy(p + HEADER_SIZE, payload, length)
    return out


def frame_header(length, ftype, flags, stream_id):
    """The 9-byte frame header."""
    return (
        length.to_bytes(3, "big")
        + bytes((ftype, flags))
        + (stream_id & STREAM_MASK).to_bytes(4, "big")
    )


def raw_frame(ftype, flags, stream_id, payload):
    """Any frame, unchecked: for extension frames and for tests of faulty peers."""
    return frame_header(len(payload), ftype, flags, stream_id) + payload


cdef void _check_id(str name, stream_id) except *:
    if not 0 <= stream_id <= STREAM_MASK:
        raise ValueError(f"{name}: stream id {stream_id} out of range")


cdef void _check_stream(str name, stream_id, bint zero) except *:
    """``stream_id`` in range, and 0 exactly when ``zero``."""
    _check_id(name, stream_id)
    if zero and stream_id != 0:
        raise ValueError(f"{name} frames belong to stream 0")
    if not zero and stream_id == 0:
        raise ValueError(f"{name} frames need a stream id")


cdef tuple _padding(pad_length):
    """(Pad Length field, padding, PADDED flag)."""
    if pad_length is None:
        return b"", b"", 0
    if not 0 <= pad_length <= 255:
        raise ValueError(f"pad_length {pad_length} is not 0..255")
    return bytes((pad_length,)), bytes(pad_length), F_PADDED


cdef bytes _priority_bytes(priority):
    if not 1 <= priority.weight <= 256:
        raise ValueError(f"priority weight {priority.weight} is not 1..256")
    if not 0 <= priority.depends_on <= STREAM_MASK:
        raise ValueError(f"stream dependency {priority.depends_on} out of range")
    dependency = priority.depends_on | (0x80000000 if priority.exclusive else 0)
    return dependency.to_bytes(4, "big") + bytes((priority.weight - 1,))


cdef bytes _fitted(str name, payload, Py_ssize_t max_frame_size):
    cdef bytes data = bytes(payload)
    if PyBytes_GET_SIZE(data) > max_frame_size:
        raise ValueError(f"{name} payload of {len(data)} bytes exceeds {max_frame_size}")
    return data


cdef bytes _emit(int ftype, int flags, uint32_t stream_id, bytes payload):
    return _pack(ftype, flags, stream_id, _ptr(payload), PyBytes_GET_SIZE(payload))


cdef bytes _field_block(
    int ftype, int flags, uint32_t stream_id, bytes prefix, block, bytes suffix,
    Py_ssize_t max_frame_size,
):
    """HEADERS or PUSH_PROMISE (``prefix`` + block + ``suffix`` padding), followed by as
    many CONTINUATION frames as the block needs."""
    cdef bytes data = bytes(block)
    cdef Py_ssize_t room = max_frame_size - len(prefix) - len(suffix)
    cdef Py_ssize_t pos, n = PyBytes_GET_SIZE(data)
    if room < 0:
        raise ValueError("padding and priority leave no room for the header block")
    if n <= room:
        flags |= F_END_HEADERS
    out = [_emit(ftype, flags, stream_id, prefix + data[:room] + suffix)]
    pos = room
    while pos < n:
        out.append(_pack(T_CONTINUATION, F_END_HEADERS if pos + max_frame_size >= n else 0,
                          stream_id, _ptr(data) + pos, min(max_frame_size, n - pos)))
        pos += max_frame_size
    return b"".join(out)


def serialize(frame, max_frame_size=DEFAULT_MAX_FRAME_SIZE):
    """The bytes of ``frame`` (see ``_h2frames_py``)."""
    cdef Py_ssize_t limit = check_max_frame_size(max_frame_size)
    cdef int flags
    if isinstance(frame, DataFrame):
        _check_stream("DATA", frame.stream_id, False)
        field, padding, flags = _padding(frame.pad_length)
        payload = _fitted("DATA", field + frame.data + padding, limit)
        if frame.end_stream:
            flags |= F_END_STREAM
        return _emit(T_DATA, flags, frame.stream_id, payload)
    if isinstance(frame, HeadersFrame):
        _check_stream("HEADERS", frame.stream_id, False)
        field, padding, flags = _padding(frame.pad_length)
        if frame.end_stream:
            flags |= F_END_STREAM
        if frame.priority is not None:
            field += _priority_bytes(frame.priority)
            flags |= F_PRIORITY
        return _field_block(T_HEADERS, flags, frame.stream_id, field, frame.block, padding, limit)
    if isinstance(frame, PushPromiseFrame):
        _check_stream("PUSH_PROMISE", frame.stream_id, False)
        if not 0 < frame.promised_stream_id <= STREAM_MASK:
            raise ValueError(f"promised stream id {frame.promised_stream_id} out of range")
        field, padding, flags = _padding(frame.pad_length)
        field += frame.promised_stream_id.to_bytes(4, "big")
        return _field_block(
            T_PUSH_PROMISE, flags, frame.stream_id, field, frame.block, padding, limit
        )
    return _serialize_control(frame, limit)


cdef bytes _error_code(code):
    if not 0 <= code <= 0xFFFFFFFF:
        raise ValueError(f"error code {code} out of range")
    return int(code).to_bytes(4, "big")


cdef bytes _serialize_control(frame, Py_ssize_t limit):
    if isinstance(frame, SettingsFrame):
        _check_stream("SETTINGS", frame.stream_id, True)
        if frame.ack:
            if frame.settings:
                raise ValueError("a SETTINGS acknowledgement carries no settings")
            return _emit(T_SETTINGS, F_ACK, 0, b"")
        parts = []
        for identifier, value in frame.settings:
            if not 0 <= identifier <= 0xFFFF or not 0 <= value <= 0xFFFFFFFF:
                raise ValueError(f"setting {identifier}={value} out of range")
            problem = settings_error(identifier, value)
            if problem is not None:
                raise ValueError(problem[1])
            parts.append(identifier.to_bytes(2, "big") + value.to_bytes(4, "big"))
        return _emit(T_SETTINGS, 0, 0, _fitted("SETTINGS", b"".join(parts), limit))
    if isinstance(frame, PingFrame):
        _check_stream("PING", frame.stream_id, True)
        if len(frame.opaque_data) != 8:
            raise ValueError("PING carries exactly 8 bytes")
        return _emit(T_PING, F_ACK if frame.ack else 0, 0, bytes(frame.opaque_data))
    if isinstance(frame, GoAwayFrame):
        _check_stream("GOAWAY", frame.stream_id, True)
        if not 0 <= frame.last_stream_id <= STREAM_MASK:
            raise ValueError(f"last stream id {frame.last_stream_id} out of range")
        payload = (
            frame.last_stream_id.to_bytes(4, "big")
            + _error_code(frame.error_code)
            + frame.debug_data
        )
        return _emit(T_GOAWAY, 0, 0, _fitted("GOAWAY", payload, limit))
    if isinstance(frame, WindowUpdateFrame):
        _check_id("WINDOW_UPDATE", frame.stream_id)
        if not 1 <= frame.increment <= STREAM_MASK:
            raise ValueError(f"window increment {frame.increment} is not 1..2**31 - 1")
        return _emit(T_WINDOW_UPDATE, 0, frame.stream_id, frame.increment.to_bytes(4, "big"))
    return _serialize_stream_control(frame, limit)


cdef bytes _serialize_stream_control(frame, Py_ssize_t limit):
    if isinstance(frame, RstStreamFrame):
        _check_stream("RST_STREAM", frame.stream_id, False)
        return _emit(T_RST_STREAM, 0, frame.stream_id, _error_code(frame.error_code))
    if isinstance(frame, PriorityFrame):
        _check_stream("PRIORITY", frame.stream_id, False)
        return _emit(T_PRIORITY, 0, frame.stream_id, _priority_bytes(frame.priority))
    if isinstance(frame, ContinuationFrame):
        _check_stream("CONTINUATION", frame.stream_id, False)
        payload = _fitted("CONTINUATION", frame.block, limit)
        return _emit(
            T_CONTINUATION, F_END_HEADERS if frame.end_headers else 0, frame.stream_id, payload
        )
    if isinstance(frame, UnknownFrame):
        if not 0 <= frame.type <= 255 or not 0 <= frame.flags <= 255:
            raise ValueError("frame type and flags are single bytes")
        _check_id("extension", frame.stream_id)
        payload = _fitted("extension", frame.payload, limit)
        return _emit(frame.type, frame.flags, frame.stream_id, payload)
    raise TypeError(f"not an HTTP/2 frame: {frame!r}")
