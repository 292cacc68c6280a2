"""cyhttp: an asyncio HTTP/1.1 and WebSocket client with aiohttp's client API.

``import cyhttp as aiohttp`` is the promise: every public name of the aiohttp 2.3 client
(and the modern additions in API.md) is re-exported here. ``IMPLEMENTATION`` says whether
the compiled modules (``"compiled"``) or the pure-Python twins (``"python"``) are in use.
"""

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from . import _compat, http_websocket  # noqa: F401  (selects the websocket twin now)
from ._models import (
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from ._version import __version__
from .client import ClientSession, request, ws_connect
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientError,
    ClientHttpProxyError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientResponseError,
    ClientSSLError,
    ContentTypeError,
    InvalidURL,
    ServerConnectionError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    ServerTimeoutError,
    TooManyRedirects,
    WSServerHandshakeError,
)
from .client_reqrep import ClientRequest, ClientResponse, Fingerprint, RequestInfo
from .client_ws import ClientWebSocketResponse
from .connector import BaseConnector, Connection, TCPConnector, UnixConnector
from .cookiejar import CookieJar, DummyCookieJar
from .formdata import FormData
from .helpers import BasicAuth, ClientTimeout
from .http_parser import HttpResponseParser
from .resolver import AsyncResolver, DefaultResolver, ThreadResolver
from .streams import StreamReader

#: "compiled", "python" or "mixed": which implementation of the hot path is in use.
IMPLEMENTATION: str = _compat.implementation()

__all__ = (
    "IMPLEMENTATION",
    "AsyncResolver",
    "BaseConnector",
    "BasicAuth",
    "CIMultiDict",
    "CIMultiDictProxy",
    "ClientConnectionError",
    "ClientConnectorCertificateError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientRequest",
    "ClientResponse",
    "ClientResponseError",
    "ClientSSLError",
    "ClientSession",
    "ClientTimeout",
    "ClientWebSocketResponse",
    "Connection",
    "ContentTypeError",
    "CookieJar",
    "DefaultResolver",
    "DummyCookieJar",
    "Fingerprint",
    "FormData",
    "HttpResponseParser",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "InvalidURL",
    "MultiDict",
    "MultiDictProxy",
    "RequestInfo",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "StreamReader",
    "TCPConnector",
    "ThreadResolver",
    "TooManyRedirects",
    "UnixConnector",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WSServerHandshakeError",
    "__version__",
    "request",
    "ws_connect",
)
