"""``ClientSession.ws_connect`` and ``ClientWebSocketResponse`` over real loopback sockets.

The well-behaved peer is the ``websockets`` package's server (with and without
permessage-deflate); protocol violations and odd handshakes come from a raw asyncio server
that writes exactly the bytes a test wants and records what the client sends back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import inspect
import json
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

import cyhttp
from cyhttp import _websocket_py
from cyhttp._ws_deflate import Deflater
from cyhttp.client_ws import DEFAULT_WS_CLIENT_TIMEOUT
from cyhttp.http_exceptions import WebSocketError

from .servers import app_server

pytestmark = pytest.mark.timeout(60)

MiB = 1024 * 1024
T, B = cyhttp.WSMsgType.TEXT, cyhttp.WSMsgType.BINARY


# ------------------------------------------------------------------ the websockets server


@dataclass
class Record:
    """What the websockets server saw: close codes/reasons, negotiated extensions."""

    closes: list[tuple[int | None, str | None]] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


async def _handler(conn: ServerConnection, record: Record) -> None:
    path = conn.request.path if conn.request is not None else "/"
    record.extensions.append(
        conn.response.headers.get("Sec-WebSocket-Extensions", "")
        if conn.response is not None
        else ""
    )
    try:
        if path == "/echo":
            async for message in conn:
                await conn.send(message)
        elif path == "/fragments":
            await conn.send(["Hel", "lo ", "wörld"])
            await conn.send([b"\x00\x01", b"", b"\x02"])
            await conn.wait_closed()
        elif path == "/server-ping":
            pong = await conn.ping(b"srv")
            await asyncio.wait_for(pong, 5)
            record.events.append("pong")
            await conn.send("pong received")
            await conn.wait_closed()
        elif path.startswith("/close"):
            await conn.close(4001, "bye")
        elif path == "/flood":
            for i in range(80):
                await conn.send(bytes([i]) * 128 * 1024)
            await conn.wait_closed()
        elif path == "/json":
            data = json.loads(await conn.recv())
            await conn.send(json.dumps({"got": data}))
            await conn.wait_closed()
    finally:
        record.closes.append((conn.close_code, conn.close_reason))


@contextlib.asynccontextmanager
async def ws_server(**kwargs: Any) -> AsyncIterator[tuple[str, Record]]:
    record = Record()
    kwargs.setdefault("max_size", None)
    kwargs.setdefault("ping_interval", None)

    async def handler(conn: ServerConnection) -> None:
        await _handler(conn, record)

    async with serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", record


@contextlib.asynccontextmanager
async def ws_session(
    path: str, server: dict[str, Any] | None = None, **kwargs: Any
) -> AsyncIterator[tuple[cyhttp.ClientWebSocketResponse, Record]]:
    """A websockets server, a session and a connected client WebSocket, all torn down."""
    async with ws_server(**(server or {})) as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + path, **kwargs)
        try:
            yield ws, record
        finally:
            await ws.close()


# ------------------------------------------------------------------ the raw server


def _accept(key: str) -> str:
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Peer:
    """One raw connection: the request head, and helpers to speak frames."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    headers: dict[str, str]
    frames: Any = field(default_factory=lambda: _websocket_py.FrameReader(0))

    def accept_value(self) -> str:
        return _accept(self.headers.get("sec-websocket-key", ""))

    async def handshake(self, extra: str = "", *, accept: str | None = None) -> None:
        self.writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept or self.accept_value()}"
                f"\r\n{extra}\r\n"
            ).encode()
        )
        await self.writer.drain()

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def messages_until_close(self) -> list[Any]:
        """Everything the client sends until its CLOSE (or EOF)."""
        out: list[Any] = []
        while True:
            data = await self.reader.read(65536)
            if not data:
                return out
            for msg in self.frames.feed_data(data):
                out.append(msg)
                if msg.type is cyhttp.WSMsgType.CLOSE:
                    return out


@dataclass
class RawServer:
    port: int
    peers: list[Peer] = field(default_factory=list)
    done: list[Any] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


