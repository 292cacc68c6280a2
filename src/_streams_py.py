"""The pure-Python twin of :mod:`cyhttp._streams`: the core of the body buffer.

:class:`~cyhttp.streams.StreamReader` is built on :class:`StreamCore`, which holds its state
and the steps that run for every response (made, fed, finished, read at once); the waiting
reads stay in :mod:`cyhttp.streams`. :mod:`cyhttp._compat` picks the compiled core or this
twin; both behave identically.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Protocol

__all__ = ("DEFAULT_LIMIT", "StreamCore")

#: Default flow-control window: pause above 2*LIMIT buffered bytes, resume below LIMIT.
DEFAULT_LIMIT = 2**17


class _FlowControl(Protocol):
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...


class StreamCore:
    """The state of a :class:`~cyhttp.streams.StreamReader` and the steps that run for every
    response: construction, feeding, end of body, and taking buffered bytes."""

    __slots__ = (
        "_buffer",
        "_chunk_ends",
        "_consumed",
        "_eof",
        "_eof_waiters",
        "_exception",
        "_high",
        "_loop",
        "_low",
        "_offset",
        "_paused",
        "_protocol",
        "_read_all",
        "_size",
        "_total",
        "_waiter",
        "total_compressed_bytes",
    )

    def __init__(
        self,
        protocol: _FlowControl | None = None,
        limit: int = DEFAULT_LIMIT,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._protocol = protocol
        self._low = limit
        self._high = limit * 2
        self._loop = loop
        self._buffer: collections.deque[bytes] = collections.deque()
        self._offset = 0  # bytes of buffer[0] already read
        self._size = 0  # bytes buffered
        self._total = 0  # bytes ever fed
        self._consumed = 0  # bytes ever handed out
        self._eof = False
        self._paused = False
        self._read_all = False  # read(-1) in progress: wake only at EOF, never pause
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiters: list[asyncio.Future[None]] = []
        self._exception: BaseException | None = None
        self._chunk_ends: collections.deque[int] = collections.deque()
        #: body bytes received before decompression (None: the body was not compressed)
        self.total_compressed_bytes: int | None = None

    # ----- producer side (the protocol) -----

    @property
    def total_bytes(self) -> int:
        return self._total

    @property
    def total_raw_bytes(self) -> int:
        """Body bytes as received: before decompression when the body was compressed."""
        compressed = self.total_compressed_bytes
        return self._total if compressed is None else compressed

    @property
    def paused(self) -> bool:
        """True while the reader holds more than its high-water mark."""
        return self._paused

    def exception(self) -> BaseException | None:
        return self._exception

    def set_exception(self, exc: BaseException) -> None:
        """Fail the stream: every pending and future read raises ``exc``."""
        self._exception = exc
        self._eof_waiters_done()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_exception(exc)

    def feed_data(self, data: bytes) -> None:
        if not data:
            return
        self._buffer.append(data)
        n = len(data)
        self._size += n
        self._total += n
        if self._read_all:
            return
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self._size > self._high and not self._paused and self._protocol is not None:
            self._paused = True
            self._protocol.pause_reading()

    def end_http_chunk(self) -> None:
        """Mark the end of one chunk of a chunked body, for :meth:`iter_chunks`."""
        pos = self._total
        if self._chunk_ends and self._chunk_ends[-1] == pos:
            return
        if pos == self._consumed and not self._chunk_ends:
            # nothing of this chunk reached the reader (empty decoded output): no boundary
            return
        self._chunk_ends.append(pos)
        waiter = self._waiter
        if waiter is not None and not self._read_all:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def feed_eof(self) -> None:
        self._eof = True
        # a finished body needs no flow control, and the protocol may serve another response
        self._protocol = None
        self._paused = False
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self._eof_waiters:  # checked here too: no call for the usual response
            self._eof_waiters_done()

    def _eof_waiters_done(self) -> None:
        if not self._eof_waiters:
            return  # the usual case: no new list per response
        waiters, self._eof_waiters = self._eof_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def is_eof(self) -> bool:
        """True once the producer said the body is complete (data may still be buffered)."""
        return self._eof

    def at_eof(self) -> bool:
        """True when the body is complete and everything has been read."""
        return self._eof and not self._buffer

    # ----- taking bytes (the consumer side builds on these) -----

    def _took(self, n: int) -> None:
        self._size -= n
        self._consumed += n
        if self._paused and self._size < self._low:
            self._paused = False
            if self._protocol is not None:
                self._protocol.resume_reading()

    def _take_first(self) -> bytes:
        data = self._buffer.popleft()
        offset = self._offset
        if offset:
            data = data[offset:]
            self._offset = 0
        self._took(len(data))
        return data

    def _take(self, n: int) -> bytes:
        """Remove and return up to ``n`` bytes from the head of the buffer.

        The first piece is consumed by moving :attr:`_offset`, not by slicing off what
        was read: many small reads from one big piece stay linear.
        """
        buffer = self._buffer
        first = buffer[0]
        offset = self._offset
        avail = len(first) - offset
        if n < avail:
            data = first[offset : offset + n]
            self._offset = offset + n
        elif n == avail or len(buffer) == 1:
            return self._take_first()
        else:
            parts = [buffer.popleft()[offset:] if offset else buffer.popleft()]
            self._offset = 0
            left = n - avail
            while buffer and left:
                head = buffer[0]
                if len(head) <= left:
                    parts.append(buffer.popleft())
                    left -= len(head)
                else:
                    parts.append(head[:left])
                    self._offset = left
                    left = 0
            data = b"".join(parts)
        self._took(len(data))
        return data

    def _take_all(self) -> bytes:
        buffer = self._buffer
        offset = self._offset
        self._offset = 0
        if len(buffer) == 1:
            data = buffer.popleft()
            if offset:
                data = data[offset:]
        else:
            first = buffer.popleft()
            buffer.appendleft(first[offset:] if offset else first)
            data = b"".join(buffer)
            buffer.clear()
        self._took(len(data))
        return data

    def _check(self) -> None:
        if self._exception is not None:
            raise self._exception

    def read_nowait(self, n: int = -1) -> bytes:
        """Whatever is buffered (up to ``n`` bytes), without waiting."""
        if self._exception is not None:  # _check(), inlined: once per response.read()
            raise self._exception
        if self._waiter is not None:
            raise RuntimeError("read_nowait() called while another coroutine is waiting")
        if not self._buffer:
            return b""
        return self._take_all() if n < 0 else self._take(n)
