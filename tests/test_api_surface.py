"""The public API, name by name, against the contract (API.md) and the user's reference
document (the aiohttp 2.3 client reference): every documented name exists, every documented
parameter has its documented name, default and kind, and the behaviours no other test file
covers work against a real server on 127.0.0.1.

The tables below are transcribed from the documents, not from the code: a test failing
here means the code drifted from what a program written against the documents expects.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import cyhttp
import cyhttp as aiohttp  # the promise: programs written for aiohttp run unchanged
from cyhttp import ClientSession

from .proxy_servers import proxy_py, recording_proxy
from .servers import AppServer, app_server, echo_app, raw_server, read_request

KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD
_ = object()  # "any default" in the tables (the documents give none, or a sentinel)


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def headers_of(payload: dict[str, Any]) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in payload["headers"])


# --------------------------------------------------------------------------- names


#: every public name the reference document uses as ``aiohttp.<name>``
DOCUMENTED_NAMES = [
    "ClientSession",
    "request",
    "ws_connect",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "BaseConnector",
    "TCPConnector",
    "UnixConnector",
    "Connection",
    "ClientResponse",
    "ClientWebSocketResponse",
    "RequestInfo",
    "BasicAuth",
    "CookieJar",
    "DummyCookieJar",
    "DefaultResolver",
    "ThreadResolver",
    "AsyncResolver",
    "WSMsgType",
    "WSMessage",
    "WSCloseCode",
    "ClientTimeout",
    "MultiDict",
    "MultiDictProxy",
    "ClientError",
    "ClientResponseError",
    "ContentTypeError",
    "WSServerHandshakeError",
    "ClientHttpProxyError",
    "ClientConnectionError",
    "ClientOSError",
    "ClientConnectorError",
    "ClientSSLError",
    "ClientConnectorCertificateError",
    "ClientConnectorSSLError",
    "ClientProxyConnectionError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "ServerFingerprintMismatch",
    "ClientPayloadError",
    "InvalidURL",
    "TooManyRedirects",
]


@pytest.mark.parametrize("name", DOCUMENTED_NAMES)
def test_documented_name_is_exported(name: str) -> None:
    assert getattr(cyhttp, name) is not None
    assert name in cyhttp.__all__


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("cyhttp.abc", ["AbstractCookieJar", "AbstractResolver"]),
        ("cyhttp.connector", ["BaseConnector", "TCPConnector", "UnixConnector", "Connection"]),
        ("cyhttp.client", ["ClientSession", "ClientRequest", "request"]),
    ],
)
def test_documented_module_paths(module: str, names: list[str]) -> None:
    """The document names some classes by module (``aiohttp.connector.BaseConnector``,
    ``aiohttp.client.ClientRequest``, ``aiohttp.abc.AbstractCookieJar``)."""
    mod = __import__(module, fromlist=names)
    for name in names:
        assert getattr(mod, name) is getattr(cyhttp, name, getattr(mod, name))


# ---------------------------------------------------------------------- signatures


#: (callable, [(parameter, default, kind)]) as written in the documents
SIGNATURES: list[tuple[str, Callable[..., Any], list[tuple[str, Any, Any]]]] = [
    (
        "ClientSession",
        ClientSession,
        [
            ("connector", None, KW),
            ("loop", None, KW),
            ("cookies", None, KW),
            ("headers", None, KW),
            ("skip_auto_headers", None, KW),
            ("auth", None, KW),
            ("json_serialize", json.dumps, KW),
            ("version", aiohttp.HttpVersion11, KW),
            ("cookie_jar", None, KW),
            ("read_timeout", None, KW),
            ("conn_timeout", None, KW),
            ("raise_for_status", False, KW),
            ("connector_owner", True, KW),
            ("auto_decompress", True, KW),
            ("trust_env", False, KW),
            ("proxies", None, KW),
        ],
    ),
    (
        "ClientSession.request",
        ClientSession.request,
        [
            ("method", _, POS),
            ("url", _, POS),
            ("params", None, KW),
            ("data", None, KW),
            ("json", None, KW),
            ("headers", None, KW),
            ("skip_auto_headers", None, KW),
            ("auth", None, KW),
            ("allow_redirects", True, KW),
            ("max_redirects", 10, KW),
            ("compress", None, KW),
            ("chunked", None, KW),
            ("expect100", False, KW),
            ("read_until_eof", True, KW),
            ("proxy", None, KW),
            ("proxy_auth", None, KW),
            ("timeout", _, KW),  # "5*60": the session's read_timeout unless given
            ("verify_ssl", None, KW),
            ("fingerprint", None, KW),
            ("ssl_context", None, KW),
            ("proxy_headers", None, KW),
            ("cookies", None, KW),
            ("ssl", None, KW),
        ],
    ),
    ("ClientSession.get", ClientSession.get, [("url", _, POS), ("allow_redirects", True, KW)]),
    (
        "ClientSession.options",
        ClientSession.options,
        [("url", _, POS), ("allow_redirects", True, KW)],
    ),
    ("ClientSession.head", ClientSession.head, [("url", _, POS), ("allow_redirects", False, KW)]),
    ("ClientSession.post", ClientSession.post, [("url", _, POS), ("data", None, KW)]),
    ("ClientSession.put", ClientSession.put, [("url", _, POS), ("data", None, KW)]),
    ("ClientSession.patch", ClientSession.patch, [("url", _, POS), ("data", None, KW)]),
    ("ClientSession.delete", ClientSession.delete, [("url", _, POS)]),
    (
        "ClientSession.ws_connect",
        ClientSession.ws_connect,
        [
            ("url", _, POS),
            ("protocols", (), KW),
            ("timeout", 10.0, KW),
            ("receive_timeout", None, KW),
            ("auth", None, KW),
            ("autoclose", True, KW),
            ("autoping", True, KW),
            ("heartbeat", None, KW),
            ("origin", None, KW),
            ("proxy", None, KW),
            ("proxy_auth", None, KW),
            ("verify_ssl", None, KW),
            ("fingerprint", None, KW),
            ("ssl_context", None, KW),
            ("proxy_headers", None, KW),
            ("compress", 0, KW),
            ("max_msg_size", 4 * 1024 * 1024, KW),
        ],
    ),
    (
        "request",
        aiohttp.request,
        [
            ("method", _, POS),
            ("url", _, POS),
            ("params", None, KW),
            ("data", None, KW),
            ("json", None, KW),
            ("headers", None, KW),
            ("cookies", None, KW),
            ("auth", None, KW),
            ("allow_redirects", True, KW),
            ("max_redirects", 10, KW),
            ("encoding", "utf-8", KW),
            ("version", aiohttp.HttpVersion(major=1, minor=1), KW),
            ("compress", None, KW),
            ("chunked", None, KW),
            ("expect100", False, KW),
            ("connector", None, KW),
            ("loop", None, KW),
            ("read_until_eof", True, KW),
        ],
    ),
    (
        "ws_connect",
        aiohttp.ws_connect,
        [
            ("url", _, POS),
            ("protocols", (), KW),
            ("timeout", 10.0, KW),
            ("autoclose", True, KW),
            ("autoping", True, KW),
            ("origin", None, KW),
            ("headers", None, KW),
            ("connector", None, KW),
            ("loop", None, KW),
        ],
    ),
    (
        "BaseConnector",
        aiohttp.BaseConnector,
        [
            ("keepalive_timeout", _, KW),  # 15 s
            ("force_close", False, KW),
            ("limit", 100, KW),
            ("limit_per_host", 0, KW),
            ("enable_cleanup_closed", False, KW),
            ("loop", None, KW),
        ],
    ),
    ("BaseConnector.connect", aiohttp.BaseConnector.connect, [("request", _, POS)]),
    (
        "BaseConnector._create_connection",
        aiohttp.BaseConnector._create_connection,
        [("req", _, POS)],
    ),
    (
        "TCPConnector",
        aiohttp.TCPConnector,
        [
            ("verify_ssl", True, KW),
            ("fingerprint", None, KW),
            ("use_dns_cache", True, KW),
            ("ttl_dns_cache", 10, KW),
            ("family", 0, KW),
            ("ssl_context", None, KW),
            ("local_addr", None, KW),
            ("resolver", None, KW),
            ("keepalive_timeout", _, KW),
            ("force_close", False, KW),
            ("limit", 100, KW),
            ("limit_per_host", 0, KW),
            ("enable_cleanup_closed", False, KW),
            ("loop", None, KW),
        ],
    ),
    (
        "TCPConnector.clear_dns_cache",
        aiohttp.TCPConnector.clear_dns_cache,
        [("host", None, POS), ("port", None, POS)],
    ),
    (
        "UnixConnector",
        aiohttp.UnixConnector,
        [
            ("path", _, POS),
            ("conn_timeout", None, KW),
            ("keepalive_timeout", _, KW),
            ("limit", 100, KW),
            ("force_close", False, KW),
            ("loop", None, KW),
        ],
    ),
    ("ClientResponse.text", aiohttp.ClientResponse.text, [("encoding", None, POS)]),
    (
        "ClientResponse.json",
        aiohttp.ClientResponse.json,
        [
            ("encoding", None, KW),
            ("loads", json.loads, KW),
            ("content_type", "application/json", KW),
        ],
    ),
    (
        "ClientWebSocketResponse.get_extra_info",
        aiohttp.ClientWebSocketResponse.get_extra_info,
        [("name", _, POS), ("default", None, POS)],
    ),
    ("ClientWebSocketResponse.ping", aiohttp.ClientWebSocketResponse.ping, [("message", b"", POS)]),
    (
        "ClientWebSocketResponse.send_str",
        aiohttp.ClientWebSocketResponse.send_str,
        [("data", _, POS)],
    ),
    (
        "ClientWebSocketResponse.send_bytes",
        aiohttp.ClientWebSocketResponse.send_bytes,
        [("data", _, POS)],
    ),
    (
        "ClientWebSocketResponse.send_json",
        aiohttp.ClientWebSocketResponse.send_json,
        [("data", _, POS), ("dumps", json.dumps, KW)],
    ),
    (
        "ClientWebSocketResponse.close",
        aiohttp.ClientWebSocketResponse.close,
        [("code", 1000, KW), ("message", b"", KW)],
    ),
    (
        "ClientWebSocketResponse.receive_json",
        aiohttp.ClientWebSocketResponse.receive_json,
        [("loads", json.loads, KW)],
    ),
    (
        "BasicAuth",
        aiohttp.BasicAuth,
        [("login", _, POS), ("password", "", POS), ("encoding", "latin1", POS)],
    ),
    (
        "BasicAuth.decode",
        aiohttp.BasicAuth.decode,
        [("auth_header", _, POS), ("encoding", "latin1", POS)],
    ),
    ("BasicAuth.from_url", aiohttp.BasicAuth.from_url, [("url", _, POS)]),
    ("CookieJar", aiohttp.CookieJar, [("unsafe", False, KW), ("loop", None, KW)]),
    ("DummyCookieJar", aiohttp.DummyCookieJar, [("loop", None, KW)]),
    (
        "CookieJar.update_cookies",
        aiohttp.CookieJar.update_cookies,
        [("cookies", _, POS), ("response_url", _, POS)],
    ),
    ("CookieJar.filter_cookies", aiohttp.CookieJar.filter_cookies, [("request_url", _, POS)]),
    ("CookieJar.save", aiohttp.CookieJar.save, [("file_path", _, POS)]),
    ("CookieJar.load", aiohttp.CookieJar.load, [("file_path", _, POS)]),
    (
        "AbstractResolver.resolve",
        cyhttp.abc.AbstractResolver.resolve,
        [("host", _, POS), ("port", 0, POS), ("family", socket.AF_INET, POS)],
    ),
    (
        "ThreadResolver.resolve",
        aiohttp.ThreadResolver.resolve,
        [("host", _, POS), ("port", 0, POS), ("family", socket.AF_INET, POS)],
    ),
    (
        "RequestInfo",
        aiohttp.RequestInfo,
        [("url", _, POS), ("method", _, POS), ("headers", _, POS)],
    ),
]


@pytest.mark.parametrize(
    ("what", "params"),
    [(name, params) for name, _fn, params in SIGNATURES],
    ids=[name for name, _fn, _params in SIGNATURES],
)
def test_documented_signature(what: str, params: list[tuple[str, Any, Any]]) -> None:
    fn = dict((name, fn) for name, fn, _params in SIGNATURES)[what]
    sig = inspect.signature(fn)
    for name, default, kind in params:
        assert name in sig.parameters, f"{what}: no parameter {name!r} in {sig}"
        param = sig.parameters[name]
        if kind is KW:
            assert param.kind is KW, f"{what}({name}) must be keyword-only, is {param.kind}"
        else:
            assert param.kind is POS, f"{what}({name}) must be positional, is {param.kind}"
        if default is not _:
            assert param.default is not inspect.Parameter.empty, f"{what}({name}) is required"
            assert param.default == default, f"{what}({name}) defaults to {param.default!r}"
        elif kind is POS and name in ("method", "url", "path", "login", "data", "req", "name"):
            assert param.default is inspect.Parameter.empty, f"{what}({name}) must be required"


# ---------------------------------------------------------------- custom connectors


class TwoDotThreeConnector(aiohttp.BaseConnector):
    """A connector written for aiohttp 2.3: ``_create_connection(req)`` returning the
    ``(transport, protocol)`` pair of ``loop.create_connection(self._factory, ...)``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.created: list[tuple[str, int | None]] = []

    async def _create_connection(self, req):  # type: ignore[no-untyped-def,override]
        self.created.append((req.host, req.port))
        assert not req.is_ssl()
        return await self._loop.create_connection(self._factory, "127.0.0.1", req.port)


