"""The rounds: which client processes run, in which order, and what comes back.

Order matters on a shared or thermally throttled machine: every round runs every client
once (A B C A B C ...), so slow drift in the machine hits all clients alike instead of
whichever happened to run last. Each client process runs all of its workloads on one loop;
its samples go to ``(workload, client, loop)`` and the report takes the median per key.
A client that fails leaves error strings, never a failed run.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from benchmarks import clients, importtime, machine, micro, nginx, procs, workloads
from benchmarks.clients import ClientSpec
from benchmarks.workloads import Workload

Key = tuple[str, str, str]  # (bench, impl, loop)


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    rounds: int = 5
    duration: float = 0.8
    warmup: float = 0.2
    import_samples: int = 15
    server: str = "embedded"  # or "nginx"
    #: "settled": each client process first puts its allocator in a long-running service's
    #: state (``client_main.settle_allocator``) and runs all its workloads; "fresh": one
    #: untouched process per workload, as a service that never freed a large block
    allocator: str = "settled"

    @classmethod
    def for_mode(cls, quick: bool, server: str = "embedded") -> Settings:
        if quick:
            return cls(True, rounds=3, duration=0.2, warmup=0.05, import_samples=5, server=server)
        return cls(False, server=server)


class SelectionError(ValueError):
    """An ``--only`` term that matches nothing."""


@dataclass
class Selection:
    workloads: list[Workload]
    clients: list[ClientSpec]
    loops: list[str]
    micro: list[str]
    import_time: bool


def select(terms: list[str], loops_available: list[str]) -> Selection:
    """Apply ``--only`` terms (case-insensitive; see ``__main__`` for the grammar)."""
    wl: list[Workload] = []
    cl: list[ClientSpec] = []
    lp: list[str] = []
    mi: list[str] = []
    imp = False
    for raw in terms:
        term = raw.strip().lower()
        if not term:
            continue
        hit = False
        if term in ("http", "ws"):
            wl += [w for w in workloads.ALL_WORKLOADS if w.kind == term]
            hit = True
        if term in ("micro", "parser", "mask"):
            mi += [m for m in micro.MODULES if term == "micro" or term in m]
            hit = True
        if term in ("import", "import time", "importtime"):
            imp = hit = True
        if term in ("asyncio", "uvloop"):
            lp.append(term)
            hit = True
        matched = [c for c in clients.CLIENTS if term in (c.key, c.name.lower())]
        if term == "cyhttp":
            matched = [c for c in clients.CLIENTS if c.key.startswith("cyhttp")]
        if matched:
            cl += matched
            hit = True
        if not hit:
            found = [w for w in workloads.ALL_WORKLOADS if term in w.key or term in w.name.lower()]
            if not found:
                raise SelectionError(f"--only {raw!r} matches no workload, client or loop")
            wl += found
    any_bench = bool(wl or mi or imp)
    if cl and clients.BY_KEY["cyhttp-c"] not in cl:
        cl.insert(0, clients.BY_KEY["cyhttp-c"])  # the baseline of every ratio
    return Selection(
        workloads=_unique(wl) if any_bench else list(workloads.ALL_WORKLOADS),
        clients=[c for c in clients.CLIENTS if c in cl] if cl else list(clients.CLIENTS),
        loops=[x for x in loops_available if x in lp] if lp else list(loops_available),
        micro=_unique(mi) if any_bench else list(micro.MODULES),
        import_time=imp if any_bench else True,
    )


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


class Progress:
    """One line on stderr, rewritten in place on a terminal, appended otherwise."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        line = f"[{self.done:3d}/{self.total}] {time.monotonic() - self.start:5.0f} s  {label}"
        if self.tty:
            sys.stderr.write("\r\x1b[K" + line[:150])
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.flush()


@dataclass
class Results:
    samples: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: the client's CPU microseconds per operation (steadier than wall time on a busy machine)
    cpu_us: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[Key, list[str]] = field(default_factory=lambda: defaultdict(list))
    units: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    micro_rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    client_versions: dict[str, str] = field(default_factory=dict)


def _workloads_for(spec: ClientSpec, wanted: list[Workload]) -> list[Workload]:
    return [w for w in wanted if spec.runs(w.key, w.kind)]


def _cpu_list(cpus: frozenset[int] | None) -> str:
    return ",".join(str(c) for c in sorted(cpus)) if cpus else ""


@contextlib.contextmanager
def _servers(
    settings: Settings, sel: Selection, plan: machine.CpuPlan, results: Results
) -> Iterator[tuple[str, str]]:
    """Start the servers the selection needs; yield (http URL, ws URL)."""
    py = sys.executable
    need_http = any(w.kind == "http" for w in sel.workloads)
    need_ws = any(w.kind == "ws" for w in sel.workloads)
    with contextlib.ExitStack() as stack:
        http_url = ws_url = ""
        if need_http:
            if settings.server == "nginx":
                binary = nginx.find()
                assert binary is not None  # checked by __main__
                srv = stack.enter_context(nginx.server(binary, plan.server))
                results.notes.append(f"HTTP server: nginx ({binary}); /echo answers 'ok'")
            else:
                argv = [py, "-m", "benchmarks.http_server", "--loop", "uvloop"]
                srv = stack.enter_context(procs.server("http", argv, plan.server))
                results.notes.append(
                    "HTTP server: embedded (asyncio + httptools"
                    + (", uvloop)" if procs.uvloop_available() else ")")
                )
            http_url = f"http://127.0.0.1:{srv.port}"
        if need_ws:
            argv = [py, "-m", "benchmarks.ws_server", "--loop", "uvloop"]
            srv = stack.enter_context(procs.server("ws", argv, plan.server))
            ws_url = f"ws://127.0.0.1:{srv.port}/"
            results.notes.append("WebSocket server: picows echo")
        yield http_url, ws_url


