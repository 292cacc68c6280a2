"""The import-time switch picks the compiled modules or the twins, and says which."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import cyhttp
from cyhttp import _compat, client_proto, http_parser, http_websocket


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
        assert client_proto.impl.__name__ == "cyhttp._protocol"
    else:
        assert cyhttp.IMPLEMENTATION == "python"
        assert http_parser.HttpResponseParser is http_parser.HttpResponseParserPy
        assert http_websocket.impl is http_websocket.websocket_py
        assert client_proto.impl.__name__ == "cyhttp._protocol_py"


def test_compiled_modules_are_built() -> None:
    # make test builds them; a missing build must fail, not fall back silently.
    assert http_parser.HttpResponseParserC is not None
    assert http_websocket.websocket_c is not None
    assert http_websocket.websocket_c.__file__.endswith((".so", ".pyd"))
    for name in ("_protocol", "_streams"):
        module = _compat.import_twin(name)
        assert module is not None and module.__file__.endswith((".so", ".pyd")), name


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
    [
        "cyhttp",
        "cyhttp.client_exceptions",
        "cyhttp.http_exceptions",
        "cyhttp._models",
        "cyhttp.http_parser",
        "cyhttp.http_websocket",
        "cyhttp.abc",
    ],
)
def test_each_module_imports_alone(module: str) -> None:
    # no circular imports: every module imports first in a fresh interpreter
    assert _fresh(f"import {module}; print('ok')") == "ok"


#: A meta-path finder that makes the named compiled modules fail while they initialise, the
#: way a module built against multidict 7 fails under multidict 6 (no C API capsule).
_BREAK_COMPILED = """
import importlib.abc, importlib.util, sys

class _Broken(importlib.abc.Loader):
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        raise AttributeError("module 'multidict._multidict' has no attribute 'CAPI'")

class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BROKEN:
            return importlib.util.spec_from_loader(name, _Broken())
        return None

sys.meta_path.insert(0, _Finder())
"""

#: One real request on 127.0.0.1 with whatever implementation got loaded.
_TINY_REQUEST = """
import asyncio, cyhttp
from cyhttp import _compat

async def handle(reader, writer):
    await reader.readuntil(b"\\r\\n\\r\\n")
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nX-A: 1\\r\\nX-A: 2\\r\\n\\r\\nok")
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with cyhttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as resp:
            body = await resp.read()
            got = (resp.status, body.decode(), resp.headers.getall("X-A"))
    server.close()
    implementation = cyhttp.IMPLEMENTATION  # first: it settles the websocket twin too
    errors = {k: type(v).__name__ for k, v in sorted(_compat.IMPORT_ERRORS.items())}
    print(implementation, got, errors)

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            ("cyhttp._parser",),
            "mixed (200, 'ok', ['1', '2']) {'_parser': 'AttributeError'}",
        ),
        (
            ("cyhttp._parser", "cyhttp._websocket", "cyhttp._protocol", "cyhttp._streams"),
            "python (200, 'ok', ['1', '2']) "
            "{'_parser': 'AttributeError', '_protocol': 'AttributeError', "
            "'_streams': 'AttributeError', '_websocket': 'AttributeError'}",
        ),
    ],
)
def test_compiled_module_failing_to_initialise_falls_back(
    broken: tuple[str, ...], expected: str
) -> None:
    # not only ImportError: a module whose init raises (an older multidict without the C
    # API the parser binds) must not break `import cyhttp`; the twin serves the request
    code = f"BROKEN = {broken!r}\n" + _BREAK_COMPILED + _TINY_REQUEST
    assert _fresh(code) == expected


def test_import_twin_is_none_for_a_module_failing_to_initialise() -> None:
    code = (
        "BROKEN = ('cyhttp._parser',)\n"
        + _BREAK_COMPILED
        + "from cyhttp import _compat, http_parser\n"
        "print(_compat.import_twin('_parser'), http_parser.HttpResponseParserC)"
    )
    assert _fresh(code) == "None None"
