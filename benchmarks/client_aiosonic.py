"""aiosonic's ``HTTPClient``.

Its pool is raised from 30 connections (which would queue the 50-concurrent workload) to
100, and connections are not recycled every 1000 requests, to match the other clients.
A CA of the run's own is trusted by an SSL context given with each request (aiosonic
takes it per request, not per client).
"""

from __future__ import annotations

import ssl
from importlib import metadata
from typing import Any

import aiosonic  # type: ignore[import-untyped]
from aiosonic.pools import PoolConfig  # type: ignore[import-untyped]


def version() -> str:
    return metadata.version("aiosonic")


class HttpClient:
    async def start(
        self, base_url: str, ca_file: str | None = None, connections: int = 100
    ) -> None:
        self.base = base_url
        pool = PoolConfig(size=connections, max_conn_requests=None)
        connector = aiosonic.TCPConnector(pool_configs={":default": pool})
        self.client = aiosonic.HTTPClient(connector=connector)
        self.tls: dict[str, ssl.SSLContext] = {}
        if ca_file:
            self.tls["ssl"] = ssl.create_default_context(cafile=ca_file)

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> bytes:
        resp = await self.client.get(self.base + path, **self.tls)
        _check(resp)
        return await resp.content()  # type: ignore[no-any-return]

    async def get_json(self, path: str) -> Any:
        resp = await self.client.get(self.base + path, **self.tls)
        _check(resp)
        return await resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        resp = await self.client.post(self.base + path, data=data, **self.tls)
        _check(resp)
        return await resp.content()  # type: ignore[no-any-return]


def _check(resp: Any) -> None:
    if resp.status_code != 200:
        raise RuntimeError(f"HTTP {resp.status_code}")
