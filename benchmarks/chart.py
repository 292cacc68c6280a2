"""The PNG: one small panel per benchmark, every client's speed relative to cyhttp compiled.

Relative speed (1.0 = as fast as cyhttp compiled on the same loop, 2.0 = twice as fast)
puts workloads measured in req/s, msg/s and ms on one visual scale, and the dashed line
at 1.0 makes "faster or slower than cyhttp" readable at a glance. Each panel's title
gives the reference's absolute number, so nothing is hidden by the normalisation, and the
whiskers span the slowest to the fastest round, so a noisy machine shows as such.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmarks import report

LOOP_COLOURS = {"asyncio": "#4C72B0", "uvloop": "#DD8452", "-": "#55A868"}


def _short(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return report.fmt_value(value)


def _reference_text(refs: list[dict[str, Any]]) -> str:
    """``cyhttp compiled: 1,807 (asyncio), 3,117 (uvloop) req/s``, grouped by reference."""
    parts = []
    for impl in dict.fromkeys(r["impl"] for r in refs):
        mine = [r for r in refs if r["impl"] == impl]
        values = ", ".join(
            _short(r["value"]) + (f" ({r['loop']})" if r["loop"] != "-" else "") for r in mine
        )
        parts.append(f"{impl}: {values} {mine[0]['unit']}")
    return "1.0 = " + ("; ".join(parts) if parts else "no reference")


def draw(rows: list[dict[str, Any]], path: Path, title: str, subtitle: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches: list[str] = list(dict.fromkeys(r["bench"] for r in rows))
    ncols = 3 if len(benches) > 4 else max(1, len(benches))
    nrows = max(1, math.ceil(len(benches) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 * ncols, 3.3 * nrows), squeeze=False)
    for ax in axes.flat[len(benches) :]:
        ax.set_visible(False)
    for ax, bench in zip(axes.flat, benches, strict=False):
        _panel(ax, [r for r in rows if r["bench"] == bench], bench)
    fig.suptitle(f"{title}\n{subtitle}", fontsize=11)
    loops = [loop for loop in dict.fromkeys(r["loop"] for r in rows) if loop != "-"]
    if loops:
        handles = [_patch(LOOP_COLOURS.get(loop, "#888"), f"{loop} loop") for loop in loops]
        fig.legend(handles=handles, loc="upper right", fontsize=9, ncols=len(handles))
    height = 3.3 * nrows
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / height))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _panel(ax: Any, rows: list[dict[str, Any]], bench: str) -> None:
    impls = list(dict.fromkeys(r["impl"] for r in rows))
    loops = list(dict.fromkeys(r["loop"] for r in rows))
    height = 0.8 / len(loops)
    biggest = max([_whisker(r)[1] for r in rows if r["speed"]] + [1.0])
    refs: list[dict[str, Any]] = []
    for j, loop in enumerate(loops):
        for i, impl in enumerate(impls):
            row = next((r for r in rows if r["impl"] == impl and r["loop"] == loop), None)
            if row is None:
                continue
            y = i + (j - (len(loops) - 1) / 2) * height
            if row["speed"] is None:
                label = "error (see table)" if row["value"] is None else "no reference"
                ax.text(0.02 * biggest, y, label, va="center", fontsize=7, color="#C44E52")
                continue
            low, high = _whisker(row)
            ax.barh(
                y,
                row["speed"],
                height=height * 0.9,
                color=LOOP_COLOURS.get(loop, "#888"),
                xerr=[[row["speed"] - low], [high - row["speed"]]],
                error_kw={"ecolor": "#555", "elinewidth": 0.7, "capsize": 1.5},
            )
            ax.text(high, y, f" {row['speed']:.2f}x", va="center", fontsize=7)
            if row["impl"] == row["reference"]:
                refs.append(row)
    ax.axvline(1.0, color="#333", linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(impls)), impls, fontsize=8)
    ax.set_xlim(0, biggest * 1.25)
    ax.tick_params(axis="x", labelsize=7)
    lower = ""
    if rows[0].get("group") == "memory":
        lower = " (less memory = longer bar)"
    elif not report.higher_is_better(rows[0]["unit"]):
        lower = " (lower time = faster)"
    ax.set_title(f"{bench}{lower}\n{_reference_text(refs)}", fontsize=8.5)
    ax.set_ylim(len(impls) - 0.4, -0.6)


def _whisker(row: dict[str, Any]) -> tuple[float, float]:
    """The slowest and fastest run, as relative speeds (the spread, drawn)."""
    speed = row["speed"]
    runs = [v for v in row.get("runs") or [] if v]
    if len(runs) > 1 and row["value"]:
        scaled = [speed * v / row["value"] for v in runs]
        if not report.higher_is_better(row["unit"]):
            scaled = [speed * row["value"] / v for v in runs]
        return min(scaled), max(scaled)
    half = speed * (row.get("spread") or 0.0) / 2
    return speed - half, speed + half


def _patch(colour: str, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=colour, label=label)
