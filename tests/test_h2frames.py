"""HTTP/2 frames (RFC 9113): the sans-IO reader and writer of ``_h2frames_py``.

Every input is read whole, byte by byte and split in two at every boundary, and all ways
must agree. Then: each frame type round-trips; each rule of RFC 9113 section 6 is broken
once and must give the right error class, code and offset; and the ``h2`` package, when
installed, plays an independent server for a whole request/response exchange.
"""

from __future__ import annotations

from itertools import pairwise
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyhttp import _compat, _h2frames_py, _hpack_py, h2_frames
from cyhttp._h2_models import (
    CONNECTION_PREFACE,
    ContinuationFrame,
    DataFrame,
    FrameType,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    Priority,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
)
from cyhttp.h2_errors import ErrorCode, FrameError, HTTP2Error, StreamError

from .conftest import Impl

raw = _h2frames_py.raw_frame
SETTINGS0 = raw(4, 0, 0, b"")  # an empty SETTINGS: a valid server preface


@pytest.fixture(scope="session")
def fr(impl: Impl) -> ModuleType:
    """The frame codec twin matching ``impl`` (the compiled one must be built)."""
    if impl.is_pure_python:
        return h2_frames.h2frames_py
    if h2_frames.h2frames_c is None:
        pytest.fail("cyhttp._h2frames is not built (run `make build`)")
    return h2_frames.h2frames_c


def test_this_run_uses_what_it_should(expect_compiled: bool) -> None:
    expected = h2_frames.h2frames_c if expect_compiled else h2_frames.h2frames_py
    assert h2_frames.impl is expected
    assert h2_frames.FrameReader is expected.FrameReader
    assert h2_frames.serialize is expected.serialize


def test_twins_write_the_same_bytes() -> None:
    if h2_frames.h2frames_c is None:
        pytest.skip("cyhttp._h2frames is not built")
    for frame in [*FRAMES, HeadersFrame(1, bytes(40000), pad_length=7)]:
        assert h2_frames.h2frames_c.serialize(frame) == _h2frames_py.serialize(frame)
    assert h2_frames.h2frames_c.raw_frame(1, 2, 3, b"x") == raw(1, 2, 3, b"x")
    assert h2_frames.h2frames_c.frame_header(5, 1, 2, 2**31 + 3) == raw(1, 2, 3, bytes(5))[:9]


def _read(fr: ModuleType, pieces: list[bytes], **kwargs: Any) -> tuple[list[Any], Any]:
    kwargs.setdefault("preface", False)
    reader = fr.FrameReader(**kwargs)
    out: list[Any] = []
    for piece in pieces:
        reader.feed(piece)
        while True:
            try:
                frame = reader.next_frame()
            except StreamError as exc:
                out.append(("stream-error", exc.error_code, exc.stream_id, exc.offset))
                continue
            except FrameError as exc:
                return out, (type(exc), exc.error_code, exc.offset, exc.message)
            if frame is None:
                break
            out.append(frame)
    assert reader.buffered < 9 or out, "a complete frame was left unread"
    return out, None


def read(fr: ModuleType, data: bytes, **kwargs: Any) -> tuple[list[Any], Any]:
    """Read ``data`` whole, byte by byte and split at every point; all must agree."""
    whole = _read(fr, [data], **kwargs)
    ways = [[data[i : i + 1] for i in range(len(data))]]
    if len(data) < 400:
        ways += [[data[:i], data[i:]] for i in range(1, len(data))]
    for pieces in ways:
        assert _read(fr, pieces, **kwargs) == whole, pieces
    return whole


def read_ok(fr: ModuleType, data: bytes, **kwargs: Any) -> list[Any]:
    got, error = read(fr, data, **kwargs)
    assert error is None, error
    return got


def read_error(fr: ModuleType, data: bytes, code: ErrorCode, **kwargs: Any) -> tuple[int, str]:
    """The FrameError the bytes must end with: (offset, message)."""
    _, error = read(fr, data, **kwargs)
    assert error is not None, "no error"
    cls, error_code, offset, message = error
    assert cls is FrameError
    assert error_code == code, message
    return offset, message


# -- round trips -------------------------------------------------------------------------

FRAMES = [
    DataFrame(1, b"hello"),
    DataFrame(1, b"", end_stream=True),
    DataFrame(3, b"padded", pad_length=10),
    DataFrame(3, b"", pad_length=0),
    HeadersFrame(1, b"\x82\x86\x84", end_stream=True),
    HeadersFrame(5, b"block", priority=Priority(3, 256, True)),
    HeadersFrame(5, b"block", priority=Priority(0, 1), pad_length=3),
    HeadersFrame(7, b"", pad_length=255),
    PriorityFrame(9, Priority(7, 42, False)),
    RstStreamFrame(1, ErrorCode.CANCEL),
    RstStreamFrame(1, 0xDEADBEEF),  # unknown codes travel as they are
    SettingsFrame(((SettingCode.HEADER_TABLE_SIZE, 0), (SettingCode.ENABLE_PUSH, 0),
                   (SettingCode.INITIAL_WINDOW_SIZE, 2**31 - 1),
                   (SettingCode.MAX_FRAME_SIZE, 16777215), (0xABCD, 7))),
    SettingsFrame(ack=True),
    SettingsFrame(),
    PushPromiseFrame(1, 2, b"\x82"),
    PushPromiseFrame(1, 4, b"", pad_length=2),
    PingFrame(b"12345678"),
    PingFrame(bytes(8), ack=True),
    GoAwayFrame(7, ErrorCode.NO_ERROR),
    GoAwayFrame(2**31 - 1, ErrorCode.ENHANCE_YOUR_CALM, b"slow down"),
    WindowUpdateFrame(0, 1),
    WindowUpdateFrame(11, 2**31 - 1),
    UnknownFrame(0xFA, 0xFF, 3, b"extension"),
]  # fmt: skip


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_round_trip(fr: ModuleType, frame: Any) -> None:
    assert read_ok(fr, fr.serialize(frame)) == [frame]


