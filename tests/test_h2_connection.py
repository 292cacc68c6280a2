"""The sans-IO HTTP/2 client connection (``cyhttp.h2_connection``).

Three kinds of peer: the ``h2`` package playing an independent server in memory (whole
exchanges, both ways); frames written by hand for hostile or broken servers, each of which
must end the stream or the connection with the right RFC 9113 error code on the wire; and
hypercorn serving an ASGI app over h2c on a real socket. Every test runs with both twins of
the connection, each over the codec twins of its kind (the ``conn_cls`` fixture: compiled
with compiled, pure with pure), and a hypothesis fuzz feeds random bytes and frames. The
twins must also agree with each other exactly: the same events and the same bytes for the
same random exchanges with h2 and the same hostile frames, and the compiled field checks
the same outcomes as the pure rules of ``_h2_headers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from cyhttp import _compat, _h2frames_py, _hpack_py, h2_frames, hpack
from cyhttp import h2_connection as our_connection
from cyhttp._h2_models import (
    CONNECTION_PREFACE,
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    WindowUpdateFrame,
)
from cyhttp.h2_connection import (
    ConnectionClosedError,
    ConnectionTerminated,
    DataReceived,
    GoAway,
    H2Connection,
    H2UsageError,
    InformationalResponse,
    NoAvailableStreamError,
    PingAcked,
    PingReceived,
    ResponseHeaders,
    SettingsAcked,
    SettingsChanged,
    StreamClosedError,
    StreamEnded,
    StreamReset,
    StreamState,
    TrailersReceived,
    WindowUpdated,
    request_headers_for,
    strip_connection_headers,
)
from cyhttp.h2_errors import ErrorCode, HTTP2Error, StreamError

from .conftest import Impl

h2_connection = pytest.importorskip("h2.connection")
h2_config = pytest.importorskip("h2.config")
h2_events = pytest.importorskip("h2.events")
h2_settings = pytest.importorskip("h2.settings")

raw = _h2frames_py.raw_frame
GET = [(":method", "GET"), (":scheme", "http"), (":authority", "example.com"), (":path", "/")]
POST = [(":method", "POST"), (":scheme", "http"), (":authority", "example.com"), (":path", "/")]


def _twin_class(compiled: bool) -> type[H2Connection]:
    """H2Connection of one twin over the codec twins of the same kind: the compiled
    connection with the compiled codecs, or everything pure."""
    if not compiled:
        module: ModuleType | None = our_connection.h2connection_py
        frames: ModuleType | None = h2_frames.h2frames_py
        codec: ModuleType | None = hpack.hpack_py
    else:
        module = our_connection.h2connection_c
        frames, codec = h2_frames.h2frames_c, hpack.hpack_c
        if module is None or frames is None or codec is None:
            pytest.fail("the compiled HTTP/2 modules are not built (run `make build`)")
    assert module is not None

    class Connection(module.H2Connection):  # type: ignore[name-defined,misc]
        frame_codec = frames
        hpack_codec = codec

    return Connection


@pytest.fixture(scope="session")
def conn_cls(impl: Impl) -> type[H2Connection]:
    """H2Connection of the twin that matches ``impl``, over the matching codec twins."""
    return _twin_class(not impl.is_pure_python)


def test_the_default_class_uses_the_selected_twins(expect_compiled: bool) -> None:
    assert H2Connection.frame_codec is h2_frames
    assert H2Connection.hpack_codec is hpack
    expected = our_connection.h2connection_c if expect_compiled else our_connection.h2connection_py
    assert expected is not None, "the compiled connection is not built (run `make build`)"
    assert H2Connection is expected.H2Connection
    assert _compat.COMPILED["_h2_connection"] is expect_compiled


def test_the_twins_share_their_errors_and_states() -> None:
    """Code that catches the selected twin's errors catches the other's too."""
    compiled = our_connection.h2connection_c
    if compiled is None:
        pytest.skip("the compiled connection is not built")
    pure = our_connection.h2connection_py
    for name in ("StreamClosedError", "H2UsageError", "StreamState", "DataReceived"):
        assert getattr(compiled, name) is getattr(pure, name) is getattr(our_connection, name)


@pytest.mark.parametrize(
    "module",
    ["cyhttp.h2_connection", "cyhttp._h2_connection_py", "cyhttp._h2_connection",
     "cyhttp._h2_state"],
)  # fmt: skip
def test_each_connection_module_imports_alone(module: str, expect_compiled: bool) -> None:
    """No import cycle between the selector, the twins and the shared modules."""
    if module == "cyhttp._h2_connection" and our_connection.h2connection_c is None:
        if expect_compiled:
            pytest.fail("the compiled connection is not built (run `make build`)")
        pytest.skip("the compiled connection is not built")
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}; print('ok')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "ok", done.stderr


# -- an in-memory h2 server ------------------------------------------------------------------


class Pair:
    """Our client and an ``h2`` server joined by two in-memory byte pipes."""

    def __init__(self, client: H2Connection, **server_settings: int) -> None:
        config = h2_config.H2Configuration(client_side=False, header_encoding=None)
        self.server = h2_connection.H2Connection(config)
        self.server.initiate_connection()
        if server_settings:  # a second SETTINGS frame (h2 applies its own only when acked)
            codes = {h2_settings.SettingCodes[k.upper()]: v for k, v in server_settings.items()}
            self.server.update_settings(codes)
        self.client = client
        self.server_events: list[Any] = self.server.receive_data(client.initiate())

    def to_client(self) -> list[Any]:
        """Deliver what the server queued; the client's answers go back on the next
        ``to_server``."""
        return self.client.receive_data(self.server.data_to_send())

    def to_server(self) -> list[Any]:
        events = self.server.receive_data(self.client.data_to_send())
        self.server_events += events
        return events

    def settle(self) -> list[Any]:
        """Exchange until both sides are quiet; the client's events."""
        got = []
        for _ in range(50):
            events = self.to_client()
            got += events
            if not self.to_server() and not events:
                return got
        raise AssertionError("the peers never settled")


@pytest.fixture
def pair(conn_cls: type[H2Connection]) -> Pair:
    p = Pair(conn_cls())
    p.settle()
    return p


def of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def test_initiate_sends_the_preface_our_settings_and_the_connection_window(
    conn_cls: type[H2Connection],
) -> None:
    client = conn_cls({SettingCode.INITIAL_WINDOW_SIZE: 100000}, connection_window=1 << 22)
    wire = client.initiate()
    assert wire.startswith(CONNECTION_PREFACE)
    assert client.data_to_send() == b""
    reader = _h2frames_py.FrameReader()
    reader.feed(wire[len(CONNECTION_PREFACE) :])
    got = list(reader)
    assert got == [
        SettingsFrame(((2, 0), (4, 100000), (6, 65536))),
        WindowUpdateFrame(0, (1 << 22) - 65535),
    ]
    assert not client.settings_acknowledged
    with pytest.raises(RuntimeError):
        client.initiate()


def test_settings_are_exchanged_and_acknowledged(conn_cls: type[H2Connection]) -> None:
    pair = Pair(conn_cls(), max_concurrent_streams=7)
    assert pair.client.peer_max_concurrent_streams == 2**32  # unlimited until SETTINGS
    changed = of(pair.server_events, h2_events.RemoteSettingsChanged)[0].changed_settings
    assert changed[SettingCode.ENABLE_PUSH].new_value == 0
    assert changed[SettingCode.INITIAL_WINDOW_SIZE].new_value == 262144
    events = pair.settle()
    assert of(events, SettingsChanged)[1].changed == {SettingCode.MAX_CONCURRENT_STREAMS: 7}
    assert of(events, SettingsAcked) == [SettingsAcked()]
    assert pair.client.settings_acknowledged
    assert of(pair.server_events, h2_events.SettingsAcknowledged)
    assert pair.client.peer_settings[SettingCode.MAX_CONCURRENT_STREAMS] == 7
    assert pair.client.peer_max_concurrent_streams == 7


def test_request_heads_are_written_whole_or_in_continuations(
    conn_cls: type[H2Connection],
) -> None:
    """A header block that fits the peer's frame size goes out as one HEADERS frame, a
    larger one as HEADERS and CONTINUATIONs, each flagged as ``serialize`` would."""
    hostile = Hostile(conn_cls)  # the bytes of stream 1 were taken already

    def frame_heads(wire: bytes) -> list[bytes]:
        """(type, flags, stream id) of each frame but the connection's WINDOW_UPDATEs."""
        heads, pos = [], 0
        while pos < len(wire):
            if wire[pos + 3] != 0x8:
                heads.append(wire[pos + 3 : pos + 9])
            pos += 9 + int.from_bytes(wire[pos : pos + 3], "big")
        return heads

    sid = hostile.client.send_request([*GET, ("x-a", "1")], end_stream=False)
    assert frame_heads(hostile.client.data_to_send()) == [b"\x01\x04" + sid.to_bytes(4, "big")]
    sid = hostile.client.send_request([*GET, ("x-big", "v" * 40000)], end_stream=True)
    wire = hostile.client.data_to_send()
    tail = sid.to_bytes(4, "big")
    assert frame_heads(wire) == [b"\x01\x01" + tail, b"\x09\x00" + tail, b"\x09\x04" + tail]
    reader = _h2frames_py.FrameReader(preface=False)
    reader.feed(wire)
    (head,) = [f for f in reader if isinstance(f, HeadersFrame)]  # CONTINUATIONs joined
    assert (head.stream_id, head.end_stream) == (sid, True)
    assert len(head.block) > 2 * 16384


