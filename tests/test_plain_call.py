"""The plain-call fast path of ClientSession (a str URL and no keyword but
``allow_redirects``): a call shares the state the same method, URL and
``allow_redirects`` had last time, so these tests check that nothing one call changes,
or the session gained since, leaks into the next one."""

from __future__ import annotations

import asyncio
import json

import pytest
from multidict import CIMultiDict

from cyhttp import ClientSession, ClientTimeout, CookieJar, TraceConfig
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
    assert ("GET", url, True) in session._plain_calls


def test_copy_covers_every_field() -> None:
    """A redirect copies the shared state: a field missing from the copy would be unset."""
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
        shared = session._plain_calls[("GET", url, True)]
        assert session._plain_call("GET", url, {}) is shared
        assert session._plain_call("GET", url, {"allow_redirects": True}) is shared
        other = session._plain_call("GET", url, {"allow_redirects": False})
        assert other is not shared and other.allow_redirects is False
        assert shared.allow_redirects is True
        assert other.url == shared.url == server.url("/echo")
        assert other.template_key == shared.template_key == ("GET", url)
    assert server.connections == 1


async def test_other_keywords_are_not_plain(server: AppServer) -> None:
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        assert session._plain_call("GET", url, {"params": {"a": "1"}}) is None
        assert session._plain_call("GET", server.url("/echo"), {}) is None
        assert session._plain_call("GET", url, {"allow_redirects": []}) is None
        async with session.get(url, allow_redirects=[]) as resp:  # falsy: not followed
            assert resp.status == 200
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
        for allow in (True, False):
            shared = session._plain_calls[("GET", url, allow)]
            assert shared.url == server.url("/redirect/303").with_query(to=str(target))
            assert shared.method == "GET" and shared.template_key == ("GET", url)


async def test_redirected_post_does_not_change_the_next_one(server: AppServer) -> None:
    """A 303 turns the hop into a GET without a body: on the call's own copy only."""
    target = server.url("/echo")
    url = str(server.url("/redirect/303").with_query(to=str(target)))
    async with ClientSession() as session:
        for _ in range(3):
            async with session.request("POST", url) as resp:
                assert (await resp.json())["method"] == "GET"
        shared = session._plain_calls[("POST", url, True)]
        assert shared.method == "POST" and shared.url.path == "/redirect/303"


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


async def test_each_plain_call_has_its_own_deadline(server: AppServer) -> None:
    """The total timeout counts from each call: a deadline kept with the shared state
    would have passed by the time of the later call."""
    url = str(server.url("/echo"))
    async with ClientSession(timeout=ClientTimeout(total=0.5)) as session:
        await warm(session, url)
        await asyncio.sleep(0.6)
        async with session.get(url) as resp:
            assert (await resp.json())["method"] == "GET"
        with pytest.raises(asyncio.TimeoutError):
            await session.get(str(server.url("/slow/2")))


async def test_bytes_and_json_bodies_share_a_head_never_a_body(server: AppServer) -> None:
    """A POST of bytes or JSON reuses the head built for the same kind and length of body;
    each request still sends its own body, and the kept template holds none."""
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        sent = [b"a" * 10, b"b" * 10, b"c" * 11, b"", b"d" * 10]
        for body in sent:
            async with session.post(url, data=body) as resp:
                echo = await resp.json()
            assert echo["body"].encode("latin-1") == body
            seen = headers_of(echo)
            assert seen["Content-Length"] == str(len(body))
            assert seen["Content-Type"] == "application/octet-stream"
        for value in ({"k": 1}, {"k": 2}, {"k": 10}, [1, 2]):
            async with session.put(url, json=value) as resp:
                echo = await resp.json()
            assert echo["method"] == "PUT" and echo["body"] == json.dumps(value)
            assert headers_of(echo)["Content-Type"] == "application/json"
        kept = [req for key, req in session._templates.items() if key[0] in ("POST", "PUT")]
        assert len(kept) == 6  # bytes of 10, 11 and 0; JSON of 8 and 9 bytes ({"k": 1}, [1, 2])
        assert all(req._body is None and req._payload is None for req in kept)


async def test_a_body_read_as_payload_does_not_follow_the_next_request(
    server: AppServer,
) -> None:
    """``request.body`` (a payload made on demand, e.g. by a middleware) wraps one
    request's bytes: a copy for another body must not carry that payload along."""
    url = str(server.url("/echo"))
    async with ClientSession() as session:
        async with session.post(url, data=b"first") as resp:
            await resp.read()
        template = next(req for key, req in session._templates.items() if key[0] == "POST")
        one = template._with_body(b"11111")
        assert one.body._value == b"11111"  # made on demand, kept on ``one``
        two = one._with_body(b"22222")
        assert two.body._value == b"22222" and one.body._value == b"11111"
        async with session.post(url, data=b"again") as resp:
            assert (await resp.json())["body"] == "again"


async def test_redirect_of_a_templated_post(server: AppServer) -> None:
    """307 keeps the method and the body, 303 turns the POST into a bodiless GET; the
    next POST of the same head is unaffected."""
    async with ClientSession() as session:
        for code, method, body in ((307, "POST", "xyz"), (303, "GET", "")):
            url = server.url(f"/redirect/{code}").with_query(to="/echo")
            for _ in range(2):
                async with session.post(url, data=b"xyz") as resp:
                    echo = await resp.json()
                assert (echo["method"], echo["body"]) == (method, body)
