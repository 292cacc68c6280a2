"""``resp.read()`` of a long body of known length: the rest of it is read straight into the
buffer ``read()`` returns (the transport's reads land there through a BufferedProtocol
stand-in), instead of one piece per socket read joined at the end. These tests check that
nothing else changes: the bytes, ``total_bytes``, keep-alive reuse afterwards, a body cut
short, a stalled body and its read timeout, uvloop, aiofastnet, a body above the bound,
TLS (which keeps the usual path), and a transport that hands over bytes instead of reading
into the buffer.

The suite runs twice, so every exchange here goes through the compiled protocol in one run
and its pure twin in the other; the direct unit tests drive both twins explicitly."""

from __future__ import annotations

import asyncio
import hashlib
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web

import cyhttp
from cyhttp import (
    ClientSession,
    TCPConnector,
    _compat,
    _protocol_common,
    _protocol_py,
    client_proto,
)

from .conftest import Impl
from .servers import app_server, raw_server, read_request
from .tls_servers import Pki, tls_app_server

MIB = 1 << 20


def pattern(size: int) -> bytes:
    """A body where a misplaced piece cannot go unnoticed."""
    block = hashlib.sha256(b"direct").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def body_app(sizes: tuple[int, ...] = (MIB, 3 * MIB + 7, 70_000)) -> web.Application:
    bodies = {size: pattern(size) for size in sizes}

    async def body(request: web.Request) -> web.Response:
        return web.Response(body=bodies[int(request.match_info["size"])])

    app = web.Application()
    app.router.add_get("/body/{size}", body)
    return app


