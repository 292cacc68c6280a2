"""Requests through HTTP proxies on loopback: ``proxy.py`` (a real, independent proxy
started as a subprocess, as an ``http://`` and as an ``https://`` proxy) and small
recording proxies (plain and TLS) that show exactly what a proxy receives. Plain http goes
in absolute form, https through a CONNECT tunnel (TLS inside TLS through an ``https://``
proxy); proxy auth, proxy headers, failures, trust_env (variables, no_proxy, .netrc) and
pool separation."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from cyhttp import (
    BasicAuth,
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ClientSession,
    ClientTimeout,
    Fingerprint,
    ServerFingerprintMismatch,
    ServerTimeoutError,
    TCPConnector,
)
from cyhttp.client_proxy import (
    choose_proxy,
    explicit_proxy,
    no_proxy_matches,
    proxy_from_env,
)
from cyhttp.helpers import netrc_auth

from .https_proxy_servers import (
    HttpsProxyProcess,
    RecordingTlsProxy,
    https_proxy_py,
    recording_tls_proxy,
)
from .proxy_servers import ProxyProcess, free_port, proxy_py, recording_proxy
from .servers import AppServer, app_server, echo_app, raw_server
from .tls_servers import Pki, TlsServer, hello_app, tls_app_server

PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "ws_proxy",
    "wss_proxy",
    "all_proxy",
    "no_proxy",
    "REQUEST_METHOD",
    "NETRC",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture(scope="module")
def open_proxy() -> Iterator[ProxyProcess]:
    with proxy_py() as proc:
        yield proc


@pytest.fixture(scope="module")
def auth_proxy() -> Iterator[ProxyProcess]:
    with proxy_py(basic_auth="puser:ppass") as proc:
        yield proc


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture
async def target() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


@pytest.fixture
async def tls_target(pki: Pki) -> TlsServer:
    async with tls_app_server(echo_app(), pki.server_context()) as srv:
        yield srv


def headers_of(payload: dict) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in payload["headers"])


def head_lines(head: bytes) -> list[str]:
    return head.decode("latin-1").split("\r\n")


# ----- proxy.py: plain http and CONNECT -----


async def test_plain_http_through_proxy(open_proxy: ProxyProcess, target: AppServer) -> None:
    async with ClientSession() as session:
        for _ in range(2):
            async with session.get(
                target.url("/echo?x=1"), proxy=str(open_proxy.url), auth=BasicAuth("t", "s")
            ) as resp:
                assert resp.status == 200
                payload = await resp.json()
    assert payload["path"] == "/echo?x=1"
    assert headers_of(payload)["Authorization"] == BasicAuth("t", "s").encode()
    assert target.requests == 2


async def test_https_through_connect(
    open_proxy: ProxyProcess, tls_target: TlsServer, pki: Pki
) -> None:
    conn = TCPConnector(ssl=pki.client_context())
    async with ClientSession(connector=conn) as session:
        for i in range(3):
            async with session.post(
                tls_target.url("/echo"), data=b"x" * (i * 70000), proxy=open_proxy.url
            ) as resp:
                assert resp.status == 200
                payload = await resp.json()
                assert len(payload["body"]) == i * 70000
    assert tls_target.connections == 1  # the tunnel was kept alive and reused
    assert "Proxy-Authorization" not in headers_of(payload)


async def test_tunnel_checks_target_certificate(open_proxy: ProxyProcess, pki: Pki) -> None:
    async with (
        tls_app_server(echo_app(), pki.server_context(pki.wrong_host)) as srv,
        ClientSession() as session,
    ):
        with pytest.raises(ClientConnectorCertificateError) as info:
            await session.get(srv.url("/echo"), proxy=open_proxy.url, ssl=pki.client_context())
        # the error names the target, not the proxy
        assert (info.value.host, info.value.port) == ("127.0.0.1", srv.port)
        with pytest.raises(ServerFingerprintMismatch):
            await session.get(srv.url("/echo"), proxy=open_proxy.url, fingerprint=pki.fingerprint())
        async with session.get(
            srv.url("/echo"), proxy=open_proxy.url, fingerprint=pki.fingerprint(pki.wrong_host)
        ) as resp:
            assert resp.status == 200


# ----- proxy.py with credentials -----


async def test_proxy_auth_required_https(
    auth_proxy: ProxyProcess, tls_target: TlsServer, pki: Pki
) -> None:
    async with ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(tls_target.url("/echo"), proxy=auth_proxy.url)
        err = info.value
        assert err.status == 407
        assert err.request_info is not None
        assert err.request_info.method == "CONNECT"
        async with session.get(
            tls_target.url("/echo"),
            proxy=auth_proxy.url,
            proxy_auth=BasicAuth("puser", "ppass"),
        ) as resp:
            assert resp.status == 200
            payload = await resp.json()
    assert "Proxy-Authorization" not in headers_of(payload)
    assert tls_target.connections == 1


async def test_proxy_auth_required_plain_http(auth_proxy: ProxyProcess, target: AppServer) -> None:
    async with ClientSession() as session:
        async with session.get(target.url("/echo"), proxy=auth_proxy.url) as resp:
            assert resp.status == 407  # the proxy's own answer, an ordinary response
        assert target.requests == 0
        good = BasicAuth("puser", "ppass")
        async with session.get(target.url("/echo"), proxy=auth_proxy.url, proxy_auth=good) as r:
            assert r.status == 200
            payload = await r.json()
        assert payload["path"] == "/echo"
        assert "Proxy-Authorization" not in headers_of(payload)  # the proxy consumed it
        bad = BasicAuth("puser", "wrong")
        async with session.get(target.url("/echo"), proxy=auth_proxy.url, proxy_auth=bad) as r:
            assert r.status == 407
    assert target.requests == 1


async def test_proxy_credentials_in_url(
    auth_proxy: ProxyProcess, tls_target: TlsServer, pki: Pki
) -> None:
    proxy = auth_proxy.url.with_user("puser").with_password("ppass")
    async with (
        ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session,
        session.get(tls_target.url("/echo"), proxy=str(proxy)) as resp,
    ):
        assert resp.status == 200


async def test_proxy_refusing_connect(open_proxy: ProxyProcess) -> None:
    closed = free_port()
    async with ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(f"https://127.0.0.1:{closed}/", proxy=open_proxy.url)
    assert info.value.status >= 500


async def test_proxy_unreachable() -> None:
    port = free_port()
    async with ClientSession() as session:
        for url in ("http://127.0.0.1:1/", "https://127.0.0.1:1/"):
            with pytest.raises(ClientProxyConnectionError) as info:
                await session.get(url, proxy=f"http://127.0.0.1:{port}")
            assert (info.value.host, info.value.port) == ("127.0.0.1", port)
            assert isinstance(info.value.os_error, ConnectionRefusedError)


async def test_kernel_connect_timeout_to_proxy_is_a_proxy_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ETIMEDOUT from the kernel is a failed connection to the proxy (an OSError with its
    errno), not our own sock_connect limit: it must not pass for a ServerTimeoutError."""

    async def timed_out(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError(errno.ETIMEDOUT, "Connection timed out")

    port = free_port()
    async with ClientSession() as session:
        # the one gateway to the loop's or aiofastnet's create_connection (cyhttp.fastnet)
        monkeypatch.setattr("cyhttp.fastnet.create_connection", timed_out)
        for limit in (None, 30.0):
            with pytest.raises(ClientProxyConnectionError) as info:
                await session.get(
                    "http://127.0.0.1:9/",
                    proxy=f"http://127.0.0.1:{port}",
                    timeout=ClientTimeout(sock_connect=limit),
                )
            assert info.value.os_error.errno == errno.ETIMEDOUT


# ----- what a proxy sees (recording proxy) -----


async def test_connect_carries_only_proxy_headers(tls_target: TlsServer, pki: Pki) -> None:
    async with (
        recording_proxy() as proxy,
        ClientSession() as session,
        session.get(
            tls_target.url("/echo"),
            proxy=proxy.url,
            proxy_auth=BasicAuth("p", "q"),
            proxy_headers={"X-Proxy-Only": "1"},
            auth=BasicAuth("target", "secret"),
            headers={"X-Target-Only": "2"},
            ssl=pki.client_context(),
        ) as resp,
    ):
        assert resp.status == 200
        seen = headers_of(await resp.json())
    (connect,) = proxy.heads
    lines = head_lines(connect)
    assert lines[0] == f"CONNECT 127.0.0.1:{tls_target.port} HTTP/1.1"
    sent = CIMultiDict(line.split(": ", 1) for line in lines[1:] if line)
    assert sent["Host"] == f"127.0.0.1:{tls_target.port}"
    assert sent["Proxy-Authorization"] == BasicAuth("p", "q").encode()
    assert sent["X-Proxy-Only"] == "1"
    assert "Authorization" not in sent
    assert "X-Target-Only" not in sent
    assert "Cookie" not in sent
    # and the target sees only its own
    assert seen["Authorization"] == BasicAuth("target", "secret").encode()
    assert seen["X-Target-Only"] == "2"
    assert "Proxy-Authorization" not in seen
    assert "X-Proxy-Only" not in seen


async def test_absolute_form_with_proxy_headers(target: AppServer) -> None:
    async with (
        recording_proxy() as proxy,
        ClientSession() as session,
        session.get(
            target.url("/echo?a=b"),
            proxy=proxy.url,
            proxy_auth=BasicAuth("p", "q"),
            proxy_headers={"X-Proxy-Only": "1"},
        ) as resp,
    ):
        assert resp.status == 200
    (head,) = proxy.heads
    lines = head_lines(head)
    assert lines[0] == f"GET http://127.0.0.1:{target.port}/echo?a=b HTTP/1.1"
    sent = CIMultiDict(line.split(": ", 1) for line in lines[1:] if line)
    assert sent["Host"] == f"127.0.0.1:{target.port}"
    assert sent["Proxy-Authorization"] == BasicAuth("p", "q").encode()
    assert sent["X-Proxy-Only"] == "1"


async def test_tunnel_never_reused_for_another_target(pki: Pki) -> None:
    async with (
        tls_app_server(echo_app(), pki.server_context()) as one,
        tls_app_server(echo_app(), pki.server_context()) as two,
        recording_proxy() as proxy,
        ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session,
    ):
        for srv in (one, two, one, two):
            async with session.get(srv.url("/echo"), proxy=proxy.url) as resp:
                assert resp.status == 200
                assert resp.url.port == srv.port
                await resp.read()
        # a different proxy identity (credentials) gets its own tunnel too
        async with session.get(
            one.url("/echo"), proxy=proxy.url, proxy_auth=BasicAuth("other", "x")
        ) as resp:
            assert resp.status == 200
    targets = [head_lines(h)[0] for h in proxy.heads]
    assert targets == [
        f"CONNECT 127.0.0.1:{one.port} HTTP/1.1",
        f"CONNECT 127.0.0.1:{two.port} HTTP/1.1",
        f"CONNECT 127.0.0.1:{one.port} HTTP/1.1",
    ]
    assert (one.connections, two.connections) == (2, 1)


@pytest.mark.parametrize(
    "answer, status",
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403),
        (b"HTTP/1.1 502 Bad Gateway\r\nX-Why: down\r\nContent-Length: 0\r\n\r\n", 502),
    ],
)
async def test_connect_error_status(answer: bytes, status: int) -> None:
    async with recording_proxy() as proxy, ClientSession() as session:
        proxy.answer_connect = answer
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get("https://127.0.0.1:9/", proxy=proxy.url, proxy_auth=BasicAuth("a"))
    err = info.value
    assert err.status == status
    assert err.request_info is not None
    assert err.request_info.headers["Proxy-Authorization"] == "<hidden>"
    assert err.request_info.url == proxy.url
    if status == 502:
        assert err.headers is not None and err.headers["X-Why"] == "down"