def test_a_stream_of_frames(fr: ModuleType) -> None:
    data = SETTINGS0 + b"".join(fr.serialize(f) for f in FRAMES)
    assert read_ok(fr, data, preface=True) == [SettingsFrame(), *FRAMES]


def test_padding_fills_the_payload_exactly(fr: ModuleType) -> None:
    assert read_ok(fr, raw(0, 0x8, 1, b"\x02ab")) == [DataFrame(1, b"", pad_length=2)]
    assert read_ok(fr, raw(0, 0x8, 1, b"\x00")) == [DataFrame(1, b"", pad_length=0)]


def test_data_flow_controlled_length(fr: ModuleType) -> None:
    assert DataFrame(1, b"abc").flow_controlled_length == 3
    assert DataFrame(1, b"abc", pad_length=0).flow_controlled_length == 4
    assert DataFrame(1, b"abc", pad_length=10).flow_controlled_length == 14
    wire = fr.serialize(DataFrame(1, b"abc", pad_length=10))
    assert int.from_bytes(wire[:3], "big") == 14


def test_wire_format(fr: ModuleType) -> None:
    """Header layout (RFC 9113 section 4.1) and payload layouts, byte for byte."""
    assert fr.serialize(DataFrame(1, b"ab", end_stream=True)).hex() == (
        "000002" + "00" + "01" + "00000001" + "6162"
    )
    assert fr.serialize(WindowUpdateFrame(0, 65535)).hex() == "000004080000000000" + "0000ffff"
    assert fr.serialize(SettingsFrame(((4, 65535),))).hex() == (
        "000006040000000000" + "0004" + "0000ffff"
    )
    assert fr.serialize(HeadersFrame(3, b"x", priority=Priority(1, 16, True))).hex() == (
        "000006" + "01" + "24" + "00000003" + "80000001" + "0f" + "78"
    )
    assert fr.serialize(PingFrame(b"abcdefgh", ack=True)).hex() == (
        "000008060100000000" + b"abcdefgh".hex()
    )


def test_long_header_blocks_are_split_and_joined(fr: ModuleType) -> None:
    block = bytes(range(256)) * 160  # 40960 bytes
    wire = fr.serialize(HeadersFrame(1, block, end_stream=True), max_frame_size=16384)
    headers = [(wire[i + 3], wire[i + 4]) for i in _frame_starts(wire)]
    assert headers == [(1, 0x01), (9, 0x00), (9, 0x04)]  # HEADERS, CONTINUATION x2
    assert read_ok(fr, wire) == [HeadersFrame(1, block, end_stream=True)]
    promise = PushPromiseFrame(3, 8, block, pad_length=4)
    assert read_ok(fr, fr.serialize(promise)) == [promise]
    # a bigger peer setting needs no CONTINUATION
    assert len(list(_frame_starts(fr.serialize(HeadersFrame(1, block), 65536)))) == 1


def _frame_starts(wire: bytes) -> list[int]:
    starts, pos = [], 0
    while pos < len(wire):
        starts.append(pos)
        pos += 9 + int.from_bytes(wire[pos : pos + 3], "big")
    assert pos == len(wire)
    return starts


def test_hand_made_continuations(fr: ModuleType) -> None:
    wire = (
        raw(1, 0x1, 5, b"ab")  # HEADERS, END_STREAM, no END_HEADERS
        + fr.serialize(ContinuationFrame(5, b""))
        + fr.serialize(ContinuationFrame(5, b"cd", end_headers=True))
    )
    assert read_ok(fr, wire) == [HeadersFrame(5, b"abcd", end_stream=True)]


def test_reserved_bit_and_unknown_flags_are_ignored(fr: ModuleType) -> None:
    wire = raw(0, 0x1 | 0x2 | 0x4 | 0x20 | 0x80, 0x80000003, b"x")
    assert read_ok(fr, wire) == [DataFrame(3, b"x", end_stream=True)]
    wire = raw(6, 0xFE, 0, bytes(8))  # PING without ACK, other bits set
    assert read_ok(fr, wire) == [PingFrame(bytes(8))]


