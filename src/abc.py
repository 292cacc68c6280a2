"""Abstract base classes users subclass to plug in their own cookie jar or DNS resolver."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict

from yarl import URL

if TYPE_CHECKING:
    from http.cookies import BaseCookie, Morsel, SimpleCookie

__all__ = (
    "AbstractCookieJar",
    "AbstractResolver",
    "AbstractStreamWriter",
    "ClearCookiePredicate",
    "ResolveResult",
)

#: What :meth:`AbstractCookieJar.clear` accepts: true for each Morsel to remove.
ClearCookiePredicate = Callable[["Morsel[str]"], bool]


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


class AbstractStreamWriter(ABC):
    """What a request body (a :class:`~cyhttp.payload.Payload`, a ``streamer``) writes
    into: ``write`` each piece, ``drain`` to wait for the transport, ``write_eof`` for a
    last piece (aiohttp's interface, for type hints and ``isinstance``). The request's
    framing (chunked, compression, the head) is the request's own business here: the
    methods aiohttp's server-side writers also have refuse to run on a body writer."""

    buffer_size: int = 0
    output_size: int = 0
    length: int | None = 0

    @abstractmethod
    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Write one piece of the body."""

    @abstractmethod
    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write a last piece (the end of the body itself is written by the request)."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait while the transport's buffer is full."""

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise NotImplementedError("a request's compression is set by its compress= argument")

    def enable_chunking(self) -> None:
        raise NotImplementedError("a request's framing is set by its chunked= argument")

    async def write_headers(self, status_line: str, headers: Any) -> None:
        raise NotImplementedError("a request's head is written by the request itself")

    def send_headers(self) -> None:  # noqa: B027 - deliberately a no-op, as in aiohttp
        """Nothing to do: the head is always written before the body."""


class AbstractCookieJar(ABC):
    """Stores cookies between requests of one session (aiohttp 3.14's interface).

    A subclass must provide ``__len__``, ``__iter__``, ``clear``, ``update_cookies`` and
    ``filter_cookies``. The rest of aiohttp 3.14's interface (``unsafe``, ``quote_cookie``,
    ``treat_as_secure_origin``, ``cookies``, ``host_only_cookies``, ``clear_domain``,
    ``update_cookies_from_headers``) has working defaults here, so that jars written for
    older versions, which know nothing of them, keep working with the session.
    """

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        # aiohttp's jars call ``super().__init__(loop=loop)``; the loop is only remembered.
        if loop is None:
            with contextlib.suppress(RuntimeError):
                loop = asyncio.get_running_loop()
        self._loop = loop

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]: ...

    @property
    def unsafe(self) -> bool:
        """Whether cookies from hosts given as IP addresses are accepted."""
        return False

    @property
    def quote_cookie(self) -> bool:
        """Whether values are quoted (RFC 2109 style) when sent; per-request cookies follow it."""
        return True

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        """Origins whose plain-http requests still get (and may set) ``Secure`` cookies."""
        return frozenset()

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """The stored cookies by ``(domain, path)``; this default view is always empty."""
        return MappingProxyType({})

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """The ``(domain, path, name)`` of the host-only cookies; empty by default."""
        return frozenset()

    @abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie (or those for which ``predicate(morsel)`` is true)."""

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains (through :meth:`clear`)."""
        wanted = domain.removeprefix(".").lower()

        def in_domain(morsel: Morsel[str]) -> bool:
            cookie_domain = str(morsel["domain"]).removeprefix(".").lower()
            return cookie_domain == wanted or cookie_domain.endswith("." + wanted)

        self.clear(in_domain)

    @abstractmethod
    def update_cookies(
        self,
        cookies: Mapping[str, str | Morsel[str]] | BaseCookie[str] | Any,
        response_url: URL = URL(),
    ) -> None:
        """Store cookies given as a mapping or pairs; an empty URL makes them shared."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values received from ``response_url``.

        The values are read by cyhttp's RFC 6265 parser (which skips, never raises on, what a
        browser would ignore) and handed to :meth:`update_cookies` as Morsels.
        """
        from .cookiejar import morsels_from_headers  # with the first cookies, not at import

        if headers and (morsels := morsels_from_headers(headers)):
            self.update_cookies(morsels, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """Return the cookies a request to ``request_url`` must carry, in sending order."""
