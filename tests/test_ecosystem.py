"""aiohttp's client ecosystem on a cyhttp.ClientSession, over real sockets.

Each library is used the way its own documentation shows, with a ``cyhttp.ClientSession``
where it expects aiohttp's, against a local aiohttp.web (or raw) server:

* aiohttp-retry: statuses and exceptions retried, the attempt in ``trace_request_ctx``;
* OpenTelemetry's aiohttp-client instrumentation: one CLIENT span per request, errors on
  the span, the ``traceparent`` header sent; ``cyhttp.instrumentation`` for every session;
* aiohttp-client-cache: the mixin with the SQLite backend serves a repeat from the cache;
* the semi-private names they reach for (``ClientResponse._released``, aiohttp 3.14's
  keyword form of ``ClientResponse(...)``) mean what they mean in aiohttp;
* the README's snippets for these libraries, run against the local server.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import cyhttp
import cyhttp.instrumentation as instrumentation
from cyhttp.client_reqrep import RequestInfo
from cyhttp.streams import StreamReader

from .servers import AppServer, app_server, raw_server, read_request

aiohttp_retry = pytest.importorskip("aiohttp_retry")
otel_aiohttp = pytest.importorskip("opentelemetry.instrumentation.aiohttp_client")
otel_sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
client_cache = pytest.importorskip("aiohttp_client_cache")

from aiohttp_client_cache import SQLiteBackend  # noqa: E402
from aiohttp_client_cache.response import set_response_defaults  # noqa: E402
from aiohttp_client_cache.session import CacheMixin  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """No test leaves a factory behind in cyhttp.instrumentation's registry."""
    instrumentation.uninstrument_sessions()
    yield
    instrumentation.uninstrument_sessions()


# ----- servers -----


class Counter:
    """Hits per path of the test app."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.headers: list[CIMultiDictProxy[str]] = []

    def hit(self, request: web.Request) -> int:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        self.headers.append(request.headers)
        return self.hits[request.path]


def ecosystem_app(counter: Counter) -> web.Application:
    """``/`` and ``/data``: JSON with the hit count; ``/flaky/{n}``: 503 for the first n
    hits, then 200; ``/missing``: 404."""

    async def data(request: web.Request) -> web.Response:
        return web.json_response({"hit": counter.hit(request)})

    async def flaky(request: web.Request) -> web.Response:
        hit = counter.hit(request)
        failures = int(request.match_info["n"])
        return web.Response(status=503 if hit <= failures else 200, text=f"hit {hit}")

    async def missing(request: web.Request) -> web.Response:
        counter.hit(request)
        return web.Response(status=404, text="no")

    app = web.Application()
    app.router.add_get("/", data)
    app.router.add_get("/data", data)
    app.router.add_get("/flaky/{n}", flaky)
    app.router.add_get("/missing", missing)
    return app


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
async def server(counter: Counter) -> AsyncIterator[AppServer]:
    async with app_server(ecosystem_app(counter)) as srv:
        yield srv


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def recording_config(log: list[tuple[str, Any]]) -> cyhttp.TraceConfig:
    """A trace config logging (signal, trace_request_ctx) at request start and end."""
    config = cyhttp.TraceConfig()

    async def on_start(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        log.append(("start", ctx.trace_request_ctx))

    async def on_end(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        log.append(("end", ctx.trace_request_ctx))

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    return config


# ----- aiohttp-retry -----


def retry_options(**kwargs: Any) -> Any:
    return aiohttp_retry.ExponentialRetry(attempts=3, start_timeout=0.01, **kwargs)


async def test_retry_503_until_200(server: AppServer, counter: Counter) -> None:
    session = cyhttp.ClientSession()
    async with (
        aiohttp_retry.RetryClient(
            client_session=session, retry_options=retry_options(statuses={503})
        ) as client,
        client.get(str(server.url("/flaky/2"))) as resp,
    ):
        assert isinstance(resp, cyhttp.ClientResponse)
        assert resp.status == 200
        assert await resp.text() == "hit 3"
    assert counter.hits == {"/flaky/2": 3}
    assert session.closed  # RetryClient closes the session it was given
    # the failed attempts were not released by aiohttp-retry, yet their (complete)
    # bodies let the connection go back to the pool: one connection for all three
    assert server.connections == 1


async def test_retry_gives_up_after_the_attempts(server: AppServer, counter: Counter) -> None:
    async with (
        aiohttp_retry.RetryClient(
            client_session=cyhttp.ClientSession(), retry_options=retry_options(statuses={503})
        ) as client,
        client.get(server.url("/flaky/9")) as resp,
    ):
        assert resp.status == 503
        assert await resp.text() == "hit 3"
    assert counter.hits == {"/flaky/9": 3}


async def test_retry_after_a_dropped_connection() -> None:
    """The first connection is closed without an answer: cyhttp raises
    ServerDisconnectedError (a ClientConnectionError), which aiohttp-retry retries."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    seen = 0

    async def drop_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        await read_request(reader)
        seen += 1
        if seen > 1:
            writer.write(ok)
            await writer.drain()

    async with raw_server(drop_first) as srv:
        options = retry_options(exceptions={cyhttp.ClientConnectionError})
        async with (
            aiohttp_retry.RetryClient(
                client_session=cyhttp.ClientSession(), retry_options=options
            ) as client,
            client.get(srv.url("/")) as resp,
        ):
            assert resp.status == 200
            assert await resp.read() == b"ok"
    assert seen == 2
    assert srv.connections == 2


