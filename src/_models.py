"""Plain data types shared by both parser twins and the client layers above them."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy, istr

__all__ = (
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "ResponseHead",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
)


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)


#: decoded header names (bytes → istr), bounded; see ResponseHead.headers
_HEADER_NAMES: dict[bytes, istr] = {}
_HEADER_NAMES_MAX = 512


class ResponseHead:
    """A parsed status line and header block, delivered by the parser per response.

    ``keep_alive`` is the parser's framing decision: True when the connection may carry
    another message after this one. ``upgrade`` is True for 101 Switching Protocols (and a
    2xx answer to CONNECT); the parser then stops and hands back the unparsed tail bytes.
    ``content_length`` is None when absent; ``chunked`` tells the framing; ``encoding`` is
    the lower-cased Content-Encoding, or None.
    """

    __slots__ = (
        "_headers",
        "chunked",
        "content_length",
        "encoding",
        "keep_alive",
        "raw_headers",
        "reason",
        "status",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        version: HttpVersion,
        status: int,
        reason: str,
        raw_headers: tuple[tuple[bytes, bytes], ...],
        keep_alive: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
        encoding: str | None,
        headers: CIMultiDictProxy[str] | None = None,
    ) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.raw_headers = raw_headers
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.encoding = encoding
        self._headers = headers

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """Headers as a read-only case-insensitive multidict, built once, on first use.

        Names and values are decoded as UTF-8 with ``surrogateescape``, as aiohttp does:
        UTF-8 text reads naturally and any other octet survives a round trip.
        """
        headers = self._headers
        if headers is None:
            # names repeat across responses: decode each once, as istr (multidict then
            # skips case-folding it), in a bounded cache shared with every head
            names = _HEADER_NAMES
            pairs = []
            for name, value in self.raw_headers:
                key = names.get(name)
                if key is None:
                    key = istr(name.decode("utf-8", "surrogateescape"))
                    if len(names) < _HEADER_NAMES_MAX:
                        names[name] = key
                pairs.append((key, value.decode("utf-8", "surrogateescape")))
            headers = self._headers = CIMultiDictProxy(CIMultiDict(pairs))
        return headers

    def __repr__(self) -> str:
        return (
            f"<ResponseHead HTTP/{self.version.major}.{self.version.minor} {self.status} "
            f"{self.reason!r} headers={len(self.raw_headers)} keep_alive={self.keep_alive}>"
        )


class WSMsgType(IntEnum):
    """WebSocket message types: the RFC 6455 opcodes, plus local states past 0xFF."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # aiohttp 2.x lower-case aliases
    continuation = CONTINUATION
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(IntEnum):
    """RFC 6455 §7.4 close status codes."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """One received WebSocket message: ``data`` is str (TEXT; the raw UTF-8 bytes when the
    socket was opened with ``decode_text=False``), bytes (BINARY, PING, PONG), the close code
    (CLOSE) or the exception (ERROR); ``extra`` is the close reason."""

    type: WSMsgType
    data: Any
    extra: Any

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Decode ``data`` as JSON."""
        return loads(self.data)
