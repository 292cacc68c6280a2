"""``NamedPipeConnector``: connections over a Windows named pipe (``\\\\.\\pipe\\<name>``).

Named pipes exist only on Windows, and asyncio reaches them only through the proactor event
loop (``loop.create_pipe_connection``). Anywhere else the connector cannot work at all, so
making one raises a RuntimeError that says so, instead of failing on the first request.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .client_exceptions import ClientConnectorError, ConnectionTimeoutError
from .client_proto import ResponseHandler
from .connector import _CREATE_TRACED, BaseConnector, _create_args
from .helpers import sentinel

if TYPE_CHECKING:
    from .tracing import Trace

__all__ = ("NamedPipeConnector",)


def _pipe_loop(loop: Any) -> Any:
    """The loop the connector will use, if it can open named pipes; else RuntimeError."""
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
    if sys.platform != "win32" or (
        loop is not None and not hasattr(loop, "create_pipe_connection")
    ):
        raise RuntimeError(
            "Named Pipes only available in proactor loop under windows "
            f"(this is {sys.platform}, loop {type(loop).__name__})"
        )
    return loop


class NamedPipeConnector(BaseConnector):
    """Connections over the Windows named pipe at ``path`` (whatever the URL's host)."""

    _create_style = _CREATE_TRACED

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: Any = sentinel,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: Any = None,
    ) -> None:
        _pipe_loop(loop)  # before the pool exists: nothing to close on the way out
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        self._path = path

    @property
    def path(self) -> str:
        """The named pipe's path."""
        return self._path

    async def _create_connection(
        self, req: Any, *args: Any, timeout: Any = None, traces: Sequence[Trace] | None = None
    ) -> ResponseHandler:
        if args:
            timeout, traces = _create_args(args, timeout, traces)
        loop = _pipe_loop(self._loop)
        limit = getattr(timeout, "sock_connect", None)
        try:
            coro = loop.create_pipe_connection(self._protocol_factory(), self._path)
            if limit:
                async with asyncio.timeout(limit):
                    _, proto = await coro
            else:
                _, proto = await coro
            # the proactor hands the pipe over a moment after the connection is made
            await asyncio.sleep(0)
        except OSError as exc:
            if isinstance(exc, TimeoutError) and exc.errno is None:
                raise ConnectionTimeoutError(
                    f"Connection timeout to named pipe {self._path}"
                ) from exc
            raise ClientConnectorError(req.connection_key, exc) from exc
        return proto
