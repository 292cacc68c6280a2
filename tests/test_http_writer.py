"""Sans-IO request serialisation: the head, its validation, and body framing."""

from __future__ import annotations

import zlib

import pytest

from cyhttp.http_writer import LAST_CHUNK, BodyFramer, build_head, check_method, frame_chunk


def test_head_layout() -> None:
    head = build_head("GET /p?q=1 HTTP/1.1", [("Host", "h"), ("X-A", "1"), ("X-A", "2")])
    assert head == b"GET /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-A: 2\r\n\r\n"


def test_non_ascii_values_are_utf8() -> None:
    assert b"X: caf\xc3\xa9\r\n" in build_head("GET / HTTP/1.1", [("X", "café")])


@pytest.mark.parametrize(
    "name, value",
    [
        ("X", "a\r\nInjected: yes"),
        ("X", "a\nb"),
        ("X", "a\rb"),
        ("X", "nul\x00"),
        ("Bad Name", "v"),
        ("Colon:", "v"),
        ("", "v"),
        ("Name\r\n", "v"),
    ],
)
def test_bad_fields_raise_value_error(name: str, value: str) -> None:
    with pytest.raises(ValueError):
        build_head("GET / HTTP/1.1", [("Host", "h"), (name, value)])


def test_bad_request_line_raises() -> None:
    with pytest.raises(ValueError):
        build_head("GET /a\r\nX: y HTTP/1.1", [("Host", "h")])


@pytest.mark.parametrize("method", ["GET", "PROPFIND", "M-SEARCH", "x!"])
def test_token_methods(method: str) -> None:
    assert check_method(method) == method


@pytest.mark.parametrize("method", ["", "GE T", "GET\r\n", "G(E)T", "GÉT"])
def test_non_token_methods(method: str) -> None:
    with pytest.raises(ValueError):
        check_method(method)


def test_chunk_framing() -> None:
    assert frame_chunk(b"hello") == b"5\r\nhello\r\n"
    assert frame_chunk(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert frame_chunk(b"") == b""  # an empty chunk would end the body early
    framer = BodyFramer(chunked=True)
    assert framer.encode(b"ab") + framer.finish() == b"2\r\nab\r\n" + LAST_CHUNK


@pytest.mark.parametrize("chunked", [False, True])
def test_deflate_framing(chunked: bool) -> None:
    framer = BodyFramer(chunked=chunked, compress="deflate")
    data = b"compress me " * 100
    wire = framer.encode(data[:500]) + framer.encode(data[500:]) + framer.finish()
    if chunked:
        body, pos = b"", 0
        while True:
            eol = wire.index(b"\r\n", pos)
            size = int(wire[pos:eol], 16)
            if size == 0:
                assert wire[eol:] == b"\r\n\r\n"
                break
            body += wire[eol + 2 : eol + 2 + size]
            pos = eol + 2 + size + 2
        wire = body
    assert zlib.decompress(wire) == data


def test_unknown_compression() -> None:
    with pytest.raises(ValueError):
        BodyFramer(chunked=True, compress="lzma")


def test_framer_holds_a_body_to_its_content_length() -> None:
    """Sans-IO side of the Content-Length check: a piece past the declared length is
    refused before any of it is framed, and a body that ends short is refused."""
    from cyhttp import ClientPayloadError

    framer = BodyFramer(chunked=False, length=5)
    assert framer.encode(b"hel") == b"hel"
    with pytest.raises(ClientPayloadError, match="longer than its Content-Length of 5"):
        framer.encode(b"lo, and more")
    assert framer.encode(b"lo") == b"lo"
    assert framer.finish() == b""
    short = BodyFramer(chunked=False, length=4)
    short.encode(b"ab")
    with pytest.raises(ClientPayloadError, match="ended after 2 of the 4 bytes"):
        short.finish()
    assert BodyFramer(chunked=False, length=0).finish() == b""
    unbounded = BodyFramer(chunked=False)
    assert unbounded.encode(b"x" * 100) == b"x" * 100
    assert unbounded.finish() == b""
