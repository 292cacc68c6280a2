"""The per-connection protocol over real sockets: flow control reaches the transport,
upgrades hand the connection over (take_over), and a head or body error is delivered to
whoever waits."""

from __future__ import annotations

import asyncio
import gzip

import pytest

import cyhttp
from cyhttp import ClientSession, TCPConnector
from cyhttp.client_proto import ResponseHandler
from cyhttp.http_exceptions import LineTooLong

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
