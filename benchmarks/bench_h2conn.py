"""HTTP/2 connection micro-benchmark: cyhttp's H2Connection (compiled, pure) beside the
``h2`` package's, each as a client with no I/O.

``python -m benchmarks.bench_h2conn [--quick]`` prints a table; ``run(quick)`` returns the
rows. Three operations, each timed over a batch on a connection prepared beforehand (the
preparation is not timed):

* ``receive DATA 16K``: one 16 KiB DATA frame of an open response goes in; the body bytes
  are acknowledged at once and the queued output (window updates) taken, as a reader does;
* ``receive response head``: a 9-field response HEADERS frame that ends its stream, on a
  stream opened beforehand (the HPACK table warm, as on a busy connection);
* ``send_request GET``: a small GET with six fields is opened and its bytes taken.

The last two open at most 100 streams per connection (a batch uses several connections),
as a server's usual SETTINGS_MAX_CONCURRENT_STREAMS would have it.

Every peer gets the same bytes (written by cyhttp's pure codecs acting as the server) and
the first batch of each is checked: a peer that answers wrongly gives no result. Peers
run in alternating rounds so that a noisy neighbour hits all alike. ``value`` is the median
time per operation in microseconds; ``spread`` is (max - min) / median.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks import microtime
from benchmarks.microtime import missing_row, table, timed_row

BODY = b"x" * 16384
RESPONSE = [
    (b":status", b"200"),
    (b"date", b"Sun, 06 Dec 2026 10:46:18 GMT"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"x-request-id", b"5f3a1b2c-4d2e-11ef"),
    (b"server", b"nginx/1.25.3"),
    (b"cache-control", b"private, max-age=0"),
    (b"etag", b'"5f3a1b2c-4d2"'),
    (b"vary", b"Accept-Encoding"),
    (b"last-modified", b"Sat, 05 Dec 2026 08:00:00 GMT"),
]
REQUEST = [
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/api/items?page=2"),
    ("user-agent", "cyhttp"),
    ("accept", "*/*"),
]
BENCHES = ("receive DATA 16K", "receive response head", "send_request GET")
#: streams opened on one connection at most (a usual SETTINGS_MAX_CONCURRENT_STREAMS): a
#: batch larger than that runs on several connections, so that no peer pays for thousands
#: of open streams
STREAMS_PER_CONNECTION = 100

#: a prepared batch: run() performs the batch's operations; check() says whether the
#: peer answered right (called once, after the first run)
Batch = tuple[Callable[[], None], Callable[[], bool]]
Prepare = Callable[[int], Batch]


class _Wire:
    """What the server sends, written by cyhttp's pure codecs."""

    def __init__(self) -> None:
        from cyhttp import _h2frames_py as frames
        from cyhttp import _hpack_py
        from cyhttp._h2_models import DataFrame, HeadersFrame, SettingsFrame

        self.frames, self.headers_frame = frames, HeadersFrame
        self.hello = frames.serialize(SettingsFrame(((3, 1 << 20),))) + frames.serialize(
            SettingsFrame(ack=True)
        )
        self.data = frames.serialize(DataFrame(1, BODY))
        self.encoder_class = _hpack_py.Encoder

    def heads(self, count: int, end_stream: bool) -> list[bytes]:
        """HEADERS frames of the response for streams 1, 3, 5... (one encoder, in order)."""
        encoder = self.encoder_class()
        return [
            self.frames.serialize(
                self.headers_frame(2 * i + 1, encoder.encode(RESPONSE), end_stream)
            )
            for i in range(count)
        ]


def _chunks(count: int) -> list[int]:
    """``count`` operations split into connections of STREAMS_PER_CONNECTION streams."""
    full, rest = divmod(count, STREAMS_PER_CONNECTION)
    return [STREAMS_PER_CONNECTION] * full + ([rest] if rest else [])


# -- cyhttp --------------------------------------------------------------------------------


def _ours(cls: type, wire: _Wire) -> dict[str, Prepare]:
    def connection() -> Any:
        conn = cls()
        conn.initiate()
        conn.receive_data(wire.hello)
        conn.data_to_send()
        return conn

    def data(count: int) -> Batch:
        conn = connection()
        conn.send_request(REQUEST, end_stream=True)
        conn.receive_data(wire.heads(1, False)[0])
        conn.data_to_send()
        got: list[Any] = []
        frame, receive, ack, out = (
            wire.data,
            conn.receive_data,
            conn.acknowledge_received_data,
            (conn.data_to_send),
        )

        def run() -> None:
            for _ in range(count):
                events = receive(frame)
                ack(1, 16384)
                out()
            got.append(events)

        return run, lambda: [(e.stream_id, len(e.data)) for e in got[0]] == [(1, 16384)]

    def head(count: int) -> Batch:
        batches = []
        for size in _chunks(count):
            conn = connection()
            for _ in range(size):
                conn.send_request(REQUEST, end_stream=True)
            conn.data_to_send()
            batches.append((conn.receive_data, wire.heads(size, True)))
        got: list[Any] = []

        def run() -> None:
            for receive, frames in batches:
                for frame in frames:
                    events = receive(frame)
            got.append(events)

        def check() -> bool:
            head_event, end = got[0]
            fields = [(b":status", str(head_event.status).encode()), *head_event.headers]
            last = 2 * len(batches[-1][1]) - 1
            return fields == RESPONSE and end.stream_id == head_event.stream_id == last

        return run, check

    def request(count: int) -> Batch:
        batches = []
        for size in _chunks(count):
            conn = connection()
            batches.append((conn.send_request, conn.data_to_send, size))
        got: list[Any] = []

        def run() -> None:
            for send, out, size in batches:
                for _ in range(size):
                    sid = send(REQUEST, True)
                    wrote = out()
            got.append((sid, wrote))

        return run, lambda: got[0][0] == 2 * batches[-1][2] - 1 and len(got[0][1]) > 9

    return dict(zip(BENCHES, (data, head, request), strict=True))


