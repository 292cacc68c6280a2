"""cyhttp: an asyncio HTTP/1.1 and WebSocket client with aiohttp's client API.

``import cyhttp as aiohttp`` is the promise: every public name of the aiohttp 2.3 client
(and the modern additions in API.md) is re-exported here. ``IMPLEMENTATION`` says whether
the compiled modules (``"compiled"``) or the pure-Python twins (``"python"``) are in use.

What a plain request does not need is imported on first use (PEP 562 ``__getattr__``): the
cookie jar classes, FormData and the request-body classes (payload, multipart) here, the
WebSocket codec in :mod:`cyhttp.client_ws`.
``import cyhttp`` stays cheap, and ``cyhttp.CookieJar`` or ``from cyhttp import FormData``
work as before.
"""

import importlib
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from . import _compat
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
    ClientConnectionResetError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientError,
    ClientHttpProxyError,
    ClientOSError,
    ClientPayloadError,
    ClientProxyConnectionError,
    ClientResponseError,
    ClientSSLError,
    ConnectionTimeoutError,
    ContentTypeError,
    InvalidURL,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
    ServerConnectionError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    ServerTimeoutError,
    SocketTimeoutError,
    TooManyRedirects,
    UnixClientConnectorError,
    UploadAbortedError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .client_middlewares import ClientHandlerType, ClientMiddlewareType
from .client_reqrep import ClientRequest, ClientResponse, Fingerprint, RequestInfo
from .client_ws import ClientWebSocketResponse, ClientWSTimeout
from .connector import (
    AddrInfoType,
    BaseConnector,
    Connection,
    SocketFactoryType,
    TCPConnector,
    UnixConnector,
)
from .helpers import BasicAuth, ClientTimeout
from .http_parser import HttpResponseParser
from .resolver import AsyncResolver, DefaultResolver, ThreadedResolver, ThreadResolver
from .streams import StreamReader
from .upload_tracker import UploadTracker

#: public name → the module that defines it, imported when the name is first asked for
_LAZY = {
    "CookieJar": ".cookiejar",
    "DigestAuthMiddleware": ".client_middleware_digest_auth",
    "DummyCookieJar": ".cookiejar",
    "FormData": ".formdata",
    "TraceConfig": ".tracing",
    "TraceConnectionCreateEndParams": ".tracing",
    "TraceConnectionCreateStartParams": ".tracing",
    "TraceConnectionQueuedEndParams": ".tracing",
    "TraceConnectionQueuedStartParams": ".tracing",
    "TraceConnectionReuseconnParams": ".tracing",
    "TraceDnsCacheHitParams": ".tracing",
    "TraceDnsCacheMissParams": ".tracing",
    "TraceDnsResolveHostEndParams": ".tracing",
    "TraceDnsResolveHostStartParams": ".tracing",
    "TraceRequestChunkSentParams": ".tracing",
    "TraceRequestEndParams": ".tracing",
    "TraceRequestExceptionParams": ".tracing",
    "TraceRequestHeadersSentParams": ".tracing",
    "TraceRequestRedirectParams": ".tracing",
    "TraceRequestStartParams": ".tracing",
    "TraceResponseChunkReceivedParams": ".tracing",
    # request bodies (aiohttp.payload, aiohttp.multipart, aiohttp.streamer)
    "PAYLOAD_REGISTRY": ".payload",
    "AsyncIterablePayload": ".payload",
    "BufferedReaderPayload": ".payload",
    "BytesIOPayload": ".payload",
    "BytesPayload": ".payload",
    "IOBasePayload": ".payload",
    "JsonPayload": ".payload",
    "Payload": ".payload",
    "StringIOPayload": ".payload",
    "StringPayload": ".payload",
    "TextIOPayload": ".payload",
    "get_payload": ".payload",
    "payload_type": ".payload",
    "streamer": ".payload",
    "MultipartWriter": ".multipart",
    "content_disposition_filename": ".multipart",
    "parse_content_disposition": ".multipart",
    "BodyPartReader": ".multipart_reader",
    "MultipartReader": ".multipart_reader",
    "BadContentDispositionHeader": ".multipart",
    "BadContentDispositionParam": ".multipart",
    # the rest of aiohttp 3.14's top-level names
    "ChainMapProxy": ".helpers",
    "ETag": ".helpers",
    "encode_basic_auth": ".helpers",
    "set_zlib_backend": ".compression_utils",
    "NamedPipeConnector": ".named_pipe",
    "DataQueue": ".data_queue",
    "EofStream": ".data_queue",
    "FlowControlDataQueue": ".data_queue",
    "EMPTY_PAYLOAD": ".streams",
    "WebSocketError": ".http_exceptions",
}
#: submodules reachable as attributes (``cyhttp.hdrs.CONTENT_TYPE`` after ``import cyhttp``)
_LAZY_MODULES = frozenset({"hdrs", "typedefs"})


def __getattr__(name: str) -> Any:
    if name == "IMPLEMENTATION":
        # "compiled", "python" or "mixed": which implementation of the hot path is in use
        # (the websocket twin is chosen now, so that the answer covers every module)
        importlib.import_module(".http_websocket", __name__)
        value: Any = _compat.implementation()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = (
    "EMPTY_PAYLOAD",
    "IMPLEMENTATION",
    "PAYLOAD_REGISTRY",
    "AddrInfoType",
    "AsyncIterablePayload",
    "AsyncResolver",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BaseConnector",
    "BasicAuth",
    "BodyPartReader",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "CIMultiDict",
    "CIMultiDictProxy",
    "ChainMapProxy",
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHandlerType",
    "ClientHttpProxyError",
    "ClientMiddlewareType",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientRequest",
    "ClientResponse",
    "ClientResponseError",
    "ClientSSLError",
    "ClientSession",
    "ClientTimeout",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "Connection",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "CookieJar",
    "DataQueue",
    "DefaultResolver",
    "DigestAuthMiddleware",
    "DummyCookieJar",
    "ETag",
    "EofStream",
    "Fingerprint",
    "FlowControlDataQueue",
    "FormData",
    "HttpResponseParser",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "IOBasePayload",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "JsonPayload",
    "MultiDict",
    "MultiDictProxy",
    "MultipartReader",
    "MultipartWriter",
    "NamedPipeConnector",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "Payload",
    "RedirectClientError",
    "RequestInfo",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketFactoryType",
    "SocketTimeoutError",
    "StreamReader",
    "StringIOPayload",
    "StringPayload",
    "TCPConnector",
    "TextIOPayload",
    "ThreadResolver",
    "ThreadedResolver",
    "TooManyRedirects",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
    "UnixClientConnectorError",
    "UnixConnector",
    "UploadAbortedError",
    "UploadTracker",
    "WSCloseCode",
    "WSMessage",
    "WSMessageTypeError",
    "WSMsgType",
    "WSServerHandshakeError",
    "WebSocketError",
    "__version__",
    "content_disposition_filename",
    "encode_basic_auth",
    "get_payload",
    "hdrs",
    "parse_content_disposition",
    "payload_type",
    "request",
    "set_zlib_backend",
    "streamer",
    "ws_connect",
)
