"""Security properties, each checked against real servers on 127.0.0.1 (see SECURITY.md).

* Request smuggling from the client side: CR, LF or NUL (and whitespace in the request
  target) in the method, URL, header names and values, cookie values and proxy headers is
  refused *before a connection is made*: ValueError (InvalidURL is one); for an illegal
  cookie name the ValueError is also the http.cookies.CookieError aiohttp raises.
* Content-Length smuggling: a declared Content-Length that differs from a body of known
  size is ValueError before sending; a stream is held to it (never a byte more; short or
  long, ClientPayloadError), so a body cannot carry a second request.
* Credentials stay with their origin: Authorization, Cookie and Proxy-Authorization are
  dropped when a redirect leaves the origin; redirects to non-http(s) schemes are refused;
  proxy credentials go to the proxy only, never through a CONNECT tunnel to the target.
* Cookies marked Secure are never sent over plain http.
* TLS: verification is on by default; a certificate pin (fingerprint) mismatch fails and
  the connection is never pooled.
* WebSocket masking keys come from the OS CSPRNG (``os.urandom``), in both twins.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

import cyhttp
from cyhttp import BasicAuth, ClientSession, CookieJar, Fingerprint, TCPConnector
from cyhttp.helpers import default_ssl_context

from .conftest import Impl
from .proxy_servers import recording_proxy
from .servers import AppServer, app_server, echo_app, raw_server, read_request
from .tls_servers import Pki, hello_app, tls_app_server

# ----- injection refused before sending -----


def _injection_cases() -> list[tuple[str, dict[str, Any]]]:
    bad_morsel: SimpleCookie = SimpleCookie()
    bad_morsel["a"] = "v"
    bad_morsel["a"].set("a", "v", "v\r\nX-Injected: 1")
    return [
        ("method-crlf", {"method": "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET"}),
        ("method-space", {"method": "GE T"}),
        ("method-nul", {"method": "GET\x00"}),
        ("url-space-encoded", {"url": "/a HTTP/1.0\r\nX-Injected: 1", "encoded": True}),
        ("url-nul-encoded", {"url": "/a\x00b", "encoded": True}),
        ("header-name-crlf", {"headers": {"X-A\r\nX-Injected": "1"}}),
        ("header-name-colon", {"headers": {"X-A: b\r\nX-Injected": "1"}}),
        ("header-name-space", {"headers": {"X A": "1"}}),
        ("header-name-nul", {"headers": {"X-A\x00": "1"}}),
        ("header-name-empty", {"headers": {"": "1"}}),
        ("header-value-crlf", {"headers": {"X-A": "1\r\nX-Injected: 1"}}),
        ("header-value-lf", {"headers": {"X-A": "1\nX-Injected: 1"}}),
        ("header-value-cr", {"headers": {"X-A": "1\rX-Injected: 1"}}),
        ("header-value-nul", {"headers": {"X-A": "1\x00"}}),
        ("header-value-smuggle", {"headers": {"X-A": "1\r\n\r\nGET /smuggled HTTP/1.1"}}),
        ("host-header-crlf", {"headers": {"Host": "example.com\r\nX-Injected: 1"}}),
        ("cookie-value-crlf", {"cookies": {"a": "v\r\nX-Injected: 1"}}),
        ("cookie-value-nul", {"cookies": {"a": "v\x00"}}),
        ("cookie-name-crlf", {"cookies": {"a\r\nX-Injected: 1": "v"}}),
        ("cookie-coded-value-crlf", {"cookies": bad_morsel}),
    ]


INJECTIONS = _injection_cases()


@pytest.mark.parametrize("case", [c for _, c in INJECTIONS], ids=[i for i, _ in INJECTIONS])
async def test_injection_is_refused_before_sending(case: dict[str, Any]) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(65536))

    async with raw_server(handler) as srv, ClientSession() as session:
        kw = dict(case)
        method = kw.pop("method", "GET")
        path = kw.pop("url", "/")
        if kw.pop("encoded", False):
            url = URL(f"http://127.0.0.1:{srv.port}{path}", encoded=True)
        else:
            url = srv.url(path)
        with pytest.raises(ValueError) as refused:
            await session.request(method, url, **kw)
        cookies = case.get("cookies")
        if isinstance(cookies, dict) and any("\r" in name for name in cookies):
            # an illegal cookie name: also the CookieError aiohttp raises for it
            assert isinstance(refused.value, CookieError)
    assert srv.connections == 0 and not received


async def test_session_level_injection_is_refused() -> None:
    """Session defaults are checked too: default headers when a request is made, cookies
    as soon as they are given to the jar."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with raw_server(handler) as srv:
        async with ClientSession(headers={"X-A": "1\r\nX-Injected: 1"}) as session:
            with pytest.raises(ValueError):
                await session.get(srv.url())
        with pytest.raises(ValueError):
            ClientSession(cookies={"a": "v\r\nX-Injected: 1"})
    assert srv.connections == 0


