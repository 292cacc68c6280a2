"""The registry of clients: who runs which workloads, and in what environment.

Imports nothing heavy: the runner reads it to plan the rounds, and the client process
(``client_main``) uses :func:`load` to import one library only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

BASELINE = "cyhttp compiled"
#: cyhttp compiled on aiofastnet's compiled transports (the speedups extra)
FASTNET = "cyhttp+aiofastnet"
#: the rows FASTNET adds: every HTTP workload (HTTP/1.1 and HTTP/2), so each target
#: against the field is judged with and without the speedups extra
FASTNET_WORKLOADS = (
    "get_small_seq",
    "get_small_c50",
    "get_1m",
    "get_json_gzip",
    "post_64k",
    "https_small_seq",
    "https_small_c50",
    "https_1m",
    "h2_small_c100",
    "h2_1m_c10",
)
#: the cyhttp rows without aiofastnet keep measuring the loop's own transports
NO_FASTNET = {"CYHTTP_NO_AIOFASTNET": "1"}
#: the reference client that does no work (``client_floor``): what any client could reach
FLOOR = "raw protocol (floor)"


@dataclass(frozen=True)
class ClientSpec:
    key: str  # command-line name
    name: str  # the name in the table
    http: bool
    ws: bool
    env: dict[str, str] = field(default_factory=dict)
    #: the workload keys it runs; empty: every workload of the kinds it offers
    only: tuple[str, ...] = ()
    #: the module its adapter imports: without it the client is skipped, with a reason
    module: str = ""
    #: whether the memory rows (``client_memory``) measure it
    memory: bool = False
    #: whether it speaks HTTP/2 (the "h2" workloads: ``start(..., http2=True)``)
    h2: bool = False

    def runs(self, key: str, kind: str) -> bool:
        """Whether this client takes part in workload ``key`` (of ``kind`` "http", "h2" or
        "ws")."""
        offered = {"http": self.http, "h2": self.h2, "ws": self.ws}.get(kind, False)
        return offered and (not self.only or key in self.only)

    def missing(self) -> str | None:
        """None when the library is importable here, else one line saying why it is skipped."""
        if not self.module or importlib.util.find_spec(self.module) is not None:
            return None
        return (
            f"{self.name} is not installed here (`pip install {self.module}`, or the bench "
            "extra): skipped"
        )


CLIENTS = (
    ClientSpec(
        "cyhttp-c",
        BASELINE,
        http=True,
        ws=True,
        env=NO_FASTNET,
        module="cyhttp",
        memory=True,
        h2=True,
    ),
    ClientSpec(
        "cyhttp-afn",
        FASTNET,
        http=True,
        ws=False,
        only=FASTNET_WORKLOADS,
        module="aiofastnet",
        h2=True,
    ),
    ClientSpec(
        "cyhttp-py",
        "cyhttp pure",
        http=True,
        ws=True,
        env={"CYHTTP_NO_EXTENSIONS": "1", **NO_FASTNET},
        module="cyhttp",
        h2=True,
    ),
    ClientSpec("aiohttp", "aiohttp", http=True, ws=True, module="aiohttp", memory=True),
    ClientSpec("httpx", "httpx", http=True, ws=False, module="httpx", h2=True),
    ClientSpec("aiosonic", "aiosonic", http=True, ws=False, module="aiosonic"),
    # clients written in Rust (tokio runtimes: their CPU time includes their threads')
    ClientSpec("wreq", "wreq", http=True, ws=False, module="wreq", memory=True, h2=True),
    ClientSpec("pyreqwest", "pyreqwest", http=True, ws=False, module="pyreqwest", h2=True),
    ClientSpec("curl_cffi", "curl_cffi", http=True, ws=False, module="curl_cffi"),
    ClientSpec("niquests", "niquests", http=True, ws=False, module="niquests", h2=True),
    # cyhttp's opt-in listener (ws_connect(listener=...)), driven as PicowsClient drives
    # picows; on aiofastnet's transports when installed (cyhttp's default; picows needs it)
    ClientSpec("cyhttp-cb", "cyhttp listener", http=False, ws=True, module="cyhttp"),
    ClientSpec("picows", "picows", http=False, ws=True, module="picows"),
    ClientSpec("websockets", "websockets", http=False, ws=True, module="websockets"),
    ClientSpec(
        "floor",
        FLOOR,
        http=True,
        ws=True,
        only=(
            "get_small_seq",
            "get_small_c50",
            "get_1m",
            "https_small_seq",
            "https_small_c50",
            "https_1m",
            "h2_small_c100",
            "h2_1m_c10",
            "ws_echo_64",
            "ws_echo_1m",
        ),
        h2=True,
    ),
)
BY_KEY = {c.key: c for c in CLIENTS}


@dataclass
class Loaded:
    """One imported client library: its version and its adapter classes (None: not offered)."""

    version: str
    http: Callable[[], Any] | None
    ws: Callable[[], Any] | None
    implementation: str = ""


def _load_fastnet() -> Loaded:
    """cyhttp compiled, its default connector on aiofastnet's transports (it must be)."""
    from benchmarks import client_aiohttp

    version = client_aiohttp.use("cyhttp")
    import aiofastnet

    import cyhttp
    from cyhttp import fastnet

    if cyhttp.IMPLEMENTATION != "compiled":
        raise RuntimeError(f"cyhttp loaded its {cyhttp.IMPLEMENTATION!r} implementation")
    if fastnet.resolve(None) is None:
        raise RuntimeError(f"aiofastnet is turned off here ({fastnet.ENV_OFF} is set)")
    version = f"{version}, aiofastnet {aiofastnet.__version__}"
    return Loaded(version, client_aiohttp.HttpClient, None, "compiled+aiofastnet")


