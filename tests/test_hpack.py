"""HPACK (RFC 7541): both twins against the public vectors, the RFC's examples, malformed
blocks, a third-party codec, and each other.

* hpack-test-case: every encoded story of every implementation in the shared copy is
  decoded with one decoder per story (the cases share its dynamic table), and the raw-data
  stories are encoded with our encoder and decoded back (and, when the ``hpack`` package is
  installed, decoded by it too, which checks our encoder against an independent decoder).
* RFC 7541 Appendix C: the decoded lists and table sizes, and our encoder's bytes where
  the RFC's choices are ours.
* Malformed blocks: each raises HPACKError at the expected byte, in both twins.
* Hypothesis: both twins give the same result (or the same error at the same byte) on
  damaged and random blocks, and both encoders produce the same bytes.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from functools import cache
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyhttp import _compat, hpack
from cyhttp._hpack_tables import HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_TABLE
from cyhttp.h2_errors import ErrorCode, HeaderListTooLarge, HPACKError, HTTP2Error
from cyhttp.http_exceptions import BadHttpMessage

from .conftest import Impl, conformance_file

Headers = list[tuple[bytes, bytes]]

#: the encodings the shared copy holds (the file's own "how" says so); a new one fails
#: test_story_set so it is not silently skipped
ENCODED_STORIES = ("go-hpack", "nghttp2", "nghttp2-16384-4096", "nghttp2-change-table-size")


@pytest.fixture
def hp(impl: Impl) -> ModuleType:
    """The HPACK twin matching ``impl`` (the compiled one must be built)."""
    if impl.is_pure_python:
        return hpack.hpack_py
    if hpack.hpack_c is None:
        pytest.fail("cyhttp._hpack is not built (run `make build`)")
    return hpack.hpack_c


@cache
def _stories() -> dict[str, Any]:
    with gzip.open(conformance_file("hpack-test-case.json.gz"), "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _headers(case: dict[str, Any]) -> Headers:
    return [
        (name.encode(), value.encode()) for item in case["headers"] for name, value in item.items()
    ]


def test_this_run_uses_what_it_should(expect_compiled: bool) -> None:
    if expect_compiled:
        assert hpack.impl is hpack.hpack_c, _compat.IMPORT_ERRORS.get("_hpack")
    else:
        assert hpack.impl is hpack.hpack_py
    assert hpack.Decoder is hpack.impl.Decoder
    assert hpack.Encoder is hpack.impl.Encoder


def test_errors_are_cyhttp_errors() -> None:
    assert issubclass(HPACKError, HTTP2Error)
    assert issubclass(HPACKError, BadHttpMessage)
    assert issubclass(HeaderListTooLarge, HPACKError)
    assert HPACKError("x", 3).error_code is ErrorCode.COMPRESSION_ERROR
    assert str(HPACKError("bad", 3)) == "bad (at byte 3)"


# -- hpack-test-case --------------------------------------------------------------------


def test_story_set() -> None:
    stories = _stories()["stories"]
    assert set(stories) == {"raw-data", *ENCODED_STORIES}
    assert "raw-data" in _stories()["how"]


@pytest.mark.parametrize("encoder", ENCODED_STORIES)
def test_decode_stories(hp: ModuleType, encoder: str) -> None:
    stories = _stories()["stories"][encoder]
    decoded = 0
    for name, story in sorted(stories.items()):
        decoder = hp.Decoder()
        for case in story["cases"]:
            if "header_table_size" in case:
                decoder.header_table_size = case["header_table_size"]
            got = decoder.decode(bytes.fromhex(case["wire"]))
            assert got == _headers(case), (encoder, name, case.get("seqno"))
            decoded += 1
    assert decoded > 3000


@pytest.mark.parametrize("huffman", [True, False], ids=["huffman", "plain"])
def test_raw_data_round_trip(hp: ModuleType, huffman: bool) -> None:
    stories = _stories()["stories"]["raw-data"]
    count = 0
    for name, story in sorted(stories.items()):
        encoder, decoder = hp.Encoder(), hp.Decoder()
        for number, case in enumerate(story["cases"]):
            headers = _headers(case)
            block = encoder.encode(headers, huffman=huffman)
            assert decoder.decode(block) == headers, (name, number)
            assert decoder.table_size == encoder.table_size
            count += 1
    assert count > 3000


def test_raw_data_compresses(hp: ModuleType) -> None:
    """The dynamic table and Huffman coding do their job on real traffic."""
    stories = _stories()["stories"]["raw-data"]
    plain = packed = 0
    for story in stories.values():
        encoder = hp.Encoder()
        for case in story["cases"]:
            headers = _headers(case)
            plain += sum(len(n) + len(v) + 4 for n, v in headers)
            packed += len(encoder.encode(headers))
    assert packed < plain / 3


def test_raw_data_through_the_hpack_package(hp: ModuleType) -> None:
    """Our encoder's blocks decode with an independent decoder, and its blocks with ours."""
    ref = pytest.importorskip("hpack")
    stories = _stories()["stories"]["raw-data"]
    for name, story in sorted(stories.items()):
        ours, theirs = hp.Encoder(), ref.Encoder()
        our_decoder, their_decoder = hp.Decoder(), ref.Decoder()
        for case in story["cases"]:
            headers = _headers(case)
            got = their_decoder.decode(ours.encode(headers), raw=True)
            assert [(bytes(n), bytes(v)) for n, v in got] == headers, name
            assert our_decoder.decode(theirs.encode(headers)) == headers, name


