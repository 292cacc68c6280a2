# cython: language_level=3
"""The compiled core of the per-connection HTTP/1.1 protocol (see :mod:`cyhttp.client_proto`).

The same behaviour as :mod:`cyhttp._protocol_py`, line for line; it exists because the
protocol runs several times for every request on every connection (start, write, each read,
each parser event). Typed attributes replace the instance dict, the internal steps are C
functions, and the flags are C booleans. The constants and the module-level helpers come
from the pure twin, so there is one definition of each.

Attributes other modules or tests read or set are ``public``. A cdef class has no instance
dict of its own; a Python subclass (AlpnResponseHandler) gets one as usual.
"""

import asyncio
import socket

from cpython.buffer cimport PyBUF_WRITE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.memoryview cimport PyMemoryView_FromMemory
from libc.string cimport memcpy

from ._protocol_common import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_READ_LIMITS,
    DIRECT_BODY_MAX,
    DIRECT_BODY_MIN,
    MAX_INFORMATIONAL,
    DirectBody,
    Receiver,
    _direct_size,
    _take_buffered,
    _foreign_transfer_coding,
    _os_args,
    deliver_failure,
)
from .client_exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .deadline import LazyDeadline
from .http_exceptions import BadHttpMessage, BadHttpPayload, HttpParserError
from .http_parser import HttpResponseParser
from .streams import EMPTY_PAYLOAD, DecodedBody, StreamReader, make_decoder, undecodable

__all__ = (
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_READ_LIMITS",
    "DIRECT_BODY_MAX",
    "DIRECT_BODY_MIN",
    "MAX_INFORMATIONAL",
    "DirectBody",
    "Receiver",
    "ResponseHandler",
    "deliver_failure",
)

# bound once: identity tests and calls without a module-dict lookup each time
cdef object _EMPTY = EMPTY_PAYLOAD
cdef object _Reader = StreamReader
cdef Py_ssize_t _MAX_INFORMATIONAL = MAX_INFORMATIONAL
cdef object _DEFAULT_LIMITS = DEFAULT_READ_LIMITS
cdef int _IPPROTO_TCP = socket.IPPROTO_TCP
cdef int _TCP_NODELAY = socket.TCP_NODELAY
cdef tuple _INET = (socket.AF_INET, socket.AF_INET6)


