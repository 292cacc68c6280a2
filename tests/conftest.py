"""Shared fixtures.

``impl`` runs a test against both implementations of the hot path: ``c`` (the compiled
modules) and ``py`` (the pure-Python twins). ``--no-c-extensions`` deselects the ``c``
runs (``make test`` passes it on the run with ``CYHTTP_NO_EXTENSIONS=1``). When the
compiled modules should be there but are not, the ``c`` runs fail instead of skipping:
a broken build must never pass quietly on the slow path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cyhttp import _websocket_py, http_parser, http_websocket

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