# -- RFC 7541 Appendix C ----------------------------------------------------------------


def _plain(text: bytes) -> str:
    """A non-Huffman string literal (length under 127), as hex."""
    return bytes([len(text)]).hex() + text.hex()


DATE_21 = b"Mon, 21 Oct 2013 20:13:21 GMT"
DATE_22 = b"Mon, 21 Oct 2013 20:13:22 GMT"
LOCATION = b"https://www.example.com"
COOKIE = b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

REQUESTS = [
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com")],
    [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"),
     (b":authority", b"www.example.com"), (b"cache-control", b"no-cache")],
    [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
     (b":authority", b"www.example.com"), (b"custom-key", b"custom-value")],
]  # fmt: skip
REQUEST_TABLE_SIZES = [57, 110, 164]
RESPONSES = [
    [(b":status", b"302"), (b"cache-control", b"private"), (b"date", DATE_21),
     (b"location", LOCATION)],
    [(b":status", b"307"), (b"cache-control", b"private"), (b"date", DATE_21),
     (b"location", LOCATION)],
    [(b":status", b"200"), (b"cache-control", b"private"), (b"date", DATE_22),
     (b"location", LOCATION), (b"content-encoding", b"gzip"), (b"set-cookie", COOKIE)],
]  # fmt: skip
RESPONSE_TABLE_SIZES = [222, 222, 215]

C3 = [  # requests without Huffman coding
    "828684" + "41" + _plain(b"www.example.com"),
    "828684be" + "58" + _plain(b"no-cache"),
    "828785bf" + "40" + _plain(b"custom-key") + _plain(b"custom-value"),
]
C4 = [  # the same requests with Huffman coding
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
]
C5 = [  # responses without Huffman coding, table size 256
    "48" + _plain(b"302") + "58" + _plain(b"private") + "61" + _plain(DATE_21)
    + "6e" + _plain(LOCATION),
    "48" + _plain(b"307") + "c1c0bf",
    "88c1" + "61" + _plain(DATE_22) + "c0" + "5a" + _plain(b"gzip") + "77" + _plain(COOKIE),
]  # fmt: skip
C6 = [  # the same responses with Huffman coding
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863"
    "c78f0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b3"
    "35dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
]


