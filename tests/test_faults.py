"""Servers that fail at every stage of an exchange, and what the client must do about it.

Each fault must give the documented exception (API.md and the client_proto docstring):

* reset or close before / inside the head → ServerDisconnectedError;
* reset or close after the head, inside the body → ClientPayloadError;
* silence → ServerTimeoutError, for each timeout kind (sock_read, total, connect,
  sock_connect — the last one also for a TLS handshake that never completes);
* DNS failure, connection refused → ClientConnectorError.

After each fault the pool must be healthy: nothing left acquired, and the next request on
the same session gets the right answer. A completed body is never lost (even when the
server closes right after it) and never mixed with another response.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

import cyhttp
from cyhttp import ClientSession, ClientTimeout, TCPConnector
from cyhttp.abc import AbstractResolver

from .servers import raw_server, read_request
from .tls_servers import Pki

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Fault = Callable[["FaultServer", Reader, Writer], Awaitable[None]]


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultServer:
    """A keep-alive raw server: ``/ok`` answers OK; ``/fault`` runs the test's fault
    as soon as the request head is in (after which the connection is dropped). ``gate``
    lets a fault wait for the client."""

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.gate = asyncio.Event()
        self.port = 0

    def url(self, path: str) -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.split(b" ", 2)[1] == b"/fault":
                await self.fault(self, reader, writer)
                return
            for line in head.lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    await reader.readexactly(int(line[15:]))
            writer.write(OK)
            await writer.drain()


@contextlib.asynccontextmanager
async def fault_server(fault: Fault) -> AsyncIterator[FaultServer]:
    server = FaultServer(fault)
    async with raw_server(server.handle) as raw:
        server.port = raw.port
        yield server


async def assert_healthy(session: ClientSession, server: FaultServer) -> None:
    """Nothing is held by the failed request and the pool serves good requests again."""
    connector = session.connector
    assert connector is not None
    for _ in range(3):
        async with session.get(server.url("/ok"), timeout=10) as resp:
            assert await resp.read() == b"ok"
    assert not connector._acquired
    for conns in connector._conns.values():
        for proto, _ in conns:
            assert proto.is_reusable()


async def run_fault(fault: Fault, expected: type[BaseException]) -> BaseException:
    async with fault_server(fault) as srv, ClientSession() as session:
        async with session.get(srv.url("/ok")) as resp:  # a pooled connection to reuse
            assert await resp.read() == b"ok"
        with pytest.raises(expected) as info:
            async with session.get(srv.url("/fault"), timeout=10) as resp:
                await resp.read()
        await assert_healthy(session, srv)
    return info.value


# ----- resets and closes at each stage -----


async def _reset_before_head(srv: FaultServer, r: Reader, w: Writer) -> None:
    reset(w)


async def _close_before_head(srv: FaultServer, r: Reader, w: Writer) -> None:
    w.close()


async def _reset_inside_status_line(srv: FaultServer, r: Reader, w: Writer) -> None:
    w.write(b"HTTP/1.1 20")
    await w.drain()
    await asyncio.sleep(0.05)  # let the partial line arrive before the RST
    reset(w)


async def _close_inside_headers(srv: FaultServer, r: Reader, w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Half")
    await w.drain()
    w.close()


async def test_reset_before_the_head() -> None:
    await run_fault(_reset_before_head, cyhttp.ServerDisconnectedError)


async def test_close_before_the_head() -> None:
    await run_fault(_close_before_head, cyhttp.ServerDisconnectedError)


async def test_reset_inside_the_status_line() -> None:
    await run_fault(_reset_inside_status_line, cyhttp.ServerDisconnectedError)


async def test_close_inside_the_headers() -> None:
    await run_fault(_close_inside_headers, cyhttp.ServerDisconnectedError)


def _after_head(body: bytes, *, rst: bool, head: bytes = b"Content-Length: 100") -> Fault:
    async def fault(srv: FaultServer, r: Reader, w: Writer) -> None:
        w.write(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n\r\n" + body)
        await w.drain()
        await asyncio.wait_for(srv.gate.wait(), 10)  # the client has the head
        if rst:
            reset(w)
        else:
            w.close()

    return fault


async def _run_after_head(fault: Fault, expected: type[BaseException]) -> BaseException:
    async with fault_server(fault) as srv, ClientSession() as session:
        async with session.get(srv.url("/ok")) as resp:
            assert await resp.read() == b"ok"
        resp = await session.get(srv.url("/fault"), timeout=10)
        async with resp:
            assert resp.status == 200
            srv.gate.set()
            with pytest.raises(expected) as info:
                await resp.read()
        await assert_healthy(session, srv)
    return info.value


@pytest.mark.parametrize("rst", [True, False], ids=["reset", "close"])
async def test_reset_or_close_right_after_the_head(rst: bool) -> None:
    await _run_after_head(_after_head(b"", rst=rst), cyhttp.ClientPayloadError)


@pytest.mark.parametrize("rst", [True, False], ids=["reset", "close"])
async def test_reset_or_close_mid_body(rst: bool) -> None:
    await _run_after_head(_after_head(b"x" * 40, rst=rst), cyhttp.ClientPayloadError)


@pytest.mark.parametrize("rst", [True, False], ids=["reset", "close"])
async def test_reset_or_close_mid_chunked_body(rst: bool) -> None:
    fault = _after_head(b"5\r\nhello\r\n3\r\nab", rst=rst, head=b"Transfer-Encoding: chunked")
    await _run_after_head(fault, cyhttp.ClientPayloadError)


async def test_close_mid_gzip_body() -> None:
    body = gzip.compress(b"z" * 10_000)
    head = b"Content-Encoding: gzip\r\nContent-Length: %d" % len(body)
    await _run_after_head(_after_head(body[:-10], rst=False, head=head), cyhttp.ClientPayloadError)


async def test_body_until_close_is_complete_at_close() -> None:
    """Without Content-Length or chunking, the close *is* the end of the body."""

    async def fault(srv: FaultServer, r: Reader, w: Writer) -> None:
        w.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")
        await w.drain()
        w.close()

    async with fault_server(fault) as srv, ClientSession() as session:
        async with session.get(srv.url("/fault")) as resp:
            assert await resp.read() == b"all of it"
        await assert_healthy(session, srv)


async def test_complete_compressed_body_survives_a_close_before_it_is_read() -> None:
    """The whole gzip body arrived, then the server closed; the reader was full, so part
    of the body was still compressed. Every byte must still come out."""
    plain = bytes(range(256)) * 8192  # 2 MiB: well past the reader's flow-control window
    body = gzip.compress(plain, 1)
    head = b"Content-Encoding: gzip\r\nContent-Length: %d" % len(body)

    async def fault(srv: FaultServer, r: Reader, w: Writer) -> None:
        w.write(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n\r\n" + body)
        await w.drain()
        w.close()

    async with fault_server(fault) as srv, ClientSession() as session:
        async with session.get(srv.url("/fault")) as resp:
            await asyncio.sleep(0.2)  # the close arrives while nothing is being read
            got = bytearray()
            async for piece in resp.content.iter_chunked(65536):
                got += piece
            assert bytes(got) == plain
        await assert_healthy(session, srv)


# ----- 100 Continue -----


async def test_100_continue_then_close() -> None:
    async def fault(srv: FaultServer, r: Reader, w: Writer) -> None:
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await w.drain()
        w.close()

    async with fault_server(fault) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ServerDisconnectedError):
            await session.post(srv.url("/fault"), data=b"payload", expect100=True, timeout=10)
        await assert_healthy(session, srv)


async def test_100_continue_then_reset_while_sending_the_body() -> None:
    async def fault(srv: FaultServer, r: Reader, w: Writer) -> None:
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await w.drain()
        await r.read(10)
        reset(w)

    async with fault_server(fault) as srv, ClientSession() as session:
        with pytest.raises((cyhttp.ServerDisconnectedError, cyhttp.ClientOSError)):
            await session.post(srv.url("/fault"), data=b"p" * (4 << 20), expect100=True, timeout=10)
        await assert_healthy(session, srv)


# ----- garbage after a complete response -----


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n",  # the start of an unasked-for response
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL",  # a whole one
        b"\x00\xff garbage \r\n",
        b"\r",
    ],
    ids=["partial-response", "whole-response", "binary", "lone-cr"],
)
@pytest.mark.parametrize("same_packet", [True, False], ids=["same-write", "later"])
async def test_garbage_after_a_keepalive_response_is_never_read(
    garbage: bytes, same_packet: bool
) -> None:
    """The next request must get its own answer, on a new connection."""
    peers: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(1)
        n = 0
        while True:
            await read_request(reader)
            n += 1
            body = b"response-%d-%d" % (len(peers), n)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
            if same_packet:
                writer.write(garbage)
            await writer.drain()
            if not same_packet:
                await asyncio.sleep(0.05)
                writer.write(garbage)
                await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        for i in range(1, 4):
            async with session.get(srv.url(), timeout=10) as resp:
                assert await resp.read() == b"response-%d-1" % i
            await asyncio.sleep(0.1)  # the late garbage arrives while the connection idles
        assert srv.connections == 3
        connector = session.connector
        assert connector is not None and not connector._acquired


async def test_leading_empty_lines_between_responses_are_harmless() -> None:
    """CRLFs before a status line are allowed (RFC 9112 §2.2): the connection is kept."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(OK + b"\r\n")
            await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        for _ in range(3):
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"
        assert srv.connections == 1


