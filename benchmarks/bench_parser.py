"""HTTP/1.1 response parsing speed: cyhttp (compiled, pure) beside aiohttp and httptools.

``python -m benchmarks.bench_parser [--quick]`` prints a table; ``run(quick)`` returns the
rows for ``python -m benchmarks``. Workloads:

- ``parser 9-header``: a typical keep-alive response, 9 header fields, 13-byte body, fed one
  message per ``feed_data`` call into one long-lived parser (a client's keep-alive loop);
- ``parser 100-header``: the same with 100 header fields;
- ``parser 1MiB chunked``: a 1 MiB body in 16 KiB chunks, fed in 64 KiB reads.

Fairness: aiohttp's parsers always build the ``CIMultiDictProxy`` of headers and a
``StreamReader`` per message, so the cyhttp sink touches ``head.headers`` too (the lazily
built multidict is built) and counts the body bytes; httptools hands out raw name/value
pairs, which its callbacks keep in a list (what a client on httptools does). Each peer is
measured in alternating rounds (A B C D E A B ...); ``value`` is the median of the rounds
(messages/s, or MB/s = 10^6 bytes/s for the chunked body), ``spread`` is
(max - min) / median. Time is this process's CPU time (``time.process_time``), so that
other processes on a busy machine do not count against whichever peer they interrupt.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

CRLF = b"\r\n"


def _response(nheaders: int, body: bytes) -> bytes:
    common = [
        b"Date: Sat, 21 Nov 2026 08:00:00 GMT",
        b"Server: nginx/1.25.3",
        b"Content-Type: text/plain; charset=utf-8",
        b"Connection: keep-alive",
        b"Cache-Control: no-cache, no-store, must-revalidate",
        b"X-Request-Id: 7f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
        b"Vary: Accept-Encoding",
        b"Access-Control-Allow-Origin: *",
    ]
    lines = common[: nheaders - 1]
    extra = range(nheaders - 1 - len(lines))
    lines += [b"X-Extra-%03d: value-%03d-abcdefghij" % (i, i) for i in extra]
    lines.append(b"Content-Length: %d" % len(body))
    return b"HTTP/1.1 200 OK\r\n" + CRLF.join(lines) + b"\r\n\r\n" + body


def _chunked(size: int, chunk: int, read: int) -> list[bytes]:
    body = bytes(range(256)) * (size // 256)
    parts = [
        b"HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 08:00:00 GMT\r\n"
        b"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    ]
    for i in range(0, size, chunk):
        piece = body[i : i + chunk]
        parts.append(b"%x\r\n" % len(piece) + piece + CRLF)
    parts.append(b"0\r\n\r\n")
    stream = b"".join(parts)
    return [stream[i : i + read] for i in range(0, len(stream), read)]


NINE = [_response(9, b"Hello, World!")]
HUNDRED = [_response(100, b"Hello, World!")]
MIB = 1024 * 1024
CHUNKED = _chunked(MIB, 16 * 1024, 64 * 1024)

#: (bench name, feeds of one message, unit, units per message)
WORKLOADS: list[tuple[str, list[bytes], str, float]] = [
    ("parser 9-header", NINE, "msg/s", 1.0),
    ("parser 100-header", HUNDRED, "msg/s", 1.0),
    ("parser 1MiB chunked", CHUNKED, "MB/s", MIB / 1e6),
]

Driver = Callable[[], None]

#: CPU time of this process: parsing is single-threaded and CPU-bound, and on a shared
#: machine wall-clock time also counts the moments another process held the core.
_clock = time.process_time


class _CyhttpSink:
    __slots__ = ("done", "head", "nbody")

    def __init__(self) -> None:
        self.head: Any = None
        self.nbody = 0
        self.done = 0

    def on_informational(self, head: Any) -> None:
        pass

    def on_headers(self, head: Any) -> None:
        head.headers  # noqa: B018  (fairness: aiohttp always builds its multidict)
        self.head = head

    def on_body(self, data: bytes) -> None:
        self.nbody += len(data)

    def on_chunk_end(self) -> None:
        pass

    def on_message_complete(self) -> None:
        self.done += 1


def _cyhttp(parser_cls: Any) -> Callable[[list[bytes]], Driver]:
    def make(feeds: list[bytes]) -> Driver:
        sink = _CyhttpSink()
        parser = parser_cls(sink)
        feed = parser.feed_data
        set_method = parser.set_request_method

        def one() -> None:
            set_method("GET")
            for data in feeds:
                feed(data)

        one()
        assert sink.done == 1 and sink.head.status == 200
        return one

    return make


def _aiohttp(parser_cls: Any) -> Callable[[list[bytes]], Driver]:
    from aiohttp.base_protocol import BaseProtocol

    def make(feeds: list[bytes]) -> Driver:
        loop = asyncio.new_event_loop()
        protocol = BaseProtocol(loop)
        # a limit above the body size: no flow control (pause_reading) in a micro-benchmark
        parser = parser_cls(protocol, loop, 2**30, max_line_size=8190, max_field_size=8190)
        protocol._parser = parser
        feed = parser.feed_data
        box: list[Any] = []

        def one() -> None:
            for data in feeds:
                messages, _upgraded, _tail = feed(data)
                if messages:
                    box.append(messages[0])

        one()
        msg, payload = box.pop()
        assert msg.code == 200 and payload.is_eof(), (msg, payload)
        box.clear()

        def steady() -> None:
            one()
            box.clear()

        loop.close()  # the parser never schedules anything on it
        return steady

    return make


def _httptools() -> Callable[[list[bytes]], Driver]:
    import httptools

    class Proto:
        __slots__ = ("done", "headers", "nbody")

        def __init__(self) -> None:
            self.headers: list[tuple[bytes, bytes]] = []
            self.nbody = 0
            self.done = 0

        def on_message_begin(self) -> None:
            self.headers = []

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append((name, value))

        def on_body(self, data: bytes) -> None:
            self.nbody += len(data)

        def on_message_complete(self) -> None:
            self.done += 1

    def make(feeds: list[bytes]) -> Driver:
        proto = Proto()
        parser = httptools.HttpResponseParser(proto)
        feed = parser.feed_data

        def one() -> None:
            for data in feeds:
                feed(data)

        one()
        assert proto.done == 1 and parser.get_status_code() == 200
        return one

    return make


def _peers() -> list[tuple[str, Callable[[list[bytes]], Driver] | None, str]]:
    """(impl name, driver factory or None, why it is missing)."""
    from cyhttp import http_parser

    peers: list[tuple[str, Callable[[list[bytes]], Driver] | None, str]] = []
    compiled = http_parser.HttpResponseParserC
    peers.append(
        ("cyhttp compiled", _cyhttp(compiled) if compiled else None, "cyhttp._parser not built")
    )
    peers.append(("cyhttp pure", _cyhttp(http_parser.HttpResponseParserPy), ""))
    try:
        from aiohttp._http_parser import HttpResponseParser as AioC

        peers.append(("aiohttp compiled", _aiohttp(AioC), ""))
    except ImportError as exc:
        peers.append(("aiohttp compiled", None, f"aiohttp._http_parser: {exc}"))
    try:
        from aiohttp.http_parser import HttpResponseParserPy as AioPy

        peers.append(("aiohttp pure", _aiohttp(AioPy), ""))
    except ImportError as exc:
        peers.append(("aiohttp pure", None, f"aiohttp.http_parser: {exc}"))
    try:
        peers.append(("httptools", _httptools(), ""))
    except ImportError as exc:
        peers.append(("httptools", None, f"httptools: {exc}"))
    return peers


def _calibrate(fn: Driver, target: float) -> int:
    loops = 1
    while True:
        t0 = _clock()
        for _ in range(loops):
            fn()
        elapsed = _clock() - t0
        if elapsed >= target / 4 or loops >= 1 << 22:
            return max(1, int(loops * target / max(elapsed, 1e-9)))
        loops *= 4


def _sample(fn: Driver, loops: int) -> float:
    t0 = _clock()
    for _ in range(loops):
        fn()
    return _clock() - t0


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure every peer on every workload; one row per (workload, peer)."""
    rounds = 5 if quick else 11
    target = 0.02 if quick else 0.1
    rows: list[dict[str, Any]] = []
    peers = _peers()
    for bench, feeds, unit, per_msg in WORKLOADS:
        live: list[tuple[str, Driver, int]] = []
        for name, factory, why in peers:
            if factory is None:
                rows.append(
                    {
                        "bench": bench,
                        "impl": name,
                        "value": None,
                        "unit": unit,
                        "spread": None,
                        "error": why,
                    }
                )
                continue
            try:
                fn = factory(feeds)
                live.append((name, fn, _calibrate(fn, target)))
            except Exception as exc:  # one broken peer never stops the run
                rows.append(
                    {
                        "bench": bench,
                        "impl": name,
                        "value": None,
                        "unit": unit,
                        "spread": None,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
        rates: dict[str, list[float]] = {name: [] for name, _, _ in live}
        for _ in range(rounds):
            for name, fn, loops in live:
                rates[name].append(loops * per_msg / _sample(fn, loops))
        for name, _, _ in live:
            values = rates[name]
            median = statistics.median(values)
            rows.append(
                {
                    "bench": bench,
                    "impl": name,
                    "value": round(median, 1),
                    "unit": unit,
                    "spread": round((max(values) - min(values)) / median, 3),
                }
            )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table with each peer's ratio to cyhttp compiled."""
    ref = {r["bench"]: r["value"] for r in rows if r["impl"] == "cyhttp compiled"}
    out = [f"{'bench':<22}{'impl':<18}{'value':>14} {'unit':<6}{'spread':>8}{'vs compiled':>13}"]
    for r in rows:
        if r["value"] is None:
            out.append(f"{r['bench']:<22}{r['impl']:<18}{'n/a':>14}  {r.get('error', '')}")
            continue
        base = ref.get(r["bench"])
        ratio = f"{r['value'] / base:.2f}x" if base else "-"
        out.append(
            f"{r['bench']:<22}{r['impl']:<18}{r['value']:>14,.1f} {r['unit']:<6}"
            f"{r['spread'] * 100:>7.1f}%{ratio:>13}"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = ap.parse_args()
    print(format_table(run(quick=args.quick)))


if __name__ == "__main__":
    main()
