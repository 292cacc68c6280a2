"""``ws_connect(listener=...)``: messages handed to a callback from the protocol callback.

Every test runs against both twins of ``_websocket`` (the ``twin`` fixture makes the
socket use the one under test), over real loopback sockets: the ``websockets`` server of
``test_client_ws`` for a well-behaved peer, its raw server for exact bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import cyhttp
from cyhttp import http_websocket
from cyhttp.client_ws import WebSocketClosedError
from cyhttp.http_exceptions import WebSocketError

from .test_client_ws import Peer, frame, raw_server, ws_server

pytestmark = pytest.mark.timeout(30)

M = cyhttp.WSMsgType
#: how long a test waits for something that must happen promptly
PROMPT = 5.0


@pytest.fixture
def twin(impl: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The sockets made during the test use this twin's reader, Sender and ListenerFeed."""
    monkeypatch.setattr(http_websocket, "impl", impl.websocket)
    yield impl.websocket


class Collector:
    """A listener that records what it is given; ``raising`` makes it fail on purpose."""

    def __init__(self, raising: BaseException | None = None, *, always: bool = False) -> None:
        self.messages: list[cyhttp.WSMessage] = []
        self.sockets: list[Any] = []
        self.raising = raising
        self.always = always
        self.changed = asyncio.Event()

    def __call__(self, ws: Any, msg: cyhttp.WSMessage) -> None:
        self.messages.append(msg)
        self.sockets.append(ws)
        self.changed.set()
        if self.raising is not None and (self.always or len(self.messages) == 1):
            raise self.raising

    @property
    def kinds(self) -> list[M]:
        return [m.type for m in self.messages]

    async def until(self, count: int) -> list[cyhttp.WSMessage]:
        """Wait (boundedly) until ``count`` messages came."""
        async with asyncio.timeout(PROMPT):
            while len(self.messages) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.messages

    async def stays(self, count: int) -> None:
        """Nothing more arrives for a while (the last call was the last)."""
        await asyncio.sleep(0.1)
        assert len(self.messages) == count, self.messages


@contextlib.asynccontextmanager
async def connected(path: str, listener: Any, **kwargs: Any) -> AsyncIterator[tuple[Any, Any]]:
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + path, listener=listener, **kwargs)
        try:
            yield ws, record
        finally:
            await ws.close()


# ------------------------------------------------------------------ delivery


async def test_messages_arrive_in_order_with_their_types(twin: Any) -> None:
    got = Collector()
    async with connected("/echo", got) as (ws, _):
        # the twin under test does the work
        assert type(ws._sender) is twin.Sender and type(ws._receiver) is twin.ListenerFeed
        sent: list[str | bytes] = []
        for i in range(20):
            if i % 3:
                ws.send_bytes_nowait(bytes([i]) * (i * 50))
                sent.append(bytes([i]) * (i * 50))
            else:
                ws.send_str_nowait(f"text {i} é")
                sent.append(f"text {i} é")
        await ws.send_bytes(b"awaited")  # the aiohttp sends work beside the listener
        await ws.send_str("too")
        sent += [b"awaited", "too"]
        messages = await got.until(len(sent))
        assert [m.data for m in messages] == sent
        assert [m.type for m in messages] == [
            M.TEXT if isinstance(s, str) else M.BINARY for s in sent
        ]
        assert all(s is ws for s in got.sockets)
        assert await ws.close() is True
    # our close: the server's answering CLOSE is the last call
    assert got.messages[-1].type is M.CLOSE and got.messages[-1].data == 1000
    assert ws.close_code == 1000
    await got.stays(len(sent) + 1)


async def test_fragmented_messages_are_reassembled(twin: Any) -> None:
    got = Collector()
    async with connected("/fragments", got):
        first, second = await got.until(2)
    assert (first.type, first.data) == (M.TEXT, "Hello wörld")
    assert (second.type, second.data) == (M.BINARY, b"\x00\x01\x02")


async def test_large_messages_both_ways(twin: Any) -> None:
    got = Collector()
    payload = bytes(range(256)) * 4096  # 1 MiB
    async with connected("/echo", got) as (ws, _):
        for _ in range(3):
            ws.send_bytes_nowait(payload)
        messages = list(await got.until(3))
    assert [m.data == payload for m in messages] == [True] * 3