# ----- timeouts of each kind -----


async def _stall_before_head(srv: FaultServer, r: Reader, w: Writer) -> None:
    await asyncio.sleep(3600)


async def _stall_mid_body(srv: FaultServer, r: Reader, w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    await w.drain()
    await asyncio.sleep(3600)


async def _trickle(srv: FaultServer, r: Reader, w: Writer) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        w.write(b"x")
        await w.drain()
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("fault", [_stall_before_head, _stall_mid_body], ids=["head", "body"])
async def test_sock_read_timeout_fires(fault: Fault) -> None:
    exc = await _timeout_case(fault, ClientTimeout(sock_read=0.2))
    assert isinstance(exc, asyncio.TimeoutError)


async def _timeout_case(fault: Fault, timeout: ClientTimeout) -> BaseException:
    async with fault_server(fault) as srv, ClientSession() as session:
        async with session.get(srv.url("/ok")) as resp:
            assert await resp.read() == b"ok"
        with pytest.raises(cyhttp.ServerTimeoutError) as info:
            async with session.get(srv.url("/fault"), timeout=timeout) as resp:
                await resp.read()
        await assert_healthy(session, srv)
    return info.value


async def test_total_timeout_fires_on_a_trickling_body() -> None:
    """Bytes keep coming (sock_read never fires) but the whole request is too slow."""
    await _timeout_case(_trickle, ClientTimeout(total=0.3, sock_read=5))


async def test_connect_timeout_fires_waiting_for_a_pool_slot() -> None:
    async with fault_server(_stall_before_head) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            blocked = asyncio.ensure_future(session.get(srv.url("/fault"), timeout=5))
            await asyncio.sleep(0.05)
            with pytest.raises(cyhttp.ServerTimeoutError):
                await session.get(srv.url("/ok"), timeout=ClientTimeout(connect=0.2))
            blocked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await blocked
            await assert_healthy(session, srv)


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts TCP connections and never says a word (a stalled TLS handshake)."""
    held: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(Exception):
            await reader.read()

    srv = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        srv.close()
        await srv.wait_closed()


@pytest.mark.parametrize(
    "timeout",
    [ClientTimeout(sock_connect=0.2), ClientTimeout(connect=0.2), ClientTimeout(total=0.3)],
    ids=["sock_connect", "connect", "total"],
)
async def test_tls_handshake_stall(timeout: ClientTimeout) -> None:
    pki = Pki()
    async with silent_server() as port:
        connector = TCPConnector(ssl=pki.client_context())
        async with ClientSession(connector=connector) as session:
            with pytest.raises(cyhttp.ServerTimeoutError):
                await session.get(f"https://127.0.0.1:{port}/", timeout=timeout)
            assert not connector._acquired and not connector._conns


# ----- failures to connect -----


class FailingResolver(AbstractResolver):
    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> Any:
        self.calls += 1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_dns_failure_is_client_connector_error() -> None:
    resolver = FailingResolver()
    connector = TCPConnector(resolver=resolver)
    async with ClientSession(connector=connector) as session:
        for _ in range(2):  # a failed lookup is not cached
            with pytest.raises(cyhttp.ClientConnectorError) as info:
                await session.get("http://no-such-host.test/")
            assert isinstance(info.value, OSError)
        assert resolver.calls == 2
        assert not connector._acquired and not connector._dns_cache


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_then_recovers() -> None:
    port = _free_port()
    connector = TCPConnector()
    async with ClientSession(connector=connector) as session:
        with pytest.raises(cyhttp.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/ok")
        assert info.value.errno is not None
        assert not connector._acquired

        async def ok(reader: Reader, writer: Writer) -> None:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                await read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                await writer.drain()
            writer.close()

        srv = await asyncio.start_server(ok, "127.0.0.1", port)
        try:
            async with session.get(f"http://127.0.0.1:{port}/ok") as resp:
                assert await resp.read() == b"ok"
        finally:
            srv.close()
            await srv.wait_closed()


async def test_tls_to_a_plain_http_server_is_ssl_error() -> None:
    """A plain HTTP server answers the ClientHello with a 400: the handshake fails."""

    async def plain(reader: Reader, writer: Writer) -> None:
        await reader.read(1024)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with raw_server(plain) as srv:
        connector = TCPConnector()
        async with ClientSession(connector=connector) as session:
            with pytest.raises(cyhttp.ClientSSLError):
                url = f"https://127.0.0.1:{srv.port}/"
                await session.get(url, ssl=ssl.create_default_context())
            assert not connector._acquired and not connector._conns


# ----- bodies never lost or mixed -----


async def test_concurrent_requests_with_faults_never_mix_bodies() -> None:
    """Many concurrent requests over a small pool, a third of them hitting faults: every
    successful response carries exactly the body of its own request."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            path = request.split(b" ", 2)[1]
            kind, _, ident = path.strip(b"/").partition(b"/")
            if kind == b"reset":
                reset(writer)
                return
            if kind == b"short":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + ident)
                await writer.drain()
                writer.close()
                return
            body = ident * 7
            if kind == b"chunked":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body)
                )
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
            await writer.drain()

    kinds = ["ok", "chunked", "reset", "ok", "short", "chunked"]
    async with raw_server(handler) as srv:
        connector = TCPConnector(limit=4)
        async with ClientSession(connector=connector) as session:

            async def one(i: int) -> str:
                kind = kinds[i % len(kinds)]
                ident = f"id{i:04d}"
                try:
                    async with session.get(srv.url(f"/{kind}/{ident}"), timeout=10) as resp:
                        body = await resp.read()
                except cyhttp.ClientError:
                    assert kind in ("reset", "short")
                    return "failed"
                assert kind not in ("reset", "short")
                assert body == ident.encode() * 7
                return "ok"

            results = await asyncio.gather(*(one(i) for i in range(300)))
            assert results.count("ok") == 200
            assert not connector._acquired
            assert sum(len(c) for c in connector._conns.values()) <= 4