def test_a_get_request_and_its_response(pair: Pair) -> None:
    headers = [("User-Agent", "cyhttp"), *GET, ("accept", "*/*")]
    sid = pair.client.send_request(headers, end_stream=True)
    assert sid == 1
    assert pair.client.stream_state(sid) == StreamState.HALF_CLOSED_LOCAL
    pair.to_server()
    request = of(pair.server_events, h2_events.RequestReceived)[0]
    assert request.headers == [
        (b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"example.com"),
        (b":path", b"/"), (b"user-agent", b"cyhttp"), (b"accept", b"*/*"),
    ]  # fmt: skip
    assert request.stream_ended is not None
    pair.server.send_headers(sid, [(":status", "200"), ("content-length", "5")])
    pair.server.send_data(sid, b"hello", end_stream=True)
    events = pair.to_client()
    assert events == [
        ResponseHeaders(sid, 200, [(b"content-length", b"5")], 5),
        DataReceived(sid, b"hello", 5),
        StreamEnded(sid),
    ]
    assert pair.client.stream_state(sid) == StreamState.CLOSED
    assert pair.client.open_stream_count == 0


def test_an_informational_response_comes_before_the_final_one(pair: Pair) -> None:
    sid = pair.client.send_request([*POST, ("expect", "100-continue")])
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "100")])
    pair.server.send_headers(sid, [(":status", "103"), ("link", "</a>; rel=preload")])
    assert pair.to_client() == [
        InformationalResponse(sid, 100, []),
        InformationalResponse(sid, 103, [(b"link", b"</a>; rel=preload")]),
    ]
    pair.client.send_data(sid, b"body", end_stream=True)
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "204")], end_stream=True)
    assert pair.to_client() == [ResponseHeaders(sid, 204, []), StreamEnded(sid)]


def test_a_post_larger_than_the_peer_windows_waits_for_window_updates(pair: Pair) -> None:
    body = bytes(range(256)) * 1000  # 256000 bytes, the server's windows are 65535
    sid = pair.client.send_request(POST)
    sent = pair.client.send_data(sid, body, end_stream=True)
    assert sent == 65535
    assert pair.client.local_flow_control_window(sid) == 0
    assert pair.client.send_data(sid, body[sent:]) == 0
    received = bytearray()
    ended = False
    for _ in range(100):
        server_events = pair.to_server()
        for event in server_events:
            if isinstance(event, h2_events.DataReceived):
                received += event.data
                pair.server.acknowledge_received_data(event.flow_controlled_length, sid)
            ended = ended or isinstance(event, h2_events.StreamEnded)
        updates = of(pair.to_client(), WindowUpdated)
        if sent < len(body):
            assert updates, "the server let us send nothing more"
            sent += pair.client.send_data(sid, body[sent:], end_stream=True)
        if ended:
            break
    assert ended and bytes(received) == body
    assert pair.client.stream_state(sid) == StreamState.HALF_CLOSED_LOCAL


def test_our_window_opens_only_as_data_is_acknowledged(conn_cls: type[H2Connection]) -> None:
    client = conn_cls({SettingCode.INITIAL_WINDOW_SIZE: 65535}, connection_window=65535)
    pair = Pair(client)
    pair.settle()
    sid = client.send_request(GET, end_stream=True)
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "200")])
    body = b"x" * 200000
    for start in range(0, 65535, 16384):
        pair.server.send_data(sid, body[start : min(start + 16384, 65535)])
    got = pair.to_client()
    assert sum(len(e.data) for e in of(got, DataReceived)) == 65535
    assert client.data_to_send() == b""  # nothing read yet: no WINDOW_UPDATE
    assert pair.server.local_flow_control_window(sid) == 0
    client.acknowledge_received_data(sid, 20000)
    assert client.data_to_send() == b""  # below half a window: not yet
    client.acknowledge_received_data(sid, 20000)
    pair.to_server()
    assert pair.server.local_flow_control_window(sid) == 40000
    with pytest.raises(ValueError):
        client.acknowledge_received_data(sid, 30000)  # only 25535 are unread


def test_unread_streams_cannot_starve_the_one_being_read(conn_cls: type[H2Connection]) -> None:
    """Three responses of 65535 bytes with the smallest connection window: the reader
    takes stream 5 first and ignores 1 and 3, and stream 5 must still complete."""
    client = conn_cls({SettingCode.INITIAL_WINDOW_SIZE: 65535}, connection_window=65535)
    pair = Pair(client)
    pair.settle()
    ids = [client.send_request(GET, end_stream=True) for _ in range(3)]
    pair.to_server()
    for sid in ids:
        pair.server.send_headers(sid, [(":status", "200")])
    read = bytearray()
    for _ in range(20):
        for sid in ids:
            room = min(pair.server.local_flow_control_window(sid), 16384)
            if room:
                pair.server.send_data(sid, b"z" * room, end_stream=room < 16384 and sid == 5)
        for event in of(pair.to_client(), DataReceived):
            if event.stream_id == 5:
                read += event.data
                client.acknowledge_received_data(5, event.flow_controlled_length)
        pair.to_server()
    assert len(read) >= 3 * 65535  # stream 5 kept flowing while 1 and 3 sat unread
    assert (client._unconsumed[1], client._unconsumed[3]) == (65535, 65535)


def test_concurrent_streams_respect_max_concurrent_streams(conn_cls: type[H2Connection]) -> None:
    pair = Pair(conn_cls(), max_concurrent_streams=2)
    pair.settle()
    a = pair.client.send_request(GET, end_stream=True)
    b = pair.client.send_request([*GET[:3], (":path", "/b")], end_stream=True)
    assert (a, b) == (1, 3)
    assert not pair.client.can_open_stream()
    with pytest.raises(NoAvailableStreamError):
        pair.client.send_request(GET)
    pair.to_server()
    for sid in (b, a):  # answered out of order, interleaved
        pair.server.send_headers(sid, [(":status", "200")])
    pair.server.send_data(a, b"A", end_stream=True)
    pair.server.send_data(b, b"B", end_stream=True)
    events = pair.to_client()
    assert [(e.stream_id, e.data) for e in of(events, DataReceived)] == [(a, b"A"), (b, b"B")]
    assert [e.stream_id for e in of(events, StreamEnded)] == [a, b]
    assert pair.client.can_open_stream()
    assert pair.client.send_request(GET, end_stream=True) == 5


def test_trailers_both_ways(pair: Pair) -> None:
    sid = pair.client.send_request([*POST, ("te", "trailers")])
    pair.client.send_data(sid, b"payload")
    pair.client.send_trailers(sid, [("X-Checksum", "abc")])
    pair.to_server()
    trailers = of(pair.server_events, h2_events.TrailersReceived)[0]
    assert trailers.headers == [(b"x-checksum", b"abc")]
    pair.server.send_headers(sid, [(":status", "200")])
    pair.server.send_data(sid, b"ok")
    pair.server.send_headers(sid, [("grpc-status", "0")], end_stream=True)
    events = pair.to_client()
    assert events[-2:] == [TrailersReceived(sid, [(b"grpc-status", b"0")]), StreamEnded(sid)]
    with pytest.raises(StreamClosedError):
        pair.client.send_data(sid, b"more")


def test_the_server_resets_a_stream(pair: Pair) -> None:
    sid = pair.client.send_request(POST)
    pair.to_server()
    pair.server.reset_stream(sid, ErrorCode.REFUSED_STREAM)
    assert pair.to_client() == [StreamReset(sid, ErrorCode.REFUSED_STREAM, True)]
    assert pair.client.stream_state(sid) == StreamState.CLOSED
    with pytest.raises(StreamClosedError):
        pair.client.send_data(sid, b"x")
    # a DATA frame the server sent before its RST_STREAM is a STREAM_CLOSED error now
    events = pair.client.receive_data(raw(0, 0, sid, b"late"))
    assert events == []
    assert pair.client.data_to_send() == raw(3, 0, sid, bytes((0, 0, 0, 5)))


def test_a_complete_response_then_no_error_reset_stops_the_upload(pair: Pair) -> None:
    """RFC 9113 section 8.1: a server may answer before the request body is complete and
    then ask, with RST_STREAM(NO_ERROR), that the rest not be sent."""
    sid = pair.client.send_request(POST)
    pair.client.send_data(sid, b"part of the body")
    other = pair.client.send_request(GET, end_stream=True)
    assert pair.client.open_stream_ids == (sid, other)
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "413")], end_stream=True)
    pair.server.reset_stream(sid, ErrorCode.NO_ERROR)
    assert pair.to_client() == [
        ResponseHeaders(sid, 413, []),
        StreamEnded(sid),
        StreamReset(sid, ErrorCode.NO_ERROR, True),
    ]
    with pytest.raises(StreamClosedError):
        pair.client.send_data(sid, b"the rest")
    assert pair.client.open_stream_ids == (other,)


