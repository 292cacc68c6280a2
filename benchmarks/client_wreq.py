"""wreq's ``Client`` (Rust: wreq, a reqwest fork on hyper, BoringSSL and tokio).

One client per workload, reused for every request, as its documentation shows; responses
are read inside ``async with`` so a fully read connection goes back to the pool. The pool
keeps 100 idle connections per host (or ``connections``), like every client here. Bodies
come back as wreq gives them (a read-only ``memoryview``, no copy into ``bytes``): that is
how its users read them, and comparing it with ``bytes`` compares the content.
``http2``: ``http2_only=True`` (ALPN h2 only; hyper multiplexes one connection per host).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import wreq


def version() -> str:
    return metadata.version("wreq")


class HttpClient:
    async def start(
        self,
        base_url: str,
        ca_file: str | None = None,
        connections: int = 100,
        http2: bool = False,
    ) -> None:
        self.base = base_url
        options: dict[str, Any] = {
            "pool_max_idle_per_host": connections,
            "pool_max_size": connections,
            "gzip": True,
        }
        if http2:
            options["http2_only"] = True
        if ca_file:
            options["tls_verify"] = Path(ca_file)  # a CA file of its own, not the system's
        self.client = wreq.Client(**options)

    async def close(self) -> None:
        self.client.close()

    async def get(self, path: str) -> Any:
        async with self.client.get(self.base + path) as resp:
            resp.raise_for_status()
            return await resp.bytes()

    async def get_json(self, path: str) -> Any:
        async with self.client.get(self.base + path) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def post(self, path: str, data: bytes) -> Any:
        async with self.client.post(self.base + path, body=data) as resp:
            resp.raise_for_status()
            return await resp.bytes()
