"""httpx's ``AsyncClient``, written the way its documentation shows.

The pool is raised to keep 100 connections alive (the default keeps 20), so the
50-concurrent workload compares clients, not pool defaults: every client here keeps at
least 50 connections alive. A CA of the run's own is trusted through an SSL context
(``verify=<path>`` is deprecated in httpx 0.28). ``http2=True`` is httpx's own switch (it
needs the ``h2`` package); its pool then sends concurrent requests on one connection.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx


def version() -> str:
    return str(httpx.__version__)


class HttpClient:
    async def start(
        self,
        base_url: str,
        ca_file: str | None = None,
        connections: int = 100,
        http2: bool = False,
    ) -> None:
        self.base = base_url
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        verify: ssl.SSLContext | bool = True
        if ca_file:
            verify = ssl.create_default_context(cafile=ca_file)
        self.client = httpx.AsyncClient(limits=limits, verify=verify, http2=http2)

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
