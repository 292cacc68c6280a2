"""FormData: urlencoded versus multipart, the exact multipart wire format (boundaries,
escaped names and filenames, transfer encodings), streaming of file parts with a known or
unknown length, argument checks, and forms parsed by an independent server (aiohttp.web).
"""

from __future__ import annotations

import base64
import hashlib
import io
import quopri
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, MultiDict

import cyhttp
from cyhttp import ClientSession, FormData
from cyhttp.multipart import MultipartWriter
from cyhttp.payload import Payload

from .servers import AppServer, app_server

MiB = 1 << 20


async def body_of(form: FormData) -> tuple[bytes, str, int | None]:
    """What the form sends: its bytes (written as a request writes them), its
    Content-Type and its size (None: unknown, sent chunked)."""
    payload = form()
    assert isinstance(payload, Payload)
    return await payload.as_bytes(), payload.content_type, payload.size


def split_parts(body: bytes, boundary: str) -> list[tuple[CIMultiDict[str], bytes]]:
    """A strict reading of a multipart body: every delimiter where RFC 2046 puts it."""
    delim = b"--" + boundary.encode()
    assert body.startswith(delim + b"\r\n")
    assert body.endswith(b"\r\n" + delim + b"--\r\n")
    inner = body[len(delim) + 2 : -(len(delim) + 6)]
    parts = []
    for raw in inner.split(b"\r\n" + delim + b"\r\n"):
        head, sep, content = raw.partition(b"\r\n\r\n")
        assert sep
        headers: CIMultiDict[str] = CIMultiDict()
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(": ")
            headers.add(name, value)
        parts.append((headers, content))
    return parts


# ----- urlencoded -----


async def test_text_fields_are_urlencoded() -> None:
    form = FormData({"a": "1", "b": "x y&z=é"})
    form.add_field("n", 42)
    assert not form.is_multipart
    body, ctype, length = await body_of(form)
    assert ctype == "application/x-www-form-urlencoded"
    assert body == b"a=1&b=x+y%26z%3D%C3%A9&n=42"
    assert length == len(body)


async def test_urlencoded_charset() -> None:
    body, ctype, _ = await body_of(FormData([("k", "é")], charset="latin-1"))
    assert body == b"k=%E9"
    assert ctype == "application/x-www-form-urlencoded; charset=latin-1"


async def test_repeated_names_and_multidict() -> None:
    form = FormData(MultiDict([("k", "1"), ("k", "2")]))
    form.add_fields([("k", "3")], {"j": "4"})
    body, _, _ = await body_of(form)
    assert body == b"k=1&k=2&k=3&j=4"


# ----- multipart wire format -----


async def test_multipart_layout() -> None:
    form = FormData(boundary="b0undary")
    form.add_field("text", "hello")
    form.add_field("blob", b"\x00\x01\xff")
    form.add_field("doc", b"{}", content_type="application/json", filename="d.json")
    assert form.is_multipart
    body, ctype, length = await body_of(form)
    assert ctype == "multipart/form-data; boundary=b0undary"
    assert length == len(body)
    parts = split_parts(body, "b0undary")
    assert [h["Content-Disposition"] for h, _ in parts] == [
        'form-data; name="text"',
        'form-data; name="blob"; filename="blob"',
        'form-data; name="doc"; filename="d.json"',
    ]
    assert "Content-Type" not in parts[0][0]  # RFC 7578: text/plain is the default
    assert parts[1][0]["Content-Type"] == "application/octet-stream"
    assert parts[2][0]["Content-Type"] == "application/json"
    assert [c for _, c in parts] == [b"hello", b"\x00\x01\xff", b"{}"]


async def test_random_boundaries_differ() -> None:
    a, b = FormData(), FormData()
    assert a.boundary != b.boundary
    assert len(a.boundary) == 32


@pytest.mark.parametrize(
    "raw, wire",
    [
        ('say "hi"', '"say %22hi%22"'),
        ("line\r\nbreak", '"line%0D%0Abreak"'),
        ("bare\rcr\nlf", '"bare%0Dcr%0Alf"'),
        ("résumé ü.pdf", '"résumé ü.pdf"'),
        ("back\\slash;semi=colon", '"back\\slash;semi=colon"'),
    ],
)
async def test_name_and_filename_escaping(raw: str, wire: str) -> None:
    form = FormData(boundary="B")
    form.add_field(raw, b"x", filename=raw)
    body, _, _ = await body_of(form)
    expected = f"Content-Disposition: form-data; name={wire}; filename={wire}\r\n"
    assert expected.encode("utf-8") in body
    # nothing the caller wrote can end the header line or the quoted string early
    ((headers, content),) = split_parts(body, "B")
    assert content == b"x"
    assert len(headers) == 2


