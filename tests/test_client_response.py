"""ClientResponse bodies: streaming reads, decompression (gzip, deflate zlib and raw, br,
zstd), the bound on decompressed output, text() charset rules and JSON."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import brotli
import pytest
import zstandard

import cyhttp
from cyhttp import ClientSession
from cyhttp.client_reqrep import TextDecodeError

from .servers import app_server, canned, echo_app, raw_server

TEXT = ("Grüße, 世界! " * 200).encode()


def deflate_raw(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-15)
    return obj.compress(data) + obj.flush()


def response(body: bytes, *headers: str, chunked: bool = False) -> bytes:
    head = "HTTP/1.1 200 OK\r\n" + "".join(h + "\r\n" for h in headers)
    if chunked:
        pieces = [body[i : i + 700] for i in range(0, len(body), 700)]
        framed = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + framed
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "deflate-raw": deflate_raw,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
@pytest.mark.parametrize("name", list(ENCODERS))
async def test_decompression(name: str, chunked: bool) -> None:
    encoding = name.split("-")[0]
    # Compressed once: gzip stamps the current time into its header, so a second call may
    # differ from the bytes on the wire when a second boundary falls in between.
    encoded = ENCODERS[name](TEXT)
    wire = response(encoded, f"Content-Encoding: {encoding}", chunked=chunked)
    async with raw_server(canned(wire, wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.read() == TEXT
        resp = await session.get(srv.url(), auto_decompress=False)
        async with resp:
            assert await resp.read() == encoded
            assert "Accept-Encoding" not in resp.request_info.headers


async def test_decompressed_pieces_are_bounded() -> None:
    """A small compressed body of a big output arrives in bounded pieces, with the socket
    paused meanwhile, not inflated all at once."""
    big = b"\0" * (8 * 2**20)
    wire = response(gzip.compress(big), "Content-Encoding: gzip")
    async with raw_server(canned(wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            await asyncio.sleep(0.05)  # let everything arrive
            assert resp.content._size <= 4 * 2**17
            total = 0
            async for piece in resp.content.iter_any():
                assert len(piece) <= 2**16
                total += len(piece)
            assert total == len(big)


async def test_streaming_readers() -> None:
    body = b"line one\nline two\nthe rest"
    async with app_server(echo_app()) as srv, ClientSession() as session:
        resp = await session.get(srv.url("/chunks"))
        async with resp:
            chunks = [c async for c in resp.content.iter_chunks()]
        assert b"".join(d for d, _ in chunks) == b"first\nsecond\nthird"
        assert any(end for _, end in chunks)
        resp = await session.get(srv.url("/chunks"))
        async with resp:
            lines = [line async for line in resp.content]
        assert lines == [b"first\n", b"second\n", b"third"]
    wire = response(body)
    async with raw_server(canned(wire, wire, wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.content.readline() == b"line one\n"
            assert await resp.content.readexactly(4) == b"line"
            assert await resp.content.read(4) == b" two"
            assert await resp.content.readany() == b"\nthe rest"
            assert await resp.content.read() == b""
            assert resp.content.at_eof()
        resp = await session.get(srv.url())
        async with resp:
            pieces = [p async for p in resp.content.iter_chunked(5)]
            assert all(len(p) <= 5 for p in pieces) and b"".join(pieces) == body
        resp = await session.get(srv.url())
        async with resp:
            with pytest.raises(asyncio.IncompleteReadError):
                await resp.content.readexactly(1000)


@pytest.mark.parametrize(
    "ctype, body, expected",
    [
        ("text/html; charset=cp1251", "Привет мир".encode("cp1251"), "Привет мир"),
        ('text/plain; charset="latin-1"', "café".encode("latin-1"), "café"),
        ("application/json", '{"k": "ü"}'.encode(), '{"k": "ü"}'),
        (
            "text/html",
            ("Съешь же ещё этих мягких французских булок, да выпей чаю. " * 5).encode("koi8-r"),
            "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 5,
        ),
        ("text/plain; charset=no-such-codec", b"plain ascii", "plain ascii"),
    ],
    ids=["header", "quoted", "json-utf8", "detected", "unknown-charset"],
)
async def test_text_charset(ctype: str, body: bytes, expected: str) -> None:
    wire = response(body, f"Content-Type: {ctype}")
    async with raw_server(canned(wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.text() == expected


async def test_text_explicit_encoding_and_undetectable_fallback() -> None:
    wire = response("ß".encode("latin-1"), "Content-Type: text/plain")
    garbage = response(b"\xff\xfe\xfa" * 3, "Content-Type: application/octet-stream")
    async with raw_server(canned(wire, garbage)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.text("latin-1") == "ß"
        resp = await session.get(srv.url())
        async with resp:
            # cchardet guesses UTF-16, which cannot decode 9 bytes; UTF-8 cannot either
            with pytest.raises(TextDecodeError):
                await resp.text()
            text = await resp.text(errors="replace")
            assert isinstance(text, str) and "\ufffd" in text


async def test_release_then_read_of_complete_but_unread_body() -> None:
    # the body had all arrived, but release() came first: as in aiohttp it is gone
    async with raw_server(canned(response(b"kept"))) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        await asyncio.sleep(0.01)
        assert resp.content.is_eof()
        await resp.release()
        with pytest.raises(cyhttp.ClientConnectionError, match="Connection closed"):
            await resp.read()


async def test_close_fails_pending_reads() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(3600)

    async with raw_server(handler) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        resp.close()
        assert resp.closed
        with pytest.raises(cyhttp.ClientConnectionError):
            await resp.read()
