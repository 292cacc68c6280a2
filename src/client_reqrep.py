"""One request and its response: :class:`ClientRequest` builds and sends the head and body
on a :class:`~cyhttp.connector.Connection`; :class:`ClientResponse` wraps the parsed head and
the body stream and gives the connection back when the body is done.

The request head is built once, as one buffer, and written with the body in a single
``transport.write`` when the body is small bytes. Any other body is a
:class:`~cyhttp.payload.Payload` (files, async iterables, multipart, ``streamer``...),
written by a task that respects the transport's flow control, so a server may answer
before the upload ends. A body sent with a Content-Length is held to exactly that length.

Connection hand-back happens when the protocol reports the response complete (not when user
code finishes reading: the unread bytes are already in the response's own buffer). A
response closed before that closes its connection instead: a half-read connection is never
pooled.
"""

from __future__ import annotations

import asyncio
import codecs
import json as _json
import re
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from ._fastjson import loads_utf8
from ._models import HttpVersion, HttpVersion11, ResponseHead
from ._version import __version__
from .abc import AbstractStreamWriter
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
    InvalidURL,
    ServerTimeoutError,
)
from .client_proto import DEFAULT_MAX_DECOMPRESSED_SIZE, ResponseHandler
from .client_proxy import add_proxy_headers, uses_tunnel
from .connector import Connection, ConnectionKey
from .deadline import LazyDeadline
from .helpers import DONE, BasicAuth, Fingerprint, content_type_of, is_file_like
from .http_writer import (
    LAST_CHUNK,
    REQUEST_CODINGS,
    BodyFramer,
    body_piece,
    build_head,
    check_method,
)
from .streams import EMPTY_PAYLOAD, StreamReader, supported_encodings
from .upload_tracker import UploadTracker

if TYPE_CHECKING:
    from http.cookies import Morsel, SimpleCookie

__all__ = (
    "ClientRequest",
    "ClientResponse",
    "ContentDisposition",
    "Fingerprint",
    "RequestInfo",
    "TextDecodeError",
)

USER_AGENT = f"cyhttp/{__version__}"
_accept_encoding: str | None = None


def accept_encoding() -> str:
    """The Accept-Encoding value: what we can decode (computed on first use: checking for
    the optional decoders imports them)."""
    global _accept_encoding
    if _accept_encoding is None:
        _accept_encoding = ", ".join(supported_encodings())
    return _accept_encoding


#: Bodies up to this size are joined to the head for a single write.
_JOIN_LIMIT = 2**16
#: the slices an in-memory body is written in when an upload tracker follows it
_TRACKED_SLICE = 2**16
_ALLOWED_SCHEMES = frozenset(("http", "https", "ws", "wss"))
_SSL_SCHEMES = frozenset(("https", "wss"))
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
#: whitespace or a control character in a request target would split the request line
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")


class _RequestInfo(NamedTuple):
    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class RequestInfo(_RequestInfo):
    """What was asked: the URL, method and headers actually sent; ``real_url`` is the URL
    as given (with its fragment), defaulting to ``url``."""

    __slots__ = ()

    def __new__(
        cls,
        url: URL,
        method: str,
        headers: CIMultiDictProxy[str],
        real_url: URL | None = None,
    ) -> RequestInfo:
        return super().__new__(cls, url, method, headers, url if real_url is None else real_url)


def _is_async_iterable(obj: Any) -> bool:
    return hasattr(obj, "__aiter__")


