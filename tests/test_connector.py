"""The pool: limits and fair waiting, keep-alive expiry, force_close, Connection API,
Unix sockets, DNS caching and coalescing, address fallback, and TLS set-up."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import socket
import ssl
import tempfile
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web

import cyhttp
from cyhttp import ClientSession, TCPConnector, UnixConnector
from cyhttp.abc import AbstractResolver

from .servers import AppServer, app_server, echo_app


def concurrency_app(state: dict) -> web.Application:
    async def work(request: web.Request) -> web.Response:
        state["now"] = state.get("now", 0) + 1
        state["max"] = max(state.get("max", 0), state["now"])
        state.setdefault("order", []).append(request.query.get("i"))
        await asyncio.sleep(0.02)
        state["now"] -= 1
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/work", work)
    return app


async def test_limit_bounds_concurrent_connections() -> None:
    state: dict = {}
    async with (
        app_server(concurrency_app(state)) as srv,
        ClientSession(connector=TCPConnector(limit=3)) as session,
    ):

        async def one() -> str:
            resp = await session.get(srv.url("/work"))
            async with resp:
                return await resp.text()

        results = await asyncio.gather(*(one() for _ in range(20)))
    assert results == ["done"] * 20
    assert state["max"] == 3
    assert srv.connections == 3


async def test_limit_per_host() -> None:
    s1: dict = {}
    s2: dict = {}
    async with app_server(concurrency_app(s1)) as a, app_server(concurrency_app(s2)) as b:
        connector = TCPConnector(limit=0, limit_per_host=2)
        assert connector.limit == 0 and connector.limit_per_host == 2
        async with ClientSession(connector=connector) as session:

            async def one(srv: AppServer) -> None:
                resp = await session.get(srv.url("/work"))
                async with resp:
                    await resp.read()

            await asyncio.gather(*(one(srv) for srv in (a, b) * 6))
    assert s1["max"] == 2 and s2["max"] == 2


async def test_waiters_are_served_in_order() -> None:
    state: dict = {}
    async with (
        app_server(concurrency_app(state)) as srv,
        ClientSession(connector=TCPConnector(limit=1)) as session,
    ):

        async def one(i: int) -> None:
            resp = await session.get(srv.url("/work"), params={"i": str(i)})
            async with resp:
                await resp.read()

        tasks = []
        for i in range(8):
            tasks.append(asyncio.ensure_future(one(i)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
    assert state["order"] == [str(i) for i in range(8)]


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(limit=1)
        async with ClientSession(connector=connector) as session:
            held = await session.get(srv.url("/bytes/4194304"))
            waiter = asyncio.ensure_future(session.get(srv.url("/echo")))
            await asyncio.sleep(0.01)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            held.close()
            resp = await session.get(srv.url("/echo"))
            async with resp:
                assert resp.status == 200
            assert len(connector._acquired) == 0


@pytest.mark.parametrize("kwargs", [{"limit": -1}, {"limit_per_host": -2}])
def test_negative_limits_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="limit"):
        TCPConnector(**kwargs)


async def test_keepalive_timeout_expires_idle_connections() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(keepalive_timeout=0.1)
        async with ClientSession(connector=connector) as session:
            for _ in range(2):
                resp = await session.get(srv.url("/echo"))
                async with resp:
                    await resp.read()
                await asyncio.sleep(0.3)
                assert not connector._conns  # the cleanup closed it
    assert srv.connections == 2


async def test_force_close_never_reuses() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector(force_close=True)
        assert connector.force_close
        async with ClientSession(connector=connector) as session:
            for _ in range(3):
                resp = await session.get(srv.url("/echo"))
                async with resp:
                    await resp.read()
    assert srv.connections == 3
    with pytest.raises(ValueError):
        TCPConnector(force_close=True, keepalive_timeout=10)


class FakeRequest:
    """The part of a request that connect() needs."""

    def __init__(self, host: str, port: int, is_ssl: bool = False) -> None:
        from cyhttp.connector import ConnectionKey

        self.connection_key = ConnectionKey(host, port, is_ssl, None, None, None, None)


async def test_connection_api() -> None:
    async with app_server(echo_app()) as srv:
        connector = TCPConnector()
        conn = await connector.connect(FakeRequest("127.0.0.1", srv.port))
        assert not conn.closed and conn.transport is not None
        assert conn.loop is asyncio.get_running_loop()
        conn.release()
        assert conn.closed
        assert len(connector._conns) == 1  # an unused connection is clean: pooled
        again = await connector.connect(FakeRequest("127.0.0.1", srv.port))
        assert again.reused
        again.close()
        assert not connector._conns
        third = await connector.connect(FakeRequest("127.0.0.1", srv.port))
        transport = third.transport
        third.detach()
        assert third.closed and not connector._acquired
        assert transport is not None and not transport.is_closing()
        transport.close()
        await connector.close()
        assert connector.closed
        with pytest.raises(cyhttp.ClientConnectionError):
            await connector.connect(FakeRequest("127.0.0.1", srv.port))


async def test_unix_connector() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "sock")
        runner = web.AppRunner(echo_app())
        await runner.setup()
        await web.UnixSite(runner, path).start()
        try:
            connector = UnixConnector(path)
            assert connector.path == path
            async with ClientSession(connector=connector) as session:
                for _ in range(2):
                    resp = await session.get("http://any-host/echo")
                    async with resp:
                        got = await resp.json()
                        assert dict(got["headers"])["Host"] == "any-host"
            async with ClientSession(connector=UnixConnector(path + ".missing")) as session:
                with pytest.raises(cyhttp.ClientConnectorError):
                    await session.get("http://x/")
        finally:
            await runner.cleanup()


class CountingResolver(AbstractResolver):
    def __init__(self, port_map: dict[str, list[int]] | None = None, delay: float = 0) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.port_map = port_map or {}
        self.delay = delay

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:
        self.calls.append((host, port, family))
        if self.delay:
            await asyncio.sleep(self.delay)
        ports = self.port_map.get(host, [port])
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": p,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for p in ports
        ]

    async def close(self) -> None:
        pass


async def test_dns_cache_ttl_and_clear() -> None:
    async with app_server(echo_app()) as srv:
        resolver = CountingResolver()
        connector = TCPConnector(resolver=resolver, ttl_dns_cache=0.2, force_close=True)
        assert connector.use_dns_cache and connector.dns_cache
        async with ClientSession(connector=connector) as session:
            url = f"http://name.test:{srv.port}/echo"
            for _ in range(2):
                resp = await session.get(url)
                async with resp:
                    await resp.read()
            assert len(resolver.calls) == 1
            assert ("name.test", srv.port) in connector.cached_hosts
            with pytest.raises(TypeError):
                connector.cached_hosts[("x", 1)] = []  # type: ignore[index]
            await asyncio.sleep(0.3)
            resp = await session.get(url)
            async with resp:
                await resp.read()
            assert len(resolver.calls) == 2
            connector.clear_dns_cache("name.test", srv.port)
            assert not connector.cached_hosts
            with pytest.raises(ValueError):
                connector.clear_dns_cache("name.test")
            connector.clear_dns_cache()


async def test_no_dns_cache_and_family() -> None:
    async with app_server(echo_app()) as srv:
        resolver = CountingResolver()
        connector = TCPConnector(
            resolver=resolver, use_dns_cache=False, family=socket.AF_INET, force_close=True
        )
        assert connector.family == socket.AF_INET
        async with ClientSession(connector=connector) as session:
            for _ in range(2):
                resp = await session.get(f"http://name.test:{srv.port}/echo")
                async with resp:
                    await resp.read()
    assert [c[2] for c in resolver.calls] == [socket.AF_INET, socket.AF_INET]


async def test_concurrent_lookups_are_coalesced() -> None:
    async with app_server(echo_app()) as srv:
        resolver = CountingResolver(delay=0.05)
        async with ClientSession(connector=TCPConnector(resolver=resolver)) as session:

            async def one() -> None:
                resp = await session.get(f"http://same.test:{srv.port}/echo")
                async with resp:
                    await resp.read()

            await asyncio.gather(*(one() for _ in range(5)))
    assert len(resolver.calls) == 1


class GatedResolver(CountingResolver):
    """Answers only once ``go`` is set; ``started`` tells that a lookup is under way."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list:
        self.started.set()
        await self.go.wait()
        return await super().resolve(host, port, family)


