"""pyreqwest's async ``Client`` (Rust: reqwest on hyper, rustls and tokio).

Built once per workload with ``ClientBuilder`` and reused, as its quick start shows; each
request is ``client.get(url).build().send()``. Its pool has no cap on connections by
default; idle connections kept per host are set to 100 (or ``connections``) like every
client here. Bodies come back as pyreqwest gives them (its zero-copy ``Bytes``), the way
its users read them. ``http2``: ``ClientBuilder.http2(True)`` (off by default), which
offers h2 by ALPN; hyper multiplexes one connection per host.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from pyreqwest.client import ClientBuilder


def version() -> str:
    return metadata.version("pyreqwest")


class HttpClient:
    async def start(
        self,
        base_url: str,
        ca_file: str | None = None,
        connections: int = 100,
        http2: bool = False,
    ) -> None:
        self.base = base_url
        builder = ClientBuilder().error_for_status(True).pool_max_idle_per_host(connections)
        if http2:
            builder = builder.http2(True)
        if ca_file:
            builder = builder.add_root_certificate_pem(Path(ca_file).read_bytes())
        self.client = builder.build()

    async def close(self) -> None:
        await self.client.close()

    async def get(self, path: str) -> Any:
        resp = await self.client.get(self.base + path).build().send()
        return await resp.bytes()

    async def get_json(self, path: str) -> Any:
        resp = await self.client.get(self.base + path).build().send()
        return await resp.json()

    async def post(self, path: str, data: bytes) -> Any:
        resp = await self.client.post(self.base + path).body_bytes(data).build().send()
        return await resp.bytes()