def test_we_reset_a_stream_and_late_frames_are_ignored(pair: Pair) -> None:
    sid = pair.client.send_request(GET, end_stream=True)
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "200")])
    pair.server.send_data(sid, b"x" * 1000)
    late = pair.server.data_to_send()
    pair.client.reset_stream(sid)
    pair.to_server()
    assert of(pair.server_events, h2_events.StreamReset)[0].error_code == ErrorCode.CANCEL
    assert pair.client.receive_data(late) == []  # in flight when we reset: dropped
    # the connection window got the dropped bytes back
    assert pair.client._recv_window + pair.client._credit == 1 << 20
    pair.client.reset_stream(sid)  # already closed: nothing more
    with pytest.raises(StreamClosedError):
        pair.client.reset_stream(99)


def test_goaway_reports_the_streams_the_server_never_processed(pair: Pair) -> None:
    ids = [pair.client.send_request(GET, end_stream=True) for _ in range(3)]
    pair.to_server()
    pair.server.close_connection(error_code=0, last_stream_id=1, additional_data=b"bye")
    events = pair.to_client()
    assert events == [GoAway(1, 0, b"bye", (3, 5))]
    assert not pair.client.can_open_stream()
    with pytest.raises(ConnectionClosedError):
        pair.client.send_request(GET)
    assert pair.client.stream_state(ids[1]) == StreamState.CLOSED
    assert not pair.client.is_closed  # stream 1 may still complete
    # h2 sends nothing once it closed: its answer on stream 1, by hand (":status: 200")
    assert pair.client.receive_data(raw(1, 5, 1, b"\x88")) == [
        ResponseHeaders(1, 200, []),
        StreamEnded(1),
    ]
    assert pair.client.is_closed


def test_ping_both_ways(pair: Pair) -> None:
    data = pair.client.ping()
    assert len(data) == 8
    pair.to_server()
    assert pair.to_client() == [PingAcked(data)]
    pair.server.ping(b"12345678")
    assert pair.to_client() == [PingReceived(b"12345678")]
    pair.to_server()
    assert of(pair.server_events, h2_events.PingAckReceived)[0].ping_data == b"12345678"


def test_server_settings_changes_apply_to_what_we_send(pair: Pair) -> None:
    sid = pair.client.send_request(POST)
    pair.to_server()
    pair.server.update_settings(
        {
            SettingCode.INITIAL_WINDOW_SIZE: 100000,
            SettingCode.MAX_FRAME_SIZE: 32768,
            SettingCode.HEADER_TABLE_SIZE: 0,
        }
    )
    pair.server.increment_flow_control_window(10**6)
    events = pair.to_client()
    changed = of(events, SettingsChanged)[0].changed
    assert changed[SettingCode.MAX_FRAME_SIZE] == 32768
    assert WindowUpdated(sid, 100000 - 65535) in events
    assert pair.client.local_flow_control_window(sid) == 100000
    pair.to_server()
    assert of(pair.server_events, h2_events.SettingsAcknowledged)
    assert pair.client.send_data(sid, b"y" * 100000, end_stream=True) == 100000
    pair.to_server()
    sizes = [e.flow_controlled_length for e in of(pair.server_events, h2_events.DataReceived)]
    assert max(sizes) == 32768
    # the next header block honours the server's zero-size HPACK table
    pair.client.send_request([*GET, ("x-a", "1")], end_stream=True)
    pair.to_server()
    assert of(pair.server_events, h2_events.RequestReceived)[-1].stream_id == 3


# -- what a client may not send --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [*GET, ("connection", "keep-alive")],
        [*GET, ("Transfer-Encoding", "chunked")],
        [*GET, ("upgrade", "h2c")],
        [*GET, ("te", "gzip")],
        [*GET, ("x-a", "a\r\nx-b: b")],
        [*GET, ("x a", "1")],
        [*GET, (":status", "200")],
        GET[1:],  # no :method
        [GET[0], GET[2]],  # no :scheme nor :path
        [*GET, ("host", "other.example")],
    ],
)
def test_forbidden_request_headers_are_refused(pair: Pair, headers: list[Any]) -> None:
    with pytest.raises(ValueError):
        pair.client.send_request(headers)
    assert pair.client.open_stream_count == 0
    assert pair.client.data_to_send() == b""


def test_http11_headers_can_be_stripped_for_http2(pair: Pair) -> None:
    headers = [*GET, ("Connection", "keep-alive, X-Hop"), ("Keep-Alive", "timeout=5"),
               ("x-hop", "1"), ("TE", "gzip"), ("Transfer-Encoding", "chunked"),
               ("Upgrade", "h2c"), ("Proxy-Connection", "close"), ("accept", "*/*")]  # fmt: skip
    stripped = strip_connection_headers(headers)
    assert stripped == [*GET, ("accept", "*/*")]
    assert strip_connection_headers([("te", "Trailers")]) == [("te", "Trailers")]
    pair.client.send_request(stripped, end_stream=True)
    pair.to_server()
    assert of(pair.server_events, h2_events.RequestReceived)


@pytest.mark.parametrize(
    "trailers", [[(":path", "/")], [("connection", "close")], [("x-a", "1\n")], [("", "x")]]
)
def test_forbidden_trailers_are_refused(pair: Pair, trailers: list[Any]) -> None:
    sid = pair.client.send_request(POST)
    pair.client.data_to_send()
    with pytest.raises(ValueError):
        pair.client.send_trailers(sid, trailers)
    assert pair.client.data_to_send() == b""
    assert pair.client.stream_state(sid) == StreamState.OPEN


@pytest.mark.parametrize(
    ("method", "url", "headers", "expected"),
    [
        ("GET", "http://[::1]:8080/a?b=c#frag", [("Accept", "*/*")],
         [(":method", "GET"), (":scheme", "http"), (":authority", "[::1]:8080"),
          (":path", "/a?b=c"), ("Accept", "*/*")]),
        ("POST", "https://user:pw@Example.com:443", [("Host", "example.com"),
                                                      ("Connection", "keep-alive")],
         [(":method", "POST"), (":scheme", "https"), (":authority", "example.com"),
          (":path", "/")]),
        ("GET", "https://a.example/p%20q", [("Host", "b.example:8443")],
         [(":method", "GET"), (":scheme", "https"), (":authority", "b.example:8443"),
          (":path", "/p%20q")]),
        ("CONNECT", "http://proxy.example:3128", [("Host", "target.example:443")],
         [(":method", "CONNECT"), (":authority", "target.example:443")]),
    ],
)  # fmt: skip
def test_request_headers_for_a_url(
    pair: Pair, method: str, url: str, headers: list[Any], expected: list[Any]
) -> None:
    built = request_headers_for(method, URL(url), headers)
    assert built == expected
    pair.client.send_request(built, end_stream=True)
    pair.to_server()
    received = of(pair.server_events, h2_events.RequestReceived)[0].headers
    assert received == [(n.lower().encode(), v.encode()) for n, v in expected]


def test_host_becomes_authority(pair: Pair) -> None:
    pair.client.send_request([(":method", "GET"), (":scheme", "https"), (":path", "/"),
                              ("Host", "h.example")], end_stream=True)  # fmt: skip
    pair.to_server()
    headers = of(pair.server_events, h2_events.RequestReceived)[0].headers
    assert (b":authority", b"h.example") in headers
    assert all(name != b"host" for name, _ in headers)


def test_a_header_list_above_the_peer_limit_is_refused(conn_cls: type[H2Connection]) -> None:
    pair = Pair(conn_cls(), max_header_list_size=300)
    pair.settle()
    with pytest.raises(ValueError):
        pair.client.send_request([*GET, ("x-big", "v" * 400)])


def test_a_repeated_request_head_is_checked_and_sent_like_a_new_one(pair: Pair) -> None:
    """The connection remembers the last head it checked: the same list again, a list
    changed in place, an equal list and a bad one each still give what they say."""
    head = [*GET, ("x-token", "1")]
    for _ in range(3):
        pair.client.send_request(head, end_stream=True)
    head[3] = (":path", "/changed")  # in place: the remembered copy must not be used
    pair.client.send_request(head, end_stream=True)
    pair.client.send_request(list(head), end_stream=True)
    pair.to_server()
    got = [dict(e.headers) for e in of(pair.server_events, h2_events.RequestReceived)]
    assert [h[b":path"] for h in got] == [b"/", b"/", b"/", b"/changed", b"/changed"]
    assert all(h[b"x-token"] == b"1" for h in got)
    bad = [*GET, ("connection", "close")]
    for _ in range(2):
        with pytest.raises(ValueError):
            pair.client.send_request(bad, end_stream=True)


