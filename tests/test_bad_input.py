"""Hostile or broken responses through the whole client stack, over loopback.

Each malformed response must give one documented exception (a bad head:
ClientResponseError; a bad body or bad compression: ClientPayloadError), and the session
must stay usable afterwards: the next request on it gets the right answer. The
decompression-bomb tests check the ``max_decompressed_size`` limit: a 10 MB gzip stream of
zeros (10 GB once inflated) is cut off after the limit, without the memory to hold it.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator

import brotli
import pytest
import zstandard

import cyhttp
from cyhttp import ClientSession
from cyhttp.client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE

from .servers import RawHandler, raw_server

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _head(*lines: bytes) -> bytes:
    return b"\r\n".join((b"HTTP/1.1 200 OK", *lines)) + b"\r\n\r\n"


#: (id, raw response): each must fail with ClientResponseError (the head is unusable)
BAD_HEADS = [
    ("oversize-status-line", b"HTTP/1.1 200 " + b"x" * 70_000 + b"\r\n\r\n"),
    ("oversize-header", _head(b"X-Big: " + b"a" * 70_000, b"Content-Length: 0")),
    ("too-many-headers", _head(*[b"X-%d: v" % i for i in range(1000)], b"Content-Length: 0")),
    ("negative-content-length", _head(b"Content-Length: -5") + b"hello"),
    ("overflowing-content-length", _head(b"Content-Length: " + b"9" * 40)),
    ("hex-content-length", _head(b"Content-Length: 0x10")),
    ("signed-content-length", _head(b"Content-Length: +2") + b"ok"),
    ("content-length-and-chunked", _head(b"Content-Length: 2", b"Transfer-Encoding: chunked")),
    ("conflicting-content-lengths", _head(b"Content-Length: 2", b"Content-Length: 3") + b"ok"),
    ("conflicting-content-length-list", _head(b"Content-Length: 2, 3") + b"ok"),
    ("double-chunked", _head(b"Transfer-Encoding: chunked, chunked") + b"0\r\n\r\n"),
    ("nul-in-value", _head(b"X-A: a\x00b", b"Content-Length: 0")),
    ("bare-cr-in-value", _head(b"X-A: a\rb", b"Content-Length: 0")),
    ("bare-lf-line-end", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    ("obs-fold", _head(b"X-A: a", b" folded", b"Content-Length: 0")),
    ("space-before-colon", _head(b"X-A : a", b"Content-Length: 0")),
    ("bad-header-name", _head(b"X(A): a", b"Content-Length: 0")),
    ("bad-version", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("bad-status", b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"),
    ("not-http", b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
    ("binary", bytes(range(256)) * 4),
]

#: (id, raw response): each must fail with ClientPayloadError (the body is unusable)
BAD_BODIES = [
    ("huge-chunk-size", _head(b"Transfer-Encoding: chunked") + b"f" * 40 + b"\r\nab"),
    ("chunk-size-over-limit", _head(b"Transfer-Encoding: chunked") + b"100000000000000\r\n"),
    ("negative-chunk-size", _head(b"Transfer-Encoding: chunked") + b"-1\r\nab\r\n0\r\n\r\n"),
    ("chunk-size-garbage", _head(b"Transfer-Encoding: chunked") + b"zz\r\nab\r\n0\r\n\r\n"),
    ("chunk-missing-crlf", _head(b"Transfer-Encoding: chunked") + b"2\r\nabXX0\r\n\r\n"),
    ("nul-in-chunk-ext", _head(b"Transfer-Encoding: chunked") + b"2;a=\x00\r\nab\r\n0\r\n\r\n"),
    ("bad-gzip", _head(b"Content-Length: 10", b"Content-Encoding: gzip") + b"0123456789"),
    ("bad-deflate", _head(b"Content-Length: 4", b"Content-Encoding: deflate") + b"\xff" * 4),
    ("bad-brotli", _head(b"Content-Length: 4", b"Content-Encoding: br") + b"\xff\xff\xff\xff"),
    ("bad-zstd", _head(b"Content-Length: 4", b"Content-Encoding: zstd") + b"\xff\xff\xff\xff"),
    (
        "truncated-gzip",
        _head(b"Content-Length: 10", b"Content-Encoding: gzip") + zlib.compress(b"x" * 100)[:10],
    ),
]


def _serve_by_path(bad: bytes) -> RawHandler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1]
            if path == b"/bad":
                writer.write(bad)
                await writer.drain()
                return  # and close (a short body must end somewhere)
            writer.write(OK)
            await writer.drain()

    return handler


async def _bad_then_good(bad: bytes, expected: type[BaseException]) -> BaseException:
    """Send one bad response, then check the same session still gets a good one."""
    handler = _serve_by_path(bad)
    async with raw_server(handler) as srv, ClientSession() as session:
        async with session.get(srv.url("/ok")) as resp:
            assert await resp.read() == b"ok"
        with pytest.raises(expected) as info:
            async with session.get(srv.url("/bad"), timeout=10) as resp:
                await resp.read()
        for _ in range(2):
            async with session.get(srv.url("/ok"), timeout=10) as resp:
                assert resp.status == 200
                assert await resp.read() == b"ok"
        connector = session.connector
        assert connector is not None
        assert not connector._acquired  # nothing leaked from the failed request
    return info.value


@pytest.mark.parametrize("raw", [r for _, r in BAD_HEADS], ids=[i for i, _ in BAD_HEADS])
async def test_bad_head_is_client_response_error(raw: bytes) -> None:
    exc = await _bad_then_good(raw, cyhttp.ClientResponseError)
    assert isinstance(exc, cyhttp.ClientResponseError)
    assert exc.request_info is not None
    assert str(exc.request_info.url).endswith("/bad")


@pytest.mark.parametrize("raw", [r for _, r in BAD_BODIES], ids=[i for i, _ in BAD_BODIES])
async def test_bad_body_is_client_payload_error(raw: bytes) -> None:
    await _bad_then_good(raw, cyhttp.ClientPayloadError)


async def test_duplicate_identical_content_length_is_accepted() -> None:
    """RFC 9110 §8.6: equal repeated values are one value, not a conflict."""
    raw = _head(b"Content-Length: 2", b"Content-Length: 2") + b"ok"
    handler = _serve_by_path(raw)
    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.get(srv.url("/bad")) as resp,
    ):
        assert await resp.read() == b"ok"


async def test_limits_are_exactly_at_the_documented_sizes() -> None:
    """A header line of 8190 bytes passes; one byte more fails (max_field_size)."""
    name = b"X-Long: "
    fits = _head(name + b"a" * (8190 - len(name)), b"Content-Length: 2") + b"ok"
    over = _head(name + b"a" * (8191 - len(name)), b"Content-Length: 2") + b"ok"
    handler = _serve_by_path(fits)
    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.get(srv.url("/bad")) as resp,
    ):
        assert len(resp.headers["X-Long"]) == 8190 - len(name)
    await _bad_then_good(over, cyhttp.ClientResponseError)


# ----- decompression bombs -----

MIB = 1 << 20


def _gzip_zero_stream(total_inflated: int) -> tuple[bytes, bytes, int]:
    """A gzip stream of ``total_inflated`` zero bytes, as (prefix, repeated block, count):
    the stream is ``prefix + block * count`` (no trailer: the client must give up long
    before the end). Built from one compressed MiB, so nothing large is ever held."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    prefix = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again  # after a full flush every MiB of zeros compresses the same
    return prefix, block, total_inflated // MIB - 1


