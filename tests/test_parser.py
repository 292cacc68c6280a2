"""Unit tests of the response parser's RFC 9112 rules, run against both twins.

Every input goes through :func:`parse`, which feeds it whole, byte by byte and split in two
at every boundary, and checks that all ways agree (events with body pieces merged, error
class and offset, upgrade tail) before the test looks at the result.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from multidict import CIMultiDictProxy

from cyhttp._models import HttpVersion10, HttpVersion11, ResponseHead
from cyhttp.http_exceptions import (
    BadHttpMessage,
    BadHttpPayload,
    BadStatusLine,
    HttpParserError,
    IncompleteBody,
    InvalidChunk,
    InvalidFraming,
    InvalidHeader,
    LineTooLong,
    TooManyHeaders,
)

from .conftest import Impl
from .parser_helpers import Outcome, RecordingSink, run, splits


def parse(impl: Impl, data: bytes, *, eof: bool = False, **kwargs: Any) -> Outcome:
    """Parse ``data`` every way; assert the ways agree; return the whole-input outcome."""
    whole = run(impl.HttpResponseParser, [data], eof=eof, **kwargs)
    for pieces in splits(data):
        out = run(impl.HttpResponseParser, pieces, eof=eof, **kwargs)
        assert out.merged == whole.merged, pieces
        assert out.error_key == whole.error_key, (pieces, out.error, whole.error)
        assert out.tail == whole.tail, pieces
    return whole


def heads(out: Outcome) -> list[Any]:
    return out.sink.heads


def body(out: Outcome) -> bytes:
    return b"".join(ev[1] for ev in out.events if ev[0] == "body")


def kinds(out: Outcome) -> list[str]:
    return [ev[0] for ev in out.merged]


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


# -- status line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "version", "status", "reason"),
    [
        (b"HTTP/1.1 200 OK", HttpVersion11, 200, "OK"),
        (b"HTTP/1.0 404 Not Found", HttpVersion10, 404, "Not Found"),
        (b"HTTP/1.1 301", HttpVersion11, 301, ""),  # no reason, no space
        (b"HTTP/1.1 200 ", HttpVersion11, 200, ""),  # empty reason
        (b"HTTP/1.1 200  OK", HttpVersion11, 200, " OK"),  # reason-phrase may start with SP
        (b"HTTP/1.1 500 Ori\xc3\xabnt\tprobleem", HttpVersion11, 500, "Ori\xebnt\tprobleem"),
        (b"HTTP/1.1 599 \xff", HttpVersion11, 599, "\udcff"),  # obs-text, surrogateescape
        (b"HTTP/1.1 999 Custom", HttpVersion11, 999, "Custom"),
    ],
)
def test_status_line_forms(impl: Impl, line: bytes, version: Any, status: int, reason: str) -> None:
    out = parse(impl, line + b"\r\nContent-Length: 0\r\n\r\n")
    assert out.error is None
    (head,) = heads(out)
    assert (head.version, head.status, head.reason) == (version, status, reason)
    assert kinds(out) == ["headers", "complete"]


@pytest.mark.parametrize(
    ("line", "offset"),
    [
        (b"HTTP/2.0 200 OK", 5),
        (b"HTTP/1.2 200 OK", 7),
        (b"HTTP/0.9 200 OK", 5),
        (b"HTTP/01.1 200 OK", 5),
        (b"HTTP/1.01 200 OK", 8),
        (b"http/1.1 200 OK", 0),
        (b"HTTPS/1.1 200 OK", 4),
        (b" HTTP/1.1 200 OK", 0),
        (b"HTTP/1.1  200 OK", 9),
        (b"HTTP/1.1\t200 OK", 8),
        (b"HTTP/1.1 20 OK", 11),
        (b"HTTP/1.1 2000 OK", 12),
        (b"HTTP/1.1 099 Low", 9),
        (b"HTTP/1.1 2x0 OK", 10),
        (b"HTTP/1.1 200\tOK", 12),
        (b"HTTP/1.1 200 O\x00K", 14),
        (b"HTTP/1.1 200 O\x7fK", 14),
        (b"HTTP/1.1 200 O\rK", 14),
        (b"HTTP/1.1", 8),
        (b"X", 0),
    ],
)
def test_bad_status_line(impl: Impl, line: bytes, offset: int) -> None:
    out = parse(impl, line + b"\r\n\r\n")
    assert isinstance(out.error, BadStatusLine), out.error
    assert out.error.offset == offset
    assert out.events == []
    assert str(out.error).endswith(f"(at byte {offset})")


def test_leading_crlfs_are_skipped(impl: Impl) -> None:
    out = parse(impl, b"\r\n\r\n\r\n" + OK)
    assert out.error is None and heads(out)[0].status == 200


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"\rHTTP/1.1 200 OK\r\n\r\n", 0),
        (b"\r\n\nHTTP/1.1 200 OK\r\n\r\n", 2),
        (b"\r\r\nHTTP/1.1 200 OK\r\n\r\n", 0),
    ],
)
def test_bare_cr_or_lf_before_status_line(impl: Impl, data: bytes, offset: int) -> None:
    out = parse(impl, data)
    assert isinstance(out.error, BadStatusLine) and out.error.offset == offset


def test_bare_lf_before_status_line_lenient(impl: Impl) -> None:
    out = parse(impl, b"\n\r\n" + OK, lenient=True)
    assert out.error is None and heads(out)[0].status == 200


# -- header fields ---------------------------------------------------------------------


def test_headers_raw_and_multidict(impl: Impl) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nx-dup: b\r\n"
        b"X-Empty:\r\nX-Sp: \t  in  side \t \r\nX-Bin: \xff\xfe\r\nContent-Length: 0\r\n\r\n"
    )
    out = parse(impl, data)
    (head,) = heads(out)
    assert head.raw_headers == (
        (b"Content-Type", b"text/plain"),
        (b"X-Dup", b"a"),
        (b"x-dup", b"b"),
        (b"X-Empty", b""),
        (b"X-Sp", b"in  side"),
        (b"X-Bin", b"\xff\xfe"),
        (b"Content-Length", b"0"),
    )
    headers = head.headers
    assert isinstance(headers, CIMultiDictProxy)
    assert headers is head.headers  # built once
    assert headers["content-type"] == "text/plain"
    assert headers.getall("X-DUP") == ["a", "b"]
    assert headers["X-Empty"] == ""
    assert headers["x-bin"] == "\udcff\udcfe"
    assert [k for k, _ in headers.items()] == [k.decode() for k, _ in head.raw_headers]


@pytest.mark.parametrize("name", [b"!#$%&'*+-.^_`|~09AZaz", b"DCLK_imp", b".et-Cookie"])
def test_token_names(impl: Impl, name: bytes) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\n" + name + b": v\r\nContent-Length: 0\r\n\r\n")
    assert out.error is None and heads(out)[0].raw_headers[0] == (name, b"v")


@pytest.mark.parametrize(
    ("line", "offset"),
    [
        (b"Foo : bar", 3),  # whitespace before the colon (RFC 9112 §5.1)
        (b"Foo\t: bar", 3),
        (b"en-US Content-Type: text/xml", 5),
        (b"Fo(o): bar", 2),
        (b"Fo\x00o: bar", 2),
        (b"F\xc3\xa9: bar", 1),
        (b"Foo bar", 3),
        (b"NoColon", 7),
        (b": empty name", 0),
        (b"Foo: a\x00b", 6),  # NUL
        (b"Foo: a\rb", 6),  # bare CR
        (b"Foo: a\x01b", 6),
        (b"Foo: a\x1bb", 6),
        (b"Foo: a\x7fb", 6),
    ],
)
def test_bad_header_line(impl: Impl, line: bytes, offset: int) -> None:
    start = len(b"HTTP/1.1 200 OK\r\n")
    out = parse(impl, b"HTTP/1.1 200 OK\r\n" + line + b"\r\n\r\n")
    assert isinstance(out.error, InvalidHeader), out.error
    assert out.error.offset == start + offset
    assert out.events == []


@pytest.mark.parametrize("lenient", [False, True])
def test_whitespace_before_first_header_rejected(impl: Impl, lenient: bool) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\n Host: foo\r\n\r\n", lenient=lenient)
    assert isinstance(out.error, InvalidHeader) and out.error.offset == 17


def test_obs_fold_rejected(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(out.error, InvalidHeader) and out.error.offset == 27


def test_obs_fold_unfolded_when_lenient(impl: Impl) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nX-A: one\r\n two \r\n\t three\r\nX-E:\r\n  x\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    out = parse(impl, data, lenient=True)
    assert out.error is None
    assert heads(out)[0].raw_headers[:2] == ((b"X-A", b"one two three"), (b"X-E", b"x"))


def test_bare_lf_line_endings(impl: Impl) -> None:
    data = b"HTTP/1.1 200 OK\nX-A: 1\r\nContent-Length: 2\n\nhi"
    strict = parse(impl, data)
    assert isinstance(strict.error, BadStatusLine) and strict.error.offset == 15
    strict2 = parse(impl, b"HTTP/1.1 200 OK\r\nX-A: 1\n\r\n")
    assert isinstance(strict2.error, InvalidHeader) and strict2.error.offset == 23
    lenient = parse(impl, data, lenient=True)
    assert lenient.error is None
    assert heads(lenient)[0].raw_headers == ((b"X-A", b"1"), (b"Content-Length", b"2"))
    assert body(lenient) == b"hi"


def test_bare_cr_is_never_a_line_end(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", lenient=True)
    assert isinstance(out.error, BadStatusLine) and out.error.offset == 15


# -- framing -----------------------------------------------------------------------------


def test_content_length_body(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    (head,) = heads(out)
    assert (head.content_length, head.chunked, head.keep_alive) == (5, False, True)
    assert out.merged[1:] == [("body", b"hello"), ("complete",)]


@pytest.mark.parametrize(
    "value",
    [b"+5", b"-1", b"5x", b"0x5", b"5 5", b"", b"1.0", b"\xd9\xa5", b"5,", b",5", b"1" * 20],
)
def test_content_length_must_be_digits(impl: Impl, value: bytes) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n")
    assert isinstance(out.error, InvalidFraming), out.error
    assert out.events == []


def test_content_length_ows_and_equal_duplicates(impl: Impl) -> None:
    out = parse(
        impl,
        b"HTTP/1.1 200 OK\r\nContent-Length:\t 3 \r\ncontent-length: 3\r\n"
        b"Content-Length: 3 , 3\r\n\r\nabc",
    )
    assert out.error is None
    assert heads(out)[0].content_length == 3 and body(out) == b"abc"


@pytest.mark.parametrize(
    "fields", [b"Content-Length: 3\r\nContent-Length: 4\r\n", b"Content-Length: 3, 4\r\n"]
)
def test_conflicting_content_length(impl: Impl, fields: bytes) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nabcd")
    assert isinstance(out.error, InvalidFraming) and out.events == []


def test_content_length_with_transfer_encoding(impl: Impl) -> None:
    out = parse(
        impl,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert isinstance(out.error, InvalidFraming) and out.events == []


def test_chunked_with_extensions_and_trailers(impl: Impl) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
        b'5;name=value;flag ; q="a \\"quoted\\"; ext"\r\nhello\r\n'
        b"0006\r\n world\r\n"
        b"A\r\n0123456789\r\n"
        b"0;last\r\nX-Trailer: yes\r\nX-Other:\tno \r\n\r\n" + OK
    )
    out = parse(impl, data)
    assert out.error is None
    first, second = heads(out)
    assert first.chunked and first.content_length is None and first.keep_alive
    assert [e for e in out.merged if e[0] != "headers"][:6] == [
        ("body", b"hello"),
        ("chunk_end",),
        ("body", b" world"),
        ("chunk_end",),
        ("body", b"0123456789"),
        ("chunk_end",),
    ]
    assert kinds(out) == (
        ["headers"] + ["body", "chunk_end"] * 3 + ["complete", "headers", "complete"]
    )
    assert second.status == 200  # the trailers ended the first message; the next one parsed


def test_chunk_pieces_arrive_as_fed(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    parser.feed_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nabc")
    parser.feed_data(b"def")
    parser.feed_data(b"gh\r")
    assert [e for e in sink.events if e[0] != "headers"] == [
        ("body", b"abc"),
        ("body", b"def"),
        ("body", b"gh"),
    ]
    parser.feed_data(b"\n0\r\n\r\n")
    assert sink.events[-2:] == [("chunk_end",), ("complete",)]


@pytest.mark.parametrize(
    ("chunk", "offset"),
    [
        (b"25  \r\n", 4),  # BWS but no extension
        (b"2 erfrferferf\r\n", 2),
        (b"2;\r\n", 2),
        (b";a\r\n", 0),  # no size
        (b"g\r\n", 0),
        (b"-1\r\n", 0),
        (b"0x5\r\n", 1),
        (b"5;a=\r\n", 4),
        (b'5;a="x\r\n', 6),  # unterminated quoted string
        (b'5;a="x\x00"\r\n', 6),
        (b'5;a="x"y\r\n', 7),
        (b"5;=v\r\n", 2),
        (b"5;a b\r\n", 4),
        (b"1" * 20 + b"\r\n", 0),  # too large
    ],
)
def test_bad_chunk_size_line(impl: Impl, chunk: bytes, offset: int) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    out = parse(impl, head + chunk + b"hello\r\n0\r\n\r\n")
    assert isinstance(out.error, InvalidChunk), out.error
    assert out.error.offset == len(head) + offset
    assert kinds(out) == ["headers"]


@pytest.mark.parametrize(("after", "offset"), [(b"XY", 0), (b"\rX", 1), (b"\n0\r\n\r\n", 0)])
def test_missing_crlf_after_chunk_data(impl: Impl, after: bytes, offset: int) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab"
    out = parse(impl, head + after)
    assert isinstance(out.error, InvalidChunk) and out.error.offset == len(head) + offset
    assert out.merged[1:] == [("body", b"ab")]


def test_lenient_bare_lf_in_chunked_body(impl: Impl) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\n0\nX: y\n\n"
    out = parse(impl, data, lenient=True)
    assert out.error is None and body(out) == b"ab" and kinds(out)[-1] == "complete"
    assert isinstance(parse(impl, data).error, InvalidChunk)


def test_bad_trailer_is_a_payload_error(impl: Impl) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    out = parse(impl, head + b"Bad Trailer: x\r\n\r\n")
    assert isinstance(out.error, InvalidChunk) and out.error.offset == len(head) + 3
    out = parse(impl, head + b" folded\r\n\r\n")
    assert isinstance(out.error, InvalidChunk)


def test_chunked_twice_is_an_error(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")
    assert isinstance(out.error, InvalidFraming)


@pytest.mark.parametrize(
    "te",
    [b"chunked, gzip", b"gzip", b"chunkedchunked", b"chunked;x=1", b"identity"],
)
def test_transfer_encoding_not_ending_in_chunked_reads_until_eof(impl: Impl, te: bytes) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te + b"\r\n\r\n2\r\nOK\r\n0\r\n\r\n"
    out = parse(impl, data, eof=True)
    assert out.error is None
    (head,) = heads(out)
    assert not head.chunked and not head.keep_alive
    assert body(out) == b"2\r\nOK\r\n0\r\n\r\n" and kinds(out)[-1] == "complete"


def test_transfer_encoding_fields_combine(impl: Impl) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    out = parse(impl, data)
    assert heads(out)[0].chunked and kinds(out) == ["headers", "complete"]


def test_until_eof_body(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world", eof=True)
    (head,) = heads(out)
    assert head.content_length is None and not head.keep_alive
    assert out.merged[1:] == [("body", b"hello world"), ("complete",)]
    # without EOF the message is not complete
    out = parse(impl, b"HTTP/1.1 200 OK\r\n\r\nabc")
    assert out.merged[1:] == [("body", b"abc")]


@pytest.mark.parametrize(
    ("status", "method"), [(204, "GET"), (304, "GET"), (200, "HEAD"), (404, "HEAD")]
)
def test_no_body(impl: Impl, status: int, method: str) -> None:
    data = b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status + OK
    out = parse(impl, data, method=method)
    assert out.error is None
    first, _second = heads(out)
    assert first.content_length == 10 and first.keep_alive
    assert kinds(out) == ["headers", "complete", "headers", "complete"]


def test_method_resets_to_get_after_each_message(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    parser.set_request_method("HEAD")
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    assert [e[0] for e in sink.events] == ["headers", "complete", "headers", "body", "complete"]


def test_informational_responses(impl: Impl) -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    out = parse(impl, data, method="HEAD")
    assert kinds(out) == ["info", "info", "headers", "complete"]  # HEAD holds across 1xx
    assert [h.status for h in heads(out)] == [100, 103, 200]
    assert heads(out)[1].headers["link"] == "</s.css>; rel=preload"
    out = parse(impl, data)
    assert kinds(out) == ["info", "info", "headers", "body", "complete"]


def test_informational_ignores_framing_headers(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\n" + OK)
    assert out.error is None and kinds(out) == ["info", "headers", "complete"]


# -- keep-alive --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        (b"1.1", None, True),
        (b"1.1", b"close", False),
        (b"1.1", b"Keep-Alive, CLOSE", False),
        (b"1.1", b"upgrade", True),
        (b"1.0", None, False),
        (b"1.0", b"keep-alive", True),
        (b"1.0", b" Upgrade ,\tKEEP-ALIVE ", True),
        (b"1.0", b"keep-alive, close", False),
        (b"1.0", b"keep-alive-ish", False),
    ],
)
def test_keep_alive(impl: Impl, version: bytes, connection: bytes | None, keep_alive: bool) -> None:
    conn = b"" if connection is None else b"Connection: " + connection + b"\r\n"
    data = b"HTTP/" + version + b" 200 OK\r\n" + conn + b"Content-Length: 1\r\n\r\nx"
    out = parse(impl, data + b"HTTP/1.1 201 Next\r\nContent-Length: 0\r\n\r\n")
    assert heads(out)[0].keep_alive is keep_alive
    # a keep-alive message is followed by the next one; after a closing one, nothing
    assert len(heads(out)) == (2 if keep_alive else 1)


def test_bytes_after_a_closing_message_are_ignored(impl: Impl) -> None:
    data = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx\x00garbage\r\n"
    out = parse(impl, data, eof=True)
    assert out.error is None and out.merged[1:] == [("body", b"x"), ("complete",)]


def test_http10_with_transfer_encoding_closes(impl: Impl) -> None:
    data = (
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    out = parse(impl, data)
    assert heads(out)[0].chunked and not heads(out)[0].keep_alive


# -- upgrades ----------------------------------------------------------------------------


def test_101_returns_the_tail(impl: Impl) -> None:
    data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    out = parse(impl, data + b"\x81\x02hi")
    (head,) = heads(out)
    assert head.upgrade and not head.keep_alive and head.status == 101
    assert kinds(out) == ["headers", "complete"]
    assert out.tail == b"\x81\x02hi"
    assert parse(impl, data).tail == b""


def test_after_upgrade_bytes_are_handed_back(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    assert parser.feed_data(b"HTTP/1.1 101 Switching Protocols\r\n\r\nab") == b"ab"
    assert parser.feed_data(b"HTTP/1.1 200 OK\r\n\r\n") == b"HTTP/1.1 200 OK\r\n\r\n"
    parser.feed_eof()
    assert len(sink.events) == 2


def test_connect_2xx_is_a_tunnel(impl: Impl) -> None:
    data = b"HTTP/1.1 200 Connection established\r\nContent-Length: 99\r\n\r\n\x16\x03\x01"
    out = parse(impl, data, method="CONNECT")
    (head,) = heads(out)
    assert head.upgrade and head.content_length is None
    assert out.tail == b"\x16\x03\x01"
    refused = parse(impl, b"HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nno", method="CONNECT")
    assert not heads(refused)[0].upgrade and body(refused) == b"no" and refused.tail is None


def test_200_with_upgrade_header_is_not_an_upgrade(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nbody")
    assert not heads(out)[0].upgrade and out.tail is None and body(out) == b"body"


# -- limits -------------------------------------------------------------------------------


def test_status_line_limit_across_fragments(impl: Impl) -> None:
    line = b"HTTP/1.1 200 " + b"x" * 100
    out = parse(impl, line + b"\r\n\r\n", max_line_size=50)
    assert isinstance(out.error, LineTooLong) and out.error.offset == 0
    # raised before the line ends: a peer cannot make the parser buffer without bound
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink, max_line_size=50)
    with pytest.raises(LineTooLong):
        for i in range(200):
            parser.feed_data(b"HTTP/1.1 200 OK"[i : i + 1] or b"x")
    assert parse(impl, b"HTTP/1.1 200 " + b"x" * 37 + b"\r\n\r\n", max_line_size=50).error is None


def test_header_field_limit_across_fragments(impl: Impl) -> None:
    ok_line = b"X: " + b"v" * 47
    ok = parse(impl, b"HTTP/1.1 200 OK\r\n" + ok_line + b"\r\n\r\n", max_field_size=50)
    assert ok.error is None
    out = parse(impl, b"HTTP/1.1 200 OK\r\n" + ok_line + b"v\r\n\r\n", max_field_size=50)
    assert isinstance(out.error, LineTooLong) and out.error.offset == 17
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink, max_field_size=50)
    parser.feed_data(b"HTTP/1.1 200 OK\r\nX: ")
    with pytest.raises(LineTooLong):
        for _ in range(100):
            parser.feed_data(b"v")


def test_max_headers_counts_trailers(impl: Impl) -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(4))
    ok = parse(impl, b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n", max_headers=5)
    assert ok.error is None
    out = parse(impl, b"HTTP/1.1 200 OK\r\n" + fields + b"A: 1\r\nB: 2\r\n\r\n", max_headers=5)
    assert isinstance(out.error, TooManyHeaders) and out.error.offset == 17 + len(fields) + 6
    chunked = b"HTTP/1.1 200 OK\r\n" + fields + b"Transfer-Encoding: chunked\r\n\r\n0\r\n"
    out = parse(impl, chunked + b"T: 1\r\n\r\n", max_headers=5)
    assert isinstance(out.error, InvalidChunk) and isinstance(out.error, BadHttpPayload)


def test_chunk_size_line_limit(impl: Impl) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    out = parse(impl, head + b"5;" + b"a" * 60 + b"\r\nhello\r\n0\r\n\r\n", max_line_size=40)
    assert isinstance(out.error, InvalidChunk) and out.error.offset == len(head)


# -- errors, EOF, API ---------------------------------------------------------------------


def test_error_offset_is_absolute_in_the_stream(impl: Impl) -> None:
    out = parse(impl, OK + OK + b"HTTP/1.1 200 OK\r\nBad\x01: x\r\n\r\n")
    assert isinstance(out.error, InvalidHeader)
    assert out.error.offset == 2 * len(OK) + 17 + 3
    assert kinds(out) == ["headers", "complete"] * 2


def test_parser_stays_failed(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    with pytest.raises(BadStatusLine) as first:
        parser.feed_data(b"HTTP/9.9 200 OK\r\n\r\n")
    for call in (lambda: parser.feed_data(OK), parser.feed_eof):
        with pytest.raises(BadStatusLine) as again:
            call()
        assert again.value.offset == first.value.offset == 5
    assert sink.events == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"HTTP/1.1 20", BadStatusLine),
        (b"\r", BadStatusLine),
        (b"HTTP/1.1 200 OK\r\nX: y", InvalidHeader),
        (b"HTTP/1.1 200 OK\r\n", InvalidHeader),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", IncompleteBody),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", IncompleteBody),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", IncompleteBody),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n", IncompleteBody),
    ],
)
def test_eof_mid_message(impl: Impl, data: bytes, error: type[HttpParserError]) -> None:
    out = parse(impl, data, eof=True)
    assert type(out.error) is error and out.error.offset is None
    assert isinstance(out.error, BadHttpPayload if error is IncompleteBody else BadHttpMessage)


@pytest.mark.parametrize("data", [b"", b"\r\n", OK, OK + b"\r\n"])
def test_eof_between_messages_is_a_no_op(impl: Impl, data: bytes) -> None:
    out = parse(impl, data, eof=True)
    assert out.error is None


def test_accepts_bytes_like_input(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    parser.feed_data(bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"))
    parser.feed_data(memoryview(b"cd"))
    assert [e for e in sink.events if e[0] == "body"] == [("body", b"ab"), ("body", b"cd")]


def test_encoding_and_content_length_fields(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nContent-Encoding: GZip\r\nContent-Length: 0\r\n\r\n")
    assert heads(out)[0].encoding == "gzip"
    out = parse(impl, OK)
    assert heads(out)[0].encoding is None and heads(out)[0].content_length == 0


def test_sink_exceptions_propagate(impl: Impl) -> None:
    class Boom(RecordingSink):
        def on_headers(self, head: Any) -> None:
            raise KeyError("sink")

    parser = impl.HttpResponseParser(Boom())
    with pytest.raises(KeyError):
        parser.feed_data(OK + OK)
    # the input was half consumed: the parser refuses to go on
    with pytest.raises(BadHttpMessage, match="sink"):
        parser.feed_data(OK)
    with pytest.raises(BadHttpMessage):
        parser.feed_eof()


def test_pipelined_messages_in_one_feed(impl: Impl) -> None:
    data = b"".join(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d" % i for i in range(5))
    out = parse(impl, data)
    assert [e[1] for e in out.events if e[0] == "body"] == [b"%d" % i for i in range(5)]


def test_heads_are_response_heads(impl: Impl) -> None:
    out = parse(impl, b"HTTP/1.1 200 OK\r\nX-A: b\r\nContent-Length: 0\r\n\r\n")
    (head,) = heads(out)
    assert isinstance(head, ResponseHead)
    assert repr(head) == "<ResponseHead HTTP/1.1 200 'OK' headers=2 keep_alive=True>"
    if not impl.is_pure_python:
        # the compiled twin fills the slots in place; falling back silently would hide a
        # layout change of ResponseHead (and cost speed)
        module = importlib.import_module(impl.HttpResponseParser.__module__)
        assert module.HEADS_BUILT_IN_PLACE


def test_reused_header_objects_never_go_stale(impl: Impl) -> None:
    """The compiled twin reuses header objects from earlier responses (by position, by slot)
    when the bytes are equal; a field that differs only in content, case, length or position
    must still come out exactly as received, in every one of many successive responses."""
    variants = [
        [(b"Server", b"alpha"), (b"X-Id", b"0001"), (b"Content-Type", b"text/plain")],
        [(b"Server", b"alphb"), (b"X-Id", b"0002"), (b"Content-Type", b"text/plain")],
        [(b"server", b"alpha"), (b"X-Id", b"0001"), (b"Content-Type", b"text/plaim")],
        [(b"X-Id", b"0001"), (b"Server", b"alpha"), (b"Content-Type", b"text/plain")],
        [(b"Server", b"alpha"), (b"X-Id", b"00011"), (b"Content-Type", b"text/plain; x=1")],
        [(b"Server", b""), (b"X-Id", b"0001")],
        [(b"Server", b"alpha"), (b"X-Id", b"0001"), (b"Content-Type", b"text/plain")],
    ]
    # many headers, one changing per response, to reach both reuse caches
    many = [(b"X-H%d" % i, b"v%d" % i) for i in range(120)]
    for i in range(0, 120, 7):
        changed = list(many)
        changed[i] = (changed[i][0], b"w%d" % i)
        variants.append(changed)
    variants.append(many)
    data = b"".join(
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(name + b": " + value + b"\r\n" for name, value in fields)
        + b"Content-Length: 0\r\n\r\n"
        for fields in variants * 3
    )
    for pieces in ([data], [data[i : i + 97] for i in range(0, len(data), 97)]):
        out = run(impl.HttpResponseParser, pieces, max_headers=200)
        assert out.error is None
        got = heads(out)
        assert len(got) == len(variants) * 3
        for head, fields in zip(got, variants * 3, strict=True):
            expected = [*fields, (b"Content-Length", b"0")]
            assert list(head.raw_headers) == expected
            assert list(head.headers.items()) == [(n.decode(), v.decode()) for n, v in expected]


def test_parsers_sharing_the_field_cache_never_mix_fields(impl: Impl) -> None:
    """The compiled parser's field cache is one per process: parsers taking turns with the
    same names and different values (and a same-length value differing in one byte) each
    see exactly their own fields, message after message."""
    sinks = [RecordingSink() for _ in range(3)]
    parsers = [impl.HttpResponseParser(sink) for sink in sinks]
    for round_ in range(20):
        for index, parser in enumerate(parsers):
            value = f"v{index}-{round_ % 3}"
            parser.set_request_method("GET")
            parser.feed_data(
                f"HTTP/1.1 200 OK\r\nX-Same: {value}\r\nX-Other-{index}: {index}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
            head = sinks[index].heads[-1]
            assert head.raw_headers == (
                (b"X-Same", value.encode()),
                (f"X-Other-{index}".encode(), str(index).encode()),
                (b"Content-Length", b"0"),
            ), (round_, index)


def test_body_received_outside_the_parser(impl: Impl) -> None:
    """A connection may receive the rest of a Content-Length body itself (straight into
    its final buffer) and tell the parser how much came: the message then completes, and
    the next one on the connection parses as usual."""
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    assert parser.body_remaining() == -1  # no message yet
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
    assert parser.body_remaining() == 90
    parser.body_received(50)
    assert parser.body_remaining() == 40 and sink.events[-1] == ("body", b"x" * 10)
    for wrong in (0, -1, 41):
        with pytest.raises(RuntimeError):
            parser.body_received(wrong)
    parser.body_received(40)
    assert sink.events[-1] == ("complete",) and parser.body_remaining() == -1
    with pytest.raises(RuntimeError):
        parser.body_received(1)
    parser.feed_data(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert sink.events[-1] == ("complete",) and sink.heads[-1].status == 204


def test_body_received_then_the_peer_goes_away(impl: Impl) -> None:
    sink = RecordingSink()
    parser = impl.HttpResponseParser(sink)
    parser.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n")
    parser.body_received(12)
    with pytest.raises(IncompleteBody, match="18 body bytes missing"):
        parser.feed_eof()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",  # delimited by the close
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",  # head not complete
    ],
)
def test_body_received_only_inside_a_content_length_body(impl: Impl, head: bytes) -> None:
    parser = impl.HttpResponseParser(RecordingSink())
    parser.feed_data(head)
    assert parser.body_remaining() == -1
    with pytest.raises(RuntimeError):
        parser.body_received(1)
