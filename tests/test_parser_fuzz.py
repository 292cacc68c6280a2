"""Bounded fuzzing of both parser twins: random and mutated bytes, fixed seed.

About 20,000 inputs per twin: mutations (bit flips, byte insertions and deletions,
duplicated and spliced slices) of a corpus of real responses, plus plain random bytes,
each fed in random pieces with random options, then EOF. Whatever happens, only
:class:`HttpParserError` subclasses may escape, the sink only ever sees well-typed calls,
a failed parser keeps failing with the same class, and the run ends in bounded time (the
test has a timeout: a hang fails it).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cyhttp.http_exceptions import HttpParserError

from .conftest import CONFORMANCE_DIR, Impl

SEED = 20261121
ROUNDS = 20_000

CORPUS_EXTRA = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b"\r\nhello\r\n0\r\nT: 1\r\n\r\n',
    b"HTTP/1.0 200 OK\r\n\r\nuntil eof",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
]


def _corpus() -> list[bytes]:
    corpus = list(CORPUS_EXTRA)
    path = CONFORMANCE_DIR / "llhttp-responses.json"
    if path.is_file():  # the vectors make a richer corpus; the built-ins suffice without
        for case in json.loads(path.read_text())["cases"]:
            corpus.append(case["raw_latin1"].encode("latin-1"))
    return corpus


def _mutate(rnd: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rnd.randrange(1, 5)):
        op = rnd.randrange(6)
        i = rnd.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip a bit
            j = min(i, len(buf) - 1)
            buf[j] ^= 1 << rnd.randrange(8)
        elif op == 1:  # insert an interesting byte
            buf[i:i] = rnd.choice(
                [
                    b"\r",
                    b"\n",
                    b"\r\n",
                    b" ",
                    b"\t",
                    b":",
                    b"\x00",
                    b"\xff",
                    b";",
                    b'"',
                    b"\\",
                    b"0",
                    b"f",
                    b",",
                ]
            )
        elif op == 2 and buf:  # delete a run
            del buf[i : i + rnd.randrange(1, 4)]
        elif op == 3 and buf:  # duplicate a slice
            j = rnd.randrange(len(buf))
            buf[i:i] = buf[j : j + rnd.randrange(1, 16)]
        elif op == 4:  # splice in a piece of another response
            other = rnd.choice(corpus)
            j = rnd.randrange(len(other) + 1)
            buf[i:i] = other[j : j + rnd.randrange(1, 64)]
        else:  # a big chunk size or length
            buf[i:i] = rnd.choice([b"ffffffffffffffff", b"99999999999999999999", b"-1"])
    return bytes(buf)


class _CheckingSink:
    """Accepts every call, checking only the types the contract promises."""

    def __init__(self) -> None:
        self.body = 0

    def on_informational(self, head: Any) -> None:
        assert 100 <= head.status < 200 and head.status != 101
        head.headers  # noqa: B018  (building the multidict must not fail either)

    def on_headers(self, head: Any) -> None:
        assert isinstance(head.raw_headers, tuple) and isinstance(head.reason, str)
        head.headers  # noqa: B018

    def on_body(self, data: bytes) -> None:
        assert type(data) is bytes and data
        self.body += len(data)

    def on_chunk_end(self) -> None:
        pass

    def on_message_complete(self) -> None:
        pass


@pytest.mark.timeout(120)
def test_fuzz(impl: Impl) -> None:
    rnd = random.Random(SEED)
    corpus = _corpus()
    errors = 0
    for _ in range(ROUNDS):
        if rnd.random() < 0.1:
            data = rnd.randbytes(rnd.randrange(64))
        else:
            data = _mutate(rnd, rnd.choice(corpus), corpus)
        kwargs: dict[str, Any] = {"lenient": rnd.random() < 0.3}
        if rnd.random() < 0.2:
            kwargs.update(
                max_line_size=rnd.randrange(1, 64),
                max_field_size=rnd.randrange(1, 64),
                max_headers=rnd.randrange(0, 6),
            )
        sink = _CheckingSink()
        parser = impl.HttpResponseParser(sink, **kwargs)
        parser.set_request_method(rnd.choice(["GET", "HEAD", "CONNECT", "POST"]))
        try:
            pos = 0
            while pos < len(data):
                step = rnd.randrange(1, len(data) - pos + 1)
                tail = parser.feed_data(data[pos : pos + step])
                assert tail is None or type(tail) is bytes
                pos += step
            parser.feed_eof()
        except HttpParserError as exc:
            errors += 1
            assert exc.offset is None or 0 <= exc.offset <= len(data)
            with pytest.raises(type(exc)):
                parser.feed_data(b"HTTP/1.1 200 OK\r\n\r\n")
        assert sink.body <= len(data)
    # the corpus and mutations are meant to reach both outcomes
    assert 0.2 * ROUNDS < errors < 0.98 * ROUNDS, errors
