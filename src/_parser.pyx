# cython: language_level=3
"""Compiled HTTP/1.1 response parser (RFC 9112); twin of ``_parser_py.py``.

The contract (API, framing, strictness, errors) is documented in ``_parser_py``; this
module must behave identically, byte for byte. The difference is where the work happens:
every per-byte scan here is a C loop over the bytes buffer with 256-entry lookup tables,
and Python objects are created only once per header field (the ``(name, value)`` pair)
and once per message (the :class:`ResponseHead`, the body slices).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp

from multidict cimport (
    CIMultiDict_New,
    CIMultiDictProxy_New,
    MultiDict_Add,
    MultiDict_CAPI,
    MultiDict_GetCAPI,
)

from multidict import istr

from cyhttp._models import HttpVersion10, HttpVersion11, ResponseHead
from cyhttp.http_exceptions import (
    BadHttpMessage,
    BadStatusLine,
    HttpParserError,
    IncompleteBody,
    InvalidChunk,
    InvalidFraming,
    InvalidHeader,
    LineTooLong,
    TooManyHeaders,
)

__all__ = ("HttpResponseParser", "has_digit_run")

# the same numbers as _parser_py
cdef enum:
    S_START = 0
    S_HEADERS = 1
    S_BODY_LENGTH = 2
    S_BODY_EOF = 3
    S_CHUNK_SIZE = 4
    S_CHUNK_DATA = 5
    S_CHUNK_END = 6
    S_TRAILERS = 7
    S_CLOSED = 8
    S_UPGRADED = 9
    S_FAILED = 10

cdef enum:
    REQ_OTHER = 0
    REQ_HEAD = 1
    REQ_CONNECT = 2

cdef long long MAX_LENGTH = 1000000000000000000
cdef unsigned long long MAX_CHUNK_SIZE = (1ULL << 56) - 1

# lookup tables, filled once at import
cdef unsigned char TCHAR[256]
cdef unsigned char VALUE_OK[256]  # field-vchar / obs-text / SP / HTAB
cdef signed char HEXVAL[256]


cdef void _init_tables():
    cdef int c
    cdef bytes extra = b"!#$%&'*+-.^_`|~"
    for c in range(256):
        TCHAR[c] = (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)
        VALUE_OK[c] = c == 9 or (32 <= c <= 126) or c >= 128
        if 48 <= c <= 57:
            HEXVAL[c] = c - 48
        elif 65 <= c <= 70:
            HEXVAL[c] = c - 55
        elif 97 <= c <= 102:
            HEXVAL[c] = c - 87
        else:
            HEXVAL[c] = -1
    for c in extra:
        TCHAR[c] = 1


_init_tables()


cdef inline bint _is_ws(unsigned char c) noexcept nogil:
    return c == 32 or c == 9


cdef inline bint _name_is(const unsigned char* name, const char* lower, Py_ssize_t n) noexcept nogil:
    """ASCII case-insensitive comparison of a token with a lower-case literal."""
    cdef Py_ssize_t i
    for i in range(n):
        if (name[i] | 0x20) != <unsigned char>lower[i]:
            return False
    return True


cdef enum:
    FIELD_SLOTS = 256  # cache of recently seen fields (a power of two)

# The field cache is one per process, shared by every parser: the same names (and often
# values) come back on every connection to a server, and a cache per parser cost each
# pooled connection about 6 KiB. It is only a cache: an entry is used after its bytes
# compare equal, so connections that overwrite each other's slots cost a miss, never a
# wrong field.
cdef list _NAME_CACHE = [b""] * FIELD_SLOTS
cdef list _VALUE_CACHE = [b""] * FIELD_SLOTS
cdef list _PAIR_CACHE = [(b"", b"")] * FIELD_SLOTS


cdef inline Py_ssize_t _slot(const unsigned char* name, Py_ssize_t n) noexcept nogil:
    """FNV-1a hash of a header name, reduced to a field-cache slot."""
    cdef unsigned int h = 2166136261u
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ (name[i] | 0x20)) * 16777619u
    return (h ^ (h >> 16)) & (FIELD_SLOTS - 1)


cdef inline bint _bytes_eq(PyObject* b, const unsigned char* p, Py_ssize_t n) noexcept:
    """Whether the bytes object ``b`` holds exactly ``p[:n]``."""
    return PyBytes_GET_SIZE(<bytes>b) == n and memcmp(PyBytes_AS_STRING(<bytes>b), p, n) == 0


cdef str _decode(const unsigned char* p, Py_ssize_t n):
    return PyUnicode_DecodeUTF8(<const char*>p, n, "surrogateescape")


#: decoded header names and values, shared by all parsers: most responses repeat most of
#: their fields. Bounded: a cache that reaches its limit is emptied and starts over.
cdef dict _NAMES = {}
cdef dict _VALUES = {}
cdef Py_ssize_t _NAMES_MAX = 512
cdef Py_ssize_t _VALUES_MAX = 2048
cdef Py_ssize_t _CACHED_VALUE_MAX = 64  # bytes; bounds the cache to ~128 KiB of values


cdef inline object _decode_name(bytes raw):
    cdef PyObject* hit = PyDict_GetItem(_NAMES, raw)
    if hit != NULL:
        return <object>hit
    # istr: multidict skips case-folding keys that are already istr
    name = istr(_decode(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw)))
    if len(_NAMES) >= _NAMES_MAX:
        _NAMES.clear()
    PyDict_SetItem(_NAMES, raw, name)
    return name


cdef inline str _decode_value(bytes raw):
    if PyBytes_GET_SIZE(raw) > _CACHED_VALUE_MAX:  # long values (cookies...) rarely repeat
        return _decode(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw))
    cdef PyObject* hit = PyDict_GetItem(_VALUES, raw)
    if hit != NULL:
        return <str>hit
    value = _decode(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw))
    if len(_VALUES) >= _VALUES_MAX:
        _VALUES.clear()
    PyDict_SetItem(_VALUES, raw, value)
    return value


cdef MultiDict_CAPI* _MD = MultiDict_GetCAPI()


# The parser hands out the very same (name, value) tuple for a field repeated from the last
# response (HttpResponseParser._field), so the decoded pair can be found by identity: a
# small direct-mapped cache keyed by the tuple object, which it keeps alive (so its id
# cannot be reused by another tuple while the entry exists).
cdef Py_ssize_t _PAIR_SLOTS = 1024
cdef list _PAIR_KEYS = [None] * _PAIR_SLOTS
cdef list _PAIR_NAMES = [None] * _PAIR_SLOTS
cdef list _PAIR_VALUES = [None] * _PAIR_SLOTS


# First level: the pair at the same position of the last headers built (responses repeat
# their fields in order), so most fields need no address hashing and cannot collide.
cdef Py_ssize_t _POS_SLOTS = 256
cdef list _POS_KEYS = [None] * _POS_SLOTS
cdef list _POS_NAMES = [None] * _POS_SLOTS
cdef list _POS_VALUES = [None] * _POS_SLOTS


cdef object _build_headers(tuple raw_headers):
    """The CIMultiDictProxy of the headers, built through multidict's C API."""
    cdef Py_ssize_t i, slot, n = len(raw_headers)
    cdef tuple field
    md = CIMultiDict_New(_MD, n)
    for i in range(n):
        field = <tuple>raw_headers[i]
        if i < _POS_SLOTS and PyList_GET_ITEM(_POS_KEYS, i) == <PyObject*>field:
            MultiDict_Add(
                _MD, md, <object>PyList_GET_ITEM(_POS_NAMES, i),
                <object>PyList_GET_ITEM(_POS_VALUES, i),
            )
            continue
        slot = (<size_t><PyObject*>field >> 5) & (_PAIR_SLOTS - 1)
        if PyList_GET_ITEM(_PAIR_KEYS, slot) == <PyObject*>field:
            name = <object>PyList_GET_ITEM(_PAIR_NAMES, slot)
            value = <object>PyList_GET_ITEM(_PAIR_VALUES, slot)
        else:
            name = _decode_name(<bytes>field[0])
            value = _decode_value(<bytes>field[1])
            _PAIR_KEYS[slot] = field
            _PAIR_NAMES[slot] = name
            _PAIR_VALUES[slot] = value
        if i < _POS_SLOTS:
            _POS_KEYS[i] = field
            _POS_NAMES[i] = name
            _POS_VALUES[i] = value
        MultiDict_Add(_MD, md, name, value)
    return CIMultiDictProxy_New(_MD, md)


