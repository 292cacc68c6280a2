"""Redirect handling: method rewriting, bodies, history, limits, and what a redirect to
another origin must not carry (Authorization, Cookie)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict

import cyhttp
from cyhttp import BasicAuth, ClientSession

from .servers import AppServer, app_server, echo_app


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


@pytest.fixture
async def other() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def sent_headers(payload: dict) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in payload["headers"])


@pytest.mark.parametrize("code", [301, 302, 303])
async def test_post_becomes_get_without_body(server: AppServer, code: int) -> None:
    async with ClientSession() as session:
        resp = await session.post(server.url(f"/redirect/{code}"), data=b"payload")
        async with resp:
            got = await resp.json()
    assert got["method"] == "GET"
    assert got["body"] == ""
    assert "Content-Length" not in sent_headers(got)
    assert [r.status for r in resp.history] == [code]
    assert resp.history[0].url == server.url(f"/redirect/{code}")
    assert resp.url == server.url("/echo")


@pytest.mark.parametrize("code", [301, 302])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_301_302_keep_other_methods_and_their_body(
    server: AppServer, code: int, method: str
) -> None:
    """RFC 9110 §15.4.2/3: only POST may become GET; PUT behind a 301 stays a PUT."""
    async with ClientSession() as session:
        resp = await session.request(
            method, server.url(f"/redirect/{code}"), data=b"body", allow_redirects=True
        )
        async with resp:
            got = await resp.json()
    assert got["method"] == method
    assert got["body"] == "body"
    assert [r.status for r in resp.history] == [code]


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_head_stays_head_on_every_redirect(server: AppServer, code: int) -> None:
    async with ClientSession() as session:
        resp = await session.head(server.url(f"/redirect/{code}"), allow_redirects=True)
        async with resp:
            assert resp.status == 200
            assert resp.headers["X-Method"] == "HEAD"
            assert [r.status for r in resp.history] == [code]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "GET"])
async def test_303_turns_everything_but_head_into_get(server: AppServer, method: str) -> None:
    async with ClientSession() as session:
        resp = await session.request(method, server.url("/redirect/303"), data=b"gone")
        async with resp:
            got = await resp.json()
    assert got["method"] == "GET"
    assert got["body"] == ""
    assert "Content-Type" not in sent_headers(got)


async def test_redirect_to_a_bad_url_raises_the_3x_error(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(cyhttp.InvalidUrlRedirectClientError) as info:
            await session.get(server.url("/redirect/302").with_query(to="http://:80/x"))
    assert isinstance(info.value, cyhttp.RedirectClientError)
    assert isinstance(info.value, cyhttp.InvalidURL)


async def test_post_to_get_drops_chunked_and_expect(server: AppServer) -> None:
    """A body dropped by the rewrite to GET takes its framing with it."""
    async with ClientSession() as session:
        resp = await session.post(
            server.url("/redirect/302"), data=b"payload", chunked=True, expect100=True
        )
        async with resp:
            got = await resp.json()
    assert got["method"] == "GET"
    sent = sent_headers(got)
    assert "Transfer-Encoding" not in sent
    assert "Expect" not in sent


@pytest.mark.parametrize("code", [307, 308])
async def test_307_308_keep_method_and_body(server: AppServer, code: int) -> None:
    async with ClientSession() as session:
        resp = await session.put(server.url(f"/redirect/{code}"), data=b"keep me")
        async with resp:
            got = await resp.json()
    assert got["method"] == "PUT"
    assert got["body"] == "keep me"


async def test_307_resends_a_file_body_from_where_it_started(server: AppServer) -> None:
    f = io.BytesIO(b"skip:keep me")
    f.seek(5)  # the body is what is left from here
    async with ClientSession() as session:
        resp = await session.put(server.url("/redirect/307"), data=f)
        async with resp:
            got = await resp.json()
    assert [r.status for r in resp.history] == [307]
    assert got["body"] == "keep me"


async def test_307_with_a_consumed_stream_is_a_clear_error(server: AppServer) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"once"

    async with ClientSession() as session:
        with pytest.raises(cyhttp.RedirectClientError, match="one-shot stream"):
            await session.put(server.url("/redirect/307"), data=stream())
        # the connection of the refused redirect was not leaked: the pool still works
        async with session.get(server.url("/echo")) as resp:
            assert resp.status == 200


async def test_head_stays_head_on_303(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.head(server.url("/redirect/303"), allow_redirects=True)
        async with resp:
            assert resp.method == "HEAD"
            assert resp.status == 200


async def test_allow_redirects_false_returns_the_redirect(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/redirect/302"), allow_redirects=False)
        async with resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/echo"
            assert resp.history == ()


async def test_history_of_a_chain(server: AppServer) -> None:
    hop2 = "/redirect/307?to=/echo"
    hop1 = f"/redirect/302?to={hop2.replace('?', '%3F').replace('=', '%3D')}"
    async with ClientSession() as session:
        resp = await session.get(server.url(hop1))
        async with resp:
            assert resp.status == 200
            assert [r.status for r in resp.history] == [302, 307]


async def test_too_many_redirects(server: AppServer) -> None:
    loop_url = "/loop"
    async with ClientSession() as session:
        with pytest.raises(cyhttp.TooManyRedirects) as info:
            await session.get(server.url(loop_url), max_redirects=3)
    exc = info.value
    assert isinstance(exc, cyhttp.ClientResponseError)
    assert len(exc.history) == 4
    assert exc.request_info.url == server.url(loop_url)


async def test_redirects_reuse_the_connection(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/redirect/301"))
        async with resp:
            await resp.read()
    assert server.requests == 2
    assert server.connections == 1


async def test_cross_origin_drops_authorization_and_cookie(
    server: AppServer, other: AppServer
) -> None:
    target = other.url("/echo")
    async with ClientSession(auth=BasicAuth("user", "secret")) as session:
        resp = await session.get(
            server.url("/redirect/302").with_query(to=str(target)),
            headers={"Authorization": "Bearer token", "Cookie": "explicit=1", "X-Kept": "k"},
            cookies={"req": "r"},
        )
        async with resp:
            got = await resp.json()
    sent = sent_headers(got)
    assert "Authorization" not in sent
    assert "Cookie" not in sent
    assert sent["X-Kept"] == "k"
    assert resp.url == target


async def test_same_origin_keeps_authorization(server: AppServer) -> None:
    async with ClientSession() as session:
        resp = await session.get(server.url("/redirect/302"), auth=BasicAuth("u", "p"))
        async with resp:
            got = await resp.json()
    assert sent_headers(got)["Authorization"] == BasicAuth("u", "p").encode()


async def test_cookies_set_during_redirects_are_kept(server: AppServer) -> None:
    jar = cyhttp.CookieJar(unsafe=True)
    async with ClientSession(cookie_jar=jar) as session:
        resp = await session.get(server.url("/redirect/302").with_query(to="/setcookie?a=1"))
        async with resp:
            assert resp.cookies["a"].value == "1"
        resp = await session.get(server.url("/echo"))
        async with resp:
            assert sent_headers(await resp.json())["Cookie"] == "a=1"


async def test_redirect_to_unsupported_scheme_is_both_errors(server: AppServer) -> None:
    """aiohttp 3.x's NonHttpUrlRedirectClientError, still the InvalidURL of 2.3."""
    async with ClientSession() as session:
        with pytest.raises(cyhttp.NonHttpUrlRedirectClientError) as info:
            await session.get(server.url("/redirect/302").with_query(to="ftp://example.invalid/"))
    assert isinstance(info.value, cyhttp.InvalidURL)
    assert isinstance(info.value, cyhttp.RedirectClientError)


async def test_redirect_to_unsupported_scheme_is_invalid_url(server: AppServer) -> None:
    async with ClientSession() as session:
        with pytest.raises(cyhttp.InvalidURL):
            await session.get(server.url("/redirect/302").with_query(to="ftp://example.invalid/"))