class ThreeDotXConnector(aiohttp.BaseConnector):
    """The aiohttp 3 form: ``_create_connection(req, traces, timeout)``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeouts: list[Any] = []

    async def _create_connection(self, req, traces, timeout):  # type: ignore[no-untyped-def,override]
        self.timeouts.append(timeout)
        return await self._loop.create_connection(self._factory, "127.0.0.1", req.port)


class BadConnector(aiohttp.BaseConnector):
    async def _create_connection(self, req):  # type: ignore[no-untyped-def,override]
        transport, _proto = await self._loop.create_connection(
            asyncio.Protocol, "127.0.0.1", req.port
        )
        return transport, asyncio.Protocol()


async def test_aiohttp23_custom_connector(server: AppServer) -> None:
    connector = TwoDotThreeConnector()
    async with ClientSession(connector=connector) as session:
        for i in range(3):
            url = f"http://name.invalid:{server.port}/echo?i={i}"
            async with session.get(url) as resp:
                got = await resp.json()
                assert got["query"] == f"i={i}"
                assert headers_of(got)["Host"] == f"name.invalid:{server.port}"
    # kept alive: one connection made for three requests
    assert connector.created == [("name.invalid", server.port)]
    assert server.connections == 1


async def test_aiohttp3_custom_connector(server: AppServer) -> None:
    connector = ThreeDotXConnector(force_close=True)
    async with ClientSession(connector=connector) as session:
        for _ in range(2):
            async with session.get(server.url("/echo"), timeout=7) as resp:
                assert (await resp.json())["method"] == "GET"
    assert len(connector.timeouts) == 2  # force_close: a new connection each time
    assert connector.timeouts[0].total == 7


async def test_custom_connector_returning_a_foreign_protocol(server: AppServer) -> None:
    async with ClientSession(connector=BadConnector()) as session:
        with pytest.raises(TypeError, match="_factory"):
            await session.get(server.url("/echo"))
        assert not session.connector._acquired  # type: ignore[union-attr]


async def test_abstract_connector_refuses_to_connect() -> None:
    async with ClientSession(connector=aiohttp.BaseConnector()) as session:
        with pytest.raises(NotImplementedError):
            await session.get("http://127.0.0.1:9/")


# -------------------------------------------------------------------------- cookies


class PlainJar(cyhttp.abc.AbstractCookieJar):
    """A custom jar with only the abstract interface (no ``cookie_header``)."""

    def __init__(self) -> None:
        self.inner = aiohttp.CookieJar(unsafe=True)
        self.filtered = 0

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.inner)

    def clear(self, predicate: Any = None) -> None:
        self.inner.clear(predicate)

    def clear_domain(self, domain: str) -> None:
        self.inner.clear_domain(domain)

    def update_cookies(self, cookies: Any, response_url: URL = URL()) -> None:  # noqa: B008
        self.inner.update_cookies(cookies, response_url)

    def filter_cookies(self, request_url: URL) -> Any:
        self.filtered += 1
        return self.inner.filter_cookies(request_url)


async def test_cookie_header_comes_from_the_jar(server: AppServer) -> None:
    """Two cookies of one name (different paths) both travel, most specific first, exactly
    as the jar's own ``cookie_header`` builds them."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with ClientSession(cookie_jar=jar) as session:
        base = server.url("/")
        jar.update_cookies_from_headers(["a=root; Path=/", "a=echo; Path=/echo", "b=2"], base)
        calls = []
        original = jar.cookie_header

        def spy(url: Any) -> Any:
            calls.append(url)
            return original(url)

        jar.cookie_header = spy  # type: ignore[method-assign]
        async with session.get(server.url("/echo")) as resp:
            sent = headers_of(await resp.json()).getall("Cookie")
        assert calls
        assert sent == ["a=echo; a=root; b=2"]


