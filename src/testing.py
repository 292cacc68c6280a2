"""Mock cyhttp in your own tests, with the API of the ``aioresponses`` package.

``aioresponses`` patches aiohttp's own ``ClientSession``, so it never sees a cyhttp session.
This module offers the same calls under the same names, so a suite ports by changing one
import::

    from cyhttp.testing import aioresponses

    with aioresponses() as m:
        m.get("http://example.com/api", payload={"ok": True})
        async with cyhttp.ClientSession() as session:
            async with session.get("http://example.com/api") as resp:
                assert await resp.json() == {"ok": True}

Unlike ``aioresponses``, which builds response objects by hand, the mock sits below the
session, in place of the socket: the request is really built and written, and the mocked
answer is serialised as HTTP/1.1 bytes and read by the real protocol and parser. Redirects
(a mocked 302 to another mocked URL), cookies, ``raise_for_status``, decompression, tracing
signals, middlewares, connection limits and timeouts therefore behave as on the network.
That has a few visible consequences, all of them what a real server would do: a response
carries a ``Content-Length`` header, a HEAD answer has no body, and redirects follow HTTP's
rules (a 307 or 308 repeats the method and body) where ``aioresponses`` always turns them
into GET requests. ``response_class=`` is not supported: set it on the session.

While a mock is active, ``ClientSession._request`` (to record each call's arguments, as
``aioresponses`` records them) and ``BaseConnector.connect``/``_connect_pooled`` (to hand
mocked requests a connection to the in-memory server) are replaced; once the last mock
stops they are put back, so an inactive mock costs nothing.

The ``cyhttp_mock`` pytest fixture (the ``cyhttp`` pytest plugin) yields an active mock.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import inspect
import json
import re
from collections import namedtuple
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, TypeVar, cast

from multidict import CIMultiDict, MultiDict
from yarl import URL

from ._mock_transport import MockTransport, SentRequest, response_bytes
from .client import ClientSession
from .client_exceptions import ClientConnectionError
from .client_proto import ResponseHandler
from .client_reqrep import ClientRequest
from .connector import BaseConnector, Connection, ConnectionKey, _Slot

__all__ = ("CallbackResult", "RequestCall", "SentRequest", "aioresponses")

_FuncT = TypeVar("_FuncT", bound=Callable[..., Any])

#: one recorded call of the session: the positional and keyword arguments after the URL
RequestCall = namedtuple("RequestCall", ["args", "kwargs"])

#: the keyword arguments of the session call in progress (what callbacks receive)
_CALL_KWARGS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "cyhttp_mock_call_kwargs", default=None
)


class CallbackResult:
    """What a route's ``callback`` may return to choose the answer for one request."""

    def __init__(
        self,
        method: str = "GET",
        status: int = 200,
        body: str | bytes = "",
        content_type: str = "application/json",
        payload: Any = None,
        headers: Any = None,
        response_class: Any = None,
        reason: str | None = None,
    ) -> None:
        self.method = method
        self.status = status
        self.body = body
        self.content_type = content_type
        self.payload = payload
        self.headers = headers
        self.response_class = response_class
        self.reason = reason


# ----- URLs as aioresponses compares them -----


def merge_params(url: URL | str, params: Any = None) -> URL:
    """``url`` with ``params`` added to its query (existing parameters are kept)."""
    url = URL(url)
    if params:
        query: MultiDict[str] = MultiDict(url.query)
        query.extend(url.with_query(params).query)
        return url.with_query(query)
    return url


def normalize_url(url: URL | str) -> URL:
    """``url`` with its query parameters sorted, so that their order does not matter."""
    url = URL(url)
    return url.with_query(sorted(url.query.items()))


def _route_url(url: URL | str) -> URL:
    """The URL a route or a request is matched by: normalised, and without credentials
    (the session moves those into the Authorization header)."""
    url = normalize_url(url)
    return url.with_user(None) if url.raw_user or url.raw_password else url


# ----- routes -----


def _default_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _check_answer(status: Any, reason: str | None) -> None:
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise ValueError(f"a mocked status must be an int from 100 to 999, got {status!r}")
    if status < 200 and status != 101:
        # the client reads an informational answer and goes on waiting for the real one
        raise ValueError(f"a mocked status cannot be informational (1xx), got {status}")
    if reason is not None and any(c in reason for c in "\r\n\x00"):
        raise ValueError(f"a mocked reason cannot hold CR, LF or NUL: {reason!r}")


