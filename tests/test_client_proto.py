"""The per-connection protocol over real sockets: flow control reaches the transport,
upgrades hand the connection over (take_over), and a head or body error is delivered to
whoever waits."""

from __future__ import annotations

import asyncio
import gzip

import pytest

import cyhttp
from cyhttp import ClientSession, TCPConnector, client_proto
from cyhttp.client_proto import ResponseHandler
from cyhttp.http_exceptions import LineTooLong

from .conftest import Impl
from .servers import canned, raw_server, read_request


class Receiver:
    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = asyncio.Event()
        self.exc: BaseException | None = None

    def feed_data(self, data: bytes) -> None:
        self.data += data

    def feed_eof(self) -> None:
        self.eof.set()

    def set_exception(self, exc: BaseException) -> None:
        self.exc = exc
        self.eof.set()


async def test_take_over_after_101() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nTAIL"
        )
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"-MORE")
        await writer.drain()
        assert await reader.readexactly(4) == b"ping"
        writer.write(b"-PONG")
        await writer.drain()

    connector = TCPConnector()
    async with raw_server(handler) as srv, ClientSession(connector=connector) as session:
        resp = await session.get(srv.url(), headers={"Upgrade": "x", "Connection": "Upgrade"})
        assert resp.status == 101
        conn = resp.connection
        assert conn is not None and conn.protocol is not None
        receiver = Receiver()
        conn.protocol.take_over(receiver)
        assert conn.transport is not None
        conn.transport.write(b"ping")
        await asyncio.wait_for(receiver.eof.wait(), 5)
        assert bytes(receiver.data) == b"TAIL-MORE-PONG"
        assert receiver.exc is None
        conn.close()
        resp.release()
        assert not connector._conns


async def test_transport_paused_while_reader_is_full() -> None:
    size = 8 * 2**20

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        piece = b"x" * 2**16
        for _ in range(size // len(piece)):
            writer.write(piece)
            await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            await asyncio.sleep(0.2)  # the server writes as fast as it can; we do not read
            proto = resp.connection.protocol  # type: ignore[union-attr]
            assert proto is not None and proto._reading_paused
            assert resp.content._size < 2 * 2**20  # bounded by flow control
            total = 0
            async for piece in resp.content.iter_chunked(2**16):
                total += len(piece)
            assert total == size


async def test_bytes_while_idle_close_the_connection() -> None:
    """An unsolicited response on an idle pooled connection makes it unusable."""
    seen: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if len(seen) == 1:
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            await writer.drain()
        await asyncio.sleep(3600)

    async with raw_server(handler) as srv, ClientSession() as session:
        for _ in range(2):
            resp = await session.get(srv.url())
            async with resp:
                assert await resp.read() == b"ok"
            await asyncio.sleep(0.2)
    assert srv.connections == 2


async def test_reads_beyond_the_flow_control_window_do_not_hang() -> None:
    """The reader pauses the socket once it holds 256 KiB. readexactly() of more than that
    lets the socket read on (the caller asked for those bytes); readline() of a longer line
    is refused with LineTooLong (a ClientPayloadError), as aiohttp does, and nothing
    buffered is lost."""
    size = 2**20
    plain = bytes(range(256)) * (size // 256)  # no newline before byte 10 of each 256
    wire = response_with(plain)
    gz = response_with(gzip.compress(b"y" * size), b"Content-Encoding: gzip\r\n")

    one_line = response_with(b"z" * size)

    async with raw_server(canned(wire, gz, wire, one_line)) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            assert await asyncio.wait_for(resp.content.readexactly(size), 10) == plain
        async with session.get(srv.url()) as resp:  # the decoder's output is paused too
            assert await asyncio.wait_for(resp.content.readexactly(size), 10) == b"y" * size
        async with session.get(srv.url()) as resp:
            assert await resp.content.readline() == plain[:11]
            with pytest.raises(LineTooLong):
                await asyncio.wait_for(resp.content.readuntil(b"no such separator"), 10)
            assert await asyncio.wait_for(resp.read(), 10) == plain[11:]
        async with session.get(srv.url()) as resp:
            with pytest.raises(cyhttp.ClientPayloadError):
                await asyncio.wait_for(resp.content.readline(), 10)
            assert await asyncio.wait_for(resp.read(), 10) == b"z" * size


def response_with(body: bytes, headers: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%b\r\n%b" % (len(body), headers, body)


def test_start_on_closed_protocol_raises() -> None:
    loop = asyncio.new_event_loop()
    try:
        proto = ResponseHandler(loop)
        with pytest.raises(cyhttp.ServerDisconnectedError):
            proto.start("GET")
    finally:
        loop.close()


async def test_upgraded_connection_outlives_the_request_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.4)
        writer.write(b"late")
        await writer.drain()

    async with raw_server(handler) as srv, ClientSession(read_timeout=0.2) as session:
        resp = await session.get(srv.url())
        conn = resp.connection
        assert conn is not None and conn.protocol is not None
        await asyncio.sleep(0.3)  # past the request's whole-operation timeout
        assert not conn.closed
        receiver = Receiver()
        conn.protocol.take_over(receiver)
        await asyncio.wait_for(receiver.eof.wait(), 5)
        assert bytes(receiver.data) == b"late"
        conn.close()
        resp.release()


# ----- both parser twins behind the protocol -----


@pytest.fixture
def twin(impl: Impl, monkeypatch: pytest.MonkeyPatch) -> Impl:
    """Make new connections parse with ``impl``'s parser (compiled or pure twin)."""
    monkeypatch.setattr(client_proto.impl, "HttpResponseParser", impl.HttpResponseParser)
    return impl


def _interim_then_final(count: int) -> bytes:
    return b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" * count + response_with(b"ok")


@pytest.mark.parametrize("count", [1, 100])
async def test_interim_responses_up_to_the_limit_are_skipped(twin: Impl, count: int) -> None:
    async with (
        raw_server(canned(_interim_then_final(count))) as srv,
        ClientSession() as s,
        s.get(srv.url()) as resp,
    ):
        assert resp.status == 200
        assert await resp.read() == b"ok"


@pytest.mark.parametrize("slow", [False, True], ids=["one-write", "one-by-one"])
async def test_endless_interim_responses_are_refused(twin: Impl, slow: bool) -> None:
    """A server may send 1xx answers forever: the 101st (before any final answer) fails
    the request instead of keeping it waiting without end."""
    sent = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await read_request(reader)
        if not slow:
            writer.write(_interim_then_final(client_proto.MAX_INFORMATIONAL + 1))
            await writer.drain()
            await asyncio.sleep(3600)
        while True:  # endless, each in its own write
            writer.write(b"HTTP/1.1 102 Processing\r\n\r\n")
            await writer.drain()
            sent += 1
            await asyncio.sleep(0)

    async with raw_server(handler) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ClientResponseError, match="more than 100 interim") as info:
            await asyncio.wait_for(session.get(srv.url()), 10)
    assert info.value.status in (102, 103)
    assert info.value.request_info is not None and info.value.request_info.url == srv.url()
    assert not slow or sent >= client_proto.MAX_INFORMATIONAL


@pytest.mark.parametrize(
    "te",
    [
        b"gzip, chunked",
        b"chunked, gzip",
        b"gzip",
        b"x-custom",
        b"gzip\r\nTransfer-Encoding: chunked",
    ],
)
async def test_a_transfer_coding_other_than_chunked_is_refused(twin: Impl, te: bytes) -> None:
    # the parser frames the body by its last coding only: the gzip layer would reach the
    # caller still compressed, so the head is refused
    body = gzip.compress(b"secret")
    chunked = b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body)
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + chunked
    async with raw_server(canned(wire)) as srv, ClientSession() as session:
        with pytest.raises(
            cyhttp.ClientResponseError, match=r"Transfer-Encoding '(gzip|x-custom)'"
        ):
            await asyncio.wait_for(session.get(srv.url()), 10)


