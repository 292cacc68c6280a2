# cython: language_level=3
"""Compiled sans-IO HTTP/2 client connection (RFC 9113); twin of ``_h2_connection_py``.

The contract (API, states, events, the bytes queued for the peer, the errors and their
messages) is documented in ``_h2_connection_py``; this module must behave identically,
and ``tests/test_h2_connection.py`` runs both and checks that they agree. The difference:
the connection and its streams are ``cdef class`` objects whose windows and counters are C
integers, frames are dispatched on their type by pointer comparison, and DATA and
WINDOW_UPDATE frames are written straight into the output buffer.

A stream's bytes received and not yet acknowledged live in the stream while it is open
(``unconsumed``, -1 until its first DATA) and move to ``_closed_unconsumed`` when it
closes with some left: the pure twin keeps one dict for both, which ``_unconsumed``
rebuilds for tests.
"""

from cpython.buffer cimport (
    PyBUF_SIMPLE,
    PyBuffer_Release,
    PyObject_CheckBuffer,
    PyObject_GetBuffer,
)
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.tuple cimport PyTuple_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8String
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.stdint cimport int64_t, uint32_t
from libc.string cimport memcmp, memcpy

from types import MappingProxyType

from cyhttp import h2_frames, hpack
from cyhttp._h2_events import (
    ConnectionTerminated,
    DataReceived,
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
from cyhttp._h2_headers import (
    Malformed,
    outgoing_trailers,
    request_headers_for,
    strip_connection_headers,
)
from cyhttp._h2_headers import request_fields as _request_fields_py
from cyhttp._h2_headers import response_head as _response_head_py
from cyhttp._h2_headers import trailer_fields as _trailer_fields_py
from cyhttp._h2_models import (
    CONNECTION_PREFACE,
    DataFrame,
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
from cyhttp._h2_state import (
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
from cyhttp.h2_errors import ErrorCode, FrameError, HeaderListTooLarge, HTTP2Error, StreamError

__all__ = (
    "DEFAULT_HEADER_TABLE_SIZE",
    "DEFAULT_LOCAL_SETTINGS",
    "DEFAULT_WINDOW",
    "UNLIMITED",
    "ConnectionClosedError",
    "ConnectionTerminated",
    "DataReceived",
    "ErrorCode",
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

cdef enum:
    HEADER_SIZE = 9
    T_DATA = 0x0
    T_HEADERS = 0x1
    T_WINDOW_UPDATE = 0x8
    F_END_STREAM = 0x1
    F_END_HEADERS = 0x4
    S_HEADER_TABLE_SIZE = 0x1
    S_ENABLE_PUSH = 0x2
    S_MAX_CONCURRENT_STREAMS = 0x3
    S_INITIAL_WINDOW_SIZE = 0x4
    S_MAX_FRAME_SIZE = 0x5
    S_MAX_HEADER_LIST_SIZE = 0x6
    S_ENABLE_CONNECT_PROTOCOL = 0x8

cdef int64_t C_MAX_WINDOW = 0x7FFFFFFF
cdef int64_t C_MAX_STREAM_ID = 0x7FFFFFFF

# the classes compared by identity on the per-frame path (no module lookup there)
cdef object _DataFrame = DataFrame
cdef object _HeadersFrame = HeadersFrame
cdef object _RstStreamFrame = RstStreamFrame
cdef object _SettingsFrame = SettingsFrame
cdef object _PingFrame = PingFrame
cdef object _GoAwayFrame = GoAwayFrame
cdef object _WindowUpdateFrame = WindowUpdateFrame
cdef object _PushPromiseFrame = PushPromiseFrame
cdef object _PriorityFrame = PriorityFrame
cdef object _UnknownFrame = UnknownFrame
cdef object _DataReceived = DataReceived
cdef object _StreamEnded = StreamEnded
cdef object _WindowUpdated = WindowUpdated
cdef object _ResponseHeaders = ResponseHeaders

# The events of every response are made without their dataclass ``__init__`` (a
# Python-level call each, a measurable share of a small request); ``object.__new__`` and
# the slot setters are C.
cdef object _object_new = object.__new__


cdef inline object _data_received(object sid, object data, Py_ssize_t size):
    event = _object_new(_DataReceived)
    event.stream_id = sid
    event.data = data
    event.flow_controlled_length = size
    return event


cdef inline object _stream_ended(object sid):
    event = _object_new(_StreamEnded)
    event.stream_id = sid
    return event


cdef inline object _response_headers(object sid, object status, object headers, object length):
    event = _object_new(_ResponseHeaders)
    event.stream_id = sid
    event.status = status
    event.headers = headers
    event.content_length = length
    return event

cdef object PROTOCOL_ERROR = ErrorCode.PROTOCOL_ERROR
cdef object FLOW_CONTROL_ERROR = ErrorCode.FLOW_CONTROL_ERROR
cdef object STREAM_CLOSED = ErrorCode.STREAM_CLOSED
cdef object ENHANCE_YOUR_CALM = ErrorCode.ENHANCE_YOUR_CALM
cdef int C_STREAM_CLOSED = 0x5

cdef object _INITIAL_WINDOW_SIZE = int(SettingCode.INITIAL_WINDOW_SIZE)
cdef object _MAX_FRAME_SIZE = int(SettingCode.MAX_FRAME_SIZE)
cdef object _HEADER_TABLE_SIZE = int(SettingCode.HEADER_TABLE_SIZE)
cdef object _MAX_HEADER_LIST_SIZE = int(SettingCode.MAX_HEADER_LIST_SIZE)
cdef object _MAX_CONCURRENT_STREAMS = int(SettingCode.MAX_CONCURRENT_STREAMS)
cdef object _ENABLE_PUSH = int(SettingCode.ENABLE_PUSH)


# -- writing into the output buffer -------------------------------------------------------


cdef inline unsigned char* _grow(bytearray out, Py_ssize_t n) except NULL:
    """Make room for ``n`` more bytes at the end of ``out``; where they go."""
    cdef Py_ssize_t size = PyByteArray_GET_SIZE(out)
    PyByteArray_Resize(out, size + n)
    return <unsigned char*>PyByteArray_AS_STRING(out) + size


cdef inline void _put_header(
    unsigned char* p, Py_ssize_t length, int ftype, int flags, uint32_t stream_id
) noexcept:
    p[0] = <unsigned char>(length >> 16)
    p[1] = <unsigned char>(length >> 8)
    p[2] = <unsigned char>length
    p[3] = <unsigned char>ftype
    p[4] = <unsigned char>flags
    p[5] = <unsigned char>(stream_id >> 24)
    p[6] = <unsigned char>(stream_id >> 16)
    p[7] = <unsigned char>(stream_id >> 8)
    p[8] = <unsigned char>stream_id


cdef int _put_window_update(bytearray out, uint32_t stream_id, int64_t increment) except -1:
    cdef unsigned char* p = _grow(out, HEADER_SIZE + 4)
    _put_header(p, 4, T_WINDOW_UPDATE, 0, stream_id)
    p[9] = <unsigned char>(increment >> 24)
    p[10] = <unsigned char>(increment >> 16)
    p[11] = <unsigned char>(increment >> 8)
    p[12] = <unsigned char>increment
    return 0


cdef int _put_bytes(bytearray out, bytes data) except -1:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    if n:
        memcpy(_grow(out, n), PyBytes_AS_STRING(data), n)
    return 0


cdef int _put_data_frames(
    bytearray out, uint32_t stream_id, const unsigned char* data, Py_ssize_t size,
    Py_ssize_t max_frame, bint end,
) except -1:
    """DATA frames of at most ``max_frame`` bytes; END_STREAM on the last when ``end``
    (one empty frame when ``size`` is 0)."""
    cdef Py_ssize_t pos = 0, chunk, frames
    cdef unsigned char* p
    frames = (size + max_frame - 1) // max_frame if size else 1
    p = _grow(out, size + frames * HEADER_SIZE)
    while True:
        chunk = min(max_frame, size - pos)
        _put_header(
            p, chunk, T_DATA, F_END_STREAM if end and pos + chunk == size else 0, stream_id
        )
        if chunk:
            memcpy(p + HEADER_SIZE, data + pos, chunk)
        p += HEADER_SIZE + chunk
        pos += chunk
        if pos == size:
            return 0


# -- header rules ----------------------------------------------------------------------
#
# The RFC 9113 section 8 checks of ``_h2_headers``, as byte loops. Each fast function below
# accepts only what the pure rules accept, and hands anything else (a malformed field, a
# type other than str or bytes, a TE field, a host that disagrees...) to the pure function,
# which then gives the same result or raises the same error: the messages stay those of
# ``_h2_headers`` without being written twice.


cdef inline bint _name_ok(bytes name) noexcept:
    """Section 8.2.1: not empty; no control, space, upper case, DEL, non-ASCII nor colon."""
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(name)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(name)
    cdef unsigned char c
    if n == 0:
        return False
    for i in range(n):
        c = p[i]
        if c <= 0x20 or c >= 0x7F or c == 0x3A or 0x41 <= c <= 0x5A:
            return False
    return True


cdef inline bint _value_ok(bytes value) noexcept:
    """No NUL, CR or LF, and no space or tab at either end."""
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(value)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef unsigned char c
    if n == 0:
        return True
    if p[0] == 0x20 or p[0] == 0x09 or p[n - 1] == 0x20 or p[n - 1] == 0x09:
        return False
    for i in range(n):
        c = p[i]
        if c == 0 or c == 0x0D or c == 0x0A:
            return False
    return True


cdef inline bint _is(bytes name, const char* text, Py_ssize_t n) noexcept:
    return PyBytes_GET_SIZE(name) == n and memcmp(PyBytes_AS_STRING(name), text, n) == 0


cdef inline bint _plain_regular(bytes name) noexcept:
    """Not one of the fields the pure rules treat apart: the connection-specific ones
    (refused) and TE (checked against its value)."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(name)
    if n == 2:
        return not _is(name, b"te", 2)
    if n == 7:
        return not _is(name, b"upgrade", 7)
    if n == 10:
        return not (_is(name, b"connection", 10) or _is(name, b"keep-alive", 10))
    if n == 16:
        return not _is(name, b"proxy-connection", 16)
    if n == 17:
        return not _is(name, b"transfer-encoding", 17)
    return True


cdef int64_t _content_length_of(bytes value) noexcept:
    """The value of a Content-Length field whose comma-separated parts all agree and are
    1 to 18 digits (spaces and tabs around them allowed); -1 for anything else."""
    cdef Py_ssize_t i = 0, n = PyBytes_GET_SIZE(value), digits
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef int64_t found = -1, part
    while True:
        while i < n and (p[i] == 0x20 or p[i] == 0x09):
            i += 1
        part = 0
        digits = 0
        while i < n and 0x30 <= p[i] <= 0x39:
            part = part * 10 + (p[i] - 0x30)
            digits += 1
            i += 1
        if digits == 0 or digits > 18:
            return -1
        while i < n and (p[i] == 0x20 or p[i] == 0x09):
            i += 1
        if found >= 0 and part != found:
            return -1
        found = part
        if i == n:
            return found
        if p[i] != 0x2C:  # a comma
            return -1
        i += 1


cdef int _fields_state(list fields, Py_ssize_t start, int64_t* length) except -2:
    """1 when ``fields[start:]`` are regular fields the pure rules accept as they are (and
    store their Content-Length, or -1, in ``length``); 0 when the pure rules must decide."""
    cdef Py_ssize_t i, n = len(fields)
    cdef int64_t value_length
    length[0] = -1
    for i in range(start, n):
        field = fields[i]
        if type(field) is not tuple or PyTuple_GET_SIZE(field) != 2:
            return 0
        name = (<tuple>field)[0]
        value = (<tuple>field)[1]
        if type(name) is not bytes or type(value) is not bytes:
            return 0
        if not _name_ok(name) or not _plain_regular(name) or not _value_ok(value):
            return 0
        if _is(name, b"content-length", 14):
            value_length = _content_length_of(value)
            if value_length < 0 or (length[0] >= 0 and value_length != length[0]):
                return 0
            length[0] = value_length
    return 1


cdef tuple _response_head(fields):
    """``_h2_headers.response_head``."""
    cdef int64_t length
    cdef const unsigned char* p
    if type(fields) is not list or not fields:
        return _response_head_py(fields)
    first = fields[0]
    if type(first) is not tuple or PyTuple_GET_SIZE(first) != 2:
        return _response_head_py(fields)
    name = (<tuple>first)[0]
    raw = (<tuple>first)[1]
    if type(name) is not bytes or not _is(name, b":status", 7) or type(raw) is not bytes:
        return _response_head_py(fields)
    if PyBytes_GET_SIZE(raw) != 3:
        return _response_head_py(fields)
    p = <const unsigned char*>PyBytes_AS_STRING(raw)
    if not (0x31 <= p[0] <= 0x35 and 0x30 <= p[1] <= 0x39 and 0x30 <= p[2] <= 0x39):
        return _response_head_py(fields)
    status = (p[0] - 0x30) * 100 + (p[1] - 0x30) * 10 + (p[2] - 0x30)
    if status == 101 or not _fields_state(fields, 1, &length):
        return _response_head_py(fields)
    return status, fields[1:], (None if length < 0 else length)


cdef object _trailer_fields(fields):
    """``_h2_headers.trailer_fields``."""
    cdef int64_t length
    if type(fields) is list and _fields_state(fields, 0, &length):
        return fields
    return _trailer_fields_py(fields)


cdef bytes _field_bytes(value, bint lower):
    """A str (UTF-8) or bytes name or value, ASCII upper case lowered when ``lower``; None
    for any other type (the pure rules convert or refuse those)."""
    cdef bytes data
    cdef Py_ssize_t i, n
    cdef const unsigned char* p
    cdef unsigned char* q
    if type(value) is str:
        data = PyUnicode_AsUTF8String(value)
    elif type(value) is bytes:
        data = <bytes>value
    else:
        return None
    if not lower:
        return data
    n = PyBytes_GET_SIZE(data)
    p = <const unsigned char*>PyBytes_AS_STRING(data)
    for i in range(n):
        if 0x41 <= p[i] <= 0x5A:
            break
    else:
        return data
    lowered = PyBytes_FromStringAndSize(NULL, n)
    q = <unsigned char*>PyBytes_AS_STRING(lowered)
    for i in range(n):
        q[i] = p[i] + 0x20 if 0x41 <= p[i] <= 0x5A else p[i]
    return lowered


cdef bint _te_trailers(bytes value) noexcept:
    """``value.lower() == b"trailers"``."""
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef const char* want = b"trailers"
    cdef Py_ssize_t i
    if PyBytes_GET_SIZE(value) != 8:
        return False
    for i in range(8):
        if (p[i] | 0x20 if 0x41 <= p[i] <= 0x5A else p[i]) != <unsigned char>want[i]:
            return False
    return True


cdef int64_t _header_list_size(list fields) except -1:
    """A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it."""
    cdef int64_t size = 0
    for field in fields:
        size += len(field[0]) + len(field[1]) + 32
    return size


cdef tuple _request_fields(headers):
    """``_h2_headers.request_fields``."""
    cdef list items = headers if type(headers) is list else list(headers)
    cdef list regular = []
    cdef bytes name, value
    cdef object method = None, scheme = None, authority = None, path = None, host = None
    cdef bint same
    # the caller's pairs of the pseudo-headers, when they can be used as they are
    cdef object method_item = None, scheme_item = None, authority_item = None, path_item = None
    for item in items:
        if type(item) is not tuple or PyTuple_GET_SIZE(item) != 2:
            return _request_fields_py(items)
        name = _field_bytes((<tuple>item)[0], True)
        value = _field_bytes((<tuple>item)[1], False)
        if name is None or value is None or not _value_ok(value):
            return _request_fields_py(items)
        # already lower-case bytes: the caller's pair can go out as it is (no new tuple)
        same = name is (<tuple>item)[0] and value is (<tuple>item)[1]
        if PyBytes_GET_SIZE(name) and PyBytes_AS_STRING(name)[0] == 0x3A:
            if _is(name, b":method", 7) and method is None:
                method = value
                method_item = item if same else None
            elif _is(name, b":scheme", 7) and scheme is None:
                scheme = value
                scheme_item = item if same else None
            elif _is(name, b":authority", 10) and authority is None:
                authority = value
                authority_item = item if same else None
            elif _is(name, b":path", 5) and path is None:
                path = value
                path_item = item if same else None
            else:
                return _request_fields_py(items)
            continue
        if not _name_ok(name):
            return _request_fields_py(items)
        if not _plain_regular(name):
            if not (_is(name, b"te", 2) and _te_trailers(value)):
                return _request_fields_py(items)
        if _is(name, b"host", 4):
            host = value
            continue
        regular.append(item if same else (name, value))
    if host is not None:
        if authority is None:
            authority = host
            authority_item = None
        elif authority != host:
            return _request_fields_py(items)
    if not method:
        return _request_fields_py(items)
    if method == b"CONNECT":
        if scheme is not None or path is not None or authority is None:
            return _request_fields_py(items)
    elif not scheme or not path:
        return _request_fields_py(items)
    fields = [method_item or (b":method", method)]
    if scheme is not None:
        fields.append(scheme_item or (b":scheme", scheme))
    if authority is not None:
        fields.append(authority_item or (b":authority", authority))
    if path is not None:
        fields.append(path_item or (b":path", path))
    fields.extend(regular)
    return fields, method


def response_head(fields):
    """``_h2_headers.response_head``, compiled (exposed for the twin tests)."""
    return _response_head(fields)


def trailer_fields(fields):
    """``_h2_headers.trailer_fields``, compiled (exposed for the twin tests)."""
    return _trailer_fields(fields)


def request_fields(headers):
    """``_h2_headers.request_fields``, compiled (exposed for the twin tests)."""
    return _request_fields(headers)


# -- streams ------------------------------------------------------------------------------


cdef class _Stream:
    """One of our requests: its two halves, windows and response framing."""

    cdef object sid  # the id as the int the dicts and the events hold
    cdef uint32_t stream_id
    cdef bint local_ended
    cdef bint remote_ended
    cdef bint head  # a HEAD request: the response has no content
    cdef bint response_started  # the final (non-1xx) head arrived
    cdef bint body_allowed
    cdef int64_t send_window  # what we may still send (may go negative)
    cdef int64_t recv_window  # what the peer may still send
    cdef int64_t credit  # consumed bytes not yet returned in a WINDOW_UPDATE
    cdef int64_t content_length  # -1: the response has none
    cdef int64_t received  # body bytes, padding excluded
    cdef int64_t unconsumed  # received, not acknowledged; -1: no DATA yet

    def __cinit__(self, sid, int64_t send_window, int64_t recv_window, bint head):
        self.sid = sid
        self.stream_id = <uint32_t>sid
        self.send_window = send_window
        self.recv_window = recv_window
        self.head = head
        self.body_allowed = True
        self.content_length = -1
        self.unconsumed = -1


cdef inline _Stream _lookup(dict streams, object sid):
    """The open stream ``sid``, or None (no exception, no new reference to drop)."""
    cdef PyObject* found = PyDict_GetItem(streams, sid)
    if found is NULL:
        return None
    return <_Stream>found


# -- the connection -----------------------------------------------------------------------


cdef class H2Connection:
    """The client side of one HTTP/2 connection (see ``_h2_connection_py``).

    ``local_settings``, ``connection_window``, ``max_header_block_size``,
    ``max_closed_streams`` and ``max_idle_frames`` mean what they mean in the pure twin.
    ``frame_codec`` and ``hpack_codec`` are the codec modules in use (the selected twins);
    a subclass may name others (tests drive both twins this way).
    """

    frame_codec = h2_frames
    hpack_codec = hpack

    cdef dict _local
    cdef dict _peer
    cdef dict _streams  # stream id -> _Stream
    cdef dict _closed  # stream id -> late frames are ignored (we reset it)
    cdef dict _closed_unconsumed  # closed stream id -> bytes still to acknowledge
    cdef bytearray _out
    cdef object _reader
    cdef object _next_frame_of  # the reader's next_frame
    cdef object _serialize
    cdef object _decoder
    cdef object _encoder
    cdef object _goaway_last_obj  # the peer's GOAWAY last stream id, or None
    cdef Py_ssize_t _max_closed
    cdef int64_t _connection_window
    cdef public int64_t _next_stream_id
    cdef int64_t _send_window  # connection: what we may still send
    cdef public int64_t _recv_window  # connection: what the peer may still send
    cdef public int64_t _credit  # connection: consumed bytes not yet returned
    cdef int64_t _settings_pending  # our SETTINGS frames not acknowledged yet
    cdef int64_t _ping_counter
    cdef int64_t _idle_frames  # frames in a row that carried nothing for the caller
    cdef int64_t _max_idle_frames
    cdef int64_t _local_initial_window
    cdef int64_t _peer_initial_window
    cdef int64_t _peer_max_frame_size
    cdef int64_t _peer_max_concurrent
    cdef int64_t _peer_max_header_list
    # the last request head as given, and what it became (see _request_head)
    cdef list _last_headers
    cdef list _last_fields
    cdef object _last_method
    cdef int64_t _last_list_size
    cdef bint _initiated
    cdef bint _terminated  # the peer broke the protocol: we sent GOAWAY
    cdef bint _goaway_sent

    def __init__(
        self,
        local_settings=None,
        *,
        connection_window=1 << 20,
        max_header_block_size=262144,
        max_closed_streams=1024,
        max_idle_frames=10000,
    ):
        self._local = local = check_local_settings(local_settings)
        if not DEFAULT_WINDOW <= connection_window <= C_MAX_WINDOW:
            raise ValueError("connection_window must be from 65535 to 2**31 - 1")
        self._peer = dict(PEER_DEFAULTS)
        self._connection_window = connection_window
        frame_codec = self.frame_codec
        self._serialize = frame_codec.serialize
        self._reader = frame_codec.FrameReader(
            max_frame_size=local[_MAX_FRAME_SIZE],
            max_header_block_size=max_header_block_size,
            coalesce_data=True,
        )
        self._next_frame_of = self._reader.next_frame
        codec = self.hpack_codec
        self._decoder = codec.Decoder(local[_HEADER_TABLE_SIZE], local[_MAX_HEADER_LIST_SIZE])
        self._encoder = codec.Encoder(DEFAULT_HEADER_TABLE_SIZE)
        self._out = bytearray()
        self._streams = {}
        self._closed = {}
        self._closed_unconsumed = {}
        self._max_closed = max(1, max_closed_streams)
        self._next_stream_id = 1
        self._send_window = DEFAULT_WINDOW
        self._recv_window = DEFAULT_WINDOW
        self._credit = 0
        self._settings_pending = 0
        self._initiated = False
        self._terminated = False
        self._goaway_sent = False
        self._goaway_last_obj = None
        self._ping_counter = 0
        self._idle_frames = 0
        self._max_idle_frames = max_idle_frames
        self._local_initial_window = local[_INITIAL_WINDOW_SIZE]
        self._load_peer_settings()

    cdef void _load_peer_settings(self):
        """The peer settings read on the hot paths, as C integers."""
        peer = self._peer
        self._peer_initial_window = peer[_INITIAL_WINDOW_SIZE]
        self._peer_max_frame_size = peer[_MAX_FRAME_SIZE]
        self._peer_max_concurrent = peer[_MAX_CONCURRENT_STREAMS]
        self._peer_max_header_list = peer[_MAX_HEADER_LIST_SIZE]

    # -- state ---------------------------------------------------------------------------

    @property
    def _unconsumed(self):
        """Stream id -> bytes received and not acknowledged yet (as the pure twin keeps
        them; for tests)."""
        result = {}
        cdef _Stream stream
        for stream in self._streams.values():
            if stream.unconsumed >= 0:
                result[stream.sid] = stream.unconsumed
        result.update(self._closed_unconsumed)
        return result

    @property
    def local_settings(self):
        """What we advertise (identifier -> value, read-only)."""
        return MappingProxyType(self._local)

    @property
    def peer_settings(self):
        """The peer's settings as they apply now: the RFC 9113 defaults until its SETTINGS
        arrive (MAX_CONCURRENT_STREAMS and MAX_HEADER_LIST_SIZE: 2**32, unlimited)."""
        return MappingProxyType(self._peer)

    @property
    def peer_max_concurrent_streams(self):
        """``peer_settings[MAX_CONCURRENT_STREAMS]``, without building the mapping."""
        return self._peer_max_concurrent

    @property
    def settings_acknowledged(self):
        """Whether the peer acknowledged all our SETTINGS."""
        return self._initiated and not self._settings_pending

    @property
    def open_stream_count(self):
        """Our streams not closed yet (what SETTINGS_MAX_CONCURRENT_STREAMS counts)."""
        return len(self._streams)

    @property
    def open_stream_ids(self):
        """Our streams not closed yet, oldest first."""
        return tuple(self._streams)

    @property
    def is_closed(self):
        """True once the connection failed, or a GOAWAY was sent or received and no stream
        is left."""
        if self._terminated:
            return True
        return (self._goaway_sent or self._goaway_last_obj is not None) and not self._streams

    def can_open_stream(self):
        """Whether ``send_request`` may open a stream now."""
        return self._can_open_stream()

    cdef bint _can_open_stream(self):
        if self._terminated or self._goaway_sent or self._goaway_last_obj is not None:
            return False
        if self._next_stream_id > C_MAX_STREAM_ID:
            return False
        return len(self._streams) < self._peer_max_concurrent

    def stream_state(self, stream_id):
        """Where ``stream_id`` is in its life (section 5.1)."""
        cdef _Stream stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id % 2 and stream_id < self._next_stream_id:
                return StreamState.CLOSED
            return StreamState.IDLE
        if stream.local_ended:
            return StreamState.HALF_CLOSED_LOCAL
        if stream.remote_ended:
            return StreamState.HALF_CLOSED_REMOTE
        return StreamState.OPEN

    def local_flow_control_window(self, stream_id):
        """How many body bytes ``send_data`` would accept on ``stream_id`` right now."""
        cdef _Stream stream = self._sendable(stream_id)
        return max(0, min(self._send_window, stream.send_window))

    @property
    def max_outbound_frame_size(self):
        """The peer's SETTINGS_MAX_FRAME_SIZE."""
        return self._peer[_MAX_FRAME_SIZE]

    def data_to_send(self):
        """Everything queued for the peer since the last call."""
        out = bytes(self._out)
        del self._out[:]
        return out

    # -- sending -------------------------------------------------------------------------

    def initiate(self):
        """Start the connection: returns (and dequeues) the preface, our SETTINGS and the
        WINDOW_UPDATE that grows the connection window (section 3.4)."""
        cdef int64_t increment
        if self._initiated:
            raise H2UsageError("the connection is already initiated")
        self._initiated = True
        defaults = {**PEER_DEFAULTS, _ENABLE_PUSH: 1}
        settings = tuple(
            (identifier, value)
            for identifier, value in self._local.items()
            if defaults.get(identifier) != value
        )
        _put_bytes(self._out, CONNECTION_PREFACE)
        _put_bytes(self._out, self._serialize(SettingsFrame(settings)))
        self._settings_pending += 1
        if self._connection_window > DEFAULT_WINDOW:
            increment = self._connection_window - DEFAULT_WINDOW
            _put_window_update(self._out, 0, increment)
            self._recv_window += increment
        return self.data_to_send()

    cdef int _check_sending(self) except -1:
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        if self._terminated:
            raise ConnectionClosedError("the connection failed")
        return 0

    def send_request(self, headers, end_stream=False):
        """Open a stream with the request head ``headers`` and return its id (see the pure
        twin for the rules)."""
        cdef _Stream stream
        cdef int64_t size
        self._check_sending()
        if not self._can_open_stream():
            if self._goaway_sent or self._goaway_last_obj is not None:
                raise ConnectionClosedError("the connection is going away: open a new one")
            raise NoAvailableStreamError("no stream is available on this connection now")
        if type(headers) is list and headers == self._last_headers:
            fields = self._last_fields  # the same head as the last request: checked then
            method = self._last_method
            size = self._last_list_size
        else:
            fields, method, size = self._request_head(headers)
        self._check_header_list_size(size)
        sid = self._next_stream_id
        self._next_stream_id += 2
        stream = _Stream(
            sid, self._peer_initial_window, self._local_initial_window, method == b"HEAD"
        )
        self._streams[sid] = stream
        self._idle_frames = 0
        self._grow_connection_window()
        self._send_headers(stream, fields, end_stream)
        return sid

    cdef int _grow_connection_window(self) except -1:
        """Keep the connection window at least twice the open streams' windows (see the
        pure twin for why)."""
        cdef int64_t need = 2 * len(self._streams) * self._local_initial_window
        cdef int64_t increment
        if need > C_MAX_WINDOW:
            need = C_MAX_WINDOW
        if need > self._connection_window:
            increment = need - self._connection_window
            self._connection_window = need
            self._recv_window += increment
            _put_window_update(self._out, 0, increment)
        return 0

    cdef tuple _request_head(self, headers):
        """The checked fields of a request head, its method and its header list size,
        remembered with a copy of ``headers``: a client sends the same head again and
        again, and a list compare of the same objects costs far less than checking every
        field again."""
        fields, method = _request_fields(headers)
        size = _header_list_size(fields)
        if type(headers) is list:
            self._last_headers = list(headers)
        else:
            self._last_headers = None
        self._last_fields = fields
        self._last_method = method
        self._last_list_size = size
        return fields, method, size

    cdef int _check_header_list_size(self, int64_t size) except -1:
        """The peer's SETTINGS_MAX_HEADER_LIST_SIZE is advisory, but a larger list would
        only be refused: fail it here."""
        if size > self._peer_max_header_list:
            raise ValueError(
                f"the header list ({size} bytes) is larger than the peer's "
                f"{self._peer[_MAX_HEADER_LIST_SIZE]}"
            )
        return 0

    cdef int _send_headers(self, _Stream stream, list fields, bint end) except -1:
        """The header block of ``fields`` as HEADERS (and CONTINUATION when it is larger
        than the peer's frame size); a block that fits one frame is written straight into
        the output, with no frame object."""
        cdef Py_ssize_t n
        cdef int flags
        cdef unsigned char* p
        block = self._encoder.encode(fields)
        if type(block) is bytes and PyBytes_GET_SIZE(block) <= self._peer_max_frame_size:
            n = PyBytes_GET_SIZE(block)
            p = _grow(self._out, HEADER_SIZE + n)
            flags = F_END_HEADERS | F_END_STREAM if end else F_END_HEADERS
            _put_header(p, n, T_HEADERS, flags, stream.stream_id)
            memcpy(p + HEADER_SIZE, PyBytes_AS_STRING(block), n)
        else:
            frame = HeadersFrame(stream.sid, block, end)
            _put_bytes(self._out, self._serialize(frame, self._peer_max_frame_size))
        if end:
            self._local_end(stream)
        return 0

    cdef _Stream _sendable(self, stream_id):
        cdef _Stream stream = _lookup(self._streams, stream_id)
        if stream is None:
            raise StreamClosedError(stream_id, f"stream {stream_id} is not open")
        if stream.local_ended:
            raise StreamClosedError(stream_id, f"stream {stream_id} already ended its request")
        return stream

    def send_data(self, stream_id, data, bint end_stream=False):
        """Send as much of ``data`` as the flow-control windows allow; returns how many
        bytes were taken (see the pure twin)."""
        cdef _Stream stream
        cdef int64_t size, taken
        cdef bint end
        self._check_sending()
        stream = self._sendable(stream_id)
        size = len(data)
        taken = min(size, self._send_window, stream.send_window)
        if taken < 0:
            taken = 0
        end = end_stream and taken == size
        if taken or end:
            self._idle_frames = 0
            self._write_data(stream, data, taken, end)
        self._send_window -= taken
        stream.send_window -= taken
        if end:
            self._local_end(stream)
        return taken

    cdef int _write_data(self, _Stream stream, data, int64_t taken, bint end) except -1:
        """The first ``taken`` bytes of ``data`` as DATA frames (only the buffer protocol
        is used: bytes, bytearray, memoryview...)."""
        cdef Py_buffer view
        if not PyObject_CheckBuffer(data):
            memoryview(data)  # the pure twin's TypeError, word for word
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if view.len < taken:
                raise ValueError("send_data takes bytes-like objects of single bytes")
            _put_data_frames(
                self._out, stream.stream_id, <const unsigned char*>view.buf, taken,
                self._peer_max_frame_size, end,
            )
        finally:
            PyBuffer_Release(&view)
        return 0

    def end_stream(self, stream_id):
        """End the request body (an empty DATA frame with END_STREAM)."""
        self.send_data(stream_id, b"", end_stream=True)

    def send_trailers(self, stream_id, headers):
        """End the request with trailer fields (no pseudo-headers, names lower-cased)."""
        self._check_sending()
        stream = self._sendable(stream_id)
        fields = outgoing_trailers(headers)
        self._check_header_list_size(_header_list_size(fields))
        self._send_headers(stream, fields, True)

    def reset_stream(self, stream_id, error_code=ErrorCode.CANCEL):
        """Abandon ``stream_id`` (RST_STREAM); a closed stream is left alone."""
        cdef _Stream stream
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        stream = self._streams.get(stream_id)
        if stream is not None:
            self._reset(stream, int(error_code))
        elif self.stream_state(stream_id) == StreamState.IDLE:
            raise StreamClosedError(stream_id, f"stream {stream_id} was never opened")

    def ping(self, data=None):
        """Send a PING; returns its 8 bytes, which the :class:`PingAcked` will carry."""
        self._check_sending()
        if data is None:
            self._ping_counter += 1
            data = self._ping_counter.to_bytes(8, "big")
        if len(data) != 8:
            raise ValueError("PING data is exactly 8 bytes")
        _put_bytes(self._out, self._serialize(PingFrame(bytes(data))))
        return bytes(data)

    def close(self, error_code=ErrorCode.NO_ERROR, debug_data=b""):
        """Send GOAWAY: no new streams; those open may still finish."""
        if not self._initiated:
            raise H2UsageError("initiate() the connection first")
        if self._terminated:
            return
        # a client accepts no stream from the server: the last one it processed is 0
        _put_bytes(self._out, self._serialize(GoAwayFrame(0, int(error_code), bytes(debug_data))))
        self._goaway_sent = True

    def acknowledge_received_data(self, stream_id, size):
        """The reader consumed ``size`` bytes of ``stream_id``'s body: let the peer send
        that much more (see the pure twin)."""
        cdef _Stream stream
        cdef int64_t n, left
        if size < 0:
            raise ValueError("the acknowledged size cannot be negative")
        stream = _lookup(self._streams, stream_id)
        if stream is not None:
            left = stream.unconsumed
        else:
            found = self._closed_unconsumed.get(stream_id)
            left = -1 if found is None else found
        if left < 0 or size == 0 or self._terminated:
            return  # the stream was reset: its bytes were already returned
        if size > left:
            raise ValueError(f"only {left} bytes of stream {stream_id} await acknowledgement")
        n = size
        left -= n
        if stream is not None:
            stream.unconsumed = left
            self._credit_stream(stream, n)
        elif left:
            self._closed_unconsumed[stream_id] = left
        else:
            del self._closed_unconsumed[stream_id]
        self._credit_connection(n)

    cdef int _credit_connection(self, int64_t size) except -1:
        self._credit += size
        if self._credit >= self._connection_window // 2:
            _put_window_update(self._out, 0, self._credit)
            self._recv_window += self._credit
            self._credit = 0
        return 0

    cdef int _credit_stream(self, _Stream stream, int64_t size) except -1:
        if stream.remote_ended:
            return 0
        stream.credit += size
        if stream.credit >= self._local_initial_window // 2:
            _put_window_update(self._out, stream.stream_id, stream.credit)
            stream.recv_window += stream.credit
            stream.credit = 0
        return 0

    # -- stream life ---------------------------------------------------------------------

    cdef int _local_end(self, _Stream stream) except -1:
        stream.local_ended = True
        if stream.remote_ended:
            self._forget(stream, False)
        return 0

    cdef int _remote_end(self, _Stream stream, list events) except -1:
        stream.remote_ended = True
        events.append(_stream_ended(stream.sid))
        if stream.local_ended:
            self._forget(stream, False)
        return 0

    cdef int _forget(self, _Stream stream, bint ignore_late) except -1:
        """Close ``stream``. ``ignore_late``: frames the peer sent before it learnt of the
        close may still come and are dropped (we reset it); otherwise a DATA or HEADERS
        frame on it is answered with STREAM_CLOSED."""
        sid = stream.sid
        del self._streams[sid]
        closed = self._closed
        closed[sid] = ignore_late
        if len(closed) > self._max_closed:
            for oldest in closed:
                break
            del closed[oldest]
        if stream.unconsumed > 0:
            self._closed_unconsumed[sid] = stream.unconsumed
        return 0

    cdef int _drop_unconsumed(self, sid) except -1:
        """A reset stream's unread bytes will never be acknowledged: return them now."""
        left = self._closed_unconsumed.pop(sid, 0)
        if left:
            self._credit_connection(left)
        return 0

    cdef int _reset(self, _Stream stream, error_code) except -1:
        _put_bytes(self._out, self._serialize(RstStreamFrame(stream.sid, error_code)))
        self._forget(stream, True)
        self._drop_unconsumed(stream.sid)
        return 0

    # -- receiving -----------------------------------------------------------------------

    def receive_data(self, data):
        """Process bytes from the peer; returns what happened, in order. Answers (acks,
        resets, GOAWAY) are queued for :meth:`data_to_send`."""
        cdef list events
        if self._terminated or not data:
            return []
        events = []
        self._reader.feed(data)
        next_frame = self._next_frame_of
        try:
            while True:
                try:
                    frame = next_frame()
                    if frame is None:
                        break
                    self._dispatch(frame, events)
                except StreamError as exc:
                    self._on_stream_error(exc, events)
        except HTTP2Error as exc:  # FrameError or HPACKError: the connection is over
            self._terminate(exc, events)
        return events

    cdef int _dispatch(self, frame, list events) except -1:
        kind = type(frame)
        if kind is _DataFrame:
            return self._on_data(frame, events)
        if kind is _HeadersFrame:
            return self._on_headers(frame, events)
        if kind is _WindowUpdateFrame:
            return self._on_window_update(frame, events)
        if kind is _SettingsFrame:
            return self._on_settings(frame, events)
        if kind is _PingFrame:
            return self._on_ping(frame, events)
        if kind is _RstStreamFrame:
            return self._on_rst_stream(frame, events)
        if kind is _GoAwayFrame:
            return self._on_goaway(frame, events)
        if kind is _PushPromiseFrame:
            raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE received although push is disabled")
        if kind is _PriorityFrame or kind is _UnknownFrame:
            return self._idle()  # section 5.3.2 and section 5.5: ignored
        raise KeyError(kind)

    cdef int _terminate(self, exc, list events) except -1:
        code = int(exc.error_code)
        debug = str(exc).encode("utf-8", "replace")[:256]
        _put_bytes(self._out, self._serialize(GoAwayFrame(0, code, debug)))
        self._terminated = True
        self._goaway_sent = True
        open_streams = tuple(self._streams)
        self._streams.clear()
        self._closed_unconsumed.clear()
        events.append(ConnectionTerminated(code, exc, open_streams))
        return 0

    cdef int _on_stream_error(self, exc, list events) except -1:
        """Reset the stream (when it is ours and open) and report it."""
        cdef _Stream stream
        frame = exc.frame
        stream_id = exc.stream_id
        if isinstance(frame, HeadersFrame):  # keep HPACK in step even so
            self._check_not_idle(stream_id, "HEADERS")
            self._decode_quietly(frame.block)
        stream = self._streams.get(stream_id)
        if stream is None:
            if self._closed.get(stream_id) is False and exc.error_code == C_STREAM_CLOSED:
                _put_bytes(self._out, self._serialize(RstStreamFrame(stream_id, STREAM_CLOSED)))
            return 0
        self._reset(stream, int(exc.error_code))
        events.append(StreamReset(stream_id, int(exc.error_code), False, exc))
        return 0

    cdef int _check_not_idle(self, stream_id, str what) except -1:
        """A frame other than PRIORITY on a stream we never opened is a connection error
        (section 5.1); even ids would be the server's, and we accept none."""
        if stream_id % 2 == 0 or stream_id >= self._next_stream_id:
            raise FrameError(PROTOCOL_ERROR, f"{what} frame on idle stream {stream_id}")
        return 0

    cdef int _late_frame(self, stream_id, str what) except -1:
        """DATA or HEADERS on a closed stream: dropped if we reset it (or forgot it), a
        STREAM_CLOSED stream error if it ended."""
        self._check_not_idle(stream_id, what)
        self._idle()
        if self._closed.get(stream_id) is False:
            raise StreamError(STREAM_CLOSED, stream_id, f"{what} frame on closed stream")
        return 0

    cdef int _decode_quietly(self, block) except -1:
        try:
            self._decoder.decode(block)
        except HeaderListTooLarge:
            pass
        return 0

    cdef int _idle(self) except -1:
        """Count a frame that brought the caller nothing (see ``max_idle_frames``)."""
        self._idle_frames += 1
        if self._idle_frames > self._max_idle_frames:
            raise FrameError(
                ENHANCE_YOUR_CALM,
                f"more than {self._max_idle_frames} frames in a row without any content",
            )
        return 0

    cdef int _on_data(self, frame, list events) except -1:
        cdef _Stream stream
        cdef Py_ssize_t size
        cdef int64_t flow, padding
        cdef bint end
        sid = frame.stream_id
        data = frame.data
        pad_length = frame.pad_length
        size = len(data)
        flow = size
        if pad_length is not None:
            flow += <int64_t>pad_length + 1
        if flow > self._recv_window:
            raise FrameError(FLOW_CONTROL_ERROR, "DATA beyond the connection's flow window")
        self._recv_window -= flow
        stream = _lookup(self._streams, sid)
        if stream is None or stream.remote_ended:
            self._credit_connection(flow)  # nobody will read it
            if stream is None:
                return self._late_frame(sid, "DATA")
            raise StreamError(STREAM_CLOSED, sid, "DATA after the end of the response")
        end = frame.end_stream
        try:
            self._check_body(stream, size, flow, end)
        except StreamError:
            self._credit_connection(flow)
            raise
        stream.recv_window -= flow
        padding = flow - size
        if padding:  # padding is nobody's to read: return it at once
            self._credit_connection(padding)
            self._credit_stream(stream, padding)
        if size:
            self._idle_frames = 0
            if stream.unconsumed < 0:
                stream.unconsumed = size
            else:
                stream.unconsumed += size
            events.append(_data_received(sid, data, size))
        elif not end:
            self._idle()
        if end:
            self._remote_end(stream, events)
        return 0

    cdef int _check_body(self, _Stream stream, int64_t size, int64_t flow, bint end) except -1:
        """Flow control and framing of one DATA frame (sections 6.9.1 and 8.1.1)."""
        cdef int64_t expected, total
        if flow > stream.recv_window:
            raise StreamError(
                FLOW_CONTROL_ERROR, stream.sid, "DATA beyond the stream's window"
            )
        if not stream.response_started:
            raise StreamError(PROTOCOL_ERROR, stream.sid, "DATA before the response head")
        if size and not stream.body_allowed:
            raise StreamError(
                PROTOCOL_ERROR, stream.sid, "content in a response that has none"
            )
        expected = stream.content_length
        if expected >= 0 and stream.body_allowed:
            total = stream.received + size
            if total > expected or (end and total != expected):
                raise StreamError(
                    PROTOCOL_ERROR,
                    stream.sid,
                    f"the body length does not match content-length {expected}",
                )
        stream.received += size
        return 0

    cdef int _on_headers(self, frame, list events) except -1:
        cdef _Stream stream
        sid = frame.stream_id
        stream = _lookup(self._streams, sid)
        if stream is None:
            self._check_not_idle(sid, "HEADERS")
            self._decode_quietly(frame.block)
            return self._late_frame(sid, "HEADERS")
        self._idle_frames = 0
        try:
            fields = self._decoder.decode(frame.block)
        except HeaderListTooLarge as exc:
            raise StreamError(exc.error_code, sid, str(exc)) from None
        if stream.remote_ended:
            raise StreamError(STREAM_CLOSED, sid, "HEADERS after the end of the response")
        try:
            if stream.response_started:
                self._on_trailers(stream, frame.end_stream, fields, events)
            else:
                self._on_response_head(stream, frame.end_stream, fields, events)
        except Malformed as exc:
            raise StreamError(PROTOCOL_ERROR, sid, str(exc)) from None
        return 0

    cdef int _on_response_head(
        self, _Stream stream, bint end, fields, list events
    ) except -1:
        cdef bint body_allowed
        status, headers, length = _response_head(fields)
        if status < 200:
            if end:
                raise Malformed("an informational response cannot end the stream")
            events.append(InformationalResponse(stream.sid, status, headers))
            return 0
        body_allowed = not stream.head and status != 204 and status != 304
        if end and body_allowed and length:
            raise Malformed(f"the response ended without the {length} bytes of content-length")
        stream.response_started = True
        stream.body_allowed = body_allowed
        stream.content_length = -1 if length is None else length
        events.append(_response_headers(stream.sid, status, headers, length))
        if end:
            self._remote_end(stream, events)
        return 0

    cdef int _on_trailers(self, _Stream stream, bint end, fields, list events) except -1:
        cdef int64_t expected
        if not end:
            raise Malformed("a second header block that does not end the stream")
        headers = _trailer_fields(fields)
        expected = stream.content_length
        if expected >= 0 and stream.body_allowed and stream.received != expected:
            raise Malformed(f"the body length does not match content-length {expected}")
        events.append(TrailersReceived(stream.sid, headers))
        self._remote_end(stream, events)
        return 0

    cdef int _on_rst_stream(self, frame, list events) except -1:
        cdef _Stream stream
        sid = frame.stream_id
        stream = _lookup(self._streams, sid)
        if stream is None:
            self._check_not_idle(sid, "RST_STREAM")
            return self._idle()
        self._forget(stream, False)
        self._drop_unconsumed(sid)
        events.append(StreamReset(sid, frame.error_code, True))
        return 0

    cdef int _on_window_update(self, frame, list events) except -1:
        cdef _Stream stream
        cdef int64_t increment
        self._idle()  # the count starts again when we send body bytes
        sid = frame.stream_id
        increment = frame.increment
        if not sid:
            if self._send_window + increment > C_MAX_WINDOW:
                raise FrameError(FLOW_CONTROL_ERROR, "the connection window exceeds 2**31 - 1")
            self._send_window += increment
            events.append(_WindowUpdated(0, increment))
            return 0
        stream = _lookup(self._streams, sid)
        if stream is None:
            return self._check_not_idle(sid, "WINDOW_UPDATE")
        if stream.send_window + increment > C_MAX_WINDOW:
            raise StreamError(
                FLOW_CONTROL_ERROR, sid, f"the window of stream {sid} exceeds 2**31-1"
            )
        stream.send_window += increment
        if not stream.local_ended:
            events.append(_WindowUpdated(sid, increment))
        return 0

    cdef int _on_ping(self, frame, list events) except -1:
        opaque = frame.opaque_data
        if frame.ack:
            events.append(PingAcked(opaque))
            return 0
        self._idle()
        _put_bytes(self._out, self._serialize(PingFrame(opaque, True)))
        events.append(PingReceived(opaque))
        return 0

    cdef int _on_settings(self, frame, list events) except -1:
        if frame.ack:
            if self._settings_pending:
                self._settings_pending -= 1
            events.append(SettingsAcked())
            return 0
        self._idle()
        changed = {}
        for identifier, value in frame.settings:
            if identifier in PEER_DEFAULTS or identifier == S_ENABLE_CONNECT_PROTOCOL:
                self._apply_setting(identifier, value, events)
                changed[identifier] = value
        _put_bytes(self._out, self._serialize(SettingsFrame(ack=True)))
        events.append(SettingsChanged(changed))
        return 0

    cdef int _apply_setting(self, identifier, value, list events) except -1:
        if identifier == S_ENABLE_PUSH and value:
            raise FrameError(PROTOCOL_ERROR, "a server cannot set SETTINGS_ENABLE_PUSH to 1")
        if identifier == S_HEADER_TABLE_SIZE:
            self._encoder.header_table_size = value
        elif identifier == S_INITIAL_WINDOW_SIZE:
            self._change_initial_window(value, events)
        self._peer[identifier] = value
        self._load_peer_settings()
        return 0

    cdef int _change_initial_window(self, int64_t value, list events) except -1:
        """Section 6.9.2: every stream's send window moves by the difference (and may go
        negative); one above 2**31 - 1 is a connection error."""
        cdef _Stream stream
        cdef int64_t delta = value - self._peer_initial_window
        if not delta:
            return 0
        for stream in self._streams.values():
            if stream.send_window + delta > C_MAX_WINDOW:
                raise FrameError(FLOW_CONTROL_ERROR, "a stream window exceeds 2**31 - 1")
        for stream in self._streams.values():
            stream.send_window += delta
            if delta > 0 and not stream.local_ended:
                events.append(_WindowUpdated(stream.sid, delta))
        return 0

    cdef int _on_goaway(self, frame, list events) except -1:
        last = frame.last_stream_id
        if self._goaway_last_obj is not None:
            last = min(last, self._goaway_last_obj)  # it may only go down
        self._goaway_last_obj = last
        unprocessed = tuple(sorted(sid for sid in self._streams if sid > last))
        for sid in unprocessed:
            self._forget(self._streams[sid], True)
            self._drop_unconsumed(sid)
        events.append(GoAway(last, frame.error_code, frame.debug_data, unprocessed))
        return 0
