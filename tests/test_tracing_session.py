"""Tracing through a session over real sockets: which signals fire, in which order, with
what, and ``trace_request_ctx`` reaching every callback."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

import cyhttp
from cyhttp import ClientSession, TraceConfig

from .servers import AppServer, app_server, canned, echo_app, raw_server

SIGNALS = [
    "on_request_start",
    "on_request_chunk_sent",
    "on_response_chunk_received",
    "on_request_end",
    "on_request_exception",
    "on_request_redirect",
    "on_request_headers_sent",
    "on_connection_queued_start",
    "on_connection_queued_end",
    "on_connection_create_start",
    "on_connection_create_end",
    "on_connection_reuseconn",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
    "on_dns_cache_hit",
    "on_dns_cache_miss",
]


def recording_config(log: list[tuple[str, Any, Any]]) -> TraceConfig:
    """A trace config whose every signal appends (name, context, params) to ``log``."""
    config = TraceConfig()
    for name in SIGNALS:

        async def record(session: Any, ctx: Any, params: Any, name: str = name) -> None:
            log.append((name, ctx, params))

        getattr(config, name).append(record)
    return config


def names(log: list[tuple[str, Any, Any]]) -> list[str]:
    return [name for name, _, _ in log]


@pytest.fixture
async def server() -> AppServer:
    async with app_server(echo_app()) as srv:
        yield srv


async def test_a_get_fires_its_signals_in_order(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []
    async with ClientSession(trace_configs=[recording_config(log)]) as session:
        async with session.get(server.url("/echo"), trace_request_ctx={"id": 1}) as resp:
            assert await resp.read()
        first = names(log)
        log.clear()
        async with session.get(server.url("/echo")) as resp:
            await resp.read()
        second = names(log)
    assert first == [
        "on_request_start",
        "on_connection_create_start",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]
    # the second request reuses the pooled connection
    assert second == [
        "on_request_start",
        "on_connection_reuseconn",
        "on_request_headers_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]


async def test_params_and_context(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []
    async with ClientSession(trace_configs=[recording_config(log)]) as session:
        url = server.url("/echo")
        async with session.post(url, data=b"payload", trace_request_ctx="mine") as resp:
            body = await resp.read()
    by_name = {name: (ctx, params) for name, ctx, params in log}
    for ctx, _ in by_name.values():
        assert isinstance(ctx, SimpleNamespace)
        assert ctx.trace_request_ctx == "mine"
    start = by_name["on_request_start"][1]
    assert (start.method, start.url) == ("POST", url)
    sent = by_name["on_request_headers_sent"][1]
    assert sent.headers["Content-Length"] == "7"
    assert by_name["on_request_chunk_sent"][1].chunk == b"payload"
    assert by_name["on_response_chunk_received"][1].chunk == body
    end = by_name["on_request_end"][1]
    assert end.response.status == 200


async def test_each_trace_config_has_its_own_context(server: AppServer) -> None:
    log_a: list[tuple[str, Any, Any]] = []
    log_b: list[tuple[str, Any, Any]] = []
    configs = [recording_config(log_a), recording_config(log_b)]
    async with (
        ClientSession(trace_configs=configs) as session,
        session.get(server.url("/echo")) as resp,
    ):
        await resp.read()
    assert names(log_a) == names(log_b)
    assert log_a[0][1] is not log_b[0][1]
    # a request's context is the same object in all its signals
    assert len({id(ctx) for _, ctx, _ in log_a}) == 1


async def test_redirect_signal(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []
    async with (
        ClientSession(trace_configs=[recording_config(log)]) as session,
        session.get(server.url("/redirect/302")) as resp,
    ):
        assert resp.status == 200
    redirects = [params for name, _, params in log if name == "on_request_redirect"]
    assert len(redirects) == 1
    assert redirects[0].response.status == 302
    assert redirects[0].url == server.url("/redirect/302")
    assert names(log).count("on_request_headers_sent") == 2
    assert names(log)[-1] == "on_request_end"


async def test_exception_signal_and_dns(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []
    async with raw_server(canned(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")) as srv:
        url = srv.url("/").with_host("localhost")
        async with ClientSession(trace_configs=[recording_config(log)]) as session:
            with pytest.raises(cyhttp.ClientResponseError):
                await session.get(url)
    got = names(log)
    assert got[0] == "on_request_start"
    assert got[-1] == "on_request_exception"
    assert "on_request_end" not in got
    assert got.index("on_dns_cache_miss") < got.index("on_dns_resolvehost_start")
    assert got.index("on_dns_resolvehost_end") < got.index("on_connection_create_end")
    exc = log[-1][2].exception
    assert isinstance(exc, cyhttp.ClientResponseError)


async def test_queued_signals_when_the_pool_is_full(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []
    connector = cyhttp.TCPConnector(limit=1)
    config = recording_config(log)
    async with ClientSession(connector=connector, trace_configs=[config]) as session:

        async def one() -> None:
            async with session.get(server.url("/echo")) as resp:
                await resp.read()

        await asyncio.gather(one(), one())
    got = names(log)
    assert got.count("on_connection_queued_start") == 1
    assert got.count("on_connection_queued_end") == 1


async def test_a_failing_callback_fails_the_request(server: AppServer) -> None:
    class Refused(Exception):
        pass

    async def refuse(session: Any, ctx: Any, params: Any) -> None:
        raise Refused

    config = TraceConfig()
    config.on_request_start.append(refuse)
    async with ClientSession(trace_configs=[config]) as session:
        with pytest.raises(Refused):
            await session.get(server.url("/echo"))
        assert session.connector is not None
        assert not session.connector._acquired  # type: ignore[attr-defined]


async def test_configs_are_frozen_by_the_session() -> None:
    config = TraceConfig()
    async with ClientSession(trace_configs=[config]) as session:
        assert session.trace_configs == [config]
        with pytest.raises(RuntimeError):
            config.on_request_start.append(lambda *a: None)


async def test_no_trace_configs_no_traces(server: AppServer) -> None:
    """A session without trace configs builds no Trace object at all."""
    async with ClientSession() as session:
        assert session._trace_configs == []
        async with session.get(server.url("/echo")) as resp:
            assert resp.status == 200


async def test_a_streamed_body_reports_each_piece(server: AppServer) -> None:
    log: list[tuple[str, Any, Any]] = []

    async def pieces() -> Any:
        for piece in (b"one", b"two", b"three"):
            yield piece

    async with (
        ClientSession(trace_configs=[recording_config(log)]) as session,
        session.post(server.url("/echo"), data=pieces()) as resp,
    ):
        assert (await resp.json())["body"] == "onetwothree"
    chunks = [params.chunk for name, _, params in log if name == "on_request_chunk_sent"]
    assert chunks == [b"one", b"two", b"three"]


async def test_headers_added_by_a_start_callback_are_sent(server: AppServer) -> None:
    """What a propagator does: a trace context header set in on_request_start."""

    async def inject(session: Any, ctx: Any, params: Any) -> None:
        params.headers["traceparent"] = "00-abc-def-01"

    config = TraceConfig()
    config.on_request_start.append(inject)
    async with ClientSession(trace_configs=[config]) as session:
        for _ in range(2):  # the second time too (no request object is reused)
            async with session.get(server.url("/echo")) as resp:
                got = await resp.json()
            assert ["traceparent", "00-abc-def-01"] in [[k.lower(), v] for k, v in got["headers"]]
