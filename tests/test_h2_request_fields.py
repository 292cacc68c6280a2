"""The HTTP/2 header list of a request (``h2_request.h2_fields``) and its per-connection
cache: what reaches the wire must be what the translation of HTTP/1.1 headers
(``request_headers_for``, then ``H2Connection.send_request``'s checks) makes of it, for
a first request and for every later one that reuses a cached translation.

Unit tests compare the two translations field by field; the end-to-end ones send real
requests with prior knowledge to a small h2c server on the ``h2`` package that records
the header lists it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import cyhttp
from cyhttp import TCPConnector
from cyhttp._h2_headers import request_fields, request_headers_for
from cyhttp.client_exceptions import ClientConnectionError
from cyhttp.h2_request import FIELDS_CACHE_SIZE, h2_fields

h2_config = pytest.importorskip("h2.config")
h2_connection = pytest.importorskip("h2.connection")
h2_events = pytest.importorskip("h2.events")

pytestmark = pytest.mark.timeout(30)


def _req(method: str, url: str, headers: list[tuple[str, str]]) -> Any:
    """What ``h2_fields`` reads of a ClientRequest: method, URL and header multidict."""
    return SimpleNamespace(method=method, url=URL(url), headers=CIMultiDict(headers))


def _reference(method: str, url: str, headers: list[tuple[str, str]]) -> list[Any]:
    """The wire fields the plain translation gives (``Expect`` dropped first, as before)."""
    items = [(n, v) for n, v in headers if n.lower() != "expect"]
    return request_fields(request_headers_for(method, URL(url), items))[0]


CASES = [
    ("GET", "https://example.org/", [("Accept", "*/*"), ("User-Agent", "cyhttp")]),
    ("GET", "https://example.org:8443/a/b?q=1&r=%20", [("Accept-Encoding", "gzip")]),
    ("GET", "http://127.0.0.1:80/", [("Host", "other.example:81"), ("X-Token", "abc")]),
    (
        "POST",
        "https://example.org/up",
        [
            ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "dropped"),
            ("Keep-Alive", "timeout=5"),
            ("Expect", "100-continue"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Type", "text/plain"),
        ],
    ),
    ("GET", "https://[::1]:8443/", [("TE", "gzip"), ("Upgrade", "h2c")]),
    ("GET", "https://example.org/", [("TE", "trailers"), ("X-Many", "1"), ("x-many", "2")]),
    ("CONNECT", "https://example.org:443/", [("Proxy-Connection", "keep-alive")]),
    ("HEAD", "https://user:pw@example.org/x", []),
]


@pytest.mark.parametrize(("method", "url", "headers"), CASES)
def test_fields_are_the_plain_translation_first_and_cached(
    method: str, url: str, headers: list[tuple[str, str]]
) -> None:
    cache: dict[Any, Any] = {}
    want = _reference(method, url, headers)
    first, size = h2_fields(_req(method, url, headers), cache)
    assert request_fields(first)[0] == want
    assert len(cache) == 1
    again, size_again = h2_fields(_req(method, url, headers), cache)  # from the cache now
    assert request_fields(again)[0] == want and len(cache) == 1
    # the size counts ``name: value\r\n`` per field, as HTTP/1.1 would have written it
    assert size == size_again == sum(len(n) + len(v) + 4 for n, v in first)
    assert h2_fields(_req(method, url, headers)) == (first, size)  # no cache: the same


def test_the_cache_keeps_one_translation_per_method_and_scheme() -> None:
    """With a Host header the pseudo-headers before ``:path`` come from the cache too: a
    request of another method or scheme must not get the first one's."""
    cache: dict[Any, Any] = {}
    headers = [("Host", "h.example"), ("Accept", "*/*")]
    for method, url in [
        ("GET", "https://a.example/1"),
        ("HEAD", "https://a.example/2"),
        ("GET", "http://a.example/3?x=1"),
        ("GET", "https://a.example/4"),
    ]:
        got, size = h2_fields(_req(method, url, headers), cache)
        assert got == _reference(method, url, headers)
        assert size == sum(len(n) + len(v) + 4 for n, v in got)
    assert len(cache) == 3


def test_the_cache_keys_on_the_whole_header_list_and_stays_bounded() -> None:
    cache: dict[Any, Any] = {}
    base = [("Accept", "*/*")]
    one = h2_fields(_req("GET", "https://a.example/1", base), cache)[0]
    two = h2_fields(_req("GET", "https://b.example/2", base), cache)[0]
    assert len(cache) == 1  # the pseudo-headers are per request, never cached
    assert (b":authority", b"b.example") in two and (b":path", b"/2") in two
    assert (b":authority", b"a.example") in one and (b":path", b"/1") in one
    other = h2_fields(_req("GET", "https://a.example/", [("Accept", "text/html")]), cache)[0]
    assert (b"accept", b"text/html") in other and len(cache) == 2
    for i in range(3 * FIELDS_CACHE_SIZE):  # a header that changes on every request
        h2_fields(_req("GET", "https://a.example/", [("X-Request-Id", str(i))]), cache)
        assert len(cache) <= FIELDS_CACHE_SIZE


