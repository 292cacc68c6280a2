"""What :class:`cyhttp.h2_connection.H2Connection` reports: the events of an HTTP/2 client.

A leaf module of slotted dataclasses (values, meant to be read-only), so that a compiled
twin of the connection can return the same classes. Header lists are ``(name, value)``
pairs of bytes, names lower-case, in the order received, pseudo-headers removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .h2_errors import HTTP2Error

__all__ = (
    "ConnectionTerminated",
    "DataReceived",
    "Event",
    "GoAway",
    "InformationalResponse",
    "PingAcked",
    "PingReceived",
    "ResponseHeaders",
    "SettingsAcked",
    "SettingsChanged",
    "StreamEnded",
    "StreamReset",
    "TrailersReceived",
    "WindowUpdated",
)

Headers = list[tuple[bytes, bytes]]


@dataclass(slots=True)
class ResponseHeaders:
    """The final (non-1xx) response head of ``stream_id``. ``content_length`` is the
    validated Content-Length, or None when the response has none."""

    stream_id: int
    status: int
    headers: Headers
    content_length: int | None = None


@dataclass(slots=True)
class InformationalResponse:
    """A 1xx response head (100 Continue, 103 Early Hints...) before the final one."""

    stream_id: int
    status: int
    headers: Headers


@dataclass(slots=True)
class DataReceived:
    """Body bytes of ``stream_id``: those of one DATA frame, or of several that arrived
    together (the connection's frame reader joins them: one event per read of a large
    body, not one per frame). Once the reader has consumed them, hand
    ``flow_controlled_length`` to ``H2Connection.acknowledge_received_data`` so the peer
    may send more. It is ``len(data)``: the frame's padding was returned at once."""

    stream_id: int
    data: bytes
    flow_controlled_length: int


@dataclass(slots=True)
class TrailersReceived:
    """The trailer fields that end ``stream_id`` (a StreamEnded follows)."""

    stream_id: int
    headers: Headers


@dataclass(slots=True)
class StreamEnded:
    """The peer finished its side of ``stream_id``: the response is complete."""

    stream_id: int


@dataclass(slots=True)
class StreamReset:
    """``stream_id`` is over before its end. ``remote``: the peer sent RST_STREAM (with
    ``error_code``); otherwise we reset it because the peer broke the protocol on that
    stream, and ``error`` says how (the RST_STREAM is already in ``data_to_send``)."""

    stream_id: int
    error_code: int
    remote: bool
    error: HTTP2Error | None = None


@dataclass(slots=True)
class SettingsChanged:
    """The peer's SETTINGS, already applied and acknowledged: identifier -> new value."""

    changed: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class SettingsAcked:
    """The peer acknowledged our SETTINGS (the caller may stop its SETTINGS_TIMEOUT)."""


@dataclass(slots=True)
class PingAcked:
    """The answer to our ``ping()`` carrying ``data``."""

    data: bytes


@dataclass(slots=True)
class PingReceived:
    """The peer pinged us; the answer is already in ``data_to_send``."""

    data: bytes


@dataclass(slots=True)
class GoAway:
    """The peer is closing the connection: no new stream may open. Streams up to
    ``last_stream_id`` may still complete; ``unprocessed`` lists ours above it, which the
    peer never processed (they are closed now and may be retried elsewhere, idempotent
    requests at least)."""

    last_stream_id: int
    error_code: int
    debug_data: bytes
    unprocessed: tuple[int, ...] = ()


@dataclass(slots=True)
class WindowUpdated:
    """The peer let us send ``increment`` more bytes on ``stream_id`` (0: the connection):
    a ``send_data`` that was cut short may go on."""

    stream_id: int
    increment: int


@dataclass(slots=True)
class ConnectionTerminated:
    """The peer broke HTTP/2 and the connection is over: always the last event. ``error``
    says how; our GOAWAY with ``error_code`` is in ``data_to_send`` (send it, then close
    the socket). Every stream still open (``open_streams``) failed with ``error``."""

    error_code: int
    error: HTTP2Error
    open_streams: tuple[int, ...] = ()


Event = (
    ResponseHeaders
    | InformationalResponse
    | DataReceived
    | TrailersReceived
    | StreamEnded
    | StreamReset
    | SettingsChanged
    | SettingsAcked
    | PingAcked
    | PingReceived
    | GoAway
    | WindowUpdated
    | ConnectionTerminated
)
