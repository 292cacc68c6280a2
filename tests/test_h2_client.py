"""HTTP/2 through the session: ``TCPConnector(http2=...)`` over real sockets on 127.0.0.1.

Four kinds of server:

* hypercorn serving an ASGI app of this module, over TLS (ALPN ``h2``, trustme
  certificates) and over h2c with prior knowledge: the ordinary features (bodies both
  ways, decompression, cookies, redirects, statuses, timeouts, multiplexing);
* a scripted server on the ``h2`` package (:class:`ScriptedH2`), for what a real server
  does only when things go wrong: a reset stream, GOAWAY, a dropped socket, a small
  SETTINGS_MAX_CONCURRENT_STREAMS, a reader slower than the server;
* an aiohttp HTTP/1.1-only TLS server, to see ``http2=True`` fall back to HTTP/1.1;
* nginx with its http2 module when it is installed.

The whole module runs under both twins of the compiled codecs (the suite's pure run sets
CYHTTP_NO_EXTENSIONS=1).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import cyhttp
from cyhttp import ClientTimeout, HttpVersion, TCPConnector
from cyhttp.client_exceptions import (
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
)

from .tls_servers import Pki, hello_app, tls_app_server

h2_config = pytest.importorskip("h2.config")
h2_connection = pytest.importorskip("h2.connection")
h2_events = pytest.importorskip("h2.events")
h2_errors = pytest.importorskip("h2.errors")
h2_settings = pytest.importorskip("h2.settings")
pytest.importorskip("hypercorn")

HTTP2 = HttpVersion(2, 0)
GZIPPED = b"zipped text " * 2000


# -- hypercorn and its ASGI app -------------------------------------------------------------


@dataclass
class AsgiState:
    """What the app saw: the client address of every request (one per connection) and
    the requests that ended because the client reset them."""

    clients: list[Any] = field(default_factory=list)
    inflight: int = 0
    max_inflight: int = 0
    disconnected: list[str] = field(default_factory=list)
    disconnect_seen: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connections(self) -> int:
        return len(set(self.clients))


async def _read_body(receive: Any) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


def _app(state: AsgiState) -> Callable[..., Awaitable[None]]:
    """The ASGI app: ``/`` hello and the HTTP version, ``/echo`` the body back,
    ``/gzip`` a gzip-encoded body, ``/cookie`` sets one and ``/cookies`` shows those
    received, ``/redirect`` goes to ``/``, ``/status/N`` answers N, ``/slow`` waits for
    the client to give up (and notes it)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        path = scope["path"]
        state.clients.append(tuple(scope["client"] or ()))
        body = await _read_body(receive)
        status, headers, reply = 200, [], b""
        if path == "/":
            reply = b"hello " + scope["http_version"].encode()
        elif path == "/echo":
            reply = body
        elif path == "/gzip":
            reply = gzip.compress(GZIPPED)
            headers.append((b"content-encoding", b"gzip"))
        elif path == "/cookie":
            headers.append((b"set-cookie", b"flavour=oat; Path=/"))
        elif path == "/cookies":
            reply = dict(scope["headers"]).get(b"cookie", b"")
        elif path == "/redirect":
            status = 302
            headers.append((b"location", b"/"))
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
        elif path == "/nap":
            state.inflight += 1
            state.max_inflight = max(state.max_inflight, state.inflight)
            await asyncio.sleep(0.05)
            state.inflight -= 1
        elif path == "/slow":
            message = await receive()  # only comes when the client resets the stream
            state.disconnected.append(message["type"])
            state.disconnect_seen.set()
            return
        headers.append((b"content-length", str(len(reply)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": reply})

    return app


@contextlib.asynccontextmanager
async def hypercorn_server(cert_pem: str | None = None) -> AsyncIterator[tuple[int, AsgiState]]:
    """hypercorn on 127.0.0.1 (h2c, or TLS with ALPN given a PEM of key and
    certificate); yields its port and the app's :class:`AsgiState`."""
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.config import Config, Sockets
    from hypercorn.utils import wrap_app

    state = AsgiState()
    config = Config()
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1
    config.certfile = config.keyfile = cert_pem
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    app = wrap_app(_app(state), config.wsgi_max_body_size, "asgi")
    sockets = Sockets([sock], [], []) if cert_pem else Sockets([], [sock], [])
    task = asyncio.create_task(
        worker_serve(app, config, sockets=sockets, shutdown_trigger=stop.wait)
    )
    try:
        yield port, state
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
def pki() -> Pki:
    return Pki()


def _h2_client_context(pki: Pki) -> ssl.SSLContext:
    """The test CA's client context, offering h2 by ALPN (a context given to the
    connector is used as it is: HTTP/2 needs its ALPN list to name h2)."""
    ctx = pki.client_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


@contextlib.asynccontextmanager
async def h2c_session(
    cookie_jar: Any = None, **kwargs: Any
) -> AsyncIterator[tuple[cyhttp.ClientSession, str, AsgiState]]:
    """A session speaking h2c with prior knowledge to hypercorn; yields it, the base URL
    and the app's state. ``kwargs`` go to the connector."""
    async with hypercorn_server() as (port, state):
        connector = TCPConnector(http2="prior-knowledge", **kwargs)
        async with cyhttp.ClientSession(connector=connector, cookie_jar=cookie_jar) as session:
            yield session, f"http://127.0.0.1:{port}", state


@contextlib.asynccontextmanager
async def tls_session(pki: Pki) -> AsyncIterator[tuple[cyhttp.ClientSession, str, AsgiState]]:
    """A session speaking HTTP/2 over TLS (ALPN) to hypercorn."""
    with pki.good.private_key_and_cert_chain_pem.tempfile() as pem:
        async with hypercorn_server(pem) as (port, state):
            connector = TCPConnector(http2=True, ssl=_h2_client_context(pki))
            async with cyhttp.ClientSession(connector=connector) as session:
                yield session, f"https://127.0.0.1:{port}", state


# -- the ordinary features, over TLS and over h2c ------------------------------------------


async def test_get_over_tls_with_alpn(pki: Pki) -> None:
    async with tls_session(pki) as (session, base, state):
        async with session.get(base + "/") as resp:
            assert resp.status == 200
            assert resp.reason == "OK"
            assert resp.version == HTTP2
            assert resp.headers["Content-Length"] == "7"
            assert resp.connection is not None
            assert (
                resp.connection.transport.get_extra_info("ssl_object").selected_alpn_protocol()
                == "h2"
            )
            assert await resp.text() == "hello 2"
        async with session.get(base + "/") as resp:
            assert await resp.read() == b"hello 2"
    assert state.connections == 1


async def test_get_over_tls_with_the_connectors_own_context() -> None:
    """ssl=False: the connector's unverified context, which offers h2 itself."""
    pki = Pki()
    with pki.good.private_key_and_cert_chain_pem.tempfile() as pem:
        async with hypercorn_server(pem) as (port, _):
            connector = TCPConnector(http2=True, ssl=False)
            async with (
                cyhttp.ClientSession(connector=connector) as session,
                session.get(f"https://127.0.0.1:{port}/") as resp,
            ):
                assert resp.version == HTTP2
                assert await resp.text() == "hello 2"


async def test_get_over_tls_with_a_pinned_certificate(pki: Pki) -> None:
    with pki.good.private_key_and_cert_chain_pem.tempfile() as pem:
        async with hypercorn_server(pem) as (port, _):
            connector = TCPConnector(http2=True, ssl=cyhttp.Fingerprint(pki.fingerprint()))
            async with (
                cyhttp.ClientSession(connector=connector) as session,
                session.get(f"https://127.0.0.1:{port}/") as resp,
            ):
                assert resp.version == HTTP2
            wrong = TCPConnector(http2=True, ssl=cyhttp.Fingerprint(b"\0" * 32))
            async with cyhttp.ClientSession(connector=wrong) as session:
                with pytest.raises(cyhttp.ServerFingerprintMismatch):
                    await session.get(f"https://127.0.0.1:{port}/")


async def test_get_over_h2c_with_prior_knowledge() -> None:
    async with h2c_session() as (session, base, _), session.get(base + "/") as resp:
        assert resp.version == HTTP2
        assert await resp.text() == "hello 2"


async def test_plain_http_stays_http11_with_http2_true() -> None:
    """http2=True negotiates by ALPN, which plain TCP has not: HTTP/1.1 there."""
    async with (
        hypercorn_server() as (port, _),
        cyhttp.ClientSession(connector=TCPConnector(http2=True)) as session,
        session.get(f"http://127.0.0.1:{port}/") as resp,
    ):
        assert resp.version == HttpVersion(1, 1)
        assert await resp.text() == "hello 1.1"


@pytest.mark.parametrize("transport", ["tls", "h2c"])
async def test_post_larger_than_the_servers_window(pki: Pki, transport: str) -> None:
    body = bytes(range(256)) * 1500  # 384000 bytes; hypercorn's windows are 65535
    context = tls_session(pki) if transport == "tls" else h2c_session()
    async with context as (session, base, _), session.post(base + "/echo", data=body) as resp:
        assert resp.version == HTTP2
        assert await resp.read() == body


async def test_streamed_upload_from_an_async_generator() -> None:
    pieces = [bytes([i]) * 50000 for i in range(8)]

    async def source() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async with (
        h2c_session() as (session, base, _),
        session.post(base + "/echo", data=source()) as resp,
    ):
        assert await resp.read() == b"".join(pieces)


async def test_fifty_concurrent_gets_share_one_connection(pki: Pki) -> None:
    async with tls_session(pki) as (session, base, state):

        async def get() -> str:
            async with session.get(base + "/") as resp:
                return await resp.text()

        results = await asyncio.gather(*(get() for _ in range(50)))
    assert results == ["hello 2"] * 50
    assert len(state.clients) == 50
    assert state.connections == 1


async def test_head_and_no_content_responses_have_no_body() -> None:
    async with h2c_session() as (session, base, _):
        async with session.head(base + "/") as resp:
            assert resp.headers["Content-Length"] == "7"
            assert await resp.read() == b""
        async with session.get(base + "/status/204") as resp:
            assert resp.status == 204
            assert resp.reason == "No Content"
            assert await resp.read() == b""


async def test_idle_connection_closes_after_keepalive_timeout() -> None:
    async with h2c_session(keepalive_timeout=0.2) as (session, base, state):
        for pause in (0, 0.5):
            await asyncio.sleep(pause)
            async with session.get(base + "/") as resp:
                await resp.read()
    assert state.connections == 2


async def test_force_close_uses_a_connection_per_request() -> None:
    async with h2c_session(force_close=True) as (session, base, state):
        for _ in range(3):
            async with session.get(base + "/") as resp:
                await resp.read()
    assert state.connections == 3


async def test_gzip_response_is_decoded() -> None:
    async with h2c_session() as (session, base, _):
        async with session.get(base + "/gzip") as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert await resp.read() == GZIPPED
        async with session.get(base + "/gzip", auto_decompress=False) as resp:
            assert gzip.decompress(await resp.read()) == GZIPPED


async def test_cookies_are_kept_and_sent_back() -> None:
    jar = cyhttp.CookieJar(unsafe=True)  # the server is an IP address
    async with h2c_session(cookie_jar=jar) as (session, base, _):
        async with session.get(base + "/cookie") as resp:
            assert resp.cookies["flavour"].value == "oat"
        async with session.get(base + "/cookies") as resp:
            assert await resp.text() == "flavour=oat"


async def test_redirect_is_followed_on_the_same_connection() -> None:
    async with h2c_session() as (session, base, state), session.get(base + "/redirect") as resp:
        assert resp.status == 200
        assert [r.status for r in resp.history] == [302]
        assert resp.history[0].version == HTTP2
        assert str(resp.url) == base + "/"
        assert await resp.text() == "hello 2"
    assert state.connections == 1


async def test_raise_for_status() -> None:
    async with h2c_session() as (session, base, _):
        async with session.get(base + "/status/404") as resp:
            assert resp.reason == "Not Found"
            with pytest.raises(ClientResponseError) as info:
                resp.raise_for_status()
        assert info.value.status == 404
        with pytest.raises(ClientResponseError):
            await session.get(base + "/status/503", raise_for_status=True)
        async with session.get(base + "/") as resp:  # the connection goes on
            assert resp.status == 200


async def test_total_timeout_resets_the_stream_and_keeps_the_connection() -> None:
    async with h2c_session() as (session, base, state):
        with pytest.raises(asyncio.TimeoutError):
            await session.get(base + "/slow", timeout=ClientTimeout(total=0.3))
        await asyncio.wait_for(state.disconnect_seen.wait(), 5)
        assert state.disconnected == ["http.disconnect"]
        async with session.get(base + "/") as resp:
            assert await resp.text() == "hello 2"
    assert state.connections == 1


async def test_read_timeout_resets_the_stream() -> None:
    async with h2c_session() as (session, base, state):
        with pytest.raises(asyncio.TimeoutError):
            await session.get(base + "/slow", timeout=ClientTimeout(sock_read=0.3))
        await asyncio.wait_for(state.disconnect_seen.wait(), 5)


async def test_cancelled_request_resets_the_stream() -> None:
    async with h2c_session() as (session, base, state):
        task = asyncio.ensure_future(session.get(base + "/slow"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(state.disconnect_seen.wait(), 5)


@pytest.mark.parametrize("limits", [{"limit": 3}, {"limit_per_host": 3}])
async def test_limit_counts_streams(limits: dict[str, int]) -> None:
    """limit=3 (or limit_per_host=3): at most three requests in flight, all on one
    connection."""
    async with h2c_session(**limits) as (session, base, state):

        async def get() -> None:
            async with session.get(base + "/nap") as resp:
                await resp.read()

        await asyncio.gather(*(get() for _ in range(12)))
        assert session.connector is not None
        assert not session.connector._acquired  # every slot came back
    assert state.max_inflight == 3
    assert state.connections == 1


async def test_tracing_hears_of_one_connection_made() -> None:
    created: list[str] = []
    reused: list[str] = []

    async def on_create(session: Any, ctx: Any, params: Any) -> None:
        created.append("create")

    async def on_reuse(session: Any, ctx: Any, params: Any) -> None:
        reused.append("reuse")

    trace = cyhttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)
    trace.on_connection_reuseconn.append(on_reuse)
    async with hypercorn_server() as (port, _):
        connector = TCPConnector(http2="prior-knowledge")
        async with cyhttp.ClientSession(connector=connector, trace_configs=[trace]) as session:
            for _ in range(3):
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    await resp.read()
    assert created == ["create"]
    assert reused == ["reuse", "reuse"]


def test_works_on_uvloop() -> None:
    """uvloop's transports hand over to the HTTP/2 protocol too (TLS and h2c)."""
    uvloop = pytest.importorskip("uvloop", reason="uvloop is a bench extra")
    pki = Pki()

    async def main() -> list[Any]:
        results = []
        with pki.good.private_key_and_cert_chain_pem.tempfile() as pem:
            async with hypercorn_server(pem) as (port, state):
                connector = TCPConnector(http2=True, ssl=_h2_client_context(pki))
                async with cyhttp.ClientSession(connector=connector) as session:
                    responses = await asyncio.gather(
                        *(session.get(f"https://127.0.0.1:{port}/") for _ in range(10))
                    )
                    results += [(r.version, await r.text()) for r in responses]
                results.append(state.connections)
        async with (
            h2c_session() as (session, base, _),
            session.post(base + "/echo", data=b"e" * 300_000) as resp,
        ):
            results.append((resp.version, len(await resp.read())))
        return results

    assert uvloop.run(main()) == [(HTTP2, "hello 2")] * 10 + [1, (HTTP2, 300_000)]


# -- fallback to HTTP/1.1 -------------------------------------------------------------------


async def test_http2_true_falls_back_to_http11_when_the_server_has_no_h2(pki: Pki) -> None:
    server_ctx = pki.server_context(alpn=["http/1.1"])
    async with tls_app_server(hello_app(), server_ctx) as server:
        connector = TCPConnector(http2=True, ssl=_h2_client_context(pki))
        async with cyhttp.ClientSession(connector=connector) as session:
            for _ in range(3):
                async with session.get(server.url("/alpn")) as resp:
                    assert resp.version == HttpVersion(1, 1)
                    assert await resp.text() == "http/1.1"
    assert server.connections == 1  # the HTTP/1.1 pool took over after the first


async def test_http2_true_with_a_server_without_alpn(pki: Pki) -> None:
    async with tls_app_server(hello_app(), pki.server_context()) as server:
        connector = TCPConnector(http2=True, ssl=_h2_client_context(pki))
        async with cyhttp.ClientSession(connector=connector) as session:

            async def get() -> str:
                async with session.get(server.url("/")) as resp:
                    assert resp.version == HttpVersion(1, 1)
                    return await resp.text()

            assert await asyncio.gather(get(), get(), get()) == ["hello https"] * 3


def test_http2_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="http2"):
        TCPConnector(http2="h2c-upgrade")
    assert TCPConnector().http2 is False
    assert TCPConnector(http2=True).http2 is True
    assert TCPConnector(http2="prior-knowledge").http2 == "prior-knowledge"


# -- a scripted server on the h2 package, for the failures ---------------------------------

Handler = Callable[["ScriptedConnection", int, dict[str, str], bytes], Awaitable[None]]


class ScriptedConnection:
    """One server connection: the h2 state machine, its socket, and a way to wait for
    the client's window updates."""

    def __init__(self, writer: asyncio.StreamWriter, index: int, settings: dict[int, int]):
        config = h2_config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2_connection.H2Connection(config=config)
        self.h2.local_settings = h2_settings.Settings(client=False, initial_values=settings)
        self.writer = writer
        self.index = index  # 0 for the first connection the server accepted
        self.window_opened = asyncio.Event()
        self.sent: dict[int, int] = {}

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def respond(self, stream_id: int, status: int, body: bytes = b"", **headers: str) -> None:
        fields = [(":status", str(status)), ("content-length", str(len(body)))]
        fields += list(headers.items())
        self.h2.send_headers(stream_id, fields, end_stream=not body)
        if body:
            self.h2.send_data(stream_id, body, end_stream=True)
        self.flush()

    async def send_flow_controlled(self, stream_id: int, body: bytes) -> None:
        """Send ``body`` as fast as the client's windows allow."""
        self.h2.send_headers(stream_id, [(":status", "200"), ("content-length", str(len(body)))])
        view = memoryview(body)
        while view:
            if self.h2.state_machine.state.name == "CLOSED" or stream_id not in self.h2.streams:
                return  # the client reset the stream
            size = min(len(view), self.h2.local_flow_control_window(stream_id), 16384)
            if not size:
                self.window_opened.clear()
                self.flush()
                await self.window_opened.wait()
                continue
            self.h2.send_data(stream_id, bytes(view[:size]), end_stream=size == len(view))
            self.sent[stream_id] = self.sent.get(stream_id, 0) + size
            view = view[size:]
        self.flush()


@dataclass
class ScriptedH2:
    """A server on the h2 package; every complete request goes to ``handler``."""

    handler: Handler
    settings: dict[int, int] = field(default_factory=dict)
    port: int = 0
    connections: list[ScriptedConnection] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    resets: list[int] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ScriptedConnection(writer, len(self.connections), self.settings)
        self.connections.append(conn)
        conn.h2.initiate_connection()
        conn.flush()
        heads: dict[int, dict[str, str]] = {}
        bodies: dict[int, bytearray] = {}
        tasks = set()
        try:
            while data := await reader.read(65536):
                try:
                    events = conn.h2.receive_data(data)
                except Exception:
                    break
                for event in events:
                    if isinstance(event, h2_events.RequestReceived):
                        heads[event.stream_id] = dict(event.headers)
                        bodies[event.stream_id] = bytearray()
                        if heads[event.stream_id][":path"] == "/early":
                            # refuse the upload at once, and never read it
                            conn.respond(event.stream_id, 413, b"too big")
                            conn.h2.reset_stream(event.stream_id, h2_errors.ErrorCodes.NO_ERROR)
                            del heads[event.stream_id]
                    elif isinstance(event, h2_events.DataReceived):
                        if event.stream_id in heads:
                            bodies[event.stream_id] += event.data
                            conn.h2.acknowledge_received_data(
                                event.flow_controlled_length, event.stream_id
                            )
                    elif isinstance(event, h2_events.WindowUpdated):
                        conn.window_opened.set()
                    elif isinstance(event, h2_events.StreamReset):
                        self.resets.append(event.stream_id)
                        conn.window_opened.set()
                    if getattr(event, "stream_ended", None) is not None or isinstance(
                        event, h2_events.StreamEnded
                    ):
                        sid = event.stream_id
                        if sid in heads and isinstance(event, h2_events.StreamEnded):
                            head = heads.pop(sid)
                            self.requests.append(head[":path"])
                            task = asyncio.ensure_future(
                                self.handler(conn, sid, head, bytes(bodies.pop(sid)))
                            )
                            tasks.add(task)
                            task.add_done_callback(tasks.discard)
                conn.flush()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            for task in tasks:
                task.cancel()
            writer.close()


@contextlib.asynccontextmanager
async def scripted_server(
    handler: Handler, settings: dict[int, int] | None = None
) -> AsyncIterator[ScriptedH2]:
    server = ScriptedH2(handler, settings or {})
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for conn in server.connections:
            conn.writer.close()
        await listener.wait_closed()


def _session() -> cyhttp.ClientSession:
    return cyhttp.ClientSession(connector=TCPConnector(http2="prior-knowledge"))


async def test_a_stream_reset_before_the_head_fails_that_request_only() -> None:
    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        if head[":path"] == "/reset":
            conn.h2.reset_stream(sid, h2_errors.ErrorCodes.INTERNAL_ERROR)
            conn.flush()
        else:
            conn.respond(sid, 200, b"fine")

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}"
        with pytest.raises(ServerDisconnectedError, match="reset"):
            await session.post(url + "/reset", data=b"x")
        async with session.get(url + "/") as resp:
            assert await resp.read() == b"fine"
    assert len(server.connections) == 1


async def test_a_stream_reset_in_the_body_is_a_payload_error() -> None:
    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        conn.h2.send_headers(sid, [(":status", "200"), ("content-length", "100")])
        conn.h2.send_data(sid, b"x" * 10)
        conn.flush()
        await asyncio.sleep(0.05)
        conn.h2.reset_stream(sid, h2_errors.ErrorCodes.INTERNAL_ERROR)
        conn.flush()

    async with (
        scripted_server(handler) as server,
        _session() as session,
        session.get(f"http://127.0.0.1:{server.port}/") as resp,
    ):
        assert resp.status == 200
        with pytest.raises(ClientPayloadError):
            await resp.read()


async def test_refused_stream_is_retried_once_for_an_idempotent_request() -> None:
    """RST_STREAM(REFUSED_STREAM) means the server did nothing with the request: a GET
    goes again (RFC 9113 section 8.7); a POST fails, not knowing better."""
    refused: set[str] = set()

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        key = head[":method"] + head[":path"]
        if key not in refused:
            refused.add(key)
            conn.h2.reset_stream(sid, h2_errors.ErrorCodes.REFUSED_STREAM)
            conn.flush()
        else:
            conn.respond(sid, 200, b"second try")

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}/again"
        async with session.get(url) as resp:
            assert await resp.read() == b"second try"
        with pytest.raises(ServerDisconnectedError, match="error code 7"):
            await session.post(url, data=b"once")
    assert server.requests == ["/again", "/again", "/again"]
    assert len(server.connections) == 1


async def test_goaway_retries_the_unprocessed_idempotent_requests() -> None:
    """The first connection answers stream 1 and sends GOAWAY(last_stream_id=1): the
    GETs on streams 3 and 5 were never processed and go again on a new connection."""

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        if conn.index > 0:
            conn.respond(sid, 200, f"second {head[':path']}".encode())
            return
        if sid == 1:
            await asyncio.sleep(0.2)  # the other two requests arrive meanwhile
            conn.respond(sid, 200, b"first /a")
            conn.h2.close_connection(last_stream_id=1)
            conn.flush()

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}"

        async def get(path: str) -> str:
            async with session.get(url + path) as resp:
                return await resp.text()

        results = await asyncio.gather(get("/a"), get("/b"), get("/c"))
    assert results == ["first /a", "second /b", "second /c"]
    assert len(server.connections) == 2


