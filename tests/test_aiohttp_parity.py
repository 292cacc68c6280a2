"""cyhttp against the installed aiohttp 3.14.5, programmatically.

The first half compares the two libraries' public surfaces: every name of ``aiohttp.__all__``
a client program can use must be in ``cyhttp``; for the classes a client program touches,
every parameter name of aiohttp's constructors and methods must be accepted, and every
public member present. The exclusions are listed with their reasons.

The second half is the behaviour of what the audit found missing, over real sockets on
127.0.0.1: the upload tracker, the zlib backend switch, the named-pipe connector, and the
smaller names.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import importlib
import inspect
import re
import sys
import warnings
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp as real_aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import cyhttp
from cyhttp import ClientSession, UploadAbortedError, UploadTracker

from .servers import AppServer, app_server, echo_app, raw_server, read_request

# --------------------------------------------------------------------------- names

#: names of ``aiohttp.__all__`` that belong to the server side only (no client program
#: uses them; cyhttp is a client)
SERVER_ONLY = {
    "GunicornWebWorker": "runs an aiohttp.web application under gunicorn",
    "GunicornUVLoopWebWorker": "runs an aiohttp.web application under gunicorn with uvloop",
}


def test_every_client_name_of_aiohttp_is_in_cyhttp() -> None:
    missing = [
        name
        for name in real_aiohttp.__all__
        if name not in SERVER_ONLY and not hasattr(cyhttp, name)
    ]
    assert missing == []


def test_the_server_only_exclusions_are_real_aiohttp_names() -> None:
    # an exclusion that aiohttp dropped would hide nothing: keep the list honest
    assert set(SERVER_ONLY) <= set(real_aiohttp.__all__)


def test_cyhttp_all_lists_the_client_names_of_aiohttp() -> None:
    ours = set(cyhttp.__all__)
    assert [n for n in real_aiohttp.__all__ if n not in SERVER_ONLY and n not in ours] == []


#: aiohttp's modules a client program imports names from: each name of their ``__all__``
#: must be in cyhttp's module of the same name
CLIENT_MODULES = [
    "abc",
    "client",
    "client_exceptions",
    "client_middleware_digest_auth",
    "client_middlewares",
    "client_reqrep",
    "client_ws",
    "compression_utils",
    "connector",
    "cookiejar",
    "formdata",
    "helpers",
    "http_exceptions",
    "multipart",
    "payload",
    "payload_streamer",
    "resolver",
    "streams",
    "tracing",
    "typedefs",
]

#: aiohttp modules left out, and why
MODULE_EXCLUSIONS = {
    "http": "a re-export module (HttpVersion, WSMsgType, ...: all at cyhttp's top level); a "
    "module named http inside the package would shadow the standard library's for "
    "anything run from src/",
    "http_parser": "aiohttp's parser classes (request parsing is server-side); cyhttp's "
    "response parser is cyhttp.http_parser.HttpResponseParser",
    "http_writer": "aiohttp's StreamWriter is its internal body writer; HttpVersion* are at "
    "the top level",
    "http_websocket": "aiohttp's WebSocketReader/Writer internals; the public WebSocket "
    "types (WSMsgType, WSMessage, WSCloseCode, WebSocketError) are at the top level",
    "web, web_*, worker": "the server",
}


@pytest.mark.parametrize("module", CLIENT_MODULES)
def test_every_name_of_a_client_module_is_there(module: str) -> None:
    theirs = importlib.import_module(f"aiohttp.{module}")
    ours = importlib.import_module(f"cyhttp.{module}")
    names = getattr(theirs, "__all__", ())
    assert [name for name in names if not hasattr(ours, name)] == []


def test_abc_has_the_client_side_base_classes() -> None:
    from aiohttp import abc as theirs

    from cyhttp import abc as ours

    #: the server's: access logs, routing, class-based views
    server_side = {"AbstractAccessLogger", "AbstractMatchInfo", "AbstractRouter", "AbstractView"}
    names = {
        n
        for n in dir(theirs)
        if n.startswith("Abstract") and getattr(theirs, n).__module__ == theirs.__name__
    }
    assert server_side <= names
    assert sorted(n for n in names - server_side if not hasattr(ours, n)) == []


def test_hdrs_has_every_header_name() -> None:
    from aiohttp import hdrs as theirs

    from cyhttp import hdrs as ours

    names = [n for n in dir(theirs) if n.isupper() and isinstance(getattr(theirs, n), str)]
    assert [n for n in names if getattr(ours, n, None) != getattr(theirs, n)] == []


def test_reify_computes_once_and_refuses_assignment() -> None:
    from cyhttp.helpers import reify

    class Thing:
        def __init__(self) -> None:
            self._cache: dict[str, Any] = {}
            self.calls = 0

        @reify
        def value(self) -> int:
            self.calls += 1
            return 42

    thing = Thing()
    assert (thing.value, thing.value, thing.calls) == (42, 42, 1)
    assert thing._cache == {"value": 42}
    assert isinstance(Thing.value, reify)
    with pytest.raises(AttributeError):
        thing.value = 1  # type: ignore[misc]


def test_exception_classes_have_aiohttps_parents() -> None:
    """Every exception aiohttp exports is a subclass of the same parents in cyhttp (an
    ``except aiohttp.X`` clause catches the same errors)."""
    wrong = []
    for name in real_aiohttp.__all__:
        theirs = getattr(real_aiohttp, name)
        if not (isinstance(theirs, type) and issubclass(theirs, BaseException)):
            continue
        ours = getattr(cyhttp, name)
        for base in theirs.__mro__[1:]:
            if base.__module__.startswith("aiohttp"):
                counterpart = getattr(cyhttp, base.__name__, None)
            else:
                counterpart = base  # a built-in parent (ValueError, TimeoutError, ...)
            if counterpart is None or not issubclass(ours, counterpart):
                wrong.append((name, base.__name__))
    assert wrong == []


# ---------------------------------------------------------- parameters and members

#: (class name, method) pairs whose parameter names are compared; "" is the class itself
#: (its public members are compared too)
SIGNATURES = [
    ("ClientSession", "__init__"),
    ("ClientSession", "_request"),
    ("ClientSession", "request"),
    ("ClientSession", "ws_connect"),
    ("ClientSession", "close"),
    ("TCPConnector", "__init__"),
    ("BaseConnector", "__init__"),
    ("BaseConnector", "connect"),
    ("UnixConnector", "__init__"),
    ("NamedPipeConnector", "__init__"),
    ("ClientRequest", "__init__"),
    ("ClientRequest", "update_body"),
    ("ClientResponse", "__init__"),
    ("ClientResponse", "text"),
    ("ClientResponse", "json"),
    ("ClientResponse", "read"),
    ("ClientResponse", "get_encoding"),
    ("ClientWebSocketResponse", "__init__"),
    ("ClientWebSocketResponse", "receive"),
    ("ClientWebSocketResponse", "receive_str"),
    ("ClientWebSocketResponse", "receive_bytes"),
    ("ClientWebSocketResponse", "receive_json"),
    ("ClientWebSocketResponse", "send_str"),
    ("ClientWebSocketResponse", "send_bytes"),
    ("ClientWebSocketResponse", "send_json"),
    ("ClientWebSocketResponse", "send_frame"),
    ("ClientWebSocketResponse", "ping"),
    ("ClientWebSocketResponse", "pong"),
    ("ClientWebSocketResponse", "close"),
    ("ClientTimeout", "__init__"),
    ("ClientWSTimeout", "__init__"),
    ("BasicAuth", "__new__"),
    ("BasicAuth", "decode"),
    ("BasicAuth", "from_url"),
    ("CookieJar", "__init__"),
    ("CookieJar", "update_cookies"),
    ("CookieJar", "filter_cookies"),
    ("CookieJar", "clear"),
    ("CookieJar", "clear_domain"),
    ("CookieJar", "save"),
    ("CookieJar", "load"),
    ("DummyCookieJar", "__init__"),
    ("FormData", "__init__"),
    ("FormData", "add_field"),
    ("FormData", "add_fields"),
    ("TraceConfig", "__init__"),
    ("Fingerprint", "__init__"),
    ("RequestInfo", "__new__"),
    ("ETag", "__init__"),
    ("UploadTracker", "__init__"),
    ("AsyncResolver", "__init__"),
    ("ThreadedResolver", "__init__"),
    ("DigestAuthMiddleware", "__init__"),
    ("MultipartWriter", "__init__"),
    ("MultipartWriter", "append"),
    ("MultipartWriter", "append_json"),
    ("MultipartWriter", "append_form"),
    ("MultipartReader", "__init__"),
    ("MultipartReader", "from_response"),
    ("BodyPartReader", "__init__"),
    ("BodyPartReader", "read"),
    ("BodyPartReader", "read_chunk"),
    ("BodyPartReader", "text"),
    ("BodyPartReader", "json"),
    ("BodyPartReader", "form"),
    ("BodyPartReader", "get_charset"),
    ("StreamReader", "read"),
    ("StreamReader", "readline"),
    ("StreamReader", "readuntil"),
    ("StreamReader", "readexactly"),
    ("StreamReader", "iter_chunked"),
    ("DataQueue", "__init__"),
    ("DataQueue", "set_exception"),
    ("DataQueue", "feed_data"),
    ("FlowControlDataQueue", "__init__"),
    ("ChainMapProxy", "__init__"),
    ("encode_basic_auth", ""),
    ("set_zlib_backend", ""),
    ("request", ""),
]

#: parameter names aiohttp has that cyhttp spells differently or does not take, and why
PARAMETER_EXCLUSIONS = {
    # cyhttp advertises the request keywords themselves (ClientSession.request's real
    # signature is ``(method, url, **kwargs)``): the URL is ``url``, passed positionally
    ("ClientSession", "_request"): {"str_or_url"},
    # the session calls it positionally; the name of the first parameter is ``request``
    ("BaseConnector", "connect"): {"req"},
    # built by ws_connect only: aiohttp's constructor takes its own reader, writer and
    # protocol objects, which have no counterpart in cyhttp's WebSocket implementation
    ("ClientWebSocketResponse", "__init__"): {
        "reader",
        "writer",
        "protocol",
        "response",
        "timeout",
        "autoclose",
        "autoping",
        "loop",
        "heartbeat",
        "compress",
        "client_notakeover",
    },
    # aiohttp's internal read-timeout context; cyhttp enforces sock_read in the protocol
    ("StreamReader", "__init__"): {"timer"},
}

#: parameters cyhttp takes through ``**kwargs`` (checked by calling, below)
THROUGH_KWARGS = {
    ("ClientRequest", "__init__"): {"params", "cookies", "loop", "timer", "traces", "trust_env"},
    ("ClientResponse", "__init__"): {
        "writer",
        "continue100",
        "timer",
        "request_info",
        "traces",
        "stream_writer",
    },
}


def _callable(module: Any, cls: str, method: str) -> Any:
    obj = getattr(module, cls)
    return getattr(obj, method) if method else obj


def _parameter_names(func: Any) -> set[str]:
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {
        name
        for name, param in inspect.signature(func).parameters.items()
        if param.kind not in skip and name not in ("self", "cls")
    }


@pytest.mark.parametrize(("cls", "method"), SIGNATURES, ids=lambda v: v or "-")
def test_every_parameter_of_aiohttp_is_accepted(cls: str, method: str) -> None:
    theirs = _parameter_names(_callable(real_aiohttp, cls, method))
    ours = _parameter_names(_callable(cyhttp, cls, method))
    excused = PARAMETER_EXCLUSIONS.get((cls, method), set()) | THROUGH_KWARGS.get(
        (cls, method), set()
    )
    assert sorted(theirs - ours - excused) == []


def test_the_exclusions_name_real_parameters() -> None:
    for (cls, method), names in {**PARAMETER_EXCLUSIONS, **THROUGH_KWARGS}.items():
        theirs = set(inspect.signature(_callable(real_aiohttp, cls, method)).parameters)
        assert names <= theirs, (cls, method, names - theirs)


async def test_client_request_takes_aiohttp_constructor_keywords(server: AppServer) -> None:
    loop = asyncio.get_running_loop()
    req = cyhttp.ClientRequest(
        "get",
        server.url("/echo").with_query(a="1"),
        params={"b": "2"},
        cookies={"flavour": "oat"},
        headers={"X-Made": "by hand"},
        loop=loop,
        timer=None,
        traces=None,
        trust_env=False,
    )
    assert req.loop is loop
    assert str(req.url.query) == "{'a': '1', 'b': '2'}".replace("'", "") or req.url.query
    assert dict(req.url.query) == {"a": "1", "b": "2"}
    assert req.headers["Cookie"] == "flavour=oat"
    # and it can be sent, as a middleware or a library would send it
    async with ClientSession() as session:
        conn = await session.connector.connect(req, [], cyhttp.ClientTimeout())  # type: ignore[union-attr]
        resp = await req.send(conn, cyhttp.ClientResponse)
        echoed = await resp.json()
        resp.release()
    assert echoed["query"] == "a=1&b=2"
    assert dict(echoed["headers"])["X-Made"] == "by hand"
    assert dict(echoed["headers"])["Cookie"] == "flavour=oat"


async def test_client_response_takes_aiohttp_constructor_keywords() -> None:
    loop = asyncio.get_running_loop()
    url = URL("http://example.com/x")
    info = cyhttp.RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    resp = cyhttp.ClientResponse(
        "GET",
        url,
        writer=None,
        continue100=None,
        timer=None,
        request_info=info,
        traces=[],
        loop=loop,
        session=None,
        stream_writer=None,
    )
    assert resp.request_info is info and resp.url == url
    with pytest.raises(TypeError):
        cyhttp.ClientResponse("GET", url, no_such_keyword=1)


def test_client_request_aiohttp_form_defaults() -> None:
    plain = cyhttp.ClientRequest("GET", URL("http://example.com/"), skip_auto_headers=None)
    assert "User-Agent" in plain.headers and plain.skip_auto_headers == frozenset()
    bare = cyhttp.ClientRequest(
        "GET", URL("http://example.com/"), skip_auto_headers=["User-Agent"], ssl=True
    )
    assert "User-Agent" not in bare.headers
    assert bare.skip_auto_headers == frozenset({"user-agent"})


def test_client_request_method_sets() -> None:
    assert cyhttp.ClientRequest.GET_METHODS == real_aiohttp.ClientRequest.GET_METHODS
    assert cyhttp.ClientRequest.POST_METHODS == real_aiohttp.ClientRequest.POST_METHODS
    assert cyhttp.ClientRequest.ALL_METHODS == real_aiohttp.ClientRequest.ALL_METHODS


#: classes whose public members (methods, properties, class attributes) are compared
MEMBER_CLASSES = [
    "ClientSession",
    "ClientResponse",
    "ClientRequest",
    "ClientWebSocketResponse",
    "ClientTimeout",
    "ClientWSTimeout",
    "BasicAuth",
    "CookieJar",
    "DummyCookieJar",
    "FormData",
    "TraceConfig",
    "Fingerprint",
    "RequestInfo",
    "ETag",
    "UploadTracker",
    "TCPConnector",
    "BaseConnector",
    "UnixConnector",
    "NamedPipeConnector",
    "StreamReader",
    "WSMessage",
    "MultipartWriter",
    "MultipartReader",
    "BodyPartReader",
    "DataQueue",
    "FlowControlDataQueue",
    "ChainMapProxy",
    "ClientResponseError",
    "ClientConnectorError",
    "ClientConnectorCertificateError",
    "ClientHttpProxyError",
    "ServerFingerprintMismatch",
    "WSServerHandshakeError",
    "ContentTypeError",
    "TooManyRedirects",
    "InvalidURL",
    "WebSocketError",
    "AsyncResolver",
    "DigestAuthMiddleware",
]

#: public members aiohttp has that cyhttp does not, and why
MEMBER_EXCLUSIONS: dict[str, dict[str, str]] = {
    "ClientSession": {
        "ATTRS": "the names of aiohttp's private attributes (its warning on unknown ones)",
    },
    "ClientResponse": {
        "ATTRS": "the names of aiohttp's private attributes (its warning on unknown ones)",
    },
    "ClientRequest": {
        "DEFAULT_HEADERS": "aiohttp's constructor defaults; cyhttp adds them in the head",
        "close": "aiohttp's writer-task handling: cyhttp's response owns the writer",
        "terminate": "aiohttp's writer-task handling: cyhttp's response owns the writer",
        "write_bytes": "aiohttp's body writer; cyhttp's is ClientRequest._write_body",
        "response": "the response is returned by send(), not kept on the request",
        "length": "undocumented; the framing is in the Content-Length header",
        **{
            f"update_{step}": "a step of aiohttp's constructor (undocumented); the "
            "documented way to change a request is update_body() or its attributes"
            for step in (
                "auth",
                "auto_headers",
                "body_from_data",
                "content_encoding",
                "cookies",
                "expect_continue",
                "headers",
                "host",
                "proxy",
                "transfer_encoding",
                "version",
            )
        },
    },
    "CookieJar": {
        **{
            name: "aiohttp's cookie date parser internals (cyhttp.cookie_dates parses)"
            for name in (
                "DATE_DAY_OF_MONTH_RE",
                "DATE_HMS_TIME_RE",
                "DATE_MONTH_RE",
                "DATE_TOKENS_RE",
                "DATE_YEAR_RE",
                "MAX_TIME",
                "SUB_MAX_TIME",
            )
        },
    },
    "Fingerprint": {
        "HASHFUNC_BY_DIGESTLEN": "an internal table; only SHA-256 pins are accepted "
        "(aiohttp refuses MD5 and SHA-1 too)",
    },
    "StreamReader": {
        "begin_http_chunk_receiving": "fed by aiohttp's parser; cyhttp's uses end_http_chunk",
        "end_http_chunk_receiving": "fed by aiohttp's parser; cyhttp's uses end_http_chunk",
        "set_read_chunk_size": "an internal knob of aiohttp's parser",
        "on_eof": "an internal callback hook of aiohttp's parser",
        "unread_data": "deprecated in aiohttp 3.x",
        "get_read_buffer_limits": "internal flow-control read-out",
    },
    **{
        name: {
            "allowed_protocol_schema_set": "aiohttp's session asks the connector which "
            "URL schemes it serves; cyhttp's session checks the scheme itself"
        }
        for name in ("TCPConnector", "BaseConnector", "UnixConnector", "NamedPipeConnector")
    },
}


#: a loop for aiohttp's ClientRequest constructor (it only keeps it); never run
_SAMPLE_LOOP = asyncio.new_event_loop()
_SAMPLE_LOOP.close()


def _instance_members(module: Any, name: str) -> set[str]:
    """Public members of the class, and of an instance where one is cheap to make
    (attributes set in ``__init__`` are not on the class)."""
    cls = getattr(module, name)
    members = {m for m in dir(cls) if not m.startswith("_")}
    sample = _SAMPLES.get(name)
    if sample is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp's BasicAuth
            members |= {m for m in dir(sample(module)) if not m.startswith("_")}
    return members


_SAMPLES: dict[str, Any] = {
    "ClientRequest": lambda m: m.ClientRequest("GET", URL("http://h/"), loop=_SAMPLE_LOOP),
    "ClientResponseError": lambda m: m.ClientResponseError(None, (), status=400),
    "ContentTypeError": lambda m: m.ContentTypeError(None, (), status=400),
    "TooManyRedirects": lambda m: m.TooManyRedirects(None, (), status=302),
    "ClientHttpProxyError": lambda m: m.ClientHttpProxyError(None, (), status=407),
    "WSServerHandshakeError": lambda m: m.WSServerHandshakeError(None, (), status=400),
    "InvalidURL": lambda m: m.InvalidURL("x", "bad"),
    "WebSocketError": lambda m: m.WebSocketError(1002, "bad"),
    "ETag": lambda m: m.ETag("x"),
    "BasicAuth": lambda m: m.BasicAuth("u", "p"),
    "ClientTimeout": lambda m: m.ClientTimeout(),
    "ClientWSTimeout": lambda m: m.ClientWSTimeout(),
    "TraceConfig": lambda m: m.TraceConfig(),
    "FormData": lambda m: m.FormData(),
    "CookieJar": lambda m: m.CookieJar(),
    "DummyCookieJar": lambda m: m.DummyCookieJar(),
    "MultipartWriter": lambda m: m.MultipartWriter(),
    "DigestAuthMiddleware": lambda m: m.DigestAuthMiddleware("user", "pass"),
}


@pytest.mark.parametrize("name", MEMBER_CLASSES)
async def test_every_public_member_of_aiohttp_is_there(name: str) -> None:
    # async: aiohttp's CookieJar wants a running loop
    missing = _instance_members(real_aiohttp, name) - _instance_members(cyhttp, name)
    assert sorted(missing - set(MEMBER_EXCLUSIONS.get(name, {}))) == []


async def test_the_member_exclusions_are_still_missing() -> None:
    # an excluded member that cyhttp has since gained must leave the list
    for name, members in MEMBER_EXCLUSIONS.items():
        theirs = _instance_members(real_aiohttp, name)
        ours = _instance_members(cyhttp, name)
        assert set(members) <= theirs - ours, (name, set(members) & ours)


async def test_instance_members_of_a_live_websocket() -> None:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    def public(obj: Any) -> set[str]:
        return {m for m in dir(obj) if not m.startswith("_")}

    app = web.Application()
    app.router.add_get("/ws", echo)
    async with (
        app_server(app) as srv,
        real_aiohttp.ClientSession() as theirs,
        ClientSession() as ours,
        theirs.ws_connect(srv.url("/ws")) as a,
        ours.ws_connect(srv.url("/ws")) as b,
    ):
        assert sorted(public(a) - public(b)) == []
        await a.send_str("hi")
        await b.send_str("hi")
        got_a, got_b = await a.receive(), await b.receive()
        assert (
            (got_a.type, got_a.data)
            == (got_b.type, got_b.data)
            == (
                real_aiohttp.WSMsgType.TEXT,
                "hi",
            )
        )
        assert sorted(public(got_a) - public(got_b)) == []


def test_connection_members() -> None:
    # aiohttp exports Connection from aiohttp.connector only
    theirs = {m for m in dir(real_aiohttp.connector.Connection) if not m.startswith("_")}
    ours = {m for m in dir(cyhttp.Connection) if not m.startswith("_")}
    # add_callback: aiohttp's internal hook to cancel its request timers when the
    # connection goes (cyhttp's deadline is disarmed by the response)
    assert sorted(theirs - ours - {"add_callback"}) == []


async def test_instance_members_of_a_live_session_and_request(server: AppServer) -> None:
    def public(obj: Any) -> set[str]:
        return {m for m in dir(obj) if not m.startswith("_")}

    async with real_aiohttp.ClientSession() as theirs, ClientSession() as ours:
        async with theirs.get(server.url("/echo")) as a, ours.get(server.url("/echo")) as b:
            excused = set(MEMBER_EXCLUSIONS["ClientResponse"])
            assert sorted(public(a) - public(b) - excused) == []
            assert sorted(public(a.request_info) - public(b.request_info)) == []
            assert (
                sorted(
                    public(a.content) - public(b.content) - set(MEMBER_EXCLUSIONS["StreamReader"])
                )
                == []
            )
        excused = set(MEMBER_EXCLUSIONS["ClientSession"])
        assert sorted(public(theirs) - public(ours) - excused) == []
        excused = set(MEMBER_EXCLUSIONS["TCPConnector"])
        assert sorted(public(theirs.connector) - public(ours.connector) - excused) == []


# -------------------------------------------------------------------- UploadTracker


@pytest.fixture
async def server() -> AsyncIterator[AppServer]:
    async with app_server(echo_app()) as srv:
        yield srv


async def test_upload_tracker_follows_a_plain_upload(server: AppServer) -> None:
    body = bytes(range(256)) * 1000
    tracker = UploadTracker()
    assert (tracker.attempts, tracker.bytes_written) == (0, 0)
    assert not tracker.upload_complete.done()
    async with (
        ClientSession() as session,
        session.post(server.url("/echo"), data=body, upload_tracker=tracker) as resp,
    ):
        echoed = await resp.json()
    assert echoed["body"].encode("latin-1") == body
    assert tracker.attempts == 1
    assert tracker.bytes_written == len(body)
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_counts_a_streamed_chunked_body(server: AppServer) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([65 + i]) * 1000

    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(server.url("/echo"), data=pieces(), upload_tracker=tracker) as resp,
    ):
        echoed = await resp.json()
    assert len(echoed["body"]) == 5000
    # payload bytes, not wire bytes: the chunk framing is not counted
    assert tracker.bytes_written == 5000
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_counts_payload_bytes_under_compression(server: AppServer) -> None:
    body = b"compressible " * 10000
    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"), data=body, compress="deflate", upload_tracker=tracker
        ) as resp,
    ):
        assert resp.status == 200
    assert tracker.bytes_written == len(body)
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_attempts_across_redirects(server: AppServer) -> None:
    async with ClientSession() as session:
        kept = UploadTracker()  # 307 sends the body again: a second full attempt
        url = server.url("/redirect/307").with_query(to="/echo")
        async with session.post(url, data=b"abc", upload_tracker=kept) as resp:
            assert (await resp.json())["body"] == "abc"
        assert (kept.attempts, kept.bytes_written) == (2, 3)
        assert await kept.upload_complete is None

        dropped = UploadTracker()  # 303 drops it: the second attempt sends zero bytes
        url = server.url("/redirect/303").with_query(to="/echo")
        async with session.post(url, data=b"abc", upload_tracker=dropped) as resp:
            assert (await resp.json())["method"] == "GET"
        assert (dropped.attempts, dropped.bytes_written) == (2, 0)
        assert await dropped.upload_complete is None


async def test_upload_tracker_sees_progress_of_a_large_upload_then_completion() -> None:
    size = 32 * 2**20  # far more than loopback's socket buffers hold
    gate = asyncio.Event()

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await gate.wait()
        received = 0
        while received < size:
            data = await reader.read(2**20)
            if not data:
                return
            received += len(data)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with raw_server(slow_reader) as srv, ClientSession() as session:
        tracker = UploadTracker()
        task = asyncio.ensure_future(
            session.post(srv.url("/"), data=b"u" * size, upload_tracker=tracker)
        )
        for _ in range(200):  # until the first bytes are out (a loaded machine is slow)
            if tracker.bytes_written:
                break
            await asyncio.sleep(0.025)
        seen = []
        for _ in range(10):
            await asyncio.sleep(0.02)
            seen.append(tracker.bytes_written)
        assert seen == sorted(seen)  # it never goes back within an attempt
        assert 0 < seen[-1] < size  # the server has not read: most of the body waits
        assert not tracker.upload_complete.done()
        gate.set()
        resp = await asyncio.wait_for(task, 20)
        assert await resp.text() == "ok"
    assert tracker.bytes_written == size
    assert await tracker.upload_complete is None


async def test_upload_tracker_reports_the_failure_of_an_early_answered_upload() -> None:
    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Too big\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    async with raw_server(early) as srv, ClientSession() as session:
        tracker = UploadTracker()
        resp = await session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        assert resp.status == 413  # the request itself succeeds
        # the response is held: the upload goes on until the server's close cuts it
        with pytest.raises(cyhttp.ClientError) as info:
            await asyncio.wait_for(tracker.upload_complete, 10)
        resp.release()
    # the upload's own error, not "never sent": it was cut by the server
    assert not isinstance(info.value, UploadAbortedError)
    assert tracker.bytes_written < 32 * 2**20  # what got out before the close, if any


async def test_upload_tracker_release_during_the_upload_aborts_it() -> None:
    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)  # reads nothing more, keeps the connection open

    async with raw_server(early) as srv, ClientSession() as session:
        tracker = UploadTracker()
        resp = await session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        assert resp.status == 200
        assert not tracker.upload_complete.done()  # still writing after the answer
        resp.release()  # stops the upload (and drops the connection)
        with pytest.raises(UploadAbortedError):
            await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_failed_connection_is_an_aborted_upload() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pass  # closes the connection before reading anything

    async with raw_server(close_at_once) as srv, ClientSession() as session:
        port = srv.port
    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientConnectorError):
            await session.post(f"http://127.0.0.1:{port}/", data=b"x", upload_tracker=tracker)
    assert tracker.attempts == 1
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete
    # settled as retrieved: a program that only polls done() gets no warning
    assert tracker.upload_complete.done()


async def test_upload_tracker_body_source_error_is_the_upload_error(server: AppServer) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise LookupError("the source broke")

    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(LookupError):
            await session.post(server.url("/echo"), data=broken(), upload_tracker=tracker)
    with pytest.raises(LookupError, match="the source broke"):
        await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_cancelled_request_is_aborted() -> None:
    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    async with raw_server(never_answers) as srv, ClientSession() as session:
        tracker = UploadTracker()
        task = asyncio.ensure_future(
            session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(UploadAbortedError):
            await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_middleware_answering_alone_is_aborted(server: AppServer) -> None:
    async def answer_from_elsewhere(req: Any, handler: Any) -> Any:
        # never calls the handler: the request (and its body) is not sent
        return await req.session.get(server.url("/status/204"), middlewares=())

    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"),
            data=b"never sent",
            upload_tracker=tracker,
            middlewares=(answer_from_elsewhere,),
        ) as resp,
    ):
        assert resp.status == 204
    assert tracker.attempts == 0
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete


async def test_upload_tracker_middleware_retry_is_a_second_attempt(server: AppServer) -> None:
    async def twice(req: Any, handler: Any) -> Any:
        first = await handler(req)
        first.release()
        return await handler(req)

    tracker = UploadTracker()
    async with (
        ClientSession(middlewares=(twice,)) as session,
        session.post(server.url("/echo"), data=b"12345", upload_tracker=tracker) as resp,
    ):
        assert (await resp.json())["body"] == "12345"
    assert (tracker.attempts, tracker.bytes_written) == (2, 5)
    assert await tracker.upload_complete is None


async def test_upload_tracker_observes_one_request_only(server: AppServer) -> None:
    tracker = UploadTracker()
    async with ClientSession() as session:
        async with session.post(server.url("/echo"), data=b"a", upload_tracker=tracker):
            pass
        with pytest.raises(RuntimeError, match="UploadTracker"):
            await session.post(server.url("/echo"), data=b"b", upload_tracker=tracker)
        with pytest.raises(TypeError, match="upload_tracker"):
            await session.post(server.url("/echo"), data=b"b", upload_tracker=object())
    assert tracker.attempts == 1


async def test_upload_tracker_counts_the_retry_on_a_stale_pooled_connection() -> None:
    served = 0

    async def stale_after_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        served += 1
        first_connection = served == 1
        while True:
            await read_request(reader)
            if first_connection and served > 1:
                return  # the pooled connection: dropped without an answer
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if first_connection:
                served += 1

    async with raw_server(stale_after_first) as srv, ClientSession() as session:
        async with session.put(srv.url("/"), data=b"first") as resp:
            assert await resp.read() == b"ok"
        tracker = UploadTracker()
        async with session.put(srv.url("/"), data=b"again", upload_tracker=tracker) as resp:
            assert await resp.read() == b"ok"
    assert srv.connections == 2  # the retry went out on a new connection
    assert (tracker.attempts, tracker.bytes_written) == (2, 5)
    assert await tracker.upload_complete is None


async def test_upload_tracker_settles_when_a_trace_callback_fails(server: AppServer) -> None:
    async def refuse(session: Any, ctx: Any, params: Any) -> None:
        raise LookupError("no tracing today")

    config = cyhttp.TraceConfig()
    config.on_request_start.append(refuse)
    tracker = UploadTracker()
    async with ClientSession(trace_configs=[config]) as session:
        with pytest.raises(LookupError):
            await session.post(server.url("/echo"), data=b"x", upload_tracker=tracker)
    with pytest.raises(UploadAbortedError):
        await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_with_tracing(server: AppServer) -> None:
    chunks: list[bytes] = []

    async def on_chunk(session: Any, ctx: Any, params: Any) -> None:
        chunks.append(params.chunk)

    config = cyhttp.TraceConfig()
    config.on_request_chunk_sent.append(on_chunk)
    tracker = UploadTracker()
    body = b"t" * 200_000
    async with (
        ClientSession(trace_configs=[config]) as session,
        session.post(server.url("/echo"), data=body, upload_tracker=tracker) as resp,
    ):
        assert len((await resp.json())["body"]) == len(body)
    assert b"".join(chunks) == body
    assert tracker.bytes_written == len(body)
    assert await tracker.upload_complete is None


def test_upload_tracker_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        UploadTracker()


async def test_upload_tracker_with_expect_100_continue(server: AppServer) -> None:
    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"), data=b"after continue", expect100=True, upload_tracker=tracker
        ) as resp,
    ):
        assert (await resp.json())["body"] == "after continue"
    assert tracker.bytes_written == len(b"after continue")
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


# ------------------------------------------------------------ the smaller names


def test_etag_is_a_frozen_value() -> None:
    tag = cyhttp.ETag("abc", is_weak=True)
    assert (tag.value, tag.is_weak) == ("abc", True)
    assert tag == cyhttp.ETag("abc", True) and tag != cyhttp.ETag("abc")
    assert cyhttp.ETag("x").is_weak is False
    with pytest.raises(AttributeError):
        tag.value = "other"  # type: ignore[misc]


def test_chain_map_proxy() -> None:
    first, second = {"a": 1}, {"a": 2, "b": 3}
    chain = cyhttp.ChainMapProxy([first, second])
    assert chain["a"] == 1 and chain["b"] == 3
    assert chain.get("c", 9) == 9 and "b" in chain and "c" not in chain
    assert list(chain) == ["a", "b"] and len(chain) == 2
    first["c"] = 4  # a view, not a copy
    assert chain["c"] == 4
    with pytest.raises(KeyError):
        chain["missing"]
    assert not cyhttp.ChainMapProxy([{}, {}]) and cyhttp.ChainMapProxy([{}, {"x": 1}])
    with pytest.raises(TypeError):
        type("Sub", (cyhttp.ChainMapProxy,), {})


async def test_encode_basic_auth_header_reaches_the_server(server: AppServer) -> None:
    value = cyhttp.encode_basic_auth("zoë", "pä:ss")
    assert value == real_aiohttp.encode_basic_auth("zoë", "pä:ss")
    with pytest.raises(ValueError, match=":"):
        cyhttp.encode_basic_auth("a:b", "c")
    async with (
        ClientSession() as session,
        session.get(server.url("/echo"), headers={"Authorization": value}) as resp,
    ):
        sent = dict((await resp.json())["headers"])["Authorization"]
    decoded = real_aiohttp.BasicAuth.decode(sent, encoding="utf-8")
    assert (decoded.login, decoded.password) == ("zoë", "pä:ss")


class CountingZlib:
    """A zlib "backend" that counts the (de)compressors it makes, delegating to zlib."""

    MAX_WBITS = zlib.MAX_WBITS

    def __init__(self) -> None:
        self.made: list[str] = []

    def compressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.made.append("compress")
        return zlib.compressobj(*args, **kwargs)

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.made.append("decompress")
        return zlib.decompressobj(*args, **kwargs)


async def test_set_zlib_backend_is_used_for_bodies_both_ways(server: AppServer) -> None:
    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b"zipped " * 100), headers={"Content-Encoding": "gzip"}
        )

    app = web.Application()
    app.router.add_get("/gz", gzipped)
    backend = CountingZlib()
    cyhttp.set_zlib_backend(backend)
    try:
        async with app_server(app) as gz_server, ClientSession() as session:
            async with session.get(gz_server.url("/gz")) as resp:
                assert await resp.read() == b"zipped " * 100
            assert backend.made == ["decompress"]
            async with session.post(
                server.url("/echo"), data=b"deflated " * 100, compress="deflate"
            ) as resp:
                assert (await resp.json())["body"] == "deflated " * 100
            assert backend.made == ["decompress", "compress"]
    finally:
        cyhttp.set_zlib_backend(zlib)
    from cyhttp import compression_utils, streams

    assert compression_utils.zlib_backend() is zlib and streams.zlib is zlib
    with pytest.raises(TypeError, match="zlib-compatible"):
        cyhttp.set_zlib_backend(object())


async def test_a_payload_writes_into_an_abstract_stream_writer(server: AppServer) -> None:
    from cyhttp.abc import AbstractStreamWriter

    seen: list[bool] = []

    class Checked(cyhttp.Payload):
        """A payload written as aiohttp documents: into an AbstractStreamWriter."""

        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return "checked"

        async def write(self, writer: AbstractStreamWriter) -> None:
            seen.append(isinstance(writer, AbstractStreamWriter))
            await writer.write(b"check")
            await writer.drain()
            await writer.write_eof(b"ed")

    async with (
        ClientSession() as session,
        session.post(server.url("/echo"), data=Checked(None)) as resp,
    ):
        assert (await resp.json())["body"] == "checked"
    assert seen == [True]


def test_set_zlib_backend_reaches_every_module_that_uses_zlib() -> None:
    from pathlib import Path

    from cyhttp import compression_utils

    src = Path(compression_utils.__file__).parent
    users = {
        path.stem
        for path in src.glob("*.py")
        if path.stem != "compression_utils"
        and re.search(r"^import zlib$", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert users == set(compression_utils._USERS)


async def test_total_raw_bytes_counts_what_was_received(server: AppServer) -> None:
    body = b"zipped " * 1000
    squeezed = gzip.compress(body)

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(body=squeezed, headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/gz", gzipped)
    async with app_server(app) as gz_server, ClientSession() as session:
        async with session.get(gz_server.url("/gz")) as resp:
            assert await resp.read() == body
            assert resp.content.total_raw_bytes == len(squeezed)
            assert resp.content.total_compressed_bytes == len(squeezed)
        async with session.get(server.url("/bytes/1234")) as resp:
            await resp.read()
            assert resp.content.total_raw_bytes == 1234
            assert resp.content.total_compressed_bytes is None


def test_named_pipe_connector_refuses_clearly_off_windows() -> None:
    if sys.platform == "win32":  # pragma: no cover - the CI runs on Linux
        pytest.skip("the proactor loop can open named pipes here")
    with pytest.raises(RuntimeError, match="proactor loop under windows"):
        cyhttp.NamedPipeConnector(r"\\.\pipe\cyhttp")
    assert issubclass(cyhttp.NamedPipeConnector, cyhttp.BaseConnector)


async def test_invalid_url_description(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(cyhttp.InvalidURL) as info:
            await session.get("http:///no-host")
    assert info.value.description
    assert cyhttp.InvalidURL("x").description is None


async def test_websocket_error_is_what_a_protocol_violation_reports() -> None:
    async def bad_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        writer.write(b"\x83\x00")  # opcode 3 is reserved (RFC 6455 section 5.2)
        await writer.drain()
        await reader.read(100)

    async with raw_server(bad_frames) as srv, ClientSession() as session:
        ws = await session.ws_connect(srv.url("/"))
        msg = await asyncio.wait_for(ws.receive(), 5)
        await ws.close()
    assert msg.type is cyhttp.WSMsgType.ERROR
    assert isinstance(msg.data, cyhttp.WebSocketError)
    assert msg.data.code == cyhttp.WSCloseCode.PROTOCOL_ERROR


async def test_empty_payload_is_the_content_of_a_head_response(server: AppServer) -> None:
    async with ClientSession() as session, session.head(server.url("/echo")) as resp:
        assert resp.content is cyhttp.EMPTY_PAYLOAD
        assert await resp.read() == b""
    assert cyhttp.EMPTY_PAYLOAD.at_eof()


async def test_data_queue_fed_from_a_real_socket() -> None:
    """A protocol parsing lines off a socket into a FlowControlDataQueue: the queue pauses
    the socket while more than its limit waits, and the consumer gets every line."""
    loop = asyncio.get_running_loop()
    lines = [b"line %d" % i for i in range(200)]
    pauses: list[bool] = []

    class LineProtocol(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.queue: cyhttp.FlowControlDataQueue[bytes] = cyhttp.FlowControlDataQueue(
                self, 64, loop=loop
            )
            self.rest = b""

        def pause_reading(self) -> None:
            pauses.append(True)
            self.transport.pause_reading()

        def resume_reading(self) -> None:
            pauses.append(False)
            self.transport.resume_reading()

        def data_received(self, data: bytes) -> None:
            *complete, self.rest = (self.rest + data).split(b"\n")
            for line in complete:
                self.queue.feed_data(line, len(line))

        def connection_lost(self, exc: BaseException | None) -> None:
            self.queue.feed_eof()

    async def sender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"".join(line + b"\n" for line in lines))
        await writer.drain()

    async with raw_server(sender) as srv:
        _, proto = await loop.create_connection(LineProtocol, "127.0.0.1", srv.port)
        await asyncio.sleep(0.05)  # let everything arrive before anything is read
        got = [line async for line in proto.queue]
        proto.transport.close()
    assert got == lines
    assert pauses[:1] == [True] and pauses[-1] is False
    assert proto.queue.at_eof()
    with pytest.raises(cyhttp.EofStream):
        await proto.queue.read()


async def test_data_queue_exception_after_the_queued_items() -> None:
    queue: cyhttp.DataQueue[int] = cyhttp.DataQueue(asyncio.get_running_loop())
    reader = asyncio.ensure_future(queue.read())
    await asyncio.sleep(0)
    queue.feed_data(1)
    assert await reader == 1
    queue.feed_data(2)
    cause = OSError("socket gone")
    queue.set_exception(ValueError("broken"), cause)
    assert queue.is_eof() and not queue.at_eof() and len(queue) == 1
    assert await queue.read() == 2
    with pytest.raises(ValueError, match="broken") as info:
        await queue.read()
    assert info.value.__cause__ is cause


# ------------------------------------------------------------ MultipartReader


def multipart_app() -> web.Application:
    """``/mixed``: a multipart/mixed body made by aiohttp's own writer (text, JSON, a
    binary file whose bytes imitate a boundary, a nested multipart/related, a form);
    ``/raw``: a hand-written body with a preamble, an epilogue, base64, gzip and
    quoted-printable parts."""

    async def mixed(request: web.Request) -> web.Response:
        writer = real_aiohttp.MultipartWriter("mixed", boundary="outer-b")
        writer.append("hello text\nline two\n", {"Content-Type": "text/plain; charset=utf-8"})
        writer.append_json({"a": 1, "ü": "x"})
        part = writer.append(b"\x00\x01binary\r\n--outer" * 100, {"Content-Type": "x/bin"})
        part.set_content_disposition("attachment", filename="data.bin")
        inner = real_aiohttp.MultipartWriter("related", boundary="inner-b")
        inner.append("inner one")
        inner.append("inner two")
        writer.append(inner)
        writer.append_form([("k", "v w"), ("x", "ü")])
        return web.Response(body=writer)

    async def raw(request: web.Request) -> web.Response:
        body = (
            b"this preamble is ignored\r\n"
            b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"decoded from base64")
            + b"\r\n--b  \r\nContent-Encoding: gzip\r\nContent-Disposition: form-data; "
            b"name=\"zipped\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n\r\n"
            + gzip.compress(b"inflated text")
            + b"\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n"
            b"Content-Type: text/plain; charset=latin-1\r\n\r\ncaf=E9\r\n"
            b"--b\r\n\r\n\r\n--b--\r\nthis epilogue is ignored too"
        )
        return web.Response(body=body, content_type="multipart/mixed; boundary=b")

    app = web.Application()
    app.router.add_get("/mixed", mixed)
    app.router.add_get("/raw", raw)
    return app


async def _read_all_parts(lib: Any, resp: Any) -> list[Any]:
    """What a client program would make of each part, written once for both libraries."""
    reader = lib.MultipartReader.from_response(resp)
    out: list[Any] = []
    while True:
        part = await reader.next()
        if part is None:
            return out
        if isinstance(part, lib.MultipartReader):
            out.append(("nested", [await inner.text() async for inner in part]))
        elif part.headers.get("Content-Type", "").startswith("application/json"):
            out.append(("json", await part.json()))
        elif part.filename:
            out.append(("file", part.filename, await part.read()))
        elif "form" in part.headers.get("Content-Type", ""):
            out.append(("form", await part.form()))
        else:
            out.append(("text", await part.text()))


@pytest.fixture
async def mp_server() -> AsyncIterator[AppServer]:
    async with app_server(multipart_app()) as srv:
        yield srv


async def test_multipart_reader_reads_what_aiohttp_reads(mp_server: AppServer) -> None:
    results = []
    for lib in (real_aiohttp, cyhttp):
        async with lib.ClientSession() as session, session.get(mp_server.url("/mixed")) as resp:
            results.append(await _read_all_parts(lib, resp))
    assert results[1] == results[0]
    assert [kind for kind, *_ in results[1]] == ["text", "json", "file", "nested", "form"]
    assert results[1][2] == ("file", "data.bin", b"\x00\x01binary\r\n--outer" * 100)


async def test_multipart_reader_decodes_parts(mp_server: AppServer) -> None:
    async with ClientSession() as session, session.get(mp_server.url("/raw")) as resp:
        reader = cyhttp.MultipartReader(resp.headers, resp.content)
        first = await reader.next()
        assert isinstance(first, cyhttp.BodyPartReader)
        assert await first.read(decode=True) == b"decoded from base64"
        second = await reader.next()
        assert isinstance(second, cyhttp.BodyPartReader)
        assert (second.name, second.filename) == ("zipped", "résumé.txt")
        assert await second.text() == "inflated text"
        third = await reader.next()
        assert isinstance(third, cyhttp.BodyPartReader)
        assert third.get_charset() == "latin-1"
        assert await third.text() == "café"
        empty = await reader.next()
        assert isinstance(empty, cyhttp.BodyPartReader)
        assert await empty.read() == b"" and await empty.json() is None
        assert await reader.next() is None and reader.at_eof()


async def test_multipart_reader_lines_chunks_and_skipping(mp_server: AppServer) -> None:
    async with ClientSession() as session, session.get(mp_server.url("/mixed")) as resp:
        wrapper = cyhttp.MultipartReader.from_response(resp)
        text = await wrapper.next()
        assert isinstance(text, cyhttp.BodyPartReader)
        assert await text.readline() == b"hello text\n"
        assert await text.readline() == b"line two\n"
        assert await text.readline() == b"" and text.at_eof()
        await wrapper.next()  # the JSON part, left unread: skipped by the next call
        binary = await wrapper.next()
        assert isinstance(binary, cyhttp.BodyPartReader)
        chunks = [chunk async for chunk in binary]
        assert all(0 < len(c) <= binary.chunk_size for c in chunks)
        assert b"".join(chunks) == b"\x00\x01binary\r\n--outer" * 100
        await wrapper.release()  # the rest, to the void, and the response let go
        assert resp.closed


async def test_multipart_reader_refuses_malformed_bodies() -> None:
    async def truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"--b\r\nContent-Type: text/plain\r\n\r\nno closing boundary"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()

    async with (
        raw_server(truncated) as srv,
        ClientSession() as session,
        session.get(srv.url("/")) as resp,
    ):
        reader = cyhttp.MultipartReader(resp.headers, resp.content)
        part = await reader.next()
        assert part is not None
        with pytest.raises(ValueError, match="closing boundary"):
            await part.read()
    with pytest.raises(ValueError, match="boundary"):
        cyhttp.MultipartReader({"Content-Type": "multipart/mixed"}, cyhttp.EMPTY_PAYLOAD)
    with pytest.raises(ValueError, match="multipart"):
        cyhttp.MultipartReader({"Content-Type": "text/plain"}, cyhttp.EMPTY_PAYLOAD)


async def test_multipart_part_header_limits() -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(10))
    body = b"--b\r\n" + headers + b"\r\nbody\r\n--b--\r\n"

    async def many_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()

    async with raw_server(many_headers) as srv, ClientSession() as session:
        async with session.get(srv.url("/")) as resp:
            reader = cyhttp.MultipartReader(resp.headers, resp.content, max_headers=5)
            with pytest.raises(ValueError, match="more than 5 headers"):
                await reader.next()
        async with session.get(srv.url("/")) as resp:
            reader = cyhttp.MultipartReader(resp.headers, resp.content)
            part = await reader.next()
            assert part is not None and len(part.headers) == 10
            assert await part.read() == b"body"


def test_multipart_readers_are_reachable_from_the_multipart_module() -> None:
    from cyhttp import multipart

    assert multipart.MultipartReader is cyhttp.MultipartReader
    assert multipart.BodyPartReader is cyhttp.BodyPartReader