class _QuietTransport(asyncio.Transport):
    """Just enough transport for driving a ResponseHandler by hand (no socket)."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.closing = True

    def close(self) -> None:
        self.closing = True

    def write(self, data: Any) -> None:
        pass

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


@pytest.mark.parametrize("exc", [None, ConnectionResetError(104, "reset")], ids=["fin", "rst"])
async def test_connection_lost_while_a_complete_body_is_still_compressed(
    exc: BaseException | None,
) -> None:
    """Some transports (TLS, other loops) report the connection lost even while reading
    is paused. The body had fully arrived; only its decoding waited for the reader: the
    loss must not turn it into an error."""
    from cyhttp.client_proto import ResponseHandler

    plain = bytes(range(256)) * 8192
    body = gzip.compress(plain, 1)
    proto = ResponseHandler(asyncio.get_running_loop())
    transport = _QuietTransport()
    proto.connection_made(transport)
    head_future = proto.start("GET")
    proto.data_received(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    _, payload = await head_future
    assert transport.paused and proto.busy  # the reader is full, decoding waits
    proto.connection_lost(exc)
    got = bytearray()
    async for piece in payload.iter_chunked(65536):
        got += piece
    assert bytes(got) == plain
    assert not proto.busy


async def test_stale_pool_retry_uses_a_fresh_connection() -> None:
    """Every idle connection went stale at once (the server dropped them all, as after a
    restart or a keep-alive timeout): the one retry must not pick another stale one."""

    async def handler(reader: Reader, writer: Writer) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)  # a second request on this connection: hang up
        writer.close()

    async with raw_server(handler) as srv, ClientSession() as session:

        async def first() -> None:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"

        await asyncio.gather(*(first() for _ in range(3)))
        connector = session.connector
        assert connector is not None
        assert sum(len(c) for c in connector._conns.values()) == 3
        async with session.get(srv.url()) as resp:
            assert await resp.read() == b"ok"
        assert srv.connections == 4  # three stale ones, then exactly one fresh