async def test_goaway_fails_an_unprocessed_post() -> None:
    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        if sid == 1:
            await asyncio.sleep(0.2)
            conn.respond(sid, 200, b"ok")
            conn.h2.close_connection(last_stream_id=1)
            conn.flush()

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}"
        first = asyncio.ensure_future(session.get(url + "/"))
        await asyncio.sleep(0.05)
        with pytest.raises(ServerDisconnectedError, match="GOAWAY"):
            await session.post(url + "/", data=b"once only")
        resp = await first
        assert await resp.read() == b"ok"


async def test_a_dropped_connection_fails_the_open_streams() -> None:
    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        await asyncio.sleep(0.1)
        conn.writer.transport.abort()

    async with scripted_server(handler) as server, _session() as session:
        with pytest.raises(ServerDisconnectedError):
            await session.post(f"http://127.0.0.1:{server.port}/", data=b"x")


async def test_a_connection_dropped_in_the_body_is_a_payload_error() -> None:
    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        conn.h2.send_headers(sid, [(":status", "200"), ("content-length", "100")])
        conn.h2.send_data(sid, b"x" * 10)
        conn.flush()
        await asyncio.sleep(0.1)
        conn.writer.transport.abort()

    async with (
        scripted_server(handler) as server,
        _session() as session,
        session.get(f"http://127.0.0.1:{server.port}/") as resp,
    ):
        with pytest.raises(ClientPayloadError, match="not completed"):
            await resp.read()


