"""cyhttp.testing: the aioresponses-compatible mock.

Every call shape of aioresponses (verbs, ``add``, regex and query matching, ``repeat``,
callbacks, exceptions, the ``requests`` record and the ``assert_*`` helpers, passthrough,
the decorator), then what answering below the session buys: redirects, cookies,
``raise_for_status``, decompression, tracing, middlewares, limits and timeouts behave as
on the wire. Passthrough goes to a real aiohttp.web server on 127.0.0.1; nothing else
leaves the process. The pytest plugin is run with ``pytester``.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib
import importlib.metadata
import inspect
import io
import re
import tomllib
import unittest
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import cyhttp
import cyhttp as aiohttp  # the ported aioresponses suite below says aiohttp
from cyhttp import ClientSession, TraceConfig
from cyhttp._mock_transport import RequestReader, response_bytes
from cyhttp.client import ClientSession as RealClientSession
from cyhttp.connector import BaseConnector
from cyhttp.testing import CallbackResult, RequestCall, aioresponses

from .servers import AppServer, app_server, echo_app

pytest_plugins = ["pytester"]

API = "http://api.example.com"


@pytest.fixture
def mock() -> Any:
    with aioresponses() as m:
        yield m


# ----- call shapes -----


@pytest.mark.parametrize("verb", ["get", "post", "put", "patch", "delete", "options"])
async def test_each_verb_helper_answers_its_method(mock: aioresponses, verb: str) -> None:
    getattr(mock, verb)(f"{API}/thing", status=201, body="made", headers={"X-Verb": verb})
    async with ClientSession() as session, getattr(session, verb)(f"{API}/thing") as resp:
        assert resp.status == 201
        assert resp.reason == "Created"
        assert resp.headers["X-Verb"] == verb
        assert resp.content_type == "application/json"  # aioresponses' default
        assert await resp.text() == "made"
    assert mock.sent_requests[0].method == verb.upper()


async def test_head_answers_with_headers_and_no_body(mock: aioresponses) -> None:
    mock.head(f"{API}/file", body="twelve bytes", headers={"ETag": '"v1"'})
    async with ClientSession() as session, session.head(f"{API}/file") as resp:
        assert resp.status == 200
        assert resp.headers["ETag"] == '"v1"'
        assert resp.headers["Content-Length"] == "12"  # as a server says it for HEAD
        assert await resp.read() == b""


async def test_add_takes_the_method_positionally_or_by_name(mock: aioresponses) -> None:
    mock.add(f"{API}/a", "PUT", status=204)
    mock.add(f"{API}/b", method="post", body="b")  # the case of the method does not matter
    async with ClientSession() as session:
        async with session.put(f"{API}/a") as resp:
            assert resp.status == 204
        async with session.post(f"{API}/b") as resp:
            assert await resp.text() == "b"


async def test_payload_content_type_reason_and_repeated_headers(mock: aioresponses) -> None:
    headers = CIMultiDict([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-N", "3")])
    mock.get(f"{API}/p", payload={"k": [1, 2]}, status=418, reason="Short And Stout")
    mock.get(f"{API}/t", body="<p>", content_type="text/html", headers=headers)
    async with ClientSession() as session:
        async with session.get(f"{API}/p") as resp:
            assert (resp.status, resp.reason) == (418, "Short And Stout")
            assert await resp.json() == {"k": [1, 2]}
        async with session.get(f"{API}/t") as resp:
            assert resp.content_type == "text/html"
            assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
            assert await resp.text() == "<p>"


async def test_an_unknown_status_has_an_empty_reason(mock: aioresponses) -> None:
    mock.get(f"{API}/odd", status=599)
    async with ClientSession() as session, session.get(f"{API}/odd") as resp:
        assert (resp.status, resp.reason) == (599, "")


async def test_a_bad_answer_is_refused_when_registered(mock: aioresponses) -> None:
    with pytest.raises(ValueError, match="status"):
        mock.get(API, status=42)
    with pytest.raises(ValueError, match="informational"):
        mock.get(API, status=103)  # the client would wait for a final answer forever
    with pytest.raises(ValueError, match="reason"):
        mock.get(API, reason="a\r\nb")
    with pytest.raises(ValueError, match="header"):
        mock.get(API, headers={"X": "a\nInjected: 1"})
    with pytest.raises(NotImplementedError, match="response_class"):
        mock.get(API, response_class=cyhttp.ClientResponse)


async def test_a_regex_matches_the_whole_url(mock: aioresponses) -> None:
    mock.get(re.compile(r"^http://api\.example\.com/users/\d+$"), payload={"id": 1}, repeat=True)
    async with ClientSession() as session:
        for n in (1, 22):
            async with session.get(f"{API}/users/{n}") as resp:
                assert await resp.json() == {"id": 1}
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.get(f"{API}/users/x")


async def test_the_query_string_matches_in_any_order(mock: aioresponses) -> None:
    mock.get(f"{API}/search?b=2&a=1", body="found", repeat=True)
    async with ClientSession() as session:
        for url, params in (
            (f"{API}/search?a=1&b=2", None),
            (f"{API}/search", {"b": "2", "a": "1"}),
            (f"{API}/search?b=2", {"a": "1"}),
        ):
            async with session.get(url, params=params) as resp:
                assert await resp.text() == "found"
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.get(f"{API}/search?a=1")  # a different query is another URL
    assert len(mock.requests[("GET", URL(f"{API}/search?a=1&b=2"))]) == 3


async def test_repeat_once_forever_and_a_count(mock: aioresponses) -> None:
    mock.get(f"{API}/once", body="1")
    mock.get(f"{API}/always", body="*", repeat=True)
    mock.get(f"{API}/thrice", body="3", repeat=3)
    async with ClientSession() as session:
        async with session.get(f"{API}/once") as resp:
            assert await resp.text() == "1"
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.get(f"{API}/once")
        for _ in range(5):
            async with session.get(f"{API}/always") as resp:
                assert await resp.text() == "*"
        for _ in range(3):
            async with session.get(f"{API}/thrice") as resp:
                assert await resp.text() == "3"
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.get(f"{API}/thrice")


async def test_routes_for_one_url_answer_in_the_order_registered(mock: aioresponses) -> None:
    mock.get(f"{API}/seq", status=503)
    mock.get(f"{API}/seq", status=200, body="ok")
    async with ClientSession() as session:
        async with session.get(f"{API}/seq") as resp:
            assert resp.status == 503
        async with session.get(f"{API}/seq") as resp:
            assert resp.status == 200


async def test_an_unmatched_request_is_refused_like_aioresponses(mock: aioresponses) -> None:
    mock.get(f"{API}/only-get")
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientConnectionError) as info:
            await session.post(f"{API}/only-get")
    assert str(info.value) == f"Connection refused: POST {API}/only-get"
    # aioresponses records the call before refusing it
    assert mock.requests[("POST", URL(f"{API}/only-get"))] == [
        RequestCall((), {"data": None, "allow_redirects": True})
    ]


async def test_a_sync_callback_sees_the_url_and_the_call_arguments(mock: aioresponses) -> None:
    seen: list[tuple[URL, dict[str, Any]]] = []

    def callback(url: URL, **kwargs: Any) -> CallbackResult:
        seen.append((url, kwargs))
        return CallbackResult(status=202, payload={"echo": kwargs["json"]}, headers={"X-Cb": "1"})

    mock.post(f"{API}/cb?q=v", callback=callback)  # the query is part of the URL matched
    url = f"{API}/cb"
    async with ClientSession() as s, s.post(url, json={"n": 1}, params={"q": "v"}) as resp:
        assert resp.status == 202
        assert resp.headers["X-Cb"] == "1"
        assert await resp.json() == {"echo": {"n": 1}}
    assert seen == [
        (
            URL(f"{API}/cb?q=v"),
            {"data": None, "json": {"n": 1}, "params": {"q": "v"}, "allow_redirects": True},
        )
    ]


async def test_an_async_callback_and_one_returning_none(mock: aioresponses) -> None:
    calls: list[URL] = []

    async def slow_callback(url: URL, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(0.01)
        return CallbackResult(body="from callback", content_type="text/plain")

    def observer(url: URL, **kwargs: Any) -> None:
        calls.append(url)

    mock.get(f"{API}/async", callback=slow_callback)
    mock.get(f"{API}/observed", body="route's own", callback=observer)
    async with ClientSession() as session:
        async with session.get(f"{API}/async") as resp:
            assert resp.content_type == "text/plain"
            assert await resp.text() == "from callback"
        async with session.get(f"{API}/observed") as resp:
            assert await resp.text() == "route's own"
    assert calls == [URL(f"{API}/observed")]


async def test_exception_is_raised_by_the_request(mock: aioresponses) -> None:
    boom = cyhttp.ServerDisconnectedError("gone")
    mock.get(f"{API}/instance", exception=boom)
    mock.get(f"{API}/class", exception=cyhttp.ClientPayloadError)
    mock.get(f"{API}/timeout", timeout=True)
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ServerDisconnectedError) as info:
            await session.get(f"{API}/instance")
        assert info.value is boom
        with pytest.raises(cyhttp.ClientPayloadError):
            await session.get(f"{API}/class")
        with pytest.raises(asyncio.TimeoutError, match="Connection timeout test"):
            await session.get(f"{API}/timeout")


async def test_a_failing_callback_fails_the_request(mock: aioresponses) -> None:
    def callback(url: URL, **kwargs: Any) -> None:
        raise LookupError("no such fixture")

    mock.get(f"{API}/cb", callback=callback)
    async with ClientSession() as session:
        with pytest.raises(LookupError, match="no such fixture"):
            await session.get(f"{API}/cb")


async def test_body_pattern_also_matches_the_request_body(mock: aioresponses) -> None:
    mock.post(f"{API}/rpc", body_pattern=re.compile(r'"method": "add"'), body="3")
    mock.post(f"{API}/rpc", body_pattern=b"exact", body="exact")
    async with ClientSession() as session:
        async with session.post(f"{API}/rpc", data=b"exact") as resp:
            assert await resp.text() == "exact"
        async with session.post(f"{API}/rpc", json={"method": "add"}) as resp:
            assert await resp.text() == "3"
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.post(f"{API}/rpc", data=b"other")


# ----- the requests record and the assertions -----


async def test_requests_are_recorded_as_aioresponses_records_them(mock: aioresponses) -> None:
    mock.get(re.compile(".*"), repeat=True)
    mock.post(re.compile(".*"), repeat=True)
    async with ClientSession(base_url=API, headers={"X-Session": "s"}) as session:
        await (await session.get("/a", params={"z": "1", "y": "2"})).release()
        await (await session.post("/b", json={"k": "v"}, headers={"X-Call": "c"})).release()
        await (await session.get("/a?y=2&z=1")).release()
    get_key = ("GET", URL(f"{API}/a?y=2&z=1"))
    post_key = ("POST", URL(f"{API}/b"))
    assert list(mock.requests) == [get_key, post_key]
    first, second = mock.requests[get_key]
    assert first.args == ()
    assert first.kwargs["params"] == {"z": "1", "y": "2"}
    assert first.kwargs["allow_redirects"] is True
    assert dict(first.kwargs["headers"]) == {"X-Session": "s"}
    (post,) = mock.requests[post_key]
    assert post.kwargs["data"] is None and post.kwargs["json"] == {"k": "v"}
    assert dict(post.kwargs["headers"]) == {"X-Session": "s", "X-Call": "c"}
    assert second.kwargs.keys() == {"allow_redirects", "headers"}


async def test_recorded_arguments_are_copies(mock: aioresponses) -> None:
    mock.post(f"{API}/x")
    payload = {"list": [1]}
    async with ClientSession() as session:
        await (await session.post(f"{API}/x", json=payload)).release()
    payload["list"].append(2)
    mock.assert_called_once_with(f"{API}/x", method="POST", json={"list": [1]})


async def test_assert_helpers_pass_and_fail_like_aioresponses(mock: aioresponses) -> None:
    mock.assert_not_called()
    with pytest.raises(AssertionError, match="to have been called"):
        mock.assert_called()
    mock.get(f"{API}/a?p=1", repeat=True)
    mock.post(f"{API}/b")
    async with ClientSession() as session:
        await (await session.get(f"{API}/a", params={"p": "1"})).release()
        mock.assert_called()
        mock.assert_called_once()
        mock.assert_called_once_with(f"{API}/a", params={"p": "1"})
        mock.assert_called_with(f"{API}/a?p=1", "GET", ["allow_redirects"])
        with pytest.raises(AssertionError, match=r"to not have been called\. Called 1 times"):
            mock.assert_not_called()
        with pytest.raises(AssertionError, match="call not found"):
            mock.assert_called_with(f"{API}/a")  # no params: another URL
        with pytest.raises(AssertionError, match="!="):
            mock.assert_called_with(f"{API}/a", params={"p": "1"}, headers={"X": "1"})
        await (await session.post(f"{API}/b", data="body", timeout=5)).release()
        await (await session.get(f"{API}/a", params={"p": "1"}, headers={"X": "2"})).release()
    with pytest.raises(AssertionError, match=r"called once\. Called 3 times"):
        mock.assert_called_once()
    with pytest.raises(AssertionError):
        mock.assert_called_once_with(f"{API}/b", method="POST", data="body", timeout=5)
    mock.assert_called_with(f"{API}/b", "POST", data="body", timeout=5)
    # args_to_match compares only the arguments named
    mock.assert_called_with(f"{API}/b", "POST", ["data"], data="body")
    with pytest.raises(AssertionError):
        mock.assert_called_with(f"{API}/b", "POST", ["data"], data="other")
    # the last call to a URL is the one compared; any earlier one satisfies assert_any_call
    mock.assert_called_with(f"{API}/a", params={"p": "1"}, headers={"X": "2"})
    mock.assert_any_call(f"{API}/a", params={"p": "1"})
    mock.assert_any_call(f"{API}/b", "POST")
    with pytest.raises(AssertionError, match="call not found"):
        mock.assert_any_call(f"{API}/c")


# ----- activation: context managers, decorator, nesting, clean restoration -----


async def test_the_patches_exist_only_while_a_mock_is_active() -> None:
    originals = (
        RealClientSession.__dict__["_request"],
        BaseConnector.__dict__["connect"],
        BaseConnector.__dict__["_connect_pooled"],
    )
    async with aioresponses() as outer:
        assert RealClientSession.__dict__["_request"] is not originals[0]
        with aioresponses() as inner:
            inner.get(API, body="inner")
            outer.get(API, body="outer")
            async with ClientSession() as session, session.get(API) as resp:
                assert await resp.text() == "inner"  # the innermost mock answers
        async with ClientSession() as session, session.get(API) as resp:
            assert await resp.text() == "outer"
        assert inner.requests and len(outer.requests[("GET", URL(API))]) == 1
    # stopped out of order, the patches stay until the last mock stops
    first, second = aioresponses(), aioresponses()
    first.start()
    second.start()
    first.stop()
    assert _active_patch()
    second.stop()
    assert (
        RealClientSession.__dict__["_request"],
        BaseConnector.__dict__["connect"],
        BaseConnector.__dict__["_connect_pooled"],
    ) == originals


async def test_start_and_stop_and_routes_added_before_start() -> None:
    m = aioresponses()
    m.get(API, body="early")
    m.start()
    try:
        async with ClientSession() as session, session.get(API) as resp:
            assert await resp.text() == "early"
    finally:
        m.stop()
    m.get(API)
    m.clear()
    with m:
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ClientConnectionError):
                await session.get(API)
    assert len(m.requests[("GET", URL(API))]) == 2  # stop() keeps the record


@aioresponses()
async def test_decorator_passes_the_mock_last(mocked: aioresponses) -> None:
    mocked.get(API, payload=[1])
    async with ClientSession() as session, session.get(API) as resp:
        assert await resp.json() == [1]


@aioresponses(param="m")
async def test_decorator_passes_the_mock_by_name(m: aioresponses) -> None:
    m.get(API, body="named")
    async with ClientSession() as session, session.get(API) as resp:
        assert await resp.text() == "named"


def test_decorator_on_a_plain_function_and_its_signature() -> None:
    @aioresponses()
    def check(n: int, mocked: aioresponses) -> tuple[int, bool]:
        return n, isinstance(mocked, aioresponses) and bool(_active_patch())

    assert check(3) == (3, True)
    assert list(inspect.signature(check).parameters) == ["n"]
    assert not _active_patch()


def _active_patch() -> bool:
    return RealClientSession.__dict__["_request"].__name__ == "_recording_request"


async def test_the_module_level_request_is_mocked_too(mock: aioresponses) -> None:
    mock.get(f"{API}/one-shot", body="alone")
    async with cyhttp.request("GET", f"{API}/one-shot") as resp:
        assert await resp.text() == "alone"
    mock.assert_called_once()


# ----- a suite written for aioresponses, ported by changing the imports -----
# (``import aiohttp`` → ``import cyhttp as aiohttp``, ``from aioresponses import
# aioresponses`` → ``from cyhttp.testing import aioresponses``; the rest is untouched)


class PortedAioresponsesSuite(unittest.IsolatedAsyncioTestCase):
    """Written for ``from aioresponses import aioresponses`` and aiohttp; only the imports
    were changed (pytest runs this unittest class as it is)."""

    async def asyncSetUp(self) -> None:
        self.session = aiohttp.ClientSession()

    async def asyncTearDown(self) -> None:
        await self.session.close()

    @aioresponses()
    async def test_get_json(self, mocked: aioresponses) -> None:
        mocked.get("http://example.com/api/users", payload={"users": ["ann"]}, status=200)
        resp = await self.session.get("http://example.com/api/users")
        self.assertEqual(resp.status, 200)
        self.assertEqual(await resp.json(), {"users": ["ann"]})
        mocked.assert_called_once_with("http://example.com/api/users")

    @aioresponses()
    async def test_post_with_callback(self, mocked: aioresponses) -> None:
        def callback(url: URL, **kwargs: Any) -> CallbackResult:
            return CallbackResult(status=201, payload={"created": kwargs["json"]["name"]})

        mocked.post("http://example.com/api/users", callback=callback)
        resp = await self.session.post("http://example.com/api/users", json={"name": "bo"})
        self.assertEqual(await resp.json(), {"created": "bo"})
        mocked.assert_called_with(
            "http://example.com/api/users", method="POST", json={"name": "bo"}
        )

    async def test_context_manager_and_errors(self) -> None:
        with aioresponses() as m:
            m.get("http://example.com/fail", exception=aiohttp.ClientConnectionError("down"))
            m.get("http://example.com/missing", status=404)
            with self.assertRaises(aiohttp.ClientConnectionError):
                await self.session.get("http://example.com/fail")
            resp = await self.session.get("http://example.com/missing")
            with self.assertRaises(aiohttp.ClientResponseError) as ctx:
                resp.raise_for_status()
            self.assertEqual(ctx.exception.status, 404)
            key = ("GET", URL("http://example.com/missing"))
            self.assertEqual(m.requests[key], [RequestCall((), {"allow_redirects": True})])


# ----- parity with the real aioresponses (on aiohttp) -----


async def _record_scenario(http: Any, mock_class: Any) -> tuple[Any, Any, Any]:
    """The same calls against ``http`` (aiohttp or cyhttp) under ``mock_class``: what the
    callbacks were given, how unmatched and failing calls failed, and the record."""
    seen: list[tuple[str, list[str]]] = []
    failures: list[tuple[str, str]] = []

    def callback(url: URL, **kwargs: Any) -> None:
        seen.append((str(url), sorted(kwargs)))

    with mock_class() as m:
        m.get(f"{API}/p?b=2&a=1", callback=callback)
        m.post(f"{API}/cb", callback=callback)
        m.put(re.compile(r".*/r/\d+"), callback=callback, repeat=True)
        m.get(f"{API}/exc", exception=http.ServerDisconnectedError())
        async with http.ClientSession(base_url=API, headers={"X-S": "s"}) as session:
            calls = [
                session.get("/p", params={"a": "1", "b": "2"}),
                session.post("/cb", json={"j": 1}, headers={"X-C": "c"}),
                session.put("/r/1", data=b"body"),
                session.get("/exc"),
                session.request("DELETE", "/nothing"),
                session.head("/nothing", allow_redirects=True),
            ]
            for call in calls:
                try:
                    (await call).release()
                except (http.ClientConnectionError, TypeError) as exc:
                    # (aioresponses 0.7.9 cannot build an aiohttp 3.14 response: TypeError)
                    if not isinstance(exc, TypeError):
                        failures.append((type(exc).__name__, str(exc)))
    return seen, failures, m.requests


async def test_callbacks_failures_and_the_record_match_the_real_aioresponses() -> None:
    aiohttp_mod = pytest.importorskip("aiohttp")
    real = pytest.importorskip("aioresponses")
    theirs = await _record_scenario(aiohttp_mod, real.aioresponses)
    ours = await _record_scenario(cyhttp, aioresponses)
    assert ours[0] == theirs[0] and len(ours[0]) == 3
    assert (
        ours[1]
        == theirs[1]
        == [
            ("ServerDisconnectedError", "Server disconnected"),
            ("ClientConnectionError", f"Connection refused: DELETE {API}/nothing"),
            ("ClientConnectionError", f"Connection refused: HEAD {API}/nothing"),
        ]
    )
    assert list(ours[2]) == list(theirs[2]) and len(ours[2]) == 6
    assert ours[2] == theirs[2]


# ----- the real machinery under the mock -----


async def test_a_mocked_redirect_is_followed_to_another_mocked_url(mock: aioresponses) -> None:
    mock.get(f"{API}/old", status=302, headers={"Location": "/new?x=1"})
    mock.get(f"{API}/new?x=1", body="moved")
    async with ClientSession() as session, session.get(f"{API}/old") as resp:
        assert resp.status == 200
        assert resp.url == URL(f"{API}/new?x=1")
        assert [r.status for r in resp.history] == [302]
        assert await resp.text() == "moved"
    assert [str(r.url) for r in mock.sent_requests] == [f"{API}/old", f"{API}/new?x=1"]
    assert list(mock.requests) == [("GET", URL(f"{API}/old"))]  # only the call is recorded


async def test_redirects_follow_http_rules(mock: aioresponses) -> None:
    mock.post(f"{API}/form", status=303, headers={"Location": "/done"})
    mock.get(f"{API}/done", body="seen")
    mock.put(f"{API}/doc", status=307, headers={"Location": f"{API}/doc2"})
    mock.put(f"{API}/doc2", status=201)
    mock.get(f"{API}/r", status=301, headers={"Location": "/r2"})
    async with ClientSession() as session:
        async with session.post(f"{API}/form", data=b"x=1") as resp:
            assert await resp.text() == "seen"
        async with session.put(f"{API}/doc", data=b"content") as resp:
            assert resp.status == 201
        async with session.get(f"{API}/r", allow_redirects=False) as resp:
            assert resp.status == 301
    bodies = [(r.method, r.body) for r in mock.sent_requests]
    assert bodies == [
        ("POST", b"x=1"),
        ("GET", b""),
        ("PUT", b"content"),
        ("PUT", b"content"),  # a 307 repeats the method and the body
        ("GET", b""),
    ]


async def test_too_many_mocked_redirects(mock: aioresponses) -> None:
    mock.get(f"{API}/loop", status=302, headers={"Location": "/loop"}, repeat=True)
    async with ClientSession() as session:
        with pytest.raises(cyhttp.TooManyRedirects):
            await session.get(f"{API}/loop", max_redirects=3)


async def test_set_cookie_goes_into_the_jar_and_back_out(mock: aioresponses) -> None:
    mock.get(f"{API}/login", headers={"Set-Cookie": "sid=abc; Path=/"})
    mock.get(f"{API}/me", body="you")
    mock.get("http://other.example.org/", body="elsewhere")
    async with ClientSession() as session:
        await (await session.get(f"{API}/login")).release()
        assert session.cookie_jar.filter_cookies(URL(API))["sid"].value == "abc"
        await (await session.get(f"{API}/me")).release()
        await (await session.get("http://other.example.org/")).release()
    cookies = [r.headers.get("Cookie") for r in mock.sent_requests]
    assert cookies == [None, "sid=abc", None]


async def test_raise_for_status_of_the_session_and_of_a_request(mock: aioresponses) -> None:
    mock.get(f"{API}/gone", status=410, repeat=True)
    async with ClientSession(raise_for_status=True) as session:
        with pytest.raises(cyhttp.ClientResponseError) as info:
            await session.get(f"{API}/gone")
        assert info.value.status == 410
        assert info.value.request_info.url == URL(f"{API}/gone")
        async with session.get(f"{API}/gone", raise_for_status=False) as resp:
            assert resp.status == 410
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientResponseError):
            await session.get(f"{API}/gone", raise_for_status=True)


async def test_a_compressed_body_is_decompressed(mock: aioresponses) -> None:
    packed = gzip.compress(b"hello " * 1000)
    mock.get(f"{API}/gz", body=packed, headers={"Content-Encoding": "gzip"}, repeat=True)
    async with ClientSession() as session:
        async with session.get(f"{API}/gz") as resp:
            assert await resp.read() == b"hello " * 1000
        async with session.get(f"{API}/gz", auto_decompress=False) as resp:
            assert await resp.read() == packed
    mock.get(f"{API}/bad", body=b"not gzip", headers={"Content-Encoding": "gzip"})
    async with ClientSession() as session, session.get(f"{API}/bad") as resp:
        with pytest.raises(cyhttp.ClientPayloadError):
            await resp.read()


async def test_a_chunked_answer_and_a_large_one(mock: aioresponses) -> None:
    big = bytes(range(256)) * 8192  # 2 MiB: fed in pieces, with flow control
    mock.get(f"{API}/chunked", body="in chunks", headers={"Transfer-Encoding": "chunked"})
    mock.get(f"{API}/big", body=big, content_type="application/octet-stream")
    async with ClientSession() as session:
        async with session.get(f"{API}/chunked") as resp:
            assert "Content-Length" not in resp.headers
            assert await resp.text() == "in chunks"
        async with session.get(f"{API}/big", read_bufsize=2**16) as resp:
            got = bytearray()
            async for piece in resp.content.iter_chunked(2**15):
                got += piece
            assert bytes(got) == big


async def test_tracing_signals_fire_as_on_the_wire(mock: aioresponses) -> None:
    log: list[str] = []
    config = TraceConfig()
    for name in (
        "on_request_start",
        "on_connection_create_start",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_response_chunk_received",
        "on_request_redirect",
        "on_request_end",
        "on_request_exception",
    ):

        async def record(session: Any, ctx: Any, params: Any, name: str = name) -> None:
            log.append(name)

        getattr(config, name).append(record)
    mock.get(f"{API}/from", status=302, headers={"Location": "/to"})
    mock.get(f"{API}/to", body="end")
    async with ClientSession(trace_configs=[config]) as session:
        async with session.get(f"{API}/from") as resp:
            assert await resp.text() == "end"
        with pytest.raises(cyhttp.ClientConnectionError):
            await session.get(f"{API}/unmocked")
    hop = ["on_connection_create_start", "on_connection_create_end", "on_request_headers_sent"]
    assert log == [
        "on_request_start",
        *hop,
        "on_request_redirect",
        *hop,
        "on_request_end",
        "on_response_chunk_received",
        "on_request_start",
        "on_request_exception",
    ]


async def test_middlewares_run_around_mocked_requests(mock: aioresponses) -> None:
    async def add_token(req: Any, handler: Any) -> Any:
        req.headers["Authorization"] = "Bearer t"
        return await handler(req)

    async def retry_503(req: Any, handler: Any) -> Any:
        resp = await handler(req)
        if resp.status == 503:
            resp.release()
            resp = await handler(req)
        return resp

    mock.post(f"{API}/flaky", status=503)
    mock.post(f"{API}/flaky", body="fine")
    session = ClientSession(middlewares=(add_token, retry_503))
    async with session, session.post(f"{API}/flaky", data=b"payload") as resp:
        assert await resp.text() == "fine"
    assert [(r.headers["Authorization"], r.body) for r in mock.sent_requests] == [
        ("Bearer t", b"payload"),
        ("Bearer t", b"payload"),
    ]
    mock.assert_called_once()  # one call of the session, sent twice by the middleware


async def test_the_total_and_read_timeouts_apply(mock: aioresponses) -> None:
    async def slow(url: URL, **kwargs: Any) -> CallbackResult:
        await asyncio.sleep(10)
        return CallbackResult()

    mock.get(f"{API}/slow", callback=slow, repeat=True)
    async with ClientSession(timeout=cyhttp.ClientTimeout(total=0.2)) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await session.get(f"{API}/slow")
        assert loop.time() - started < 2
        with pytest.raises(cyhttp.ServerTimeoutError):
            await session.get(f"{API}/slow", timeout=cyhttp.ClientTimeout(sock_read=0.1))


async def test_the_connectors_limit_holds_mocked_requests(mock: aioresponses) -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def held(url: URL, **kwargs: Any) -> CallbackResult:
        order.append(f"start {url.path}")
        await gate.wait()
        return CallbackResult(body=url.path)

    mock.get(re.compile(".*/held/"), callback=held, repeat=True)
    connector = cyhttp.TCPConnector(limit=1)
    async with ClientSession(connector=connector) as session:

        async def fetch(path: str) -> str:
            async with session.get(f"{API}{path}") as resp:
                return await resp.text()

        first = asyncio.ensure_future(fetch("/held/1"))
        second = asyncio.ensure_future(fetch("/held/2"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert order == ["start /held/1"]  # the second waits for the only slot
        gate.set()
        assert await asyncio.wait_for(asyncio.gather(first, second), 5) == ["/held/1", "/held/2"]


async def test_request_bodies_reach_the_wire(mock: aioresponses) -> None:
    mock.post(re.compile(".*"), repeat=True)

    async def stream() -> Any:
        for piece in (b"a", b"bc", b"def"):
            yield piece

    async with ClientSession() as session:
        await (await session.post(f"{API}/gen", data=stream())).release()
        await (await session.post(f"{API}/chunked", data=b"xyz", chunked=True)).release()
        await (await session.post(f"{API}/expect", data=b"slow", expect100=True)).release()
        await (await session.post(f"{API}/form", data={"k": "v"})).release()
    bodies = [r.body for r in mock.sent_requests]
    assert bodies == [b"abcdef", b"xyz", b"slow", b"k=v"]
    # like aioresponses, a streamed body is recorded as the bytes it produced
    assert mock.requests[("POST", URL(f"{API}/gen"))][0].kwargs["data"] == b"abcdef"
    assert mock.sent_requests[1].headers["Transfer-Encoding"] == "chunked"


async def test_credentials_and_a_proxy_do_not_change_the_url_matched(mock: aioresponses) -> None:
    mock.get("http://user:pw@api.example.com/private", body="secret")
    mock.get(f"{API}/proxied", body="no proxy needed")
    async with ClientSession() as session:
        async with session.get("http://user:pw@api.example.com/private") as resp:
            assert await resp.text() == "secret"
        async with session.get(f"{API}/proxied", proxy="http://127.0.0.1:9") as resp:
            assert await resp.text() == "no proxy needed"
    assert mock.sent_requests[0].headers["Authorization"] == "Basic dXNlcjpwdw=="
    assert mock.sent_requests[0].url == URL(f"{API}/private")


async def test_many_concurrent_mocked_requests(mock: aioresponses) -> None:
    mock.get(
        re.compile(r".*/item/\d+$"),
        callback=lambda url, **kw: CallbackResult(body=url.name),
        repeat=True,
    )

    async def fetch(session: ClientSession, n: int) -> str:
        async with session.get(f"{API}/item/{n}") as resp:
            return await resp.text()

    connector = cyhttp.TCPConnector(limit=10)
    async with ClientSession(connector=connector) as session:
        got = await asyncio.gather(*(fetch(session, n) for n in range(60)))
        # every mock connection was given back and closed: none is pooled or leaked
        assert not connector._acquired and not connector._conns
    assert got == [str(n) for n in range(60)]


async def test_streamed_and_chunked_uploads_are_read_whole(mock: aioresponses) -> None:
    mock.put(re.compile(".*"), repeat=True)
    blob = bytes(range(256)) * 1000
    async with ClientSession() as session:
        await (await session.put(f"{API}/file", data=io.BytesIO(blob))).release()
        await (await session.put(f"{API}/c", data=io.BytesIO(blob), chunked=True)).release()
    assert [r.body == blob for r in mock.sent_requests] == [True, True]
    assert mock.sent_requests[1].headers["Transfer-Encoding"] == "chunked"


@pytest.mark.parametrize("split", [1, 7, 1000])
def test_the_request_reader_takes_any_split(split: int) -> None:
    raw = (
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n10\r\n" + b"y" * 16 + b"\r\n0\r\nTrailer: t\r\n\r\n"
    )
    reader = RequestReader()
    for start in range(0, len(raw), split):
        assert not reader.complete
        reader.feed(raw[start : start + split])
    assert reader.complete
    assert (reader.method, reader.headers["Host"], bytes(reader.body)) == (
        "POST",
        "h",
        b"abc" + b"y" * 16,
    )
    sized = RequestReader()
    sized.feed(b"PUT / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nab")
    assert sized.expects_continue and not sized.complete
    sized.feed(b"cd")
    assert sized.complete and bytes(sized.body) == b"abcd"


def test_response_bytes_frame_the_answer_as_a_server_would() -> None:
    headers = CIMultiDict({"Content-Type": "text/plain"})
    assert response_bytes("GET", 200, "OK", headers, b"hi") == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
    )
    assert response_bytes("HEAD", 200, "OK", CIMultiDict(), b"hi") == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    )
    assert response_bytes("GET", 204, "No Content", CIMultiDict(), b"") == (
        b"HTTP/1.1 204 No Content\r\n\r\n"
    )
    chunked = CIMultiDict({"Transfer-Encoding": "chunked"})
    assert response_bytes("GET", 599, "", chunked, b"abc") == (
        b"HTTP/1.1 599\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )


async def test_an_https_url_is_mocked_without_tls(mock: aioresponses) -> None:
    mock.get("https://secure.example.com/x", body="tls not needed")
    async with ClientSession() as session, session.get("https://secure.example.com/x") as resp:
        assert await resp.text() == "tls not needed"


async def test_closing_the_session_mid_request_closes_the_mock_connection(
    mock: aioresponses,
) -> None:
    release = asyncio.Event()

    async def held(url: URL, **kwargs: Any) -> CallbackResult:
        await release.wait()
        return CallbackResult()

    mock.get(f"{API}/held", callback=held)
    session = ClientSession()
    task = asyncio.ensure_future(session.get(f"{API}/held"))
    for _ in range(10):
        await asyncio.sleep(0)
    await session.close()
    with pytest.raises(cyhttp.ClientError):
        await asyncio.wait_for(task, 5)


# ----- passthrough to a real server -----


@pytest.fixture
async def server() -> Any:
    async with app_server(echo_app()) as srv:
        yield srv


async def test_passthrough_prefixes_go_to_the_network(server: AppServer) -> None:
    real = str(server.url("/echo"))
    with aioresponses(passthrough=[real]) as m:
        m.get(str(server.url("/mocked")), body="mocked")
        async with ClientSession() as session:
            async with session.get(real) as resp:
                assert (await resp.json())["method"] == "GET"
            async with session.get(server.url("/mocked")) as resp:
                assert await resp.text() == "mocked"
            async with session.get(real) as resp:  # a pooled real connection is reused
                assert (await resp.json())["path"] == "/echo"
    assert server.requests == 2 and server.connections == 1
    assert list(m.requests) == [("GET", server.url("/mocked"))]  # passthrough is not recorded


async def test_passthrough_unmatched_sends_the_rest_to_the_network(server: AppServer) -> None:
    with aioresponses(passthrough_unmatched=True) as m:
        m.get(str(server.url("/echo")), body="mocked")
        async with ClientSession() as session:
            async with session.get(server.url("/echo")) as resp:
                assert await resp.text() == "mocked"
            async with session.get(server.url("/echo")) as resp:  # the route is used up
                assert (await resp.json())["method"] == "GET"
            # a real redirect to a mocked URL is answered by the mock
            m.get("http://mocked.example.com/landing", body="landed")
            target = "http://mocked.example.com/landing"
            async with session.get(server.url(f"/redirect/302?to={target}")) as resp:
                assert await resp.text() == "landed"
    assert server.requests == 2
    assert len(m.requests[("GET", server.url("/echo"))]) == 2  # both calls are recorded


# ----- the pytest plugin -----


PLUGIN_TESTS = """
import re