def load(key: str) -> Loaded:
    """Import the library behind ``key`` (in the client process only)."""
    if key in ("cyhttp-c", "cyhttp-py"):
        from benchmarks import client_aiohttp

        version = client_aiohttp.use("cyhttp")
        import cyhttp

        impl = cyhttp.IMPLEMENTATION
        expected = "compiled" if key == "cyhttp-c" else "python"
        if impl != expected:
            raise RuntimeError(f"cyhttp loaded its {impl!r} implementation, not {expected!r}")
        return Loaded(version, client_aiohttp.HttpClient, client_aiohttp.WsClient, impl)
    if key == "cyhttp-afn":
        return _load_fastnet()
    if key == "aiohttp":
        from benchmarks import client_aiohttp

        version = client_aiohttp.use("aiohttp")
        return Loaded(version, client_aiohttp.HttpClient, client_aiohttp.WsClient)
    if key == "httpx":
        from benchmarks import client_httpx

        return Loaded(client_httpx.version(), client_httpx.HttpClient, None)
    if key == "aiosonic":
        from benchmarks import client_aiosonic

        return Loaded(client_aiosonic.version(), client_aiosonic.HttpClient, None)
    if key in ("wreq", "pyreqwest", "curl_cffi", "niquests"):
        adapter = importlib.import_module(f"benchmarks.client_{key}")
        return Loaded(adapter.version(), adapter.HttpClient, None)
    if key == "cyhttp-cb":
        import cyhttp
        from benchmarks import client_ws
        from cyhttp import fastnet

        if cyhttp.IMPLEMENTATION != "compiled":
            raise RuntimeError(f"cyhttp loaded its {cyhttp.IMPLEMENTATION!r} implementation")
        version = str(cyhttp.__version__)
        fast = fastnet.resolve(None)
        if fast is not None:
            version += f", aiofastnet {fast.__version__}"
        return Loaded(version, None, client_ws.CyhttpListenerClient, "compiled")
    if key == "picows":
        from benchmarks import client_ws

        return Loaded(metadata.version("picows"), None, client_ws.PicowsClient)
    if key == "websockets":
        from benchmarks import client_ws

        return Loaded(metadata.version("websockets"), None, client_ws.WebsocketsClient)
    if key == "floor":
        import platform

        from benchmarks import client_floor, client_floor_h2

        version = (
            f"asyncio.Protocol, {platform.python_implementation()} {platform.python_version()}"
        )
        return Loaded(version, client_floor_h2.FloorHttp, client_floor.WsClient)
    raise KeyError(key)
