"""HTTP proxies on 127.0.0.1 for the proxy tests.

* :func:`proxy_py` starts the ``proxy.py`` package (a real, independent HTTP proxy with
  CONNECT support, optionally requiring Basic credentials) as a subprocess on a free port,
  waits until it accepts connections, and at the end kills its whole process group
  (proxy.py forks acceptor and worker processes: killing only the first process would
  leave them running after the tests).
* :func:`recording_proxy` is a small hand-written proxy that records every request head
  it receives (CONNECT and absolute-form ones) and then relays bytes both ways, so tests
  can assert exactly what a proxy gets to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from .servers import tcp_server

_PROXY_BIN = Path(sys.executable).with_name("proxy")

#: session ids of every proxy.py started here (each runs in a new session, whose id is
#: its first process's pid): tests/conftest.py checks that none of them outlives the run.
STARTED_SESSIONS: set[int] = set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ProxyProcess:
    port: int
    auth: str | None

    @property
    def url(self) -> URL:
        return URL(f"http://127.0.0.1:{self.port}")


def _wait_accepting(port: int, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy.py exited early with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"proxy.py did not accept connections on port {port} in {limit} s")


@contextlib.contextmanager
def proxy_py(basic_auth: str | None = None) -> Iterator[ProxyProcess]:
    """Run ``proxy.py`` on a free port of 127.0.0.1 (``basic_auth`` = "user:pass")."""
    port = free_port()
    with proxy_py_process(port, basic_auth) as proc:
        _wait_accepting(port, proc)
        yield ProxyProcess(port=port, auth=basic_auth)


@contextlib.contextmanager
def proxy_py_process(
    port: int,
    basic_auth: str | None = None,
    extra: list[str] | None = None,
    cwd: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``proxy.py`` listening on ``port`` of 127.0.0.1 (with ``extra`` arguments), in a
    session of its own that is killed whole on exit and checked at the end of the run."""
    args = [
        str(_PROXY_BIN),
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
        "--num-workers",
        "1",
        "--num-acceptors",
        "1",
        "--log-level",
        "WARNING",
        *(extra or []),
    ]
    if basic_auth:
        args += ["--basic-auth", basic_auth]
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith("PYTHONTRACEMALLOC")
    }
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        cwd=cwd,
    )
    STARTED_SESSIONS.add(proc.pid)
    try:
        yield proc
    finally:
        kill_session(proc)


def session_members(sid: int) -> list[int]:
    """The pids of the live processes in session ``sid`` (zombies excluded)."""
    import psutil

    members = []
    for candidate in psutil.process_iter(["status"]):
        try:
            if os.getsid(candidate.pid) != sid:
                continue
        except OSError:  # gone meanwhile, or not ours to ask about
            continue
        if candidate.info["status"] != psutil.STATUS_ZOMBIE:
            members.append(candidate.pid)
    return members


def kill_session(proc: subprocess.Popen[bytes], limit: float = 10.0) -> None:
    """Kill every process of ``proc``'s process group (it leads a session of its own:
    ``start_new_session=True``) and wait until none is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=limit)
    deadline = time.monotonic() + limit
    while session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass
class RecordingProxy:
    port: int
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0
    answer_connect: bytes = b"HTTP/1.1 200 Connection established\r\n\r\n"

    @property
    def url(self) -> URL:
        return URL(f"http://127.0.0.1:{self.port}")


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def recording_proxy() -> AsyncIterator[RecordingProxy]:
    """A minimal proxy: records each request head; CONNECT gets ``answer_connect`` (200 by
    default) and then a byte relay to the target; an absolute-form request is forwarded
    as it came (head included) to its target, and the answer relayed back."""
    state = RecordingProxy(port=0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            state.heads.append(head)
            method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
            if method == b"CONNECT":
                if not state.answer_connect.startswith(b"HTTP/1.1 200"):
                    writer.write(state.answer_connect)
                    await writer.drain()
                    return
                host, _, port = target.rpartition(b":")
                up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
                writer.write(state.answer_connect)
                first = b""
            else:
                url = URL(target.decode())
                up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
                first = head
            up_writer.write(first)
            await asyncio.gather(_relay(reader, up_writer), _relay(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async with tcp_server(on_connect) as port:
        state.port = port
        yield state