@contextlib.asynccontextmanager
async def raw_server(script: Callable[[Peer], Awaitable[Any]]) -> AsyncIterator[RawServer]:
    server_info = RawServer(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        server_info.tasks.append(task)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = {}
        for line in lines:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        peer = Peer(reader, writer, headers)
        server_info.peers.append(peer)
        try:
            server_info.done.append(await script(peer))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            server_info.done.append(exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    server_info.port = server.sockets[0].getsockname()[1]
    try:
        yield server_info
        if server_info.tasks:  # let the scripts finish reading what the client sent last
            await asyncio.wait(server_info.tasks, timeout=10)
    finally:
        server.close()
        await server.wait_closed()


def frame(opcode: int, payload: bytes, **kwargs: Any) -> bytes:
    """A server frame (unmasked)."""
    kwargs.setdefault("mask", False)
    data: bytes = _websocket_py.build_frame(opcode, payload, **kwargs)
    return data


# ------------------------------------------------------------------ echo

SIZES = [0, 125, 126, 64 * 1024, 16 * MiB]


def _payload(kind: str, size: int) -> str | bytes:
    if kind == "text":
        text = ("aé€😀" * (size // 10 + 1)).encode()[:size].decode("utf-8", "ignore")
        return text + "a" * (size - len(text.encode()))
    return bytes(range(256)) * (size // 256) + bytes(range(size % 256))


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
@pytest.mark.parametrize("kind", ["text", "binary"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s}B")
async def test_echo(compress: int, kind: str, size: int) -> None:
    payload = _payload(kind, size)
    assert len(payload.encode() if isinstance(payload, str) else payload) == size
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo", compress=compress, max_msg_size=32 * MiB)
        assert ws.compress == compress
        for _ in range(2):  # twice: the second message reuses the compression context
            if isinstance(payload, str):
                await ws.send_str(payload)
                assert await ws.receive_str() == payload
            else:
                await ws.send_bytes(payload)
                assert await ws.receive_bytes() == payload
        assert await ws.close() is True
        assert ws.closed
    assert ("permessage-deflate" in record.extensions[0]) == bool(compress)
    assert record.closes == [(1000, "")]


@pytest.mark.parametrize(
    "factory",
    [
        ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True
        ),
        ServerPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9),
    ],
    ids=["no-context-takeover", "small-windows"],
)
async def test_deflate_parameters_from_the_server(factory: Any) -> None:
    server = {"extensions": [factory], "compression": None}
    async with ws_session("/echo", server=server, compress=15) as (ws, record):
        for i in range(3):
            message = f"message {i} " * 500
            await ws.send_str(message)
            assert await ws.receive_str() == message
    assert "permessage-deflate" in record.extensions[0]
    assert record.closes == [(1000, "")]


async def test_server_declines_compression() -> None:
    async with ws_session("/echo", server={"compression": None}, compress=12) as (ws, _):
        assert ws.compress == 0
        await ws.send_bytes(b"x" * 1000)
        assert await ws.receive_bytes() == b"x" * 1000


async def test_fragmented_messages_are_reassembled() -> None:
    async with ws_session("/fragments") as (ws, _):
        assert await ws.receive_str() == "Hello wörld"
        assert await ws.receive_bytes() == b"\x00\x01\x02"


async def test_json_and_async_iteration() -> None:
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        async with session.ws_connect(url + "/json") as ws:
            await ws.send_json({"a": [1, 2]})
            assert await ws.receive_json() == {"got": {"a": [1, 2]}}
        ws = await session.ws_connect(url + "/close")
        seen = [msg async for msg in ws]  # ends at the server's CLOSE
        assert seen == []
        assert ws.closed and ws.close_code == 4001


async def test_wss_with_a_private_ca() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with ws_server(ssl=server_ctx) as (url, _), cyhttp.ClientSession() as session:
        wss = url.replace("ws://", "wss://") + "/echo"
        async with session.ws_connect(wss, ssl_context=client_ctx, compress=15) as ws:
            assert ws.get_extra_info("sslcontext") is not None
            await ws.send_str("secret")
            assert await ws.receive_str() == "secret"
        with pytest.raises(cyhttp.ClientConnectorCertificateError):
            await session.ws_connect(wss)  # the system CAs do not know ours
        with pytest.raises(cyhttp.ClientConnectorCertificateError):
            await session.ws_connect(wss, ssl=True)  # 3.x spelling of the default check
        async with session.ws_connect(wss, ssl=False) as ws:  # no verification at all
            await ws.send_str("unchecked")
            assert await ws.receive_str() == "unchecked"


async def test_forgotten_websocket_is_closed_with_the_session() -> None:
    async with ws_server() as (url, _):
        async with cyhttp.ClientSession() as session:
            ws = await session.ws_connect(url + "/echo")
        msg = await ws.receive()  # the session closed the socket under it
        assert msg.type is cyhttp.WSMsgType.CLOSED
        assert ws.closed and ws.close_code == 1006


async def test_unread_messages_pause_the_socket() -> None:
    async with ws_session("/flood") as (ws, _):
        for _ in range(200):  # until the queue passed its high-water mark
            await asyncio.sleep(0.01)
            if ws._paused:
                break
        assert ws._paused
        for i in range(80):
            assert await ws.receive_bytes() == bytes([i]) * 128 * 1024
        assert not ws._paused


async def test_type_errors() -> None:
    async with ws_session("/echo") as (ws, _):
        with pytest.raises(TypeError):
            await ws.send_str(b"bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_bytes("text")  # type: ignore[arg-type]
        await ws.send_bytes(b"raw")
        with pytest.raises(cyhttp.WSMessageTypeError, match=r"BINARY:b'raw' is not \S+\.TEXT"):
            await ws.receive_str()
        await ws.send_str("text")
        with pytest.raises(cyhttp.WSMessageTypeError, match=r"TEXT:'text' is not \S+\.BINARY"):
            await ws.receive_bytes()
        await ws.send_bytes(b"[1]")
        with pytest.raises(cyhttp.WSMessageTypeError):  # JSON must come as TEXT
            await ws.receive_json()
        assert issubclass(cyhttp.WSMessageTypeError, TypeError)  # old `except TypeError` works
        await ws.send_str("not json")
        with pytest.raises(ValueError):
            await ws.receive_json()
        for bad in (5, None, ["a"]):  # bytes(5) would be five zero bytes
            with pytest.raises(TypeError):
                ws.ping(bad)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                ws.pong(bad)  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                await ws.close(message=bad)  # type: ignore[arg-type]
        assert not ws.closed


# ------------------------------------------------------------------ ping / pong


async def test_client_ping_gets_pong_without_autoping() -> None:
    async with ws_session("/echo", autoping=False) as (ws, _):
        ws.ping(b"hi")
        msg = await ws.receive()
        assert (msg.type, msg.data) == (cyhttp.WSMsgType.PONG, b"hi")
        await ws.ping("again")  # awaitable too, as in later aiohttp
        assert (await ws.receive()).data == b"again"


async def test_server_ping_is_answered_automatically() -> None:
    async with ws_session("/server-ping") as (ws, record):
        assert await ws.receive_str() == "pong received"
    assert record.events == ["pong"]


async def test_server_ping_is_delivered_without_autoping() -> None:
    async with ws_session("/server-ping", autoping=False) as (ws, record):
        msg = await ws.receive()
        assert (msg.type, msg.data) == (cyhttp.WSMsgType.PING, b"srv")
        ws.pong(msg.data)
        assert await ws.receive_str() == "pong received"
    assert record.events == ["pong"]


async def test_heartbeat_pings_an_idle_server() -> None:
    async def script(peer: Peer) -> int:
        await peer.handshake()
        pings = 0
        while True:
            data = await peer.reader.read(65536)
            if not data:
                return pings
            for msg in peer.frames.feed_data(data):
                if msg.type is cyhttp.WSMsgType.PING:
                    pings += 1
                    peer.send(frame(0xA, msg.data))
                elif msg.type is cyhttp.WSMsgType.TEXT:
                    peer.send(frame(0x1, msg.data.encode()))
                elif msg.type is cyhttp.WSMsgType.CLOSE:
                    peer.send(frame(0x8, b"\x03\xe8"))
                    return pings

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), heartbeat=0.05)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.5)  # idle: only heartbeats flow, and are answered
        assert not ws.closed
        await ws.send_str("still there")
        assert await ws.receive_str() == "still there"
        await ws.close()
        assert ws.close_code == 1000
    assert srv.done[0] >= 2


async def test_heartbeat_without_pong_closes_with_1006() -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        while await peer.reader.read(65536):
            pass  # hear pings, never answer

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), heartbeat=0.05)
        msg = await ws.receive()
        assert msg.type is cyhttp.WSMsgType.ERROR
        assert isinstance(msg.data, cyhttp.ServerTimeoutError)
        assert ws.closed and ws.close_code == 1006
        assert ws.exception() is msg.data
        assert (await ws.receive()).type is cyhttp.WSMsgType.CLOSED


