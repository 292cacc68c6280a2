"""StreamReader unit tests (no sockets): reads of every kind, EOF, errors, chunk
boundaries and flow control; and the body decoders."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from cyhttp import streams
from cyhttp.client_exceptions import ClientPayloadError
from cyhttp.http_exceptions import LineTooLong
from cyhttp.streams import (
    DECODE_PIECE,
    ZSTD_BACKENDS,
    StreamReader,
    make_decoder,
    supported_encodings,
    undecodable,
)


class FlowSpy:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


async def test_read_all_waits_for_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.read())
    for piece in (b"a", b"bc", b"def"):
        await asyncio.sleep(0)
        reader.feed_data(piece)
    assert not task.done()
    reader.feed_eof()
    assert await task == b"abcdef"
    assert await reader.read() == b""
    assert reader.at_eof()


async def test_read_n_readany_readexactly() -> None:
    reader = StreamReader()
    reader.feed_data(b"hello ")
    reader.feed_data(b"world")
    assert await reader.read(3) == b"hel"
    with pytest.raises(ValueError):
        await reader.readexactly(-1)
    assert await reader.readexactly(5) == b"lo wo"
    assert await reader.readany() == b"rld"
    reader.feed_eof()
    assert await reader.readany() == b""
    assert await reader.read(10) == b""
    assert reader.total_bytes == 11


async def test_readexactly_short_raises_incomplete_read() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.feed_eof()
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await reader.readexactly(5)
    assert info.value.partial == b"abc"


async def test_readline_across_pieces_and_last_line() -> None:
    reader = StreamReader()
    for piece in (b"on", b"e\ntw", b"o\n", b"three"):
        reader.feed_data(piece)
    reader.feed_eof()
    assert [line async for line in reader] == [b"one\n", b"two\n", b"three"]


async def test_readline_waits_for_newline() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readline())
    reader.feed_data(b"part")
    await asyncio.sleep(0)
    assert not task.done()
    reader.feed_data(b"ial\nnext")
    assert await task == b"partial\n"


async def test_exception_is_raised_by_pending_and_later_reads() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.read(5))
    await asyncio.sleep(0)
    reader.set_exception(ClientPayloadError("broken"))
    with pytest.raises(ClientPayloadError):
        await task
    with pytest.raises(ClientPayloadError):
        await reader.readany()
    assert isinstance(reader.exception(), ClientPayloadError)


async def test_two_concurrent_readers_is_an_error() -> None:
    reader = StreamReader()
    first = asyncio.ensure_future(reader.read(1))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await reader.read(1)
    reader.feed_eof()
    assert await first == b""


async def test_iter_chunked_and_iter_any() -> None:
    reader = StreamReader()
    reader.feed_data(b"0123456789")
    reader.feed_eof()
    with pytest.raises(ValueError):
        reader.iter_chunked(0)
    assert [p async for p in reader.iter_chunked(4)] == [b"0123", b"4567", b"89"]
    reader = StreamReader()
    reader.feed_data(b"ab")
    reader.feed_data(b"cd")
    reader.feed_eof()
    assert [p async for p in reader.iter_any()] == [b"ab", b"cd"]


async def test_iter_chunks_reports_http_chunk_ends() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.feed_data(b"de")
    reader.end_http_chunk()
    reader.feed_data(b"fgh")
    reader.end_http_chunk()
    reader.feed_data(b"tail")
    reader.feed_eof()
    got = [item async for item in reader.iter_chunks()]
    # pieces of one chunk are joined up to its end; data after the last end is plain
    assert got == [(b"abcde", True), (b"fgh", True), (b"tail", False)]


async def test_wait_eof_and_read_nowait() -> None:
    reader = StreamReader()
    reader.feed_data(b"xy")
    assert reader.read_nowait(1) == b"x"
    waiter = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    assert not waiter.done()
    reader.feed_eof()
    await waiter
    assert reader.read_nowait() == b"y"


def test_flow_control_pauses_and_resumes() -> None:
    spy = FlowSpy()
    reader = StreamReader(spy, limit=10)
    reader.feed_data(b"x" * 15)
    assert spy.calls == []
    reader.feed_data(b"x" * 10)
    assert spy.calls == ["pause"] and reader.paused
    assert reader.read_nowait(10) == b"x" * 10
    assert spy.calls == ["pause"]  # 15 left: still above the low-water mark
    reader.read_nowait(10)
    assert spy.calls == ["pause", "resume"] and not reader.paused


async def test_readexactly_past_the_window_resumes_and_a_longer_line_is_refused() -> None:
    spy = FlowSpy()
    reader = StreamReader(spy, limit=4)
    task = asyncio.ensure_future(reader.readexactly(20))
    for _ in range(4):
        await asyncio.sleep(0)
        reader.feed_data(b"x" * 5)  # over the window each time: paused, then resumed
    assert await task == b"x" * 20
    # pieces 2 and 3 paused and the waiting read resumed; the 4th paused and taking the
    # 20 bytes resumed
    assert spy.calls == ["pause", "resume"] * 3
    assert not reader.paused
    reader.feed_data(b"y" * 9)
    with pytest.raises(LineTooLong, match="more than 8 bytes") as info:
        await reader.readline()
    assert isinstance(info.value, ClientPayloadError)
    reader.feed_data(b"\n")
    reader.feed_eof()
    assert await reader.read() == b"y" * 9 + b"\n"  # nothing was lost


async def test_read_all_never_pauses() -> None:
    spy = FlowSpy()
    reader = StreamReader(spy, limit=4)
    task = asyncio.ensure_future(reader.read())
    await asyncio.sleep(0)
    for _ in range(10):
        reader.feed_data(b"12345")
    reader.feed_eof()
    assert len(await task) == 50
    assert spy.calls == []


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
    ],
    ids=["gzip", "deflate-zlib", "br", "zstd"],
)
def test_decoders_byte_by_byte(encoding: str, compress: object) -> None:
    data = b"decoder test " * 100
    wire = compress(data)  # type: ignore[operator]
    decoder = make_decoder(encoding)
    assert decoder is not None
    out = []
    for i in range(len(wire)):
        decoder.feed(wire[i : i + 1])
        while piece := decoder.pull():
            out.append(piece)
    out.append(decoder.finish())
    assert b"".join(out) == data


def test_raw_deflate_and_bounded_output() -> None:
    data = b"\0" * (10 * DECODE_PIECE)
    obj = zlib.compressobj(wbits=-15)
    wire = obj.compress(data) + obj.flush()
    decoder = make_decoder("deflate")
    assert decoder is not None
    decoder.feed(wire)
    pieces = []
    while piece := decoder.pull():
        assert len(piece) <= DECODE_PIECE
        pieces.append(piece)
    pieces.append(decoder.finish())
    assert b"".join(pieces) == data


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_decoders_reject_garbage_and_truncation(encoding: str) -> None:
    decoder = make_decoder(encoding)
    assert decoder is not None
    with pytest.raises(ClientPayloadError):
        decoder.feed(b"\x00garbage that is not compressed at all\xff" * 3)
        while decoder.pull():
            pass
        decoder.finish()
    compressors = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
        "zstd": zstandard.ZstdCompressor().compress,
    }
    wire = compressors[encoding](b"some data " * 50)
    decoder = make_decoder(encoding)
    assert decoder is not None
    decoder.feed(wire[: len(wire) // 2])
    with pytest.raises(ClientPayloadError):
        while decoder.pull():
            pass
        decoder.finish()


def test_identity_has_no_decoder_and_an_unknown_coding_is_refused() -> None:
    assert make_decoder(None) is None
    assert make_decoder("identity") is None
    assert make_decoder("identity, identity") is None
    assert undecodable("gzip, identity, br, zstd") is None
    assert undecodable("gzip, compress") == "compress"
    # never None for a coding we cannot undo: the caller would pass encoded bytes on
    with pytest.raises(ClientPayloadError, match="'compress'"):
        make_decoder("compress")
    with pytest.raises(ClientPayloadError, match="'x-custom'"):
        make_decoder("gzip, x-custom")
    assert {"gzip", "deflate", "br", "zstd"} <= set(supported_encodings())


@given(
    pieces=st.lists(
        st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\0", b"\n")), max_size=12
    ),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("read"), st.integers(1, 50)),
            st.tuples(st.just("readexactly"), st.integers(0, 30)),
            st.tuples(st.just("readline"), st.just(0)),
            st.tuples(st.just("readany"), st.just(0)),
            st.tuples(st.just("nowait"), st.integers(1, 20)),
        ),
        max_size=20,
    ),
)
@settings(max_examples=150, deadline=None)
def test_reads_agree_with_a_plain_buffer(pieces: list[bytes], ops: list[tuple[str, int]]) -> None:
    """Any mix of reads returns the fed bytes in order, nothing lost or repeated."""
    whole = b"".join(pieces)

    async def run() -> bytes:
        reader = StreamReader()
        for piece in pieces:
            reader.feed_data(piece)
        reader.feed_eof()
        out = bytearray()
        for op, n in ops:
            if op == "read":
                got = await reader.read(n)
                assert len(got) <= n
            elif op == "readexactly":
                left = len(whole) - len(out)
                if n > left:
                    with pytest.raises(asyncio.IncompleteReadError):
                        await reader.readexactly(n)
                    got = b""
                    out += whole[len(out) :]
                    continue
                got = await reader.readexactly(n)
                assert len(got) == n
            elif op == "readline":
                got = await reader.readline()
                assert b"\n" not in got[:-1]
            elif op == "readany":
                got = await reader.readany()
            else:
                got = reader.read_nowait(n)
            out += got
        out += await reader.read()
        return bytes(out)

    assert asyncio.run(run()) == whole


def test_concatenated_gzip_members_and_highly_compressed_input() -> None:
    wire = gzip.compress(b"first ") + gzip.compress(b"second")
    decoder = make_decoder("gzip")
    assert decoder is not None
    out = b""
    for i in range(0, len(wire), 7):
        decoder.feed(wire[i : i + 7])
        while piece := decoder.pull():
            out += piece
    assert out + decoder.finish() == b"first second"
    big = bytes(4 * 2**20)
    decoder = make_decoder("gzip")
    assert decoder is not None
    decoder.feed(gzip.compress(big))
    sizes = []
    while piece := decoder.pull():
        sizes.append(len(piece))
    assert max(sizes) <= DECODE_PIECE and sum(sizes) + len(decoder.finish()) == len(big)


def _zstd_backends() -> list[str]:
    found = []
    for module in ZSTD_BACKENDS:
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(module)
    return found


@pytest.mark.parametrize("backend", _zstd_backends())
@pytest.mark.parametrize("step", [1, 7, 5000])
def test_zstd_backends_agree_fed_in_pieces(
    monkeypatch: pytest.MonkeyPatch, backend: str, step: int
) -> None:
    for module in ZSTD_BACKENDS:
        monkeypatch.setitem(streams._HAVE, module, module == backend)
    data = bytes(range(256)) * 40 + b"\0" * (5 * DECODE_PIECE)
    wire = zstandard.ZstdCompressor().compress(data)
    decoder = make_decoder("zstd")
    assert decoder is not None and type(decoder).__name__ == (
        "_ZstandardDecoder" if backend == "zstandard" else "_ZstdDecoder"
    )
    out = []
    for i in range(0, len(wire), step):
        decoder.feed(wire[i : i + step])
        while piece := decoder.pull():
            if backend != "zstandard":
                assert len(piece) <= DECODE_PIECE
            out.append(piece)
    out.append(decoder.finish())
    assert b"".join(out) == data


def test_chained_codings_fed_byte_by_byte_and_bounded() -> None:
    data = b"\0" * (4 * DECODE_PIECE) + b"layered " * 100
    wire = brotli.compress(zlib.compress(gzip.compress(data)))  # gzip, deflate, then br
    decoder = make_decoder("gzip, deflate, br")
    assert decoder is not None and decoder.encoding == "gzip, deflate, br"
    out = []
    for i in range(len(wire)):
        decoder.feed(wire[i : i + 1])
        while piece := decoder.pull():
            assert len(piece) <= DECODE_PIECE
            out.append(piece)
    out.append(decoder.finish())
    assert b"".join(out) == data
    truncated = make_decoder("gzip, br")
    assert truncated is not None
    truncated.feed(brotli.compress(gzip.compress(data)[:-8]))  # the gzip layer is cut short
    with pytest.raises(ClientPayloadError, match="gzip"):
        while truncated.pull():
            pass
        truncated.finish()


async def test_readuntil_max_size_counts_the_separator() -> None:
    reader = StreamReader(FlowSpy(), limit=2**16)
    reader.feed_data(b"abc\r")
    reader.feed_data(b"\ndefgh\r\n")
    reader.feed_eof()
    with pytest.raises(LineTooLong):
        await reader.readuntil(b"\r\n", max_size=4)  # "abc\r\n" is 5 bytes
    assert await reader.readuntil(b"\r\n", max_size=5) == b"abc\r\n"
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=6)  # "defgh\r\n" is 7
    assert await reader.readline(max_line_length=7) == b"defgh\r\n"
    assert await reader.readline() == b""
