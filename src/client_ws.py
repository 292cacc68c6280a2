"""The WebSocket client: the opening handshake (:func:`ws_connect`) and
:class:`ClientWebSocketResponse`.

# Strategy
The handshake is an ordinary ``session.request`` (so proxies, TLS, auth, cookies and the
session's timeouts apply unchanged) answered with 101. The connection's protocol then hands
every following byte to the :class:`ClientWebSocketResponse` (``take_over``), which runs
them through the sans-IO :class:`FrameReader` of :mod:`cyhttp.http_websocket` (compiled or
twin) and queues the messages; ``receive()`` pops them (with a listener, its ListenerFeed
takes the bytes instead: see below). Frames are written with ``build_frame`` (one allocation
per frame) straight to the transport; data frames through the same module's ``Sender``, so
that each send is one compiled call (the checks, the frame, the write). The request's
timers are stopped once the socket is handed over: a pending timer costs asyncio's loop a
clock reading on every turn, and nothing is left for it to guard.

Pings are answered as soon as they arrive (``autoping``), not when the application gets
round to ``receive()``: a busy consumer must not look dead to the server. Any received
byte counts as proof of life for the heartbeat, so a chatty connection is never pinged.

Timeouts are a :class:`ClientWSTimeout`: ``ws_receive`` bounds each ``receive()``,
``ws_close`` the closing handshake; the 2.x float ``timeout`` and ``receive_timeout`` still
work and warn. The session's ``_ws_response_class`` (when it has one) is the class built,
so a subclass of :class:`ClientWebSocketResponse` can stand in.

End states, each reported once by ``receive()`` and then ``CLOSED`` for ever after:
the server's CLOSE (answered when ``autoclose``), a protocol violation (we send CLOSE with
the reader's code and drop the connection: ``ERROR``), the connection lost (``ERROR`` with
the OS error, or ``CLOSED`` on a bare EOF; close code 1006) and a missed heartbeat pong
(``ERROR`` with ServerTimeoutError, 1006).

# The listener (opt-in, not in aiohttp)
``ws_connect(..., listener=callback)`` trades ``receive()`` for a callback: the protocol
callback that parses the bytes calls ``callback(ws, msg)`` for each message, in order, with no
queue and no future per message (an awaiting consumer costs a future, a task wake-up and a
coroutine resumption per message; a callback costs one call). It gets exactly the messages
``receive()`` would have returned: TEXT and BINARY; PING and PONG only when ``autoping`` is
off; then exactly one last call, after which it is never called again: the server's CLOSE
(answered first when ``autoclose``; also the answer to our own ``close()``), CLOSED (the
connection ended without a closing handshake, or our ``close()`` got no answer) or ERROR
(``data`` the exception: a protocol violation, the connection's error, a missed heartbeat, or
what the callback itself raised). An exception from the callback fails the socket: CLOSE 1011
is sent, the connection closed, ``exception()`` returns it, and the callback gets that
ERROR as its last call (if it raises again, the loop's exception handler reports it).
Data messages arriving after our CLOSE went out are dropped, as ``close()`` drops them for
``receive()``. The callback runs inside the protocol callback: it must not block; it may
send with :meth:`ClientWebSocketResponse.send_bytes_nowait`/``send_str_nowait``, and close
with ``asyncio.ensure_future(ws.close())``. It may be called before ``ws_connect`` returns
(messages that came with the handshake), hence the ``ws`` argument. ``receive()`` and
``async for`` raise RuntimeError on such a socket.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from ._models import WSCloseCode, WSMessage, WSMsgType
from .client_exceptions import (
    ClientConnectionError,
    ServerTimeoutError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .helpers import DONE, DoneAwaitable, check_seconds
from .http_exceptions import WebSocketError

if TYPE_CHECKING:
    from ._ws_deflate import Deflater, Inflater

# The frame codec (a compiled module), permessage-deflate and hashlib are imported on the
# first WebSocket, not with the package: a program that never opens one never loads them.

__all__ = (
    "DEFAULT_WS_CLIENT_TIMEOUT",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "WebSocketClosedError",
    "ws_connect",
)

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
#: receive() calls tolerated on a closed socket before it raises (a loop that ignores
#: CLOSED would otherwise spin for ever)
_CLOSED_RECEIVE_LIMIT = 5
#: queued-but-unread bytes above which the socket stops being read
_QUEUE_HIGH_WATER = 4 * 1024 * 1024

_tuple_new = tuple.__new__
_CLOSED_MESSAGE: WSMessage = _tuple_new(WSMessage, (WSMsgType.CLOSED, None, None))
_CLOSING_MESSAGE: WSMessage = _tuple_new(WSMessage, (WSMsgType.CLOSING, None, None))
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_CLOSE = WSMsgType.CLOSE
_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_ERROR = WSMsgType.ERROR


@dataclasses.dataclass(frozen=True)
class ClientWSTimeout:
    """The two timeouts of a client WebSocket, in seconds (None: wait for ever).

    ``ws_receive`` bounds each :meth:`ClientWebSocketResponse.receive` (the wait for one
    complete message; the socket stays open when it expires); ``ws_close`` bounds the
    closing handshake of :meth:`ClientWebSocketResponse.close` (past it the connection is
    dropped, close code 1006).
    """

    ws_receive: float | None = None
    ws_close: float | None = None

    def __post_init__(self) -> None:
        check_seconds("ws_receive", self.ws_receive)
        check_seconds("ws_close", self.ws_close)


#: what ``ws_connect`` uses when no ``timeout`` is given: no receive limit, 10 s to close
DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout(ws_receive=None, ws_close=10.0)


class _DefaultTimeout(float):
    """The type of ``ws_connect``'s default ``timeout``: reads as 10.0, the close timeout
    the 2.x API documents, yet is told apart from a float the caller passes (deprecated)."""

    __slots__ = ()


#: ws_connect's default ``timeout`` (pass it on, rather than 10.0, to mean "not given")
DEFAULT_TIMEOUT: float = _DefaultTimeout(10.0)


def _ws_timeout(timeout: Any, receive_timeout: float | None) -> ClientWSTimeout:
    """The ClientWSTimeout that ``timeout=`` and ``receive_timeout=`` amount to.

    A number as ``timeout`` is the old spelling of the close timeout, and
    ``receive_timeout`` the old spelling of ``ws_receive``: both still work and both warn
    (DeprecationWarning), as in aiohttp 3.x. None means no timeout at all.
    """
    if isinstance(timeout, ClientWSTimeout):
        result = timeout
    elif type(timeout) is _DefaultTimeout:
        result = DEFAULT_WS_CLIENT_TIMEOUT
    elif timeout is None:
        result = ClientWSTimeout()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        check_seconds("timeout", timeout)
        warnings.warn(
            "a number as ws_connect's 'timeout' is deprecated, "
            "use timeout=ClientWSTimeout(ws_close=...)",
            DeprecationWarning,
            stacklevel=3,  # the caller of `await session.ws_connect(...)`
        )
        result = ClientWSTimeout(ws_close=timeout)
    else:
        raise TypeError(f"timeout must be a ClientWSTimeout (or seconds), not {timeout!r:.60}")
    if receive_timeout is not None:
        check_seconds("receive_timeout", receive_timeout)
        warnings.warn(
            "ws_connect's 'receive_timeout' is deprecated, "
            "use timeout=ClientWSTimeout(ws_receive=...)",
            DeprecationWarning,
            stacklevel=3,  # the caller of `await session.ws_connect(...)`
        )
        result = dataclasses.replace(result, ws_receive=receive_timeout)
    return result


class WebSocketClosedError(ClientConnectionError, RuntimeError):
    """Sending on a closed WebSocket. A RuntimeError as the 2.x reference documents, and a
    ClientConnectionError as later aiohttp raises, so either ``except`` works."""


class _Eof:
    """The server closed TCP without a closing handshake."""


_EOF = _Eof()


def _accept_value(key: str) -> str:
    import hashlib

    return base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode()


async def ws_connect(
    session: Any,
    url: Any,
    *,
    method: str = "GET",
    protocols: Iterable[str] = (),
    timeout: ClientWSTimeout | float | None = DEFAULT_TIMEOUT,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: float | None = None,
    auth: Any = None,
    origin: str | None = None,
    params: Any = None,
    headers: Any = None,
    proxy: Any = None,
    proxy_auth: Any = None,
    verify_ssl: bool | None = None,
    fingerprint: bytes | None = None,
    ssl_context: Any = None,
    ssl: Any = True,
    server_hostname: str | None = None,
    proxy_headers: Any = None,
    compress: int = 0,
    max_msg_size: int = 4 * 1024 * 1024,
    decode_text: bool = True,
    listener: Callable[[ClientWebSocketResponse, WSMessage], object] | None = None,
) -> ClientWebSocketResponse:
    """Open a WebSocket to ``url`` (ws, wss, http or https) through ``session``.

    Every failure of the handshake itself raises :class:`WSServerHandshakeError` carrying
    the response status; connection failures raise as for any request. ``timeout`` is a
    :class:`ClientWSTimeout` (see :func:`_ws_timeout` for the older spellings);
    ``decode_text=False`` delivers TEXT messages as their raw UTF-8 bytes. The response
    object is an instance of the session's ``_ws_response_class`` when it has one.

    ``listener`` (not in aiohttp): a callable ``listener(ws, msg)`` given every message as
    it is parsed, instead of queueing it for ``receive()`` (see the module docstring: the
    messages it gets, its last call, what an exception from it does).
    """
    if listener is not None and not callable(listener):
        raise TypeError(f"listener must be callable, not {listener!r:.60}")
    if compress and not (isinstance(compress, int) and 9 <= compress <= 15):
        raise ValueError(f"compress must be 0 (off) or 9..15, not {compress!r}")
    if max_msg_size < 0:
        raise ValueError("max_msg_size must be >= 0 (0 = unlimited)")
    ws_timeout = _ws_timeout(timeout, receive_timeout)
    check_seconds("heartbeat", heartbeat)
    if isinstance(protocols, str):  # tuple("chat") would offer "c, h, a, t"
        raise TypeError(f"protocols must be an iterable of str, not the str {protocols!r}")
    protocols = tuple(protocols)
    req_headers: CIMultiDict[str] = CIMultiDict(headers or {})
    for name, value in (
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
    ):
        req_headers.setdefault(name, value)
    key = base64.b64encode(os.urandom(16)).decode()
    req_headers["Sec-WebSocket-Key"] = key
    if protocols:
        req_headers["Sec-WebSocket-Protocol"] = ", ".join(protocols)
    if origin is not None:
        req_headers["Origin"] = origin
    if compress:
        from ._ws_deflate import offer

        req_headers["Sec-WebSocket-Extensions"] = offer(compress)

    # forwarded only when given, so that a session without TLS SNI overrides still works
    extra: dict[str, Any] = {}
    if server_hostname is not None:
        extra["server_hostname"] = server_hostname
    resp = await session.request(
        method,
        url,
        **extra,
        params=params,
        headers=req_headers,
        auth=auth,
        read_until_eof=False,
        raise_for_status=False,
        proxy=proxy,
        proxy_auth=proxy_auth,
        verify_ssl=verify_ssl,
        fingerprint=fingerprint,
        ssl_context=ssl_context,
        ssl=ssl,
        proxy_headers=proxy_headers,
    )
    try:
        chosen, inflater, deflater, notakeover = _check_handshake(resp, key, protocols, compress)
        conn = resp.connection
        proto = conn.protocol if conn is not None else None
        if proto is None or proto.transport is None:
            raise WSServerHandshakeError(
                resp.request_info,
                resp.history,
                status=resp.status,
                message="connection closed during the handshake",
                headers=resp.headers,
            )
    except BaseException:
        resp.close()
        raise
    # the request's total deadline covered the handshake; the socket now lives on
    resp._cancel_deadline()
    # and the connection's request timer, left pending for the next request, will never
    # guard one: a pending timer makes every turn of asyncio's loop look at its clock
    deadline = getattr(proto, "deadline", None)
    if deadline is not None:
        deadline.close()
    from . import http_websocket

    reader = http_websocket.impl.FrameReader(
        max_msg_size, inflater=inflater, accept_masked=False, decode_text=decode_text
    )
    response_class = getattr(session, "_ws_response_class", ClientWebSocketResponse)
    # passed only when given: a response class written for aiohttp does not know it
    more: dict[str, Any] = {} if listener is None else {"listener": listener}
    ws = response_class(
        resp,
        proto,
        reader,
        deflater,
        protocol=chosen,
        timeout=ws_timeout,
        autoclose=autoclose,
        autoping=autoping,
        heartbeat=heartbeat,
        compress=compress if deflater is not None or inflater is not None else 0,
        client_notakeover=notakeover,
        **more,
    )
    proto.take_over(ws._receiver)
    return ws


def _check_handshake(
    resp: Any, key: str, protocols: tuple[str, ...], compress: int
) -> tuple[str | None, Inflater | None, Deflater | None, bool]:
    """Validate the 101 answer (RFC 6455 §4.1); the chosen subprotocol, the codecs and
    whether the server asked us to compress each message afresh (client_no_context_takeover)."""

    def fail(message: str) -> WSServerHandshakeError:
        return WSServerHandshakeError(
            resp.request_info,
            resp.history,
            status=resp.status,
            message=message,
            headers=resp.headers,
        )

    headers = resp.headers
    if resp.status != 101:
        raise fail("Invalid response status")
    if headers.get("Upgrade", "").strip().lower() != "websocket":
        raise fail("Invalid upgrade header")
    tokens = {t.strip().lower() for v in headers.getall("Connection", ()) for t in v.split(",")}
    if "upgrade" not in tokens:
        raise fail("Invalid connection header")
    if headers.get("Sec-WebSocket-Accept", "").strip() != _accept_value(key):
        raise fail("Invalid challenge response")
    chosen = headers.get("Sec-WebSocket-Protocol")
    if chosen is not None:
        chosen = chosen.strip()
        if chosen not in protocols:
            raise fail(f"Server chose a subprotocol that was not offered: {chosen!r}")
    extensions = ", ".join(headers.getall("Sec-WebSocket-Extensions", ())) or None
    if not compress:
        if extensions:
            raise fail(f"Server accepted extensions that were not offered: {extensions!r}")
        return chosen, None, None, False
    from ._ws_deflate import Deflater, Inflater, parse_response

    try:
        params = parse_response(extensions, compress)
    except ValueError as exc:
        raise fail(f"Invalid extension answer: {exc}") from None
    if params is None:
        return chosen, None, None, False
    inflater = Inflater(params.server_max_window_bits, params.server_no_context_takeover)
    # zlib cannot compress with an 8-bit window: then we simply send uncompressed (allowed)
    deflater = (
        Deflater(params.client_max_window_bits, params.client_no_context_takeover)
        if params.client_max_window_bits >= 9
        else None
    )
    return chosen, inflater, deflater, params.client_no_context_takeover


class ClientWebSocketResponse:
    """An open client WebSocket (see the module docstring for the life cycle)."""

    #: called once when the connection is let go (set by ``cyhttp.ws_connect``)
    _on_close: Callable[[], None] | None = None

    def __init__(
        self,
        response: Any,
        proto: Any,
        reader: Any,
        deflater: Deflater | None,
        *,
        protocol: str | None,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        heartbeat: float | None,
        compress: int,
        client_notakeover: bool = False,
        listener: Callable[[ClientWebSocketResponse, WSMessage], object] | None = None,
    ) -> None:
        self._response = response
        self._proto = proto
        self._transport = proto.transport
        self._reader = reader
        self._deflater = deflater
        from . import http_websocket

        impl = http_websocket.impl
        self._build_frame = impl.build_frame
        # the data frames go out through the twin's Sender (compiled: one C call each)
        self._sender = sender = impl.Sender(self, WebSocketClosedError)
        cls = type(self)
        if cls.send_bytes_nowait is ClientWebSocketResponse.send_bytes_nowait:
            self.send_bytes_nowait = sender.send_bytes  # type: ignore[method-assign]
        if cls.send_str_nowait is ClientWebSocketResponse.send_str_nowait:
            self.send_str_nowait = sender.send_str  # type: ignore[method-assign]
        self._protocol = protocol
        self._timeout = timeout
        self._receive_timeout = timeout.ws_receive
        self._autoclose = autoclose
        self._autoping = autoping
        self._compress = compress
        self._client_notakeover = client_notakeover
        self._loop = asyncio.get_running_loop()
        self._queue: deque[WSMessage] = deque()
        self._queued_bytes = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._reading = False  # a receive() is in progress
        self._end: BaseException | _Eof | None = None  # how the stream ended, not yet reported
        self._closed = False  # we sent CLOSE (or gave up on the connection)
        self._closing = False  # the server sent CLOSE
        self._local_close_started = False
        self._close_sent = False  # a CLOSE went out through send_frame()
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._closed_receives = 0
        # heartbeat: any received byte proves the server alive
        self._heartbeat = heartbeat
        self._rx_seen = False
        self._heartbeat_handle: asyncio.TimerHandle | None = None
        self._pong_handle: asyncio.TimerHandle | None = None
        if heartbeat:
            self._heartbeat_handle = self._loop.call_later(heartbeat, self._on_heartbeat)
        self._listener = listener
        self._listener_done = False  # the listener had its last call
        #: what ws_connect hands to the protocol's take_over: the socket itself (it queues
        #: messages for receive()), or the twin's ListenerFeed, which gives each to the
        #: listener and the rest to the _listener_* methods below
        self._receiver: Any = (
            self if listener is None else impl.ListenerFeed(self, reader, listener)
        )

    # ----- what the connection's protocol feeds us (take_over's receiver interface) -----

    def feed_data(self, data: bytes) -> None:
        """Bytes from the socket (internal: called by the connection's protocol)."""
        if self._end is not None or (self._closed and self._close_code is not None):
            return  # the conversation is over: late bytes are dropped
        self._rx_seen = True
        try:
            messages = self._reader.feed_data(data)
        except WebSocketError as exc:
            messages = exc.messages
            self._end = exc
        queue = self._queue
        for msg in messages:
            kind = msg.type
            if kind is _PING and self._autoping:
                self._send_control(0xA, msg.data)
            elif kind is _PONG and self._autoping:
                pass  # proof of life, already counted
            else:
                queue.append(msg)
        self._queued_bytes += len(data)
        # pause only with whole messages waiting: a partial one needs more bytes to finish
        if queue and self._queued_bytes > _QUEUE_HIGH_WATER and not self._paused:
            self._paused = True
            self._proto.pause_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done() and (queue or self._end is not None):
            waiter.set_result(None)

    def feed_eof(self) -> None:
        """The server closed the connection (internal)."""
        self._stream_ended(_EOF)

    def set_exception(self, exc: BaseException) -> None:
        """The connection failed (internal)."""
        self._stream_ended(exc)

    def _stream_ended(self, how: BaseException | _Eof) -> None:
        self._transport = None
        self._cancel_heartbeat()
        if self._end is None and not (self._closed and self._close_code is not None):
            self._end = how
        if self._listener is not None:
            self._listener_stream_ended()
        self._let_go()  # the socket is gone: nothing left to release later
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ----- the listener (see the module docstring; ListenerFeed calls these) -----

    def _listener_control(self, msg: WSMessage) -> bool:
        """A PING, PONG or CLOSE for a listener; False once the conversation is over."""
        kind = msg[0]
        if kind is _CLOSE:
            self._listener_close(msg)
            return False
        if self._autoping:
            if kind is _PING:
                self._send_control(0xA, msg[1])
            return True
        try:
            self._listener(self, msg)  # type: ignore[misc]
        except Exception as exc:
            self._listener_failed(exc)
            return False
        return True

    def _listener_close(self, msg: WSMessage) -> None:
        """The server's CLOSE: answered (``autoclose``, or it answers ours), then handed to
        the listener as its last message, and to a close() waiting for it."""
        self._closing = True
        self._close_code = code = msg[1]
        self._listener_done = True  # nothing after this message
        if self._closed:  # it answers our CLOSE: close() finishes the job
            self._wake()
        elif self._autoclose:  # echo the code (RFC 6455 §5.5.1); 1005 is not sendable
            self._closed = True
            if not self._close_sent:
                reply = WSCloseCode.OK if code == 1005 else code
                self._send_control(0x8, reply.to_bytes(2, "big"))
            self._shutdown()
        self._call_listener(msg)

    def _listener_failed(self, exc: Exception) -> None:
        """The listener raised: the socket fails with 1011 (internal error) and the
        listener's last call is that ERROR."""
        self._exception = exc
        if not self._closed:
            self._closed = True
            self._close_code = WSCloseCode.INTERNAL_ERROR
            self._send_control(0x8, WSCloseCode.INTERNAL_ERROR.to_bytes(2, "big"))
        elif self._close_code is None:  # our CLOSE went out; its answer is not awaited now
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._shutdown()  # -> _let_go -> _listener_last(ERROR)
        self._wake()  # a close() waiting for the server's answer stops waiting

    def _listener_stream_ended(self) -> None:
        """The connection ended: its close code and error are recorded now (the
        listener's last message, sent by _let_go, reports them)."""
        end = self._end
        if end is None:
            return
        if self._closed:  # close() is waiting: it takes _end, this only records it early
            self._record_end(end)
        else:
            self._end = None
            self._report_end(end)

    def _listener_last(self, msg: WSMessage) -> None:
        self._listener_done = True
        self._wake()  # a close() waiting for the server's answer: there will be none
        self._call_listener(msg)

    def _call_listener(self, msg: WSMessage) -> None:
        """A last call: what the listener raises now can only be reported."""
        try:
            self._listener(self, msg)  # type: ignore[misc]
        except Exception as exc:
            self._loop.call_exception_handler(
                {"message": "WebSocket listener failed on its last message", "exception": exc}
            )

    # ----- properties -----

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called or the server's CLOSE was received."""
        return self._closed or self._closing

    @property
    def close_code(self) -> int | None:
        """The close code: the server's, ours after a protocol error, 1006 if lost."""
        return self._close_code

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose among ``protocols``, or None."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The permessage-deflate window we offered, 0 when compression is off."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        """True when the server asked us to compress every message with a fresh context
        (``client_no_context_takeover``); False without compression."""
        return self._client_notakeover

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``transport.get_extra_info(name)`` of the connection; ``default`` once closed."""
        transport = self._transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    def exception(self) -> BaseException | None:
        """The error that ended the connection, if any."""
        return self._exception

    # ----- sending -----

    def _write(self, frame: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise WebSocketClosedError("Cannot write to closing transport")
        transport.write(frame)

    def _check_open(self) -> None:
        if self._closed or self._close_sent:
            raise WebSocketClosedError("WebSocket connection is closed")

    def _send_control(self, opcode: int, payload: bytes) -> None:
        """Best effort: a control frame on a dying connection is simply not sent."""
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(self._build_frame(opcode, payload))

    def ping(self, message: bytes | str = b"") -> DoneAwaitable:
        """Send a PING (awaiting the result is allowed, as in later aiohttp versions)."""
        self._check_open()
        self._write(self._build_frame(0x9, _control_payload(message)))
        return DONE

    def pong(self, message: bytes | str = b"") -> DoneAwaitable:
        """Send a PONG (to answer pings yourself when ``autoping`` is off)."""
        self._check_open()
        self._write(self._build_frame(0xA, _control_payload(message)))
        return DONE

    def send_bytes_nowait(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> bool:
        """Send a BINARY message at once, without awaiting (not in aiohttp): for a listener
        or any other callback. What the socket cannot take yet waits in the transport's
        buffer, unbounded; the result is True when that buffer is over its high-water mark
        (where back-pressure matters, await :meth:`send_bytes`, which waits then).

        Each instance binds this name to its Sender's ``send_bytes`` (the same checks and
        frame, without a Python call of its own); this method is what a subclass
        overrides."""
        return self._sender.send_bytes(data, compress)

    def send_str_nowait(self, data: str, compress: int | None = None) -> bool:
        """Send a TEXT message at once, without awaiting (see :meth:`send_bytes_nowait`)."""
        return self._sender.send_str(data, compress)

    # Each data send is one call of the twin's Sender: the type check, the state checks,
    # the frame and the write, and whether the transport asks us to wait.

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if self._sender.send_str(data, compress):
            await self._proto.drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | None = None
    ) -> None:
        if self._sender.send_bytes(data, compress):
            await self._proto.drain()

    async def send_json(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], bytes],
    ) -> None:
        """Send ``dumps(data)`` (an encoder that returns bytes, e.g. ``orjson.dumps``) as
        a BINARY message, without a decode and re-encode through str."""
        payload = dumps(data)
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"dumps() must return bytes, not {type(payload).__name__}")
        if self._sender.send(0x2, payload, compress):
            await self._proto.drain()

    async def send_frame(
        self, message: bytes | bytearray | memoryview, opcode: int, compress: int | None = None
    ) -> None:
        """Send ``message`` as one frame of type ``opcode`` (a :class:`WSMsgType`), as is.

        Low level: a TEXT payload must already be UTF-8 (not checked), a CLOSE payload a
        sendable close code and a UTF-8 reason (checked, as by :meth:`close`). Data frames
        follow ``compress`` as :meth:`send_bytes` does; control frames are never compressed
        and carry at most 125 bytes. After a CLOSE nothing more may be sent, and
        :meth:`close` only waits for the server's answer.
        """
        if not isinstance(message, (bytes, bytearray, memoryview)):
            raise TypeError(f"message must be bytes-like, not {type(message).__name__}")
        if isinstance(opcode, bool) or not isinstance(opcode, int):
            raise TypeError(f"opcode must be a WSMsgType, not {opcode!r:.40}")
        if opcode in (_TEXT, _BINARY):
            if self._sender.send(int(opcode), message, compress):
                await self._proto.drain()
            return
        if opcode not in (_PING, _PONG, _CLOSE):
            raise ValueError(f"{opcode!r} is not an opcode a single frame may carry")
        payload = bytes(message)
        if opcode == _CLOSE:
            _check_close_payload(payload)
        else:
            _control_payload(payload)  # the length check
        self._check_open()
        self._write(self._build_frame(int(opcode), payload))
        if opcode == _CLOSE:
            self._close_sent = True
            self._cancel_heartbeat()

    # ----- closing -----

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bool:
        """Send CLOSE and wait (up to ``timeout``) for the server's; False if already closed.

        ValueError, with the WebSocket left as it was, for a ``code`` no peer may receive
        (RFC 6455 §7.4: 1000-1003, 1007-1014 and 3000-4999 only) or a ``message`` longer
        than 123 bytes.
        """
        payload = _close_payload(code, message)  # before any state changes
        if self._reading and not self._closed:
            # a receive() is waiting: it returns CLOSING
            self._local_close_started = True
            self._wake()
        if self._closed:
            return False
        end = self._end
        if end is not None:  # the stream already ended (or broke the protocol), unreported
            self._end = None
            self._report_end(end)
            return True
        self._closed = True
        self._cancel_heartbeat()
        try:
            if not self._close_sent:
                self._write(self._build_frame(0x8, payload))
        except WebSocketClosedError:
            if self._close_code is None:  # else: the server's CLOSE came with its last bytes
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._shutdown(abort=True)
            return True
        if self._closing:
            self._shutdown()
            return True
        try:
            async with asyncio.timeout(self._timeout.ws_close or None):  # 0: none, as ever
                await self._await_peer_close()
        except TimeoutError:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._shutdown(abort=True)
            return True
        except asyncio.CancelledError:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._shutdown(abort=True)
            raise
        self._shutdown()
        return True

    async def _await_peer_close(self) -> None:
        """Drop messages until the server's CLOSE (or the end of the stream)."""
        queue = self._queue
        while True:
            if self._closing or self._listener_done:  # a listener's socket ended
                return
            while queue:
                msg = queue.popleft()
                if msg.type is _CLOSE:
                    self._closing = True
                    self._close_code = msg.data
                    return
            end = self._end
            if end is not None:
                self._end = None
                self._record_end(end)
                return
            if self._paused:  # the CLOSE frame may be behind a paused socket
                self._paused = False
                self._queued_bytes = 0
                self._proto.resume_reading()
            await self._wait(None)

    def _record_end(self, end: BaseException | _Eof) -> None:
        """The close code and exception of a stream that ended while close() waited."""
        if isinstance(end, WebSocketError):
            self._close_code = end.code
            self._exception = end
        else:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            if not isinstance(end, _Eof):
                self._exception = end

    def _shutdown(self, abort: bool = False) -> None:
        """Let go of the connection: flush and close (abort when it cannot be trusted)."""
        self._cancel_heartbeat()
        transport = self._transport
        self._transport = None
        if transport is not None and not transport.is_closing():
            if abort:
                transport.abort()
            else:
                transport.close()
        self._let_go()

    def _let_go(self) -> None:
        """Close the handshake response (its connection) and, for ``cyhttp.ws_connect``,
        the private session made for this WebSocket."""
        self._response.close()
        on_close = self._on_close
        if on_close is not None:
            self._on_close = None
            on_close()
        if self._listener is not None and not self._listener_done:
            exc = self._exception
            self._listener_last(
                _CLOSED_MESSAGE if exc is None else _tuple_new(WSMessage, (_ERROR, exc, None))
            )

    def _fail(self, exc: WebSocketError) -> None:
        """A protocol violation: CLOSE with its code, then drop the connection."""
        self._close_code = exc.code
        self._exception = exc
        if not self._closed:
            self._closed = True
            reason = exc.message.encode("utf-8")[:123]
            self._send_control(0x8, exc.code.to_bytes(2, "big") + reason)
        self._shutdown()

    # ----- heartbeat -----

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_handle is not None:
            self._heartbeat_handle.cancel()
            self._heartbeat_handle = None
        if self._pong_handle is not None:
            self._pong_handle.cancel()
            self._pong_handle = None

    def _heard_lately(self, heartbeat: float) -> bool:
        """Whether the server sent anything since the last look; if so, no need to ask:
        the next heartbeat is scheduled."""
        if not self._rx_seen:
            return False
        self._rx_seen = False
        self._heartbeat_handle = self._loop.call_later(heartbeat, self._on_heartbeat)
        return True

    def _on_heartbeat(self) -> None:
        self._heartbeat_handle = None
        if self._closed or self._heartbeat is None or self._heard_lately(self._heartbeat):
            return
        self._send_control(0x9, b"")
        self._pong_handle = self._loop.call_later(self._heartbeat / 2, self._on_pong_deadline)

    def _on_pong_deadline(self) -> None:
        self._pong_handle = None
        if self._closed or self._heartbeat is None or self._heard_lately(self._heartbeat):
            return
        exc = ServerTimeoutError(f"No PONG received after {self._heartbeat / 2} seconds")
        self._closed = True
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = exc
        self._end = exc
        self._shutdown(abort=True)
        self._wake()

    # ----- receiving -----

    async def _wait(self, timeout: float | None) -> None:
        fut = self._loop.create_future()
        self._waiter = fut
        try:
            if timeout:
                async with asyncio.timeout(timeout):
                    await fut
            else:
                await fut
        finally:
            if self._waiter is fut:
                self._waiter = None

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message; PING/PONG are answered here (``autoping``), CLOSE too
        (``autoclose``). TimeoutError after ``timeout`` (or ``receive_timeout``) seconds."""
        if self._reading:
            raise RuntimeError("Concurrent call to receive() is not allowed")
        if self._listener is not None:
            raise RuntimeError(
                "this WebSocket hands its messages to the listener given to ws_connect(): "
                "receive() has nothing to return"
            )
        while True:
            queue = self._queue
            if queue and not self._closed:
                msg = queue.popleft()
                if not queue:
                    self._queued_bytes = 0
                    if self._paused:
                        self._paused = False
                        self._proto.resume_reading()
                if msg.type is _CLOSE:
                    self._closing = True
                    self._close_code = code = msg.data
                    if self._autoclose:  # echo the code (RFC 6455 §5.5.1); 1005 is not sendable
                        await self.close(code=WSCloseCode.OK if code == 1005 else code)
                return msg
            end = self._end
            if end is not None:
                self._end = None
                return self._report_end(end)
            if self._closed:
                self._closed_receives += 1
                if self._closed_receives >= _CLOSED_RECEIVE_LIMIT:
                    raise RuntimeError("WebSocket connection is closed.")
                return _CLOSED_MESSAGE
            if self._closing:  # the server's CLOSE was delivered and autoclose is off
                await self.close()
                return _CLOSED_MESSAGE
            self._reading = True
            fut = self._waiter = self._loop.create_future()
            try:
                timeout = timeout or self._receive_timeout
                if timeout:
                    async with asyncio.timeout(timeout):
                        await fut
                else:
                    await fut
            finally:
                self._reading = False
                if self._waiter is fut:
                    self._waiter = None
            if self._local_close_started:
                self._local_close_started = False
                return _CLOSING_MESSAGE

    def _report_end(self, end: BaseException | _Eof) -> WSMessage:
        if isinstance(end, WebSocketError):
            self._fail(end)
            return _tuple_new(WSMessage, (WSMsgType.ERROR, end, None))
        self._closed = True
        if self._close_code is None:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        if not isinstance(end, _Eof) and self._exception is None:
            self._exception = end
        self._shutdown(abort=True)
        if isinstance(end, _Eof):
            return _CLOSED_MESSAGE
        return _tuple_new(WSMessage, (WSMsgType.ERROR, end, None))

    async def receive_str(self, *, timeout: float | None = None) -> Any:
        """The next message, which must be TEXT: str, or bytes with ``decode_text=False``.

        WSMessageTypeError (a TypeError) for any other message, which is then consumed.
        """
        msg = await self.receive(timeout)
        if msg.type is not _TEXT:
            raise WSMessageTypeError(_wrong_type(msg, "TEXT"))
        return msg.data

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """The next message, which must be BINARY (else WSMessageTypeError)."""
        msg = await self.receive(timeout)
        if msg.type is not _BINARY:
            raise WSMessageTypeError(_wrong_type(msg, "BINARY"))
        data: bytes = msg.data
        return data

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        """``loads`` of the next TEXT message (given bytes with ``decode_text=False``,
        which json.loads and orjson.loads both take)."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> ClientWebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<ClientWebSocketResponse {state} {self._response.url}>"


