"""The WebSocket framing core (both twins): masking, building, reading, permessage-deflate.

Vectors are written from the RFC 6455 §5.7 examples; the ``websockets`` package's own frame
codec serves as an independent peer for the compressed and the random frames.
"""

from __future__ import annotations

import itertools
import os
import zlib
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from cyhttp import _websocket_py
from cyhttp._models import WSMessage, WSMsgType
from cyhttp._ws_deflate import DeflateParams, Deflater, Inflater, offer, parse_response
from cyhttp.http_exceptions import WebSocketError
from cyhttp.http_websocket import websocket_c

KEY = bytes((0x37, 0xFA, 0x21, 0x3D))  # the key of the RFC's masked examples
T, B, C = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CLOSE
PING, PONG = WSMsgType.PING, WSMsgType.PONG


@pytest.fixture
def ws(impl: Any) -> ModuleType:
    module: ModuleType = impl.websocket
    return module


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def feed_split(reader: Any, data: bytes, *cuts: int) -> list[WSMessage]:
    out: list[WSMessage] = []
    bounds = [0, *cuts, len(data)]
    for a, b in itertools.pairwise(bounds):
        out += reader.feed_data(data[a:b])
    return out


# ------------------------------------------------------------- RFC 6455 §5.7 examples

RFC_FRAMES = [
    # (description, wire bytes, expected messages)
    ("unmasked text", h("81 05 48 65 6c 6c 6f"), [(T, "Hello", "")]),
    ("masked text", h("81 85 37 fa 21 3d 7f 9f 4d 51 58"), [(T, "Hello", "")]),
    ("fragmented text", h("01 03 48 65 6c") + h("80 02 6c 6f"), [(T, "Hello", "")]),
    ("unmasked ping", h("89 05 48 65 6c 6c 6f"), [(PING, b"Hello", "")]),
    ("masked pong", h("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), [(PONG, b"Hello", "")]),
    ("256-byte binary", h("82 7e 01 00") + bytes(range(256)), [(B, bytes(range(256)), "")]),
    (
        "64 KiB binary",
        h("82 7f 00 00 00 00 00 01 00 00") + b"\xa5" * 65536,
        [(B, b"\xa5" * 65536, "")],
    ),
]


@pytest.mark.parametrize(("name", "wire", "expected"), RFC_FRAMES, ids=[f[0] for f in RFC_FRAMES])
def test_rfc_examples_read(ws: ModuleType, name: str, wire: bytes, expected: list[Any]) -> None:
    assert ws.FrameReader().feed_data(wire) == expected


def test_rfc_examples_build(ws: ModuleType) -> None:
    assert ws.build_frame(0x1, b"Hello", mask=False) == RFC_FRAMES[0][1]
    assert ws.build_frame(0x1, b"Hello", key=KEY) == RFC_FRAMES[1][1]
    assert ws.build_frame(0x1, b"Hel", fin=False, mask=False) == h("01 03 48 65 6c")
    assert ws.build_frame(0x0, b"lo", mask=False) == h("80 02 6c 6f")
    assert ws.build_frame(0x9, b"Hello", mask=False) == RFC_FRAMES[3][1]
    assert ws.build_frame(0xA, b"Hello", key=KEY) == RFC_FRAMES[4][1]
    assert ws.build_frame(0x2, bytes(range(256)), mask=False) == RFC_FRAMES[5][1]
    assert ws.build_frame(0x2, b"\xa5" * 65536, mask=False) == RFC_FRAMES[6][1]


# ------------------------------------------------------------- splits


def _stream(ws: ModuleType) -> tuple[bytes, list[Any]]:
    """Several frames covering every header shape, with a ping inside a fragmented message."""
    parts = [
        ws.build_frame(0x1, "zwölf €".encode(), mask=False),
        ws.build_frame(0x2, b"", mask=False),
        ws.build_frame(0x1, "ab€".encode()[:3], fin=False, mask=False),  # splits the €
        ws.build_frame(0x9, b"are you there", key=KEY),
        ws.build_frame(0x0, "ab€".encode()[3:], fin=False, key=b"\x01\x02\x03\x04"),
        ws.build_frame(0x0, b"!", mask=False),
        ws.build_frame(0x2, bytes(range(200)), key=b"\xff\x00\xff\x00"),
        ws.build_frame(0xA, b"", mask=False),
        ws.build_frame(0x2, b"x" * 300, mask=False),
        ws.build_frame(0x8, b"\x03\xe8bye", mask=False),
    ]
    expected = [
        (T, "zwölf €", ""),
        (B, b"", ""),
        (PING, b"are you there", ""),
        (T, "ab€!", ""),
        (B, bytes(range(200)), ""),
        (PONG, b"", ""),
        (B, b"x" * 300, ""),
        (C, 1000, "bye"),
    ]
    return b"".join(parts), expected


def test_every_split_point(ws: ModuleType) -> None:
    data, expected = _stream(ws)
    assert ws.FrameReader().feed_data(data) == expected
    for cut in range(len(data) + 1):
        assert feed_split(ws.FrameReader(), data, cut) == expected, cut


def test_every_pair_of_split_points_in_the_headers(ws: ModuleType) -> None:
    # extended length and masking key headers cut twice (three reads)
    data = ws.build_frame(0x2, b"q" * 70000, key=KEY) + ws.build_frame(0x1, b"k" * 130, key=KEY)
    expected = [(B, b"q" * 70000, ""), (T, "k" * 130, "")]
    for a in range(15):
        for b in range(a, 15):
            assert feed_split(ws.FrameReader(), data, a, b) == expected, (a, b)
    second = len(data) - 130 - 8
    for a in range(second - 2, second + 9):
        for b in range(a, second + 10):
            assert feed_split(ws.FrameReader(), data, a, b) == expected, (a, b)


def test_byte_at_a_time(ws: ModuleType) -> None:
    data, expected = _stream(ws)
    reader = ws.FrameReader()
    out: list[Any] = []
    for i in range(len(data)):
        out += reader.feed_data(data[i : i + 1])
    assert out == expected


def test_big_message_in_network_sized_chunks(ws: ModuleType) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 5)
    for mask in (False, True):
        data = ws.build_frame(0x2, payload, mask=mask)
        reader = ws.FrameReader()
        out: list[Any] = []
        for i in range(0, len(data), 65536):
            out += reader.feed_data(data[i : i + 65536])
        assert out == [(B, payload, "")]


def test_masked_one_byte_payloads_do_not_touch_shared_bytes(ws: ModuleType) -> None:
    # CPython caches 1-byte bytes objects: unmasking must write into a fresh one
    for value in (0, 0x41, 0xFF):
        frame = ws.build_frame(0x2, bytes((value,)), key=b"\x5a\x5a\x5a\x5a")
        assert ws.FrameReader().feed_data(frame) == [(B, bytes((value,)), "")]
    assert b"\x00"[0] == 0 and b"A"[0] == 0x41 and b"\xff"[0] == 0xFF


def test_accepts_any_buffer(ws: ModuleType) -> None:
    data = ws.build_frame(0x2, b"abc", mask=False)
    assert ws.FrameReader().feed_data(bytearray(data)) == [(B, b"abc", "")]
    assert ws.FrameReader().feed_data(memoryview(data)) == [(B, b"abc", "")]


def test_non_minimal_lengths_are_accepted(ws: ModuleType) -> None:
    assert ws.FrameReader().feed_data(h("82 7e 00 03") + b"abc") == [(B, b"abc", "")]
    assert ws.FrameReader().feed_data(h("82 7f 00 00 00 00 00 00 00 01") + b"z") == [(B, b"z", "")]


def test_close_frames(ws: ModuleType) -> None:
    reader = ws.FrameReader()
    assert reader.feed_data(h("88 00")) == [(C, 1005, "")]
    assert reader.feed_data(h("88 02 03 e8")) == [(C, 1000, "")]
    for code in (1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999):
        frame = ws.build_frame(0x8, code.to_bytes(2, "big") + "adiós".encode(), mask=False)
        assert reader.feed_data(frame) == [(C, code, "adiós")]


def test_message_types_are_the_enum(ws: ModuleType) -> None:
    (msg,) = ws.FrameReader().feed_data(h("81 02 7b 7d"))
    assert isinstance(msg, WSMessage)
    assert msg.type is WSMsgType.TEXT
    assert msg.json() == {}


def test_decode_text_false_hands_over_the_raw_bytes(ws: ModuleType) -> None:
    raw = ws.FrameReader(decode_text=False)
    text = "wörld €😀".encode()
    # whole, fragmented (with a ping between the fragments), split anywhere
    wire = (
        ws.build_frame(0x1, text[:3], fin=False)
        + ws.build_frame(0x9, b"p")
        + ws.build_frame(0x0, text[3:])
        + ws.build_frame(0x1, text)
    )
    for cut in range(len(wire) + 1):
        reader = ws.FrameReader(decode_text=False)
        got = feed_split(reader, wire, cut)
        assert got == [(PING, b"p", ""), (T, text, ""), (T, text, "")]
        assert got[1].type is WSMsgType.TEXT and type(got[1].data) is bytes
    # not validated: the bytes are whoever parses them next's to judge (decoded: 1007)
    bad = ws.build_frame(0x1, b"ok \xc3\x28")
    assert raw.feed_data(bad) == [(T, b"ok \xc3\x28", "")]
    with pytest.raises(WebSocketError) as info:
        ws.FrameReader().feed_data(bad)
    assert info.value.code == 1007
    # binary messages and close reasons are unchanged; a bad close reason still fails
    assert raw.feed_data(ws.build_frame(0x2, b"\xff")) == [(B, b"\xff", "")]
    assert raw.feed_data(h("88 04 03 e8 6f 6b")) == [(C, 1000, "ok")]
    with pytest.raises(WebSocketError) as info:
        ws.FrameReader(decode_text=False).feed_data(h("88 03 03 e8 ff"))
    assert info.value.code == 1007
    # the default decodes
    assert ws.FrameReader().feed_data(ws.build_frame(0x1, text)) == [(T, text.decode(), "")]


def test_decode_text_false_with_compression_and_size_limit(ws: ModuleType) -> None:
    deflater = Deflater(15)
    reader = ws.FrameReader(100_000, inflater=Inflater(15), decode_text=False)
    text = "déjà vu " * 1000
    wire = _compressed_frames(ws, deflater, text.encode(), opcode=1, fragments=3)
    assert reader.feed_data(wire) == [(T, text.encode(), "")]
    big = _compressed_frames(ws, deflater, b"a" * 100_001, opcode=1)
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(big)
    assert info.value.code == 1009


# ------------------------------------------------------------- rejections

REJECT = [
    # (description, wire bytes, close code, reader kwargs)
    ("reserved data opcode 3", h("83 00"), 1002, {}),
    ("reserved data opcode 7", h("87 00"), 1002, {}),
    ("reserved control opcode B", h("8b 00"), 1002, {}),
    ("reserved control opcode F", h("8f 00"), 1002, {}),
    ("RSV1 without extension", h("c1 01 61"), 1002, {}),
    ("RSV2", h("a1 01 61"), 1002, {}),
    ("RSV3", h("91 01 61"), 1002, {}),
    ("RSV2 with deflate", h("a1 01 61"), 1002, {"inflater": Inflater()}),
    ("fragmented ping", h("09 00"), 1002, {}),
    ("fragmented close", h("08 02 03 e8"), 1002, {}),
    ("126-byte ping", h("89 7e 00 7e") + b"p" * 126, 1002, {}),
    ("ping with 16-bit length 5", h("89 7e 00 05") + b"p" * 5, None, {}),
    ("RSV1 on a ping", h("c9 00"), 1002, {"inflater": Inflater()}),
    ("continuation first", h("80 01 61"), 1002, {}),
    ("text inside a fragmented message", h("01 01 61 81 01 62"), 1002, {}),
    ("RSV1 on a continuation", h("01 01 61 c0 01 62"), 1002, {"inflater": Inflater()}),
    ("64-bit length top bit", h("82 7f 80 00 00 00 00 00 00 01"), 1002, {}),
    ("masked frame refused", h("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 1002, {"accept_masked": False}),
    ("close with 1 byte", h("88 01 03"), 1002, {}),
    ("invalid text", h("81 01 ff"), 1007, {}),
    ("overlong UTF-8", h("81 02 c0 af"), 1007, {}),
    ("UTF-16 surrogate", h("81 03 ed a0 80"), 1007, {}),
    ("code point past U+10FFFF", h("81 04 f4 90 80 80"), 1007, {}),
    ("truncated UTF-8", h("81 02 e2 82"), 1007, {}),
    ("invalid fragmented text", h("01 01 61 80 01 ff"), 1007, {}),
    ("invalid close reason", h("88 03 03 e8 ff"), 1007, {}),
    ("too big, 7-bit", h("82 06") + b"123456", 1009, {"max_msg_size": 5}),
    ("too big, fragments", h("02 03 61 62 63 80 03 64 65 66"), 1009, {"max_msg_size": 5}),
]


@pytest.mark.parametrize(("name", "wire", "code", "kwargs"), REJECT, ids=[r[0] for r in REJECT])
def test_rejections(ws: ModuleType, name: str, wire: bytes, code: int | None, kwargs: Any) -> None:
    reader = ws.FrameReader(**kwargs)
    if code is None:  # the control case that is fine, so the table is not one-sided
        assert reader.feed_data(wire)
        return
    with pytest.raises(WebSocketError) as info:
        feed_split(reader, wire)
    assert info.value.code == code
    assert info.value.messages == []
    assert str(code) in str(info.value)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_reserved_close_codes(ws: ModuleType, code: int) -> None:
    with pytest.raises(WebSocketError) as info:
        ws.FrameReader().feed_data(h("88 02") + code.to_bytes(2, "big"))
    assert info.value.code == 1002


def test_error_keeps_earlier_messages_and_sticks(ws: ModuleType) -> None:
    reader = ws.FrameReader()
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(h("81 02 6f 6b 89 00 83 00 81 01 61"))
    assert info.value.messages == [(T, "ok", ""), (PING, b"", "")]
    with pytest.raises(WebSocketError) as again:
        reader.feed_data(h("81 01 61"))
    assert again.value is info.value


# ------------------------------------------------------------- max_msg_size


def test_max_msg_size_is_checked_from_the_header(ws: ModuleType) -> None:
    reader = ws.FrameReader(max_msg_size=1000)
    assert reader.feed_data(ws.build_frame(0x2, b"a" * 1000, mask=False)) == [(B, b"a" * 1000, "")]
    # only the 10-byte header of a 1 TiB frame: refused at once, nothing buffered
    with pytest.raises(WebSocketError) as info:
        ws.FrameReader(max_msg_size=1000).feed_data(h("82 7f 00 00 01 00 00 00 00 00"))
    assert info.value.code == 1009
    reader = ws.FrameReader(max_msg_size=1000)
    assert reader.feed_data(ws.build_frame(0x2, b"a" * 600, fin=False, mask=False)) == []
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(h("80 7e 01 91"))  # continuation header announcing 401 more bytes
    assert info.value.code == 1009


def test_max_msg_size_default_and_unlimited(ws: ModuleType) -> None:
    assert ws.FrameReader().max_msg_size == 4 * 1024 * 1024
    frame = ws.build_frame(0x2, bytes(4 * 1024 * 1024 + 1), mask=False)
    with pytest.raises(WebSocketError) as info:
        ws.FrameReader().feed_data(frame)
    assert info.value.code == 1009
    assert ws.FrameReader(0).feed_data(frame) == [(B, bytes(4 * 1024 * 1024 + 1), "")]
    with pytest.raises(ValueError):
        ws.FrameReader(-1)


def test_control_frames_do_not_count_toward_the_message(ws: ModuleType) -> None:
    reader = ws.FrameReader(max_msg_size=4)
    wire = h("01 02 61 62") + ws.build_frame(0x9, b"p" * 125, mask=False) + h("80 02 63 64")
    assert reader.feed_data(wire) == [(PING, b"p" * 125, ""), (T, "abcd", "")]


def test_huge_unlimited_claim_is_not_allocated_up_front(ws: ModuleType) -> None:
    # max_msg_size=0 and a header claiming 2**62 bytes: the reader must wait for the bytes,
    # not try to allocate them
    reader = ws.FrameReader(0)
    assert reader.feed_data(h("82 7f 40 00 00 00 00 00 00 00") + b"abc") == []
    assert reader.feed_data(b"def" * 1000) == []


# ------------------------------------------------------------- masking


def _reference_mask(key: bytes, data: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("size", [*range(0, 70), 125, 126, 255, 511, 512, 513, 1023, 4097, 65537])
def test_mask_odd_lengths_and_alignments(ws: ModuleType, size: int) -> None:
    data = os.urandom(size)
    key = os.urandom(4)
    expected = _reference_mask(key, data)
    buf = bytearray(data)
    ws.websocket_mask(key, buf)
    assert buf == expected
    ws.websocket_mask(key, buf)
    assert buf == data
    for offset in (1, 3, 5, 7):  # misaligned start inside a larger buffer
        big = bytearray(b"\xee" * offset + data + b"\xee")
        ws.websocket_mask(key, memoryview(big)[offset : offset + size])
        assert big == b"\xee" * offset + expected + b"\xee"


def test_mask_rejects_bad_arguments(ws: ModuleType) -> None:
    with pytest.raises(ValueError):
        ws.websocket_mask(b"abc", bytearray(8))
    with pytest.raises(TypeError):
        ws.websocket_mask(KEY, b"immutable")
    with pytest.raises(TypeError):
        ws.websocket_mask(KEY, memoryview(b"read-only"))


def test_build_frame_length_encodings(ws: ModuleType) -> None:
    for size, head in [
        (0, "82 00"),
        (125, "82 7d"),
        (126, "82 7e 00 7e"),
        (65535, "82 7e ff ff"),
        (65536, "82 7f 00 00 00 00 00 01 00 00"),
    ]:
        payload = bytes(size)
        assert ws.build_frame(0x2, payload, mask=False) == h(head) + payload
        masked = ws.build_frame(0x2, payload, key=KEY)
        head_bytes = bytearray(h(head))
        head_bytes[1] |= 0x80
        assert masked == bytes(head_bytes) + KEY + _reference_mask(KEY, payload)
        assert ws.FrameReader(0).feed_data(masked) == [(B, payload, "")]


def test_build_frame_flags_and_buffers(ws: ModuleType) -> None:
    assert ws.build_frame(0x1, b"a", fin=False, mask=False) == h("01 01 61")
    assert ws.build_frame(0x1, b"a", rsv1=True, mask=False) == h("c1 01 61")
    assert ws.build_frame(0x2, bytearray(b"ab"), mask=False) == h("82 02 61 62")
    assert ws.build_frame(0x2, memoryview(b"xabx")[1:3], mask=False) == h("82 02 61 62")


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((3, b""), {}, ValueError),
        ((0xB, b""), {}, ValueError),
        ((16, b""), {}, ValueError),
        ((-1, b""), {}, ValueError),
        ((0x9, b"x" * 126), {}, ValueError),
        ((0x8, b""), {"fin": False}, ValueError),
        ((0x1, "text"), {}, TypeError),
        ((0x2, b"x"), {"key": b"abc"}, ValueError),
    ],
)
def test_build_frame_rejects(ws: ModuleType, args: Any, kwargs: Any, error: type) -> None:
    with pytest.raises(error):
        ws.build_frame(*args, **kwargs)


def test_mask_keys_are_fresh(ws: ModuleType) -> None:
    keys = {ws.build_frame(0x2, b"", mask=True)[2:6] for _ in range(3000)}  # crosses refills
    assert len(keys) > 2990  # 3000 random 32-bit keys: a collision is rare, a repeat pool is not


def test_forked_child_does_not_reuse_the_parents_keys(ws: ModuleType) -> None:
    ws.build_frame(0x2, b"", mask=True)  # make sure a pool is loaded
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report the next key and leave at once
        try:
            os.write(write_fd, ws.build_frame(0x2, b"", mask=True)[2:6])
        finally:
            os._exit(0)
    os.close(write_fd)
    child_key = os.read(read_fd, 4)
    os.close(read_fd)
    os.waitpid(pid, 0)
    parent_key = ws.build_frame(0x2, b"", mask=True)[2:6]
    assert len(child_key) == 4
    assert child_key != parent_key


# ------------------------------------------------------------- permessage-deflate


def _compressed_frames(
    ws: ModuleType, deflater: Deflater, payload: bytes, opcode: int = 2, fragments: int = 1
) -> bytes:
    body = deflater.deflate(payload)
    step = max(1, -(-len(body) // fragments))
    chunks = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
    frames = []
    for i, chunk in enumerate(chunks):
        frames.append(
            ws.build_frame(
                opcode if i == 0 else 0, chunk, fin=i == len(chunks) - 1, rsv1=i == 0, mask=True
            )
        )
    return b"".join(frames)


@pytest.mark.parametrize("no_context_takeover", [False, True])
@pytest.mark.parametrize("bits", [9, 12, 15])
def test_deflate_round_trip(ws: ModuleType, no_context_takeover: bool, bits: int) -> None:
    deflater = Deflater(bits, no_context_takeover)
    reader = ws.FrameReader(inflater=Inflater(bits, no_context_takeover))
    messages = [b"", b"hello " * 50, os.urandom(3000), b"hello " * 50, b"x" * 200_000]
    for i, payload in enumerate(messages):
        wire = _compressed_frames(ws, deflater, payload, fragments=1 + i % 3)
        assert feed_split(reader, wire, len(wire) // 2) == [(B, payload, "")]
    text = "déjà vu " * 100
    wire = _compressed_frames(ws, deflater, text.encode(), opcode=1)
    assert reader.feed_data(wire) == [(T, text, "")]
    # an uncompressed message in between is fine (RSV1 is per message)
    assert reader.feed_data(ws.build_frame(0x2, b"plain")) == [(B, b"plain", "")]


def test_context_takeover_shrinks_repeats() -> None:
    shared, fresh = Deflater(15, False), Deflater(15, True)
    payload = os.urandom(1000)
    assert len(shared.deflate(payload)) > 1000
    assert len(shared.deflate(payload)) < 100  # refers back into the previous message
    fresh.deflate(payload)
    assert len(fresh.deflate(payload)) > 1000


def test_deflate_interop_with_websockets(ws: ModuleType) -> None:
    # their encoder -> our reader, our deflater -> their decoder
    theirs = PerMessageDeflate(False, False, 15, 15)
    reader = ws.FrameReader(inflater=Inflater(15))
    for payload in (b"abc" * 1000, b"", "ünïcode".encode() * 10):
        frame = Frame(Opcode.BINARY, payload)
        wire = frame.serialize(mask=False, extensions=[theirs])
        assert reader.feed_data(wire) == [(B, payload, "")]
    ours = Deflater(15)
    decoder = PerMessageDeflate(False, False, 15, 15)
    for payload in (b"abc" * 1000, b"", b"xyz"):
        wire = ws.build_frame(0x2, ours.deflate(payload), rsv1=True, mask=True)
        assert _parse_with_websockets(wire, [decoder]).data == payload


def _parse_with_websockets(wire: bytes, extensions: list[Any]) -> Frame:
    stream = StreamReader()
    stream.feed_data(wire)
    stream.feed_eof()
    parser = Frame.parse(stream.read_exact, mask=True, extensions=extensions)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("websockets wanted more bytes")


def test_deflate_errors(ws: ModuleType) -> None:
    reader = ws.FrameReader(inflater=Inflater())
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(ws.build_frame(0x2, b"\xff\xfe\xfd not deflate", rsv1=True))
    assert info.value.code == 1002
    # a small compressed message that inflates past max_msg_size: a zip bomb
    bomb = Deflater().deflate(bytes(1_000_000))
    assert len(bomb) < 2000
    reader = ws.FrameReader(max_msg_size=100_000, inflater=Inflater())
    with pytest.raises(WebSocketError) as info:
        reader.feed_data(ws.build_frame(0x2, bomb, rsv1=True))
    assert info.value.code == 1009
    reader = ws.FrameReader(max_msg_size=1_000_000, inflater=Inflater())
    assert reader.feed_data(ws.build_frame(0x2, bomb, rsv1=True)) == [(B, bytes(1_000_000), "")]


def test_deflater_rejects_window_8() -> None:
    with pytest.raises(ValueError):
        Deflater(8)
    assert Inflater(8).inflate(zlib.compressobj(wbits=-9).compress(b""), 0) == b""


def test_negotiation() -> None:
    assert offer(15) == "permessage-deflate; client_max_window_bits"
    assert offer(10) == "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
    with pytest.raises(ValueError):
        offer(8)
    assert parse_response(None, 15) is None
    assert parse_response("", 15) is None
    assert parse_response("permessage-deflate", 15) == DeflateParams()
    assert parse_response(
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=10", 15
    ) == DeflateParams(15, 10, True, False)
    assert parse_response(
        'Permessage-Deflate;server_max_window_bits="9"; client_no_context_takeover', 12
    ) == DeflateParams(9, 15, False, True)
    for bad, compress in [
        ("x-webkit-deflate-frame", 15),
        ("permessage-deflate, permessage-deflate", 15),
        ("permessage-deflate; server_max_window_bits=7", 15),
        ("permessage-deflate; server_max_window_bits=16", 15),
        ("permessage-deflate; server_max_window_bits=12", 10),  # larger than offered
        ("permessage-deflate", 10),  # ignored our window limit
        ("permessage-deflate; client_max_window_bits", 15),  # needs a value in a response
        ("permessage-deflate; server_no_context_takeover=1", 15),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", 15),
        ("permessage-deflate; mystery=1", 15),
    ]:
        with pytest.raises(ValueError):
            parse_response(bad, compress)


# ------------------------------------------------------------- the twins agree


def _websockets_wire(frames: list[tuple[int, bytes, bool, bool]]) -> bytes:
    """Frames serialised by the websockets package (an independent encoder)."""
    out = []
    for opcode, data, fin, mask in frames:
        out.append(Frame(Opcode(opcode), data, fin=fin).serialize(mask=mask))
    return b"".join(out)


def _outcome(module: ModuleType, wire: bytes, cuts: list[int], **kwargs: Any) -> Any:
    reader = module.FrameReader(**kwargs)
    out: list[Any] = []
    try:
        out += feed_split(reader, wire, *sorted(c % (len(wire) + 1) for c in cuts))
    except WebSocketError as exc:
        return out + exc.messages, exc.code
    return out, None


frame_st = st.tuples(
    st.sampled_from([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]),
    st.one_of(
        st.binary(max_size=300),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF), max_size=50).map(
            str.encode
        ),
        st.sampled_from([b"\x03\xe8", b"\x0f\xa0ok", b"\xff", b"\x03\xe8\xc3"]),
    ),
    st.booleans(),
    st.booleans(),
)


@pytest.mark.skipif(websocket_c is None, reason="needs both twins (build the extension)")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.lists(frame_st, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=4),
    max_msg_size=st.sampled_from([0, 50, 4 * 1024 * 1024]),
)
def test_twins_agree_on_websockets_frames(frames: Any, cuts: list[int], max_msg_size: int) -> None:
    frames = [
        (op, data[:125] if op >= 8 else data, fin or op >= 8, mask)
        for op, data, fin, mask in frames
    ]
    wire = _websockets_wire(frames)
    c = _outcome(websocket_c, wire, cuts, max_msg_size=max_msg_size)
    py = _outcome(_websocket_py, wire, cuts, max_msg_size=max_msg_size)
    assert c == py


@pytest.mark.skipif(websocket_c is None, reason="needs both twins (build the extension)")
@settings(max_examples=300, deadline=None)
@given(wire=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=3))
def test_twins_agree_on_garbage(wire: bytes, cuts: list[int]) -> None:
    c = _outcome(websocket_c, wire, cuts, max_msg_size=100)
    py = _outcome(_websocket_py, wire, cuts, max_msg_size=100)
    assert c == py


@pytest.mark.skipif(websocket_c is None, reason="needs both twins (build the extension)")
@settings(max_examples=200, deadline=None)
@given(
    payload=st.binary(max_size=2000),
    key=st.binary(min_size=4, max_size=4),
    opcode=st.sampled_from([0, 1, 2, 8, 9, 10]),
    fin=st.booleans(),
    rsv1=st.booleans(),
    mask=st.booleans(),
)
def test_twins_build_the_same_frames(
    payload: bytes, key: bytes, opcode: int, fin: bool, rsv1: bool, mask: bool
) -> None:
    if opcode >= 8:
        payload, fin = payload[:125], True
    assert websocket_c is not None
    c = websocket_c.build_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask, key=key)
    py = _websocket_py.build_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask, key=key)
    assert c == py
    buf_c, buf_py = bytearray(payload), bytearray(payload)
    websocket_c.websocket_mask(key, buf_c)
    _websocket_py.websocket_mask(key, buf_py)
    assert buf_c == buf_py == _reference_mask(key, payload)