def test_unknown_frames_are_returned_to_be_ignored(fr: ModuleType) -> None:
    wire = raw(0x20, 0x3, 0, b"") + raw(0xFF, 0, 7, b"abc") + fr.serialize(PingFrame())
    assert read_ok(fr, wire) == [UnknownFrame(0x20, 0x3, 0, b""), UnknownFrame(0xFF, 0, 7, b"abc"),
                             PingFrame()]  # fmt: skip


# -- the preface -------------------------------------------------------------------------


def test_preface_must_be_settings(fr: ModuleType) -> None:
    assert read_ok(fr, SETTINGS0, preface=True) == [SettingsFrame()]
    offset, message = read_error(fr, fr.serialize(PingFrame()), ErrorCode.PROTOCOL_ERROR,
                                 preface=True)  # fmt: skip
    assert (offset, message) == (0, "the connection preface must start with SETTINGS, not PING")
    read_error(fr, raw(4, 0x1, 0, b""), ErrorCode.PROTOCOL_ERROR, preface=True)  # an ACK
    # only the first frame
    assert read_ok(fr, SETTINGS0 + fr.serialize(PingFrame()), preface=True)[1] == PingFrame()


@pytest.mark.parametrize("reply", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"HTTP/"])
def test_an_http1_reply_is_named(fr: ModuleType, reply: bytes) -> None:
    _, message = read_error(fr, reply, ErrorCode.PROTOCOL_ERROR, preface=True)
    assert "does not speak HTTP/2" in message


def test_client_preface_constant(fr: ModuleType) -> None:
    assert CONNECTION_PREFACE == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    assert len(CONNECTION_PREFACE) == 24


# -- errors ------------------------------------------------------------------------------

PROTOCOL, FRAME_SIZE = ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_SIZE_ERROR

