"""Request bodies on the wire: ``Expect: 100-continue`` (accepted and refused), streamed
bodies from files and (async) iterables with ``chunked=`` and ``compress=``, a 50 MiB
streamed upload whose memory stays bounded, and body sources that fail."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from cyhttp import ClientSession

from .servers import AppServer, app_server, raw_server, read_request

MiB = 1 << 20


def upload_app() -> web.Application:
    """``/sum`` reads the body piecewise (never whole) and answers its size, SHA-256,
    framing and the request headers of interest."""

    async def digest(request: web.Request) -> web.Response:
        h = hashlib.sha256()
        size = 0
        async for piece in request.content.iter_chunked(1 << 16):
            h.update(piece)
            size += len(piece)
        return web.json_response(
            {
                "size": size,
                "sha256": h.hexdigest(),
                "chunked": request.headers.get("Transfer-Encoding") == "chunked",
                "content_length": request.headers.get("Content-Length"),
                "content_encoding": request.headers.get("Content-Encoding"),
                "expect": request.headers.get("Expect"),
            }
        )

    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/sum", digest)
    app.router.add_put("/sum", digest)
    return app


@pytest.fixture
async def server() -> AppServer:
    async with app_server(upload_app()) as srv:
        yield srv


def pattern(total: int, piece: int = 1 << 16) -> Iterator[bytes]:
    """``total`` bytes of a repeating, not very compressible pattern, in pieces."""
    block = hashlib.sha256(b"seed").digest() * (piece // 32 + 1)
    sent = 0
    n = 0
    while sent < total:
        size = min(piece, total - sent)
        # vary each piece so that a reordering or a repeat would change the digest
        yield n.to_bytes(4, "big") + block[: size - 4] if size > 4 else block[:size]
        sent += size
        n += 1


def digest_of(total: int) -> str:
    h = hashlib.sha256()
    for p in pattern(total):
        h.update(p)
    return h.hexdigest()


async def agen(total: int) -> AsyncIterator[bytes]:
    for p in pattern(total):
        yield p
        await asyncio.sleep(0)


# ----- Expect: 100-continue -----


async def test_expect100_accepted(server: AppServer) -> None:
    body = b"".join(pattern(300_000))
    async with ClientSession() as session:
        for _ in range(2):
            async with session.post(server.url("/sum"), data=body, expect100=True) as resp:
                assert resp.status == 200
                got = await resp.json()
            assert got["size"] == len(body)
            assert got["sha256"] == hashlib.sha256(body).hexdigest()
            assert got["expect"] == "100-continue"
    assert server.connections == 1  # after a 100 Continue the connection is reusable


async def test_expect100_streamed_file(server: AppServer) -> None:
    body = b"".join(pattern(200_000))
    async with (
        ClientSession() as session,
        session.put(server.url("/sum"), data=io.BytesIO(body), expect100=True) as resp,
    ):
        got = await resp.json()
    assert (got["size"], got["content_length"]) == (len(body), str(len(body)))


async def test_expect_header_given_by_hand_waits_too() -> None:
    """``Expect: 100-continue`` in the headers behaves like ``expect100=True``."""
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        seen.append(await reader.read())  # everything until the client closes

    async with raw_server(handler) as srv, ClientSession() as session:
        headers = {"Expect": "100-Continue"}
        async with session.post(srv.url("/"), data=b"secret" * 100, headers=headers) as resp:
            assert resp.status == 401
        await session.close()
        await asyncio.wait_for(_until(lambda: len(seen) == 2), 5)
    assert seen[1] == b""


async def _until(cond: object) -> None:
    while not cond():  # type: ignore[operator]
        await asyncio.sleep(0.01)


async def test_expect100_refused_body_never_sent() -> None:
    """The server answers 417 without 100 Continue: the body is not sent, and the
    connection (out of step with the server) is not reused."""
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"\r\nExpect: 100-continue\r\n" in head
        writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope")
        await writer.drain()
        received.append(await reader.read())  # until the client closes the connection

    consumed = []

    async def body() -> AsyncIterator[bytes]:
        consumed.append(True)
        yield b"x" * 1000

    async with raw_server(handler) as srv:
        async with ClientSession() as session:
            for _ in range(2):
                async with session.post(srv.url("/"), data=body(), expect100=True) as resp:
                    assert resp.status == 417
                    assert await resp.read() == b"nope"
            assert srv.connections == 2  # the first connection was not pooled
        await asyncio.wait_for(_until(lambda: len(received) == 2), 5)
    assert received == [b"", b""]
    assert consumed == []  # the body source was never even started


async def test_expect100_then_final_after_body() -> None:
    """100 Continue, then the body, then the final answer (by a hand-written server)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        data = await reader.readexactly(length)
        answer = hashlib.sha256(data).hexdigest().encode()
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 64\r\n\r\n" + answer)
        await writer.drain()
        await read_request(reader)  # a second request on the same connection
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    data = b"".join(pattern(100_000))
    async with raw_server(handler) as srv, ClientSession() as session:
        async with session.post(srv.url("/"), data=data, expect100=True) as resp:
            assert resp.status == 201
            assert (await resp.read()).decode() == hashlib.sha256(data).hexdigest()
        async with session.get(srv.url("/")) as resp:
            assert resp.status == 204
        assert srv.connections == 1


