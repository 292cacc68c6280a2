"""How long ``import cyhttp`` takes in a fresh interpreter, beside its peers.

Each sample is a new interpreter that times its own ``import <library>`` with
``time.perf_counter`` (interpreter start-up itself is not counted, the library's imports
of asyncio, ssl and so on are). Libraries alternate sample by sample, like the clients.
"""

from __future__ import annotations

import sys

from benchmarks import procs

#: table name → (module to import, extra environment)
LIBRARIES: dict[str, tuple[str, dict[str, str]]] = {
    "cyhttp compiled": ("cyhttp", {}),
    "cyhttp pure": ("cyhttp", {"CYHTTP_NO_EXTENSIONS": "1"}),
    "aiohttp": ("aiohttp", {}),
    "httpx": ("httpx", {}),
    "aiosonic": ("aiosonic", {}),
}
TARGET_MS = 60.0

_CODE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - t) * 1000.0)\n"
)


def sample(module: str, env: dict[str, str], cpus: frozenset[int] | None) -> float:
    """One fresh-interpreter import of ``module``, in milliseconds."""
    done = procs.run([sys.executable, "-c", _CODE.format(module=module)], cpus, 60.0, env)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["killed at the time limit"])[-1]
        raise RuntimeError(last[:200])
    return float(done.stdout.strip().splitlines()[-1])
