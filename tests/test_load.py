"""Load and leaks: many requests through one pool (limit 100) against a server running in a
separate process (so this process's event loop is the client alone).

The mix holds successes of several framings, server errors, malformed responses, resets,
truncated bodies and read timeouts; each request's outcome must be the documented one for
its path. Afterwards: open file descriptors are back at the baseline, the server never saw
more than ``limit`` connections at once, RSS growth after warm-up is bounded, no
ResourceWarning was emitted and no task is left pending.

``CYHTTP_LOAD_REQUESTS`` sets the number of requests (default 100,000: 25-45 s per
implementation on the 2-core development machine, inside the CI budget; set it lower for
a quick run). The measurements are printed (``pytest -s``) and written to
``$CYHTTP_LOAD_REPORT`` if set.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import cyhttp
from cyhttp import ClientSession, ClientTimeout, TCPConnector
from cyhttp.client_proto import ResponseHandler

REQUESTS = int(os.environ.get("CYHTTP_LOAD_REQUESTS", "100000"))
# 25-45 s on a quiet 2-core machine; the bound only catches a hang, and a busy machine (other
# jobs on both cores) was seen to need 110 s, too close to the suite's default of 120 s.
pytestmark = pytest.mark.timeout(600)
LIMIT = 100
WORKERS = 160  # more than the limit: requests also wait for free slots

#: The server: one process, plain asyncio, answering by path. It counts the connections it
#: has open at once (``/stats``; an upper bound: it notices a client's close late).
SERVER = r"""
import asyncio, json, os, socket, struct, sys

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
BIG = b"x" * 65536
ANSWERS = {
    b"/ok": OK,
    b"/big": b"HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + BIG,
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"/500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail",
    b"/close": b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nclosed",
    b"/bad": b"HTTP/1.1 2OO OK\r\n\r\n",
}
state = {"open": 0, "max_open": 0, "accepted": 0}

async def serve(reader, writer):
    state["open"] += 1
    state["accepted"] += 1
    state["max_open"] = max(state["max_open"], state["open"])
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1]
            answer = ANSWERS.get(path)
            if answer is not None:
                writer.write(answer)
                if path in (b"/close", b"/bad"):
                    await writer.drain()
                    return
            elif path == b"/reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            elif path == b"/truncated":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
                await writer.drain()
                return
            elif path == b"/slow":  # say nothing until the client gives up (or 3 s)
                try:
                    await asyncio.wait_for(reader.read(1), 3)
                except asyncio.TimeoutError:
                    pass
                return
            elif path == b"/stats":
                body = json.dumps(state).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%b" % (len(body), body))
                await writer.drain()
                return
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        state["open"] -= 1
        writer.close()

async def main():
    srv = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    os._exit(0)  # EOF on stdin: the test is over

