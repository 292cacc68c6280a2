"""Resolvers return aiohttp's list-of-dicts; only loopback names are looked up here."""

from __future__ import annotations

import socket

import pytest

from cyhttp import (
    AsyncResolver,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientSession,
    DefaultResolver,
    TCPConnector,
    ThreadResolver,
)
from cyhttp.abc import AbstractResolver

from .servers import app_server, echo_app

KEYS = {"hostname", "host", "port", "family", "proto", "flags"}


@pytest.mark.parametrize("resolver_class", [ThreadResolver, AsyncResolver])
async def test_resolve_localhost(resolver_class: type) -> None:
    resolver = resolver_class()
    try:
        hosts = await resolver.resolve("localhost", 8080, family=socket.AF_INET)
    finally:
        await resolver.close()
    assert hosts
    for entry in hosts:
        assert set(entry) == KEYS
        assert entry["hostname"] == "localhost"
        assert entry["port"] == 8080
        assert entry["family"] == socket.AF_INET
    assert "127.0.0.1" in {entry["host"] for entry in hosts}


async def test_numeric_host() -> None:
    hosts = await ThreadResolver().resolve("127.0.0.1", 1, family=socket.AF_INET)
    assert [h["host"] for h in hosts] == ["127.0.0.1"]


async def test_link_local_address_keeps_its_scope() -> None:
    """A link-local IPv6 address is only reachable through its interface: the entry's
    host carries the scope ("%lo"), so the connect goes out the right way. A numeric
    address: nothing is looked up."""
    _, scope = socket.if_nameindex()[0]
    hosts = await ThreadResolver().resolve(f"fe80::1%{scope}", 80, family=socket.AF_INET6)
    assert [(h["host"], h["port"], h["family"]) for h in hosts] == [
        (f"fe80::1%{scope}", 80, socket.AF_INET6)
    ]


def test_default_is_thread_resolver() -> None:
    assert DefaultResolver is ThreadResolver


def test_loop_argument_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning):
        ThreadResolver(loop=object())


@pytest.mark.parametrize("resolver_class", [ThreadResolver, AsyncResolver])
async def test_session_through_each_resolver(resolver_class: type) -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(resolver=resolver_class(), family=socket.AF_INET)
        async with ClientSession(connector=connector) as session:
            resp = await session.get(f"http://localhost:{srv.port}/echo")
            async with resp:
                assert resp.status == 200
        await connector._resolver.close()


def test_threaded_resolver_is_aiohttp3s_name() -> None:
    import cyhttp
    import cyhttp.resolver

    assert cyhttp.ThreadedResolver is ThreadResolver
    assert "ThreadedResolver" in cyhttp.resolver.__all__ and "ThreadedResolver" in cyhttp.__all__


class FailingResolver(AbstractResolver):
    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:
        self.calls += 1
        raise OSError(None, f"no such name {host}")

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("use_dns_cache", [True, False], ids=["cached", "uncached"])
async def test_a_failed_lookup_is_a_client_connector_dns_error(use_dns_cache: bool) -> None:
    resolver = FailingResolver()
    connector = TCPConnector(resolver=resolver, use_dns_cache=use_dns_cache)
    async with ClientSession(connector=connector) as session:
        for _ in range(2):
            with pytest.raises(ClientConnectorDNSError) as info:
                await session.get("http://nowhere.test:8080/")
            assert isinstance(info.value, ClientConnectorError)
            assert (info.value.host, info.value.port) == ("nowhere.test", 8080)
            assert "no such name nowhere.test" in str(info.value)
    assert resolver.calls == 2  # a failure is not cached
    assert not connector._acquired


async def test_localhost_through_the_system_resolver_and_happy_eyeballs() -> None:
    """The system's answer for localhost may hold ::1 as well as 127.0.0.1 (where the
    server listens alone), in either order: the attempts reach the live address."""
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(happy_eyeballs_delay=0.1)
        async with ClientSession(connector=connector) as session:
            for _ in range(3):  # the cached addresses rotate between new connections
                resp = await session.get(f"http://localhost:{srv.port}/echo", timeout=10)
                async with resp:
                    assert resp.status == 200
                    await resp.read()
                connector._conns.clear()  # the next request opens a new connection
        assert ("localhost", srv.port) in connector.cached_hosts


async def test_dns_stages_of_a_real_lookup() -> None:
    from cyhttp.connector import ConnectionKey
    from cyhttp.tracing import Trace, TraceConfig

    stages: list[tuple[str, str]] = []

    def record(stage: str):  # type: ignore[no-untyped-def]
        async def cb(session: object, ctx: object, params: object) -> None:
            stages.append((stage, params.host))  # type: ignore[attr-defined]

        return cb

    config = TraceConfig()
    for stage in (
        "dns_resolvehost_start",
        "dns_resolvehost_end",
        "dns_cache_hit",
        "dns_cache_miss",
    ):
        getattr(config, "on_" + stage).append(record(stage))
    config.freeze()

    class Req:
        connection_key = ConnectionKey("localhost", 0, False, None, None, None, None)

    async with app_server(echo_app()) as srv:
        Req.connection_key = Req.connection_key._replace(port=srv.port)
        connector = TCPConnector(family=socket.AF_INET)
        try:
            for _ in range(2):
                conn = await connector.connect(Req(), [Trace(None, config, None)])
                conn.close()
        finally:
            await connector.close()
    assert stages == [
        ("dns_cache_miss", "localhost"),
        ("dns_resolvehost_start", "localhost"),
        ("dns_resolvehost_end", "localhost"),
        ("dns_cache_hit", "localhost"),
    ]
