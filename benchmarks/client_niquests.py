"""niquests' ``AsyncSession`` (requests' API on urllib3-future, Python with C helpers).

One session per workload, reused. Its pool keeps 10 connections per host by default,
which would queue the 50-concurrent workload: it is raised to 100 (or ``connections``),
like every client here. ``verify=<CA file>`` is given with each request: set on the
session (in its constructor or as an attribute), niquests 3.21 still verified against the
system's store and refused the run's CA. HTTP/2 is niquests' default over TLS (ALPN),
and the HTTPS servers of the HTTP/1.1 rows offer no h2. For the HTTP/2 rows the pool is
capped at one connection, which concurrent requests then share: with the larger pool
niquests opened one connection per request in flight.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import niquests


def version() -> str:
    return metadata.version("niquests")


class HttpClient:
    async def start(
        self,
        base_url: str,
        ca_file: str | None = None,
        connections: int = 100,
        http2: bool = False,
    ) -> None:
        self.base = base_url
        self.session = niquests.AsyncSession(pool_maxsize=1 if http2 else connections)
        self.verify: str | bool = ca_file if ca_file else True

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> bytes:
        resp = await self.session.get(self.base + path, verify=self.verify)
        resp.raise_for_status()
        return resp.content  # type: ignore[return-value]

    async def get_json(self, path: str) -> Any:
        resp = await self.session.get(self.base + path, verify=self.verify)
        resp.raise_for_status()
        return resp.json()

    async def post(self, path: str, data: bytes) -> bytes:
        resp = await self.session.post(self.base + path, data=data, verify=self.verify)
        resp.raise_for_status()
        return resp.content  # type: ignore[return-value]
