"""cyhttp.payload: which payload each value becomes, sizes, content types and
dispositions, the registry, ``streamer``, and every payload sent as ``data=`` to an
independent server (aiohttp.web) that echoes the head and body it received.

Replay: a body sent again (a 307/308 redirect, the same ClientRequest sent twice as a
middleware does) arrives whole when its source can start over (bytes, text, JSON, forms,
seekable files), and a one-shot source already read is refused with RuntimeError
before anything is written.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import cyhttp
from cyhttp import ClientRequest, ClientResponse, ClientSession, FormData
from cyhttp import payload as pl
from cyhttp.payload import (
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonPayload,
    Order,
    Payload,
    PayloadRegistry,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
)

from .servers import AppServer, app_server, echo_app


async def agen(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        await asyncio.sleep(0)
        yield piece


class Collect:
    """A writer that keeps what a payload writes."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self.pieces.append(bytes(data))

    @property
    def data(self) -> bytes:
        return b"".join(self.pieces)


# ----- which payload, size, type -----


def test_registry_picks_the_payload_class(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    with (
        path.open("rb") as binary,
        path.open("r") as text,
        path.open("rb", buffering=0) as raw,
    ):
        cases = [
            (b"x", BytesPayload),
            (bytearray(b"x"), BytesPayload),
            (memoryview(b"x"), BytesPayload),
            ("x", StringPayload),
            (io.StringIO("x"), StringIOPayload),
            (io.BytesIO(b"x"), BytesIOPayload),
            (binary, BufferedReaderPayload),
            (text, TextIOPayload),
            (raw, IOBasePayload),
            (agen(), AsyncIterablePayload),
        ]
        for value, cls in cases:
            assert type(get_payload(value)) is cls, value
    ready = BytesPayload(b"x")
    assert get_payload(ready) is ready
    with pytest.raises(pl.LookupError):
        get_payload(42)
    assert cyhttp.get_payload is get_payload and cyhttp.PAYLOAD_REGISTRY is pl.PAYLOAD_REGISTRY


async def test_sizes_and_content_types(tmp_path: Path) -> None:
    assert BytesPayload(b"abc").size == 3
    assert BytesPayload(memoryview(b"abcd")).size == 4
    text = StringPayload("é")
    assert (text.size, text.encoding, text.content_type) == (
        2,
        "utf-8",
        "text/plain; charset=utf-8",
    )
    latin = StringPayload("é", encoding="latin-1")
    assert (latin.size, latin.content_type) == (1, "text/plain; charset=latin-1")
    # the charset of a given content type encodes the text
    html = StringPayload("é", content_type="text/html; charset=latin-1")
    assert (await html.as_bytes(), html.encoding) == (b"\xe9", "latin-1")
    js = JsonPayload({"a": [1, "é"]}, dumps=lambda v: json.dumps(v, ensure_ascii=False))
    assert (await js.as_bytes(), js.content_type) == (
        '{"a": [1, "é"]}'.encode(),
        "application/json",
    )
    buf = io.BytesIO(b"0123456789")
    buf.seek(4)
    assert BytesIOPayload(buf).size == 6  # from where the buffer stands
    path = tmp_path / "report.json"
    path.write_bytes(b"x" * 1000)
    with path.open("rb") as f:
        f.seek(100)
        p = get_payload(f)
        assert p.size == 900
        assert p.filename == "report.json"
        assert p.content_type == "application/json"  # guessed from the name
        assert p.headers["Content-Disposition"] == 'attachment; filename="report.json"'
        assert get_payload(f, disposition=None).headers.get("Content-Disposition") is None
    with path.open("r") as f:
        assert get_payload(f).size is None  # encoded text length: unknown until read
    assert get_payload(agen()).size is None


def test_content_disposition() -> None:
    p = BytesPayload(b"")
    p.set_content_disposition("attachment", filename="été 1.txt")
    assert p.headers["Content-Disposition"] == 'attachment; filename="%C3%A9t%C3%A9%201.txt"'
    p.set_content_disposition("form-data", name='say "hi"')
    assert p.headers["Content-Disposition"] == 'form-data; name="say \\"hi\\""'
    p.set_content_disposition("form-data", name="naïve")
    assert p.headers["Content-Disposition"] == "form-data; name*=utf-8''na%C3%AFve"
    p.set_content_disposition("inline", quote_fields=False, filename='a"b\r\nX: y')
    assert p.headers["Content-Disposition"] == 'inline; filename="a\\"b%0D%0AX: y"'
    with pytest.raises(ValueError):
        p.set_content_disposition("bad type")
    with pytest.raises(ValueError):
        p.set_content_disposition("inline", **{"bad key": "v"})


def test_registry_orders() -> None:
    class Mine(BytesPayload):
        pass

    class Last(BytesPayload):
        pass

    reg = PayloadRegistry()
    reg.register(BytesPayload, bytes)
    reg.register(Last, bytearray, order=Order.try_last)
    reg.register(Mine, (bytes, bytearray), order=Order.try_first)
    assert type(reg.get(b"x")) is Mine  # try_first beats the built-in
    with pytest.raises(ValueError):
        reg.register(Mine, bytes, order="sometimes")  # type: ignore[arg-type]
    reg2 = PayloadRegistry()
    reg2.register(Last, bytearray, order=Order.try_last)
    assert type(reg2.get(bytearray(b"x"))) is Last


async def test_payload_type_decorator_registers_a_new_type() -> None:
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    @pl.payload_type(Point)
    class PointPayload(BytesPayload):
        def __init__(self, value: Point, *args: Any, **kwargs: Any) -> None:
            super().__init__(f"{value.x},{value.y}".encode(), *args, **kwargs)

    p = get_payload(Point(1, 2))
    assert isinstance(p, PointPayload)
    assert await p.as_bytes() == b"1,2"


async def test_write_with_length_and_as_bytes(tmp_path: Path) -> None:
    out = Collect()
    await BytesPayload(b"0123456789").write_with_length(out, 4)
    assert out.data == b"0123"
    p = AsyncIterablePayload(agen(b"ab", b"cd"))
    assert await p.as_bytes() == b"abcd"
    assert p.decode() == "abcd"
    again = Collect()
    await p.write(again)  # cached by as_bytes: replays
    assert again.data == b"abcd" and not p.consumed
    path = tmp_path / "t.txt"
    path.write_text("héllo")
    with path.open("r", encoding="utf-8") as f:
        assert await get_payload(f).as_bytes() == "héllo".encode()


async def test_one_shot_payloads_become_consumed() -> None:
    p = AsyncIterablePayload(agen(b"a"))
    assert not p.consumed
    await p.write(Collect())
    assert p.consumed
    with pytest.raises(RuntimeError, match="already consumed"):
        await p.write(Collect())
    gen = pl._IterablePayload(iter([b"a", b"b"]))
    await gen.write(Collect())
    assert gen.consumed
    listed = pl._IterablePayload([b"a", b"b"])  # a list can be iterated again
    await listed.write(Collect())
    assert not listed.consumed


async def test_seekable_file_rewinds_to_its_start(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"HEADER|body bytes")
    with path.open("rb") as f:
        f.seek(7)
        p = get_payload(f)
        first, second = Collect(), Collect()
        await p.write(first)
        await p.write(second)
        assert first.data == second.data == b"body bytes"
        assert not p.consumed
        await p.close()
        assert p.consumed
        assert f.closed


# ----- streamer -----


@cyhttp.streamer
async def file_sender(writer: Any, path: Path, piece: int = 4) -> None:
    with path.open("rb") as f:
        while chunk := f.read(piece):
            await writer.write(chunk)


@cyhttp.streamer
async def hello_sender(writer: Any) -> None:
    """Given as ``data=hello_sender`` (not called): it takes no argument."""
    await writer.write(b"hel")
    await writer.write(b"lo")


# ----- end to end -----


@pytest.fixture
async def server() -> AsyncIterator[AppServer]:
    async with app_server(echo_app()) as srv:
        yield srv


def header(got: dict[str, Any], name: str) -> str | None:
    for key, value in got["headers"]:
        if key.lower() == name.lower():
            return str(value)
    return None


async def post(server: AppServer, data: Any, path: str = "/echo", **kw: Any) -> dict[str, Any]:
    async with (
        ClientSession() as session,
        session.post(server.url(path), data=data, **kw) as resp,
    ):
        assert resp.status == 200, await resp.text()
        got: dict[str, Any] = await resp.json()
        return got


@pytest.mark.parametrize(
    "make, body, ctype, length",
    [
        (lambda p: BytesPayload(b"\x00\x01"), b"\x00\x01", "application/octet-stream", "2"),
        (
            lambda p: StringPayload("é", encoding="latin-1"),
            b"\xe9",
            "text/plain; charset=latin-1",
            "1",
        ),
        (lambda p: JsonPayload({"k": 1}), b'{"k": 1}', "application/json", "8"),
        (
            lambda p: BytesIOPayload(io.BytesIO(b"buffer")),
            b"buffer",
            "application/octet-stream",
            "6",
        ),
        (lambda p: StringIOPayload(io.StringIO("text")), b"text", "text/plain; charset=utf-8", "4"),
        (lambda p: AsyncIterablePayload(agen(b"a", b"b")), b"ab", "application/octet-stream", None),
        (lambda p: file_sender(p), b"0123456789", "application/octet-stream", None),
        (lambda p: hello_sender, b"hello", "application/octet-stream", None),
    ],
)
async def test_each_payload_sent(
    server: AppServer, tmp_path: Path, make: Any, body: bytes, ctype: str, length: str | None
) -> None:
    path = tmp_path / "digits"
    path.write_bytes(b"0123456789")
    got = await post(server, make(path))
    assert got["body"].encode("latin-1") == body
    assert header(got, "Content-Type") == ctype
    assert header(got, "Content-Length") == length
    assert got["chunked"] is (length is None)


async def test_files_sent_with_their_size_and_type(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" * 5000)
    with path.open("rb") as f:
        got = await post(server, f)
    assert header(got, "Content-Length") == "20000" and not got["chunked"]
    assert header(got, "Content-Type") == "text/csv"
    assert header(got, "Content-Disposition") is None  # a top-level body is no attachment
    assert got["body"] == "a,b\n" * 5000
    with path.open("rb") as f:
        got = await post(server, BufferedReaderPayload(f))  # made by hand: keeps its headers
    assert header(got, "Content-Disposition") == 'attachment; filename="data.csv"'
    with path.open("r") as f:
        got = await post(server, f)
    assert got["chunked"] and got["body"] == "a,b\n" * 5000


async def test_caller_headers_win_over_the_payload(server: AppServer) -> None:
    got = await post(server, JsonPayload([1]), headers={"Content-Type": "application/vnd.x+json"})
    assert header(got, "Content-Type") == "application/vnd.x+json"
    got = await post(server, JsonPayload([1]), skip_auto_headers=["Content-Type"])
    assert header(got, "Content-Type") is None
    p = BytesPayload(b"x", headers={"X-Part": "1"})
    got = await post(server, p)
    assert header(got, "X-Part") == "1"  # a payload's own headers go with it


async def test_custom_payload_subclass(server: AppServer) -> None:
    class Repeat(Payload):
        """What a user's payload looks like: write() only, size unknown."""

        async def write(self, writer: Any) -> None:
            for _ in range(3):
                await writer.write(self._value)

        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return (self._value * 3).decode(encoding, errors)

    got = await post(server, Repeat(b"ab", content_type="text/x-rep"))
    assert got["body"] == "ababab" and got["chunked"]
    assert header(got, "Content-Type") == "text/x-rep"

    class Sized(Repeat):
        _size = 6

    got = await post(server, Sized(b"ab"))
    assert got["body"] == "ababab" and header(got, "Content-Length") == "6"


async def test_streamer_writes_many_pieces(server: AppServer) -> None:
    @cyhttp.streamer
    async def big(writer: Any) -> None:
        for i in range(15):
            await writer.write(bytes([i % 256]) * 65536)
            await writer.drain()

    got = await post(server, big())
    assert got["chunked"]
    assert got["body"].encode("latin-1") == b"".join(bytes([i]) * 65536 for i in range(15))


async def test_unsupported_body_type(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="unsupported request body"):
            await session.post(server.url("/echo"), data=42)


# ----- replay -----


async def redirected(server: AppServer, data: Any, code: int = 307) -> dict[str, Any]:
    return await post(server, data, path=f"/redirect/{code}?to=/echo")


async def test_replayable_bodies_follow_a_307(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"file body")
    with path.open("rb") as f:
        assert (await redirected(server, f))["body"] == "file body"
    with path.open("rb") as f:
        assert (await redirected(server, BufferedReaderPayload(f), 308))["body"] == "file body"
    assert (await redirected(server, BytesIOPayload(io.BytesIO(b"mem"))))["body"] == "mem"
    assert (await redirected(server, JsonPayload({"a": 1})))["body"] == '{"a": 1}'
    assert (await redirected(server, StringPayload("txt")))["body"] == "txt"
    with path.open("rb") as f:
        got = await redirected(server, FormData([("f", f), ("t", "x")]))
    assert "file body" in got["body"] and header(got, "Content-Type").startswith(  # type: ignore[union-attr]
        "multipart/form-data; boundary="
    )


async def test_one_shot_body_is_not_resent_on_a_307(server: AppServer) -> None:
    async with ClientSession() as session:
        # the stream is spent: a clear error, never an empty resend
        with pytest.raises(cyhttp.RedirectClientError, match="one-shot"):
            await session.post(server.url("/redirect/307?to=/echo"), data=agen(b"once"))
    assert server.requests == 1


async def send_twice(server: AppServer, data: Any) -> list[Any]:
    """The same ClientRequest sent twice (what a retrying middleware does)."""
    results: list[Any] = []
    async with ClientSession() as session:
        req = ClientRequest("POST", server.url("/echo"), headers=CIMultiDict(), data=data)
        for _ in range(2):
            assert session.connector is not None
            conn = await session.connector.connect(req)
            try:
                req.rewind()
                resp = await req.send(conn, ClientResponse)
            except RuntimeError as exc:
                conn.close()
                results.append(exc)
                continue
            async with resp:
                results.append((await resp.json())["body"])
    return results


async def test_same_request_sent_twice(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 10_000)
    with path.open("rb") as f:
        f.seek(5)
        first, second = await send_twice(server, f)
    assert first == second == ("0123456789" * 10_000)[5:]
    assert await send_twice(server, b"bytes") == ["bytes", "bytes"]
    assert await send_twice(server, {"a": "1"}) == ["a=1", "a=1"]
    with path.open("rb") as f:
        form = FormData([("f", f)], boundary="B")
        a, b = await send_twice(server, form)
    assert a == b and a.count("0123456789") == 10_000


@pytest.mark.parametrize("kind", ["async generator", "generator", "pipe"])
async def test_consumed_one_shot_body_is_refused(server: AppServer, kind: str) -> None:
    if kind == "async generator":
        data: Any = agen(b"once")
    elif kind == "generator":
        data = (piece for piece in [b"once"])
    else:
        import os

        r, w = os.pipe()
        os.write(w, b"once")
        os.close(w)
        data = open(r, "rb")  # noqa: SIM115 - closed below
    try:
        first, second = await send_twice(server, data)
    finally:
        if kind == "pipe":
            data.close()
    assert first == "once"
    assert isinstance(second, RuntimeError)
    assert "one-shot" in str(second) and "cannot be sent again" in str(second)


async def test_is_replayable_and_rewind() -> None:
    url = URL("http://127.0.0.1:9/")

    def req(data: Any) -> ClientRequest:
        return ClientRequest("POST", url, headers=CIMultiDict(), data=data)

    stream = req(agen(b"x"))
    assert stream.is_replayable()  # not read yet: it can be sent once
    await stream._body.write(Collect())
    assert not stream.is_replayable()
    for data in (b"x", "x", {"a": "b"}, io.BytesIO(b"x"), None, [b"a", b"b"]):
        r = req(data)
        assert r.is_replayable(), data
        r.rewind()
    buf = io.BytesIO(b"abcdef")
    buf.seek(2)
    r = req(buf)
    buf.read()
    r.rewind()
    assert buf.tell() == 2
    assert isinstance(r.body, BytesIOPayload)
    assert isinstance(req(b"x").body, BytesPayload)
    assert req(None).body == b""


class AsyncFile:
    """What an aiofiles file looks like: async read/seek/tell, and async iteration by
    lines (which must not be what is used to send it)."""

    name = "async.txt"

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)
        self.reads: list[int] = []

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        return self._f.read(size)

    async def seek(self, pos: int) -> int:
        return self._f.seek(pos)

    async def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> Any:
        async def answer() -> bool:
            return True

        return answer()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return agen(*self._f.readlines())


async def test_async_file_is_read_in_pieces_and_replayed(server: AppServer) -> None:
    data = b"line\n" * 30_000
    f = AsyncFile(data)
    got = await redirected(server, f)  # sent twice: 307, then the target
    assert got["body"].encode("latin-1") == data
    assert got["chunked"]  # its size cannot be known without awaiting
    assert f.reads and all(size > 5 for size in f.reads)  # pieces, not lines


async def test_a_response_body_streamed_into_a_request(server: AppServer) -> None:
    async with (
        ClientSession() as session,
        session.get(server.url("/bytes/300000")) as source,
        session.post(server.url("/echo"), data=source.content) as resp,
    ):
        got = await resp.json()
    expected = (bytes(range(256)) * 1200)[:300000]
    assert got["body"].encode("latin-1") == expected


async def test_update_body_rederives_the_headers_it_set() -> None:
    url = URL("http://127.0.0.1:9/")
    req = ClientRequest("POST", url, headers=CIMultiDict(), data=b"first")
    assert req.headers["Content-Length"] == "5"
    await req.update_body(JsonPayload({"a": 1}))
    assert req.headers["Content-Length"] == "8"
    assert req.headers["Content-Type"] == "application/json"
    assert b"Content-Length: 8\r\n" in req._head
    await req.update_body(agen(b"x"))
    assert "Content-Length" not in req.headers
    assert req.headers["Transfer-Encoding"] == "chunked"
    await req.update_body(None)
    assert req.headers["Content-Length"] == "0" and req.body == b""
    given = ClientRequest(
        "POST", url, headers=CIMultiDict({"Content-Type": "text/x-mine"}), data=b"first"
    )
    await given.update_body("second")
    assert given.headers["Content-Type"] == "text/x-mine"  # the caller's header stays
    assert await given.body.as_bytes() == b"second"


async def test_a_spent_stream_given_again_is_refused_not_sent_empty(server: AppServer) -> None:
    """The same async generator (or pipe) given to a second request: the second request
    gets the payload of the first, already consumed, and refuses it."""
    gen = agen(b"only once")
    assert (await post(server, gen))["body"] == "only once"
    async with ClientSession() as session:
        with pytest.raises(RuntimeError, match="one-shot stream that was already read"):
            await session.post(server.url("/echo"), data=gen)
    assert server.requests == 1


async def test_json_bytes_payload(server: AppServer) -> None:
    p = pl.JsonBytesPayload({"a": 1}, dumps=lambda v: json.dumps(v).encode())
    assert (p.size, p.content_type) == (8, "application/json")
    got = await post(server, p)
    assert got["body"] == '{"a": 1}' and header(got, "Content-Type") == "application/json"