async def test_cancelling_the_first_of_coalesced_lookups_spares_the_others() -> None:
    """The caller that started a shared lookup is cancelled: the callers waiting for the
    same lookup still get its answer (not a CancelledError they never asked for)."""
    async with app_server(echo_app()) as srv:
        resolver = GatedResolver()
        async with ClientSession(connector=TCPConnector(resolver=resolver)) as session:
            url = f"http://same.test:{srv.port}/echo"
            first = asyncio.ensure_future(session.get(url))
            await resolver.started.wait()
            second = asyncio.ensure_future(session.get(url))
            for _ in range(50):  # no I/O before the lookup: a few loop turns get it there
                await asyncio.sleep(0)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            resolver.go.set()
            resp = await second
            async with resp:
                assert resp.status == 200
    assert len(resolver.calls) == 1  # the second joined the first's lookup


async def test_closing_the_connector_during_a_lookup_is_a_connection_error() -> None:
    async with app_server(echo_app()) as srv:
        resolver = GatedResolver()
        connector = TCPConnector(resolver=resolver)
        async with ClientSession(connector=connector, connector_owner=False) as session:
            pending = asyncio.ensure_future(session.get(f"http://same.test:{srv.port}/echo"))
            await resolver.started.wait()
            await connector.close()
            resolver.go.set()
            with pytest.raises(cyhttp.ClientConnectionError, match="Connector is closed"):
                await pending