@pytest.mark.parametrize("decode_text", [True, False])
async def test_deflate(twin: Any, decode_text: bool) -> None:
    got = Collector()
    async with connected("/echo", got, compress=15, decode_text=decode_text) as (ws, record):
        assert ws.compress == 15
        ws.send_str_nowait("squeeze me " * 1000)
        ws.send_bytes_nowait(b"\x00" * 100_000)
        ws.send_bytes_nowait(b"raw", compress=0)
        text, data, raw = await got.until(3)
    expected = "squeeze me " * 1000
    assert text.data == (expected if decode_text else expected.encode())
    assert (data.data, raw.data) == (b"\x00" * 100_000, b"raw")
    assert "permessage-deflate" in record.extensions[0]


async def test_messages_that_came_with_the_handshake(twin: Any) -> None:
    # the listener may be called before ws_connect returns: it is given the socket
    async def script(peer: Peer) -> list[Any]:
        peer.send(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade"
                f"\r\nSec-WebSocket-Accept: {peer.accept_value()}\r\n\r\n"
            ).encode()
            + frame(0x2, b"early")
        )
        return await peer.messages_until_close()

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        (msg,) = await got.until(1)
        assert (msg.type, msg.data) == (M.BINARY, b"early")
        assert got.sockets == [ws]
        await ws.close()


# ------------------------------------------------------------------ control frames


async def test_server_ping_is_answered_and_not_delivered(twin: Any) -> None:
    got = Collector()
    async with connected("/server-ping", got) as (_, record):
        (msg,) = await got.until(1)
        assert (msg.type, msg.data) == (M.TEXT, "pong received")
    assert record.events == ["pong"]


async def test_without_autoping_the_listener_sees_ping_and_pong(twin: Any) -> None:
    answered: list[bytes] = []

    def listener(ws: Any, msg: cyhttp.WSMessage) -> None:
        got(ws, msg)
        if msg.type is M.PING:
            ws.pong(msg.data)  # the listener answers itself
            answered.append(msg.data)

    got = Collector()
    async with connected("/server-ping", listener, autoping=False) as (ws, record):
        ping, text = await got.until(2)
        assert (ping.type, ping.data) == (M.PING, b"srv")
        assert (text.type, text.data) == (M.TEXT, "pong received")
        assert answered == [b"srv"]
    assert record.events == ["pong"]

    got = Collector()
    async with connected("/echo", got, autoping=False) as (ws, _):
        ws.ping(b"hi")
        (pong,) = await got.until(1)
        assert (pong.type, pong.data) == (M.PONG, b"hi")


async def test_interleaved_control_frame_in_a_fragmented_message(twin: Any) -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(frame(0x1, b"Hel", fin=False) + frame(0x9, b"mid") + frame(0x0, b"lo"))
        return await peer.messages_until_close()

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        (msg,) = await got.until(1)
        assert (msg.type, msg.data) == (M.TEXT, "Hello")
        await ws.close()
    pong, close = srv.done[0]
    assert (pong.type, pong.data) == (M.PONG, b"mid")
    assert close.type is M.CLOSE


# ------------------------------------------------------------------ closing


async def test_close_from_the_server_is_the_last_call(twin: Any) -> None:
    got = Collector()
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/close", listener=got)
        (msg,) = await got.until(1)
        assert (msg.type, msg.data, msg.extra) == (M.CLOSE, 4001, "bye")
        assert ws.closed and ws.close_code == 4001
        assert await ws.close() is False  # autoclose already answered
        await got.stays(1)
    assert record.closes == [(4001, "")]  # our CLOSE echoed the code


async def test_close_from_the_server_without_autoclose(twin: Any) -> None:
    got = Collector()
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/close", listener=got, autoclose=False)
        (msg,) = await got.until(1)
        assert (msg.type, msg.data) == (M.CLOSE, 4001)
        assert ws.closed
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is True
        assert ws.close_code == 4001
        await got.stays(1)
    assert record.closes == [(1000, "")]