class _Head(ResponseHead):
    """The compiled twin's ResponseHead: the same object, headers built by C code."""

    __slots__ = ()

    @property
    def headers(self):
        headers = self._headers
        if headers is None:
            headers = self._headers = _build_headers(self.raw_headers)
        return headers


# Making a head is on the hot path of every response. ResponseHead.__init__ is Python code;
# instead, the compiled twin allocates the object and fills its slots in place, at the
# offsets the slot descriptors give (CPython's PyMemberDef). If ResponseHead's layout is not
# what this expects, every head is made by calling the class, as in the pure twin.
cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member

cdef enum:
    H_VERSION, H_STATUS, H_REASON, H_RAW, H_KEEP_ALIVE, H_UPGRADE, H_CHUNKED, H_LENGTH,
    H_ENCODING, H_HEADERS, H_COUNT

_HEAD_SLOTS = (
    "version", "status", "reason", "raw_headers", "keep_alive", "upgrade", "chunked",
    "content_length", "encoding", "_headers",
)
cdef Py_ssize_t _HEAD_OFFSETS[H_COUNT]
cdef bint _HEAD_IN_PLACE = False
cdef object _HEAD_TYPE = _Head
cdef tuple _NO_ARGS = ()


cdef bint _head_layout():
    """Find the slot offsets; False when ResponseHead is not the plain slotted class."""
    cdef int i
    member_type = type(ResponseHead.__dict__.get("version"))
    if member_type.__name__ != "member_descriptor" or len(_Head.__mro__) != 3:
        return False
    for i in range(H_COUNT):
        descr = ResponseHead.__dict__.get(_HEAD_SLOTS[i])
        if type(descr) is not member_type:
            return False
        if (<PyMemberDescrObject*>descr).d_member.type != 16:  # T_OBJECT_EX
            return False
        _HEAD_OFFSETS[i] = (<PyMemberDescrObject*>descr).d_member.offset
    return True


