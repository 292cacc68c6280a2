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

from .client_exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientResponseError,
)
from .h2_connection import request_headers_for
from .http_writer import BodyFramer

if TYPE_CHECKING:
    from .client_reqrep import ClientRequest, ClientResponse
    from .connector import Connection
    from .h2_protocol import H2Stream

__all__ = ("send_h2",)


def h2_fields(req: ClientRequest) -> list[tuple[str, str]]:
    """The HTTP/2 header list of ``req`` (see the module docstring)."""
    items = [(name, value) for name, value in req.headers.items() if name.lower() != "expect"]
    return request_headers_for(req.method, req.url, items)


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
    from .client_reqrep import _deadline_expired

    stream: H2Stream = conn.protocol  # type: ignore[assignment]
    try:
        fields = h2_fields(req)
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
        timer.arm(deadline, _deadline_expired, weakref.ref(response))
    tracker = req._upload_tracker
    try:
        stream.open(fields, end_stream=body is None)
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
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        elif isinstance(chunk, (bytes, bytearray, memoryview)):
            chunk = bytes(chunk)
        else:
            raise TypeError(
                f"a request body piece must be bytes-like or str, got {type(chunk).__name__}"
            )
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
