"""One request and its response: :class:`ClientRequest` builds and sends the head and body
on a :class:`~cyhttp.connector.Connection`; :class:`ClientResponse` wraps the parsed head and
the body stream and gives the connection back when the body is done.

The request head is built once, as one buffer, and written with the body in a single
``transport.write`` when the body is small bytes. Streaming bodies (file-like objects and
async iterables) are written by a task that respects the transport's flow control, so a
server may answer before the upload ends.

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

from ._models import HttpVersion, HttpVersion11, ResponseHead
from ._version import __version__
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
from .helpers import DONE, BasicAuth, Fingerprint, content_type_of, file_remaining, is_file_like
from .http_writer import LAST_CHUNK, REQUEST_CODINGS, BodyFramer, build_head, check_method
from .streams import EMPTY_PAYLOAD, StreamReader, supported_encodings

if TYPE_CHECKING:
    from http.cookies import Morsel, SimpleCookie

    from .formdata import FormData

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
_STREAM_PIECE = 2**16
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

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        headers: CIMultiDict[str],
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
    ) -> None:
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
        self.body: Any = None
        #: where a seekable file body starts (None: not a file, or one that cannot rewind)
        self._body_start: int | None = None
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
        )
        self._prepare_headers(skip_auto_headers, cookie_header)
        self._prepare_body(data, json_body, skip_auto_headers)
        # serialised (and validated) now: a bad header fails before any connection is made
        self._head = self._head_bytes()

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
        headers = self.headers
        ctype: str | None = None
        body: Any = None
        if json_body is not None:
            body = json_body
            ctype = "application/json"
        elif data is None:
            body = None
        elif isinstance(data, (bytes, bytearray, memoryview)):
            body = bytes(data)
            ctype = "application/octet-stream"
        elif isinstance(data, str):
            body = data.encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        elif is_file_like(data):  # before the forms: no formdata import for a file
            body = data
            ctype = "application/octet-stream"
            try:
                if hasattr(data, "seek") and data.seekable():
                    self._body_start = data.tell()
            except (AttributeError, OSError, ValueError):
                pass
        elif _is_async_iterable(data):
            body = data
            ctype = "application/octet-stream"
        elif (form := _as_form(data)) is not None:
            body, ctype, form_length = form()
            if (
                form_length is not None
                and not isinstance(body, bytes)
                and not (self.chunked or self.compress)
                and "Content-Length" not in headers
                and "Transfer-Encoding" not in headers
            ):
                headers["Content-Length"] = str(form_length)  # streamed, size known
        elif isinstance(data, (Mapping, MultiDict, MultiDictProxy)) or (
            isinstance(data, (list, tuple)) and all(isinstance(i, tuple) for i in data)
        ):
            items = list(data.items()) if hasattr(data, "items") else list(data)
            body = urlencode(items, doseq=False).encode("utf-8")
            ctype = "application/x-www-form-urlencoded"
        elif isinstance(data, Iterable):
            body = data  # a sync iterable of bytes pieces
            ctype = "application/octet-stream"
        else:
            raise TypeError(f"unsupported request body type {type(data).__name__}")
        self.body = body

        if (
            body is not None
            and ctype
            and "content-type" not in skip
            and "Content-Type" not in headers
        ):
            headers["Content-Type"] = ctype

        if self.compress:
            if "Content-Encoding" in headers:
                raise ValueError("compress can not be set if Content-Encoding header is set")
            self.compress = "deflate" if self.compress is True else self.compress
            if self.compress not in REQUEST_CODINGS:
                raise ValueError(
                    f"unsupported compress={self.compress!r}: use True (deflate), "
                    "'deflate' or 'gzip'"
                )
            headers["Content-Encoding"] = self.compress
            self.chunked = True  # the compressed length is unknown in advance

        te = headers.get("Transfer-Encoding", "").lower()
        if self.chunked:
            if "Content-Length" in headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            if te and "chunked" not in te:
                raise ValueError("chunked can not be set if Transfer-Encoding header is set")
            if not te:
                headers["Transfer-Encoding"] = "chunked"
            self.chunked = True
            return
        if "chunked" in te:
            if "Content-Length" in headers:
                raise ValueError("Transfer-Encoding chunked and Content-Length are exclusive")
            self.chunked = True
            return
        if "Content-Length" in headers:
            self.chunked = False
            return
        if body is None:
            if self.method in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = "0"
        elif isinstance(body, bytes):
            headers["Content-Length"] = str(len(body))
        elif is_file_like(body) and (size := file_remaining(body)) is not None:
            headers["Content-Length"] = str(size)
        else:
            headers["Transfer-Encoding"] = "chunked"
            self.chunked = True
            return
        self.chunked = False

    def is_replayable(self) -> bool:
        """True when the body can be sent again (stale-connection retry, 307/308): no
        body, bytes, or a file whose start position could be taken."""
        body = self.body
        return body is None or isinstance(body, bytes) or self._body_start is not None

    def rewind(self) -> None:
        """Put a file body back where it started (the other replayable bodies need not)."""
        if self._body_start is not None:
            self.body.seek(self._body_start)

    def request_info(self) -> RequestInfo:
        return RequestInfo(self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)

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
    ) -> ClientResponse:
        """Write the request on ``conn`` and wait for the response head.

        ``deadline`` (loop time) bounds everything from here to the end of the body.
        """
        proto = conn.protocol
        if proto is None:
            raise ClientConnectionError("connection is closed")
        head = self._head
        continue_waiter: asyncio.Future[None] | None = None
        informational = None
        if self.expect100 and self.body is not None:
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
        )
        body = self.body
        whole = (
            continue_waiter is None
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
            elif body is None:
                if self.chunked:
                    head += LAST_CHUNK
                proto.write(head)
            elif isinstance(body, bytes) and not self.chunked and not self.compress:
                proto.write(head)  # a large body: not copied to join it to the head
                proto.write(body)
            else:
                proto.write(head)
                response._writer = asyncio.ensure_future(self._write_body(proto))
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

    async def _write_after_continue(
        self, proto: ResponseHandler, waiter: asyncio.Future[None], head_future: asyncio.Future[Any]
    ) -> None:
        done, _ = await asyncio.wait((waiter, head_future), return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            await self._write_body(proto)

    async def _write_body(self, proto: ResponseHandler) -> None:
        body = self.body
        try:
            framer = BodyFramer(chunked=bool(self.chunked), compress=self.compress or None)
            if isinstance(body, bytes):
                out = framer.encode(body)
                if out:
                    proto.write(out)
            elif body is not None and is_file_like(body):
                while True:
                    piece = body.read(_STREAM_PIECE)
                    if asyncio.iscoroutine(piece):
                        piece = await piece
                    if not piece:
                        break
                    await _send_piece(proto, framer, piece)
            elif body is not None and _is_async_iterable(body):
                async for piece in body:
                    await _send_piece(proto, framer, piece)
            elif body is not None:
                for piece in body:
                    await _send_piece(proto, framer, piece)
            tail = framer.finish()
            if tail:
                proto.write(tail)
        except asyncio.CancelledError:
            raise
        except ClientConnectionResetError:
            pass  # written after the connection closed: the response side reports why
        except OSError as exc:
            proto._fail(ClientOSError(exc.errno, f"can not write request body: {exc}"), exc)
        except (ClientConnectionError, ClientResponseError):
            pass  # the connection already failed; the response side reports it
        except Exception as exc:
            # the user's body source failed: fail the request with its exception
            proto._fail(exc)


async def _send_piece(proto: ResponseHandler, framer: BodyFramer, piece: Any) -> None:
    """Write one piece of a streamed body (text as UTF-8), then wait for the transport's
    buffer to drain. A piece of any other type is refused, not converted (``bytes(3)``
    would be three NUL bytes)."""
    if isinstance(piece, str):
        piece = piece.encode("utf-8")
    elif isinstance(piece, (bytes, bytearray, memoryview)):
        piece = bytes(piece)
    else:
        raise TypeError(
            f"a request body piece must be bytes-like or str, got {type(piece).__name__}"
        )
    out = framer.encode(piece)
    if out:
        proto.write(out)
        await proto.drain()


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
    _writer: asyncio.Future[None] | None = None
    _deadline: LazyDeadline | None = None
    _closed = True
    _in_context = False
    _cookies: SimpleCookie | None = None
    _links: MultiDictProxy[MultiDictProxy[str | URL]] | None = None
    _output_size = 0
    _upload_complete: asyncio.Future[None] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        request: ClientRequest | None = None,
        session: Any = None,
        history: tuple[ClientResponse, ...] = (),
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.method = method
        self._url = url
        self._request = request
        self._session = session
        self._history = history
        self._loop = loop
        self._closed = False
        self._request_info: RequestInfo | None = None

    # ----- life cycle (driven by ClientRequest) -----

    def _attach(self, conn: Connection) -> None:
        self._connection = conn
        proto = conn.protocol
        assert proto is not None
        # weakly: an abandoned response must stay collectable (and warn) while in flight
        ref = weakref.ref(self)

        def done() -> None:
            resp = ref()
            if resp is not None:
                resp._on_body_done()
            elif conn.protocol is not None:
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
            and conn.protocol is not None
            and conn.protocol._upgraded
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
            proto = conn.protocol if conn is not None else None
            if proto is not None and not proto.should_close:
                writer.add_done_callback(self._on_writer_done)
                return
        timer = self._deadline
        if timer is not None:
            self._deadline = None
            timer.disarm(weakref.ref(self))
        conn = self._connection
        if conn is not None:
            self._keep_output_size(conn)
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
        proto = conn.protocol
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
        # imported on first use, not with the package (its patterns compile at import)
        from ._disposition import disposition_filename, parse_disposition

        disposition, params = parse_disposition(raw)
        return ContentDisposition(
            disposition, MappingProxyType(params), disposition_filename(params)
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
        return loads(_decode(body, encoding, "strict"))

    # ----- releasing -----

    def release(self) -> Any:
        """Give the connection back (pooled if the body was fully received, else closed).
        A body not read by then can no longer be (see :meth:`read`). Awaiting the result
        is allowed (it was a coroutine in aiohttp 2.x)."""
        self._closed = True
        self._drop_unread_body()
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
                self._closed = True
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


def _as_form(data: Any) -> FormData | None:
    """``data`` as the FormData to send as multipart/form-data, or None when it is not a
    form. formdata (and mimetypes) are imported here, on first use, not with the package."""
    from .formdata import FormData, needs_multipart

    if isinstance(data, FormData):
        return data
    if needs_multipart(data):
        return FormData(data)
    return None


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
