# cython: language_level=3, wraparound=True
"""The compiled core of the body buffer: the same behaviour as :mod:`cyhttp._streams_py`.

Every response makes a reader, feeds it, ends it and (``response.read()``) takes its bytes
at once; in Python that is several interpreted calls per response. Here they are C code,
with the buffer's counters and flags as typed attributes. The waiting reads stay Python in
:mod:`cyhttp.streams` (``StreamReader`` subclasses this core), so the attributes they use
are ``public``, and the steps they call (``_take``, ``_took``, ...) stay callable from Python.
"""

cimport cython

import collections

#: the pure twin's value too (tests/test_streams_twins.py checks both): defined here so that
#: a compiled run never imports the pure twin
DEFAULT_LIMIT = 2**17

__all__ = ("DEFAULT_LIMIT", "StreamCore")

cdef object _deque = collections.deque


@cython.embedsignature(False)
cdef class StreamCore:
    # the docstrings of the class and of __init__ start with the signature in the form
    # ``inspect`` reads from an extension type (it has no other): keep them in step with
    # __init__'s parameters and DEFAULT_LIMIT
    "StreamCore(protocol=None, limit=131072, *, loop=None)\n--\n\nThe state of a StreamReader and the steps that run for every response: construction, feeding, end of body, and taking buffered bytes."

    cdef public object _protocol
    cdef public object _low
    cdef public object _high
    cdef public object _loop
    cdef public object _buffer
    cdef public Py_ssize_t _offset  # bytes of buffer[0] already read
    cdef public Py_ssize_t _size  # bytes buffered
    cdef public long long _total  # bytes ever fed
    cdef public long long _consumed  # bytes ever handed out
    cdef public bint _eof
    cdef public bint _paused
    cdef public bint _read_all  # read(-1) in progress: wake only at EOF, never pause
    cdef public object _waiter
    cdef public list _eof_waiters
    cdef public object _exception
    cdef public object _chunk_ends
    #: body bytes received before decompression (None: the body was not compressed)
    cdef public object total_compressed_bytes

    def __init__(self, protocol=None, limit=DEFAULT_LIMIT, *, loop=None):
        "__init__($self, /, protocol=None, limit=131072, *, loop=None)\n--\n\nPause ``protocol`` above ``2 * limit`` buffered bytes, resume it below ``limit``."
        self._protocol = protocol
        self._low = limit
        self._high = limit * 2
        self._loop = loop
        self._buffer = _deque()
        self._offset = 0
        self._size = 0
        self._total = 0
        self._consumed = 0
        self._eof = False
        self._paused = False
        self._read_all = False
        self._waiter = None
        self._eof_waiters = []
        self._exception = None
        self._chunk_ends = _deque()
        self.total_compressed_bytes = None

    # ----- producer side (the protocol) -----

    @property
    def total_bytes(self):
        return self._total

    @property
    def total_raw_bytes(self):
        """Body bytes as received: before decompression when the body was compressed."""
        compressed = self.total_compressed_bytes
        return self._total if compressed is None else compressed

    @property
    def paused(self):
        """True while the reader holds more than its high-water mark."""
        return self._paused

    def exception(self):
        return self._exception

    def set_exception(self, exc):
        """Fail the stream: every pending and future read raises ``exc``."""
        self._exception = exc
        self._eof_waiters_now()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_exception(exc)

    def feed_data(self, data):
        if not data:
            return
        self._buffer.append(data)
        cdef Py_ssize_t n = len(data)
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

    def end_http_chunk(self):
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

    def feed_eof(self):
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
            self._eof_waiters_now()

    def _eof_waiters_done(self):
        self._eof_waiters_now()

    cdef void _eof_waiters_now(self) except *:
        if not self._eof_waiters:
            return  # the usual case: no new list per response
        waiters, self._eof_waiters = self._eof_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def is_eof(self):
        """True once the producer said the body is complete (data may still be buffered)."""
        return self._eof

    def at_eof(self):
        """True when the body is complete and everything has been read."""
        return self._eof and not self._buffer

    # ----- taking bytes (the consumer side builds on these) -----

    def _took(self, Py_ssize_t n):
        self._took_now(n)

    cdef void _took_now(self, Py_ssize_t n) except *:
        self._size -= n
        self._consumed += n
        if self._paused and self._size < self._low:
            self._paused = False
            if self._protocol is not None:
                self._protocol.resume_reading()

    def _take_first(self):
        return self._take_first_now()

    cdef object _take_first_now(self):
        data = self._buffer.popleft()
        cdef Py_ssize_t offset = self._offset
        if offset:
            data = data[offset:]
            self._offset = 0
        self._took_now(len(data))
        return data

    def _take(self, Py_ssize_t n):
        """Remove and return up to ``n`` bytes from the head of the buffer.

        The first piece is consumed by moving :attr:`_offset`, not by slicing off what
        was read: many small reads from one big piece stay linear.
        """
        return self._take_now(n)

    cdef object _take_now(self, Py_ssize_t n):
        buffer = self._buffer
        first = buffer[0]
        cdef Py_ssize_t offset = self._offset
        cdef Py_ssize_t avail = len(first) - offset
        cdef Py_ssize_t left
        if n < avail:
            data = first[offset : offset + n]
            self._offset = offset + n
        elif n == avail or len(buffer) == 1:
            return self._take_first_now()
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
        self._took_now(len(data))
        return data

    def _take_all(self):
        return self._take_all_now()

    cdef object _take_all_now(self):
        buffer = self._buffer
        cdef Py_ssize_t offset = self._offset
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
        self._took_now(len(data))
        return data

    def _check(self):
        if self._exception is not None:
            raise self._exception

    def read_nowait(self, Py_ssize_t n=-1):
        """Whatever is buffered (up to ``n`` bytes), without waiting."""
        if self._exception is not None:
            raise self._exception
        if self._waiter is not None:
            raise RuntimeError("read_nowait() called while another coroutine is waiting")
        if not self._buffer:
            return b""
        return self._take_all_now() if n < 0 else self._take_now(n)
