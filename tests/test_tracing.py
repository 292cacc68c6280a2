"""Client tracing: TraceConfig and its frozen signal lists, the Trace*Params classes, Trace's
senders, and the connector's signals (queued, create, reuseconn, DNS) over real sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from types import SimpleNamespace
from typing import Any

import pytest
from yarl import URL

import cyhttp
from cyhttp import TCPConnector, tracing
from cyhttp.abc import AbstractResolver
from cyhttp.connector import ConnectionKey
from cyhttp.tracing import Trace, TraceConfig

from .servers import app_server, echo_app

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

URL_ = URL("http://example.test/path")
HEADERS = {"X-A": "1"}
RESPONSE = object()
ERROR = ValueError("boom")

#: signal, Trace sender and its arguments, params class, the params' fields as a dict
SENDS: list[tuple[str, str, tuple[Any, ...], str, dict[str, Any]]] = [
    (
        "on_request_start",
        "send_request_start",
        ("GET", URL_, HEADERS),
        "TraceRequestStartParams",
        {"method": "GET", "url": URL_, "headers": HEADERS},
    ),
    (
        "on_request_chunk_sent",
        "send_request_chunk_sent",
        ("POST", URL_, b"abc"),
        "TraceRequestChunkSentParams",
        {"method": "POST", "url": URL_, "chunk": b"abc"},
    ),
    (
        "on_response_chunk_received",
        "send_response_chunk_received",
        ("GET", URL_, b"xyz"),
        "TraceResponseChunkReceivedParams",
        {"method": "GET", "url": URL_, "chunk": b"xyz"},
    ),
    (
        "on_request_end",
        "send_request_end",
        ("GET", URL_, HEADERS, RESPONSE),
        "TraceRequestEndParams",
        {"method": "GET", "url": URL_, "headers": HEADERS, "response": RESPONSE},
    ),
    (
        "on_request_exception",
        "send_request_exception",
        ("GET", URL_, HEADERS, ERROR),
        "TraceRequestExceptionParams",
        {"method": "GET", "url": URL_, "headers": HEADERS, "exception": ERROR},
    ),
    (
        "on_request_redirect",
        "send_request_redirect",
        ("GET", URL_, HEADERS, RESPONSE),
        "TraceRequestRedirectParams",
        {"method": "GET", "url": URL_, "headers": HEADERS, "response": RESPONSE},
    ),
    (
        "on_request_headers_sent",
        "send_request_headers_sent",
        ("PUT", URL_, HEADERS),
        "TraceRequestHeadersSentParams",
        {"method": "PUT", "url": URL_, "headers": HEADERS},
    ),
    (
        "on_connection_queued_start",
        "send_connection_queued_start",
        (),
        "TraceConnectionQueuedStartParams",
        {},
    ),
    (
        "on_connection_queued_end",
        "send_connection_queued_end",
        (),
        "TraceConnectionQueuedEndParams",
        {},
    ),
    (
        "on_connection_create_start",
        "send_connection_create_start",
        (),
        "TraceConnectionCreateStartParams",
        {},
    ),
    (
        "on_connection_create_end",
        "send_connection_create_end",
        (),
        "TraceConnectionCreateEndParams",
        {},
    ),
    (
        "on_connection_reuseconn",
        "send_connection_reuseconn",
        (),
        "TraceConnectionReuseconnParams",
        {},
    ),
    (
        "on_dns_resolvehost_start",
        "send_dns_resolvehost_start",
        ("a.test",),
        "TraceDnsResolveHostStartParams",
        {"host": "a.test"},
    ),
    (
        "on_dns_resolvehost_end",
        "send_dns_resolvehost_end",
        ("a.test",),
        "TraceDnsResolveHostEndParams",
        {"host": "a.test"},
    ),
    (
        "on_dns_cache_hit",
        "send_dns_cache_hit",
        ("a.test",),
        "TraceDnsCacheHitParams",
        {"host": "a.test"},
    ),
    (
        "on_dns_cache_miss",
        "send_dns_cache_miss",
        ("a.test",),
        "TraceDnsCacheMissParams",
        {"host": "a.test"},
    ),
]


# ----------------------------------------------------------------------- TraceConfig


def test_every_signal_starts_empty_and_mutable() -> None:
    config = TraceConfig()
    for name in SIGNALS:
        signal = getattr(config, name)
        assert len(signal) == 0 and not signal.frozen, name
    assert len({id(getattr(config, name)) for name in SIGNALS}) == len(SIGNALS)


def test_freeze_forbids_every_change() -> None:
    async def cb(*args: Any) -> None:
        pass

    config = TraceConfig()
    config.on_request_start.append(cb)
    config.on_request_start.insert(0, cb)
    config.on_request_start[1] = cb
    config.freeze()
    for name in SIGNALS:
        assert getattr(config, name).frozen, name
    signal = config.on_request_start
    changes = [
        lambda: signal.append(cb),
        lambda: signal.extend([cb]),
        lambda: signal.insert(0, cb),
        lambda: signal.remove(cb),
        lambda: signal.pop(),
        lambda: signal.clear(),
        lambda: signal.__setitem__(0, cb),
        lambda: signal.__delitem__(0),
        lambda: signal.__iadd__([cb]),
    ]
    for change in changes:
        with pytest.raises(RuntimeError, match="frozen"):
            change()
    assert list(signal) == [cb, cb]  # nothing changed
    assert signal == [cb, cb] and cb in signal and signal[0] is cb


async def test_a_signal_is_sent_only_once_frozen() -> None:
    got: list[Any] = []

    async def cb(*args: Any) -> None:
        got.append(args)

    config = TraceConfig()
    config.on_dns_cache_hit.append(cb)
    with pytest.raises(RuntimeError, match="non-frozen"):
        await config.on_dns_cache_hit.send(1, 2, 3)
    config.freeze()
    await config.on_dns_cache_hit.send(1, 2, 3)
    assert got == [(1, 2, 3)]


def test_trace_config_ctx() -> None:
    config = TraceConfig()
    ctx = config.trace_config_ctx()
    assert isinstance(ctx, SimpleNamespace) and ctx.trace_request_ctx is None
    assert config.trace_config_ctx(trace_request_ctx={"a": 1}).trace_request_ctx == {"a": 1}
    assert config.trace_config_ctx() is not ctx  # a new one for each request

    class Ctx:
        def __init__(self, trace_request_ctx: Any) -> None:
            self.seen = trace_request_ctx

    custom = TraceConfig(trace_config_ctx_factory=Ctx)
    made = custom.trace_config_ctx(trace_request_ctx="r")
    assert isinstance(made, Ctx) and made.seen == "r"


def test_top_level_exports() -> None:
    names = ["TraceConfig"] + [params for _, _, _, params, _ in SENDS]
    for name in names:
        assert getattr(cyhttp, name) is getattr(tracing, name), name
        assert name in cyhttp.__all__, name
    from cyhttp import TraceRequestEndParams  # noqa: F401  (a from-import works too)


# ----------------------------------------------------------------------- params


@pytest.mark.parametrize(
    ("params_name", "fields"), [(p, f) for _, _, _, p, f in SENDS], ids=[s[3] for s in SENDS]
)
def test_params_are_frozen_slotted_dataclasses(params_name: str, fields: dict) -> None:
    cls = getattr(tracing, params_name)
    assert [f.name for f in dataclasses.fields(cls)] == list(fields)
    params = cls(**fields)
    assert not hasattr(params, "__dict__")
    assert params == cls(**fields)
    for name, value in fields.items():
        assert getattr(params, name) is value
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, name, None)


# ----------------------------------------------------------------------- Trace


@pytest.mark.parametrize(
    ("signal", "sender", "args", "params_name", "fields"), SENDS, ids=[s[0] for s in SENDS]
)
async def test_trace_sends_each_stage_to_its_callbacks_in_order(
    signal: str, sender: str, args: tuple, params_name: str, fields: dict
) -> None:
    calls: list[tuple[str, Any, Any, Any]] = []

    def recorder(tag: str) -> Any:
        async def cb(session: Any, ctx: Any, params: Any) -> None:
            await asyncio.sleep(0)  # callbacks are awaited one after the other
            calls.append((tag, session, ctx, params))

        return cb

    config = TraceConfig()
    getattr(config, signal).extend([recorder("first"), recorder("second")])
    for other in SIGNALS:  # a callback on every other stage must not be called
        if other != signal:
            getattr(config, other).append(recorder("wrong"))
    config.freeze()
    session = object()
    ctx = config.trace_config_ctx()
    await getattr(Trace(session, config, ctx), sender)(*args)
    assert [c[0] for c in calls] == ["first", "second"]
    params_cls = getattr(tracing, params_name)
    for _, got_session, got_ctx, params in calls:
        assert got_session is session and got_ctx is ctx
        assert type(params) is params_cls
        assert {f: getattr(params, f) for f in fields} == fields


async def test_a_stage_without_callbacks_builds_no_params(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("params built for a stage nobody listens to")

    for _, _, _, params_name, _ in SENDS:
        monkeypatch.setattr(tracing, params_name, refuse)
    config = TraceConfig()
    config.freeze()
    trace = Trace(object(), config, config.trace_config_ctx())
    for _, sender, args, _, _ in SENDS:
        await getattr(trace, sender)(*args)


async def test_a_failing_callback_stops_the_stage() -> None:
    calls: list[str] = []

    async def bad(*args: Any) -> None:
        calls.append("bad")
        raise KeyError("cb")

    async def after(*args: Any) -> None:
        calls.append("after")

    config = TraceConfig()
    config.on_dns_cache_miss.extend([bad, after])
    config.freeze()
    with pytest.raises(KeyError):
        await Trace(None, config, None).send_dns_cache_miss("h")
    assert calls == ["bad"]


def test_aiohttp_sender_name_for_headers_sent() -> None:
    assert Trace.send_request_headers is Trace.send_request_headers_sent


# ------------------------------------------------------- the connector's signals


class Recorder:
    """A trace config recording every connection/DNS stage as (tag, stage, host-or-None)."""

    def __init__(self, tag: str = "t", log: list | None = None) -> None:
        self.log: list[tuple[str, str, Any]] = [] if log is None else log
        self.config = TraceConfig()
        for name in SIGNALS:
            if name.startswith(("on_connection_", "on_dns_")):
                getattr(self.config, name).append(self._cb(tag, name[3:]))
        self.config.freeze()

    def _cb(self, tag: str, stage: str) -> Any:
        async def cb(session: Any, ctx: Any, params: Any) -> None:
            ctx.seen = getattr(ctx, "seen", 0) + 1
            self.log.append((tag, stage, getattr(params, "host", None)))

        return cb

    def trace(self, session: Any = None) -> Trace:
        return Trace(session, self.config, self.config.trace_config_ctx())

    def stages(self) -> list[str]:
        return [stage for _, stage, _ in self.log]


class Req:
    """What ``connect`` needs of a request."""

    def __init__(self, host: str, port: int) -> None:
        self.connection_key = ConnectionKey(host, port, False, None, None, None, None)


class LoopbackResolver(AbstractResolver):
    """Every name is 127.0.0.1; counts lookups."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:
        self.calls += 1
        await asyncio.sleep(0.01)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def test_create_dns_and_reuse_signals() -> None:
    rec = Recorder()
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(resolver=LoopbackResolver())
        try:
            first = await connector.connect(Req("name.test", srv.port), [rec.trace()])
            assert rec.stages() == [
                "connection_create_start",
                "dns_cache_miss",
                "dns_resolvehost_start",
                "dns_resolvehost_end",
                "connection_create_end",
            ]
            assert {host for _, stage, host in rec.log if stage.startswith("dns")} == {"name.test"}
            rec.log.clear()
            second = await connector.connect(Req("name.test", srv.port), [rec.trace()])
            assert rec.stages() == [
                "connection_create_start",
                "dns_cache_hit",
                "connection_create_end",
            ]
            first.release()
            second.release()
            rec.log.clear()
            again = await connector.connect(Req("name.test", srv.port), [rec.trace()])
            assert again.reused
            assert rec.stages() == ["connection_reuseconn"]
            again.release()
        finally:
            await connector.close()


