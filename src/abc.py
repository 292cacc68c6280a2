"""Abstract base classes users subclass to plug in their own cookie jar or DNS resolver."""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from yarl import URL

if TYPE_CHECKING:
    from http.cookies import BaseCookie, Morsel

__all__ = ("AbstractCookieJar", "AbstractResolver", "ResolveResult")


class ResolveResult(TypedDict):
    """One address returned by :meth:`AbstractResolver.resolve` (aiohttp's contract)."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """Turns a host name into addresses to connect to."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the addresses for ``host``; raise OSError when there are none."""

    @abstractmethod
    async def close(self) -> None:
        """Release the resolver's resources."""


class AbstractCookieJar(ABC):
    """Stores cookies between requests of one session."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]: ...

    @abstractmethod
    def clear(self, predicate: Any = None) -> None:
        """Remove every cookie (or those for which ``predicate(morsel)`` is true)."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains."""

    @abstractmethod
    def update_cookies(
        self,
        cookies: Mapping[str, str | Morsel[str]] | BaseCookie[str] | Any,
        response_url: URL = URL(),
    ) -> None:
        """Store cookies given as a mapping or pairs; an empty URL makes them shared."""

    def update_cookies_from_headers(self, headers: Any, response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` header values received from ``response_url``."""
        from http.cookies import BaseCookie  # with the first cookies, not at import

        cookies: BaseCookie[str] = BaseCookie()
        for header in headers:
            cookies.load(header)
        self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return the cookies a request to ``request_url`` must carry, in sending order."""