# ------------------------------------------------------------------ closing


async def test_server_initiated_close_autoclose() -> None:
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/close")
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (cyhttp.WSMsgType.CLOSE, 4001, "bye")
        assert ws.closed and ws.close_code == 4001
        assert (await ws.receive()).type is cyhttp.WSMsgType.CLOSED
        assert await ws.close() is False
    assert record.closes == [(4001, "")]  # the handshake completed; our CLOSE echoed the code


async def test_server_initiated_close_without_autoclose() -> None:
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/close", autoclose=False)
        msg = await ws.receive()
        assert (msg.type, msg.data) == (cyhttp.WSMsgType.CLOSE, 4001)
        assert ws.closed  # the reference: True once a CLOSE message was received
        await ws.send_str("a last word is allowed before our CLOSE")
        assert await ws.close() is True
        assert ws.closed and ws.close_code == 4001
    assert record.closes == [(1000, "")]


async def test_client_close_sends_code_and_message() -> None:
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo")
        assert await ws.close(code=4000, message=b"done") is True
        assert await ws.close() is False
        assert ws.close_code == 4000  # the code of the server's answering CLOSE (an echo)
        assert ws.get_extra_info("peername") is None
        for _ in range(4):
            assert (await ws.receive()).type is cyhttp.WSMsgType.CLOSED
        with pytest.raises(RuntimeError):
            await ws.receive()
        with pytest.raises(RuntimeError):  # as the reference documents for send_json
            await ws.send_json("too late")
        with pytest.raises(cyhttp.ClientConnectionError):
            await ws.send_bytes(b"too late")
        with pytest.raises(cyhttp.ClientConnectionError):
            ws.ping()
    assert record.closes == [(4000, "done")]


