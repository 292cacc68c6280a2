"""From samples to rows, and from rows to the table, the JSON and the Markdown.

A row is ``{"bench", "group", "impl", "loop", "value", "unit", "spread", "runs", "error",
"speed", "reference", "cpu_us_per_op", "threads"}`` (CPU time per operation of the client
process, all threads counted, and the most threads it had; None where not measured).
``value`` is the median of the runs, ``spread`` is (max - min) / median, and ``speed`` is
the row's speed relative to the reference client on the same benchmark and loop (cyhttp
compiled; aiohttp while cyhttp has no number): 2.0 means twice as fast, 0.5 half as fast,
whether the unit is a rate (higher is better) or a time.
Rows from the micro-benchmark modules keep their own ``value`` and ``spread``. Memory rows
(group ``memory``, unit KiB) are lower-is-better like times: their ``speed`` is cyhttp
compiled's KiB over the row's (2.0: half the memory).

The floor row (``clients.FLOOR``, a client doing no work) is never a reference nor
aiohttp's stand-in: it only gives each target its ceiling, the floor's speed over aiohttp's.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks import clients, importtime, workloads
from benchmarks.runner import Results, median_and_spread

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REFERENCES = (clients.BASELINE, "aiohttp")
LOOP_ORDER = {"asyncio": 0, "uvloop": 1, "-": 2}

#: (what, minimum speed of cyhttp compiled relative to aiohttp) from issues 3, 4, 6 and 8
TARGETS: tuple[tuple[str, float], ...] = (
    ("GET small, keep-alive, sequential", 2.0),
    ("GET small, 50 concurrent", 2.0),
    ("GET 1 MiB", 1.5),
    ("GET gzip chunked JSON", 1.3),
    ("WS echo 64 B", 1.5),
    ("WS echo 1 MiB", 2.5),
    ("parser 9-header", 2.5),
)
#: (what, minimum speed of cyhttp's pure-Python twin relative to aiohttp's pure parser)
PURE_TARGETS: tuple[tuple[str, float], ...] = (("parser 9-header", 1.5),)
#: (what, unit, bound, "<=" or ">="): targets on cyhttp compiled's own number
ABSOLUTE_TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("import time", "ms", importtime.TARGET_MS, "<="),
    ("parser 1MiB chunked", "MB/s", 1000.0, ">="),
)
#: the HTTP/2 rows: cyhttp compiled against the fastest other client of each row
H2_PREFIX = "HTTP/2 "
#: (micro bench, peer, minimum speed of cyhttp compiled relative to the peer, user words)
PEER_TARGETS: tuple[tuple[str, str, float, str], ...] = (
    (
        "decode first",
        "hpack",
        5.0,
        "HPACK decode of a typical 9-header response block (new decoder)",
    ),
    (
        "decode repeat",
        "hpack",
        5.0,
        "HPACK decode of a typical 9-header response block (indexed, seen before)",
    ),
)
#: the cyhttp rows judged against the HTTP/2 peers
_H2_JUDGED = (clients.BASELINE, clients.FASTNET)
#: against the field: cyhttp's CPU per request at most this share of the thriftiest peer's
#: (a margin that survives this machine's run-to-run swing)
FIELD_CPU_SHARE = 0.8
#: the WebSocket rows are judged against this peer only (a callback API, compiled)
WS_PEER = "picows"


def higher_is_better(unit: str) -> bool:
    """Rates (``req/s``, ``MB/s``) grow with speed; times (``ms``, ``ns/msg``) shrink."""
    return "/s" in unit


def build_rows(results: Results) -> list[dict[str, Any]]:
    """Samples and micro rows → the rows of the table, in display order, with speeds."""
    rows: list[dict[str, Any]] = []
    keys = set(results.samples) | set(results.errors)
    for bench, impl, loop in keys:
        runs = results.samples.get((bench, impl, loop), [])
        errs = results.errors.get((bench, impl, loop), [])
        value, spread = median_and_spread(runs) if runs else (None, None)
        cpu = results.cpu_us.get((bench, impl, loop))
        threads = results.threads.get((bench, impl, loop))
        rows.append(
            {
                "bench": bench,
                "group": results.groups.get(bench, "?"),
                "impl": impl,
                "loop": loop,
                "value": value,
                "unit": results.units.get(bench, "?"),
                "spread": spread,
                "runs": runs,
                "error": None if runs else (errs[0] if errs else "no result"),
                "failed_runs": len(errs),
                "errors": list(dict.fromkeys(errs)),
                "cpu_us_per_op": statistics.median(cpu) if cpu else None,
                "threads": max(threads) if threads else None,
            }
        )
    for r in results.micro_rows:
        value = float(r["value"]) if r.get("value") is not None else None
        rows.append(
            {
                "bench": str(r["bench"]),
                "group": "micro",
                "impl": str(r["impl"]),
                "loop": "-",
                "value": value,
                "unit": str(r["unit"]),
                "spread": float(r.get("spread") or 0.0) if value is not None else None,
                "runs": r.get("runs", []),
                "error": None if value is not None else str(r.get("error") or "no result"),
                "failed_runs": 0,
                "errors": [],
                "cpu_us_per_op": None,
                "threads": None,
            }
        )
    rows.sort(key=_order(rows))
    add_speeds(rows)
    return rows


def _order(rows: list[dict[str, Any]]) -> Any:
    names = [w.name for w in workloads.ALL_WORKLOADS]
    names += [workloads.MEMORY_INFLIGHT, workloads.MEMORY_IDLE]
    bench_rank = {name: i for i, name in enumerate(names)}
    first_seen: dict[str, int] = {}
    for r in rows:
        first_seen.setdefault(r["bench"], len(first_seen))
    impl_rank = {c.name: i for i, c in enumerate(clients.CLIENTS)}
    group_rank = {"http": 0, "h2": 1, "ws": 2, "memory": 3, "micro": 4, "import": 5}

    def key(r: dict[str, Any]) -> tuple[int, int, int, int, str]:
        return (
            group_rank.get(r["group"], 9),
            bench_rank.get(r["bench"], 100 + first_seen[r["bench"]]),
            LOOP_ORDER.get(r["loop"], 3),
            impl_rank.get(r["impl"], 50),
            r["impl"],
        )

    return key


def add_speeds(rows: list[dict[str, Any]]) -> None:
    """Set ``speed`` and ``reference`` on every row (None when there is no reference)."""
    by_case: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_case.setdefault((r["bench"], r["loop"]), {})[r["impl"]] = r
    for case in by_case.values():
        ref = next((case[n] for n in REFERENCES if n in case and case[n]["value"]), None)
        for r in case.values():
            r["reference"] = ref["impl"] if ref else None
            if ref is None or not r["value"]:
                r["speed"] = None
            elif higher_is_better(r["unit"]):
                r["speed"] = r["value"] / ref["value"]
            else:
                r["speed"] = ref["value"] / r["value"]


def _peer_rank(impl: str) -> int | None:
    """Which row stands for aiohttp: aiohttp itself, else its compiled flavour, else any."""
    name = impl.lower()
    if "aiohttp" not in name or impl == clients.FLOOR:
        return None
    if name == "aiohttp":
        return 0
    if "pure" in name or "python" in name:
        return 2
    return 1


def _faster(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How many times faster row ``a`` is than row ``b`` (same unit)."""
    if higher_is_better(a["unit"]):
        return float(a["value"] / b["value"])
    return float(b["value"] / a["value"])


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """cyhttp compiled against aiohttp for each target of the issue (and import time)."""
    out: list[dict[str, Any]] = []
    for prefix, minimum in TARGETS:
        cases: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rows:
            if not r["bench"].startswith(prefix) or not r["value"]:
                continue
            case = cases.setdefault((r["bench"], r["loop"]), {})
            rank = _peer_rank(r["impl"])
            if r["impl"] == clients.BASELINE:
                case["cy"] = r
            elif r["impl"] == clients.FLOOR:
                case["floor"] = r
            elif rank is not None and ("aio" not in case or rank < case["aio_rank"]):
                case["aio"], case["aio_rank"] = r, rank
        for (bench, loop), pair in cases.items():
            if "cy" in pair and "aio" in pair:
                cy, aio = pair["cy"], pair["aio"]
                ratio = _faster(cy, aio)
                # how much faster than aiohttp a client doing no work at all was
                ceiling = _faster(pair["floor"], aio) if "floor" in pair else None
                cpu_cy, cpu_aio = cy.get("cpu_us_per_op"), aio.get("cpu_us_per_op")
                out.append(
                    {
                        "what": f"{bench} ({loop})" if loop != "-" else bench,
                        "versus": aio["impl"],
                        "ratio": ratio,
                        "cpu_ratio": cpu_aio / cpu_cy if cpu_cy and cpu_aio else None,
                        "ceiling": ceiling,
                        "target": minimum,
                        "met": ratio >= minimum,
                    }
                )
    out += h2_targets(rows)
    out += field_targets(rows)
    by_key = {(r["bench"], r["impl"]): r for r in rows if r["value"]}
    for bench, peer, minimum, words in PEER_TARGETS:
        cy, other = by_key.get((bench, clients.BASELINE)), by_key.get((bench, peer))
        if cy is not None and other is not None:
            ratio = _faster(cy, other)
            out.append(
                {
                    "what": words,
                    "versus": f"the {peer} package",
                    "ratio": ratio,
                    "target": minimum,
                    "met": ratio >= minimum,
                }
            )
    for bench, minimum in PURE_TARGETS:
        cy, aio = by_key.get((bench, "cyhttp pure")), by_key.get((bench, "aiohttp pure"))
        if cy is not None and aio is not None:
            ratio = _faster(cy, aio)
            out.append(
                {
                    "what": f"{bench}, pure-Python twin",
                    "versus": "aiohttp pure",
                    "ratio": ratio,
                    "target": minimum,
                    "met": ratio >= minimum,
                }
            )
    for bench, unit, bound, sense in ABSOLUTE_TARGETS:
        r = by_key.get((bench, clients.BASELINE))
        if r is not None and r["unit"] == unit:
            value = r["value"]
            out.append(
                {
                    "what": f"{bench} ({unit}, absolute)",
                    "versus": None,
                    "ratio": value,
                    "unit": unit,
                    "sense": sense,
                    "target": bound,
                    "met": value <= bound if sense == "<=" else value >= bound,
                }
            )
    return out


