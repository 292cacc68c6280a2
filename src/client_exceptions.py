"""The exception tree of the public API (see API.md), as aiohttp users know it.

This is a leaf module: it imports nothing from cyhttp, so every layer can raise these.
Parser errors live in :mod:`cyhttp.http_exceptions`; the protocol layer translates them
into this tree (a bad head becomes :class:`ClientResponseError`, a bad body
:class:`ClientPayloadError`).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from .client_reqrep import ClientResponse, RequestInfo

__all__ = (
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UnixClientConnectorError",
    "UploadAbortedError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
)


class ClientError(Exception):
    """Base class of every error the client raises."""


class ClientResponseError(ClientError):
    """The server answered, but the answer is an error or cannot be used.

    ``code`` is the HTTP status (``status`` is its modern alias); ``message`` the reason.
    """

    def __init__(
        self,
        request_info: RequestInfo | None,
        history: tuple[ClientResponse, ...] = (),
        *,
        code: int | None = None,
        status: int | None = None,
        message: str = "",
        headers: CIMultiDictProxy[str] | None = None,
    ) -> None:
        if code is not None and status is not None and code != status:
            raise ValueError("code and status are aliases: give one of them")
        self.request_info = request_info
        self.code: int = code if code is not None else (status if status is not None else 0)
        self.message = message
        self.headers = headers
        self.history = history
        super().__init__(request_info)

    @property
    def status(self) -> int:
        return self.code

    @status.setter
    def status(self, value: int) -> None:
        self.code = value

    def __str__(self) -> str:
        url = self.request_info.real_url if self.request_info is not None else None
        return f"{self.code}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.request_info!r}, "
            f"code={self.code}, message={self.message!r})"
        )


class ContentTypeError(ClientResponseError):
    """``json()`` was asked of a response whose Content-Type does not match."""


class WSServerHandshakeError(ClientResponseError):
    """The WebSocket opening handshake failed."""


class ClientHttpProxyError(ClientResponseError):
    """The HTTP proxy answered the CONNECT request with an error status."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects`` were followed."""


class ClientConnectionError(ClientError):
    """Base class of errors about the connection itself."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The peer reset the connection while the request was being written or read."""


class ClientOSError(ClientConnectionError, OSError):
    """An OSError raised while talking to the server."""


class ClientConnectorError(ClientOSError):
    """Connecting to the server failed; carries the connection key (host, port, ssl)."""

    def __init__(self, connection_key: Any, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror or str(os_error))
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return str(getattr(self._conn_key, "host", ""))

    @property
    def port(self) -> int | None:
        return getattr(self._conn_key, "port", None)

    @property
    def ssl(self) -> Any:
        return getattr(self._conn_key, "ssl", None)

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl!r} "
            f"[{self.strerror or self._os_error}]"
        )

    __reduce__ = BaseException.__reduce__


class ClientProxyConnectionError(ClientConnectorError):
    """Connecting to the proxy failed."""


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved to any address."""


class UnixClientConnectorError(ClientConnectorError):
    """Connecting to a Unix domain socket failed; ``path`` is the socket's path."""

    def __init__(self, path: str, connection_key: Any, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        return self._path

    def __str__(self) -> str:
        return f"Cannot connect to unix socket {self._path} ssl:{self.ssl!r} [{self.strerror}]"


class ClientSSLError(ClientConnectorError):
    """Base class of TLS errors while connecting."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed for a reason other than the certificate."""


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server's certificate failed verification."""

    def __init__(self, connection_key: Any, certificate_error: Exception) -> None:
        self._certificate_error = certificate_error
        os_error = (
            certificate_error
            if isinstance(certificate_error, OSError)
            else OSError(0, str(certificate_error))
        )
        super().__init__(connection_key, os_error)
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl!r} "
            f"[{type(self._certificate_error).__name__}: {self._certificate_error}]"
        )


class ServerConnectionError(ClientConnectionError):
    """Base class of errors caused by the server side of an open connection."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete.

    ``message`` is the partially parsed message, if any.
    """

    def __init__(self, message: Any = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.message = message
        super().__init__(message)


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A timeout fired while connecting or reading."""


class ConnectionTimeoutError(ServerTimeoutError):
    """The ``connect`` or ``sock_connect`` limit of :class:`ClientTimeout` passed."""


class SocketTimeoutError(ServerTimeoutError):
    """No byte arrived within the ``sock_read`` limit of :class:`ClientTimeout`."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server certificate's SHA-256 digest is not the pinned one."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        super().__init__(expected, got, host, port)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} expected={self.expected.hex()} got={self.got.hex()} "
            f"host={self.host!r} port={self.port!r}>"
        )

    __str__ = __repr__


class ClientPayloadError(ClientError):
    """The response body is broken: bad compression, bad chunking, or cut short."""


class UploadAbortedError(ClientError):
    """The request body was never fully sent (the request failed or was cancelled first)."""


class InvalidURL(ClientError, ValueError):
    """The URL cannot be used for a request (no host, bad scheme, unparsable)."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        return self._url

    @property
    def description(self) -> str | None:
        """What is wrong with the URL, when the raiser said (else None)."""
        return self._description

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


class InvalidUrlClientError(InvalidURL):
    """Base class of the errors about a URL given to the client."""


class RedirectClientError(ClientError):
    """Base class of the errors about a redirect the server asked for."""


class NonHttpUrlClientError(ClientError):
    """The URL's scheme is not one the client speaks (http, https, ws, wss)."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect's ``Location`` cannot be parsed or has no host."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect points to a URL whose scheme is not http or https."""


class WSMessageTypeError(TypeError):
    """``receive_str``/``receive_bytes``/``receive_json`` got a message of another type."""
