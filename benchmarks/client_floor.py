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
  is one prebuilt frame; it reads only final unmasked binary frames.

A large answer arrives in many reads: the pieces are kept in a list and joined once, the
one copy any client makes to hand out a body as one ``bytes``.

Answers are still checked by the warm-up (``client_main``): a fast wrong answer is an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
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
    """One final client frame of ``payload``, masked with :data:`MASK`."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = (MASK * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        n, "little"
    )
    return head + MASK + masked


def frame_size(buffer: bytes) -> tuple[int, int] | None:
    """(header length, payload length) of the unmasked binary frame at the start of
    ``buffer``, None when its header is not all there yet."""
    if len(buffer) < 2:
        return None
    if buffer[0] != 0x80 | BINARY or buffer[1] & 0x80:
        raise FloorError(f"floor: unexpected frame header {buffer[:2].hex()}")
    size = buffer[1]
    if size < 126:
        return 2, size
    extra = 2 if size == 126 else 8
    if len(buffer) < 2 + extra:
        return None
    return 2 + extra, int.from_bytes(buffer[2 : 2 + extra], "big")


class _Connection(asyncio.Protocol):
    """What the HTTP and WebSocket connections share: one waiter, failing it, closing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = b""  # the start of an answer whose size is not known yet
        #: an answer of known size being received: its pieces, their length, the size
        self.pieces: list[bytes] = []
        self.have = 0
        self.need = 0
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

    def _collect(self, data: bytes) -> bytes | None:
        """Add a read to the answer under way; once it is whole, return it (joined once)
        and keep what follows in :attr:`buffer`."""
        pieces = self.pieces
        pieces.append(data)
        self.have += len(data)
        if self.have < self.need:
            return None
        whole = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        need, self.need, self.have, self.pieces = self.need, 0, 0, []
        if len(whole) == need:
            return whole
        self.buffer = whole[need:]
        return whole[:need]

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
        if self.need:  # the rest of a body
            body = self._collect(data)
            if body is not None:
                self._answer(body)
            return
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
            size = int(buffer[start : buffer.find(b"\r\n", start)])
        except ValueError:
            self._fail(FloorError(f"floor: bad Content-Length in {buffer[:end]!r}"))
            return
        self.buffer = b""
        self.need = size
        body = self._collect(buffer[end + 4 :])
        if body is not None:
            self._answer(body)

    def _answer(self, body: bytes) -> None:
        if not self._wake(body):
            self._fail(FloorError("floor: an answer nobody asked for"))


class HttpClient:
    """GET only, prebuilt requests, one idle connection per concurrent caller; over TLS
    (``https://``) the event loop's own TLS, verifying the server against ``ca_file``."""

    async def start(
        self, base_url: str, ca_file: str | None = None, connections: int = 100
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port, _ = _address(base_url)
        self.tls: ssl.SSLContext | None = None
        if base_url.startswith("https:"):
            self.tls = ssl.create_default_context(cafile=ca_file)
        self.requests: dict[str, bytes] = {}
        self.idle: list[_HttpConnection] = []
        self.opened: list[_HttpConnection] = []

    async def _connect(self) -> _HttpConnection:
        loop = self.loop
        _, conn = await loop.create_connection(
            lambda: _HttpConnection(loop), self.host, self.port, ssl=self.tls
        )
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
        try:
            if self.need:  # the rest of a large frame's payload
                payload = self._collect(buffer)
                if payload is None:
                    return
                self._answer(payload)
                buffer, self.buffer = self.buffer, b""
            while (size := frame_size(buffer)) is not None:
                head, length = size
                if len(buffer) >= head + length:
                    payload, buffer = buffer[head : head + length], buffer[head + length :]
                    self._answer(payload)
                elif length > 125:  # a large frame: collect its payload's reads
                    self.buffer = b""
                    self.need = length
                    self._collect(buffer[head:])
                    return
                else:
                    break
            self.buffer = buffer
        except FloorError as exc:
            self._fail(exc)

    def _answer(self, payload: bytes) -> None:
        if not self._wake(payload):
            raise FloorError("floor: a frame nobody waits for")


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