async def test_close_with_bad_arguments_leaves_the_socket_open() -> None:
    async with ws_server() as (url, record), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo")
        for kwargs in ({"code": 70000}, {"code": 1006}, {"code": 999}, {"message": b"x" * 124}):
            with pytest.raises(ValueError):
                await ws.close(**kwargs)
            assert not ws.closed
        await ws.send_str("still open")
        assert await ws.receive_str() == "still open"
        assert await ws.close(code=1001, message="x" * 123) is True
    assert record.closes == [(1001, "x" * 123)]


async def test_close_times_out_when_the_server_never_answers() -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        got = await peer.messages_until_close()
        await peer.reader.read()  # hold the connection until the client gives up
        return got

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), timeout=cyhttp.ClientWSTimeout(ws_close=0.1))
        assert await ws.close() is True
        assert ws.close_code == 1006
    assert [(m.type, m.data) for m in srv.done[0]] == [(cyhttp.WSMsgType.CLOSE, 1000)]


async def test_close_during_receive_returns_closing() -> None:
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        ws = await session.ws_connect(url + "/echo")
        receiving = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError):
            await ws.receive()  # only one reader at a time
        await ws.close()
        assert (await receiving).type is cyhttp.WSMsgType.CLOSING


async def test_connection_lost_gives_1006() -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake()
        peer.send(frame(0x1, b"last words"))
        await peer.writer.drain()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        assert await ws.receive_str() == "last words"
        assert (await ws.receive()).type is cyhttp.WSMsgType.CLOSED
        assert ws.closed and ws.close_code == 1006


async def test_receive_timeout_leaves_the_socket_open() -> None:
    timeout = cyhttp.ClientWSTimeout(ws_receive=0.05)
    async with ws_session("/echo", timeout=timeout) as (ws, _):
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive()
        assert not ws.closed
        peer = ws.get_extra_info("peername")
        assert peer[0] == "127.0.0.1"
        await ws.send_str("after the timeout")
        assert await ws.receive_str() == "after the timeout"


# ------------------------------------------------------------------ protocol violations

VIOLATIONS = [
    ("reserved opcode", frame(0x1, b"ok") + bytes((0x83, 0x00)), 1002, ["ok"], {}),
    ("invalid UTF-8", frame(0x1, b"ok") + bytes((0x81, 0x02, 0xC3, 0x28)), 1007, ["ok"], {}),
    ("invalid close reason", bytes((0x88, 0x03, 0x03, 0xE8, 0xFF)), 1007, [], {}),
    ("too big", frame(0x2, b"x" * 11), 1009, [], {"max_msg_size": 10}),
    ("masked server frame", frame(0x1, b"hi", mask=True), 1002, [], {}),
    ("RSV1 without deflate", bytes((0xC1, 0x01, 0x61)), 1002, [], {}),
    ("long ping", bytes((0x89, 0x7E, 0x00, 0x7E)) + b"p" * 126, 1002, [], {}),
    ("bad continuation", bytes((0x80, 0x01, 0x61)), 1002, [], {}),
]


@pytest.mark.parametrize(
    ("name", "wire", "code", "before", "kwargs"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS]
)
async def test_protocol_violation_closes_with_code(
    name: str, wire: bytes, code: int, before: list[str], kwargs: Any
) -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(wire)
        return await peer.messages_until_close()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), **kwargs)
        for text in before:
            assert await ws.receive_str() == text
        msg = await ws.receive()
        assert msg.type is cyhttp.WSMsgType.ERROR
        assert isinstance(msg.data, WebSocketError) and msg.data.code == code
        assert ws.closed and ws.close_code == code
        assert ws.exception() is msg.data
    (close,) = srv.done[0]
    assert (close.type, close.data) == (cyhttp.WSMsgType.CLOSE, code)


async def test_close_after_an_unread_violation_sends_its_code() -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(bytes((0x81, 0x01, 0xFF)))  # invalid UTF-8
        return await peer.messages_until_close()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        for _ in range(100):  # until the bad frame has arrived
            await asyncio.sleep(0.01)
            if ws._end is not None:
                break
        assert await ws.close() is True
        assert ws.close_code == 1007
        assert isinstance(ws.exception(), WebSocketError)
        assert (await ws.receive()).type is cyhttp.WSMsgType.CLOSED
    assert srv.done[0][0].data == 1007


async def test_violation_in_the_handshake_tail() -> None:
    # the bad frame arrives in the same packet as the 101 head
    async def script(peer: Peer) -> list[Any]:
        peer.send(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade"
                f"\r\nSec-WebSocket-Accept: {peer.accept_value()}\r\n\r\n"
            ).encode()
            + frame(0x2, b"first")
            + bytes((0x8B, 0x00))
        )
        return await peer.messages_until_close()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        assert await ws.receive_bytes() == b"first"
        assert (await ws.receive()).type is cyhttp.WSMsgType.ERROR
    assert srv.done[0][0].data == 1002