def cookie_echo_app() -> web.Application:
    """Every path answers with the Cookie headers it received (a JSON list)."""

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(request.headers.getall("Cookie", []))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_request_cookies_replace_jar_cookies_of_the_same_name() -> None:
    async with app_server(cookie_echo_app()) as srv:
        for jar in (aiohttp.CookieJar(unsafe=True), PlainJar()):
            async with ClientSession(cookie_jar=jar) as session:
                jar.update_cookies({"a": "jar", "b": "jar"}, srv.url("/"))
                jar.update_cookies({"a": "deeper"}, srv.url("/deep/"))
                url = srv.url("/deep/x")
                async with session.get(url, cookies={"a": "mine", "c": "3"}) as resp:
                    (sent,) = await resp.json()
                pairs = sorted(p.split("=", 1) for p in sent.split("; "))
                assert pairs == [["a", "mine"], ["b", "jar"], ["c", "3"]]
                # the jar is untouched, and without cookies= it is what is sent: all of it
                # from cookie_header; through filter_cookies (aiohttp 3.14's shape, one
                # cookie per name) the first of each name
                async with session.get(url) as resp:
                    expected = (
                        "a=deeper; b=jar" if isinstance(jar, PlainJar) else "a=deeper; a=jar; b=jar"
                    )
                    assert await resp.json() == [expected]
        assert jar.filtered == 2  # the plain jar was asked through filter_cookies