cdef class ResponseHandler:
    """Drives the parser for one connection; see :mod:`cyhttp.client_proto`."""

    cdef public object _loop
    cdef public object transport
    cdef public object _parser
    #: (max_line_size, max_field_size, max_headers, read_bufsize) of the parser in use
    cdef public object _limits
    cdef public str _method
    cdef public object _head_waiter
    cdef public object _head
    cdef public object payload
    cdef public object _decoder
    cdef public bint _eof_pending  # message complete but decoder output still queued
    cdef public bint _auto_decompress
    cdef public bint _read_until_eof
    cdef public bint _discard_body
    #: True when this connection must not carry another request.
    cdef public bint should_close
    #: True between start() and the end of the response body.
    cdef public bint busy
    #: True once any byte arrived for the current request (stale-connection retries).
    cdef public bint got_bytes
    #: Bytes written for the current request (ClientResponse.output_size).
    cdef public long long output_size
    #: Called (no arguments) when a response completed and the connection is reusable.
    cdef public object on_message_done
    cdef public bint _reading_paused
    cdef public bint _write_paused
    cdef public object _drain_waiter
    cdef public bint _closed
    #: The whole-request timeout of the request in flight (one lazy timer per socket).
    cdef public object deadline
    cdef public object _read_timeout
    cdef public object _read_timer
    cdef public double _last_read
    cdef public bint _upgraded
    cdef public list _tail
    cdef public object _receiver
    cdef public object _informational
    cdef public Py_ssize_t _informational_count
    cdef public object _max_decompressed
    cdef public bint _parsed_complete  # the parser finished a message in this feed
    cdef public bint _check_later  # ... while its body was still being decoded
    #: while the rest of a body is read straight into its bytes: the transport's protocol
    #: meanwhile, the body (a bytes object no one else sees until it is full) and its fill
    cdef public object _direct
    cdef public object _direct_body
    cdef public Py_ssize_t _direct_filled
    cdef object __weakref__

    def __init__(self, loop):
        self._loop = loop
        self.transport = None
        self._parser = None
        self._limits = _DEFAULT_LIMITS
        self._method = ""
        self._head_waiter = None
        self._head = None
        self.payload = None
        self._decoder = None
        self._eof_pending = False
        self._auto_decompress = True
        self._read_until_eof = True
        self._discard_body = False
        self.should_close = False
        self.busy = False
        self.got_bytes = False
        self.output_size = 0
        self.on_message_done = None
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter = None
        self._closed = False
        self.deadline = LazyDeadline(loop)
        self._read_timeout = None
        self._read_timer = None
        self._last_read = 0.0
        self._upgraded = False
        self._tail = []
        self._receiver = None
        self._informational = None
        self._informational_count = 0
        self._max_decompressed = DEFAULT_MAX_DECOMPRESSED_SIZE
        self._parsed_complete = False
        self._check_later = False
        self._direct = None
        self._direct_body = None
        self._direct_filled = 0

    # ----- asyncio.Protocol -----

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in _INET:
            try:
                sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - e.g. exotic socket types
                pass

    def data_received(self, data):
        if self._receiver is not None:
            self._receiver.feed_data(data)
            return
        if self._upgraded:
            self._tail.append(data)
            return
        self.got_bytes = True
        if self._read_timer is not None:
            self._last_read = self._loop.time()
        parser = self._parser
        if parser is None or not self.busy:
            # bytes nobody asked for: the connection can no longer be trusted
            self._fail_now(ClientResponseError(None, message="unexpected data from the server"))
            return
        self._parsed_complete = False
        try:
            tail = parser.feed_data(data)
        except BadHttpMessage as exc:
            self._fail_now(
                ClientResponseError(None, status=400, message=f"invalid response: {exc}"), exc
            )
            return
        except BadHttpPayload as exc:
            self._fail_now(ClientPayloadError(f"invalid response body: {exc}"), exc)
            return
        except ClientPayloadError as exc:  # from a decoder
            self._fail_now(exc)
            return
        except ClientResponseError as exc:  # from on_headers / on_informational
            self._fail_now(exc)
            return
        if tail is not None:
            self._upgraded = True
            self.should_close = True
            if tail:
                self._tail.append(tail)
        elif self._parsed_complete:
            if self._eof_pending:
                self._check_later = True  # the body is still being decoded
            else:
                self._check_leftover()

    cdef void _check_leftover(self) except *:
        """After a complete response: bytes the parser kept (the start of an unrequested
        response, garbage) must never be read as the next request's answer."""
        self._check_later = False
        try:
            self._parser.feed_eof()  # does nothing between messages, raises on a partial one
        except HttpParserError:
            self.should_close = True
            transport = self.transport
            if not self.busy and transport is not None and not transport.is_closing():
                transport.abort()

    def eof_received(self):
        self.should_close = True
        return None  # let the transport close

    def connection_lost(self, exc):
        self._closed = True
        self.should_close = True
        self._cancel_read_timer()
        # the lazy whole-request timer may be minutes away: a closed socket must not keep
        # it (and this protocol) scheduled until then
        self.deadline.close()
        receiver = self._receiver
        if receiver is not None:
            if exc is None:
                receiver.feed_eof()
            else:
                receiver.set_exception(ClientOSError(*_os_args(exc)))
        elif self.busy and not self._upgraded:
            self._on_peer_gone(exc)
        drain = self._drain_waiter
        if drain is not None:
            self._drain_waiter = None
            if not drain.done():
                drain.set_exception(
                    ClientOSError(*_os_args(exc)) if exc else ServerDisconnectedError()
                )
        self.transport = None

    cdef void _on_peer_gone(self, exc) except *:
        """The socket closed while a response was expected: finish or fail it."""
        if self._eof_pending:
            return  # body fully received; the rest is decoded as the reader drains it
        parser = self._parser
        if parser is not None:
            try:
                parser.feed_eof()
            except BadHttpPayload as perr:
                self._fail_now(
                    ClientPayloadError(f"response payload is not completed: {perr}"), exc or perr
                )
                return
            except HttpParserError as perr:
                self._fail_now(ServerDisconnectedError(perr.message), exc or perr)
                return
            except ClientPayloadError as derr:
                self._fail_now(derr, exc)
                return
        if self.busy:
            if self._head_waiter is not None:
                self._fail_now(ServerDisconnectedError(), exc)
            else:
                self._fail_now(ClientPayloadError("response payload is not completed"), exc)

    def pause_writing(self):
        self._write_paused = True

    def resume_writing(self):
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # ----- flow control asked by the StreamReader -----

    def pause_reading(self):
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            try:
                self.transport.pause_reading()
            except (AttributeError, NotImplementedError, RuntimeError):  # pragma: no cover
                pass

    def resume_reading(self):
        if self._decoder is not None:
            try:
                self._pump()
            except ClientPayloadError as exc:
                self._fail_now(exc)
                return
            if self.payload is not None and self.payload.paused:
                return
        self._resume_transport()

    cdef void _resume_transport(self) except *:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            try:
                self.transport.resume_reading()
            except (AttributeError, NotImplementedError, RuntimeError):  # pragma: no cover
                pass

    # ----- used by the request/response layer -----

    @property
    def closed(self):
        return self._closed

    def is_connected(self):
        return self.transport is not None and not self.transport.is_closing()

    def is_reusable(self):
        """Idle, open, and nothing left over from a previous response."""
        if self.should_close or self.busy or self._closed:
            return False
        transport = self.transport
        return transport is not None and not transport.is_closing()

    def start(
        self,
        str method,
        *,
        auto_decompress=True,
        read_until_eof=True,
        read_timeout=None,
        informational=None,
        max_decompressed_size=DEFAULT_MAX_DECOMPRESSED_SIZE,
        limits=DEFAULT_READ_LIMITS,
    ):
        """Expect a response to a ``method`` request; returns the future of its head and
        body reader (taken together: the connection may serve another request before the
        awaiting coroutine resumes). ``max_decompressed_size`` bounds the decoded body of
        a compressed response (None or 0: no bound)."""
        if self._closed or self.transport is None:
            raise ServerDisconnectedError()
        parser = self._parser
        if parser is None or limits != self._limits:
            # a connection keeps its parser; one made for other limits is replaced between
            # messages (start() is only called on an idle connection)
            self._limits = limits
            max_line_size, max_field_size, max_headers, _ = limits
            parser = self._parser = HttpResponseParser(
                self,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
            )
        parser.set_request_method(method)
        self._method = method
        self._auto_decompress = auto_decompress
        self._read_until_eof = read_until_eof
        self._informational = informational
        self._informational_count = 0
        self._max_decompressed = max_decompressed_size or 0
        self.busy = True
        self.got_bytes = False
        self.output_size = 0
        self.payload = None
        self._decoder = None
        self._eof_pending = False
        self._discard_body = False
        waiter = self._head_waiter = self._loop.create_future()
        if read_timeout:
            self._read_timeout = read_timeout
            self._last_read = self._loop.time()
            self._read_timer = self._loop.call_at(
                self._last_read + read_timeout, self._on_read_timer
            )
        return waiter

    def write(self, data):
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        self.output_size += len(data)
        transport.write(data)

    async def drain(self):
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._closed:
            raise ClientConnectionResetError("Connection lost")
        if not self._write_paused:
            return
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        await asyncio.shield(waiter)

    def close(self):
        """Close the socket now (abort: buffered writes are dropped)."""
        self.should_close = True
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()
        elif transport is None and not self._closed:
            self._closed = True

    def take_over(self, receiver):
        """After an upgrade: send the leftover bytes and everything that follows to
        ``receiver`` (EOF and errors too). The connection is no longer HTTP."""
        self.should_close = True
        self.busy = False
        self._cancel_read_timer()
        self._receiver = receiver
        tail, self._tail = self._tail, []
        for data in tail:
            receiver.feed_data(data)
        if self._closed:
            receiver.feed_eof()
            return
        self._resume_transport()

    # ----- the rest of a large body read straight into its final buffer -----

    def receive_rest_directly(self, reader):
        """See the pure twin. Here the buffer is the bytes object ``read()`` returns,
        filled in place before anyone else holds it: the body is copied once, by the
        kernel (or by the TLS layer's decryption), and never joined."""
        cdef Py_ssize_t total = _direct_size(self, reader)
        if not total:
            return False
        cdef bytes buffered = _take_buffered(reader)
        cdef bytes body = PyBytes_FromStringAndSize(NULL, total)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(buffered)
        if n:
            memcpy(PyBytes_AS_STRING(body), PyBytes_AS_STRING(buffered), n)
        self._direct_body = body
        self._direct_filled = n
        self._direct = DirectBody(self)
        self.transport.set_protocol(self._direct)
        return True

    def _direct_buffer(self):
        cdef bytes body = self._direct_body
        return PyMemoryView_FromMemory(
            PyBytes_AS_STRING(body) + self._direct_filled,
            PyBytes_GET_SIZE(body) - self._direct_filled,
            PyBUF_WRITE,
        )

    def _direct_data(self, data):
        cdef bytes body = self._direct_body
        cdef const unsigned char[:] view = data
        cdef Py_ssize_t take = min(view.shape[0], PyBytes_GET_SIZE(body) - self._direct_filled)
        if take:
            memcpy(PyBytes_AS_STRING(body) + self._direct_filled, &view[0], take)
        self._direct_received(take)
        if take < view.shape[0]:
            self.data_received(data[take:])

    def _direct_received(self, Py_ssize_t nbytes):
        cdef bytes body = self._direct_body
        if nbytes <= 0:
            return  # nothing landed (transports report EOF apart, but never trust a count)
        self._direct_filled += nbytes
        if self._read_timer is not None:
            self._last_read = self._loop.time()
        if self._direct_filled < PyBytes_GET_SIZE(body):
            self._parser.body_received(nbytes)
            return
        self._end_direct()
        self.payload.feed_data(body)
        self._parser.body_received(nbytes)

    cdef _end_direct(self):
        self._direct = None
        self._direct_body = None
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.set_protocol(self)

    def _direct_lost(self, exc):
        self._direct = None
        self._direct_body = None
        self.connection_lost(exc)

    # ----- parser sink -----

    def on_informational(self, head):
        self._informational_count += 1
        if self._informational_count > _MAX_INFORMATIONAL:
            raise ClientResponseError(
                None,
                status=head.status,
                message=f"more than {MAX_INFORMATIONAL} interim (1xx) responses",
                headers=head.headers,
            )
        if self._informational is not None:
            self._informational(head)

    def on_headers(self, head):
        waiter = self._head_waiter
        if waiter is None:
            raise BadHttpMessage("a second response arrived for one request")
        self._head = head
        if head.keep_alive is False:
            self.should_close = True
        content_length = head.content_length
        if head.upgrade:
            self.should_close = True
            self.payload = _EMPTY
        elif (
            content_length == 0
            or self._method == "HEAD"
            or _no_body_status(head.status)
        ):
            self.payload = _EMPTY
        elif not self._read_until_eof and content_length is None and not head.chunked:
            # body delimited by the connection closing, which the caller does not want
            self.payload = _EMPTY
            self._discard_body = True
            self.should_close = True
        else:
            encoding = head.encoding
            if head.chunked or content_length is None or encoding is not None:
                self._check_codings(head)  # only a body with codings can be refused
            self.payload = _Reader(self, self._limits[3], loop=self._loop)
            if self._auto_decompress and encoding is not None:
                decoder = make_decoder(encoding)
                if decoder is not None:
                    self._decoder = DecodedBody(decoder, self._max_decompressed)
        self._head_waiter = None  # only now: a refused head fails this waiter (see _fail)
        if not waiter.done():
            waiter.set_result((head, self.payload))

    def on_body(self, data):
        payload = self.payload
        if payload is None or payload is _EMPTY:
            return  # body we were told to drop (read_until_eof=False)
        decoder = self._decoder
        if decoder is None:
            payload.feed_data(data)
        else:
            payload.total_compressed_bytes = (payload.total_compressed_bytes or 0) + len(data)
            decoder.feed(data)
            if not payload.paused:
                self._pump()

    def on_chunk_end(self):
        payload = self.payload
        if payload is not None and payload is not _EMPTY:
            payload.end_http_chunk()

    def on_message_complete(self):
        self._parsed_complete = True
        head = self._head
        if head is not None and head.upgrade:
            return  # 101: the connection is not released; it awaits take_over()
        payload = self.payload
        if payload is not None and payload is not _EMPTY and self._decoder is not None:
            self._eof_pending = True
            self._pump()
            if self._eof_pending:
                return  # the reader is paused; finished when it resumes
        elif payload is not None and payload is not _EMPTY:
            payload.feed_eof()
        self._message_done()

    # ----- internals -----

    cdef void _check_codings(self, head) except *:
        """Refuse a body we could only hand out still encoded: a transfer coding other
        than chunked, or (when decoding) a content coding we cannot decode."""
        if head.chunked or head.content_length is None:
            coding = _foreign_transfer_coding(head.raw_headers)
            if coding is not None:
                raise ClientResponseError(
                    None,
                    status=head.status,
                    message=f"unsupported Transfer-Encoding {coding!r}",
                    headers=head.headers,
                )
        if self._auto_decompress and head.encoding is not None:
            unknown = undecodable(head.encoding)
            if unknown is not None:
                raise ClientResponseError(
                    None,
                    status=head.status,
                    message=f"Can not decode content-encoding: {unknown!r} "
                    "(unknown, or its decoder is not installed)",
                    headers=head.headers,
                )

    cdef void _pump(self) except *:
        """Move decoded output into the reader while it is not paused; at the end of the
        message, the decoder's last output and the end of the body."""
        body = self._decoder
        payload = self.payload
        assert body is not None and payload is not None
        body.pump(payload)
        if self._eof_pending and not payload.paused:
            self._eof_pending = False
            body.finish(payload)
            if self._check_later:
                self._check_leftover()
            payload.feed_eof()
            self._message_done()

    cdef void _message_done(self) except *:
        self.busy = False
        # an idle pooled connection keeps nothing of the response it carried
        self.payload = None
        self._head = None
        if self._read_timer is not None:
            self._cancel_read_timer()
        # the finished body no longer needs flow control; the socket must read again
        if self._reading_paused:
            self._resume_transport()
        if self._discard_body:
            self.should_close = True
        callback = self.on_message_done
        if callback is not None:
            callback()

    def _fail(self, exc, cause=None):
        """Deliver ``exc`` to whoever waits (head or body) and close the connection."""
        self._fail_now(exc, cause)

    cdef void _fail_now(self, exc, cause=None) except *:
        if cause is not None and exc.__cause__ is None:
            exc.__cause__ = cause
        self.should_close = True
        self._cancel_read_timer()
        waiter, self._head_waiter = self._head_waiter, None
        deliver_failure(waiter, self.payload, exc)
        self.busy = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    cdef inline void _cancel_read_timer(self) except *:
        timer = self._read_timer
        if timer is not None:
            self._read_timer = None
            timer.cancel()

    def _on_read_timer(self):
        self._read_timer = None
        timeout = self._read_timeout
        if not self.busy or timeout is None:
            return
        now = self._loop.time()
        if self._reading_paused:
            # the reader is full: silence is our consumer's doing, not the server's
            self._last_read = now
        deadline = self._last_read + timeout
        if now >= deadline:
            self._fail_now(SocketTimeoutError("Timeout on reading data from socket"))
        else:
            self._read_timer = self._loop.call_at(deadline, self._on_read_timer)


cdef inline bint _no_body_status(object status) except -1:
    """204 and 304 never carry a body (the pure twin's ``_NO_BODY_STATUSES``)."""
    return status == 204 or status == 304
