"""Errors raised by the sans-IO HTTP response parser (both implementations).

A leaf module shared by ``_parser.pyx`` and ``_parser_py.py`` so that both twins raise the
same classes. Every error carries a human message and ``offset``: the number of bytes of the
response stream consumed before the offending byte (``None`` when it is not tied to one
byte, e.g. end of input). The client translates them at one boundary (the protocol):
:class:`BadHttpMessage` → ``ClientResponseError``, :class:`BadHttpPayload` →
``ClientPayloadError``.
"""

from __future__ import annotations

from typing import Any

from .client_exceptions import ClientPayloadError

__all__ = (
    "BadHttpMessage",
    "BadHttpPayload",
    "BadStatusLine",
    "HttpParserError",
    "HttpProcessingError",
    "IncompleteBody",
    "InvalidChunk",
    "InvalidFraming",
    "InvalidHeader",
    "LineTooLong",
    "TooManyHeaders",
    "WebSocketError",
)


class HttpParserError(Exception):
    """Base class: the bytes are not a valid HTTP/1.x response."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        super().__init__(message, offset)

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


#: aiohttp's name for the base class of its HTTP parsing errors
HttpProcessingError = HttpParserError


class BadHttpMessage(HttpParserError):
    """The status line or the header block is invalid."""


class BadStatusLine(BadHttpMessage):
    """The status line is not ``HTTP/1.x NNN reason``."""


class InvalidHeader(BadHttpMessage):
    """A header field is malformed (bad name, bad character, obs-fold, bad line ending)."""


class LineTooLong(BadHttpMessage, ClientPayloadError):
    """A line is longer than its limit: the status line or a header field (the parser), or
    a body line asked for with ``content.readline()``/``readuntil()`` (the body reader).

    Where aiohttp users look for it (``http_exceptions.LineTooLong``, a BadHttpMessage),
    and also a :class:`~cyhttp.client_exceptions.ClientPayloadError`, so that a body read
    failing this way is caught with the other body errors. A too long head line never
    escapes as this class: the protocol turns it into ``ClientResponseError``.
    """


class TooManyHeaders(BadHttpMessage):
    """More header (or trailer) fields than ``max_headers``."""


class InvalidFraming(BadHttpMessage):
    """The message length cannot be determined safely (bad or conflicting
    Content-Length, Content-Length with Transfer-Encoding, unknown transfer coding)."""


class BadHttpPayload(HttpParserError):
    """The body is invalid or was cut short."""


class InvalidChunk(BadHttpPayload):
    """A chunk-size line, chunk terminator or trailer section of a chunked body is malformed."""


class IncompleteBody(BadHttpPayload):
    """The input ended before the body was complete."""


class WebSocketError(Exception):
    """The peer broke RFC 6455/7692; ``code`` is the close code to fail the connection with
    (1002 protocol error, 1007 invalid data, 1009 message too big).

    Raised by both WebSocket frame reader twins; the client turns it into a CLOSE frame and
    an ERROR message. ``messages``: those the reader completed, in the same call, before
    the error (so none is lost).
    """

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        self.messages: list[Any] = []
        super().__init__(code, message)

    def __str__(self) -> str:
        return f"{self.message} (close code {self.code})"
