"""Client middlewares over real sockets: order, per-request replacement, headers set by a
middleware, retries that send the body again, and what happens when a middleware fails."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import cyhttp
from cyhttp import ClientSession
from cyhttp.client_middlewares import ClientHandlerType, ClientMiddlewareType

from .servers import AppServer, app_server, echo_app


def flaky_app(failures: int) -> tuple[web.Application, list[bytes]]:
    """``/flaky`` answers 503 ``failures`` times, then 200; every body received is kept."""
    bodies: list[bytes] = []

    async def flaky(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        if len(bodies) <= failures:
            return web.Response(status=503)
        return web.Response(body=b"done:" + bodies[-1])

    app = echo_app()
    app.router.add_route("*", "/flaky", flaky)
    return app, bodies


async def retry_503(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
    for _ in range(3):
        resp = await handler(req)
        if resp.status != 503:
            return resp
    return resp


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


def recorder(name: str, log: list[str]) -> ClientMiddlewareType:
    async def middleware(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        log.append(f"{name} in")
        resp = await handler(req)
        log.append(f"{name} out")
        return resp

    return middleware


async def test_middlewares_run_in_order_around_the_request(server: AppServer) -> None:
    log: list[str] = []
    middlewares = (recorder("a", log), recorder("b", log))
    async with (
        ClientSession(middlewares=middlewares) as session,
        session.get(server.url("/echo")) as resp,
    ):
        assert resp.status == 200
    assert log == ["a in", "b in", "b out", "a out"]


async def test_request_middlewares_replace_the_sessions(server: AppServer) -> None:
    log: list[str] = []
    async with ClientSession(middlewares=(recorder("session", log),)) as session:
        async with session.get(server.url("/echo"), middlewares=(recorder("req", log),)):
            pass
        async with session.get(server.url("/echo"), middlewares=()):
            pass
    assert log == ["req in", "req out"]


async def test_a_middleware_sets_headers_that_are_sent(server: AppServer) -> None:
    async def auth(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        req.headers["Authorization"] = "Bearer token-1"
        return await handler(req)

    async with (
        ClientSession(middlewares=(auth,)) as session,
        session.get(server.url("/echo")) as resp,
    ):
        got = await resp.json()
    assert ["Authorization", "Bearer token-1"] in got["headers"]


async def test_every_redirect_hop_goes_through_the_middlewares(server: AppServer) -> None:
    seen: list[str] = []

    async def record(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        seen.append(req.url.path)
        return await handler(req)

    async with (
        ClientSession(middlewares=(record,)) as session,
        session.get(server.url("/redirect/302")) as resp,
    ):
        assert resp.status == 200
    assert seen == ["/redirect/302", "/echo"]


def _file_body() -> io.BytesIO:
    f = io.BytesIO(b"skip:file body")
    f.seek(5)
    return f


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": b"raw bytes"}, b"raw bytes"),
        ({"data": "some text"}, b"some text"),
        ({"data": {"k": "v", "n": "2"}}, b"k=v&n=2"),
        ({"json": {"a": 1}}, b'{"a": 1}'),
        ({"data": "file"}, b"file body"),
    ],
    ids=["bytes", "str", "form", "json", "seekable-file"],
)
async def test_a_retry_sends_the_whole_body_again(kwargs: dict[str, Any], expected: bytes) -> None:
    if kwargs.get("data") == "file":
        kwargs = {"data": _file_body()}
    app, bodies = flaky_app(failures=2)
    async with app_server(app) as srv, ClientSession(middlewares=(retry_503,)) as session:
        async with session.post(srv.url("/flaky"), **kwargs) as resp:
            assert resp.status == 200
            assert await resp.read() == b"done:" + expected
        # the answered attempts gave their connections back: one connection served all
        assert srv.connections == 1
    assert bodies == [expected] * 3


async def test_a_one_shot_stream_cannot_be_sent_twice() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"only once"

    app, bodies = flaky_app(failures=1)
    async with app_server(app) as srv, ClientSession(middlewares=(retry_503,)) as session:
        with pytest.raises(cyhttp.ClientPayloadError, match="one-shot stream"):
            await session.post(srv.url("/flaky"), data=stream())
        assert session.connector is not None
        assert not session.connector._acquired  # type: ignore[attr-defined]
    assert bodies == [b"only once"]


async def test_a_middleware_exception_propagates_and_frees_the_connection(
    server: AppServer,
) -> None:
    class Boom(Exception):
        pass

    async def fail_after(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        resp = await handler(req)
        assert resp.status == 200
        raise Boom("refused by the middleware")

    async def fail_before(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        raise Boom("before sending")

    async with ClientSession() as session:
        with pytest.raises(Boom, match="refused"):
            await session.get(server.url("/bytes/1000000"), middlewares=(fail_after,))
        with pytest.raises(Boom, match="before"):
            await session.get(server.url("/echo"), middlewares=(fail_before,))
        assert session.connector is not None
        assert not session.connector._acquired  # type: ignore[attr-defined]
        async with session.get(server.url("/echo")) as resp:  # the session still works
            assert resp.status == 200
    assert server.requests == 2


async def test_a_middleware_may_send_its_own_request_through_the_session(
    server: AppServer,
) -> None:
    """A token fetched with the session itself (``middlewares=()`` avoids recursion)."""

    async def token(req: cyhttp.ClientRequest, handler: ClientHandlerType) -> Any:
        async with session.get(server.url("/echo?token"), middlewares=()) as answer:
            req.headers["X-Token"] = (await answer.json())["query"]
        return await handler(req)

    async with (
        ClientSession(middlewares=(token,)) as session,
        session.get(server.url("/echo")) as resp,
    ):
        got = await resp.json()
    assert ["X-Token", "token"] in got["headers"]


def test_middlewares_must_be_callables() -> None:
    with pytest.raises(TypeError, match="not callable"):
        ClientSession(middlewares=(42,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence"):
        ClientSession(middlewares=retry_503)  # type: ignore[arg-type]


def test_type_aliases_are_exported() -> None:
    assert cyhttp.ClientHandlerType is ClientHandlerType
    assert cyhttp.ClientMiddlewareType is ClientMiddlewareType
