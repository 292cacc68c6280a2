"""The embedded HTTP/1.1 server: raw asyncio protocol, httptools parser, uvloop when present.

It has to be faster than every client it serves, or the table would measure the server:
responses are prebuilt bytes written with one ``transport.write``, and request parsing is
httptools (C). Keep-alive and pipelining work; ``Connection: close`` is honoured.

Routes: ``/small`` (13 bytes), ``/1m`` (1 MiB), ``/json-gzip`` (gzip JSON in chunked
transfer coding), ``/echo`` (answers a POST with its body). Anything else is a 404.

Run as ``python -m benchmarks.http_server [--loop uvloop|asyncio]``: it binds a free port
on 127.0.0.1 and prints ``READY <port>`` once it accepts connections (see ``procs``).
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools

from benchmarks import procs, workloads

_HEAD = b"HTTP/1.1 200 OK\r\nServer: cyhttp-bench\r\n"


def _fixed(body: bytes, content_type: bytes) -> bytes:
    return b"%sContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (
        _HEAD,
        content_type,
        len(body),
        body,
    )


def _chunked(body: bytes, chunk: int) -> bytes:
    parts = [
        _HEAD,
        b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n",
    ]
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


ROUTES: dict[bytes, bytes] = {
    b"/small": _fixed(workloads.SMALL_BODY, b"text/plain"),
    b"/1m": _fixed(workloads.BIG_BODY, b"application/octet-stream"),
    b"/json-gzip": _chunked(workloads.JSON_GZIP, workloads.JSON_CHUNK),
}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class HttpProtocol(asyncio.Protocol):
    """One connection. httptools calls back ``on_url``, ``on_body``, ``on_message_complete``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, hence the cast
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(BAD_REQUEST)
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        transport = self.transport
        if transport is None:
            return
        response = ROUTES.get(self.url)
        if response is None:
            if self.url == b"/echo":
                response = _fixed(b"".join(self.body), b"application/octet-stream")
            else:
                response = NOT_FOUND
        transport.write(response)
        if not self.parser.should_keep_alive():
            transport.close()


async def serve(ready: procs.Ready) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HttpProtocol, "127.0.0.1", 0, backlog=1024)
    await procs.serve_until_stopped(server, ready)


if __name__ == "__main__":
    procs.server_main(serve, __doc__.splitlines()[0])