async def test_proxy_hangs_up_during_connect() -> None:
    async with recording_proxy() as proxy, ClientSession() as session:
        proxy.answer_connect = b""  # no answer at all: the connection just closes
        with pytest.raises(ClientProxyConnectionError):
            await session.get("https://127.0.0.1:9/", proxy=proxy.url)


# ----- trust_env -----


async def test_trust_env_http_proxy(monkeypatch: pytest.MonkeyPatch, target: AppServer) -> None:
    async with recording_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", str(proxy.url))
        async with ClientSession() as session, session.get(target.url("/echo")) as resp:
            assert resp.status == 200  # trust_env=False: the variable is ignored
        assert proxy.heads == []
        async with ClientSession(trust_env=True) as session:
            async with session.get(target.url("/echo")) as resp:
                assert resp.status == 200
            assert len(proxy.heads) == 1
            assert head_lines(proxy.heads[0])[0].startswith("GET http://127.0.0.1:")
            monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.0/8")
            async with session.get(target.url("/echo")) as resp:
                assert resp.status == 200
            assert len(proxy.heads) == 1  # went direct


async def test_trust_env_https_proxy_lowercase_wins(
    monkeypatch: pytest.MonkeyPatch, tls_target: TlsServer, pki: Pki
) -> None:
    async with recording_proxy() as proxy:
        monkeypatch.setenv("https_proxy", str(proxy.url))
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
        conn = TCPConnector(ssl=pki.client_context())
        async with (
            ClientSession(connector=conn, trust_env=True) as session,
            session.get(tls_target.url("/echo")) as resp,
        ):
            assert resp.status == 200
    assert [head_lines(h)[0] for h in proxy.heads] == [
        f"CONNECT 127.0.0.1:{tls_target.port} HTTP/1.1"
    ]


