"""RFC 6455 framing, sans-IO: the pure-Python twin of ``_websocket.pyx``.

Both twins expose exactly this API (``cyhttp.http_websocket.impl`` is the one in use):

``websocket_mask(mask, data) -> None``
    XOR ``data`` (a bytearray or writable memoryview) in place with the 4-byte ``mask``
    (RFC 6455 §5.3). Masking is its own inverse.

``build_frame(opcode, payload, *, fin=True, rsv1=False, mask=True, key=None) -> bytes``
    One complete frame: header, masking key and (masked) payload, assembled in a single
    new bytes object so the payload is copied once. ``payload`` is any bytes-like object
    (text is encoded by the caller). Keys come from ``os.urandom`` fetched
    :data:`KEY_POOL_SIZE` bytes at a time (never a PRNG; the pool is dropped in a forked
    child so two processes never share keys). ``key`` pins the key: for tests only.
    ``rsv1`` marks a permessage-deflate compressed message (compressing is the caller's
    job, see :mod:`cyhttp._ws_deflate`). Bad arguments raise ValueError/TypeError.

``FrameReader(max_msg_size=4 MiB, *, inflater=None, accept_masked=True, decode_text=True)``
    ``feed_data(data) -> list[WSMessage]`` takes the bytes received so far, split anywhere,
    and returns the messages they complete, in order: TEXT (``data`` str; with
    ``decode_text`` false the raw, unvalidated UTF-8 bytes, for parsers such as orjson that
    take bytes and check the encoding themselves), BINARY (bytes),
    PING/PONG (bytes), CLOSE (``data`` the code, 1005 when the frame has none, ``extra``
    the reason). Fragmented messages are reassembled; control frames that arrive between
    their fragments are returned as they come. ``extra`` is ``""`` except for CLOSE.

    Violations raise :class:`~cyhttp.http_exceptions.WebSocketError` with the close code to
    fail the connection with: 1002 (reserved opcode or RSV bit, fragmented or >125-byte
    control frame, bad continuation, 64-bit length with the top bit set, bad close frame,
    masked frame when ``accept_masked`` is false, corrupt compressed data), 1007 (text, when
    decoded, or close reason not UTF-8), 1009 (message longer than ``max_msg_size``; 0 means
    no limit; checked from the frame header, before any payload is buffered, and again on the
    inflated size). The messages completed earlier in the same call are on the exception's
    ``messages`` attribute, so nothing received before the error is lost. After an error
    the reader is dead: every later call raises the same exception.

    ``inflater`` (an object with ``inflate(data: bytes, max_size: int) -> bytes``, e.g.
    :class:`cyhttp._ws_deflate.Inflater`) is given when permessage-deflate was negotiated;
    only then is RSV1 allowed, on the first frame of a data message, and such a message is
    inflated whole once its last fragment arrives.

The per-message glue of :class:`cyhttp.client_ws.ClientWebSocketResponse` (here, compiled in
the other twin, because it runs for every message and a Python call costs as much as the
frame). ``ws`` is that socket; they read and call its private members named below.

``Sender(ws, closed_error)``
    ``send(opcode, payload, compress=None) -> bool`` writes one data frame to
    ``ws._transport`` (compressed with ``ws._deflater`` when there is one and ``compress`` is
    None or true) and returns whether ``ws._proto._write_paused`` (the transport's buffer is
    over its high-water mark). ``ws._deflater`` and ``ws._proto`` are read once, when the
    Sender is made: they must be set by then and never change. ``closed_error(text)`` is
    raised when ``ws._closed`` or ``ws._close_sent`` is set, or the transport is gone or
    closing (checked before compressing, so a refused message never advances the
    compressor). ``send_bytes(data,
    compress=None)`` and ``send_str(data, compress=None)`` check the type (TypeError) and
    send BINARY or TEXT (UTF-8).

``ListenerFeed(ws, reader, listener)``
    The ``take_over`` receiver of a socket with a listener. ``feed_data(data)``: nothing
    once ``ws._listener_done``; else sets ``ws._rx_seen`` (when ``ws._heartbeat``, read once
    when the feed is made, is not None), parses with ``reader`` and calls
    ``listener(ws, msg)`` for each TEXT and BINARY message (dropped once ``ws._closed``);
    an exception from it goes to ``ws._listener_failed(exc)`` and ends the call; any other
    message goes to ``ws._listener_control(msg)``, which returns False to end the call; a
    reader error comes last, to ``ws._fail(error)``, after the messages completed before
    it. ``feed_eof()`` and ``set_exception(exc)`` are the socket's own.
"""

from __future__ import annotations

import os
from typing import Any

