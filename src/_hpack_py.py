"""HPACK, the header compression of HTTP/2 (RFC 7541): a sans-IO encoder and decoder.

This is the pure-Python twin of ``_hpack.pyx``; :mod:`cyhttp.hpack` picks one. Both have
this API and behave identically, error for error.

``Decoder(max_table_size=4096, max_header_list_size=65536)``
    ``decode(block) -> list[tuple[bytes, bytes]]`` decodes one complete header block (the
    HEADERS/PUSH_PROMISE fragment plus its CONTINUATIONs, padding and priority removed).
    Blocks must be given in the order they arrived: they share the dynamic table.
    ``header_table_size`` is the SETTINGS_HEADER_TABLE_SIZE we advertised: set it when the
    peer acknowledges a new value. Dynamic table size updates above it are errors, and when
    it drops below the table's current size the next block must start with an update that
    honours it (RFC 7541 section 4.2). ``max_header_list_size`` bounds the decoded list as
    SETTINGS_MAX_HEADER_LIST_SIZE counts it (name + value + 32 per field).

``Encoder(max_table_size=4096, sensitive=SENSITIVE_HEADERS)``
    ``encode(headers, huffman=True) -> bytes`` encodes ``(name, value)`` or ``(name, value,
    sensitive)`` pairs (bytes, or str encoded as UTF-8; names are sent as given, so an HTTP/2
    caller lower-cases them). A field found in the static or dynamic table is sent as one
    index; others are literals, added to the dynamic table unless they are large or
    sensitive. Sensitive fields (a true third item, or a name in ``sensitive``: by default
    authorization, proxy-authorization, cookie, set-cookie) are sent "never indexed", so no
    intermediary compresses them either. With ``huffman`` a string is Huffman coded when that
    makes it shorter. ``header_table_size`` is the peer's SETTINGS_HEADER_TABLE_SIZE: setting
    it makes the next block start with the dynamic table size update(s) RFC 7541 asks for.

Errors: every malformed block raises :class:`~cyhttp.h2_errors.HPACKError` (with ``offset``,
the byte of the block where it was found); the decoder is then out of step with the peer
and the connection must be closed. The one exception is :class:`HeaderListTooLarge`, raised
after the whole block was read, which leaves the decoder usable. Decoding allocates at most
a small multiple of the block's size: every length is checked against the bytes that are
actually there, and integers are limited to 32 bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._hpack_tables import (
    HUFF_EMIT,
    HUFF_FAIL,
    HUFFMAN_ACCEPTING,
    HUFFMAN_CODES,
    HUFFMAN_DECODE_TABLE,
    HUFFMAN_LENGTHS,
    STATIC_TABLE,
    STATIC_TABLE_SIZE,
)
from .h2_errors import HeaderListTooLarge, HPACKError

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
#: header names sent "never indexed" by default (credentials and session state)
SENSITIVE_HEADERS: frozenset[bytes] = frozenset(
    (b"authorization", b"proxy-authorization", b"cookie", b"set-cookie")
)
#: the largest integer a block may carry (settings values are 32-bit)
MAX_INTEGER = 0xFFFFFFFF
#: RFC 7541 section 4.1: the size of an entry is its name and value plus 32
ENTRY_OVERHEAD = 32

_SETTING_ERROR = "the header table size must be an integer from 0 to 2**32 - 1"


def _check_setting(value: int) -> int:
    value = int(value)
    if not 0 <= value <= MAX_INTEGER:
        raise ValueError(_SETTING_ERROR)
    return value


# -- primitives ------------------------------------------------------------------------


def _read_integer(data: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    """Decode the integer whose prefix is in ``data[pos]`` (RFC 7541 section 5.1);
    return it and the position after it."""
    limit = (1 << prefix_bits) - 1
    value = data[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise HPACKError("truncated integer", pos)
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 28:
            raise HPACKError("integer longer than 32 bits", pos)
    if value > MAX_INTEGER:
        raise HPACKError("integer longer than 32 bits", pos)
    return value, pos


def _write_integer(out: bytearray, first: int, value: int, prefix_bits: int) -> None:
    """Append ``value`` with an N-bit prefix; ``first`` holds the representation's flag
    bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        out.append(first | value)
        return
    out.append(first | limit)
    value -= limit
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _byte_step(key: int) -> tuple[int, bytes]:
    """One byte through the 4-bit machine: ``key`` is ``state << 8 | byte``; returns the
    next state (-1 when EOS was decoded) and the 0 to 2 symbols completed."""
    state = key >> 8
    out = bytearray()
    for nibble in ((key >> 4) & 0x0F, key & 0x0F):
        entry = HUFFMAN_DECODE_TABLE[(state << 4) | nibble]
        if entry & HUFF_FAIL:
            return -1, b""
        if entry & HUFF_EMIT:
            out.append((entry >> 8) & 0xFF)
        state = entry & 0xFF
    return state, bytes(out)


