"""The memory rows: what an in-flight request and an idle pooled connection cost in RSS.

One process per client and run, like the timed workloads. With the client's pool opened to
``--connections`` N, against the embedded server's ``/hold`` (no answer until ``/release``):

1. baseline: the client is started and has made one request (its pool holds that one
   connection, its runtime and lazy imports are up): RSS;
2. N requests are sent to ``/hold`` at once; once the server holds them all, RSS again:
   N requests in flight, each on a connection of its own (the pool had no other idle);
3. they are released and read; the N connections now wait idle in the pool: RSS again.

"RSS per in-flight request" is (2 - 1) / N (the request and the connection it needs) and
"RSS per idle pooled connection" is (3 - 1) / N: what stays once the answers are read, which
is how a pool comes to hold idle connections. Before each reading the garbage collector
runs and glibc is asked to give free memory back (``malloc_trim``). RSS is what the OS
charges the process, Rust allocators' memory included; allocators that keep freed memory
for a while (jemalloc, mimalloc) are measured as the OS sees them, as a container's memory
limit sees them too.

Output: a ``{"meta": ...}`` line, then ``{"memory": {"inflight_bytes", "idle_bytes",
"connections", ...}}`` or ``{"error": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from benchmarks import client_main, clients, procs, workloads


def rss_bytes() -> int:
    """This process's resident set size now (not its peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import psutil  # elsewhere than Linux; psutil comes with the bench extra

        return int(psutil.Process().memory_info().rss)


def settle() -> int:
    """Collect garbage, hand free heap pages back to the OS (glibc), then read RSS."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)
    return rss_bytes()


class Control:
    """A raw keep-alive connection to the server for ``/held`` and ``/release``, so that
    asking never goes through (or adds to) the client being measured."""

    async def open(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = f"{parts.hostname}:{parts.port}"
        self.reader, self.writer = await asyncio.open_connection(parts.hostname, parts.port)

    async def ask(self, path: str) -> int:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"the server answered {path} with {head[:40]!r}")
        return int(body)

    async def wait_held(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (held := await self.ask("/held")) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server holds {held} requests of {count} after {timeout} s")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def _hold(client: Any, control: Control, count: int, timeout: float) -> tuple[int, Any]:
    """Send ``count`` requests to ``/hold``; once all are held, read RSS; return it and the
    requests (still waiting for their answers)."""
    tasks = [asyncio.ensure_future(client.get("/hold")) for _ in range(count)]
    try:
        await control.wait_held(count, timeout)
    except BaseException:
        await control.ask("/release")
        for task in tasks:
            task.cancel()
        raise
    return settle(), asyncio.gather(*tasks)


async def _released(control: Control, answers: Any) -> None:
    await control.ask("/release")
    bodies = await asyncio.wait_for(answers, 30.0)
    if any(body != workloads.SMALL_BODY for body in bodies):
        raise RuntimeError("wrong answer to a held request")


async def measure(loaded: clients.Loaded, url: str, count: int) -> dict[str, Any]:
    """The three readings of the module docstring, as bytes per connection or request."""
    assert loaded.http is not None
    control = Control()
    await control.open(url)
    client = loaded.http()
    await client.start(url, None, count)
    try:
        if await client.get("/small") != workloads.SMALL_BODY:
            raise RuntimeError("wrong answer to /small")
        baseline = settle()
        inflight, answers = await _hold(client, control, count, 30.0)
        await _released(control, answers)
        idle = settle()
    finally:
        await asyncio.wait_for(client.close(), 10.0)
        await control.close()
    return {
        "connections": count,
        "baseline_rss": baseline,
        "inflight_bytes": (inflight - baseline) / count,
        "idle_bytes": (idle - baseline) / count,
        "threads": client_main.thread_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, choices=sorted(clients.BY_KEY))
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="asyncio")
    parser.add_argument("--http-url", required=True)
    parser.add_argument("--connections", type=int, default=workloads.MEMORY_CONNECTIONS)
    args = parser.parse_args()
    procs.die_with_parent()
    procs.raise_open_files_limit()
    client_main.settle_allocator()
    try:
        loaded = clients.load(args.client)
        if loaded.http is None:
            raise RuntimeError(f"{args.client} has no HTTP client")
    except Exception as exc:
        client_main._emit({"meta": {"client": args.client, "error": client_main._describe(exc)}})
        return
    loop, loop_name = procs.new_event_loop(args.loop)
    meta = {"client": args.client, "loop": loop_name, "version": loaded.version}
    client_main._emit({"meta": meta})
    try:
        result = loop.run_until_complete(measure(loaded, args.http_url, args.connections))
    except Exception as exc:
        client_main._emit({"error": client_main._describe(exc)})
    else:
        client_main._emit({"memory": result})
    finally:
        loop.close()


if __name__ == "__main__":
    main()