class Watch:
    """Counts the direct receives that began (whichever twin is in use)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = 0
        handler = client_proto.ResponseHandler
        original = handler.receive_rest_directly
        watch = self

        class Watched(handler):  # type: ignore[misc, valid-type]
            def receive_rest_directly(self, reader: Any) -> bool:
                began: bool = original(self, reader)
                watch.started += began
                return began

        monkeypatch.setattr(cyhttp.connector, "ResponseHandler", Watched)


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    return Watch(monkeypatch)


async def test_long_bodies_arrive_whole_and_the_connection_is_reused(watch: Watch) -> None:
    async with app_server(body_app()) as srv, ClientSession() as session:
        for size in (MIB, 3 * MIB + 7, MIB, 70_000):
            async with session.get(srv.url(f"/body/{size}")) as resp:
                data = await resp.read()
                assert data == pattern(size)
                assert resp.content.total_bytes == size
            async with session.get(srv.url("/body/70000")) as resp:
                assert (await resp.read()) == pattern(70_000)
        assert srv.connections == 1  # every response left the connection reusable
    assert watch.started >= 3  # (a 70 000-byte body may arrive with its head)


async def test_a_body_in_slow_pieces_after_a_part_already_buffered(watch: Watch) -> None:
    """Part of the body is buffered before read() is called; the rest comes slowly."""
    body = pattern(MIB)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5000])
        await writer.drain()
        await asyncio.sleep(0.05)
        for start in range(5000, len(body), 300_001):
            writer.write(body[start : start + 300_001])
            await writer.drain()
            await asyncio.sleep(0.01)
        await reader.read()  # until the client closes

    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        await asyncio.sleep(0.02)  # the first 5000 bytes wait in the reader
        assert (await resp.read()) == body
        assert resp.content.total_bytes == len(body)
    assert watch.started == 1


async def test_a_body_cut_short_is_a_payload_error(watch: Watch) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"y" * 300_000)
        await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            with pytest.raises(cyhttp.ClientPayloadError):
                await resp.read()
        assert not session.connector._conns  # type: ignore[union-attr]
    assert watch.started == 1


async def test_a_stalled_body_times_out(watch: Watch) -> None:
    stop = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"z" * 200_000)
        await writer.drain()
        await stop.wait()

    timeout = cyhttp.ClientTimeout(sock_read=0.3)
    async with raw_server(handler) as srv, ClientSession(timeout=timeout) as session:
        try:
            async with session.get(srv.url()) as resp:
                with pytest.raises(cyhttp.ServerTimeoutError):
                    await asyncio.wait_for(resp.read(), 5)
        finally:
            stop.set()
    assert watch.started == 1


async def test_a_cancelled_read_leaves_a_usable_response(watch: Watch) -> None:
    """read() cancelled mid-body: the body still arrives whole, for the next read()."""
    body = pattern(MIB)
    go = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body[:100_000])
        await writer.drain()
        await go.wait()
        writer.write(body[100_000:])
        await writer.drain()
        await reader.read()

    async with (
        raw_server(handler) as srv,
        ClientSession() as session,
        session.get(srv.url()) as resp,
    ):
        task = asyncio.ensure_future(resp.content.read())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        go.set()
        # the cancelled read handed nothing out: the whole body is still to be read
        assert (await asyncio.wait_for(resp.content.read(), 5)) == body
    assert watch.started == 1


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.mark.parametrize("fast", [False, True], ids=["loop transports", "aiofastnet"])
async def test_over_tls_bodies_arrive_piece_by_piece(pki: Pki, watch: Watch, fast: bool) -> None:
    """TLS keeps the usual path (measured: no gain on asyncio, a loss on uvloop, and
    aiofastnet's TLS transport does not take its protocol back): several long bodies on
    one connection arrive whole, and none was received directly."""
    if fast and not cyhttp.fastnet.available():
        pytest.skip("aiofastnet is not installed here (the speedups extra)")
    connector = TCPConnector(ssl=pki.client_context(), fast_transports=fast)
    async with (
        tls_app_server(body_app(), pki.server_context()) as srv,
        ClientSession(connector=connector) as session,
    ):
        for size in (3 * MIB + 7, MIB, MIB):
            async with session.get(srv.url(f"/body/{size}")) as resp:
                assert (await resp.read()) == pattern(size)
        assert srv.connections == 1
    assert watch.started == 0


@pytest.mark.parametrize("fast", [False, True], ids=["loop transports", "aiofastnet"])
def test_on_uvloop(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop", reason="uvloop is in the test extra")
    if fast and not cyhttp.fastnet.available():
        pytest.skip("aiofastnet is not installed here (the speedups extra)")
    watch = Watch(monkeypatch)

    async def main() -> None:
        async with (
            app_server(body_app()) as srv,
            ClientSession(connector=TCPConnector(fast_transports=fast)) as session,
        ):
            for size in (MIB, 3 * MIB + 7, 70_000):
                async with session.get(srv.url(f"/body/{size}")) as resp:
                    assert (await resp.read()) == pattern(size)
            assert srv.connections == 1  # the transport took its protocol back each time

    uvloop.run(main())
    assert watch.started >= 2


async def test_aiofastnet_on_asyncio(watch: Watch) -> None:
    if not cyhttp.fastnet.available():
        pytest.skip("aiofastnet is not installed here (the speedups extra)")
    connector = TCPConnector(fast_transports=True)
    async with app_server(body_app()) as srv, ClientSession(connector=connector) as session:
        for size in (MIB, 3 * MIB + 7, 70_000):
            async with session.get(srv.url(f"/body/{size}")) as resp:
                assert (await resp.read()) == pattern(size)
        assert srv.connections == 1  # the transport took its protocol back each time
    assert watch.started >= 2


async def test_a_body_above_the_bound_arrives_piece_by_piece(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Content-Length is only a claim: beyond the bound nothing is allocated ahead."""
    monkeypatch.setattr(_protocol_common, "DIRECT_BODY_MAX", MIB)
    async with app_server(body_app()) as srv, ClientSession() as session:
        async with session.get(srv.url(f"/body/{3 * MIB + 7}")) as resp:
            assert (await resp.read()) == pattern(3 * MIB + 7)
        async with session.get(srv.url(f"/body/{MIB}")) as resp:
            assert (await resp.read()) == pattern(MIB)
    assert watch.started == 1


# --- a transport that hands over bytes instead of reading into the buffer -----------------


class BytesTransport:
    """Just enough of a transport for the protocol: it records what it is given and
    never reads into buffers, so the stand-in's ``data_received`` path runs."""

    def __init__(self) -> None:
        self.protocol: Any = None
        self.closing = False

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes) -> None:
        pass

    def abort(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def twin(impl: Impl) -> ModuleType:
    module = _compat.import_twin("_protocol" if impl.name == "c" else "_protocol_py")
    if module is None:
        pytest.fail("the compiled _protocol module is not built")
    return module


async def _direct_handler(twin: ModuleType, size: int, first: bytes) -> tuple[Any, Any, Any]:
    """A handler whose response (Content-Length ``size``) began with ``first``, and the
    future of its read()."""
    handler = twin.ResponseHandler(asyncio.get_running_loop())
    transport = BytesTransport()
    handler.connection_made(transport)
    transport.protocol = handler
    waiter = handler.start("GET")
    handler.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + first)
    _, reader = await waiter
    read = asyncio.ensure_future(reader.read())
    await asyncio.sleep(0)
    return handler, transport, read


