"""TLS servers for the client tests, with certificates minted per test by ``trustme``.

* :class:`Pki` holds one throw-away CA and the client/server SSL contexts built from it
  (a valid certificate for 127.0.0.1, one for another name, an expired one).
* :func:`tls_app_server` serves an ``aiohttp.web`` application over TLS on 127.0.0.1.
* :func:`tls_raw_server` runs a handler on TLS connections it accepts itself, for servers
  that misbehave at the TLS level (never answering the close_notify, for instance).

Everything listens on 127.0.0.1 with an ephemeral port.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiohttp import web
from yarl import URL

from .servers import tcp_server


@dataclass
class Pki:
    """A private CA and what the tests need from it."""

    ca: trustme.CA = field(default_factory=trustme.CA)

    def __post_init__(self) -> None:
        self.good = self.ca.issue_cert("127.0.0.1", "localhost")
        self.wrong_host = self.ca.issue_cert("wrong.example")
        past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        self.expired = self.ca.issue_cert(
            "127.0.0.1", not_before=past, not_after=past + datetime.timedelta(days=1)
        )

    def server_context(
        self, leaf: trustme.LeafCert | None = None, alpn: list[str] | None = None
    ) -> ssl.SSLContext:
        """A server context presenting ``leaf`` (the valid one by default); with ``alpn``,
        the server takes part in ALPN and picks the first of those the client offers."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        (leaf or self.good).configure_cert(ctx)
        if alpn is not None:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA (and only it)."""
        ctx = ssl.create_default_context()
        ctx.load_verify_locations(cadata=self.ca.cert_pem.bytes().decode("ascii"))
        return ctx

    def fingerprint(self, leaf: trustme.LeafCert | None = None) -> bytes:
        """SHA-256 of the leaf certificate in DER form."""
        pem = (leaf or self.good).cert_chain_pems[0].bytes().decode("ascii")
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()


@dataclass
class TlsServer:
    port: int
    peers: set[Any] = field(default_factory=set)

    def url(self, path: str = "/", host: str = "127.0.0.1") -> URL:
        return URL(f"https://{host}:{self.port}{path}")

    @property
    def connections(self) -> int:
        return len(self.peers)


@contextlib.asynccontextmanager
async def tls_app_server(app: web.Application, context: ssl.SSLContext) -> AsyncIterator[TlsServer]:
    """Serve ``app`` over TLS with ``context``, counting the connections by peer address."""
    server = TlsServer(port=0)

    @web.middleware
    async def count(request: web.Request, handler: Callable[..., Awaitable[Any]]) -> Any:
        if request.transport is not None:
            server.peers.add(request.transport.get_extra_info("peername"))
        return await handler(request)

    app.middlewares.append(count)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server
    finally:
        # Abort what is still open: a graceful TLS shutdown waits for the peer's
        # close_notify (up to 30 s), and a peer behind a proxy may never send it.
        web_server = runner.server
        for handler in list(web_server.connections if web_server is not None else ()):
            if handler.transport is not None:
                handler.transport.abort()
        await runner.cleanup()


def hello_app() -> web.Application:
    """``/`` answers ``hello`` plus the scheme; ``/headers`` echoes the request headers;
    ``/alpn`` names the protocol ALPN selected on this connection (``none`` without)."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.scheme}")

    async def headers(request: web.Request) -> web.Response:
        return web.json_response([[k, v] for k, v in request.headers.items()])

    async def alpn(request: web.Request) -> web.Response:
        transport = request.transport
        sslobj = transport.get_extra_info("ssl_object") if transport is not None else None
        chosen = sslobj.selected_alpn_protocol() if sslobj is not None else None
        return web.Response(text=chosen or "none")

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/headers", headers)
    app.router.add_get("/alpn", alpn)
    return app


@dataclass
class StubbornTls:
    """Counts the connections a :func:`stubborn_tls_server` saw closed at the TCP level."""

    port: int
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_notify_seen: bool = False

    def url(self, path: str = "/") -> URL:
        return URL(f"https://127.0.0.1:{self.port}{path}")


_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


@contextlib.asynccontextmanager
async def stubborn_tls_server(context: ssl.SSLContext) -> AsyncIterator[StubbornTls]:
    """A TLS server that answers one request, keeps the connection alive, and then never
    takes part in the TLS shutdown: it ignores the client's close_notify, sends none of
    its own and keeps the TCP connection open until the client drops it.

    TLS is driven by hand over memory BIOs so that nothing answers the shutdown for us.
    """
    state = StubbornTls(port=0)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=True)

        async def pump_in() -> bool:
            if outgoing.pending:
                writer.write(outgoing.read())
            data = await reader.read(65536)
            if not data:
                return False
            incoming.write(data)
            return True

        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    if not await pump_in():
                        return
            request = b""
            while b"\r\n\r\n" not in request:
                try:
                    request += tls.read(65536)
                except ssl.SSLWantReadError:
                    if not await pump_in():
                        return
                except ssl.SSLZeroReturnError:
                    return
            tls.write(_ANSWER)
            writer.write(outgoing.read())
            # from here on: swallow whatever comes (close_notify included), answer nothing
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                incoming.write(data)
                try:
                    tls.read(65536)
                except ssl.SSLZeroReturnError:
                    state.close_notify_seen = True
                except ssl.SSLError:
                    pass
            state.closed.set()
        except (ConnectionError, asyncio.CancelledError):
            state.closed.set()
        finally:
            writer.transport.abort()

    async with tcp_server(on_connect) as port:
        state.port = port
        yield state