@pytest.mark.parametrize(
    ("blocks", "expected", "sizes", "table"),
    [
        (C3, REQUESTS, REQUEST_TABLE_SIZES, 4096),
        (C4, REQUESTS, REQUEST_TABLE_SIZES, 4096),
        (C5, RESPONSES, RESPONSE_TABLE_SIZES, 256),
        (C6, RESPONSES, RESPONSE_TABLE_SIZES, 256),
    ],
    ids=["C.3", "C.4", "C.5", "C.6"],
)
def test_rfc_appendix_c_decode(
    hp: ModuleType, blocks: list[str], expected: list[Headers], sizes: list[int], table: int
) -> None:
    decoder = hp.Decoder(max_table_size=table)
    for block, headers, size in zip(blocks, expected, sizes, strict=True):
        assert decoder.decode(bytes.fromhex(block)) == headers
        assert decoder.table_size == size


@pytest.mark.parametrize(
    ("blocks", "expected", "table", "huffman", "same"),
    [
        (C3, REQUESTS, 4096, False, [0, 1, 2]),
        (C4, REQUESTS, 4096, True, [0, 1, 2]),
        (C5, RESPONSES, 256, False, [0, 1, 2]),
        # "307" is no shorter in Huffman: we send it plain, the RFC coded it
        (C6, RESPONSES, 256, True, [0, 2]),
    ],
    ids=["C.3", "C.4", "C.5", "C.6"],
)
def test_rfc_appendix_c_encode(
    hp: ModuleType,
    blocks: list[str],
    expected: list[Headers],
    table: int,
    huffman: bool,
    same: list[int],
) -> None:
    encoder = hp.Encoder(max_table_size=table, sensitive=())
    decoder = hp.Decoder(max_table_size=table)
    for number, (block, headers) in enumerate(zip(blocks, expected, strict=True)):
        ours = encoder.encode(headers, huffman=huffman)
        if number in same:
            assert ours.hex() == block
        assert decoder.decode(ours) == headers


@pytest.mark.parametrize(
    ("block", "headers", "table_size"),
    [
        ("40" + _plain(b"custom-key") + _plain(b"custom-header"),
         [(b"custom-key", b"custom-header")], 55),
        ("04" + _plain(b"/sample/path"), [(b":path", b"/sample/path")], 0),
        ("10" + _plain(b"password") + _plain(b"secret"), [(b"password", b"secret")], 0),
        ("82", [(b":method", b"GET")], 0),
    ],
    ids=["C.2.1 incremental", "C.2.2 without indexing", "C.2.3 never indexed", "C.2.4 indexed"],
)  # fmt: skip
def test_rfc_appendix_c2(hp: ModuleType, block: str, headers: Headers, table_size: int) -> None:
    decoder = hp.Decoder()
    assert decoder.decode(bytes.fromhex(block)) == headers
    assert decoder.table_size == table_size
    assert len(decoder) == (1 if table_size else 0)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(10, "2a"), (30, "3e"), (31, "3f00"), (1337, "3f9a0a"), (0xFFFFFFFF, "3fe0ffffff0f")],
)
def test_integers(hp: ModuleType, value: int, encoded: str) -> None:
    """RFC 7541 C.1's integers (5-bit prefix), carried by table size updates, both ways."""
    encoder = hp.Encoder()
    encoder.header_table_size = value
    assert encoder.encode([]).hex() == encoded
    decoder = hp.Decoder(max_table_size=value)
    assert decoder.decode(bytes.fromhex(encoded)) == []
    assert decoder.max_table_size == value


# -- Huffman -----------------------------------------------------------------------------


def test_huffman_every_byte_round_trips(hp: ModuleType) -> None:
    everything = bytes(range(256))
    coded = hp.huffman_encode(everything)
    assert len(coded) == hp.huffman_encoded_length(everything)
    assert hp.huffman_decode(coded) == everything
    for byte in range(256):
        one = bytes([byte])
        assert hp.huffman_decode(hp.huffman_encode(one)) == one


