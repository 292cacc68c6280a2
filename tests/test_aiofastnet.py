"""cyhttp's connections on aiofastnet's compiled transports (``TCPConnector(fast_transports=)``).

Every test that claims aiofastnet was used checks the transport's class comes from the
``aiofastnet`` package, and the fault tests run the same fault with aiofastnet on and off and
require the same exception: the speedup must not change what a user sees. The switch
(``fast_transports=False``, ``CYHTTP_NO_AIOFASTNET=1``) is checked to give the loop's own
transports back. All servers are real and listen on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web

import cyhttp
from cyhttp import (
    ClientConnectorCertificateError,
    ClientPayloadError,
    ClientSession,
    ClientTimeout,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    TCPConnector,
    fastnet,
)

from .https_proxy_servers import recording_tls_proxy
from .proxy_servers import recording_proxy
from .servers import app_server, canned, echo_app, raw_server, read_request
from .tls_servers import Pki, hello_app, tls_app_server

aiofastnet = pytest.importorskip("aiofastnet")

BIG = 8 * 1024 * 1024  # well above every buffer limit: flow control must engage


@pytest.fixture
def pki() -> Pki:
    return Pki()


def is_fast(transport: Any) -> bool:
    """True when ``transport`` is one of aiofastnet's."""
    return type(transport).__module__.startswith("aiofastnet.")


def transport_of(resp: cyhttp.ClientResponse) -> Any:
    """The transport of a response whose body is still being received."""
    assert resp.connection is not None
    transport = resp.connection.transport
    assert transport is not None
    return transport


def pooled(connector: TCPConnector) -> list[Any]:
    """The transports of the idle connections the connector keeps (a response whose body
    came whole with its head has already given its connection back)."""
    return [proto.transport for conns in connector._conns.values() for proto, _ in conns]


def big_app() -> web.Application:
    """``/echo`` and friends, plus ``/count`` (the body's length) for large uploads."""
    app = echo_app()

    async def count(request: web.Request) -> web.Response:
        total = 0
        async for chunk in request.content.iter_any():
            total += len(chunk)
        return web.Response(text=str(total))

    app.router.add_post("/count", count)
    return app


# -- the switch ------------------------------------------------------------------------------


async def test_default_is_on_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fastnet.ENV_OFF, raising=False)
    assert fastnet.available()
    assert TCPConnector().fast_transports is True
    assert TCPConnector(fast_transports=True).fast_transports is True
    assert TCPConnector(fast_transports=False).fast_transports is False


async def test_environment_turns_the_default_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fastnet.ENV_OFF, "1")
    assert TCPConnector().fast_transports is False
    # an explicit choice wins over the environment
    assert TCPConnector(fast_transports=True).fast_transports is True
    monkeypatch.setenv(fastnet.ENV_OFF, "")  # empty: not set
    assert TCPConnector().fast_transports is True


async def test_without_aiofastnet(monkeypatch: pytest.MonkeyPatch) -> None:
    """When it does not import, the default quietly uses the loop; True says why it can't."""
    monkeypatch.delenv(fastnet.ENV_OFF, raising=False)
    monkeypatch.setattr(fastnet, "_tried", True)
    monkeypatch.setattr(fastnet, "_module", None)
    monkeypatch.setattr(fastnet, "_import_error", ImportError("No module named 'aiofastnet'"))
    assert not fastnet.available()
    assert TCPConnector().fast_transports is False
    with pytest.raises(RuntimeError, match="aiofastnet"):
        TCPConnector(fast_transports=True)