async def test_answer_with_continue_before_the_body_is_sent() -> None:
    """100 Continue and the final answer arrive together: the response is complete while
    the body writer has not run yet. The connection may not go back to the pool (where the
    next request would be read as this one's body) before that body is on the wire: what
    follows a head on a connection is its whole body, or the end of the connection."""
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            try:
                seen.append(await reader.readexactly(length))
            except asyncio.IncompleteReadError as exc:
                seen.append(b"<end>" if not exc.partial else exc.partial)
                return

    bodies = (b"first", b"second!", b"third")
    async with raw_server(handler) as srv, ClientSession() as session:
        async with asyncio.timeout(10):  # the failure was a hang: the server waited for a body
            for body in bodies:
                # released at once (the redirect logic does so too)
                async with session.post(srv.url("/"), data=body, expect100=True) as resp:
                    assert await resp.read() == b"ok"
            # and read later, after the writer ran: the connection is reused
            resp = await session.post(srv.url("/"), data=b"fourth", expect100=True)
            await _until(lambda: b"fourth" in seen)
            async with resp:
                assert await resp.read() == b"ok"
            async with session.post(srv.url("/"), data=b"fifth", expect100=True) as resp:
                assert await resp.read() == b"ok"
            await _until(lambda: len(seen) >= 5)
    assert all(got in (*bodies, b"fourth", b"fifth", b"<end>") for got in seen), seen
    assert srv.connections <= 4  # the fifth request reused the fourth's connection


# ----- streamed bodies -----


@pytest.mark.parametrize("chunked", [None, True])
@pytest.mark.parametrize("compress", [None, True, "gzip"])
@pytest.mark.parametrize("source", ["file", "async", "sync"])
async def test_streamed_sources(
    server: AppServer, tmp_path: Path, source: str, chunked: object, compress: object
) -> None:
    total = 700_000
    if source == "file":
        path = tmp_path / "body.bin"
        path.write_bytes(b"".join(pattern(total)))
        data: object = path.open("rb")
    elif source == "async":
        data = agen(total)
    else:
        data = pattern(total)
    try:
        async with (
            ClientSession() as session,
            session.post(server.url("/sum"), data=data, chunked=chunked, compress=compress) as r,
        ):
            assert r.status == 200
            got = await r.json()
    finally:
        if source == "file":
            data.close()  # type: ignore[attr-defined]
    assert got["size"] == total
    assert got["sha256"] == digest_of(total)
    expect_chunked = bool(chunked or compress or source != "file")
    assert got["chunked"] is expect_chunked
    assert got["content_length"] == (None if expect_chunked else str(total))
    expected_coding = {None: None, True: "deflate", "gzip": "gzip"}[compress]  # type: ignore[index]
    assert got["content_encoding"] == expected_coding


