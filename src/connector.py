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
import itertools
import socket
import ssl as ssl_mod
import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from . import fastnet
from .abc import AbstractResolver, ResolveResult
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientOSError,
    ConnectionTimeoutError,
    UnixClientConnectorError,
)
from .client_proto import ResponseHandler
from .client_proxy import create_proxied_connection
from .helpers import (
    DONE,
    DoneAwaitable,
    Fingerprint,
    ceil_deadline,
    check_seconds,
    default_ssl_context,
    merge_ssl_params,
    sentinel,
    warn_loop,
)
from .resolver import DefaultResolver

if TYPE_CHECKING:
    from .tracing import Trace

__all__ = (
    "AddrInfoType",
    "BaseConnector",
    "Connection",
    "ConnectionKey",
    "SocketFactoryType",
    "TCPConnector",
    "UnixConnector",
)

#: one entry of ``socket.getaddrinfo``: (family, type, proto, canonname, sockaddr)
AddrInfoType: TypeAlias = tuple[
    int | socket.AddressFamily, int | socket.SocketKind, int, str, tuple[Any, ...]
]
#: what ``TCPConnector(socket_factory=)`` takes: makes the socket for one address
SocketFactoryType: TypeAlias = Callable[[AddrInfoType], socket.socket]


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
_CREATE_TRACED = "traced"  # the built-in connectors: (req, *, timeout=None, traces=None)


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
    #: the HTTP/2 pool (cyhttp.h2_pool.H2Pool) of a TCPConnector made with http2=
    _h2: Any = None

    def __init__(
        self,
        *,
        keepalive_timeout: Any = sentinel,
        force_close: bool = False,
        limit: int | None = 100,
        limit_per_host: int | None = 0,
        enable_cleanup_closed: bool = False,
        loop: Any = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        warn_loop(loop)
        check_seconds("timeout_ceil_threshold", timeout_ceil_threshold)
        #: timers of at least this many seconds may be rounded up to a whole second
        self._timeout_ceil_threshold = timeout_ceil_threshold
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
        if not self._conns and not self._acquired and (self._h2 is None or not self._h2.busy):
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

    def close(self, *, abort_ssl: bool = False) -> DoneAwaitable:
        """Close every connection, idle or in use. Awaiting the result is allowed.

        Connections are dropped at once; only a :class:`TCPConnector` with a non-zero
        ``ssl_shutdown_timeout`` lets TLS ones do the TLS shutdown exchange, unless
        ``abort_ssl`` (a peer that never answers it cannot hold the close up)."""
        if not self._closed:
            self._closed = True
            self._close_all(abort_ssl=abort_ssl)
        return DONE

    #: whether closing the connector lets TLS connections do the TLS shutdown exchange
    _tls_shutdown_on_close = False

    def _close_all(self, *, abort_ssl: bool = False) -> None:
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        graceful = self._tls_shutdown_on_close and not abort_ssl
        for conns in self._conns.values():
            for proto, _ in conns:
                self._close_proto(proto, graceful)
        self._conns.clear()
        for proto in self._acquired:
            if isinstance(proto, ResponseHandler):
                self._close_proto(proto, graceful)
        self._acquired.clear()
        self._acquired_per_host.clear()
        waiters, self._waiters = self._waiters, collections.deque()
        for _, fut in waiters:
            if not fut.done():
                fut.set_exception(ClientConnectionError("Connector is closed."))
        if self._h2 is not None:
            self._h2.close()

    def _close_proto(self, proto: ResponseHandler, graceful_tls: bool = False) -> None:
        transport = proto.transport
        if (
            graceful_tls
            and transport is not None
            and transport.get_extra_info("sslcontext") is not None
        ):
            transport.close()  # the TLS shutdown exchange, within ssl_shutdown_timeout
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
        h2 = self._h2
        if h2 is not None and h2.handles(req):
            return h2.connect_now(req)
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

    async def connect(
        self, request: Any, traces: Sequence[Trace] | None = None, timeout: Any = None
    ) -> Connection:
        """A connection for ``request`` (its ``connection_key``): pooled if one is idle, else
        new. Waits while at ``limit``/``limit_per_host``.

        ``traces`` (:class:`cyhttp.tracing.Trace`, one per trace config of the session) hear
        of the wait for a slot, the reuse of a pooled connection or the making of a new
        one; with none, nothing of that is paid for."""
        req = request
        key: ConnectionKey = req.connection_key
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        h2 = self._h2
        if h2 is not None and h2.handles(req):
            return await h2.connect(req, traces, timeout)
        if not self._waiters and self._has_slot(key):
            proto = self._get(key)
            if proto is not None:
                self._reserve(key, proto)
                if traces:
                    return await self._reused(key, proto, loop, traces)
                return Connection(self, key, proto, loop, reused=True)
            slot = _Slot()
            self._reserve(key, slot)
        else:
            if traces:
                slot = await self._wait_for_slot_traced(key, loop, traces)
            else:
                slot = await self._wait_for_slot(key, loop)
            proto = self._get(key)
            if proto is not None:
                self._unreserve(key, slot)
                self._reserve(key, proto)
                if traces:
                    return await self._reused(key, proto, loop, traces)
                return Connection(self, key, proto, loop, reused=True)
        return await self._connect_new(req, key, slot, loop, traces, timeout)

    async def _connect_new(
        self,
        req: Any,
        key: ConnectionKey,
        slot: _Slot,
        loop: asyncio.AbstractEventLoop,
        traces: Sequence[Trace] | None,
        timeout: Any,
    ) -> Connection:
        """Open a new connection in the reserved ``slot`` (given back if that fails)."""
        proto = None
        try:
            if traces:
                for trace in traces:
                    await trace.send_connection_create_start()
            style = self._create_style
            if style is _CREATE_TRACED:
                proto = await self._create_connection(req, timeout=timeout, traces=traces)
            elif style is _CREATE_MODERN:
                proto = await self._create_connection(req, timeout=timeout)
            else:
                proto = await self._create_user_connection(req, traces, timeout)
            if traces:
                for trace in traces:
                    await trace.send_connection_create_end()
        except BaseException:
            if proto is not None:  # a trace callback failed: the connection is not handed out
                proto.close()
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

    async def _reused(
        self,
        key: ConnectionKey,
        proto: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
        traces: Sequence[Trace],
    ) -> Connection:
        """Hand out a pooled connection (already reserved), telling the traces."""
        conn = Connection(self, key, proto, loop, reused=True)
        try:
            for trace in traces:
                await trace.send_connection_reuseconn()
        except BaseException:
            conn.release()  # the connection is fine: back to the pool
            raise
        return conn

    async def _wait_for_slot_traced(
        self, key: ConnectionKey, loop: asyncio.AbstractEventLoop, traces: Sequence[Trace]
    ) -> _Slot:
        """:meth:`_wait_for_slot` between the queued start and end signals."""
        for trace in traces:
            await trace.send_connection_queued_start()
        slot = await self._wait_for_slot(key, loop)
        try:
            for trace in traces:
                await trace.send_connection_queued_end()
        except BaseException:
            self._unreserve(key, slot)
            self._wake()
            raise
        return slot

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

    async def _create_connection(self, req: Any, *args: Any, **kwargs: Any) -> ResponseHandler:
        """Open a new connection for ``req``; subclasses implement it.

        Besides the form ``(req, timeout=None)`` (returning the protocol), an override may
        take ``(req)`` alone, as in aiohttp 2.x, or ``(req, traces, timeout)``, as in
        aiohttp 3, and return the ``(transport, protocol)`` pair of
        ``loop.create_connection(self._factory, ...)``. The built-in connectors take
        ``(req, timeout=None, traces=None)`` and also accept aiohttp 3's positional form, so
        an override may call ``super()._create_connection(req, traces, timeout)``.
        """
        raise NotImplementedError

    #: how :meth:`connect` calls ``_create_connection`` (decided once per class, unless the
    #: class states it)
    _create_style = _CREATE_MODERN

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        create = cls.__dict__.get("_create_connection")
        if create is not None and "_create_style" not in cls.__dict__:
            cls._create_style = _create_style_of(create)

    async def _create_user_connection(self, req: Any, traces: Any, timeout: Any) -> ResponseHandler:
        """Call an aiohttp-style override and accept what it returns: the protocol, or the
        ``(transport, protocol)`` pair."""
        result: Any
        if self._create_style == _CREATE_AIOHTTP3:
            result = await self._create_connection(req, traces, timeout)
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
    """Connections over TCP, with TLS for https/wss, a DNS cache and pluggable resolvers.

    A host with several addresses is connected to with Happy Eyeballs (RFC 8305): the
    addresses are tried in turn, alternating address families (``interleave``), each new
    attempt starting ``happy_eyeballs_delay`` seconds after the previous one (or as soon as
    it fails) while the earlier ones go on; the first to connect wins.

    ``fast_transports`` (None: when installed, unless ``CYHTTP_NO_AIOFASTNET`` is set; True;
    False) runs the connections on aiofastnet's compiled transports: see :mod:`cyhttp.fastnet`.
    """

    _create_style = _CREATE_TRACED
    #: the aiofastnet module when its transports are in use (set by ``__init__``)
    _fastnet: ModuleType | None = None

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
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        socket_factory: SocketFactoryType | None = None,
        dns_cache_max_size: int = 1000,
        ssl_shutdown_timeout: Any = sentinel,
        http2: bool | str = False,
        fast_transports: bool | None = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._happy_eyeballs_delay, self._interleave = _eyeballs_params(
            happy_eyeballs_delay, interleave
        )
        if socket_factory is not None and not callable(socket_factory):
            raise TypeError(f"socket_factory must be callable, got {socket_factory!r}")
        self._socket_factory = socket_factory
        if isinstance(dns_cache_max_size, bool) or not isinstance(dns_cache_max_size, int):
            raise TypeError(f"dns_cache_max_size must be an int, got {dns_cache_max_size!r}")
        if dns_cache_max_size < 0:
            raise ValueError(f"dns_cache_max_size must be >= 0, got {dns_cache_max_size}")
        self._dns_cache_max_size = dns_cache_max_size
        self._ssl_shutdown_timeout = _ssl_shutdown_timeout(ssl_shutdown_timeout)
        # 0 (the default): closing the connector drops TLS connections at once
        self._tls_shutdown_on_close = self._ssl_shutdown_timeout != 0
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
        # aiofastnet's compiled transports when installed (see cyhttp.fastnet)
        self._fastnet = fastnet.resolve(fast_transports)
        if http2:  # opt-in HTTP/2 (see cyhttp.h2_pool); nothing of it is loaded otherwise
            from .h2_pool import H2Pool, http2_mode

            self._h2 = H2Pool(self, http2_mode(http2))

    @property
    def http2(self) -> bool | str:
        """The ``http2`` argument: False, True (ALPN over TLS) or "prior-knowledge"."""
        h2 = self._h2
        return False if h2 is None else h2.mode

    @property
    def fast_transports(self) -> bool:
        """True when this connector's connections run on aiofastnet's transports."""
        return self._fastnet is not None

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

    async def _resolve_host(
        self, host: str, port: int | None, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        """The addresses of ``host``: from the cache, from a lookup already under way for
        it, or from a new lookup. ``traces`` hear of cache hits and misses and lookups."""
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
            if traces:
                return await self._traced_lookup(host, port, traces, None)
            return await self._lookup(host, port)
        key = (host, port)
        assert self._loop is not None
        hosts = self._cached(key)
        if hosts is not None:
            if traces:
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
            return hosts
        inflight = self._dns_inflight.get(key)
        if inflight is not None:
            if traces:  # as in aiohttp, joining a lookup under way counts as a hit
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
            return await asyncio.shield(inflight)
        # one lookup per host at a time, in a task of its own: cancelling the caller that
        # started it must not cancel it for the callers that joined it
        inflight = self._dns_inflight[key] = self._loop.create_task(self._lookup(host, port))
        inflight.add_done_callback(lambda task: self._lookup_done(key, task))
        if traces:
            return await self._traced_lookup(host, port, traces, inflight)
        return await asyncio.shield(inflight)

    def _cached(self, key: tuple[str, int | None]) -> list[ResolveResult] | None:
        """The cached, unexpired addresses for ``key``, rotated by one on each use (new
        connections spread over a host's addresses); the entry becomes the most recently
        used one."""
        cached = self._dns_cache.pop(key, None)
        if cached is None:
            return None
        hosts, expires = cached
        assert self._loop is not None
        if self._ttl_dns_cache is not None and self._loop.time() >= expires:
            return None
        if len(hosts) > 1:
            hosts = hosts[1:] + hosts[:1]
        self._dns_cache[key] = (hosts, expires)
        return hosts

    async def _traced_lookup(
        self,
        host: str,
        port: int | None,
        traces: Sequence[Trace],
        inflight: asyncio.Task[list[ResolveResult]] | None,
    ) -> list[ResolveResult]:
        """A lookup between the resolvehost start and end signals, after a cache miss when
        the cache is on (``inflight``: the shared lookup, already running, so a failing
        callback fails this caller only)."""
        if inflight is not None:
            for trace in traces:
                await trace.send_dns_cache_miss(host)
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        if inflight is not None:
            hosts = await asyncio.shield(inflight)
        else:
            hosts = await self._lookup(host, port)
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        return hosts

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
            self._cache_put(key, task.result())

    def _cache_put(self, key: tuple[str, int | None], hosts: list[ResolveResult]) -> None:
        """Cache a lookup's answer, forgetting the least recently used hosts beyond
        ``dns_cache_max_size``."""
        assert self._loop is not None
        cache = self._dns_cache
        cache.pop(key, None)
        cache[key] = (hosts, self._loop.time() + (self._ttl_dns_cache or 0))
        while len(cache) > self._dns_cache_max_size:
            del cache[next(iter(cache))]

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

    async def _create_connection(
        self, req: Any, *args: Any, timeout: Any = None, traces: Sequence[Trace] | None = None
    ) -> ResponseHandler:
        if args:
            timeout, traces = _create_args(args, timeout, traces)
        key: ConnectionKey = req.connection_key
        if key.proxy is not None:
            return await create_proxied_connection(self, req, timeout)
        try:
            hosts = await self._resolve_host(key.host, key.port, traces)
        except ClientOSError:
            raise  # an override's own connector error
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        sslcontext, pin = self._ssl_for(req)
        server_hostname = getattr(req, "server_hostname", None)
        return await self._connect_hosts(key, hosts, timeout, sslcontext, pin, server_hostname)

    async def _connect_hosts(
        self,
        key: ConnectionKey,
        hosts: list[ResolveResult],
        timeout: Any,
        sslcontext: ssl_mod.SSLContext | None = None,
        pin: Fingerprint | None = None,
        server_hostname: str | None = None,
        factory: Callable[[], ResponseHandler] | None = None,
    ) -> ResponseHandler:
        """A connection to the first of ``hosts`` that answers, TLS included when
        ``sslcontext``; errors name ``key``. ``factory`` makes the protocol (the
        connector's own by default).

        An address whose TLS set-up fails is dropped and the others are tried (as a refused
        one is); the error raised when none works is the last TLS error if there was one,
        else the TCP errors. (A proxy connection is this with ``sslcontext`` None.)"""
        limit = getattr(timeout, "sock_connect", None)
        threshold = getattr(timeout, "ceil_threshold", self._timeout_ceil_threshold)
        infos = self._addr_infos(hosts)
        names: dict[tuple[Any, ...], str] = {}
        if sslcontext is not None:  # the name the resolver gave each address, for SNI
            names = {info[4]: host["hostname"] for info, host in zip(infos, hosts, strict=True)}
        if len(infos) > 1:
            infos = _interleave(infos, self._interleave)
        errors: list[OSError] = []
        tls_error: BaseException | None = None
        while infos:
            opened = await self._open_socket(infos, limit, threshold, errors)
            if opened is None:
                break
            sock, info, deadline = opened
            infos.remove(info)
            sni = None
            if sslcontext is not None:
                sni = (server_hostname or names[info[4]] or key.host).rstrip(".")
            try:
                transport, proto = await self._start_transport(
                    sock, sslcontext, sni, deadline, factory
                )
            except (OSError, ssl_mod.CertificateError) as exc:
                if isinstance(exc, TimeoutError) and exc.errno is None:
                    tls_error = _connect_timeout(key, limit)
                else:
                    tls_error = _translate_connect_error(key, exc)
                tls_error.__cause__ = exc
                continue
            if pin is not None:
                try:
                    pin.check(transport, key.host, key.port or 0)
                except BaseException:
                    transport.abort()
                    raise
            return proto
        if tls_error is not None:
            raise tls_error
        raise _failure(key, errors, limit)

    def _addr_infos(self, hosts: list[ResolveResult]) -> list[AddrInfoType]:
        """``socket.getaddrinfo``-style entries for a resolver's answer. Addresses are
        numeric; a scoped IPv6 one ("fe80::1%eth0") is completed by ``loop.sock_connect``."""
        infos: list[AddrInfoType] = []
        for host in hosts:
            address = host["host"]
            family = host["family"] or (socket.AF_INET6 if ":" in address else socket.AF_INET)
            sockaddr: tuple[Any, ...]
            if family == socket.AF_INET6:
                sockaddr = (address, host["port"], 0, 0)
            else:
                sockaddr = (address, host["port"])
            infos.append((family, socket.SOCK_STREAM, host["proto"], "", sockaddr))
        return infos

    async def _open_socket(
        self,
        infos: list[AddrInfoType],
        limit: float | None,
        threshold: float,
        errors: list[OSError],
    ) -> tuple[socket.socket, AddrInfoType, float | None] | None:
        """A socket connected to one of ``infos``, the entry it came from and the deadline
        of its attempt; None when every attempt failed. Failed entries are removed from
        ``infos`` and their errors added to ``errors``."""
        if len(infos) == 1 or self._happy_eyeballs_delay is None:
            return await self._open_in_turn(infos, limit, threshold, errors)
        return await self._open_staggered(infos, limit, threshold, errors)

    async def _open_in_turn(
        self,
        infos: list[AddrInfoType],
        limit: float | None,
        threshold: float,
        errors: list[OSError],
    ) -> tuple[socket.socket, AddrInfoType, float | None] | None:
        """One attempt after the other (Happy Eyeballs off, or a single address)."""
        for info in list(infos):
            try:
                sock, deadline = await self._attempt(info, limit, threshold)
            except OSError as exc:
                errors.append(exc)
                infos.remove(info)
                continue
            return sock, info, deadline
        return None

    async def _open_staggered(
        self,
        infos: list[AddrInfoType],
        limit: float | None,
        threshold: float,
        errors: list[OSError],
    ) -> tuple[socket.socket, AddrInfoType, float | None] | None:
        """RFC 8305's staggered attempts: start one, wait ``happy_eyeballs_delay`` or until
        one ends, start the next while the earlier ones go on; the first to connect wins and
        the others are cancelled (their sockets closed)."""
        loop = self._loop
        assert loop is not None
        delay = self._happy_eyeballs_delay
        waiting = list(infos)
        running: dict[asyncio.Task[tuple[socket.socket, float | None]], AddrInfoType] = {}
        won: list[tuple[socket.socket, AddrInfoType, float | None]] = []
        try:
            while (waiting or running) and not won:
                if waiting:
                    info = waiting.pop(0)
                    running[loop.create_task(self._attempt(info, limit, threshold))] = info
                done, _ = await asyncio.wait(
                    set(running),
                    timeout=delay if waiting else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in sorted(done, key=lambda t: infos.index(running[t])):
                    info = running.pop(task)
                    exc = task.exception()
                    if exc is None:
                        sock, deadline = task.result()
                        won.append((sock, info, deadline))
                    elif isinstance(exc, OSError):
                        errors.append(exc)
                        infos.remove(info)
                    else:
                        raise exc  # a bug (a socket_factory's TypeError...): not a refusal
            for sock, _, _ in won[1:]:  # connected in the same loop turn as the winner
                sock.close()
            return won[0] if won else None
        finally:
            if running:
                await _cancel_attempts(running)

    async def _attempt(
        self, info: AddrInfoType, limit: float | None, threshold: float
    ) -> tuple[socket.socket, float | None]:
        """One TCP connect to ``info``, within ``limit`` seconds: the socket and the
        deadline, which the TLS handshake on it shares."""
        loop = self._loop
        assert loop is not None
        factory = self._socket_factory
        sock = socket.socket(info[0], info[1], info[2]) if factory is None else factory(info)
        deadline = None
        try:
            sock.setblocking(False)
            if self._local_addr is not None:
                sock.bind(self._local_addr)
            if limit:
                deadline = ceil_deadline(loop.time(), limit, threshold)
                try:
                    async with asyncio.timeout_at(deadline):
                        await loop.sock_connect(sock, info[4])
                except TimeoutError as exc:
                    if exc.errno is not None:
                        raise  # the kernel's ETIMEDOUT: a failure like a refusal
                    host, port = info[4][:2]
                    raise ConnectionTimeoutError(
                        f"Connection timeout to {host}:{port} (sock_connect={limit})"
                    ) from exc
            else:
                await loop.sock_connect(sock, info[4])
        except BaseException:
            sock.close()
            raise
        return sock, deadline

    async def _start_transport(
        self,
        sock: socket.socket,
        sslcontext: ssl_mod.SSLContext | None,
        server_hostname: str | None,
        deadline: float | None,
        factory: Callable[[], ResponseHandler] | None = None,
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        """The transport and protocol on a connected socket, after the TLS handshake if
        ``sslcontext``; the handshake ends by the attempt's ``deadline``."""
        loop = self._loop
        assert loop is not None
        if factory is None:
            factory = self._protocol_factory()
        fast = self._fastnet
        try:
            if sslcontext is None:
                return await fastnet.create_connection(fast, loop, factory, sock=sock)
            extra: dict[str, Any] = {}
            if self._ssl_shutdown_timeout:
                extra["ssl_shutdown_timeout"] = self._ssl_shutdown_timeout
            coro = fastnet.create_connection(
                fast,
                loop,
                factory,
                sock=sock,
                ssl=sslcontext,
                server_hostname=server_hostname,
                **extra,
            )
            async with asyncio.timeout_at(deadline):
                return await coro
        except BaseException:
            sock.close()  # the transport closed it already, unless it was never made
            raise


def _create_args(args: tuple[Any, ...], timeout: Any, traces: Any) -> tuple[Any, Any]:
    """(timeout, traces) from the positional forms of ``_create_connection``: cyhttp's
    ``(req, timeout)`` and aiohttp 3's ``(req, traces, timeout)``."""
    if len(args) == 1:
        return args[0], traces
    if len(args) == 2:
        return args[1], args[0]
    raise TypeError(f"_create_connection takes (req, traces, timeout), got {len(args) + 1} args")


async def _cancel_attempts(
    running: dict[asyncio.Task[tuple[socket.socket, float | None]], AddrInfoType],
) -> None:
    """Stop the attempts that lost the race, and close what they connected meanwhile."""
    for task in running:
        task.cancel()
    await asyncio.wait(set(running))
    for task in running:
        if not task.cancelled() and task.exception() is None:
            task.result()[0].close()


def _interleave(infos: list[AddrInfoType], first_family_count: int) -> list[AddrInfoType]:
    """RFC 8305 section 4: ``first_family_count`` addresses of the first family, then one of
    each family in turn. 0: the resolver's order."""
    families: dict[int, list[AddrInfoType]] = {}
    for info in infos:
        families.setdefault(info[0], []).append(info)
    if first_family_count <= 0 or len(families) < 2:
        return list(infos)
    groups = list(families.values())
    ordered = groups[0][: first_family_count - 1]
    groups[0] = groups[0][first_family_count - 1 :]
    for row in itertools.zip_longest(*groups):
        ordered.extend(info for info in row if info is not None)
    return ordered


def _connect_timeout(key: ConnectionKey, limit: float | None) -> ConnectionTimeoutError:
    return ConnectionTimeoutError(
        f"Connection timeout to host {key.host}:{key.port} (sock_connect={limit})"
    )


def _failure(key: ConnectionKey, errors: list[OSError], limit: float | None) -> BaseException:
    """The error for a host none of whose addresses took a TCP connection: the attempt's own
    error for one address; for several, one that names them all. Only when every attempt
    ran out of ``sock_connect`` is it a ConnectionTimeoutError (naming the host asked for;
    each attempt's names its address)."""
    if not errors:  # an overridden _resolve_host answered nothing
        return ClientConnectorError(key, OSError(errno.EHOSTUNREACH, "no address to connect to"))
    if all(isinstance(exc, ConnectionTimeoutError) for exc in errors):
        timeout = _connect_timeout(key, limit)
        timeout.__cause__ = errors[-1]
        return timeout
    if len(errors) == 1:
        combined = errors[0]
    else:
        codes = {exc.errno for exc in errors}
        message = "Multiple exceptions: " + "; ".join(str(exc) for exc in errors)
        combined = OSError(codes.pop() if len(codes) == 1 else None, message)
        combined.__cause__ = errors[-1]
    failure = ClientConnectorError(key, combined)
    failure.__cause__ = combined
    return failure


def _eyeballs_params(delay: float | None, interleave: int | None) -> tuple[float | None, int]:
    """Checked ``happy_eyeballs_delay`` and the ``interleave`` to use: when not given, 1
    (alternate families) with Happy Eyeballs on, 0 (the resolver's order) with it off."""
    check_seconds("happy_eyeballs_delay", delay)
    if interleave is None:
        return delay, 1 if delay is not None else 0
    if isinstance(interleave, bool) or not isinstance(interleave, int):
        raise TypeError(f"interleave must be an int or None, got {interleave!r}")
    if interleave < 0:
        raise ValueError(f"interleave must be >= 0, got {interleave}")
    return delay, interleave


def _ssl_shutdown_timeout(value: Any) -> float | None:
    """``ssl_shutdown_timeout``, deprecated since aiohttp 3.12.11: warn when it is given.
    0 (the default) drops TLS connections at once when the connector closes; a number of
    seconds lets asyncio wait that long for the TLS shutdown exchange, None its default."""
    if value is sentinel:
        return 0.0
    warnings.warn(
        "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0",
        DeprecationWarning,
        stacklevel=3,
    )
    check_seconds("ssl_shutdown_timeout", value)
    return None if value is None else float(value)


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

    _create_style = _CREATE_TRACED

    async def _create_connection(
        self, req: Any, *args: Any, timeout: Any = None, traces: Sequence[Trace] | None = None
    ) -> ResponseHandler:
        if args:
            timeout, traces = _create_args(args, timeout, traces)
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
        except OSError as exc:
            if isinstance(exc, TimeoutError) and exc.errno is None:
                raise ConnectionTimeoutError(
                    f"Connection timeout to unix socket {self._path}"
                ) from exc
            raise UnixClientConnectorError(self._path, key, exc) from exc
        return proto


def _is_ip_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True


def __getattr__(name: str) -> Any:
    # aiohttp.connector.NamedPipeConnector: here in a module of its own (Windows only)
    if name == "NamedPipeConnector":
        from .named_pipe import NamedPipeConnector

        return NamedPipeConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