async def test_joining_a_lookup_under_way_is_a_cache_hit() -> None:
    rec = Recorder()
    async with app_server(echo_app()) as srv:
        resolver = LoopbackResolver()
        connector = TCPConnector(resolver=resolver)
        try:
            conns = await asyncio.gather(
                connector.connect(Req("same.test", srv.port), [rec.trace()]),
                connector.connect(Req("same.test", srv.port), [rec.trace()]),
            )
            assert resolver.calls == 1
            stages = rec.stages()
            assert stages.count("dns_cache_miss") == 1 and stages.count("dns_cache_hit") == 1
            assert stages.count("dns_resolvehost_start") == 1
            for conn in conns:
                conn.close()
        finally:
            await connector.close()


async def test_no_dns_cache_and_ip_hosts() -> None:
    rec = Recorder()
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(resolver=LoopbackResolver(), use_dns_cache=False)
        try:
            conn = await connector.connect(Req("name.test", srv.port), [rec.trace()])
            conn.close()
            assert rec.stages() == [
                "connection_create_start",
                "dns_resolvehost_start",
                "dns_resolvehost_end",
                "connection_create_end",
            ]
            rec.log.clear()
            conn = await connector.connect(Req("127.0.0.1", srv.port), [rec.trace()])
            conn.close()
            assert rec.stages() == ["connection_create_start", "connection_create_end"]
        finally:
            await connector.close()


