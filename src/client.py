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
from collections.abc import Callable, Coroutine, Generator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from multidict import CIMultiDict, istr
from yarl import URL

from ._models import HttpVersion, HttpVersion11
from .abc import AbstractCookieJar
from .client_exceptions import (
    ClientOSError,
    InvalidURL,
    ServerDisconnectedError,
    ServerTimeoutError,
    TooManyRedirects,
)
from .client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE
from .client_proxy import choose_proxy, explicit_proxy
from .client_reqrep import ClientRequest, ClientResponse, cookie_header
from .client_ws import ClientWebSocketResponse
from .client_ws import ws_connect as _ws_connect
from .connector import BaseConnector, Connection, TCPConnector
from .helpers import (
    DEFAULT_TIMEOUT,
    DONE,
    BasicAuth,
    ClientTimeout,
    merge_ssl_params,
    sentinel,
    timeout_or_none,
    warn_loop,
)

if TYPE_CHECKING:
    from http.cookies import BaseCookie, Morsel

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
        self._resp = await self._coro
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp = self._resp
        if resp is None:
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
        *,
        connector: BaseConnector | None = None,
        loop: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = _json.dumps,
        version: HttpVersion = HttpVersion11,
        cookie_jar: AbstractCookieJar | None = None,
        read_timeout: float | None = None,
        conn_timeout: float | None = None,
        timeout: Any = sentinel,
        raise_for_status: bool = False,
        connector_owner: bool = True,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        response_class: type[ClientResponse] = ClientResponse,
        proxies: Any = None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    ) -> None:
        """``max_decompressed_size`` (bytes, default 256 MiB; None or 0 = no bound) stops a
        compressed response body whose decoded size exceeds it with ClientPayloadError, so
        a decompression bomb cannot exhaust memory. ``request(...)`` may override it.

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
        self._cookie_jar = cookie_jar if cookie_jar is not None else _default_jar()
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
        # the connector last: an argument refused above leaves no half-made session (or
        # connector of its own) to warn about
        self._connector = connector if connector is not None else TCPConnector()

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

    # ----- the request loop -----

    async def _request(
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
        raise_for_status: bool | None = None,
        read_until_eof: bool = True,
        proxy: Any = None,
        proxy_auth: BasicAuth | None = None,
        timeout: Any = sentinel,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: Any = None,
        ssl: Any = None,
        proxy_headers: Any = None,
        auto_decompress: bool | None = None,
        version: HttpVersion | None = None,
        encoding: Any = None,
        max_decompressed_size: Any = sentinel,
    ) -> ClientResponse:
        connector = self._connector
        if connector is None or connector.closed:
            raise RuntimeError("Session is closed")
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        if json is not None:
            json_body: bytes | None = self._json_serialize(json).encode("utf-8")
        else:
            json_body = None
        # the connector's loop once it has one: get_running_loop() is a getpid() system
        # call per request on Python 3.11
        loop = connector._loop or asyncio.get_running_loop()

        url = _make_url(str_or_url)
        if params is not None:
            url = _merge_params(url, params)
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError("auth must be a BasicAuth instance")
        if auth is None:
            auth = self._default_auth
        url_auth = BasicAuth.from_url(url) if url.raw_user or url.raw_password else None
        if url_auth is not None:
            if auth is not None and auth != url_auth:
                raise ValueError("auth given both in the URL and as an argument")
            auth = url_auth
            url = url.with_user(None)
        skip = self._skip_auto_headers
        if skip_auto_headers:
            skip = skip | frozenset(istr(h).lower() for h in skip_auto_headers)
        if ssl is not None or verify_ssl is not None or ssl_context is not None or fingerprint:
            ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        if proxy is not None:
            proxy, proxy_auth = explicit_proxy(proxy, proxy_auth)
        proxy_headers = CIMultiDict(proxy_headers) if proxy_headers else None

        tm = self._timeout if timeout is sentinel else _make_timeout(timeout)
        deadline = loop.time() + tm.total if tm.total else None
        if raise_for_status is None:
            raise_for_status = self._raise_for_status
        if auto_decompress is None:
            auto_decompress = self._auto_decompress
        if max_decompressed_size is sentinel:
            max_decompressed_size = self._max_decompressed_size

        history: list[ClientResponse] = []
        retried = False
        req_cookies = cookies
        drop_auth_header = False
        version = version or self._version
        template_key = None
        if (
            headers is None
            and data is None
            and json_body is None
            and cookies is None
            and auth is None
            and not skip_auto_headers
            and not compress
            and not chunked
            and not expect100
            and proxy is None
            and proxy_headers is None
            and not self._trust_env
            and not self._default_headers
            and (self._cookie_jar is None or not len(self._cookie_jar))
        ):
            # a plain request: its head is the same every time, so the request object
            # (immutable once built) is kept and reused
            template_key = (
                method,
                # the caller's string when it is the whole URL: its hash is cached, a URL's
                # is computed in Python on every call
                str_or_url if params is None and type(str_or_url) is str else url,
                ssl,
                auto_decompress,
                read_until_eof,
                tm.sock_read,
                version,
                max_decompressed_size,
            )
        while True:
            req = None
            if template_key is not None and not history:
                req = self._templates.get(template_key)
            if req is None:
                req = self._new_request(
                    method,
                    url,
                    headers,
                    drop_auth_header,
                    req_cookies,
                    skip,
                    data,
                    json_body,
                    auth,
                    version,
                    compress,
                    chunked,
                    expect100,
                    ssl,
                    proxy,
                    proxy_auth,
                    proxy_headers,
                    auto_decompress,
                    read_until_eof,
                    tm.sock_read,
                    max_decompressed_size,
                )
                if template_key is not None and not history:
                    if len(self._templates) >= 256:
                        self._templates.clear()
                    self._templates[template_key] = req
            conn = connector._connect_pooled(req)
            if conn is None:
                conn = await self._connect(req, tm, deadline, loop)
            proto = conn.protocol  # taken now: a failed send detaches it from conn
            try:
                resp = await req.send(
                    conn,
                    self._response_class,
                    deadline,
                    session=self,
                    history=tuple(history) if history else (),
                    loop=loop,
                )
            except (ServerDisconnectedError, ClientOSError):
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
                # a pooled connection was found closed: retry once on a fresh one (the
                # other idle connections to that server are likely just as stale)
                retried = True
                req.rewind()
                for stale, _ in connector._conns.pop(req.connection_key, ()):
                    stale.close()
                continue
            except BaseException:
                conn.close()
                raise
            retried = False
            jar = self._cookie_jar
            if jar is not None:
                set_cookies = resp.set_cookie_values()
                if set_cookies:
                    jar.update_cookies_from_headers(set_cookies, resp.url)

            if resp.status in _REDIRECTS and allow_redirects:
                location = resp.headers.get("Location") or resp.headers.get("URI")
                if location is None:
                    break
                history.append(resp)
                if max_redirects is not None and len(history) > max_redirects:
                    resp.close()
                    raise TooManyRedirects(
                        history[0].request_info,
                        tuple(history),
                        status=resp.status,
                        message=f"Exceeded {max_redirects} redirects",
                        headers=resp.headers,
                    )
                if (resp.status == 303 and method != "HEAD") or (
                    resp.status in (301, 302) and method not in ("GET", "HEAD")
                ):
                    # the body is dropped, and with it everything that framed it
                    method = "GET"
                    data = None
                    json_body = None
                    compress = None
                    chunked = None
                    expect100 = False
                    if headers is not None:
                        headers = CIMultiDict(headers)
                        headers.popall("Content-Type", None)
                        headers.popall("Content-Length", None)
                        headers.popall("Transfer-Encoding", None)
                        headers.popall("Expect", None)
                elif not req.is_replayable():
                    break  # a consumed stream cannot be sent again: return the 307/308
                else:
                    req.rewind()
                try:
                    new_url = URL(location, encoded=not self._requote_redirect_url)
                except ValueError as exc:
                    resp.close()
                    raise InvalidURL(location) from exc
                new_url = url.join(new_url)
                if new_url.scheme not in _HTTP_SCHEMES or not new_url.raw_host:
                    resp.close()
                    raise InvalidURL(new_url, "redirect to a non-HTTP(S) URL")
                resp.release()
                if new_url.origin() != url.origin():
                    # credentials and explicit cookies belong to the origin they were meant for
                    auth = None
                    req_cookies = None
                    drop_auth_header = True
                new_auth = (
                    BasicAuth.from_url(new_url)
                    if new_url.raw_user or new_url.raw_password
                    else None
                )
                if new_auth is not None:
                    auth = new_auth
                    new_url = new_url.with_user(None)
                url = new_url.with_fragment(None) if new_url.raw_fragment else new_url
                params = None
                continue
            break

        if raise_for_status:
            resp.raise_for_status()
        return resp

    def _new_request(
        self,
        method: str,
        url: URL,
        headers: Any,
        drop_auth_header: bool,
        req_cookies: Any,
        skip: frozenset[str],
        data: Any,
        json_body: bytes | None,
        auth: BasicAuth | None,
        version: HttpVersion,
        compress: Any,
        chunked: Any,
        expect100: bool,
        ssl: Any,
        proxy: Any,
        proxy_auth: BasicAuth | None,
        proxy_headers: Any,
        auto_decompress: bool,
        read_until_eof: bool,
        sock_read: float | None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    ) -> ClientRequest:
        req_headers = self._merged_headers(headers)
        if drop_auth_header:
            # credentials given for one origin never follow a redirect to another
            req_headers.popall("Authorization", None)
            req_headers.popall("Cookie", None)
            req_headers.popall("Proxy-Authorization", None)
        cookie_value = self._cookie_header(url, req_cookies)
        req_proxy, req_proxy_auth = choose_proxy(url, proxy, proxy_auth, self._trust_env)
        return ClientRequest(
            method,
            url,
            headers=req_headers,
            skip_auto_headers=skip,
            data=data,
            json_body=json_body,
            cookie_header=cookie_value,
            auth=auth,
            version=version,
            compress=compress,
            chunked=chunked,
            expect100=expect100,
            ssl=ssl,
            proxy=req_proxy,
            proxy_auth=req_proxy_auth,
            proxy_headers=proxy_headers,
            auto_decompress=auto_decompress,
            read_until_eof=read_until_eof,
            sock_read=sock_read,
            max_decompressed_size=max_decompressed_size,
        )

    def _merged_headers(self, headers: Any) -> CIMultiDict[str]:
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
        """The ``Cookie`` header: the jar's cookies for ``url``, where a per-request cookie
        replaces every jar cookie of its name (as in aiohttp)."""
        jar = self._cookie_jar
        if not req_cookies:
            if jar is None or not len(jar):
                return None
            exact = getattr(jar, "cookie_header", None)
            if exact is not None:
                # the jar builds the header itself: every cookie (same-name ones too), in
                # RFC 6265 order, values exactly as received
                header: str | None = exact(url)
                return header
            return cookie_header(jar.filter_cookies(url).values()) or None
        extra = _to_cookie(req_cookies)
        morsels: list[Morsel[str]] = []
        if jar is not None and len(jar):
            morsels.extend(m for m in jar.filter_cookies(url).values() if m.key not in extra)
        morsels.extend(extra.values())
        return cookie_header(morsels) if morsels else None

    async def _connect(
        self,
        req: ClientRequest,
        tm: ClientTimeout,
        deadline: float | None,
        loop: asyncio.AbstractEventLoop,
    ) -> Connection:
        """A connection when none could be taken from the pool at once (the fast path,
        ``_connect_pooled``, needs no timeout): wait for a slot or open a new socket."""
        connector = self._connector
        assert connector is not None
        connect_limit = tm.connect
        if deadline is not None or connect_limit:
            when = deadline
            if connect_limit:
                connect_deadline = loop.time() + connect_limit
                when = connect_deadline if when is None else min(when, connect_deadline)
            try:
                async with asyncio.timeout_at(when):
                    conn = await connector.connect(req, None, tm)
            except ServerTimeoutError:
                raise  # the connector's own sock_connect limit: keep its message
            except TimeoutError as exc:
                raise ServerTimeoutError(
                    f"Connection timeout to host {req.url.host}:{req.url.port}"
                ) from exc
        else:
            conn = await connector.connect(req, None, tm)
        return conn


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
            raise InvalidURL(str_or_url, str(exc)) from exc
    if not url.absolute or not url.raw_host:
        raise InvalidURL(url, "the URL has no host")
    if url.scheme not in ("http", "https", "ws", "wss"):
        raise InvalidURL(url, f"unsupported scheme {url.scheme!r}")
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


def _to_cookie(cookies: Any) -> BaseCookie[str]:
    from http.cookies import BaseCookie, CookieError, Morsel  # cookies given to a request: rare

    if isinstance(cookies, BaseCookie):
        return cookies
    jar: BaseCookie[str] = BaseCookie()
    items = cookies.items() if hasattr(cookies, "items") else cookies
    try:
        for name, value in items:
            if isinstance(value, Morsel):
                jar[name] = value.value
                jar[name].update(value)
            else:
                jar[name] = value
    except CookieError as exc:
        # the jar's error: both a ValueError and the CookieError aiohttp users catch
        from .cookiejar import _InvalidCookie

        raise _InvalidCookie(str(exc)) from exc
    return jar


def _default_jar() -> AbstractCookieJar:
    """The session's default jar (imported on first use: it is not needed to import cyhttp)."""
    from .cookiejar import CookieJar

    return CookieJar()


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
        self._resp = await self._response()
        return self._resp

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
    ClientSession._request, 3, [_SELF, _METHOD, _URL]
)
ClientSession.ws_connect.__signature__ = _forwarded_signature(  # type: ignore[attr-defined]
    _ws_connect, 2, [_SELF, _URL]
)


def ws_connect(
    url: Any,
    *,
    protocols: Iterable[str] = (),
    timeout: float = 10.0,
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