async def test_compressed_stream_is_really_compressed() -> None:
    """What goes on the wire is deflate (zlib format), chunk-framed."""
    wire: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        wire.extend((head, body))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    plain = b"abc" * 100_000
    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.post(srv.url("/"), data=agen_of(plain), compress=True) as resp,
    ):
        assert resp.status == 200
    head, body = wire
    assert b"\r\nContent-Encoding: deflate\r\n" in head
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head
    assert len(body) < len(plain) // 50
    assert zlib.decompress(body) == plain


async def agen_of(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 50_000):
        yield data[i : i + 50_000]


async def test_text_pieces_and_memoryviews(server: AppServer) -> None:
    async def mixed() -> AsyncIterator[object]:
        yield "héllo "
        yield memoryview(b"world")
        yield bytearray(b"!")

    async with (
        ClientSession() as session,
        session.post(server.url("/sum"), data=mixed()) as resp,
    ):
        got = await resp.json()
    assert got["sha256"] == hashlib.sha256("héllo world!".encode()).hexdigest()


async def test_failing_body_source_fails_the_request(server: AppServer) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 100_000
        raise RuntimeError("disk on fire")

    async with ClientSession() as session:
        with pytest.raises(RuntimeError, match="disk on fire"):
            async with session.post(server.url("/sum"), data=broken()) as resp:
                await resp.read()
        # the session is still usable
        async with session.post(server.url("/sum"), data=b"ok") as resp:
            assert (await resp.json())["size"] == 2


@pytest.mark.parametrize("source", ["sync", "async", "file"])
async def test_body_piece_of_wrong_type_fails_the_request(server: AppServer, source: str) -> None:
    """A piece that is neither bytes-like nor str is refused with TypeError, not turned
    into something else (``bytes(3)`` would send three NUL bytes)."""

    async def agen_ints() -> AsyncIterator[object]:
        yield b"ok"
        yield 3

    class IntFile(io.RawIOBase):
        def read(self, size: int = -1) -> object:
            return 3

    data: object = {"sync": [b"ok", 3], "async": agen_ints(), "file": IntFile()}[source]
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="int"):
            async with session.post(server.url("/sum"), data=data) as resp:
                await resp.read()
        async with session.post(server.url("/sum"), data=b"ok") as resp:
            assert (await resp.json())["size"] == 2


async def test_file_read_in_pieces(server: AppServer) -> None:
    """A file object is read piece by piece, never whole."""

    class Recording(io.BytesIO):
        sizes: list[int]

        def read(self, size: int | None = -1) -> bytes:
            self.sizes.append(-1 if size is None else size)
            return super().read(size)

    f = Recording(b"".join(pattern(1_000_000)))
    f.sizes = []
    async with (
        ClientSession() as session,
        session.post(server.url("/sum"), data=f) as resp,
    ):
        assert (await resp.json())["size"] == 1_000_000
    assert len(f.sizes) > 4
    assert all(0 < s <= 1 << 20 for s in f.sizes)


async def test_text_mode_file_is_sent_chunked(server: AppServer, tmp_path: Path) -> None:
    """A file opened in text mode is sent as what its reads give, UTF-8 encoded: its size
    on disk is not that length (newlines are translated, other encodings re-encoded), so
    the body goes chunked rather than under a wrong Content-Length."""
    path = tmp_path / "body.txt"
    text = "d\xe9j\xe0 vu\r\n" * 5000  # 9 bytes on disk a line, 10 sent
    path.write_bytes(text.encode("latin-1"))
    expected = text.replace("\r\n", "\n").encode("utf-8")
    with path.open(encoding="latin-1") as f:
        async with (
            ClientSession() as session,
            session.post(server.url("/sum"), data=f) as resp,
        ):
            got = await resp.json()
    assert got["size"] == len(expected)
    assert got["sha256"] == hashlib.sha256(expected).hexdigest()
    assert got["chunked"] is True
    assert got["content_length"] is None


# ----- big uploads with bounded memory -----