def h2_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per HTTP/2 row and loop: cyhttp compiled's req/s at least the fastest peer's, and its
    CPU per request at most that peer's (both must hold)."""
    cases: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["bench"].startswith(H2_PREFIX) and r["value"]:
            cases.setdefault((r["bench"], r["loop"]), []).append(r)
    out: list[dict[str, Any]] = []
    for (bench, loop), case in cases.items():
        peers = [r for r in case if _is_peer(r["impl"])]
        if not peers:
            continue
        best = max(peers, key=lambda r: r["value"])
        floor = next((r for r in case if r["impl"] == clients.FLOOR), None)
        for cy in (r for r in case if r["impl"] in _H2_JUDGED):
            out.append(_h2_target(bench, loop, cy, best, floor))
    return out


def _h2_target(
    bench: str,
    loop: str,
    cy: dict[str, Any],
    best: dict[str, Any],
    floor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One cyhttp row against the fastest HTTP/2 peer (see :func:`h2_targets`), with the
    floor's rate and CPU on the same transport when it ran."""
    cpu_cy, cpu_best = cy.get("cpu_us_per_op"), best.get("cpu_us_per_op")
    speed_met = cy["value"] >= best["value"]
    cpu_met = cpu_cy is not None and cpu_best is not None and cpu_cy <= cpu_best
    return {
        "what": f"{bench} ({loop})" + ("" if cy["impl"] == clients.BASELINE else f", {cy['impl']}"),
        "kind": "h2",
        "versus": best["impl"],
        "ratio": cy["value"] / best["value"],
        "value": cy["value"],
        "peer_value": best["value"],
        "cpu_us": cpu_cy,
        "peer_cpu_us": cpu_best,
        "cpu_ratio": cpu_best / cpu_cy if cpu_cy and cpu_best else None,
        "target": 1.0,
        "speed_met": speed_met,
        "cpu_met": cpu_met,
        "met": speed_met and cpu_met,
        "floor_value": None if floor is None else floor["value"],
        "floor_cpu_us": None if floor is None else floor.get("cpu_us_per_op"),
    }


def _is_cyhttp(impl: str) -> bool:
    return impl.startswith("cyhttp")


def _is_peer(impl: str) -> bool:
    """Another client: not cyhttp in any of its forms, nor the floor (which does no work)."""
    return not _is_cyhttp(impl) and impl != clients.FLOOR


def field_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per HTTP/1.1 workload (plain and TLS) and loop: each compiled cyhttp row (with and
    without aiofastnet) against every other client: req/s at least the fastest peer's and
    CPU per request at most :data:`FIELD_CPU_SHARE` of the thriftiest peer's. Per WebSocket
    echo: msg/s at least :data:`WS_PEER`'s."""
    cases: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["group"] in ("http", "ws") and r["value"]:
            cases.setdefault((r["bench"], r["loop"]), []).append(r)
    out: list[dict[str, Any]] = []
    for (bench, loop), case in cases.items():
        ws = case[0]["group"] == "ws"
        peers = [r for r in case if _is_peer(r["impl"]) and (not ws or r["impl"] == WS_PEER)]
        mine = [r for r in case if _is_cyhttp(r["impl"]) and r["impl"] != "cyhttp pure"]
        if not peers or not mine:
            continue
        fastest = max(peers, key=lambda r: r["value"])
        costs = [r for r in peers if r.get("cpu_us_per_op")]
        thriftiest = min(costs, key=lambda r: r["cpu_us_per_op"]) if costs else None
        floor = next((r for r in case if r["impl"] == clients.FLOOR), None)
        for cy in mine:
            out.append(_field_target(bench, loop, cy, fastest, thriftiest, floor, ws))
    return out


def _field_target(
    bench: str,
    loop: str,
    cy: dict[str, Any],
    fastest: dict[str, Any],
    thriftiest: dict[str, Any] | None,
    floor: dict[str, Any] | None,
    ws: bool,
) -> dict[str, Any]:
    """One cyhttp row against the field (see :func:`field_targets`)."""
    speed_met = cy["value"] >= fastest["value"]
    cpu = cy.get("cpu_us_per_op")
    bound = None if ws or thriftiest is None else FIELD_CPU_SHARE * thriftiest["cpu_us_per_op"]
    cpu_met = None if bound is None else (cpu is not None and cpu <= bound)
    return {
        "what": f"{bench} ({loop})",
        "kind": "field",
        "client": cy["impl"],
        "versus": fastest["impl"],
        "ratio": cy["value"] / fastest["value"],
        "value": cy["value"],
        "peer_value": fastest["value"],
        "cpu_us": cpu,
        "cpu_bound_us": bound,
        "cpu_versus": None if thriftiest is None else thriftiest["impl"],
        "ceiling": None if floor is None else floor["value"] / fastest["value"],
        "floor_cpu_us": None if floor is None else floor.get("cpu_us_per_op"),
        "speed_met": speed_met,
        "cpu_met": cpu_met,
        "met": speed_met and cpu_met is not False,
    }


def _field_line(t: dict[str, Any]) -> str:
    """One target against the field, both halves marked, with the floor's ceiling."""
    line = (
        f"  {t['what']}, {t['client']}: {t['ratio']:.2f}x the fastest peer "
        f"({t['versus']}: {fmt_value(t['value'])} vs {fmt_value(t['peer_value'])}) "
        f"{'met' if t['speed_met'] else 'MISSED'}"
    )
    if t["cpu_met"] is not None:
        line += (
            f"; CPU {fmt_value(t['cpu_us'])} us <= {FIELD_CPU_SHARE}x {t['cpu_versus']}'s "
            f"= {fmt_value(t['cpu_bound_us'])} us {'met' if t['cpu_met'] else 'MISSED'}"
        )
    if t["ceiling"]:
        line += f"; ceiling here {t['ceiling']:.2f}x (raw protocol / {t['versus']})"
        if t.get("floor_cpu_us"):
            line += f", the raw protocol's CPU {fmt_value(t['floor_cpu_us'])} us"
    return line


def _h2_line(t: dict[str, Any]) -> str:
    """One HTTP/2 target in the words of the issue, each half marked."""

    def us(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f} us"

    line = (
        f"  {t['what']}: cyhttp req/s >= the fastest peer's ({t['versus']}): "
        f"{fmt_value(t['value'])} vs {fmt_value(t['peer_value'])} "
        f"{'met' if t['speed_met'] else 'MISSED'}; CPU per request <= theirs: "
        f"{us(t['cpu_us'])} vs {us(t['peer_cpu_us'])} {'met' if t['cpu_met'] else 'MISSED'}"
    )
    if t.get("floor_value"):
        line += (
            f"; the raw protocol on the same TLS transport: {fmt_value(t['floor_value'])} "
            f"req/s, {us(t.get('floor_cpu_us'))}"
        )
    return line


def noisy(rows: list[dict[str, Any]], limit: float = 0.25) -> float | None:
    """The median spread of the rows when it is above ``limit`` (a busy machine), else None."""
    spreads = [r["spread"] for r in rows if r["spread"] is not None and r["runs"]]
    if not spreads:
        return None
    middle = statistics.median(spreads)
    return middle if middle > limit else None


def fmt_value(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _table(header: list[str], body: Iterable[list[str]], right: set[int]) -> list[str]:
    lines = [header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    out = [fmt(header), "  ".join("-" * w for w in widths)]
    previous = None
    for line in lines[1:]:
        if previous is not None and line[0] and line[0] != previous:
            out.append("")
        previous = line[0] or previous
        out.append(fmt(line))
    return out


def _cells(r: dict[str, Any], previous_bench: str | None) -> list[str]:
    speed = "" if r.get("speed") is None else f"{r['speed']:.2f}x"
    if r["value"] is None:
        note = " ".join(f"error: {r['error']}".split())[:90]
    else:
        failed = r["failed_runs"]
        note = ""
        if failed:
            first = " ".join(str(r["errors"][0]).split()) if r.get("errors") else ""
            note = f"{failed} of {failed + len(r['runs'])} runs failed: {first}"[:90]
    return [
        r["bench"] if r["bench"] != previous_bench else "",
        r["impl"],
        r["loop"],
        fmt_value(r["value"]),
        r["unit"],
        "" if r["spread"] is None else f"{100 * r['spread']:.0f}%",
        speed,
        "" if r.get("cpu_us_per_op") is None else f"{r['cpu_us_per_op']:,.0f}",
        note,
    ]


def text_table(rows: list[dict[str, Any]]) -> list[str]:
    body = []
    previous = None
    for r in rows:
        body.append(_cells(r, previous))
        previous = r["bench"]
    header = ["benchmark", "client", "loop", "median", "unit", "spread", "speed", "CPU us/op"]
    header.append("note")
    return _table(header, body, right={3, 5, 6, 7})


def targets_lines(found: list[dict[str, Any]]) -> list[str]:
    lines = []
    for t in found:
        mark = "met" if t["met"] else "MISSED"
        if t.get("kind") == "h2":
            lines.append(_h2_line(t))
        elif t.get("kind") == "field":
            lines.append(_field_line(t))
        elif t["versus"] is None:
            unit, sense = t.get("unit", "ms"), t.get("sense", "<=")
            lines.append(
                f"  {t['what']}: {fmt_value(t['ratio'])} {unit} "
                f"(target {sense} {fmt_value(t['target'])}) {mark}"
            )
        else:
            cpu = t.get("cpu_ratio")
            by_cpu = f"; {cpu:.2f}x by client CPU per op" if cpu else ""
            ceiling = t.get("ceiling")
            if ceiling:
                by_cpu += f"; ceiling here {ceiling:.2f}x (raw protocol / {t['versus']})"
            lines.append(
                f"  {t['what']}: {t['ratio']:.2f}x {t['versus']} "
                f"(target >= {t['target']:.1f}x) {mark}{by_cpu}"
            )
    return lines


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table for the README: median, spread and speed relative to cyhttp compiled."""
    out = [
        "| benchmark | client | loop | median | spread | speed vs cyhttp |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        median = f"{fmt_value(r['value'])} {r['unit']}" if r["value"] is not None else "error"
        spread = "" if r["spread"] is None else f"{100 * r['spread']:.0f}%"
        speed = "" if r.get("speed") is None else f"{r['speed']:.2f}x"
        out.append(f"| {r['bench']} | {r['impl']} | {r['loop']} | {median} | {spread} | {speed} |")
    return "\n".join(out) + "\n"


def write(document: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """``<UTC timestamp>[-quick].json`` and ``latest.json`` (+ ``latest.md``); returns the first."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = stamp + ("-quick" if document.get("settings", {}).get("quick") else "") + ".json"
    text = json.dumps(document, indent=1, default=str) + "\n"
    path = directory / name
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    (directory / "latest.md").write_text(markdown(document["rows"]))
    return path
