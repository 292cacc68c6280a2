"""curl_cffi's ``AsyncSession`` (libcurl, driven from the asyncio loop through its
socket callbacks).

One session per workload, reused. Its pool of easy handles is raised from 10 (which
would queue the 50-concurrent workload) to 100 (or ``connections``), like every client
here. No browser impersonation: plain requests, as an API client sends them. ``verify``
given a path makes libcurl trust that CA file (its ``CAINFO`` option).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import curl_cffi


def version() -> str:
    return metadata.version("curl_cffi")


class HttpClient:
    async def start(
        self, base_url: str, ca_file: str | None = None, connections: int = 100
    ) -> None:
        self.base = base_url
        verify: Any = ca_file if ca_file else True
        self.session: Any = curl_cffi.AsyncSession(max_clients=connections, verify=verify)

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> bytes:
        resp = await self.session.get(self.base + path)
        resp.raise_for_status()
        return resp.content

    async def get_json(self, path: str) -> Any:
        resp = await self.session.get(self.base + path)
        resp.raise_for_status()
        return resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        resp = await self.session.post(self.base + path, data=data)
        resp.raise_for_status()
        return resp.content
