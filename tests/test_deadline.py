"""LazyDeadline: one timer per connection, never late, never firing for a finished request."""

from __future__ import annotations

import asyncio

from cyhttp.deadline import LazyDeadline


async def test_fires_at_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[tuple[str, float]] = []
    deadline = loop.time() + 0.05
    timer.arm(deadline, lambda arg: fired.append((arg, loop.time())), "a")
    await asyncio.sleep(0.2)
    assert [name for name, _ in fired] == ["a"]
    assert fired[0][1] >= deadline - 0.002  # loop timers may run a hair early, never late


async def test_disarmed_request_never_fires() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[str] = []
    timer.arm(loop.time() + 0.03, fired.append, "a")
    timer.disarm("a")
    await asyncio.sleep(0.1)
    assert fired == []


async def test_disarm_of_an_older_request_keeps_the_current_one() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[str] = []
    timer.arm(loop.time() + 0.03, fired.append, "old")
    timer.arm(loop.time() + 0.04, fired.append, "new")
    timer.disarm("old")
    await asyncio.sleep(0.15)
    assert fired == ["new"]


async def test_a_later_deadline_reuses_the_pending_timer_and_rearms() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[tuple[str, float]] = []
    record = lambda arg: fired.append((arg, loop.time()))  # noqa: E731
    timer.arm(loop.time() + 0.03, record, "first")
    pending = timer._handle
    timer.disarm("first")
    late = loop.time() + 0.1
    timer.arm(late, record, "second")
    assert timer._handle is pending  # no new timer for the later deadline
    await asyncio.sleep(0.05)
    assert fired == []  # the early timer ran, found "second" not due, re-armed
    await asyncio.sleep(0.15)
    assert [name for name, _ in fired] == ["second"]
    assert fired[0][1] >= late - 0.002


async def test_an_earlier_deadline_replaces_the_pending_timer() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[str] = []
    timer.arm(loop.time() + 10.0, fired.append, "slow")
    timer.disarm("slow")
    timer.arm(loop.time() + 0.03, fired.append, "fast")
    await asyncio.sleep(0.15)
    assert fired == ["fast"]
    timer.close()


async def test_close_cancels_everything() -> None:
    loop = asyncio.get_running_loop()
    timer = LazyDeadline(loop)
    fired: list[str] = []
    timer.arm(loop.time() + 0.03, fired.append, "a")
    assert timer.armed
    timer.close()
    assert not timer.armed
    await asyncio.sleep(0.1)
    assert fired == []
