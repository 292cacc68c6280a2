"""``ClientSession`` (connection pool + cookies + defaults) and the one-shot ``request()``.

The session turns user arguments into a :class:`~cyhttp.client_reqrep.ClientRequest`,
gets a connection from its connector, follows redirects, applies the timeouts, keeps the
cookie jar up to date, and retries once, on a fresh connection, an idempotent request whose
pooled connection turned out to be closed by the server.
"""

from __future__ import annotations

import asyncio
import inspect
import json as _json
import warnings
from collections.abc import Callable, Coroutine, Generator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar

from multidict import CIMultiDict, istr
from yarl import URL

from ._models import HttpVersion, HttpVersion11
from .abc import AbstractCookieJar
from .client_exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ConnectionTimeoutError,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    ServerDisconnectedError,
    ServerTimeoutError,
    TooManyRedirects,
)
from .client_middlewares import (
    ClientMiddlewareType,
    build_client_middlewares,
    check_middlewares,
)
from .client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE
from .client_proxy import choose_proxy, explicit_proxy
from .client_reqrep import ClientRequest, ClientResponse
from .client_ws import DEFAULT_TIMEOUT as _WS_DEFAULT_TIMEOUT
from .client_ws import ClientWebSocketResponse
from .client_ws import ws_connect as _ws_connect
from .connector import BaseConnector, Connection, TCPConnector
from .helpers import (
    DEFAULT_TIMEOUT,
    DONE,
    BasicAuth,
    ClientTimeout,
    merge_ssl_params,
    netrc_auth,
    sentinel,
    timeout_or_none,
    warn_loop,
)
from .instrumentation import SESSION_TRACE_FACTORIES, session_trace_configs
from .upload_tracker import UploadTracker

if TYPE_CHECKING:
    pass

__all__ = ("ClientSession", "request", "ws_connect")

_RetT = TypeVar("_RetT")

_IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_HTTP_SCHEMES = frozenset(("http", "https"))


def _make_timeout(
    timeout: Any, read_timeout: Any = None, conn_timeout: Any = None
) -> ClientTimeout:
    """Combine the 2.x ``read_timeout``/``conn_timeout`` and a modern ``timeout``."""
    if isinstance(timeout, ClientTimeout):
        return timeout
    if timeout is not sentinel and timeout is not None and not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number or ClientTimeout, got {timeout!r}")
    if timeout is sentinel:
        total = DEFAULT_TIMEOUT.total if read_timeout is None else timeout_or_none(read_timeout)
    else:
        total = timeout_or_none(timeout)
    return ClientTimeout(total=total, connect=timeout_or_none(conn_timeout))


