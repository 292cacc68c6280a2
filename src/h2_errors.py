"""Errors of the HTTP/2 codecs (HPACK and frames), shared by both twins of each.

A leaf module, like :mod:`cyhttp.http_exceptions`, so the compiled and pure twins raise the
same classes. Each error carries ``error_code``: the RFC 9113 error code the connection (or
the stream) must be reset with, and, like every parser error, a message and ``offset`` (the
byte of the header block or frame where the problem was found, or ``None``).

They derive from :class:`~cyhttp.http_exceptions.BadHttpMessage`, so a layer that already
turns a malformed HTTP/1.1 response into ``ClientResponseError`` does the same for HTTP/2.
"""

from __future__ import annotations

import enum
from typing import Any

from .http_exceptions import BadHttpMessage

__all__ = (
    "ErrorCode",
    "FrameError",
    "HPACKError",
    "HTTP2Error",
    "HeaderListTooLarge",
    "StreamError",
)


class ErrorCode(enum.IntEnum):
    """RFC 9113 section 7 error codes."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


class HTTP2Error(BadHttpMessage):
    """The peer broke HTTP/2; ``error_code`` says how to reset the connection."""

    error_code: ErrorCode = ErrorCode.PROTOCOL_ERROR


class HPACKError(HTTP2Error):
    """A header block cannot be decoded (RFC 7541): a connection error, because the
    decoder's dynamic table can no longer be trusted to match the peer's."""

    error_code = ErrorCode.COMPRESSION_ERROR


class HeaderListTooLarge(HPACKError):
    """The decoded header list is larger than ``max_header_list_size``.

    Unlike its parent this only fails the stream: the decoder read the whole block, so its
    dynamic table still matches the peer's and the connection can go on.
    """

    error_code = ErrorCode.PROTOCOL_ERROR


class FrameError(HTTP2Error):
    """A frame breaks RFC 9113 in a way that fails the whole connection (send GOAWAY with
    ``error_code``). The frame reader that raised it stays failed."""

    def __init__(self, error_code: ErrorCode, message: str, offset: int | None = None) -> None:
        super().__init__(message, offset)
        self.error_code = error_code


class StreamError(HTTP2Error):
    """A frame fails only its stream (send RST_STREAM with ``error_code`` on ``stream_id``).

    The reader has consumed the frame and can go on. ``frame``: the decoded frame when one
    could be built (a HEADERS frame's field block must still go through HPACK, to keep the
    dynamic table in step with the peer's), else ``None``.
    """

    def __init__(
        self,
        error_code: ErrorCode,
        stream_id: int,
        message: str,
        offset: int | None = None,
        frame: Any = None,
    ) -> None:
        super().__init__(message, offset)
        self.error_code = error_code
        self.stream_id = stream_id
        self.frame = frame