_HEAD_IN_PLACE = _head_layout()
#: whether heads are built in place (True on CPython with the shipped ResponseHead)
HEADS_BUILT_IN_PLACE = _HEAD_IN_PLACE


cdef inline void _put(PyObject* obj, int slot, object value) noexcept:
    Py_INCREF(value)
    (<PyObject**>((<char*>obj) + _HEAD_OFFSETS[slot]))[0] = <PyObject*>value


cdef object _make_head(
    object version, int status, str reason, tuple raw_headers, bint keep_alive,
    bint upgrade, bint chunked, object content_length, object encoding,
):
    if not _HEAD_IN_PLACE:
        return _Head(
            version, status, reason, raw_headers, keep_alive, upgrade, chunked,
            content_length, encoding,
        )
    head = (<PyTypeObject*>_HEAD_TYPE).tp_new(_HEAD_TYPE, <PyObject*>_NO_ARGS, NULL)
    cdef PyObject* obj = <PyObject*>head
    _put(obj, H_VERSION, version)
    _put(obj, H_STATUS, status)
    _put(obj, H_REASON, reason)
    _put(obj, H_RAW, raw_headers)
    _put(obj, H_KEEP_ALIVE, keep_alive)
    _put(obj, H_UPGRADE, upgrade)
    _put(obj, H_CHUNKED, chunked)
    _put(obj, H_LENGTH, content_length)
    _put(obj, H_ENCODING, encoding)
    _put(obj, H_HEADERS, None)
    return head


