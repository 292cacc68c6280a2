"""The plain-call fast path of ClientSession (a str URL and no keyword but
``allow_redirects``): a call reuses the state the same method and URL had last time, so
these tests check that nothing one call changes, or the session gained since, leaks into
the next one."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from cyhttp import ClientSession, CookieJar, TraceConfig
from cyhttp.client import _Call

from .servers import AppServer, app_server, echo_app


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def headers_of(payload: dict) -> CIMultiDict[str]:
    return CIMultiDict((k, v) for k, v in payload["headers"])


async def warm(session: ClientSession, url: str) -> None:
    """Plain GETs until the session keeps their state (not on the very first call: the
    connector has no loop yet)."""
    for _ in range(2):
        async with session.get(url) as resp:
            await resp.read()
    assert ("GET", url) in session._plain_calls


def test_copy_covers_every_field() -> None:
    """A field missing from _Call.copy() would be unset on every plain call after the first."""
    call = _Call()
    for index, name in enumerate(_Call.__slots__):
        setattr(call, name, index)
    copy = call.copy()
    for index, name in enumerate(_Call.__slots__):
        if name == "trace_headers":  # traced calls are never plain
            assert not hasattr(copy, name)
        else:
            assert getattr(copy, name) == index, name


async def test_plain_calls_are_reused_and_fresh(server: AppServer) -> None:
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        for _ in range(3):
            async with session.get(url) as resp:
                assert (await resp.json())["method"] == "GET"
        assert len(session._plain_calls) == 1
        proto = session._plain_calls[("GET", url)]
        first = session._plain_call("GET", url, {})
        second = session._plain_call("GET", url, {"allow_redirects": False})
        assert first is not proto and second is not first
        assert first.allow_redirects is True and second.allow_redirects is False
        assert proto.allow_redirects is True
        assert first.url == second.url == server.url("/echo")
    assert server.connections == 1


async def test_other_keywords_are_not_plain(server: AppServer) -> None:
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        assert session._plain_call("GET", url, {"params": {"a": "1"}}) is None
        assert session._plain_call("GET", server.url("/echo"), {}) is None
        async with session.get(url, params={"a": "1"}) as resp:
            assert (await resp.json())["query"] == "a=1"
        assert session._plain_calls == {}


async def test_redirect_does_not_change_the_next_plain_call(server: AppServer) -> None:
    target = server.url("/echo")
    url = str(server.url("/redirect/303").with_query(to=str(target)))
    async with ClientSession() as session:
        for _ in range(2):
            async with session.get(url) as resp:
                assert resp.url == target
                assert len(resp.history) == 1
        async with session.get(url, allow_redirects=False) as resp:
            assert resp.status == 303
        proto = session._plain_calls[("GET", url)]
        assert proto.url == server.url("/redirect/303").with_query(to=str(target))
        assert proto.method == "GET" and proto.template_key is not None


async def test_default_headers_added_later_are_sent(server: AppServer) -> None:
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        await warm(session, url)
        session.headers["X-Later"] = "yes"
        async with session.get(url) as resp:
            assert headers_of(await resp.json())["X-Later"] == "yes"


class _OwnJar(CookieJar):
    """A jar of another class: the session asks it len() instead of looking inside."""


@pytest.mark.parametrize("jar_class", [CookieJar, _OwnJar])
async def test_cookies_stored_later_are_sent(server: AppServer, jar_class: type) -> None:
    url = str(server.url("/echo"))
    async with ClientSession(cookie_jar=jar_class(unsafe=True)) as session:
        assert session._jar_records is (jar_class is CookieJar)
        await warm(session, url)
        async with session.get(server.url("/setcookie?flavour=oat")) as resp:
            await resp.read()
        async with session.get(url) as resp:
            assert headers_of(await resp.json())["Cookie"] == "flavour=oat"


async def test_trace_config_added_later_is_heard(server: AppServer) -> None:
    url = str(server.url("/echo"))
    starts: list[str] = []

    async def on_start(session: object, ctx: object, params: object) -> None:
        starts.append(str(params.url))  # type: ignore[attr-defined]

    async with ClientSession() as session:
        await warm(session, url)
        config = TraceConfig()
        config.on_request_start.append(on_start)
        config.freeze()
        session._trace_configs.append(config)  # as cyhttp.instrumentation may change them
        async with session.get(url) as resp:
            await resp.read()
    assert starts == [url]


async def test_closed_session_still_refuses(server: AppServer) -> None:
    url = str(server.url("/echo"))
    session = ClientSession()
    await warm(session, url)
    await session.close()
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.get(url)


async def test_response_context_flag(server: AppServer) -> None:
    """``async with session.get()`` marks the response as used in a block, and unmarks it
    on the way out (raise_for_status() after the block then lets the connection go)."""
    url = str(server.url("/status/404"))
    async with ClientSession() as session:
        async with session.get(url) as resp:
            assert resp._in_context
        assert not resp._in_context
        assert resp.closed