async def test_interleaved_control_frames_and_ping_reply() -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(frame(0x1, b"Hel", fin=False) + frame(0x9, b"mid") + frame(0x0, b"lo"))
        return await peer.messages_until_close()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        assert await ws.receive_str() == "Hello"
        await ws.close()
    pong, close = srv.done[0]
    assert (pong.type, pong.data) == (cyhttp.WSMsgType.PONG, b"mid")
    assert (close.type, close.data) == (cyhttp.WSMsgType.CLOSE, 1000)


# ------------------------------------------------------------------ handshake


async def test_handshake_request_headers() -> None:
    async def script(peer: Peer) -> dict[str, str]:
        await peer.handshake("Sec-WebSocket-Protocol: chat\r\n")
        await peer.messages_until_close()
        peer.send(frame(0x8, b"\x03\xe8"))
        return peer.headers

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(
            srv.url("/path?q=1"),
            protocols=("v2", "chat"),
            origin="http://example.org",
            headers={"X-Test": "yes"},
            auth=cyhttp.BasicAuth("user", "pass"),
            compress=12,
        )
        assert ws.protocol == "chat"
        await ws.close()
    headers = srv.done[0]
    assert headers["upgrade"].lower() == "websocket"
    assert headers["connection"].lower() == "upgrade"
    assert headers["sec-websocket-version"] == "13"
    assert len(base64.b64decode(headers["sec-websocket-key"])) == 16
    assert headers["sec-websocket-protocol"] == "v2, chat"
    assert headers["origin"] == "http://example.org"
    assert headers["x-test"] == "yes"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:pass").decode()
    assert headers["sec-websocket-extensions"] == (
        "permessage-deflate; client_max_window_bits; server_max_window_bits=12"
    )


async def test_subprotocol_negotiation_with_websockets() -> None:
    async with (
        ws_server(subprotocols=["chat", "superchat"]) as (url, _),
        cyhttp.ClientSession() as session,
    ):
        async with session.ws_connect(url + "/echo", protocols=("superchat",)) as ws:
            assert ws.protocol == "superchat"
        async with session.ws_connect(url + "/echo", protocols=("x", "chat")) as ws:
            assert ws.protocol == "chat"


BAD_HANDSHAKES = [
    ("status 200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "status"),
    ("status 404", "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", 404, "status"),
    (
        "wrong accept",
        "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        101,
        "challenge",
    ),
    (
        "no upgrade",
        "HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
        101,
        "upgrade",
    ),
    (
        "no connection upgrade",
        "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n"
        "Connection: keep-alive\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
        101,
        "connection",
    ),
    (
        "protocol not offered",
        "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        "Sec-WebSocket-Protocol: other\r\n\r\n",
        101,
        "subprotocol",
    ),
    (
        "extension not offered",
        "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        101,
        "extension",
    ),
]


@pytest.mark.parametrize(
    ("name", "answer", "status", "word"), BAD_HANDSHAKES, ids=[b[0] for b in BAD_HANDSHAKES]
)
async def test_bad_handshake(name: str, answer: str, status: int, word: str) -> None:
    async def script(peer: Peer) -> None:
        peer.send(answer.replace("{accept}", peer.accept_value()).encode())
        await peer.writer.drain()
        await peer.reader.read()

    async with raw_server(script) as srv, cyhttp.ClientSession(raise_for_status=True) as session:
        with pytest.raises(cyhttp.WSServerHandshakeError) as info:
            await session.ws_connect(srv.url(), protocols=("chat",))
    assert info.value.status == status
    assert word in info.value.message.lower()


async def test_client_window_8_means_we_send_uncompressed() -> None:
    # zlib cannot compress with a 256-byte window: we must then send plain frames (RSV1 is
    # per message), while still inflating what the server compresses
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n"
        )
        peer.send(frame(0x1, Deflater(15).deflate(b"squeezed " * 100), rsv1=True))
        return await peer.messages_until_close()  # a plain reader: RSV1 would be an error

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), compress=15)
        assert ws.compress == 15
        assert await ws.receive_str() == "squeezed " * 100
        await ws.send_str("plain " * 100)
        await ws.close()
    text, close = srv.done[0]
    assert (text.type, text.data) == (T, "plain " * 100)
    assert close.type is cyhttp.WSMsgType.CLOSE


async def test_bad_extension_answer_to_compress() -> None:
    async def script(peer: Peer) -> None:
        await peer.handshake("Sec-WebSocket-Extensions: permessage-deflate; mystery=1\r\n")
        await peer.reader.read()

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        with pytest.raises(cyhttp.WSServerHandshakeError) as info:
            await session.ws_connect(srv.url(), compress=15)
    assert info.value.status == 101


async def test_websockets_server_refusal_status() -> None:
    def refuse(conn: ServerConnection, request: Any) -> Any:
        return conn.respond(403, "go away\n")

    async with ws_server(process_request=refuse) as (url, _), cyhttp.ClientSession() as session:
        with pytest.raises(cyhttp.WSServerHandshakeError) as info:
            await session.ws_connect(url + "/echo")
    assert info.value.status == 403


