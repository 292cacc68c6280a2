"""Faulty servers (a raw asyncio server writes exactly the bytes each test wants) and the
exceptions the client must raise for them; stale pooled connections; timeouts of each kind."""

from __future__ import annotations

import asyncio
import gzip
import socket

import pytest

import cyhttp
from cyhttp import ClientSession, ClientTimeout, TCPConnector
from cyhttp.abc import AbstractResolver

from .servers import app_server, canned, echo_app, raw_server, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_client_connector_error() -> None:
    port = free_port()
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    exc = info.value
    assert isinstance(exc, cyhttp.ClientOSError) and isinstance(exc, OSError)
    assert isinstance(exc, cyhttp.ClientConnectionError)
    assert exc.host == "127.0.0.1" and exc.port == port
    assert f"127.0.0.1:{port}" in str(exc)


class FailingResolver(AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:
        raise OSError(-2, f"no such host {host}")

    async def close(self) -> None:
        pass


async def test_resolution_failure_is_client_connector_error() -> None:
    async with ClientSession(connector=TCPConnector(resolver=FailingResolver())) as session:
        with pytest.raises(cyhttp.ClientConnectorError) as info:
            await session.get("http://does-not-exist.test:8080/")
    assert info.value.host == "does-not-exist.test"
    assert info.value.port == 8080


async def _close_immediately(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)


@pytest.mark.parametrize(
    "sent",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Le"],
    ids=["nothing", "half-head"],
)
async def test_close_before_head_is_server_disconnected(sent: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(sent)
        await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ServerDisconnectedError) as info:
            await session.get(srv.url())
    assert isinstance(info.value, cyhttp.ServerConnectionError)


async def test_malformed_status_line_is_client_response_error() -> None:
    async with raw_server(canned(b"HTTP/1.1 2OO OK\r\n\r\n")) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ClientResponseError) as info:
            await session.get(srv.url("/x"))
    assert info.value.request_info is not None
    assert info.value.request_info.url == srv.url("/x")


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
        + gzip.compress(b"hello world")[:12],
    ],
    ids=[
        "short-content-length",
        "unterminated-chunked",
        "bad-chunk-size",
        "bad-gzip",
        "truncated-gzip",
    ],
)
async def test_broken_body_is_client_payload_error(response: bytes) -> None:
    async with raw_server(canned(response)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            with pytest.raises(cyhttp.ClientPayloadError):
                await resp.read()


async def test_body_until_close_and_read_until_eof_false() -> None:
    until_close = b"HTTP/1.1 200 OK\r\n\r\nall of it"
    async with raw_server(canned(until_close)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.read() == b"all of it"
        resp = await session.get(srv.url(), read_until_eof=False)
        async with resp:
            assert await resp.read() == b""


async def test_connection_close_is_not_pooled() -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with raw_server(canned(answer, keep_open=True)) as srv, ClientSession() as session:
        for _ in range(2):
            resp = await session.get(srv.url())
            async with resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 2


def stale_after_first(srv_state: dict) -> object:
    """First connection answers once, then drops the next request without a byte."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        srv_state["n"] = srv_state.get("n", 0) + 1
        if srv_state["n"] == 1:
            await read_request(reader)
            writer.write(OK)
            await writer.drain()
            await read_request(reader)  # then close without answering
            return
        while True:
            await read_request(reader)
            writer.write(OK)
            await writer.drain()

    return handler


async def test_stale_pooled_connection_is_retried_once_for_get() -> None:
    state: dict = {}
    async with raw_server(stale_after_first(state)) as srv, ClientSession() as session:
        for _ in range(3):
            resp = await session.get(srv.url())
            async with resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 2


async def test_stale_pooled_connection_not_retried_for_post() -> None:
    state: dict = {}
    async with raw_server(stale_after_first(state)) as srv, ClientSession() as session:
        resp = await session.post(srv.url(), data=b"x")
        async with resp:
            await resp.read()
        with pytest.raises(cyhttp.ServerDisconnectedError):
            await session.post(srv.url(), data=b"y")


async def test_sock_read_timeout_and_connection_not_pooled() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        await writer.drain()
        await asyncio.sleep(3600)

    async with raw_server(handler) as srv:
        connector = TCPConnector()
        async with ClientSession(connector=connector) as session:
            resp = await session.get(srv.url(), timeout=ClientTimeout(sock_read=0.1))
            async with resp:
                with pytest.raises(cyhttp.ServerTimeoutError) as info:
                    await resp.read()
            assert isinstance(info.value, asyncio.TimeoutError)
            assert not connector._conns


async def test_sock_read_timeout_waiting_for_head() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(3600)

    async with raw_server(handler) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.ServerTimeoutError):
            await session.get(srv.url(), timeout=ClientTimeout(sock_read=0.1))


async def test_total_timeout_covers_the_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)

    async with raw_server(handler) as srv:
        connector = TCPConnector()
        async with ClientSession(connector=connector, read_timeout=0.3) as session:
            resp = await session.get(srv.url())
            async with resp:
                with pytest.raises(cyhttp.ServerTimeoutError):
                    await resp.read()
            assert not connector._conns and not connector._acquired


async def test_total_timeout_number_per_request() -> None:
    async with app_server(echo_app()) as srv, ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(srv.url("/slow/5"), timeout=0.1)
        resp = await session.get(srv.url("/slow/0"), timeout=None)
        async with resp:
            assert await resp.text() == "late"


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(-1, ValueError), (float("nan"), ValueError), ("5", TypeError)],
    ids=["negative", "nan", "string"],
)
async def test_bad_timeout_is_refused(timeout: object, error: type[Exception]) -> None:
    """A negative or NaN timer would fire at once or never (a hang): refused up front."""
    async with app_server(echo_app()) as srv, ClientSession() as session:
        with pytest.raises(error):
            await session.get(srv.url("/echo"), timeout=timeout)
        with pytest.raises(error):
            ClientSession(timeout=timeout)


@pytest.mark.parametrize("field", ["total", "connect", "sock_read", "sock_connect"])
def test_client_timeout_fields_are_checked(field: str) -> None:
    for bad in (-0.5, float("nan")):
        with pytest.raises(ValueError, match=field):
            ClientTimeout(**{field: bad})
    with pytest.raises(TypeError, match=field):
        ClientTimeout(**{field: "1"})
    for good in (0, 2, 0.25, float("inf"), None):
        assert getattr(ClientTimeout(**{field: good}), field) == good


async def test_connect_timeout_waiting_for_a_pool_slot() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector, conn_timeout=0.1) as session:
            held = await session.get(srv.url("/bytes/4194304"))
            with pytest.raises(cyhttp.ServerTimeoutError):
                await session.get(srv.url("/echo"))
            held.close()


async def test_sock_connect_timeout() -> None:
    # a listening socket whose accept queue is full drops further SYNs: connect() hangs
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(s)
        await asyncio.sleep(0.05)
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ServerTimeoutError):
                await session.get(
                    f"http://127.0.0.1:{port}/", timeout=ClientTimeout(sock_connect=0.2)
                )
    finally:
        for s in fillers:
            s.close()
        listener.close()


async def test_json_content_type_mismatch_and_empty_body() -> None:
    text = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"
    empty = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n "
    async with raw_server(canned(text, text, empty)) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        async with resp:
            with pytest.raises(cyhttp.ContentTypeError) as info:
                await resp.json()
            assert info.value.status == 200
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.json(content_type=None) == {}
        resp = await session.get(srv.url())
        async with resp:
            assert await resp.json() is None


async def test_garbage_after_response_closes_the_connection() -> None:
    junk = OK + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    async with raw_server(canned(junk, OK, keep_open=True)) as srv, ClientSession() as session:
        for _ in range(2):
            resp = await session.get(srv.url())
            async with resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 2


async def test_server_sees_one_request_per_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The request head and a small body go out in one transport.write."""
    writes: list[bytes] = []
    from cyhttp import connector
    from cyhttp.client_proto import ResponseHandler

    class Spy(ResponseHandler):
        # the compiled ResponseHandler is an extension type: its methods cannot be
        # patched in place, a subclass made by the connector's factory can spy on them
        def write(self, data: bytes) -> None:
            writes.append(data)
            super().write(data)

    monkeypatch.setattr(connector, "ResponseHandler", Spy)
    async with raw_server(canned(OK)) as srv, ClientSession() as session:
        resp = await session.post(srv.url(), data=b"body")
        async with resp:
            await resp.read()
    assert len(writes) == 1
    assert writes[0].startswith(b"POST / HTTP/1.1\r\n") and writes[0].endswith(b"\r\n\r\nbody")