cdef class HttpResponseParser:
    """Incremental HTTP/1.x response parser; see ``cyhttp._parser_py`` for the contract."""

    cdef object _on_informational
    cdef object _on_headers
    cdef object _on_body
    cdef object _on_chunk_end
    cdef object _on_message_complete
    cdef Py_ssize_t _max_line
    cdef Py_ssize_t _max_field
    cdef Py_ssize_t _max_headers
    cdef bint _lenient
    cdef bytes _buf
    cdef long long _offset
    cdef int _state
    cdef object _error
    cdef int _request
    cdef object _version
    cdef int _status
    cdef str _reason
    cdef str _reason_cache
    cdef bytes _reason_raw
    cdef list _fields
    cdef list _prev_fields  # the previous message's fields, compared position by position
    cdef Py_ssize_t _nfields
    cdef Py_ssize_t _block_fields
    cdef long long _remaining
    cdef bint _keep_alive
    cdef list _name_cache  # recently seen header names, reused as objects (shared)
    cdef list _value_cache  # the last value seen with the name in the same slot (shared)
    cdef list _pair_cache  # the last (name, value) tuple of the slot (shared)

    def __init__(
        self,
        sink,
        *,
        max_line_size=8190,
        max_field_size=8190,
        max_headers=128,
        lenient=False,
    ):
        self._on_informational = sink.on_informational
        self._on_headers = sink.on_headers
        self._on_body = sink.on_body
        self._on_chunk_end = sink.on_chunk_end
        self._on_message_complete = sink.on_message_complete
        self._max_line = int(max_line_size)
        self._max_field = int(max_field_size)
        self._max_headers = int(max_headers)
        self._lenient = bool(lenient)
        self._buf = b""
        self._offset = 0
        self._state = S_START
        self._error = None
        self._request = REQ_OTHER
        self._version = HttpVersion11
        self._status = 0
        self._reason = ""
        self._reason_cache = ""
        self._reason_raw = b""
        self._fields = []
        self._prev_fields = []
        self._nfields = 0
        self._block_fields = 0
        self._remaining = 0
        self._keep_alive = True
        self._name_cache = _NAME_CACHE
        self._value_cache = _VALUE_CACHE
        self._pair_cache = _PAIR_CACHE

    # -- public API ---------------------------------------------------------------

    def set_request_method(self, str method):
        """Say which request the next response answers (HEAD and CONNECT change framing)."""
        if method == "HEAD":
            self._request = REQ_HEAD
        elif method == "CONNECT":
            self._request = REQ_CONNECT
        else:
            self._request = REQ_OTHER

    def feed_data(self, data):
        """Parse ``data``; return None, or the bytes after the head of an upgrade."""
        cdef bytes buf
        cdef int state = self._state
        if state >= S_CLOSED:
            if state == S_CLOSED:
                return None
            if state == S_UPGRADED:
                return bytes(data)
            raise self._again()
        if PyBytes_GET_SIZE(self._buf):
            buf = self._buf + data
        elif type(data) is bytes:
            buf = <bytes>data
        else:
            buf = bytes(data)
        try:
            return self._parse(buf)
        except HttpParserError as exc:
            self._fail(exc)
            raise
        except BaseException:
            # a sink callback raised with the input half consumed: stop here for good
            self._fail(BadHttpMessage("parsing was stopped by an exception in the sink"))
            raise

    def feed_eof(self):
        """The input ended: finish a read-until-close body, or raise if mid-message."""
        cdef int state = self._state
        if state == S_FAILED:
            raise self._again()
        if state >= S_CLOSED:
            return
        if state == S_START:
            if not PyBytes_GET_SIZE(self._buf):
                return
            exc = BadStatusLine("input ended inside the status line")
        elif state == S_HEADERS:
            exc = InvalidHeader("input ended inside the header block")
        elif state == S_BODY_EOF:
            self._state = S_CLOSED
            self._on_message_complete()
            return
        elif state == S_BODY_LENGTH:
            exc = IncompleteBody(f"input ended with {self._remaining} body bytes missing")
        else:
            exc = IncompleteBody("input ended inside a chunked body")
        self._fail(exc)
        raise exc

    def body_remaining(self):
        """Bytes of a Content-Length body still to come while the parser is inside one
        (it then holds no input back), else -1. With :meth:`body_received`, a connection
        may receive the rest of a large body straight into its final buffer."""
        if self._state == S_BODY_LENGTH:
            return self._remaining
        return -1

    def body_received(self, long long n):
        """``n`` bytes of the Content-Length body arrived outside :meth:`feed_data` (the
        caller delivered them): count them; the message completes when none remain."""
        if self._state != S_BODY_LENGTH or n <= 0 or n > self._remaining:
            raise RuntimeError(
                f"{n} body bytes received outside the parser, with "
                f"{self.body_remaining()} expected"
            )
        self._remaining -= n
        self._offset += n
        if not self._remaining:
            try:
                self._complete()
            except BaseException:
                self._fail(BadHttpMessage("parsing was stopped by an exception in the sink"))
                raise

    # -- internals ----------------------------------------------------------------

    cdef _fail(self, exc):
        self._state = S_FAILED
        self._error = exc
        self._buf = b""

    cdef _again(self):
        err = self._error
        return type(err)(err.message, err.offset)

    cdef object _parse(self, bytes buf):
        cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(buf)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(buf)
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t eol, end
        cdef int state = self._state
        cdef unsigned char c
        cdef bint trailers
        cdef unsigned long long size
        while pos < n:
            if state == S_START:
                pos = self._skip_empty_lines(p, pos, n)
                if pos >= n or p[pos] == 13:
                    break
                eol = self._line_end(p, pos, n, self._max_line, 0)
                if eol < 0:
                    break
                self._status_line(buf, p, pos, eol)
                pos = eol + 1
                state = self._state = S_HEADERS
            elif state == S_HEADERS or state == S_TRAILERS:
                trailers = state == S_TRAILERS
                if _is_ws(p[pos]) and not (self._lenient and self._block_fields):
                    raise (InvalidChunk if trailers else InvalidHeader)(
                        "whitespace at the start of a header line (obs-fold)", self._offset + pos
                    )
                eol = self._line_end(p, pos, n, self._max_field, 2 if trailers else 1)
                if eol < 0:
                    break
                end = eol - 1 if p[eol - 1] == 13 else eol
                if end == pos:
                    pos = eol + 1
                    if trailers:
                        self._complete()
                    else:
                        self._head_complete()
                    state = self._state
                    if state == S_UPGRADED:
                        return self._upgraded(buf, pos)
                    continue
                self._field_line(p, pos, end, trailers)
                pos = eol + 1
            elif state == S_BODY_LENGTH:
                pos = self._take_body(buf, p, pos, n)
                if not self._remaining:
                    self._complete()
                    state = self._state
            elif state == S_BODY_EOF:
                self._on_body(buf if pos == 0 else PyBytes_FromStringAndSize(<const char*>p + pos, n - pos))
                pos = n
            elif state == S_CHUNK_SIZE:
                eol = self._line_end(p, pos, n, self._max_line, 2)
                if eol < 0:
                    break
                end = eol - 1 if p[eol - 1] == 13 else eol
                size = self._chunk_size(p, pos, end)
                pos = eol + 1
                if size:
                    self._remaining = <long long>size
                    state = self._state = S_CHUNK_DATA
                else:
                    self._block_fields = 0
                    state = self._state = S_TRAILERS
            elif state == S_CHUNK_DATA:
                pos = self._take_body(buf, p, pos, n)
                if not self._remaining:
                    state = self._state = S_CHUNK_END
            elif state == S_CHUNK_END:
                c = p[pos]
                if c == 13:
                    if pos + 1 >= n:
                        break
                    if p[pos + 1] != 10:
                        raise InvalidChunk("expected LF after chunk data", self._offset + pos + 1)
                    pos += 2
                elif c == 10 and self._lenient:
                    pos += 1
                else:
                    raise InvalidChunk("expected CRLF after chunk data", self._offset + pos)
                state = self._state = S_CHUNK_SIZE
                self._on_chunk_end()
            elif state == S_CLOSED:
                pos = n
            else:  # S_UPGRADED
                return self._upgraded(buf, pos)
        self._offset += pos
        if pos < n:
            self._buf = buf[pos:] if pos else buf
        else:
            self._buf = b""
        return None

    cdef bytes _upgraded(self, bytes buf, Py_ssize_t pos):
        self._offset += pos
        self._buf = b""
        return buf[pos:]

    cdef Py_ssize_t _skip_empty_lines(self, const unsigned char* p, Py_ssize_t pos, Py_ssize_t n) except -1:
        cdef unsigned char c
        while pos < n:
            c = p[pos]
            if c == 13:
                if pos + 1 >= n:
                    return pos
                if p[pos + 1] != 10:
                    raise BadStatusLine("bare CR before the status line", self._offset + pos)
                pos += 2
            elif c == 10:
                if not self._lenient:
                    raise BadStatusLine("bare LF before the status line", self._offset + pos)
                pos += 1
            else:
                return pos
        return pos

    cdef inline Py_ssize_t _take_body(
        self, bytes buf, const unsigned char* p, Py_ssize_t pos, Py_ssize_t n
    ) except -1:
        """Deliver up to ``_remaining`` body bytes from ``pos`` (a Content-Length body or one
        chunk's data), sharing ``buf`` itself when it is all body; return the new position."""
        cdef Py_ssize_t take = n - pos
        if self._remaining < take:
            take = <Py_ssize_t>self._remaining
        if pos == 0 and take == n:
            self._on_body(buf)
        else:
            self._on_body(PyBytes_FromStringAndSize(<const char*>p + pos, take))
        self._remaining -= take
        return pos + take

    cdef Py_ssize_t _line_end(
        self, const unsigned char* p, Py_ssize_t pos, Py_ssize_t n, Py_ssize_t limit, int kind
    ) except -2:
        """Index of the LF ending the line at ``pos``, or -1 when it is not there yet.

        ``kind``: 0 status line, 1 header line, 2 chunk-size or trailer line.
        """
        cdef const unsigned char* lf = <const unsigned char*>memchr(p + pos, 10, n - pos)
        cdef Py_ssize_t eol, end
        if lf == NULL:
            if n - pos > limit + 1:
                self._too_long(kind, limit, pos)
            return -1
        eol = lf - p
        end = eol - 1 if eol > pos and p[eol - 1] == 13 else eol
        if end - pos > limit:
            self._too_long(kind, limit, pos)
        if end == eol and not self._lenient:
            if kind == 0:
                raise BadStatusLine("bare LF at the end of a status line", self._offset + eol)
            if kind == 1:
                raise InvalidHeader("bare LF at the end of a header line", self._offset + eol)
            raise InvalidChunk(self._bare_lf_what(), self._offset + eol)
        return eol

    cdef str _bare_lf_what(self):
        if self._state == S_TRAILERS:
            return "bare LF at the end of a header line"
        return "bare LF at the end of a chunk-size line"

    cdef int _too_long(self, int kind, Py_ssize_t limit, Py_ssize_t pos) except -1:
        if kind == 0:
            raise LineTooLong(f"status line longer than {limit} bytes", self._offset + pos)
        if kind == 1:
            raise LineTooLong(f"header line longer than {limit} bytes", self._offset + pos)
        if self._state == S_TRAILERS:
            raise InvalidChunk(f"header line longer than {limit} bytes", self._offset + pos)
        raise InvalidChunk(f"chunk-size line longer than {limit} bytes", self._offset + pos)

    cdef int _status_line(
        self, bytes buf, const unsigned char* p, Py_ssize_t pos, Py_ssize_t eol
    ) except -1:
        cdef Py_ssize_t end = eol - 1 if p[eol - 1] == 13 else eol
        cdef const unsigned char* line = p + pos
        cdef Py_ssize_t n = end - pos
        cdef long long base = self._offset + pos
        cdef Py_ssize_t i
        cdef const char* prefix = b"HTTP/"
        for i in range(5):
            if i >= n or line[i] != <unsigned char>prefix[i]:
                raise BadStatusLine("expected 'HTTP/' at the start of the status line", base + i)
        if n <= 5 or line[5] != 49:
            raise BadStatusLine("unsupported HTTP version", base + 5)
        if n <= 6 or line[6] != 46:
            raise BadStatusLine("unsupported HTTP version", base + 6)
        if n <= 7 or (line[7] != 48 and line[7] != 49):
            raise BadStatusLine("unsupported HTTP version", base + 7)
        if n <= 8 or line[8] != 32:
            raise BadStatusLine("expected one space after the HTTP version", base + 8)
        if n <= 9 or not (49 <= line[9] <= 57):
            raise BadStatusLine("invalid status code", base + 9)
        for i in range(10, 12):
            if i >= n or not (48 <= line[i] <= 57):
                raise BadStatusLine("invalid status code", base + i)
        if n > 12:
            if line[12] != 32:
                raise BadStatusLine("expected a space after the status code", base + 12)
            for i in range(13, n):
                if not VALUE_OK[line[i]]:
                    raise BadStatusLine("invalid character in the reason phrase", base + i)
            self._set_reason(line + 13, n - 13)
        else:
            self._reason = ""
        self._version = HttpVersion11 if line[7] == 49 else HttpVersion10
        self._status = (line[9] - 48) * 100 + (line[10] - 48) * 10 + (line[11] - 48)
        if PyList_GET_SIZE(self._fields):
            self._prev_fields = self._fields
        self._fields = []
        self._nfields = 0
        self._block_fields = 0
        return 0

    cdef void _set_reason(self, const unsigned char* r, Py_ssize_t n) except *:
        # most responses repeat the same reason phrase: reuse the decoded str
        cdef bytes cached = self._reason_raw
        if PyBytes_GET_SIZE(cached) == n and memcmp(PyBytes_AS_STRING(cached), r, n) == 0:
            self._reason = self._reason_cache
            return
        self._reason = self._reason_cache = _decode(r, n)
        self._reason_raw = PyBytes_FromStringAndSize(<const char*>r, n)

    cdef int _field_line(
        self, const unsigned char* p, Py_ssize_t pos, Py_ssize_t end, bint trailers
    ) except -1:
        """Validate one header (or trailer) line ``p[pos:end]`` and store the field."""
        cdef long long base = self._offset
        cdef Py_ssize_t i, vs, ve
        if _is_ws(p[pos]):  # lenient obs-fold: append to the previous field's value
            vs = pos
            while vs < end and _is_ws(p[vs]):
                vs += 1
            ve = end
            while ve > vs and _is_ws(p[ve - 1]):
                ve -= 1
            for i in range(vs, ve):
                if not VALUE_OK[p[i]]:
                    _field_error(trailers, "invalid character in a header value", base + i)
            if not trailers and ve > vs:
                last = len(self._fields) - 1
                name, value = self._fields[last]
                cont = PyBytes_FromStringAndSize(<const char*>p + vs, ve - vs)
                self._fields[last] = (name, value + b" " + cont if value else cont)
            return 0
        if self._nfields >= self._max_headers:
            raise (InvalidChunk if trailers else TooManyHeaders)(
                f"more than {self._max_headers} header fields", base + pos
            )
        i = pos
        while i < end and TCHAR[p[i]]:
            i += 1
        if i == end:
            _field_error(trailers, "missing colon in a header line", base + end)
        if p[i] != 58:
            _field_error(trailers, "invalid character in a header name", base + i)
        if i == pos:
            _field_error(trailers, "empty header name", base + pos)
        vs = i + 1
        while vs < end and _is_ws(p[vs]):
            vs += 1
        ve = end
        while ve > vs and _is_ws(p[ve - 1]):
            ve -= 1
        cdef Py_ssize_t k
        for k in range(vs, ve):
            if not VALUE_OK[p[k]]:
                _field_error(trailers, "invalid character in a header value", base + k)
        self._nfields += 1
        self._block_fields += 1
        if not trailers:
            self._fields.append(self._field(p + pos, i - pos, p + vs, ve - vs))
        return 0

    cdef tuple _field(
        self, const unsigned char* name, Py_ssize_t n, const unsigned char* value, Py_ssize_t vn
    ):
        """``(name, value)`` as bytes, reusing the pair object of an equal field seen before
        (responses repeat their fields), which saves the allocations here and lets the
        decoded-pair cache of ``_build_headers`` find the pair by identity.

        First the field at the same position in the previous message (no hashing: a
        response usually has the same fields in the same order as the last one), then the
        field last seen in the same hash slot of the name.
        """
        cdef list prev = self._prev_fields
        cdef Py_ssize_t k = PyList_GET_SIZE(self._fields)
        cdef PyObject* pair_p
        cdef PyObject* old
        if k < PyList_GET_SIZE(prev):
            pair_p = PyList_GET_ITEM(prev, k)
            old = PyTuple_GET_ITEM(<tuple>pair_p, 0)
            if _bytes_eq(old, name, n):
                old = PyTuple_GET_ITEM(<tuple>pair_p, 1)
                if _bytes_eq(old, value, vn):
                    return <tuple>pair_p
        cdef Py_ssize_t slot = _slot(name, n)
        cdef bytes cname = <bytes>PyList_GET_ITEM(self._name_cache, slot)
        cdef bytes cvalue = <bytes>PyList_GET_ITEM(self._value_cache, slot)
        cdef bint hit = True
        cdef tuple pair
        if not _bytes_eq(<PyObject*>cname, name, n):
            cname = PyBytes_FromStringAndSize(<const char*>name, n)
            self._name_cache[slot] = cname
            hit = False
        if not _bytes_eq(<PyObject*>cvalue, value, vn):
            cvalue = PyBytes_FromStringAndSize(<const char*>value, vn)
            self._value_cache[slot] = cvalue
            hit = False
        if hit:  # the very same field as last time: the same (immutable) pair object
            pair = <tuple>PyList_GET_ITEM(self._pair_cache, slot)
            if <PyObject*>PyTuple_GET_ITEM(pair, 0) == <PyObject*>cname and <PyObject*>PyTuple_GET_ITEM(pair, 1) == <PyObject*>cvalue:
                return pair
        pair = (cname, cvalue)
        self._pair_cache[slot] = pair
        return pair

    cdef unsigned long long _chunk_size(
        self, const unsigned char* p, Py_ssize_t pos, Py_ssize_t end
    ) except? 0xFFFFFFFFFFFFFFFF:
        """Parse ``chunk-size [chunk-ext]`` (RFC 9112 §7.1); extensions are checked, dropped."""
        cdef long long base = self._offset
        cdef Py_ssize_t i = pos, j, k
        cdef unsigned long long size = 0
        cdef unsigned char c
        while i < end and HEXVAL[p[i]] >= 0:
            if size <= MAX_CHUNK_SIZE:
                size = size * 16 + <unsigned long long>HEXVAL[p[i]]
            i += 1
        if i == pos:
            raise InvalidChunk("invalid chunk size", base + pos)
        if size > MAX_CHUNK_SIZE:
            raise InvalidChunk("chunk size too large", base + pos)
        while i < end:
            j = i
            while j < end and _is_ws(p[j]):
                j += 1
            if j == end or p[j] != 59:
                raise InvalidChunk("invalid chunk extension", base + j)
            j += 1
            while j < end and _is_ws(p[j]):
                j += 1
            k = j
            while k < end and TCHAR[p[k]]:
                k += 1
            if k == j:
                raise InvalidChunk("invalid chunk extension name", base + j)
            i = k
            while k < end and _is_ws(p[k]):
                k += 1
            if k < end and p[k] == 61:
                k += 1
                while k < end and _is_ws(p[k]):
                    k += 1
                if k < end and p[k] == 34:
                    k += 1
                    while True:
                        if k >= end:
                            raise InvalidChunk("unterminated quoted chunk extension", base + k)
                        c = p[k]
                        if c == 34:
                            k += 1
                            break
                        if c == 92:
                            k += 1
                            if k >= end or not VALUE_OK[p[k]]:
                                raise InvalidChunk("invalid quoted-pair in chunk ext", base + k)
                        elif not VALUE_OK[c]:
                            raise InvalidChunk("invalid character in chunk extension", base + k)
                        k += 1
                else:
                    j = k
                    while k < end and TCHAR[p[k]]:
                        k += 1
                    if k == j:
                        raise InvalidChunk("invalid chunk extension value", base + j)
                i = k
        return size

    cdef int _head_complete(self) except -1:
        """The empty line after the header block: decide the framing and tell the sink."""
        cdef int status = self._status
        cdef list fields = self._fields
        cdef Py_ssize_t nf = PyList_GET_SIZE(fields)
        cdef Py_ssize_t idx, ln, vn
        cdef bint close = False, ka_token = False, has_cl = False, has_te = False
        cdef bint chunked = False, keep_alive
        cdef const unsigned char* name
        cdef const unsigned char* value
        cdef long long content_length = -1
        cdef int request = self._request
        cdef int state
        cdef object field, v
        enc_raw = None
        te_raw = None
        cl_raw = None
        for idx in range(nf):
            field = <object>PyList_GET_ITEM(fields, idx)
            nm = <bytes>PyTuple_GET_ITEM(field, 0)
            ln = PyBytes_GET_SIZE(nm)
            if ln != 10 and ln != 14 and ln != 16 and ln != 17:
                continue
            name = <const unsigned char*>PyBytes_AS_STRING(nm)
            v = <object>PyTuple_GET_ITEM(field, 1)
            value = <const unsigned char*>PyBytes_AS_STRING(v)
            vn = PyBytes_GET_SIZE(v)
            if ln == 10:
                if _name_is(name, b"connection", 10):
                    _connection_tokens(value, vn, &close, &ka_token)
            elif ln == 14:
                if _name_is(name, b"content-length", 14):
                    if cl_raw is None:
                        cl_raw = []
                    cl_raw.append(v)
            elif ln == 16:
                if _name_is(name, b"content-encoding", 16):
                    if enc_raw is None:
                        enc_raw = []
                    enc_raw.append(v)
            elif _name_is(name, b"transfer-encoding", 17):
                if te_raw is None:
                    te_raw = []
                te_raw.append(v)
        version = self._version
        if version is HttpVersion11:
            keep_alive = not close
        else:
            keep_alive = ka_token and not close
        encoding = (
            (b", ".join(enc_raw).lower()).decode("utf-8", "surrogateescape")
            if enc_raw is not None else None
        )
        raw_headers = tuple(fields)
        if status == 101 or (request == REQ_CONNECT and 200 <= status < 300):
            head = _make_head(
                version, status, self._reason, raw_headers, False, True, False, None, encoding
            )
            self._state = S_UPGRADED
            self._on_headers(head)
            self._on_message_complete()
            return 0
        if status < 200:
            head = _make_head(
                version, status, self._reason, raw_headers, keep_alive, False, False, None,
                encoding,
            )
            self._state = S_START
            self._on_informational(head)
            return 0
        if cl_raw is not None:
            has_cl = True
            for v in cl_raw:
                content_length = _content_length(
                    v, <const unsigned char*>PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v),
                    content_length,
                )
        if te_raw is not None:
            has_te = True
            if has_cl:
                raise InvalidFraming("both Content-Length and Transfer-Encoding")
            chunked = _te_is_chunked(te_raw)
            if version is HttpVersion10:
                keep_alive = False
        if request == REQ_HEAD or status == 204 or status == 304:
            state = S_CLOSED
        elif chunked:
            state = S_CHUNK_SIZE
        elif has_te or not has_cl:
            state = S_BODY_EOF
            keep_alive = False
        elif content_length:
            state = S_BODY_LENGTH
            self._remaining = content_length
        else:
            state = S_CLOSED
        head = _make_head(
            version, status, self._reason, raw_headers, keep_alive, False, chunked,
            content_length if has_cl else None, encoding,
        )
        self._keep_alive = keep_alive
        if state == S_CLOSED:
            self._on_headers(head)
            self._complete()
        else:
            self._state = state
            self._on_headers(head)
        return 0

    cdef int _complete(self) except -1:
        self._request = REQ_OTHER
        self._state = S_START if self._keep_alive else S_CLOSED
        self._on_message_complete()
        return 0


