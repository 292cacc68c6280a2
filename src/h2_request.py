"""Sending a :class:`~cyhttp.client_reqrep.ClientRequest` on an HTTP/2 stream.

:meth:`ClientRequest.send` hands over here when the connection it was given is an
:class:`~cyhttp.h2_protocol.H2Stream`. The request was prepared for HTTP/1.1 (headers,
body, framing): its header list becomes HTTP/2 fields (pseudo-headers from the method and
URL, ``Host`` as ``:authority``, hop-by-hop fields dropped), and its body is sent as DATA
frames within the flow-control windows, by a task, so that the server may answer before
the upload ends. What comes back is the same :class:`~cyhttp.client_reqrep.ClientResponse`
the HTTP/1.1 path makes, with ``version`` ``HttpVersion(2, 0)``.

``Expect: 100-continue`` is not waited for: the body follows the head at once (a server
that refuses it resets the stream or answers early, and the upload stops).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any

from multidict import getversion

from ._h2_headers import strip_connection_headers
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientResponseError,
)
from .http_writer import BodyFramer, body_piece

if TYPE_CHECKING:
    from .client_reqrep import ClientRequest, ClientResponse
    from .connector import Connection
    from .h2_protocol import H2Stream

__all__ = ("send_h2",)


#: the translation of a header list built for HTTP/1.1, for one method and scheme: the
#: pseudo-headers before ``:path`` when they do not depend on the URL (a ``Host`` header
#: gives ``:authority``; else None), the regular fields, the Host header's value or None,
#: and the size of the two lists as HTTP/1.1 would count it
Translation = tuple[
    "list[tuple[bytes, bytes]] | None", list[tuple[bytes, bytes]], "bytes | None", int
]
#: distinct header lists remembered per connection (:attr:`H2Protocol.fields_cache`), and
#: request templates (:attr:`H2Protocol.fields_memo`)
FIELDS_CACHE_SIZE = 64
_PATH_SIZE = len(b":path") + 4  # what ``:path`` adds to the size besides its value


def h2_fields(
    req: ClientRequest,
    cache: dict[Any, Translation] | None = None,
    memo: dict[int, Any] | None = None,
) -> tuple[list[tuple[bytes, bytes]], int]:
    """The HTTP/2 header list of ``req`` (see the module docstring): the pseudo-headers
    from its method and URL, then its headers without the HTTP/1.1-only ones, as
    lower-case bytes (``H2Connection.send_request`` still checks every field).

    The requests of a session mostly send the same header list (its default headers,
    ``Host`` among them) with the same method: ``cache`` (one per connection, like the
    HPACK table that holds these fields anyway) maps a list already seen, with its method
    and scheme, to its translation, so only ``:path`` is built per request. Also returns
    the list's size before compression (what HTTP/1.1 would have written: name, colon,
    space, value and CRLF per field).

    ``memo`` (also one per connection) goes further for the session's request templates,
    which are sent again as they are: the same header object, unchanged since (its
    multidict version), with the same method and URL object gets the very list it got
    last time, which is therefore not to be changed."""
    headers: Any = req.headers  # (getversion is typed for MultiDict[object] only)
    method = req.method
    url = req.url
    if memo is not None:
        seen = memo.get(id(headers))  # held with its header object: the id stays its own
        if (
            seen is not None
            and seen[0] is headers
            and seen[1] is url
            and seen[2] == method
            and seen[3] == getversion(headers)
        ):
            return seen[4], seen[5]
    fields, size = _fields(headers, method, url, cache)
    if memo is not None:
        if len(memo) >= FIELDS_CACHE_SIZE:
            memo.clear()
        memo[id(headers)] = (headers, url, method, getversion(headers), fields, size)
    return fields, size


def _fields(
    headers: Any, method: str, url: Any, cache: dict[Any, Translation] | None
) -> tuple[list[tuple[bytes, bytes]], int]:
    """:func:`h2_fields` without its memo of request templates."""
    items = tuple(headers.items())
    key = (items, method, url.scheme)
    entry = cache.get(key) if cache is not None else None
    if entry is None:
        entry = _translate(items, method, url.scheme)
        if cache is not None:
            if len(cache) >= FIELDS_CACHE_SIZE:
                cache.clear()  # header lists that vary per request: no point keeping them
            cache[key] = entry
    head, fields, host, size = entry
    if head is None:  # :authority from the URL, or a CONNECT request
        pseudo = _pseudo(method, url, host)
        for name, value in pseudo:
            size += len(name) + len(value) + 4
        return pseudo + fields, size
    path = (url.raw_path_qs or "/").encode()
    return [*head, (b":path", path), *fields], size + len(path) + _PATH_SIZE


def _pseudo(method: str, url: Any, host: bytes | None) -> list[tuple[bytes, bytes]]:
    """The pseudo-headers of a request (RFC 9113 section 8.3.1; CONNECT: section 8.5)."""
    authority = host if host is not None else (url.host_port_subcomponent or "").encode()
    if method == "CONNECT":
        return [(b":method", method.encode()), (b":authority", authority)]
    return [
        (b":method", method.encode()),
        (b":scheme", url.scheme.encode()),
        (b":authority", authority),
        (b":path", (url.raw_path_qs or "/").encode()),
    ]


def _translate(items: tuple[tuple[str, str], ...], method: str, scheme: str) -> Translation:
    """The fields after the pseudo-headers: no ``Expect`` (the body follows at once), no
    hop-by-hop field, ``Host`` kept aside (it becomes ``:authority``: the last one wins,
    as in HTTP/1.1); and the pseudo-headers before ``:path`` when ``Host`` gives them."""
    fields: list[tuple[bytes, bytes]] = []
    host: bytes | None = None
    size = 0
    for name, value in strip_connection_headers(items):
        lower = name.lower()
        if lower == "expect":
            continue
        if lower == "host":
            host = value.encode()
            continue
        field = (lower.encode(), value.encode())
        fields.append(field)
        size += len(field[0]) + len(field[1]) + 4
    head = None
    if host is not None and method != "CONNECT":
        head = [(b":method", method.encode()), (b":scheme", scheme.encode()), (b":authority", host)]
        for name, value in head:
            size += len(name) + len(value) + 4
    return head, fields, host, size


async def send_h2(
    req: ClientRequest,
    conn: Connection,
    response_class: type[ClientResponse],
    deadline: float | None,
    *,
    session: Any = None,
    history: tuple[ClientResponse, ...] = (),
    loop: asyncio.AbstractEventLoop | None = None,
    traces: list[Any] | None = None,
) -> ClientResponse:
    """Send ``req`` on the stream ``conn`` holds and wait for the response head (what
    :meth:`ClientRequest.send` does on HTTP/1.1)."""
    stream: H2Stream = conn._protocol  # type: ignore[assignment]
    try:
        owner = stream.owner
        fields, size = h2_fields(req, owner.fields_cache, owner.fields_memo)
    except ValueError as exc:
        conn.close()
        raise ClientConnectionError(f"the request cannot be sent over HTTP/2: {exc}") from exc
    body = req._body
    head_future = stream.start(
        req.method,
        auto_decompress=req.auto_decompress,
        read_timeout=req.sock_read,
        max_decompressed_size=req.max_decompressed_size,
        read_bufsize=req.read_bufsize,
    )
    response = response_class(
        req.method, req.original_url, request=req, session=session, history=history, loop=loop
    )
    response._attach(conn)
    if deadline is not None:
        timer = response._deadline = stream.deadline
        expired = _expired if _expired is not None else _deadline_expired()
        timer.arm(deadline, expired, weakref.ref(response))
    tracker = req._upload_tracker
    try:
        stream.open(fields, end_stream=body is None, size=size)
        inline = False
        if body is None:
            if tracker is not None:
                tracker._attempt_finished(req._upload_attempt)
        else:
            if traces:
                req._traces = traces
            inline = isinstance(body, bytes) and not req.compress and _send_now(stream, body)
            if inline:
                if tracker is not None:
                    _H2Progress.track_whole(req, len(body))
            else:
                writer = asyncio.ensure_future(_write_body(req, stream))
                response._writer = writer
                if tracker is not None:
                    _H2Progress.track_writer(req, writer)
        if traces:
            response._traces = req._traces = traces
            await req._trace_sent(traces, inline)
        parsed = await head_future
    except ClientResponseError as exc:
        response._abort()
        if exc.request_info is None:
            exc.request_info = req.request_info()
        raise
    except BaseException:
        response._abort()
        raise
    response._start(parsed)
    return response


def _deadline_expired() -> Any:
    """``client_reqrep._deadline_expired`` (imported once: that module imports this one)."""
    global _expired
    if _expired is None:
        from .client_reqrep import _deadline_expired as expired

        _expired = expired
    return _expired


_expired: Any = None


def _send_now(stream: H2Stream, body: bytes) -> bool:
    """Send a bytes body at once when the windows take all of it (the usual small
    POST): no writer task. False (nothing sent) when it must wait for the peer."""
    conn = stream.owner.conn
    if len(body) > conn.local_flow_control_window(stream.stream_id):
        return False
    conn.send_data(stream.stream_id, body, end_stream=True)
    stream.output_size += len(body)
    stream.local_done = True
    stream.owner.flush_soon()
    return True


async def _write_body(req: ClientRequest, stream: H2Stream) -> None:
    """Write the body of ``req`` as DATA frames, then END_STREAM. Compression and the
    Content-Length check are the HTTP/1.1 path's (:class:`BodyFramer`), without chunked
    framing: HTTP/2 frames the body itself."""
    body = req._body
    try:
        framer = BodyFramer(
            chunked=False,
            compress=req.compress or None,
            length=None if req.chunked else req._length,
        )
        progress = _H2Progress.of(req)
        if isinstance(body, bytes):
            out = framer.encode(body)
            await stream.send_body(out + framer.finish(), True)
            if progress is not None:
                progress.sent(len(body))
            if req._traces and body:
                await req._trace_chunk(body)
        else:
            await body.write(_H2BodyWriter(stream, framer, req if req._traces else None, progress))
            await stream.send_body(framer.finish(), True)
        if progress is not None:
            progress.finished()
    except asyncio.CancelledError:
        raise
    except (ClientConnectionResetError, ClientConnectionError, ClientResponseError) as exc:
        # the stream or connection already failed: the response side reports it
        req._upload_failed(exc)
    except Exception as exc:
        # the user's body source failed, or did not match its Content-Length: fail the
        # request with that exception (and reset the stream)
        req._upload_failed(exc)
        stream._fail(exc)


class _H2BodyWriter:
    """The writer a :class:`~cyhttp.payload.Payload` writes into (the subset of aiohttp's
    ``AbstractStreamWriter`` payloads use): each piece goes out as DATA frames."""

    __slots__ = ("_framer", "_progress", "_stream", "_traced")

    def __init__(
        self,
        stream: H2Stream,
        framer: BodyFramer,
        traced: ClientRequest | None,
        progress: _H2Progress | None = None,
    ) -> None:
        self._stream = stream
        self._framer = framer
        self._traced = traced
        self._progress = progress

    async def write(self, chunk: Any) -> None:
        chunk = body_piece(chunk)
        out = self._framer.encode(chunk)
        if out:
            await self._stream.send_body(out, False)
        if self._progress is not None:
            self._progress.sent(len(chunk))
        if self._traced is not None and chunk:
            await self._traced._trace_chunk(chunk)

    async def drain(self) -> None:
        await self._stream.owner.drain()

    async def write_eof(self, chunk: bytes = b"") -> None:
        if chunk:
            await self.write(chunk)


class _H2Progress:
    """An upload tracker's view of a body sent as DATA frames. The tracker reads what a
    connection has written and how much still waits in its transport; here a piece
    counts as written once the HTTP/2 connection took it (its flow-control windows
    already hold back what the peer cannot take), so nothing waits."""

    __slots__ = ("_attempt", "_tracker", "output_size")

    def __init__(self, req: ClientRequest) -> None:
        tracker = req._upload_tracker
        assert tracker is not None
        self._tracker = tracker
        self._attempt = req._upload_attempt
        self.output_size = 0
        tracker._attempt_writing(self._attempt, self)

    @classmethod
    def of(cls, req: ClientRequest) -> _H2Progress | None:
        return cls(req) if req._upload_tracker is not None else None

    @classmethod
    def track_whole(cls, req: ClientRequest, size: int) -> None:
        """A body sent at once with the headers."""
        progress = cls(req)
        progress.sent(size)
        progress.finished()

    @staticmethod
    def track_writer(req: ClientRequest, writer: asyncio.Future[None]) -> None:
        """A writer task that ends without finishing or failing was cut short."""
        tracker, attempt = req._upload_tracker, req._upload_attempt
        assert tracker is not None
        writer.add_done_callback(lambda _: tracker._writer_done(attempt))

    @property
    def transport(self) -> _H2Progress:
        return self

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def sent(self, size: int) -> None:
        self.output_size += size
        self._tracker._add_bytes(self._attempt, size, self.output_size)

    def finished(self) -> None:
        self._tracker._attempt_finished(self._attempt)