def _bomb_handler(
    encoding: bytes, prefix: bytes, block: bytes, count: int, sent: list[int]
) -> RawHandler:
    length = len(prefix) + len(block) * count

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            _head(b"Content-Encoding: " + encoding, b"Content-Length: %d" % length) + prefix
        )
        sent[0] += len(prefix)
        pieces = max(1, 65536 // len(block))
        for start in range(0, count, pieces):
            n = min(pieces, count - start)
            writer.write(block * n)
            sent[0] += len(block) * n
            await writer.drain()

    return handler


async def test_gzip_bomb_10gb_stopped_by_max_decompressed_size() -> None:
    prefix, block, count = _gzip_zero_stream(10 * 1024 * MIB)
    compressed = len(prefix) + len(block) * count
    assert 9 * MIB < compressed < 12 * MIB  # a ~10 MB body inflating to 10 GiB
    sent = [0]
    limit = 32 * MIB
    handler = _bomb_handler(b"gzip", prefix, block, count, sent)
    async with (
        raw_server(handler) as srv,
        ClientSession(max_decompressed_size=limit) as session,
    ):
        resp = await session.get(srv.url())
        with pytest.raises(cyhttp.ClientPayloadError, match="max_decompressed_size"):
            await resp.read()  # read() buffers everything: only the limit stops it
        assert resp.content.total_bytes <= limit
        resp.close()
    # cut off early: the server never got to the end of the bomb (socket buffers aside)
    assert sent[0] < compressed


async def test_default_limit_stops_a_bomb_while_streaming() -> None:
    """With no argument, the documented default bounds the inflated size."""
    prefix, block, count = _gzip_zero_stream(4 * DEFAULT_MAX_DECOMPRESSED_SIZE)
    sent = [0]
    seen = 0
    handler = _bomb_handler(b"gzip", prefix, block, count, sent)
    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        with pytest.raises(cyhttp.ClientPayloadError):
            async for piece in resp.content.iter_any():
                seen += len(piece)
    assert 0 < seen <= DEFAULT_MAX_DECOMPRESSED_SIZE


def _small_bombs() -> Iterator[tuple[str, bytes]]:
    data = bytes(8 * MIB)
    yield "gzip", zlib.compress(data, 9, wbits=16 + zlib.MAX_WBITS)
    yield "deflate", zlib.compress(data, 9)
    yield "br", brotli.compress(data)
    yield "zstd", zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize("encoding,body", list(_small_bombs()), ids=lambda v: str(v)[:8])
async def test_every_encoding_respects_the_limit(encoding: str, body: bytes) -> None:
    """8 MiB of zeros in each coding: refused under a 1 MiB limit, accepted under 16 MiB
    and with the limit disabled (None)."""
    raw = _head(b"Content-Encoding: " + encoding.encode(), b"Content-Length: %d" % len(body))

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(raw + body)
            await writer.drain()

    async with raw_server(handler) as srv, ClientSession(max_decompressed_size=MIB) as session:
        with pytest.raises(cyhttp.ClientPayloadError):
            async with session.get(srv.url()) as resp:
                await resp.read()
        for ok_limit in (16 * MIB, None):
            async with session.get(srv.url(), max_decompressed_size=ok_limit) as resp:
                assert await resp.read() == bytes(8 * MIB)


async def test_uncompressed_bodies_are_not_limited() -> None:
    """The limit is about inflation: identity bodies larger than it pass untouched."""
    body = b"z" * (2 * MIB)
    raw = _head(b"Content-Length: %d" % len(body)) + body

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()

    async with (
        raw_server(handler) as srv,
        ClientSession(max_decompressed_size=MIB) as session,
        session.get(srv.url()) as resp,
    ):
        assert await resp.read() == body


# ----- websocket frames -----


def _ws_accept(key: bytes) -> bytes:
    import base64
    import hashlib

    digest = hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    return base64.b64encode(digest)


def ws_handler(frames: bytes, linger: float = 5.0, extensions: bytes = b"") -> RawHandler:
    """A raw server that completes the WebSocket handshake, then writes ``frames``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = b""
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + _ws_accept(key)
            + (b"\r\nSec-WebSocket-Extensions: " + extensions if extensions else b"")
            + b"\r\n\r\n"
            + frames
        )
        await writer.drain()
        try:
            await asyncio.wait_for(reader.read(), linger)
        except TimeoutError:
            pass

    return handler


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return bytes((first, 126)) + n.to_bytes(2, "big") + payload
    return bytes((first, 127)) + n.to_bytes(8, "big") + payload


BAD_FRAMES = [
    ("invalid-utf8-text", frame(0x1, b"ok \xff\xfe"), 1007),
    ("truncated-utf8-text", frame(0x1, "é".encode()[:1]), 1007),
    ("utf8-split-over-fragments-bad", frame(0x1, b"a\xc3", fin=False) + frame(0x0, b"("), 1007),
    ("invalid-utf8-close-reason", frame(0x8, b"\x03\xe8\xff"), 1007),
    ("reserved-opcode", frame(0x3, b"x"), 1002),
    ("rsv-bits-without-extension", frame(0x1, b"x", rsv=0x40), 1002),
    ("masked-server-frame", bytes((0x81, 0x81)) + b"\x01\x02\x03\x04" + b"y", 1002),
    ("fragmented-ping", frame(0x9, b"", fin=False), 1002),
    ("long-ping", frame(0x9, b"p" * 126), 1002),
    ("continuation-first", frame(0x0, b"x"), 1002),
    ("oversize-message", frame(0x2, bytes(70_000)), 1009),
    ("huge-declared-length", bytes((0x82, 127)) + (1 << 62).to_bytes(8, "big"), 1009),
]


@pytest.mark.parametrize(
    "frames,code", [(f, c) for _, f, c in BAD_FRAMES], ids=[i for i, _, _ in BAD_FRAMES]
)
async def test_bad_websocket_frames(frames: bytes, code: int) -> None:
    """A protocol violation arrives as an ERROR message, the connection closes with the
    RFC 6455 code, and nothing else is raised."""
    async with raw_server(ws_handler(frames)) as srv, ClientSession() as session:
        ws = await session.ws_connect(srv.url(), max_msg_size=65536)
        msg = await ws.receive(timeout=5)
        assert msg.type is cyhttp.WSMsgType.ERROR, msg
        assert getattr(msg.data, "code", None) == code
        assert ws.closed
        assert ws.close_code == code
        assert ws.exception() is not None
        after = await ws.receive(timeout=5)
        assert after.type is cyhttp.WSMsgType.CLOSED
        await ws.close()


async def test_valid_utf8_split_across_fragments_is_accepted() -> None:
    text = "héllo wörld ✓"
    raw = text.encode()
    frames = frame(0x1, raw[:2], fin=False) + frame(0x0, raw[2:8], fin=False)
    frames += frame(0x0, raw[8:])
    async with raw_server(ws_handler(frames)) as srv, ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        assert await ws.receive_str(timeout=5) == text
        await ws.close()


async def test_websocket_deflate_bomb_is_stopped_by_max_msg_size() -> None:
    """permessage-deflate: 64 MiB of zeros in ~64 KiB of frame; max_msg_size bounds the
    *inflated* message, so it fails with 1009 without inflating it all."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(bytes(64 * MIB)) + comp.flush(zlib.Z_SYNC_FLUSH)
    bomb = frame(0x2, data[:-4], rsv=0x40)
    handler = ws_handler(bomb, extensions=b"permessage-deflate")
    async with raw_server(handler) as srv, ClientSession() as session:
        ws = await session.ws_connect(srv.url(), compress=15, max_msg_size=MIB)
        msg = await ws.receive(timeout=5)
        assert msg.type is cyhttp.WSMsgType.ERROR
        assert getattr(msg.data, "code", None) == 1009
        assert ws.close_code == 1009
        await ws.close()