async def test_more_connections_only_when_the_streams_are_saturated() -> None:
    """MAX_CONCURRENT_STREAMS=2 and six slow answers at once: three connections."""

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        await asyncio.sleep(0.3)
        conn.respond(sid, 200, b"slow")

    settings = {h2_settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2}
    async with scripted_server(handler, settings) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}/"

        async def get() -> bytes:
            async with session.get(url) as resp:
                return await resp.read()

        assert await asyncio.gather(*(get() for _ in range(6))) == [b"slow"] * 6
    assert len(server.connections) == 3


async def test_a_slow_reader_holds_the_server_back() -> None:
    """Body bytes are acknowledged (WINDOW_UPDATE) only as the reader takes them: while
    nobody reads, the server cannot send much more than the stream window (256 KiB) and
    the reader's buffer; once read, the whole body arrives intact."""
    body = bytes(range(256)) * 16384  # 4 MiB

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        await conn.send_flow_controlled(sid, body)

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}/"
        async with session.get(url, read_bufsize=65536) as resp:
            await asyncio.sleep(0.3)
            sent = server.connections[0].sent[1]
            assert sent <= 262144 + 2 * 65536 + 16384, sent
            received = bytearray()
            while chunk := await resp.content.read(100000):
                received += chunk
        assert bytes(received) == body


