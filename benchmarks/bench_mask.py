"""WebSocket masking throughput: cyhttp (compiled, pure) beside aiohttp (compiled, pure).

``python -m benchmarks.bench_mask [--quick]`` prints a table; ``run(quick)`` returns the rows
for ``python -m benchmarks``. Each peer masks the same bytearray in place with the same key,
in alternating rounds (A B C D A B C D ...) so that clock drift or a noisy neighbour hits
every peer alike. ``value`` is the median throughput in MB/s (10^6 bytes per second);
``spread`` is (max - min) / median over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

SIZES = (("125 B", 125), ("4 KiB", 4096), ("64 KiB", 65536), ("1 MiB", 1024 * 1024))
KEY = b"\x37\xfa\x21\x3d"

MaskFn = Callable[[bytes, bytearray], None]


def _peers() -> list[tuple[str, MaskFn | None, str]]:
    """(impl name, mask function or None, why it is missing)."""
    from cyhttp import _websocket_py, http_websocket

    peers: list[tuple[str, MaskFn | None, str]] = []
    compiled = http_websocket.websocket_c
    peers.append(
        (
            "cyhttp compiled",
            compiled.websocket_mask if compiled is not None else None,
            "cyhttp._websocket is not built",
        )
    )
    peers.append(("cyhttp pure", _websocket_py.websocket_mask, ""))
    try:
        from aiohttp._websocket.mask import _websocket_mask_cython

        peers.append(("aiohttp compiled", _websocket_mask_cython, ""))
    except ImportError as exc:
        peers.append(("aiohttp compiled", None, f"aiohttp._websocket.mask: {exc}"))
    try:
        from aiohttp._websocket.helpers import _websocket_mask_python

        peers.append(("aiohttp pure", _websocket_mask_python, ""))
    except ImportError as exc:
        peers.append(("aiohttp pure", None, f"aiohttp._websocket.helpers: {exc}"))
    return peers


def _calibrate(fn: MaskFn, data: bytearray, target: float) -> int:
    """Loop count that makes one sample last about ``target`` seconds."""
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(KEY, data)
        elapsed = time.perf_counter() - t0
        if elapsed >= target / 4 or loops >= 1 << 24:
            return max(1, int(loops * target / max(elapsed, 1e-9)))
        loops *= 4


def _sample(fn: MaskFn, data: bytearray, loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        fn(KEY, data)
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure every peer at every size; one row per (size, peer)."""
    rounds = 5 if quick else 11
    target = 0.01 if quick else 0.05
    rows: list[dict[str, Any]] = []
    peers = _peers()
    for label, size in SIZES:
        bench = f"mask {label}"
        live = []
        for name, fn, why in peers:
            if fn is None:
                rows.append(
                    {
                        "bench": bench,
                        "impl": name,
                        "value": None,
                        "unit": "MB/s",
                        "spread": None,
                        "error": why,
                    }
                )
                continue
            data = bytearray(bytes(range(256)) * (size // 256 + 1))[:size]
            live.append((name, fn, data, _calibrate(fn, data, target)))
        rates: dict[str, list[float]] = {name: [] for name, *_ in live}
        for _ in range(rounds):
            for name, fn, data, loops in live:
                rates[name].append(size * loops / _sample(fn, data, loops) / 1e6)
        for name, *_ in live:
            values = rates[name]
            median = statistics.median(values)
            rows.append(
                {
                    "bench": bench,
                    "impl": name,
                    "value": round(median, 1),
                    "unit": "MB/s",
                    "spread": round((max(values) - min(values)) / median, 3),
                }
            )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'bench':<14} {'impl':<18} {'MB/s':>10} {'spread':>7} {'vs aiohttp C':>12}"]
    base = {r["bench"]: r["value"] for r in rows if r["impl"] == "aiohttp compiled"}
    for r in rows:
        if r["value"] is None:
            lines.append(f"{r['bench']:<14} {r['impl']:<18} {'error: ' + r['error']}")
            continue
        ratio = f"{r['value'] / base[r['bench']]:.2f}x" if base.get(r["bench"]) else "-"
        lines.append(
            f"{r['bench']:<14} {r['impl']:<18} {r['value']:>10.1f} {r['spread']:>7.1%} {ratio:>12}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args()
    print(_table(run(quick=args.quick)))


if __name__ == "__main__":
    main()