def _body_bytes(body: str | bytes, payload: Any) -> bytes:
    if payload is not None:
        return json.dumps(payload).encode("utf-8")
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def _answer_headers(content_type: str | None, headers: Any) -> CIMultiDict[str]:
    """``Content-Type`` (unless the headers set it) followed by the route's headers."""
    out: CIMultiDict[str] = CIMultiDict()
    given: CIMultiDict[Any] = CIMultiDict(headers or ())
    if content_type and "Content-Type" not in given:
        out["Content-Type"] = content_type
    for name, value in given.items():
        out.add(name, value if isinstance(value, str) else str(value))
    return out


class _Route:
    """One registered answer: what it matches, what it answers, how many times."""

    def __init__(
        self,
        url: URL | str | re.Pattern[str],
        method: str,
        status: int,
        body: str | bytes,
        payload: Any,
        exception: Any,
        headers: Any,
        content_type: str,
        repeat: bool | int,
        reason: str | None,
        callback: Callable[..., Any] | None,
        body_pattern: Any,
    ) -> None:
        _check_answer(status, reason)
        self.pattern: re.Pattern[str] | None = url if isinstance(url, re.Pattern) else None
        self.url = None if self.pattern is not None else _route_url(cast(Any, url))
        self.method = method.upper()
        self.status = status
        self.body = body
        self.payload = payload
        self.exception = exception
        self.headers = headers
        self.content_type = content_type
        self.repeat = repeat
        self.reason = reason
        self.callback = callback
        self.body_pattern = body_pattern
        # a bad header fails here, not in the middle of a request
        response_bytes("GET", status, "", _answer_headers(content_type, headers), b"")

    def __repr__(self) -> str:
        return f"<mocked {self.method} {self.pattern or self.url}>"

    def matches(self, method: str, url: URL, body: bytes | None = None) -> bool:
        if self.method != method.upper():
            return False
        if self.pattern is not None:
            if not self.pattern.match(str(url)):
                return False
        elif self.url != url:
            return False
        return body is None or self._body_matches(body)

    def _body_matches(self, body: bytes) -> bool:
        wanted = self.body_pattern
        if wanted is None:
            return True
        if isinstance(wanted, re.Pattern):
            subject: Any = body if isinstance(wanted.pattern, bytes) else body.decode("utf-8")
            return wanted.search(subject) is not None
        if isinstance(wanted, str):
            wanted = wanted.encode("utf-8")
        return bool(wanted == body)

    def use(self) -> bool:
        """Count one use; True when the route is used up (aioresponses' arithmetic)."""
        if isinstance(self.repeat, bool):
            return not self.repeat
        if self.repeat == 1:
            return True
        self.repeat -= 1
        return False

    async def answer(self, method: str, url: URL, kwargs: dict[str, Any]) -> bytes:
        """The raw response for one request: the callback's choice, else the route's
        own; the route's exception (after the callback ran) is raised instead."""
        result: Any = None
        if self.callback is not None:
            result = self.callback(url, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        if self.exception is not None:
            exc = self.exception
            raise exc() if isinstance(exc, type) else exc
        spec = self if result is None else result
        if getattr(spec, "response_class", None) is not None:
            raise NotImplementedError(
                "response_class is not supported by cyhttp.testing: pass "
                "response_class= to the ClientSession instead"
            )
        reason = spec.reason
        _check_answer(spec.status, reason)
        if reason is None:
            reason = _default_reason(spec.status)
        headers = _answer_headers(spec.content_type, spec.headers)
        body = _body_bytes(spec.body, spec.payload)
        return response_bytes(method, spec.status, reason, headers, body)


# ----- the mock -----


class aioresponses:  # the name of the package it stands in for
    """Mock the requests of every cyhttp session while active (a context manager, an async
    context manager, a decorator, or :meth:`start`/:meth:`stop`).

    ``passthrough``: URL prefixes that go to the real network; ``passthrough_unmatched``:
    send requests no route matches to the network instead of failing them with
    :class:`~cyhttp.ClientConnectionError`; ``param``: as a decorator, pass the mock as this
    keyword argument instead of as the last positional one.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._param: str | None = kwargs.pop("param", None)
        self._passthrough = [str(prefix) for prefix in kwargs.pop("passthrough", [])]
        self.passthrough_unmatched: bool = kwargs.pop("passthrough_unmatched", False)
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        self._routes: list[_Route] = []
        #: (METHOD, normalised URL) → the calls made, in order, as :class:`RequestCall`
        self.requests: dict[tuple[str, URL], list[RequestCall]] = {}
        #: every request that reached the mock server (redirect hops and middleware
        #: resends included), as it was written on the wire
        self.sent_requests: list[SentRequest] = []

    # ----- activation -----

    def __enter__(self) -> aioresponses:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> aioresponses:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, func: _FuncT) -> _FuncT:
        """As a decorator: run ``func`` with the mock active, passing it the mock."""
        param = self._param

        def pack(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
            if param:
                kwargs[param] = self
                return args
            return (*args, self)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapped(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*pack(args, kwargs), **kwargs)

            wrapped: Callable[..., Any] = async_wrapped
        else:

            @functools.wraps(func)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return func(*pack(args, kwargs), **kwargs)

        _hide_injected_parameter(wrapped, func, param)
        return cast(_FuncT, wrapped)

    def start(self) -> None:
        """Make this mock the active one (the innermost of nested mocks answers)."""
        _ACTIVE.append(self)
        if len(_ACTIVE) == 1:
            _install()

    def stop(self) -> None:
        """Deactivate, and forget the routes (the recorded requests stay)."""
        for i in range(len(_ACTIVE) - 1, -1, -1):
            if _ACTIVE[i] is self:
                del _ACTIVE[i]
                break
        if not _ACTIVE:
            _uninstall()
        self.clear()

    def clear(self) -> None:
        """Forget every route."""
        self._routes.clear()

    # ----- routes -----

    def add(
        self,
        url: URL | str | re.Pattern[str],
        method: str = "GET",
        status: int = 200,
        body: str | bytes = "",
        exception: Any = None,
        content_type: str = "application/json",
        payload: Any = None,
        headers: Any = None,
        response_class: Any = None,
        repeat: bool | int = False,
        timeout: bool = False,
        reason: str | None = None,
        callback: Callable[..., Any] | None = None,
        body_pattern: Any = None,
    ) -> None:
        """Answer ``method`` requests to ``url`` (a URL, or a compiled regex matched
        against the whole URL). ``repeat``: False answers once, True forever, an int that
        many times. ``exception`` (or ``timeout=True``) fails the request with it instead.
        ``callback(url, **kwargs)`` may return a :class:`CallbackResult`. ``body_pattern``
        (bytes, str or a regex) also requires the request body to match."""
        if response_class is not None:
            raise NotImplementedError(
                "response_class is not supported by cyhttp.testing: pass "
                "response_class= to the ClientSession instead"
            )
        if timeout:
            exception = TimeoutError("Connection timeout test")
        self._routes.append(
            _Route(
                url,
                method,
                status,
                body,
                payload,
                exception,
                headers,
                content_type,
                repeat,
                reason,
                callback,
                body_pattern,
            )
        )

    def head(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="HEAD", **kwargs)

    def get(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="GET", **kwargs)

    def post(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="POST", **kwargs)

    def put(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="PUT", **kwargs)

    def patch(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="PATCH", **kwargs)

    def delete(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="DELETE", **kwargs)

    def options(self, url: URL | str | re.Pattern[str], **kwargs: Any) -> None:
        self.add(url, method="OPTIONS", **kwargs)

    # ----- matching (used by the patched connector) -----

    def _passes_through(self, url: URL) -> bool:
        text = str(url)
        return any(text.startswith(prefix) for prefix in self._passthrough)

    def _intercepts(self, req: ClientRequest) -> bool:
        """Whether this mock answers ``req`` (else it goes to the network)."""
        url = _route_url(req.url)
        if self._passes_through(url):
            return False
        return not self.passthrough_unmatched or self._find(req.method, url) is not None

    def _find(self, method: str, url: URL, body: bytes | None = None) -> _Route | None:
        for route in self._routes:
            if route.matches(method, url, body):
                return route
        return None

    async def _respond(
        self, req: ClientRequest, kwargs: dict[str, Any], sent: SentRequest
    ) -> bytes:
        """The answer to a request now complete on the mock wire (see MockTransport)."""
        self.sent_requests.append(sent)
        url = _route_url(req.url)
        route = self._find(req.method, url, sent.body)
        if route is None:
            raise ClientConnectionError(f"Connection refused: {req.method} {url}")
        if route.use():
            self._routes.remove(route)
        return await route.answer(req.method, url, kwargs)

    # ----- recording and assertions -----

    def _record(self, method: str, url: URL, kwargs: dict[str, Any]) -> None:
        key = (method.upper(), url)
        self.requests.setdefault(key, []).append(self._build_request_call(method, **kwargs))

    @staticmethod
    def _build_request_call(
        method: str = "GET", *args: Any, allow_redirects: bool = True, **kwargs: Any
    ) -> RequestCall:
        kwargs.setdefault("allow_redirects", allow_redirects)
        if method.upper() == "POST":
            kwargs.setdefault("data", None)
        try:
            kwargs_copy = copy.deepcopy(kwargs)
        except (TypeError, ValueError):  # some values cannot be copied
            kwargs_copy = kwargs
        return RequestCall(args, kwargs_copy)

    def _call_count(self) -> int:
        return sum(len(calls) for calls in self.requests.values())

    def _signature(self, *args: Any, **kwargs: Any) -> str:
        parts = [repr(arg) for arg in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    def assert_not_called(self) -> None:
        """The mock received no request."""
        if self.requests:
            raise AssertionError(
                f"Expected '{type(self).__name__}' to not have been called. "
                f"Called {self._call_count()} times."
            )

    def assert_called(self) -> None:
        """The mock received at least one request."""
        if not self.requests:
            raise AssertionError(f"Expected '{type(self).__name__}' to have been called.")

    def assert_called_once(self) -> None:
        """The mock received exactly one request."""
        count = self._call_count()
        if count != 1:
            raise AssertionError(
                f"Expected '{type(self).__name__}' to have been called once. Called {count} times."
            )

    def assert_called_with(
        self,
        url: URL | str,
        method: str = "GET",
        args_to_match: Sequence[str] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """The last request to ``url`` with ``method`` had these arguments (only those
        named in ``args_to_match``, when given)."""
        url = normalize_url(merge_params(url, kwargs.get("params")))
        method = method.upper()
        calls = self.requests.get((method, url))
        if not calls:
            raise AssertionError(
                f"{self._signature(url, *args, method=method, **kwargs)} call not found"
            )
        actual = calls[-1]
        expected = self._build_request_call(method, *args, **kwargs)
        if args_to_match is not None:
            failed = any(
                name not in actual.kwargs or actual.kwargs[name] != expected.kwargs.get(name)
                for name in args_to_match
            )
        else:
            failed = actual != expected
        if failed:
            raise AssertionError(f"{self._signature(actual)} != {self._signature(expected)}")

    def assert_any_call(
        self, url: URL | str, method: str = "GET", *args: Any, **kwargs: Any
    ) -> None:
        """Some request went to ``url`` with ``method`` (its arguments are not compared)."""
        url = normalize_url(merge_params(url, kwargs.get("params")))
        method = method.upper()
        if (method, url) not in self.requests:
            raise AssertionError(
                f"{self._signature(url, *args, method=method, **kwargs)} call not found"
            )

    def assert_called_once_with(self, *args: Any, **kwargs: Any) -> None:
        """:meth:`assert_called_once` and :meth:`assert_called_with` together."""
        self.assert_called_once()
        self.assert_called_with(*args, **kwargs)


def _hide_injected_parameter(wrapped: Any, func: Any, param: str | None) -> None:
    """Give the decorated function the signature of ``func`` without the parameter the
    mock is passed in, so pytest does not look for a fixture of that name."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - builtins and the like
        return
    params = list(sig.parameters.values())
    if param:
        params = [p for p in params if p.name != param]
    else:
        positional = [
            i
            for i, p in enumerate(params)
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if positional:
            del params[positional[-1]]
    wrapped.__signature__ = sig.replace(parameters=params)


# ----- the patches, installed while any mock is active -----

_ACTIVE: list[aioresponses] = []
_ORIGINALS: dict[str, Any] = {}


def _active() -> aioresponses | None:
    return _ACTIVE[-1] if _ACTIVE else None


def _patches() -> list[tuple[type, str, Any]]:
    """(class, attribute, replacement) for each method replaced while a mock is active."""
    return [
        (ClientSession, "_request", _recording_request),
        (BaseConnector, "connect", _mocked_connect),
        (BaseConnector, "_connect_pooled", _mocked_connect_pooled),
    ]


def _install() -> None:
    for owner, name, replacement in _patches():
        _ORIGINALS[name] = owner.__dict__[name]
        setattr(owner, name, replacement)


def _uninstall() -> None:
    for owner, name, _ in _patches():
        if name in _ORIGINALS:
            setattr(owner, name, _ORIGINALS.pop(name))


async def _drain_async_iterable(data: Any) -> bytes:
    chunks = []
    async for chunk in data:
        chunks.append(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
    return b"".join(chunks)


async def _recording_request(
    session: ClientSession, method: str, str_or_url: Any, *args: Any, **kwargs: Any
) -> Any:
    """``ClientSession._request`` while a mock is active: record the call as aioresponses
    does (URL with the base URL and params applied, session headers merged in), then
    make it for real (below, the connector decides between the mock and the network)."""
    original = _ORIGINALS.get("_request") or ClientSession.__dict__["_request"]
    mock = _active()
    if mock is None:  # pragma: no cover - a call that outlived its mock
        return await original(session, method, str_or_url, *args, **kwargs)
    data = kwargs.get("data")
    if data is not None and hasattr(data, "__aiter__"):
        # aioresponses reads a streamed body up front; the recorded call shows its bytes
        kwargs["data"] = await _drain_async_iterable(data)
    seen = dict(kwargs)
    if session.headers:
        seen["headers"] = session._prepare_headers(kwargs.get("headers"))
    try:
        url = normalize_url(merge_params(session._build_url(str_or_url), kwargs.get("params")))
    except (ValueError, TypeError):
        url = None  # the session reports the bad URL
    if url is not None and not mock._passes_through(url):
        mock._record(method, url, seen)
    token = _CALL_KWARGS.set(seen)
    try:
        return await original(session, method, str_or_url, *args, **kwargs)
    finally:
        _CALL_KWARGS.reset(token)


def _mocked_connect_pooled(connector: BaseConnector, req: Any) -> Connection | None:
    """A mocked request never takes a pooled (real) connection."""
    mock = _active()
    if mock is not None and mock._intercepts(req):
        return None
    original = _ORIGINALS.get("_connect_pooled") or BaseConnector.__dict__["_connect_pooled"]
    return cast(Connection | None, original(connector, req))


async def _mocked_connect(
    connector: BaseConnector, request: Any, traces: Any = None, timeout: Any = None
) -> Connection:
    """``BaseConnector.connect`` while a mock is active: a mocked request gets a new
    connection to the in-memory server, within the connector's limits; the others
    connect for real."""
    mock = _active()
    if mock is None or not mock._intercepts(request):
        original = _ORIGINALS.get("connect") or BaseConnector.__dict__["connect"]
        return cast(Connection, await original(connector, request, traces, timeout))
    loop = connector._loop
    if loop is None:
        loop = connector._loop = asyncio.get_running_loop()
    if connector.closed:
        raise ClientConnectionError("Connector is closed.")
    url = _route_url(request.url)
    if mock._find(request.method, url) is None:
        raise ClientConnectionError(f"Connection refused: {request.method} {url}")
    key: ConnectionKey = request.connection_key
    slot = await _take_slot(connector, key, loop, traces)
    proto = None
    try:
        if traces:
            for trace in traces:
                await trace.send_connection_create_start()
        proto = _open_mock_connection(loop, mock, request)
        if traces:
            for trace in traces:
                await trace.send_connection_create_end()
    except BaseException:
        if proto is not None:
            proto.close()
        connector._unreserve(key, slot)
        connector._wake()
        raise
    connector._unreserve(key, slot)
    connector._reserve(key, proto)
    return Connection(connector, key, proto, loop)


async def _take_slot(
    connector: BaseConnector, key: ConnectionKey, loop: asyncio.AbstractEventLoop, traces: Any
) -> _Slot:
    """Reserve a connection slot as a real connection would (waiting at the limits)."""
    if not connector._waiters and connector._has_slot(key):
        slot = _Slot()
        connector._reserve(key, slot)
        return slot
    if traces:
        return await connector._wait_for_slot_traced(key, loop, traces)
    return await connector._wait_for_slot(key, loop)


def _open_mock_connection(
    loop: asyncio.AbstractEventLoop, mock: aioresponses, request: ClientRequest
) -> ResponseHandler:
    """A real protocol on a transport whose peer is ``mock``."""
    kwargs = _CALL_KWARGS.get()
    call_kwargs = dict(kwargs) if kwargs is not None else {}
    call_kwargs.setdefault("allow_redirects", True)

    async def respond(sent: SentRequest) -> bytes:
        return await mock._respond(request, call_kwargs, sent)

    proto = ResponseHandler(loop)
    url = request.url
    MockTransport(loop, proto, url.with_user(None) if url.raw_user else url, respond)
    return proto
