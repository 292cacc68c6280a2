"""``python -m cyhttp`` in a subprocess against a local aiohttp server."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

from .servers import app_server, echo_app


async def run_cli(*args: str) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cyhttp",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def test_get_prints_body() -> None:
    async with app_server(echo_app()) as srv:
        code, out, err = await run_cli(str(srv.url("/echo")))
    assert code == 0, err
    assert json.loads(out)["method"] == "GET"


async def test_include_headers_method_and_json() -> None:
    async with app_server(echo_app()) as srv:
        code, out, err = await run_cli(
            "-i", "-X", "PUT", "-H", "X-Test: yes", "--json", '{"a": 1}', str(srv.url("/echo"))
        )
    assert code == 0, err
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/json" in head
    got = json.loads(body)
    assert got["method"] == "PUT" and got["body"] == '{"a": 1}'
    assert ["X-Test", "yes"] in got["headers"]


async def test_data_posts() -> None:
    async with app_server(echo_app()) as srv:
        code, out, _ = await run_cli("-d", "hello", str(srv.url("/echo")))
    got = json.loads(out)
    assert code == 0 and got["method"] == "POST" and got["body"] == "hello"


async def test_fail_flag() -> None:
    async with app_server(echo_app()) as srv:
        code, _, _ = await run_cli(str(srv.url("/status/404")))
        assert code == 0
        code, _, _ = await run_cli("--fail", str(srv.url("/status/404")))
        assert code == 22


async def test_errors_are_one_line_and_nonzero() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for args in (
        (f"http://127.0.0.1:{port}/",),
        ("not a url",),
        ("-H", "no-colon", "http://127.0.0.1:1/"),
        ("--json", "{bad", "http://127.0.0.1:1/"),
    ):
        code, out, err = await run_cli(*args)
        assert code == 1, args
        assert out == b""
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cyhttp: error: "), err
