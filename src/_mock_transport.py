"""The in-memory wire behind :mod:`cyhttp.testing`.

A mocked request still goes through the real client: the session builds and writes the
request on a real :class:`~cyhttp.client_proto.ResponseHandler`, and the answer comes back
as raw HTTP/1.1 bytes fed to that protocol's ``data_received``. Only the socket is fake:
:class:`MockTransport` collects what the client writes, notices (with
:class:`RequestReader`) when a whole request has arrived, asks a responder for the answer's
bytes and feeds them back, honouring the reader's flow control. :func:`response_bytes`
serialises an answer the way a server would put it on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .client_exceptions import ClientConnectionError
from .client_proto import ResponseHandler
from .http_writer import build_head

__all__ = ("MockTransport", "RequestReader", "SentRequest", "response_bytes")

#: what the mock server sends when a request asks for ``Expect: 100-continue``
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: answers are fed to the protocol in pieces of this size (as reads from a socket would be)
FEED_SIZE = 2**16
_NO_BODY_STATUSES = frozenset((204, 304))


@dataclass(frozen=True)
class SentRequest:
    """One request as it reached the (mock) wire: after middlewares, with the cookies,
    auth and automatic headers the session added; the body is de-chunked but otherwise as
    sent (still compressed when ``compress=`` was used)."""

    method: str
    url: URL
    headers: CIMultiDictProxy[str]
    body: bytes


class RequestReader:
    """Incrementally reads one HTTP/1.1 request (head, then a Content-Length or chunked
    body) from the bytes a client writes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self.method = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self._head_done = False
        self._chunked = False
        self._remaining = 0  # body bytes still expected (Content-Length framing)
        self._in_trailers = False
        self.body = bytearray()
        self.complete = False

    @property
    def expects_continue(self) -> bool:
        """Whether the client waits for ``100 Continue`` before sending its body."""
        has_body = self._chunked or self._remaining > 0
        return has_body and self.headers.get("Expect", "").lower() == "100-continue"

    def feed(self, data: bytes) -> bool:
        """Take more bytes; True once the head has just been read (the caller may answer
        ``100 Continue``). :attr:`complete` tells when the whole request is in."""
        if self.complete:
            return False
        self._buf += data
        head_now = False
        if not self._head_done:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._parse_head(bytes(self._buf[:end]))
            self._pos = end + 4
            head_now = True
        if self._chunked:
            self._read_chunks()
        else:
            self._read_sized()
        return head_now

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("utf-8", "surrogateescape").split("\r\n")
        self.method = lines[0].split(" ", 1)[0]
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.add(name.strip(), value.strip())
        self._head_done = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._chunked = True
        else:
            self._remaining = int(self.headers.get("Content-Length", "0") or 0)

    def _read_sized(self) -> None:
        take = self._buf[self._pos : self._pos + self._remaining]
        self.body += take
        self._remaining -= len(take)
        del self._buf[:]
        self._pos = 0
        if self._remaining <= 0:
            self.complete = True

    def _read_chunks(self) -> None:
        buf = self._buf
        while not self.complete:
            eol = buf.find(b"\r\n", self._pos)
            if eol < 0:
                break
            line = bytes(buf[self._pos : eol])
            if self._in_trailers:
                self._pos = eol + 2
                if not line:
                    self.complete = True
                continue
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                self._pos = eol + 2
                self._in_trailers = True
                continue
            end = eol + 2 + size
            if len(buf) < end + 2:
                break  # the chunk is not all here yet
            self.body += buf[eol + 2 : end]
            self._pos = end + 2
        del buf[: self._pos]
        self._pos = 0


def response_bytes(
    method: str, status: int, reason: str, headers: CIMultiDict[str], body: bytes
) -> bytes:
    """An HTTP/1.1 response as a server writes it: ``Content-Length`` is added unless the
    headers already frame the body (a ``Transfer-Encoding: chunked`` one is chunked here);
    a HEAD, 204 or 304 answer carries no body bytes."""
    out = CIMultiDict(headers)
    no_body = method == "HEAD" or status in _NO_BODY_STATUSES or status < 200
    chunked = "chunked" in out.get("Transfer-Encoding", "").lower()
    if not chunked and "Content-Length" not in out and status != 204 and status >= 200:
        out["Content-Length"] = str(len(body))
    if no_body:
        body = b""
    elif chunked:
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    status_line = f"HTTP/1.1 {status} {reason}".rstrip(" ")
    return build_head(status_line, list(out.items())) + body


#: the responder a :class:`MockTransport` asks for the answer to a complete request:
#: it returns the raw response, or raises the exception the request must fail with
Responder = Callable[[SentRequest], Awaitable[bytes]]


class MockTransport(asyncio.Transport):
    """A socket that is a mock server: requests written to it are answered by a responder,
    whose bytes go to the protocol as they would from the network."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        protocol: ResponseHandler,
        url: URL,
        responder: Responder,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._url = url
        self._responder = responder
        self._reader = RequestReader()
        self._closing = False
        self._paused = False
        self._resumed: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        protocol.connection_made(self)

    # ----- what the client writes -----

    def write(self, data: Any) -> None:
        if self._closing:
            return
        reader = self._reader
        if reader.complete:
            return  # nothing is pipelined on a mock connection
        try:
            head_now = reader.feed(bytes(data))
        except ValueError as exc:  # a framing header the mock server cannot read
            failure = ClientConnectionError(f"the mock server could not read the request: {exc}")
            self._loop.call_soon(self._protocol._fail, failure)
            self._reader = RequestReader()  # whatever follows is ignored
            self._reader.complete = True
            return
        if head_now and reader.expects_continue:
            self._loop.call_soon(self._deliver, CONTINUE)
        if reader.complete:
            sent = SentRequest(
                reader.method, self._url, CIMultiDictProxy(reader.headers), bytes(reader.body)
            )
            self._task = self._loop.create_task(self._serve(sent))

    def _deliver(self, data: bytes) -> None:
        if not self._closing:
            self._protocol.data_received(data)

    async def _serve(self, sent: SentRequest) -> None:
        """Ask for the answer, then feed it; an exception fails the request instead."""
        try:
            raw = await self._responder(sent)
        except BaseException as exc:
            if not self._closing:
                self._protocol._fail(exc)
            elif isinstance(exc, asyncio.CancelledError):
                raise  # the connection was dropped, which cancelled this task
            return  # (a failure after the client gave up has nobody to go to)
        # one request per mock connection: it is closed, never pooled, once released
        self._protocol.should_close = True
        await self._feed(raw)

    async def _feed(self, raw: bytes) -> None:
        view = memoryview(raw)
        for start in range(0, len(raw), FEED_SIZE):
            if start:
                await asyncio.sleep(0)  # let the reader run between "reads"
            while self._paused and not self._closing:
                self._resumed = self._loop.create_future()
                await self._resumed
            if self._closing:
                return
            self._protocol.data_received(bytes(view[start : start + FEED_SIZE]))

    # ----- asyncio.Transport -----

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        if self._closing:
            return
        self._closing = True
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self._wake_feeder()
        if self._loop.is_closed():  # dropped while being garbage-collected after the loop
            self._protocol.connection_lost(None)
        else:
            self._loop.call_soon(self._protocol.connection_lost, None)

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        self._wake_feeder()

    def _wake_feeder(self) -> None:
        waiter = self._resumed
        if waiter is not None:
            self._resumed = None
            if not waiter.done():
                waiter.set_result(None)

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return (self._url.raw_host, self._url.port)
        return default
