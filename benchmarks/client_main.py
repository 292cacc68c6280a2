"""The client process: one library, one event loop, a list of workloads, JSON lines out.

Each workload gets a fresh client (session set-up is not timed), a warm-up that also checks
the answers (a client that gets the wrong bytes must not look fast), then a timed run of
``--duration`` seconds. A workload that raises or hangs prints an ``error`` line and the
next workload still runs.

    python -m benchmarks.client_main --client aiohttp --loop uvloop \\
        --http-url http://127.0.0.1:PORT --ws-url ws://127.0.0.1:PORT/ \\
        --workloads get_small_seq,ws_echo_64 --duration 1 --warmup 0.2 \\
        --pingpong-cpus 0 --parallel-cpus 1

Before each workload the process pins itself (every thread) to the CPUs given for that
kind of workload (``Workload.parallel``), so one process can run the ping-pong workloads
on the server's CPU and the parallel ones beside it; without those options, or where the
OS cannot pin, nothing is pinned here. Before anything, :func:`settle_allocator` puts the
memory allocator in the same state for every library.

Output: one ``{"meta": ...}`` line, then one line per workload with ``ops``, ``seconds``,
``cpu`` (this process's CPU seconds in the timed run, every thread's: see
:func:`cpu_seconds`), ``threads`` (how many the process had by the end) and ``cpus`` (where
it ran, when known), or ``error``. HTTPS workloads (``Workload.tls``) go to ``--https-url``
and the client trusts ``--ca-file``; HTTP/2 ones (kind ``h2``) go to ``--h2-url``, the
adapter started with ``http2=True``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks import clients, procs, workloads

Op = Callable[[], Awaitable[Any]]


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


#: (operations, wall-clock seconds, CPU seconds of this process)
Timing = tuple[int, float, float]


def cpu_seconds() -> float:
    """User + system CPU time of the whole process: every thread, not only this one.

    Clients written in Rust do their work on tokio worker threads, libcurl and others may
    resolve or read on threads of their own: counting only the thread running the event
    loop would make them look nearly free. ``time.process_time`` reads the process-wide
    clock (``CLOCK_PROCESS_CPUTIME_ID`` on Linux, the sum of all threads), as
    ``os.times()`` and ``getrusage(RUSAGE_SELF)`` do.
    """
    return time.process_time()


def thread_count() -> int | None:
    """How many threads this process has now (Linux), None where it cannot tell."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


async def _sequential(op: Op, duration: float) -> Timing:
    count = 0
    cpu = cpu_seconds()
    start = time.perf_counter()
    deadline = start + duration
    while True:
        await op()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start, cpu_seconds() - cpu


async def _concurrent(op: Op, duration: float, workers: int) -> Timing:
    cpu = cpu_seconds()
    start = time.perf_counter()
    deadline = start + duration
    counts = [0] * workers

    async def worker(i: int) -> None:
        while time.perf_counter() < deadline:
            await op()
            counts[i] += 1

    await asyncio.gather(*(worker(i) for i in range(workers)))
    return sum(counts), time.perf_counter() - start, cpu_seconds() - cpu


def parse_cpus(text: str) -> frozenset[int] | None:
    """``"0,1"`` -> {0, 1}; an empty string -> None (do not pin)."""
    parts = [p for p in text.split(",") if p.strip()]
    return frozenset(int(p) for p in parts) if parts else None


