"""aiosonic's ``HTTPClient``.

Its pool is raised from 30 connections (which would queue the 50-concurrent workload) to
100, and connections are not recycled every 1000 requests, to match the other clients.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import aiosonic  # type: ignore[import-untyped]
from aiosonic.pools import PoolConfig  # type: ignore[import-untyped]


def version() -> str:
    return metadata.version("aiosonic")


class HttpClient:
    async def start(self, base_url: str) -> None:
        self.base = base_url
        pool = PoolConfig(size=100, max_conn_requests=None)
        connector = aiosonic.TCPConnector(pool_configs={":default": pool})
        self.client = aiosonic.HTTPClient(connector=connector)

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> bytes:
        resp = await self.client.get(self.base + path)
        _check(resp)
        return await resp.content()  # type: ignore[no-any-return]

    async def get_json(self, path: str) -> Any:
        resp = await self.client.get(self.base + path)
        _check(resp)
        return await resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        resp = await self.client.post(self.base + path, data=data)
        _check(resp)
        return await resp.content()  # type: ignore[no-any-return]


def _check(resp: Any) -> None:
    if resp.status_code != 200:
        raise RuntimeError(f"HTTP {resp.status_code}")