async def test_proxy_header_injection_is_refused() -> None:
    async with recording_proxy() as proxy, ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get(
                "http://127.0.0.1:9/", proxy=str(proxy.url), proxy_headers={"X-A": "1\r\nX: 2"}
            )
    assert proxy.connections == 0


async def test_crlf_in_path_and_query_is_neutralised() -> None:
    """A plain (not pre-encoded) URL is cleaned (yarl drops CR/LF/TAB, as WHATWG URL
    parsing does) and quoted; params are percent-encoded: the bytes reach the server as
    data inside the request line, never as a header line."""
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async with raw_server(handler) as srv, ClientSession() as session:
        url = str(srv.url("/a\r\nX-Injected: 0")) + "?q=a\r\nX-Injected: 1"
        async with session.get(url, params={"p": "b\r\nX-Injected: 2"}) as resp:
            assert resp.status == 204
    lines = received[0].split(b"\r\n")
    assert not any(line.lower().startswith(b"x-injected") for line in lines)
    assert lines[0].count(b" ") == 2  # METHOD SP target SP version
    assert b"%0D%0A" in lines[0]


# ----- Content-Length smuggling -----

#: a body that hides a second request after its first five bytes
SMUGGLING_BODY = b"hello" + b"GET /smuggled HTTP/1.1\r\nHost: victim\r\n\r\n"
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def recording(received: list[bytes]) -> Any:
    """A raw server that records every byte of a connection; once the declared body is
    in and the client has been quiet for 0.2 s (anything smuggled after the body would
    have arrived by then) it answers 200 and closes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = b""
        loop = asyncio.get_running_loop()
        end = loop.time() + 3
        try:
            while loop.time() < end:
                try:
                    chunk: bytes | None = await asyncio.wait_for(reader.read(65536), 0.2)
                except TimeoutError:
                    chunk = None
                if chunk == b"":
                    break  # the client closed (a failed upload)
                if chunk:
                    data += chunk
                    continue
                head, sep, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if sep and len(body) >= length:
                    writer.write(_OK)
                    await writer.drain()
                    break
        finally:
            received.append(data)

    return handler


def _mismatched_bodies() -> list[tuple[str, dict[str, Any]]]:
    five = {"Content-Length": "5"}
    return [
        ("bytes", {"data": SMUGGLING_BODY, "headers": five}),
        ("text", {"data": SMUGGLING_BODY.decode(), "headers": five}),
        ("bytearray", {"data": bytearray(SMUGGLING_BODY), "headers": five}),
        ("bytesio", {"data": io.BytesIO(SMUGGLING_BODY), "headers": five}),
        ("json", {"json": {"k": "hello world"}, "headers": five}),
        ("form", {"data": {"a": "hello world"}, "headers": five}),
        ("multipart", {"data": {"f": io.BytesIO(b"xyz")}, "headers": five}),
        ("payload", {"data": cyhttp.BytesPayload(SMUGGLING_BODY), "headers": five}),
        ("longer-than-body", {"data": b"abc", "headers": {"Content-Length": "100"}}),
        ("no-body", {"headers": {"Content-Length": "5"}}),
        ("no-body-post", {"method": "POST", "headers": {"Content-Length": "2"}}),
    ]


MISMATCHED = _mismatched_bodies()


@pytest.mark.parametrize("case", [c for _, c in MISMATCHED], ids=[i for i, _ in MISMATCHED])
async def test_content_length_mismatch_is_refused_before_sending(case: dict[str, Any]) -> None:
    """A Content-Length that differs from a body of known size would make the server
    read another request than the one meant (the tail of a longer body as a request of
    its own): ValueError, before any connection is made."""
    received: list[bytes] = []
    async with raw_server(recording(received)) as srv, ClientSession() as session:
        kw = dict(case)
        method = kw.pop("method", "POST" if ("data" in kw or "json" in kw) else "GET")
        with pytest.raises(ValueError, match="Content-Length"):
            await session.request(method, srv.url("/"), **kw)
    assert srv.connections == 0 and not received


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "5, 5", "0x5", "\u0665", "", "5 5"], ids=repr)
async def test_invalid_content_length_is_refused(value: str) -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="Content-Length"):
            await session.post(
                "http://127.0.0.1:9/", data=b"12345", headers={"Content-Length": value}
            )


async def test_two_content_lengths_are_refused() -> None:
    headers = CIMultiDict([("Content-Length", "5"), ("Content-Length", "5")])
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="more than one Content-Length"):
            await session.post("http://127.0.0.1:9/", data=b"hello", headers=headers)


async def _stream(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _send_stream(*pieces: bytes, length: int) -> tuple[BaseException | int, bytes]:
    """Post the pieces with a declared Content-Length: (status or exception, the raw
    bytes the server received)."""
    received: list[bytes] = []
    async with raw_server(recording(received)) as srv, ClientSession() as session:
        try:
            async with session.post(
                srv.url("/"), data=_stream(*pieces), headers={"Content-Length": str(length)}
            ) as resp:
                outcome: BaseException | int = resp.status
                await resp.read()
        except Exception as exc:
            outcome = exc
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
    return outcome, received[0]


async def test_stream_longer_than_its_content_length_stops_there() -> None:
    """The writer never writes past the declared length: the piece that would go past
    it is not sent, and the request fails (the hidden request never reaches the server)."""
    outcome, raw = await _send_stream(b"hello", SMUGGLING_BODY[5:], length=5)
    assert isinstance(outcome, cyhttp.ClientPayloadError), outcome
    assert "longer than its Content-Length of 5" in str(outcome)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-length: 5" in head.lower() and b"transfer-encoding" not in head.lower()
    assert body == b"hello"
    assert b"smuggled" not in raw
    # one piece straddling the limit: none of it goes
    outcome, raw = await _send_stream(SMUGGLING_BODY, length=5)
    assert isinstance(outcome, cyhttp.ClientPayloadError)
    assert raw.partition(b"\r\n\r\n")[2] == b""


async def test_stream_shorter_than_its_content_length_fails() -> None:
    outcome, raw = await _send_stream(b"abc", length=10)
    assert isinstance(outcome, cyhttp.ClientPayloadError), outcome
    assert "ended after 3 of the 10 bytes" in str(outcome)
    assert raw.partition(b"\r\n\r\n")[2] == b"abc"


async def test_stream_of_exactly_its_content_length_is_sent() -> None:
    outcome, raw = await _send_stream(b"01234", b"56789", length=10)
    assert outcome == 200
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-length: 10" in head.lower()
    assert body == b"0123456789"


async def test_matching_content_length_is_sent_as_given() -> None:
    received: list[bytes] = []
    async with (
        raw_server(recording(received)) as srv,
        ClientSession() as session,
        session.post(srv.url("/"), data=b"hello", headers={"Content-Length": "5"}) as resp,
    ):
        assert resp.status == 200
    assert received[0].endswith(b"\r\n\r\nhello")
    assert received[0].lower().count(b"content-length") == 1


# ----- credentials and redirects -----


def _headers_of(echo: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in echo["headers"]}


async def _redirect_chain(a: AppServer, b_url: URL, session: ClientSession, **kw: Any) -> Any:
    url = a.url("/redirect/302").with_query(to=str(b_url))
    async with session.get(url, **kw) as resp:
        assert resp.status == 200
        assert len(resp.history) == 1
        return await resp.json()


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_cross_origin_redirect_drops_every_credential(code: int) -> None:
    async with (
        app_server(echo_app()) as a,
        app_server(echo_app()) as b,
        ClientSession() as session,
    ):
        url = a.url(f"/redirect/{code}").with_query(to=str(b.url("/echo")))
        async with session.get(
            url,
            auth=BasicAuth("user", "secret"),
            headers={"Proxy-Authorization": "Basic cHJveHk6c2VjcmV0", "X-Other": "kept"},
            cookies={"session": "s3cr3t"},
        ) as resp:
            seen = _headers_of(await resp.json())
        assert "authorization" not in seen
        assert "cookie" not in seen
        assert "proxy-authorization" not in seen
        assert seen["x-other"] == "kept"  # ordinary headers do follow


async def test_cross_origin_redirect_drops_explicit_authorization_and_cookie_headers() -> None:
    async with (
        app_server(echo_app()) as a,
        app_server(echo_app()) as b,
        ClientSession() as session,
    ):
        seen = _headers_of(
            await _redirect_chain(
                a,
                b.url("/echo"),
                session,
                headers={"Authorization": "Bearer t0ken", "Cookie": "session=s3cr3t"},
            )
        )
        assert "authorization" not in seen and "cookie" not in seen


async def test_url_credentials_do_not_follow_a_cross_origin_redirect() -> None:
    async with (
        app_server(echo_app()) as a,
        app_server(echo_app()) as b,
        ClientSession() as session,
    ):
        url = a.url("/redirect/302").with_query(to=str(b.url("/echo"))).with_user("user")
        async with session.get(url.with_password("secret")) as resp:
            seen = _headers_of(await resp.json())
        assert "authorization" not in seen


async def test_same_origin_redirect_keeps_credentials() -> None:
    """The control for the tests above: without a change of origin, nothing is dropped."""
    async with app_server(echo_app()) as a, ClientSession() as session:
        seen = _headers_of(
            await _redirect_chain(
                a,
                a.url("/echo"),
                session,
                auth=BasicAuth("user", "secret"),
                cookies={"session": "s3cr3t"},
                headers={"Proxy-Authorization": "Basic eA=="},
            )
        )
        assert seen["authorization"] == BasicAuth("user", "secret").encode()
        assert "session=s3cr3t" in seen["cookie"]
        assert seen["proxy-authorization"] == "Basic eA=="


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "ws://127.0.0.1/x",
        "unix:/var/run/docker.sock",
    ],
)
async def test_redirect_to_a_non_http_scheme_is_refused(location: str) -> None:
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    app = web.Application()
    app.router.add_get("/", redirect)
    async with app_server(app) as srv, ClientSession() as session:
        with pytest.raises(cyhttp.InvalidURL):
            await session.get(srv.url("/"))
        assert srv.requests == 1


async def test_proxy_credentials_never_reach_the_target_through_a_tunnel() -> None:
    """https through a proxy: Proxy-Authorization is on the CONNECT request only."""
    pki = Pki()
    async with (
        tls_app_server(hello_app(), pki.server_context()) as target,
        recording_proxy() as proxy,
    ):
        connector = TCPConnector(ssl=pki.client_context())
        async with ClientSession(connector=connector) as session:
            for proxy_kw in (
                {"proxy": str(proxy.url), "proxy_auth": BasicAuth("puser", "ppass")},
                {"proxy": str(proxy.url.with_user("puser").with_password("ppass"))},
            ):
                async with session.get(target.url("/headers"), **proxy_kw) as resp:
                    seen = {name.lower(): value for name, value in await resp.json()}
                assert "proxy-authorization" not in seen
                assert "authorization" not in seen
                connect_head = proxy.heads[-1]
                assert connect_head.startswith(b"CONNECT ")
                assert b"Proxy-Authorization: Basic " in connect_head
                connector._close_all()  # a new tunnel for the second form


async def test_proxy_credentials_are_not_sent_as_target_authorization() -> None:
    """Plain http through a proxy: the proxy gets Proxy-Authorization; the request carries
    no Authorization made from the proxy's credentials."""
    async with (
        app_server(echo_app()) as target,
        recording_proxy() as proxy,
        ClientSession() as session,
    ):
        proxy_url = proxy.url.with_user("puser").with_password("ppass")
        async with session.get(target.url("/echo"), proxy=str(proxy_url)) as resp:
            seen = _headers_of(await resp.json())
        assert "authorization" not in seen
        head = proxy.heads[-1]
        assert b"Proxy-Authorization: Basic " in head
        assert b"\r\nAuthorization:" not in head


