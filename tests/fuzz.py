"""Fuzzing the whole client stack over loopback: responses and WebSocket frames.

A raw asyncio server on 127.0.0.1 answers each request with the bytes of one *case*
(looked up by the request path), possibly cut into pieces, then closes the connection.
The client is a real :class:`cyhttp.ClientSession`. Cases come from three generators:

* ``random``: random bytes, sometimes after a valid status line;
* ``mutated``: valid responses (or frame streams) with bytes flipped, inserted, deleted,
  duplicated or truncated, and numbers replaced by hostile ones;
* ``structured``: responses built from the grammar with random choices (versions,
  statuses, 1xx interim responses, header sets, framing, chunk extensions, trailers,
  content codings, redirects) and frame streams (opcodes, fragmentation, control frames
  in between, lengths in every encoding, close codes, UTF-8 good and bad, compression).
  When every choice is valid the generator knows the answer, and the client must give
  exactly that status and body.

The only outcomes allowed: a parsed response (with the right body where it is known), or
a :class:`cyhttp.ClientError`. For WebSockets, ``receive()`` returns messages until
CLOSE/CLOSED/ERROR. Anything else (another exception, a hang past the timeout, a wrong
body, a connection left acquired) is a failure, recorded with the input that caused it.

``tests/test_fuzz_stack.py`` runs a fixed, seeded budget in CI. For development:
``python -m tests.fuzz --count 100000`` (or ``make fuzz FUZZ_ARGS=...``), or with
``--engine atheris`` when atheris is installed (coverage-guided; inputs are raw response or
frame bytes). Crashes are written to ``--crash-dir`` and belong in the regression list of
``test_fuzz_stack.py``.

Safety: the connector used here refuses every host but the fuzz server itself, so a
fuzzed redirect can never leave 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import random
import sys
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import zstandard

import cyhttp
from cyhttp import ClientSession, ClientTimeout, ClientWSTimeout, TCPConnector, WSMsgType
from cyhttp._compat import NO_EXTENSIONS
from cyhttp.client_exceptions import ClientConnectorError

__all__ = (
    "Campaign",
    "Case",
    "FuzzServer",
    "Report",
    "gen_http_case",
    "gen_ws_case",
    "run_campaign",
    "run_one",
)

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: the client gives up on one case after this long; hitting it means a hang (a failure)
CASE_TIMEOUT = 5.0


@dataclass
class Case:
    """One input: raw bytes for an HTTP response, or frames after a WebSocket handshake."""

    kind: str  # "http" or "ws"
    data: bytes
    origin: str = ""  # which generator made it
    #: for http: (status, body) when the response is well-formed and the answer is known
    expected: tuple[int, bytes] | None = None
    method: str = "GET"
    #: how the server cuts ``data`` into writes (empty: one write)
    cuts: tuple[int, ...] = ()
    #: for ws: the handshake answer is spoiled in this way ("" = a correct 101)
    ws_head: str = ""
    ws_compress: int = 0
    redirects: bool = False
    #: for ws: the messages receive() must return when the frames are well-formed, as
    #: [type name, text or hex] pairs, ending with ["CLOSE", code] or ["CLOSED", None]
    ws_expected: list[list[Any]] | None = None

    def to_json(self) -> str:
        d = dict(self.__dict__)
        d["data"] = base64.b64encode(self.data).decode()
        if self.expected is not None:
            d["expected"] = [self.expected[0], base64.b64encode(self.expected[1]).decode()]
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> Case:
        d = json.loads(text)
        d["data"] = base64.b64decode(d["data"])
        if d.get("expected") is not None:
            d["expected"] = (d["expected"][0], base64.b64decode(d["expected"][1]))
        d["cuts"] = tuple(d.get("cuts", ()))
        return cls(**d)


# ----- HTTP generators -----

_HEADER_POOL = [
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Type: application/json",
    b"Server: fuzz",
    b"Set-Cookie: a=b; Path=/; HttpOnly",
    b"Set-Cookie: bad",
    b"Cache-Control: no-cache",
    b"X-Empty:",
    b"X-Spaces:    padded   ",
    b"X-Obs-Text: caf\xe9",
    b"Vary: *",
    b"Date: Sat, 21 Nov 2026 08:00:00 GMT",
    b'ETag: "abc"',
    b"Keep-Alive: timeout=5",
    b"Connection: keep-alive",
    b"Connection: close",
]
_HOSTILE_NUMBERS = [
    b"0",
    b"-1",
    b"+1",
    b"1e3",
    b"0x10",
    b"99999999999999999999999999",
    b"18446744073709551616",
    b"9223372036854775807",
    b"4294967296",
    b" 1",
    b"1 ",
    b"1,1",
    b"",
    b"\x00",
    b"007",
]
_LOCATIONS = [
    b"/landing",
    b"landing?x=1",
    b"//127.0.0.1/other",
    b"file:///etc/passwd",
    b"javascript:alert(1)",
    b"http://[::1",
    b"http://",
    b"ftp://127.0.0.1/",
    b"\xff\xfe",
    b"http://127.0.0.1:1/",
    b"/%zz",
    b"?",
    b"#frag",
    b"ws://127.0.0.1/",
]
_REDIRECT_TARGET = b"redirected"


def _encode(rng: random.Random, body: bytes) -> tuple[bytes | None, bytes]:
    """A content coding for ``body``: (Content-Encoding value or None, encoded bytes)."""
    choice = rng.choice(
        ["none", "none", "gzip", "deflate", "raw-deflate", "br", "zstd", "identity"]
    )
    if choice == "none":
        return None, body
    if choice == "identity":
        return b"identity", body
    if choice == "gzip":
        return b"gzip", zlib.compress(body, rng.randint(0, 9), wbits=31)
    if choice == "deflate":
        return b"deflate", zlib.compress(body)
    if choice == "raw-deflate":
        return b"deflate", zlib.compress(body, wbits=-15)
    if choice == "br":
        return b"br", brotli.compress(body)
    return b"zstd", zstandard.ZstdCompressor().compress(body)


def _body(rng: random.Random) -> bytes:
    pick = rng.random()
    if pick < 0.2:
        return b""
    if pick < 0.5:
        return b"hello, fuzz"
    if pick < 0.8:
        return rng.randbytes(rng.randint(1, 3000))
    if pick < 0.95:
        return bytes(range(256)) * rng.randint(1, 400)
    return b"z" * rng.randint(100_000, 1_500_000)


def _chunked(rng: random.Random, body: bytes, valid: list[bool]) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(body):
        n = rng.randint(1, max(1, min(len(body) - pos, rng.choice([1, 7, 100, 5000, 70000]))))
        size = b"%x" % n
        if rng.random() < 0.1:
            size = size.upper()
        if rng.random() < 0.1:
            size += rng.choice([b";ext", b";a=b", b';q="x y"', b" ;bad", b";\x00"])
            if size.endswith((b" ;bad", b";\x00")):
                valid[0] = False
        if rng.random() < 0.02:
            size = rng.choice(_HOSTILE_NUMBERS)
            valid[0] = False
        out += size + b"\r\n" + body[pos : pos + n] + b"\r\n"
        pos += n
    out += b"0\r\n"
    if rng.random() < 0.2:
        out += rng.choice([b"Trailer-A: 1\r\n", b"Expires: never\r\nX: y\r\n", b"bad trailer\r\n"])
        if out.endswith(b"bad trailer\r\n"):
            valid[0] = False
    out += b"\r\n"
    return bytes(out)


def gen_structured_response(rng: random.Random) -> Case:
    valid = [True]
    # idempotent methods only: the server closes after every case, so a pooled connection
    # is often stale, and only idempotent requests are retried on a fresh one
    method = rng.choice(["GET"] * 8 + ["HEAD", "OPTIONS"])
    version = rng.choice([b"HTTP/1.1"] * 4 + [b"HTTP/1.0"])
    if rng.random() < 0.04:
        version = rng.choice([b"HTTP/2.0", b"HTTP/1.1 ", b"http/1.1", b"HTTP/1.10", b"HTTP/1"])
        valid[0] = False
    status = rng.choice([200] * 6 + [201, 204, 206, 301, 302, 303, 304, 307, 308, 404, 500, 599])
    status_text = b"%d" % status
    if rng.random() < 0.03:
        status_text = rng.choice([b"20", b"2000", b"-200", b"abc", b"099"])
        valid[0] = False
    reason = rng.choice([b"OK", b"", b"Something Else", b"caf\xe9", b"tab\there"])
    if rng.random() < 0.03:
        reason = rng.choice([b"\x01bad", b"nul\x00", b"cr\rx"])
        valid[0] = False
    line = version + b" " + status_text + (b" " + reason if reason or rng.random() < 0.5 else b"")
    interim = b""
    for _ in range(rng.choice([0] * 8 + [1, 2])):
        interim += rng.choice(
            [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"]
        )
    headers = [rng.choice(_HEADER_POOL) for _ in range(rng.randint(0, 5))]
    if rng.random() < 0.02:
        headers += [b"X-Many-%d: v" % i for i in range(rng.choice([100, 127, 300]))]
        if len(headers) > 120:
            valid[0] = False
    if rng.random() < 0.02:
        headers.append(b"X-Long: " + b"a" * rng.choice([1000, 8000, 9000, 70000]))
        if len(headers[-1]) > 8190:
            valid[0] = False
    if rng.random() < 0.05:
        headers.append(
            rng.choice(
                [
                    b"X-Bad\x00: v",
                    b"X-Bad: a\rb",
                    b"X Bad: v",
                    b": empty",
                    b"X-Fold: a\r\n b",
                    b"NoColon",
                ]
            )
        )
        valid[0] = False
    if b"Connection: close" in headers and b"Connection: keep-alive" in headers:
        headers.remove(b"Connection: keep-alive")
    location = None
    if status in (301, 302, 303, 307, 308) and rng.random() < 0.8:
        location = rng.choice(_LOCATIONS)
        headers.append(b"Location: " + location)
    body = _body(rng)
    coding, encoded = _encode(rng, body)
    if coding is not None:
        headers.append(b"Content-Encoding: " + coding)
        if rng.random() < 0.05 and encoded:
            cut = rng.randrange(len(encoded))
            encoded = encoded[:cut] + bytes([encoded[cut] ^ 0x55]) + encoded[cut + 1 :]
            valid[0] = False  # corrupt compressed data (may still decode: expected unknown)
    no_body = method == "HEAD" or status in (204, 304)
    framing = rng.choice(["cl"] * 8 + ["chunked"] * 6 + ["close"] * 2 + ["long", "dup-cl"])
    if rng.random() < 0.1:
        framing = rng.choice(["cl+te", "bad-cl", "short"])
    wire_body = b""
    if framing == "cl":
        headers.append(b"Content-Length: %d" % len(encoded))
        wire_body = encoded
    elif framing == "chunked":
        headers.append(
            rng.choice(
                [
                    b"Transfer-Encoding: chunked",
                    b"Transfer-Encoding: gzip, chunked" if False else b"transfer-encoding: Chunked",
                ]
            )
        )
        wire_body = _chunked(rng, encoded, valid)
    elif framing == "close":
        wire_body = encoded
    elif framing == "cl+te":
        headers += [b"Content-Length: %d" % len(encoded), b"Transfer-Encoding: chunked"]
        wire_body = _chunked(rng, encoded, valid)
        valid[0] = False
    elif framing == "dup-cl":
        headers += [b"Content-Length: %d" % len(encoded)] * 2
        if rng.random() < 0.5:
            headers[-1] = b"Content-Length: %d" % (len(encoded) + 1)
            valid[0] = False
        wire_body = encoded
    elif framing == "bad-cl":
        headers.append(b"Content-Length: " + rng.choice(_HOSTILE_NUMBERS))
        wire_body = encoded
        valid[0] = False
    elif framing == "short":
        headers.append(b"Content-Length: %d" % (len(encoded) + rng.randint(1, 100)))
        wire_body = encoded
        valid[0] = no_body and valid[0]
    else:  # long: more bytes than announced, then garbage
        headers.append(b"Content-Length: %d" % len(encoded))
        wire_body = encoded + rng.choice([b"GARBAGE", b"HTTP/1.1 200 OK\r\n", b"\r\n"])
    rng.shuffle(headers)
    if no_body and framing in ("cl", "close", "short", "long", "dup-cl", "bad-cl"):
        wire_body = b"" if rng.random() < 0.7 else wire_body
    raw = interim + line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + wire_body
    expected = None
    if valid[0] and location is None and status not in (101,):
        expected = (status, b"" if no_body else body)
        if framing == "close" and no_body is False and status in (204, 304):
            expected = None
    return Case("http", raw, "structured", expected, method=method, redirects=location is not None)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(9)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip bits
            i = min(pos, len(buf) - 1)
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a special byte
            buf[pos:pos] = rng.choice(
                [b"\r", b"\n", b"\r\n", b"\x00", b" ", b":", b"\t", b"\xff", b";", b"0"]
            )
        elif op == 2 and buf:  # delete a run
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3 and buf:  # duplicate a run
            run = buf[pos : pos + rng.randint(1, 64)]
            buf[pos:pos] = run
        elif op == 4:  # truncate
            del buf[pos:]
        elif op == 5:  # hostile number over the next digits
            j = pos
            while j < len(buf) and chr(buf[j]).isdigit():
                j += 1
            buf[pos:j] = rng.choice(_HOSTILE_NUMBERS)
        elif op == 6 and buf:  # overwrite with random bytes
            n = rng.randint(1, 8)
            buf[pos : pos + n] = rng.randbytes(n)
        elif op == 7:  # repeat a line
            k = bytes(buf).find(b"\r\n", pos)
            if k >= 0:
                start = bytes(buf).rfind(b"\r\n", 0, k) + 2
                buf[k + 2 : k + 2] = buf[start : k + 2] * rng.randint(1, 50)
        else:  # append random tail
            buf += rng.randbytes(rng.randint(1, 64))
    return bytes(buf)


def gen_http_case(rng: random.Random) -> Case:
    pick = rng.random()
    if pick < 0.15:
        data = rng.randbytes(rng.randint(0, 600))
        if rng.random() < 0.5:
            data = b"HTTP/1.1 200 OK\r\n" + data
        case = Case("http", data, "random")
    elif pick < 0.55:
        base = gen_structured_response(rng)
        case = Case("http", _mutate(rng, base.data), "mutated", method=base.method, redirects=True)
    else:
        case = gen_structured_response(rng)
    if rng.random() < 0.3 and len(case.data) > 1:
        case.cuts = tuple(sorted(rng.sample(range(1, len(case.data)), min(3, len(case.data) - 1))))
    return case


# ----- WebSocket generators -----


def _frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    length: str = "min",
    mask: bool = False,
) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if length == "min":
        length = "7" if n < 126 else "16" if n < 65536 else "64"
    if length == "7" and n < 126:
        head = bytes((first, mbit | n))
    elif length == "16" and n < 65536:
        head = bytes((first, mbit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, mbit | 127)) + n.to_bytes(8, "big")
    if mask:
        key = b"\x11\x22\x33\x44"
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return head + key + payload
    return head + payload


def _deflate_message(data: bytes) -> bytes:
    comp = zlib.compressobj(wbits=-15)
    out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


def gen_structured_frames(rng: random.Random, compress: bool) -> bytes:
    out = bytearray()
    for _ in range(rng.randint(0, 8)):
        kind = rng.choice(
            [
                "text",
                "text",
                "binary",
                "bad-text",
                "ping",
                "pong",
                "frag",
                "close",
                "reserved",
                "rsv",
                "masked",
                "long-control",
                "frag-control",
                "cont",
                "big",
                "length-forms",
                "deflated",
            ]
        )
        text = rng.choice(["hello", "", "héllo ✓", "\U0001f600" * 3, "x" * 300])
        if kind == "text":
            out += _frame(0x1, text.encode())
        elif kind == "binary":
            out += _frame(0x2, rng.randbytes(rng.randint(0, 2000)))
        elif kind == "bad-text":
            out += _frame(
                0x1, rng.choice([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"ok\xf0\x9f", b"\xc0\xaf"])
            )
        elif kind == "ping":
            out += _frame(0x9, rng.randbytes(rng.randint(0, 125)))
        elif kind == "pong":
            out += _frame(0xA, rng.randbytes(rng.randint(0, 20)))
        elif kind == "frag":
            raw = text.encode() or b"x"
            cut = rng.randint(0, len(raw))
            out += _frame(0x1, raw[:cut], fin=False)
            if rng.random() < 0.3:
                out += _frame(0x9, b"mid")
            out += _frame(0x0, raw[cut:])
        elif kind == "close":
            code = rng.choice(
                [
                    1000,
                    1001,
                    1002,
                    1003,
                    1005,
                    1006,
                    1007,
                    1011,
                    1015,
                    999,
                    2999,
                    3000,
                    4999,
                    5000,
                    0,
                ]
            )
            reason = rng.choice([b"", b"bye", b"\xff", b"r" * 130])
            payload = (
                code.to_bytes(2, "big") + reason
                if rng.random() < 0.9
                else rng.choice([b"", b"\x03"])
            )
            out += _frame(0x8, payload[:125] if rng.random() < 0.8 else payload)
        elif kind == "reserved":
            out += _frame(rng.choice([0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xF]), b"r")
        elif kind == "rsv":
            out += _frame(0x1, b"x", rsv=rng.choice([0x10, 0x20, 0x40, 0x70]))
        elif kind == "masked":
            out += _frame(0x1, b"masked", mask=True)
        elif kind == "long-control":
            out += _frame(rng.choice([0x8, 0x9, 0xA]), b"c" * rng.choice([126, 200]))
        elif kind == "frag-control":
            out += _frame(0x9, b"p", fin=False)
        elif kind == "cont":
            out += _frame(0x0, b"orphan")
        elif kind == "big":
            out += _frame(0x2, bytes(rng.choice([65536, 70000, 200_000])))
        elif kind == "length-forms":
            out += _frame(0x2, b"abc", length=rng.choice(["16", "64"]))
            if rng.random() < 0.3:
                out += bytes((0x82, 127)) + rng.choice([(1 << 63), (1 << 62), 2**40]).to_bytes(
                    8, "big"
                )
        else:  # deflated
            msg = text.encode() * rng.randint(1, 50)
            data = _deflate_message(msg)
            if rng.random() < 0.1:
                data = rng.randbytes(len(data))
            out += _frame(0x1, data, rsv=0x40 if compress or rng.random() < 0.3 else 0)
    if rng.random() < 0.2 and out:
        out = out[: rng.randrange(len(out))]
    return bytes(out)


def gen_valid_frames(rng: random.Random, compress: bool) -> tuple[bytes, list[list[Any]]]:
    """Well-formed frames and the messages they must produce (pings and pongs are
    answered or absorbed by ``autoping``; a CLOSE ends the conversation)."""
    out = bytearray()
    expected: list[list[Any]] = []
    for _ in range(rng.randint(0, 6)):
        kind = rng.choice(["text", "binary", "ping", "pong", "frag", "deflated"])
        text = rng.choice(["hello", "", "héllo ✓", "\U0001f600" * 3, "y" * 300])
        raw = text.encode()
        if kind == "text":
            out += _frame(0x1, raw, length=rng.choice(["min", "min", "16", "64"]))
            expected.append(["TEXT", text])
        elif kind == "binary":
            data = rng.randbytes(rng.randint(0, 3000))
            out += _frame(0x2, data)
            expected.append(["BINARY", data.hex()])
        elif kind == "ping":
            out += _frame(0x9, rng.randbytes(rng.randint(0, 125)))
        elif kind == "pong":
            out += _frame(0xA, rng.randbytes(rng.randint(0, 20)))
        elif kind == "frag":
            pieces = sorted(rng.sample(range(len(raw) + 1), min(2, len(raw) + 1)))
            parts = [raw[: pieces[0]], raw[pieces[0] : pieces[-1]], raw[pieces[-1] :]]
            for i, part in enumerate(parts):
                out += _frame(0x1 if i == 0 else 0x0, part, fin=i == len(parts) - 1)
                if i < len(parts) - 1 and rng.random() < 0.3:
                    out += _frame(0x9, b"between")
            expected.append(["TEXT", text])
        elif compress:  # deflated
            msg = raw * rng.randint(1, 50)
            out += _frame(0x1, _deflate_message(msg), rsv=0x40)
            expected.append(["TEXT", msg.decode()])
    if rng.random() < 0.5:
        code = rng.choice([1000, 1001, 1003, 1008, 1011, 3000, 4999])
        out += _frame(0x8, code.to_bytes(2, "big") + rng.choice([b"", b"bye", "ç".encode()]))
        expected.append(["CLOSE", code])
    else:
        expected.append(["CLOSED", None])
    return bytes(out), expected


def gen_ws_case(rng: random.Random) -> Case:
    compress = rng.choice([0, 0, 15])
    pick = rng.random()
    if pick < 0.25:
        frames, expected = gen_valid_frames(rng, bool(compress))
        case = Case("ws", frames, "structured", ws_compress=compress, ws_expected=expected)
        if rng.random() < 0.3 and len(frames) > 1:
            case.cuts = tuple(sorted(rng.sample(range(1, len(frames)), min(3, len(frames) - 1))))
        return case
    if pick < 0.35:
        frames, origin = rng.randbytes(rng.randint(0, 400)), "random"
    elif pick < 0.5:
        frames, origin = (
            _mutate(rng, gen_structured_frames(rng, bool(compress)) or b"\x81\x00"),
            "mutated",
        )
    else:
        frames, origin = gen_structured_frames(rng, bool(compress)), "structured"
    head = rng.choice(
        [""] * 12
        + ["bad-accept", "no-upgrade", "status-200", "bad-extension", "garbage", "protocol"]
    )
    case = Case("ws", frames, origin, ws_head=head, ws_compress=compress)
    if rng.random() < 0.3 and len(frames) > 1:
        case.cuts = tuple(sorted(rng.sample(range(1, len(frames)), min(3, len(frames) - 1))))
    return case


# ----- the server -----


def _ws_head(key: bytes, case: Case) -> bytes:
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    lines = [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade"]
    spoil = case.ws_head
    if spoil == "bad-accept":
        accept = base64.b64encode(b"0" * 20)
    if spoil == "no-upgrade":
        lines.remove(b"Upgrade: websocket")
    if spoil == "status-200":
        lines[0] = b"HTTP/1.1 200 OK"
    if spoil == "garbage":
        return b"HTTP/1.1 101 Switching\x00Protocols\r\n\r\n"
    if spoil == "protocol":
        lines.append(b"Sec-WebSocket-Protocol: never-offered")
    lines.append(b"Sec-WebSocket-Accept: " + accept)
    if case.ws_compress or spoil == "bad-extension":
        ext = (
            b"permessage-deflate"
            if spoil != "bad-extension"
            else b"permessage-deflate; server_max_window_bits=99"
        )
        lines.append(b"Sec-WebSocket-Extensions: " + ext)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class FuzzServer:
    """Serves ``/c/<id>`` with the bytes of case ``id`` (then closes); anything else gets a
    small 200 (the target of fuzzed redirects)."""

    def __init__(self) -> None:
        self.cases: dict[int, Case] = {}
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    # read the request body: closing on unread bytes would be an RST
                    await reader.readexactly(int(line[15:]))
            target = head.split(b" ", 2)[1]
            case = None
            if target.startswith(b"/c/"):
                case = self.cases.get(int(target[3:].split(b"?")[0]))
            if case is None:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%b"
                    % (len(_REDIRECT_TARGET), _REDIRECT_TARGET)
                )
                await writer.drain()
                return
            data = case.data
            if case.kind == "ws":
                key = b""
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"sec-websocket-key:"):
                        key = line.split(b":", 1)[1].strip()
                writer.write(_ws_head(key, case))
            start = 0
            for cut in case.cuts:
                writer.write(data[start:cut])
                await writer.drain()
                await asyncio.sleep(0.001)
                start = cut
            writer.write(data[start:])
            await writer.drain()
            if case.kind == "ws":
                # half-close, then read what the client still sends (PONGs, its CLOSE) until
                # it hangs up: closing on unread bytes would turn our FIN into an RST
                writer.write_eof()
                await asyncio.wait_for(reader.read(), CASE_TIMEOUT)
        except (
            OSError,  # ConnectionError, ENOTCONN from write_eof() after the peer left
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            IndexError,
        ):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


class GuardedConnector(TCPConnector):
    """Connects to the fuzz server only: a fuzzed redirect may name any host."""

    def __init__(self, port: int, **kw: Any) -> None:
        super().__init__(**kw)
        self._only_port = port

    async def _create_connection(self, req: Any, timeout: Any = None) -> Any:
        key = req.connection_key
        if key.host != "127.0.0.1" or key.port != self._only_port or key.is_ssl:
            raise ClientConnectorError(
                key, OSError(1, "the fuzz harness connects to its server only")
            )
        return await super()._create_connection(req, timeout)


# ----- running cases -----


@dataclass
class Failure:
    case: Case
    error: str
    trace: str


@dataclass
class Report:
    cases: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    checked_bodies: int = 0
    checked_messages: int = 0

    def count(self, name: str) -> None:
        self.outcomes[name] = self.outcomes.get(name, 0) + 1


async def _run_http(session: ClientSession, url: str, case: Case, report: Report) -> None:
    timeout = ClientTimeout(total=CASE_TIMEOUT)
    async with session.request(
        case.method,
        url,
        timeout=timeout,
        allow_redirects=case.redirects,
        max_redirects=2,
    ) as resp:
        body = await resp.read()
        if case.expected is not None:
            status, expected = case.expected
            if resp.status != status or body != expected:
                raise AssertionError(
                    f"wrong answer: status {resp.status} (expected {status}), "
                    f"body {len(body)} bytes {body[:40]!r} (expected {len(expected)} bytes)"
                )
            report.checked_bodies += 1
    report.count(f"ok {resp.status // 100}xx")


async def _run_ws(session: ClientSession, url: str, case: Case, report: Report) -> None:
    ws = await session.ws_connect(
        url,
        compress=case.ws_compress,
        max_msg_size=100_000,
        timeout=ClientWSTimeout(ws_close=2),
    )
    got: list[list[Any]] = []
    try:
        for _ in range(50):
            msg = await ws.receive(timeout=CASE_TIMEOUT)
            if msg.type in (WSMsgType.CLOSED, WSMsgType.ERROR, WSMsgType.CLOSE):
                report.count(f"ws {msg.type.name}")
                got.append([msg.type.name, msg.data if msg.type is WSMsgType.CLOSE else None])
                break
            data = msg.data.hex() if isinstance(msg.data, bytes) else msg.data
            got.append([msg.type.name, data])
        else:
            report.count("ws many messages")
    finally:
        await ws.close()
    if case.ws_expected is not None:
        if got != case.ws_expected:
            raise AssertionError(f"wrong messages: {got!r:.300} != {case.ws_expected!r:.300}")
        report.checked_messages += 1


async def run_one(
    session: ClientSession, server: FuzzServer, ident: int, case: Case, report: Report
) -> None:
    """Run one case; anything but success or a ClientError is recorded as a failure."""
    server.cases[ident] = case
    url = f"http://127.0.0.1:{server.port}/c/{ident}"
    try:
        if case.kind == "http":
            await _run_http(session, url, case, report)
        else:
            await _run_ws(session, url, case, report)
    except cyhttp.ServerTimeoutError as exc:
        # every case ends with the server closing: waiting out the timeout is a hang
        report.failures.append(Failure(case, f"hang: {exc!r}", traceback.format_exc()))
    except cyhttp.ClientError as exc:
        if case.expected is not None or case.ws_expected is not None:
            # a well-formed response (or frame stream) must not be refused
            report.failures.append(Failure(case, f"refused: {exc!r}", traceback.format_exc()))
        else:
            report.count(type(exc).__name__)
    except Exception as exc:
        report.failures.append(Failure(case, repr(exc), traceback.format_exc()))
    finally:
        server.cases.pop(ident, None)
        report.cases += 1


@dataclass
class Campaign:
    seed: int = 1
    count: int = 1000
    ws_share: float = 0.3
    concurrency: int = 8
    seconds: float | None = None  # stop early after this long
    extra: list[Case] = field(default_factory=list)  # run first (regressions)


async def run_campaign(campaign: Campaign) -> Report:
    """Run the campaign's cases against a fresh server and session; check the pool at the
    end (nothing acquired, nothing left running)."""
    rng = random.Random(campaign.seed)
    report = Report()
    server = FuzzServer()
    await server.start()
    started = time.monotonic()
    try:
        # Cases with a known answer get a connection of their own: on a shared keep-alive
        # connection, bytes a broken server sends late after one response would become the
        # start of the next one (HTTP/1.1 cannot tell them apart), so that answer could not
        # be checked. Every other case shares a pool, which is fuzzed along the way.
        connector = GuardedConnector(server.port, limit=campaign.concurrency)
        fresh_connector = GuardedConnector(server.port, force_close=True)
        async with (
            ClientSession(connector=connector) as session,
            ClientSession(connector=fresh_connector) as fresh,
        ):
            queue: asyncio.Queue[tuple[int, Case] | None] = asyncio.Queue(
                maxsize=campaign.concurrency * 2
            )

            async def worker() -> None:
                while (item := await queue.get()) is not None:
                    ident, case = item
                    checked = case.expected is not None or case.ws_expected is not None
                    use = fresh if checked else session
                    await run_one(use, server, ident, case, report)

            workers = [asyncio.ensure_future(worker()) for _ in range(campaign.concurrency)]
            ident = 0
            for case in campaign.extra:
                ident += 1
                await queue.put((ident, case))
            for _ in range(campaign.count):
                if campaign.seconds is not None and time.monotonic() - started > campaign.seconds:
                    break
                ident += 1
                case = gen_ws_case(rng) if rng.random() < campaign.ws_share else gen_http_case(rng)
                await queue.put((ident, case))
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
            for pool in (connector, fresh_connector):
                if pool._acquired:
                    left = f"{len(pool._acquired)} connections left acquired"
                    report.failures.append(Failure(Case("http", b"", "pool"), left, ""))
                if sum(len(conns) for conns in pool._conns.values()) > campaign.concurrency:
                    report.failures.append(
                        Failure(Case("http", b"", "pool"), "pool over limit", "")
                    )
    finally:
        await server.close()
    return report


# ----- command line -----


def _save(failures: list[Failure], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for failure in failures:
        digest = hashlib.sha1(failure.case.to_json().encode()).hexdigest()[:12]
        path = directory / f"crash-{digest}.json"
        path.write_text(
            json.dumps(
                {"case": failure.case.to_json(), "error": failure.error, "trace": failure.trace},
                indent=1,
            )
        )
        print(f"  saved {path}: {failure.error}")


def _harness(args: argparse.Namespace) -> int:
    campaign = Campaign(
        seed=args.seed, count=args.count, concurrency=args.concurrency, seconds=args.seconds
    )
    started = time.monotonic()
    report = asyncio.run(run_campaign(campaign))
    took = time.monotonic() - started
    impl = "pure-Python" if NO_EXTENSIONS else "compiled"
    print(f"implementation: {impl}")
    print(f"{report.cases} cases in {took:.1f} s (seed {args.seed})")
    print(f"bodies checked against the expected answer: {report.checked_bodies}")
    print(f"websocket conversations checked message by message: {report.checked_messages}")
    for name, n in sorted(report.outcomes.items(), key=lambda kv: -kv[1]):
        print(f"  {n:8d}  {name}")
    if report.failures:
        print(f"{len(report.failures)} FAILURES")
        _save(report.failures, Path(args.crash_dir))
        return 1
    print("no failures")
    return 0


def _atheris(args: argparse.Namespace) -> int:
    import atheris  # type: ignore[import-not-found]

    loop = asyncio.new_event_loop()
    server = FuzzServer()
    loop.run_until_complete(server.start())
    connector = GuardedConnector(server.port, limit=4)
    session = ClientSession(connector=connector)
    counter = [0]

    def one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        kind = "ws" if fdp.ConsumeBool() else "http"
        case = Case(kind, fdp.ConsumeBytes(fdp.remaining_bytes()), "atheris", redirects=False)
        report = Report()
        counter[0] += 1
        loop.run_until_complete(run_one(session, server, counter[0], case, report))
        if report.failures:
            _save(report.failures, Path(args.crash_dir))
            raise RuntimeError(report.failures[0].error)

    corpus = Path(args.corpus)
    if not corpus.is_dir() or not any(corpus.iterdir()):
        # seed inputs: structured cases (first byte even: http, odd: ws frames)
        corpus.mkdir(parents=True, exist_ok=True)
        rng = random.Random(args.seed)
        for i in range(200):
            case = gen_structured_response(rng)
            (corpus / f"seed-http-{i}").write_bytes(b"\x00" + case.data[:65000])
            frames = gen_structured_frames(rng, False)
            (corpus / f"seed-ws-{i}").write_bytes(b"\x01" + frames[:65000])
    argv = [sys.argv[0], str(corpus), f"-runs={args.count}", f"-seed={args.seed}", "-max_len=65536"]
    if args.seconds:
        argv.append(f"-max_total_time={int(args.seconds)}")
    atheris.instrument_all()  # coverage of the already imported (pure-Python) code
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--engine", choices=["auto", "harness", "atheris"], default="auto")
    parser.add_argument("--crash-dir", default="fuzz-crashes")
    parser.add_argument(
        "--corpus", default="fuzz-corpus", help="atheris: corpus directory (seeded if empty)"
    )
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            engine = "harness"
        else:
            engine = "atheris"
    print(f"engine: {engine}")
    return _atheris(args) if engine == "atheris" else _harness(args)


if __name__ == "__main__":
    sys.exit(main())
