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

from benchmarks import certs, clients, importtime, machine, micro, nginx, procs, workloads
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
    #: the memory rows (``client_memory``) for the selected clients that offer them
    memory: bool = False


def select(terms: list[str], loops_available: list[str]) -> Selection:
    """Apply ``--only`` terms (case-insensitive; see ``__main__`` for the grammar)."""
    wl: list[Workload] = []
    cl: list[ClientSpec] = []
    lp: list[str] = []
    mi: list[str] = []
    imp = mem = False
    for raw in terms:
        term = raw.strip().lower()
        if not term:
            continue
        hit = False
        if term in ("http", "ws", "h2", "http2"):
            kind = "h2" if term == "http2" else term
            wl += [w for w in workloads.ALL_WORKLOADS if w.kind == kind]
            hit = True
        if term in ("micro", "parser", "mask", "hpack", "h2frames"):
            mi += [m for m in micro.MODULES if term == "micro" or term in m]
            hit = True
        if term in ("import", "import time", "importtime"):
            imp = hit = True
        if term in ("memory", "rss"):
            mem = hit = True
        if term == "https":  # HTTP/1.1 over TLS (``h2`` names the HTTP/2 rows)
            wl += [w for w in workloads.ALL_WORKLOADS if w.tls and w.kind == "http"]
            hit = True
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
    any_bench = bool(wl or mi or imp or mem)
    if cl and clients.BY_KEY["cyhttp-c"] not in cl:
        cl.insert(0, clients.BY_KEY["cyhttp-c"])  # the baseline of every ratio
    return Selection(
        workloads=_unique(wl) if any_bench else list(workloads.ALL_WORKLOADS),
        clients=[c for c in clients.CLIENTS if c in cl] if cl else list(clients.CLIENTS),
        loops=[x for x in loops_available if x in lp] if lp else list(loops_available),
        micro=_unique(mi) if any_bench else list(micro.MODULES),
        import_time=imp if any_bench else True,
        memory=mem if any_bench else True,
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
    #: the client process's thread count at the end of each timed run (Rust runtimes and
    #: libraries with threads of their own show here; their CPU time is all counted)
    threads: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Endpoints:
    """Where the servers of a run listen, and the CA file HTTPS clients are told to trust."""

    http: str = ""
    ws: str = ""
    https: str = ""
    ca_file: str = ""
    #: HTTP/2 over TLS (nginx, ALPN h2)
    h2: str = ""


def _workloads_for(spec: ClientSpec, wanted: list[Workload]) -> list[Workload]:
    return [w for w in wanted if spec.runs(w.key, w.kind)]


def _cpu_list(cpus: frozenset[int] | None) -> str:
    return ",".join(str(c) for c in sorted(cpus)) if cpus else ""


def _embedded_http_argv(tls: certs.Files | None) -> list[str]:
    argv = [sys.executable, "-m", "benchmarks.http_server", "--loop", "uvloop"]
    if tls is not None:
        argv += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    return argv


@contextlib.contextmanager
def _servers(
    settings: Settings, sel: Selection, plan: machine.CpuPlan, results: Results
) -> Iterator[Endpoints]:
    """Start the servers the selection needs (with a new CA for HTTPS); yield where."""
    need_http = any(w.kind == "http" for w in sel.workloads)
    need_tls = any(w.tls for w in sel.workloads)
    need_ws = any(w.kind == "ws" for w in sel.workloads)
    need_h2 = any(w.kind == "h2" for w in sel.workloads)
    with contextlib.ExitStack() as stack:
        http_url = ws_url = https_url = ca_file = h2_url = ""
        tls = stack.enter_context(certs.made_for_run()) if need_tls else None
        if tls is not None:
            ca_file = str(tls.ca)
        h2_srv = None
        if need_http:
            if settings.server == "nginx":
                binary = nginx.find()
                assert binary is not None  # checked by __main__
                srv = stack.enter_context(nginx.server(binary, plan.server, tls, h2=need_h2))
                h2_srv = srv if need_h2 else None
                results.notes.append(f"HTTP server: nginx ({binary}); /echo answers 'ok'")
            else:
                argv = _embedded_http_argv(tls)
                srv = stack.enter_context(procs.server("http", argv, plan.server))
                results.notes.append(
                    "HTTP server: embedded (asyncio + httptools"
                    + (", uvloop)" if procs.uvloop_available() else ")")
                )
            http_url = f"http://127.0.0.1:{srv.port}"
            if any(w.tls and w.kind == "http" for w in sel.workloads):
                https_url = f"https://{certs.HOST}:{srv.more_ports[0]}"
                results.notes.append(
                    "HTTPS rows: TLS 1.3, HTTP/1.1, a certificate from a CA made for this run "
                    "that every client is told to trust (verification on)"
                )
        if need_h2:
            h2_binary = nginx.find()
            assert h2_binary is not None  # checked by _runnable
            if h2_srv is None:
                h2_srv = stack.enter_context(nginx.server(h2_binary, plan.server, tls, h2=True))
            h2_url = f"https://{certs.HOST}:{h2_srv.more_ports[1]}"
            results.notes.append(_h2_note(h2_binary))
        if need_ws:
            argv = [sys.executable, "-m", "benchmarks.ws_server", "--loop", "uvloop"]
            srv = stack.enter_context(procs.server("ws", argv, plan.server))
            ws_url = f"ws://127.0.0.1:{srv.port}/"
            results.notes.append("WebSocket server: picows echo")
        yield Endpoints(http_url, ws_url, https_url, ca_file, h2_url)


def _h2_note(binary: str) -> str:
    return (
        f"HTTP/2 rows: nginx ({binary}, its http2 module) over TLS 1.3, ALPN h2, the run's CA "
        "trusted; each client sends all its requests on one connection (128 streams allowed)"
    )


def _client_round(
    spec: ClientSpec,
    loop: str,
    todo: list[Workload],
    urls: Endpoints,
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
        urls.http,
        "--ws-url",
        urls.ws,
        "--https-url",
        urls.https,
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
    if urls.ca_file:
        argv += ["--ca-file", urls.ca_file]
    if urls.h2:
        argv += ["--h2-url", urls.h2]
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
            if msg.get("threads"):
                results.threads[key].append(int(msg["threads"]))
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
    if done.returncode and all(w.key in seen for w in todo):
        _note_crash_at_exit(spec, done, results)


def _note_crash_at_exit(spec: ClientSpec, done: procs.Finished, results: Results) -> None:
    """A client process that reported every workload, then died on its way out (a library
    crashing while the interpreter shuts down): its numbers stand, the report says so once."""
    tag = f"{spec.name}: its process "
    if any(note.startswith(tag) for note in results.notes):
        return
    lines = done.stderr.strip().splitlines()
    first = next((x for x in lines if "error" in x.lower()), lines[0] if lines else "")
    results.notes.append(
        f"{tag}ended with exit status {done.returncode} after reporting all its results "
        f"(the library failed at interpreter exit: {first.strip()[:120]})"
    )


def _runnable(sel: Selection, results: Results) -> Selection:
    """The selection without what cannot run here, each omission said once in the notes."""
    here = []
    for spec in sel.clients:
        why = spec.missing()
        if why is None:
            here.append(spec)
        else:
            results.notes.append(why)
    wanted = sel.workloads
    why_not_tls = certs.available() if any(w.tls for w in wanted) else None
    if why_not_tls is not None:
        results.notes.append(why_not_tls)
        wanted = [w for w in wanted if not w.tls]
    if any(w.kind == "h2" for w in wanted) and nginx.find() is None:
        results.notes.append(
            "nginx is not installed (no `nginx` on PATH or in /usr/sbin): no HTTP/2 rows"
        )
        wanted = [w for w in wanted if w.kind != "h2"]
    return Selection(wanted, here, sel.loops, sel.micro, sel.import_time, sel.memory)


def run(settings: Settings, sel: Selection, plan: machine.CpuPlan) -> Results:
    """Everything the selection asks for; the report turns it into rows."""
    results = Results()
    sel = _runnable(sel, results)
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
    memory_specs = _memory_clients(sel)
    total = (
        settings.rounds * len(jobs)
        + len(sel.micro)
        + settings.import_samples * len(libs)
        + _memory_runs(settings) * len(memory_specs)
    )
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
        if memory_specs:
            _memory(settings, memory_specs, sel.loops[0], plan, results, progress)
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


def _memory_clients(sel: Selection) -> list[ClientSpec]:
    return [c for c in sel.clients if c.memory and c.http] if sel.memory else []


def _memory_runs(settings: Settings) -> int:
    """Memory readings vary far less than timings: three runs are plenty."""
    return min(settings.rounds, 3)


def _memory(
    settings: Settings,
    specs: list[ClientSpec],
    loop: str,
    plan: machine.CpuPlan,
    results: Results,
    progress: Progress,
) -> None:
    """The memory rows, against an embedded server of their own (it has ``/hold``)."""
    count = workloads.MEMORY_CONNECTIONS_QUICK if settings.quick else workloads.MEMORY_CONNECTIONS
    for bench in (workloads.MEMORY_INFLIGHT, workloads.MEMORY_IDLE):
        results.units[bench] = workloads.MEMORY_UNIT
        results.groups[bench] = "memory"
    results.notes.append(
        f"RSS rows: {count} connections or requests at once against the embedded server, "
        f"RSS growth / {count}, in KiB (smaller is better; speed there = cyhttp compiled's "
        "KiB / this client's)"
    )
    with procs.server("http", _embedded_http_argv(None), plan.server) as srv:
        url = f"http://127.0.0.1:{srv.port}"
        for rnd in range(_memory_runs(settings)):
            for spec in specs:
                progress.step(f"memory {rnd + 1}/{_memory_runs(settings)}: {spec.name}")
                _memory_round(spec, loop, url, count, plan, results)


def _memory_round(
    spec: ClientSpec,
    loop: str,
    url: str,
    count: int,
    plan: machine.CpuPlan,
    results: Results,
) -> None:
    argv = [
        sys.executable,
        "-m",
        "benchmarks.client_memory",
        "--client",
        spec.key,
        "--loop",
        loop,
        "--http-url",
        url,
        "--connections",
        str(count),
    ]
    done = procs.run(argv, plan.client_cpus(True), 120.0, spec.env)
    fields = {workloads.MEMORY_INFLIGHT: "inflight_bytes", workloads.MEMORY_IDLE: "idle_bytes"}
    why = None
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "memory" in msg:
            for bench, name in fields.items():
                results.samples[(bench, spec.name, loop)].append(msg["memory"][name] / 1024)
            return
        why = msg.get("error") or msg.get("meta", {}).get("error") or why
    if why is None:
        last = done.stderr.strip().splitlines()[-1:] or ["killed at the time limit"]
        why = f"client process exited with {done.returncode}: {last[0][:200]}"
    for bench in fields:
        results.errors[(bench, spec.name, loop)].append(why)


def _import_libraries(sel: Selection) -> list[str]:
    names = {c.name for c in sel.clients}
    return [name for name in importtime.LIBRARIES if name in names]


def median_and_spread(values: list[float]) -> tuple[float, float]:
    """The median, and the spread as (max - min) / median (0 for one sample)."""
    med = statistics.median(values)
    if len(values) < 2 or med == 0:
        return med, 0.0
    return med, (max(values) - min(values)) / med
