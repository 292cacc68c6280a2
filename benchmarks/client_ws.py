"""The WebSocket-only peers: picows (callback API, Cython) and websockets (asyncio API).

Both do what ``client_aiohttp.WsClient`` does: send one binary message, wait for the echo.
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks import workloads


class PicowsClient:
    """picows hands frames to a listener; a future carries the echo back to ``echo``."""

    async def start(self, url: str) -> None:
        from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

        owner = self

        class Listener(WSListener):
            def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
                waiter = owner.waiter
                if frame.msg_type == WSMsgType.BINARY and waiter is not None:
                    owner.waiter = None
                    if not waiter.done():
                        waiter.set_result(frame.get_payload_as_bytes())
                elif frame.msg_type == WSMsgType.CLOSE:
                    transport.disconnect()

            def on_ws_disconnected(self, transport: WSTransport) -> None:
                waiter = owner.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_exception(ConnectionError("picows: disconnected"))

        self.binary = WSMsgType.BINARY
        self.waiter: asyncio.Future[bytes] | None = None
        self.loop = asyncio.get_running_loop()
        self.transport, _ = await ws_connect(Listener, url, max_frame_size=4 * workloads.BIG_SIZE)

    async def close(self) -> None:
        from picows import WSCloseCode

        self.transport.send_close(WSCloseCode.OK)
        self.transport.disconnect()
        await self.transport.wait_disconnected()

    async def echo(self, payload: bytes) -> bytes:
        waiter = self.loop.create_future()
        self.waiter = waiter
        self.transport.send(self.binary, payload)
        return await waiter  # type: ignore[no-any-return]


class WebsocketsClient:
    """websockets' asyncio client, compression off (the server does not offer it)."""

    async def start(self, url: str) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(url, compression=None, max_size=4 * workloads.BIG_SIZE)

    async def close(self) -> None:
        await self.ws.close()

    async def echo(self, payload: bytes) -> bytes:
        await self.ws.send(payload)
        data = await self.ws.recv()
        if not isinstance(data, bytes):
            raise RuntimeError("expected a binary message")
        return data


class CyhttpListenerClient:
    """cyhttp's opt-in listener (``ws_connect(listener=...)``), used the way PicowsClient
    uses picows: the callback completes a future that ``echo`` awaits, sends go out with
    ``send_bytes_nowait``."""

    async def start(self, url: str) -> None:
        import cyhttp

        self.binary = cyhttp.WSMsgType.BINARY
        self.waiter: asyncio.Future[bytes] | None = None
        self.loop = asyncio.get_running_loop()
        self.session = cyhttp.ClientSession()
        try:
            self.ws = await self.session.ws_connect(
                url, listener=self.on_message, max_msg_size=4 * workloads.BIG_SIZE
            )
        except BaseException:
            await self.session.close()
            raise

    def on_message(self, ws: Any, msg: Any) -> None:
        waiter = self.waiter
        if waiter is None:
            return
        self.waiter = None
        if waiter.done():
            return
        if msg.type is self.binary:
            waiter.set_result(msg.data)
        else:  # CLOSE, CLOSED or ERROR: the echo will not come
            waiter.set_exception(ConnectionError(f"cyhttp listener: {msg.type!r}"))

    async def close(self) -> None:
        try:
            await self.ws.close()
        finally:
            await self.session.close()

    async def echo(self, payload: bytes) -> bytes:
        waiter = self.loop.create_future()
        self.waiter = waiter
        self.ws.send_bytes_nowait(payload)
        return await waiter  # type: ignore[no-any-return]