class _RequestContextManager(Coroutine[Any, Any, _RetT], Generic[_RetT]):
    """What ``session.get()`` returns: await it for the response, or use it with
    ``async with`` to have the response released on exit."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _RetT]) -> None:
        self._coro = coro
        self._resp: Any = None

    def send(self, arg: Any) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, _RetT]:
        return self._coro.__await__()

    def __iter__(self) -> Generator[Any, None, _RetT]:
        return self.__await__()

    async def __aenter__(self) -> _RetT:
        self._resp = resp = await self._coro
        if type(resp) is ClientResponse:
            # what ClientResponse.__aenter__ does, without a coroutine per request
            resp._in_context = True  # type: ignore[attr-defined]
            return resp
        enter = getattr(resp, "__aenter__", None)
        if enter is not None:
            # the response knows it is used as a context (raise_for_status() inside the
            # block then leaves it readable)
            return await enter()
        return resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp = self._resp
        if resp is None:
            return
        if type(resp) is ClientResponse:
            # what ClientResponse.__aexit__ does, without a coroutine per request
            resp._in_context = False
            resp.release()
            return
        # pooled if the body was fully received, closed otherwise
        result = resp.release() if hasattr(resp, "release") else resp.close()
        if (
            result is not None
            and result is not DONE
            and (asyncio.iscoroutine(result) or isinstance(result, asyncio.Future))
        ):
            await result


class ClientSession:
    """A pool of connections plus defaults (headers, auth, cookies, timeouts) shared by the
    requests made through it. Use it as ``async with ClientSession() as session:``."""

    _connector: BaseConnector | None = None

    def __init__(
        self,
        base_url: Any = None,
        *,
        connector: BaseConnector | None = None,
        loop: Any = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: Any = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = _json.dumps,
        json_serialize_bytes: Callable[[Any], bytes] | None = None,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[ClientWebSocketResponse] = ClientWebSocketResponse,
        version: HttpVersion = HttpVersion11,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: Any = False,
        read_timeout: float | None = None,
        conn_timeout: float | None = None,
        timeout: Any = sentinel,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[Any] | None = None,
        read_bufsize: int = 2**18,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: Callable[[ClientResponse, bytes], str] | None = None,
        middlewares: Sequence[ClientMiddlewareType] = (),
        ssl_shutdown_timeout: Any = sentinel,
        proxies: Any = None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    ) -> None:
        """``max_decompressed_size`` (bytes, default 256 MiB; None or 0 = no bound) stops a
        compressed response body whose decoded size exceeds it with ClientPayloadError, so
        a decompression bomb cannot exhaust memory. ``request(...)`` may override it.

        ``fallback_charset_resolver(response, body) -> str`` names the encoding of a text
        body whose Content-Type gives no charset; by default cyhttp detects it (cchardet).

        ``proxies`` appears (undocumented) in the 2.3 reference's signature; only its
        default, None, is accepted: a value would otherwise be silently ignored."""
        warn_loop(loop)
        if proxies is not None:
            raise TypeError(
                "proxies= is not supported: pass proxy= per request, or trust_env=True to "
                "use the HTTP_PROXY/HTTPS_PROXY environment variables"
            )
        if timeout is not sentinel and (read_timeout is not None or conn_timeout is not None):
            raise ValueError("timeout= and read_timeout/conn_timeout are exclusive")
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError("auth must be a BasicAuth instance")
        _check_raise_for_status(raise_for_status)
        self._base_url = _base_url(base_url)
        self._default_proxy: URL | None = None
        self._default_proxy_auth: BasicAuth | None = None
        if proxy is not None:
            self._default_proxy, self._default_proxy_auth = explicit_proxy(proxy, proxy_auth)
        self._middlewares = check_middlewares(middlewares, "middlewares")
        # the trace configs of cyhttp.instrumentation's registry follow the session's own
        self._trace_configs = _frozen_trace_configs(
            session_trace_configs(trace_configs) if SESSION_TRACE_FACTORIES else trace_configs
        )
        self._limits = _Limits.of(read_bufsize, max_line_size, max_field_size, max_headers)
        if fallback_charset_resolver is not None and not callable(fallback_charset_resolver):
            raise TypeError("fallback_charset_resolver must be callable")
        self._resolve_charset = fallback_charset_resolver
        self._json_serialize_bytes = json_serialize_bytes
        self._request_class = request_class
        self._ws_response_class = ws_response_class
        self._cookie_jar = cookie_jar if cookie_jar is not None else _default_jar()
        self._jar_records = _jar_records(self._cookie_jar)
        if cookies is not None and self._cookie_jar is not None:
            self._cookie_jar.update_cookies(cookies)
        self._connector_owner = connector_owner
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        self._skip_auto_headers = frozenset(istr(h).lower() for h in (skip_auto_headers or ()))
        self._default_auth = auth
        self._json_serialize = json_serialize
        self._version = version
        self._timeout = _make_timeout(timeout, read_timeout, conn_timeout)
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._response_class = response_class
        self._max_decompressed_size = max_decompressed_size
        #: plain requests (no headers, body, auth or cookies) by their parameters: such a
        #: request is immutable once built, so it is built once (bounded)
        self._templates: dict[tuple[Any, ...], ClientRequest] = {}
        #: the call state of plain requests by (method, URL string, allow_redirects): see
        #: _plain_call
        self._plain_calls: dict[tuple[str, str, Any], _Call] = {}
        # the connector last: an argument refused above leaves no half-made session (or
        # connector of its own) to warn about
        if connector is None:
            connector = _default_connector(ssl_shutdown_timeout)
        self._connector = connector

    def __del__(self, _warnings: Any = warnings) -> None:
        if not self.closed:
            _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
            if self._connector_owner and self._connector is not None:
                try:
                    self._connector._close_all()
                    self._connector._closed = True
                except Exception:  # pragma: no cover - interpreter shutdown
                    pass

    # ----- properties -----

    @property
    def closed(self) -> bool:
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def cookie_jar(self) -> AbstractCookieJar | None:
        return self._cookie_jar

    @property
    def version(self) -> HttpVersion:
        return self._version

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[str]:
        return self._skip_auto_headers

    @property
    def auth(self) -> BasicAuth | None:
        return self._default_auth

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def raise_for_status(self) -> bool:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[Any]:
        return list(self._trace_configs)

    @property
    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        return self._middlewares

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        connector = self._connector
        if connector is not None and connector._loop is not None:
            return connector._loop
        return asyncio.get_event_loop()

    @property
    def requote_redirect_url(self) -> bool:
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, value: bool) -> None:
        self._requote_redirect_url = value

    # ----- closing -----

    async def close(self) -> None:
        """Close the session, and its connector if the session owns it."""
        if not self.closed:
            if self._connector is not None and self._connector_owner:
                await self._connector.close()
            self._connector = None

    def detach(self) -> None:
        """Mark the session closed without closing the connector."""
        self._connector = None

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----- verbs -----

    def request(
        self, method: str, url: Any, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        """Send a request; await the result or use it with ``async with``."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: Any, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        if not kwargs:  # the common call: no argument dictionary to build and unpack
            coro = self._request("GET", url, allow_redirects=allow_redirects)
            return _RequestContextManager(coro)
        return _RequestContextManager(
            self._request("GET", url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: Any, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(
            self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: Any, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(
            self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(
        self, url: Any, *, data: Any = None, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(
        self, url: Any, *, data: Any = None, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(
        self, url: Any, *, data: Any = None, **kwargs: Any
    ) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: Any, **kwargs: Any) -> _RequestContextManager[ClientResponse]:
        return _RequestContextManager(self._request("DELETE", url, **kwargs))

    def ws_connect(
        self, url: Any, **kwargs: Any
    ) -> _RequestContextManager[ClientWebSocketResponse]:
        """Open a WebSocket (see :mod:`cyhttp.client_ws`)."""
        return _RequestContextManager(_ws_connect(self, url, **kwargs))

    # ----- the request: arguments → call state → redirect loop → middlewares → send -----

    async def _request(self, method: str, str_or_url: Any, **kwargs: Any) -> ClientResponse:
        """Everything ``request()`` and the verbs do, in stages: the arguments become the
        call's state (:meth:`_make_call`); each hop's request is built (or a plain one
        reused) and sent through the middlewares (:meth:`_send`); cookies are stored; a
        redirect turns the state into the next hop (:meth:`_redirect`); the status check
        and the trace signals close the call."""
        call = self._plain_call(method, str_or_url, kwargs)
        # a plain call's state is the session's, shared by every such call: nothing here
        # may change it (a redirect copies it first)
        shared = call is not None
        if call is None:
            call = self._make_call(method, str_or_url, **kwargs)
        total = call.tm.total
        deadline = call.loop.time() + total if total else None
        traces = call.traces
        if traces:
            await self._trace_start(call)
        try:
            history: list[ClientResponse] = []
            while True:
                key = call.template_key
                req = self._templates.get(key) if key is not None else None
                if req is None:
                    req = self._build_request(call)
                elif call.data is not None:  # a body of bytes: the template has its head
                    req = req._with_body(call.data)
                elif call.json_body is not None:
                    req = req._with_body(call.json_body)
                if call.middlewares:
                    resp = await self._run_middlewares(req, call, history, deadline)
                else:
                    resp = await self._send(req, call, history, deadline)
                jar = self._cookie_jar
                if jar is not None:
                    set_cookies = resp.set_cookie_values()
                    if set_cookies:
                        jar.update_cookies_from_headers(set_cookies, resp.url)
                if not (call.allow_redirects and resp.status in _REDIRECTS):
                    break
                if shared:  # the next hop changes the state: this call gets its own
                    call, shared = call.copy(), False
                if not await self._redirect(call, req, resp, history):
                    break
            if call.raise_for_status:
                await _apply_raise_for_status(resp, call.raise_for_status)
        except BaseException as exc:
            if call.upload_tracker is not None:
                call.upload_tracker._finalize()
            if traces:
                await self._trace_exception(call, exc)
            raise
        if call.upload_tracker is not None:
            call.upload_tracker._finalize()
        if traces:
            await self._trace_end(call, resp)
        return resp

    async def _trace_start(self, call: _Call) -> None:
        """The request-start signal. Its callbacks may add headers (a trace context, for
        one): the request is built from the headers they were given, never a reused one."""
        headers = call.trace_headers = self._prepare_headers(call.headers)
        try:
            for trace in call.traces or ():
                await trace.send_request_start(call.method, call.url, headers)
        except BaseException:
            if call.upload_tracker is not None:  # the call ends here: nothing was sent
                call.upload_tracker._finalize()
            raise
        call.headers = headers
        call.template_key = None

    async def _trace_exception(self, call: _Call, exc: BaseException) -> None:
        for trace in call.traces or ():
            await trace.send_request_exception(call.method, call.url, call.trace_headers, exc)

    async def _trace_end(self, call: _Call, resp: ClientResponse) -> None:
        for trace in call.traces or ():
            await trace.send_request_end(call.method, call.url, call.trace_headers, resp)

    def _plain_call(self, method: str, str_or_url: Any, kwargs: dict[str, Any]) -> _Call | None:
        """The state of a plain call (a str URL, no keyword but ``allow_redirects``, no
        default headers, cookies, middlewares or traces): the one the same method, URL and
        ``allow_redirects`` had last time, shared (the caller must copy it before changing
        it); None when the call is not plain or not seen yet.

        Why: checking 38 absent keywords and deriving the same state again, or even
        copying it, was the largest Python cost of a small request. Only what can change
        between two such calls is looked at: the connector (closed, or its loop), and the
        session's default headers, cookies and trace configs (each makes a call not plain).
        """
        if kwargs and (len(kwargs) != 1 or "allow_redirects" not in kwargs):
            return None
        if type(str_or_url) is not str:
            return None
        connector = self._connector
        if connector is None or connector.closed:
            return None  # _make_call raises
        if self._default_headers or self._trace_configs:
            return None
        jar = self._cookie_jar
        if jar is not None and (
            jar._cookies if self._jar_records else len(jar)  # type: ignore[attr-defined]
        ):
            return None  # (a jar holding only expired cookies is purged by _make_call)
        allow_redirects = kwargs["allow_redirects"] if kwargs else True
        if type(allow_redirects) is not bool:
            return None  # any value is accepted; only True and False are keys here
        key = (method, str_or_url, allow_redirects)
        call = self._plain_calls.get(key)
        if call is None:
            call = self._make_call(method, str_or_url, allow_redirects=allow_redirects)
            if call.template_key is None or call.loop is not connector._loop:
                return None  # not plain after all (or no loop yet): never kept
            # everything else in the template key is the session's: (method, URL string)
            # says as much, and its hash costs a fraction of the long key's
            call.template_key = (method, str_or_url)
            if len(self._plain_calls) >= 256:
                self._plain_calls.clear()
            self._plain_calls[key] = call
        elif call.loop is not connector._loop:
            return None
        return call

    def _make_call(
        self,
        method: str,
        str_or_url: Any,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: Any = None,
        chunked: Any = None,
        expect100: bool = False,
        raise_for_status: Any = None,
        read_until_eof: bool = True,
        proxy: Any = None,
        proxy_auth: BasicAuth | None = None,
        timeout: Any = sentinel,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: Any = None,
        ssl: Any = None,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        trace_request_ctx: Any = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        middlewares: Any = None,
        upload_tracker: Any = None,
        version: HttpVersion | None = None,
        encoding: Any = None,
        max_decompressed_size: Any = sentinel,
    ) -> _Call:
        """The first stage of a request: its arguments checked and normalised into the
        state the other stages share. The keywords are aiohttp 3.14's (and 2.3's
        ``verify_ssl``/``ssl_context``/``fingerprint``/``version``/``encoding``)."""
        connector = self._connector
        if connector is None or connector.closed:
            raise RuntimeError("Session is closed")
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        if upload_tracker is not None and not isinstance(upload_tracker, UploadTracker):
            raise TypeError(f"upload_tracker must be an UploadTracker, got {upload_tracker!r}")
        call = _Call()
        call.method = method
        url = _make_url(str_or_url if self._base_url is None else self._build_url(str_or_url))
        if params is not None:
            url = _merge_params(url, params)
        call.url = url
        call.params = params
        call.headers = headers
        call.data = data
        call.json_body = self._json_body(json) if json is not None else None
        call.req_cookies = cookies
        if (
            auth is None
            and self._default_auth is None
            and not self._trust_env
            and not (url.raw_user or url.raw_password)
        ):
            call.auth = None
        else:
            call.auth = self._request_auth(url, auth, headers)
        call.drop_auth_header = False
        call.traces = None
        call.allow_redirects = allow_redirects
        call.max_redirects = max_redirects
        call.compress = compress
        call.chunked = chunked
        call.expect100 = expect100
        call.read_until_eof = read_until_eof
        call.version = version or self._version
        if (
            ssl is None
            and verify_ssl is None
            and ssl_context is None
            and fingerprint is None
            and server_hostname is None
            and proxy is None
            and self._default_proxy is None
        ):
            call.ssl = call.server_hostname = call.proxy = None
            call.proxy_auth = proxy_auth
        else:
            self._set_connection_options(
                call, verify_ssl, fingerprint, ssl_context, ssl, server_hostname, proxy, proxy_auth
            )
        call.proxy_headers = CIMultiDict(proxy_headers) if proxy_headers else None
        if (
            skip_auto_headers is None
            and auto_decompress is None
            and max_decompressed_size is sentinel
            and read_bufsize is None
            and max_line_size is None
            and max_field_size is None
            and max_headers is None
        ):
            call.skip = self._skip_auto_headers
            call.auto_decompress = self._auto_decompress
            call.max_decompressed_size = self._max_decompressed_size
            call.limits = self._limits
        else:
            self._set_response_options(
                call,
                skip_auto_headers,
                auto_decompress,
                max_decompressed_size,
                read_bufsize,
                max_line_size,
                max_field_size,
                max_headers,
            )
        # the connector's loop once it has one: get_running_loop() is a getpid() system
        # call per request on Python 3.11
        call.loop = connector._loop or asyncio.get_running_loop()
        call.tm = self._timeout if timeout is sentinel else _make_timeout(timeout)
        if middlewares is None:
            call.middlewares = self._middlewares
        else:
            call.middlewares = check_middlewares(middlewares, "middlewares")
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        else:
            _check_raise_for_status(raise_for_status)
        call.raise_for_status = raise_for_status
        call.template_key = self._template_key(call, str_or_url, skip_auto_headers)
        if self._trace_configs:
            call.traces = self._make_traces(trace_request_ctx)
        call.upload_tracker = upload_tracker
        if upload_tracker is not None:
            upload_tracker._bind()  # last: a call refused above leaves the tracker free
            call.template_key = None  # the request carries the tracker: never shared
        return call

    def _make_traces(self, trace_request_ctx: Any) -> list[Any]:
        """One :class:`~cyhttp.tracing.Trace` per trace config, for one request."""
        from .tracing import Trace

        return [
            Trace(self, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx))
            for config in self._trace_configs
        ]

    # ----- the call's arguments, checked and normalised -----

    def _json_body(self, json: Any) -> bytes:
        if self._json_serialize_bytes is not None:
            body = self._json_serialize_bytes(json)
            if not isinstance(body, (bytes, bytearray)):
                raise TypeError(f"json_serialize_bytes returned {type(body).__name__}, not bytes")
            return bytes(body)
        text = self._json_serialize(json)
        return text.encode("utf-8") if isinstance(text, str) else bytes(text)

    def _request_auth(self, url: URL, auth: BasicAuth | None, headers: Any) -> BasicAuth | None:
        """The request's credentials: the argument, else those in the URL (both: they must
        agree), else the session's (only for the base URL's origin when there is one), else
        with ``trust_env`` those of ``~/.netrc`` for the host."""
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError("auth must be a BasicAuth instance")
        if url.raw_user or url.raw_password:
            url_auth = BasicAuth.from_url(url)
            if auth is not None and auth != url_auth:
                raise ValueError("auth given both in the URL and as an argument")
            return url_auth
        if auth is not None:
            return auth
        default = self._default_auth
        if default is not None and (
            self._base_url is None or self._base_url.origin() == url.origin()
        ):
            return default
        return self._netrc_auth(url, headers)

    def _netrc_auth(self, url: URL, headers: Any) -> BasicAuth | None:
        """With ``trust_env``, the credentials ``~/.netrc`` (or ``$NETRC``) has for the
        URL's host, unless the request or the session sets Authorization itself."""
        if not self._trust_env or not url.raw_host:
            return None
        if "Authorization" in self._default_headers or (
            headers and "Authorization" in CIMultiDict(headers)
        ):
            return None
        return netrc_auth(url.raw_host)

    def _set_connection_options(
        self,
        call: _Call,
        verify_ssl: bool | None,
        fingerprint: bytes | None,
        ssl_context: Any,
        ssl: Any,
        server_hostname: str | None,
        proxy: Any,
        proxy_auth: BasicAuth | None,
    ) -> None:
        if ssl is not None or verify_ssl is not None or ssl_context is not None or fingerprint:
            ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        call.ssl = ssl
        if server_hostname is not None and not isinstance(server_hostname, str):
            raise TypeError(f"server_hostname must be a str, got {server_hostname!r}")
        call.server_hostname = server_hostname
        if proxy is None and self._default_proxy is not None:
            proxy = self._default_proxy
            if proxy_auth is None:
                proxy_auth = self._default_proxy_auth
        if proxy is not None:
            proxy, proxy_auth = explicit_proxy(proxy, proxy_auth)
        call.proxy = proxy
        call.proxy_auth = proxy_auth

    def _set_response_options(
        self,
        call: _Call,
        skip_auto_headers: Iterable[str] | None,
        auto_decompress: bool | None,
        max_decompressed_size: Any,
        read_bufsize: int | None,
        max_line_size: int | None,
        max_field_size: int | None,
        max_headers: int | None,
    ) -> None:
        skip = self._skip_auto_headers
        if skip_auto_headers:
            skip = skip | frozenset(istr(h).lower() for h in skip_auto_headers)
        call.skip = skip
        call.auto_decompress = self._auto_decompress if auto_decompress is None else auto_decompress
        if max_decompressed_size is sentinel:
            max_decompressed_size = self._max_decompressed_size
        call.max_decompressed_size = max_decompressed_size
        limits = self._limits
        if (
            read_bufsize is not None
            or max_line_size is not None
            or max_field_size is not None
            or max_headers is not None
        ):
            limits = _Limits.of(
                limits.read_bufsize if read_bufsize is None else read_bufsize,
                limits.max_line_size if max_line_size is None else max_line_size,
                limits.max_field_size if max_field_size is None else max_field_size,
                limits.max_headers if max_headers is None else max_headers,
            )
        call.limits = limits

    def _template_key(
        self, call: _Call, str_or_url: Any, skip_auto_headers: Iterable[str] | None
    ) -> tuple[Any, ...] | None:
        """The key under which a plain request (no headers, auth, cookies, proxy or
        middleware; no body, or one of bytes or JSON) is kept: its head is the same every
        time, so the request object (immutable once built) is built once and reused, or
        for a body copied with the call's own (the head says only its length)."""
        body_key = _template_body_key(call)
        if (
            call.headers is None
            and body_key is not False
            and call.req_cookies is None
            and call.auth is None
            and not skip_auto_headers
            and not call.compress
            and not call.chunked
            and not call.expect100
            and call.proxy is None
            and call.proxy_headers is None
            and not call.middlewares
            and not self._trust_env
            and not self._default_headers
            and (self._cookie_jar is None or not len(self._cookie_jar))
        ):
            return (
                call.method,
                # the caller's string when it is the whole URL: its hash is cached, a URL's
                # is computed in Python on every call
                str_or_url
                if call.params is None and type(str_or_url) is str and self._base_url is None
                else call.url,
                call.ssl,
                call.auto_decompress,
                call.read_until_eof,
                call.tm.sock_read,
                call.version,
                call.max_decompressed_size,
                call.server_hostname,
                call.limits,
                body_key,
            )
        return None

    # ----- redirects -----

    async def _redirect(
        self,
        call: _Call,
        req: ClientRequest,
        resp: ClientResponse,
        history: list[ClientResponse],
    ) -> bool:
        """Follow the redirect ``resp`` asks for: True when ``call`` now describes the next
        hop (``resp`` let go and kept in ``history``), False when it has no Location and
        is the answer. TooManyRedirects past ``max_redirects``."""
        location = resp.headers.get("Location") or resp.headers.get("URI")
        if location is None:
            return False
        if call.traces:
            for trace in call.traces:
                await trace.send_request_redirect(call.method, call.url, req.headers, resp)
        history.append(resp)
        if call.max_redirects and len(history) > call.max_redirects:
            resp.close()
            raise TooManyRedirects(
                history[0].request_info,
                tuple(history),
                status=resp.status,
                message=f"Exceeded {call.max_redirects} redirects",
                headers=resp.headers,
            )
        try:
            self._prepare_redirect(call, req, resp, location)
        except BaseException:
            resp.close()
            raise
        resp.release()
        return True

    def _prepare_redirect(
        self, call: _Call, req: ClientRequest, resp: ClientResponse, location: str
    ) -> None:
        """Turn ``call`` into the next hop (RFC 9110 §15.4): the method and body rules of
        the status, then the new URL, then what must not follow it to another origin."""
        status = resp.status
        if (status == 303 and call.method != "HEAD") or (
            status in (301, 302) and call.method == "POST"
        ):
            call.drop_body()
        elif call.has_body():
            if not req.is_replayable():
                raise RedirectClientError(
                    f"{status} redirect to {location!r} needs the request body again, but "
                    "it was a one-shot stream that has already been sent"
                )
            req.rewind()
        new_url = self._redirect_url(call.url, location)
        if new_url.origin() != call.url.origin():
            # credentials and explicit cookies belong to the origin they were meant for
            call.auth = None
            call.req_cookies = None
            call.drop_auth_header = True
        if new_url.raw_user or new_url.raw_password:
            call.auth = BasicAuth.from_url(new_url)
            new_url = new_url.with_user(None)
        elif call.drop_auth_header and call.auth is None:
            call.auth = self._netrc_auth(new_url, call.headers)
        call.url = new_url.with_fragment(None) if new_url.raw_fragment else new_url
        call.params = None
        call.template_key = None

    def _redirect_url(self, url: URL, location: str) -> URL:
        try:
            target = url.join(URL(location, encoded=not self._requote_redirect_url))
        except ValueError as exc:
            raise InvalidUrlRedirectClientError(location, str(exc)) from exc
        if target.scheme not in _HTTP_SCHEMES:
            raise _NonHttpRedirect(target, "redirect to a non-HTTP(S) URL")
        if not target.raw_host:
            raise InvalidUrlRedirectClientError(target, "redirect to a URL without a host")
        return target

    # ----- one hop: build the request, run the middlewares, connect and send -----

    def _build_request(self, call: _Call) -> ClientRequest:
        """A new request for the call's current hop; a plain one is kept for reuse."""
        key = call.template_key
        req = self._new_request(call)
        if key is not None:
            if len(self._templates) >= 256:
                self._templates.clear()
            # a body is the call's own: the template keeps the head only
            self._templates[key] = req._with_body(None) if req._body is not None else req
        return req

    async def _run_middlewares(
        self,
        req: ClientRequest,
        call: _Call,
        history: list[ClientResponse],
        deadline: float | None,
    ) -> ClientResponse:
        """The middleware chain around :meth:`_send`. Every response the chain received
        but did not return (a retried attempt, or all of them when a middleware raised) is
        let go here, so a middleware cannot leak a connection."""
        received: list[ClientResponse] = []

        async def send(request: ClientRequest) -> ClientResponse:
            # a middleware may have changed the head, or be sending the request again
            request._refresh_head()
            if request._sends:
                if not request.is_replayable():
                    raise ClientPayloadError(
                        "a middleware sent the request again, but its body was a one-shot "
                        "stream that has already been sent"
                    )
                request.rewind()
            request._sends += 1
            resp = await self._send(request, call, history, deadline)
            received.append(resp)
            return resp

        try:
            resp = await build_client_middlewares(send, call.middlewares)(req)
        except BaseException:
            for unused in received:
                unused.close()
            raise
        for unused in received:
            if unused is not resp:
                unused.release()
        return resp

    async def _send(
        self,
        req: ClientRequest,
        call: _Call,
        history: list[ClientResponse],
        deadline: float | None,
    ) -> ClientResponse:
        """Connect and send ``req`` within the call's ``deadline`` (loop time); retry once,
        on a fresh connection, an idempotent request whose pooled connection turned out to
        be closed by the server."""
        connector = self._connector
        if connector is None:
            raise RuntimeError("Session is closed")
        retried = False
        while True:
            if call.upload_tracker is not None:  # every dispatch is an upload attempt
                req._upload_tracker = call.upload_tracker
                req._upload_attempt = call.upload_tracker._attempt_started()
            conn = None if call.traces else connector._connect_pooled(req)
            if conn is None:
                conn = await self._connect(req, call, deadline)
            proto = conn._protocol  # taken now: a failed send detaches it from conn
            try:
                return await req.send(
                    conn,
                    req.response_class,
                    deadline,
                    session=self,
                    history=tuple(history) if history else (),
                    loop=call.loop,
                    traces=call.traces,
                )
            except (ServerDisconnectedError, ClientOSError, ClientConnectionResetError):
                conn.close()
                if (
                    retried
                    or not conn.reused
                    or proto is None
                    or proto.got_bytes
                    or req.method not in _IDEMPOTENT
                    or not req.is_replayable()
                ):
                    raise
                # the other idle connections to that server are likely just as stale
                retried = True
                req.rewind()
                for stale, _ in connector._conns.pop(req.connection_key, ()):
                    stale.close()
            except BaseException:
                conn.close()
                raise

    def _new_request(self, call: _Call) -> ClientRequest:
        req_headers = self._prepare_headers(call.headers)
        if call.drop_auth_header:
            # credentials given for one origin never follow a redirect to another
            req_headers.popall("Authorization", None)
            req_headers.popall("Cookie", None)
            req_headers.popall("Proxy-Authorization", None)
        url = call.url
        cookie_value = self._cookie_header(url, call.req_cookies)
        req_proxy, req_proxy_auth = choose_proxy(url, call.proxy, call.proxy_auth, self._trust_env)
        limits = call.limits
        return self._request_class(
            call.method,
            url,
            headers=req_headers,
            skip_auto_headers=call.skip,
            data=call.data,
            json_body=call.json_body,
            cookie_header=cookie_value,
            auth=call.auth,
            version=call.version,
            compress=call.compress,
            chunked=call.chunked,
            expect100=call.expect100,
            ssl=call.ssl,
            proxy=req_proxy,
            proxy_auth=req_proxy_auth,
            proxy_headers=call.proxy_headers,
            auto_decompress=call.auto_decompress,
            read_until_eof=call.read_until_eof,
            sock_read=call.tm.sock_read,
            max_decompressed_size=call.max_decompressed_size,
            server_hostname=call.server_hostname,
            read_bufsize=limits.read_bufsize,
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
            session=self,
            response_class=self._response_class,
        )

    def _build_url(self, str_or_url: Any) -> Any:
        """``str_or_url`` resolved against the session's ``base_url`` (RFC 3986 joining);
        an absolute URL is used as it is."""
        base = self._base_url
        if base is None:
            return str_or_url
        try:
            url = str_or_url if isinstance(str_or_url, URL) else URL(str_or_url)
        except (ValueError, TypeError) as exc:
            raise InvalidUrlClientError(str_or_url, str(exc)) from exc
        return url if url.absolute else base.join(url)

    def _prepare_headers(self, headers: Any) -> CIMultiDict[str]:
        """Session defaults overlaid by the request's headers (a name given in the request
        replaces every default value of that name)."""
        if self._default_headers:
            merged = CIMultiDict(self._default_headers)
            if headers:
                extra = CIMultiDict(headers)
                for name in extra:
                    merged.popall(name, None)
                merged.extend(extra)
            return merged
        if headers:
            return CIMultiDict(headers)
        return CIMultiDict()

    def _cookie_header(self, url: URL, req_cookies: Any) -> str | None:
        """The ``Cookie`` header: the jar's cookies for ``url``, merged with the request's
        own ``cookies`` as aiohttp 3.14 merges them (see ``request_cookie_header``)."""
        jar = self._cookie_jar
        if not req_cookies and (jar is None or not len(jar)):
            return None
        from .cookiejar import request_cookie_header

        return request_cookie_header(jar, url, req_cookies)

    async def _connect(self, req: ClientRequest, call: _Call, deadline: float | None) -> Connection:
        """A connection when none could be taken from the pool at once (the fast path,
        ``_connect_pooled``, needs no timeout), or any connection of a traced request:
        wait for a slot or open a new socket, within the ``connect`` and total limits."""
        connector = self._connector
        assert connector is not None
        tm = call.tm
        when = deadline
        if tm.connect:
            connect_deadline = call.loop.time() + tm.connect
            when = connect_deadline if when is None else min(when, connect_deadline)
        if when is None:
            return await connector.connect(req, call.traces, tm)
        try:
            async with asyncio.timeout_at(when):
                return await connector.connect(req, call.traces, tm)
        except ServerTimeoutError:
            raise  # the connector's own sock_connect limit: keep its message
        except TimeoutError as exc:
            raise ConnectionTimeoutError(
                f"Connection timeout to host {req.url.host}:{req.url.port}"
            ) from exc


#: str → URL for recently used request URLs (URL objects are immutable; parsing is not free).
_URL_CACHE: dict[str, URL] = {}


def _make_url(str_or_url: Any) -> URL:
    if type(str_or_url) is str:
        cached = _URL_CACHE.get(str_or_url)
        if cached is not None:
            return cached
    if isinstance(str_or_url, URL):
        url = str_or_url
    else:
        try:
            url = URL(str_or_url)
        except (ValueError, TypeError) as exc:
            raise InvalidUrlClientError(str_or_url, str(exc)) from exc
    if url.scheme and url.scheme not in ("http", "https", "ws", "wss"):
        raise _NonHttpUrl(url, f"unsupported scheme {url.scheme!r}")
    if not url.absolute or not url.raw_host:
        raise InvalidUrlClientError(url, "the URL has no host")
    if type(str_or_url) is str:
        if len(_URL_CACHE) >= 256:
            _URL_CACHE.clear()
        _URL_CACHE[str_or_url] = url
    return url


def _merge_params(url: URL, params: Any) -> URL:
    """Add query parameters: a mapping, a MultiDict, pairs, or an already-encoded str."""
    if isinstance(params, str):
        if not params:
            return url
        query = f"{url.raw_query_string}&{params}" if url.raw_query_string else params
        base = str(url.with_query(None).with_fragment(None))
        fragment = f"#{url.raw_fragment}" if url.raw_fragment else ""
        return URL(f"{base}?{query}{fragment}", encoded=True)
    if isinstance(params, Mapping) or hasattr(params, "items"):
        pairs = list(params.items())
    else:
        pairs = list(params)
    if not pairs:
        return url
    return url.extend_query(pairs)


def _base_url(base_url: Any) -> URL | None:
    """The session's ``base_url``, checked: absolute, and a path (if any) ending in "/" so
    that relative request URLs are joined below it, not beside it."""
    if base_url is None:
        return None
    url = base_url if isinstance(base_url, URL) else URL(base_url)
    if not url.absolute or not url.raw_host:
        raise ValueError(f"base_url must be an absolute URL, got {base_url!r}")
    if not url.path.endswith("/"):
        raise ValueError(f"base_url's path must end with '/', got {base_url!r}")
    if url.raw_query_string or url.raw_fragment:
        raise ValueError(f"base_url must have no query or fragment, got {base_url!r}")
    return url


def _frozen_trace_configs(trace_configs: Any) -> list[Any]:
    """The session's trace configs, each frozen (its signals take no more callbacks)."""
    if not trace_configs:
        return []
    configs = list(trace_configs)
    for config in configs:
        config.freeze()
    return configs


def _default_connector(ssl_shutdown_timeout: Any) -> TCPConnector:
    if ssl_shutdown_timeout is sentinel:
        return TCPConnector()
    return TCPConnector(ssl_shutdown_timeout=ssl_shutdown_timeout)


def _default_jar() -> AbstractCookieJar:
    """The session's default jar (imported on first use: it is not needed to import cyhttp)."""
    from .cookiejar import CookieJar

    return CookieJar()


def _template_body_key(call: _Call) -> tuple[str, int] | Literal[False] | None:
    """The body's share of a request template's key: None for no body, (kind, length) for
    bytes or JSON (the head depends on nothing else), False for any other body (a form, a
    file, a stream: its headers and framing are its own, so the request is not kept)."""
    data, json_body = call.data, call.json_body
    if data is None:
        return None if json_body is None else ("json", len(json_body))
    if type(data) is bytes and json_body is None:
        return ("bytes", len(data))
    return False


def _jar_records(jar: AbstractCookieJar | None) -> bool:
    """Whether ``jar`` is exactly cyhttp's CookieJar, whose record dict (``_cookies``) is
    then looked at to know it is empty: ``len(jar)`` is two Python calls per request."""
    if jar is None:
        return False
    from .cookiejar import CookieJar

    return type(jar) is CookieJar


class _Limits(NamedTuple):
    """What bounds the reading of a response (aiohttp's names and defaults)."""

    read_bufsize: int = 2**18
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 128

    @classmethod
    def of(
        cls, read_bufsize: int, max_line_size: int, max_field_size: int, max_headers: int
    ) -> _Limits:
        for name, value in (
            ("read_bufsize", read_bufsize),
            ("max_line_size", max_line_size),
            ("max_field_size", max_field_size),
            ("max_headers", max_headers),
        ):
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, got {value!r}")
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        return cls(read_bufsize, max_line_size, max_field_size, max_headers)


_DEFAULT_LIMITS = _Limits()


class _Call:
    """The state of one ``session.request()`` call: what its arguments became once checked,
    and what the redirects change as they are followed (URL, method, body, credentials)."""

    __slots__ = (
        "allow_redirects",
        "auth",
        "auto_decompress",
        "chunked",
        "compress",
        "data",
        "drop_auth_header",
        "expect100",
        "headers",
        "json_body",
        "limits",
        "loop",
        "max_decompressed_size",
        "max_redirects",
        "method",
        "middlewares",
        "params",
        "proxy",
        "proxy_auth",
        "proxy_headers",
        "raise_for_status",
        "read_until_eof",
        "req_cookies",
        "server_hostname",
        "skip",
        "ssl",
        "template_key",
        "tm",
        "trace_headers",
        "traces",
        "upload_tracker",
        "url",
        "version",
    )

    allow_redirects: bool
    auth: BasicAuth | None
    auto_decompress: bool
    chunked: Any
    compress: Any
    data: Any
    drop_auth_header: bool
    expect100: bool
    headers: Any
    json_body: bytes | None
    limits: _Limits
    loop: asyncio.AbstractEventLoop
    max_decompressed_size: int | None
    max_redirects: int
    method: str
    middlewares: tuple[ClientMiddlewareType, ...]
    params: Any
    proxy: Any
    proxy_auth: BasicAuth | None
    proxy_headers: CIMultiDict[str] | None
    raise_for_status: Any
    read_until_eof: bool
    req_cookies: Any
    server_hostname: str | None
    skip: frozenset[str]
    ssl: Any
    template_key: tuple[Any, ...] | None
    tm: ClientTimeout
    trace_headers: CIMultiDict[str]
    traces: list[Any] | None
    upload_tracker: UploadTracker | None
    url: URL
    version: HttpVersion

    def copy(self) -> _Call:
        """A call with the same state, for the next plain call (see
        ``ClientSession._plain_call``). Replaced below by a function made from the slots."""
        raise NotImplementedError  # pragma: no cover

    def has_body(self) -> bool:
        return self.data is not None or self.json_body is not None

    def drop_body(self) -> None:
        """The next hop is a GET without a body: drop it and the headers that framed it."""
        self.method = "GET"
        self.data = None
        self.json_body = None
        self.compress = None
        self.chunked = None
        self.expect100 = False
        if self.headers is not None:
            headers = CIMultiDict(self.headers)
            for name in ("Content-Type", "Content-Length", "Transfer-Encoding", "Expect"):
                headers.popall(name, None)
            self.headers = headers


def _slot_copier(cls: type, skip: frozenset[str]) -> Callable[[Any], Any]:
    """A function returning a copy of a ``cls`` instance, every slot but ``skip`` copied
    with one store each. Generated from ``__slots__`` so that a field added later is
    copied too; a loop of getattr/setattr would cost several times more per request."""
    names = [name for name in cls.__dict__["__slots__"] if name not in skip]
    lines = ["def copy(self):", "    new = cls()"]
    lines += [f"    new.{name} = self.{name}" for name in names]
    lines.append("    return new")
    namespace: dict[str, Any] = {"cls": cls}
    exec("\n".join(lines), namespace)  # the source is made of the slot names only
    copy: Callable[[Any], Any] = namespace["copy"]
    copy.__qualname__ = f"{cls.__qualname__}.copy"
    copy.__doc__ = cls.copy.__doc__  # type: ignore[attr-defined]
    return copy


#: trace_headers is set only on traced calls, which are never plain
_Call.copy = _slot_copier(  # type: ignore[method-assign,assignment]
    _Call, frozenset({"trace_headers"})
)


class _NonHttpRedirect(NonHttpUrlRedirectClientError, InvalidUrlRedirectClientError):
    """A redirect to another scheme: aiohttp 3.x's NonHttpUrlRedirectClientError that is also
    the InvalidURL of the 2.3 contract."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        InvalidUrlRedirectClientError.__init__(self, url, description)


class _NonHttpUrl(NonHttpUrlClientError, InvalidUrlClientError):
    """A request URL of another scheme: aiohttp 3.x's NonHttpUrlClientError that is also the
    InvalidURL of the 2.3 contract."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        InvalidUrlClientError.__init__(self, url, description)


def _check_raise_for_status(value: Any) -> None:
    if not (isinstance(value, bool) or callable(value)):
        raise TypeError(f"raise_for_status must be a bool or a coroutine function, got {value!r}")


async def _apply_raise_for_status(resp: ClientResponse, check: Any) -> None:
    """``True``: the response's own check; a callable: the user's (awaited), which may
    raise anything; the response is released when it does."""
    if check is True:
        resp.raise_for_status()
        return
    try:
        result = check(resp)
        if inspect.isawaitable(result):
            await result
    except BaseException:
        resp.release()
        raise


class _SessionRequestContextManager:
    """``cyhttp.request()``'s result: a response whose private session (and connector)
    closes when the response is released, or on error."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._run().__await__()

    async def _response(self) -> ClientResponse:
        """The response; the private session closes if there is none."""
        try:
            return await self._coro
        except BaseException:
            await self._session.close()
            raise

    async def _run(self) -> ClientResponse:
        resp = await self._response()
        # the body is read eagerly so the private connector can close with the response
        try:
            await resp.read()
        finally:
            resp.release()
            await self._session.close()
        return resp

    async def __aenter__(self) -> ClientResponse:
        self._resp = resp = await self._response()
        return await resp.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            self._resp.release()
        await self._session.close()


def request(
    method: str,
    url: Any,
    *,
    params: Any = None,
    data: Any = None,
    json: Any = None,
    headers: Any = None,
    skip_auto_headers: Iterable[str] | None = None,
    cookies: Any = None,
    auth: BasicAuth | None = None,
    allow_redirects: bool = True,
    max_redirects: int = 10,
    encoding: Any = "utf-8",
    version: HttpVersion = HttpVersion11,
    compress: Any = None,
    chunked: Any = None,
    expect100: bool = False,
    raise_for_status: bool | None = None,
    connector: BaseConnector | None = None,
    loop: Any = None,
    read_until_eof: bool = True,
    timeout: Any = sentinel,
    proxy: Any = None,
    proxy_auth: BasicAuth | None = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """One request without a session: ``async with cyhttp.request("GET", url) as resp``.

    A connector is made for it (``force_close``: nothing to keep alive for) and closed with
    the response, unless one is passed, in which case it is left open.
    """
    warn_loop(loop)
    connector_owner = connector is None
    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(
        connector=connector,
        cookies=cookies,
        version=version,
        connector_owner=connector_owner,
    )
    coro = session._request(
        method,
        url,
        params=params,
        data=data,
        json=json,
        headers=headers,
        skip_auto_headers=skip_auto_headers,
        auth=auth,
        allow_redirects=allow_redirects,
        max_redirects=max_redirects,
        compress=compress,
        chunked=chunked,
        expect100=expect100,
        raise_for_status=raise_for_status,
        read_until_eof=read_until_eof,
        timeout=timeout,
        proxy=proxy,
        proxy_auth=proxy_auth,
        **kwargs,
    )
    return _SessionRequestContextManager(coro, session)


def _forwarded_signature(
    target: Callable[..., Any], skip: int, leading: list[inspect.Parameter]
) -> inspect.Signature:
    """``leading`` parameters followed by the keyword-only ones of ``target`` (whose first
    ``skip`` parameters are replaced): what a ``**kwargs`` forwarder really accepts."""
    params = list(inspect.signature(target).parameters.values())[skip:]
    return inspect.Signature(leading + [p for p in params if p.kind is p.KEYWORD_ONLY])


_P = inspect.Parameter
_SELF = _P("self", _P.POSITIONAL_OR_KEYWORD)
_METHOD = _P("method", _P.POSITIONAL_OR_KEYWORD, annotation=str)
_URL = _P("url", _P.POSITIONAL_OR_KEYWORD)
# introspection (help(), IDEs, inspect.signature) shows the documented parameters
ClientSession.request.__signature__ = _forwarded_signature(  # type: ignore[attr-defined]
    ClientSession._make_call, 3, [_SELF, _METHOD, _URL]
)
ClientSession._request.__signature__ = ClientSession.request.__signature__  # type: ignore[attr-defined]
ClientSession.ws_connect.__signature__ = _forwarded_signature(  # type: ignore[attr-defined]
    _ws_connect, 2, [_SELF, _URL]
)


def ws_connect(
    url: Any,
    *,
    protocols: Iterable[str] = (),
    timeout: Any = _WS_DEFAULT_TIMEOUT,
    autoclose: bool = True,
    autoping: bool = True,
    origin: str | None = None,
    headers: Any = None,
    connector: BaseConnector | None = None,
    loop: Any = None,
    **kwargs: Any,
) -> _RequestContextManager[ClientWebSocketResponse]:
    """A WebSocket without a session: ``async with cyhttp.ws_connect(url) as ws``.

    A private session (and, unless ``connector`` is given, a private connector) is made
    for it and closed with the WebSocket; every other keyword of
    :meth:`ClientSession.ws_connect` is accepted.
    """
    warn_loop(loop)
    return _RequestContextManager(
        _ws_connect_alone(
            url,
            connector,
            protocols=protocols,
            timeout=timeout,
            autoclose=autoclose,
            autoping=autoping,
            origin=origin,
            headers=headers,
            **kwargs,
        )
    )


async def _ws_connect_alone(
    url: Any, connector: BaseConnector | None, **kwargs: Any
) -> ClientWebSocketResponse:
    owner = connector is None
    session = ClientSession(connector=connector or TCPConnector(), connector_owner=owner)
    try:
        ws = await _ws_connect(session, url, **kwargs)
    except BaseException:
        await session.close()
        raise

    def close_session() -> None:
        conn = session._connector
        if conn is not None and owner:
            conn.close()
        session.detach()

    ws._on_close = close_session
    return ws


def __getattr__(name: str) -> Any:
    # aiohttp.client re-exports the client's exceptions and classes; so does this module
    # (resolved on first use: the package's namespace has them all)
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sys

    try:
        return getattr(sys.modules[__name__.rpartition(".")[0]], name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