# ----- cookies -----


async def test_secure_cookies_are_never_sent_over_plain_http() -> None:
    pki = Pki()
    jar = CookieJar(unsafe=True)
    secure: SimpleCookie = SimpleCookie()
    secure["sec"] = "only-tls"
    secure["sec"]["secure"] = True
    secure["plain"] = "anywhere"
    jar.update_cookies(secure, URL("https://127.0.0.1/"))
    async with (
        app_server(echo_app()) as http_srv,
        tls_app_server(hello_app(), pki.server_context()) as https_srv,
    ):
        connector = TCPConnector(ssl=pki.client_context())
        async with ClientSession(connector=connector, cookie_jar=jar) as session:
            async with session.get(http_srv.url("/echo")) as resp:
                cookie = _headers_of(await resp.json()).get("cookie", "")
            assert "plain=anywhere" in cookie
            assert "sec=" not in cookie
            async with session.get(https_srv.url("/headers")) as resp:
                seen = {name.lower(): value for name, value in await resp.json()}
            assert "sec=only-tls" in seen["cookie"]


async def test_secure_cookie_from_plain_http_is_not_stored() -> None:
    async def setter(request: web.Request) -> web.Response:
        return web.Response(headers={"Set-Cookie": "sec=forged; Secure; Path=/"})

    app = web.Application()
    app.router.add_get("/", setter)
    jar = CookieJar(unsafe=True)
    async with app_server(app) as srv, ClientSession(cookie_jar=jar) as session:
        resp = await session.get(srv.url("/"))
        await resp.read()
        resp.release()
    assert len(jar) == 0