def test_huffman_code_matches_the_hpack_package() -> None:
    """Our code table is computed from the RFC's lengths; an independent table agrees."""
    constants = pytest.importorskip("hpack.huffman_constants")
    assert tuple(constants.REQUEST_CODES) == HUFFMAN_CODES
    assert tuple(constants.REQUEST_CODES_LENGTH) == HUFFMAN_LENGTHS


def test_huffman_known_codes() -> None:
    # spot checks from RFC 7541 Appendix B
    assert (HUFFMAN_CODES[ord("0")], HUFFMAN_LENGTHS[ord("0")]) == (0x0, 5)
    assert (HUFFMAN_CODES[ord(":")], HUFFMAN_LENGTHS[ord(":")]) == (0x5C, 7)
    assert (HUFFMAN_CODES[0], HUFFMAN_LENGTHS[0]) == (0x1FF8, 13)
    assert (HUFFMAN_CODES[255], HUFFMAN_LENGTHS[255]) == (0x3FFFFEE, 26)
    assert (HUFFMAN_CODES[256], HUFFMAN_LENGTHS[256]) == (0x3FFFFFFF, 30)


@pytest.mark.parametrize(
    ("coded", "why"),
    [
        ("ffffffff", "EOS"),  # 30 one-bits are EOS
        ("1fffffffff", "EOS"),  # 'a' then EOS
        ("1fff", "padding"),  # 'a' then 11 one-bits of padding
        ("18", "padding"),  # 'a' then 000: padding must be ones
        ("1e", "padding"),  # 'a' then 110
        ("fe", "padding"),  # 8 one-bits: padding longer than 7 bits
        ("ff", "padding"),
    ],
)
def test_huffman_rejects(hp: ModuleType, coded: str, why: str) -> None:
    with pytest.raises(HPACKError, match=why):
        hp.huffman_decode(bytes.fromhex(coded))
    # and inside a block, at the string's first byte
    raw = bytes.fromhex(coded)
    block = bytes([0x00, 0x01]) + b"a" + bytes([0x80 | len(raw)]) + raw
    with pytest.raises(HPACKError, match=why) as info:
        hp.Decoder().decode(block)
    assert info.value.offset == 3


def test_huffman_accepts_padding_up_to_7_bits(hp: ModuleType) -> None:
    assert hp.huffman_decode(bytes.fromhex("1f")) == b"a"  # 00011 + 111
    assert hp.huffman_decode(b"") == b""
    # '0' is 00000: five bits, three of padding; '00' is ten, six of padding
    assert hp.huffman_decode(bytes([0b00000111])) == b"0"
    assert hp.huffman_decode(bytes([0b00000000, 0b00111111])) == b"00"


# -- malformed blocks --------------------------------------------------------------------

MALFORMED = [
    # (block hex, message fragment, offset)
    ("ff", "truncated integer", 1),
    ("ff80", "truncated integer", 2),
    ("ff8080808080", "longer than 32 bits", 6),
    ("3fffffffff0f", "longer than 32 bits", 6),  # 2**32 + 30: within 5 bytes, too big
    ("80", "index 0", 0),
    ("be", "index 62 is not in the table", 0),
    ("ff8101", "is not in the table", 0),
    ("7e", "index 62 is not in the table", 0),  # literal whose indexed name is absent
    ("82" + "0f2f" + "00", "is not in the table", 1),
    ("4005616263", "truncated string", 1),
    ("400161", "truncated header field", 3),
    ("00", "truncated header field", 1),
    ("0f01", "truncated header field", 2),
    ("0001610580", "truncated string", 3),
    ("007fffffff07", "truncated string", 1),  # claims 16 MiB: refused, not allocated
    ("00ffffffff07", "truncated string", 1),  # the same, Huffman-coded
    ("3fe21f", "above the limit 4096", 0),  # an update to 4097
    ("8220", "update after a header field", 1),
    ("823f00", "update after a header field", 1),
]


