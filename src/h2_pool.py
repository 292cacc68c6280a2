"""The HTTP/2 side of a :class:`~cyhttp.connector.TCPConnector` made with ``http2=``.

With ``http2=True`` a TLS connection offers ``h2`` and ``http/1.1`` by ALPN and the server
chooses: ``h2`` makes an :class:`~cyhttp.h2_protocol.H2Protocol`, anything else keeps the
HTTP/1.1 path (and the origin is remembered as HTTP/1.1: its later requests go straight to
the ordinary pool). ``http2="prior-knowledge"`` also speaks HTTP/2 at once on plain TCP
(``http://`` URLs, "h2c with prior knowledge", RFC 9113 section 3.3); there is no Upgrade
dance. Proxied requests and WebSockets (any request with an ``Upgrade`` header) always
take HTTP/1.1.

Multiplexing: the requests to one origin share one connection, up to the server's
SETTINGS_MAX_CONCURRENT_STREAMS; another connection is opened only when every one is
saturated. A request that finds a connection being set up waits for it instead of opening
its own, so a burst of concurrent requests makes one connection.

Limits: every request in flight holds one slot of the connector's ``limit`` and
``limit_per_host``, whether it has a connection of its own (HTTP/1.1) or a stream on a
shared one (HTTP/2): ``limit=100`` means at most 100 requests in flight, however many
sockets carry them.

An idle HTTP/2 connection is closed after ``keepalive_timeout`` (at once with
``force_close``); closing the connector closes them all (GOAWAY, then the socket).

A TLS context the connector builds offers ALPN ``h2`` itself. A context the caller passes
(``ssl=ctx``) is used as given, never changed: to get HTTP/2 with it, call
``ctx.set_alpn_protocols(["h2", "http/1.1"])``.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_mod
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientOSError,
)
from .client_proto import ResponseHandler
from .connector import Connection, ConnectionKey, _Slot
from .h2_protocol import AlpnResponseHandler, H2Protocol, H2Stream
from .helpers import default_ssl_context

if TYPE_CHECKING:
    from .connector import TCPConnector
    from .tracing import Trace

__all__ = ("PRIOR_KNOWLEDGE", "H2Pool", "H2StreamConnection", "http2_mode")

#: ``TCPConnector(http2=PRIOR_KNOWLEDGE)``: HTTP/2 on plain TCP too, without negotiation
PRIOR_KNOWLEDGE = "prior-knowledge"
_ALPN = ["h2", "http/1.1"]
_H2_CONTEXTS: dict[bool, ssl_mod.SSLContext] = {}
#: how many origins known to answer ALPN with HTTP/1.1 are remembered
_MAX_H1_ORIGINS = 1024


def http2_mode(value: Any) -> bool | str:
    """The checked ``http2`` argument: False, True or :data:`PRIOR_KNOWLEDGE`."""
    if value is False or value is None:
        return False
    if value is True or value == PRIOR_KNOWLEDGE:
        return value
    raise ValueError(f"http2 must be False, True or {PRIOR_KNOWLEDGE!r}, not {value!r}")


def _alpn_context(ctx: ssl_mod.SSLContext) -> ssl_mod.SSLContext:
    """The connector's own contexts, offering ``h2`` too (a copy: the shared HTTP/1.1
    contexts must keep offering ``http/1.1`` only); a caller's context as it is."""
    for verified in (True, False):
        if ctx is default_ssl_context(verified):
            h2_ctx = _H2_CONTEXTS.get(verified)
            if h2_ctx is None:
                h2_ctx = ssl_mod.create_default_context()
                if not verified:
                    h2_ctx.check_hostname = False
                    h2_ctx.verify_mode = ssl_mod.CERT_NONE
                h2_ctx.set_alpn_protocols(_ALPN)
                _H2_CONTEXTS[verified] = h2_ctx
            return h2_ctx
    return ctx


