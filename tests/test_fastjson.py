"""``ClientResponse.json()`` gives the standard library's answer whether or not orjson (the
speedups extra) parses it: for every document below, parsed from a real server's answer,
the result (values and types) or the exception is exactly what ``json.loads`` gives.

The documents are the places where orjson and ``json.loads`` part ways: integers beyond
64 bits (orjson silently returns a float), NaN/Infinity, lone surrogates, a BOM, deep
nesting, invalid UTF-8."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from cyhttp import ClientSession, _compat, _fastjson
from cyhttp.client_reqrep import TextDecodeError

from .servers import app_server

DOCUMENTS: dict[str, bytes] = {
    "plain": b'[{"id": 1, "name": "\xc3\xa9t\xc3\xa9", "price": 1.25, "ok": true, "x": null}]',
    "int64 max": b'{"n": 9223372036854775807}',
    "uint64 max": b'{"n": 18446744073709551615}',
    "beyond uint64": b'{"n": 18446744073709551616}',
    "beyond int64, negative": b'{"n": -9223372036854775809}',
    "huge integer": b'{"n": ' + b"7" * 60 + b"}",
    "long fraction": b'{"f": 0.12345678901234567890123}',
    "NaN and Infinity": b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    "overflowing float": b"[1e400, -1e400]",
    "lone surrogate": b'["\\ud800"]',
    "escapes": b'["a\\/b", "\\u0000", "\\u00e9\\ud83d\\ude00"]',
    "duplicate keys": b'{"a": 1, "b": 2, "a": 3}',
    "negative zero": b"[-0, -0.0, 0e0]",
    "surrounding space": b' \r\n {"k": [true, false]} \t',
    "BOM": b'\xef\xbb\xbf{"a": 1}',
    "truncated": b'{"a": [1, 2',
    "control character": b'["a\x01b"]',
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "invalid UTF-8": b'["\xff\xfe"]',
}


def _expected(body: bytes) -> tuple[str, Any]:
    """What json.loads makes of the body decoded as UTF-8: ("ok", value) or ("error", type)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ("error", TextDecodeError)
    try:
        return ("ok", json.loads(text))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc))


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1.0 is not 1; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def _app() -> web.Application:
    async def doc(request: web.Request) -> web.Response:
        body = DOCUMENTS[request.query["name"]]
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/doc", doc)
    return app


async def _parse_all() -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    async with app_server(_app()) as srv, ClientSession() as session:
        for name in DOCUMENTS:
            async with session.get(srv.url("/doc"), params={"name": name}) as resp:
                try:
                    found[name] = ("ok", await resp.json())
                except (ValueError, RecursionError) as exc:
                    found[name] = ("error", type(exc))
    return found


def _check(found: dict[str, tuple[str, Any]]) -> None:
    for name, body in DOCUMENTS.items():
        kind, value = _expected(body)
        got_kind, got = found[name]
        assert got_kind == kind, (name, got)
        if kind == "ok":
            assert _same(got, value), (name, got, value)
        else:
            assert issubclass(got, value), (name, got, value)


async def test_json_matches_the_standard_library_with_orjson() -> None:
    if not _fastjson.enabled():
        pytest.skip("orjson is not installed here (the speedups extra): nothing to compare")
    _check(await _parse_all())


async def test_json_matches_the_standard_library_without_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_fastjson, "_orjson", False)
    _check(await _parse_all())


@pytest.mark.parametrize("twin", ["_parser", "_parser_py"])
def test_digit_run_scan_in_both_twins(twin: str, expect_compiled: bool) -> None:
    module = _compat.import_twin(twin)
    if module is None:
        assert twin == "_parser" and not expect_compiled, "the compiled parser is not built"
        pytest.skip("the compiled parser is not built in this run (CYHTTP_NO_EXTENSIONS)")
    scan = module.has_digit_run
    assert scan(b'{"n": 1234567890123456789}', 19)
    assert not scan(b'{"n": 123456789012345678}', 19)
    assert scan(b"9" * 19, 19) and not scan(b"", 19) and not scan(b"9" * 18, 19)
    assert not scan(b"1234567890 1234567890", 19)  # two runs of 10 are not one of 20
    assert scan(b"x" * 1000 + b"0" * 25 + b"y", 25)
    # every byte value outside "0"-"9" breaks a run (no signed-char surprises)
    for byte in range(256):
        if not 48 <= byte <= 57:
            assert not scan(b"5" * 10 + bytes([byte]) + b"5" * 10, 19), byte


def test_orjson_is_imported_by_the_first_json_body_not_by_import() -> None:
    """It costs milliseconds of start-up that a program without JSON bodies never needs."""
    import subprocess
    import sys

    code = (
        "import sys, cyhttp; from cyhttp import _fastjson; "
        "print('orjson' in sys.modules, _fastjson._orjson is None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["False", "True"]
