# cython: language_level=3
"""Compiled HPACK codec (RFC 7541); twin of ``_hpack_py.py``.

The contract (API, strictness, errors and their offsets) is documented in ``_hpack_py``;
this module must behave identically. The per-byte work (integers, Huffman decoding four
bits at a time through the shared state machine, Huffman encoding, string copies) runs as
C loops over ``const unsigned char*``; Python objects are made once per string and once
per header field.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy

from cyhttp._hpack_tables import (
    HUFFMAN_CODES,
    HUFFMAN_DECODE_TABLE,
    HUFFMAN_LENGTHS,
    STATIC_TABLE,
)
from cyhttp.h2_errors import HeaderListTooLarge, HPACKError

__all__ = (
    "DEFAULT_MAX_HEADER_LIST_SIZE",
    "DEFAULT_TABLE_SIZE",
    "SENSITIVE_HEADERS",
    "Decoder",
    "Encoder",
    "huffman_decode",
    "huffman_encode",
)

DEFAULT_TABLE_SIZE = 4096
DEFAULT_MAX_HEADER_LIST_SIZE = 65536
SENSITIVE_HEADERS = frozenset(
    (b"authorization", b"proxy-authorization", b"cookie", b"set-cookie")
)
MAX_INTEGER = 0xFFFFFFFF
ENTRY_OVERHEAD = 32

cdef enum:
    C_HUFF_EMIT = 0x10000
    C_HUFF_FAIL = 0x20000
    C_HUFF_ACCEPT = 0x40000
    C_OVERHEAD = 32
    C_STATIC_SIZE = 61
    STACK_BUFFER = 1024

cdef uint64_t C_MAX_INTEGER = 0xFFFFFFFF

# the shared tables, copied into C arrays once
cdef uint32_t _DECODE[4096]
cdef uint32_t _CODES[257]
cdef unsigned char _LENGTHS[257]
cdef Py_ssize_t _k
for _k in range(4096):
    _DECODE[_k] = HUFFMAN_DECODE_TABLE[_k]
for _k in range(257):
    _CODES[_k] = HUFFMAN_CODES[_k]
    _LENGTHS[_k] = HUFFMAN_LENGTHS[_k]
if len(STATIC_TABLE) != C_STATIC_SIZE:
    raise ImportError("the HPACK static table must have 61 entries")
cdef tuple _STATIC = STATIC_TABLE

_SETTING_ERROR = "the header table size must be an integer from 0 to 2**32 - 1"


cdef Py_ssize_t _check_setting(object value) except -1:
    value = int(value)
    if not 0 <= value <= MAX_INTEGER:
        raise ValueError(_SETTING_ERROR)
    return value


# -- primitives ------------------------------------------------------------------------


cdef Py_ssize_t _read_integer(
    const unsigned char* data, Py_ssize_t pos, Py_ssize_t end, int prefix_bits,
    uint64_t* result,
) except -1:
    """Decode the integer whose prefix is in ``data[pos]``; store it in ``result`` and
    return the position after it."""
    cdef uint64_t limit = (1 << prefix_bits) - 1
    cdef uint64_t value = data[pos] & limit
    cdef unsigned char byte
    cdef int shift = 0
    pos += 1
    if value < limit:
        result[0] = value
        return pos
    while True:
        if pos >= end:
            raise HPACKError("truncated integer", pos)
        byte = data[pos]
        pos += 1
        value += (<uint64_t>(byte & 0x7F)) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 28:
            raise HPACKError("integer longer than 32 bits", pos)
    if value > C_MAX_INTEGER:
        raise HPACKError("integer longer than 32 bits", pos)
    result[0] = value
    return pos


cdef struct Out:
    # a growing output buffer: encode() builds the block here, then makes one bytes object
    unsigned char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(Out* out, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = out.size + extra
    cdef Py_ssize_t capacity
    cdef unsigned char* grown
    if need <= out.capacity:
        return 0
    capacity = max(need, 2 * out.capacity, 256)
    grown = <unsigned char*>PyMem_Realloc(out.data, capacity)
    if grown == NULL:
        raise MemoryError()
    out.data = grown
    out.capacity = capacity
    return 0


cdef int _write_integer(Out* out, int first, uint64_t value, int prefix_bits) except -1:
    """Append ``value`` with an N-bit prefix; ``first`` holds the flag bits."""
    cdef uint64_t limit = (1 << prefix_bits) - 1
    cdef unsigned char* p
    _reserve(out, 11)
    p = out.data + out.size
    if value < limit:
        p[0] = <unsigned char>(first | value)
        out.size += 1
        return 0
    p[0] = <unsigned char>(first | limit)
    value -= limit
    p += 1
    while value >= 0x80:
        p[0] = <unsigned char>((value & 0x7F) | 0x80)
        value >>= 7
        p += 1
    p[0] = <unsigned char>value
    out.size = p + 1 - out.data
    return 0


cdef bytes _huffman_decode(const unsigned char* src, Py_ssize_t n, Py_ssize_t offset):
    """Decode a Huffman string with the 4-bit state machine (see ``_hpack_tables``)."""
    cdef unsigned char stack[STACK_BUFFER]
    cdef unsigned char* out = stack
    cdef Py_ssize_t i, k = 0
    cdef uint32_t entry = C_HUFF_ACCEPT
    cdef uint32_t state = 0
    cdef unsigned char byte
    cdef bint failed = False
    cdef bytes result
    # a nibble completes at most one symbol: at most two per byte
    if 2 * n > STACK_BUFFER:
        out = <unsigned char*>PyMem_Malloc(2 * n)
        if out == NULL:
            raise MemoryError()
    for i in range(n):
        byte = src[i]
        entry = _DECODE[(state << 4) | (byte >> 4)]
        if entry & (C_HUFF_EMIT | C_HUFF_FAIL):
            if entry & C_HUFF_FAIL:
                failed = True
                break
            out[k] = <unsigned char>(entry >> 8)
            k += 1
        entry = _DECODE[((entry & 0xFF) << 4) | (byte & 0x0F)]
        if entry & (C_HUFF_EMIT | C_HUFF_FAIL):
            if entry & C_HUFF_FAIL:
                failed = True
                break
            out[k] = <unsigned char>(entry >> 8)
            k += 1
        state = entry & 0xFF
    if failed or not entry & C_HUFF_ACCEPT:
        if out != stack:
            PyMem_Free(out)
        if failed:
            raise HPACKError("EOS symbol in a Huffman string", offset)
        raise HPACKError("invalid Huffman padding", offset)
    result = PyBytes_FromStringAndSize(<char*>out, k)
    if out != stack:
        PyMem_Free(out)
    return result


cdef Py_ssize_t _huffman_length(const unsigned char* src, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i, bits = 0
    for i in range(n):
        bits += _LENGTHS[src[i]]
    return (bits + 7) >> 3


cdef void _huffman_encode(
    const unsigned char* src, Py_ssize_t n, unsigned char* out
) noexcept:
    """Huffman-code ``n`` bytes into ``out``, which has room for
    :func:`_huffman_length` bytes."""
    cdef uint64_t acc = 0
    cdef int pending = 0
    cdef Py_ssize_t i, k = 0
    cdef unsigned char symbol
    for i in range(n):
        symbol = src[i]
        acc = (acc << _LENGTHS[symbol]) | _CODES[symbol]
        pending += _LENGTHS[symbol]
        while pending >= 8:
            pending -= 8
            out[k] = <unsigned char>(acc >> pending)
            k += 1
    if pending:
        # pad with the high bits of EOS (all ones)
        out[k] = <unsigned char>((acc << (8 - pending)) | (0xFF >> pending))


def huffman_decode(data, Py_ssize_t offset=0):
    """Decode a Huffman-coded string (RFC 7541 Appendix B); see ``_hpack_py``."""
    cdef bytes raw = bytes(data)
    return _huffman_decode(
        <const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), offset
    )


def huffman_encoded_length(data):
    """Bytes the Huffman coding of ``data`` takes."""
    cdef bytes raw = bytes(data)
    return _huffman_length(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw))


def huffman_encode(data):
    """Huffman-code ``data``, padded to a byte with the high bits of EOS (ones)."""
    cdef bytes raw = bytes(data)
    cdef const unsigned char* src = <const unsigned char*>PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    cdef Py_ssize_t size = _huffman_length(src, n)
    cdef bytes result = PyBytes_FromStringAndSize(NULL, size)
    _huffman_encode(src, n, <unsigned char*>PyBytes_AS_STRING(result))
    return result


cdef bytes _read_string(const unsigned char* data, Py_ssize_t* pos, Py_ssize_t end):
    """Decode the string literal at ``pos[0]`` and move ``pos[0]`` past it."""
    cdef Py_ssize_t start = pos[0]
    cdef bint huffman = data[start] & 0x80
    cdef uint64_t length
    cdef Py_ssize_t at = _read_integer(data, start, end, 7, &length)
    if length > <uint64_t>(end - at):
        raise HPACKError("truncated string", start)
    pos[0] = at + <Py_ssize_t>length
    if huffman:
        return _huffman_decode(data + at, <Py_ssize_t>length, start)
    return PyBytes_FromStringAndSize(<const char*>data + at, <Py_ssize_t>length)


cdef int _write_string(Out* out, bytes value, bint huffman) except -1:
    cdef const unsigned char* src = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value)
    cdef Py_ssize_t size
    if huffman and n:
        size = _huffman_length(src, n)
        if size < n:
            _write_integer(out, 0x80, size, 7)
            _reserve(out, size)
            _huffman_encode(src, n, out.data + out.size)
            out.size += size
            return 0
    _write_integer(out, 0, n, 7)
    _reserve(out, n)
    memcpy(out.data + out.size, src, n)
    out.size += n
    return 0


cdef inline Py_ssize_t _entry_size(tuple field) noexcept:
    """RFC 7541 section 4.1: name + value + 32 (``field`` is a pair of bytes)."""
    return (
        PyBytes_GET_SIZE(<object>PyTuple_GET_ITEM(field, 0))
        + PyBytes_GET_SIZE(<object>PyTuple_GET_ITEM(field, 1))
        + C_OVERHEAD
    )


# -- decoder ---------------------------------------------------------------------------


cdef class Decoder:
    """Decodes header blocks with one dynamic table (see ``_hpack_py``)."""

    cdef list _entries  # oldest first: dynamic index 1 is the last item
    cdef Py_ssize_t _limit
    cdef Py_ssize_t _max_size
    cdef Py_ssize_t _size
    cdef Py_ssize_t _required  # see _hpack_py.Decoder
    cdef public Py_ssize_t max_header_list_size

    def __init__(
        self,
        max_table_size=DEFAULT_TABLE_SIZE,
        max_header_list_size=DEFAULT_MAX_HEADER_LIST_SIZE,
    ):
        self._limit = _check_setting(max_table_size)
        self._max_size = self._limit
        self._size = 0
        self._entries = []
        self._required = -1
        self.max_header_list_size = int(max_header_list_size)

    @property
    def header_table_size(self):
        """Our SETTINGS_HEADER_TABLE_SIZE: the largest table size the peer may ask for."""
        return self._limit

    @header_table_size.setter
    def header_table_size(self, value):
        cdef Py_ssize_t setting = _check_setting(value)
        if setting < self._max_size and (self._required < 0 or setting < self._required):
            self._required = setting
        self._limit = setting

    @property
    def table_size(self):
        """Bytes the dynamic table holds now, as RFC 7541 counts them."""
        return self._size

    @property
    def max_table_size(self):
        """The dynamic table's current maximum size (the peer's latest update)."""
        return self._max_size

    def __len__(self):
        """Entries in the dynamic table."""
        return len(self._entries)

    cdef void _evict(self, Py_ssize_t max_size):
        cdef Py_ssize_t drop = 0
        cdef Py_ssize_t size = self._size
        while size > max_size:
            size -= _entry_size(<tuple>self._entries[drop])
            drop += 1
        if drop:
            del self._entries[:drop]
            self._size = size

    cdef void _add(self, tuple field):
        cdef Py_ssize_t size = _entry_size(field)
        if size > self._max_size:
            self._entries.clear()
            self._size = 0
            return
        self._evict(self._max_size - size)
        self._entries.append(field)
        self._size += size

    cdef tuple _field(self, uint64_t index, Py_ssize_t pos):
        cdef Py_ssize_t count
        if index == 0:
            raise HPACKError("index 0", pos)
        if index <= C_STATIC_SIZE:
            return <tuple>_STATIC[index - 1]
        count = len(self._entries)
        if index - C_STATIC_SIZE > <uint64_t>count:
            raise HPACKError(f"index {index} is not in the table", pos)
        return <tuple>self._entries[count - <Py_ssize_t>(index - C_STATIC_SIZE)]

    cdef Py_ssize_t _size_update(
        self, const unsigned char* data, Py_ssize_t pos, Py_ssize_t end
    ) except -1:
        cdef uint64_t value
        cdef Py_ssize_t after = _read_integer(data, pos, end, 5, &value)
        if value > <uint64_t>self._limit:
            raise HPACKError(
                f"table size update to {value} above the limit {self._limit}", pos
            )
        if self._required >= 0 and value <= <uint64_t>self._required:
            self._required = -1
        self._max_size = <Py_ssize_t>value
        self._evict(self._max_size)
        return after

    def decode(self, block):
        """Decode one complete header block into ``(name, value)`` pairs, in order."""
        cdef bytes raw = block if type(block) is bytes else bytes(block)
        cdef const unsigned char* data = <const unsigned char*>PyBytes_AS_STRING(raw)
        cdef Py_ssize_t end = PyBytes_GET_SIZE(raw)
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t start
        cdef Py_ssize_t budget = self.max_header_list_size
        cdef unsigned char first
        cdef int prefix
        cdef uint64_t index
        cdef list headers = []
        cdef tuple field
        cdef bytes name
        cdef bytes value
        while pos < end and data[pos] & 0xE0 == 0x20:
            pos = self._size_update(data, pos, end)
        if self._required >= 0:
            raise HPACKError(
                "the block does not start with the table size update the lowered "
                "setting requires",
                pos,
            )
        while pos < end:
            start = pos
            first = data[pos]
            if first & 0x80:
                pos = _read_integer(data, pos, end, 7, &index)
                field = self._field(index, start)
            elif first & 0xE0 == 0x20:
                raise HPACKError("table size update after a header field", start)
            else:
                prefix = 6 if first & 0x40 else 4
                pos = _read_integer(data, pos, end, prefix, &index)
                if index:
                    name = <bytes>self._field(index, start)[0]
                else:
                    if pos >= end:
                        raise HPACKError("truncated header field", pos)
                    name = _read_string(data, &pos, end)
                if pos >= end:
                    raise HPACKError("truncated header field", pos)
                value = _read_string(data, &pos, end)
                field = (name, value)
                if prefix == 6:
                    self._add(field)
            budget -= _entry_size(field)
            if budget >= 0:
                headers.append(field)
        if budget < 0:
            raise HeaderListTooLarge(
                f"the header list is larger than {self.max_header_list_size} bytes"
            )
        return headers


# -- encoder ---------------------------------------------------------------------------

cdef dict _STATIC_FIELDS = {}
cdef dict _STATIC_NAMES = {}
for _k, _f in enumerate(STATIC_TABLE, 1):
    _STATIC_FIELDS.setdefault(_f, _k)
    _STATIC_NAMES.setdefault(_f[0], _k)


cdef bytes _as_bytes(object value):
    if type(value) is bytes:
        return <bytes>value
    if isinstance(value, str):
        return (<str>value).encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"header names and values must be bytes or str, not {type(value).__name__}")


cdef class Encoder:
    """Encodes header lists with one dynamic table (see ``_hpack_py``)."""

    cdef list _entries  # oldest first
    cdef Py_ssize_t _inserted  # entries ever added; ids count from 0
    cdef Py_ssize_t _evicted  # entries ever evicted: the oldest entry's id
    cdef dict _fields  # (name, value) -> id of its newest entry
    cdef dict _names  # name -> id of its newest entry
    cdef Py_ssize_t _limit
    cdef Py_ssize_t _max_size
    cdef Py_ssize_t _size
    cdef Py_ssize_t _pending_min  # smallest setting since the last block, -1: none
    cdef public frozenset sensitive
    # the last header list that changed nothing in the table, and its block (see encode)
    cdef list _last_headers
    cdef bytes _last_block
    cdef Py_ssize_t _last_inserted
    cdef bint _last_huffman
    cdef object _last_sensitive

    def __init__(self, max_table_size=DEFAULT_TABLE_SIZE, sensitive=SENSITIVE_HEADERS):
        self._limit = _check_setting(max_table_size)
        self._max_size = self._limit
        self._size = 0
        self._entries = []
        self._inserted = 0
        self._evicted = 0
        self._fields = {}
        self._names = {}
        self._pending_min = -1
        if sensitive is SENSITIVE_HEADERS:  # already lower-case bytes
            self.sensitive = SENSITIVE_HEADERS
        else:
            self.sensitive = frozenset(_as_bytes(name).lower() for name in sensitive)

    @property
    def header_table_size(self):
        """The peer's SETTINGS_HEADER_TABLE_SIZE: the table size this encoder uses."""
        return self._limit

    @header_table_size.setter
    def header_table_size(self, value):
        cdef Py_ssize_t setting = _check_setting(value)
        if self._pending_min < 0 or setting < self._pending_min:
            self._pending_min = setting
        self._limit = setting

    @property
    def table_size(self):
        """Bytes the dynamic table holds now, as RFC 7541 counts them."""
        return self._size

    def __len__(self):
        """Entries in the dynamic table."""
        return len(self._entries)

    cdef void _evict(self, Py_ssize_t max_size):
        cdef Py_ssize_t drop = 0
        cdef Py_ssize_t size = self._size
        cdef tuple field
        cdef object entry_id
        while size > max_size:
            field = <tuple>self._entries[drop]
            size -= _entry_size(field)
            entry_id = self._evicted + drop
            if self._fields.get(field) == entry_id:
                del self._fields[field]
            if self._names.get(field[0]) == entry_id:
                del self._names[field[0]]
            drop += 1
        if drop:
            del self._entries[:drop]
            self._evicted += drop
            self._size = size

    cdef void _add(self, tuple field, Py_ssize_t size):
        self._evict(self._max_size - size)
        self._entries.append(field)
        self._fields[field] = self._inserted
        self._names[field[0]] = self._inserted
        self._inserted += 1
        self._size += size

    cdef int _resize(self, Out* out, Py_ssize_t max_size) except -1:
        _write_integer(out, 0x20, max_size, 5)
        self._max_size = max_size
        self._evict(max_size)
        self._last_block = None  # it may name entries evicted now
        return 0

    cdef int _size_updates(self, Out* out) except -1:
        if self._pending_min < 0:
            return 0
        if self._pending_min < self._limit:
            self._resize(out, self._pending_min)
        self._resize(out, self._limit)
        self._pending_min = -1
        return 0

    cdef Py_ssize_t _index_of(self, object entry_id):
        return C_STATIC_SIZE + self._inserted - <Py_ssize_t>entry_id

    cdef int _encode_field(
        self, Out* out, bytes name, bytes value, bint sensitive, bint huffman
    ) except -1:
        cdef tuple field = (name, value)
        cdef object found
        cdef Py_ssize_t name_index = 0
        cdef Py_ssize_t size
        if not sensitive:
            found = _STATIC_FIELDS.get(field)
            if found is None:
                found = self._fields.get(field)
                if found is not None:
                    found = self._index_of(found)
            if found is not None:
                _write_integer(out, 0x80, <Py_ssize_t>found, 7)
                return 0
        found = _STATIC_NAMES.get(name)
        if found is not None:
            name_index = <Py_ssize_t>found
        else:
            found = self._names.get(name)
            if found is not None:
                name_index = self._index_of(found)
        size = PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value) + C_OVERHEAD
        if sensitive:
            _write_integer(out, 0x10, name_index, 4)
        elif size <= self._max_size * 3 // 4:
            _write_integer(out, 0x40, name_index, 6)
            self._add(field, size)
        else:
            _write_integer(out, 0x00, name_index, 4)
        if not name_index:
            _write_string(out, name, huffman)
        _write_string(out, value, huffman)
        return 0

    def encode(self, headers, huffman=True):
        """Encode one header list into a header block.

        A list equal to the last one, encoded while the table has not changed since, gets
        the same block again without encoding: a client sends the same request head over
        and over, and once its fields are all in the table every block is the same."""
        cdef bint use_huffman = bool(huffman)
        if (
            type(headers) is list
            and self._last_block is not None
            and self._pending_min < 0
            and self._inserted == self._last_inserted
            and use_huffman == self._last_huffman
            and self.sensitive is self._last_sensitive
            and headers == self._last_headers
        ):
            return self._last_block
        cdef Py_ssize_t inserted = self._inserted
        cdef bint resized = self._pending_min >= 0
        block = self._encode(headers, use_huffman)
        if type(headers) is list and not resized and self._inserted == inserted:
            self._last_headers = list(headers)
            self._last_block = block
            self._last_inserted = inserted
            self._last_huffman = use_huffman
            self._last_sensitive = self.sensitive
        return block

    cdef bytes _encode(self, headers, bint use_huffman):
        cdef Out out
        cdef bytes name
        cdef bytes value
        cdef bint sensitive
        out.data = NULL
        out.size = 0
        out.capacity = 0
        try:
            self._size_updates(&out)
            for header in headers:
                name = _as_bytes(header[0])
                value = _as_bytes(header[1])
                if len(header) > 2:
                    sensitive = bool(header[2])
                else:
                    sensitive = name.lower() in self.sensitive
                self._encode_field(&out, name, value, sensitive, use_huffman)
            return PyBytes_FromStringAndSize(<char*>out.data, out.size)
        finally:
            PyMem_Free(out.data)