async def test_session_cookies_and_dummy_jar(server: AppServer) -> None:
    async with (
        ClientSession(cookies={"s": "1"}) as session,
        session.get(server.url("/echo")) as resp,
    ):
        assert headers_of(await resp.json())["Cookie"] == "s=1"
    async with ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(server.url("/setcookie?k=v")) as resp:
            assert resp.cookies["k"].value == "v"  # the response still shows it
        assert len(session.cookie_jar) == 0  # type: ignore[arg-type]
        async with session.get(server.url("/echo"), cookies={"x": "y"}) as resp:
            assert headers_of(await resp.json())["Cookie"] == "x=y"


# ------------------------------------------------------------ cyhttp.ws_connect()


def ws_echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.data == "bye":
                await ws.close(code=4000, message=b"done")
                break
            await ws.send_str(f"echo {msg.data} {request.headers.get('Origin')}")
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    return app


def private_session(ws: aiohttp.ClientWebSocketResponse) -> ClientSession:
    session = ws._response._session  # the session ws_connect made for this socket
    assert isinstance(session, ClientSession)
    return session


async def test_module_level_ws_connect_owns_its_session() -> None:
    async with app_server(ws_echo_app()) as srv:
        url = srv.url("/ws").with_scheme("ws")
        async with aiohttp.ws_connect(url, protocols=("chat",), origin="http://o") as ws:
            assert isinstance(ws, aiohttp.ClientWebSocketResponse)
            assert ws.protocol == "chat"
            session = private_session(ws)
            connector = session.connector
            assert connector is not None and not connector.closed
            await ws.send_str("hi")
            assert await ws.receive_str() == "echo hi http://o"
        assert ws.closed
        assert session.closed and connector.closed

        # awaited form; the server closes first: the session goes with the connection
        ws = await aiohttp.ws_connect(str(url))
        session = private_session(ws)
        connector = session.connector
        await ws.send_str("bye")
        msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4000
        assert ws.closed
        assert session.closed and connector is not None and connector.closed