#: (state << 8 | byte) -> _byte_step's result, filled on first use: Python pays per
#: bytecode, so a byte per step is about three times faster than a nibble per step
_BYTE_STEPS: list[tuple[int, bytes] | None] = []


def huffman_decode(data: bytes, offset: int = 0) -> bytes:
    """Decode a Huffman-coded string (RFC 7541 Appendix B).

    Rejects the EOS symbol, padding longer than 7 bits and padding that is not the most
    significant bits of EOS (all ones); ``offset`` positions the error in its block.
    """
    steps = _BYTE_STEPS
    if not steps:
        steps.extend([None] * 65536)
    out = bytearray()
    state = 0
    for byte in data:
        key = (state << 8) | byte
        step = steps[key]
        if step is None:
            step = steps[key] = _byte_step(key)
        state, chunk = step
        if state < 0:
            raise HPACKError("EOS symbol in a Huffman string", offset)
        out += chunk
    if state not in HUFFMAN_ACCEPTING:
        raise HPACKError("invalid Huffman padding", offset)
    return bytes(out)


#: every symbol's code as a string of '0'/'1' (a join of these is the whole bit string)
_CODE_BITS: tuple[str, ...] = tuple(
    format(code, f"0{length}b")
    for code, length in zip(HUFFMAN_CODES[:256], HUFFMAN_LENGTHS[:256], strict=True)
)


def huffman_encoded_length(data: bytes) -> int:
    """Bytes the Huffman coding of ``data`` takes."""
    return (sum(map(HUFFMAN_LENGTHS.__getitem__, data)) + 7) >> 3


def huffman_encode(data: bytes) -> bytes:
    """Huffman-code ``data``, padded to a byte with the high bits of EOS (ones)."""
    if not data:
        return b""
    bits = "".join(map(_CODE_BITS.__getitem__, data))
    padding = -len(bits) % 8
    return int(bits + "1" * padding, 2).to_bytes((len(bits) + padding) >> 3, "big")


def _read_string(data: bytes, pos: int) -> tuple[bytes, int]:
    """Decode the string literal at ``pos`` (RFC 7541 section 5.2)."""
    start = pos
    huffman = data[pos] & 0x80
    length, pos = _read_integer(data, pos, 7)
    end = pos + length
    if end > len(data):
        raise HPACKError("truncated string", start)
    raw = data[pos:end]
    if huffman:
        return huffman_decode(raw, start), end
    return raw, end


def _write_string(out: bytearray, value: bytes, huffman: bool) -> None:
    if huffman and value:
        size = huffman_encoded_length(value)
        if size < len(value):
            _write_integer(out, 0x80, size, 7)
            out += huffman_encode(value)
            return
    _write_integer(out, 0, len(value), 7)
    out += value


# -- decoder ---------------------------------------------------------------------------


