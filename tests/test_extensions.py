"""The import-time switch picks the compiled modules or the twins, and says which."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import cyhttp
from cyhttp import _compat, http_parser, http_websocket


def _fresh(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "CYHTTP_NO_EXTENSIONS"}
    environ.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_this_run_uses_what_it_should(expect_compiled: bool) -> None:
    if expect_compiled:
        assert cyhttp.IMPLEMENTATION == "compiled", _compat.IMPORT_ERRORS
        assert http_parser.HttpResponseParser is http_parser.HttpResponseParserC
        assert http_websocket.impl is http_websocket.websocket_c
    else:
        assert cyhttp.IMPLEMENTATION == "python"
        assert http_parser.HttpResponseParser is http_parser.HttpResponseParserPy
        assert http_websocket.impl is http_websocket.websocket_py


def test_compiled_modules_are_built() -> None:
    # make test builds them; a missing build must fail, not fall back silently.
    assert http_parser.HttpResponseParserC is not None
    assert http_websocket.websocket_c is not None
    assert http_websocket.websocket_c.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize(
    ("env", "expected"), [({}, "compiled"), ({"CYHTTP_NO_EXTENSIONS": "1"}, "python")]
)
def test_environment_switch_in_fresh_interpreter(env: dict[str, str], expected: str) -> None:
    assert _fresh("import cyhttp; print(cyhttp.IMPLEMENTATION)", **env) == expected


def test_fallback_is_recorded_not_silent() -> None:
    # Hide the compiled parser: the twin must load and the reason must be kept.
    code = (
        "import sys; sys.modules['cyhttp._parser'] = None\n"
        "import cyhttp\n"
        "from cyhttp import _compat\n"
        "print(cyhttp.IMPLEMENTATION, '_parser' in _compat.IMPORT_ERRORS)"
    )
    assert _fresh(code) == "mixed True"


@pytest.mark.parametrize(
    "module",
    ["cyhttp", "cyhttp.client_exceptions", "cyhttp.http_exceptions", "cyhttp._models",
     "cyhttp.http_parser", "cyhttp.http_websocket", "cyhttp.abc"],
)
def test_each_module_imports_alone(module: str) -> None:
    # no circular imports: every module imports first in a fresh interpreter
    assert _fresh(f"import {module}; print('ok')") == "ok"
