"""What the HTTP/2 micro-benchmarks (``bench_hpack``, ``bench_h2frames``, ``bench_h2conn``)
share: calibrating a loop count, the row of a timed or missing peer, the table printed by
``python -m benchmarks.bench_<name>``, and that command's ``main``.

A row is ``{"bench", "impl", "value", "unit", "spread"}`` (plus ``"error"`` when the peer
could not run): ``value`` is the median over alternating rounds, ``spread`` is
(max - min) / median, as ``micro.collect`` expects.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any


def calibrate(fn: Callable[[], Any], target: float, cap: int = 1 << 24) -> int:
    """Loop count that makes one sample of ``fn`` last about ``target`` seconds."""
    loops = 1
    while True:
        elapsed = sample(fn, loops)
        if elapsed >= target / 4 or loops >= cap:
            return max(1, int(loops * target / max(elapsed, 1e-9)))
        loops *= 4


def sample(fn: Callable[[], Any], loops: int) -> float:
    """Seconds taken by ``loops`` calls of ``fn``."""
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - t0


def missing_row(bench: str, impl: str, why: str) -> dict[str, Any]:
    """The row of a peer that cannot run here, with the reason."""
    return {"bench": bench, "impl": impl, "value": None, "unit": "us", "spread": None,
            "error": why}  # fmt: skip


def timed_row(bench: str, impl: str, values: list[float]) -> dict[str, Any]:
    """The row of a peer measured ``values`` (microseconds, one per round)."""
    median = statistics.median(values)
    return {"bench": bench, "impl": impl, "value": round(median, 3), "unit": "us",
            "spread": round((max(values) - min(values)) / median, 3)}  # fmt: skip


def table(rows: list[dict[str, Any]], baseline: str, unit: str, width: int = 16) -> str:
    """The rows as text, each with its speed relative to the ``baseline`` peer."""
    header = f"speed vs {baseline}"
    lines = [f"{'bench':<{width}} {'impl':<16} {unit:>9} {'spread':>7} {header:>20}"]
    base = {r["bench"]: r["value"] for r in rows if r["impl"] == baseline}
    for r in rows:
        if r["value"] is None:
            lines.append(f"{r['bench']:<{width}} {r['impl']:<16} {'error: ' + r['error']}")
            continue
        ratio = f"{base[r['bench']] / r['value']:.1f}x" if base.get(r["bench"]) else "-"
        lines.append(
            f"{r['bench']:<{width}} {r['impl']:<16} {r['value']:>9.3f} {r['spread']:>7.1%} "
            f"{ratio:>20}"
        )
    return "\n".join(lines)


def main(
    doc: str | None, run: Callable[..., list[dict[str, Any]]], render: Callable[..., str]
) -> None:
    """``python -m benchmarks.bench_<name> [--quick]``: measure, then print the table."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args()
    print(render(run(quick=args.quick)))