async def test_bad_arguments() -> None:
    async with cyhttp.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.ws_connect("ws://127.0.0.1:9/", compress=8)
        with pytest.raises(ValueError):
            await session.ws_connect("ws://127.0.0.1:9/", max_msg_size=-1)
        with pytest.raises(TypeError):
            await session.ws_connect("ws://127.0.0.1:9/", protocols="chat")
        # a negative or NaN timer would fire at once or never: refused before connecting
        for name in ("timeout", "receive_timeout", "heartbeat"):
            for bad, error in ((-1, ValueError), (float("nan"), ValueError), ("5", TypeError)):
                with pytest.raises(error, match=name):
                    await session.ws_connect("ws://127.0.0.1:9/", **{name: bad})
        with pytest.raises(TypeError, match="timeout"):
            await session.ws_connect("ws://127.0.0.1:9/", timeout=True)
        # keywords aiohttp 3.14 does not have are refused by name, before any connection
        with pytest.raises(TypeError, match="bogus"):
            await session.ws_connect("ws://127.0.0.1:9/", bogus=1)
        with pytest.raises(TypeError, match="read_until_eof"):
            await session.ws_connect("ws://127.0.0.1:9/", read_until_eof=True)


# ------------------------------------------------------------------ aiohttp 3.14 additions

WSTimeout = cyhttp.ClientWSTimeout


def test_client_ws_timeout_value_type() -> None:
    assert WSTimeout() == WSTimeout(ws_receive=None, ws_close=None)
    assert WSTimeout(1, 2.5) == WSTimeout(ws_receive=1, ws_close=2.5)
    assert WSTimeout(ws_receive=None, ws_close=10.0) == DEFAULT_WS_CLIENT_TIMEOUT
    assert hash(WSTimeout(1)) == hash(WSTimeout(ws_receive=1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        WSTimeout().ws_close = 1  # type: ignore[misc]
    for bad, error in ((-1, ValueError), (float("nan"), ValueError), ("5", TypeError)):
        with pytest.raises(error, match="ws_receive"):
            WSTimeout(ws_receive=bad)  # type: ignore[arg-type]
        with pytest.raises(error, match="ws_close"):
            WSTimeout(ws_close=bad)  # type: ignore[arg-type]
    assert "ClientWSTimeout" in cyhttp.__all__


async def _never_answers_close(peer: Peer) -> list[Any]:
    await peer.handshake()
    got = await peer.messages_until_close()
    await peer.reader.read()  # hold the connection until the client gives up
    return got


async def test_float_timeout_is_the_deprecated_close_timeout() -> None:
    async with raw_server(_never_answers_close) as srv, cyhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match=r"ClientWSTimeout\(ws_close") as warned:
            ws = await session.ws_connect(srv.url(), timeout=0.1)
        assert [w.filename for w in warned] == [__file__]  # points at the caller
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await ws.close() is True
        assert ws.close_code == 1006
        assert loop.time() - start < 5


async def test_receive_timeout_keyword_is_the_deprecated_ws_receive() -> None:
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match=r"ClientWSTimeout\(ws_receive"):
            ws = await session.ws_connect(
                url + "/echo", receive_timeout=0.05, timeout=WSTimeout(ws_close=3)
            )
        async with ws:
            # receive_timeout replaces ws_receive only: ws_close stays
            assert ws._timeout == WSTimeout(ws_receive=0.05, ws_close=3)
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive()
            await ws.send_str("still open")
            assert await ws.receive_str(timeout=5) == "still open"


async def test_timeout_forms_that_do_not_warn() -> None:
    forms: list[tuple[dict[str, Any], WSTimeout]] = [
        ({}, DEFAULT_WS_CLIENT_TIMEOUT),
        ({"timeout": None}, WSTimeout()),
        ({"timeout": WSTimeout(ws_receive=1.5)}, WSTimeout(ws_receive=1.5)),
    ]
    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for kwargs, expected in forms:
                async with session.ws_connect(url + "/echo", **kwargs) as ws:
                    assert ws._timeout == expected
                    await ws.send_str("x")
                    assert await ws.receive_str() == "x"


@pytest.mark.parametrize(
    ("ws_close", "code"), [(None, 4002), (0, 4002), (0.05, 1006)], ids=["none", "zero", "short"]
)
async def test_ws_close_bounds_the_closing_handshake(ws_close: float | None, code: int) -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        got = await peer.messages_until_close()
        await asyncio.sleep(0.3)  # a slow server: None and 0 wait for it, 0.05 does not
        with contextlib.suppress(ConnectionError):
            peer.send(frame(0x8, (4002).to_bytes(2, "big")))
            await peer.writer.drain()
        return got

    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), timeout=WSTimeout(ws_close=ws_close))
        assert await ws.close() is True
        assert ws.close_code == code
    assert [(m.type, m.data) for m in srv.done[0]] == [(cyhttp.WSMsgType.CLOSE, 1000)]


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
async def test_decode_text_false_delivers_bytes(compress: int) -> None:
    async with ws_session("/echo", decode_text=False, compress=compress) as (ws, _):
        assert ws.compress == compress
        await ws.send_str("héllo " * 50)
        msg = await ws.receive()
        assert msg.type is T
        assert msg.data == ("héllo " * 50).encode()
        await ws.send_str("again")
        assert await ws.receive_str() == b"again"
        await ws.send_json({"a": ["é", 1]})
        assert await ws.receive_json() == {"a": ["é", 1]}  # json.loads takes bytes
        await ws.send_bytes(b"\xff")
        assert await ws.receive_bytes() == b"\xff"
        await ws.send_bytes(b"{}")
        with pytest.raises(cyhttp.WSMessageTypeError):
            await ws.receive_str()