cdef int _field_error(bint trailers, str message, long long offset) except -1:
    """Raise the error for a bad header (or trailer) line, out of the hot path."""
    raise (InvalidChunk if trailers else InvalidHeader)(message, offset)


cdef inline bint _list_element(
    const unsigned char* v, Py_ssize_t n, Py_ssize_t* i, Py_ssize_t* s, Py_ssize_t* e
) noexcept nogil:
    """The next element of a comma-separated field value, scanning from ``i[0]``: its bounds
    with OWS trimmed in ``s[0]:e[0]`` (empty for an empty element); False past the end."""
    if i[0] > n:
        return False
    s[0] = i[0]
    while i[0] < n and v[i[0]] != 44:
        i[0] += 1
    e[0] = i[0]
    i[0] += 1
    while s[0] < e[0] and _is_ws(v[s[0]]):
        s[0] += 1
    while e[0] > s[0] and _is_ws(v[e[0] - 1]):
        e[0] -= 1
    return True


cdef void _connection_tokens(
    const unsigned char* v, Py_ssize_t n, bint* close, bint* ka
) noexcept nogil:
    cdef Py_ssize_t i = 0, s, e
    while _list_element(v, n, &i, &s, &e):
        if e - s == 5 and _name_is(v + s, b"close", 5):
            close[0] = True
        elif e - s == 10 and _name_is(v + s, b"keep-alive", 10):
            ka[0] = True