class ClientRequest:
    """Everything needed to put one request on the wire. Built by the session."""

    #: aiohttp's method sets: the methods without a body by convention, those with one
    GET_METHODS = frozenset({"HEAD", "GET", "OPTIONS", "TRACE"})
    POST_METHODS = frozenset({"PATCH", "POST", "PUT"})
    ALL_METHODS = GET_METHODS | POST_METHODS | {"DELETE"}

    #: set by the session when the call has an ``upload_tracker``, with the number of
    #: the attempt being sent (the body writer reports its progress under it)
    _upload_tracker: UploadTracker | None = None
    _upload_attempt = 0
    #: the loop given to aiohttp's form of the constructor (None otherwise)
    loop: asyncio.AbstractEventLoop | None = None
    #: set by send() when the session traces requests (the body writer reports to them)
    _traces: list[Any] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        headers: CIMultiDict[str] | None = None,
        skip_auto_headers: frozenset[str] = frozenset(),
        data: Any = None,
        json_body: bytes | None = None,
        cookie_header: str | None = None,
        auth: BasicAuth | None = None,
        version: HttpVersion = HttpVersion11,
        compress: Any = None,
        chunked: Any = None,
        expect100: bool = False,
        ssl: Any = None,
        proxy: Any = None,
        proxy_auth: Any = None,
        proxy_headers: Any = None,
        auto_decompress: bool = True,
        read_until_eof: bool = True,
        sock_read: float | None = None,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        server_hostname: str | None = None,
        read_bufsize: int = 2**18,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        session: Any = None,
        response_class: type[ClientResponse] | None = None,
        **aiohttp_form: Any,
    ) -> None:
        """The session builds a request with its own keywords. A program or library may
        build one as aiohttp 3.14 does (``params``, ``cookies``, ``loop``, ``timer``,
        ``traces``, ``trust_env``; ``headers`` as any mapping, or left out): those
        arrive in ``aiohttp_form`` (see :meth:`_from_aiohttp_form`)."""
        if (
            aiohttp_form
            or type(headers) is not CIMultiDict
            or type(skip_auto_headers) is not frozenset
        ):
            url, headers, cookie_header, skip_auto_headers = self._from_aiohttp_form(
                url, headers, cookie_header, skip_auto_headers, **aiohttp_form
            )
        self.method = check_method(method).upper()
        self.original_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        self.version = version
        self.headers = headers
        self.auth = auth
        self.compress = compress
        self.chunked = chunked
        self.expect100 = expect100
        self.ssl = ssl
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        self.proxy_headers = proxy_headers
        self.auto_decompress = auto_decompress
        self.read_until_eof = read_until_eof
        self.sock_read = sock_read
        #: bound of a compressed body once decoded (None/0: unbounded); see client_proto
        self.max_decompressed_size = max_decompressed_size
        #: the session that made the request (a middleware may send others through it)
        self.session = session
        self.response_class = response_class if response_class is not None else ClientResponse
        #: the name the server's certificate is checked against (None: the URL's host)
        self.server_hostname = server_hostname
        self.read_bufsize = read_bufsize
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        #: what the connection's parser and body buffer are made with (see ResponseHandler)
        self._read_limits = (max_line_size, max_field_size, max_headers, read_bufsize)
        #: how many times a middleware chain handed this request to the session to send
        self._sends = 0
        #: the body as sent: None, bytes (in memory) or a Payload (streamed)
        self._body: Any = None
        #: the Payload given (or made on demand by ``body``), None for plain bytes
        self._payload: Any = None
        #: bytes the body must write when not chunked (the Content-Length sent)
        self._length: int | None = None
        #: headers set here for the body, dropped again by update_body()
        self._auto_headers: list[str] = []
        self._chunked_arg = chunked
        self._compress_arg = compress
        self._skip_auto_headers = skip_auto_headers
        scheme = self.url.scheme
        host = self.url.raw_host
        if not host or scheme not in _ALLOWED_SCHEMES:
            raise InvalidURL(url, "a URL needs an http(s) or ws(s) scheme and a host")
        is_ssl = scheme in _SSL_SCHEMES
        port = self.url.port
        self.connection_key = ConnectionKey(
            host.rstrip(".") if not host.endswith("..") else host,
            port,
            is_ssl,
            ssl,
            proxy,
            proxy_auth,
            hash(tuple(proxy_headers.items())) if proxy_headers else None,
            server_hostname,
        )
        self._prepare_headers(skip_auto_headers, cookie_header)
        self._prepare_body(data, json_body, skip_auto_headers)
        # serialised (and validated) now: a bad header fails before any connection is made
        self._head = self._head_bytes()

    def _from_aiohttp_form(
        self,
        url: URL,
        headers: Any,
        cookie_header: str | None,
        skip_auto_headers: Any,
        *,
        params: Any = None,
        cookies: Any = None,
        loop: asyncio.AbstractEventLoop | None = None,
        timer: Any = None,
        traces: list[Any] | None = None,
        trust_env: bool = False,
    ) -> tuple[URL, CIMultiDict[str], str | None, frozenset[str]]:
        """aiohttp's constructor keywords: ``params`` join the URL's query, ``cookies``
        the Cookie header, ``skip_auto_headers`` may be any iterable of names (or None);
        ``traces`` are reported to as the session's would be; the
        loop is kept as :attr:`loop`. ``timer`` and ``trust_env`` change nothing here (the
        deadline and the proxy from the environment are the session's business)."""
        if params:
            url = url.extend_query(params)
        if cookies:
            from .cookiejar import request_cookie_header

            extra = request_cookie_header(None, url, cookies)
            if extra:
                cookie_header = f"{cookie_header}; {extra}" if cookie_header else extra
        self.loop = loop
        self._timer = timer
        self._trust_env = trust_env
        if traces:
            self._traces = traces
        skip = frozenset(name.lower() for name in skip_auto_headers or ())
        return url, CIMultiDict(headers or ()), cookie_header, skip

    # ----- what a custom connector's ``_create_connection(req)`` reads (aiohttp's names) -----

    @property
    def host(self) -> str:
        """The host to connect to (without a trailing dot)."""
        return self.connection_key.host

    @property
    def port(self) -> int | None:
        return self.connection_key.port

    def is_ssl(self) -> bool:
        """Whether the connection needs TLS (https, wss)."""
        return self.connection_key.is_ssl

    @property
    def skip_auto_headers(self) -> frozenset[str]:
        """The (lower-cased) names of the headers this request does not add by itself."""
        return self._skip_auto_headers

    # ----- head -----

    def _prepare_headers(self, skip: frozenset[str], cookie_header: str | None) -> None:
        headers = self.headers
        url = self.url
        if "Host" not in headers:
            host = url.raw_host or ""
            if ":" in host:
                host = f"[{host}]"
            port = url.port
            if port is not None and port != _DEFAULT_PORTS.get(url.scheme):
                host = f"{host}:{port}"
            headers["Host"] = host
        if "user-agent" not in skip and "User-Agent" not in headers:
            headers["User-Agent"] = USER_AGENT
        if "accept" not in skip and "Accept" not in headers:
            headers["Accept"] = "*/*"
        if (
            "accept-encoding" not in skip
            and "Accept-Encoding" not in headers
            and self.auto_decompress
        ):
            headers["Accept-Encoding"] = accept_encoding()
        if self.auth is not None:
            headers["Authorization"] = self.auth.encode()
        if self.proxy is not None and not uses_tunnel(self.url):
            # absolute-form request to the proxy itself (a tunnel carries none of these)
            add_proxy_headers(headers, self.proxy_auth, self.proxy_headers)
        if self.expect100:
            headers["Expect"] = "100-continue"
        elif headers.get("Expect", "").lower() == "100-continue":
            self.expect100 = True
        if cookie_header:
            existing = headers.get("Cookie")
            headers["Cookie"] = f"{existing}; {cookie_header}" if existing else cookie_header
        if self.version < HttpVersion11 and "Connection" not in headers:
            headers["Connection"] = "keep-alive"

    # ----- body -----

    def _prepare_body(self, data: Any, json_body: bytes | None, skip: frozenset[str]) -> None:
        """Turn ``data`` (or the serialised ``json``) into the body to send and set the
        headers that describe it: Content-Type (unless given or skipped), the framing
        (Content-Length of a body of known size, else chunked) and Content-Encoding.

        A Content-Length given by the caller must match a body of known size (ValueError
        otherwise, before anything is sent); for a stream it bounds what is written."""
        body, ctype = _body_source(data, json_body)
        self._body = body
        self._payload = None
        if body is not None and not isinstance(body, bytes):
            self._payload = body
            inline = _inline_bytes(body)
            if inline is not None:
                self._body = inline  # in memory: sent like plain bytes (one write)
            self._copy_payload_headers(body, skip)
        elif body is not None and ctype:
            self._add_auto_header("Content-Type", ctype, skip)
        self._prepare_encoding()
        self._prepare_framing()

    def _add_auto_header(self, name: str, value: str, skip: frozenset[str]) -> None:
        """Set a header the caller did not give (nor skip), remembering it was ours."""
        if name.lower() not in skip and name not in self.headers:
            self.headers[name] = value
            self._auto_headers.append(name)

    def _copy_payload_headers(self, payload: Any, skip: frozenset[str]) -> None:
        """A payload's own headers (Content-Type, Content-Disposition...) become request
        headers, except those the caller gave or skipped; no framing header is taken."""
        for name, value in payload.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self._add_auto_header(name, value, skip)

    def _prepare_encoding(self) -> None:
        if not self.compress:
            return
        if "Content-Encoding" in self.headers:
            raise ValueError("compress can not be set if Content-Encoding header is set")
        self.compress = "deflate" if self.compress is True else self.compress
        if self.compress not in REQUEST_CODINGS:
            raise ValueError(
                f"unsupported compress={self.compress!r}: use True (deflate), 'deflate' or 'gzip'"
            )
        self.headers["Content-Encoding"] = self.compress
        self._auto_headers.append("Content-Encoding")
        self.chunked = True  # the compressed length is unknown in advance

    def _body_size(self) -> int | None:
        """Bytes the body will write: 0 for none, None when unknown until sent."""
        body = self._body
        if body is None:
            return 0
        if isinstance(body, bytes):
            return len(body)
        size: int | None = body.size
        return size

    def _prepare_framing(self) -> None:
        """Chunked or Content-Length, checked against what the caller declared. Sets
        ``self.chunked`` (bool) and ``self._length`` (the exact byte count the writer
        must produce when not chunked; None when chunked)."""
        headers = self.headers
        self._length = None
        te = headers.get("Transfer-Encoding", "").lower()
        if self.chunked:
            if "Content-Length" in headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            if te and "chunked" not in te:
                raise ValueError("chunked can not be set if Transfer-Encoding header is set")
            if not te:
                headers["Transfer-Encoding"] = "chunked"
                self._auto_headers.append("Transfer-Encoding")
            self.chunked = True
            return
        if "chunked" in te:
            if "Content-Length" in headers:
                raise ValueError("Transfer-Encoding chunked and Content-Length are exclusive")
            self.chunked = True
            return
        self.chunked = False
        size = self._body_size()
        if "Content-Length" in headers:
            self._length = _declared_length(headers, size)
            return
        if self._body is None:
            if self.method in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = "0"
                self._auto_headers.append("Content-Length")
            self._length = 0
        elif size is not None:
            headers["Content-Length"] = str(size)
            self._auto_headers.append("Content-Length")
            self._length = size
        else:
            headers["Transfer-Encoding"] = "chunked"
            self._auto_headers.append("Transfer-Encoding")
            self.chunked = True

    def _with_body(self, body: bytes | None) -> ClientRequest:
        """A copy of this request with another in-memory body of the same kind and length
        (the session's request templates: the head, which says only the length, stays)."""
        clone = object.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone._body = body
        clone._payload = None  # a payload made by ``body`` wraps the old bytes
        return clone

    @property
    def body(self) -> Any:
        """The body as a :class:`~cyhttp.payload.Payload` (``b""`` when there is none),
        as aiohttp's ``ClientRequest.body``. Change it with :meth:`update_body`."""
        payload = self._payload
        if payload is None:
            body = self._body
            if body is None:
                return b""
            from .payload import BytesPayload

            ctype = self.headers.get("Content-Type", "application/octet-stream")
            payload = self._payload = BytesPayload(body, content_type=ctype)
        return payload

    async def update_body(self, body: Any) -> None:
        """Replace the body (bytes, str, a form, a Payload, a file, an async iterable,
        or None), closing the previous payload, and re-derive the headers this request
        set for the old one (Content-Type, Content-Length / Transfer-Encoding,
        Content-Encoding); headers the caller set stay. The head is built again."""
        old = self._payload
        if old is not None and old is not body and not getattr(old, "autoclose", True):
            await old.close()
        for name in self._auto_headers:
            self.headers.popall(name, None)
        self._auto_headers = []
        self.chunked = self._chunked_arg
        self.compress = self._compress_arg
        self._prepare_body(body, None, self._skip_auto_headers)
        self._head = self._head_bytes()

    def is_replayable(self) -> bool:
        """True when the whole body can be sent (again) from its start: no body, bytes,
        text, a form or JSON, a seekable file (rewound to where it started), or a stream
        not yet read. False for a one-shot stream (async iterable, generator, pipe)
        once it started being read: :meth:`send` would raise RuntimeError for it."""
        body = self._body
        if body is None or isinstance(body, bytes):
            return True
        return not body.consumed

    def rewind(self) -> None:
        """Put the body's source back at its start (a file seeks to the position it had
        when the request was made; in-memory bodies need nothing). Safe for every body."""
        body = self._body
        if body is not None and not isinstance(body, bytes):
            body._rewind()

    def request_info(self) -> RequestInfo:
        return RequestInfo(self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)

    def _refresh_head(self) -> None:
        """Serialise the head again: a middleware may have changed the method, the URL or
        the headers since the request was built (the checks of the first build apply)."""
        self.method = check_method(self.method).upper()
        if self.url.raw_fragment:
            self.url = self.url.with_fragment(None)
        key = self.connection_key
        url = self.url
        if (url.raw_host, url.port, url.scheme in _SSL_SCHEMES) != (key.host, key.port, key.is_ssl):
            if not url.raw_host or url.scheme not in _ALLOWED_SCHEMES:
                raise InvalidURL(url, "a URL needs an http(s) or ws(s) scheme and a host")
            self.connection_key = key._replace(
                host=url.raw_host, port=url.port, is_ssl=url.scheme in _SSL_SCHEMES
            )
        self._head = self._head_bytes()

    def _head_bytes(self) -> bytes:
        url = self.url
        # absolute form for plain-HTTP proxies, origin form otherwise
        if self.proxy is not None and not uses_tunnel(url):
            target = str(url)
        else:
            target = url.raw_path_qs or "/"
        if self.method == "CONNECT":
            target = f"{url.raw_host}:{url.port}"
        if _BAD_TARGET.search(target):
            raise InvalidURL(url, "whitespace or a control character in the request target")
        version = self.version
        return build_head(
            f"{self.method} {target} HTTP/{version.major}.{version.minor}",
            list(self.headers.items()),
        )

    # ----- sending -----

    async def send(
        self,
        conn: Connection,
        response_class: type[ClientResponse],
        deadline: float | None = None,
        *,
        session: Any = None,
        history: tuple[ClientResponse, ...] = (),
        loop: asyncio.AbstractEventLoop | None = None,
        traces: list[Any] | None = None,
    ) -> ClientResponse:
        """Write the request on ``conn`` and wait for the response head.

        ``deadline`` (loop time) bounds everything from here to the end of the body.
        """
        proto = conn._protocol
        if proto is None:
            raise ClientConnectionError("connection is closed")
        body = self._body
        if body is not None and not isinstance(body, bytes) and body.consumed:
            raise RuntimeError(
                f"the request body ({type(body).__name__}) is a one-shot stream that was "
                "already read, so it cannot be sent again (a redirect, retry or middleware "
                "resend): pass bytes, a seekable file or a payload that can be replayed"
            )
        if proto.__class__ is not ResponseHandler and getattr(proto, "is_h2_stream", False):
            # an HTTP/2 stream (TCPConnector(http2=...))
            send_h2 = _send_h2 if _send_h2 is not None else _load_send_h2()
            return await send_h2(
                self,
                conn,
                response_class,
                deadline,
                session=session,
                history=history,
                loop=loop,
                traces=traces,
            )
        head = self._head
        tracker = self._upload_tracker
        continue_waiter: asyncio.Future[None] | None = None
        informational = None
        if self.expect100 and body is not None:
            continue_waiter = proto._loop.create_future()

            def informational(
                head_: ResponseHead, w: asyncio.Future[None] = continue_waiter, p: Any = proto
            ) -> None:
                if head_.status == 100 and not w.done():
                    p.should_close = False  # the body will follow: the exchange stays in step
                    w.set_result(None)

        head_future = proto.start(
            self.method,
            auto_decompress=self.auto_decompress,
            read_until_eof=self.read_until_eof,
            read_timeout=self.sock_read,
            informational=informational,
            max_decompressed_size=self.max_decompressed_size,
            limits=self._read_limits,
        )
        whole = (
            tracker is None  # a tracked body is written piece by piece, see _write_body
            and continue_waiter is None
            and not self.chunked
            and not self.compress
            and (body is None or (isinstance(body, bytes) and len(body) <= _JOIN_LIMIT))
        )
        if whole:
            # the whole request in one write, sent first: the server works on it while the
            # response object is made (nothing can arrive before we next yield)
            try:
                proto.write(head if body is None else head + body)
            except BaseException:
                conn.close()
                raise
        response = response_class(
            self.method,
            self.original_url,
            request=self,
            session=session,
            history=history,
            loop=loop,
        )
        response._attach(conn)
        if deadline is not None:
            timer = response._deadline = proto.deadline
            timer.arm(deadline, _deadline_expired, weakref.ref(response))
        try:
            if whole:
                pass
            elif continue_waiter is not None:
                # a final answer before 100 Continue means the body is never sent, which
                # leaves the connection out of step with the server: never reuse it then
                proto.should_close = True
                proto.write(head)
                response._writer = asyncio.ensure_future(
                    self._write_after_continue(proto, continue_waiter, head_future)
                )
                if tracker is not None:
                    self._track_writer(tracker, proto, response._writer)
            elif body is None:
                if self.chunked:
                    head += LAST_CHUNK
                proto.write(head)
                if tracker is not None:
                    tracker._attempt_finished(self._upload_attempt)
            elif (
                isinstance(body, bytes)
                and not self.chunked
                and not self.compress
                and tracker is None
            ):
                proto.write(head)  # a large body: not copied to join it to the head
                proto.write(body)
            else:
                proto.write(head)
                response._writer = asyncio.ensure_future(self._write_body(proto))
                if tracker is not None:
                    self._track_writer(tracker, proto, response._writer)
            if traces:
                response._traces = self._traces = traces
                inline = whole or (
                    isinstance(body, bytes)
                    and not self.chunked
                    and not self.compress
                    and tracker is None  # else the writer task reports it
                )
                await self._trace_sent(traces, inline)
            parsed = await head_future
        except ClientResponseError as exc:
            response._abort()
            if exc.request_info is None:
                exc.request_info = self.request_info()
            raise
        except BaseException:
            response._abort()
            raise
        response._start(parsed)
        return response

    async def _trace_sent(self, traces: list[Any], body_written: bool) -> None:
        """The headers-sent signal, then chunk-sent for a body written with them (a body
        written by the writer task is reported piece by piece as it goes)."""
        method, url = self.method, self.url
        for trace in traces:
            await trace.send_request_headers_sent(method, url, self.headers)
        body = self._body
        if body_written and body:
            for trace in traces:
                await trace.send_request_chunk_sent(method, url, body)

    async def _trace_chunk(self, chunk: bytes) -> None:
        for trace in self._traces or ():
            await trace.send_request_chunk_sent(self.method, self.url, chunk)

    def _track_writer(
        self, tracker: UploadTracker, proto: ResponseHandler, writer: asyncio.Future[None]
    ) -> None:
        """The upload tracker follows the body writer task from now on (the head is
        written); a task that ends without finishing or failing was cut short."""
        attempt = self._upload_attempt
        tracker._attempt_writing(attempt, proto)
        writer.add_done_callback(lambda _: tracker._writer_done(attempt))

    def _upload_failed(self, exc: BaseException) -> None:
        tracker = self._upload_tracker
        if tracker is not None:
            tracker._attempt_failed(self._upload_attempt, exc)

    async def _write_after_continue(
        self, proto: ResponseHandler, waiter: asyncio.Future[None], head_future: asyncio.Future[Any]
    ) -> None:
        done, _ = await asyncio.wait((waiter, head_future), return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            await self._write_body(proto)

    async def _write_body(self, proto: ResponseHandler) -> None:
        """Write the body after the head: bytes at once, a payload piece by piece
        through a :class:`_BodyWriter` (with backpressure). When not chunked the framer
        holds the body to exactly the Content-Length sent: more, or less, fails the
        request with ClientPayloadError and closes the connection."""
        body = self._body
        tracker = self._upload_tracker
        try:
            framer = BodyFramer(
                chunked=bool(self.chunked),
                compress=self.compress or None,
                length=None if self.chunked else self._length,
            )
            if isinstance(body, bytes):
                if tracker is not None:
                    await self._write_tracked_bytes(proto, framer, body, tracker)
                else:
                    out = framer.encode(body)
                    if out:
                        proto.write(out)
                if self._traces and body:
                    await self._trace_chunk(body)
            elif body is not None:
                traced = self if self._traces else None
                await body.write(_BodyWriter(proto, framer, traced, tracker, self._upload_attempt))
            tail = framer.finish()
            if tail:
                proto.write(tail)
            if tracker is not None:
                tracker._attempt_finished(self._upload_attempt)
        except asyncio.CancelledError:
            raise
        except ClientConnectionResetError as exc:
            self._upload_failed(exc)  # written after the connection closed: the
            # response side reports why
        except OSError as exc:
            error = ClientOSError(exc.errno, f"can not write request body: {exc}")
            self._upload_failed(error)
            proto._fail(error, exc)
        except (ClientConnectionError, ClientResponseError) as exc:
            self._upload_failed(exc)  # the connection already failed; the response side
            # reports it
        except Exception as exc:
            # the user's body source failed, or did not match its Content-Length: fail
            # the request with that exception
            self._upload_failed(exc)
            proto._fail(exc)

    async def _write_tracked_bytes(
        self, proto: ResponseHandler, framer: BodyFramer, body: bytes, tracker: UploadTracker
    ) -> None:
        """An in-memory body written in slices, waiting for the transport between them,
        so that the tracker sees it leave (one write would buffer it all at once)."""
        view = memoryview(body)
        attempt = self._upload_attempt
        for start in range(0, len(body), _TRACKED_SLICE):
            piece = bytes(view[start : start + _TRACKED_SLICE])
            size = await _send_piece(proto, framer, piece)
            tracker._add_bytes(attempt, size, proto.output_size)


class _BodyWriter:
    """The writer a :class:`~cyhttp.payload.Payload` writes the request body into
    (aiohttp's ``AbstractStreamWriter`` subset payloads and ``streamer`` functions use):
    each piece is framed and written, waiting while the transport's buffer is full."""

    __slots__ = ("_attempt", "_framer", "_proto", "_traced", "_tracker")

    def __init__(
        self,
        proto: ResponseHandler,
        framer: BodyFramer,
        traced: ClientRequest | None = None,
        tracker: UploadTracker | None = None,
        attempt: int = 0,
    ) -> None:
        self._proto = proto
        self._framer = framer
        #: the request, when its pieces are reported to its traces as they are sent
        self._traced = traced
        #: the upload tracker told of each piece, under the attempt being sent
        self._tracker = tracker
        self._attempt = attempt

    async def write(self, chunk: Any) -> None:
        piece = body_piece(chunk)
        size = await _send_piece(self._proto, self._framer, piece)
        if self._tracker is not None:
            self._tracker._add_bytes(self._attempt, size, self._proto.output_size)
        if self._traced is not None and piece:
            await self._traced._trace_chunk(piece)

    async def drain(self) -> None:
        await self._proto.drain()

    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write a last piece; the end of the body itself is written by the request."""
        if chunk:
            await self.write(chunk)


AbstractStreamWriter.register(_BodyWriter)


async def _send_piece(proto: ResponseHandler, framer: BodyFramer, piece: bytes) -> int:
    """Write one piece of a streamed body (see :func:`body_piece`), then wait for the
    transport's buffer to drain; returns the piece's size in bytes."""
    out = framer.encode(piece)
    if out:
        proto.write(out)
        await proto.drain()
    return len(piece)


@dataclass(frozen=True, slots=True)
class ContentDisposition:
    """A parsed Content-Disposition header (:attr:`ClientResponse.content_disposition`):
    the disposition type (``attachment``, ``inline``; None when the header is invalid),
    its parameters (names lower-cased) and the file name they give, decoded."""

    type: str | None
    parameters: MappingProxyType[str, str]
    filename: str | None


def _split_outside(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` where it is neither inside ``<...>`` nor inside a
    quoted string (with backslash escapes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angle = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif angle:
            angle = char != ">"
        elif char == '"':
            quoted = True
        elif char == "<":
            angle = True
        elif char == sep:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _link_params(pieces: list[str]) -> MultiDict[str | URL]:
    """The ``name=value`` parameters of one Link entry (quoted values unescaped; a
    malformed one skipped)."""
    params: MultiDict[str | URL] = MultiDict()
    for piece in pieces:
        name, sep, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or any(c.isspace() for c in name):
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.add(name, value)
    return params


def parse_links(values: Iterable[str], base: URL) -> MultiDictProxy[MultiDictProxy[str | URL]]:
    """Link headers (RFC 8288) as aiohttp gives them: per link, keyed by its ``rel`` (else
    its target as written), a MultiDictProxy of its parameters plus ``url``, the target
    resolved against ``base``."""
    links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
    for value in values:
        for entry in _split_outside(value, ","):
            entry = entry.strip()
            if not entry.startswith("<") or ">" not in entry:
                continue  # empty list element, or not a link
            target, _, rest = entry[1:].partition(">")
            pieces = _split_outside(rest, ";")
            if pieces[0].strip():
                continue  # something between the target and its parameters
            params = _link_params(pieces[1:])
            key = params.get("rel", target)
            params.add("url", base.join(URL(target)))
            links.add(str(key), MultiDictProxy(params))
    return MultiDictProxy(links)


class ClientResponse:
    """The answer to one request: status, headers and a streamed body (:attr:`content`)."""

    version: HttpVersion | None = None
    status: int = 0
    reason: str | None = None
    content: StreamReader = EMPTY_PAYLOAD
    _connection: Connection | None = None
    _head: ResponseHead | None = None
    _body: bytes | None = None
    #: the request's traces (None when the session has no trace configs)
    _traces: list[Any] | None = None
    _writer: asyncio.Future[None] | None = None
    _deadline: LazyDeadline | None = None
    _closed = True
    _in_context = False
    _cookies: SimpleCookie | None = None
    _links: MultiDictProxy[MultiDictProxy[str | URL]] | None = None
    _output_size = 0
    _upload_complete: asyncio.Future[None] | None = None
    #: release() or close() was called (aiohttp 3.14's meaning; libraries that copy a
    #: response, such as caches, read it to know whether the body can still be read)
    _released = False
    #: built from the request on first use unless given (aiohttp's keyword form)
    _request_info: RequestInfo | None = None
    #: what aiohttp's keyword form of the constructor hands over (see _init_detached)
    _continue: asyncio.Future[bool] | None = None
    _timer: Any = None
    _stream_writer: Any = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        request: ClientRequest | None = None,
        session: Any = None,
        history: tuple[ClientResponse, ...] = (),
        loop: asyncio.AbstractEventLoop | None = None,
        **aiohttp_form: Any,
    ) -> None:
        """cyhttp's ClientRequest.send builds a response with ``request=``. A library may
        build one as aiohttp 3.14 does, ``(method, url, *, writer, continue100, timer,
        request_info, traces, loop, session[, stream_writer])``, without a connection:
        the library then sets its status, head and ``content`` itself.

        Those keywords arrive in ``aiohttp_form`` (a signature of their own would cost
        every response of the normal path a lookup per missing keyword)."""
        self.method = method
        self._url = url
        self._request = request
        self._session = session
        self._history = history
        self._loop = loop
        self._closed = False
        if aiohttp_form:
            self._init_detached(**aiohttp_form)

    def _init_detached(
        self,
        *,
        request_info: RequestInfo | None = None,
        writer: asyncio.Future[None] | None = None,
        continue100: asyncio.Future[bool] | None = None,
        timer: Any = None,
        traces: list[Any] | None = None,
        stream_writer: Any = None,
    ) -> None:
        """Keep what aiohttp's constructor arguments give: the request as sent, the task
        writing its body (stopped by release()/close(), awaited by ``upload_complete``),
        the 100 Continue future, the timer, and the traces ``read()`` reports to. Any
        other keyword is a TypeError, as it would be in aiohttp."""
        if request_info is not None:
            self._request_info = request_info
        if writer is not None:
            self._writer = writer
        if continue100 is not None:
            self._continue = continue100
        if timer is not None:
            self._timer = timer
        if traces:
            self._traces = traces
        if stream_writer is not None:
            self._stream_writer = stream_writer

    # ----- life cycle (driven by ClientRequest) -----

    def _attach(self, conn: Connection) -> None:
        self._connection = conn
        proto = conn._protocol
        assert proto is not None
        # weakly: an abandoned response must stay collectable (and warn) while in flight
        ref = weakref.ref(self)

        def done() -> None:
            resp = ref()
            if resp is not None:
                resp._on_body_done()
            elif conn._protocol is not None:
                conn.release()

        proto.on_message_done = done

    def _start(self, parsed: tuple[ResponseHead, StreamReader]) -> None:
        head, payload = parsed
        self._head = head
        self.version = head.version
        self.status = head.status
        self.reason = head.reason
        self.content = payload
        conn = self._connection
        if (
            head.upgrade
            and conn is not None
            and conn._protocol is not None
            and conn._protocol._upgraded
        ):
            # 101: the connection now belongs to whoever takes it over, for as long as it
            # likes; the whole-request timeout ends with the handshake
            self._cancel_deadline()

    async def start(self, connection: Connection) -> ClientResponse:
        """aiohttp's step that reads the head. Here :meth:`ClientRequest.send` has read it
        before the response is handed out, so this returns the started response."""
        if self._head is None:
            raise RuntimeError("a ClientResponse is started by ClientRequest.send()")
        return self

    def _on_body_done(self) -> None:
        """The protocol finished receiving the body: the response is closed (its body is
        all in :attr:`content`); hand the connection back now, or,
        when the answer came before the request body was all sent (an early answer, or
        100 Continue and the answer in one read), once the body writer ends: pooled
        earlier, the connection would carry the rest of this body into the next request.
        Until then the connection stays the response's: release() meanwhile closes it
        and stops the upload, and the whole-request deadline still bounds the wait. A
        connection the server closes (``Connection: close``) is closed now."""
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done():
            conn = self._connection
            proto = conn._protocol if conn is not None else None
            if proto is not None and not proto.should_close:
                writer.add_done_callback(self._on_writer_done)
                return
        timer = self._deadline
        if timer is not None:
            self._deadline = None
            timer.disarm(weakref.ref(self))
        conn = self._connection
        if conn is not None:
            proto = conn._protocol
            if proto is not None:  # the bytes sent, noted before the connection goes
                self._output_size = proto.output_size
            self._connection = None
            conn.release()
        if writer is not None:
            self._maybe_done_writer()

    def _on_writer_done(self, writer: asyncio.Future[None]) -> None:
        if self._writer is writer:  # else aborted (and the connection closed) meanwhile
            self._on_body_done()

    def _maybe_done_writer(self) -> None:
        writer = self._writer
        if writer is not None and writer.done():
            self._writer = None
            if not writer.cancelled():
                writer.exception()  # retrieved; errors were reported through the protocol

    def _cancel_deadline(self) -> None:
        timer = self._deadline
        if timer is not None:
            self._deadline = None
            timer.disarm(weakref.ref(self))

    def _on_deadline(self, exc: BaseException) -> None:
        """The whole-request timeout fired: fail whatever is pending, never pool."""
        self._deadline = None
        conn = self._connection
        if conn is not None and conn.protocol is not None:
            conn.protocol._fail(exc)
        self._abort()

    def _abort(self) -> None:
        """Drop the connection without reusing it (error or early close)."""
        self._cancel_deadline()
        writer = self._writer
        if writer is not None:
            self._writer = None
            if not writer.done():
                writer.cancel()
        conn = self._connection
        if conn is not None:
            self._keep_output_size(conn)
            self._connection = None
            conn.close()

    def _keep_output_size(self, conn: Connection) -> None:
        """Note the bytes sent before the connection goes (it may carry other requests)."""
        proto = conn._protocol
        if proto is not None:
            self._output_size = proto.output_size

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed:
            return
        if self._connection is not None:
            try:
                self._abort()
            except Exception:  # pragma: no cover - loop already closed at shutdown
                pass
            _warnings.warn(f"Unclosed response {self!r}", ResourceWarning, source=self)

    def __repr__(self) -> str:
        return f"<ClientResponse({self._url}) [{self.status} {self.reason}]>"

    # ----- attributes -----

    @property
    def url(self) -> URL:
        """The URL of the request, without a fragment (none is sent), as in aiohttp 3."""
        url = self._url
        return url.with_fragment(None) if url.raw_fragment else url

    @property
    def real_url(self) -> URL:
        """The URL as requested, fragment included."""
        return self._url

    @property
    def url_obj(self) -> URL:
        """Deprecated alias of :attr:`url` (as in aiohttp)."""
        warnings.warn("Deprecated, use .url", DeprecationWarning, stacklevel=2)
        return self.url

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """The Link headers: per link, keyed by ``rel`` (else the target), its parameters
        and ``url`` (the target resolved against :attr:`url`)."""
        links = self._links
        if links is None:
            links = self._links = parse_links(self.headers.getall("Link", ()), self.url)
        return links

    @property
    def content_disposition(self) -> ContentDisposition | None:
        """The Content-Disposition header parsed; None without one."""
        raw = self.headers.get("Content-Disposition")
        if raw is None:
            return None
        # the multipart module's parser (RFC 6266/8187), imported on first use
        from .multipart import content_disposition_filename, parse_content_disposition

        disposition, params = parse_content_disposition(raw)
        return ContentDisposition(
            disposition, MappingProxyType(params), content_disposition_filename(params)
        )

    @property
    def output_size(self) -> int:
        """Bytes sent for this request so far (head and body, as written to the socket).
        Deprecated in aiohttp 3.14.4, kept for the code that reads it."""
        warnings.warn("ClientResponse.output_size is deprecated", DeprecationWarning, stacklevel=2)
        conn = self._connection
        proto = conn.protocol if conn is not None else None
        return proto.output_size if proto is not None else self._output_size

    @property
    def upload_complete(self) -> asyncio.Future[None]:
        """A future done once the request body is all sent (or its upload stopped).
        Deprecated in aiohttp 3.14.4, kept for the code that awaits it."""
        warnings.warn(
            "ClientResponse.upload_complete is deprecated", DeprecationWarning, stacklevel=2
        )
        done = self._upload_complete
        if done is None:
            loop = self._loop or asyncio.get_running_loop()
            done = self._upload_complete = loop.create_future()
            writer = self._writer
            if writer is None or writer.done():
                done.set_result(None)
            else:
                writer.add_done_callback(_settle(done))
        return done

    @property
    def host(self) -> str:
        return self._url.host or ""

    @property
    def connection(self) -> Connection | None:
        return self._connection

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        head = self._head
        if head is None:
            return CIMultiDictProxy(CIMultiDict())
        return head.headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        head = self._head
        return head.raw_headers if head is not None else ()

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        return self._history

    @property
    def request_info(self) -> RequestInfo:
        info = self._request_info
        if info is None:
            req = self._request
            if req is None:
                info = RequestInfo(self._url, self.method, CIMultiDictProxy(CIMultiDict()))
            else:
                info = req.request_info()
            self._request_info = info
        return info

    @property
    def cookies(self) -> SimpleCookie:
        cookies = self._cookies
        if cookies is None:
            # http.cookies is imported when first asked for, not with the package
            from http.cookies import CookieError, SimpleCookie

            cookies = self._cookies = SimpleCookie()
            for value in self.set_cookie_values():
                try:
                    cookies.load(value)
                except CookieError:
                    continue
        return cookies

    def set_cookie_values(self) -> list[str]:
        """The raw Set-Cookie header values (decoded utf-8 with surrogateescape)."""
        head = self._head
        values: list[str] = []
        if head is not None:
            # a loop, not a comprehension: this runs for every response (cookie jar)
            for name, value in head.raw_headers:
                if len(name) == 10 and name.lower() == b"set-cookie":
                    values.append(value.decode("utf-8", "surrogateescape"))
        return values

    @property
    def content_type(self) -> str:
        return content_type_of(self.headers)[0]

    @property
    def charset(self) -> str | None:
        return content_type_of(self.headers)[1]

    @property
    def content_length(self) -> int | None:
        head = self._head
        return head.content_length if head is not None else None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ok(self) -> bool:
        return self.status < 400

    # ----- body -----

    async def read(self) -> bytes:
        """The whole body (cached: a later call returns the same bytes, even after
        :meth:`release`). After :meth:`release` or :meth:`close` with the body not read,
        ``ClientConnectionError("Connection closed")``: the unread body is gone."""
        if self._body is None:
            content = self.content
            try:
                if content.is_eof():
                    # the whole body is buffered already: take it without suspending
                    self._body = content.read_nowait()
                else:
                    self._body = await content.read()
            except BaseException:
                self._abort()
                raise
            if self._traces:
                for trace in self._traces:
                    await trace.send_response_chunk_received(self.method, self.url, self._body)
        return self._body

    def _declared_encoding(self) -> str | None:
        """The encoding the headers give: a known Content-Type charset (by its codec
        name), else UTF-8 for JSON; None when the body itself must be looked at."""
        ctype, charset = content_type_of(self.headers)
        if charset:
            try:
                return codecs.lookup(charset).name
            except LookupError:
                pass
        if ctype == "application/json" or ctype.endswith("+json"):
            return "utf-8"
        return None

    def get_encoding(self) -> str:
        """The charset of Content-Type when Python knows it (JSON: UTF-8); else the
        session's ``fallback_charset_resolver(response, body)``, else cchardet's guess,
        else UTF-8. The fallbacks look at the body: RuntimeError before it is read."""
        declared = self._declared_encoding()
        if declared is not None:
            return declared
        body = self._body
        if body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        resolver = getattr(self._session, "_resolve_charset", None)
        if resolver is not None:
            return str(resolver(self, body))
        return (_detect(body) if body else None) or "utf-8"

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded by ``encoding``, else by :meth:`get_encoding`; when that is
        only cchardet's guess and the guess cannot decode the body, UTF-8 is tried too.
        Undecodable bytes (with ``errors="strict"``) raise :class:`TextDecodeError`,
        both a ClientPayloadError and a UnicodeDecodeError."""
        body = await self.read()
        if encoding is not None:
            return _decode(body, encoding, errors)
        encoding = self.get_encoding()
        if not body:
            return ""
        guessed = (
            self._declared_encoding() is None
            and getattr(self._session, "_resolve_charset", None) is None
            and encoding != "utf-8"
        )
        if not guessed:
            return _decode(body, encoding, errors)
        try:
            return body.decode(encoding, errors)
        except UnicodeDecodeError:
            return _decode(body, "utf-8", errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = _json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON; None for an empty body. A Content-Type other than
        ``content_type`` raises ContentTypeError (``content_type=None`` skips the check)."""
        body = await self.read()
        ctype = self.headers.get("Content-Type", "").lower()
        if content_type and content_type not in ctype:
            raise ContentTypeError(
                self.request_info,
                self._history,
                status=self.status,
                message=(
                    "Attempt to decode JSON with unexpected mimetype: "
                    f"{ctype or '(no Content-Type)'}"
                ),
                headers=self.headers,
            )
        if not body or body.isspace():
            return None
        if encoding is None:
            # the usual answer needs no parsing: plain JSON, no charset, is UTF-8
            encoding = "utf-8" if ctype == "application/json" else self.get_encoding()
        if loads is _json.loads and _UTF8.get(encoding.lower()):
            return loads_utf8(body, _strict_utf8)
        return loads(_decode(body, encoding, "strict"))

    # ----- releasing -----

    def release(self) -> Any:
        """Give the connection back (pooled if the body was fully received, else closed).
        A body not read by then can no longer be (see :meth:`read`). Awaiting the result
        is allowed (it was a coroutine in aiohttp 2.x)."""
        self._closed = self._released = True
        if self._body is None:  # the usual case, a body read, needs neither call
            self._drop_unread_body()
        if self._connection is not None or self._deadline is not None or self._writer is not None:
            self._give_back()
        return DONE

    def _give_back(self) -> None:
        """Let go of the connection: it was pooled already if the body is complete,
        else it is closed; stop a request body still being sent."""
        conn = self._connection
        if conn is not None:
            # the body (or the request body) is not complete: the connection cannot be
            # reused
            self._keep_output_size(conn)
            self._connection = None
            conn.close()
        if self._deadline is not None:
            self._cancel_deadline()
        writer = self._writer
        if writer is not None:
            if not writer.done():
                writer.cancel()
            self._writer = None

    def close(self) -> None:
        """Close the response and its connection."""
        self._released = True
        self._drop_unread_body()
        if self._closed and self._connection is None:
            return
        self._closed = True
        self._abort()

    def _drop_unread_body(self) -> None:
        """Released or closed before the body was read: every read of it (``read()``,
        ``text()``, ``json()``, ``content``) fails with "Connection closed" from now on,
        as in aiohttp, whether or not its bytes had all arrived."""
        content = self.content
        if (
            self._body is None
            and content is not EMPTY_PAYLOAD
            and content.exception() is None
            and not content.at_eof()
        ):
            content.set_exception(ClientConnectionError("Connection closed"))

    def raise_for_status(self) -> None:
        """ClientResponseError for a status of 400 or more. Outside ``async with resp``
        the connection is let go first (as aiohttp releases the response), but a body
        already received stays readable (the error page: nothing is thrown away);
        inside, the response is untouched until the block ends."""
        if self.status >= 400:
            if not self._in_context:
                self._closed = self._released = True
                self._give_back()
            raise ClientResponseError(
                self.request_info,
                self._history,
                status=self.status,
                message=self.reason or "",
                headers=self.headers,
            )

    async def wait_for_close(self) -> None:
        await self.content.wait_eof()
        self.release()

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._in_context = False
        self.release()


def _as_form(data: Any) -> Any:
    """``data`` as the payload of an HTML form (a FormData, or a mapping / list of
    pairs: urlencoded, or multipart when a value is a file or bytes), None when it is
    not a form. formdata (and mimetypes) are imported here, on first use."""
    from .formdata import FormData, needs_multipart

    if isinstance(data, FormData):
        return data()
    if needs_multipart(data):
        return FormData(data)()
    if isinstance(data, (Mapping, MultiDict, MultiDictProxy)) or (
        isinstance(data, (list, tuple)) and all(isinstance(i, tuple) for i in data)
    ):
        from .payload import BytesPayload

        items = list(data.items()) if hasattr(data, "items") else list(data)
        return BytesPayload(
            urlencode(items, doseq=False).encode("utf-8"),
            content_type="application/x-www-form-urlencoded",
        )
    return None


def _body_source(data: Any, json_body: bytes | None) -> tuple[Any, str | None]:
    """(body, its default Content-Type): the body is None, bytes, or a Payload (then
    the payload's headers carry the Content-Type). The payload module is imported only
    for bodies that are not bytes or text."""
    if json_body is not None:
        return json_body, "application/json"
    if data is None:
        return None, None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "application/octet-stream"
    if isinstance(data, str):
        return data.encode("utf-8"), "text/plain; charset=utf-8"
    return _to_payload(data), None


def _to_payload(data: Any) -> Any:
    """Any other ``data=`` as a Payload: a Payload as is, a form, a registered type
    (files, async iterables, ``streamer`` functions...), any object with ``read()``, a
    sync iterable of pieces. TypeError for anything else."""
    from . import payload as pl

    if isinstance(data, pl.Payload):
        return data
    if not is_file_like(data) and not _is_async_iterable(data):
        form = _as_form(data)
        if form is not None:
            return form
    try:
        return pl.body_payload(data, disposition=None)
    except pl.LookupError:
        pass
    if isinstance(data, Iterable) and not isinstance(data, (Mapping, MultiDict)):
        payload = pl._payload_of_source(data)
        if payload is None:
            payload = pl._IterablePayload(data)
            if payload._bound_to_source():
                pl._remember_source(data, payload)
        return payload
    raise TypeError(f"unsupported request body type {type(data).__name__}")


def _inline_bytes(payload: Any) -> bytes | None:
    """The bytes of an in-memory payload (bytes, text, JSON, urlencoded form), sent as
    plain bytes; None for a payload that writes itself."""
    from .payload import BytesPayload

    if isinstance(payload, BytesPayload) and type(payload).write is BytesPayload.write:
        return bytes(payload._value)
    return None


def _declared_length(headers: CIMultiDict[str], size: int | None) -> int:
    """The caller's Content-Length, checked: one decimal value, equal to the body's size
    when that is known. A mismatch would make the server read a different request than
    the one meant (a longer body's tail taken as a second request): ValueError."""
    values = headers.getall("Content-Length")
    if len(values) != 1:
        raise ValueError(f"more than one Content-Length header: {values!r}")
    raw = values[0].strip()
    if not raw.isdigit() or not raw.isascii():
        raise ValueError(f"invalid Content-Length header {values[0]!r}")
    declared = int(raw)
    if size is not None and declared != size:
        raise ValueError(
            f"Content-Length header says {declared} bytes but the body is {size} bytes: "
            "remove the header (it is computed) or send a body of that length"
        )
    return declared


def _settle(done: asyncio.Future[None]) -> Callable[[Any], None]:
    """A done-callback that completes ``done`` (once)."""

    def callback(_: Any) -> None:
        if not done.done():
            done.set_result(None)

    return callback


def _deadline_expired(ref: weakref.ref[ClientResponse]) -> None:
    resp = ref()
    if resp is not None:
        req = resp._request
        url = req.url if req is not None else resp._url
        resp._on_deadline(ServerTimeoutError(f"Timeout of the whole request to {url}"))


class TextDecodeError(ClientPayloadError, UnicodeDecodeError):
    """The response body cannot be decoded as text with the encoding used: catchable as a
    body error (ClientPayloadError) and as the UnicodeDecodeError aiohttp raises, with
    that error's encoding, object, start, end and reason."""

    def __init__(self, encoding: str, obj: bytes, start: int, end: int, reason: str) -> None:
        UnicodeDecodeError.__init__(self, encoding, obj, start, end, reason)


#: the spellings of UTF-8 that :func:`loads_utf8` may take (orjson reads UTF-8 only)
_UTF8 = {"utf-8": True, "utf8": True}


def _strict_utf8(body: bytes) -> str:
    return _decode(body, "utf-8", "strict")


#: ``h2_request.send_h2``, imported by the first HTTP/2 request: the HTTP/2 modules load only
#: when used, and a function-level import cost every HTTP/2 request 1.4 us
_send_h2: Any = None


def _load_send_h2() -> Any:
    global _send_h2
    from .h2_request import send_h2

    _send_h2 = send_h2
    return send_h2


def _decode(body: bytes, encoding: str, errors: str) -> str:
    """``body.decode(encoding, errors)``, a decode failure raised as TextDecodeError."""
    try:
        return body.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise TextDecodeError(exc.encoding, exc.object, exc.start, exc.end, exc.reason) from exc


def _detect(body: bytes) -> str | None:
    """cchardet's guess, or None."""
    try:
        import cchardet
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    guess = cchardet.detect(body)
    encoding = guess.get("encoding") if guess else None
    if not encoding:
        return None
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None
    return str(encoding).lower()


def cookie_header(cookies: Iterable[Morsel[str]]) -> str:
    """``name=value; ...`` over morsels, in order, values as coded (no re-quoting)."""
    return "; ".join(f"{m.key}={m.coded_value}" for m in cookies)
