"""The embedded HTTP/1.1 server: raw asyncio protocol, httptools parser, uvloop when present.

It has to be faster than every client it serves, or the table would measure the server:
responses are prebuilt bytes written with one ``transport.write``, and request parsing is
httptools (C). Keep-alive and pipelining work; ``Connection: close`` is honoured.

Routes: ``/small`` (13 bytes), ``/1m`` (1 MiB), ``/json-gzip`` (gzip JSON in chunked
transfer coding), ``/echo`` (answers a POST with its body). Anything else is a 404.
For the memory rows: ``/hold`` gets no answer until ``/release`` (which answers every held
request with the small body, then says how many it released), and ``/held`` says how many
requests are held now. ``/connections`` says how many connections the server has
accepted so far (the tests check with it that every client reuses its connections).

Run as ``python -m benchmarks.http_server [--loop uvloop|asyncio] [--tls-cert PEM
--tls-key PEM]``: it binds a free port on 127.0.0.1 (and, given a certificate, a second one
serving the same routes over TLS 1.3) and prints ``READY <port> [<tls port>]`` once it
accepts connections (see ``procs``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import ssl
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


#: requests to ``/hold`` not answered yet: (transport, keep the connection open after)
HELD: list[tuple[asyncio.Transport, bool]] = []
#: connections accepted since the server started, on either port
ACCEPTED = [0]


def _release() -> bytes:
    """Answer every held request; the answer to ``/release`` says how many there were."""
    held = list(HELD)
    HELD.clear()
    for transport, keep_alive in held:
        if transport.is_closing():
            continue
        transport.write(ROUTES[b"/small"])
        if not keep_alive:
            transport.close()
    return _fixed(b"%d" % len(held), b"text/plain")


def _held() -> bytes:
    alive = sum(1 for transport, _ in HELD if not transport.is_closing())
    return _fixed(b"%d" % alive, b"text/plain")


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
        ACCEPTED[0] += 1

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
            elif self.url == b"/hold":
                HELD.append((transport, self.parser.should_keep_alive()))
                return
            elif self.url == b"/held":
                response = _held()
            elif self.url == b"/release":
                response = _release()
            elif self.url == b"/connections":
                response = _fixed(b"%d" % ACCEPTED[0], b"text/plain")
            else:
                response = NOT_FOUND
        transport.write(response)
        if not self.parser.should_keep_alive():
            transport.close()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS 1.3 only, HTTP/1.1 by ALPN (every client then speaks what the plain rows do)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


async def serve(ready: procs.Ready, tls: ssl.SSLContext | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HttpProtocol, "127.0.0.1", 0, backlog=1024)
    more = []
    if tls is not None:
        more.append(await loop.create_server(HttpProtocol, "127.0.0.1", 0, backlog=1024, ssl=tls))
    await procs.serve_until_stopped(server, ready, *more)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--tls-cert", help="PEM certificate chain: also serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    procs.raise_open_files_limit()
    tls = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    procs.run_server(functools.partial(serve, tls=tls), args.loop)


if __name__ == "__main__":
    main()
