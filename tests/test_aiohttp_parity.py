"""cyhttp against the installed aiohttp 3.14.5, programmatically.

The first half compares the two libraries' public surfaces: every name of ``aiohttp.__all__``
a client program can use must be in ``cyhttp``; for the classes a client program touches,
every parameter name of aiohttp's constructors and methods must be accepted, and every
public member present. The exclusions are listed with their reasons.

The second half is the behaviour of what the audit found missing, over real sockets on
127.0.0.1: the upload tracker, the zlib backend switch, the named-pipe connector, and the
smaller names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp as real_aiohttp
import pytest

import cyhttp
from cyhttp import ClientSession, UploadAbortedError, UploadTracker

from .servers import AppServer, app_server, echo_app, raw_server

# --------------------------------------------------------------------------- names

#: names of ``aiohttp.__all__`` that belong to the server side only (no client program
#: uses them; cyhttp is a client)
SERVER_ONLY = {
    "GunicornWebWorker": "runs an aiohttp.web application under gunicorn",
    "GunicornUVLoopWebWorker": "runs an aiohttp.web application under gunicorn with uvloop",
}


def test_every_client_name_of_aiohttp_is_in_cyhttp() -> None:
    missing = [
        name
        for name in real_aiohttp.__all__
        if name not in SERVER_ONLY and not hasattr(cyhttp, name)
    ]
    assert missing == []


def test_the_server_only_exclusions_are_real_aiohttp_names() -> None:
    # an exclusion that aiohttp dropped would hide nothing: keep the list honest
    assert set(SERVER_ONLY) <= set(real_aiohttp.__all__)


def test_cyhttp_all_lists_the_client_names_of_aiohttp() -> None:
    ours = set(cyhttp.__all__)
    assert [n for n in real_aiohttp.__all__ if n not in SERVER_ONLY and n not in ours] == []


# -------------------------------------------------------------------- UploadTracker


@pytest.fixture
async def server() -> AsyncIterator[AppServer]:
    async with app_server(echo_app()) as srv:
        yield srv


async def test_upload_tracker_follows_a_plain_upload(server: AppServer) -> None:
    body = bytes(range(256)) * 1000
    tracker = UploadTracker()
    assert (tracker.attempts, tracker.bytes_written) == (0, 0)
    assert not tracker.upload_complete.done()
    async with (
        ClientSession() as session,
        session.post(server.url("/echo"), data=body, upload_tracker=tracker) as resp,
    ):
        echoed = await resp.json()
    assert echoed["body"].encode("latin-1") == body
    assert tracker.attempts == 1
    assert tracker.bytes_written == len(body)
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_counts_a_streamed_chunked_body(server: AppServer) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([65 + i]) * 1000

    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(server.url("/echo"), data=pieces(), upload_tracker=tracker) as resp,
    ):
        echoed = await resp.json()
    assert len(echoed["body"]) == 5000
    # payload bytes, not wire bytes: the chunk framing is not counted
    assert tracker.bytes_written == 5000
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_counts_payload_bytes_under_compression(server: AppServer) -> None:
    body = b"compressible " * 10000
    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"), data=body, compress="deflate", upload_tracker=tracker
        ) as resp,
    ):
        assert resp.status == 200
    assert tracker.bytes_written == len(body)
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None


async def test_upload_tracker_attempts_across_redirects(server: AppServer) -> None:
    async with ClientSession() as session:
        kept = UploadTracker()  # 307 sends the body again: a second full attempt
        url = server.url("/redirect/307").with_query(to="/echo")
        async with session.post(url, data=b"abc", upload_tracker=kept) as resp:
            assert (await resp.json())["body"] == "abc"
        assert (kept.attempts, kept.bytes_written) == (2, 3)
        assert await kept.upload_complete is None

        dropped = UploadTracker()  # 303 drops it: the second attempt sends zero bytes
        url = server.url("/redirect/303").with_query(to="/echo")
        async with session.post(url, data=b"abc", upload_tracker=dropped) as resp:
            assert (await resp.json())["method"] == "GET"
        assert (dropped.attempts, dropped.bytes_written) == (2, 0)
        assert await dropped.upload_complete is None


async def test_upload_tracker_sees_progress_of_a_large_upload_then_completion() -> None:
    size = 32 * 2**20  # far more than loopback's socket buffers hold
    gate = asyncio.Event()

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await gate.wait()
        received = 0
        while received < size:
            data = await reader.read(2**20)
            if not data:
                return
            received += len(data)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with raw_server(slow_reader) as srv, ClientSession() as session:
        tracker = UploadTracker()
        task = asyncio.ensure_future(
            session.post(srv.url("/"), data=b"u" * size, upload_tracker=tracker)
        )
        seen = []
        for _ in range(20):
            await asyncio.sleep(0.02)
            seen.append(tracker.bytes_written)
        assert seen == sorted(seen)  # it never goes back within an attempt
        assert 0 < seen[-1] < size  # the server has not read: most of the body waits
        assert not tracker.upload_complete.done()
        gate.set()
        resp = await asyncio.wait_for(task, 20)
        assert await resp.text() == "ok"
    assert tracker.bytes_written == size
    assert await tracker.upload_complete is None


async def test_upload_tracker_reports_the_failure_of_an_early_answered_upload() -> None:
    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Too big\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    async with raw_server(early) as srv, ClientSession() as session:
        tracker = UploadTracker()
        resp = await session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        assert resp.status == 413  # the request itself succeeds
        # the response is held: the upload goes on until the server's close cuts it
        with pytest.raises(cyhttp.ClientError) as info:
            await asyncio.wait_for(tracker.upload_complete, 10)
        resp.release()
    # the upload's own error, not "never sent": it was cut by the server
    assert not isinstance(info.value, UploadAbortedError)
    assert 0 < tracker.bytes_written < 32 * 2**20


async def test_upload_tracker_release_during_the_upload_aborts_it() -> None:
    async def early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)  # reads nothing more, keeps the connection open

    async with raw_server(early) as srv, ClientSession() as session:
        tracker = UploadTracker()
        resp = await session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        assert resp.status == 200
        assert not tracker.upload_complete.done()  # still writing after the answer
        resp.release()  # stops the upload (and drops the connection)
        with pytest.raises(UploadAbortedError):
            await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_failed_connection_is_an_aborted_upload() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pass  # closes the connection before reading anything

    async with raw_server(close_at_once) as srv, ClientSession() as session:
        port = srv.port
    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(cyhttp.ClientConnectorError):
            await session.post(f"http://127.0.0.1:{port}/", data=b"x", upload_tracker=tracker)
    assert tracker.attempts == 1
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete
    # settled as retrieved: a program that only polls done() gets no warning
    assert tracker.upload_complete.done()


async def test_upload_tracker_body_source_error_is_the_upload_error(server: AppServer) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise LookupError("the source broke")

    tracker = UploadTracker()
    async with ClientSession() as session:
        with pytest.raises(LookupError):
            await session.post(server.url("/echo"), data=broken(), upload_tracker=tracker)
    with pytest.raises(LookupError, match="the source broke"):
        await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_cancelled_request_is_aborted() -> None:
    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    async with raw_server(never_answers) as srv, ClientSession() as session:
        tracker = UploadTracker()
        task = asyncio.ensure_future(
            session.post(srv.url("/"), data=b"u" * (32 * 2**20), upload_tracker=tracker)
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(UploadAbortedError):
            await asyncio.wait_for(tracker.upload_complete, 5)


async def test_upload_tracker_middleware_answering_alone_is_aborted(server: AppServer) -> None:
    async def answer_from_elsewhere(req: Any, handler: Any) -> Any:
        # never calls the handler: the request (and its body) is not sent
        return await req.session.get(server.url("/status/204"), middlewares=())

    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"),
            data=b"never sent",
            upload_tracker=tracker,
            middlewares=(answer_from_elsewhere,),
        ) as resp,
    ):
        assert resp.status == 204
    assert tracker.attempts == 0
    with pytest.raises(UploadAbortedError):
        await tracker.upload_complete


async def test_upload_tracker_middleware_retry_is_a_second_attempt(server: AppServer) -> None:
    async def twice(req: Any, handler: Any) -> Any:
        first = await handler(req)
        first.release()
        return await handler(req)

    tracker = UploadTracker()
    async with (
        ClientSession(middlewares=(twice,)) as session,
        session.post(server.url("/echo"), data=b"12345", upload_tracker=tracker) as resp,
    ):
        assert (await resp.json())["body"] == "12345"
    assert (tracker.attempts, tracker.bytes_written) == (2, 5)
    assert await tracker.upload_complete is None


async def test_upload_tracker_observes_one_request_only(server: AppServer) -> None:
    tracker = UploadTracker()
    async with ClientSession() as session:
        async with session.post(server.url("/echo"), data=b"a", upload_tracker=tracker):
            pass
        with pytest.raises(RuntimeError, match="UploadTracker"):
            await session.post(server.url("/echo"), data=b"b", upload_tracker=tracker)
        with pytest.raises(TypeError, match="upload_tracker"):
            await session.post(server.url("/echo"), data=b"b", upload_tracker=object())
    assert tracker.attempts == 1


def test_upload_tracker_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        UploadTracker()


async def test_upload_tracker_with_expect_100_continue(server: AppServer) -> None:
    tracker = UploadTracker()
    async with (
        ClientSession() as session,
        session.post(
            server.url("/echo"), data=b"after continue", expect100=True, upload_tracker=tracker
        ) as resp,
    ):
        assert (await resp.json())["body"] == "after continue"
    assert tracker.bytes_written == len(b"after continue")
    assert await asyncio.wait_for(tracker.upload_complete, 5) is None
