"""DNS resolvers: the thread-pool ``getaddrinfo`` one (default) and an aiodns one.

Both return aiohttp's list-of-dicts (see :class:`cyhttp.abc.ResolveResult`) so resolvers
written for aiohttp plug in unchanged. Caching and coalescing live in the connector.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from .abc import AbstractResolver, ResolveResult
from .helpers import warn_loop

__all__ = ("AsyncResolver", "DefaultResolver", "ThreadResolver", "ThreadedResolver")


class ThreadResolver(AbstractResolver):
    """``loop.getaddrinfo`` (the system resolver, in the default executor)."""

    def __init__(self, loop: Any = None) -> None:
        warn_loop(loop)

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        hosts = [
            _result(host, fam, proto, address)
            for fam, _, proto, _, address in infos
            # an IPv6 address without flow info and scope: IPv6 disabled in the Python build
            if fam != socket.AF_INET6 or len(address) >= 3
        ]
        if not hosts:
            raise OSError(f"DNS lookup of {host!r} gave no usable address")
        return hosts

    async def close(self) -> None:
        return None


class AsyncResolver(AbstractResolver):
    """aiodns (c-ares) based resolver; importable only with aiodns installed."""

    def __init__(self, loop: Any = None, *args: Any, **kwargs: Any) -> None:
        warn_loop(loop)
        try:
            import aiodns
        except ImportError:  # pragma: no cover - aiodns is a declared extra
            raise RuntimeError("AsyncResolver needs aiodns (pip install aiodns)") from None
        self._aiodns = aiodns
        self._resolver = aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            resp = await self._resolver.getaddrinfo(
                host,
                port=port,
                type=socket.SOCK_STREAM,
                family=socket.AddressFamily(family),
                flags=socket.AI_ADDRCONFIG,
            )
        except self._aiodns.error.DNSError as exc:
            msg = exc.args[1] if len(exc.args) >= 2 else "DNS lookup failed"
            raise OSError(None, msg) from exc
        hosts = [_result(host, node.family, 0, node.addr) for node in resp.nodes]
        if not hosts:
            raise OSError(None, f"DNS lookup of {host!r} gave no usable address")
        return hosts

    async def close(self) -> None:
        closer = getattr(self._resolver, "close", None)
        if closer is not None:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
        else:  # older aiodns
            self._resolver.cancel()


def _result(hostname: str, family: int, proto: int, address: Any) -> ResolveResult:
    """One entry of a resolver's answer, from a socket address of ``family``."""
    if family == socket.AF_INET6 and len(address) > 3 and address[3]:
        # a scope id (link-local address): only the numeric "addr%scope" form keeps it
        host, port = socket.getnameinfo(address, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
    else:
        host, port = address[0], address[1]
        if isinstance(host, bytes):  # aiodns gives bytes
            host = host.decode("ascii")
    return {
        "hostname": hostname,
        "host": str(host),
        "port": int(port),
        "family": family,
        "proto": proto,
        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    }


#: The system resolver is the default (as in aiohttp): aiodns misses /etc/hosts tricks and
#: search domains in some setups.
DefaultResolver = ThreadResolver

#: aiohttp 3's name for :class:`ThreadResolver`
ThreadedResolver = ThreadResolver