class Decoder:
    """Decodes header blocks with one dynamic table (see the module docstring)."""

    __slots__ = (
        "_entries",
        "_limit",
        "_max_size",
        "_required",
        "_size",
        "max_header_list_size",
    )

    def __init__(
        self,
        max_table_size: int = DEFAULT_TABLE_SIZE,
        max_header_list_size: int = DEFAULT_MAX_HEADER_LIST_SIZE,
    ) -> None:
        self._limit = _check_setting(max_table_size)
        self._max_size = self._limit
        self._size = 0
        # oldest first: dynamic index 1 is the last item
        self._entries: list[tuple[bytes, bytes]] = []
        # the smallest setting since the last block when it fell below the table's size:
        # the next block must start with an update at most this big (-1: none required)
        self._required = -1
        self.max_header_list_size = int(max_header_list_size)

    @property
    def header_table_size(self) -> int:
        """Our SETTINGS_HEADER_TABLE_SIZE: the largest table size the peer may ask for."""
        return self._limit

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        value = _check_setting(value)
        if value < self._max_size and (self._required < 0 or value < self._required):
            self._required = value
        self._limit = value

    @property
    def table_size(self) -> int:
        """Bytes the dynamic table holds now, as RFC 7541 counts them."""
        return self._size

    @property
    def max_table_size(self) -> int:
        """The dynamic table's current maximum size (the peer's latest update)."""
        return self._max_size

    def __len__(self) -> int:
        """Entries in the dynamic table."""
        return len(self._entries)

    def _evict(self, max_size: int) -> None:
        entries = self._entries
        drop = 0
        size = self._size
        while size > max_size:
            name, value = entries[drop]
            size -= len(name) + len(value) + ENTRY_OVERHEAD
            drop += 1
        if drop:
            del entries[:drop]
            self._size = size

    def _add(self, field: tuple[bytes, bytes]) -> None:
        size = len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
        if size > self._max_size:
            self._entries.clear()
            self._size = 0
            return
        self._evict(self._max_size - size)
        self._entries.append(field)
        self._size += size

    def _field(self, index: int, pos: int) -> tuple[bytes, bytes]:
        if index == 0:
            raise HPACKError("index 0", pos)
        if index <= STATIC_TABLE_SIZE:
            return STATIC_TABLE[index - 1]
        dynamic = index - STATIC_TABLE_SIZE
        entries = self._entries
        if dynamic > len(entries):
            raise HPACKError(f"index {index} is not in the table", pos)
        return entries[len(entries) - dynamic]

    def _size_update(self, data: bytes, pos: int) -> int:
        value, end = _read_integer(data, pos, 5)
        if value > self._limit:
            raise HPACKError(f"table size update to {value} above the limit {self._limit}", pos)
        if self._required >= 0 and value <= self._required:
            self._required = -1
        self._max_size = value
        self._evict(value)
        return end

    def decode(self, block: bytes | bytearray | memoryview) -> list[tuple[bytes, bytes]]:
        """Decode one complete header block into ``(name, value)`` pairs, in order."""
        data = bytes(block)
        end = len(data)
        pos = 0
        while pos < end and data[pos] & 0xE0 == 0x20:
            pos = self._size_update(data, pos)
        if self._required >= 0:
            raise HPACKError(
                "the block does not start with the table size update the lowered setting requires",
                pos,
            )
        headers: list[tuple[bytes, bytes]] = []
        budget = self.max_header_list_size
        while pos < end:
            start = pos
            first = data[pos]
            if first & 0x80:
                index, pos = _read_integer(data, pos, 7)
                field = self._field(index, start)
            elif first & 0xE0 == 0x20:
                raise HPACKError("table size update after a header field", start)
            else:
                prefix = 6 if first & 0x40 else 4
                index, pos = _read_integer(data, pos, prefix)
                if index:
                    name = self._field(index, start)[0]
                else:
                    if pos >= end:
                        raise HPACKError("truncated header field", pos)
                    name, pos = _read_string(data, pos)
                if pos >= end:
                    raise HPACKError("truncated header field", pos)
                value, pos = _read_string(data, pos)
                field = (name, value)
                if prefix == 6:
                    self._add(field)
            budget -= len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
            if budget >= 0:
                headers.append(field)
        if budget < 0:
            raise HeaderListTooLarge(
                f"the header list is larger than {self.max_header_list_size} bytes"
            )
        return headers


# -- encoder ---------------------------------------------------------------------------

_STATIC_FIELDS: dict[tuple[bytes, bytes], int] = {}
_STATIC_NAMES: dict[bytes, int] = {}
for _i, _f in enumerate(STATIC_TABLE, 1):
    _STATIC_FIELDS.setdefault(_f, _i)
    _STATIC_NAMES.setdefault(_f[0], _i)
del _i, _f


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"header names and values must be bytes or str, not {type(value).__name__}")


