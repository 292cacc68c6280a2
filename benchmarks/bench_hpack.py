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

from collections.abc import Callable
from typing import Any

from benchmarks import microtime
from benchmarks.microtime import calibrate, missing_row, sample, table, timed_row

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
                rows.append(missing_row(bench, name, why))
                continue
            live.append((name, fns[bench], calibrate(fns[bench], target)))
        times: dict[str, list[float]] = {name: [] for name, *_ in live}
        for _ in range(rounds):
            for name, fn, loops in live:
                times[name].append(sample(fn, loops) / loops * 1e6)
        rows += [timed_row(bench, name, times[name]) for name, *_ in live]
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    return table(rows, "hpack", "us/block", width=14)


def main() -> None:
    microtime.main(__doc__, run, _table)


if __name__ == "__main__":
    main()