async def test_module_level_ws_connect_with_a_shared_connector() -> None:
    async with app_server(ws_echo_app()) as srv, aiohttp.TCPConnector() as connector:
        url = srv.url("/ws").with_scheme("ws")
        for _ in range(2):
            async with aiohttp.ws_connect(url, connector=connector) as ws:
                await ws.send_str("x")
                assert (await ws.receive()).data == "echo x None"
            assert private_session(ws).closed
        assert not connector.closed  # not ours to close
        assert not connector._acquired


async def test_module_level_ws_connect_failure_leaves_nothing_open(
    server: AppServer, recwarn: pytest.WarningsRecorder
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await aiohttp.ws_connect(server.url("/status/404"))
    assert info.value.code == info.value.status == 404
    with pytest.raises(aiohttp.ClientConnectorError):
        await aiohttp.ws_connect(f"ws://127.0.0.1:{_closed_port()}/")
    del info
    gc.collect()
    assert not [w for w in recwarn if issubclass(w.category, ResourceWarning)]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_module_level_ws_connect_through_proxy_py() -> None:
    """The real ``proxy.py`` (tests/proxy_servers.py) carries ws:// in a CONNECT tunnel."""
    async with app_server(ws_echo_app()) as srv:
        with proxy_py() as proxy:
            url = srv.url("/ws").with_scheme("ws")
            async with aiohttp.ws_connect(url, proxy=proxy.url) as ws:
                await ws.send_str("via proxy")
                assert await ws.receive_str() == "echo via proxy None"
                await ws.send_json({"a": 1})
                assert await ws.receive_str() == 'echo {"a": 1} None'


# ---------------------------------------------------------------- the exception tree

#: (exception, its documented parents) from API.md's tree (which settles the seed's doubts)
EXCEPTION_TREE: list[tuple[str, tuple[type, ...]]] = [
    ("ClientError", (Exception,)),
    ("ClientResponseError", (aiohttp.ClientError,)),
    ("ContentTypeError", (aiohttp.ClientResponseError,)),
    ("WSServerHandshakeError", (aiohttp.ClientResponseError,)),
    ("ClientHttpProxyError", (aiohttp.ClientResponseError,)),
    ("TooManyRedirects", (aiohttp.ClientResponseError,)),
    ("ClientConnectionError", (aiohttp.ClientError,)),
    ("ClientOSError", (aiohttp.ClientConnectionError, OSError)),
    ("ClientConnectorError", (aiohttp.ClientOSError,)),
    ("ClientSSLError", (aiohttp.ClientConnectorError,)),
    (
        "ClientConnectorCertificateError",
        (aiohttp.ClientSSLError, ssl.CertificateError),
    ),
    ("ClientConnectorSSLError", (aiohttp.ClientSSLError, ssl.SSLError)),
    ("ClientProxyConnectionError", (aiohttp.ClientConnectorError,)),
    ("ServerConnectionError", (aiohttp.ClientConnectionError,)),
    ("ServerDisconnectedError", (aiohttp.ServerConnectionError,)),
    ("ServerTimeoutError", (aiohttp.ServerConnectionError, asyncio.TimeoutError)),
    ("ServerFingerprintMismatch", (aiohttp.ServerConnectionError,)),
    ("ClientPayloadError", (aiohttp.ClientError,)),
    ("InvalidURL", (aiohttp.ClientError, ValueError)),
]


@pytest.mark.parametrize(("name", "parents"), EXCEPTION_TREE, ids=[n for n, _ in EXCEPTION_TREE])
def test_exception_tree(name: str, parents: tuple[type, ...]) -> None:
    cls = getattr(aiohttp, name)
    for parent in parents:
        assert issubclass(cls, parent), f"{name} is not a {parent.__name__}"
    # no other ClientError branch: e.g. a connection error is never a response error
    branches = (aiohttp.ClientResponseError, aiohttp.ClientConnectionError)
    assert sum(issubclass(cls, b) for b in branches) <= 1


def test_exception_attributes() -> None:
    info = aiohttp.RequestInfo(URL("http://h/"), "GET", CIMultiDictProxy(CIMultiDict()))
    err = aiohttp.ClientResponseError(info, (), status=404, message="Not Found", headers=None)
    assert (err.request_info, err.code, err.status, err.message) == (info, 404, 404, "Not Found")
    assert err.history == ()
    bad = aiohttp.InvalidURL(URL("http:///nohost"))
    assert bad.url == URL("http:///nohost") and isinstance(bad, ValueError)
    assert aiohttp.ServerDisconnectedError().message == "Server disconnected"  # as aiohttp 3
    partial = aiohttp.ServerDisconnectedError(message="HTTP/1.1 200 OK")
    assert partial.message == "HTTP/1.1 200 OK"
    assert isinstance(aiohttp.ServerTimeoutError("t"), asyncio.TimeoutError)


async def test_invalid_url_carries_a_yarl_url() -> None:
    async with ClientSession() as session:
        for bad in ("http:///no-host", "/relative", "ftp://h/"):
            with pytest.raises(aiohttp.InvalidURL) as info:
                await session.get(bad)
            assert isinstance(info.value.url, URL) and info.value.url == URL(bad)


# ---------------------------------------------------------- responses and requests


async def test_close_versus_release(server: AppServer) -> None:
    """``release()`` (a coroutine in 2.3: awaiting it works) pools a fully read
    connection; ``close()`` drops the connection and fails the unread body."""
    async with ClientSession() as session:
        resp = await session.get(server.url("/bytes/10"))
        assert await resp.read() == bytes(range(10))
        await resp.release()
        resp = await session.get(server.url("/bytes/10"))
        await resp.read()
        resp.close()  # the body was complete: the connection was pooled already
        assert server.connections == 1

        big = await session.get(server.url("/bytes/1000000"))
        assert big.connection is not None
        transport = big.connection.transport
        big.close()
        assert big.closed and big.connection is None
        assert transport is not None and transport.is_closing()
        with pytest.raises(aiohttp.ClientConnectionError):
            await big.content.read()

        half = await session.get(server.url("/bytes/1000000"))
        await half.content.readexactly(10)
        half.release()  # unread body: the connection is not reusable, it is closed
        assert half.connection is None
        async with session.get(server.url("/echo")) as resp:
            assert resp.status == 200
    assert server.connections == 3


async def test_request_info_fields(server: AppServer) -> None:
    assert aiohttp.RequestInfo._fields[:3] == ("url", "method", "headers")
    async with (
        ClientSession() as session,
        session.post(server.url("/echo#frag"), data=b"x", headers={"X-A": "1"}) as resp,
    ):
        info = resp.request_info
        url, method, headers = info[:3]
        assert url == info.url == server.url("/echo")
        assert method == info.method == "POST"
        assert headers is info.headers and headers["X-A"] == "1"
        assert headers["Host"] == f"127.0.0.1:{server.port}"
        assert info.real_url == server.url("/echo#frag")  # aiohttp 3: as given
        assert isinstance(resp.raw_headers, tuple)
        assert all(type(k) is bytes and type(v) is bytes for k, v in resp.raw_headers)
    assert aiohttp.RequestInfo(url, "GET", headers).real_url == url


async def test_requote_redirect_url() -> None:
    """The document: set it False when a server needs the redirect URL as it sent it."""
    targets: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            line = head.split(b"\r\n", 1)[0]
            if line.startswith(b"GET /start"):
                writer.write(
                    b"HTTP/1.1 302 Found\r\nLocation: /t/%7Ex?q=%41%2F\r\nContent-Length: 0\r\n\r\n"
                )
            else:
                targets.append(line.split(b" ")[1])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        assert session.requote_redirect_url is True
        async with session.get(srv.url("/start")) as resp:
            assert await resp.text() == "ok"
        session.requote_redirect_url = False
        async with session.get(srv.url("/start")) as resp:
            assert resp.url.raw_path_qs == "/t/%7Ex?q=%41%2F"
    # requoted as yarl does for aiohttp: unreserved and query-safe escapes decoded
    assert targets == [b"/t/~x?q=A/", b"/t/%7Ex?q=%41%2F"]


async def test_response_attributes_from_the_document(server: AppServer) -> None:
    async with (
        ClientSession() as session,
        session.get(server.url("/redirect/302?to=/bytes/3")) as resp,
    ):
        assert resp.version == aiohttp.HttpVersion11 == aiohttp.HttpVersion(1, 1)
        assert (resp.status, resp.reason, resp.method) == (200, "OK", "GET")
        assert resp.url == server.url("/bytes/3")
        assert resp.content_type == "application/octet-stream"
        assert resp.charset is None
        assert [r.status for r in resp.history] == [302]
        assert isinstance(resp.history, tuple)
        assert await resp.text("latin-1") == "\x00\x01\x02"
    assert aiohttp.HttpVersion10 == (1, 0)


# ------------------------------------------------------------------------ BasicAuth


def test_basic_auth_encode_decode_from_url() -> None:
    auth = aiohttp.BasicAuth("user", "pa:ss wörd")
    header = auth.encode()
    assert header.startswith("Basic ")
    assert aiohttp.BasicAuth.decode(header) == auth
    utf8 = aiohttp.BasicAuth("ü", "ß", encoding="utf-8")
    assert aiohttp.BasicAuth.decode(utf8.encode(), encoding="utf-8") == utf8
    # the encoding is that of the credentials; the header itself is base64 (ASCII)
    utf16 = aiohttp.BasicAuth("u", "p", encoding="utf-16-le")
    assert utf16.encode() == "Basic dQA6AHAA"
    assert aiohttp.BasicAuth.decode(utf16.encode(), encoding="utf-16-le") == utf16
    assert aiohttp.BasicAuth("u").password == ""
    assert aiohttp.BasicAuth.from_url(URL("http://u:p@h/")) == aiohttp.BasicAuth("u", "p")
    assert aiohttp.BasicAuth.from_url(URL("http://u@h/")) == aiohttp.BasicAuth("u", "")
    assert aiohttp.BasicAuth.from_url(URL("http://h/")) is None
    for bad in ("Basic", "Digest abc", "Basic !!!", "Basic " + "bm9jb2xvbg=="):
        with pytest.raises(ValueError):
            aiohttp.BasicAuth.decode(bad)
    with pytest.raises(ValueError):
        aiohttp.BasicAuth("a:b", "c")


# --------------------------------------------------------------------- connectors


def test_connector_properties_from_the_document() -> None:
    conn = aiohttp.TCPConnector(
        verify_ssl=False, family=socket.AF_INET, limit=7, limit_per_host=2, force_close=True
    )
    assert (conn.verify_ssl, conn.family, conn.limit, conn.limit_per_host) == (
        False,
        socket.AF_INET,
        7,
        2,
    )
    assert conn.force_close and not conn.closed
    assert conn.ssl_context is None and conn.fingerprint is None and conn.dns_cache is True
    assert isinstance(conn._resolver, aiohttp.DefaultResolver)
    assert aiohttp.DefaultResolver is aiohttp.ThreadResolver
    conn.close()
    assert conn.closed
    ctx = ssl.create_default_context()
    with_context = aiohttp.TCPConnector(ssl_context=ctx)
    assert with_context.ssl_context is ctx and with_context.verify_ssl
    with_context.close()
    digest = bytes(range(32))
    pinned = aiohttp.TCPConnector(fingerprint=digest)
    assert pinned.fingerprint == digest
    pinned.close()
    for weak in (bytes(16), bytes(20)):  # MD5 and SHA-1 sizes
        with pytest.raises(ValueError):
            aiohttp.TCPConnector(fingerprint=weak)
    unlimited = aiohttp.BaseConnector(limit=None, limit_per_host=None)
    assert not unlimited.limit and not unlimited.limit_per_host
    unlimited.close()
    unix = aiohttp.UnixConnector("/tmp/x.sock")
    assert unix.path == "/tmp/x.sock"
    assert unix._keepalive_timeout == 30.0  # the reference's Unix default (TCP: 15)
    assert aiohttp.UnixConnector("/tmp/x.sock", force_close=True)._keepalive_timeout is None


async def test_keepalive_timeout_zero_disables_keep_alive(server: AppServer) -> None:
    async with ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=0)) as session:
        for _ in range(2):
            async with session.get(server.url("/echo")) as resp:
                await resp.read()
    assert server.connections == 2