# -- the h2 package -------------------------------------------------------------------------


def _h2_package(wire: _Wire) -> dict[str, Prepare]:
    import h2.config
    import h2.connection
    import h2.events

    config = h2.config.H2Configuration(client_side=True, header_encoding=None)

    def connection() -> Any:
        conn = h2.connection.H2Connection(config=config)
        conn.initiate_connection()
        conn.receive_data(wire.hello)
        conn.data_to_send()
        return conn

    def data(count: int) -> Batch:
        conn = connection()
        conn.send_headers(1, REQUEST, end_stream=True)
        conn.receive_data(wire.heads(1, False)[0])
        conn.data_to_send()
        got: list[Any] = []
        frame, receive, ack, out = (
            wire.data,
            conn.receive_data,
            conn.acknowledge_received_data,
            (conn.data_to_send),
        )

        def run() -> None:
            for _ in range(count):
                events = receive(frame)
                ack(16384, 1)
                out()
            got.append(events)

        def check() -> bool:
            return [(type(e), e.stream_id, len(e.data)) for e in got[0]] == [
                (h2.events.DataReceived, 1, 16384)
            ]

        return run, check

    def head(count: int) -> Batch:
        batches = []
        for size in _chunks(count):
            conn = connection()
            for i in range(size):
                conn.send_headers(2 * i + 1, REQUEST, end_stream=True)
            conn.data_to_send()
            batches.append((conn.receive_data, wire.heads(size, True)))
        got: list[Any] = []

        def run() -> None:
            for receive, frames in batches:
                for frame in frames:
                    events = receive(frame)
            got.append(events)

        def check() -> bool:
            response, ended = got[0][0], got[0][-1]
            return (
                isinstance(response, h2.events.ResponseReceived)
                and list(response.headers) == RESPONSE
                and isinstance(ended, h2.events.StreamEnded)
                and ended.stream_id == 2 * len(batches[-1][1]) - 1
            )

        return run, check

    def request(count: int) -> Batch:
        batches = []
        for size in _chunks(count):
            conn = connection()
            batches.append(
                (conn.send_headers, conn.get_next_available_stream_id, conn.data_to_send, size)
            )
        got: list[Any] = []

        def run() -> None:
            for send, next_id, out, size in batches:
                for _ in range(size):
                    sid = next_id()
                    send(sid, REQUEST, end_stream=True)
                    wrote = out()
            got.append((sid, wrote))

        return run, lambda: got[0][0] == 2 * batches[-1][3] - 1 and len(got[0][1]) > 9

    return dict(zip(BENCHES, (data, head, request), strict=True))


# -- measuring -------------------------------------------------------------------------------


def _peers() -> list[tuple[str, dict[str, Prepare] | None, str]]:
    """(impl name, bench name -> preparation, or None with the reason it is missing)."""
    from cyhttp import h2_connection, h2_frames, hpack

    wire = _Wire()
    peers: list[tuple[str, dict[str, Prepare] | None, str]] = []
    compiled = h2_connection.h2connection_c
    if compiled is not None and h2_frames.h2frames_c is not None and hpack.hpack_c is not None:

        class Compiled(compiled.H2Connection):  # type: ignore[misc,name-defined]
            frame_codec = h2_frames.h2frames_c
            hpack_codec = hpack.hpack_c

        peers.append(("cyhttp compiled", _ours(Compiled, wire), ""))
    else:
        peers.append(("cyhttp compiled", None, "cyhttp's compiled HTTP/2 modules are not built"))

    class Pure(h2_connection.h2connection_py.H2Connection):
        frame_codec = h2_frames.h2frames_py
        hpack_codec = hpack.hpack_py

    peers.append(("cyhttp pure", _ours(Pure, wire), ""))
    try:
        peers.append(("h2", _h2_package(wire), ""))
    except ImportError as exc:
        peers.append(("h2", None, f"pip install h2 ({exc})"))
    return peers


def _time(prepare: Prepare, count: int) -> float:
    """Seconds per operation over one freshly prepared batch of ``count``."""
    run, _ = prepare(count)
    t0 = time.perf_counter()
    run()
    return (time.perf_counter() - t0) / count


def _check(name: str, bench: str, prepare: Prepare) -> None:
    run, check = prepare(4)
    run()
    if not check():
        raise AssertionError(f"{name} answers {bench} wrongly")


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure every peer on every bench; one row per (bench, peer)."""
    rounds = 5 if quick else 11
    count = 200 if quick else 2000
    peers = _peers()
    rows: list[dict[str, Any]] = []
    for bench in BENCHES:
        live = []
        for name, benches, why in peers:
            if benches is None:
                rows.append(missing_row(bench, name, why))
                continue
            _check(name, bench, benches[bench])
            live.append((name, benches[bench]))
        times: dict[str, list[float]] = {name: [] for name, _ in live}
        for _ in range(rounds):
            for name, prepare in live:
                times[name].append(_time(prepare, count) * 1e6)
        rows += [timed_row(bench, name, times[name]) for name, _ in live]
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    return table(rows, "h2", "us/op", width=22)


def main() -> None:
    microtime.main(__doc__, run, _table)


if __name__ == "__main__":
    main()
