"""The floor: what a client that does almost nothing reaches on the same workloads.

This is not a client but a yardstick. The server, the event loop and the kernel's wake-ups
cost the same whoever asks, so a client that only writes prebuilt bytes and finds the end of
the answer shows how fast *any* client could go here; the report turns that into a ceiling
("no client can beat aiohttp by more than this on this machine"). Whatever the floor skips
is skipped on purpose, and would be a bug in a real client:

- HTTP: a request is prebuilt bytes; an answer must be ``HTTP/1.1 200`` with a
  ``Content-Length`` header (spelt so), nothing else is looked at (no chunked coding).
  Concurrent requests take an idle connection from a list, or open one.
- WebSocket: the upgrade uses a fixed key, and every frame it sends uses the same fixed mask
  key (RFC 6455 wants a fresh unpredictable one per frame, to protect proxies), so a message
  is one prebuilt frame; it reads only unmasked binary frames of at most 125 bytes.

Answers are still checked by the warm-up (``client_main``): a fast wrong answer is an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import cast
from urllib.parse import urlsplit

#: the sample key of RFC 6455 section 1.3 (a real client sends 16 random bytes)
WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: the sample mask of RFC 6455 section 5.7 (a real client draws a new one per frame)
MASK = b"\x37\xfa\x21\x3d"
BINARY, CLOSE = 0x2, 0x8
_LENGTH_FIELD = b"\r\nContent-Length:"


class FloorError(RuntimeError):
    """The server answered something the floor does not understand."""


def _address(url: str) -> tuple[str, int, str]:
    """``http://127.0.0.1:8080/x`` -> ("127.0.0.1", 8080, "/x")."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        raise ValueError(f"the floor needs a URL with a host and a port, not {url!r}")
    return parts.hostname, parts.port, parts.path or "/"


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame of ``payload`` (at most 125 bytes), masked with :data:`MASK`."""
    if len(payload) > 125:
        raise ValueError(f"the floor sends frames of at most 125 bytes, not {len(payload)}")
    masked = bytes(b ^ MASK[i & 3] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + MASK + masked


class _Connection(asyncio.Protocol):
    """What the HTTP and WebSocket connections share: one waiter, failing it, closing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[bytes] | None = None
        self.lost: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, hence the cast
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._wake(exc=ConnectionError("floor: the server closed the connection"))
        if not self.lost.done():
            self.lost.set_result(None)

    def send(self, data: bytes) -> asyncio.Future[bytes]:
        """Write ``data``; the future gets the answer (one at a time per connection)."""
        if self.transport is None:
            raise ConnectionError("floor: the connection is closed")
        waiter = self.loop.create_future()
        self.waiter = waiter
        self.transport.write(data)
        return waiter

    def _wake(self, result: bytes = b"", exc: BaseException | None = None) -> bool:
        waiter, self.waiter = self.waiter, None
        if waiter is None or waiter.done():
            return False
        if exc is None:
            waiter.set_result(result)
        else:
            waiter.set_exception(exc)
        return True

    def _fail(self, exc: BaseException) -> None:
        self._wake(exc=exc)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _HttpConnection(_Connection):
    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            self.buffer = buffer
            return
        start = buffer.find(_LENGTH_FIELD, 0, end)
        if start < 0 or not buffer.startswith(b"HTTP/1.1 200 "):
            self._fail(FloorError(f"floor: unexpected answer {buffer[: min(end, 80)]!r}"))
            return
        start += len(_LENGTH_FIELD)
        try:
            # the head ends with CRLF CRLF, so a line end is always found by ``end``
            total = end + 4 + int(buffer[start : buffer.find(b"\r\n", start)])
        except ValueError:
            self._fail(FloorError(f"floor: bad Content-Length in {buffer[:end]!r}"))
            return
        if len(buffer) < total:
            self.buffer = buffer
            return
        self.buffer = buffer[total:]
        if not self._wake(buffer[end + 4 : total]):
            self._fail(FloorError("floor: an answer nobody asked for"))


class HttpClient:
    """GET only, prebuilt requests, one idle connection per concurrent caller."""

    async def start(self, base_url: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port, _ = _address(base_url)
        self.requests: dict[str, bytes] = {}
        self.idle: list[_HttpConnection] = []
        self.opened: list[_HttpConnection] = []

    async def _connect(self) -> _HttpConnection:
        loop = self.loop
        _, conn = await loop.create_connection(lambda: _HttpConnection(loop), self.host, self.port)
        self.opened.append(conn)
        return conn

    async def get(self, path: str) -> bytes:
        request = self.requests.get(path)
        if request is None:
            request = b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (
                path.encode("ascii"),
                self.host.encode("ascii"),
                self.port,
            )
            self.requests[path] = request
        conn = self.idle.pop() if self.idle else await self._connect()
        try:
            body = await conn.send(request)
        except BaseException:
            conn.close()  # its state is unknown: never reuse it
            raise
        self.idle.append(conn)
        return body

    async def close(self) -> None:
        for conn in self.opened:
            conn.close()
        await asyncio.gather(*(conn.lost for conn in self.opened))


class _WsConnection(_Connection):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.upgraded = False
        self.closing = False

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            self.upgraded = True
            self._wake(buffer[:end])  # start() checks the head
            buffer = buffer[end + 4 :]
        if self.closing:  # the server's close frame: nothing more to read
            self.buffer = b""
            return
        while len(buffer) >= 2:
            size = buffer[1]
            if buffer[0] != 0x80 | BINARY or size > 125:
                self._fail(FloorError(f"floor: unexpected frame header {buffer[:2].hex()}"))
                return
            if len(buffer) < 2 + size:
                break
            if not self._wake(buffer[2 : 2 + size]):
                self._fail(FloorError("floor: a frame nobody waits for"))
                return
            buffer = buffer[2 + size :]
        self.buffer = buffer


def _accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


class WsClient:
    """Raw upgrade, then one prebuilt masked frame out and one unmasked frame back per echo."""

    async def start(self, url: str) -> None:
        loop = asyncio.get_running_loop()
        host, port, path = _address(url)
        _, self.conn = await loop.create_connection(lambda: _WsConnection(loop), host, port)
        request = (
            b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ) % (path.encode("ascii"), host.encode("ascii"), port, WS_KEY)
        try:
            head = await self.conn.send(request)
            lines = head.split(b"\r\n")
            fields = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip()
            if not lines[0].startswith(b"HTTP/1.1 101 "):
                raise FloorError(f"floor: the upgrade was refused: {lines[0]!r}")
            if fields.get(b"sec-websocket-accept") != _accept(WS_KEY):
                raise FloorError("floor: wrong Sec-WebSocket-Accept in the upgrade answer")
        except BaseException:
            self.conn.close()
            raise
        self.frames: dict[bytes, bytes] = {}

    async def echo(self, payload: bytes) -> bytes:
        frame = self.frames.get(payload)
        if frame is None:
            frame = self.frames[payload] = masked_frame(BINARY, payload)
        return await self.conn.send(frame)

    async def close(self) -> None:
        conn = self.conn
        try:
            if conn.transport is not None:
                conn.closing = True
                conn.transport.write(masked_frame(CLOSE, (1000).to_bytes(2, "big")))
                await asyncio.wait_for(asyncio.shield(conn.lost), 5.0)
        finally:
            conn.close()
