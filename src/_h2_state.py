"""What both twins of the HTTP/2 connection share besides events and header rules.

The caller's errors, the stream states, the settings defaults and the checking of the
settings a caller asks for live here, in a leaf module, so that the compiled twin
(``_h2_connection.pyx``) and the pure one (``_h2_connection_py``) raise and return the
same classes: code that catches :class:`StreamClosedError` works with either.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ._h2_models import DEFAULT_MAX_FRAME_SIZE, SettingCode, settings_error

__all__ = (
    "DEFAULT_HEADER_TABLE_SIZE",
    "DEFAULT_LOCAL_SETTINGS",
    "DEFAULT_WINDOW",
    "PEER_DEFAULTS",
    "UNLIMITED",
    "ConnectionClosedError",
    "H2UsageError",
    "NoAvailableStreamError",
    "StreamClosedError",
    "StreamState",
    "check_local_settings",
)

DEFAULT_WINDOW = 65535  # RFC 9113 section 6.9.2: every window starts here
DEFAULT_HEADER_TABLE_SIZE = 4096
UNLIMITED = 2**32  # a peer setting that was never sent and has no default

#: what we advertise unless told otherwise (ENABLE_PUSH is always 0)
DEFAULT_LOCAL_SETTINGS: dict[int, int] = {
    SettingCode.HEADER_TABLE_SIZE: DEFAULT_HEADER_TABLE_SIZE,
    SettingCode.ENABLE_PUSH: 0,
    SettingCode.INITIAL_WINDOW_SIZE: 262144,
    SettingCode.MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE,
    SettingCode.MAX_HEADER_LIST_SIZE: 65536,
}
#: the peer's settings until its SETTINGS frame says otherwise (section 6.5.2)
PEER_DEFAULTS: dict[int, int] = {
    SettingCode.HEADER_TABLE_SIZE: DEFAULT_HEADER_TABLE_SIZE,
    SettingCode.ENABLE_PUSH: 1,
    SettingCode.MAX_CONCURRENT_STREAMS: UNLIMITED,
    SettingCode.INITIAL_WINDOW_SIZE: DEFAULT_WINDOW,
    SettingCode.MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE,
    SettingCode.MAX_HEADER_LIST_SIZE: UNLIMITED,
}


class H2UsageError(RuntimeError):
    """The caller asked for something the connection's state does not allow."""


class ConnectionClosedError(H2UsageError):
    """The connection failed or is closing: no new stream may open (or nothing may be sent
    at all, once it failed)."""


class NoAvailableStreamError(H2UsageError):
    """The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached, or stream ids ran out."""


class StreamClosedError(H2UsageError):
    """The stream is closed (or our side of it is): nothing more may be sent on it."""

    def __init__(self, stream_id: int, message: str) -> None:
        super().__init__(message)
        self.stream_id = stream_id


class StreamState(enum.IntEnum):
    """RFC 9113 section 5.1, as far as a client that refuses push can be in them."""

    IDLE = 0
    OPEN = 1
    HALF_CLOSED_LOCAL = 2
    HALF_CLOSED_REMOTE = 3
    CLOSED = 4


def check_local_settings(given: Mapping[int, int] | None) -> dict[int, int]:
    """:data:`DEFAULT_LOCAL_SETTINGS` updated with ``given``, each value checked
    (``ValueError`` for one RFC 9113 forbids, and for ENABLE_PUSH=1: we refuse push)."""
    settings = dict(DEFAULT_LOCAL_SETTINGS)
    for identifier, value in (given or {}).items():
        identifier, value = int(identifier), int(value)
        problem = settings_error(identifier, value)
        if problem is not None or not 0 <= value <= 0xFFFFFFFF:
            raise ValueError(problem[1] if problem else f"setting {identifier:#x} out of range")
        settings[identifier] = value
    if settings[SettingCode.ENABLE_PUSH]:
        raise ValueError("this client refuses server push: ENABLE_PUSH must be 0")
    return settings