# ----- TLS -----


async def test_tls_verification_is_on_by_default() -> None:
    pki = Pki()  # a CA nobody trusts
    ctx = default_ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert TCPConnector().verify_ssl
    async with tls_app_server(hello_app(), pki.server_context()) as srv:
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ClientConnectorCertificateError):
                await session.get(srv.url("/"))
        with pytest.raises(cyhttp.ClientConnectorCertificateError):
            await cyhttp.request("GET", str(srv.url("/")))


async def test_fingerprint_mismatch_is_never_pooled() -> None:
    pki = Pki()
    good = Fingerprint(pki.fingerprint())
    bad = Fingerprint(bytes(32))
    async with tls_app_server(hello_app(), pki.server_context()) as srv:
        connector = TCPConnector()
        async with ClientSession(connector=connector) as session:
            for _ in range(2):
                with pytest.raises(cyhttp.ServerFingerprintMismatch):
                    await session.get(srv.url("/"), ssl=bad)
                assert not connector._conns and not connector._acquired
            async with session.get(srv.url("/"), ssl=good) as resp:
                assert await resp.text() == "hello https"
            assert sum(len(c) for c in connector._conns.values()) == 1
            # the verified connection is pooled under its own pin: a request with another
            # pin may not borrow it
            with pytest.raises(cyhttp.ServerFingerprintMismatch):
                await session.get(srv.url("/"), ssl=bad)