def _wrong_type(msg: WSMessage, expected: str) -> str:
    """The WSMessageTypeError text: what came instead (its data cut short)."""
    data = msg.data
    shown = (
        repr(data[:60]) + "..."
        if isinstance(data, (str, bytes)) and len(data) > 60
        else (repr(data))
    )
    return f"Received message WSMsgType.{msg.type.name}:{shown} is not WSMsgType.{expected}"


def _check_close_payload(payload: bytes) -> None:
    """A CLOSE payload given whole to send_frame: empty, or a sendable code and a UTF-8
    reason (the same rules as :meth:`ClientWebSocketResponse.close`)."""
    if not payload:
        return
    if len(payload) < 2:
        raise ValueError("a CLOSE payload is empty or starts with a 2-byte close code")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("a CLOSE reason must be UTF-8") from None
    _close_payload(int.from_bytes(payload[:2], "big"), reason)


def _close_payload(code: int, message: bytes | str) -> bytes:
    """A CLOSE frame's payload: the code, then the reason (at most 123 bytes)."""
    if not isinstance(code, int) or not (
        1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999
    ):
        raise ValueError(f"{code!r} is not a close code that may be sent (RFC 6455 §7.4)")
    return code.to_bytes(2, "big") + _control_payload(message, 123)


def _control_payload(message: bytes | str, limit: int = 125) -> bytes:
    if isinstance(message, str):
        data = message.encode("utf-8")
    elif isinstance(message, (bytes, bytearray, memoryview)):
        data = bytes(message)
    else:  # bytes(5) would silently send five zero bytes
        raise TypeError(f"a control frame payload must be bytes or str, not {message!r:.40}")
    if len(data) > limit:
        raise ValueError(f"control frame payload is {len(data)} bytes (max {limit})")
    return data