async def test_bytes_handed_over_are_copied_in(twin: ModuleType) -> None:
    body = pattern(200_000)
    handler, transport, read = await _direct_handler(twin, len(body), body[:10])
    assert isinstance(transport.protocol, _protocol_py.DirectBody)
    done: list[bool] = []
    handler.on_message_done = lambda: done.append(True)
    for start in range(10, len(body), 65_536):
        transport.protocol.data_received(body[start : start + 65_536])
    assert transport.protocol is handler and done == [True]
    assert (await read) == body and handler.is_reusable()
    handler.close()


async def test_bytes_beyond_the_body_are_not_the_next_answer(twin: ModuleType) -> None:
    """Bytes after the body in the same delivery: the body is complete, and the connection
    is closed rather than reused (as after any response followed by stray bytes)."""
    body = pattern(100_000)
    handler, transport, read = await _direct_handler(twin, len(body), b"")
    transport.protocol.data_received(body + b"HTTP/1.1 200 OK\r\n")
    assert (await read) == body
    assert not handler.is_reusable() and transport.closing


async def test_the_peer_leaving_mid_body_fails_the_read(twin: ModuleType) -> None:
    handler, transport, read = await _direct_handler(twin, 500_000, b"a" * 100)
    transport.protocol.data_received(b"b" * 100_000)
    transport.protocol.connection_lost(None)
    with pytest.raises(cyhttp.ClientPayloadError):
        await read
    assert handler.closed


async def test_the_window_given_to_the_transport(twin: ModuleType) -> None:
    """get_buffer hands out exactly the unfilled rest of the body (never more: the
    transport must not read past the body into the next response)."""
    handler, transport, read = await _direct_handler(twin, 300_000, b"q" * 1000)
    stand_in = transport.protocol
    window = memoryview(stand_in.get_buffer(-1))
    assert window.nbytes == 299_000 and not window.readonly
    window[:500] = b"r" * 500
    stand_in.buffer_updated(500)
    assert memoryview(stand_in.get_buffer(65_536)).nbytes == 298_500
    stand_in.buffer_updated(0)  # a count of nothing changes nothing
    stand_in.data_received(b"")
    assert memoryview(stand_in.get_buffer(-1)).nbytes == 298_500
    rest = memoryview(stand_in.get_buffer(-1))
    rest[:] = b"s" * rest.nbytes
    stand_in.buffer_updated(rest.nbytes)
    assert (await read) == b"q" * 1000 + b"r" * 500 + b"s" * 298_500
    handler.close()
