"""The floor's HTTP/2 half: just enough HTTP/2 over the loop's TLS to fetch the h2 workloads.

Like :mod:`benchmarks.client_floor`, this is a yardstick, not a client: it shows what any
client could reach over the same TLS transport when it does almost no HTTP/2 work. What it
skips on purpose, and a real client must not:

- HPACK: every request is a prebuilt header block (literal fields, never indexed, no
  Huffman); an answer's block is not decoded, only its first byte is checked to be
  ``:status 200`` from the static table (``0x88``, how nginx sends it).
- Flow control: the client grants the largest windows there are at once and tops up the
  connection's window only every GiB received; it never sends a WINDOW_UPDATE per stream.
- Everything else: no priorities, padding, CONTINUATION, trailers or resets are handled
  (they fail the floor), no limit on streams is kept (the workloads stay under the
  server's).

A DATA payload is never copied on its way in: the body is a list of views into the reads
that carried it, joined once at the end, the one copy any client makes to hand out a body
as one ``bytes``.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast

from benchmarks.client_floor import FloorError, HttpClient, _address

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
HEADER_SIZE = 9
MAX_WINDOW = 2**31 - 1
DEFAULT_WINDOW = 65_535
#: the connection window is topped up once this much DATA has come in
TOP_UP = 1 << 30
STATUS_200 = 0x88  # the static table's ":status: 200", indexed


def frame(ftype: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame."""
    return (
        len(payload).to_bytes(3, "big")
        + bytes((ftype, flags))
        + stream_id.to_bytes(4, "big")
        + payload
    )


def request_block(authority: bytes, path: bytes) -> bytes:
    """The header block of ``GET https://authority/path``: ``:method GET`` and ``:scheme
    https`` indexed, ``:authority`` and ``:path`` literal, never entering the server's table."""
    if len(authority) > 126 or len(path) > 126:
        raise ValueError("the floor's prebuilt blocks take names under 127 bytes")
    return b"\x82\x87" + bytes((0x01, len(authority))) + authority + bytes((0x04, len(path))) + path


class _Answer:
    """One stream's response: the views of its body, and who waits for it."""

    __slots__ = ("pieces", "waiter")

    def __init__(self, waiter: asyncio.Future[bytes]) -> None:
        self.waiter = waiter
        self.pieces: list[memoryview] = []


