"""Client middlewares: callables that wrap the sending of each request.

A middleware is ``async def mw(request, handler) -> response``: it may change the request
(its headers, say) before passing it on, look at or replace the response, or call
``handler`` more than once (a retry, an authentication round). The session calls the chain
once per request it sends, so every redirect hop goes through it too.

The chain is built with :func:`build_client_middlewares`; the innermost handler is the
session's own "connect and send" step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client_reqrep import ClientRequest, ClientResponse

__all__ = ("ClientHandlerType", "ClientMiddlewareType", "build_client_middlewares")

#: The next step of the chain: takes the request, returns the response (head read).
ClientHandlerType = Callable[["ClientRequest"], Awaitable["ClientResponse"]]
#: A middleware: the request and the next handler in, the response out.
ClientMiddlewareType = Callable[["ClientRequest", ClientHandlerType], Awaitable["ClientResponse"]]


def build_client_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """``handler`` wrapped so that ``middlewares[0]`` runs first and the last one calls
    ``handler`` itself (the order of the sequence is the order of entry)."""
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: ClientMiddlewareType, inner: ClientHandlerType) -> ClientHandlerType:
    """One link of the chain: ``middleware`` with ``inner`` as its next handler."""

    def link(request: ClientRequest) -> Awaitable[ClientResponse]:
        return middleware(request, inner)

    return link


def check_middlewares(middlewares: object, where: str) -> tuple[ClientMiddlewareType, ...]:
    """The middlewares as a tuple, or TypeError naming what is wrong with them."""
    if isinstance(middlewares, (str, bytes)) or not isinstance(middlewares, Sequence):
        raise TypeError(f"{where} must be a sequence of middlewares, got {middlewares!r}")
    for middleware in middlewares:
        if not callable(middleware):
            raise TypeError(f"{where}: {middleware!r} is not callable")
    return tuple(middlewares)