async def test_decode_text_false_does_not_judge_the_encoding() -> None:
    async def script(peer: Peer) -> list[Any]:
        await peer.handshake()
        peer.send(frame(0x1, b"\xc3\x28 not UTF-8"))
        return await peer.messages_until_close()

    async with (
        raw_server(script) as srv,
        cyhttp.ClientSession() as session,
        session.ws_connect(srv.url(), decode_text=False) as ws,
    ):
        assert await ws.receive_str() == b"\xc3\x28 not UTF-8"
        assert not ws.closed
    assert [(m.type, m.data) for m in srv.done[0]] == [(cyhttp.WSMsgType.CLOSE, 1000)]


async def test_send_frame_sends_each_opcode_as_given() -> None:
    async def script(peer: Peer) -> tuple[list[Any], bytes]:
        await peer.handshake()
        got = await peer.messages_until_close()
        peer.send(frame(0x8, (4000).to_bytes(2, "big")))  # the answer to the client's CLOSE
        await peer.writer.drain()
        return got, await peer.reader.read()  # anything the client sent after its CLOSE

    m = cyhttp.WSMsgType
    async with raw_server(script) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url(), autoping=False)
        await ws.send_frame("€".encode(), m.TEXT)
        await ws.send_frame(bytearray(b"\x00\x01"), m.BINARY)
        await ws.send_frame(memoryview(b"pi"), m.PING)
        await ws.send_frame(b"po", m.PONG)
        await ws.send_frame(b"pre-encoded", 1)  # a plain int opcode too
        for bad_opcode in (m.CONTINUATION, m.CLOSING, m.CLOSED, m.ERROR, 3, 0xB):
            with pytest.raises(ValueError):
                await ws.send_frame(b"x", bad_opcode)
        with pytest.raises(TypeError):
            await ws.send_frame("text", m.TEXT)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_frame(b"x", "TEXT")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await ws.send_frame(b"p" * 126, m.PING)
        bad_closes = [b"\x03", b"\x03\xed", b"\x03\xe8\xff", b"\x03\xe8" + b"r" * 124]
        for bad in bad_closes:  # 1-byte, code 1005, reason not UTF-8, too long
            with pytest.raises(ValueError):
                await ws.send_frame(bad, m.CLOSE)
        await ws.send_frame((4000).to_bytes(2, "big") + b"by frame", m.CLOSE)
        with pytest.raises(cyhttp.ClientConnectionError):
            await ws.send_str("after CLOSE")
        with pytest.raises(cyhttp.ClientConnectionError):
            await ws.ping()
        assert await ws.close() is True  # waits for the server's answer, sends no 2nd CLOSE
        assert ws.close_code == 4000
    got, after = srv.done[0]
    assert [(msg.type, msg.data, msg.extra) for msg in got] == [
        (m.TEXT, "€", ""),
        (m.BINARY, b"\x00\x01", ""),
        (m.PING, b"pi", ""),
        (m.PONG, b"po", ""),
        (m.TEXT, "pre-encoded", ""),
        (m.CLOSE, 4000, "by frame"),
    ]
    assert after == b""


async def test_send_frame_and_compression() -> None:
    async with ws_session("/echo", compress=15) as (ws, record):
        await ws.send_frame(b"squeeze " * 500, cyhttp.WSMsgType.TEXT)
        assert await ws.receive_str() == "squeeze " * 500
        await ws.send_frame(b"plain", cyhttp.WSMsgType.BINARY, compress=0)
        assert await ws.receive_bytes() == b"plain"
    assert "permessage-deflate" in record.extensions[0]


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
async def test_send_json_bytes_sends_binary(compress: int) -> None:
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj).encode()

    async with ws_session("/echo", compress=compress) as (ws, _):
        await ws.send_json_bytes({"a": [1, "é"]}, dumps=dumps)
        msg = await ws.receive()
        assert msg.type is B
        assert json.loads(msg.data) == {"a": [1, "é"]}
        await ws.send_json_bytes([2], compress=0, dumps=lambda o: bytearray(dumps(o)))
        assert await ws.receive_bytes() == b"[2]"
        with pytest.raises(TypeError, match="bytes"):
            await ws.send_json_bytes({}, dumps=json.dumps)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_json_bytes({})  # type: ignore[call-arg]  # dumps is required