@pytest.mark.parametrize("host", ["a" * 64 + ".test", "a..test"], ids=["long-label", "empty"])
async def test_unencodable_host_name_is_a_connector_error(host: str) -> None:
    """A name no DNS query can carry (a label over 63 bytes, an empty label) fails like an
    unknown name, not with the codec's UnicodeError."""
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientConnectorError):
            await session.get(f"http://{host}/")


@pytest.mark.parametrize("use_dns_cache", [True, False], ids=["cached", "uncached"])
async def test_an_empty_answer_from_a_resolver_is_a_connector_error(use_dns_cache: bool) -> None:
    class EmptyResolver(CountingResolver):
        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list:
            await super().resolve(host, port, family)
            return []

    resolver = EmptyResolver()
    connector = TCPConnector(resolver=resolver, use_dns_cache=use_dns_cache)
    async with ClientSession(connector=connector) as session:
        for _ in range(2):
            with pytest.raises(cyhttp.ClientConnectorError, match="no address"):
                await session.get("http://nowhere.test/")
    assert len(resolver.calls) == 2  # an empty answer is not cached


async def test_a_connect_timed_out_by_the_kernel_moves_to_the_next_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ETIMEDOUT from connect() is an OSError like a refusal (only our own sock_connect
    limit is a ServerTimeoutError): the next address is tried, the last error is a
    ClientConnectorError."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        silent_port = unused.getsockname()[1]
    loop = asyncio.get_running_loop()
    real_sock_connect = loop.sock_connect

    async def sock_connect(sock: socket.socket, address: tuple) -> None:
        if address[1] == silent_port:
            raise TimeoutError(errno.ETIMEDOUT, "Connection timed out")
        await real_sock_connect(sock, address)

    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    async with app_server(echo_app()) as srv:
        resolver = CountingResolver(
            {"multi.test": [silent_port, srv.port], "dead.test": [silent_port]}
        )
        async with ClientSession(connector=TCPConnector(resolver=resolver)) as session:
            resp = await session.get("http://multi.test/echo")
            async with resp:
                assert resp.status == 200
            with pytest.raises(cyhttp.ClientConnectorError) as info:
                await session.get("http://dead.test/echo")
            assert info.value.errno == errno.ETIMEDOUT


