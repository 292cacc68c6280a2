"""httpx's ``AsyncClient``, written the way its documentation shows.

The pool is raised to keep 100 connections alive (the default keeps 20), so the
50-concurrent workload compares clients, not pool defaults: every client here keeps at
least 50 connections alive.
"""

from __future__ import annotations

from typing import Any

import httpx


def version() -> str:
    return str(httpx.__version__)


class HttpClient:
    async def start(self, base_url: str) -> None:
        self.base = base_url
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.client = httpx.AsyncClient(limits=limits)

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> bytes:
        resp = await self.client.get(self.base + path)
        resp.raise_for_status()
        return resp.content

    async def get_json(self, path: str) -> Any:
        resp = await self.client.get(self.base + path)
        resp.raise_for_status()
        return resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        resp = await self.client.post(self.base + path, content=data)
        resp.raise_for_status()
        return resp.content