def test_the_argument_is_checked() -> None:
    with pytest.raises(TypeError, match="fast_transports"):
        TCPConnector(fast_transports="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["argument", "environment"])
async def test_switched_off_connections_use_the_loops_transports(
    pki: Pki, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "environment":
        monkeypatch.setenv(fastnet.ENV_OFF, "1")
        connector = TCPConnector(ssl=pki.client_context())
    else:
        connector = TCPConnector(ssl=pki.client_context(), fast_transports=False)
    async with (
        app_server(echo_app()) as plain,
        tls_app_server(hello_app(), pki.server_context()) as tls,
        ClientSession(connector=connector) as session,
    ):
        for url in (plain.url("/echo"), tls.url("/")):
            async with session.get(url) as resp:
                assert resp.status == 200
        transports = pooled(connector)
        assert len(transports) == 2
        for transport in transports:
            assert type(transport).__module__.startswith("asyncio."), type(transport)


# -- HTTP/1.1 over TCP -----------------------------------------------------------------------


async def test_get_post_and_keep_alive() -> None:
    connector = TCPConnector(fast_transports=True)
    async with app_server(echo_app()) as srv, ClientSession(connector=connector) as session:
        for i in range(5):
            async with session.get(srv.url(f"/echo?i={i}")) as resp:
                payload = await resp.json()
                assert (payload["method"], payload["query"]) == ("GET", f"i={i}")
            async with session.post(srv.url("/echo"), data=b"abc" * i) as resp:
                assert (await resp.json())["body"] == "abc" * i
        assert srv.connections == 1  # ten requests, one kept-alive connection
        (transport,) = pooled(connector)
        assert is_fast(transport)


async def test_extra_info_of_a_plain_connection() -> None:
    async with (
        app_server(echo_app()) as srv,
        ClientSession(connector=TCPConnector(fast_transports=True)) as session,
        session.get(srv.url(f"/bytes/{BIG}")) as resp,
    ):
        transport = transport_of(resp)
        assert is_fast(transport)
        assert transport.get_extra_info("peername") == ("127.0.0.1", srv.port)
        sock = transport.get_extra_info("socket")
        assert sock.getpeername() == ("127.0.0.1", srv.port)
        assert transport.get_extra_info("sslcontext") is None
        assert transport.get_extra_info("ssl_object") is None
        await resp.read()


async def test_large_upload_and_download_with_flow_control() -> None:
    async with (
        app_server(big_app()) as srv,
        ClientSession(connector=TCPConnector(fast_transports=True)) as session,
    ):
        async with session.post(srv.url("/count"), data=b"u" * BIG) as resp:
            assert await resp.text() == str(BIG)
        async with session.get(srv.url(f"/bytes/{BIG}")) as resp:
            transport = transport_of(resp)
            assert is_fast(transport)
            # not reading: the client's buffer fills and it pauses the transport
            for _ in range(100):
                if not transport.is_reading():
                    break
                await asyncio.sleep(0.02)
            assert not transport.is_reading()
            body = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                body += chunk
        pattern = bytes(range(256))
        assert bytes(body) == (pattern * (BIG // 256 + 1))[:BIG]
        assert srv.connections == 1


async def test_body_read_until_the_server_closes() -> None:
    """No length, no chunking: the body ends with the server's FIN (eof_received)."""
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    async with (
        raw_server(canned(head + b"until the end")) as srv,
        ClientSession(connector=TCPConnector(fast_transports=True)) as session,
        session.get(srv.url("/")) as resp,
    ):
        assert await resp.read() == b"until the end"


# -- faults give the same exceptions with and without aiofastnet ------------------------------


async def _close_in_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
    await writer.drain()


async def _reset_in_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _close_in_body(reader, writer)
    writer.transport.abort()


async def _close_before_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)


async def _fault_outcome(handler: Any, fast: bool) -> type[BaseException]:
    async with (
        raw_server(handler) as srv,
        ClientSession(connector=TCPConnector(fast_transports=fast)) as session,
    ):
        try:
            async with session.get(srv.url("/")) as resp:
                assert is_fast(transport_of(resp)) is fast
                await resp.read()
        except Exception as exc:
            return type(exc)
    raise AssertionError("the fault went unnoticed")


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_close_in_body, ClientPayloadError),
        (_reset_in_body, ClientPayloadError),
        (_close_before_head, ServerDisconnectedError),
    ],
)
async def test_faults_raise_what_they_raise_without_it(
    handler: Any, expected: type[BaseException]
) -> None:
    assert await _fault_outcome(handler, fast=True) is expected
    assert await _fault_outcome(handler, fast=False) is expected