asyncio.run(main())
"""

#: path → (share of requests, expected outcome)
MIX = [
    ("/ok", 70, "ok"),
    ("/big", 5, "ok"),
    ("/chunked", 8, "ok"),
    ("/500", 5, "500"),
    ("/close", 4, "ok"),
    ("/bad", 2, "ClientResponseError"),
    ("/reset", 2, "ServerDisconnectedError"),
    ("/truncated", 2, "ClientPayloadError"),
    ("/slow", 2, "SocketTimeoutError"),
]
BODIES = {"/ok": b"ok", "/big": b"x" * 65536, "/chunked": b"hello world", "/close": b"closed"}


@pytest.fixture
def server_port() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the server exits at EOF on stdin
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def _plan(n: int) -> list[str]:
    paths = [path for path, share, _ in MIX for _ in range(share)]
    return [paths[(i * 37) % len(paths)] for i in range(n)]  # spread evenly, deterministic


async def _one(session: ClientSession, base: str, path: str) -> str:
    try:
        async with session.get(base + path) as resp:
            body = await resp.read()
            if resp.status == 500:
                return "500"
            if resp.status != 200 or body != BODIES[path]:
                return f"wrong answer {resp.status} {body[:20]!r}"
            return "ok"
    except cyhttp.ClientError as exc:
        return type(exc).__name__


async def test_many_requests_through_one_pool(server_port: int) -> None:
    me = psutil.Process()
    gc.collect()
    fds_before = me.num_fds()
    base = f"http://127.0.0.1:{server_port}"
    plan = _plan(REQUESTS)
    expected = {path: outcome for path, _, outcome in MIX}
    outcomes: Counter[str] = Counter()
    wrong: list[tuple[str, str]] = []
    samples: list[int] = []  # connections in use or being made (what the limit counts)
    idle_samples: list[int] = []  # idle pooled connections
    socket_samples: list[int] = []  # TCP sockets of this process to the server
    rss: dict[str, int] = {}
    started = time.monotonic()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        connector = TCPConnector(limit=LIMIT)
        timeout = ClientTimeout(total=60, sock_read=1.0)
        async with ClientSession(connector=connector, timeout=timeout) as session:
            queue = iter(enumerate(plan))

            async def worker() -> None:
                for i, path in queue:
                    outcome = await _one(session, base, path)
                    outcomes[outcome] += 1
                    if outcome != expected[path]:
                        wrong.append((path, outcome))
                    if i % 500 == 0:
                        await asyncio.sleep(0)  # aborted sockets close on this loop turn
                        sockets = [
                            c
                            for c in me.net_connections("tcp")
                            if c.raddr and c.raddr[1] == server_port
                        ]
                        samples.append(len(connector._acquired))
                        idle_samples.append(sum(len(c) for c in connector._conns.values()))
                        socket_samples.append(len(sockets))
                        if i == (REQUESTS // 5) // 500 * 500:  # warmed up
                            gc.collect()
                            rss["warm"] = me.memory_info().rss

            await asyncio.gather(*(worker() for _ in range(WORKERS)))
            gc.collect()
            rss["end"] = me.memory_info().rss
            pooled = sum(len(c) for c in connector._conns.values())
            async with session.get(base + "/stats") as resp:
                stats = await resp.json(content_type=None)
        took = time.monotonic() - started
        await asyncio.sleep(0.1)  # let the closed transports finish (connection_lost)
        gc.collect()
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    fds_after = me.num_fds()
    # what a leak keeps alive: protocols of closed connections, or their timers
    protocols = sum(isinstance(o, ResponseHandler) for o in gc.get_objects())
    loop = asyncio.get_running_loop()
    timers = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]

    report = {
        "requests": REQUESTS,
        "seconds": round(took, 1),
        "requests_per_second": round(REQUESTS / took),
        "outcomes": dict(outcomes),
        "rss_warm_mib": round(rss["warm"] / 2**20, 1),
        "rss_end_mib": round(rss["end"] / 2**20, 1),
        "rss_growth_mib": round((rss["end"] - rss["warm"]) / 2**20, 1),
        "fds_before": fds_before,
        "fds_after": fds_after,
        "max_in_use_sampled": max(samples),
        "max_idle_sampled": max(idle_samples),
        "max_open_sockets_sampled": max(socket_samples),
        "idle_pooled_at_end": pooled,
        "server_max_open_connections": stats["max_open"],
        "server_connections_accepted": stats["accepted"],
        "implementation": "pure-Python" if cyhttp._compat.NO_EXTENSIONS else "compiled",
        "protocols_alive_after_close": protocols,
        "timers_pending_after_close": len(timers),
    }
    print("\nload:", json.dumps(report, indent=1))
    if os.environ.get("CYHTTP_LOAD_REPORT"):
        Path(os.environ["CYHTTP_LOAD_REPORT"]).write_text(json.dumps(report, indent=1))

    assert not wrong, f"{len(wrong)} unexpected outcomes, e.g. {wrong[:5]}"
    assert sum(outcomes.values()) == REQUESTS
    # never more connections than the limit: in use, idle, and sockets actually open
    assert max(samples) <= LIMIT and max(idle_samples) <= LIMIT and pooled <= LIMIT
    assert max(socket_samples) <= LIMIT
    assert fds_after == fds_before, report
    assert rss["end"] - rss["warm"] < 40 * 2**20, report  # bounded: no per-request leak
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, [str(w.message) for w in leaks[:5]]
    assert not pending, pending
    assert protocols == 0 and not timers, report
