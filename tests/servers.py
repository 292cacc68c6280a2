"""Real local servers for the client tests (127.0.0.1 only).

* :func:`app_server` runs an ``aiohttp.web`` application (an HTTP server independent of
  our code) and counts the TCP connections it accepted (by client address), so tests can
  assert keep-alive reuse.
* :func:`raw_server` runs ``asyncio.start_server`` with a handler that writes whatever
  bytes a test wants: malformed, truncated, slow or closing responses.

Both are async context managers yielding an object with ``url(path)`` and counters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL


@dataclass
class AppServer:
    port: int
    peers: set[Any] = field(default_factory=set)
    requests: int = 0

    def url(self, path: str = "/") -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")

    @property
    def connections(self) -> int:
        return len(self.peers)


@contextlib.asynccontextmanager
async def app_server(app: web.Application) -> AsyncIterator[AppServer]:
    """Serve ``app`` on an ephemeral port of 127.0.0.1."""
    server = AppServer(port=0)

    @web.middleware
    async def count(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
        server.requests += 1
        if request.transport is not None:
            server.peers.add(request.transport.get_extra_info("peername"))
        return await handler(request)

    app.middlewares.append(count)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server
    finally:
        await runner.cleanup()


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    port: int
    connections: int = 0
    received: list[bytes] = field(default_factory=list)

    def url(self, path: str = "/") -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request head (and a Content-Length body) from a raw connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head + body


@contextlib.asynccontextmanager
async def tcp_server(handle: RawHandler) -> AsyncIterator[int]:
    """Serve ``handle(reader, writer)`` per connection on an ephemeral port of 127.0.0.1 and
    yield the port. On exit the listener closes and connections still being handled are
    cancelled (and given two seconds to unwind), so no test leaves a server task behind."""
    tasks: set[asyncio.Task[Any]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handle(reader, writer)
        finally:
            tasks.discard(task)

    srv = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(list(tasks), timeout=2)
        await srv.wait_closed()


@contextlib.asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[RawServer]:
    """Serve ``handler(reader, writer)`` per connection; the writer is closed after it."""
    server = RawServer(port=0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async with tcp_server(on_connect) as port:
        server.port = port
        yield server


def canned(*responses: bytes, keep_open: bool = False) -> RawHandler:
    """A handler answering successive requests with the given raw responses, then closing
    (or idling until cancelled with ``keep_open``)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for response in responses:
            await read_request(reader)
            writer.write(response)
            await writer.drain()
        if keep_open:
            await asyncio.sleep(3600)

    return handler


def echo_app() -> web.Application:
    """Routes used across the client tests.

    * ``/echo`` (any method): JSON with method, path, raw query, headers (list of pairs)
      and the body as latin-1 text.
    * ``/redirect/{code}?to=URL``: a redirect with that status.
    * ``/status/{code}``: an empty response with that status.
    * ``/loop``: a redirect to itself.
    * ``/setcookie?name=value``: sets the cookies given in the query.
    * ``/bytes/{n}``: n bytes of a repeating pattern.
    * ``/chunks``: a chunked body in three writes.
    * ``/slow/{seconds}``: the head after a delay.
    """

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.raw_path,
                "query": request.query_string,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode("latin-1"),
                "chunked": request.headers.get("Transfer-Encoding") == "chunked",
            },
            headers={"X-Method": request.method},  # also seen by HEAD requests
        )

    async def redirect(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        target = request.query.get("to", "/echo")
        return web.Response(status=code, headers={"Location": target})

    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/loop"})

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]))

    async def setcookie(request: web.Request) -> web.Response:
        resp = web.Response(text="ok")
        for name, value in request.query.items():
            resp.set_cookie(name, value)
        return resp

    async def some_bytes(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        pattern = bytes(range(256))
        return web.Response(body=(pattern * (n // 256 + 1))[:n])

    async def chunks(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for piece in (b"first\n", b"second\n", b"third"):
            await resp.write(piece)
        await resp.write_eof()
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.match_info["seconds"]))
        return web.Response(text="late")

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/redirect/{code}", redirect)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/loop", loop)
    app.router.add_get("/setcookie", setcookie)
    app.router.add_get("/bytes/{n}", some_bytes)
    app.router.add_get("/chunks", chunks)
    app.router.add_get("/slow/{seconds}", slow)
    return app
