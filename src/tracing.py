"""Client tracing: callbacks that follow one request through its stages.

A :class:`TraceConfig` holds one :class:`Signal` (a list of coroutine functions) per stage.
A session freezes its trace configs when it is made and, for each request, builds one
:class:`Trace` per config; the request and connector code then call ``trace.send_<stage>``
at each stage, which awaits every callback in order as ``callback(session, ctx, params)``.

Nothing here runs when a session has no trace configs: the callers test their list of
traces for truthiness before building any parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableSequence
from types import SimpleNamespace
from typing import Any, overload

__all__ = (
    "Signal",
    "Trace",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
    "make_traces",
)

_Callback = Callable[..., Awaitable[Any]]


class Signal(MutableSequence[_Callback]):
    """A list of callbacks that can be frozen; once frozen it can be sent but not changed.

    It stays mutable while the program wires its callbacks, and is frozen when a session
    takes its trace config: changing it afterwards raises ``RuntimeError`` (a callback
    added then would be seen by some requests and not others).
    """

    __slots__ = ("_frozen", "_items", "_owner")

    def __init__(self, owner: Any) -> None:
        self._owner = owner
        self._items: list[_Callback] = []
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check_mutable(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    @overload
    def __getitem__(self, index: int) -> _Callback: ...

    @overload
    def __getitem__(self, index: slice) -> list[_Callback]: ...

    def __getitem__(self, index: Any) -> Any:
        return self._items[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_mutable()
        self._items[index] = value

    def __delitem__(self, index: Any) -> None:
        self._check_mutable()
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[_Callback]:
        return iter(self._items)

    def __contains__(self, value: object) -> bool:
        return value in self._items

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]

    def insert(self, index: int, value: _Callback) -> None:
        self._check_mutable()
        self._items.insert(index, value)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {self._items!r}>"

    async def send(self, *args: Any, **kwargs: Any) -> None:
        """Await every callback in order with these arguments; the first error propagates."""
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for callback in self._items:
            await callback(*args, **kwargs)


class TraceConfig:
    """The callbacks to run at each stage of the requests of the sessions that use it.

    ``trace_config_ctx_factory`` makes, for each request, the object passed to every
    callback of this config as its second argument (called with ``trace_request_ctx=``).
    """

    def __init__(self, trace_config_ctx_factory: Callable[..., Any] = SimpleNamespace) -> None:
        self._trace_config_ctx_factory = trace_config_ctx_factory
        self._signals: dict[str, Signal] = {name: Signal(self) for name in _SIGNAL_NAMES}

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> Any:
        """A fresh context for one request."""
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        """Fix the callbacks: a session calls this when it takes the config."""
        for signal in self._signals.values():
            signal.freeze()

    @property
    def on_request_start(self) -> Signal:
        return self._signals["on_request_start"]

    @property
    def on_request_chunk_sent(self) -> Signal:
        return self._signals["on_request_chunk_sent"]

    @property
    def on_response_chunk_received(self) -> Signal:
        return self._signals["on_response_chunk_received"]

    @property
    def on_request_end(self) -> Signal:
        return self._signals["on_request_end"]

    @property
    def on_request_exception(self) -> Signal:
        return self._signals["on_request_exception"]

    @property
    def on_request_redirect(self) -> Signal:
        return self._signals["on_request_redirect"]

    @property
    def on_request_headers_sent(self) -> Signal:
        return self._signals["on_request_headers_sent"]

    @property
    def on_connection_queued_start(self) -> Signal:
        return self._signals["on_connection_queued_start"]

    @property
    def on_connection_queued_end(self) -> Signal:
        return self._signals["on_connection_queued_end"]

    @property
    def on_connection_create_start(self) -> Signal:
        return self._signals["on_connection_create_start"]

    @property
    def on_connection_create_end(self) -> Signal:
        return self._signals["on_connection_create_end"]

    @property
    def on_connection_reuseconn(self) -> Signal:
        return self._signals["on_connection_reuseconn"]

    @property
    def on_dns_resolvehost_start(self) -> Signal:
        return self._signals["on_dns_resolvehost_start"]

    @property
    def on_dns_resolvehost_end(self) -> Signal:
        return self._signals["on_dns_resolvehost_end"]

    @property
    def on_dns_cache_hit(self) -> Signal:
        return self._signals["on_dns_cache_hit"]

    @property
    def on_dns_cache_miss(self) -> Signal:
        return self._signals["on_dns_cache_miss"]


_SIGNAL_NAMES = tuple(name for name in vars(TraceConfig) if name.startswith("on_"))


# The parameters passed to the callbacks: immutable, slotted, compared by value.


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    """:attr:`TraceConfig.on_request_start`: the request about to be made (headers may
    still be changed)."""

    method: str
    url: Any
    headers: Any


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    """:attr:`TraceConfig.on_request_chunk_sent`: a piece of the request body was sent."""

    method: str
    url: Any
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    """:attr:`TraceConfig.on_response_chunk_received`: a piece of the response body
    arrived."""

    method: str
    url: Any
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    """:attr:`TraceConfig.on_request_end`: the response is there."""

    method: str
    url: Any
    headers: Any
    response: Any


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    """:attr:`TraceConfig.on_request_exception`: the request failed with ``exception``."""

    method: str
    url: Any
    headers: Any
    exception: BaseException


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    """:attr:`TraceConfig.on_request_redirect`: ``response`` is a redirect being
    followed."""

    method: str
    url: Any
    headers: Any
    response: Any


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    """:attr:`TraceConfig.on_request_headers_sent`: the request line and headers are
    written."""

    method: str
    url: Any
    headers: Any


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    """:attr:`TraceConfig.on_connection_queued_start`: waiting for a free connection slot."""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    """:attr:`TraceConfig.on_connection_queued_end`: the wait for a slot is over."""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    """:attr:`TraceConfig.on_connection_create_start`: a new connection is being opened."""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    """:attr:`TraceConfig.on_connection_create_end`: the new connection is open."""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    """:attr:`TraceConfig.on_connection_reuseconn`: an idle pooled connection is reused."""


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    """:attr:`TraceConfig.on_dns_resolvehost_start`: looking up ``host``."""

    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    """:attr:`TraceConfig.on_dns_resolvehost_end`: ``host`` was looked up."""

    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    """:attr:`TraceConfig.on_dns_cache_hit`: the addresses of ``host`` came from the cache
    (or from a lookup already under way)."""

    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    """:attr:`TraceConfig.on_dns_cache_miss`: ``host`` was not in the cache."""

    host: str


# the parameter-less stages share one instance each: they carry nothing to tell apart
_QUEUED_START = TraceConnectionQueuedStartParams()
_QUEUED_END = TraceConnectionQueuedEndParams()
_CREATE_START = TraceConnectionCreateStartParams()
_CREATE_END = TraceConnectionCreateEndParams()
_REUSECONN = TraceConnectionReuseconnParams()


class Trace:
    """One trace config's view of one request: sends each stage to that config's callbacks
    with the session and the request's context.

    A stage with no callbacks costs a truthiness test; its parameters are not built.
    """

    __slots__ = ("_session", "_trace_config", "_trace_config_ctx")

    def __init__(self, session: Any, trace_config: TraceConfig, trace_config_ctx: Any) -> None:
        self._session = session
        self._trace_config = trace_config
        self._trace_config_ctx = trace_config_ctx

    async def _send(self, signal: Signal, params: Any) -> None:
        await signal.send(self._session, self._trace_config_ctx, params)

    # ----- the request -----

    async def send_request_start(self, method: str, url: Any, headers: Any) -> None:
        signal = self._trace_config.on_request_start
        if signal:
            await self._send(signal, TraceRequestStartParams(method, url, headers))

    async def send_request_chunk_sent(self, method: str, url: Any, chunk: bytes) -> None:
        signal = self._trace_config.on_request_chunk_sent
        if signal:
            await self._send(signal, TraceRequestChunkSentParams(method, url, chunk))

    async def send_response_chunk_received(self, method: str, url: Any, chunk: bytes) -> None:
        signal = self._trace_config.on_response_chunk_received
        if signal:
            await self._send(signal, TraceResponseChunkReceivedParams(method, url, chunk))

    async def send_request_end(self, method: str, url: Any, headers: Any, response: Any) -> None:
        signal = self._trace_config.on_request_end
        if signal:
            await self._send(signal, TraceRequestEndParams(method, url, headers, response))

    async def send_request_exception(
        self, method: str, url: Any, headers: Any, exception: BaseException
    ) -> None:
        signal = self._trace_config.on_request_exception
        if signal:
            params = TraceRequestExceptionParams(method, url, headers, exception)
            await self._send(signal, params)

    async def send_request_redirect(
        self, method: str, url: Any, headers: Any, response: Any
    ) -> None:
        signal = self._trace_config.on_request_redirect
        if signal:
            await self._send(signal, TraceRequestRedirectParams(method, url, headers, response))

    async def send_request_headers_sent(self, method: str, url: Any, headers: Any) -> None:
        signal = self._trace_config.on_request_headers_sent
        if signal:
            await self._send(signal, TraceRequestHeadersSentParams(method, url, headers))

    #: aiohttp's name for :meth:`send_request_headers_sent`
    send_request_headers = send_request_headers_sent

    # ----- the connection -----

    async def send_connection_queued_start(self) -> None:
        signal = self._trace_config.on_connection_queued_start
        if signal:
            await self._send(signal, _QUEUED_START)

    async def send_connection_queued_end(self) -> None:
        signal = self._trace_config.on_connection_queued_end
        if signal:
            await self._send(signal, _QUEUED_END)

    async def send_connection_create_start(self) -> None:
        signal = self._trace_config.on_connection_create_start
        if signal:
            await self._send(signal, _CREATE_START)

    async def send_connection_create_end(self) -> None:
        signal = self._trace_config.on_connection_create_end
        if signal:
            await self._send(signal, _CREATE_END)

    async def send_connection_reuseconn(self) -> None:
        signal = self._trace_config.on_connection_reuseconn
        if signal:
            await self._send(signal, _REUSECONN)

    # ----- name resolution -----

    async def send_dns_resolvehost_start(self, host: str) -> None:
        signal = self._trace_config.on_dns_resolvehost_start
        if signal:
            await self._send(signal, TraceDnsResolveHostStartParams(host))

    async def send_dns_resolvehost_end(self, host: str) -> None:
        signal = self._trace_config.on_dns_resolvehost_end
        if signal:
            await self._send(signal, TraceDnsResolveHostEndParams(host))

    async def send_dns_cache_hit(self, host: str) -> None:
        signal = self._trace_config.on_dns_cache_hit
        if signal:
            await self._send(signal, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        signal = self._trace_config.on_dns_cache_miss
        if signal:
            await self._send(signal, TraceDnsCacheMissParams(host))


def make_traces(
    session: Any, trace_configs: Iterable[TraceConfig], trace_request_ctx: Any
) -> list[Trace]:
    """The traces of one request: one per trace config, each with a fresh context."""
    return [
        Trace(session, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx))
        for config in trace_configs
    ]