def _typed_echo_app() -> web.Application:
    """aiohttp.web's own WebSocket server, answering each message with its type."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=True)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is web.WSMsgType.TEXT:
                await ws.send_str(f"text:{msg.data}")
            elif msg.type is web.WSMsgType.BINARY:
                await ws.send_bytes(b"binary:" + msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
async def test_additions_against_aiohttp_web(compress: int) -> None:
    async with app_server(_typed_echo_app()) as srv, cyhttp.ClientSession() as session:
        ws = await session.ws_connect(srv.url("/ws"), decode_text=False, compress=compress)
        async with ws:
            assert ws.compress == compress
            await ws.send_json_bytes({"k": "v"}, dumps=lambda o: json.dumps(o).encode())
            assert await ws.receive_bytes() == b'binary:{"k": "v"}'
            await ws.send_frame("ünï".encode(), cyhttp.WSMsgType.TEXT)
            assert await ws.receive_str() == "text:ünï".encode()
            await ws.ping(b"are you there")  # a coroutine-style awaitable, as in 3.x
            await ws.send_str("x")
            assert await ws.receive() == (cyhttp.WSMsgType.TEXT, b"text:x", "")
        assert ws.close_code == 1000


async def test_client_notakeover_reports_the_servers_answer() -> None:
    factory = ServerPerMessageDeflateFactory(client_no_context_takeover=True)
    server = {"extensions": [factory], "compression": None}
    async with ws_session("/echo", server=server, compress=15) as (ws, _):
        assert ws.client_notakeover is True
        for _ in range(2):  # a fresh context per message is what the server can read
            await ws.send_str("again " * 200)
            assert await ws.receive_str() == "again " * 200
    async with ws_session("/echo", compress=15) as (ws, _):
        assert ws.compress == 15
        assert ws.client_notakeover is False
    async with ws_session("/echo") as (ws, _):
        assert ws.client_notakeover is False


async def test_session_ws_response_class_builds_the_socket() -> None:
    class Counting(cyhttp.ClientWebSocketResponse):
        received = 0

        async def receive(self, timeout: float | None = None) -> cyhttp.WSMessage:
            msg = await super().receive(timeout)
            self.received += 1
            return msg

    async with ws_server() as (url, _), cyhttp.ClientSession() as session:
        session._ws_response_class = Counting  # type: ignore[attr-defined]
        async with session.ws_connect(url + "/echo") as ws:
            assert type(ws) is Counting
            await ws.send_str("one")
            assert await ws.receive_str() == "one"  # through the subclass's receive()
            assert ws.received == 1
        assert ws.closed
    async with (
        ws_server() as (url, _),
        cyhttp.ClientSession() as session,
        session.ws_connect(url + "/echo") as ws,
    ):
        assert type(ws) is cyhttp.ClientWebSocketResponse


def test_ws_connect_keywords_of_aiohttp_3_14() -> None:
    ours = inspect.signature(cyhttp.ClientSession.ws_connect).parameters
    for name in (
        "method", "protocols", "timeout", "receive_timeout", "autoclose", "autoping",
        "heartbeat", "auth", "origin", "params", "headers", "proxy", "proxy_auth", "ssl",
        "verify_ssl", "fingerprint", "ssl_context", "server_hostname", "proxy_headers",
        "compress", "max_msg_size", "decode_text",
    ):  # fmt: skip
        assert name in ours, name
    assert ours["decode_text"].default is True
    assert ours["ssl"].default is True
    assert ours["timeout"].default == 10.0  # the 2.x default close timeout, still


@pytest.mark.skipif(
    inspect.signature(cyhttp.ws_connect).parameters["timeout"].default
    is not cyhttp.client_ws.DEFAULT_TIMEOUT,
    reason="cyhttp.ws_connect (client.py) still passes a plain 10.0 as its default timeout",
)
async def test_module_level_ws_connect_default_does_not_warn() -> None:
    async with ws_server() as (url, _):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            async with cyhttp.ws_connect(url + "/echo", decode_text=False) as ws:
                await ws.send_str("alone")
                assert await ws.receive_str() == b"alone"
        with pytest.warns(DeprecationWarning):
            ws = await cyhttp.ws_connect(url + "/echo", timeout=5.0)
        await ws.close()


@pytest.mark.skipif(
    "server_hostname" not in inspect.signature(cyhttp.ClientSession.request).parameters,
    reason="the session's request() does not take server_hostname yet",
)
async def test_server_hostname_is_used_for_tls() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("ws.example.test").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with ws_server(ssl=server_ctx) as (url, _), cyhttp.ClientSession() as session:
        wss = url.replace("ws://", "wss://") + "/echo"
        with pytest.raises(cyhttp.ClientConnectorCertificateError):
            await session.ws_connect(wss, ssl=client_ctx)  # the cert is not for 127.0.0.1
        ws = await session.ws_connect(wss, ssl=client_ctx, server_hostname="ws.example.test")
        async with ws:
            await ws.send_str("sni")
            assert await ws.receive_str() == "sni"
