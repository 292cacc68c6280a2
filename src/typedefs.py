"""Public type aliases, as ``aiohttp.typedefs`` offers them.

They describe what the client API accepts (``StrOrURL`` for a URL argument, ``LooseHeaders``
for ``headers=``, ``LooseCookies`` for ``cookies=``, ``Query`` for ``params=``) so that code
annotated against ``aiohttp.typedefs`` keeps type-checking with ``import cyhttp as aiohttp``.
"""

import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http.cookies import BaseCookie, Morsel
from typing import Any, Protocol

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr
from yarl import URL
from yarl import Query as Query

#: the ``json_serialize=`` default of a session
DEFAULT_JSON_ENCODER = json.dumps
#: the ``loads=`` default of ``ClientResponse.json()``
DEFAULT_JSON_DECODER = json.loads

#: a value the bytes-like body helpers take as is
Byteish = bytes | bytearray | memoryview

#: turns an object into JSON text (``json.dumps`` and friends)
JSONEncoder = Callable[[Any], str]
#: turns an object into JSON bytes (``orjson.dumps`` and friends)
JSONBytesEncoder = Callable[[Any], bytes]
#: turns JSON text into an object (``json.loads`` and friends)
JSONDecoder = Callable[[str], Any]

#: anything ``headers=`` accepts: a mapping, a multidict or (name, value) pairs
LooseHeaders = (
    Mapping[str, str]
    | Mapping[istr, str]
    | CIMultiDict[str]
    | CIMultiDictProxy[str]
    | Iterable[tuple[str | istr, str]]
)
#: header lines as they came off the wire, undecoded
RawHeaders = tuple[tuple[bytes, bytes], ...]

#: a URL argument: text or a :class:`yarl.URL`
StrOrURL = str | URL

#: one cookie value: text, a cookie set or a single morsel
_CookieValue = str | BaseCookie[str] | Morsel[Any]
#: a mapping of cookie name to value
LooseCookiesMappings = Mapping[str, _CookieValue]
#: (name, value) cookie pairs
LooseCookiesIterables = Iterable[tuple[str, _CookieValue]]
#: anything ``cookies=`` accepts
LooseCookies = LooseCookiesMappings | LooseCookiesIterables | BaseCookie[str]

#: a filesystem path argument
PathLike = str | os.PathLike[str]

# cyhttp has no web server: the server-side handler and middleware shapes are kept for code
# that imports them, with the request and response left open.

#: a server request handler: request in, response out
Handler = Callable[[Any], Awaitable[Any]]


class Middleware(Protocol):
    """A server middleware: called with the request and the next handler."""

    def __call__(self, request: Any, handler: Handler) -> Awaitable[Any]: ...


__all__ = (
    "DEFAULT_JSON_DECODER",
    "DEFAULT_JSON_ENCODER",
    "Byteish",
    "CIMultiDict",
    "CIMultiDictProxy",
    "Handler",
    "JSONBytesEncoder",
    "JSONDecoder",
    "JSONEncoder",
    "LooseCookies",
    "LooseCookiesIterables",
    "LooseCookiesMappings",
    "LooseHeaders",
    "Middleware",
    "MultiDict",
    "MultiDictProxy",
    "PathLike",
    "Query",
    "RawHeaders",
    "StrOrURL",
)
