"""Errors raised by the sans-IO HTTP response parser (both implementations).

A leaf module shared by ``_parser.pyx`` and ``_parser_py.py`` so that both twins raise the
same classes. Every error carries a human message and ``offset``: the number of bytes of the
response stream consumed before the offending byte (``None`` when it is not tied to one
byte, e.g. end of input). The client translates them at one boundary (the protocol):
:class:`BadHttpMessage` → ``ClientResponseError``, :class:`BadHttpPayload` →
``ClientPayloadError``.
"""

from __future__ import annotations

__all__ = (
    "BadHttpMessage",
    "BadHttpPayload",
    "BadStatusLine",
    "HttpParserError",
    "IncompleteBody",
    "InvalidChunk",
    "InvalidFraming",
    "InvalidHeader",
    "LineTooLong",
    "TooManyHeaders",
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


class BadHttpMessage(HttpParserError):
    """The status line or the header block is invalid."""


class BadStatusLine(BadHttpMessage):
    """The status line is not ``HTTP/1.x NNN reason``."""


class InvalidHeader(BadHttpMessage):
    """A header field is malformed (bad name, bad character, obs-fold, bad line ending)."""


class LineTooLong(BadHttpMessage):
    """The status line or a header field is longer than the configured limit."""


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