cdef long long _content_length(
    bytes raw, const unsigned char* v, Py_ssize_t n, long long previous
) except -2:
    """Fold one Content-Length field (maybe a list) into ``previous`` (-1: none yet)."""
    cdef Py_ssize_t i = 0, s, e, k
    cdef long long length
    while _list_element(v, n, &i, &s, &e):
        if s == e:
            raise InvalidFraming(f"invalid Content-Length {raw!r}")
        length = 0
        for k in range(s, e):
            if not (48 <= v[k] <= 57):
                raise InvalidFraming(f"invalid Content-Length {raw!r}")
            if length <= MAX_LENGTH:
                length = length * 10 + (v[k] - 48)
        if length > MAX_LENGTH:
            raise InvalidFraming(f"Content-Length {raw!r} is too large")
        if previous >= 0 and length != previous:
            raise InvalidFraming("conflicting Content-Length values")
        previous = length
    return previous


cdef bint _te_is_chunked(list values) except -1:
    """True when ``chunked`` is the last transfer coding; error when it is applied twice."""
    cdef bint seen = False, last_chunked = False
    cdef const unsigned char* v
    cdef Py_ssize_t n, i, s, e
    for raw in values:
        v = <const unsigned char*>PyBytes_AS_STRING(raw)
        n = PyBytes_GET_SIZE(raw)
        i = 0
        while _list_element(v, n, &i, &s, &e):
            if s == e:
                continue
            if e - s == 7 and _name_is(v + s, b"chunked", 7):
                if seen:
                    raise InvalidFraming("Transfer-Encoding applies chunked more than once")
                seen = True
                last_chunked = True
            else:
                last_chunked = False
    return last_chunked


def has_digit_run(bytes data, Py_ssize_t length):
    """True when ``data`` holds ``length`` ASCII digits in a row. A body scan the JSON fast
    path needs (orjson reads an integer beyond 64 bits as a float): one pass, no copy."""
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t i, run = 0
    for i in range(n):
        if <unsigned char>(p[i] - 48) < 10:
            run += 1
            if run >= length:
                return True
        else:
            run = 0
    return False
