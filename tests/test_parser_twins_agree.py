"""Hypothesis: the compiled parser and its pure-Python twin agree on every input.

Responses are generated from the grammar (status lines, header fields including the
framing ones, Content-Length, chunked and read-until-close bodies, pipelined messages),
then optionally damaged (bytes inserted, dropped or replaced) and cut into random pieces.
Both twins get the same pieces and must produce the same callbacks with the same
arguments (body pieces included), the same upgrade tail, and the same error class,
offset and message.
"""

from __future__ import annotations

from itertools import pairwise
from random import Random
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cyhttp import _compat, http_parser

from .parser_helpers import Outcome, run

# a pure-only install has nothing to compare; a run that expects the compiled modules fails
pytestmark = pytest.mark.skipif(
    http_parser.HttpResponseParserC is None and _compat.NO_EXTENSIONS,
    reason="pure-Python build (CYHTTP_NO_EXTENSIONS): no compiled parser to compare with",
)

NAMES = [
    b"Content-Length",
    b"content-length",
    b"Transfer-Encoding",
    b"Connection",
    b"Content-Encoding",
    b"Upgrade",
    b"Date",
    b"X-Custom_1",
    b"Set-Cookie",
    b"Bad Name",
    b"",
]
VALUES = [
    b"0",
    b"5",
    b" 12 ",
    b"5, 5",
    b"5, 6",
    b"+5",
    b"chunked",
    b"gzip, chunked",
    b"chunked, gzip",
    b"close",
    b"keep-alive",
    b"Keep-Alive, Upgrade",
    b"GZIP",
    b"text/plain; charset=utf-8",
    b"\xc3\xa9t\xc3\xa9",
    b"\xff",
    b"a\x00b",
    b"a\rb",
    b"",
    b"\t  spaced  \t",
]


GOOD_NAMES = [b"Date", b"Server", b"X-Custom_1", b"Content-Type", b"Vary", b"ETag"]
GOOD_VALUES = [b"", b"x", b"text/plain", b"Sat, 21 Nov 2026 08:00:00 GMT", b"a  b", b"\xc3\xa9"]
BAD_STATUS = [b"HTTP/2.0 200 OK", b"HTTP/1.1 20 OK", b"http/1.1 200", b"ICE/1.1 200"]
STATUSES = [100, 101, 103, 200, 200, 200, 204, 206, 304, 400, 404, 500, 999]
REASONS = [b"", b" ", b" OK", b" Not Found", b"  x", b" \xc3\xa9"]
EXTS = [b"", b"", b"", b";a", b";a=b", b';a="q\\"x"', b" ; a", b";", b" "]
NOISE = [b"\r", b"\n", b" ", b"\t", b":", b"\x00", b"\x7f", b"0", b";", b'"']

# Generation is driven by a Random that Hypothesis controls, so that the mix is explicit:
# mostly well-formed messages (to reach the framing and body code), some damage.


def _pick(rnd: Random, good: list[bytes], other: list[bytes], p_good: float) -> bytes:
    return rnd.choice(good if rnd.random() < p_good else other)


def _chunked_body(rnd: Random) -> bytes:
    out = b""
    for _ in range(rnd.randrange(4)):
        size = rnd.randrange(1, 20)
        hexsize = rnd.choice([b"%x", b"%X", b"0%x"]) % size
        out += hexsize + rnd.choice(EXTS) + b"\r\n" + rnd.randbytes(size) + b"\r\n"
    out += b"0\r\n"
    for _ in range(rnd.choice([0, 0, 1, 2])):
        out += rnd.choice(NAMES) + b": " + rnd.choice(VALUES) + b"\r\n"
    return out + b"\r\n"


def _message(rnd: Random) -> bytes:
    out = rnd.choice([b"", b"", b"", b"\r\n"])
    if rnd.random() < 0.9:
        status = rnd.choice(STATUSES)
        out += b"HTTP/1.%d %d%s" % (rnd.choice([0, 1, 1]), status, rnd.choice(REASONS))
    else:
        out += rnd.choice(BAD_STATUS)
    out += b"\r\n"
    framing = rnd.choice(["length", "chunked", "none", "random"])
    lines = []
    for _ in range(rnd.randrange(5)):
        name = _pick(rnd, GOOD_NAMES, NAMES, 0.9) if rnd.random() < 0.98 else rnd.randbytes(3)
        value = _pick(rnd, GOOD_VALUES, VALUES, 0.9) if rnd.random() < 0.98 else rnd.randbytes(4)
        lines.append(name + b":" + rnd.choice([b" ", b"", b"\t"]) + value)
    body = rnd.randbytes(rnd.randrange(12))
    if framing == "length":
        lines.append(b"Content-Length: %d" % len(body))
    elif framing == "chunked":
        lines.append(b"Transfer-Encoding: chunked")
        body = _chunked_body(rnd)
    rnd.shuffle(lines)
    for line in lines:
        end = b"\r\n" if rnd.random() < 0.97 else rnd.choice([b"\n", b"\r", b"\r\n "])
        out += line + end
    return out + b"\r\n" + body


def _stream(rnd: Random) -> bytes:
    data = b"".join(_message(rnd) for _ in range(rnd.randrange(1, 4)))
    for _ in range(rnd.choice([0, 0, 0, 0, 0, 0, 1, 2])):
        i = rnd.randrange(len(data))
        op = rnd.choice(["insert", "delete", "replace"])
        byte = rnd.choice(NOISE)
        if op == "insert":
            data = data[:i] + byte + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + 1 :]
        else:
            data = data[:i] + byte + data[i + 1 :]
    return data


def _pieces(rnd: Random, data: bytes) -> list[bytes]:
    cuts = sorted({rnd.randrange(len(data) + 1) for _ in range(rnd.randrange(7))})
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def _signature(out: Outcome) -> tuple[Any, ...]:
    headers = [list(h.headers.items()) for h in out.sink.heads]
    err = None if out.error is None else (type(out.error), out.error.offset, out.error.message)
    return (out.events, headers, out.tail, err)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_twins_agree(rnd: Random) -> None:
    assert http_parser.HttpResponseParserC is not None, "the compiled parser is not built"
    raw = _stream(rnd)
    feeds = _pieces(rnd, raw)
    eof = rnd.random() < 0.5
    method = rnd.choice([None, "GET", "HEAD", "CONNECT"])
    limits: dict[str, Any] = {"lenient": rnd.random() < 0.3}
    if rnd.random() < 0.2:
        limits.update(max_line_size=24, max_field_size=20, max_headers=4)
    compiled = run(http_parser.HttpResponseParserC, feeds, eof=eof, method=method, **limits)
    pure = run(http_parser.HttpResponseParserPy, feeds, eof=eof, method=method, **limits)
    assert _signature(compiled) == _signature(pure), (raw, feeds)
    event("error" if pure.error is not None else "no error")
    event(f"{len(pure.sink.heads)} heads")
    # the pure twin's whole-head fast path and its byte-exact slow path agree too
    slow = run(
        http_parser.HttpResponseParserPy,
        [raw[i : i + 1] for i in range(len(raw))],
        eof=eof,
        method=method,
        **limits,
    )
    assert slow.merged == pure.merged and slow.tail == pure.tail
    assert slow.error_key == pure.error_key