async def test_queued_signals_only_when_waiting() -> None:
    rec = Recorder()
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        try:
            held = await connector.connect(Req("127.0.0.1", srv.port), [rec.trace()])
            assert "connection_queued_start" not in rec.stages()
            rec.log.clear()
            waiting = asyncio.ensure_future(
                connector.connect(Req("127.0.0.1", srv.port), [rec.trace()])
            )
            for _ in range(20):
                await asyncio.sleep(0)
            assert rec.stages() == ["connection_queued_start"]
            held.release()  # clean and idle: pooled, and the waiter gets it
            conn = await asyncio.wait_for(waiting, 5)
            assert conn.reused
            assert rec.stages() == [
                "connection_queued_start",
                "connection_queued_end",
                "connection_reuseconn",
            ]
            conn.release()
        finally:
            await connector.close()


async def test_each_trace_config_hears_in_order_with_its_own_context() -> None:
    log: list[tuple[str, str, Any]] = []
    one, two = Recorder("one", log), Recorder("two", log)
    async with app_server(echo_app()) as srv:
        connector = TCPConnector()
        try:
            traces = [one.trace(), two.trace()]
            conn = await connector.connect(Req("127.0.0.1", srv.port), traces)
            conn.close()
        finally:
            await connector.close()
    assert log == [
        ("one", "connection_create_start", None),
        ("two", "connection_create_start", None),
        ("one", "connection_create_end", None),
        ("two", "connection_create_end", None),
    ]
    # each trace has its own context object, shared by the stages of one request
    assert [t._trace_config_ctx.seen for t in traces] == [2, 2]