CONNECTION_ERRORS = [
    # (name, bytes, error code, message fragment)
    ("DATA on stream 0", raw(0, 0, 0, b"x"), PROTOCOL, "DATA frame on stream 0"),
    ("DATA padding too long", raw(0, 0x8, 1, b"\x09ab"), PROTOCOL, "padding"),
    ("DATA padding = length", raw(0, 0x8, 1, b"\x03ab"), PROTOCOL, "padding"),
    ("DATA padded, empty", raw(0, 0x8, 1, b""), FRAME_SIZE, "too short"),
    ("HEADERS on stream 0", raw(1, 0x4, 0, b"\x82"), PROTOCOL, "HEADERS frame on stream 0"),
    ("HEADERS priority short", raw(1, 0x24, 1, b"\x00\x00\x00"), FRAME_SIZE, "too short"),
    ("HEADERS padding", raw(1, 0x2C, 1, b"\x01" + bytes(5)), PROTOCOL, "padding"),
    ("PRIORITY on stream 0", raw(2, 0, 0, bytes(5)), PROTOCOL, "PRIORITY frame on stream 0"),
    ("RST_STREAM on stream 0", raw(3, 0, 0, bytes(4)), PROTOCOL, "on stream 0"),
    ("RST_STREAM of 3 bytes", raw(3, 0, 1, bytes(3)), FRAME_SIZE, "RST_STREAM frame of 3"),
    ("RST_STREAM of 5 bytes", raw(3, 0, 1, bytes(5)), FRAME_SIZE, "RST_STREAM frame of 5"),
    ("SETTINGS on stream 1", raw(4, 0, 1, b""), PROTOCOL, "SETTINGS frame on stream 1"),
    ("SETTINGS of 5 bytes", raw(4, 0, 0, bytes(5)), FRAME_SIZE, "not 6 * n"),
    ("SETTINGS ACK with payload", raw(4, 1, 0, bytes(6)), FRAME_SIZE, "acknowledgement"),
    ("ENABLE_PUSH 2", raw(4, 0, 0, bytes.fromhex("000200000002")), PROTOCOL, "0 or 1"),
    ("CONNECT_PROTOCOL 2", raw(4, 0, 0, bytes.fromhex("000800000002")), PROTOCOL, "0 or 1"),
    ("INITIAL_WINDOW 2**31", raw(4, 0, 0, bytes.fromhex("000480000000")),
     ErrorCode.FLOW_CONTROL_ERROR, "above 2**31 - 1"),
    ("MAX_FRAME_SIZE 16383", raw(4, 0, 0, bytes.fromhex("000500003fff")), PROTOCOL, "16384"),
    ("MAX_FRAME_SIZE 2**24", raw(4, 0, 0, bytes.fromhex("000501000000")), PROTOCOL, "16384"),
    ("PUSH_PROMISE on stream 0", raw(5, 4, 0, bytes.fromhex("00000002")), PROTOCOL, "stream 0"),
    ("PUSH_PROMISE of stream 0", raw(5, 4, 1, bytes(4)), PROTOCOL, "PUSH_PROMISE of stream 0"),
    ("PUSH_PROMISE short", raw(5, 4, 1, bytes(3)), FRAME_SIZE, "too short"),
    ("PING on stream 1", raw(6, 0, 1, bytes(8)), PROTOCOL, "PING frame on stream 1"),
    ("PING of 7 bytes", raw(6, 0, 0, bytes(7)), FRAME_SIZE, "PING frame of 7"),
    ("PING of 9 bytes", raw(6, 0, 0, bytes(9)), FRAME_SIZE, "PING frame of 9"),
    ("GOAWAY on stream 1", raw(7, 0, 1, bytes(8)), PROTOCOL, "GOAWAY frame on stream 1"),
    ("GOAWAY of 7 bytes", raw(7, 0, 0, bytes(7)), FRAME_SIZE, "GOAWAY frame of 7"),
    ("WINDOW_UPDATE of 3", raw(8, 0, 0, bytes(3)), FRAME_SIZE, "WINDOW_UPDATE frame of 3"),
    ("WINDOW_UPDATE 0 on 0", raw(8, 0, 0, bytes(4)), PROTOCOL, "on the connection"),
    ("WINDOW_UPDATE R bit only", raw(8, 0, 0, bytes.fromhex("80000000")), PROTOCOL, "of 0"),
    ("CONTINUATION alone", raw(9, 4, 1, b"x"), PROTOCOL, "CONTINUATION without a header"),
    ("DATA inside a block", raw(1, 0, 1, b"a") + raw(0, 0, 1, b"x"), PROTOCOL,
     "DATA on stream 1 inside the header block of stream 1"),
    ("CONTINUATION of another stream", raw(1, 0, 1, b"a") + raw(9, 4, 3, b"x"), PROTOCOL,
     "CONTINUATION on stream 3 inside the header block of stream 1"),
    ("unknown frame inside a block", raw(5, 0, 1, bytes.fromhex("00000002")) + raw(0xBB, 0, 0, b""),
     PROTOCOL, "frame type 0xbb on stream 0 inside"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("wire", "code", "fragment"),
    [case[1:] for case in CONNECTION_ERRORS],
    ids=[case[0] for case in CONNECTION_ERRORS],
)
def test_connection_errors(fr: ModuleType, wire: bytes, code: ErrorCode, fragment: str) -> None:
    good = fr.serialize(PingFrame())
    offset, message = read_error(fr, good + wire + good, code)
    assert fragment in message
    # the offset is where the offending frame starts (the second one of a block error)
    assert offset in (len(good), len(good) + 9 + int.from_bytes(wire[:3], "big"))


def test_errors_are_http2_errors(fr: ModuleType) -> None:
    assert issubclass(FrameError, HTTP2Error)
    assert issubclass(StreamError, HTTP2Error)
    exc = StreamError(ErrorCode.CANCEL, 5, "boom", 10)
    assert (exc.error_code, exc.stream_id, exc.offset, exc.frame) == (ErrorCode.CANCEL, 5, 10, None)


def test_the_reader_stays_failed(fr: ModuleType) -> None:
    reader = fr.FrameReader(preface=False)
    reader.feed(raw(0, 0, 0, b"x"))
    with pytest.raises(FrameError) as first:
        reader.next_frame()
    reader.feed(fr.serialize(PingFrame()))
    with pytest.raises(FrameError) as again:
        reader.next_frame()
    assert again.value is first.value


STREAM_ERRORS = [
    ("PRIORITY of 4 bytes", raw(2, 0, 3, bytes(4)), FRAME_SIZE, 3),
    ("PRIORITY of 6 bytes", raw(2, 0, 3, bytes(6)), FRAME_SIZE, 3),
    ("PRIORITY on itself", raw(2, 0, 3, bytes.fromhex("0000000310")), PROTOCOL, 3),
    ("WINDOW_UPDATE 0 on a stream", raw(8, 0, 5, bytes(4)), PROTOCOL, 5),
]


@pytest.mark.parametrize(
    ("wire", "code", "stream"),
    [case[1:] for case in STREAM_ERRORS],
    ids=[case[0] for case in STREAM_ERRORS],
)
def test_stream_errors_let_the_reader_go_on(
    fr: ModuleType, wire: bytes, code: ErrorCode, stream: int
) -> None:
    good = fr.serialize(PingFrame())
    got = read_ok(fr, good + wire + good)
    assert got == [PingFrame(), ("stream-error", code, stream, len(good)), PingFrame()]


def test_headers_on_itself_still_deliver_the_block(fr: ModuleType) -> None:
    """The field block must still reach HPACK, to keep the dynamic table in step."""
    block = _hpack_py.Encoder().encode([(b":status", b"200"), (b"x-a", b"1")])
    wire = raw(1, 0x20, 3, bytes.fromhex("0000000310")) + raw(9, 0x4, 3, block)
    reader = fr.FrameReader(preface=False)
    reader.feed(wire)
    with pytest.raises(StreamError) as info:
        reader.next_frame()
    assert info.value.stream_id == 3
    assert info.value.frame == HeadersFrame(3, block, priority=Priority(3, 17, False))
    assert _hpack_py.Decoder().decode(info.value.frame.block)[1] == (b"x-a", b"1")
    assert reader.next_frame() is None


# -- limits --------------------------------------------------------------------------------


def test_frame_size_is_checked_from_the_header_alone(fr: ModuleType) -> None:
    reader = fr.FrameReader(preface=False)
    reader.feed(fr.frame_header(16385, 0, 0, 1))  # the payload never comes
    with pytest.raises(FrameError) as info:
        reader.next_frame()
    assert info.value.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert "16385 bytes is larger than the maximum frame size 16384" in info.value.message
    assert read_ok(fr, raw(0, 0, 1, bytes(16384)))[0].data == bytes(16384)


def test_max_frame_size_setting(fr: ModuleType) -> None:
    big = raw(0, 0, 1, bytes(20000))
    read_error(fr, big, FRAME_SIZE)
    assert read_ok(fr, big, max_frame_size=20000)[0].data == bytes(20000)
    reader = fr.FrameReader()
    reader.max_frame_size = 2**24 - 1
    assert reader.max_frame_size == 2**24 - 1
    for bad in (16383, 2**24):
        with pytest.raises(ValueError):
            reader.max_frame_size = bad
        with pytest.raises(ValueError):
            fr.FrameReader(max_frame_size=bad)


def test_header_block_size_is_bounded(fr: ModuleType) -> None:
    first = raw(1, 0, 1, bytes(1000))
    more = raw(9, 0, 1, bytes(1000))
    offset, message = read_error(fr, first + more * 3, ErrorCode.ENHANCE_YOUR_CALM,
                                 max_header_block_size=3000)  # fmt: skip
    assert "header block larger than 3000 bytes" in message
    assert offset == len(first) + len(more)  # 1000 + 1009 + 1009 > 3000
    read_error(
        fr, raw(1, 0x4, 1, bytes(3001)), ErrorCode.ENHANCE_YOUR_CALM, max_header_block_size=3000
    )
    ok = raw(1, 0, 1, bytes(1000)) + raw(9, 0x4, 1, bytes(1000))
    assert len(read_ok(fr, ok, max_header_block_size=3000)[0].block) == 2000


def test_a_flood_of_empty_continuations_is_bounded(fr: ModuleType) -> None:
    reader = fr.FrameReader(preface=False)
    reader.feed(raw(1, 0, 1, b""))
    empty = raw(9, 0, 1, b"")
    reader.feed(empty * (fr.DEFAULT_MAX_HEADER_BLOCK_SIZE // 9 + 1))
    with pytest.raises(FrameError) as info:
        reader.next_frame()
    assert info.value.error_code == ErrorCode.ENHANCE_YOUR_CALM


# -- the writer refuses what it must not send ------------------------------------------------

BAD_FRAMES = [
    DataFrame(0, b"x"),
    DataFrame(1, bytes(16385)),
    DataFrame(1, bytes(16384), pad_length=0),
    DataFrame(1, b"", pad_length=256),
    DataFrame(2**31, b""),
    HeadersFrame(0, b""),
    HeadersFrame(1, b"", priority=Priority(0, 0)),
    HeadersFrame(1, b"", priority=Priority(0, 257)),
    PriorityFrame(1, Priority(2**31, 16)),
    RstStreamFrame(0, 0),
    RstStreamFrame(1, -1),
    SettingsFrame(((2, 2),)),
    SettingsFrame(((5, 100),)),
    SettingsFrame(((0x10000, 1),)),
    SettingsFrame(((1, 1),), ack=True),
    SettingsFrame(stream_id=1),
    PushPromiseFrame(1, 0, b""),
    PingFrame(b"short"),
    PingFrame(stream_id=1),
    GoAwayFrame(-1, 0),
    GoAwayFrame(0, 0, bytes(16384)),
    WindowUpdateFrame(1, 0),
    WindowUpdateFrame(1, 2**31),
    WindowUpdateFrame(-1, 1),
    ContinuationFrame(0, b""),
    UnknownFrame(256, 0, 0, b""),
]


@pytest.mark.parametrize("frame", BAD_FRAMES, ids=repr)
def test_writer_refuses(fr: ModuleType, frame: Any) -> None:
    with pytest.raises(ValueError):
        fr.serialize(frame)


def test_writer_refuses_non_frames(fr: ModuleType) -> None:
    with pytest.raises(TypeError):
        fr.serialize(b"\x00")  # type: ignore[arg-type]


# -- hypothesis ----------------------------------------------------------------------------

stream_ids = st.integers(1, 2**31 - 1)
blocks = st.binary(max_size=300)
pads = st.none() | st.integers(0, 255)
priorities = st.builds(Priority, st.integers(0, 2**31 - 1), st.integers(1, 256), st.booleans())
frame_st = st.one_of(
    st.builds(DataFrame, stream_ids, st.binary(max_size=200), st.booleans(), pads),
    st.builds(HeadersFrame, stream_ids, blocks, st.booleans(), st.none() | priorities, pads),
    st.builds(RstStreamFrame, stream_ids, st.integers(0, 2**32 - 1)),
    st.builds(SettingsFrame, st.lists(st.tuples(st.sampled_from([1, 3, 6, 9, 0xFFFF]),
                                                st.integers(0, 2**32 - 1)), max_size=4)
              .map(tuple)),
    st.builds(PushPromiseFrame, stream_ids, stream_ids, blocks, pads),
    st.builds(PingFrame, st.binary(min_size=8, max_size=8), st.booleans()),
    st.builds(GoAwayFrame, st.integers(0, 2**31 - 1), st.integers(0, 2**32 - 1),
              st.binary(max_size=40)),
    st.builds(WindowUpdateFrame, st.integers(0, 2**31 - 1), st.integers(1, 2**31 - 1)),
    st.builds(UnknownFrame, st.integers(10, 255), st.integers(0, 255), st.integers(0, 2**31 - 1),
              st.binary(max_size=50)),
)  # fmt: skip


def _no_self_dependency(frame: Any) -> bool:
    priority = getattr(frame, "priority", None)
    return priority is None or priority.depends_on != frame.stream_id


@settings(max_examples=150, deadline=None)
@given(
    sent=st.lists(frame_st.filter(_no_self_dependency), max_size=8),
    max_frame_size=st.sampled_from([16384, 20000]),
    cuts=st.lists(st.integers(0, 4000), max_size=6),
)
def test_any_frames_round_trip_in_any_pieces(
    fr: ModuleType, sent: list[Any], max_frame_size: int, cuts: list[int]
) -> None:
    wire = b"".join(fr.serialize(f, max_frame_size) for f in sent)
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    pieces = [wire[a:b] for a, b in pairwise(points)]
    got, error = _read(fr, pieces, max_frame_size=max_frame_size)
    assert error is None
    assert got == sent


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=120), preface=st.booleans())
def test_random_bytes_give_frames_or_http2_errors(
    fr: ModuleType, data: bytes, preface: bool
) -> None:
    reader = fr.FrameReader(preface=preface, max_header_block_size=100)
    reader.feed(data)
    for _ in range(len(data)):  # each call consumes a frame header at least
        try:
            if reader.next_frame() is None:
                break
        except StreamError:
            continue
        except FrameError:
            break
    assert reader.buffered <= len(data)


# -- an independent peer: the h2 package ---------------------------------------------------


def test_a_request_to_the_h2_package_server(fr: ModuleType) -> None:
    """Our frames and HPACK blocks go to h2's server, and its response comes back through
    our reader and decoder: the whole exchange with an independent implementation."""
    h2_connection = pytest.importorskip("h2.connection")
    h2_config = pytest.importorskip("h2.config")
    h2_events = pytest.importorskip("h2.events")
    server = h2_connection.H2Connection(h2_config.H2Configuration(client_side=False))
    server.initiate_connection()
    to_client = server.data_to_send()

    encoder, decoder = _hpack_py.Encoder(), _hpack_py.Decoder()
    request = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.com"),
               (b":path", b"/x"), (b"user-agent", b"cyhttp")]  # fmt: skip
    wire = CONNECTION_PREFACE + fr.serialize(SettingsFrame(((2, 0), (4, 1 << 20))))
    wire += fr.serialize(HeadersFrame(1, encoder.encode(request), end_stream=True))
    events = server.receive_data(wire)
    received = [e for e in events if isinstance(e, h2_events.RequestReceived)]
    assert len(received) == 1
    assert [(bytes(n), bytes(v)) for n, v in received[0].headers] == request

    body = b"hello from h2" * 2000  # more than one frame
    server.send_headers(1, [(":status", "200"), ("content-type", "text/plain")])
    for start in range(0, len(body), 16384):
        server.send_data(1, body[start : start + 16384], end_stream=start + 16384 >= len(body))
    to_client += server.data_to_send()

    reader = fr.FrameReader()
    reader.feed(to_client)
    got = list(reader)
    assert isinstance(got[0], SettingsFrame) and not got[0].ack
    assert SettingsFrame(ack=True) in got
    head = next(f for f in got if isinstance(f, HeadersFrame))
    assert decoder.decode(head.block) == [(b":status", b"200"), (b"content-type", b"text/plain")]
    data = [f for f in got if isinstance(f, DataFrame)]
    assert b"".join(f.data for f in data) == body
    assert [f.end_stream for f in data][-1] is True
    assert len(data) > 1
    assert {type(f) for f in got} <= {SettingsFrame, HeadersFrame, DataFrame, WindowUpdateFrame}
    assert FrameType.DATA == 0


