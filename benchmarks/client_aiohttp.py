"""aiohttp's client API, run by aiohttp itself and by cyhttp: the very same code.

That is the product's promise: ``import cyhttp as aiohttp`` and a program written for
aiohttp runs unchanged. :func:`use` binds the module-level name ``aiohttp`` to one library
or the other; nothing below it knows which one it got.
"""

from __future__ import annotations

import ssl
from typing import Any

aiohttp: Any = None


def use(library: str) -> str:
    """Bind ``aiohttp`` to ``"aiohttp"`` or ``"cyhttp"``; return a version string for the log."""
    global aiohttp
    if library == "cyhttp":
        import cyhttp as aiohttp
    else:
        import aiohttp
    return str(aiohttp.__version__)


class HttpClient:
    """One ``ClientSession`` for one workload; its connector is the default one (keep-alive
    pool of 100) unless the workload trusts a CA of its own or needs a larger pool.

    ``http2``: cyhttp's ``TCPConnector(http2=True)``, whose concurrent requests share one
    connection; the context made here offers ALPN h2 (cyhttp never changes a context it is
    given). aiohttp has no HTTP/2: it refuses."""

    async def start(
        self,
        base_url: str,
        ca_file: str | None = None,
        connections: int = 100,
        http2: bool = False,
    ) -> None:
        self.base = base_url
        if ca_file is None and connections == 100 and not http2:
            self.session = aiohttp.ClientSession()
            return
        context: ssl.SSLContext | bool = True
        if ca_file:
            context = ssl.create_default_context(cafile=ca_file)
        if not http2:
            connector = aiohttp.TCPConnector(limit=connections, ssl=context)
        elif getattr(aiohttp, "IMPLEMENTATION", None) is None:
            raise RuntimeError("aiohttp has no HTTP/2 client")
        else:
            if isinstance(context, ssl.SSLContext):
                context.set_alpn_protocols(["h2", "http/1.1"])
            connector = aiohttp.TCPConnector(limit=connections, ssl=context, http2=True)
        self.session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> bytes:
        async with self.session.get(self.base + path) as resp:
            resp.raise_for_status()
            return await resp.read()  # type: ignore[no-any-return]

    async def get_json(self, path: str) -> Any:
        async with self.session.get(self.base + path) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        async with self.session.post(self.base + path, data=data) as resp:
            resp.raise_for_status()
            return await resp.read()  # type: ignore[no-any-return]


class WsClient:
    """``session.ws_connect`` and a send/receive ping-pong."""

    async def start(self, url: str) -> None:
        self.session = aiohttp.ClientSession()
        try:
            self.ws = await self.session.ws_connect(url)
        except BaseException:
            await self.session.close()
            raise

    async def close(self) -> None:
        try:
            await self.ws.close()
        finally:
            await self.session.close()

    async def echo(self, payload: bytes) -> bytes:
        await self.ws.send_bytes(payload)
        msg = await self.ws.receive()
        if msg.type != aiohttp.WSMsgType.BINARY:
            raise RuntimeError(f"expected a binary message, got {msg.type!r}")
        return msg.data  # type: ignore[no-any-return]
