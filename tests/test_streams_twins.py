"""The two twins of the body buffer's core (compiled ``_streams``, pure ``_streams_py``):
the same surface and signature, and the same results for the same sequence of feeds and
takes, flow control included. ``StreamReader`` itself is tested in test_streams.py."""

from __future__ import annotations

import asyncio
import inspect
from types import ModuleType
from typing import Any

import pytest

from cyhttp import _compat, streams

from .conftest import Impl


@pytest.fixture
def twin(impl: Impl) -> ModuleType:
    """The core twin matching ``impl`` (``c``: compiled, ``py``: pure)."""
    module = _compat.import_twin("_streams_py" if impl.name == "py" else "_streams")
    if module is None:
        pytest.fail("the compiled _streams module is not built")
    return module


class Flow:
    """A protocol that records what the reader asks of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def _reader(twin: ModuleType, flow: Flow | None = None, limit: int = 4) -> Any:
    class Reader(twin.StreamCore):  # type: ignore[name-defined,misc]
        __slots__ = ()

    return Reader(flow, limit)


def test_the_core_in_use_is_the_one_compat_chose(expect_compiled: bool) -> None:
    expected = "cyhttp._streams" if expect_compiled else "cyhttp._streams_py"
    assert streams.StreamCore.__module__ == expected
    assert issubclass(streams.StreamReader, streams.StreamCore)
    assert _compat.COMPILED["_streams"] is expect_compiled


def test_same_surface_and_signature(twin: ModuleType) -> None:
    pure = _compat.import_twin("_streams_py")
    assert pure is not None
    names = {n for n in dir(pure.StreamCore) if not n.startswith("__")}
    assert names <= set(dir(twin.StreamCore))
    assert list(inspect.signature(twin.StreamCore).parameters) == [
        "protocol",
        "limit",
        "loop",
    ]
    assert inspect.signature(twin.StreamCore).parameters["limit"].default == twin.DEFAULT_LIMIT
    assert twin.DEFAULT_LIMIT == streams.DEFAULT_LIMIT == pure.DEFAULT_LIMIT
    reader = twin.StreamCore()
    assert (reader._low, reader._high, reader._size, reader.total_compressed_bytes) == (
        twin.DEFAULT_LIMIT,
        2 * twin.DEFAULT_LIMIT,
        0,
        None,
    )
    with pytest.raises(AttributeError):
        reader.anything_else = 1


def test_feed_and_take_sequence(twin: ModuleType) -> None:
    flow = Flow()
    reader = _reader(twin, flow, limit=4)
    reader.feed_data(b"")  # ignored
    reader.feed_data(b"abc")
    reader.end_http_chunk()
    reader.end_http_chunk()  # the same boundary once
    reader.feed_data(bytearray(b"defghi"))  # above 2 * limit: pause
    assert flow.calls == ["pause"] and reader.paused
    assert list(reader._chunk_ends) == [3]
    assert reader._take(2) == b"ab"
    assert reader._take(4) == b"cdef"  # across pieces
    assert flow.calls == ["pause", "resume"] and not reader.paused
    assert reader._take_first() == b"ghi"
    assert reader.read_nowait() == b""
    reader.feed_data(b"ijk")
    reader.feed_data(b"lm")
    assert reader.read_nowait(1) == b"i"
    assert reader.read_nowait() == b"jklm"
    assert (reader.total_bytes, reader._consumed, reader._size) == (14, 14, 0)
    assert not reader.is_eof() and not reader.at_eof()
    reader.feed_eof()
    assert reader.is_eof() and reader.at_eof() and reader._protocol is None
    reader.total_compressed_bytes = 5
    assert reader.total_raw_bytes == 5


async def test_waiters_and_exception(twin: ModuleType) -> None:
    loop = asyncio.get_running_loop()
    reader = _reader(twin)
    waiter = reader._waiter = loop.create_future()
    eof_waiter = loop.create_future()
    reader._eof_waiters.append(eof_waiter)
    reader.feed_data(b"x")
    assert waiter.done() and reader._waiter is None
    error = ValueError("boom")
    reader.set_exception(error)
    assert eof_waiter.done() and reader.exception() is error
    with pytest.raises(ValueError, match="boom"):
        reader.read_nowait()
    with pytest.raises(ValueError, match="boom"):
        reader._check()


def test_read_nowait_refuses_while_a_read_waits(twin: ModuleType) -> None:
    loop = asyncio.new_event_loop()
    try:
        reader = _reader(twin)
        reader._waiter = loop.create_future()
        with pytest.raises(RuntimeError, match="another coroutine is waiting"):
            reader.read_nowait()
    finally:
        loop.close()