async def test_one_shot_request_api(server: AppServer) -> None:
    async with aiohttp.request(
        "POST", server.url("/echo"), data=b"x", cookies={"c": "1"}, encoding="utf-8"
    ) as resp:
        got = await resp.json()
        assert got["body"] == "x" and headers_of(got)["Cookie"] == "c=1"
    resp = await aiohttp.request("GET", str(server.url("/bytes/5")))
    assert await resp.read() == bytes(range(5))


def test_session_proxies_argument_is_never_silently_ignored() -> None:
    """``proxies=None`` (in the reference's signature, undocumented) is accepted; a value
    is refused loudly rather than sending requests without the proxy."""
    with pytest.raises(TypeError, match="proxy="):
        ClientSession(proxies={"http": "http://127.0.0.1:3128"})


async def test_session_proxies_none_is_accepted() -> None:
    async with ClientSession(proxies=None) as session:
        assert not session.closed


async def test_cookies_in_proxy_mode_belong_to_the_target(server: AppServer) -> None:
    """API.md: through a proxy, cookies are still stored and sent per target host."""
    jar = aiohttp.CookieJar(unsafe=True)  # the target is an IP address
    async with recording_proxy() as proxy, ClientSession(cookie_jar=jar) as session:
        async with session.get(server.url("/setcookie?k=v"), proxy=proxy.url) as resp:
            assert resp.status == 200
        assert [m.value for m in jar.filter_cookies(server.url("/")).values()] == ["v"]
        async with session.get(server.url("/echo"), proxy=proxy.url) as resp:
            assert headers_of(await resp.json())["Cookie"] == "k=v"
    # the proxy saw absolute-form requests for the target
    assert all(f"127.0.0.1:{server.port}".encode() in head for head in proxy.heads)


