"""A lazily re-armed timer for the whole-request timeout of the requests on one connection.

Arming a loop timer per request (``call_at``, then ``cancel`` once the body is read) costs
more than the rest of a small keep-alive GET's bookkeeping together: on uvloop it is a libuv
timer started, stopped and closed, on asyncio a heap entry left behind as garbage. Yet the
deadline of a typical request (5 minutes away) almost never fires.

:class:`LazyDeadline` keeps at most one timer per connection. :meth:`arm` only records the
request's deadline when the timer already pending fires no later than it; when the timer
fires it compares the clock with the *current* deadline and either expires the request or
re-arms itself for the later deadline. A sequential stream of requests with the default
timeout thus costs one timer per timeout period, not one per request, and a deadline never
fires late: the timer always runs at or before the deadline of the request in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ("LazyDeadline",)


class LazyDeadline:
    """The whole-request deadline of one connection (one request in flight at a time)."""

    __slots__ = ("_arg", "_callback", "_deadline", "_handle", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._when = 0.0  # when the pending timer runs
        self._deadline = 0.0  # the deadline of the armed request
        self._callback: Callable[[Any], Any] | None = None
        self._arg: Any = None

    def arm(self, deadline: float, callback: Callable[[Any], Any], arg: Any) -> None:
        """Call ``callback(arg)`` at loop time ``deadline`` unless ``disarm(arg)`` comes
        first. Replaces whatever was armed before."""
        self._deadline = deadline
        self._callback = callback
        self._arg = arg
        handle = self._handle
        if handle is None or self._when > deadline:
            if handle is not None:
                handle.cancel()
            self._when = deadline
            self._handle = self._loop.call_at(deadline, self._fire)

    def disarm(self, arg: Any) -> None:
        """Forget the deadline armed for ``arg`` (a later request's deadline stays). The
        timer stays pending: it finds nothing to do when it runs and is not re-armed."""
        if self._callback is not None and (self._arg is arg or self._arg == arg):
            self._callback = None
            self._arg = None

    def close(self) -> None:
        """Drop everything, the pending timer included (the connection is gone)."""
        self._callback = None
        self._arg = None
        handle = self._handle
        if handle is not None:
            self._handle = None
            handle.cancel()

    @property
    def armed(self) -> bool:
        return self._callback is not None

    def _fire(self) -> None:
        self._handle = None
        callback = self._callback
        if callback is None:
            return
        deadline = self._deadline
        if deadline > self._when and self._loop.time() < deadline:
            # armed for an earlier request: the one in flight now has a later deadline
            self._when = deadline
            self._handle = self._loop.call_at(deadline, self._fire)
            return
        arg = self._arg
        self._callback = None
        self._arg = None
        callback(arg)