def _outcomes(module: ModuleType, pieces: list[bytes], **kwargs: Any) -> list[Any]:
    reader = module.FrameReader(**kwargs)
    out: list[Any] = []
    for piece in pieces:
        reader.feed(piece)
        while True:
            try:
                frame = reader.next_frame()
            except StreamError as exc:
                out.append(("stream", exc.error_code, exc.stream_id, exc.offset, exc.message,
                            exc.frame))  # fmt: skip
                continue
            except FrameError as exc:
                out.append(("connection", exc.error_code, exc.offset, exc.message))
                return out
            if frame is None:
                break
            out.append(frame)
    out.append(reader.buffered)
    return out


@settings(max_examples=300, deadline=None)
@given(
    sent=st.lists(frame_st, max_size=5),
    damage=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=3),
    tail=st.binary(max_size=30),
    cut=st.integers(0, 4000),
    preface=st.booleans(),
)
def test_twins_agree(
    sent: list[Any], damage: list[tuple[int, int]], tail: bytes, cut: int, preface: bool
) -> None:
    compiled = h2_frames.h2frames_c
    if compiled is None:
        pytest.skip("cyhttp._h2frames is not built")
    wire = bytearray(b"".join(_h2frames_py.serialize(f) for f in sent) + tail)
    for pos, byte in damage:
        if wire:
            wire[pos % len(wire)] = byte
    cut %= len(wire) + 1
    pieces = [bytes(wire[:cut]), bytes(wire[cut:])]
    kwargs = {"preface": preface, "max_header_block_size": 200}
    assert _outcomes(compiled, pieces, **kwargs) == _outcomes(_h2frames_py, pieces, **kwargs)


