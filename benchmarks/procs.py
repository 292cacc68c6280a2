"""Processes: event loop choice, readiness handshake, CPU pinning, and always stopping.

Every server and every client runs in a process of its own so that one library's import
side effects, garbage or crash cannot touch another's numbers. A server binds port 0 and
prints ``READY <port>`` when it accepts connections; the parent waits for that line (with a
timeout) instead of sleeping and hoping. Servers are stopped in ``finally`` blocks (also on
Ctrl-C), and on Linux they also ask the kernel to kill them when the parent dies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent exits, so no server outlives a crash."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent is already gone
        sys.exit(1)


def new_event_loop(name: str) -> tuple[asyncio.AbstractEventLoop, str]:
    """A fresh loop: ``"uvloop"`` when importable (else asyncio), or ``"asyncio"``."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop(), "uvloop"
    return asyncio.new_event_loop(), "asyncio"


def uvloop_available() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


class Ready:
    """The child's side of the handshake."""

    def announce(self, port: int, *more: int) -> None:
        sys.stdout.write(" ".join(["READY", str(port), *map(str, more)]) + "\n")
        sys.stdout.flush()


async def until_stopped() -> None:
    """Return on SIGTERM or SIGINT (the parent's stop, or Ctrl-C in the terminal)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def run_server(serve: Callable[[Ready], Awaitable[None]], loop_name: str) -> None:
    """Entry point of a server process."""
    die_with_parent()
    loop, _ = new_event_loop(loop_name)
    try:
        loop.run_until_complete(serve(Ready()))
    finally:
        loop.close()


def server_main(serve: Callable[[Ready], Awaitable[None]], description: str) -> None:
    """``main()`` of a server module: ``--loop uvloop|asyncio``, then :func:`run_server`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    run_server(serve, parser.parse_args().loop)


async def serve_until_stopped(
    server: asyncio.AbstractServer, ready: Ready, *more: asyncio.AbstractServer
) -> None:
    """Announce the listening ports to the parent (``server``'s first), then serve until
    told to stop."""
    ports = [s.sockets[0].getsockname()[1] for s in (server, *more)]
    async with contextlib.AsyncExitStack() as stack:
        for each in (server, *more):
            await stack.enter_async_context(each)
        ready.announce(*ports)
        await until_stopped()


def raise_open_files_limit() -> None:
    """Lift this process's soft limit on open files to the hard one: the memory rows keep
    hundreds of connections open at once, in the client and in the server."""
    try:
        import resource
    except ImportError:  # not on this OS
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --- the parent's side -------------------------------------------------------------------


def pin(pid: int, cpus: frozenset[int] | None) -> None:
    """Pin a process to ``cpus`` where the OS allows it (Linux); otherwise do nothing."""
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: ours, unbuffered, without a stray CYHTTP_NO_EXTENSIONS
    or CYHTTP_NO_AIOFASTNET (each client's spec sets those it needs)."""
    stray = ("CYHTTP_NO_EXTENSIONS", "CYHTTP_NO_AIOFASTNET")
    env = {k: v for k, v in os.environ.items() if k not in stray}
    env["PYTHONUNBUFFERED"] = "1"
    # children import ``benchmarks`` whatever the current directory is
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, a short grace period, then SIGKILL; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


class StartError(RuntimeError):
    """A server did not become ready."""


@dataclass
class Server:
    """A running server process and the port it listens on."""

    name: str
    proc: subprocess.Popen[str]
    port: int
    #: further ports the server announced (the embedded HTTP server's TLS port)
    more_ports: tuple[int, ...] = ()


def _read_ready(proc: subprocess.Popen[str], timeout: float) -> list[int]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartError(f"no READY line within {timeout:.0f} s")
            if not sel.select(left):
                continue
            line = proc.stdout.readline()
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                raise StartError(f"exited with {proc.wait()} before READY: {err.strip()[-500:]}")
            if line.startswith("READY "):
                return [int(p) for p in line.split()[1:]]


@contextlib.contextmanager
def server(
    name: str, argv: Sequence[str], cpus: frozenset[int] | None, timeout: float = 20.0
) -> Iterator[Server]:
    """Start ``argv``, wait for its READY line, yield it, and stop it whatever happens."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        pin(proc.pid, cpus)
        port, *more = _read_ready(proc, timeout)
        yield Server(name, proc, port, tuple(more))
    finally:
        stop(proc)


@dataclass
class Finished:
    """What a client process left behind."""

    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


def run(
    argv: Sequence[str],
    cpus: frozenset[int] | None,
    timeout: float,
    env: dict[str, str] | None = None,
) -> Finished:
    """Run a client process to the end (or kill it at ``timeout``), pinned to ``cpus``."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(env),
    )
    try:
        pin(proc.pid, cpus)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return Finished(None, out, err)
        return Finished(proc.returncode, out, err)
    finally:
        stop(proc)