def _client_round(
    spec: ClientSpec,
    loop: str,
    todo: list[Workload],
    urls: tuple[str, str],
    settings: Settings,
    plan: machine.CpuPlan,
    results: Results,
) -> None:
    argv = [
        sys.executable,
        "-m",
        "benchmarks.client_main",
        "--client",
        spec.key,
        "--loop",
        loop,
        "--http-url",
        urls[0],
        "--ws-url",
        urls[1],
        "--workloads",
        ",".join(w.key for w in todo),
        "--duration",
        str(settings.duration),
        "--warmup",
        str(settings.warmup),
        # the client re-pins itself before each workload (see machine.cpu_plan)
        f"--pingpong-cpus={_cpu_list(plan.pingpong)}",
        f"--parallel-cpus={_cpu_list(plan.parallel)}",
    ]
    if settings.allocator == "fresh":
        argv.append("--fresh-allocator")
    if settings.server == "nginx":
        argv += ["--echo", nginx.ECHO_REPLY.decode()]
    timeout = 30.0 + len(todo) * (settings.duration + settings.warmup + 10.0)
    done = procs.run(argv, plan.client_cpus(todo[0].parallel), timeout, spec.env)
    seen: set[str] = set()
    meta_error = None
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "meta" in msg:
            meta = msg["meta"]
            meta_error = meta.get("error")
            if "version" in meta:
                results.client_versions[spec.name] = meta["version"]
            continue
        wkey = msg.get("workload")
        if wkey not in workloads.BY_KEY:
            continue
        seen.add(wkey)
        key = (workloads.BY_KEY[wkey].name, spec.name, loop)
        if "error" in msg:
            results.errors[key].append(str(msg["error"]))
        elif msg.get("seconds", 0) > 0 and msg.get("ops", 0) > 0:
            results.samples[key].append(msg["ops"] / msg["seconds"])
            if "cpu" in msg:
                results.cpu_us[key].append(1e6 * msg["cpu"] / msg["ops"])
    if meta_error:
        why = f"import failed: {meta_error}"
    elif done.returncode is None:
        why = "client process killed at the time limit"
    else:
        last = done.stderr.strip().splitlines()[-1:] or [""]
        why = f"client process exited with {done.returncode}: {last[0][:200]}"
    for w in todo:
        if w.key not in seen:
            results.errors[(w.name, spec.name, loop)].append(why)


def run(settings: Settings, sel: Selection, plan: machine.CpuPlan) -> Results:
    """Everything the selection asks for; the report turns it into rows."""
    results = Results()
    for w in sel.workloads:
        results.units[w.name] = w.unit
        results.groups[w.name] = w.kind
    jobs = [
        (spec, loop, _workloads_for(spec, sel.workloads))
        for spec in sel.clients
        for loop in sel.loops
    ]
    jobs = [j for j in jobs if j[2]]
    libs = _import_libraries(sel) if sel.import_time else []
    total = settings.rounds * len(jobs) + len(sel.micro) + settings.import_samples * len(libs)
    progress = Progress(total)
    try:
        if jobs:
            with _servers(settings, sel, plan, results) as urls:
                for rnd in range(settings.rounds):
                    for spec, loop, todo in jobs:
                        progress.step(
                            f"round {rnd + 1}/{settings.rounds}: {spec.name} on {loop}, "
                            f"{len(todo)} workloads"
                        )
                        if settings.allocator == "fresh":
                            for work in todo:  # no workload inherits another's heap
                                _client_round(spec, loop, [work], urls, settings, plan, results)
                        else:
                            _client_round(spec, loop, todo, urls, settings, plan, results)
        for module in sel.micro:
            progress.step(f"micro-benchmark {module}")
            rows, note = micro.collect(module, settings.quick, plan.client)
            results.micro_rows += rows
            if note:
                results.notes.append(note)
        for i in range(settings.import_samples):
            for name in libs:
                progress.step(f"import time {i + 1}/{settings.import_samples}: {name}")
                module, env = importtime.LIBRARIES[name]
                key = ("import time", name, "-")
                results.units["import time"] = "ms"
                results.groups["import time"] = "import"
                try:
                    results.samples[key].append(importtime.sample(module, env, plan.client))
                except RuntimeError as exc:
                    results.errors[key].append(str(exc))
    finally:
        progress.finish()
    return results


def _import_libraries(sel: Selection) -> list[str]:
    names = {c.name for c in sel.clients}
    return [name for name in importtime.LIBRARIES if name in names]


def median_and_spread(values: list[float]) -> tuple[float, float]:
    """The median, and the spread as (max - min) / median (0 for one sample)."""
    med = statistics.median(values)
    if len(values) < 2 or med == 0:
        return med, 0.0
    return med, (max(values) - min(values)) / med