from ._models import WSMessage, WSMsgType
from .http_exceptions import WebSocketError

__all__ = (
    "KEY_POOL_SIZE",
    "FrameReader",
    "ListenerFeed",
    "Sender",
    "build_frame",
    "websocket_mask",
)

#: bytes of os.urandom fetched at once for masking keys (1024 frames' worth).
KEY_POOL_SIZE = 4096

_tuple_new = tuple.__new__
_CONTROL_MAX = 125
_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY

# Close codes a peer may put on the wire (RFC 6455 §7.4 and the IANA registry):
# 1004-1006 and 1015 are reserved for local use, 1016-2999 for future standards.
_CLOSE_CODES_OK = frozenset((*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)))

# opcode -> message type (reserved opcodes are absent)
_TYPES = {
    0x1: WSMsgType.TEXT,
    0x2: WSMsgType.BINARY,
    0x8: WSMsgType.CLOSE,
    0x9: WSMsgType.PING,
    0xA: WSMsgType.PONG,
}
_VALID_OPCODES = frozenset((0x0, *_TYPES))


_XOR_TABLES: list[bytes | None] = [None] * 256


def _xor_table(k: int) -> bytes:
    """The 256-byte translation table that XORs every byte with ``k`` (built on first use)."""
    table = _XOR_TABLES[k]
    if table is None:
        table = _XOR_TABLES[k] = bytes(b ^ k for b in range(256))
    return table


def _xor_small(key: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """``data`` XOR the repeated ``key``, as one big-integer operation (best below 512 B)."""
    n = len(data)
    repeated = (key * ((n >> 2) + 1))[:n]
    value = int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(n, "little")


def _xor_in_place(key: bytes, data: bytearray) -> None:
    """XOR a bytearray in place: four strided ``bytes.translate`` passes (best from 512 B)."""
    for i in range(4):
        data[i::4] = data[i::4].translate(_xor_table(key[i]))


def websocket_mask(mask: bytes, data: bytearray | memoryview) -> None:
    """XOR ``data`` in place with the 4-byte ``mask``.

    No per-byte Python loop: short payloads are XORed as one big integer, longer ones as
    four strided ``bytes.translate`` passes (one per key byte), whichever the interpreter
    does faster in C at that size (the crossover is near 512 bytes).
    """
    if len(mask) != 4:
        raise ValueError(f"the mask must be 4 bytes, not {len(mask)}")
    if type(data) is not bytearray and (not isinstance(data, memoryview) or data.readonly):
        raise TypeError(f"data must be a bytearray or writable memoryview, not {data!r:.40}")
    n = len(data)
    if n < 512:
        if n:
            data[:] = _xor_small(bytes(mask), data)
    elif type(data) is bytearray:
        _xor_in_place(bytes(mask), data)
    else:
        buf = bytearray(data)
        _xor_in_place(bytes(mask), buf)
        data[:] = buf


class _KeyPool:
    """Masking keys cut from one os.urandom read at a time."""

    __slots__ = ("pool", "pos")

    def __init__(self) -> None:
        self.pool = b""
        self.pos = 0

    def take(self) -> bytes:
        pos = self.pos
        if pos + 4 > len(self.pool):
            self.pool = os.urandom(KEY_POOL_SIZE)
            pos = 0
        self.pos = pos + 4
        return self.pool[pos : pos + 4]

    def discard(self) -> None:
        self.pool = b""
        self.pos = 0


_keys = _KeyPool()
os.register_at_fork(after_in_child=_keys.discard)


def build_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bool = True,
    key: bytes | None = None,
) -> bytes:
    """Serialise one frame (see the module docstring)."""
    if opcode not in _VALID_OPCODES:
        raise ValueError(f"invalid opcode {opcode!r}")
    if type(payload) is not bytes:
        if isinstance(payload, str):
            raise TypeError("payload must be bytes-like, not str (encode text first)")
        payload = memoryview(payload).cast("B")
    n = len(payload)
    if opcode >= 0x8:
        if n > _CONTROL_MAX:
            raise ValueError(f"control frame payload is {n} bytes (max {_CONTROL_MAX})")
        if not fin:
            raise ValueError("control frames cannot be fragmented")
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes((b0, mbit | n))
    elif n < 0x10000:
        head = bytes((b0, mbit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, mbit | 127)) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    if key is None:
        key = _keys.take()
    elif len(key) != 4:
        raise ValueError(f"the masking key must be 4 bytes, not {len(key)}")
    if n < 512:
        return b"".join((head, key, _xor_small(key, payload)))
    body = bytearray(payload)
    _xor_in_place(key, body)
    return b"".join((head, key, body))