async def test_read_timeout_aborts_the_connection() -> None:
    async def silent_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(3600)

    async with (
        raw_server(silent_body) as srv,
        ClientSession(connector=TCPConnector(fast_transports=True)) as session,
    ):
        async with session.get(srv.url("/"), timeout=ClientTimeout(sock_read=0.2)) as resp:
            transport = transport_of(resp)
            assert is_fast(transport)
            with pytest.raises(cyhttp.SocketTimeoutError):
                await resp.read()
        assert transport.is_closing()


# -- TLS -------------------------------------------------------------------------------------


async def test_tls_get_with_verification_and_extra_info(pki: Pki) -> None:
    connector = TCPConnector(ssl=pki.client_context(), fast_transports=True)
    leaf_der = ssl.PEM_cert_to_DER_cert(pki.good.cert_chain_pems[0].bytes().decode("ascii"))
    async with (
        tls_app_server(hello_app(), pki.server_context()) as srv,
        ClientSession(connector=connector) as session,
    ):
        for _ in range(3):
            async with session.get(srv.url("/")) as resp:
                assert await resp.text() == "hello https"
        assert srv.connections == 1
        (transport,) = pooled(connector)
        assert is_fast(transport)
        assert transport.get_extra_info("peername") == ("127.0.0.1", srv.port)
        assert transport.get_extra_info("socket").getpeername() == ("127.0.0.1", srv.port)
        assert transport.get_extra_info("sslcontext") is not None
        sslobj = transport.get_extra_info("ssl_object")
        assert sslobj.getpeercert(binary_form=True) == leaf_der
        peercert = transport.get_extra_info("peercert")
        assert ("IP Address", "127.0.0.1") in peercert["subjectAltName"]
        assert transport.get_extra_info("cipher")[1].startswith("TLS")


async def test_alpn_offer_of_the_default_context(pki: Pki) -> None:
    """cyhttp's own contexts offer http/1.1 by ALPN; both ends see it chosen."""
    connector = TCPConnector(fingerprint=pki.fingerprint(), fast_transports=True)
    async with (
        tls_app_server(hello_app(), pki.server_context(alpn=["http/1.1"])) as srv,
        ClientSession(connector=connector) as session,
    ):
        async with session.get(srv.url("/alpn")) as resp:
            assert await resp.text() == "http/1.1"
        (transport,) = pooled(connector)
        assert is_fast(transport)
        assert transport.get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"


@pytest.mark.parametrize("leaf", ["wrong_host", "expired"])
async def test_bad_certificates_are_refused(pki: Pki, leaf: str) -> None:
    outcomes = []
    async with tls_app_server(hello_app(), pki.server_context(getattr(pki, leaf))) as srv:
        for fast in (True, False):
            connector = TCPConnector(ssl=pki.client_context(), fast_transports=fast)
            async with ClientSession(connector=connector) as session:
                with pytest.raises(ClientConnectorCertificateError) as info:
                    await session.get(srv.url("/"))
                outcomes.append(type(info.value.certificate_error))
    assert outcomes[0] is outcomes[1] is ssl.SSLCertVerificationError


async def test_untrusted_ca_is_refused(pki: Pki) -> None:
    other = Pki()
    async with (
        tls_app_server(hello_app(), pki.server_context()) as srv,
        ClientSession(
            connector=TCPConnector(ssl=other.client_context(), fast_transports=True)
        ) as session,
    ):
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(srv.url("/"))