def test_a_remembered_head_meets_a_lowered_header_list_limit(conn_cls: type[H2Connection]) -> None:
    pair = Pair(conn_cls())
    pair.settle()
    head = [*GET, ("x-big", "v" * 400)]
    pair.client.send_request(head, end_stream=True)
    pair.server.update_settings({h2_settings.SettingCodes.MAX_HEADER_LIST_SIZE: 300})
    pair.settle()
    with pytest.raises(ValueError):
        pair.client.send_request(head, end_stream=True)


# -- hostile and broken servers, frames written by hand --------------------------------------


class Hostile:
    """Our client after the handshake with a scripted server, stream 1 open."""

    def __init__(self, conn_cls: type[H2Connection], **kwargs: Any) -> None:
        self.client = conn_cls(**kwargs)
        self.client.initiate()
        self.encoder = _hpack_py.Encoder()
        self.client.receive_data(_h2frames_py.serialize(SettingsFrame()))
        self.sid = self.client.send_request(GET, end_stream=True)
        self.client.data_to_send()

    def headers(
        self, fields: list[tuple[bytes, bytes]], end_stream: bool = False, sid: int = 0
    ) -> bytes:
        block = self.encoder.encode(fields)
        return _h2frames_py.serialize(HeadersFrame(sid or self.sid, block, end_stream))

    def feed(self, *frames: bytes) -> list[Any]:
        return self.client.receive_data(b"".join(frames))

    def sent(self) -> list[Any]:
        reader = _h2frames_py.FrameReader(preface=False)
        reader.feed(self.client.data_to_send())
        return list(reader)


OK = [(b":status", b"200")]


@pytest.fixture
def hostile(conn_cls: type[H2Connection]) -> Hostile:
    return Hostile(conn_cls)


def assert_connection_error(hostile: Hostile, events: list[Any], code: ErrorCode) -> None:
    """The last event ends the connection with ``code``, and GOAWAY says so on the wire."""
    assert events, "no event"
    last = events[-1]
    assert isinstance(last, ConnectionTerminated), events
    assert last.error_code == code, last.error
    assert isinstance(last.error, HTTP2Error)
    goaways = [f for f in hostile.sent() if isinstance(f, GoAwayFrame)]
    assert [(g.last_stream_id, g.error_code) for g in goaways] == [(0, code)]
    assert hostile.client.is_closed
    assert hostile.client.receive_data(b"anything more") == []
    with pytest.raises(ConnectionClosedError):
        hostile.client.send_request(GET)
    hostile.client.reset_stream(hostile.sid)  # cleanup after a failure is harmless
    hostile.client.close()
    assert hostile.client.data_to_send() == b""


def assert_stream_error(hostile: Hostile, events: list[Any], code: ErrorCode) -> None:
    """The stream is reset with ``code`` (reported and on the wire); the connection lives."""
    resets = of(events, StreamReset)
    assert [(r.stream_id, r.error_code, r.remote) for r in resets] == [(hostile.sid, code, False)]
    assert isinstance(resets[0].error, StreamError)
    assert not of(events, ConnectionTerminated)
    sent = hostile.sent()
    assert RstStreamFrame(hostile.sid, code) in sent
    assert not [f for f in sent if isinstance(f, GoAwayFrame)]
    assert hostile.client.can_open_stream()


def test_push_promise_is_a_connection_error(hostile: Hostile) -> None:
    block = hostile.encoder.encode([(b":method", b"GET"), (b":path", b"/pushed")])
    frame = _h2frames_py.serialize(PushPromiseFrame(1, 2, block))
    assert_connection_error(hostile, hostile.feed(frame), ErrorCode.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    "frame",
    [
        raw(0, 0, 3, b"data"),  # DATA on a stream we never opened
        raw(0, 0, 2, b"data"),  # or on a server stream
        raw(3, 0, 5, bytes(4)),  # RST_STREAM on an idle stream
        raw(8, 0, 7, (1).to_bytes(4, "big")),  # WINDOW_UPDATE on an idle stream
        raw(9, 4, 1, b""),  # CONTINUATION out of nowhere
        raw(6, 0, 0, b"short"),  # PING of the wrong size
    ],
)
def test_frames_on_idle_streams_and_bogus_frames_fail_the_connection(
    hostile: Hostile, frame: bytes
) -> None:
    events = hostile.feed(frame)
    code = ErrorCode.FRAME_SIZE_ERROR if frame[3] == 6 else ErrorCode.PROTOCOL_ERROR
    assert_connection_error(hostile, events, code)


def test_headers_on_a_server_stream_fail_the_connection(hostile: Hostile) -> None:
    events = hostile.feed(hostile.headers(OK, sid=2))
    assert_connection_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


def test_the_server_may_not_enable_push(hostile: Hostile) -> None:
    events = hostile.feed(_h2frames_py.serialize(SettingsFrame(((2, 1),))))
    assert_connection_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


def test_connection_window_overflow(hostile: Hostile) -> None:
    events = hostile.feed(_h2frames_py.serialize(WindowUpdateFrame(0, 2**31 - 1)))
    assert_connection_error(hostile, events, ErrorCode.FLOW_CONTROL_ERROR)


def test_stream_window_overflow_resets_the_stream(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls)
    sid = hostile.client.send_request(POST)
    hostile.client.data_to_send()
    hostile.sid = sid
    events = hostile.feed(_h2frames_py.serialize(WindowUpdateFrame(sid, 2**31 - 1)))
    assert_stream_error(hostile, events, ErrorCode.FLOW_CONTROL_ERROR)


def test_initial_window_setting_overflow(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls)
    sid = hostile.client.send_request(POST)
    hostile.feed(_h2frames_py.serialize(WindowUpdateFrame(sid, 2**31 - 1 - 65535)))
    setting = SettingsFrame(((SettingCode.INITIAL_WINDOW_SIZE, 70000),))
    events = hostile.feed(_h2frames_py.serialize(setting))
    assert_connection_error(hostile, events, ErrorCode.FLOW_CONTROL_ERROR)


def test_a_zero_window_update_on_a_stream_resets_it(hostile: Hostile) -> None:
    events = hostile.feed(raw(8, 0, hostile.sid, bytes(4)))
    assert_stream_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


def test_data_beyond_the_connection_window(conn_cls: type[H2Connection]) -> None:
    settings = {SettingCode.INITIAL_WINDOW_SIZE: 16384, SettingCode.MAX_FRAME_SIZE: 100000}
    hostile = Hostile(conn_cls, connection_window=65535, local_settings=settings)
    events = hostile.feed(hostile.headers(OK), raw(0, 0, 1, bytes(65536)))
    assert not of(events, DataReceived)
    assert_connection_error(hostile, events, ErrorCode.FLOW_CONTROL_ERROR)


def test_data_beyond_the_stream_window(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls, local_settings={SettingCode.INITIAL_WINDOW_SIZE: 1000})
    events = hostile.feed(hostile.headers(OK), raw(0, 0, 1, bytes(1001)))
    assert_stream_error(hostile, events, ErrorCode.FLOW_CONTROL_ERROR)
    # the dropped bytes went back to the connection window
    assert hostile.client._recv_window + hostile.client._credit == 1 << 20


@pytest.mark.parametrize(
    "fields",
    [
        [(b":status", b"200"), (b"Content-Type", b"text/plain")],  # upper case
        [(b":status", b"2000")],
        [(b":status", b"abc")],
        [(b":status", b"099")],
        [(b":status", b"101")],
        [(b"content-type", b"text/plain")],  # no :status
        [(b"content-type", b"x"), (b":status", b"200")],  # pseudo after regular
        [(b":status", b"200"), (b":status", b"200")],
        [(b":status", b"200"), (b":path", b"/")],  # a request pseudo-header
        [(b":status", b"200"), (b"connection", b"close")],
        [(b":status", b"200"), (b"transfer-encoding", b"chunked")],
        [(b":status", b"200"), (b"keep-alive", b"timeout=5")],
        [(b":status", b"200"), (b"x-a", b" padded")],
        [(b":status", b"200"), (b"x-a", b"a\x00b")],
        [(b":status", b"200"), (b"content-length", b"12a")],
        [(b":status", b"200"), (b"content-length", b"1"), (b"content-length", b"2")],
    ],
)
def test_malformed_response_heads_reset_the_stream(
    hostile: Hostile, fields: list[tuple[bytes, bytes]]
) -> None:
    events = hostile.feed(hostile.headers(fields))
    assert not of(events, ResponseHeaders)
    assert_stream_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    "frames",
    [
        # more data than content-length
        lambda h: [h.headers([*OK, (b"content-length", b"3")]), raw(0, 1, 1, b"abcd")],
        # less
        lambda h: [h.headers([*OK, (b"content-length", b"5")]), raw(0, 1, 1, b"abc")],
        # none at all
        lambda h: [h.headers([*OK, (b"content-length", b"5")], end_stream=True)],
        # less, then trailers
        lambda h: [
            h.headers([*OK, (b"content-length", b"5")]),
            raw(0, 0, 1, b"abc"),
            h.headers([(b"x-t", b"1")], end_stream=True),
        ],
        # DATA before any response head
        lambda h: [raw(0, 0, 1, b"early")],
        # an informational response that ends the stream
        lambda h: [h.headers([(b":status", b"103")], end_stream=True)],
        # a second head without END_STREAM
        lambda h: [h.headers(OK), h.headers([(b"x-t", b"1")])],
        # trailers with a pseudo-header
        lambda h: [h.headers(OK), h.headers([(b":status", b"200")], end_stream=True)],
    ],
)
def test_malformed_responses_reset_the_stream(
    hostile: Hostile, frames: Callable[[Hostile], list[bytes]]
) -> None:
    events = hostile.feed(*frames(hostile))
    assert not of(events, StreamEnded)
    assert_stream_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