def test_the_benchmark_runs() -> None:
    from benchmarks import bench_h2frames

    rows = bench_h2frames.run(quick=True)
    ours = [r for r in rows if r["impl"] == "cyhttp pure" or not _compat.NO_EXTENSIONS]
    ours = [r for r in ours if r["impl"].startswith("cyhttp")]
    assert len(ours) == (2 if not _compat.NO_EXTENSIONS else 1)
    assert all(r["value"] is not None and r["value"] > 0 for r in ours), ours


# -- coalesce_data -----------------------------------------------------------------------------


def _merged(outcomes: list[Any]) -> list[Any]:
    """``outcomes`` with each run of DATA frames that ``coalesce_data`` may join (one
    stream, unpadded, the first not empty, the next not empty unless it ends the stream)
    joined as the reader would: what a coalescing reader must return however the bytes
    arrived."""
    out: list[Any] = []
    for item in outcomes:
        last = out[-1] if out else None
        if (
            isinstance(item, DataFrame)
            and isinstance(last, DataFrame)
            and last.stream_id == item.stream_id
            and last.data
            and not last.end_stream
            and last.pad_length is None
            and item.pad_length is None
            and (item.data or item.end_stream)
        ):
            out[-1] = DataFrame(item.stream_id, last.data + item.data, item.end_stream)
        else:
            out.append(item)
    return out