async def test_no_traces_no_signals() -> None:
    rec = Recorder()
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        try:
            for traces in (None, []):
                conn = await connector.connect(Req("127.0.0.1", srv.port), traces)
                conn.release()
        finally:
            await connector.close()
    assert rec.log == []


def failing_config(stage: str) -> TraceConfig:
    async def bad(*args: Any) -> None:
        raise LookupError(stage)

    config = TraceConfig()
    getattr(config, stage).append(bad)
    config.freeze()
    return config


async def test_a_failing_reuse_callback_puts_the_connection_back() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector()
        try:
            conn = await connector.connect(Req("127.0.0.1", srv.port))
            conn.release()
            config = failing_config("on_connection_reuseconn")
            with pytest.raises(LookupError):
                await connector.connect(
                    Req("127.0.0.1", srv.port), [Trace(None, config, SimpleNamespace())]
                )
            assert not connector._acquired
            assert sum(len(v) for v in connector._conns.values()) == 1  # still pooled
            again = await connector.connect(Req("127.0.0.1", srv.port))
            assert again.reused
            again.release()
        finally:
            await connector.close()


async def test_a_failing_create_end_callback_closes_the_new_connection() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        try:
            config = failing_config("on_connection_create_end")
            with pytest.raises(LookupError):
                await connector.connect(
                    Req("127.0.0.1", srv.port), [Trace(None, config, SimpleNamespace())]
                )
            assert not connector._acquired and not connector._conns
            conn = await asyncio.wait_for(connector.connect(Req("127.0.0.1", srv.port)), 5)
            assert not conn.reused  # the failed one was not pooled
            conn.close()
        finally:
            await connector.close()