def test_content_in_a_response_to_head(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls)
    sid = hostile.client.send_request([(":method", "HEAD"), *GET[1:]], end_stream=True)
    hostile.client.data_to_send()
    hostile.sid = sid
    head = hostile.headers([*OK, (b"content-length", b"100")], sid=sid)
    events = hostile.feed(head, raw(0, 1, sid, b""))
    assert events == [ResponseHeaders(sid, 200, [(b"content-length", b"100")], 100),
                      StreamEnded(sid)]  # fmt: skip
    sid = hostile.client.send_request([(":method", "HEAD"), *GET[1:]], end_stream=True)
    hostile.client.data_to_send()
    hostile.sid = sid
    events = hostile.feed(hostile.headers(OK, sid=sid), raw(0, 1, sid, b"body"))
    assert_stream_error(hostile, events, ErrorCode.PROTOCOL_ERROR)


def test_data_after_the_end_of_the_stream(hostile: Hostile) -> None:
    events = hostile.feed(hostile.headers(OK), raw(0, 1, 1, b"ok"), raw(0, 0, 1, b"more"))
    assert of(events, StreamEnded) == [StreamEnded(1)]
    assert not of(events, StreamReset)  # the stream was already complete
    assert RstStreamFrame(1, ErrorCode.STREAM_CLOSED) in hostile.sent()
    assert hostile.client.can_open_stream()


def test_data_on_a_half_closed_remote_stream(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls)
    hostile.sid = hostile.client.send_request(POST)
    hostile.client.data_to_send()
    events = hostile.feed(hostile.headers(OK, end_stream=True), raw(0, 0, 3, b"more"))
    assert of(events, StreamEnded) == [StreamEnded(3)]
    assert_stream_error(hostile, events, ErrorCode.STREAM_CLOSED)


def test_a_broken_hpack_block_fails_the_connection(hostile: Hostile) -> None:
    frame = _h2frames_py.serialize(HeadersFrame(1, b"\xff\xff\xff\xff\xff\xff\x7f"))
    assert_connection_error(hostile, hostile.feed(frame), ErrorCode.COMPRESSION_ERROR)


def test_a_header_list_too_large_fails_only_its_stream(conn_cls: type[H2Connection]) -> None:
    limits = {SettingCode.MAX_HEADER_LIST_SIZE: 1000}
    hostile = Hostile(conn_cls, local_settings=limits)
    big = [*OK, (b"x-big", b"v" * 2000)]
    events = hostile.feed(hostile.headers(big))
    assert_stream_error(hostile, events, ErrorCode.PROTOCOL_ERROR)
    # the HPACK table stayed in step: the next response decodes
    sid = hostile.client.send_request(GET, end_stream=True)
    events = hostile.feed(hostile.headers([*OK, (b"x-small", b"v")], end_stream=True, sid=sid))
    assert events == [ResponseHeaders(sid, 200, [(b"x-small", b"v")]), StreamEnded(sid)]


def test_a_continuation_flood_is_bounded(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls, max_header_block_size=4096)
    block = hostile.encoder.encode(OK)
    events = hostile.feed(raw(1, 0, 1, block))
    for _ in range(1000):
        events += hostile.feed(raw(9, 0, 1, b""))
        if events:
            break
    assert_connection_error(hostile, events, ErrorCode.ENHANCE_YOUR_CALM)


def test_an_endless_header_block_is_bounded(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls, max_header_block_size=20000)
    events = hostile.feed(raw(1, 0, 1, bytes(16384)), raw(9, 0, 1, bytes(16384)))
    assert_connection_error(hostile, events, ErrorCode.ENHANCE_YOUR_CALM)


def test_a_frame_larger_than_our_max_frame_size(hostile: Hostile) -> None:
    events = hostile.feed(raw(0, 0, 1, bytes(16385)))
    assert_connection_error(hostile, events, ErrorCode.FRAME_SIZE_ERROR)


def test_the_data_frames_of_one_read_are_one_event(conn_cls: type[H2Connection]) -> None:
    """DATA frames of a stream that arrive together are reported as one DataReceived (one
    event per read, not per 16 KiB); flow control counts them all the same."""
    hostile = Hostile(conn_cls)
    body = bytes(range(256)) * 512  # 128 KiB in 16 frames of 8 KiB
    frames = [raw(0, 0, 1, body[i : i + 8192]) for i in range(0, len(body), 8192)]
    events = hostile.feed(hostile.headers(OK), *frames[:10])
    data = of(events, DataReceived)
    assert [(e.stream_id, e.flow_controlled_length) for e in data] == [(1, 10 * 8192)]
    events = hostile.feed(*frames[10:], hostile.headers([(b"x-t", b"1")], end_stream=True))
    data += of(events, DataReceived)
    assert [e.flow_controlled_length for e in data] == [10 * 8192, 6 * 8192]
    assert b"".join(e.data for e in data) == body
    assert [type(e) for e in events[1:]] == [TrailersReceived, StreamEnded]
    hostile.client.acknowledge_received_data(1, len(body))
    assert hostile.client._credit == len(body)  # returned once half the window is
    assert hostile.client._unconsumed == {}


def test_padding_is_returned_to_the_windows_at_once(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls, connection_window=65535,
                      local_settings={SettingCode.INITIAL_WINDOW_SIZE: 65535})  # fmt: skip
    padded = _h2frames_py.serialize(DataFrame(1, b"abc", pad_length=255))
    events = hostile.feed(hostile.headers(OK), *[padded] * 300)
    assert len(of(events, DataReceived)) == 300  # 300 * 259 bytes > 65535: no flow error
    assert all(e.flow_controlled_length == 3 for e in of(events, DataReceived))
    updates = [f for f in hostile.sent() if isinstance(f, WindowUpdateFrame)]
    assert {u.stream_id for u in updates} == {0, 1}


def test_the_preface_must_be_settings(conn_cls: type[H2Connection]) -> None:
    client = conn_cls()
    client.initiate()
    events = client.receive_data(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert isinstance(events[-1], ConnectionTerminated)
    assert events[-1].error_code == ErrorCode.PROTOCOL_ERROR


def test_unknown_frames_and_priority_are_ignored(hostile: Hostile) -> None:
    events = hostile.feed(raw(0xFA, 0xFF, 1, b"whatever"), raw(2, 0, 1, bytes(5)))
    assert events == []
    assert hostile.sent() == []


def test_a_remote_goaway_with_an_error(hostile: Hostile) -> None:
    frame = _h2frames_py.serialize(GoAwayFrame(0, ErrorCode.ENHANCE_YOUR_CALM, b"calm"))
    events = hostile.feed(frame)
    assert events == [GoAway(0, ErrorCode.ENHANCE_YOUR_CALM, b"calm", (1,))]
    assert hostile.client.is_closed
    # a later GOAWAY cannot raise last_stream_id again
    events = hostile.feed(_h2frames_py.serialize(GoAwayFrame(9, 0)))
    assert events == [GoAway(0, 0, b"", ())]


def test_ping_flood_is_answered_in_kind(hostile: Hostile) -> None:
    events = hostile.feed(*[_h2frames_py.serialize(PingFrame(b"abcdefgh"))] * 50)
    assert len(events) == 50
    assert hostile.sent() == [PingFrame(b"abcdefgh", True)] * 50


def test_a_flood_of_empty_frames_is_cut_short(conn_cls: type[H2Connection]) -> None:
    hostile = Hostile(conn_cls, max_idle_frames=100)
    events = hostile.feed(hostile.headers(OK))
    ping = _h2frames_py.serialize(PingFrame(b"abcdefgh"))
    # content now and then starts the count again
    for _ in range(3):
        events += hostile.feed(*[ping] * 60, raw(0, 0, 1, b"x"), *[raw(0, 0, 1, b"")] * 30)
    assert not of(events, ConnectionTerminated)
    hostile.sent()
    empties = [raw(0, 0, 1, b""), raw(2, 0, 1, bytes(5)), raw(0xEE, 0, 0, b""), ping]
    events = hostile.feed(*empties * 30)
    assert len(of(events, PingReceived)) < 30
    assert_connection_error(hostile, events, ErrorCode.ENHANCE_YOUR_CALM)


def test_window_updates_for_an_upload_do_not_count_as_a_flood(
    conn_cls: type[H2Connection],
) -> None:
    hostile = Hostile(conn_cls, max_idle_frames=3)
    sid = hostile.client.send_request(POST)
    hostile.client.send_data(sid, bytes(65535))
    for _ in range(10):  # the server opens the windows, we send more each time
        update = _h2frames_py.serialize(WindowUpdateFrame(0, 1000))
        update += _h2frames_py.serialize(WindowUpdateFrame(sid, 1000))
        assert hostile.feed(update) == [WindowUpdated(0, 1000), WindowUpdated(sid, 1000)]
        assert hostile.client.send_data(sid, bytes(5000)) == 1000
    events = hostile.feed(*[_h2frames_py.serialize(WindowUpdateFrame(0, 1))] * 4)
    assert isinstance(events[-1], ConnectionTerminated)
    assert events[-1].error_code == ErrorCode.ENHANCE_YOUR_CALM


def test_settings_timeout_is_the_callers(conn_cls: type[H2Connection]) -> None:
    client = conn_cls()
    assert not client.settings_acknowledged
    client.initiate()
    events = client.receive_data(_h2frames_py.serialize(SettingsFrame()))
    assert events == [SettingsChanged({})]
    assert not client.settings_acknowledged  # the server never acknowledged ours
    client.close(ErrorCode.SETTINGS_TIMEOUT)
    reader = _h2frames_py.FrameReader(preface=False)
    reader.feed(client.data_to_send())
    assert list(reader) == [SettingsFrame(ack=True), GoAwayFrame(0, ErrorCode.SETTINGS_TIMEOUT)]
    assert client.is_closed
    assert client.receive_data(_h2frames_py.serialize(SettingsFrame(ack=True))) == [SettingsAcked()]
    assert client.settings_acknowledged


def test_stream_states(pair: Pair) -> None:
    assert pair.client.stream_state(1) == StreamState.IDLE
    sid = pair.client.send_request(POST)
    assert pair.client.stream_state(sid) == StreamState.OPEN
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "200")], end_stream=True)
    assert pair.to_client() == [ResponseHeaders(sid, 200, []), StreamEnded(sid)]
    assert pair.client.stream_state(sid) == StreamState.HALF_CLOSED_REMOTE
    pair.client.send_data(sid, b"the rest")  # allowed: our half is still open
    pair.client.end_stream(sid)
    assert pair.client.stream_state(sid) == StreamState.CLOSED
    assert pair.client.stream_state(sid + 2) == StreamState.IDLE
    with pytest.raises(StreamClosedError):
        pair.client.end_stream(sid)
    pair.to_server()
    ended = of(pair.server_events, h2_events.StreamEnded)
    assert [e.stream_id for e in ended] == [sid]