def test_a_request_template_sent_again_gets_its_list_again_until_it_changes() -> None:
    """The memo of request templates: the same header object (unchanged), method and URL
    object give the very list of last time; any change gives a fresh, right one."""
    cache: dict[Any, Any] = {}
    memo: dict[int, Any] = {}
    req = _req("GET", "https://a.example/x", [("Accept", "*/*")])
    first = h2_fields(req, cache, memo)
    assert h2_fields(req, cache, memo)[0] is first[0]
    assert first[0] == _reference("GET", "https://a.example/x", [("Accept", "*/*")])
    req.headers["Accept"] = "text/html"  # the same object, changed in place
    changed = h2_fields(req, cache, memo)[0]
    assert (b"accept", b"text/html") in changed and (b"accept", b"*/*") not in changed
    req.url = URL("https://a.example/y")  # another URL object
    assert (b":path", b"/y") in h2_fields(req, cache, memo)[0]
    req.method = "HEAD"
    assert (b":method", b"HEAD") in h2_fields(req, cache, memo)[0]
    twin = _req("HEAD", "https://a.example/y", [("Accept", "text/html")])  # equal, not same
    assert h2_fields(twin, cache, memo)[0] == h2_fields(req, cache, memo)[0]
    for i in range(3 * FIELDS_CACHE_SIZE):  # many templates: the memo stays bounded
        h2_fields(_req("GET", f"https://a.example/{i}", []), cache, memo)
        assert len(memo) <= FIELDS_CACHE_SIZE


# -- end to end: what an h2c server receives -------------------------------------------------


@contextlib.asynccontextmanager
async def recording_server() -> AsyncIterator[tuple[int, list[list[tuple[bytes, bytes]]]]]:
    """An h2c server (``h2`` package) answering 200 "ok" to every request; yields its port
    and the header lists it received, in order."""
    seen: list[list[tuple[bytes, bytes]]] = []
    handlers: list[tuple[asyncio.Task[Any], asyncio.StreamWriter]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append((task, writer))
        config = h2_config.H2Configuration(client_side=False, header_encoding=None)
        conn = h2_connection.H2Connection(config=config)
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2_events.RequestReceived):
                        seen.append([(bytes(n), bytes(v)) for n, v in event.headers])
                        reply = [(b":status", b"200"), (b"content-length", b"2")]
                        conn.send_headers(event.stream_id, reply)
                        conn.send_data(event.stream_id, b"ok", end_stream=True)
                writer.write(conn.data_to_send())
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        for _task, writer in handlers:  # the client may keep its connection: end it here
            writer.close()
        await asyncio.wait_for(asyncio.gather(*(t for t, _ in handlers)), 5)
        await server.wait_closed()


async def test_the_server_gets_the_same_fields_on_every_request() -> None:
    """The first request builds the translation, the next ones reuse it: all three
    arrive alike, Host as :authority, hop-by-hop and Expect fields gone, TE: trailers
    kept, names in lower case."""
    headers = {
        "Host": "named.example",
        "Connection": "X-Hop",
        "X-Hop": "no",
        "TE": "trailers",
        "Expect": "100-continue",
        "X-Custom": "Value",
    }
    async with recording_server() as (port, seen):
        connector = TCPConnector(http2="prior-knowledge")
        async with cyhttp.ClientSession(connector=connector, headers={"X-Session": "s"}) as s:
            for path in ("/a", "/b?x=1", "/a"):
                async with s.get(f"http://127.0.0.1:{port}{path}", headers=headers) as resp:
                    assert resp.version == cyhttp.HttpVersion(2, 0)
                    assert await resp.read() == b"ok"
            async with s.post(f"http://127.0.0.1:{port}/p", data=b"xyz") as resp:
                assert await resp.read() == b"ok"
    assert len(seen) == 4
    for got, path in zip(seen, (b"/a", b"/b?x=1", b"/a"), strict=False):
        assert got[:4] == [
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":authority", b"named.example"),
            (b":path", path),
        ]
        names = [n for n, _ in got[4:]]
        assert all(n == n.lower() for n in names)
        assert b"host" not in names and b"x-hop" not in names and b"connection" not in names
        assert b"expect" not in names
        assert (b"te", b"trailers") in got and (b"x-custom", b"Value") in got
        assert (b"x-session", b"s") in got
    assert seen[0][4:] == seen[2][4:]  # the cached translation: the very same fields
    post = dict(seen[3])
    assert post[b":method"] == b"POST" and post[b":authority"] == f"127.0.0.1:{port}".encode()
    assert post[b"content-length"] == b"3" and b"te" not in post


async def test_a_header_http2_forbids_fails_the_request_cleanly() -> None:
    """A value the HTTP/2 checks refuse is still refused when its list comes from the
    cache: never sent, whatever was sent before."""
    async with recording_server() as (port, seen):
        connector = TCPConnector(http2="prior-knowledge")
        async with cyhttp.ClientSession(connector=connector) as s:
            url = f"http://127.0.0.1:{port}/"
            async with s.get(url) as resp:
                assert await resp.read() == b"ok"
            for _ in range(2):
                with pytest.raises((ValueError, ClientConnectionError)):
                    async with s.get(url, headers={"X-Bad": " leading space"}):
                        pass
            async with s.get(url) as resp:  # the connection serves the next request
                assert await resp.read() == b"ok"
    assert len(seen) == 2