async def test_trust_env_netrc_credentials(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    auth_proxy: ProxyProcess,
    tls_target: TlsServer,
    pki: Pki,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", str(auth_proxy.url))
    conn = TCPConnector(ssl=pki.client_context())
    async with ClientSession(connector=conn, trust_env=True) as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(tls_target.url("/echo"))
        assert info.value.status == 407
        netrc_file = tmp_path / "netrc"
        netrc_file.write_text("machine 127.0.0.1\n  login puser\n  password ppass\n")
        netrc_file.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc_file))
        async with session.get(tls_target.url("/echo")) as resp:
            assert resp.status == 200
            assert "Proxy-Authorization" not in headers_of(await resp.json())


async def test_explicit_proxy_beats_environment(
    monkeypatch: pytest.MonkeyPatch, target: AppServer
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing there
    async with recording_proxy() as proxy:
        async with (
            ClientSession(trust_env=True) as session,
            session.get(target.url("/echo"), proxy=proxy.url) as resp,
        ):
            assert resp.status == 200
        assert len(proxy.heads) == 1


# ----- argument checks and the pure helpers -----


async def test_bad_proxy_arguments(target: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="socks"):
            await session.get(target.url("/"), proxy="socks5://127.0.0.1:1080")
        with pytest.raises(ValueError):
            await session.get(
                target.url("/"),
                proxy="http://a:b@127.0.0.1:3128",
                proxy_auth=BasicAuth("c", "d"),
            )
        with pytest.raises(TypeError):
            await session.get(target.url("/"), proxy="http://127.0.0.1:3128", proxy_auth=("a", "b"))
    assert target.requests == 0


def test_explicit_proxy_moves_credentials() -> None:
    url, auth = explicit_proxy("http://us%40er:p%3Ass@proxy.test:3128/ignored?q#f", None)
    assert url == URL("http://proxy.test:3128")
    assert auth == BasicAuth("us@er", "p:ss")
    secure, auth = explicit_proxy("https://u:p@proxy.test/x", None)
    assert (secure, secure.port, auth) == (URL("https://proxy.test"), 443, BasicAuth("u", "p"))
    for bad in ("socks5://proxy.test:1080", "ftp://proxy.test", "proxy.test:3128"):
        with pytest.raises(ValueError, match="http:// and https://"):
            explicit_proxy(bad, None)
    same, auth2 = explicit_proxy(URL("http://u:p@proxy.test"), BasicAuth("u", "p"))
    assert auth2 == BasicAuth("u", "p")
    assert same.port == 80


@pytest.mark.parametrize(
    "host, port, no_proxy, expected",
    [
        ("example.com", 80, "example.com", True),
        ("www.example.com", 80, "example.com", True),
        ("www.example.com", 80, ".example.com", True),
        ("example.com", 80, ".example.com", True),
        ("badexample.com", 80, "example.com", False),
        ("example.com", 80, "*", True),
        ("EXAMPLE.com.", 80, "example.COM", True),
        ("example.com", 8080, "example.com:8080", True),
        ("example.com", 80, "example.com:8080", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("127.0.0.1", 80, "localhost,127.0.0.1", True),
        ("::1", 443, "[::1]:443", True),
        ("::1", 80, "::1", True),
        ("fd00::5", 80, "fd00::/8", True),
        ("10.0.0.1", 80, "example.com 10.0.0.1", True),
        ("example.org", 80, "", False),
        ("example.org", 80, " , ,", False),
    ],
)
def test_no_proxy_matches(host: str, port: int, no_proxy: str, expected: bool) -> None:
    assert no_proxy_matches(host, port, no_proxy) is expected


def test_proxy_from_env_rules(tmp_path: Path) -> None:
    url = URL("http://example.com/")
    env = {"HTTP_PROXY": "http://up:3128", "http_proxy": "http://low:3128"}
    assert proxy_from_env(url, env) == (URL("http://low:3128"), None)
    assert proxy_from_env(URL("ws://example.com/"), env) == (URL("http://low:3128"), None)
    assert proxy_from_env(URL("https://example.com/"), env) is None
    assert proxy_from_env(URL("wss://example.com/"), {"HTTPS_PROXY": "proxy:1"}) == (
        URL("http://proxy:1"),
        None,
    )
    assert proxy_from_env(url, {"ALL_PROXY": "http://all:1"}) == (URL("http://all:1"), None)
    assert proxy_from_env(url, {"http_proxy": "socks5://s:1"}) is None
    ws_env = {**env, "WS_PROXY": "http://ws:1", "wss_proxy": "https://wss:2", "https_proxy": "h:3"}
    assert proxy_from_env(URL("ws://example.com/"), ws_env) == (URL("http://ws:1"), None)
    assert proxy_from_env(URL("wss://example.com/"), ws_env) == (URL("https://wss:2"), None)
    assert proxy_from_env(url, ws_env) == (URL("http://low:3128"), None)
    assert proxy_from_env(URL("https://example.com/"), ws_env) == (URL("http://h:3"), None)
    # an https:// proxy is used (TLS to the proxy), not skipped in favour of going direct
    assert proxy_from_env(url, {"http_proxy": "https://sec:8443"}) == (
        URL("https://sec:8443"),
        None,
    )
    assert proxy_from_env(url, {"http_proxy": ""}) is None
    assert proxy_from_env(url, {**env, "no_proxy": "example.com"}) is None
    # httpoxy: under CGI the upper-case variable may come from the client
    cgi = {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://evil:1"}
    assert proxy_from_env(url, cgi) is None
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine low login n password w\n")
    netrc_file.chmod(0o600)
    with_netrc = {**env, "NETRC": str(netrc_file)}
    assert proxy_from_env(url, with_netrc) == (URL("http://low:3128"), BasicAuth("n", "w"))
    with_url_creds = {"http_proxy": "http://a:b@low:3128", "NETRC": str(netrc_file)}
    assert proxy_from_env(url, with_url_creds) == (URL("http://low:3128"), BasicAuth("a", "b"))
    assert choose_proxy(url, None, None, False, env) == (None, None)
    assert choose_proxy(url, None, None, True, env) == (URL("http://low:3128"), None)


def test_netrc_auth_missing_or_broken(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cyhttp.client")
    assert netrc_auth("h", {"NETRC": str(tmp_path / "absent")}) is None
    assert caplog.records == []  # no file is the common case: nothing to say
    assert netrc_auth("h", {"NETRC": str(tmp_path)}) is None  # a directory
    broken = tmp_path / "broken"
    broken.write_text("machine h frobnicate u\n")
    broken.chmod(0o600)
    assert netrc_auth("h", {"NETRC": str(broken)}) is None
    assert netrc_auth("h", {"NETRC": str(broken)}) is None  # parsed once, warned once
    warned = [r.getMessage() for r in caplog.records if r.name == "cyhttp.client"]
    assert len(warned) == 2 and str(broken) in warned[1]
    binary = tmp_path / "binary"
    binary.write_bytes(b"machine h login \xff\xfe password p\n")
    binary.chmod(0o600)
    assert netrc_auth("h", {"NETRC": str(binary)}) is None
    empty = tmp_path / "empty"
    empty.write_text("machine h login\n")
    empty.chmod(0o600)
    assert netrc_auth("h", {"NETRC": str(empty)}) is None
    good = tmp_path / "good"
    good.write_text("machine h login u password p\ndefault login d password x\n")
    good.chmod(0o600)
    assert netrc_auth("H.", {"NETRC": str(good)}) == BasicAuth("u", "p")
    assert netrc_auth("other", {"NETRC": str(good)}) == BasicAuth("d", "x")
    good.write_text("machine h login u2 password p2\n")  # edited: read again
    assert netrc_auth("h", {"NETRC": str(good)}) == BasicAuth("u2", "p2")
    assert netrc_auth("other", {"NETRC": str(good)}) is None
    colon = tmp_path / "colon"
    colon.write_text("machine h login a:b password p\n")  # not sendable as Basic
    colon.chmod(0o600)
    assert netrc_auth("h", {"NETRC": str(colon)}) is None


def test_netrc_auth_reads_home_netrc_without_netrc_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``$NETRC``, ``~/.netrc``; with it, that file only; ``os.environ`` by default."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(
        "machine example.com login hu password hp\nmachine ::1 login v6 password p6\n"
    )
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC")
    assert netrc_auth("example.com") == BasicAuth("hu", "hp")
    assert netrc_auth("EXAMPLE.com.") == BasicAuth("hu", "hp")
    assert netrc_auth("[::1]") == BasicAuth("v6", "p6")
    other = tmp_path / "other"
    other.write_text("machine example.com login ou password op\n")
    other.chmod(0o600)
    monkeypatch.setenv("NETRC", str(other))
    assert netrc_auth("example.com") == BasicAuth("ou", "op")
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    assert netrc_auth("example.com") is None  # $NETRC wins even when it names nothing


# ----- WebSocket through a proxy, and a silent proxy -----


def ws_app() -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(f"echo {msg.data} {request.secure}")
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    return app


@pytest.mark.parametrize("secure", [False, True])
async def test_websocket_through_tunnel(pki: Pki, secure: bool) -> None:
    """ws:// and wss:// both use a CONNECT tunnel (RFC 6455 §4.1)."""
    async with contextlib.AsyncExitStack() as stack:
        if secure:
            srv: Any = await stack.enter_async_context(
                tls_app_server(ws_app(), pki.server_context())
            )
            url = srv.url("/ws").with_scheme("wss")
        else:
            srv = await stack.enter_async_context(app_server(ws_app()))
            url = srv.url("/ws").with_scheme("ws")
        proxy = await stack.enter_async_context(recording_proxy())
        session = await stack.enter_async_context(
            ClientSession(connector=TCPConnector(ssl=pki.client_context()))
        )
        ws = await session.ws_connect(url, proxy=proxy.url, proxy_auth=BasicAuth("p", "q"))
        await ws.send_str("hi")
        msg = await ws.receive()
        await ws.close()
    assert msg.data == f"echo hi {secure}"
    (head,) = proxy.heads
    lines = head_lines(head)
    assert lines[0] == f"CONNECT 127.0.0.1:{srv.port} HTTP/1.1"
    assert f"Proxy-Authorization: {BasicAuth('p', 'q').encode()}" in lines


async def test_silent_proxy_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(3600)

    async with raw_server(silent) as srv, ClientSession() as session:
        with pytest.raises(ServerTimeoutError, match="tunnel"):
            await session.get(
                "https://127.0.0.1:9/",
                proxy=f"http://127.0.0.1:{srv.port}",
                timeout=ClientTimeout(sock_connect=0.2),
            )
        with pytest.raises(ServerTimeoutError):
            await session.get(
                "https://127.0.0.1:9/", proxy=f"http://127.0.0.1:{srv.port}", timeout=0.2
            )


# ----- https:// proxies: TLS to the proxy (proxy.py with --cert-file, a recording one) -----


@pytest.fixture(scope="module")
def https_proxy(pki: Pki) -> Iterator[HttpsProxyProcess]:
    with https_proxy_py(pki.good) as proc:
        yield proc


@pytest.fixture(scope="module")
def https_auth_proxy(pki: Pki) -> Iterator[HttpsProxyProcess]:
    with https_proxy_py(pki.good, basic_auth="suser:spass") as proc:
        yield proc


@pytest.fixture
async def tls_proxy(pki: Pki) -> RecordingTlsProxy:
    async with recording_tls_proxy(pki.server_context(alpn=["h2", "http/1.1"])) as proxy:
        yield proxy


async def test_http_target_through_https_proxy(
    https_proxy: HttpsProxyProcess, target: AppServer, pki: Pki
) -> None:
    """The absolute-form request travels over TLS to proxy.py, which must see valid TLS
    (it speaks nothing else on that port) and forwards it."""
    async with ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session:
        for i in range(2):
            async with session.post(
                target.url("/echo?n=1"), data=b"y" * (i * 50000), proxy=https_proxy.url
            ) as resp:
                assert resp.status == 200
                payload = await resp.json()
                assert payload["path"] == "/echo?n=1"
                assert len(payload["body"]) == i * 50000
    assert target.requests == 2


async def test_https_target_through_https_proxy_is_tls_in_tls(
    https_proxy: HttpsProxyProcess, pki: Pki
) -> None:
    async with (
        tls_app_server(echo_app(), pki.server_context()) as srv,
        ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session,
    ):
        for i in range(3):
            async with session.post(
                srv.url("/echo"), data=b"z" * (i * 70000), proxy=https_proxy.url
            ) as resp:
                assert resp.status == 200
                payload = await resp.json()
                assert len(payload["body"]) == i * 70000
        # proxy.py's port speaks only TLS, the target only TLS: the target's TLS ran
        # inside the proxy's; one tunnel, kept alive and reused
        assert srv.connections == 1


async def test_https_proxy_credentials(
    https_auth_proxy: HttpsProxyProcess, target: AppServer, tls_target: TlsServer, pki: Pki
) -> None:
    async with ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(tls_target.url("/echo"), proxy=https_auth_proxy.url)
        assert info.value.status == 407
        assert info.value.request_info.url.scheme == "https"  # the error names the proxy
        async with session.get(target.url("/echo"), proxy=https_auth_proxy.url) as resp:
            assert resp.status == 407
        good = https_auth_proxy.url.with_user("suser").with_password("spass")
        for url in (target.url("/echo"), tls_target.url("/echo")):
            async with session.get(url, proxy=good) as resp:
                assert resp.status == 200
                assert "Proxy-Authorization" not in headers_of(await resp.json())
        async with session.get(
            tls_target.url("/echo"),
            proxy=https_auth_proxy.url,
            proxy_auth=BasicAuth("suser", "spass"),
        ) as resp:
            assert resp.status == 200
    assert target.requests == 1


async def test_https_proxy_certificate_is_verified(tls_target: TlsServer, pki: Pki) -> None:
    """The proxy's certificate is checked with the request's ssl settings; a failure is a
    certificate error naming the proxy, and nothing reaches the target."""
    other = Pki()  # the proxy's certificate comes from a CA the client does not trust
    async with recording_tls_proxy(other.server_context()) as proxy:
        async with ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session:
            for url in (tls_target.url("/echo"), tls_target.url("/echo").with_scheme("http")):
                with pytest.raises(ClientConnectorCertificateError) as info:
                    await session.get(url, proxy=proxy.url)
                assert (info.value.host, info.value.port) == ("127.0.0.1", proxy.port)
            # a pin on the target does not switch off the proxy's verification
            with pytest.raises(ClientConnectorCertificateError) as info:
                await session.get(
                    tls_target.url("/echo"), proxy=proxy.url, ssl=Fingerprint(pki.fingerprint())
                )
            assert info.value.port == proxy.port
            # ssl=False: neither proxy nor target verified (as in aiohttp)
            async with session.get(tls_target.url("/echo"), proxy=proxy.url, ssl=False) as resp:
                assert resp.status == 200
            # a context that trusts both CAs verifies both
            both = pki.client_context()
            other.ca.configure_trust(both)
            async with session.get(tls_target.url("/echo"), proxy=proxy.url, ssl=both) as resp:
                assert resp.status == 200
        assert len(proxy.heads) == 2  # only the two requests that got past verification
    assert tls_target.connections == 2
    # the proxy's name is checked too
    async with (
        recording_tls_proxy(pki.server_context(pki.wrong_host)) as proxy,
        ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session,
    ):
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(tls_target.url("/echo"), proxy=proxy.url)
    # and by default (system trust store) a private CA is not trusted
    async with recording_tls_proxy(pki.server_context()) as proxy, ClientSession() as session:
        with pytest.raises(ClientConnectorCertificateError):
            await session.get(tls_target.url("/echo").with_scheme("http"), proxy=proxy.url)
        assert proxy.heads == []


async def test_https_proxy_pin_applies_to_the_target(tls_target: TlsServer, pki: Pki) -> None:
    async with (
        recording_tls_proxy(pki.server_context()) as proxy,
        ClientSession(connector=TCPConnector(ssl=pki.client_context())) as session,
    ):
        async with session.get(
            tls_target.url("/echo"), proxy=proxy.url, ssl=Fingerprint(pki.fingerprint())
        ) as resp:
            assert resp.status == 200
        with pytest.raises(ServerFingerprintMismatch):
            await session.get(
                tls_target.url("/echo"),
                proxy=proxy.url,
                ssl=Fingerprint(pki.fingerprint(pki.wrong_host)),
            )


async def test_plain_http_server_named_https_proxy_is_ssl_error(target: AppServer) -> None:
    """An ``https://`` proxy URL pointing at a server that speaks plain HTTP (it answers
    the ClientHello with a 400 and closes) fails the TLS handshake: a clear SSL error
    naming the proxy."""
    proxy = target.url("/").with_scheme("https").with_path("")
    async with ClientSession() as session:
        for url in ("https://127.0.0.1:9/", "http://127.0.0.1:9/"):
            with pytest.raises(ClientConnectorSSLError) as info:
                await session.get(url, proxy=proxy, timeout=ClientTimeout(total=10))
            assert (info.value.host, info.value.port) == ("127.0.0.1", target.port)


async def test_what_an_https_proxy_sees(tls_proxy: RecordingTlsProxy, pki: Pki) -> None:
    """Absolute form and CONNECT both reach the proxy over TLS with ALPN http/1.1 (cyhttp's
    own context); the proxy's headers go to the proxy only; the target's TLS runs inside
    the tunnel with its own ALPN."""
    async with (
        app_server(echo_app()) as plain,
        tls_app_server(hello_app(), pki.server_context(alpn=["h2", "http/1.1"])) as secure,
        ClientSession() as session,
    ):
        kwargs: dict[str, Any] = dict(
            proxy=tls_proxy.url,
            proxy_auth=BasicAuth("p", "q"),
            proxy_headers={"X-Proxy-Only": "1"},
            ssl=False,
        )
        async with session.get(plain.url("/echo"), **kwargs) as resp:
            assert resp.status == 200  # (this simple proxy forwards the head unchanged)
        async with session.get(secure.url("/alpn"), **kwargs) as resp:
            assert await resp.text() == "http/1.1"
        async with session.get(secure.url("/headers"), **kwargs) as resp:
            seen = CIMultiDict(await resp.json())
        assert "Proxy-Authorization" not in seen and "X-Proxy-Only" not in seen
    absolute, connect = (head_lines(h) for h in tls_proxy.heads)
    assert absolute[0] == f"GET http://127.0.0.1:{plain.port}/echo HTTP/1.1"
    assert connect[0] == f"CONNECT 127.0.0.1:{secure.port} HTTP/1.1"
    for lines in (absolute, connect):
        assert f"Proxy-Authorization: {BasicAuth('p', 'q').encode()}" in lines
        assert "X-Proxy-Only: 1" in lines
    assert tls_proxy.alpn == ["http/1.1", "http/1.1"]  # the tunnel was reused for /headers


async def test_user_context_offers_no_alpn_to_the_proxy(
    tls_proxy: RecordingTlsProxy, target: AppServer, pki: Pki
) -> None:
    """A user's SSLContext is used as given: cyhttp does not add ALPN to it."""
    ctx = pki.client_context()
    async with ClientSession() as session:
        for _ in range(3):
            async with session.get(target.url("/echo"), proxy=tls_proxy.url, ssl=ctx) as resp:
                assert resp.status == 200
                await resp.read()
    assert tls_proxy.alpn == [None]  # one TLS connection to the proxy, kept alive
    assert len(tls_proxy.heads) == 1  # (this proxy relays the rest without reading it)
    assert target.requests == 3


@pytest.mark.parametrize("from_env", [False, True])
@pytest.mark.parametrize("secure", [False, True])
async def test_websocket_through_https_proxy(
    tls_proxy: RecordingTlsProxy,
    pki: Pki,
    secure: bool,
    from_env: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ws:// and wss:// tunnel through an ``https://`` proxy too (wss: TLS inside TLS),
    given as ``proxy=`` or by WS_PROXY / WSS_PROXY with trust_env."""
    if from_env:
        monkeypatch.setenv("WSS_PROXY" if secure else "WS_PROXY", str(tls_proxy.url))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # not this one
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")
    async with contextlib.AsyncExitStack() as stack:
        if secure:
            srv: Any = await stack.enter_async_context(
                tls_app_server(ws_app(), pki.server_context())
            )
            url = srv.url("/ws").with_scheme("wss")
        else:
            srv = await stack.enter_async_context(app_server(ws_app()))
            url = srv.url("/ws").with_scheme("ws")
        session = await stack.enter_async_context(
            ClientSession(connector=TCPConnector(ssl=pki.client_context()), trust_env=from_env)
        )
        ws = await session.ws_connect(url, proxy=None if from_env else tls_proxy.url)
        await ws.send_str("hi")
        msg = await ws.receive()
        await ws.close()
    assert msg.data == f"echo hi {secure}"
    (head,) = tls_proxy.heads
    assert head_lines(head)[0] == f"CONNECT 127.0.0.1:{srv.port} HTTP/1.1"


async def test_silent_https_proxy_times_out() -> None:
    """A proxy that accepts TCP and never answers the ClientHello: the sock_connect limit
    covers the TLS handshake with the proxy."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(3600)

    async with raw_server(silent) as srv, ClientSession() as session:
        for url in ("http://127.0.0.1:9/", "https://127.0.0.1:9/"):
            with pytest.raises(ServerTimeoutError, match="proxy"):
                await session.get(
                    url,
                    proxy=f"https://127.0.0.1:{srv.port}",
                    timeout=ClientTimeout(sock_connect=0.2),
                )


async def test_trust_env_https_proxy_with_netrc_credentials(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    https_auth_proxy: HttpsProxyProcess,
    tls_target: TlsServer,
    pki: Pki,
) -> None:
    """An ``https://`` proxy from the environment is used, and its credentials come from
    .netrc (for the proxy's host only: the target gets none of them)."""
    proxy = https_auth_proxy.url.with_host("localhost")
    monkeypatch.setenv("HTTPS_PROXY", str(proxy))
    conn = TCPConnector(ssl=pki.client_context())
    async with ClientSession(connector=conn, trust_env=True) as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(tls_target.url("/echo"))
        assert info.value.status == 407
        netrc_file = tmp_path / "netrc"
        netrc_file.write_text("machine localhost\n  login suser\n  password spass\n")
        netrc_file.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc_file))
        async with session.get(tls_target.url("/echo")) as resp:
            assert resp.status == 200
            seen = headers_of(await resp.json())
    assert "Proxy-Authorization" not in seen
    assert "Authorization" not in seen


def netrc_for_127(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine 127.0.0.1 login nuser password npass\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))


async def test_netrc_not_used_without_trust_env_nor_over_given_auth(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: AppServer
) -> None:
    netrc_for_127(tmp_path, monkeypatch)
    async with ClientSession() as session, session.get(target.url("/echo")) as resp:
        assert "Authorization" not in headers_of(await resp.json())
    mine = BasicAuth("mine", "x")
    async with ClientSession(trust_env=True) as session:
        async with session.get(target.url("/echo"), auth=mine) as resp:
            assert headers_of(await resp.json())["Authorization"] == mine.encode()
        url = target.url("/echo").with_user("in").with_password("url")
        async with session.get(url) as resp:
            assert headers_of(await resp.json())["Authorization"] == BasicAuth("in", "url").encode()
        async with session.get(target.url("/echo"), headers={"Authorization": "Bearer t"}) as resp:
            assert headers_of(await resp.json())["Authorization"] == "Bearer t"
    default = BasicAuth("session", "default")
    async with (
        ClientSession(trust_env=True, auth=default) as session,
        session.get(target.url("/echo")) as resp,
    ):
        assert headers_of(await resp.json())["Authorization"] == default.encode()


async def test_trust_env_netrc_authenticates_the_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: AppServer
) -> None:
    """With ``trust_env=True`` a request without credentials takes them from .netrc for
    its host (ClientSession calls cyhttp.helpers.netrc_auth)."""
    netrc_for_127(tmp_path, monkeypatch)
    async with (
        ClientSession(trust_env=True) as session,
        session.get(target.url("/echo")) as resp,
    ):
        got = headers_of(await resp.json()).get("Authorization")
    assert got == BasicAuth("nuser", "npass").encode()