class Encoder:
    """Encodes header lists with one dynamic table (see the module docstring)."""

    __slots__ = (
        "_entries",
        "_evicted",
        "_fields",
        "_inserted",
        "_last",
        "_limit",
        "_max_size",
        "_names",
        "_pending_min",
        "_size",
        "sensitive",
    )

    def __init__(
        self,
        max_table_size: int = DEFAULT_TABLE_SIZE,
        sensitive: Iterable[bytes] = SENSITIVE_HEADERS,
    ) -> None:
        self._limit = _check_setting(max_table_size)
        self._max_size = self._limit
        self._size = 0
        # oldest first; the entry inserted n-th (from 0) has id n and is at HPACK index
        # STATIC_TABLE_SIZE + (inserted - id) while id >= evicted
        self._entries: list[tuple[bytes, bytes]] = []
        self._inserted = 0
        self._evicted = 0
        self._fields: dict[tuple[bytes, bytes], int] = {}
        self._names: dict[bytes, int] = {}
        self._pending_min = -1  # the smallest setting since the last block, -1: none
        if sensitive is SENSITIVE_HEADERS:  # already lower-case bytes
            self.sensitive = SENSITIVE_HEADERS
        else:
            self.sensitive = frozenset(_as_bytes(name).lower() for name in sensitive)
        #: the last header list that changed nothing in the table, with what its block
        #: depends on: (headers copy, entries inserted, huffman, sensitive, block)
        self._last: tuple[list[Any], int, bool, frozenset[bytes], bytes] | None = None

    @property
    def header_table_size(self) -> int:
        """The peer's SETTINGS_HEADER_TABLE_SIZE: the table size this encoder uses."""
        return self._limit

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        value = _check_setting(value)
        if self._pending_min < 0 or value < self._pending_min:
            self._pending_min = value
        self._limit = value

    @property
    def table_size(self) -> int:
        """Bytes the dynamic table holds now, as RFC 7541 counts them."""
        return self._size

    def __len__(self) -> int:
        """Entries in the dynamic table."""
        return len(self._entries)

    def _evict(self, max_size: int) -> None:
        entries = self._entries
        drop = 0
        size = self._size
        while size > max_size:
            field = entries[drop]
            size -= len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
            entry_id = self._evicted + drop
            if self._fields.get(field) == entry_id:
                del self._fields[field]
            if self._names.get(field[0]) == entry_id:
                del self._names[field[0]]
            drop += 1
        if drop:
            del entries[:drop]
            self._evicted += drop
            self._size = size

    def _add(self, field: tuple[bytes, bytes], size: int) -> None:
        self._evict(self._max_size - size)
        self._entries.append(field)
        self._fields[field] = self._inserted
        self._names[field[0]] = self._inserted
        self._inserted += 1
        self._size += size

    def _resize(self, out: bytearray, max_size: int) -> None:
        _write_integer(out, 0x20, max_size, 5)
        self._max_size = max_size
        self._evict(max_size)
        self._last = None  # the last block may name entries evicted now

    def _size_updates(self, out: bytearray) -> None:
        """The updates owed since the setting last changed: the smallest value seen,
        then the final one (RFC 7541 section 4.2)."""
        if self._pending_min < 0:
            return
        if self._pending_min < self._limit:
            self._resize(out, self._pending_min)
        self._resize(out, self._limit)
        self._pending_min = -1

    def _index_of(self, entry_id: int) -> int:
        return STATIC_TABLE_SIZE + self._inserted - entry_id

    def _encode_field(
        self, out: bytearray, name: bytes, value: bytes, sensitive: bool, huffman: bool
    ) -> None:
        field = (name, value)
        if not sensitive:
            index = _STATIC_FIELDS.get(field)
            if index is None:
                entry_id = self._fields.get(field)
                if entry_id is not None:
                    index = self._index_of(entry_id)
            if index is not None:
                _write_integer(out, 0x80, index, 7)
                return
        name_index = _STATIC_NAMES.get(name)
        if name_index is None:
            entry_id = self._names.get(name)
            name_index = 0 if entry_id is None else self._index_of(entry_id)
        size = len(name) + len(value) + ENTRY_OVERHEAD
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

    def _is_sensitive(self, header: Any, name: bytes) -> bool:
        """A third item decides; else the name, in any case, is looked up in ``sensitive``."""
        if len(header) > 2:
            return bool(header[2])
        return name.lower() in self.sensitive

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:
        """Encode one header list into a header block.

        A list equal to the last one, encoded while the table has not changed since, gets
        the same block again without encoding: a client sends the same request head over
        and over, and once its fields are all in the table every block is the same."""
        huffman = bool(huffman)
        last = self._last
        is_list = type(headers) is list
        if (
            is_list
            and last is not None
            and self._pending_min < 0
            and last[1] == self._inserted
            and last[2] == huffman
            and last[3] is self.sensitive
            and headers == last[0]
        ):
            return last[4]
        inserted = self._inserted
        resized = self._pending_min >= 0
        block = self._encode(headers, huffman)
        if is_list and not resized and self._inserted == inserted:
            self._last = (list(headers), inserted, huffman, self.sensitive, block)
        return block

    def _encode(self, headers: Iterable[Any], huffman: bool) -> bytes:
        out = bytearray()
        self._size_updates(out)
        for header in headers:
            name = _as_bytes(header[0])
            value = _as_bytes(header[1])
            sensitive = self._is_sensitive(header, name)
            self._encode_field(out, name, value, sensitive, huffman)
        return bytes(out)
