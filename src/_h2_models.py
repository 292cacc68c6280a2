"""HTTP/2 frames (RFC 9113 section 6) as values, and the protocol's constants.

A leaf module shared by the frame codec twins, so that both build and accept the same
classes. Frames are slotted dataclasses: what the reader returns and what the writer takes.
They are meant to be read-only but are not frozen, because a frozen dataclass's
``__init__`` costs three times as much (530 ns against 170 for a DATA frame), which would
be most of the compiled reader's time per frame. A header block arrives as one
:class:`HeadersFrame` or :class:`PushPromiseFrame` whose ``block`` is the whole field block
(the reader joins the CONTINUATION frames; the writer splits it again).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .h2_errors import ErrorCode

__all__ = (
    "CONNECTION_PREFACE",
    "DEFAULT_MAX_FRAME_SIZE",
    "FRAME_HEADER_SIZE",
    "MAX_FRAME_SIZE_LIMIT",
    "MAX_STREAM_ID",
    "MAX_WINDOW",
    "ContinuationFrame",
    "DataFrame",
    "Flag",
    "Frame",
    "FrameType",
    "GoAwayFrame",
    "HeadersFrame",
    "PingFrame",
    "Priority",
    "PriorityFrame",
    "PushPromiseFrame",
    "RstStreamFrame",
    "SettingCode",
    "SettingsFrame",
    "UnknownFrame",
    "WindowUpdateFrame",
    "check_max_frame_size",
    "settings_error",
)

#: what a client sends first on a connection (RFC 9113 section 3.4), before its SETTINGS
CONNECTION_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER_SIZE = 9
DEFAULT_MAX_FRAME_SIZE = 16384  # 2**14, also the smallest value SETTINGS may set
MAX_FRAME_SIZE_LIMIT = 16777215  # 2**24 - 1
MAX_STREAM_ID = 0x7FFFFFFF
MAX_WINDOW = 0x7FFFFFFF


class FrameType(enum.IntEnum):
    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


class Flag(enum.IntFlag):
    """Frame flags; the same bit means different things in different frame types."""

    END_STREAM = 0x1
    ACK = 0x1
    END_HEADERS = 0x4
    PADDED = 0x8
    PRIORITY = 0x20


class SettingCode(enum.IntEnum):
    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8  # RFC 8441


@dataclass(frozen=True, slots=True)
class Priority:
    """The (deprecated, RFC 9113 section 5.3.2) priority fields of HEADERS and PRIORITY."""

    depends_on: int = 0
    weight: int = 16  # 1..256 (sent as weight - 1)
    exclusive: bool = False


@dataclass(slots=True)
class DataFrame:
    stream_id: int
    data: bytes
    end_stream: bool = False
    #: None: not padded; else the Pad Length field (the padding bytes that follow the data)
    pad_length: int | None = None

    @property
    def flow_controlled_length(self) -> int:
        """What the frame costs in flow control: its whole payload, padding included."""
        return len(self.data) + (0 if self.pad_length is None else self.pad_length + 1)


@dataclass(slots=True)
class HeadersFrame:
    stream_id: int
    block: bytes  # the whole field block, CONTINUATIONs joined
    end_stream: bool = False
    priority: Priority | None = None
    pad_length: int | None = None


@dataclass(slots=True)
class PriorityFrame:
    stream_id: int
    priority: Priority


@dataclass(slots=True)
class RstStreamFrame:
    stream_id: int
    error_code: int  # an ErrorCode, or a code this endpoint does not know


@dataclass(slots=True)
class SettingsFrame:
    #: (identifier, value) in the order sent; unknown identifiers are kept, to be ignored
    settings: tuple[tuple[int, int], ...] = ()
    ack: bool = False
    stream_id: int = 0


@dataclass(slots=True)
class PushPromiseFrame:
    stream_id: int
    promised_stream_id: int
    block: bytes  # the whole field block, CONTINUATIONs joined
    pad_length: int | None = None


@dataclass(slots=True)
class PingFrame:
    opaque_data: bytes = bytes(8)
    ack: bool = False
    stream_id: int = 0


@dataclass(slots=True)
class GoAwayFrame:
    last_stream_id: int
    error_code: int
    debug_data: bytes = b""
    stream_id: int = 0


@dataclass(slots=True)
class WindowUpdateFrame:
    stream_id: int
    increment: int


@dataclass(slots=True)
class ContinuationFrame:
    """Only for writing a header block by hand (tests, odd peers): the reader joins
    CONTINUATIONs into their HEADERS or PUSH_PROMISE and never returns one."""

    stream_id: int
    block: bytes
    end_headers: bool = False


@dataclass(slots=True)
class UnknownFrame:
    """A frame of a type RFC 9113 does not define: to be ignored (section 5.5)."""

    type: int
    flags: int
    stream_id: int
    payload: bytes


Frame = (
    DataFrame
    | HeadersFrame
    | PriorityFrame
    | RstStreamFrame
    | SettingsFrame
    | PushPromiseFrame
    | PingFrame
    | GoAwayFrame
    | WindowUpdateFrame
    | ContinuationFrame
    | UnknownFrame
)


def check_max_frame_size(value: int) -> int:
    """A SETTINGS_MAX_FRAME_SIZE value: 2**14 to 2**24 - 1 (RFC 9113 section 6.5.2)."""
    value = int(value)
    if not DEFAULT_MAX_FRAME_SIZE <= value <= MAX_FRAME_SIZE_LIMIT:
        raise ValueError(f"max_frame_size must be from 16384 to 16777215, not {value}")
    return value


def settings_error(identifier: int, value: int) -> tuple[ErrorCode, str] | None:
    """Why a SETTINGS value is invalid (RFC 9113 section 6.5.2), or None."""
    if identifier in (0x2, 0x8) and value > 1:  # ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL
        return ErrorCode.PROTOCOL_ERROR, f"setting {identifier:#x} must be 0 or 1, not {value}"
    if identifier == 0x4 and value > MAX_WINDOW:  # INITIAL_WINDOW_SIZE
        return ErrorCode.FLOW_CONTROL_ERROR, f"initial window size {value} is above 2**31 - 1"
    if identifier == 0x5 and not DEFAULT_MAX_FRAME_SIZE <= value <= MAX_FRAME_SIZE_LIMIT:
        return ErrorCode.PROTOCOL_ERROR, f"max frame size {value} is outside 16384..16777215"
    return None