class _H2Connection(asyncio.Protocol):
    """Walks the frames as they come: headers of 9 bytes (kept whole across reads), then
    ``left`` bytes of payload taken where they are."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.head = b""  # a frame header split across reads
        self.ftype = self.flags = self.stream_id = self.left = 0
        self.small = bytearray()  # the payload of a non-DATA frame
        self.pieces: list[memoryview] = []  # the body of the stream of the current frame
        self.streams: dict[int, _Answer] = {}
        self.next_id = 1
        self.received = 0  # DATA bytes since the connection window was last topped up
        self.settings: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        settings = (0x2).to_bytes(2, "big") + (0).to_bytes(4, "big")  # no push
        settings += (0x4).to_bytes(2, "big") + MAX_WINDOW.to_bytes(4, "big")
        grow = (MAX_WINDOW - DEFAULT_WINDOW).to_bytes(4, "big")
        self.transport.write(
            PREFACE + frame(SETTINGS, 0, 0, settings) + frame(WINDOW_UPDATE, 0, 0, grow)
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail_all(ConnectionError("floor: the server closed the connection"))
        if not self.lost.done():
            self.lost.set_result(None)

    def request(self, block: bytes) -> asyncio.Future[bytes]:
        """Send one GET (its prebuilt header block); the future gets the body."""
        if self.transport is None:
            raise ConnectionError("floor: the connection is closed")
        stream_id = self.next_id
        self.next_id += 2
        waiter = self.loop.create_future()
        self.streams[stream_id] = _Answer(waiter)
        self.transport.write(frame(HEADERS, END_STREAM | END_HEADERS, stream_id, block))
        return waiter

    def data_received(self, data: bytes) -> None:
        # one pass of local arithmetic per frame: the loop is the floor's whole HTTP/2 cost
        view = memoryview(data)
        pos, end = 0, len(data)
        left = self.left
        try:
            while pos < end:
                if left:
                    take = left if left < end - pos else end - pos
                    if self.ftype == DATA:
                        self.pieces.append(view[pos : pos + take])
                        self.received += take
                    else:
                        self.small += view[pos : pos + take]
                    pos += take
                    left -= take
                    if not left and (self.ftype != DATA or self.flags & END_STREAM):
                        self.left = 0
                        self._frame_done()
                    continue
                if self.head or end - pos < HEADER_SIZE:
                    need = HEADER_SIZE - len(self.head)
                    self.head += data[pos : pos + need]
                    pos += need
                    if len(self.head) < HEADER_SIZE:
                        break
                    head, self.head = self.head, b""
                else:
                    head = data[pos : pos + HEADER_SIZE]
                    pos += HEADER_SIZE
                left = self._frame_start(head)
            self.left = left
        except FloorError as exc:
            self._fail_all(exc)
            if self.transport is not None:
                self.transport.close()

    def _frame_start(self, head: bytes) -> int:
        """Note the frame ``head`` starts; the length of its payload."""
        length = int.from_bytes(head[:3], "big")
        ftype = self.ftype = head[3]
        flags = self.flags = head[4]
        stream_id = self.stream_id = int.from_bytes(head[5:9], "big") & MAX_WINDOW
        if ftype in (DATA, HEADERS):
            if flags & (PADDED | PRIORITY):
                raise FloorError("floor: padded or prioritised frames are not handled")
            if ftype == HEADERS and not flags & END_HEADERS:
                raise FloorError("floor: CONTINUATION frames are not handled")
            answer = self.streams.get(stream_id)
            if answer is None:
                raise FloorError(f"floor: a frame on stream {stream_id}, not asked for")
            self.pieces = answer.pieces
        if not length:
            self.left = 0
            self._frame_done()
        return length

    def _frame_done(self) -> None:
        ftype, payload = self.ftype, bytes(self.small)
        self.small.clear()
        if ftype == HEADERS and (not payload or payload[0] != STATUS_200):
            raise FloorError(f"floor: the answer is not a 200: {payload[:8].hex()}")
        if ftype in (DATA, HEADERS) and self.flags & END_STREAM:
            answer = self.streams.pop(self.stream_id)
            answer.waiter.set_result(b"".join(answer.pieces))
        elif ftype == SETTINGS and not self.flags & ACK:
            self._write(frame(SETTINGS, ACK, 0))
            if not self.settings.done():
                self.settings.set_result(None)
        elif ftype == PING and not self.flags & ACK:
            self._write(frame(PING, ACK, 0, payload))
        elif ftype in (RST_STREAM, GOAWAY):
            raise FloorError(f"floor: the server sent frame type {ftype} ({payload.hex()})")
        if self.received >= TOP_UP:
            self._write(frame(WINDOW_UPDATE, 0, 0, self.received.to_bytes(4, "big")))
            self.received = 0

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _fail_all(self, exc: BaseException) -> None:
        if not self.settings.done():
            self.settings.set_exception(exc)
        streams, self.streams = self.streams, {}
        for answer in streams.values():
            if not answer.waiter.done():
                answer.waiter.set_exception(exc)


class H2Client:
    """Every request on one TLS connection (ALPN ``h2``), each on its own stream."""

    async def start(self, base_url: str, ca_file: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        host, port, _ = _address(base_url)
        self.authority = f"{host}:{port}".encode("ascii")
        tls = ssl.create_default_context(cafile=ca_file)
        tls.set_alpn_protocols(["h2"])
        transport, self.conn = await loop.create_connection(
            lambda: _H2Connection(loop), host, port, ssl=tls
        )
        if transport.get_extra_info("ssl_object").selected_alpn_protocol() != "h2":
            transport.close()
            raise FloorError("floor: the server did not choose h2")
        await self.conn.settings
        self.blocks: dict[str, bytes] = {}

    async def get(self, path: str) -> bytes:
        block = self.blocks.get(path)
        if block is None:
            block = self.blocks[path] = request_block(self.authority, path.encode("ascii"))
        return await self.conn.request(block)

    async def close(self) -> None:
        conn = self.conn
        if conn.transport is not None:
            conn.transport.close()
        await asyncio.wait_for(asyncio.shield(conn.lost), 5.0)


class FloorHttp:
    """The floor's HTTP client for the runner: HTTP/1.1 (:class:`HttpClient`) or, started
    with ``http2=True``, :class:`H2Client`. ``get`` is the chosen client's own method."""

    async def start(self, base_url: str, ca_file: str | None = None, http2: bool = False) -> None:
        client = H2Client() if http2 else HttpClient()
        await client.start(base_url, ca_file)
        self.client = client
        self.get = client.get

    async def close(self) -> None:
        await self.client.close()
