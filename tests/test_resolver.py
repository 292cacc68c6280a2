"""Resolvers return aiohttp's list-of-dicts; only loopback names are looked up here."""

from __future__ import annotations

import socket

import pytest

from cyhttp import AsyncResolver, ClientSession, DefaultResolver, TCPConnector, ThreadResolver

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