async def test_an_early_answer_stops_the_upload() -> None:
    """The server answers 413 and resets the stream while the client still has most of
    a 4 MB body to send (its window is closed): the response is usable, the upload task
    ends, and the connection serves the next request."""

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        conn.respond(sid, 200, b"next")

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}"
        resp = await session.post(url + "/early", data=b"u" * 4_000_000)
        writer = resp._writer
        assert resp.status == 413
        assert await resp.read() == b"too big"
        assert writer is not None
        await asyncio.wait_for(writer, 5)
        async with session.get(url + "/") as again:
            assert await again.read() == b"next"
    assert len(server.connections) == 1


async def test_complete_bodies_left_unread_do_not_starve_the_connection() -> None:
    """A body that arrived whole but was not read holds no connection window once its
    response is done: ten of them (each mostly unacknowledged while its reader is full)
    do not stop the eleventh."""
    body = b"u" * 250_000

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        await conn.send_flow_controlled(sid, body)

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}/"
        for _ in range(10):
            resp = await session.get(url, read_bufsize=16384)
            await asyncio.wait_for(resp.content.wait_eof(), 5)
            resp.release()
        async with session.get(url) as resp:
            assert await asyncio.wait_for(resp.read(), 5) == body
    assert len(server.connections) == 1


async def test_release_before_the_body_resets_only_that_stream() -> None:
    body = b"z" * 4_000_000

    async def handler(conn: ScriptedConnection, sid: int, head: dict[str, str], _: bytes) -> None:
        if head[":path"] == "/big":
            await conn.send_flow_controlled(sid, body)
        else:
            conn.respond(sid, 200, b"small")

    async with scripted_server(handler) as server, _session() as session:
        url = f"http://127.0.0.1:{server.port}"
        resp = await session.get(url + "/big")
        assert resp.status == 200
        resp.release()
        for _ in range(100):
            if server.resets:
                break
            await asyncio.sleep(0.02)
        assert server.resets == [1]
        async with session.get(url + "/") as again:
            assert await again.read() == b"small"
    assert len(server.connections) == 1