async def test_retry_does_not_retry_an_exception_it_was_not_given() -> None:
    """aiohttp-retry retries only the exception classes named: the error surfaces."""
    port = closed_port()
    async with aiohttp_retry.RetryClient(
        client_session=cyhttp.ClientSession(), retry_options=retry_options()
    ) as client:
        with pytest.raises(cyhttp.ClientConnectorError):
            await client.get(f"http://127.0.0.1:{port}/")


async def test_retry_attempt_reaches_the_trace_callbacks(
    server: AppServer, counter: Counter
) -> None:
    log: list[tuple[str, Any]] = []
    session = cyhttp.ClientSession(trace_configs=[recording_config(log)])
    async with aiohttp_retry.RetryClient(
        client_session=session, retry_options=retry_options(statuses={503})
    ) as client:
        url = server.url("/flaky/2")
        async with client.get(url, trace_request_ctx={"job": "sync"}) as resp:
            assert resp.status == 200
    assert log == [
        (stage, {"current_attempt": attempt, "job": "sync"})
        for attempt in (1, 2, 3)
        for stage in ("start", "end")
    ]


# ----- OpenTelemetry -----


@pytest.fixture
def spans() -> Iterator[tuple[Any, InMemorySpanExporter]]:
    """A tracer provider exporting to memory (not installed globally)."""
    exporter = InMemorySpanExporter()
    provider = otel_sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def traceparent_ids(header: str) -> tuple[int, int]:
    """(trace id, span id) of a W3C traceparent header."""
    match = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}", header)
    assert match is not None, header
    return int(match[1], 16), int(match[2], 16)