import cyhttp
from cyhttp.testing import aioresponses


async def test_fixture(cyhttp_mock):
    cyhttp_mock.get("http://svc.example.com/ping", body="pong")
    async with cyhttp.ClientSession() as session:
        async with session.get("http://svc.example.com/ping") as resp:
            assert await resp.text() == "pong"
    cyhttp_mock.assert_called_once_with("http://svc.example.com/ping")


async def test_fixture_refuses_unmocked(cyhttp_mock):
    async with cyhttp.ClientSession() as session:
        try:
            await session.get("http://svc.example.com/other")
        except cyhttp.ClientConnectionError:
            return
    raise AssertionError("not refused")


@aioresponses()
async def test_decorated(mocked):
    mocked.get(re.compile(".*"), status=204)
    async with cyhttp.ClientSession() as session:
        async with session.get("http://svc.example.com/x") as resp:
            assert resp.status == 204


def test_no_mock_is_left_active():
    from cyhttp.testing import _ACTIVE
    assert _ACTIVE == []
"""


def _plugin_args() -> list[str]:
    """Load the plugin by name unless the installed distribution already registers it
    (registering it twice is an error)."""
    for ep in importlib.metadata.entry_points(group="pytest11"):
        if ep.name == "cyhttp":
            return ["-p", "no:cacheprovider"]
    return ["-p", "cyhttp._pytest_plugin", "-p", "no:cacheprovider"]


INNER_INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def test_the_pytest_plugin_provides_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_users_suite=PLUGIN_TESTS)
    result = pytester.runpytest_inprocess(*_plugin_args())
    result.assert_outcomes(passed=4)


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    entry_points = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
    assert entry_points["pytest11"] == {"cyhttp": "cyhttp._pytest_plugin"}
    module = importlib.import_module(entry_points["pytest11"]["cyhttp"])
    assert callable(module.cyhttp_mock)
