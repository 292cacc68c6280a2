"""HTTP/2 frame reading: cyhttp's reader (compiled, pure) beside ``hyperframe`` (h2's).

``python -m benchmarks.bench_h2frames [--quick]`` prints a table; ``run(quick)`` returns the
rows. The workload is what a response looks like on the wire: a SETTINGS frame, HEADERS,
64 DATA frames of 1 KiB and 16 of 16 KiB, a WINDOW_UPDATE and a PING, read from one buffer.
``value`` is the median time per frame in microseconds (alternating rounds, as in
``bench_hpack``); ``spread`` is (max - min) / median.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import microtime
from benchmarks.microtime import calibrate, missing_row, sample, table, timed_row

Fn = Callable[[], int]


def _wire() -> tuple[bytes, int]:
    from cyhttp import _h2frames_py as frames
    from cyhttp._h2_models import (
        DataFrame,
        HeadersFrame,
        PingFrame,
        SettingsFrame,
        WindowUpdateFrame,
    )

    sent: list[Any] = [SettingsFrame(((3, 100), (4, 65535))), HeadersFrame(1, bytes(120))]
    sent += [DataFrame(1, bytes(1024)) for _ in range(64)]
    sent += [DataFrame(1, bytes(16384)) for _ in range(16)]
    sent += [WindowUpdateFrame(0, 1 << 20), PingFrame(b"12345678")]
    return b"".join(frames.serialize(f) for f in sent), len(sent)


def _ours(module: Any, wire: bytes) -> Fn:
    def read() -> int:
        reader = module.FrameReader()
        reader.feed(wire)
        return sum(1 for _ in reader)

    return read


def _hyperframe(wire: bytes) -> Fn:
    from hyperframe.frame import Frame

    def read() -> int:
        view = memoryview(wire)
        pos = count = 0
        while pos < len(wire):
            frame, length = Frame.parse_frame_header(view[pos : pos + 9])
            frame.parse_body(view[pos + 9 : pos + 9 + length])
            pos += 9 + length
            count += 1
        return count

    return read


def _peers(wire: bytes) -> list[tuple[str, Fn | None, str]]:
    from cyhttp import h2_frames

    compiled = h2_frames.h2frames_c
    peers: list[tuple[str, Fn | None, str]] = [
        (
            "cyhttp compiled",
            _ours(compiled, wire) if compiled is not None else None,
            "cyhttp._h2frames is not built",
        ),
        ("cyhttp pure", _ours(h2_frames.h2frames_py, wire), ""),
    ]
    try:
        peers.append(("hyperframe", _hyperframe(wire), ""))
    except ImportError as exc:
        peers.append(("hyperframe", None, f"pip install hyperframe ({exc})"))
    return peers


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure every peer; one row per peer."""
    rounds = 5 if quick else 11
    target = 0.01 if quick else 0.05
    wire, count = _wire()
    bench = f"read {count} frames"
    rows: list[dict[str, Any]] = []
    live = []
    for name, fn, why in _peers(wire):
        if fn is None:
            rows.append(missing_row(bench, name, why))
            continue
        if fn() != count:
            raise AssertionError(f"{name} read the wrong number of frames")
        live.append((name, fn, calibrate(fn, target, cap=1 << 20)))
    times: dict[str, list[float]] = {name: [] for name, *_ in live}
    for _ in range(rounds):
        for name, fn, loops in live:
            times[name].append(sample(fn, loops) / loops / count * 1e6)
    rows += [timed_row(bench, name, times[name]) for name, *_ in live]
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    return table(rows, "hyperframe", "us/frame")


def main() -> None:
    microtime.main(__doc__, run, _table)


if __name__ == "__main__":
    main()