async def test_every_resolved_address_is_tried() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    async with app_server(echo_app()) as srv:
        resolver = CountingResolver({"multi.test": [dead_port, srv.port]})
        connector = TCPConnector(resolver=resolver, local_addr=("127.0.0.1", 0))
        async with ClientSession(connector=connector) as session:
            resp = await session.get("http://multi.test/echo")
            async with resp:
                assert resp.status == 200


async def test_fingerprint_validation() -> None:
    with pytest.raises(ValueError):
        TCPConnector(fingerprint=hashlib.md5(b"x").digest())
    with pytest.raises(ValueError):
        TCPConnector(fingerprint=hashlib.sha1(b"x").digest())
    with pytest.raises(ValueError):
        cyhttp.Fingerprint(b"short")
    assert TCPConnector(fingerprint=hashlib.sha256(b"x").digest()).fingerprint is not None


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_tls_verification_and_pinning(ca: trustme.CA) -> None:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    runner = web.AppRunner(echo_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"https://127.0.0.1:{port}/echo"
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    try:
        async with ClientSession() as session:
            with pytest.raises(cyhttp.ClientConnectorCertificateError):
                await session.get(url)
            for kwargs in (
                {"ssl_context": client_ctx},
                {"ssl": client_ctx},
                {"verify_ssl": False},
                {"ssl": False},
                {"fingerprint": hashlib.sha256(der).digest()},
            ):
                resp = await session.get(url, **kwargs)
                async with resp:
                    assert resp.status == 200, kwargs
            with pytest.raises(cyhttp.ServerFingerprintMismatch):
                await session.get(url, fingerprint=hashlib.sha256(b"other").digest())
        async with ClientSession(connector=TCPConnector(ssl_context=client_ctx)) as session:
            resp = await session.get(url)
            async with resp:
                assert resp.status == 200
    finally:
        await runner.cleanup()


async def test_no_slot_leaks_under_failures_and_cancellation() -> None:
    """Mixed outcomes (answers, drops, timeouts, cancellations) under a tight limit leave
    the pool's bookkeeping empty."""
    from .servers import raw_server, read_request

    count = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        while True:
            await read_request(reader)
            count += 1
            if count % 4 == 0:
                return  # drop the connection without answering
            if count % 5 == 0:
                await asyncio.sleep(0.5)  # slower than the client's timeout
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    connector = TCPConnector(limit=3, limit_per_host=2)
    async with raw_server(handler) as srv, ClientSession(connector=connector) as session:

        async def one(i: int) -> str:
            try:
                resp = await session.post(srv.url(), data=b"x", timeout=0.2)
                async with resp:
                    return (await resp.read()).decode()
            except (TimeoutError, cyhttp.ClientError) as exc:
                return type(exc).__name__

        tasks = [asyncio.ensure_future(one(i)) for i in range(30)]
        await asyncio.sleep(0.05)
        tasks[-1].cancel()
        tasks[-2].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert "ok" in results
        assert {"ServerDisconnectedError", "ServerTimeoutError"} & set(map(str, results))
        assert not connector._acquired
        assert not connector._acquired_per_host
        assert not [w for w in connector._waiters if not w[1].done()]


# ----- Happy Eyeballs (RFC 8305), socket_factory, 3.x keywords and errors -----


class Req:
    """What ``connect`` needs of a request."""

    def __init__(self, host: str, port: int, is_ssl: bool = False) -> None:
        from cyhttp.connector import ConnectionKey

        self.connection_key = ConnectionKey(host, port, is_ssl, None, None, None, None)


class AddressResolver(AbstractResolver):
    """Answers every name with the given (address, port) pairs, in that order."""

    def __init__(self, addresses: list[tuple[str, int]]) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list:
        return [
            {
                "hostname": host,
                "host": address,
                "port": p,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address, p in self.addresses
        ]

    async def close(self) -> None:
        pass


class RecordingFactory:
    """A socket_factory that records each attempt (address, loop time) and its socket."""

    def __init__(self, keepalive: bool = False) -> None:
        self.attempts: list[tuple[tuple, float]] = []
        self.infos: list[tuple] = []
        self.sockets: list[socket.socket] = []
        self.keepalive = keepalive

    def __call__(self, addr_info: tuple) -> socket.socket:
        family, type_, proto, _, address = addr_info
        self.infos.append(addr_info)
        self.attempts.append((address[:2], asyncio.get_running_loop().time()))
        sock = socket.socket(family, type_, proto)
        if self.keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.sockets.append(sock)
        return sock


@contextlib.asynccontextmanager
async def blackhole() -> AsyncIterator[int]:
    """A loopback port that never completes a TCP handshake: its listener's accept queue
    is full, so the kernel drops further SYNs and connect() hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        await asyncio.sleep(0.05)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def refused_port(family: int = socket.AF_INET) -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(family) as sock:
        sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_happy_eyeballs_a_live_address_wins_over_a_blackholed_one() -> None:
    """The second address is tried happy_eyeballs_delay after the first, which hangs; the
    live one connects and wins, the hanging attempt is dropped."""
    async with blackhole() as dead, app_server(echo_app()) as srv:
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", dead), ("127.0.0.1", srv.port)]),
            happy_eyeballs_delay=0.15,
            socket_factory=factory,
        )
        try:
            start = asyncio.get_running_loop().time()
            conn = await asyncio.wait_for(connector.connect(Req("two.test", 80)), 5)
            elapsed = asyncio.get_running_loop().time() - start
            assert conn.transport is not None
            assert conn.transport.get_extra_info("peername")[1] == srv.port
            conn.close()
        finally:
            await connector.close()
    assert [address for address, _ in factory.attempts] == [
        ("127.0.0.1", dead),
        ("127.0.0.1", srv.port),
    ]
    gap = factory.attempts[1][1] - factory.attempts[0][1]
    assert 0.14 <= gap < 1.0
    assert elapsed < 2.0
    assert factory.sockets[0].fileno() == -1  # the hanging attempt's socket is closed


async def test_without_happy_eyeballs_addresses_are_tried_one_after_the_other() -> None:
    """happy_eyeballs_delay=None: the next address only after the previous one failed (here:
    ran out of sock_connect)."""
    async with blackhole() as dead, app_server(echo_app()) as srv:
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", dead), ("127.0.0.1", srv.port)]),
            happy_eyeballs_delay=None,
            socket_factory=factory,
        )
        try:
            timeout = cyhttp.ClientTimeout(sock_connect=0.3)
            conn = await asyncio.wait_for(connector.connect(Req("two.test", 80), None, timeout), 5)
            conn.close()
        finally:
            await connector.close()
    assert [address[1] for address, _ in factory.attempts] == [dead, srv.port]
    assert factory.attempts[1][1] - factory.attempts[0][1] >= 0.29


async def test_a_refused_attempt_starts_the_next_at_once() -> None:
    async with app_server(echo_app()) as srv:
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", refused_port()), ("127.0.0.1", srv.port)]),
            happy_eyeballs_delay=2.0,
            socket_factory=factory,
        )
        try:
            conn = await asyncio.wait_for(connector.connect(Req("two.test", 80)), 5)
            conn.close()
        finally:
            await connector.close()
    assert len(factory.attempts) == 2
    assert factory.attempts[1][1] - factory.attempts[0][1] < 1.0


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.parametrize(
    ("delay", "interleave", "expected"),
    [
        (0.5, None, ["a6", "c4", "b6", "d4", "e6"]),  # Happy Eyeballs: alternate by default
        (0.5, 2, ["a6", "b6", "c4", "e6", "d4"]),  # two of the first family first
        (0.5, 0, ["a6", "b6", "e6", "c4", "d4"]),  # the resolver's order
        (None, None, ["a6", "b6", "e6", "c4", "d4"]),  # off: no reordering
    ],
)
async def test_interleaving_address_families(
    delay: float | None, interleave: int | None, expected: list[str]
) -> None:
    """RFC 8305 section 4 with every address refusing: the attempts' order shows the
    interleaving; the error names every failure."""
    ports = {
        name: refused_port(socket.AF_INET6 if "6" in name else socket.AF_INET)
        for name in ("a6", "b6", "e6", "c4", "d4")
    }
    addresses = [("::1" if "6" in n else "127.0.0.1", p) for n, p in ports.items()]
    factory = RecordingFactory()
    connector = TCPConnector(
        resolver=AddressResolver(addresses),
        happy_eyeballs_delay=delay,
        interleave=interleave,
        socket_factory=factory,
    )
    try:
        with pytest.raises(cyhttp.ClientConnectorError) as info:
            await asyncio.wait_for(connector.connect(Req("many.test", 80)), 5)
    finally:
        await connector.close()
    by_port = {p: n for n, p in ports.items()}
    assert [by_port[address[1]] for address, _ in factory.attempts] == expected
    assert info.value.errno == errno.ECONNREFUSED
    assert "Multiple exceptions" in str(info.value)
    assert all(sock.fileno() == -1 for sock in factory.sockets)


async def test_the_losers_of_the_race_are_closed() -> None:
    async with app_server(echo_app()) as srv:
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", srv.port)] * 3),
            happy_eyeballs_delay=0,
            socket_factory=factory,
        )
        try:
            conn = await asyncio.wait_for(connector.connect(Req("same.test", 80)), 5)
            await asyncio.sleep(0.05)
            open_sockets = [s for s in factory.sockets if s.fileno() != -1]
            assert len(open_sockets) == 1
            assert conn.transport is not None
            assert conn.transport.get_extra_info("socket").fileno() == open_sockets[0].fileno()
            conn.close()
        finally:
            await connector.close()
    assert len(factory.sockets) >= 2  # the race did run several attempts


async def test_socket_factory_makes_the_sockets() -> None:
    async with app_server(echo_app()) as srv:
        factory = RecordingFactory(keepalive=True)
        connector = TCPConnector(socket_factory=factory)
        async with ClientSession(connector=connector) as session:
            resp = await session.get(srv.url("/echo"))
            async with resp:
                assert resp.status == 200
                await resp.read()
            (proto, _), *_ = next(iter(connector._conns.values()))  # pooled
            sock = proto.transport.get_extra_info("socket")  # type: ignore[union-attr]
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert factory.infos == [(socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", srv.port))]


async def test_socket_factory_errors() -> None:
    """An OSError from the factory is a failed attempt (ClientConnectorError); anything
    else is a bug and comes out as it is."""

    def no_sockets(addr_info: tuple) -> socket.socket:
        raise OSError(errno.EMFILE, "Too many open files")

    def buggy(addr_info: tuple) -> socket.socket:
        raise TypeError("buggy factory")

    async with app_server(echo_app()) as srv:
        for factory, expected in ((no_sockets, cyhttp.ClientConnectorError), (buggy, TypeError)):
            connector = TCPConnector(socket_factory=factory)
            try:
                with pytest.raises(expected):
                    await connector.connect(Req("127.0.0.1", srv.port))
                assert not connector._acquired
            finally:
                await connector.close()


@pytest.mark.parametrize("addresses", [1, 2])
async def test_sock_connect_limit_is_a_connection_timeout_error(addresses: int) -> None:
    async with blackhole() as dead:
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", dead)] * addresses),
            happy_eyeballs_delay=0.05,
        )
        try:
            timeout = cyhttp.ClientTimeout(sock_connect=0.2)
            with pytest.raises(cyhttp.ConnectionTimeoutError) as info:
                await asyncio.wait_for(connector.connect(Req("dead.test", 80), None, timeout), 5)
        finally:
            await connector.close()
    assert isinstance(info.value, cyhttp.ServerTimeoutError)
    assert str(info.value) == "Connection timeout to host dead.test:80 (sock_connect=0.2)"
    assert str(info.value.__cause__) == f"Connection timeout to 127.0.0.1:{dead} (sock_connect=0.2)"
    assert not connector._acquired


async def test_a_failed_lookup_is_a_dns_error() -> None:
    class Failing(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        async def close(self) -> None:
            pass

    connector = TCPConnector(resolver=Failing())
    try:
        with pytest.raises(cyhttp.ClientConnectorDNSError) as info:
            await connector.connect(Req("nowhere.test", 80))
    finally:
        await connector.close()
    assert isinstance(info.value, cyhttp.ClientConnectorError)
    assert info.value.host == "nowhere.test"
    assert str(info.value) == (
        "Cannot connect to host nowhere.test:80 ssl:None [Name or service not known]"
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"happy_eyeballs_delay": -1}, ValueError),
        ({"happy_eyeballs_delay": "soon"}, TypeError),
        ({"interleave": -1}, ValueError),
        ({"interleave": 1.5}, TypeError),
        ({"dns_cache_max_size": -1}, ValueError),
        ({"dns_cache_max_size": 2.0}, TypeError),
        ({"socket_factory": 3}, TypeError),
        ({"timeout_ceil_threshold": -1}, ValueError),
    ],
)
def test_bad_keywords_are_refused(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        TCPConnector(**kwargs)


async def test_dns_cache_is_a_bounded_lru() -> None:
    resolver = CountingResolver()
    connector = TCPConnector(resolver=resolver, dns_cache_max_size=2, ttl_dns_cache=None)
    connector._loop = asyncio.get_running_loop()
    try:
        for host in ("a.test", "b.test", "a.test", "c.test"):  # a used again: b is the oldest
            await connector._resolve_host(host, 80)
        assert set(connector.cached_hosts) == {("a.test", 80), ("c.test", 80)}
        assert [c[0] for c in resolver.calls] == ["a.test", "b.test", "c.test"]
        await connector._resolve_host("b.test", 80)
        assert set(connector.cached_hosts) == {("b.test", 80), ("c.test", 80)}
    finally:
        await connector.close()


async def test_cached_addresses_rotate_between_connections() -> None:
    resolver = CountingResolver({"rr.test": [1, 2, 3]})
    connector = TCPConnector(resolver=resolver)
    connector._loop = asyncio.get_running_loop()
    try:
        orders = [
            [h["port"] for h in await connector._resolve_host("rr.test", 80)] for _ in range(4)
        ]
    finally:
        await connector.close()
    assert orders == [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3]]
    assert len(resolver.calls) == 1


def test_ssl_shutdown_timeout_is_deprecated() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TCPConnector()  # not given: no warning
    for value in (0, 0.1, None):
        with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
            TCPConnector(ssl_shutdown_timeout=value)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError):
        TCPConnector(ssl_shutdown_timeout=-1)


@contextlib.asynccontextmanager
async def close_notify_server(context: ssl.SSLContext) -> AsyncIterator[dict]:
    """A TLS server (driven over memory BIOs) that answers one request, keeps the connection
    and then records whether the client's close_notify came before the TCP connection
    ended (``state["close_notify"]``); it never answers the shutdown."""
    state: dict = {"close_notify": None, "done": asyncio.Event()}
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_side=True)

        async def more() -> bool:
            if outgoing.pending:
                writer.write(outgoing.read())
            data = await reader.read(65536)
            incoming.write(data)
            return bool(data)

        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    if not await more():
                        return
            request = b""
            while b"\r\n\r\n" not in request:
                try:
                    request += tls.read(65536)
                except ssl.SSLWantReadError:
                    if not await more():
                        return
            tls.write(answer)
            writer.write(outgoing.read())
            seen = False
            while await more():
                try:
                    seen = seen or tls.read(65536) == b""  # b"": the peer's close_notify
                except ssl.SSLZeroReturnError:
                    seen = True
                except ssl.SSLError:
                    pass
            state["close_notify"] = seen
        except ConnectionError:
            state["close_notify"] = False
        finally:
            writer.transport.abort()
            state["done"].set()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    state["port"] = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()


@pytest.mark.parametrize(
    ("kwargs", "close_notify"), [({}, False), ({"ssl_shutdown_timeout": 0.3}, True)]
)
async def test_closing_the_connector_and_the_tls_shutdown(kwargs: dict, close_notify: bool) -> None:
    """ssl_shutdown_timeout 0 (the default): the connector's close drops TLS connections
    without a close_notify; a positive value sends it (and gives up waiting for the
    answer after that many seconds)."""
    from .tls_servers import Pki

    pki = Pki()
    async with close_notify_server(pki.server_context()) as server:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            connector = TCPConnector(ssl=pki.client_context(), **kwargs)
        async with ClientSession(connector=connector, connector_owner=False) as session:
            resp = await session.get(f"https://127.0.0.1:{server['port']}/")
            async with resp:
                assert await resp.read() == b"ok"
        assert connector._conns  # kept alive
        await connector.close()
        await asyncio.wait_for(server["done"].wait(), 5)
    assert server["close_notify"] is close_notify


def test_client_timeout_ceil_threshold() -> None:
    from cyhttp.helpers import ceil_deadline

    assert cyhttp.ClientTimeout().ceil_threshold == 5
    assert cyhttp.ClientTimeout(total=1, ceil_threshold=2).ceil_threshold == 2
    with pytest.raises(ValueError):
        cyhttp.ClientTimeout(ceil_threshold=-1)
    assert ceil_deadline(100.25, 10) == 111.0  # a long timer ends on a whole second
    assert ceil_deadline(100.25, 2) == 102.25  # a short one stays exact
    assert ceil_deadline(100.25, 10, ceil_threshold=20) == 110.25


async def test_unix_connector_failure_names_the_socket() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "missing.sock")
        connector = UnixConnector(path)
        try:
            with pytest.raises(cyhttp.UnixClientConnectorError) as info:
                await connector.connect(Req("any", 80))
        finally:
            await connector.close()
    assert info.value.path == path


async def test_cancelling_a_race_closes_every_attempt() -> None:
    async with blackhole() as dead:
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", dead)] * 3),
            happy_eyeballs_delay=0.05,
            socket_factory=factory,
        )
        try:
            pending = asyncio.ensure_future(connector.connect(Req("dead.test", 80)))
            await asyncio.sleep(0.3)  # all three attempts started, none can finish
            assert len(factory.sockets) == 3
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
            assert all(sock.fileno() == -1 for sock in factory.sockets)
            assert not connector._acquired
        finally:
            await connector.close()


async def test_an_address_failing_tls_gives_way_to_the_next() -> None:
    """The TCP race is won by an address whose TLS set-up fails (a plain-HTTP server):
    the remaining addresses are tried, and the TLS server behind the next one answers."""
    from .tls_servers import Pki, hello_app, tls_app_server

    pki = Pki()
    async with (
        app_server(echo_app()) as plain,
        tls_app_server(hello_app(), pki.server_context()) as secure,
    ):
        factory = RecordingFactory()
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", plain.port), ("127.0.0.1", secure.port)]),
            ssl=pki.client_context(),
            socket_factory=factory,
        )
        try:
            conn = await asyncio.wait_for(connector.connect(Req("localhost", 443, True)), 5)
            assert conn.transport is not None
            assert conn.transport.get_extra_info("peername")[1] == secure.port
            assert conn.transport.get_extra_info("sslcontext") is not None
            conn.close()
        finally:
            await connector.close()
    assert [address[1] for address, _ in factory.attempts] == [plain.port, secure.port]


async def test_when_every_address_fails_tls_the_tls_error_is_raised() -> None:
    from .tls_servers import Pki, hello_app, tls_app_server

    pki = Pki()
    async with tls_app_server(hello_app(), pki.server_context(pki.wrong_host)) as wrong:
        connector = TCPConnector(
            resolver=AddressResolver([("127.0.0.1", refused_port()), ("127.0.0.1", wrong.port)]),
            ssl=pki.client_context(),
        )
        try:
            with pytest.raises(cyhttp.ClientConnectorCertificateError):
                await asyncio.wait_for(connector.connect(Req("localhost", 443, True)), 5)
            assert not connector._acquired
        finally:
            await connector.close()