async def test_close_from_the_client_sends_its_code(twin: Any) -> None:
    got = Collector()
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo", listener=got)
        async with asyncio.timeout(PROMPT):
            assert await ws.close(code=4000, message=b"done") is True
        assert ws.close_code == 4000  # the server echoed it
        (msg,) = got.messages
        assert (msg.type, msg.data) == (M.CLOSE, 4000)
        with pytest.raises(WebSocketClosedError):
            ws.send_bytes_nowait(b"too late")
        with pytest.raises(WebSocketClosedError):
            ws.send_str_nowait("too late")
    assert record.closes == [(4000, "done")]


async def test_close_from_the_listener(twin: Any) -> None:
    closing: list[asyncio.Task[bool]] = []

    def listener(ws: Any, msg: cyhttp.WSMessage) -> None:
        got(ws, msg)
        if msg.type is M.TEXT and msg.data == "bye":
            closing.append(asyncio.ensure_future(ws.close(code=4002)))

    got = Collector()
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo", listener=listener)
        ws.send_str_nowait("bye")
        await got.until(2)
        async with asyncio.timeout(PROMPT):
            assert await closing[0] is True
    assert got.kinds == [M.TEXT, M.CLOSE]
    assert record.closes == [(4002, "")]


async def test_data_after_our_close_is_dropped(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        await peer.messages_until_close()
        peer.send(frame(0x2, b"late") + frame(0x8, (1000).to_bytes(2, "big")))
        await peer.writer.drain()

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is True
    assert got.kinds == [M.CLOSE]
    assert ws.close_code == 1000


async def test_connection_lost_ends_with_closed(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        peer.send(frame(0x1, b"last words"))
        await peer.writer.drain()

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        words, end = await got.until(2)
        assert (words.type, words.data) == (M.TEXT, "last words")
        assert end.type is M.CLOSED
        assert ws.closed and ws.close_code == 1006
        assert await ws.close() is False
        await got.stays(2)


async def test_protocol_violation_ends_with_error(twin: Any) -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(frame(0x2, b"fine") + bytes((0x83, 0x00)))  # then a reserved opcode
        return await peer.messages_until_close()

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        fine, error = await got.until(2)
        assert (fine.type, fine.data) == (M.BINARY, b"fine")
        assert error.type is M.ERROR
        assert isinstance(error.data, WebSocketError) and error.data.code == 1002
        assert ws.exception() is error.data and ws.close_code == 1002
        await got.stays(2)
    (close,) = srv.done[0]
    assert (close.type, close.data) == (M.CLOSE, 1002)


async def test_protocol_violation_while_closing_ends_close(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        await peer.messages_until_close()
        peer.send(bytes((0x83, 0x00)))  # a reserved opcode instead of the answer
        await peer.writer.drain()
        await peer.reader.read()  # until the client hangs up

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is True
        (end,) = got.messages
        assert end.type is M.ERROR and isinstance(end.data, WebSocketError)
        assert ws.close_code == 1002
    assert srv.done == [None]


async def test_missed_heartbeat_ends_with_error(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        while await peer.reader.read(65536):
            pass  # hear pings, never answer

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got, heartbeat=0.05)
        (end,) = await got.until(1)
        assert end.type is M.ERROR and isinstance(end.data, cyhttp.ServerTimeoutError)
        assert ws.close_code == 1006 and ws.exception() is end.data


# ------------------------------------------------------------------ a failing listener


async def test_an_exception_in_the_listener_fails_the_socket(twin: Any) -> None:
    boom = ValueError("the listener broke")
    got = Collector(boom)
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo", listener=got)
        ws.send_bytes_nowait(b"one")
        ws.send_bytes_nowait(b"two")
        first, last = await got.until(2)
        assert (first.type, first.data) == (M.BINARY, b"one")
        assert (last.type, last.data) == (M.ERROR, boom)  # its own exception, as the last call
        assert ws.exception() is boom
        assert ws.closed and ws.close_code == 1011
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is False  # never hangs
        with pytest.raises(WebSocketClosedError):
            ws.send_bytes_nowait(b"three")
        await got.stays(2)
    assert record.closes == [(1011, "")]


async def test_an_exception_on_the_last_call_goes_to_the_loop(twin: Any) -> None:
    reported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        got = Collector(RuntimeError("every time"), always=True)
        async with connected("/close", got):
            await got.until(1)
            await got.stays(1)
    finally:
        loop.set_exception_handler(None)
    assert got.kinds == [M.CLOSE]
    (context,) = reported
    assert "last message" in context["message"]
    assert str(context["exception"]) == "every time"


async def test_an_exception_while_closing_releases_close(twin: Any) -> None:
    # close() waits for an answer that never comes; the listener fails on a PING meanwhile
    async def script(peer: Peer) -> None:
        await peer.handshake()
        await peer.messages_until_close()
        peer.send(frame(0x9, b"are you there"))
        await peer.writer.drain()
        await peer.reader.read()  # until the client hangs up

    got = Collector(KeyError("while closing"))
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got, autoping=False)
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is True
        assert got.kinds == [M.PING, M.ERROR]
        assert isinstance(ws.exception(), KeyError)
        assert ws.close_code == 1006  # our CLOSE went out, none came back
        await got.stays(2)
    assert srv.done == [None]


async def test_connection_lost_while_closing(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        await peer.messages_until_close()  # then hang up without answering

    got = Collector()
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=got)
        async with asyncio.timeout(PROMPT):
            assert await ws.close() is True
        assert got.kinds == [M.CLOSED]
        assert ws.close_code == 1006
    assert srv.done == [None]


# ------------------------------------------------------------------ the API around it


async def test_receive_refuses_on_a_listener_socket(twin: Any) -> None:
    got = Collector()
    async with connected("/echo", got) as (ws, _):
        with pytest.raises(RuntimeError, match="listener"):
            await ws.receive()
        with pytest.raises(RuntimeError, match="listener"):
            await ws.receive_str()
        with pytest.raises(RuntimeError, match="listener"):
            async for _ in ws:
                pass
        ws.send_bytes_nowait(b"still works")
        (msg,) = await got.until(1)
        assert msg.data == b"still works"


async def test_bad_arguments(twin: Any) -> None:
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        with pytest.raises(TypeError, match="listener must be callable"):
            await session.ws_connect(url + "/echo", listener="not callable")
        got = Collector()
        ws = await session.ws_connect(url + "/echo", listener=got)
        with pytest.raises(TypeError, match="byte-ish"):
            ws.send_bytes_nowait("text")
        with pytest.raises(TypeError, match="must be str"):
            ws.send_str_nowait(b"bytes")
        assert ws.send_bytes_nowait(b"x") is False  # not over the high-water mark
        await got.until(1)
        await ws.close()


async def test_send_nowait_tells_when_the_buffer_is_full(twin: Any) -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        await asyncio.sleep(PROMPT)  # reads nothing: the client's buffer fills

    chunk = b"\x00" * 256 * 1024
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), listener=Collector())
        results = []
        for _ in range(400):  # at most 100 MiB: far beyond any loopback buffer
            results.append(ws.send_bytes_nowait(chunk))
            if results[-1]:
                break
        assert results[0] is False and results[-1] is True
        ws._transport.abort()  # no closing handshake with a peer that does not read
        for t in srv.tasks:
            t.cancel()


async def test_nowait_sends_on_a_receive_socket(twin: Any) -> None:
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo")
        ws.send_str_nowait("plain")
        ws.send_bytes_nowait(b"socket")
        assert await ws.receive_str() == "plain"
        assert await ws.receive_bytes() == b"socket"
        await ws.close()


async def test_module_level_ws_connect_takes_a_listener(twin: Any) -> None:
    got = Collector()
    async with ws_server() as (url, _), cyhttp.ws_connect(url + "/echo", listener=got) as ws:
        ws.send_str_nowait("alone")
        await got.until(1)
    assert got.kinds == [M.TEXT, M.CLOSE]


async def test_no_request_timer_outlives_the_handshake() -> None:
    loop = asyncio.get_running_loop()
    scheduled = getattr(loop, "_scheduled", None)
    if scheduled is None:
        pytest.skip("not asyncio's own loop")
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo")
        assert [h for h in scheduled if not h.cancelled()] == []
        await ws.close()
