"""What the numbers were measured on, and where each process runs.

A table without the machine is worthless: the CPU model, the cores, the Python, the
library versions and the load average at the start go into the output and the JSON.
:func:`cpu_plan` places servers and clients on the CPUs: a client that takes turns with the
server (one small request or message in flight) shares the server's CPU (a context switch
instead of an idle core's wake-up per hop); a client that works while the server works (many
requests in flight, a large body streamed) runs on another CPU, so that neither starves the
other.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata

PEERS = (
    "cyhttp",
    "aiohttp",
    "httpx",
    "aiosonic",
    "wreq",
    "pyreqwest",
    "curl_cffi",
    "niquests",
    "picows",
    "websockets",
    "uvloop",
    "httptools",
)


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


PLACEMENTS = ("auto", "split", "shared")


@dataclass(frozen=True)
class CpuPlan:
    """Where each process runs (``None``: not pinned, the OS decides).

    ``pingpong`` is for the client of a workload where client and server take turns,
    ``parallel`` for one where both work at once (``Workload.parallel``); :attr:`client` is
    for client-side work with no server running (micro-benchmarks, import time).
    """

    server: frozenset[int] | None
    pingpong: frozenset[int] | None
    parallel: frozenset[int] | None
    note: str
    placement: str = "split"

    @property
    def client(self) -> frozenset[int] | None:
        return self.parallel

    def client_cpus(self, parallel: bool) -> frozenset[int] | None:
        """The client's CPUs for a workload whose two sides work at once, or take turns."""
        return self.parallel if parallel else self.pingpong

    def as_json(self) -> dict[str, object]:
        def cpus(value: frozenset[int] | None) -> list[int] | None:
            return sorted(value) if value is not None else None

        return {
            "placement": self.placement,
            "servers": cpus(self.server),
            "clients_pingpong": cpus(self.pingpong),
            "clients_parallel": cpus(self.parallel),
            "note": self.note,
        }


def cpu_plan(placement: str = "auto") -> CpuPlan:
    """Where servers and clients run, when the OS lets us pin.

    Servers always go on the first usable CPU. ``split``: every client on the second.
    ``shared``: every client on the first too, so a ping-pong hands the CPU over with a
    context switch instead of waking an idle core (on a virtual machine an idle core's
    wake-up costs tens of microseconds per hop, which a ping-pong pays twice per request
    whatever the client does: the table would measure the hypervisor). ``auto`` (the
    default): a client that takes turns with the server (one small request or message in
    flight) shares the server's CPU; one that works while the server works (50 requests in
    flight, a 1 MiB body read while the server is still sending it) gets the second, or
    the table would serialise what runs in parallel in any deployment.
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {PLACEMENTS}, not {placement!r}")
    if not hasattr(os, "sched_setaffinity"):
        return CpuPlan(
            None, None, None, "not pinned: this OS has no os.sched_setaffinity", placement
        )
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        note = "not pinned: only one CPU is usable, servers and clients share it"
        return CpuPlan(None, None, None, note, placement)
    first, second = frozenset({cpus[0]}), frozenset({cpus[1]})
    how = "(os.sched_setaffinity)"
    if placement == "shared":
        note = f"placement shared: servers and all clients on CPU {cpus[0]} {how}"
        return CpuPlan(first, first, first, note, placement)
    if placement == "split":
        note = f"placement split: servers on CPU {cpus[0]}, all clients on CPU {cpus[1]} {how}"
        return CpuPlan(first, second, second, note, placement)
    note = (
        f"placement auto: servers on CPU {cpus[0]}; ping-pong clients (one small request or "
        f"message in flight) on CPU {cpus[0]} too, parallel ones (50 in flight, 1 MiB bodies) "
        f"on CPU {cpus[1]} {how}"
    )
    return CpuPlan(first, first, second, note, placement)


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