async def test_otel_one_client_span_per_request(
    server: AppServer, counter: Counter, spans: tuple[Any, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    config = otel_aiohttp.create_trace_config(tracer_provider=provider)
    async with cyhttp.ClientSession(trace_configs=[config]) as session:
        for path in ("/data", "/missing"):
            async with session.get(server.url(path)) as resp:
                await resp.read()
    found = exporter.get_finished_spans()
    assert [span.name for span in found] == ["GET", "GET"]
    ok, missing = found
    for span, path, status in ((ok, "/data", 200), (missing, "/missing", 404)):
        assert span.kind is SpanKind.CLIENT
        assert span.attributes["http.method"] == "GET"
        assert span.attributes["http.url"] == str(server.url(path))
        assert span.attributes["http.status_code"] == status
    assert ok.status.status_code is StatusCode.UNSET
    assert missing.status.status_code is StatusCode.ERROR  # a 4xx fails a client span
    # the span's context went out with each request (distributed tracing works)
    sent = [traceparent_ids(headers["traceparent"]) for headers in counter.headers]
    assert sent == [(s.context.trace_id, s.context.span_id) for s in found]


async def test_otel_error_recorded_on_the_span(spans: tuple[Any, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    port = closed_port()
    config = otel_aiohttp.create_trace_config(tracer_provider=provider)
    async with cyhttp.ClientSession(trace_configs=[config]) as session:
        with pytest.raises(cyhttp.ClientConnectorError):
            await session.get(f"http://127.0.0.1:{port}/x")
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.CLIENT
    assert span.attributes["http.url"] == f"http://127.0.0.1:{port}/x"
    assert "http.status_code" not in span.attributes
    assert span.status.status_code is StatusCode.ERROR
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("ClientConnectorError")


async def test_otel_and_retry_together(
    server: AppServer, spans: tuple[Any, InMemorySpanExporter]
) -> None:
    """A span per attempt: what aiohttp users see with both libraries."""
    provider, exporter = spans
    session = cyhttp.ClientSession(
        trace_configs=[otel_aiohttp.create_trace_config(tracer_provider=provider)]
    )
    async with (
        aiohttp_retry.RetryClient(
            client_session=session, retry_options=retry_options(statuses={503})
        ) as client,
        client.get(server.url("/flaky/1")) as resp,
    ):
        assert resp.status == 200
    codes = [span.attributes["http.status_code"] for span in exporter.get_finished_spans()]
    assert codes == [503, 200]


async def test_otel_request_duration_metric(server: AppServer) -> None:
    """The instrumentation's duration histogram gets one point per request, with the
    method and status of the request."""
    metrics = pytest.importorskip("opentelemetry.sdk.metrics")
    export = pytest.importorskip("opentelemetry.sdk.metrics.export")
    reader = export.InMemoryMetricReader()
    meter_provider = metrics.MeterProvider(metric_readers=[reader])
    config = otel_aiohttp.create_trace_config(meter_provider=meter_provider)
    async with cyhttp.ClientSession(trace_configs=[config]) as session:
        for path in ("/data", "/missing"):
            async with session.get(server.url(path)) as resp:
                await resp.read()
    data = reader.get_metrics_data()
    points = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "http.client.duration"
        for point in metric.data.data_points
    ]
    statuses = sorted(point.attributes["http.status_code"] for point in points)
    assert statuses == [200, 404]
    assert all(point.count == 1 and point.attributes["http.method"] == "GET" for point in points)
    meter_provider.shutdown()


# ----- cyhttp.instrumentation: every session -----


async def test_instrument_sessions_appends_the_factory_configs(server: AppServer) -> None:
    own: list[tuple[str, Any]] = []
    added: list[tuple[str, Any]] = []
    mine = recording_config(own)
    calls = 0

    def factory() -> cyhttp.TraceConfig:
        nonlocal calls
        calls += 1
        return recording_config(added)

    assert instrumentation.instrument_sessions(factory) is factory
    instrumentation.instrument_sessions(factory)  # a second time changes nothing
    assert instrumentation.instrumented() == (factory,)
    async with cyhttp.ClientSession(trace_configs=[mine]) as session:
        assert calls == 1
        assert session.trace_configs[0] is mine and len(session.trace_configs) == 2
        async with session.get(server.url("/data"), trace_request_ctx="a") as resp:
            await resp.read()
        assert own == added == [("start", "a"), ("end", "a")]
        # taken out of this session: its own config still traces
        instrumentation.uninstrument_session(session)
        assert session.trace_configs == [mine]
        async with session.get(server.url("/data"), trace_request_ctx="b") as resp:
            await resp.read()
        assert own[-1] == ("end", "b") and len(added) == 2
    instrumentation.uninstrument_sessions(factory)
    async with cyhttp.ClientSession() as session:
        assert session.trace_configs == []
    assert calls == 1


async def test_instrument_sessions_reaches_one_shot_requests(server: AppServer) -> None:
    """``cyhttp.request()`` makes a session too, so it is traced as well."""
    log: list[tuple[str, Any]] = []
    instrumentation.instrument_sessions(lambda: recording_config(log))
    async with cyhttp.request("GET", server.url("/data")) as resp:
        assert resp.status == 200
    assert [stage for stage, _ in log] == ["start", "end"]


async def test_empty_registry_costs_a_session_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no factory the registry code is not even called."""

    def must_not_run(configs: Any) -> Any:
        raise AssertionError("the registry was consulted while empty")

    monkeypatch.setattr(cyhttp.client, "session_trace_configs", must_not_run)
    async with cyhttp.ClientSession() as session:
        assert session.trace_configs == []
    instrumentation.instrument_sessions(cyhttp.TraceConfig)
    with pytest.raises(AssertionError, match="consulted"):
        cyhttp.ClientSession()


def test_a_factory_must_make_trace_configs() -> None:
    with pytest.raises(TypeError, match="callable"):
        instrumentation.instrument_sessions("not a factory")  # type: ignore[arg-type]
    instrumentation.instrument_sessions(lambda: "nope")
    with pytest.raises(TypeError, match="not a TraceConfig"):
        cyhttp.ClientSession()


async def test_instrument_opentelemetry_every_session(
    server: AppServer, counter: Counter, spans: tuple[Any, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    instrumentation.instrument_opentelemetry(tracer_provider=provider)
    instrumentation.instrument_opentelemetry(tracer_provider=provider)  # replaces, not adds
    async with cyhttp.ClientSession() as first, cyhttp.ClientSession() as second:
        for session in (first, second):
            async with session.get(server.url("/data")) as resp:
                await resp.read()
        assert len(exporter.get_finished_spans()) == 2
        # OpenTelemetry's own per-session switch works on a cyhttp session
        otel_aiohttp.AioHttpClientInstrumentor.uninstrument_session(first)
        async with first.get(server.url("/data")) as resp:
            await resp.read()
        assert len(exporter.get_finished_spans()) == 2
    instrumentation.uninstrument_opentelemetry()
    assert instrumentation.instrumented() == ()
    async with cyhttp.ClientSession() as session, session.get(server.url("/data")) as resp:
        await resp.read()
    assert len(exporter.get_finished_spans()) == 2
    assert "traceparent" not in counter.headers[-1]


async def test_instrument_opentelemetry_extra_trace_configs(
    server: AppServer, spans: tuple[Any, InMemorySpanExporter]
) -> None:
    """``trace_configs=`` (as the instrumentor's) are shared by every new session, before
    OpenTelemetry's own config; the session's own configs come first."""
    provider, exporter = spans
    shared_log: list[tuple[str, Any]] = []
    shared = recording_config(shared_log)
    instrumentation.instrument_opentelemetry(tracer_provider=provider, trace_configs=[shared])
    own = recording_config([])
    async with cyhttp.ClientSession(trace_configs=[own]) as first, cyhttp.ClientSession() as second:
        assert first.trace_configs[:2] == [own, shared] and len(first.trace_configs) == 3
        assert second.trace_configs[0] is shared and len(second.trace_configs) == 2
        for session in (first, second):
            async with session.get(server.url("/data")) as resp:
                await resp.read()
    assert [stage for stage, _ in shared_log] == ["start", "end", "start", "end"]
    assert len(exporter.get_finished_spans()) == 2


async def test_instrument_opentelemetry_reads_the_header_capture_variables(
    server: AppServer, spans: tuple[Any, InMemorySpanExporter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As AioHttpClientInstrumentor does, the OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*
    variables choose the headers recorded on the span (and those redacted)."""
    provider, exporter = spans
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", "x-.*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE", "content-type")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS", "x-secret")
    instrumentation.instrument_opentelemetry(tracer_provider=provider)
    headers = {"X-Team": "core", "X-Secret": "hunter2"}
    async with (
        cyhttp.ClientSession() as session,
        session.get(server.url("/data"), headers=headers) as resp,
    ):
        await resp.read()
    (span,) = exporter.get_finished_spans()
    assert span.attributes["http.request.header.x_team"] == ("core",)
    assert span.attributes["http.request.header.x_secret"] == ("[REDACTED]",)
    assert span.attributes["http.response.header.content_type"] == (
        "application/json; charset=utf-8",
    )


def test_instrument_opentelemetry_needs_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, otel_aiohttp.__name__, None)
    with pytest.raises(ImportError, match="opentelemetry-instrumentation-aiohttp-client"):
        instrumentation.instrument_opentelemetry()
    assert instrumentation.instrumented() == ()


# ----- aiohttp-client-cache -----


@pytest.fixture
def cache_ready() -> None:
    """The one line the README asks for: the library's response helper learns cyhttp's
    response class (it dispatches on aiohttp's)."""
    set_response_defaults.register(
        cyhttp.ClientResponse, set_response_defaults.dispatch(aiohttp.ClientResponse)
    )


class CachedSession(CacheMixin, cyhttp.ClientSession):  # type: ignore[misc]
    """aiohttp-client-cache's documented mixin, on cyhttp's session."""


async def test_cache_serves_the_repeat_without_the_server(
    cache_ready: None, server: AppServer, counter: Counter, tmp_path: Path
) -> None:
    cache_file = tmp_path / "http_cache.sqlite"
    url = server.url("/data")
    async with CachedSession(cache=SQLiteBackend(cache_name=str(cache_file))) as session:
        async with session.get(url) as first:
            assert isinstance(first, cyhttp.ClientResponse)
            assert first.from_cache is False
            assert await first.json() == {"hit": 1}
        async with session.get(url) as second:
            assert second.from_cache is True
            assert second.status == 200
            assert second.headers["Content-Type"].startswith("application/json")
            assert await second.json() == {"hit": 1}
        assert await session.has_url(url)
    assert counter.hits == {"/data": 1}
    # the cache is on disk: a new session (a new process, in real life) uses it
    backend = SQLiteBackend(cache_name=str(cache_file))
    async with CachedSession(cache=backend) as session, session.get(url) as third:
        assert third.from_cache is True
        assert await third.read() == b'{"hit": 1}'
    assert counter.hits == {"/data": 1}


async def test_cache_not_used_when_disabled_or_uncacheable(
    cache_ready: None, server: AppServer, counter: Counter, tmp_path: Path
) -> None:
    backend = SQLiteBackend(cache_name=str(tmp_path / "c.sqlite"), allowed_codes=(200,))
    async with CachedSession(cache=backend) as session:
        for _ in range(2):
            async with session.get(server.url("/missing")) as resp:
                assert resp.status == 404 and resp.from_cache is False
        async with session.disabled():
            for _ in range(2):
                async with session.get(server.url("/data")) as resp:
                    assert resp.from_cache is False
    assert counter.hits == {"/missing": 2, "/data": 2}


async def test_cache_keeps_the_redirect_history(
    cache_ready: None, tmp_path: Path, counter: Counter
) -> None:
    """A redirected response is cached with its history (whose responses were released
    by the session: ``_released`` tells the library not to read them)."""
    app = ecosystem_app(counter)

    async def hop(request: web.Request) -> web.Response:
        counter.hit(request)
        return web.Response(status=302, headers={"Location": "/data"})

    app.router.add_get("/hop", hop)
    backend = SQLiteBackend(cache_name=str(tmp_path / "c"))
    async with app_server(app) as srv, CachedSession(cache=backend) as session:
        for _ in range(2):
            async with session.get(srv.url("/hop")) as resp:
                assert await resp.json() == {"hit": 1}
                assert [r.status for r in resp.history] == [302]
        assert resp.from_cache is True
    assert counter.hits == {"/hop": 1, "/data": 1}


async def test_cache_revalidates_with_a_conditional_request(
    cache_ready: None, tmp_path: Path, counter: Counter
) -> None:
    """``refresh=True``: the library asks again with If-None-Match through cyhttp; a 304
    keeps the cached response, a new ETag replaces it."""
    app = ecosystem_app(counter)
    version = {"etag": '"v1"'}

    async def tagged(request: web.Request) -> web.Response:
        counter.hit(request)
        if request.headers.get("If-None-Match") == version["etag"]:
            return web.Response(status=304, headers={"ETag": version["etag"]})
        return web.Response(text=version["etag"], headers={"ETag": version["etag"]})

    app.router.add_get("/tagged", tagged)
    backend = SQLiteBackend(cache_name=str(tmp_path / "c"))
    async with app_server(app) as srv, CachedSession(cache=backend) as session:
        url = srv.url("/tagged")
        async with session.get(url) as resp:
            assert await resp.text() == '"v1"'
        async with session.get(url, refresh=True) as resp:
            assert resp.from_cache is True
            assert await resp.text() == '"v1"'
        assert counter.headers[-1]["If-None-Match"] == '"v1"'
        version["etag"] = '"v2"'
        async with session.get(url, refresh=True) as resp:
            assert resp.from_cache is False and resp.status == 200
            assert await resp.text() == '"v2"'
        async with session.get(url) as resp:
            assert resp.from_cache is True
            assert await resp.text() == '"v2"'
    assert counter.hits == {"/tagged": 3}


# ----- the semi-private names, with aiohttp 3.14's meaning -----


@pytest.mark.parametrize("session_class", [aiohttp.ClientSession, cyhttp.ClientSession])
async def test_released_means_what_it_means_in_aiohttp(
    session_class: Any, server: AppServer
) -> None:
    """``_released``: release() or close() was called, by the user or the session (the
    responses of a redirect history). The same checks pass on aiohttp's own session."""
    async with session_class() as session:
        resp = await session.get(server.url("/data"))
        assert resp._released is False
        await resp.read()
        assert resp._released is False  # read to the end is not released
        resp.release()
        assert resp._released is True
        resp = await session.get(server.url("/data"))
        resp.close()
        assert resp._released is True
        resp = await session.get(server.url("/missing"))
        with pytest.raises(Exception) as info:
            resp.raise_for_status()  # outside ``async with``: releases the response
        assert info.value.status == 404
        assert resp._released is True
        async with session.get(server.url("/data")) as resp:
            assert resp._released is False
        assert resp._released is True


def aiohttp_form(loop: asyncio.AbstractEventLoop, url: URL, **overrides: Any) -> dict[str, Any]:
    """The keywords aiohttp 3.14's ClientRequest builds its response with."""
    info = RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict(Accept="*/*")), url)
    kwargs: dict[str, Any] = {
        "writer": None,
        "continue100": None,
        "timer": aiohttp.helpers.TimerNoop(),
        "request_info": info,
        "traces": [],
        "loop": loop,
        "session": None,
        "stream_writer": SimpleNamespace(output_size=0),
    }
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize("response_class", [aiohttp.ClientResponse, cyhttp.ClientResponse])
async def test_response_built_the_aiohttp_way(response_class: Any) -> None:
    """A library may build a response as aiohttp does (mocking libraries do), then set
    its status and body: cyhttp's is as usable as aiohttp's own (same checks for both)."""
    loop = asyncio.get_running_loop()
    url = URL("http://127.0.0.1/page#frag")
    form = aiohttp_form(loop, url)
    resp = response_class("GET", url, **form)
    assert resp.method == "GET"
    assert resp.url == URL("http://127.0.0.1/page")
    assert resp.real_url == url
    assert resp.request_info is form["request_info"]
    assert resp.history == ()
    assert resp.connection is None
    assert resp._released is False
    resp.status, resp.reason = 200, "OK"
    assert resp.ok
    body = StreamReader(loop=loop)
    body.feed_data(b'{"a": 1}')
    body.feed_eof()
    resp.content = body
    assert await resp.read() == b'{"a": 1}'
    assert await resp.text(encoding="utf-8") == '{"a": 1}'
    assert await resp.json(encoding="utf-8", content_type=None) == {"a": 1}
    resp.release()
    assert resp._released is True and resp.closed


