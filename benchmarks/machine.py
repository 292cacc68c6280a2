"""What the numbers were measured on, and where each process runs.

A table without the machine is worthless: the CPU model, the cores, the Python, the
library versions and the load average at the start go into the output and the JSON.
:func:`cpu_plan` splits the CPUs between servers and clients so that on a 2-core machine a
client cannot starve the server it measures.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata

PEERS = ("cyhttp", "aiohttp", "httpx", "aiosonic", "picows", "websockets", "uvloop", "httptools")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def versions() -> dict[str, str]:
    found = {}
    for name in PEERS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages, where the OS has them."""
    if not hasattr(os, "getloadavg"):
        return None
    return [round(x, 2) for x in os.getloadavg()]


def describe() -> dict[str, object]:
    """Everything about the machine that a reader of the table needs."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cpus": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "executable": sys.executable,
        "load_average_at_start": load_average(),
        "versions": versions(),
    }


@dataclass(frozen=True)
class CpuPlan:
    server: frozenset[int] | None
    client: frozenset[int] | None
    note: str


def cpu_plan() -> CpuPlan:
    """Servers on the first usable CPU, clients on the second, when the OS lets us pin."""
    if not hasattr(os, "sched_setaffinity"):
        return CpuPlan(None, None, "not pinned: this OS has no os.sched_setaffinity")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return CpuPlan(None, None, "not pinned: only one CPU is usable")
    return CpuPlan(
        frozenset({cpus[0]}),
        frozenset({cpus[1]}),
        f"servers pinned to CPU {cpus[0]}, clients to CPU {cpus[1]} (os.sched_setaffinity)",
    )


def summary(info: dict[str, object], plan: CpuPlan) -> list[str]:
    """The machine in three lines, for the top of the table."""
    vers = info["versions"]
    assert isinstance(vers, dict)
    libs = ", ".join(f"{k} {v}" for k, v in vers.items())
    return [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['python']}, {info['platform']}",
        f"Load average at start: {info['load_average_at_start']}; {plan.note}",
        f"Versions: {libs}",
    ]