class H2StreamConnection(Connection):
    """A :class:`Connection` lent for one request on a shared HTTP/2 connection: its
    ``protocol`` is the request's :class:`H2Stream`. Releasing or closing it gives the
    stream back (reset when unfinished) and frees the request's slot; the HTTP/2
    connection stays for the other streams."""

    __slots__ = ("_pool", "_reused", "_slot", "_stream")

    def __init__(
        self,
        connector: TCPConnector,
        key: ConnectionKey,
        stream: H2Stream,
        loop: asyncio.AbstractEventLoop,
        slot: _Slot,
        pool: H2Pool,
        reused: bool,
    ) -> None:
        self._stream = stream
        self._slot = slot
        self._pool = pool
        super().__init__(connector, key, stream, loop, reused)  # type: ignore[arg-type]

    @property
    def reused(self) -> bool:
        """True for a connection that carried requests before, and for a request the
        server never processed (GOAWAY, REFUSED_STREAM): either lets the session send an
        idempotent request again once."""
        return self._reused or self._stream.unprocessed

    @reused.setter
    def reused(self, value: bool) -> None:
        self._reused = value

    def __repr__(self) -> str:
        return f"<H2StreamConnection {self._key.host}:{self._key.port} stream {self._stream}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._protocol is not None:
            _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
            try:
                self.release()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def release(self) -> None:
        stream = self._protocol
        if stream is not None:
            self._protocol = None
            self._pool.release(self._key, stream, self._slot)  # type: ignore[arg-type]

    close = release
    detach = release