async def test_a_failing_queued_end_callback_frees_the_slot() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        try:
            held = await connector.connect(Req("127.0.0.1", srv.port))
            config = failing_config("on_connection_queued_end")
            waiting = asyncio.ensure_future(
                connector.connect(
                    Req("127.0.0.1", srv.port), [Trace(None, config, SimpleNamespace())]
                )
            )
            for _ in range(20):
                await asyncio.sleep(0)
            held.release()
            with pytest.raises(LookupError):
                await asyncio.wait_for(waiting, 5)
            assert not connector._acquired
            conn = await asyncio.wait_for(connector.connect(Req("127.0.0.1", srv.port)), 5)
            conn.release()
        finally:
            await connector.close()


async def test_a_failing_dns_callback_fails_its_caller_only() -> None:
    """The shared lookup runs in its own task: a callback failing in one caller neither
    cancels it nor keeps its answer from the cache."""
    async with app_server(echo_app()) as srv:
        resolver = LoopbackResolver()
        connector = TCPConnector(resolver=resolver)
        try:
            config = failing_config("on_dns_cache_miss")
            with pytest.raises(LookupError):
                await connector.connect(
                    Req("x.test", srv.port), [Trace(None, config, SimpleNamespace())]
                )
            assert not connector._acquired
            for _ in range(5):
                await asyncio.sleep(0.01)
            assert ("x.test", srv.port) in connector.cached_hosts
            conn = await connector.connect(Req("x.test", srv.port))
            conn.close()
            assert resolver.calls == 1
        finally:
            await connector.close()


async def test_an_aiohttp3_override_gets_the_traces_and_may_call_super() -> None:
    """An aiohttp 3 ``_create_connection(req, traces, timeout)`` override receives the
    traces, and its ``super()`` call in aiohttp 3's positional form fires the DNS stages."""
    seen: list[Any] = []

    class Wrapping(TCPConnector):
        async def _create_connection(self, req, traces, timeout):  # type: ignore[no-untyped-def,override]
            seen.append((traces, timeout))
            return await super()._create_connection(req, traces, timeout)

    rec = Recorder()
    timeout = cyhttp.ClientTimeout(sock_connect=5)
    async with app_server(echo_app()) as srv:
        connector = Wrapping(resolver=LoopbackResolver())
        try:
            traces = [rec.trace()]
            conn = await connector.connect(Req("w.test", srv.port), traces, timeout)
            conn.close()
        finally:
            await connector.close()
    assert seen == [(traces, timeout)]
    assert "dns_resolvehost_start" in rec.stages()


def test_make_traces_gives_each_config_a_fresh_context() -> None:
    one, two = TraceConfig(), TraceConfig()
    session = object()
    traces = tracing.make_traces(session, [one, two], {"id": 7})
    again = tracing.make_traces(session, [one, two], None)
    assert [t._trace_config for t in traces] == [one, two]
    assert all(t._session is session for t in traces)
    assert [t._trace_config_ctx.trace_request_ctx for t in traces] == [{"id": 7}, {"id": 7}]
    contexts = {id(t._trace_config_ctx) for t in traces + again}
    assert len(contexts) == 4
    assert tracing.make_traces(session, [], None) == []
