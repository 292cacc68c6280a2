"""ClientResponse bodies: streaming reads, decompression (gzip, deflate zlib and raw, br,
zstd), the bound on decompressed output, text() charset rules and JSON."""

from __future__ import annotations

import asyncio
import gzip
import warnings
import zlib
from collections.abc import AsyncIterator
from types import MappingProxyType

import brotli
import pytest
import zstandard
from multidict import MultiDict, MultiDictProxy
from yarl import URL

import cyhttp
import cyhttp.http_exceptions
from cyhttp import ClientSession, client_reqrep, streams
from cyhttp.client_reqrep import TextDecodeError
from cyhttp.http_exceptions import LineTooLong

from .servers import RawHandler, app_server, canned, echo_app, raw_server, read_request

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
            assert resp.content._size <= 4 * 2**18  # read_bufsize's default is 2**18
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


# ----- life cycle -----


def _head_then_body(body: bytes, gate: asyncio.Event, status: bytes = b"200 OK") -> RawHandler:
    """Send the head, wait for ``gate``, then the body."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 %b\r\nContent-Type: application/json\r\n" % status)
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body))
        await writer.drain()
        await gate.wait()
        writer.write(body)
        await writer.drain()
        await asyncio.sleep(3600)

    return handler


async def test_closed_once_the_body_is_read_to_the_end() -> None:
    gate = asyncio.Event()
    async with raw_server(_head_then_body(b"[1]", gate)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        assert not resp.closed  # the body is still to come
        gate.set()
        assert await resp.json() == [1]
        assert resp.closed
        assert resp.connection is None  # given back to the pool
        assert await resp.read() == b"[1]"
        resp.release()
    assert srv.connections == 1


@pytest.mark.parametrize("arrived", [False, True], ids=["body-pending", "body-arrived"])
@pytest.mark.parametrize("how", ["release", "close"])
@pytest.mark.parametrize("reader", ["read", "text", "json", "content"])
async def test_reading_after_release_or_close_raises_connection_closed(
    arrived: bool, how: str, reader: str
) -> None:
    gate = asyncio.Event()
    if arrived:
        gate.set()
    async with raw_server(_head_then_body(b"[1]", gate)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        if arrived:
            await asyncio.wait_for(resp.content.wait_eof(), 5)
        getattr(resp, how)()
        assert resp.closed
        read = resp.content.read if reader == "content" else getattr(resp, reader)
        with pytest.raises(cyhttp.ClientConnectionError, match="Connection closed"):
            await read()
        with pytest.raises(cyhttp.ClientConnectionError, match="Connection closed"):
            await read()  # and again


@pytest.mark.parametrize("how", ["release", "close", "context"])
async def test_a_body_read_before_release_stays_readable(how: str) -> None:
    wire = response(b'{"k": "v"}', "Content-Type: application/json")
    async with raw_server(canned(wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        if how == "context":
            async with resp:
                assert await resp.read() == b'{"k": "v"}'
        else:
            assert await resp.read() == b'{"k": "v"}'
            getattr(resp, how)()
        assert await resp.read() == b'{"k": "v"}'
        assert await resp.text() == '{"k": "v"}'
        assert await resp.json() == {"k": "v"}


async def test_raise_for_status_inside_the_response_context_keeps_the_body() -> None:
    wire = response(b"details", "Content-Type: text/plain").replace(b"200 OK", b"404 Nope")
    async with raw_server(canned(wire, wire)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            with pytest.raises(cyhttp.ClientResponseError) as info:
                resp.raise_for_status()
            assert info.value.status == 404
            assert await resp.text() == "details"  # the error page
        resp = await session.get(srv.url())
        await asyncio.wait_for(resp.content.wait_eof(), 5)
        with pytest.raises(cyhttp.ClientResponseError):
            resp.raise_for_status()  # outside a context: the connection is let go ...
        assert resp.closed and resp.connection is None
        assert await resp.text() == "details"  # ... but what arrived is kept


async def test_raise_for_status_outside_a_context_closes_an_unfinished_response() -> None:
    gate = asyncio.Event()
    handler = _head_then_body(b"[1]", gate, b"500 Oops")
    async with raw_server(handler) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        with pytest.raises(cyhttp.ClientResponseError):
            resp.raise_for_status()
        assert resp.closed and resp.connection is None
        gate.set()
        with pytest.raises(cyhttp.ClientPayloadError):
            await asyncio.wait_for(resp.read(), 5)  # the connection was closed under it


@pytest.mark.parametrize("limit", [None, 10])
async def test_readline_past_its_limit_is_line_too_long(limit: int | None) -> None:
    size = 2**20 if limit is None else 11
    wire = response(b"a" * size + b"\nnext\n")
    async with (
        raw_server(canned(wire)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        with pytest.raises(LineTooLong) as info:
            await asyncio.wait_for(resp.content.readline(max_line_length=limit), 10)
        assert isinstance(info.value, cyhttp.ClientPayloadError)
        # where aiohttp users catch it, and still a parser error class there
        assert isinstance(info.value, cyhttp.http_exceptions.BadHttpMessage)
        assert await asyncio.wait_for(resp.read(), 10) == b"a" * size + b"\nnext\n"


# ----- text() -----


@pytest.mark.parametrize(
    ("ctype", "body", "encoding", "start"),
    [
        ("text/plain; charset=utf-8", b"ok \xff\xfe", "utf-8", 3),
        ("application/json", b'"\xc3"', "utf-8", 1),
        ("text/plain; charset=ascii", b"caf\xe9", "ascii", 3),
    ],
)
async def test_undecodable_text_is_a_payload_and_a_unicode_error(
    ctype: str, body: bytes, encoding: str, start: int
) -> None:
    wire = response(body, f"Content-Type: {ctype}")
    async with (
        raw_server(canned(wire)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        with pytest.raises(cyhttp.ClientPayloadError) as info:
            await resp.text()
        exc = info.value
        assert isinstance(exc, UnicodeDecodeError) and isinstance(exc, TextDecodeError)
        assert (exc.encoding, exc.object, exc.start) == (encoding, body, start)
        assert isinstance(exc.__cause__, UnicodeDecodeError)
        try:
            await resp.text()
        except UnicodeDecodeError as again:  # the clause aiohttp code has
            assert again.reason == exc.reason
        assert await resp.text(errors="replace") == body.decode(encoding, "replace")
        assert await resp.text(errors="ignore") == body.decode(encoding, "ignore")
        if ctype == "application/json":
            with pytest.raises(TextDecodeError):
                await resp.json()


async def test_get_encoding_rules() -> None:
    wires = [
        response(b"x", "Content-Type: text/plain; charset=UTF8"),
        response(b"{}", "Content-Type: application/problem+json"),
        response("Съешь же ещё".encode("cp1251") * 20, "Content-Type: text/html"),
        response(b"x", "Content-Type: text/plain; charset=no-such"),
    ]
    async with raw_server(canned(*wires)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        assert resp.get_encoding() == "utf-8"  # the codec's name; no body needed
        resp.release()
        resp = await session.get(srv.url())
        assert resp.get_encoding() == "utf-8"
        resp.release()
        resp = await session.get(srv.url())
        with pytest.raises(RuntimeError, match="not yet read"):
            resp.get_encoding()  # the fallback looks at the body
        await resp.read()
        assert resp.get_encoding() == "windows-1251"
        resp = await session.get(srv.url())
        await resp.read()
        assert resp.get_encoding() == "ascii"  # unknown charset: detected instead


async def test_get_encoding_uses_the_sessions_fallback_resolver() -> None:
    wire = response(b"\xe9t\xe9", "Content-Type: text/plain")
    seen = []

    def resolver(resp: cyhttp.ClientResponse, body: bytes) -> str:
        seen.append(body)
        return "latin-1"

    async with raw_server(canned(wire)) as srv, ClientSession() as session:
        session._resolve_charset = resolver  # what ClientSession(fallback_charset_resolver=)
        async with session.get(srv.url()) as resp:
            assert await resp.text() == "été"
    assert seen == [b"\xe9t\xe9"]


# ----- content codings -----


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


ZSTD_HERE = [m for m in streams.ZSTD_BACKENDS if _importable(m)]


def _only_zstd_backend(monkeypatch: pytest.MonkeyPatch, chosen: str | None) -> None:
    """Pretend that only ``chosen`` (None: no zstd at all) is installed."""
    for module in streams.ZSTD_BACKENDS:
        monkeypatch.setitem(streams._HAVE, module, module == chosen)
    monkeypatch.setattr(client_reqrep, "_accept_encoding", None)  # recomputed


def _zstd_frames(*pieces: bytes) -> bytes:
    return b"".join(zstandard.ZstdCompressor().compress(p) for p in pieces)


def test_zstd_backend_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {
        (True, True, True): "compression.zstd",
        (False, True, True): "backports.zstd",
        (False, False, True): "zstandard",
        (False, True, False): "backports.zstd",
        (False, False, False): None,
    }
    for found, backend in expected.items():
        for module, here in zip(streams.ZSTD_BACKENDS, found, strict=True):
            monkeypatch.setitem(streams._HAVE, module, here)
        assert streams.zstd_backend() == backend
        assert ("zstd" in streams.supported_encodings()) is (backend is not None)


def test_the_backend_in_use_here() -> None:
    # Python 3.14 has compression.zstd; before it, the test extra installs backports.zstd
    assert streams.zstd_backend() == ZSTD_HERE[0]
    assert ZSTD_HERE[0] in ("compression.zstd", "backports.zstd")


@pytest.mark.parametrize("backend", ZSTD_HERE)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_zstd_with_each_backend(
    monkeypatch: pytest.MonkeyPatch, backend: str, chunked: bool
) -> None:
    _only_zstd_backend(monkeypatch, backend)
    big = TEXT * 200  # many bounded pieces of output
    one = response(_zstd_frames(big), "Content-Encoding: zstd", chunked=chunked)
    empty = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    wires = [one, empty]
    if backend != "zstandard":  # zstandard's streaming object stops after one frame
        wires.append(response(_zstd_frames(TEXT, b"", TEXT), "Content-Encoding: zstd"))
    async with raw_server(canned(*wires)) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            assert "zstd" in resp.request_info.headers["Accept-Encoding"]
            pieces = [p async for p in resp.content.iter_any()]
            assert b"".join(pieces) == big
            if backend != "zstandard":  # bounds its input per step, not its output
                assert max(map(len, pieces)) <= streams.DECODE_PIECE
        async with session.get(srv.url()) as resp:
            assert await resp.read() == b""
        if len(wires) == 3:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == TEXT + TEXT


@pytest.mark.parametrize("backend", ZSTD_HERE)
@pytest.mark.parametrize(
    "damage", ["truncated", "garbage", "trailing-garbage"], ids=lambda d: str(d)
)
async def test_broken_zstd_is_a_payload_error(
    monkeypatch: pytest.MonkeyPatch, backend: str, damage: str
) -> None:
    _only_zstd_backend(monkeypatch, backend)
    good = _zstd_frames(TEXT)
    body = {
        "truncated": good[: len(good) // 2],
        "garbage": b"not zstd at all" * 10,
        "trailing-garbage": good + b"\x00junk",
    }[damage]
    wire = response(body, "Content-Encoding: zstd")
    async with (
        raw_server(canned(wire)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        with pytest.raises(cyhttp.ClientPayloadError, match="zstd"):
            await resp.read()


async def test_without_a_zstd_backend_zstd_is_neither_asked_for_nor_passed_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _only_zstd_backend(monkeypatch, None)
    encoded = _zstd_frames(TEXT)
    wire = response(encoded, "Content-Encoding: zstd", "Content-Type: text/plain")
    async with raw_server(canned(wire, wire)) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ClientResponseError, match="'zstd'") as info:
            await session.get(srv.url())
        sent = info.value.request_info.headers["Accept-Encoding"]
        assert "zstd" not in sent and "gzip" in sent
        assert info.value.status == 200
        assert info.value.headers is not None and info.value.headers["Content-Encoding"] == "zstd"
        async with session.get(srv.url(), auto_decompress=False) as resp:
            assert await resp.read() == encoded  # asked for: untouched


@pytest.mark.parametrize("coding", ["compress", "x-unknown", "gzip, x-unknown", "br, sdch"])
async def test_a_content_coding_that_cannot_be_decoded_is_an_error(coding: str) -> None:
    encoded = gzip.compress(TEXT)
    wire = response(encoded, f"Content-Encoding: {coding}")
    async with raw_server(canned(wire, wire)) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ClientResponseError, match="Can not decode content-encoding"):
            await session.get(srv.url())
        async with session.get(srv.url(), auto_decompress=False) as resp:
            assert resp.headers["Content-Encoding"] == coding
            assert await resp.read() == encoded


async def test_a_refused_coding_without_a_body_is_no_error() -> None:
    head = b"HTTP/1.1 204 No Content\r\nContent-Encoding: x-unknown\r\n\r\n"
    async with (
        raw_server(canned(head)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        assert resp.status == 204 and await resp.read() == b""


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
async def test_several_content_codings_are_undone_in_reverse(chunked: bool) -> None:
    big = TEXT * 50
    layered = brotli.compress(gzip.compress(big))  # gzip first, then br
    wire = response(layered, "Content-Encoding: gzip, br", chunked=chunked)
    split = response(layered, "Content-Encoding: gzip", "Content-Encoding: br")
    both = response(gzip.compress(big), "Content-Encoding: identity, gzip")
    async with raw_server(canned(wire, split, both)) as srv, ClientSession() as session:
        for _ in range(3):
            async with session.get(srv.url()) as resp:
                pieces = [p async for p in resp.content.iter_any()]
                assert b"".join(pieces) == big
                assert max(map(len, pieces)) <= streams.DECODE_PIECE


def test_accept_encoding_lists_only_what_can_be_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    _only_zstd_backend(monkeypatch, None)
    monkeypatch.setitem(streams._HAVE, "brotli", False)
    assert client_reqrep.accept_encoding() == "gzip, deflate"
    _only_zstd_backend(monkeypatch, ZSTD_HERE[0])
    monkeypatch.setitem(streams._HAVE, "brotli", True)
    assert client_reqrep.accept_encoding() == "gzip, deflate, br, zstd"


# ----- aiohttp 3.x response members -----


async def test_links() -> None:
    wire = response(
        b"",
        'Link: </page/2?x=1,2>; rel="next"; title="a; b, c", <https://other.example/p1>; rel=prev',
        "Link: <last>; rel=last; type=text/html",
        "Link: <no-rel>; title=x",
        "Link: , <bad target; rel=broken",
    )
    async with raw_server(canned(wire, response(b""))) as srv, ClientSession() as session:
        async with session.get(srv.url("/dir/page")) as resp:
            links = resp.links
            assert isinstance(links, MultiDictProxy)
            assert list(links) == ["next", "prev", "last", "no-rel"]
            nxt = links["next"]
            assert isinstance(nxt, MultiDictProxy)
            assert dict(nxt) == {
                "rel": "next",
                "title": "a; b, c",
                "url": srv.url("/page/2?x=1,2"),
            }
            assert links["prev"]["url"] == URL("https://other.example/p1")
            assert links["last"]["url"] == srv.url("/dir/last")
            assert links["last"]["type"] == "text/html"
            assert links["no-rel"]["url"] == srv.url("/dir/no-rel")
        async with session.get(srv.url()) as resp:
            assert resp.links == MultiDictProxy(MultiDict())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="report 2024.pdf"', ("attachment", "report 2024.pdf")),
        ("inline", ("inline", None)),
        (
            "attachment; filename=fallback.txt; filename*=UTF-8''na%C3%AFve%20file.txt",
            ("attachment", "naïve file.txt"),
        ),
        ("attachment; filename*=iso-8859-1'en'%E9t%E9.txt", ("attachment", "été.txt")),
        (
            'attachment; filename*0="long "; filename*1="name.txt"',
            ("attachment", "long name.txt"),
        ),
        (
            "attachment; filename*0*=UTF-8''caf%C3%A9; filename*1*=%20menu.txt",
            ("attachment", "café menu.txt"),
        ),
        (r'attachment; filename="quo\"te;d.txt";', ("attachment", 'quo"te;d.txt')),
        ("attachment; FileName=shout.TXT", ("attachment", "shout.TXT")),
        ("attachment; filename=a.txt; filename=b.txt", (None, None)),  # which one?
        ('"quoted type"; filename=x', (None, None)),
        ('attachment; filename="unterminated', (None, None)),
        ("attachment; filename*=bogus-charset''x%FF", ("attachment", None)),
        ("attachment; filename=has space.txt", (None, None)),  # as aiohttp: a bad header
    ],
)
async def test_content_disposition(header: str, expected: tuple[str | None, str | None]) -> None:
    wire = response(b"", f"Content-Disposition: {header}")
    async with (
        raw_server(canned(wire)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cd = resp.content_disposition
        assert cd is not None
        assert (cd.type, cd.filename) == expected
        # a header that cannot be parsed is reported as aiohttp reports it
        bad = [w for w in caught if issubclass(w.category, cyhttp.BadContentDispositionHeader)]
        assert bool(bad) == (expected[0] is None)
        assert isinstance(cd.parameters, MappingProxyType)
        with pytest.raises(AttributeError):
            cd.type = "changed"  # type: ignore[misc]


async def test_content_disposition_parameters_and_absence() -> None:
    wire = response(b"", 'Content-Disposition: form-data; name="field"; filename=f.bin')
    async with raw_server(canned(wire, response(b""))) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            cd = resp.content_disposition
            assert cd is not None
            assert dict(cd.parameters) == {"name": "field", "filename": "f.bin"}
        async with session.get(srv.url()) as resp:
            assert resp.content_disposition is None


async def test_url_members_ok_and_start() -> None:
    wires = [
        response(b""),
        response(b"").replace(b"200 OK", b"399 Odd"),
        response(b"").replace(b"200 OK", b"400 Bad"),
    ]
    async with raw_server(canned(*wires)) as srv, ClientSession() as session:
        for expected in (True, True, False):
            async with session.get(srv.url("/p?q=1#frag")) as resp:
                assert resp.ok is expected
                assert resp.real_url == srv.url("/p?q=1#frag")
                assert resp.url == srv.url("/p?q=1")
                assert resp.request_info.url == srv.url("/p?q=1")  # the fragment is not sent
                with pytest.warns(DeprecationWarning):
                    assert resp.url_obj == resp.url
                assert await resp.start(resp.connection) is resp  # type: ignore[arg-type]


async def test_output_size_and_upload_complete() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(response(b"ok"))
        # the streamed upload: answered once it is all in
        seen.append(await reader.readuntil(b"\r\n0\r\n\r\n"))
        writer.write(response(b"ok"))
        await writer.drain()

    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"p" * 1000
            await asyncio.sleep(0.01)

    async with raw_server(handler) as srv, ClientSession() as session:
        async with session.post(srv.url(), data=b"x" * 5000) as resp:
            await resp.read()
            with pytest.warns(DeprecationWarning):
                assert resp.output_size == len(seen[0]) > 5000
            with pytest.warns(DeprecationWarning):
                done = resp.upload_complete
            assert done.done()
        async with session.post(srv.url(), data=pieces(), chunked=True) as resp:
            with pytest.warns(DeprecationWarning):
                done = resp.upload_complete
            await asyncio.wait_for(done, 5)
            await resp.read()
            with pytest.warns(DeprecationWarning):
                assert resp.output_size == len(seen[1]) > 4000


async def test_readline_with_a_limit_above_the_window_reads_on() -> None:
    # a limit larger than the flow-control window: the paused socket must read on
    line = b"b" * 2**20 + b"\n"
    wire = response(line + b"tail")
    async with (
        raw_server(canned(wire)) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        got = await asyncio.wait_for(resp.content.readline(max_line_length=2**21), 10)
        assert got == line
        assert await asyncio.wait_for(resp.content.read(), 10) == b"tail"