async def _upload_peak(server: AppServer, data: object, total: int) -> int:
    async with ClientSession() as session:
        tracemalloc.start()
        try:
            async with session.post(server.url("/sum"), data=data) as resp:
                got = await resp.json()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert got["size"] == total
    assert got["sha256"] == digest_of(total)
    return peak


async def test_50mib_streamed_upload_bounded_memory(server: AppServer) -> None:
    """50 MiB from an async generator: the client (and the in-process server) never hold
    more than a few MiB at once. The bound is generous but far below the body size."""
    total = 50 * MiB
    peak = await _upload_peak(server, agen(total), total)
    assert peak < 8 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"


async def test_50mib_file_upload_bounded_memory(server: AppServer, tmp_path: Path) -> None:
    total = 50 * MiB
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for p in pattern(total):
            f.write(p)
    with path.open("rb") as f:
        peak = await _upload_peak(server, f, total)
    assert peak < 8 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"


async def test_upload_to_server_that_answers_early(tmp_path: Path) -> None:
    """A server may answer (413) before the upload ends and close: the client gets the
    answer, not an error about the unfinished upload."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(1000)
        writer.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig"
        )
        await writer.drain()

    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.post(srv.url("/"), data=agen(20 * MiB)) as resp,
    ):
        assert resp.status == 413
        assert await resp.read() == b"big"


# ----- payload objects (cyhttp.payload / cyhttp.multipart) -----


async def test_big_multipart_writer_upload_bounded_memory(
    server: AppServer, tmp_path: Path
) -> None:
    """A MultipartWriter holding a 30 MiB file part is streamed with a Content-Length
    (every size is known), never read whole."""
    from cyhttp import MultipartWriter

    total = 30 * MiB
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for piece in pattern(total):
            f.write(piece)
    with path.open("rb") as f:
        mp = MultipartWriter("mixed", boundary="B")
        mp.append(f)
        size = mp.size
        assert size is not None and size > total
        async with ClientSession() as session:
            tracemalloc.start()
            try:
                async with session.post(server.url("/sum"), data=mp) as resp:
                    got = await resp.json()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert got["size"] == size and got["content_length"] == str(size)
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_payload_writing_other_than_its_size_fails(server: AppServer) -> None:
    """A payload whose ``size`` is wrong cannot send more or less than the Content-Length
    it made: the request fails with ClientPayloadError."""
    from cyhttp import ClientPayloadError, Payload

    class Liar(Payload):
        def __init__(self, pieces: list[bytes], size: int) -> None:
            super().__init__(pieces)
            self._size = size

        async def write(self, writer: object) -> None:
            for piece in self._value:
                await writer.write(piece)  # type: ignore[attr-defined]

        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return ""

    async with ClientSession() as session:
        with pytest.raises(ClientPayloadError, match="longer than its Content-Length of 4"):
            await session.post(server.url("/sum"), data=Liar([b"abc", b"def"], 4))
        with pytest.raises(ClientPayloadError, match="ended after 6 of the 10 bytes"):
            await session.post(server.url("/sum"), data=Liar([b"abc", b"def"], 10))
        async with session.post(server.url("/sum"), data=Liar([b"abc", b"def"], 6)) as resp:
            got = await resp.json()
    assert got["size"] == 6 and got["content_length"] == "6"


async def test_file_growing_during_upload_sends_its_size_at_start(
    server: AppServer, tmp_path: Path
) -> None:
    """A file payload's size (its Content-Length) is taken when it is made; bytes
    appended afterwards are not sent (the body never exceeds what was declared)."""
    from cyhttp import BufferedReaderPayload

    path = tmp_path / "log.txt"
    path.write_bytes(b"a" * 200_000)
    with path.open("rb") as f, path.open("ab") as appender:
        payload = BufferedReaderPayload(f)
        appender.write(b"b" * 100_000)
        appender.flush()
        async with (
            ClientSession() as session,
            session.post(server.url("/sum"), data=payload) as resp,
        ):
            got = await resp.json()
    assert got["size"] == 200_000 and got["content_length"] == "200000"
    assert got["sha256"] == hashlib.sha256(b"a" * 200_000).hexdigest()