def test_nothing_is_sent_before_initiate(conn_cls: type[H2Connection]) -> None:
    client = conn_cls()
    with pytest.raises(RuntimeError):
        client.send_request(GET)
    with pytest.raises(ValueError):
        conn_cls({SettingCode.ENABLE_PUSH: 1})
    with pytest.raises(ValueError):
        conn_cls({SettingCode.INITIAL_WINDOW_SIZE: 2**31})


# -- many exchanges with h2, in random shapes -----------------------------------------------


def _deliver(data: bytes, piece: int, receive: Callable[[bytes], list[Any]]) -> list[Any]:
    events = []
    for start in range(0, len(data), piece):
        events += receive(data[start : start + piece])
    return events


class _Exchange:
    """Requests with bodies go to an h2 server that answers each with a body, both sides
    sending only what the other's windows allow and acknowledging what they read."""

    def __init__(self, pair: Pair, piece: int) -> None:
        self.pair = pair
        self.piece = piece
        self.uploads: dict[int, memoryview] = {}
        self.downloads: dict[int, memoryview] = {}
        self.received_by_server: dict[int, bytearray] = {}
        self.received_by_client: dict[int, bytearray] = {}
        self.trailers: dict[int, bool] = {}
        self.ended: set[int] = set()

    def start(self, upload: bytes, download: bytes, trailers: bool) -> None:
        client = self.pair.client
        sid = client.send_request(POST, end_stream=not upload)
        if upload:
            self.uploads[sid] = memoryview(upload)
        self.downloads[sid] = memoryview(download)
        self.trailers[sid] = trailers
        self.received_by_server[sid] = bytearray()
        self.received_by_client[sid] = bytearray()

    def client_sends(self) -> None:
        for sid, rest in list(self.uploads.items()):
            taken = self.pair.client.send_data(sid, rest, end_stream=True)
            self.uploads[sid] = rest[taken:]
            if taken == len(rest):
                del self.uploads[sid]

    def server_reads(self) -> None:
        server = self.pair.server
        events = _deliver(self.pair.client.data_to_send(), self.piece, server.receive_data)
        for event in events:
            if isinstance(event, h2_events.DataReceived):
                self.received_by_server[event.stream_id] += event.data
                server.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2_events.StreamEnded):
                server.send_headers(event.stream_id, [(":status", "200")])
                self.ended.add(event.stream_id)

    def server_sends(self) -> None:
        server = self.pair.server
        for sid in sorted(self.ended):
            rest = self.downloads.get(sid)
            if rest is None:
                continue
            while rest:
                room = min(server.local_flow_control_window(sid), server.max_outbound_frame_size)
                if room <= 0:
                    break
                server.send_data(sid, bytes(rest[:room]))
                rest = rest[room:]
            self.downloads[sid] = rest
            if not rest:
                del self.downloads[sid]
                if self.trailers[sid]:
                    server.send_headers(sid, [("x-done", "yes")], end_stream=True)
                else:
                    server.send_data(sid, b"", end_stream=True)

    def client_reads(self) -> set[int]:
        client = self.pair.client
        data = self.pair.server.data_to_send()
        done = set()
        for event in _deliver(data, self.piece, client.receive_data):
            assert not isinstance(event, StreamReset | ConnectionTerminated | GoAway), event
            if isinstance(event, DataReceived):
                self.received_by_client[event.stream_id] += event.data
                client.acknowledge_received_data(event.stream_id, event.flow_controlled_length)
            elif isinstance(event, TrailersReceived):
                assert self.trailers[event.stream_id]
            elif isinstance(event, StreamEnded):
                done.add(event.stream_id)
        return done


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bodies=st.lists(
        st.tuples(st.integers(0, 70000), st.integers(0, 70000), st.booleans()),
        min_size=1,
        max_size=4,
    ),
    server_window=st.integers(1000, 100000),
    server_frame=st.sampled_from([16384, 20000, 65536]),
    client_window=st.integers(1000, 100000),
    connection_window=st.integers(65535, 300000),
    piece=st.sampled_from([7, 100, 1009, 17000, 1 << 20]),
)
def test_exchanges_of_every_shape_with_h2(
    conn_cls: type[H2Connection],
    bodies: list[tuple[int, int, bool]],
    server_window: int,
    server_frame: int,
    client_window: int,
    connection_window: int,
    piece: int,
) -> None:
    client = conn_cls(
        {SettingCode.INITIAL_WINDOW_SIZE: client_window}, connection_window=connection_window
    )
    pair = Pair(client, initial_window_size=server_window, max_frame_size=server_frame)
    pair.settle()
    exchange = _Exchange(pair, piece)
    for index, (up, down, trailers) in enumerate(bodies):
        exchange.start(bytes([index]) * up, bytes([index + 100]) * down, trailers)
    done: set[int] = set()
    for _ in range(1000):  # at least 1000 bytes per stream per round
        exchange.client_sends()
        exchange.server_reads()
        exchange.server_sends()
        done |= exchange.client_reads()
        if len(done) == len(bodies):
            break
    assert len(done) == len(bodies), "the exchange stalled"
    for index, (sid, (up, down, _)) in enumerate(zip(sorted(done), bodies, strict=True)):
        assert exchange.received_by_server[sid] == bytes([index]) * up
        assert exchange.received_by_client[sid] == bytes([index + 100]) * down
    assert client.open_stream_count == 0


def test_one_byte_windows(conn_cls: type[H2Connection]) -> None:
    """The smallest windows still move: one byte per round trip, both ways."""
    client = conn_cls({SettingCode.INITIAL_WINDOW_SIZE: 1})
    pair = Pair(client, initial_window_size=1)
    pair.settle()
    exchange = _Exchange(pair, 5)
    exchange.start(b"u" * 300, b"d" * 300, True)
    done: set[int] = set()
    for _ in range(700):  # 300 rounds up, then 300 down
        exchange.client_sends()
        exchange.server_reads()
        exchange.server_sends()
        done |= exchange.client_reads()
        if done:
            break
    assert done == {1}
    assert exchange.received_by_server[1] == b"u" * 300
    assert exchange.received_by_client[1] == b"d" * 300


def test_a_response_read_byte_by_byte(pair: Pair) -> None:
    sid = pair.client.send_request(GET, end_stream=True)
    pair.to_server()
    pair.server.send_headers(sid, [(":status", "200"), ("x-a", "b" * 300)])
    pair.server.send_data(sid, b"0123456789" * 10, pad_length=17)
    pair.server.send_headers(sid, [("x-t", "1")], end_stream=True)
    wire = pair.server.data_to_send()
    events = _deliver(wire, 1, pair.client.receive_data)
    assert of(events, ResponseHeaders) == [ResponseHeaders(sid, 200, [(b"x-a", b"b" * 300)])]
    assert b"".join(e.data for e in of(events, DataReceived)) == b"0123456789" * 10
    assert events[-2:] == [TrailersReceived(sid, [(b"x-t", b"1")]), StreamEnded(sid)]