async def test_fingerprint_pinning(pki: Pki) -> None:
    async with tls_app_server(hello_app(), pki.server_context()) as srv:
        good = TCPConnector(fingerprint=pki.fingerprint(), fast_transports=True)
        async with ClientSession(connector=good) as session:
            async with session.get(srv.url("/")) as resp:
                assert await resp.text() == "hello https"
            (transport,) = pooled(good)
            assert is_fast(transport)
        bad = TCPConnector(fingerprint=b"\x00" * 32, fast_transports=True)
        async with ClientSession(connector=bad) as session:
            with pytest.raises(ServerFingerprintMismatch):
                await session.get(srv.url("/"))


async def test_server_hostname_is_sent_as_sni_and_checked(pki: Pki) -> None:
    seen: list[str | None] = []
    context = pki.server_context()
    context.sni_callback = lambda sslobj, name, ctx: seen.append(name)  # type: ignore[assignment]
    async with (
        tls_app_server(hello_app(), context) as srv,
        ClientSession(
            connector=TCPConnector(ssl=pki.client_context(), fast_transports=True)
        ) as session,
    ):
        async with session.get(srv.url("/"), server_hostname="localhost") as resp:
            assert await resp.text() == "hello https"
        assert seen == ["localhost"]
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(srv.url("/"), server_hostname="wrong.example")
        assert seen[-1] == "wrong.example"


async def test_tls_server_closing_mid_body(pki: Pki) -> None:
    """A TLS peer that drops the connection inside the body: ClientPayloadError both ways."""
    context = pki.server_context()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 5000)
        await writer.drain()
        writer.transport.abort()

    for fast in (True, False):
        srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        port = srv.sockets[0].getsockname()[1]
        connector = TCPConnector(ssl=pki.client_context(), fast_transports=fast)
        try:
            async with ClientSession(connector=connector) as session:
                with pytest.raises(ClientPayloadError):
                    async with session.get(f"https://127.0.0.1:{port}/") as resp:
                        assert is_fast(transport_of(resp)) is fast
                        await resp.read()
        finally:
            srv.close()
            await srv.wait_closed()


async def test_large_tls_bodies(pki: Pki) -> None:
    async with (
        tls_app_server(big_app(), pki.server_context()) as srv,
        ClientSession(
            connector=TCPConnector(ssl=pki.client_context(), fast_transports=True)
        ) as session,
    ):
        async with session.post(srv.url("/count"), data=b"t" * BIG) as resp:
            assert await resp.text() == str(BIG)
        async with session.get(srv.url(f"/bytes/{BIG}")) as resp:
            await asyncio.sleep(0.2)  # let the buffer fill and the transport pause
            assert len(await resp.read()) == BIG


# -- WebSocket, HTTP/2, proxies, uvloop --------------------------------------------------------


def ws_app() -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data.upper())
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    return app


