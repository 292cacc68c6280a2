"""Shared fixtures.

``impl`` runs a test against both implementations of the hot path: ``c`` (the compiled
modules) and ``py`` (the pure-Python twins). ``--no-c-extensions`` deselects the ``c``
runs (``make test`` passes it on the run with ``CYHTTP_NO_EXTENSIONS=1``). When the
compiled modules should be there but are not, the ``c`` runs fail instead of skipping:
a broken build must never pass quietly on the slow path.

``no_leftover_processes`` (session-wide, automatic) fails the run when a test left a
child process behind: a helper server or proxy that outlives its test keeps ports and
CPU busy long after the run, and hides a missing cleanup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cyhttp import _websocket_py, http_parser, http_websocket

from . import proxy_servers

#: ../shared/conformance beside the checkout (CI always has it).
CONFORMANCE_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"


def conformance_file(name: str) -> Path:
    """Path of a shared conformance vector file, or skip (with the reason) when absent.

    Usable inside a test and while a module is collected (it then skips the whole module).
    """
    path = CONFORMANCE_DIR / name
    if not path.is_file():
        pytest.skip(
            f"{path} is absent: the conformance vectors live in ../shared/conformance "
            "beside the checkout (always present in CI)",
            allow_module_level=True,
        )
    return path


@dataclass(frozen=True)
class Impl:
    """One implementation of the compiled hot path."""

    name: str  # "c" or "py"
    is_pure_python: bool
    HttpResponseParser: type[Any]
    websocket: ModuleType


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-c-extensions",
        action="store_true",
        default=False,
        help="deselect the tests of the compiled modules",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-c-extensions"):
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("impl") == "c":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=["c", "py"])
def impl(request: pytest.FixtureRequest) -> Impl:
    if request.param == "py":
        return Impl("py", True, http_parser.HttpResponseParserPy, _websocket_py)
    if http_parser.HttpResponseParserC is None or http_websocket.websocket_c is None:
        pytest.fail(
            "the compiled modules are not built (run `make build`); "
            "use --no-c-extensions to test only the pure-Python twins"
        )
    return Impl("c", False, http_parser.HttpResponseParserC, http_websocket.websocket_c)


@pytest.fixture
def expect_compiled() -> bool:
    """True when this run is meant to use the compiled modules."""
    return not os.environ.get("CYHTTP_NO_EXTENSIONS")


def _leftover_processes() -> list[str]:
    """Descriptions of the processes the test run started that are still alive: our own
    descendants, and members of the sessions the proxy helpers started (those are no
    longer our descendants once their first process is gone)."""
    import psutil

    me = psutil.Process()
    found: dict[int, str] = {}
    for child in me.children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found[child.pid] = " ".join(child.cmdline())
        except psutil.Error:
            continue
    for sid in proxy_servers.STARTED_SESSIONS:
        for pid in proxy_servers.session_members(sid):
            try:
                found.setdefault(pid, " ".join(psutil.Process(pid).cmdline()))
            except psutil.Error:
                continue
    return [f"{pid}: {cmd}" for pid, cmd in sorted(found.items())]


@pytest.fixture(scope="session", autouse=True)
def no_leftover_processes() -> Iterator[None]:
    """After the whole run: no process the tests started may still be running."""
    yield
    deadline = time.monotonic() + 5.0
    left = _leftover_processes()
    while left and time.monotonic() < deadline:  # a killed process takes a moment to go
        time.sleep(0.1)
        left = _leftover_processes()
    if left:
        pytest.fail("the tests left processes running:\n" + "\n".join(left))
