"""aiohttp 3.14's session and request keywords, over real sockets: base_url, session-level
proxy, raise_for_status callables, custom request/response classes, json_serialize_bytes,
the response reading limits, connect timeouts and the 3.x URL errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

import cyhttp
from cyhttp import BasicAuth, ClientSession

from .proxy_servers import recording_proxy
from .servers import AppServer, app_server, canned, echo_app, raw_server
from .tls_servers import Pki, hello_app, tls_app_server


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def sent_headers(payload: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in payload["headers"]}


# ----- base_url -----


def path_echo_app() -> web.Application:
    """Answers every GET with the path and query it was asked for."""

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"path": request.raw_path, "query": request.query_string})

    app = web.Application()
    app.router.add_get("/{tail:.*}", echo)
    return app


async def test_base_url_with_a_path_joins_relative_urls() -> None:
    async with (
        app_server(path_echo_app()) as server,
        ClientSession(base_url=server.url("/api/")) as session,
    ):
        async with session.get("echo?x=1") as resp:
            got = await resp.json()
        assert got["path"] == "/api/echo?x=1"
        async with session.get("/echo") as resp:  # a leading slash: from the root
            assert (await resp.json())["path"] == "/echo"
        # an absolute URL is used as it is
        async with session.get(str(server.url("/echo?abs=1"))) as resp:
            assert (await resp.json())["query"] == "abs=1"
        assert session._build_url("a/b") == server.url("/api/a/b")
        assert session._base_url == server.url("/api/")


def test_base_url_is_checked() -> None:
    with pytest.raises(ValueError, match="end with '/'"):
        ClientSession(base_url="http://127.0.0.1/api")
    with pytest.raises(ValueError, match="absolute"):
        ClientSession(base_url="/relative/")


async def test_session_auth_only_for_the_base_url_origin(
    server: AppServer,
) -> None:
    async with (
        app_server(echo_app()) as other,
        ClientSession(base_url=server.url("/"), auth=BasicAuth("u", "p")) as session,
    ):
        async with session.get("echo") as resp:
            same = sent_headers(await resp.json())
        async with session.get(other.url("/echo")) as resp:
            foreign = sent_headers(await resp.json())
    assert same["authorization"] == BasicAuth("u", "p").encode()
    assert "authorization" not in foreign


# ----- session-level proxy -----


async def test_session_proxy_is_used_and_a_request_may_override_it(server: AppServer) -> None:
    async with (
        recording_proxy() as proxy,
        recording_proxy() as other_proxy,
        ClientSession(proxy=proxy.url, proxy_auth=BasicAuth("pu", "pp")) as session,
    ):
        async with session.get(server.url("/echo")) as resp:
            assert resp.status == 200
        async with session.get(server.url("/echo"), proxy=other_proxy.url) as resp:
            assert resp.status == 200
    assert len(proxy.heads) == 1
    head = proxy.heads[0].decode()
    assert head.startswith(f"GET {server.url('/echo')} HTTP/1.1")  # absolute form
    assert f"Proxy-Authorization: {BasicAuth('pu', 'pp').encode()}" in head
    assert len(other_proxy.heads) == 1
    assert "Proxy-Authorization" not in other_proxy.heads[0].decode()


# ----- raise_for_status -----


async def test_raise_for_status_callable_on_the_session(server: AppServer) -> None:
    seen: list[int] = []

    class Refused(Exception):
        pass

    async def check(resp: cyhttp.ClientResponse) -> None:
        seen.append(resp.status)
        if resp.status != 201:
            raise Refused(resp.status)

    async with ClientSession(raise_for_status=check) as session:
        with pytest.raises(Refused):
            await session.get(server.url("/status/200"))
        async with session.get(server.url("/status/201")) as resp:
            assert resp.status == 201
        # a request's own value replaces the session's
        async with session.get(server.url("/status/500"), raise_for_status=False) as resp:
            assert resp.status == 500
        with pytest.raises(cyhttp.ClientResponseError):
            await session.get(server.url("/status/404"), raise_for_status=True)
        # the refused response let its connection go back to the pool
        assert session.connector is not None
        assert not session.connector._acquired  # type: ignore[attr-defined]
    assert seen == [200, 201]


async def test_raise_for_status_callable_per_request(server: AppServer) -> None:
    calls = []

    async def check(resp: cyhttp.ClientResponse) -> None:
        calls.append(await resp.text())

    async with (
        ClientSession() as session,
        session.get(server.url("/echo"), raise_for_status=check) as resp,
    ):
        assert resp.status == 200
    assert len(calls) == 1 and '"method": "GET"' in calls[0]


def test_raise_for_status_of_a_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="raise_for_status"):
        ClientSession(raise_for_status="yes")


# ----- classes and serialisers -----


async def test_request_and_response_classes_are_used(server: AppServer) -> None:
    class MyRequest(cyhttp.ClientRequest):
        made = 0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            type(self).made += 1
            super().__init__(*args, **kwargs)

    class MyResponse(cyhttp.ClientResponse):
        pass

    async with (
        ClientSession(request_class=MyRequest, response_class=MyResponse) as session,
        session.get(server.url("/echo"), headers={"X": "1"}) as resp,
    ):
        assert isinstance(resp, MyResponse)
        assert resp.status == 200
    assert MyRequest.made == 1


async def test_json_serialize_bytes_is_preferred(server: AppServer) -> None:
    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode() + b" "

    async with (
        ClientSession(json_serialize_bytes=dumps) as session,
        session.post(server.url("/echo"), json={"a": [1, 2]}) as resp,
    ):
        got = await resp.json()
    assert got["body"] == '{"a":[1,2]} '
    assert sent_headers(got)["content-type"] == "application/json"


# ----- reading limits -----


def _many_headers(n: int) -> bytes:
    extra = b"".join(b"X-H%d: v\r\n" % i for i in range(n))
    return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + extra + b"\r\nok"


async def test_max_headers_session_and_request() -> None:
    async with raw_server(canned(_many_headers(10), _many_headers(10), _many_headers(10))) as srv:
        async with ClientSession(max_headers=5) as session:
            with pytest.raises(cyhttp.ClientResponseError):
                await session.get(srv.url("/"))
        async with (
            ClientSession(max_headers=5) as session,
            session.get(srv.url("/"), max_headers=50) as resp,
        ):
            assert await resp.read() == b"ok"


async def test_max_field_size_and_max_line_size() -> None:
    long_field = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Long: " + b"v" * 300 + b"\r\n\r\nok"
    long_reason = b"HTTP/1.1 200 " + b"K" * 300 + b"\r\nContent-Length: 2\r\n\r\nok"
    async with raw_server(canned(long_field)) as srv, ClientSession(max_field_size=100) as session:
        with pytest.raises(cyhttp.ClientResponseError):
            await session.get(srv.url("/"))
    async with raw_server(canned(long_reason, long_reason)) as srv:
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ClientResponseError):
                await session.get(srv.url("/"), max_line_size=100)
        # the default, 8190, allows it
        async with ClientSession() as session, session.get(srv.url("/")) as resp:
            assert await resp.read() == b"ok"


async def test_read_bufsize_bounds_what_is_buffered(server: AppServer) -> None:
    async with (
        ClientSession(read_bufsize=1024) as session,
        session.get(server.url("/bytes/1000000")) as resp,
    ):
        await asyncio.sleep(0.05)  # the server sends all it can
        assert resp.content.total_bytes < 200_000  # paused near the buffer size
        assert len(await resp.read()) == 1_000_000


def test_reading_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_headers"):
        ClientSession(max_headers=0)
    with pytest.raises(TypeError, match="read_bufsize"):
        ClientSession(read_bufsize="big")  # type: ignore[arg-type]


# ----- errors of aiohttp 3.x -----


async def test_bad_urls_raise_the_3x_errors() -> None:
    async with ClientSession() as session:
        with pytest.raises(cyhttp.NonHttpUrlClientError) as info:
            await session.get("ftp://127.0.0.1/file")
        assert isinstance(info.value, cyhttp.InvalidURL)  # the 2.3 contract still holds
        with pytest.raises(cyhttp.InvalidUrlClientError):
            await session.get("http:///nohost")
        with pytest.raises(cyhttp.InvalidUrlClientError):
            await session.get("/relative/without/base")


async def test_waiting_for_a_pool_slot_times_out_as_connection_timeout(
    server: AppServer,
) -> None:
    connector = cyhttp.TCPConnector(limit=1)
    async with ClientSession(connector=connector, read_bufsize=1024) as session:
        # holds the only slot: a body far bigger than what is read ahead
        held = await session.get(server.url("/bytes/5000000"))
        try:
            with pytest.raises(cyhttp.ConnectionTimeoutError) as info:
                await session.get(server.url("/echo"), timeout=cyhttp.ClientTimeout(connect=0.1))
            assert isinstance(info.value, cyhttp.ServerTimeoutError)
        finally:
            held.release()


async def test_unknown_keyword_is_a_type_error_naming_it(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="no_such_option"):
            await session.get(server.url("/echo"), no_such_option=1)
    with pytest.raises(TypeError, match="no_such_option"):
        ClientSession(no_such_option=1)  # type: ignore[call-arg]


async def test_upload_tracker_of_the_wrong_type_is_refused_clearly(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError, match="upload_tracker"):
            await session.post(server.url("/echo"), data=b"x", upload_tracker=object())


# ----- server_hostname -----


async def test_server_hostname_names_the_certificate_to_expect() -> None:
    pki = Pki()
    leaf = pki.ca.issue_cert("api.example.test")
    async with tls_app_server(hello_app(), pki.server_context(leaf)) as srv:
        ctx = pki.client_context()
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ClientConnectorCertificateError):
                await session.get(srv.url("/"), ssl=ctx)  # the cert is not for 127.0.0.1
            async with session.get(srv.url("/"), ssl=ctx, server_hostname="api.example.test") as r:
                assert await r.text() == "hello https"
            # a connection checked for one name is not reused for a request naming none
            with pytest.raises(cyhttp.ClientConnectorCertificateError):
                await session.get(srv.url("/"), ssl=ctx)
            with pytest.raises(TypeError, match="server_hostname"):
                await session.get(srv.url("/"), server_hostname=b"x")  # type: ignore[arg-type]


# ----- fallback_charset_resolver -----


async def test_fallback_charset_resolver_names_the_encoding() -> None:
    body = "café".encode("cp1252")
    wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
    seen: list[bytes] = []

    def resolver(resp: cyhttp.ClientResponse, raw: bytes) -> str:
        seen.append(raw)
        return "cp1252"

    async with (
        raw_server(canned(wire + body)) as srv,
        ClientSession(fallback_charset_resolver=resolver) as session,
        session.get(srv.url("/")) as resp,
    ):
        assert await resp.text() == "café"
    assert seen == [body]
    with pytest.raises(TypeError, match="fallback_charset_resolver"):
        ClientSession(fallback_charset_resolver="utf-8")  # type: ignore[arg-type]