@pytest.mark.parametrize("secure", [False, True])
async def test_websocket(pki: Pki, secure: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if secure:
            srv: Any = await stack.enter_async_context(
                tls_app_server(ws_app(), pki.server_context())
            )
            url = srv.url("/ws").with_scheme("wss")
        else:
            srv = await stack.enter_async_context(app_server(ws_app()))
            url = srv.url("/ws").with_scheme("ws")
        connector = TCPConnector(ssl=pki.client_context(), fast_transports=True)
        session = await stack.enter_async_context(ClientSession(connector=connector))
        ws = await session.ws_connect(url)
        assert is_fast(ws._transport)
        assert ws.get_extra_info("peername") == ("127.0.0.1", srv.port)
        await ws.send_str("hello")
        assert (await ws.receive()).data == "HELLO"
        big = bytes(range(256)) * 4096  # 1 MiB: several TLS records, flow control
        await ws.send_bytes(big)
        assert (await ws.receive()).data == big[::-1]
        await ws.close()
        assert ws.closed


@contextlib.asynccontextmanager
async def h2_tls_server(pki: Pki) -> AsyncIterator[int]:
    """hypercorn speaking HTTP/2 over TLS (ALPN h2) on 127.0.0.1."""
    from .test_h2_client import hypercorn_server

    with pki.good.private_key_and_cert_chain_pem.tempfile() as pem:
        async with hypercorn_server(pem) as (port, _):
            yield port


async def test_http2_over_tls_selects_h2_by_alpn(pki: Pki) -> None:
    pytest.importorskip("hypercorn")
    ctx = pki.client_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    connector = TCPConnector(http2=True, ssl=ctx, fast_transports=True)
    async with h2_tls_server(pki) as port, ClientSession(connector=connector) as session:
        results = await asyncio.gather(
            *(session.get(f"https://127.0.0.1:{port}/") for _ in range(10))
        )
        for resp in results:
            assert resp.version == cyhttp.HttpVersion(2, 0)
            await resp.read()
            resp.release()
        assert connector._h2 is not None
        (h2conn,) = connector._h2._all  # ten streams on one ALPN-negotiated connection
        assert is_fast(h2conn.transport)


async def test_https_through_a_connect_tunnel(pki: Pki) -> None:
    """TLS inside the tunnel is aiofastnet's start_tls over its TCP transport."""
    connector = TCPConnector(ssl=pki.client_context(), fast_transports=True)
    async with (
        tls_app_server(echo_app(), pki.server_context()) as srv,
        recording_proxy() as proxy,
        ClientSession(connector=connector) as session,
    ):
        for i in range(3):
            async with session.post(
                srv.url("/echo"), data=b"p" * (i * 70000), proxy=proxy.url
            ) as resp:
                assert len((await resp.json())["body"]) == i * 70000
        assert len(proxy.heads) == 1  # one tunnel, kept alive
        (transport,) = pooled(connector)
        assert is_fast(transport)
        assert transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        bad = TCPConnector(ssl=Pki().client_context(), fast_transports=True)
        async with ClientSession(connector=bad) as other:
            with pytest.raises(ClientConnectorCertificateError):
                await other.get(srv.url("/echo"), proxy=proxy.url)


def test_works_on_uvloop(pki: Pki) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        connector = TCPConnector(ssl=pki.client_context(), fast_transports=True)
        async with (
            app_server(echo_app()) as plain,
            tls_app_server(hello_app(), pki.server_context()) as tls,
            ClientSession(connector=connector) as session,
        ):
            async with session.post(plain.url("/echo"), data=b"u" * 300000) as resp:
                assert len((await resp.json())["body"]) == 300000
            async with session.get(tls.url("/")) as resp:
                assert await resp.text() == "hello https"
            transports = pooled(connector)
            assert len(transports) == 2
            assert all(is_fast(t) for t in transports)

    runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    with runner:
        runner.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_tls_in_tls_through_an_https_proxy(pki: Pki, loop_name: str) -> None:
    """TLS to the target inside TLS to the proxy: aiofastnet's start_tls layers over its own
    TLS transport, on both loops."""

    async def main() -> None:
        connector = TCPConnector(ssl=pki.client_context(), fast_transports=True)
        async with (
            tls_app_server(echo_app(), pki.server_context()) as srv,
            recording_tls_proxy(pki.server_context()) as proxy,
            ClientSession(connector=connector) as session,
        ):
            for i in range(2):
                async with session.post(
                    srv.url("/echo"), data=b"q" * (i * 70000), proxy=proxy.url
                ) as resp:
                    assert len((await resp.json())["body"]) == i * 70000
            assert srv.connections == 1
            (transport,) = pooled(connector)
            assert is_fast(transport)
            # one CONNECT over TLS to the proxy, the target's TLS inside it, kept alive
            (head,) = proxy.heads
            assert head.startswith(b"CONNECT 127.0.0.1:")
            leaf = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
            assert leaf  # the target's certificate, seen through the tunnel

    factory = None
    if loop_name == "uvloop":
        factory = pytest.importorskip("uvloop").new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(asyncio.wait_for(main(), 30))