def test_stream_ids_run_out(pair: Pair) -> None:
    pair.client._next_stream_id = 2**31 - 1  # the last one
    assert pair.client.send_request(GET, end_stream=True) == 2**31 - 1
    assert not pair.client.can_open_stream()
    with pytest.raises(NoAvailableStreamError):
        pair.client.send_request(GET)


# -- fuzz -------------------------------------------------------------------------------------


def _check_outcome(client: H2Connection, events: list[Any]) -> None:
    terminated = of(events, ConnectionTerminated)
    if terminated:
        assert events[-1] is terminated[0] and len(terminated) == 1
        assert isinstance(terminated[0].error, HTTP2Error)
    reader = _h2frames_py.FrameReader(preface=False)
    reader.feed(client.data_to_send())
    list(reader)  # what we send is always well-formed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(st.binary(max_size=200), max_size=6))
def test_fuzz_random_bytes_after_the_preface(
    conn_cls: type[H2Connection], chunks: list[bytes]
) -> None:
    client = conn_cls()
    client.initiate()
    client.send_request(POST)
    events = client.receive_data(_h2frames_py.serialize(SettingsFrame()))
    for chunk in chunks:
        events += client.receive_data(chunk)
    _check_outcome(client, events)


_frame_st = st.tuples(
    st.integers(0, 10),  # type, 10: unknown
    st.sampled_from([0, 1, 4, 8, 0x20, 0x25, 0xFF]),  # flags
    st.sampled_from([0, 1, 2, 3, 5, 2**31 - 1]),  # stream
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [bytes(4), b"\x7f\xff\xff\xff", bytes(8), b"\x88", b"\x00\x04\x7f\xff\xff\xff"]
        ),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(_frame_st, max_size=12), cut=st.integers(0, 400))
def test_fuzz_random_frames(
    conn_cls: type[H2Connection], frames: list[tuple[int, int, int, bytes]], cut: int
) -> None:
    client = conn_cls()
    client.initiate()
    client.send_request(POST)
    client.send_request(GET, end_stream=True)
    encoder = _hpack_py.Encoder()
    wire = _h2frames_py.serialize(SettingsFrame())
    for ftype, flags, sid, payload in frames:
        if ftype == 1 and payload[:1] == b"\x88":  # a valid response head now and then
            payload = encoder.encode([(b":status", b"200"), (b"content-length", b"4")])
        wire += raw(ftype, flags, sid, payload)
    cut %= len(wire) + 1
    events = client.receive_data(wire[:cut]) + client.receive_data(wire[cut:])
    _check_outcome(client, events)
    for event in of(events, DataReceived):
        client.acknowledge_received_data(event.stream_id, event.flow_controlled_length)


# -- the two twins agree ----------------------------------------------------------------------


def _both_twins() -> tuple[type[H2Connection], type[H2Connection]]:
    """(compiled, pure) connection classes; the compiled one must be built unless this run
    tests the pure twins only."""
    if not _compat.NO_EXTENSIONS and our_connection.h2connection_c is None:
        pytest.fail("the compiled connection is not built (run `make build`)")
    if our_connection.h2connection_c is None:
        pytest.skip("the compiled connection is not built (a pure-only run)")
    return _twin_class(True), _twin_class(False)