class FrameReader:
    """Incremental frame parser and message assembler (see the module docstring)."""

    def __init__(
        self,
        max_msg_size: int = 4 * 1024 * 1024,
        *,
        inflater: Any = None,
        accept_masked: bool = True,
        decode_text: bool = True,
    ) -> None:
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0 (0 = unlimited)")
        self.max_msg_size = max_msg_size
        self._inflater = inflater
        self._accept_masked = accept_masked
        self._decode_text = decode_text
        self._buf = bytearray()
        self._pos = 0  # start of the unparsed bytes in _buf
        # the frame whose payload is awaited: (first byte, length, key or None)
        self._frame: tuple[int, int, bytes | None] | None = None
        # the fragmented message in progress (opcode -1: none)
        self._msg_opcode = -1
        self._msg_compressed = False
        self._msg_parts: list[bytes] = []
        self._msg_size = 0
        self._error: WebSocketError | None = None

    def feed_data(self, data: bytes | bytearray | memoryview) -> list[WSMessage]:
        """Parse ``data`` (any split); return the messages it completes."""
        if self._error is not None:
            raise self._error
        out: list[WSMessage] = []
        try:
            self._feed(data, out)
        except WebSocketError as exc:
            exc.messages = out
            self._error = exc
            self._buf = bytearray()  # the reader is dead: free what it held, as the twin does
            self._msg_parts = []
            raise
        return out

    def _feed(self, data: bytes | bytearray | memoryview, out: list[WSMessage]) -> None:
        buf = self._buf
        buf += data
        pos = self._pos
        end = len(buf)
        while True:
            frame = self._frame
            if frame is None:
                if end - pos < 2:
                    break
                b0 = buf[pos]
                b1 = buf[pos + 1]
                length = b1 & 0x7F
                size = 2 + (2 if length == 126 else 8 if length == 127 else 0)
                masked = b1 & 0x80
                if end - pos < size + (4 if masked else 0):
                    break
                if length == 126:
                    length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                elif length == 127:
                    length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                    if length >> 63:
                        raise WebSocketError(1002, "64-bit frame length has the top bit set")
                self._check_header(b0, length, masked)
                key = None
                if masked:
                    key = bytes(buf[pos + size : pos + size + 4])
                    size += 4
                pos += size
                frame = self._frame = (b0, length, key)
            b0, length, key = frame
            if end - pos < length:
                break
            if key is not None:
                chunk = buf[pos : pos + length]
                websocket_mask(key, chunk)
                payload = bytes(chunk)
            elif length < 4096:
                payload = bytes(buf[pos : pos + length])
            else:  # one copy, not two
                with memoryview(buf) as view:
                    payload = view[pos : pos + length].tobytes()
            pos += length
            self._frame = None
            msg = self._on_frame(b0, payload)
            if msg is not None:
                out.append(msg)
        if pos == end:
            buf.clear()
            pos = 0
        elif pos > 65536:
            del buf[:pos]
            pos = 0
        self._pos = pos

    def _check_header(self, b0: int, length: int, masked: int) -> None:
        """Reject a frame from its header alone, before its payload is buffered."""
        opcode = b0 & 0x0F
        if b0 & 0x30:
            raise WebSocketError(1002, "RSV2/RSV3 bit set without a negotiated extension")
        if masked and not self._accept_masked:
            raise WebSocketError(1002, "masked frame from the server")
        if opcode >= 0x8:
            if opcode > 0xA:
                raise WebSocketError(1002, f"reserved opcode {opcode:#x}")
            if not b0 & 0x80:
                raise WebSocketError(1002, "fragmented control frame")
            if length > _CONTROL_MAX:
                raise WebSocketError(1002, f"control frame of {length} bytes (max 125)")
            if b0 & 0x40:
                raise WebSocketError(1002, "RSV1 bit set on a control frame")
            return
        if opcode > 0x2:
            raise WebSocketError(1002, f"reserved opcode {opcode:#x}")
        if opcode == 0:
            if self._msg_opcode < 0:
                raise WebSocketError(1002, "continuation frame with no message to continue")
            if b0 & 0x40:
                raise WebSocketError(1002, "RSV1 bit set on a continuation frame")
        else:
            if self._msg_opcode >= 0:
                raise WebSocketError(1002, "new data frame before the fragmented message ended")
            if b0 & 0x40 and self._inflater is None:
                raise WebSocketError(1002, "RSV1 bit set without permessage-deflate")
        limit = self.max_msg_size
        if limit and (self._msg_size if opcode == 0 else 0) + length > limit:
            raise WebSocketError(1009, f"message exceeds max_msg_size ({limit} bytes)")

    def _on_frame(self, b0: int, payload: bytes) -> WSMessage | None:
        opcode = b0 & 0x0F
        if opcode >= 0x8:
            return self._control(opcode, payload)
        if opcode:
            if b0 & 0x80:
                return self._message(opcode, payload, b0 & 0x40)
            self._msg_opcode = opcode
            self._msg_compressed = bool(b0 & 0x40)
            self._msg_parts = [payload]
            self._msg_size = len(payload)
            return None
        self._msg_parts.append(payload)
        self._msg_size += len(payload)
        if not b0 & 0x80:
            return None
        data = b"".join(self._msg_parts)
        opcode = self._msg_opcode
        compressed = self._msg_compressed
        self._msg_opcode = -1
        self._msg_parts = []
        self._msg_size = 0
        return self._message(opcode, data, compressed)

    def _message(self, opcode: int, data: bytes, compressed: object) -> WSMessage:
        if compressed:
            data = self._inflater.inflate(data, self.max_msg_size)
        if opcode == 0x1:
            if not self._decode_text:
                return _tuple_new(WSMessage, (WSMsgType.TEXT, data, ""))
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise WebSocketError(1007, f"text message is not UTF-8 ({exc.reason})") from None
            return _tuple_new(WSMessage, (WSMsgType.TEXT, text, ""))
        return _tuple_new(WSMessage, (WSMsgType.BINARY, data, ""))

    def _control(self, opcode: int, payload: bytes) -> WSMessage:
        if opcode != 0x8:
            return _tuple_new(WSMessage, (_TYPES[opcode], payload, ""))
        n = len(payload)
        if n == 0:
            return _tuple_new(WSMessage, (WSMsgType.CLOSE, 1005, ""))
        if n == 1:
            raise WebSocketError(1002, "close frame with a 1-byte payload")
        code = (payload[0] << 8) | payload[1]
        if code not in _CLOSE_CODES_OK:
            raise WebSocketError(1002, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WebSocketError(1007, f"close reason is not UTF-8 ({exc.reason})") from None
        return _tuple_new(WSMessage, (WSMsgType.CLOSE, code, reason))


# ------------------------------------------------------------ the socket's per-message glue


class Sender:
    """The data-frame writer of one client WebSocket (see the module docstring)."""

    __slots__ = ("_closed_error", "_deflater", "_proto", "_ws")

    def __init__(self, ws: Any, closed_error: Any) -> None:
        self._ws = ws
        self._closed_error = closed_error
        self._deflater = ws._deflater
        self._proto = ws._proto

    def send(self, opcode: int, payload: Any, compress: Any = None) -> bool:
        ws = self._ws
        if ws._closed or ws._close_sent:
            raise self._closed_error("WebSocket connection is closed")
        transport = ws._transport
        if transport is None or transport.is_closing():
            raise self._closed_error("Cannot write to closing transport")
        deflater = self._deflater
        if deflater is not None and (compress is None or compress):
            transport.write(build_frame(opcode, deflater.deflate(payload), rsv1=True))
        else:
            transport.write(build_frame(opcode, payload))
        return bool(self._proto._write_paused)

    def send_bytes(self, data: Any, compress: Any = None) -> bool:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        return self.send(2, data, compress)

    def send_str(self, data: Any, compress: Any = None) -> bool:
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        return self.send(1, data.encode("utf-8"), compress)


class ListenerFeed:
    """The receiver of a client WebSocket with a listener (see the module docstring)."""

    __slots__ = ("_heartbeat", "_listener", "_reader", "_ws")

    def __init__(self, ws: Any, reader: Any, listener: Any) -> None:
        self._ws = ws
        self._reader = reader
        self._listener = listener
        self._heartbeat = ws._heartbeat is not None

    def feed_data(self, data: Any) -> None:
        ws = self._ws
        if ws._listener_done:
            return
        if self._heartbeat:
            ws._rx_seen = True
        error = None
        try:
            messages = self._reader.feed_data(data)
        except WebSocketError as exc:
            messages = exc.messages
            error = exc
        listener = self._listener
        for msg in messages:
            kind = msg[0]
            if kind is _BINARY or kind is _TEXT:
                if ws._closed:
                    continue
                try:
                    listener(ws, msg)
                except Exception as exc:
                    ws._listener_failed(exc)
                    return
            elif not ws._listener_control(msg):
                return
        if error is not None:
            ws._fail(error)

    def feed_eof(self) -> None:
        self._ws.feed_eof()

    def set_exception(self, exc: BaseException) -> None:
        self._ws.set_exception(exc)
