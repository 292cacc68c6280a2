"""A queue of parsed items for one consumer (aiohttp's ``DataQueue``, ``FlowControlDataQueue``
and ``EofStream``).

cyhttp's own readers do not need these (the WebSocket reader has its own queue); they are
here for programs and libraries written against aiohttp 3.x that build a queue themselves,
feed it from a protocol and read it with ``await queue.read()`` or ``async for``.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

__all__ = ("DataQueue", "EofStream", "FlowControlDataQueue")

_T = TypeVar("_T")


class EofStream(Exception):
    """Raised by :meth:`DataQueue.read` once the queue is empty and was ended."""


class DataQueue(Generic[_T]):
    """Items fed by a producer, read one at a time (oldest first) by a single consumer.

    ``read()`` waits for an item; after :meth:`feed_eof` and the last item it raises
    :class:`EofStream`, after :meth:`set_exception` it raises that exception (items already
    queued are still read first)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._buffer: collections.deque[tuple[_T, int]] = collections.deque()

    def __len__(self) -> int:
        return len(self._buffer)

    def is_eof(self) -> bool:
        """The producer has ended the queue (items may still be waiting)."""
        return self._eof

    def at_eof(self) -> bool:
        """Ended and empty: the next ``read()`` raises."""
        return self._eof and not self._buffer

    def exception(self) -> BaseException | None:
        return self._exception

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        """End the queue with an error; ``exc_cause`` becomes its ``__cause__``."""
        self._eof = True
        self._exception = exc
        if exc_cause is not None and exc.__cause__ is None:
            exc.__cause__ = exc_cause
        self._wake(exc)

    def feed_data(self, data: _T, size: int = 0) -> None:
        """Queue an item (``size``: its weight for flow control, see the subclass)."""
        self._buffer.append((data, size))
        self._wake(None)

    def feed_eof(self) -> None:
        self._eof = True
        self._wake(None)

    async def read(self) -> _T:
        """The next item; waits for one. EofStream when ended and empty."""
        if not self._buffer and not self._eof:
            if self._waiter is not None:
                raise RuntimeError("DataQueue.read() called while another read is waiting")
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._buffer:
            data, size = self._buffer.popleft()
            self._consumed(size)
            return data
        if self._exception is not None:
            raise self._exception
        raise EofStream

    def __aiter__(self) -> AsyncIterator[_T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[_T]:
        while True:
            try:
                item = await self.read()
            except EofStream:
                return
            yield item

    def _consumed(self, size: int) -> None:
        """An item of weight ``size`` left the queue (the subclass resumes its producer)."""

    def _wake(self, exc: BaseException | None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)


class FlowControlDataQueue(DataQueue[_T]):
    """A :class:`DataQueue` that pauses its protocol's reading while the queued items
    weigh more than ``limit`` (the ``size`` given with each), and resumes it once the
    consumer has brought the weight back under the limit."""

    def __init__(self, protocol: Any, limit: int, *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._protocol = protocol
        self._limit = limit
        self._size = 0
        self._paused = False

    def feed_data(self, data: _T, size: int = 0) -> None:
        super().feed_data(data, size)
        self._size += size
        if self._size > self._limit and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    def _consumed(self, size: int) -> None:
        self._size -= size
        if self._paused and self._size < self._limit:
            self._paused = False
            self._protocol.resume_reading()