def test_session_timeouts_from_the_document() -> None:
    async def make() -> list[aiohttp.ClientTimeout]:
        out = []
        for kwargs in ({}, {"read_timeout": 0}, {"read_timeout": 7, "conn_timeout": 2}):
            async with ClientSession(**kwargs) as session:
                out.append(session.timeout)
        return out

    default, disabled, given = asyncio.run(make())
    assert default.total == 5 * 60  # the document's default: five minutes, all included
    assert not disabled.total
    assert (given.total, given.connect) == (7, 2)


def test_aiohttp23_style_loop_usage() -> None:
    """The reference's pattern: a session made outside any coroutine (``loop=`` given,
    deprecated and ignored), used by several ``loop.run_until_complete`` calls."""
    loop = asyncio.new_event_loop()
    try:
        server_cm = app_server(echo_app())
        srv = loop.run_until_complete(server_cm.__aenter__())
        with pytest.warns(DeprecationWarning):
            connector = aiohttp.TCPConnector(loop=loop)
        with pytest.warns(DeprecationWarning):
            session = aiohttp.ClientSession(connector=connector, loop=loop)

        async def fetch(client: ClientSession) -> str:
            async with client.get(srv.url("/bytes/4")) as resp:
                assert resp.status == 200
                return await resp.text("latin-1")

        assert loop.run_until_complete(fetch(session)) == "\x00\x01\x02\x03"
        assert loop.run_until_complete(fetch(session)) == "\x00\x01\x02\x03"
        assert srv.connections == 1  # the pool survives between run_until_complete calls
        loop.run_until_complete(session.close())
        assert session.closed and connector.closed
        loop.run_until_complete(server_cm.__aexit__(None, None, None))
    finally:
        loop.close()
