"""cyhttp.multipart: MultipartWriter's wire format, sizes, part encodings and nesting,
read back by an independent parser (aiohttp.web's multipart reader on 127.0.0.1); and
Content-Disposition parsing (RFC 6266 / RFC 2231), cross-checked against aiohttp's own
parser on the headers where both must agree.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp.multipart as reference
import pytest
from aiohttp import web
from aiohttp.streams import StreamReader

import cyhttp
from cyhttp import ClientSession
from cyhttp.multipart import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    MultipartWriter,
    content_disposition_filename,
    parse_content_disposition,
)
from cyhttp.payload import AsyncIterablePayload, BytesPayload, StringPayload

from .servers import AppServer, app_server

# ----- the server: parses the multipart body and echoes its parts -----


async def _parts(reader: Any) -> list[dict[str, Any]]:
    out = []
    async for part in reader:
        if isinstance(part, reference.MultipartReader):
            out.append({"nested": await _parts(part)})
            continue
        data = await part.read(decode=True)
        out.append(
            {
                "headers": dict(part.headers),
                "name": part.name,
                "filename": part.filename,
                "body": bytes(data).decode("latin-1"),
            }
        )
    return out


def multipart_app() -> web.Application:
    async def parse(request: web.Request) -> web.Response:
        raw = await request.read()
        # parsed from the raw bytes read above (kept to compare with what was meant)
        stream = StreamReader(request.protocol, 2**16, loop=asyncio.get_running_loop())
        stream.feed_data(raw)
        stream.feed_eof()
        reader = reference.MultipartReader(request.headers, stream)
        return web.json_response(
            {
                "parts": await _parts(reader),
                "content_type": request.headers.get("Content-Type"),
                "length": request.headers.get("Content-Length"),
                "chunked": request.headers.get("Transfer-Encoding") == "chunked",
                "raw": raw.decode("latin-1"),
            }
        )

    app = web.Application(client_max_size=1 << 24)
    app.router.add_post("/mp", parse)
    return app


@pytest.fixture
async def server() -> AsyncIterator[AppServer]:
    async with app_server(multipart_app()) as srv:
        yield srv


async def send(server: AppServer, writer: Any, **kw: Any) -> dict[str, Any]:
    async with ClientSession() as session, session.post(server.url("/mp"), data=writer, **kw) as r:
        assert r.status == 200, await r.text()
        got: dict[str, Any] = await r.json()
        return got


async def agen(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


# ----- writing -----


async def test_mixed_parts_wire_format(server: AppServer) -> None:
    with MultipartWriter("mixed", boundary="BOUNDARY") as mp:
        mp.append("text é")
        mp.append(b"\x00\x01", {"X-Note": "raw"})
        mp.append_json({"k": [1, 2]})
        mp.append_form([("a", "1"), ("b", "x y")])
    assert len(mp) == 4 and bool(mp)
    assert mp.content_type == "multipart/mixed; boundary=BOUNDARY"
    assert mp.boundary == "BOUNDARY"
    body = await mp.as_bytes()
    assert mp.size == len(body)
    assert body.startswith(b"--BOUNDARY\r\n") and body.endswith(b"\r\n--BOUNDARY--\r\n")
    got = await send(server, mp)
    assert got["length"] == str(len(body)) and not got["chunked"]
    assert got["raw"].encode("latin-1") == body
    text, raw, js, form = got["parts"]
    assert text["body"].encode("latin-1").decode() == "text é"
    assert text["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert text["headers"]["Content-Length"] == str(len("text é".encode()))
    assert raw["body"] == "\x00\x01" and raw["headers"]["X-Note"] == "raw"
    assert js["body"] == '{"k": [1, 2]}'
    assert js["headers"]["Content-Type"] == "application/json"
    assert form["body"] == "a=1&b=x+y"
    assert form["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_nested_writer_and_files(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(bytes(range(256)) * 40)
    outer = MultipartWriter("mixed")
    with path.open("rb") as f:
        inner = MultipartWriter("related")
        inner.append("<html/>", {"Content-Type": "text/html"})
        inner.append(f)
        outer.append(inner)
        outer.append(b"tail")
        size = outer.size
        got = await send(server, outer)
    assert size is not None and got["length"] == str(size)
    (nested, tail) = got["parts"]
    html, photo = nested["nested"]
    assert html["body"] == "<html/>"
    assert photo["filename"] == "photo.png"
    assert photo["headers"]["Content-Type"] == "image/png"
    assert photo["body"].encode("latin-1") == bytes(range(256)) * 40
    assert tail["body"] == "tail"


async def test_unknown_size_part_makes_the_body_chunked(server: AppServer) -> None:
    mp = MultipartWriter()
    mp.append(b"known")
    mp.append_payload(AsyncIterablePayload(agen(b"str", b"eamed")))
    assert mp.size is None
    got = await send(server, mp)
    assert got["chunked"] and got["length"] is None
    assert [p["body"] for p in got["parts"]] == ["known", "streamed"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Transfer-Encoding": "base64"},
        {"Content-Transfer-Encoding": "quoted-printable"},
        {"Content-Encoding": "gzip"},
        {"Content-Encoding": "deflate"},
        {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"},
    ],
    ids=lambda h: "+".join(h.values()),
)
async def test_part_encodings_decode_on_the_server(
    server: AppServer, headers: dict[str, str]
) -> None:
    data = ("naïve = ok, " * 500).encode() + bytes(range(256))
    mp = MultipartWriter()
    part = mp.append(BytesPayload(data), headers)
    assert "Content-Length" not in part.headers
    assert mp.size is None  # encoded: the length is known only once written
    got = await send(server, mp)
    assert got["chunked"]
    (echoed,) = got["parts"]
    assert echoed["body"].encode("latin-1") == data
    if headers.get("Content-Transfer-Encoding") == "base64":
        wire = got["raw"].split("\r\n\r\n", 1)[1]
        lines = wire.split("\r\n")
        assert all(len(line) <= 76 for line in lines)  # MIME line length


async def test_streamed_base64_part_in_odd_pieces(server: AppServer) -> None:
    data = bytes(range(256)) * 10
    pieces = [data[i : i + 7] for i in range(0, len(data), 7)]
    mp = MultipartWriter()
    mp.append(AsyncIterablePayload(agen(*pieces)), {"Content-Transfer-Encoding": "base64"})
    got = await send(server, mp)
    assert got["parts"][0]["body"].encode("latin-1") == data


async def test_form_data_subtype_names_parts(server: AppServer) -> None:
    mp = MultipartWriter("form-data")
    mp.append("v1")
    named = StringPayload("v2")
    named.set_content_disposition("form-data", name="field", filename="f.txt")
    mp.append_payload(named)
    got = await send(server, mp)
    first, second = got["parts"]
    assert first["name"] == "section-0"
    assert (second["name"], second["filename"]) == ("field", "f.txt")
    assert "Content-Length" not in second["headers"]  # RFC 7578: no part lengths


async def test_quoted_boundary_and_no_close(server: AppServer) -> None:
    mp = MultipartWriter("mixed", boundary="with space:and/more")
    assert mp.content_type == 'multipart/mixed; boundary="with space:and/more"'
    mp.append(b"x")
    got = await send(server, mp)
    assert got["parts"][0]["body"] == "x"

    class Collect:
        data = b""

        async def write(self, chunk: bytes) -> None:
            self.data += chunk

    out = Collect()
    await mp.write(out, close_boundary=False)
    assert not out.data.endswith(b"--\r\n")


def test_bad_boundaries_and_parts() -> None:
    for bad in ("", "x" * 71, "crlf\r\nX: y", "ends in space ", "é", 'quote"'):
        with pytest.raises(ValueError):
            MultipartWriter(boundary=bad)
    with pytest.raises(ValueError):
        MultipartWriter("bad subtype")
    mp = MultipartWriter()
    with pytest.raises(TypeError, match="Cannot create payload"):
        mp.append(object())
    with pytest.raises(RuntimeError, match="content encoding"):
        mp.append(b"x", {"Content-Encoding": "br"})
    with pytest.raises(RuntimeError, match="transfer encoding"):
        mp.append(b"x", {"Content-Transfer-Encoding": "uuencode"})
    with pytest.raises(ValueError, match="CR, LF"):
        mp2 = MultipartWriter()
        mp2.append(b"x", {"X-Evil": "a\r\nInjected: 1"})
        _ = mp2.size


async def test_iteration_context_managers_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"file")
    with path.open("rb") as f:
        async with MultipartWriter() as mp:
            mp.append(f)
            mp.append(io.BytesIO(b"buffer"))
        assert [type(p).__name__ for p, _, _ in mp] == ["BufferedReaderPayload", "BytesIOPayload"]
        first = await mp.as_bytes()
        assert await mp.as_bytes() == first  # files rewind: the body can be sent again
        assert not mp.consumed
        one_shot = MultipartWriter()
        one_shot.append(AsyncIterablePayload(agen(b"x")))
        await one_shot.write(_Sink())
        assert one_shot.consumed
        await mp.close()
    assert f.closed


class _Sink:
    async def write(self, data: bytes) -> None:
        pass


def test_exported_at_top_level() -> None:
    assert cyhttp.MultipartWriter is MultipartWriter
    assert cyhttp.parse_content_disposition is parse_content_disposition
    assert cyhttp.content_disposition_filename is content_disposition_filename


# ----- Content-Disposition parsing -----

AGREED = [
    'attachment; filename="foo.html"',
    "attachment; filename=foo.html",
    "inline",
    "INLINE; FILENAME=foo.html",
    'attachment; filename="a;b.txt"',
    'attachment; filename="a\\"b.txt"',
    "attachment; filename*=UTF-8''%e2%82%ac%20rates",
    "attachment; filename=\"EURO rates\"; filename*=utf-8''%e2%82%ac%20rates",
    "attachment; filename*=iso-8859-1''%E9t%E9.txt",
    'attachment; filename*0="foo."; filename*1="html"',
    "attachment; filename*0*=UTF-8''%e2%82%ac; filename*1*=%20rates",
    'form-data; name="field"; filename="/etc/passwd"',
    'attachment; filename="foo.html"; size=100',
    "attachment; filename=",
]


@pytest.mark.parametrize("header", AGREED)
def test_parse_agrees_with_aiohttp(header: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = parse_content_disposition(header)
        theirs = reference.parse_content_disposition(header)
        assert ours == theirs
        assert content_disposition_filename(ours[1]) == reference.content_disposition_filename(
            theirs[1]
        )


@pytest.mark.parametrize(
    "header, disptype, filename",
    [
        ('attachment; filename="foo.html"', "attachment", "foo.html"),
        ("attachment; filename*=UTF-8''%e2%82%ac%20rates", "attachment", "€ rates"),
        ("attachment; filename=x; filename*=UTF-8''%C3%A9.txt", "attachment", "é.txt"),
        ('attachment; filename*0="foo."; filename*1="html"', "attachment", "foo.html"),
        ("attachment; filename*0*=UTF-8''%e2%82%ac; filename*1=%20rates", "attachment", "€ rates"),
        ('attachment; filename="/etc/passwd"', "attachment", "etc/passwd"),
        ('attachment; filename="semi;colon.txt"', "attachment", "semi;colon.txt"),
        ("inline", "inline", None),
    ],
)
def test_filenames(header: str, disptype: str, filename: str | None) -> None:
    got_type, params = parse_content_disposition(header)
    assert got_type == disptype
    assert content_disposition_filename(params) == filename


def test_continuations_past_nine_in_numeric_order() -> None:
    header = "attachment; " + "; ".join(f'filename*{i}="{chr(97 + i)}"' for i in range(12))
    _, params = parse_content_disposition(header)
    assert content_disposition_filename(params) == "abcdefghijkl"


@pytest.mark.parametrize(
    "header",
    [
        'attachment; filename="unterminated',
        "attachment; filename=a; filename=b",
        "attachment; filename=foo bar.txt",
        "attachment; novalue",
        '"quoted"; filename=x',
        'attachment; filename="x" junk',
    ],
)
def test_malformed_headers_are_ignored_with_a_warning(header: str) -> None:
    with pytest.warns(BadContentDispositionHeader):
        assert parse_content_disposition(header) == (None, {})


def test_bad_params_are_skipped_with_a_warning() -> None:
    with pytest.warns(BadContentDispositionParam):
        disptype, params = parse_content_disposition(
            "attachment; filename*=bogus-charset''x; name=ok"
        )
    assert (disptype, params) == ("attachment", {"name": "ok"})
    assert parse_content_disposition(None) == (None, {})
    assert parse_content_disposition("") == (None, {})
    assert content_disposition_filename({}) is None
    assert content_disposition_filename({"name": "n"}, "name") == "n"
