"""``python -m benchmarks`` (``make bench``): cyhttp beside aiohttp, httpx, aiosonic, the
Rust-core clients wreq and pyreqwest, curl_cffi, niquests, picows and websockets, on the
default asyncio loop and on uvloop, against local servers (HTTP, HTTPS and WebSocket).

``--only`` takes comma-separated terms (repeatable, case-insensitive): ``http``, ``https``
(HTTP/1.1 over TLS), ``h2`` (HTTP/2 over TLS against nginx, every request of a client on
one connection), ``ws``, ``memory``, ``micro``, ``parser``, ``mask``, ``hpack``,
``h2frames`` or ``import`` (groups); a workload (``small``, ``1 MiB``, ``gzip``, ``post``,
``echo 64``, ``https_1m``, ``h2_small``...); a client (``cyhttp``, ``cyhttp-c``,
``cyhttp-py``, ``cyhttp-afn``, ``aiohttp``, ``httpx``, ``aiosonic``, ``wreq``,
``pyreqwest``, ``curl_cffi``, ``niquests``, ``picows``, ``websockets``, or ``floor``: a raw
``asyncio.Protocol`` doing no client work, on the GETs without gzip and the echoes); a loop
(``asyncio``, ``uvloop``). Kinds combine with AND, terms of one kind with OR; cyhttp
compiled always runs as the reference. ``cyhttp-afn`` ("cyhttp+aiofastnet") is cyhttp
compiled on aiofastnet's transports, on every HTTP/1.1 workload (HTTP and HTTPS); the other
cyhttp rows run with ``CYHTTP_NO_AIOFASTNET=1``, on the loop's own transports. Example:
``--only ws,uvloop,aiohttp``. A client whose library is not installed is skipped, and the
report says so.

``memory`` (for cyhttp compiled, aiohttp and wreq): the RSS an idle pooled connection and
an in-flight request add, measured with hundreds of each at once (``client_memory``).

``--placement`` (default ``auto``): servers run on the first CPU; a client that takes turns
with the server (one small request or message in flight) shares it (a context switch per
hop instead of an idle core's wake-up, which on a virtual machine would dominate the time
of every client alike); a client that works while the server works (50 requests in flight,
1 MiB bodies) runs on the second CPU.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks import chart, clients, machine, nginx, procs, report, runner


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a run of about a minute")
    parser.add_argument(
        "--only", action="append", default=[], metavar="PATTERN", help="run a subset (see above)"
    )
    parser.add_argument(
        "--server",
        choices=("embedded", "nginx"),
        default="embedded",
        help="HTTP server: the embedded asyncio one (default) or nginx from PATH",
    )
    parser.add_argument(
        "--placement",
        choices=machine.PLACEMENTS,
        default="auto",
        help="auto (default): ping-pong clients share the servers' CPU, parallel ones (50 in "
        "flight, 1 MiB bodies) get another; split: every client on another CPU; shared: "
        "everything on one CPU",
    )
    parser.add_argument(
        "--allocator",
        choices=("settled", "fresh"),
        default="settled",
        help="settled (default): every client process first frees one large block, as a "
        "long-running service has; fresh: one untouched process per workload",
    )
    parser.add_argument("--rounds", type=int, help="rounds per client (default 5, quick 3)")
    parser.add_argument("--duration", type=float, help="seconds per timed run")
    parser.add_argument("--out", help="directory for the JSON and PNG (default benchmarks/results)")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = runner.Settings.for_mode(args.quick, args.server)
    if args.rounds:
        settings = replace(settings, rounds=max(1, args.rounds))
    if args.duration:
        settings = replace(settings, duration=max(0.05, args.duration))
    settings = replace(settings, allocator=args.allocator)
    if args.server == "nginx" and nginx.find() is None:
        print(
            "nginx is not installed (no `nginx` on PATH): install it, or drop `--server nginx` "
            "to use the embedded server.",
            file=sys.stderr,
        )
        return 2
    loops = ["asyncio", "uvloop"] if procs.uvloop_available() else ["asyncio"]
    try:
        sel = runner.select([t for arg in args.only for t in arg.split(",")], loops)
    except runner.SelectionError as exc:
        print(f"{exc}; see --help", file=sys.stderr)
        return 2

    info = machine.describe()
    plan = machine.cpu_plan(args.placement)
    header = machine.summary(info, plan)
    mode = "quick" if settings.quick else "full"
    header.append(
        f"Mode: {mode}, {settings.rounds} rounds x {settings.duration:g} s per client and "
        f"workload (warm-up {settings.warmup:g} s); loops: {', '.join(sel.loops)}"
    )
    header.append(
        "Allocator: settled (each client process frees one 4 MiB block first, as a "
        "long-running service has done)"
        if settings.allocator == "settled"
        else "Allocator: fresh (one untouched client process per workload)"
    )
    if len(loops) == 1:
        header.append("uvloop is not installed: the asyncio loop only")
    for line in header:
        print(line)
    print(flush=True)

    started = time.time()
    try:
        results = runner.run(settings, sel, plan)
    except KeyboardInterrupt:
        print("\ninterrupted: servers and clients stopped, nothing written", file=sys.stderr)
        return 130
    except procs.StartError as exc:
        print(f"\na benchmark server did not start: {exc}", file=sys.stderr)
        return 1
    elapsed = time.time() - started

    rows = report.build_rows(results)
    found = report.targets(rows)
    notes = list(results.notes)
    if any(r.get("reference") == "aiohttp" for r in rows):
        notes.append("cyhttp compiled has no number for some rows: those speeds are vs aiohttp")
    print()
    for line in report.text_table(rows):
        print(line)
    print()
    print("speed = this client's speed / cyhttp compiled's on the same loop (higher = faster);")
    print("spread = (max - min) / median over the rounds; CPU us/op = the client process's")
    print("CPU time per request or message, all its threads counted (a Rust client's runtime")
    print("threads too); steadier than wall time when the machine is busy.")
    if any(r["impl"] == clients.FLOOR for r in rows):
        print(f"{clients.FLOOR}: an asyncio.Protocol doing no client work (client_floor.py),")
        print("the fastest any client could be here; never a reference for the speeds.")
    load_end = machine.load_average()
    info["load_average_at_end"] = load_end
    middle = report.noisy(rows)
    if middle is not None:
        notes.append(
            f"the median spread is {100 * middle:.0f}%: other processes were competing for the "
            f"CPUs (load average {load_end} at the end); compare CPU us/op, or rerun on a quiet "
            "machine before quoting numbers"
        )
    for note in notes:
        print(f"Note: {note}")
    if found:
        print("\nTargets (cyhttp compiled vs aiohttp, or the peer named):")
        for line in report.targets_lines(found):
            print(line)

    document = {
        "format": 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(elapsed, 1),
        "settings": asdict(settings),
        "selection": {
            "workloads": [w.key for w in sel.workloads],
            "clients": [c.key for c in sel.clients],
            "loops": sel.loops,
            "micro": sel.micro,
            "import_time": sel.import_time,
            "memory": sel.memory,
        },
        "machine": info,
        "pinning": plan.as_json(),
        "client_versions": results.client_versions,
        "notes": notes,
        "rows": rows,
        "targets": found,
    }
    out = Path(args.out) if args.out else report.RESULTS_DIR
    path = report.write(document, out)
    png = path.with_suffix(".png")
    wrote = f"{path.name}, latest.json, latest.md"
    if rows:
        title = f"cyhttp benchmarks ({mode}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"
        subtitle = f"{info['cpu']}, {info['cores']} cores, {info['python']}; {plan.note}"
        try:
            chart.draw(rows, png, title, subtitle)
        except ImportError as exc:
            print(f"\nNo chart: {exc} (matplotlib comes with the bench extra)", file=sys.stderr)
        else:
            (out / "latest.png").write_bytes(png.read_bytes())
            wrote += " and latest.png"
    print(f"\nWrote {wrote} in {out}")
    print(f"Total time: {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
