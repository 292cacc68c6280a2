"""Constant tables of HPACK (RFC 7541), shared by both codec twins.

A leaf module: the static table (Appendix A), the Huffman code (Appendix B) and the
4-bit-at-a-time Huffman decoding state machine generated from it. Both ``_hpack_py`` and
``_hpack`` import it, so the twins can never disagree about a constant.

The Huffman code of Appendix B is *canonical*: within one code length, codes are
consecutive integers in symbol order, and each length's first code follows the previous
length's last one. So the whole code is fixed by the 257 code lengths below, and the codes
themselves are computed rather than typed out (a typo in a length breaks the Kraft sum,
which :func:`_canonical_codes` checks).
"""

from __future__ import annotations

__all__ = (
    "EOS",
    "HUFFMAN_ACCEPTING",
    "HUFFMAN_CODES",
    "HUFFMAN_DECODE_TABLE",
    "HUFFMAN_LENGTHS",
    "HUFF_ACCEPT",
    "HUFF_EMIT",
    "HUFF_FAIL",
    "STATIC_TABLE",
    "STATIC_TABLE_SIZE",
)

#: RFC 7541 Appendix A: index 1..61 (entry i is STATIC_TABLE[i - 1]).
STATIC_TABLE: tuple[tuple[bytes, bytes], ...] = (
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
)
STATIC_TABLE_SIZE = len(STATIC_TABLE)

#: symbol 256: end of string, never valid inside a string
EOS = 256


def _lengths() -> tuple[int, ...]:
    """Code length in bits of every symbol 0..256, from RFC 7541 Appendix B, written as
    runs so that the common printable range reads like the RFC's table."""
    lengths = [0] * 257

    def put(first: int, *bits: int) -> None:
        for offset, n in enumerate(bits):
            lengths[first + offset] = n

    # control characters: mostly 28 bits; TAB 24, LF/CR/22 30, NUL 13, SOH 23
    put(0, 13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28)
    put(16, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28)
    # ' ' ! " # $ % & ' ( ) * + , - . /
    put(32, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6)
    # 0-9 : ; < = > ?
    put(48, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10)
    # @ A-O
    put(64, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7)
    # P-Z [ \ ] ^ _
    put(80, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6)
    # ` a-o
    put(96, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5)
    # p-z { | } ~ DEL
    put(112, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28)
    # the upper half: 19 to 28 bits
    put(128, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23)
    put(144, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24)
    put(160, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23)
    put(176, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23)
    put(192, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25)
    put(208, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27)
    put(224, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23)
    put(240, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26)
    put(EOS, 30)
    return tuple(lengths)


def _canonical_codes(lengths: tuple[int, ...]) -> tuple[int, ...]:
    """Assign canonical codes (shorter first, then by symbol) and check that the code is
    complete (Kraft sum exactly 1), which catches any mistyped length."""
    codes = [0] * len(lengths)
    code = 0
    previous = 0
    for symbol in sorted(range(len(lengths)), key=lambda s: (lengths[s], s)):
        code <<= lengths[symbol] - previous
        previous = lengths[symbol]
        codes[symbol] = code
        code += 1
    if code != 1 << previous:
        raise AssertionError("the HPACK Huffman code lengths do not form a complete code")
    return tuple(codes)


HUFFMAN_LENGTHS: tuple[int, ...] = _lengths()
HUFFMAN_CODES: tuple[int, ...] = _canonical_codes(HUFFMAN_LENGTHS)

# Flags of a decoding table entry (see _decode_table).
HUFF_EMIT = 0x10000  # a symbol was completed: it is bits 8..15
HUFF_FAIL = 0x20000  # the EOS code was completed: the string is invalid
HUFF_ACCEPT = 0x40000  # the new state may end a string (only 1-bit padding of <= 7 bits)


def _build_tree() -> list[list[int]]:
    """The code as a binary tree: ``tree[node] = [child0, child1]`` where a child >= 0 is
    an internal node and a child < 0 is the leaf of symbol ``-child - 1``. Node 0 is the
    root; a complete code of 257 symbols has 256 internal nodes."""
    tree: list[list[int]] = [[0, 0]]
    for symbol, (code, length) in enumerate(zip(HUFFMAN_CODES, HUFFMAN_LENGTHS, strict=True)):
        node = 0
        for shift in range(length - 1, 0, -1):
            bit = (code >> shift) & 1
            if tree[node][bit] == 0:
                tree.append([0, 0])
                tree[node][bit] = len(tree) - 1
            node = tree[node][bit]
        tree[node][code & 1] = -symbol - 1
    return tree


def _accepting_states(tree: list[list[int]]) -> set[int]:
    """States where a string may end: the root (byte-aligned end) and the nodes reached
    from the root by one to seven 1-bits (the prefix of EOS used as padding)."""
    accepting = {0}
    node = 0
    for _ in range(7):
        node = tree[node][1]
        accepting.add(node)
    return accepting


def _decode_table() -> tuple[tuple[int, ...], frozenset[int]]:
    """The 4-bit state machine: entry ``state * 16 + nibble`` is the next state (bits 0..7)
    with HUFF_* flags and the emitted symbol (bits 8..15). No code is shorter than 5 bits,
    so one nibble completes at most one symbol. Also returns the accepting states."""
    tree = _build_tree()
    accepting = _accepting_states(tree)
    table = []
    for state in range(len(tree)):
        for nibble in range(16):
            node, flags = state, 0
            for shift in (3, 2, 1, 0):
                child = tree[node][(nibble >> shift) & 1]
                if child >= 0:
                    node = child
                    continue
                symbol = -child - 1
                if symbol == EOS:
                    flags |= HUFF_FAIL
                else:
                    flags |= HUFF_EMIT | (symbol << 8)
                node = 0
            if node in accepting:
                flags |= HUFF_ACCEPT
            table.append(node | flags)
    return tuple(table), frozenset(accepting)


HUFFMAN_DECODE_TABLE, HUFFMAN_ACCEPTING = _decode_table()