class H2Pool:
    """The HTTP/2 connections of one connector (see the module docstring)."""

    def __init__(self, connector: TCPConnector, mode: bool | str) -> None:
        self._connector = connector
        self.mode = mode
        self._prior_knowledge = mode == PRIOR_KNOWLEDGE
        self._conns: dict[ConnectionKey, list[H2Protocol]] = {}
        self._all: set[H2Protocol] = set()
        self._connecting: dict[ConnectionKey, asyncio.Future[None]] = {}
        #: origins whose server answered ALPN with HTTP/1.1
        self._h1: set[ConnectionKey] = set()
        self._idle_timers: dict[H2Protocol, asyncio.TimerHandle] = {}

    @property
    def busy(self) -> bool:
        """Whether any HTTP/2 connection is open (an unclosed connector warns)."""
        return any(proto.is_connected() for proto in self._all)

    def handles(self, req: Any) -> bool:
        """Whether ``req`` goes the HTTP/2 way."""
        key: ConnectionKey = req.connection_key
        if key.proxy is not None or key in self._h1:
            return False
        if not (key.is_ssl or self._prior_knowledge):
            return False
        url = getattr(req, "url", None)
        if url is not None and url.scheme in ("ws", "wss"):
            return False
        headers = getattr(req, "headers", None)
        # a WebSocket handshake (or any Upgrade) is HTTP/1.1 only
        return headers is None or "Upgrade" not in headers

    # ----- lending -----

    async def connect(self, req: Any, traces: Sequence[Trace] | None, timeout: Any) -> Connection:
        """A stream for ``req`` on a shared connection (or, when the server chose
        HTTP/1.1, an ordinary connection)."""
        connector = self._connector
        loop = connector._loop
        assert loop is not None
        key: ConnectionKey = req.connection_key
        slot = await self._take_slot(key, loop, traces)
        try:
            got, reused = await self._stream_for(req, key, traces, timeout)
        except BaseException:
            self._give_slot(key, slot)
            raise
        if isinstance(got, H2Stream):
            conn = H2StreamConnection(connector, key, got, loop, slot, self, reused)
            if traces and reused:
                try:
                    for trace in traces:
                        await trace.send_connection_reuseconn()
                except BaseException:
                    conn.release()
                    raise
            return conn
        connector._unreserve(key, slot)
        if got is None:  # the origin turned out to speak HTTP/1.1: the ordinary pool
            connector._wake()
            return await connector.connect(req, traces, timeout)
        if connector._closed:
            got.close()
            raise ClientConnectionError("Connector is closed.")
        connector._reserve(key, got)
        return Connection(connector, key, got, loop)

    def connect_now(self, req: Any) -> Connection | None:
        """The synchronous fast path (``BaseConnector._connect_pooled``): a stream on a
        connection with room, when a slot is free right now; else None."""
        connector = self._connector
        loop = connector._loop
        key: ConnectionKey = req.connection_key
        if loop is None or key not in self._conns or not connector._has_slot(key):
            return None
        proto = self._pick(key)
        if proto is None:
            return None
        slot = _Slot()
        connector._reserve(key, slot)
        return H2StreamConnection(connector, key, proto.new_stream(), loop, slot, self, True)

    async def _take_slot(
        self, key: ConnectionKey, loop: asyncio.AbstractEventLoop, traces: Sequence[Trace] | None
    ) -> _Slot:
        """One slot of ``limit``/``limit_per_host`` for the request (waiting for one)."""
        connector = self._connector
        if not connector._waiters and connector._has_slot(key):
            slot = _Slot()
            connector._reserve(key, slot)
            return slot
        if traces:
            return await connector._wait_for_slot_traced(key, loop, traces)
        return await connector._wait_for_slot(key, loop)

    def _give_slot(self, key: ConnectionKey, slot: _Slot) -> None:
        connector = self._connector
        connector._unreserve(key, slot)
        if connector._waiters:
            connector._wake()

    async def _stream_for(
        self, req: Any, key: ConnectionKey, traces: Sequence[Trace] | None, timeout: Any
    ) -> tuple[H2Stream | ResponseHandler | None, bool]:
        """A stream on a connection with room (waiting for one being set up, or setting
        up a new one), the HTTP/1.1 handler of a new connection whose server chose
        HTTP/1.1, or None when the origin is known to be HTTP/1.1; and whether the
        connection was there before."""
        while True:
            proto = self._pick(key)
            if proto is not None:
                return proto.new_stream(), True
            if key in self._h1:
                return None, False
            pending = self._connecting.get(key)
            if pending is not None:
                await asyncio.shield(pending)  # its failure is ours too
                continue
            made = await self._create(req, key, traces, timeout)
            if isinstance(made, H2Protocol):
                return made.new_stream(), False
            return made, False

    def _pick(self, key: ConnectionKey) -> H2Protocol | None:
        """The first connection to ``key`` with room for one more stream."""
        for proto in self._conns.get(key, ()):
            if proto.available():
                return proto
        return None

    async def _create(
        self, req: Any, key: ConnectionKey, traces: Sequence[Trace] | None, timeout: Any
    ) -> H2Protocol | ResponseHandler:
        """A new connection; requests that come meanwhile wait for it."""
        connector = self._connector
        assert connector._loop is not None
        pending = self._connecting[key] = connector._loop.create_future()
        try:
            if traces:
                for trace in traces:
                    await trace.send_connection_create_start()
            made = await self._open(req, key, timeout, traces)
            if traces:
                try:
                    for trace in traces:
                        await trace.send_connection_create_end()
                except BaseException:
                    made.close()
                    raise
        except asyncio.CancelledError:
            if not pending.done():
                pending.set_result(None)  # those waiting try again themselves
            raise
        except BaseException as exc:
            if not pending.done():
                pending.set_exception(exc)
                pending.exception()  # retrieved: nobody may be waiting
            raise
        finally:
            if self._connecting.get(key) is pending:
                del self._connecting[key]
        if not pending.done():
            pending.set_result(None)
        if isinstance(made, H2Protocol):
            if connector._closed:
                made.close()
                raise ClientConnectionError("Connector is closed.")
            self._conns.setdefault(key, []).append(made)
            self._all = {p for p in self._all if p.is_connected()}
            self._all.add(made)
        return made

    async def _open(
        self, req: Any, key: ConnectionKey, timeout: Any, traces: Sequence[Trace] | None
    ) -> H2Protocol | ResponseHandler:
        """Connect (TLS with ALPN ``h2``, or plain TCP with prior knowledge) and, for
        HTTP/2, wait for the server's SETTINGS (its connection preface)."""
        connector = self._connector
        loop = connector._loop
        assert loop is not None
        try:
            hosts = await connector._resolve_host(key.host, key.port, traces)
        except ClientOSError:
            raise
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        sslcontext, pin = connector._ssl_for(req)
        if sslcontext is not None:
            sslcontext = _alpn_context(sslcontext)
        plain = sslcontext is None
        forget = self._forget

        def factory() -> AlpnResponseHandler:
            return AlpnResponseHandler(loop, prior_knowledge=plain, on_lost=forget)

        handler = await connector._connect_hosts(
            key,
            hosts,
            timeout,
            sslcontext,
            pin,
            getattr(req, "server_hostname", None),
            factory=factory,
        )
        h2 = handler.h2 if isinstance(handler, AlpnResponseHandler) else None
        if h2 is None:
            if len(self._h1) >= _MAX_H1_ORIGINS:
                self._h1.clear()  # bounded: forgetting only costs one ALPN offer again
            self._h1.add(key)
            return handler
        try:
            limit = getattr(timeout, "sock_connect", None)
            async with asyncio.timeout(limit or None):
                await asyncio.shield(h2.settings_received)
        except BaseException as exc:
            h2.abort()
            if isinstance(exc, TimeoutError):
                raise ClientConnectorError(
                    key, OSError(110, "no HTTP/2 SETTINGS from the server in time")
                ) from exc
            raise
        return h2

    # ----- giving back -----

    def release(self, key: ConnectionKey, stream: H2Stream, slot: _Slot) -> None:
        """A request is done with its stream: free its slot; an idle connection is
        closed after ``keepalive_timeout`` (at once with ``force_close``)."""
        stream.release()
        self._give_slot(key, slot)
        proto = stream.owner
        if proto.reserved or not proto.is_connected():
            return
        connector = self._connector
        keepalive = connector._keepalive_timeout
        if connector._force_close or not keepalive or connector._closed:
            proto.close()
            return
        loop = connector._loop
        if loop is not None and proto not in self._idle_timers:
            # one timer per connection, re-armed lazily: not one per request
            self._idle_timers[proto] = loop.call_later(keepalive, self._expire, proto)

    def _expire(self, proto: H2Protocol) -> None:
        """Close ``proto`` when it has been idle for ``keepalive_timeout``; if it was
        used meanwhile, look again when it could next expire."""
        self._idle_timers.pop(proto, None)
        since = proto.idle_since
        if proto.reserved or since is None:
            return  # in use: the next release arms the timer again
        loop = self._connector._loop
        keepalive = self._connector._keepalive_timeout or 0.0
        if loop is None or loop.time() - since >= keepalive:
            proto.close()
        else:
            self._idle_timers[proto] = loop.call_at(since + keepalive, self._expire, proto)

    def _forget(self, proto: H2Protocol) -> None:
        """``proto`` can take no new stream any more (closed, failed, going away)."""
        timer = self._idle_timers.pop(proto, None)
        if timer is not None:
            timer.cancel()
        for key, conns in list(self._conns.items()):
            if proto in conns:
                conns.remove(proto)
                if not conns:
                    del self._conns[key]

    def close(self) -> None:
        """Close every HTTP/2 connection (the connector is closing)."""
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()
        protos, self._all = self._all, set()
        self._conns.clear()
        for proto in protos:
            proto.close()
        pending, self._connecting = self._connecting, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ClientConnectionError("Connector is closed."))
                fut.exception()