def test_coalesced_data_frames_come_back_as_one(fr: ModuleType) -> None:
    wire = b"".join(
        [
            raw(0, 0, 1, b"a" * 100),
            raw(0, 0, 1, b"b" * 200),
            raw(0, 0x1, 1, b"c"),  # END_STREAM ends the run
            raw(0, 0, 1, b"d"),
            raw(0, 0, 3, b"e"),  # another stream
            raw(0, 0, 3, b""),  # empty, not ending the stream: never joined
            raw(0, 0, 3, b"f"),
            fr.serialize(DataFrame(3, b"g", pad_length=2)),  # padded: never joined
            raw(6, 0, 0, bytes(8)),  # PING between two DATA frames of stream 5
            raw(0, 0, 5, b"h"),
            raw(0, 0x1, 5, b""),  # an empty END_STREAM joins the run
        ]
    )
    reader = fr.FrameReader(preface=False, coalesce_data=True)
    assert reader.coalesce_data is True
    reader.feed(wire)
    assert list(reader) == [
        DataFrame(1, b"a" * 100 + b"b" * 200 + b"c", end_stream=True),
        DataFrame(1, b"d"),
        DataFrame(3, b"e"),
        DataFrame(3, b""),
        DataFrame(3, b"f"),
        DataFrame(3, b"g", pad_length=2),
        PingFrame(bytes(8)),
        DataFrame(5, b"h", end_stream=True),
    ]
    assert reader.buffered == 0
    assert fr.FrameReader().coalesce_data is False  # off unless asked for


def test_a_run_stops_before_an_incomplete_or_oversized_frame(fr: ModuleType) -> None:
    reader = fr.FrameReader(preface=False, coalesce_data=True)
    reader.feed(raw(0, 0, 1, b"a" * 10) + raw(0, 0, 1, b"b" * 10)[:12])
    assert reader.next_frame() == DataFrame(1, b"a" * 10)  # what is whole, not more
    assert reader.next_frame() is None
    reader.feed(raw(0, 0, 1, b"b" * 10)[12:] + raw(0, 0, 1, bytes(16385)))
    assert reader.next_frame() == DataFrame(1, b"b" * 10)
    with pytest.raises(FrameError) as caught:  # the oversized frame fails as it would alone
        reader.next_frame()
    assert caught.value.error_code == ErrorCode.FRAME_SIZE_ERROR
    assert caught.value.offset == 2 * (9 + 10)


def test_a_large_body_in_many_frames_is_one_frame_per_read(fr: ModuleType) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB in 128 frames of 8 KiB
    frames = [raw(0, 0, 7, body[i : i + 8192]) for i in range(0, len(body), 8192)]
    frames[-1] = raw(0, 0x1, 7, body[-8192:])
    wire = b"".join(frames)
    reader = fr.FrameReader(preface=False, coalesce_data=True)
    got: list[Any] = []
    for start in range(0, len(wire), 262144):  # reads of 256 KiB
        reader.feed(wire[start : start + 262144])
        got += list(reader)
    assert len(got) == 5  # four reads, the last frame of each split across two
    assert b"".join(f.data for f in got) == body
    assert [f.end_stream for f in got] == [False] * 4 + [True]


