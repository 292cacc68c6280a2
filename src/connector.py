"""Connectors: the keep-alive pool, connection limits, DNS and TLS set-up.

The pool bookkeeping (:class:`BaseConnector` methods ``_get``, ``_release``, ``_wake``,
``_reserve``...) is synchronous and never awaits: a slot is handed to a waiter the moment it
frees, so cancellation cannot lose or double-count one. Only ``connect`` awaits (waiting for
a slot, creating a connection); failures there give the slot back.

Limits count connections that are in use or being created; idle pooled connections do not
count. Waiters are served first-come first-served, skipping those whose host is at its
``limit_per_host``.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import inspect
import socket
import ssl as ssl_mod
import warnings
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, NamedTuple

from .abc import AbstractResolver, ResolveResult
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ServerTimeoutError,
)
from .client_proto import ResponseHandler
from .client_proxy import create_proxied_connection
from .helpers import (
    DONE,
    DoneAwaitable,
    Fingerprint,
    default_ssl_context,
    merge_ssl_params,
    sentinel,
    warn_loop,
)
from .resolver import DefaultResolver

__all__ = ("BaseConnector", "Connection", "ConnectionKey", "TCPConnector", "UnixConnector")


class ConnectionKey(NamedTuple):
    """What makes two requests able to share a connection."""

    host: str
    port: int | None
    is_ssl: bool
    ssl: Any  # None (connector default), False, SSLContext or Fingerprint
    proxy: Any
    proxy_auth: Any
    proxy_headers_hash: int | None
    #: the name the server's certificate must match, when not the host's own
    server_hostname: str | None = None


#: calling conventions of ``_create_connection`` overrides (see BaseConnector)
_CREATE_MODERN = "modern"  # (req, timeout=None) -> protocol
_CREATE_AIOHTTP3 = "aiohttp3"  # (req, traces, timeout) -> (transport, protocol)
_CREATE_AIOHTTP2 = "aiohttp2"  # (req) -> (transport, protocol)


class _Slot:
    """A reservation of one connection slot while the connection is being made."""

    __slots__ = ()


class Connection:
    """One connection lent by a connector; give it back with :meth:`release` (reusable)
    or :meth:`close`."""

    __slots__ = ("__weakref__", "_connector", "_key", "_loop", "_protocol", "reused")

    def __init__(
        self,
        connector: BaseConnector,
        key: ConnectionKey,
        protocol: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
        reused: bool = False,
    ) -> None:
        self._connector = connector
        self._key = key
        self._protocol: ResponseHandler | None = protocol
        self._loop = loop
        #: True when the connection came from the pool (it may have gone stale).
        self.reused = reused

    def __repr__(self) -> str:
        return f"<Connection {self._key.host}:{self._key.port}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._protocol is not None:
            _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
            try:
                self._connector._release(self._key, self._protocol, should_close=True)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport if self._protocol is not None else None

    @property
    def protocol(self) -> ResponseHandler | None:
        return self._protocol

    @property
    def closed(self) -> bool:
        return self._protocol is None or not self._protocol.is_connected()

    def release(self) -> None:
        """Give the connection back; it is pooled only if the response was read cleanly."""
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol, should_close=protocol.should_close)

    def close(self) -> None:
        """Give the connection back and close its socket."""
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol, should_close=True)

    def detach(self) -> None:
        """Forget the socket: the connector no longer counts or closes it."""
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._forget(self._key, protocol)


class BaseConnector:
    """The pool. Subclasses implement :meth:`_create_connection`."""

    _closed = True  # until __init__ completes (__del__ must not trip on a failed init)

    def __init__(
        self,
        *,
        keepalive_timeout: Any = sentinel,
        force_close: bool = False,
        limit: int | None = 100,
        limit_per_host: int | None = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
    ) -> None:
        warn_loop(loop)
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not sentinel:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
        elif keepalive_timeout is sentinel:
            keepalive_timeout = 15.0
        self._keepalive_timeout: float | None = (
            None if keepalive_timeout is sentinel else keepalive_timeout
        )
        for name, value in (("limit", limit), ("limit_per_host", limit_per_host)):
            if value is not None and value < 0:  # every connect would wait forever
                raise ValueError(f"{name} must be 0 or None (no limit) or positive, not {value}")
        self._force_close = force_close
        self._limit = limit or 0
        self._limit_per_host = limit_per_host or 0
        self._cleanup_closed_enabled = enable_cleanup_closed
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # key -> idle protocols with the loop time they were released (last = most recent)
        self._conns: dict[ConnectionKey, list[tuple[ResponseHandler, float]]] = {}
        self._acquired: set[Any] = set()
        self._acquired_per_host: dict[ConnectionKey, set[Any]] = collections.defaultdict(set)
        self._waiters: collections.deque[tuple[ConnectionKey, asyncio.Future[_Slot]]] = (
            collections.deque()
        )
        self._cleanup_handle: asyncio.TimerHandle | None = None

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed:
            return
        if not self._conns and not self._acquired:
            return
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)
        try:
            self._close_all()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- properties -----

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def limit_per_host(self) -> int:
        return self._limit_per_host

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop if self._loop is not None else asyncio.get_event_loop()

    # ----- closing -----

    def close(self) -> DoneAwaitable:
        """Close every connection, idle or in use. Awaiting the result is allowed."""
        if not self._closed:
            self._closed = True
            self._close_all()
        return DONE

    def _close_all(self) -> None:
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        for conns in self._conns.values():
            for proto, _ in conns:
                self._close_proto(proto)
        self._conns.clear()
        for proto in self._acquired:
            if isinstance(proto, ResponseHandler):
                self._close_proto(proto)
        self._acquired.clear()
        self._acquired_per_host.clear()
        waiters, self._waiters = self._waiters, collections.deque()
        for _, fut in waiters:
            if not fut.done():
                fut.set_exception(ClientConnectionError("Connector is closed."))

    def _close_proto(self, proto: ResponseHandler) -> None:
        transport = proto.transport
        proto.close()
        if (
            self._cleanup_closed_enabled
            and transport is not None
            and transport.get_extra_info("sslcontext") is not None
            and self._loop is not None
            and not self._loop.is_closed()
        ):
            # some TLS peers never finish the shutdown; make sure the socket goes
            self._loop.call_later(2.0, transport.abort)

    # ----- slots (synchronous bookkeeping) -----

    def _has_slot(self, key: ConnectionKey) -> bool:
        if self._limit and len(self._acquired) >= self._limit:
            return False
        return not (
            self._limit_per_host
            and key in self._acquired_per_host
            and len(self._acquired_per_host[key]) >= self._limit_per_host
        )

    def _reserve(self, key: ConnectionKey, holder: Any) -> None:
        self._acquired.add(holder)
        if self._limit_per_host:  # per-host sets are only kept when they are limited
            self._acquired_per_host[key].add(holder)

    def _unreserve(self, key: ConnectionKey, holder: Any) -> None:
        self._acquired.discard(holder)
        if not self._limit_per_host:
            return
        per_host = self._acquired_per_host.get(key)
        if per_host is not None:
            per_host.discard(holder)
            if not per_host:
                del self._acquired_per_host[key]

    def _wake(self) -> None:
        """Hand freed slots to the oldest waiters that can use them."""
        waiters = self._waiters
        if not waiters:
            return
        kept: collections.deque[tuple[ConnectionKey, asyncio.Future[_Slot]]] = collections.deque()
        while waiters:
            key, fut = waiters.popleft()
            if fut.done():
                continue
            if self._has_slot(key):
                slot = _Slot()
                self._reserve(key, slot)
                fut.set_result(slot)
            else:
                kept.append((key, fut))
                if self._limit and len(self._acquired) >= self._limit:
                    break  # nobody else can be served either
        kept.extend(waiters)
        self._waiters = kept

    def _get(self, key: ConnectionKey) -> ResponseHandler | None:
        """The most recently released healthy idle connection for ``key``, if any."""
        conns = self._conns.get(key)
        if not conns:
            return None
        keepalive = self._keepalive_timeout
        now = self._loop.time() if keepalive and self._loop is not None else 0.0
        while conns:
            proto, released = conns.pop()
            if proto.is_reusable() and (not keepalive or now - released < keepalive):
                if not conns:
                    del self._conns[key]
                return proto
            proto.close()
        del self._conns[key]
        return None

    def _release(self, key: ConnectionKey, proto: ResponseHandler, *, should_close: bool) -> None:
        """Take a connection back: pool it if clean, else close it; then serve waiters."""
        if self._limit_per_host:
            self._unreserve(key, proto)
        else:
            self._acquired.discard(proto)
        proto.on_message_done = None
        if self._closed:
            proto.close()
            return
        if (
            should_close
            or self._force_close
            or not self._keepalive_timeout
            or (not proto.is_reusable())
        ):
            self._close_proto(proto)
        else:
            assert self._loop is not None
            conns = self._conns.get(key)
            if conns is None:
                conns = self._conns[key] = []
            conns.append((proto, self._loop.time()))
            if self._cleanup_handle is None:
                self._cleanup_handle = self._loop.call_later(self._keepalive_timeout, self._cleanup)
        if self._waiters:
            self._wake()

    def _forget(self, key: ConnectionKey, proto: ResponseHandler) -> None:
        self._unreserve(key, proto)
        proto.on_message_done = None
        if self._waiters:
            self._wake()

    def _cleanup(self) -> None:
        """Close idle connections older than keepalive_timeout; re-arm while any remain."""
        self._cleanup_handle = None
        if self._closed or self._loop is None:
            return
        keepalive = self._keepalive_timeout or 0.0
        now = self._loop.time()
        oldest = None
        for key in list(self._conns):
            alive = []
            for proto, released in self._conns[key]:
                if now - released >= keepalive or not proto.is_reusable():
                    proto.close()
                else:
                    alive.append((proto, released))
                    if oldest is None or released < oldest:
                        oldest = released
            if alive:
                self._conns[key] = alive
            else:
                del self._conns[key]
        if oldest is not None:
            self._cleanup_handle = self._loop.call_at(oldest + keepalive, self._cleanup)

    # ----- connect -----

    def _connect_pooled(self, req: Any) -> Connection | None:
        """The synchronous fast path of :meth:`connect`: an idle pooled connection, if one
        can be taken right now (no waiting, no I/O), else None."""
        if self._closed or self._waiters:
            return None
        key: ConnectionKey = req.connection_key
        loop = self._loop
        if loop is None or key not in self._conns:
            return None
        if self._limit_per_host:
            if not self._has_slot(key):
                return None
        elif self._limit and len(self._acquired) >= self._limit:
            return None
        proto = self._get(key)
        if proto is None:
            return None
        self._reserve(key, proto)
        return Connection(self, key, proto, loop, True)

    async def connect(self, request: Any, traces: Any = None, timeout: Any = None) -> Connection:
        """A connection for ``request`` (its ``connection_key``): pooled if one is idle, else
        new. Waits while at ``limit``/``limit_per_host``."""
        req = request
        key: ConnectionKey = req.connection_key
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        if not self._waiters and self._has_slot(key):
            proto = self._get(key)
            if proto is not None:
                self._reserve(key, proto)
                return Connection(self, key, proto, loop, reused=True)
            slot = _Slot()
            self._reserve(key, slot)
        else:
            slot = await self._wait_for_slot(key, loop)
            proto = self._get(key)
            if proto is not None:
                self._unreserve(key, slot)
                self._reserve(key, proto)
                return Connection(self, key, proto, loop, reused=True)
        try:
            if self._create_style is _CREATE_MODERN:
                proto = await self._create_connection(req, timeout=timeout)
            else:
                proto = await self._create_user_connection(req, traces, timeout)
        except BaseException:
            self._unreserve(key, slot)
            if self._waiters:
                self._wake()
            raise
        self._unreserve(key, slot)
        if self._closed:
            proto.close()
            raise ClientConnectionError("Connector is closed.")
        self._reserve(key, proto)
        return Connection(self, key, proto, loop)

    async def _wait_for_slot(self, key: ConnectionKey, loop: asyncio.AbstractEventLoop) -> _Slot:
        fut: asyncio.Future[_Slot] = loop.create_future()
        self._waiters.append((key, fut))
        self._wake()  # a slot may be free already (FIFO: older waiters first)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                # the slot was handed over just as we were cancelled: give it back
                self._unreserve(key, fut.result())
                self._wake()
            raise

    async def _create_connection(self, req: Any, timeout: Any = None) -> ResponseHandler:
        """Open a new connection for ``req``; subclasses implement it.

        Besides this form (returning the protocol), an override may take ``(req)`` alone, as
        in aiohttp 2.x, or ``(req, traces, timeout)``, as in aiohttp 3, and return the
        ``(transport, protocol)`` pair of ``loop.create_connection(self._factory, ...)``.
        """
        raise NotImplementedError

    #: how :meth:`connect` calls ``_create_connection`` (decided once per class)
    _create_style = _CREATE_MODERN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        create = cls.__dict__.get("_create_connection")
        if create is not None:
            cls._create_style = _create_style_of(create)

    async def _create_user_connection(self, req: Any, traces: Any, timeout: Any) -> ResponseHandler:
        """Call an aiohttp-style override and accept what it returns: the protocol, or the
        ``(transport, protocol)`` pair."""
        result: Any
        if self._create_style == _CREATE_AIOHTTP3:
            result = await self._create_connection(req, traces, timeout)  # type: ignore[call-arg]
        else:
            result = await self._create_connection(req)
        proto = result[1] if isinstance(result, tuple) and len(result) == 2 else result
        if not isinstance(proto, ResponseHandler):
            if isinstance(result, tuple) and len(result) == 2 and result[0] is not None:
                result[0].close()
            raise TypeError(
                f"{type(self).__name__}._create_connection must return (transport, protocol) "
                f"with a protocol made by self._factory, got {result!r}"
            )
        return proto

    def _protocol_factory(self) -> Callable[[], ResponseHandler]:
        loop = self._loop
        assert loop is not None
        return lambda: ResponseHandler(loop)

    @property
    def _factory(self) -> Callable[[], ResponseHandler]:
        """The protocol factory for ``loop.create_connection`` (aiohttp's name for it)."""
        return self._protocol_factory()


def _create_style_of(create: Any) -> str:
    """Which calling convention a ``_create_connection`` override follows."""
    try:
        params = list(inspect.signature(create).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        return _CREATE_MODERN
    names = {p.name for p in params}
    if "timeout" in names and "traces" not in names:
        return _CREATE_MODERN
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return _CREATE_MODERN
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 3 or any(p.kind is p.VAR_POSITIONAL for p in params):
        return _CREATE_AIOHTTP3
    return _CREATE_AIOHTTP2


def _translate_connect_error(key: ConnectionKey, exc: BaseException) -> BaseException:
    if isinstance(exc, ssl_mod.CertificateError):
        return ClientConnectorCertificateError(key, exc)
    if isinstance(exc, ssl_mod.SSLError):
        return ClientConnectorSSLError(key, exc)
    if key.is_ssl and isinstance(exc, ConnectionResetError):
        # TCP was up (a failed connect is refused, not reset): the peer hung up during the
        # TLS handshake, e.g. a plain-HTTP server, or one that rejected our ClientHello
        return ClientConnectorSSLError(key, handshake_reset(exc))
    if isinstance(exc, OSError):
        return ClientConnectorError(key, exc)
    return exc


def handshake_reset(exc: ConnectionResetError) -> OSError:
    """A readable OSError for a connection lost during the TLS handshake (asyncio raises
    a bare ``ConnectionResetError`` when the peer closes mid-handshake)."""
    if exc.strerror:
        return exc
    err = ConnectionResetError(errno.ECONNRESET, "connection lost during the TLS handshake")
    err.__cause__ = exc
    return err


class TCPConnector(BaseConnector):
    """Connections over TCP, with TLS for https/wss, a DNS cache and pluggable resolvers."""

    def __init__(
        self,
        *,
        verify_ssl: bool = True,
        fingerprint: bytes | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        family: int = 0,
        ssl_context: ssl_mod.SSLContext | None = None,
        ssl: Any = None,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: Any = sentinel,
        force_close: bool = False,
        limit: int | None = 100,
        limit_per_host: int | None = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
        )
        if not verify_ssl and ssl_context is not None:
            raise ValueError("verify_ssl=False and ssl_context are mutually exclusive")
        # the 2.x trio and the modern ssl= must not contradict each other (ValueError)
        merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        self._verify_ssl = verify_ssl
        self._ssl_context = ssl_context
        self._fingerprint = Fingerprint(fingerprint) if fingerprint is not None else None
        self._ssl_default = ssl  # modern form: None/True/False/SSLContext/Fingerprint
        self._use_dns_cache = use_dns_cache
        self._ttl_dns_cache = ttl_dns_cache
        self._family = family
        self._local_addr = local_addr
        self._resolver: AbstractResolver = resolver if resolver is not None else DefaultResolver()
        self._dns_cache: dict[tuple[str, int | None], tuple[list[ResolveResult], float]] = {}
        self._dns_inflight: dict[tuple[str, int | None], asyncio.Task[list[ResolveResult]]] = {}

    @property
    def verify_ssl(self) -> bool:
        return self._verify_ssl

    @property
    def ssl_context(self) -> ssl_mod.SSLContext | None:
        return self._ssl_context

    @property
    def fingerprint(self) -> bytes | None:
        return self._fingerprint.fingerprint if self._fingerprint is not None else None

    @property
    def family(self) -> int:
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    dns_cache = use_dns_cache

    @property
    def cached_hosts(self) -> MappingProxyType[tuple[str, int | None], list[ResolveResult]]:
        """Read-only view: (host, port) → resolved addresses."""
        return MappingProxyType({key: hosts for key, (hosts, _) in self._dns_cache.items()})

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        if host is not None and port is not None:
            self._dns_cache.pop((host, port), None)
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._dns_cache.clear()

    # ----- DNS -----

    async def _resolve_host(self, host: str, port: int | None) -> list[ResolveResult]:
        if _is_ip_address(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [
                {
                    "hostname": host,
                    "host": host,
                    "port": port or 0,
                    "family": family,
                    "proto": 0,
                    "flags": 0,
                }
            ]
        if not self._use_dns_cache:
            return await self._lookup(host, port)
        key = (host, port)
        assert self._loop is not None
        cached = self._dns_cache.get(key)
        if cached is not None:
            hosts, expires = cached
            if self._ttl_dns_cache is None or self._loop.time() < expires:
                return hosts
            del self._dns_cache[key]
        inflight = self._dns_inflight.get(key)
        if inflight is None:
            # one lookup per host at a time, in a task of its own: cancelling the caller
            # that started it must not cancel it for the callers that joined it
            inflight = self._dns_inflight[key] = self._loop.create_task(self._lookup(host, port))
            inflight.add_done_callback(lambda task: self._lookup_done(key, task))
        return await asyncio.shield(inflight)

    async def _lookup(self, host: str, port: int | None) -> list[ResolveResult]:
        try:
            hosts = await self._resolver.resolve(host, port or 0, family=self._family)
        except UnicodeError as exc:
            # the codec refused the name (a label over 63 bytes, an empty label): no DNS
            # query can carry it, so it is as unknown as a name the DNS has no answer for
            raise socket.gaierror(socket.EAI_NONAME, f"invalid host name {host!r}: {exc}") from exc
        if not hosts:  # a custom resolver's empty answer: nothing to connect to or cache
            raise socket.gaierror(socket.EAI_NONAME, f"no address for host {host!r}")
        return hosts

    def _lookup_done(
        self, key: tuple[str, int | None], task: asyncio.Task[list[ResolveResult]]
    ) -> None:
        if self._dns_inflight.get(key) is task:
            del self._dns_inflight[key]
        if task.cancelled():
            return
        exc = task.exception()  # retrieved: no "never retrieved" noise when nobody waits
        if exc is None and self._loop is not None:
            self._dns_cache[key] = (task.result(), self._loop.time() + (self._ttl_dns_cache or 0))

    # ----- TLS -----

    def _ssl_for(self, req: Any) -> tuple[ssl_mod.SSLContext | None, Fingerprint | None]:
        """The SSLContext to use (None for plain TCP) and an optional pin."""
        key: ConnectionKey = req.connection_key
        if not key.is_ssl:
            return None, None
        chosen = key.ssl
        if chosen is None:
            chosen = self._ssl_default
        if chosen is None or chosen is True:
            if self._fingerprint is not None:
                chosen = self._fingerprint
            elif self._ssl_context is not None:
                return self._ssl_context, None
            elif not self._verify_ssl:
                return default_ssl_context(False), None
            else:
                return default_ssl_context(True), None
        if chosen is False:
            return default_ssl_context(False), None
        if isinstance(chosen, Fingerprint):
            # pinning replaces CA verification (self-signed certificates are the use case)
            return default_ssl_context(False), chosen
        if isinstance(chosen, ssl_mod.SSLContext):
            return chosen, None
        raise TypeError(f"ssl should be bool, SSLContext or Fingerprint, got {chosen!r}")

    def _proxy_ssl_for(self, req: Any) -> ssl_mod.SSLContext:
        """The SSLContext for TLS to an ``https://`` proxy: the request's ssl settings, as
        for the target (as in aiohttp, one SSLContext verifies both proxy and target, so it
        must trust both), the connector's when the request has none. A Fingerprint pins the
        target's certificate only: the proxy is then verified as the connector would verify
        it without a pin."""
        key: ConnectionKey = req.connection_key
        for chosen in (key.ssl, self._ssl_default):
            if isinstance(chosen, ssl_mod.SSLContext):
                return chosen
            if chosen is False:
                return default_ssl_context(False)
            if chosen is not None and chosen is not True and not isinstance(chosen, Fingerprint):
                raise TypeError(f"ssl should be bool, SSLContext or Fingerprint, got {chosen!r}")
        if self._ssl_context is not None:
            return self._ssl_context
        return default_ssl_context(self._verify_ssl)

    # ----- connecting -----

    async def _create_connection(self, req: Any, timeout: Any = None) -> ResponseHandler:
        key: ConnectionKey = req.connection_key
        if key.proxy is not None:
            return await create_proxied_connection(self, req, timeout)
        host = key.host
        port = key.port
        try:
            hosts = await self._resolve_host(host, port)
        except OSError as exc:
            raise ClientConnectorError(key, exc) from exc
        sslcontext, pin = self._ssl_for(req)
        sock_connect = getattr(timeout, "sock_connect", None)
        last_exc: BaseException | None = None
        factory = self._protocol_factory()
        assert self._loop is not None
        for addr in hosts:
            try:
                coro = self._loop.create_connection(
                    factory,
                    addr["host"],
                    addr["port"],
                    ssl=sslcontext,
                    family=addr["family"],
                    proto=addr["proto"],
                    flags=addr["flags"],
                    server_hostname=(key.server_hostname or addr["hostname"] or host).rstrip(".")
                    if sslcontext
                    else None,
                    local_addr=self._local_addr,
                )
                if sock_connect:
                    async with asyncio.timeout(sock_connect):
                        transport, proto = await coro
                else:
                    transport, proto = await coro
            except (OSError, ssl_mod.CertificateError) as exc:
                if sock_connect and isinstance(exc, TimeoutError) and exc.errno is None:
                    # our sock_connect limit (a kernel ETIMEDOUT carries its errno)
                    last_exc = ServerTimeoutError(
                        f"Connection timeout to host {host}:{port} (sock_connect={sock_connect})"
                    )
                else:
                    last_exc = _translate_connect_error(key, exc)
                last_exc.__cause__ = exc
                continue
            if pin is not None:
                try:
                    pin.check(transport, host, port or 0)
                except BaseException:
                    transport.abort()
                    raise
            return proto
        assert last_exc is not None
        raise last_exc


class UnixConnector(BaseConnector):
    """Connections over a Unix domain socket at ``path`` (whatever the URL's host)."""

    def __init__(
        self,
        path: str,
        *,
        conn_timeout: float | None = None,
        keepalive_timeout: Any = sentinel,
        force_close: bool = False,
        limit: int | None = 100,
        limit_per_host: int | None = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
    ) -> None:
        if keepalive_timeout is sentinel and not force_close:
            keepalive_timeout = 30.0  # the reference's default for Unix sockets
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
        )
        self._path = path
        self._conn_timeout = conn_timeout

    @property
    def path(self) -> str:
        return self._path

    async def _create_connection(self, req: Any, timeout: Any = None) -> ResponseHandler:
        assert self._loop is not None
        key: ConnectionKey = req.connection_key
        limit = getattr(timeout, "sock_connect", None) or self._conn_timeout
        try:
            coro = self._loop.create_unix_connection(self._protocol_factory(), self._path)
            if limit:
                async with asyncio.timeout(limit):
                    _, proto = await coro
            else:
                _, proto = await coro
        except TimeoutError as exc:
            raise ServerTimeoutError(f"Connection timeout to unix socket {self._path}") from exc
        except OSError as exc:
            raise ClientConnectorError(key, exc) from exc
        return proto


def _is_ip_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True
