"""The parser and masker micro-benchmarks, each run in a process of its own.

``bench_parser.py`` and ``bench_mask.py`` (written alongside the parser and the WebSocket
modules) expose ``run(quick: bool = False) -> list[dict]``; their rows carry ``bench``,
``impl``, ``value``, ``unit`` and ``spread`` and go into the table as they are. A module
that is not there yet, or that fails, gives a note instead of rows: never a failed run.

Run as ``python -m benchmarks.micro bench_parser [--quick]``: prints the rows as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from benchmarks import procs

MODULES = ("bench_parser", "bench_mask", "bench_hpack", "bench_h2frames", "bench_h2conn")
HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED = ("bench", "impl", "value", "unit")


def available(module: str) -> bool:
    return os.path.isfile(os.path.join(HERE, f"{module}.py"))


def collect(
    module: str, quick: bool, cpus: frozenset[int] | None
) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None) or ([], why not)."""
    if not available(module):
        return [], f"benchmarks/{module}.py is not there yet"
    argv = [sys.executable, "-m", "benchmarks.micro", module] + (["--quick"] if quick else [])
    done = procs.run(argv, cpus, timeout=180.0 if quick else 600.0)
    if done.returncode is None:
        return [], f"{module}: killed at the time limit"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return [], f"{module}: {tail[0][:200]}"
    try:
        rows = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        return [], f"{module}: unreadable output ({exc})"
    good = [r for r in rows if isinstance(r, dict) and all(k in r for k in REQUIRED)]
    if len(good) != len(rows):
        return good, f"{module}: {len(rows) - len(good)} rows without {', '.join(REQUIRED)}"
    return good, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=MODULES)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    procs.die_with_parent()
    mod = importlib.import_module(f"benchmarks.{args.module}")
    rows = mod.run(quick=args.quick)
    sys.stdout.write(json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