#: DATA frames on two streams, mostly unpadded: runs to join
_data_on_two_streams = st.builds(
    DataFrame,
    st.sampled_from([1, 3]),
    st.binary(max_size=40),
    st.booleans(),
    st.none() | st.none() | st.integers(0, 3),
)


@settings(max_examples=300, deadline=None)
@given(
    sent=st.lists(
        st.one_of(_data_on_two_streams, frame_st),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 2000), max_size=3),
    damage=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=2),
)
def test_coalescing_only_joins_data(
    sent: list[Any], cuts: list[int], damage: list[tuple[int, int]]
) -> None:
    """However the bytes arrive, a coalescing reader returns what a plain one does with
    its DATA runs joined, errors included; and both twins return the same."""
    wire = bytearray(b"".join(_h2frames_py.serialize(f) for f in sent))
    for pos, byte in damage:
        if wire:
            wire[pos % len(wire)] = byte
    points = sorted({c % (len(wire) + 1) for c in cuts})
    pieces = [bytes(wire[a:b]) for a, b in pairwise([0, *points, len(wire)])]
    twins = [_h2frames_py] + ([h2_frames.h2frames_c] if h2_frames.h2frames_c else [])
    results = []
    for module in twins:
        plain = _outcomes(module, [bytes(wire)], preface=False)
        joined = _outcomes(module, pieces, preface=False, coalesce_data=True)
        assert _merged(joined[:-1]) == _merged(plain[:-1])
        assert joined[-1] == plain[-1]  # the same bytes left over
        results.append(joined)
    assert all(r == results[0] for r in results)


def _fed_and_read(
    module: ModuleType, pieces: list[Any], drains: list[bool], **kwargs: Any
) -> list[Any]:
    """Feed ``pieces``, reading every frame after each piece whose ``drains`` flag is set
    (and after the last); what came out, with what stayed buffered after each step."""
    reader = module.FrameReader(**kwargs)
    out: list[Any] = []
    for index, piece in enumerate(pieces):
        reader.feed(piece)
        out.append(("buffered", reader.buffered))
        if index < len(drains) and not drains[index] and index < len(pieces) - 1:
            continue
        while True:
            try:
                frame = reader.next_frame()
            except StreamError as exc:
                out.append(("stream", exc.error_code, exc.stream_id, exc.offset, exc.message))
                continue
            except FrameError as exc:
                out.append(("connection", exc.error_code, exc.offset, exc.message))
                return out
            if frame is None:
                break
            out.append(frame)
        out.append(("buffered", reader.buffered))
    return out


@settings(max_examples=300, deadline=None)
@given(
    sent=st.lists(st.one_of(_data_on_two_streams, frame_st), max_size=10),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
    drains=st.lists(st.booleans(), max_size=7),
    kinds=st.lists(st.sampled_from([bytes, bytearray]), min_size=7, max_size=7),
    coalesce=st.booleans(),
    preface=st.booleans(),
    damage=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 255)), max_size=2),
)
def test_the_twins_read_any_feeding_alike(
    sent: list[Any],
    cuts: list[int],
    drains: list[bool],
    kinds: list[type],
    coalesce: bool,
    preface: bool,
    damage: list[tuple[int, int]],
) -> None:
    """The compiled reader reads fed bytes in place; whatever the pieces (bytes or not),
    however many are fed before reading, the frames, errors and buffered counts are the
    pure twin's."""
    compiled = h2_frames.h2frames_c
    if compiled is None:
        pytest.skip("cyhttp._h2frames is not built")
    wire = bytearray(
        (SETTINGS0 if preface else b"") + b"".join(_h2frames_py.serialize(f) for f in sent)
    )
    for pos, byte in damage:
        if wire:
            wire[pos % len(wire)] = byte
    points = sorted({c % (len(wire) + 1) for c in cuts})
    pieces = [
        kinds[i % len(kinds)](wire[a:b])
        for i, (a, b) in enumerate(pairwise([0, *points, len(wire)]))
    ]
    kwargs = {"preface": preface, "coalesce_data": coalesce}
    expected = _fed_and_read(_h2frames_py, pieces, drains, **kwargs)
    assert _fed_and_read(compiled, pieces, drains, **kwargs) == expected


def test_a_frame_split_across_reads_is_completed_from_the_next(fr: ModuleType) -> None:
    frames = [raw(0, 0, 1, bytes([i]) * 5000) for i in range(6)]
    wire = b"".join(frames)
    reader = fr.FrameReader(preface=False)
    got: list[Any] = []
    for start in range(0, len(wire), 7001):  # cuts inside headers and payloads
        reader.feed(wire[start : start + 7001])
        got += list(reader)
        assert reader.buffered == (start + len(wire[start : start + 7001])) - sum(
            9 + len(f.data) for f in got
        )
    assert got == [DataFrame(1, bytes([i]) * 5000) for i in range(6)]
    reader.feed(raw(0, 0, 1, bytes(16385))[:20])  # too large: refused from its header
    with pytest.raises(FrameError) as caught:
        reader.next_frame()
    assert caught.value.offset == len(wire)