def pin_self(cpus: frozenset[int] | None) -> list[int] | None:
    """Move every thread of this process to ``cpus``; return where the process may run now.

    ``sched_setaffinity(0, ...)`` moves the calling thread only (Linux): threads a library
    started earlier (a resolver's pool, say) would stay behind, so each task is moved.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    if cpus:
        try:
            tids = [int(t) for t in os.listdir("/proc/self/task")]
        except OSError:
            tids = [0]
        for tid in tids:
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                os.sched_setaffinity(tid, cpus)
    return sorted(os.sched_getaffinity(0))


def settle_allocator() -> None:
    """Put every library's process in the same allocator state before anything is timed.

    glibc's malloc serves blocks of 128 KiB and more with ``mmap`` until the process frees
    such a block, which raises that threshold to the block's size. asyncio's selector
    transport reads into a new 256 KiB buffer on every read, so until then each read costs
    an ``mmap`` and a ``munmap`` (~20 µs per read on the dev VM). Whether a library had
    crossed that line depended on its history: measured in one process, aiohttp's 64-byte
    WebSocket echo on asyncio took 38 µs of CPU fresh and 19 µs after a few 1 MiB GETs.
    One 4 MiB block allocated and freed here puts every client in the state a long-running
    service is in. (Elsewhere than glibc it is one short-lived allocation.)
    """
    block = bytearray(4 << 20)
    del block


def _expect(what: str, got: Any, want: Any) -> None:
    if got != want:
        raise RuntimeError(f"wrong answer for {what}: got {_short(got)}, want {_short(want)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else f"{text[:40]}... ({len(text)} chars)"


async def _http(client: Any, key: str, duration: float, warmup: float, echo_reply: bytes) -> Timing:
    """Check one answer, warm up, then time the workload ``key``."""
    key = workloads.PLAIN_TWIN.get(key, key)  # HTTPS: the same requests over TLS
    ops: dict[str, Op] = {
        "get_small_seq": lambda: client.get("/small"),
        "get_small_c50": lambda: client.get("/small"),
        "get_1m": lambda: client.get("/1m"),
        "get_json_gzip": lambda: client.get_json("/json-gzip"),
        "post_64k": lambda: client.post("/echo", workloads.POST_BODY),
        "h2_small_c100": lambda: client.get("/small"),
        "h2_1m_c10": lambda: client.get("/1m"),
    }
    op = ops[key]
    if key.startswith(("get_small", "h2_small")):
        _expect(key, await op(), workloads.SMALL_BODY)
    elif key in ("get_1m", "h2_1m_c10"):
        _expect(key, await op(), workloads.BIG_BODY)
    elif key == "get_json_gzip":
        _expect(key, await op(), workloads.json_document())
    else:
        _expect(key, await op(), echo_reply)
    workers = workloads.BY_KEY[key].workers
    if workers > 1:
        await _concurrent(op, warmup, workers)
        return await _concurrent(op, duration, workers)
    await _sequential(op, warmup)
    return await _sequential(op, duration)


async def _ws(client: Any, key: str, duration: float, warmup: float, echo_reply: bytes) -> Timing:
    payload = workloads.WS_SMALL if key == "ws_echo_64" else workloads.WS_BIG
    _expect(key, await client.echo(payload), payload)

    async def op() -> None:
        await client.echo(payload)

    await _sequential(op, warmup)
    return await _sequential(op, duration)


async def run(args: argparse.Namespace, loaded: clients.Loaded) -> None:
    limit = args.duration + args.warmup + 30.0
    echo_reply = workloads.POST_BODY if args.echo == "body" else args.echo.encode()
    for key in args.workloads.split(","):
        work = workloads.BY_KEY[key]
        kind = work.kind
        cpus = pin_self(args.parallel_cpus if work.parallel else args.pingpong_cpus)
        factory = loaded.ws if kind == "ws" else loaded.http
        if factory is None:
            _emit({"workload": key, "error": f"{args.client} has no {kind} client"})
            continue
        client = factory()
        try:
            if kind == "h2":
                if not args.h2_url:
                    raise RuntimeError("no HTTP/2 server for this run")
                start = client.start(args.h2_url, args.ca_file, http2=True)
            elif work.tls:
                if not args.https_url:
                    raise RuntimeError("no HTTPS server for this run")
                start = client.start(args.https_url, args.ca_file)
            else:
                start = client.start(args.http_url if kind == "http" else args.ws_url)
            await asyncio.wait_for(start, 10.0)
            try:
                bench = _ws if kind == "ws" else _http
                ops, seconds, cpu = await asyncio.wait_for(
                    bench(client, key, args.duration, args.warmup, echo_reply), limit
                )
            finally:
                await asyncio.wait_for(client.close(), 10.0)
        except Exception as exc:
            _emit({"workload": key, "error": _describe(exc)})
        else:
            _emit(
                {
                    "workload": key,
                    "ops": ops,
                    "seconds": seconds,
                    "cpu": cpu,
                    "threads": thread_count(),
                    "cpus": cpus,
                }
            )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) and not str(exc):
        return "TimeoutError: no answer within the time limit"
    return f"{type(exc).__name__}: {exc}"[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, choices=sorted(clients.BY_KEY))
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="asyncio")
    parser.add_argument("--http-url", default="")
    parser.add_argument("--ws-url", default="")
    parser.add_argument("--https-url", default="", help="the HTTPS server, for HTTPS workloads")
    parser.add_argument("--ca-file", default=None, help="the CA (PEM) HTTPS clients trust")
    parser.add_argument("--h2-url", default="", help="the HTTP/2 server (TLS), for h2 workloads")
    parser.add_argument("--workloads", required=True)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=0.2)
    parser.add_argument(
        "--echo", default="body", help="what /echo answers: 'body' (the POST body) or a string"
    )
    for kind in ("pingpong", "parallel"):
        parser.add_argument(
            f"--{kind}-cpus",
            type=parse_cpus,
            default=None,
            metavar="LIST",
            help=f"CPUs (comma-separated) for the {kind} workloads; empty: do not pin",
        )
    parser.add_argument(
        "--fresh-allocator",
        action="store_true",
        help="leave the allocator as a new process has it (see settle_allocator)",
    )
    args = parser.parse_args()
    procs.die_with_parent()
    if not args.fresh_allocator:
        settle_allocator()
    try:
        loaded = clients.load(args.client)
    except Exception as exc:
        _emit({"meta": {"client": args.client, "error": _describe(exc)}})
        return
    loop, loop_name = procs.new_event_loop(args.loop)
    _emit(
        {
            "meta": {
                "client": args.client,
                "loop": loop_name,
                "version": loaded.version,
                "implementation": loaded.implementation,
            }
        }
    )
    try:
        loop.run_until_complete(run(args, loaded))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
