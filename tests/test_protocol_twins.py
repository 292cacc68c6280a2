"""The two twins of the per-connection protocol (compiled ``_protocol``, pure
``_protocol_py``) look and behave the same: the same public surface, the same state after
construction, and the same outcome of real exchanges on 127.0.0.1 (a keep-alive pair of
responses, a chunked and gzip-compressed body, a malformed head, a truncated body, an
upgrade handed over, a read timeout)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import pytest

import cyhttp
from cyhttp import _compat, client_proto

from .conftest import Impl
from .servers import canned, raw_server, read_request

#: names set on the class whatever its twin (the pure one is an asyncio.Protocol subclass)
_IGNORED = {"_abc_impl", "__weakref__", "__dict__", "__slots__", "__pyx_vtable__"}


@pytest.fixture
def twin(impl: Impl) -> ModuleType:
    """The protocol twin matching ``impl`` (``c``: compiled, ``py``: pure)."""
    if impl.name == "py":
        module = _compat.import_twin("_protocol_py")
    else:
        module = _compat.import_twin("_protocol")
        if module is None:
            pytest.fail("the compiled _protocol module is not built")
    assert module is not None
    return module


def _public(obj: Any) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def test_the_module_in_use_is_the_one_compat_chose(expect_compiled: bool) -> None:
    expected = "cyhttp._protocol" if expect_compiled else "cyhttp._protocol_py"
    assert client_proto.impl.__name__ == expected
    assert client_proto.ResponseHandler is client_proto.impl.ResponseHandler
    assert _compat.COMPILED["_protocol"] is expect_compiled


def test_twins_share_constants_and_helpers(twin: ModuleType) -> None:
    for name in (
        "DEFAULT_MAX_DECOMPRESSED_SIZE",
        "DEFAULT_READ_LIMITS",
        "MAX_INFORMATIONAL",
        "deliver_failure",
    ):
        assert getattr(twin, name) is getattr(client_proto, name), name


async def test_same_surface_and_initial_state(twin: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    pure = _compat.import_twin("_protocol_py")
    assert pure is not None
    reference = pure.ResponseHandler(loop)
    handler = twin.ResponseHandler(loop)
    assert _public(handler) == _public(reference)
    # every attribute the pure twin keeps is there, with the same starting value
    for name, value in vars(reference).items():
        got = getattr(handler, name)
        if name == "deadline":
            assert type(got) is type(value)
        else:
            assert got == value and type(got) is type(value), name
    assert handler.closed is False and not handler.is_connected() and not handler.is_reusable()
    with pytest.raises(cyhttp.ServerDisconnectedError):
        handler.start("GET")
    handler.deadline.close()
    reference.deadline.close()


def test_attributes_other_modules_set_are_writable(twin: ModuleType) -> None:
    loop = asyncio.new_event_loop()
    try:
        handler = twin.ResponseHandler(loop)
        handler.should_close = True
        handler.on_message_done = print
        handler.output_size = 7
        assert (handler.should_close, handler.on_message_done, handler.output_size) == (
            True,
            print,
            7,
        )
        handler.deadline.close()
    finally:
        loop.close()


def test_a_python_subclass_has_an_instance_dict(twin: ModuleType) -> None:
    class Sub(twin.ResponseHandler):  # type: ignore[name-defined,misc]
        def __init__(self, loop: asyncio.AbstractEventLoop, extra: int) -> None:
            super().__init__(loop)
            self.extra = extra

    loop = asyncio.new_event_loop()
    try:
        sub = Sub(loop, 5)
        assert sub.extra == 5 and sub.busy is False
        sub.deadline.close()
    finally:
        loop.close()


@asynccontextmanager
async def _connected(
    twin: ModuleType, *responses: bytes, keep_open: bool = True
) -> AsyncIterator[Any]:
    """A twin's handler on a real connection to a server answering ``responses``."""
    loop = asyncio.get_running_loop()
    async with raw_server(canned(*responses, keep_open=keep_open)) as srv:
        _, handler = await loop.create_connection(
            lambda: twin.ResponseHandler(loop), "127.0.0.1", srv.port
        )
        try:
            yield handler
        finally:
            handler.close()
            handler.deadline.close()


_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _exchange(handler: Any, method: str = "GET", **options: Any) -> tuple[Any, bytes]:
    waiter = handler.start(method, **options)
    handler.write(_REQUEST)
    head, payload = await asyncio.wait_for(waiter, 5)
    return head, await asyncio.wait_for(payload.read(), 5)


async def test_keep_alive_exchanges(twin: ModuleType) -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
    second = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    done: list[bool] = []
    async with _connected(twin, first, second) as handler:
        handler.on_message_done = lambda: done.append(handler.busy)
        head, body = await _exchange(handler)
        assert (head.status, head.headers["X-A"], body) == (200, "1", b"hello")
        assert handler.output_size == len(_REQUEST) and handler.got_bytes
        assert handler.is_reusable() and done == [False]
        head, body = await _exchange(handler)
        assert (head.status, body) == (404, b"abc")
        assert handler.is_reusable() and done == [False, False]


async def test_compressed_body_and_head_request(twin: ModuleType) -> None:
    plain = b"twins " * 5000
    packed = gzip.compress(plain)
    gz = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%b" % (
        len(packed),
        packed,
    )
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    async with _connected(twin, gz, head_answer) as handler:
        _, body = await _exchange(handler)
        assert body == plain
        _, body = await _exchange(handler, "HEAD")
        assert body == b"" and handler.is_reusable()


async def test_malformed_head_fails_the_waiter(twin: ModuleType) -> None:
    async with _connected(twin, b"HTTP/1.1 2x0 OK\r\n\r\n") as handler:
        with pytest.raises(cyhttp.ClientResponseError, match="invalid response") as info:
            await _exchange(handler)
        assert info.value.status == 400
        assert handler.should_close and not handler.busy


async def test_truncated_body_fails_the_reader(twin: ModuleType) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    async with _connected(twin, answer, keep_open=False) as handler:
        with pytest.raises(cyhttp.ClientPayloadError, match="not completed"):
            await _exchange(handler)
        assert handler.closed


async def test_upgrade_hands_the_connection_over(twin: ModuleType) -> None:
    async def handler_(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nearly")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"late")
        await writer.drain()

    class Receiver:
        def __init__(self) -> None:
            self.data = bytearray()
            self.eof = asyncio.Event()

        def feed_data(self, data: bytes) -> None:
            self.data += data

        def feed_eof(self) -> None:
            self.eof.set()

        def set_exception(self, exc: BaseException) -> None:
            self.eof.set()

    loop = asyncio.get_running_loop()
    async with raw_server(handler_) as srv:
        _, handler = await loop.create_connection(
            lambda: twin.ResponseHandler(loop), "127.0.0.1", srv.port
        )
        waiter = handler.start("GET")
        handler.write(_REQUEST)
        head, _ = await asyncio.wait_for(waiter, 5)
        assert head.status == 101
        receiver = Receiver()
        handler.take_over(receiver)
        await asyncio.wait_for(receiver.eof.wait(), 5)
        assert bytes(receiver.data) == b"earlylate"
        assert handler.should_close and not handler.busy
        handler.deadline.close()


async def test_read_timeout(twin: ModuleType) -> None:
    async with _connected(twin, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe") as handler:
        with pytest.raises(cyhttp.SocketTimeoutError):
            await _exchange(handler, read_timeout=0.1)
        assert handler.should_close