async def test_filename_from_file_object(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with path.open("rb") as f:
        form = FormData(boundary="B")
        form.add_field("upload", f)
        form.add_fields(io.BytesIO(b"anon"))
        body, _, length = await body_of(form)
    parts = split_parts(body, "B")
    assert parts[0][0]["Content-Disposition"] == 'form-data; name="upload"; filename="report.csv"'
    assert parts[0][0]["Content-Type"] == "text/csv"
    assert parts[0][1] == b"a,b\n1,2\n"
    assert parts[1][0]["Content-Disposition"] == 'form-data; name="file"; filename="file"'
    assert parts[1][1] == b"anon"
    assert length == len(body)


async def test_transfer_encodings() -> None:
    data = bytes(range(256)) * 3
    text = "naïve = ok\n" * 20
    form = FormData(boundary="B")
    form.add_field("b64", data, content_transfer_encoding="BASE64")
    form.add_field("qp", text, content_transfer_encoding="quoted-printable")
    form.add_field("f64", io.BytesIO(data), content_transfer_encoding="base64")
    form.add_field("bin", data, content_transfer_encoding="binary")
    body, _, length = await body_of(form)
    parts = split_parts(body, "B")
    assert [h["Content-Transfer-Encoding"] for h, _ in parts] == [
        "base64",
        "quoted-printable",
        "base64",
        "binary",
    ]
    assert base64.b64decode(parts[0][1]) == data
    assert all(len(line) <= 76 for line in parts[0][1].split(b"\r\n"))
    assert quopri.decodestring(parts[1][1].replace(b"\r\n", b"\n")).decode() == text
    assert base64.b64decode(parts[2][1]) == data
    assert parts[3][1] == data
    assert length == len(body)


async def test_charset_marks_text_parts() -> None:
    form = FormData(charset="latin-1", boundary="B")
    form.add_field("t", "é")
    form.add_field("f", b"", filename="f.bin")
    body, _, _ = await body_of(form)
    (t_headers, t_content), _ = split_parts(body, "B")
    assert t_headers["Content-Type"] == "text/plain; charset=latin-1"
    assert t_content == b"\xe9"


# ----- streaming -----


async def test_file_parts_stream_with_known_length(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"z" * 300_000)

    class Counting(io.FileIO):
        reads: list[int] = []

        def read(self, size: int = -1) -> bytes:
            self.reads.append(size)
            return super().read(size)

    with Counting(path) as f:
        form = FormData([("meta", "x")])
        form.add_field("file", f, filename="big.bin")
        writer = form()
        assert isinstance(writer, MultipartWriter)  # parts are read as they are sent
        assert Counting.reads == []
        data = await writer.as_bytes()
        assert writer.size == len(data)
        assert max(Counting.reads) <= 1 << 16
        assert data.count(b"z") == 300_000
        # calling the form again gives the same writer, and the file is read again
        # from its start: a redirect or a retry sends the same bytes
        assert form() is writer and not writer.consumed
        assert await writer.as_bytes() == data


async def test_text_file_has_unknown_length(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("héllo", encoding="utf-8")
    with path.open("r", encoding="utf-8") as f:
        form = FormData(boundary="B")
        form.add_field("t", f)
        data, _, length = await body_of(form)
    assert length is None
    assert split_parts(data, "B")[0][1] == "héllo".encode()


async def test_async_read_file_objects() -> None:
    class AsyncFile:
        name = "a.txt"

        def __init__(self) -> None:
            self._data = io.BytesIO(b"async body")

        async def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    form = FormData(boundary="B")
    form.add_field("a", AsyncFile())
    data, _, length = await body_of(form)
    assert length is None
    headers, content = split_parts(data, "B")[0]
    assert headers["Content-Disposition"] == 'form-data; name="a"; filename="a.txt"'
    assert content == b"async body"


# ----- argument checks -----


@pytest.mark.parametrize("value", [None, object(), True, ["a"], {"a": 1}])
def test_bad_values(value: Any) -> None:
    with pytest.raises(TypeError):
        FormData().add_field("k", value)


def test_bad_arguments() -> None:
    form = FormData()
    with pytest.raises(TypeError):
        form.add_field(b"name", "v")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="content_transfer_encoding"):
        form.add_field("k", b"v", content_transfer_encoding="rot13")
    with pytest.raises(ValueError, match="CR, LF"):
        form.add_field("k", b"v", content_type="text/plain\r\nX-Evil: 1")
    with pytest.raises(TypeError):
        form.add_fields(("a", "b", "c"))
    with pytest.raises(TypeError):
        form.add_fields("just a string")
    with pytest.raises(ValueError, match="boundary"):
        FormData(boundary="has space")
    with pytest.raises(ValueError, match="boundary"):
        FormData(boundary="x" * 71)
    assert form._fields == []


def test_repr_and_export() -> None:
    assert cyhttp.FormData is FormData
    assert "urlencoded" in repr(FormData({"a": "b"}))
    assert "multipart" in repr(FormData({"a": b"b"}))


# ----- end to end, parsed by aiohttp.web -----


def form_app() -> web.Application:
    async def parse(request: web.Request) -> web.Response:
        out = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                h = hashlib.sha256()
                size = 0
                start = b""
                while chunk := await part.read_chunk(1 << 16):  # type: ignore[union-attr]
                    h.update(chunk)
                    size += len(chunk)
                    if len(start) < 64:
                        start = (start + chunk)[:64]
                out.append(
                    {
                        "name": part.name,
                        "filename": part.filename,
                        "type": part.headers.get("Content-Type"),
                        "size": size,
                        "sha256": h.hexdigest(),
                        "text": start.decode("latin-1"),
                    }
                )
        else:
            post = await request.post()
            out = [{"name": k, "text": v} for k, v in post.items()]
        return web.json_response(
            {
                "fields": out,
                "content_type": request.content_type,
                "length": request.headers.get("Content-Length"),
                "chunked": request.headers.get("Transfer-Encoding") == "chunked",
            }
        )

    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/form", parse)
    return app


@pytest.fixture
async def server() -> AppServer:
    async with app_server(form_app()) as srv:
        yield srv


async def post_form(server: AppServer, data: Any, **kwargs: Any) -> dict[str, Any]:
    async with (
        ClientSession() as session,
        session.post(server.url("/form"), data=data, **kwargs) as resp,
    ):
        assert resp.status == 200
        result: dict[str, Any] = await resp.json()
        return result


async def test_server_reads_urlencoded(server: AppServer) -> None:
    got = await post_form(server, FormData({"q": "a b", "é": "ü"}))
    assert got["content_type"] == "application/x-www-form-urlencoded"
    assert got["fields"] == [{"name": "q", "text": "a b"}, {"name": "é", "text": "ü"}]


async def test_server_reads_multipart(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    payload = bytes(range(256)) * 1000
    path.write_bytes(payload)
    with path.open("rb") as f:
        form = FormData()
        form.add_field("title", "holiday")
        form.add_field("photo", f, filename="été 2024.png")
        form.add_field("raw", b"\r\n--not-a-boundary\r\n", content_type="application/x-raw")
        got = await post_form(server, form)
    assert got["content_type"] == "multipart/form-data"
    assert got["length"] is not None and not got["chunked"]
    title, photo, raw = got["fields"]
    assert (title["name"], title["filename"], title["text"]) == ("title", None, "holiday")
    assert photo["name"] == "photo"
    assert photo["filename"] == "été 2024.png"
    assert photo["type"] == "image/png"
    assert photo["sha256"] == hashlib.sha256(payload).hexdigest()
    assert raw["type"] == "application/x-raw"
    assert raw["text"] == "\r\n--not-a-boundary\r\n"


async def test_dict_with_file_becomes_multipart(server: AppServer) -> None:
    got = await post_form(server, {"a": "1", "f": io.BytesIO(b"content")})
    assert got["content_type"] == "multipart/form-data"
    assert [(f["name"], f["filename"], f["size"]) for f in got["fields"]] == [
        ("a", None, 1),
        ("f", "f", 7),
    ]


async def test_unknown_length_is_chunked(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x" * 10_000)
    with path.open("r") as f:
        got = await post_form(server, FormData([("t", f)]))
    assert got["chunked"] and got["length"] is None
    assert got["fields"][0]["size"] == 10_000


async def test_file_part_reading_a_wrong_type_fails_the_request(server: AppServer) -> None:
    """A file part whose read() gives neither bytes nor text fails the upload with
    TypeError; it is not turned into something else (``bytes(3)`` is three NUL bytes)."""

    class IntFile(io.RawIOBase):
        name = "n.bin"

        def read(self, size: int = -1) -> object:
            return 3

    with pytest.raises(TypeError, match="int"):
        await post_form(server, FormData([("n", IntFile())]))


async def test_multipart_compressed(server: AppServer) -> None:
    form = FormData([("a", b"q" * 100_000)])
    got = await post_form(server, form, compress=True)
    assert got["chunked"]
    assert got["fields"][0]["size"] == 100_000


async def test_big_file_part_bounded_memory(server: AppServer, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        for i in range(40):
            f.write(bytes([i]) * MiB)
    with path.open("rb") as f:
        form = FormData()
        form.add_field("big", f)
        async with ClientSession() as session:
            tracemalloc.start()
            try:
                async with session.post(server.url("/form"), data=form) as resp:
                    got = await resp.json()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert got["fields"][0]["size"] == 40 * MiB
    # client and (in-process, chunk-reading) server together hold a few pieces at most
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_quoted_boundary_and_payload_values(server: AppServer) -> None:
    """A boundary that is not a token is quoted in the Content-Type; a Payload value is
    a part of its own (its filename and content type kept)."""
    form = FormData(boundary="a:b=c", default_to_multipart=True)
    assert form.content_type == 'multipart/form-data; boundary="a:b=c"'
    form.add_field("doc", cyhttp.JsonPayload({"k": 1}))
    form.add_field("file", cyhttp.BytesIOPayload(io.BytesIO(b"bin"), filename="b.dat"))
    with pytest.raises(TypeError, match="Payload"):
        form.add_field("x", cyhttp.BytesPayload(b"x"), content_transfer_encoding="base64")
    got = await post_form(server, form)
    doc, file = got["fields"]
    assert (doc["name"], doc["type"], doc["text"]) == ("doc", "application/json", '{"k": 1}')
    assert (file["name"], file["filename"], file["text"]) == ("file", "b.dat", "bin")