# ----- websocket masking keys -----

_MASK_PROBE = r"""
import json, os, sys
calls = []
def fake_urandom(n):
    calls.append(n)
    return bytes((i * 7 + 3) % 256 for i in range(n))
os.urandom = fake_urandom  # before the module is imported: the compiled twin binds it then
if sys.argv[1] == "c":
    from cyhttp import _websocket as ws
else:
    from cyhttp import _websocket_py as ws
frames = [ws.build_frame(2, b"payload") for _ in range(3)]
keys = [f[2:6].hex() for f in frames]
print(json.dumps({"calls": calls, "keys": keys}))
"""


def test_websocket_mask_keys_come_from_os_urandom(impl: Impl) -> None:
    """A fresh interpreter replaces os.urandom before importing the twin; the masking keys
    of the frames built must be exactly the bytes it handed out."""
    out = subprocess.run(
        [sys.executable, "-c", _MASK_PROBE, impl.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "CYHTTP_NO_EXTENSIONS": ""},
    )
    result = json.loads(out.stdout)
    pool = bytes((i * 7 + 3) % 256 for i in range(max(result["calls"])))
    assert result["calls"], "os.urandom was never called"
    assert result["keys"] == [pool[i * 4 : i * 4 + 4].hex() for i in range(3)]


async def test_websocket_frames_sent_are_masked_with_fresh_keys() -> None:
    """Through the real stack: every client frame is masked, keys differ frame to frame."""
    keys: list[bytes] = []
    done = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import base64
        import hashlib

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
        await writer.drain()
        for _ in range(200):
            _, b1 = await reader.readexactly(2)
            assert b1 & 0x80, "an unmasked client frame"
            keys.append(await reader.readexactly(4))
            await reader.readexactly(b1 & 0x7F)
        done.set()

    async with raw_server(handler) as srv, ClientSession() as session:
        ws = await session.ws_connect(srv.url())
        for i in range(200):
            await ws.send_bytes(b"%d" % i)
        await asyncio.wait_for(done.wait(), 10)
        await ws.close()
    assert len(set(keys)) > 190  # 200 random 32-bit keys: a collision is rare
    assert bytes(4) not in keys