async def test_websockets_keep_http11_on_an_http2_connector() -> None:
    from aiohttp import web

    from .servers import app_server

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str("echo " + message.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    async with (
        app_server(app) as server,
        _session() as session,
        session.ws_connect(server.url("/ws")) as ws,
    ):
        await ws.send_str("hi")
        assert (await ws.receive()).data == "echo hi"


# -- nginx with its http2 module, when installed --------------------------------------------

_NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp_body;
    proxy_temp_path {root}/tmp_proxy;
    fastcgi_temp_path {root}/tmp_fastcgi;
    uwsgi_temp_path {root}/tmp_uwsgi;
    scgi_temp_path {root}/tmp_scgi;
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        listen 127.0.0.1:{h2c_port} http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location = /small {{ default_type text/plain; return 200 "small $server_protocol"; }}
        location = /gzip {{
            default_type application/json;
            gzip on;
            gzip_types application/json;
            gzip_min_length 0;
            root {root};
            try_files /doc.json =404;
        }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def nginx_server(pki: Pki) -> Any:
    # apt installs it in /usr/sbin, which a non-login PATH may lack
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("nginx is not installed (make test installs it with apt-get where it can)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cert, key = root / "cert.pem", root / "key.pem"
        pki.good.cert_chain_pems[0].write_to_path(str(cert))
        pki.good.private_key_pem.write_to_path(str(key))
        (root / "doc.json").write_text('{"doc": "' + "x" * 5000 + '"}')
        tls_port, h2c_port = _free_port(), _free_port()
        conf = root / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(root=root, tls_port=tls_port, h2c_port=h2c_port, cert=cert, key=key)
        )
        proc = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", h2c_port), 0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.skip("nginx did not start")
                    time.sleep(0.05)
            yield tls_port, h2c_port
        finally:
            proc.terminate()
            proc.wait(10)


async def test_nginx_over_tls_and_h2c(pki: Pki) -> None:
    with nginx_server(pki) as (tls_port, h2c_port):
        tls = TCPConnector(http2=True, ssl=_h2_client_context(pki))
        async with cyhttp.ClientSession(connector=tls) as session:
            results = await asyncio.gather(
                *(session.get(f"https://127.0.0.1:{tls_port}/small") for _ in range(20))
            )
            for resp in results:
                assert resp.version == HTTP2
                assert await resp.text() == "small HTTP/2.0"
            async with session.get(f"https://127.0.0.1:{tls_port}/gzip") as resp:
                assert resp.headers["Content-Encoding"] == "gzip"
                assert (await resp.json())["doc"] == "x" * 5000
            assert len(tls._h2._all) == 1
        h2c = TCPConnector(http2="prior-knowledge")
        async with (
            cyhttp.ClientSession(connector=h2c) as session,
            session.get(f"http://127.0.0.1:{h2c_port}/small") as resp,
        ):
            assert resp.version == HTTP2
            assert await resp.text() == "small HTTP/2.0"


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "stream"])
async def test_upload_tracker_follows_an_http2_upload(streamed: bool) -> None:
    body = bytes(range(256)) * 1500  # past hypercorn's windows: the writer task's path

    async def source() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 50000):
            yield body[start : start + 50000]

    async with h2c_session() as (session, base, _):
        tracker = cyhttp.UploadTracker()
        data: Any = source() if streamed else body
        async with session.post(base + "/echo", data=data, upload_tracker=tracker) as resp:
            assert resp.version == HTTP2
            assert await resp.read() == body
        await asyncio.wait_for(tracker.upload_complete, 5)
        assert tracker.attempts == 1
        assert tracker.bytes_written == len(body)
        small = cyhttp.UploadTracker()
        async with session.post(base + "/echo", data=b"tiny", upload_tracker=small) as resp:
            assert await resp.read() == b"tiny"
        await asyncio.wait_for(small.upload_complete, 5)
        assert small.bytes_written == 4