async def test_response_built_the_aiohttp_way_stops_its_writer() -> None:
    """The ``writer`` task given (the request body being sent) is stopped by release(),
    and the ``traces`` given are told of the body read."""
    loop = asyncio.get_running_loop()
    writer = asyncio.ensure_future(asyncio.sleep(3600))
    chunks: list[bytes] = []
    trace = SimpleNamespace()

    async def received(method: str, url: URL, chunk: bytes) -> None:
        chunks.append(chunk)

    trace.send_response_chunk_received = received
    url = URL("http://127.0.0.1/")
    resp = cyhttp.ClientResponse(
        "POST", url, **aiohttp_form(loop, url, writer=writer, traces=[trace])
    )
    body = StreamReader(loop=loop)
    body.feed_data(b"x")
    body.feed_eof()
    resp.content = body
    assert await resp.read() == b"x"
    assert chunks == [b"x"]
    resp.release()
    with pytest.raises(asyncio.CancelledError):
        await writer


def test_response_refuses_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="bogus"):
        cyhttp.ClientResponse("GET", URL("http://127.0.0.1/"), bogus=1)


# ----- the README's snippets -----


def readme_snippets() -> dict[str, str]:
    """The python blocks of the README's ecosystem section, by the library they import."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Using cyhttp with aiohttp's ecosystem")
    section = text[start : text.index("\n## ", start + 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    found = {}
    for block in blocks:
        for name in ("aiohttp_retry", "opentelemetry", "aiohttp_client_cache"):
            if f"from {name}" in block:
                found[name] = block
    return found


def test_readme_has_a_snippet_per_library() -> None:
    assert sorted(readme_snippets()) == ["aiohttp_client_cache", "aiohttp_retry", "opentelemetry"]


@pytest.mark.parametrize("library", ["aiohttp_retry", "opentelemetry", "aiohttp_client_cache"])
async def test_readme_snippet_runs(
    library: str,
    server: AppServer,
    counter: Counter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each snippet runs as written, except that ``main(url)`` is awaited here with the
    local server's URL instead of ``asyncio.run`` with example.com."""
    code = readme_snippets()[library]
    run_line = 'asyncio.run(main("https://example.com/"))'
    assert code.rstrip().endswith(run_line)
    monkeypatch.chdir(tmp_path)  # the cache's SQLite file lands here
    namespace: dict[str, Any] = {"__name__": f"readme_{library}"}
    exec(compile(code.replace(run_line, ""), f"README:{library}", "exec"), namespace)
    await namespace["main"](str(server.url("/")))
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(line.startswith("200") for line in printed), printed
    if library == "aiohttp_client_cache":
        assert printed == ["200 False b'{\"hit\": 1}'", "200 True b'{\"hit\": 1}'"]
        assert (tmp_path / "http_cache.sqlite").exists()
    assert instrumentation.instrumented() == ()
    assert counter.hits["/"] == {"aiohttp_client_cache": 1, "opentelemetry": 2}.get(library, 1)