def _plain(value: Any) -> Any:
    """An event (or any part of one) as nested tuples that compare by value and type:
    exceptions by class, message, error code, stream and offset (they compare by identity
    otherwise), every leaf with its type so that int and bool, or bytes and bytearray,
    differ."""
    if isinstance(value, BaseException):
        attrs = ("error_code", "stream_id", "offset")
        return (type(value).__name__, str(value), *(getattr(value, a, None) for a in attrs))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, *(_plain(getattr(value, f.name)) for f in fields))
    if isinstance(value, list | tuple):
        return (type(value).__name__, *(_plain(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted((k, _plain(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def _recording(cls: type[H2Connection]) -> type[H2Connection]:
    """``cls`` that logs every answer it gives: the events of each ``receive_data`` and the
    bytes of each ``data_to_send``."""

    class Recording(cls):  # type: ignore[valid-type,misc]
        log: list[Any]

        def receive_data(self, data: Any) -> list[Any]:
            events = super().receive_data(data)
            self.log.append(("events", [_plain(e) for e in events]))
            return events

        def data_to_send(self) -> bytes:
            out = super().data_to_send()
            self.log.append(("bytes", out))
            return out

    return Recording


def _exchange_transcript(
    cls: type[H2Connection], bodies: list[tuple[int, int, bool]], shape: dict[str, Any]
) -> list[Any]:
    """A whole exchange with a fresh h2 server (as in the test above); what the client
    returned, in order."""
    client = _recording(cls)(
        {SettingCode.INITIAL_WINDOW_SIZE: shape["client_window"]},
        connection_window=shape["connection_window"],
    )
    client.log = []
    pair = Pair(
        client, initial_window_size=shape["server_window"], max_frame_size=shape["server_frame"]
    )
    pair.settle()
    exchange = _Exchange(pair, shape["piece"])
    for index, (up, down, trailers) in enumerate(bodies):
        exchange.start(bytes([index]) * up, bytes([index + 100]) * down, trailers)
    if shape["ping"]:
        client.ping()
    done: set[int] = set()
    for _ in range(1000):
        exchange.client_sends()
        exchange.server_reads()
        exchange.server_sends()
        done |= exchange.client_reads()
        if len(done) == len(bodies):
            break
    assert len(done) == len(bodies), "the exchange stalled"
    client.log.append(("state", client.open_stream_count, client.is_closed, client._unconsumed))
    client.log.append(("peer", dict(client.peer_settings), client.peer_max_concurrent_streams))
    return client.log


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bodies=st.lists(
        st.tuples(st.integers(0, 50000), st.integers(0, 50000), st.booleans()),
        min_size=1,
        max_size=4,
    ),
    shape=st.fixed_dictionaries(
        {
            "server_window": st.integers(1000, 100000),
            "server_frame": st.sampled_from([16384, 20000, 65536]),
            "client_window": st.integers(1000, 100000),
            "connection_window": st.integers(65535, 300000),
            "piece": st.sampled_from([7, 1009, 17000, 1 << 20]),
            "ping": st.booleans(),
        }
    ),
)
def test_the_twins_answer_an_h2_server_alike(
    bodies: list[tuple[int, int, bool]], shape: dict[str, Any]
) -> None:
    """The same random exchange with the h2 server, once per twin: the same events and the
    same bytes on the wire, call by call."""
    compiled, pure = _both_twins()
    ours = _exchange_transcript(compiled, bodies, shape)
    theirs = _exchange_transcript(pure, bodies, shape)
    assert len(ours) == len(theirs)
    for step, (got, expected) in enumerate(zip(ours, theirs, strict=True)):
        assert got == expected, f"the twins differ at call {step}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(_frame_st, max_size=12), cut=st.integers(0, 400), ack=st.booleans())
def test_the_twins_fail_hostile_peers_alike(
    frames: list[tuple[int, int, int, bytes]], cut: int, ack: bool
) -> None:
    """Random (mostly broken) frames, fed to each twin: the same events (errors included,
    message for message) and the same answers on the wire."""
    compiled, pure = _both_twins()
    encoder = _hpack_py.Encoder()
    wire = _h2frames_py.serialize(SettingsFrame())
    for ftype, flags, sid, payload in frames:
        if ftype == 1 and payload[:1] == b"\x88":
            payload = encoder.encode([(b":status", b"200"), (b"content-length", b"4")])
        wire += raw(ftype, flags, sid, payload)
    cut %= len(wire) + 1
    transcripts = []
    for cls in (compiled, pure):
        client = _recording(cls)()
        client.log = []
        client.initiate()
        client.send_request(POST)
        client.send_request(GET, end_stream=True)
        client.receive_data(wire[:cut])
        events = client.receive_data(wire[cut:])
        for event in of(events, DataReceived):
            if ack:
                client.acknowledge_received_data(event.stream_id, event.flow_controlled_length)
        with contextlib.suppress(H2UsageError, ValueError):
            client.send_data(1, b"x" * 70000, end_stream=True)
        client.data_to_send()
        state = [client.stream_state(s) for s in (1, 3, 5)]
        client.log.append(("state", state, client.is_closed, client.open_stream_ids))
        client.log.append(("peer", client.peer_max_concurrent_streams))
        transcripts.append(client.log)
    assert transcripts[0] == transcripts[1]


@pytest.mark.parametrize(
    "body", [b"abc" * 9000, bytearray(b"xyz" * 10), memoryview(b"0123456789")[2:7], b"", "text"]
)
@pytest.mark.parametrize("window", [0, 5, 65535])
def test_the_twins_send_any_body_alike(body: Any, window: int) -> None:
    """bytes, bytearray and memoryview bodies (and a str, refused) through windows that
    take all, part or none of them: the same result, error and bytes from both twins."""
    outcomes = []
    for cls in _both_twins():
        client = cls()
        client.initiate()
        client.receive_data(_h2frames_py.serialize(SettingsFrame(((4, window),))))
        sid = client.send_request(POST)
        client.data_to_send()
        outcome = _outcome(client.send_data, sid, body, True)
        outcomes.append((outcome, client.data_to_send(), client.stream_state(sid)))
    assert outcomes[0] == outcomes[1]
    if isinstance(body, str) and window:
        assert outcomes[0][0][:2] == ("error", TypeError)


_NAMES = [
    b"content-length", b"content-type", b"te", b"connection", b"keep-alive", b"upgrade",
    b"proxy-connection", b"transfer-encoding", b"host", b"x-a", b"X-Up", b":status",
    b":method", b":scheme", b":authority", b":path", b":other", b"", b"a b", b"a:b",
    b"\xc3\xa9", b"\x7f",
]  # fmt: skip
_VALUES = [
    b"200", b"101", b"099", b"600", b"2000", b"20", b"GET", b"CONNECT", b"HEAD", b"", b"5",
    b"5, 5", b"5,6", b" 7 ", b"7,", b"1234567890123456789", b"trailers", b"Trailers",
    b"gzip", b" x", b"x\t", b"a\rb", b"a\x00", b"\xff", b"example.com",
]  # fmt: skip
_name_st = st.one_of(st.sampled_from(_NAMES), st.binary(max_size=6))
_value_st = st.one_of(st.sampled_from(_VALUES), st.binary(max_size=6))
_field_st = st.tuples(_name_st, _value_st)


def _outcome(function: Callable[..., Any], *args: Any) -> Any:
    """What ``function`` returns, or the class and message of what it raises."""
    try:
        return ("ok", function(*args))
    except Exception as exc:  # the twins must fail alike
        return ("error", type(exc), str(exc))


def _compiled_rules() -> ModuleType:
    _both_twins()  # fails or skips when the compiled twin is not there
    module = our_connection.h2connection_c
    assert module is not None
    return module


@settings(max_examples=400, deadline=None)
@given(
    status=st.one_of(st.sampled_from(_VALUES), st.binary(max_size=4)),
    first=st.sampled_from([b":status", b":Status", b"status"]),
    fields=st.lists(_field_st, max_size=6),
)
def test_the_twins_check_response_fields_alike(
    status: bytes, first: bytes, fields: list[tuple[bytes, bytes]]
) -> None:
    from cyhttp import _h2_headers

    compiled = _compiled_rules()
    head = [(first, status), *fields]
    assert _outcome(compiled.response_head, head) == _outcome(_h2_headers.response_head, head)
    assert _outcome(compiled.response_head, fields) == _outcome(_h2_headers.response_head, fields)
    assert _outcome(compiled.trailer_fields, fields) == _outcome(_h2_headers.trailer_fields, fields)


_text_st = st.one_of(
    _value_st, st.text(max_size=5), st.sampled_from(["GET", "CONNECT", "Host", "TE", "é"])
)


@settings(max_examples=400, deadline=None)
@given(
    pseudo=st.lists(
        st.tuples(st.sampled_from([":method", ":scheme", ":authority", ":path", b":path"]),
                  st.one_of(st.sampled_from(["GET", "CONNECT", "https", "/", "h.example"]),
                            _text_st)),
        max_size=5,
    ),
    regular=st.lists(st.tuples(st.one_of(_name_st, _text_st), _text_st), max_size=5),
    odd=st.sampled_from([None, ("x-s", "v", True), ("x",), ("x-b", bytearray(b"v")), 5]),
)  # fmt: skip
def test_the_twins_build_request_fields_alike(
    pseudo: list[tuple[Any, Any]], regular: list[tuple[Any, Any]], odd: Any
) -> None:
    from cyhttp import _h2_headers

    compiled = _compiled_rules()
    headers: list[Any] = [*pseudo, *regular] + ([odd] if odd is not None else [])
    expected = _outcome(_h2_headers.request_fields, headers)
    assert _outcome(compiled.request_fields, headers) == expected
    assert _outcome(compiled.request_fields, iter(headers)) == expected


def test_the_compiled_request_fields_take_the_common_case_themselves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compiled twin builds an ordinary request itself (the pure rules are not asked)
    and still agrees with them; a forbidden field goes to the pure rules for its error."""
    from cyhttp import _h2_headers

    compiled = _compiled_rules()
    headers = [("User-Agent", "cyhttp"), *GET, ("Accept", "*/*"), ("TE", "Trailers")]
    expected = _h2_headers.request_fields(headers)
    asked: list[Any] = []
    monkeypatch.setattr(
        compiled, "_request_fields_py", lambda items: asked.append(items) or expected
    )
    assert compiled.request_fields(headers) == expected
    assert asked == []
    compiled.request_fields([*GET, ("connection", "close")])
    assert len(asked) == 1


# -- hypercorn over a real socket ------------------------------------------------------------


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """GET / says hello; POST /echo sends the body back; lifespan is accepted."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    reply = bytes(body) if scope["path"] == "/echo" else b"hello " + scope["http_version"].encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(reply)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": reply})


@contextlib.asynccontextmanager
async def _hypercorn(cert_path: str | None = None) -> AsyncIterator[int]:
    """hypercorn serving ``_asgi_app`` on 127.0.0.1 (h2c, or TLS with ALPN when given the
    PEM file of a key and its certificate); yields the port."""
    config_mod = pytest.importorskip("hypercorn.config")
    run_mod = pytest.importorskip("hypercorn.asyncio.run")
    utils_mod = pytest.importorskip("hypercorn.utils")
    config = config_mod.Config()
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 1
    config.certfile = config.keyfile = cert_path
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until hypercorn accepts them
    sock.setblocking(False)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    app = utils_mod.wrap_app(_asgi_app, config.wsgi_max_body_size, "asgi")
    listening = ([sock], []) if cert_path else ([], [sock])
    sockets = config_mod.Sockets(*listening, [])
    task = asyncio.create_task(
        run_mod.worker_serve(app, config, sockets=sockets, shutdown_trigger=stop.wait)
    )
    try:
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        sock.close()


async def _exchange(
    port: int, requests: list[tuple[list[Any], bytes]], tls: ssl.SSLContext | None = None
) -> dict[int, Any]:
    """Run ``requests`` concurrently on one connection; each stream's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    if tls is not None:
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
    conn = H2Connection()
    writer.write(conn.initiate())
    results: dict[int, Any] = {}
    pending: dict[int, memoryview] = {}
    for headers, body in requests:
        sid = conn.send_request(headers, end_stream=not body)
        results[sid] = [None, bytearray()]
        if body:
            pending[sid] = memoryview(body)
    done: set[int] = set()
    try:
        while len(done) < len(requests):
            for sid, rest in list(pending.items()):
                taken = conn.send_data(sid, rest, end_stream=True)
                pending[sid] = rest[taken:]
                if taken == len(rest):
                    del pending[sid]
            writer.write(conn.data_to_send())
            data = await asyncio.wait_for(reader.read(65536), 10)
            assert data, "the server closed the connection"
            for event in conn.receive_data(data):
                assert not isinstance(event, ConnectionTerminated | StreamReset), event
                if isinstance(event, ResponseHeaders):
                    results[event.stream_id][0] = event.status
                elif isinstance(event, DataReceived):
                    results[event.stream_id][1] += event.data
                    conn.acknowledge_received_data(event.stream_id, event.flow_controlled_length)
                elif isinstance(event, StreamEnded):
                    done.add(event.stream_id)
        conn.close()
        writer.write(conn.data_to_send())
        assert conn.is_closed
    finally:
        writer.close()
        await writer.wait_closed()
    return results


def _requests(scheme: str, body: bytes) -> list[tuple[list[Any], bytes]]:
    authority = [(":scheme", scheme), (":authority", "127.0.0.1")]
    return [
        ([(":method", "GET"), *authority, (":path", "/")], b""),
        ([(":method", "POST"), *authority, (":path", "/echo")], body),
        ([(":method", "GET"), *authority, (":path", "/again")], b""),
    ]


async def test_hypercorn_over_h2c_with_prior_knowledge() -> None:
    body = bytes(range(256)) * 1200  # 307200 bytes: beyond the server's initial window
    async with _hypercorn() as port:
        results = await _exchange(port, _requests("http", body))
    assert results == {
        1: [200, bytearray(b"hello 2")],
        3: [200, bytearray(body)],
        5: [200, bytearray(b"hello 2")],
    }


async def test_hypercorn_over_tls_with_alpn() -> None:
    """What the connector will do: offer "h2" in ALPN, and speak HTTP/2 when chosen."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    client_ctx.set_alpn_protocols(["h2", "http/1.1"])
    body = b"tls body " * 10000
    with leaf.private_key_and_cert_chain_pem.tempfile() as pem:
        async with _hypercorn(pem) as port:
            results = await _exchange(port, _requests("https", body), client_ctx)
    assert results == {
        1: [200, bytearray(b"hello 2")],
        3: [200, bytearray(body)],
        5: [200, bytearray(b"hello 2")],
    }