@pytest.mark.parametrize(("block", "message", "offset"), MALFORMED)
def test_malformed_blocks(hp: ModuleType, block: str, message: str, offset: int) -> None:
    with pytest.raises(HPACKError, match=message) as info:
        hp.Decoder().decode(bytes.fromhex(block))
    assert info.value.offset == offset
    assert type(info.value) is HPACKError


def test_size_update_bounded_by_the_setting(hp: ModuleType) -> None:
    decoder = hp.Decoder(max_table_size=100)
    with pytest.raises(HPACKError, match="above the limit 100"):
        decoder.decode(bytes.fromhex("3f46"))  # 101
    decoder = hp.Decoder(max_table_size=100)
    assert decoder.decode(bytes.fromhex("3f45")) == []  # 100
    assert decoder.max_table_size == 100
    decoder.header_table_size = 8192  # raising the setting needs no update
    assert decoder.decode(bytes.fromhex("3fe13f")) == []  # 8192
    assert decoder.max_table_size == 8192


def test_lowered_setting_requires_an_update(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(), hp.Decoder()
    decoder.decode(encoder.encode([(b"x-a", b"1" * 100)]))
    decoder.header_table_size = 64
    with pytest.raises(HPACKError, match="does not start with the table size update"):
        decoder.decode(bytes.fromhex("82"))
    decoder = hp.Decoder()
    decoder.header_table_size = 64
    decoder.header_table_size = 100
    with pytest.raises(HPACKError, match="does not start"):
        decoder.decode(bytes.fromhex("3f3182"))  # an update to 80: above the lowest, 64
    decoder = hp.Decoder()
    decoder.header_table_size = 64
    decoder.header_table_size = 100
    assert decoder.decode(bytes.fromhex("3f21" + "3f45" + "82")) == [(b":method", b"GET")]
    assert decoder.max_table_size == 100
    decoder = hp.Decoder()
    decoder.header_table_size = 64
    decoder.header_table_size = 4096  # back up: the smallest value must still be signalled
    with pytest.raises(HPACKError, match="does not start"):
        decoder.decode(bytes.fromhex("3fe11f82"))
    assert decoder.header_table_size == 4096


def test_lowered_setting_is_honoured_by_our_encoder(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(), hp.Decoder()
    first = [(b"x-a", b"1" * 100), (b"x-b", b"2")]
    assert decoder.decode(encoder.encode(first)) == first
    assert len(decoder) == 2
    for setting in (64, 0, 4096):
        encoder.header_table_size = setting
        decoder.header_table_size = setting
    block = encoder.encode(first)
    # the smallest value first, then the final one
    assert block.startswith(bytes.fromhex("20" + "3fe11f"))
    assert decoder.decode(block) == first
    assert decoder.max_table_size == 4096
    assert decoder.table_size == encoder.table_size


def test_table_size_zero_disables_indexing(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(max_table_size=0), hp.Decoder(max_table_size=0)
    headers = [(b"x-a", b"1"), (b"x-a", b"1")]
    for _ in range(2):
        assert decoder.decode(encoder.encode(headers)) == headers
    assert len(encoder) == len(decoder) == 0


def test_setting_must_be_32_bit(hp: ModuleType) -> None:
    for bad in (-1, 2**32):
        with pytest.raises(ValueError):
            hp.Decoder(max_table_size=bad)
        with pytest.raises(ValueError):
            hp.Encoder().header_table_size = bad


def test_decode_accepts_bytes_likes(hp: ModuleType) -> None:
    block = bytes.fromhex(C4[0])
    for form in (block, bytearray(block), memoryview(block)):
        assert hp.Decoder().decode(form) == REQUESTS[0]


# -- header list size --------------------------------------------------------------------


def test_header_list_too_large_keeps_the_decoder_usable(hp: ModuleType) -> None:
    encoder = hp.Encoder()
    decoder = hp.Decoder(max_header_list_size=200)
    big = [(b"x-a", b"1" * 100), (b"x-b", b"2" * 100)]
    with pytest.raises(HeaderListTooLarge, match="larger than 200"):
        decoder.decode(encoder.encode(big))
    # the block was read to its end: the table still matches the encoder's
    assert decoder.table_size == encoder.table_size
    assert decoder.decode(encoder.encode(big[:1])) == big[:1]
    assert encoder.encode(big[:1]) == bytes([0x80 | 63])  # indexed: x-a is entry 2 now


def test_header_list_size_counts_32_per_field(hp: ModuleType) -> None:
    block = bytes.fromhex("82" * 3)  # 3 x (7 + 3 + 32) = 126
    assert len(hp.Decoder(max_header_list_size=126).decode(block)) == 3
    with pytest.raises(HeaderListTooLarge):
        hp.Decoder(max_header_list_size=125).decode(block)


def test_indexed_amplification_is_bounded(hp: ModuleType) -> None:
    """One byte per field referencing a 4 KiB entry cannot build a huge list."""
    encoder, decoder = hp.Encoder(max_table_size=8192), hp.Decoder(max_table_size=8192)
    decoder.decode(encoder.encode([(b"x", b"v" * 4000)]))
    block = bytes([0x80 | 62]) * 10_000  # would be 40 MB of header list
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(block)


def test_an_hpack_error_after_the_list_is_too_large_wins(hp: ModuleType) -> None:
    with pytest.raises(HPACKError) as info:
        hp.Decoder(max_header_list_size=50).decode(bytes.fromhex("828280"))
    assert type(info.value) is HPACKError


# -- encoder -----------------------------------------------------------------------------


def test_a_repeated_list_reuses_its_block_only_while_it_is_valid(hp: ModuleType) -> None:
    """The encoder hands back the last block for an equal list while the table is as it
    was; every change that would alter the block makes it encode again."""
    encoder, decoder = hp.Encoder(), hp.Decoder()
    head = [(b":method", b"GET"), (b":path", b"/a"), (b"x-a", b"1")]

    def sent(headers: Headers) -> bytes:
        block = encoder.encode(headers)
        assert decoder.decode(block) == headers
        return block

    first = sent(head)  # inserts :path /a and x-a
    indexed = sent(head)
    assert len(indexed) == 3 < len(first)  # one index each
    assert sent(list(head)) == indexed
    head[2] = (b"x-a", b"2")  # changed in place
    assert sent(head) != indexed
    head[2] = (b"x-a", b"1")
    again = sent(head)
    sent([(b"x-b", b"3")])  # an insertion moves the dynamic indexes
    assert sent(head) != again
    encoder.header_table_size = 4096  # a size update is owed: it opens the next block
    block = sent(head)
    assert block[0] & 0xE0 == 0x20
    encoder.header_table_size = 0  # evicts everything; nothing can be inserted after it
    sent(head)
    sent(head)  # not a block remembered from before the eviction
    encoder.header_table_size = 4096
    sent(head)
    encoder.sensitive = frozenset({b"x-a"})  # never indexed from now on
    block = sent(head)
    assert block[0] & block[1] & 0x80 and block[2] & 0xF0 == 0x10  # literal, never indexed
    assert sent(head) == block


def test_sensitive_headers_are_never_indexed(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(), hp.Decoder()
    headers = [
        (b"authorization", b"Bearer secret"),
        (b"cookie", b"a=b"),
        (b"x-token", b"t", True),
        (b"Proxy-Authorization", b"Basic x"),
    ]
    block = encoder.encode(headers)
    assert len(encoder) == 0
    assert decoder.decode(block) == [(h[0], h[1]) for h in headers]
    assert len(decoder) == 0
    # each field is a never-indexed literal (0001xxxx)
    again = encoder.encode(headers[:1])
    assert again[0] & 0xF0 == 0x10
    assert again[0] & 0x0F == 0x0F  # name index 23 needs a continuation byte


def test_sensitive_set_and_third_item(hp: ModuleType) -> None:
    encoder = hp.Encoder(sensitive=[b"X-Secret"])
    assert encoder.sensitive == frozenset({b"x-secret"})
    assert encoder.encode([(b"cookie", b"a=b")])[0] & 0xC0 == 0x40  # incremental this time
    assert encoder.encode([(b"x-secret", b"1")])[0] & 0xF0 == 0x10  # never indexed
    assert encoder.encode([(b"authorization", b"x", False)])[0] & 0xC0 == 0x40
    assert len(encoder) == 2


def test_str_headers_are_utf8(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(), hp.Decoder()
    assert decoder.decode(encoder.encode([("x-name", "caf\u00e9")])) == [
        (b"x-name", "caf\u00e9".encode())
    ]
    with pytest.raises(TypeError):
        encoder.encode([(b"x", 1)])


def test_repeated_headers_become_indices(hp: ModuleType) -> None:
    encoder = hp.Encoder()
    headers = [(b":status", b"200"), (b"server", b"cyhttp"), (b"x-request-id", b"abc")]
    first = encoder.encode(headers)
    second = encoder.encode(headers)
    assert len(second) == 3 < len(first)
    assert second == bytes([0x88, 0x80 | 63, 0x80 | 62])


def test_large_fields_are_not_indexed(hp: ModuleType) -> None:
    encoder = hp.Encoder(max_table_size=256)
    encoder.encode([(b"x-big", b"v" * 200)])  # 237 > 3/4 of 256
    assert len(encoder) == 0
    encoder.encode([(b"x-small", b"v" * 100)])
    assert len(encoder) == 1


def test_eviction_keeps_indices_right(hp: ModuleType) -> None:
    encoder, decoder = hp.Encoder(max_table_size=200), hp.Decoder(max_table_size=200)
    for round_ in range(30):
        headers = [(b"x-%d" % (i % 7), b"%d" % ((round_ * i) % 5)) for i in range(6)]
        assert decoder.decode(encoder.encode(headers)) == headers
        assert decoder.table_size == encoder.table_size <= 200


def test_static_table_lookups(hp: ModuleType) -> None:
    """Every static field is sent as one byte: the index of its first occurrence."""
    for field in STATIC_TABLE:
        first = STATIC_TABLE.index(field) + 1
        assert hp.Encoder(sensitive=()).encode([field]) == bytes([0x80 | first])


# -- the twins agree ---------------------------------------------------------------------

needs_both = pytest.mark.skipif(
    hpack.hpack_c is None and _compat.NO_EXTENSIONS,
    reason="pure-Python build (CYHTTP_NO_EXTENSIONS): no compiled HPACK to compare with",
)


def _both() -> tuple[ModuleType, ModuleType]:
    if hpack.hpack_c is None:
        pytest.fail("cyhttp._hpack is not built (run `make build`)")
    return hpack.hpack_c, hpack.hpack_py


def _outcome(decoder: Any, block: bytes) -> Any:
    try:
        return ("ok", decoder.decode(block), decoder.table_size, len(decoder))
    except HPACKError as exc:
        return ("error", type(exc), exc.offset, exc.message)


NAMES = [f[0] for f in STATIC_TABLE[::5]] + [b"x-custom", b"set-cookie", b""]
name_st = st.one_of(st.sampled_from(NAMES), st.binary(max_size=12))
value_st = st.one_of(st.sampled_from([b"", b"200", b"gzip", b"x" * 90]), st.binary(max_size=40))
header_st = st.tuples(name_st, value_st)
blocks_st = st.lists(st.lists(header_st, max_size=8), min_size=1, max_size=5)


@needs_both
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=blocks_st,
    table=st.sampled_from([0, 64, 256, 4096]),
    huffman=st.booleans(),
    damage=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    tail=st.binary(max_size=16),
)
def test_twins_agree_on_damaged_blocks(
    blocks: list[Headers],
    table: int,
    huffman: bool,
    damage: list[tuple[int, int]],
    tail: bytes,
) -> None:
    c, py = _both()
    encoders = c.Encoder(max_table_size=table), py.Encoder(max_table_size=table)
    decoders = c.Decoder(max_table_size=table), py.Decoder(max_table_size=table)
    for headers in blocks:
        encoded = [encoder.encode(headers, huffman=huffman) for encoder in encoders]
        assert encoded[0] == encoded[1]
        assert [d.decode(encoded[0]) for d in decoders] == [headers, headers]
    block = bytearray(encoded[0])
    for pos, byte in damage:
        if block:
            block[pos % len(block)] = byte
    block += tail
    c_out, py_out = (_outcome(d, bytes(block)) for d in decoders)
    assert c_out == py_out


@needs_both
@settings(max_examples=300, deadline=None)
@given(block=st.binary(max_size=64), limit=st.sampled_from([100, 4096]))
def test_twins_agree_on_random_bytes(block: bytes, limit: int) -> None:
    c, py = _both()
    seed = [(b"x-seed", b"1"), (b"server", b"s")]
    decoders = c.Decoder(max_header_list_size=limit), py.Decoder(max_header_list_size=limit)
    for decoder in decoders:
        decoder.decode(py.Encoder().encode(seed))
    outcomes = []
    for decoder in decoders:
        try:
            outcomes.append(("ok", decoder.decode(block), decoder.table_size))
        except HPACKError as exc:  # HeaderListTooLarge included; nothing else may escape
            outcomes.append(("error", type(exc), exc.offset, exc.message))
    assert outcomes[0] == outcomes[1]


@needs_both
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=80))
def test_twins_agree_on_huffman(data: bytes) -> None:
    c, py = _both()
    assert c.huffman_encode(data) == py.huffman_encode(data)
    assert c.huffman_encoded_length(data) == py.huffman_encoded_length(data)
    results = []
    for twin in (c, py):
        try:
            results.append(twin.huffman_decode(data))
        except HPACKError as exc:
            results.append(exc.message)
    assert results[0] == results[1]


# -- imports -----------------------------------------------------------------------------


def _fresh(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CYHTTP_NO_EXTENSIONS"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    "module",
    ["cyhttp.hpack", "cyhttp.h2_errors", "cyhttp.h2_frames", "cyhttp._h2_models",
     "cyhttp._hpack_tables", "cyhttp._hpack_py", "cyhttp._h2frames_py"],
)  # fmt: skip
def test_each_module_imports_alone(module: str) -> None:
    assert _fresh(f"import {module}; print('ok')") == "ok"


def test_import_cyhttp_leaves_http2_alone() -> None:
    """HTTP/1.1 users do not pay for the HTTP/2 tables at import."""
    code = "import sys, cyhttp\nprint(sorted(m for m in sys.modules if 'hpack' in m or 'h2' in m))"
    assert _fresh(code) == "[]"


def test_the_benchmark_runs() -> None:
    from benchmarks import bench_hpack

    rows = bench_hpack.run(quick=True)
    assert {r["bench"] for r in rows} == {"decode first", "decode repeat", "encode first"}
    ours = [r for r in rows if r["impl"] == "cyhttp pure" or not _compat.NO_EXTENSIONS]
    ours = [r for r in ours if r["impl"].startswith("cyhttp")]
    assert len(ours) == (6 if not _compat.NO_EXTENSIONS else 3)
    assert all(r["value"] is not None and r["value"] > 0 for r in ours), ours