async def test_chunked_and_identity_transfer_codings_are_read(twin: Impl) -> None:
    chunked = b"2\r\nok\r\n0\r\n\r\n"
    wires = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, Chunked\r\n\r\n" + chunked,
    ]
    async with raw_server(canned(*wires)) as srv, ClientSession() as session:
        for _ in wires:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"ok"


async def test_sock_read_timeout_is_a_socket_timeout_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(3600)

    timeout = cyhttp.ClientTimeout(sock_read=0.2)
    async with (
        raw_server(handler) as srv,
        ClientSession(timeout=timeout) as session,
        session.get(srv.url()) as resp,
    ):
        with pytest.raises(cyhttp.SocketTimeoutError) as info:
            await asyncio.wait_for(resp.read(), 10)
    assert isinstance(info.value, cyhttp.ServerTimeoutError)
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_sock_read_timeout_before_the_head_is_a_socket_timeout_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(3600)

    timeout = cyhttp.ClientTimeout(sock_read=0.2)
    async with raw_server(handler) as srv, ClientSession(timeout=timeout) as session:
        with pytest.raises(cyhttp.SocketTimeoutError):
            await asyncio.wait_for(session.get(srv.url()), 10)


async def test_writing_to_a_closed_connection_is_a_connection_reset() -> None:
    """As aiohttp's writers: a write or drain after the connection closed raises
    ClientConnectionResetError (a ClientConnectionError and a ConnectionResetError)."""
    released = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
        )
        await writer.drain()
        await released.wait()

    async with raw_server(handler) as srv, ClientSession() as session:
        resp = await session.get(srv.url(), headers={"Upgrade": "x", "Connection": "Upgrade"})
        conn = resp.connection
        assert conn is not None and conn.protocol is not None
        proto = conn.protocol
        proto.take_over(Receiver())
        proto.close()
        with pytest.raises(cyhttp.ClientConnectionResetError, match="closing transport") as info:
            proto.write(b"late")
        assert isinstance(info.value, ConnectionResetError)
        assert isinstance(info.value, cyhttp.ClientConnectionError)
        await asyncio.sleep(0.05)  # connection_lost
        with pytest.raises(cyhttp.ClientConnectionResetError):
            await proto.drain()
        released.set()
        resp.release()


async def test_upload_to_a_server_that_closed_reports_the_disconnect() -> None:
    """The body writer meeting a closed connection stays quiet: the response side says
    what happened (the server went away), not a write error."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(handler) as srv, ClientSession() as session:
        for _ in range(3):
            with pytest.raises(cyhttp.ServerDisconnectedError):
                await session.post(srv.url(), data=b"payload", expect100=True, timeout=10)
