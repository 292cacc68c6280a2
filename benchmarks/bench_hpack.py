"""HPACK micro-benchmark: cyhttp's codec (compiled, pure) beside the ``hpack`` package.

``python -m benchmarks.bench_hpack [--quick]`` prints a table; ``run(quick)`` returns the
rows. The workload is a typical 9-field response header block:

* ``decode first``: a fresh decoder decodes the block as a server's first response sends
  it (Huffman-coded literals, each added to the dynamic table);
* ``decode repeat``: a decoder that has seen that block decodes the next one (nine
  indices into the dynamic table);
* ``encode first``: a fresh encoder encodes the header list.

Every peer gets the same bytes; ``hpack`` decodes with ``raw=True`` so that all return
bytes. Peers run in alternating rounds so that a noisy neighbour hits all alike. ``value``
is the median time per block in microseconds; ``spread`` is (max - min) / median.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

HEADERS = [
    (b":status", b"200"),
    (b"date", b"Sun, 06 Dec 2026 10:46:18 GMT"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", b"1234"),
    (b"server", b"nginx/1.25.3"),
    (b"cache-control", b"private, max-age=0"),
    (b"etag", b'"5f3a1b2c-4d2"'),
    (b"vary", b"Accept-Encoding"),
    (b"last-modified", b"Sat, 05 Dec 2026 08:00:00 GMT"),
]

Fn = Callable[[], object]


def _blocks() -> tuple[bytes, bytes]:
    from cyhttp import _hpack_py

    encoder = _hpack_py.Encoder()
    return encoder.encode(HEADERS), encoder.encode(HEADERS)


def _ours(module: Any, first: bytes, repeat: bytes) -> dict[str, Fn]:
    primed = module.Decoder()
    primed.decode(first)
    return {
        "decode first": lambda: module.Decoder().decode(first),
        "decode repeat": lambda: primed.decode(repeat),
        "encode first": lambda: module.Encoder().encode(HEADERS),
    }


def _hpack_package(first: bytes, repeat: bytes) -> dict[str, Fn]:
    import hpack

    primed = hpack.Decoder()
    primed.decode(first, raw=True)
    return {
        "decode first": lambda: hpack.Decoder().decode(first, raw=True),
        "decode repeat": lambda: primed.decode(repeat, raw=True),
        "encode first": lambda: hpack.Encoder().encode(HEADERS),
    }


def _peers() -> list[tuple[str, dict[str, Fn] | None, str]]:
    """(impl name, bench name -> function, or None with the reason it is missing)."""
    from cyhttp import hpack as ours

    first, repeat = _blocks()
    peers: list[tuple[str, dict[str, Fn] | None, str]] = []
    compiled = ours.hpack_c
    peers.append(
        (
            "cyhttp compiled",
            _ours(compiled, first, repeat) if compiled is not None else None,
            "cyhttp._hpack is not built",
        )
    )
    peers.append(("cyhttp pure", _ours(ours.hpack_py, first, repeat), ""))
    try:
        peers.append(("hpack", _hpack_package(first, repeat), ""))
    except ImportError as exc:
        peers.append(("hpack", None, f"pip install hpack ({exc})"))
    return peers


def _calibrate(fn: Fn, target: float) -> int:
    """Loop count that makes one sample last about ``target`` seconds."""
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= target / 4 or loops >= 1 << 24:
            return max(1, int(loops * target / max(elapsed, 1e-9)))
        loops *= 4


def _sample(fn: Fn, loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - t0


def _check(peers: list[tuple[str, dict[str, Fn] | None, str]]) -> None:
    """Every peer must decode the blocks to the same list: a wrong answer is no result."""
    expected = list(HEADERS)
    for name, fns, _ in peers:
        if fns is None:
            continue
        for bench in ("decode first", "decode repeat"):
            got = [(bytes(n), bytes(v)) for n, v in fns[bench]()]  # type: ignore[attr-defined]
            if got != expected:
                raise AssertionError(f"{name} {bench} decodes wrongly: {got}")


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure every peer on every bench; one row per (bench, peer)."""
    rounds = 5 if quick else 11
    target = 0.01 if quick else 0.05
    peers = _peers()
    _check(peers)
    rows: list[dict[str, Any]] = []
    for bench in ("decode first", "decode repeat", "encode first"):
        live = []
        for name, fns, why in peers:
            if fns is None:
                rows.append({"bench": bench, "impl": name, "value": None, "unit": "us",
                             "spread": None, "error": why})  # fmt: skip
                continue
            live.append((name, fns[bench], _calibrate(fns[bench], target)))
        times: dict[str, list[float]] = {name: [] for name, *_ in live}
        for _ in range(rounds):
            for name, fn, loops in live:
                times[name].append(_sample(fn, loops) / loops * 1e6)
        for name, *_ in live:
            values = times[name]
            median = statistics.median(values)
            rows.append({"bench": bench, "impl": name, "value": round(median, 3), "unit": "us",
                         "spread": round((max(values) - min(values)) / median, 3)})  # fmt: skip
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'bench':<14} {'impl':<16} {'us/block':>9} {'spread':>7} {'speed vs hpack':>15}"]
    base = {r["bench"]: r["value"] for r in rows if r["impl"] == "hpack"}
    for r in rows:
        if r["value"] is None:
            lines.append(f"{r['bench']:<14} {r['impl']:<16} {'error: ' + r['error']}")
            continue
        ratio = f"{base[r['bench']] / r['value']:.1f}x" if base.get(r["bench"]) else "-"
        lines.append(
            f"{r['bench']:<14} {r['impl']:<16} {r['value']:>9.2f} {r['spread']:>7.1%} {ratio:>15}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args()
    print(_table(run(quick=args.quick)))


if __name__ == "__main__":
    main()
