"""Sans-IO request serialisation: the request head, and body framing (chunked, deflate).

Nothing here touches a socket: the request layer asks for bytes and writes them. The head is
built as one string and encoded once, so a request costs one ``transport.write``.

Validation is done on the joined head rather than per header: a head is valid when it holds
exactly one CR and one LF per line we wrote (so no header name or value smuggled a line
break in) and no NUL. Header names must also be RFC 9110 tokens; names seen once are cached.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

__all__ = (
    "LAST_CHUNK",
    "REQUEST_CODINGS",
    "BodyFramer",
    "body_piece",
    "build_head",
    "check_method",
    "frame_chunk",
)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_GOOD_NAMES: set[str] = set()
_GOOD_METHODS: set[str] = set()

LAST_CHUNK = b"0\r\n\r\n"
#: the ``compress=`` values (Content-Encoding of a request body) BodyFramer can produce
REQUEST_CODINGS = frozenset(("deflate", "gzip"))


def check_method(method: str) -> str:
    """Return ``method`` if it is a token, else raise ValueError (TypeError if it is not
    a str) before anything is sent."""
    if method in _GOOD_METHODS:
        return method
    if not isinstance(method, str):
        raise TypeError(f"the HTTP method must be a str, got {method!r}")
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"invalid HTTP method {method!r}: it must be a token")
    if len(_GOOD_METHODS) < 64:
        _GOOD_METHODS.add(method)
    return method


def _check_name(name: str) -> None:
    if name in _GOOD_NAMES:
        return
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid header name {name!r}")
    if len(_GOOD_NAMES) < 1024:
        _GOOD_NAMES.add(name)


def build_head(request_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """``request_line`` (``"GET /path HTTP/1.1"``) plus header lines and the blank line.

    Raises ValueError if a header name is not a token, or a name or value (or the request
    line) contains CR, LF or NUL.
    """
    parts = [request_line, "\r\n"]
    lines = 1
    for name, value in headers:
        _check_name(name)
        parts += (name, ": ", value, "\r\n")
        lines += 1
    parts.append("\r\n")
    try:
        head = "".join(parts)
    except TypeError:
        _explain(request_line, headers)
        raise
    if head.count("\n") != lines + 1 or head.count("\r") != lines + 1 or "\x00" in head:
        _explain(request_line, headers)
    return head.encode("utf-8", "surrogateescape")


def _explain(request_line: str, headers: Iterable[tuple[str, str]]) -> None:
    """Slow path: find the offending field for the error message."""
    bad = ("\r", "\n", "\x00")
    if any(c in request_line for c in bad):
        raise ValueError(f"invalid character in request line {request_line!r}")
    for name, value in headers:
        if not isinstance(value, str):
            raise TypeError(f"the value of header {name!r} must be a str, got {value!r}")
        if any(c in value for c in bad):
            raise ValueError(f"invalid character (CR, LF or NUL) in value of header {name!r}")
    raise ValueError("invalid character (CR, LF or NUL) in the request head")


def body_piece(piece: Any) -> bytes:
    """One piece of a streamed request body as bytes: text as UTF-8, anything bytes-like as
    is. Any other type is refused, not converted (``bytes(3)`` would be three NUL bytes).
    The HTTP/1.1 and HTTP/2 body writers both take their pieces through it."""
    if isinstance(piece, str):
        return piece.encode("utf-8")
    if isinstance(piece, (bytes, bytearray, memoryview)):
        return bytes(piece)
    raise TypeError(f"a request body piece must be bytes-like or str, got {type(piece).__name__}")


def frame_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body. Empty data gives b"" (an empty chunk would end the body)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


class BodyFramer:
    """Turns body pieces into wire bytes: optionally deflate-compressed (zlib format, as
    ``Content-Encoding: deflate`` means), optionally chunked.

    ``length`` (a body sent with a Content-Length) makes the framer hold the body to
    exactly that many bytes: a piece that would go past it is refused before any of it
    is framed, and :meth:`finish` refuses a body that ended short. Either is a
    :class:`~cyhttp.client_exceptions.ClientPayloadError`: a server reading by the
    declared length would otherwise take the excess as the next request (request
    smuggling) or wait for bytes that never come.
    """

    __slots__ = ("_chunked", "_compressor", "_left", "_length")

    def __init__(
        self, *, chunked: bool, compress: str | None = None, length: int | None = None
    ) -> None:
        self._chunked = chunked
        self._length = length
        self._left = length
        if compress is None:
            self._compressor = None
        elif compress == "deflate":
            self._compressor = zlib.compressobj(wbits=zlib.MAX_WBITS)
        elif compress == "gzip":
            self._compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported request compression {compress!r}")

    def encode(self, data: bytes) -> bytes:
        left = self._left
        if left is not None:
            if len(data) > left:
                raise _payload_error(
                    f"the request body is longer than its Content-Length of {self._length} "
                    f"bytes; nothing past it was sent"
                )
            self._left = left - len(data)
        if self._compressor is not None:
            data = self._compressor.compress(data)
        if self._chunked:
            return frame_chunk(data)
        return data

    def finish(self) -> bytes:
        if self._left:
            raise _payload_error(
                f"the request body ended after {self._length - self._left} of the "  # type: ignore[operator]
                f"{self._length} bytes its Content-Length declares"
            )
        tail = b""
        if self._compressor is not None:
            tail = self._compressor.flush()
        if self._chunked:
            return frame_chunk(tail) + LAST_CHUNK
        return tail


def _payload_error(message: str) -> Exception:
    from .client_exceptions import ClientPayloadError

    return ClientPayloadError(message)
