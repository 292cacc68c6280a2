"""HTTP proxies (``http://`` and ``https://``): which proxy a request uses, and the
connection through it.

Choosing (called by the session for every request, redirects included, because the
environment's choice depends on the target): an explicit ``proxy=`` wins; with
``trust_env=True`` the ``http_proxy`` / ``https_proxy`` / ``all_proxy`` variables (lower
case first, as curl and requests read them) and ``no_proxy`` decide, and proxy
credentials missing from the proxy URL come from ``.netrc`` (``NETRC`` names the file).
Credentials in the proxy URL move to ``proxy_auth`` so that the pool key and the proxy URL
never carry them.

Connecting (called by :class:`~cyhttp.connector.TCPConnector` when the request's
connection key names a proxy): a TCP connection to the proxy, with TLS on it for an
``https://`` proxy (verified with the request's ssl settings, see
:meth:`~cyhttp.connector.TCPConnector._proxy_ssl_for`); for an ``http`` target that
is the whole story (the request goes out in absolute form, with ``Proxy-Authorization``
and the proxy headers, see :func:`add_proxy_headers`); for an ``https`` target a
``CONNECT host:port`` request opens a tunnel and TLS to the target runs inside it (TLS
inside TLS through an ``https://`` proxy: the proxy relays bytes it cannot read). The
CONNECT request carries only the proxy's headers, and the tunnelled request none of them,
so neither party sees the other's credentials. The pool key holds proxy and target, so a
tunnel never serves another target.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl as ssl_mod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import fastnet
from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    InvalidURL,
    ServerTimeoutError,
)
from .helpers import BasicAuth, netrc_auth
from .http_writer import build_head

if TYPE_CHECKING:
    from .client_proto import ResponseHandler
    from .connector import TCPConnector

__all__ = (
    "add_proxy_headers",
    "choose_proxy",
    "create_proxied_connection",
    "explicit_proxy",
    "netrc_auth",
    "no_proxy_matches",
    "proxy_from_env",
    "uses_tunnel",
)

_PROXY_SCHEMES = frozenset(("http", "https"))
_ENV_SCHEME = {"http": "http", "ws": "http", "https": "https", "wss": "https"}


# ----- choosing the proxy -----


def explicit_proxy(proxy: Any, proxy_auth: BasicAuth | None) -> tuple[URL, BasicAuth | None]:
    """Validate a ``proxy=`` argument; credentials in its URL become ``proxy_auth``.

    ``http://`` proxies (plain TCP to the proxy) and ``https://`` ones (TLS to the proxy)
    are supported; other schemes (``socks5://``...) are a ValueError.
    """
    try:
        url = proxy if isinstance(proxy, URL) else URL(proxy)
    except (TypeError, ValueError) as exc:
        raise InvalidURL(proxy, f"bad proxy URL: {exc}") from exc
    if url.scheme not in _PROXY_SCHEMES:
        # never echo a password; a relative URL ("proxy:3128" without a scheme) has none
        shown = str(url.with_password(None)) if url.absolute else str(url)
        raise ValueError(f"only http:// and https:// proxies are supported, got {shown!r}")
    if not url.raw_host:
        raise InvalidURL(url.with_password(None), "the proxy URL has no host")
    if proxy_auth is not None and not isinstance(proxy_auth, BasicAuth):
        raise TypeError("proxy_auth must be a BasicAuth instance")
    if url.raw_user or url.raw_password:
        url_auth = BasicAuth(url.user or "", url.password or "")
        if proxy_auth is not None and proxy_auth != url_auth:
            raise ValueError("proxy credentials given both in the proxy URL and as proxy_auth")
        proxy_auth = url_auth
        url = url.with_user(None)
    # the proxy is addressed by scheme, host and port only
    return url.with_path("").with_query(None).with_fragment(None), proxy_auth


def choose_proxy(
    url: URL,
    proxy: URL | None,
    proxy_auth: BasicAuth | None,
    trust_env: bool,
    environ: Mapping[str, str] | None = None,
) -> tuple[URL | None, BasicAuth | None]:
    """The proxy for a request to ``url``: the explicit one, else (with ``trust_env``)
    the environment's, else none."""
    if proxy is not None:
        return proxy, proxy_auth
    if not trust_env:
        return None, None
    found = proxy_from_env(url, environ)
    if found is None:
        return None, None
    return found


def _env(environ: Mapping[str, str], name: str) -> str | None:
    """``name`` in lower case, else upper case; empty values count as unset."""
    for key in (name.lower(), name.upper()):
        value = environ.get(key)
        if value:
            return value.strip()
    return None


def proxy_from_env(
    url: URL, environ: Mapping[str, str] | None = None
) -> tuple[URL, BasicAuth | None] | None:
    """The proxy the environment gives for ``url``, with its credentials (from the proxy
    URL, else from .netrc), or None (no variable, ``no_proxy`` match, unusable value)."""
    env = os.environ if environ is None else environ
    scheme = _ENV_SCHEME.get(url.scheme)
    if scheme is None or url.raw_host is None:
        return None
    no_proxy = _env(env, "no_proxy")
    if no_proxy and no_proxy_matches(url.raw_host, url.port, no_proxy):
        return None
    value = None
    if url.scheme in ("ws", "wss"):
        # ws_proxy / wss_proxy name a WebSocket proxy (as in aiohttp 3.8+); without them
        # WebSockets follow http_proxy / https_proxy
        value = _env(env, f"{url.scheme}_proxy")
    if value is None and scheme == "http" and "REQUEST_METHOD" in env:
        # httpoxy: under CGI, HTTP_PROXY may come from a request header ("Proxy:")
        value = env.get("http_proxy") or None
    elif value is None:
        value = _env(env, f"{scheme}_proxy")
    if value is None:
        value = _env(env, "all_proxy")
    if value is None:
        return None
    if "://" not in value:
        value = f"http://{value}"  # "proxy:3128" is a common spelling
    try:
        proxy, auth = explicit_proxy(value, None)
    except (ValueError, TypeError):
        return None  # e.g. a socks:// proxy we cannot use: go direct
    if auth is None and proxy.raw_host is not None:
        auth = netrc_auth(proxy.raw_host, env)
    return proxy, auth


def no_proxy_matches(host: str, port: int | None, no_proxy: str) -> bool:
    """True when ``no_proxy`` (comma- or space-separated) exempts ``host[:port]``.

    Entries: ``*`` (everything), a domain (``example.com`` and ``.example.com`` both
    match the domain and its subdomains), an IP address, a CIDR block (``10.0.0.0/8``),
    any of them with an optional ``:port``. Case-insensitive; a trailing dot is ignored.
    """
    host = host.lower().rstrip(".").strip("[]")
    try:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        addr = None
    for raw in no_proxy.replace(",", " ").split():
        entry = raw.lower().rstrip(".")
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [v6]:port
            v6, _, rest = entry[1:].partition("]")
            entry = v6
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, maybe_port = entry.partition(":")
            if maybe_port.isdigit():
                entry, entry_port = name, int(maybe_port)
        if entry_port is not None and entry_port != port:
            continue
        if addr is not None:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def uses_tunnel(url: URL) -> bool:
    """Whether a proxied request to ``url`` goes through a CONNECT tunnel: https and
    wss (TLS to the target), and ws too (RFC 6455 §4.1: proxies may not relay an
    upgrade); plain http goes to the proxy in absolute form."""
    return url.scheme != "http"


def add_proxy_headers(
    headers: CIMultiDict[str], proxy_auth: BasicAuth | None, proxy_headers: Any
) -> None:
    """Headers meant for the proxy: ``proxy_headers`` and ``Proxy-Authorization``."""
    if proxy_headers:
        for name, value in proxy_headers.items():
            headers[name] = value
    if proxy_auth is not None:
        headers["Proxy-Authorization"] = proxy_auth.encode()


# ----- connecting through the proxy -----


async def create_proxied_connection(
    connector: TCPConnector, req: Any, timeout: Any = None
) -> ResponseHandler:
    """A connection for ``req`` through its proxy: the proxy connection itself (TCP, or
    TLS for an ``https://`` proxy) for an http target, a TLS connection inside a CONNECT
    tunnel for an https one."""
    key = req.connection_key
    proxy_key = proxy_connection_key(key)
    limit = getattr(timeout, "sock_connect", None)
    proto = await _open_proxy(connector, req, proxy_key, limit)
    if not uses_tunnel(req.url):
        return proto
    try:
        async with asyncio.timeout(limit):
            await _connect_tunnel(proto, req, proxy_key)
            if not key.is_ssl:
                return _fresh_protocol(connector, proto, key)  # ws:// through a tunnel
            return await _start_tls(connector, proto, req)
    except TimeoutError as exc:
        proto.close()
        raise ServerTimeoutError(
            f"Timeout setting up a tunnel to {key.host}:{key.port} through proxy "
            f"{proxy_key.host}:{proxy_key.port} (sock_connect={limit})"
        ) from exc
    except BaseException:
        proto.close()
        raise


def proxy_connection_key(key: Any) -> Any:
    """``key`` re-aimed at its proxy: errors about the proxy name the proxy (host, port,
    and ``ssl`` False for an ``http://`` proxy, the request's ssl value for an ``https://``
    one, whose certificate those settings verify), not the target."""
    proxy: URL = key.proxy
    tls = proxy.scheme == "https"
    port = proxy.port or (443 if tls else 80)
    return key._replace(
        host=proxy.raw_host or "", port=port, is_ssl=tls, ssl=key.ssl if tls else False
    )


async def _open_proxy(
    connector: TCPConnector, req: Any, proxy_key: Any, limit: float | None
) -> ResponseHandler:
    """The connection to the proxy, tried on each of its addresses in turn: TCP, and TLS
    to the proxy itself when it is an ``https://`` one."""
    loop = connector._loop
    assert loop is not None
    host: str = proxy_key.host
    port: int = proxy_key.port
    sslcontext = connector._proxy_ssl_for(req) if proxy_key.is_ssl else None
    try:
        hosts = await connector._resolve_host(host, port)
    except OSError as exc:
        raise ClientProxyConnectionError(proxy_key, exc) from exc
    last_exc: BaseException | None = None
    for addr in hosts:
        try:
            async with asyncio.timeout(limit):
                _, proto = await fastnet.create_connection(
                    connector._fastnet,
                    loop,
                    connector._protocol_factory(),
                    host=addr["host"],
                    port=addr["port"],
                    ssl=sslcontext,
                    server_hostname=host.rstrip(".") if sslcontext is not None else None,
                    family=addr["family"],
                    proto=addr["proto"],
                    flags=addr["flags"],
                    local_addr=connector._local_addr,
                )
            return proto
        except (OSError, ssl_mod.CertificateError) as exc:
            last_exc = _proxy_connect_error(proxy_key, exc, limit)
            last_exc.__cause__ = exc
    if last_exc is None:
        last_exc = ClientProxyConnectionError(proxy_key, OSError(0, f"no address for proxy {host}"))
    raise last_exc


def _proxy_connect_error(
    proxy_key: Any, exc: OSError | ssl_mod.CertificateError, limit: float | None
) -> BaseException:
    """The client error for a failed attempt to reach the proxy. A TLS failure with an
    ``https://`` proxy is a certificate or SSL error naming the proxy, as it would be for a
    server; everything else is a ClientProxyConnectionError."""
    if isinstance(exc, TimeoutError) and exc.errno is None:
        # our sock_connect limit (a kernel ETIMEDOUT carries its errno)
        return ServerTimeoutError(
            f"Connection timeout to proxy {proxy_key.host}:{proxy_key.port} (sock_connect={limit})"
        )
    if isinstance(exc, ssl_mod.CertificateError):
        return ClientConnectorCertificateError(proxy_key, exc)
    if isinstance(exc, ssl_mod.SSLError):
        return ClientConnectorSSLError(proxy_key, exc)
    if proxy_key.is_ssl and isinstance(exc, ConnectionResetError):
        from .connector import handshake_reset  # the connector imports this module

        return ClientConnectorSSLError(proxy_key, handshake_reset(exc))
    assert isinstance(exc, OSError)
    return ClientProxyConnectionError(proxy_key, exc)


async def _connect_tunnel(proto: ResponseHandler, req: Any, proxy_key: Any) -> None:
    """Send ``CONNECT host:port`` and wait for a 2xx; raise ClientHttpProxyError else."""
    key = req.connection_key
    authority = f"[{key.host}]" if ":" in key.host else key.host
    authority = f"{authority}:{key.port or 443}"
    headers: CIMultiDict[str] = CIMultiDict(Host=authority)
    add_proxy_headers(headers, key.proxy_auth, req.proxy_headers)
    head = build_head(f"CONNECT {authority} HTTP/1.1", list(headers.items()))
    try:
        waiter = proto.start("CONNECT")
        proto.write(head)
        response_head, _ = await waiter
    except ClientConnectionError as exc:
        # the proxy hung up or broke the connection before answering
        raise ClientProxyConnectionError(
            proxy_key, OSError(0, f"proxy connection failed during CONNECT: {exc!r}")
        ) from exc
    if not 200 <= response_head.status < 300:
        from .client_reqrep import RequestInfo  # the request layer imports this module

        scheme = "https" if proxy_key.is_ssl else "http"
        url = URL.build(scheme=scheme, host=proxy_key.host, port=proxy_key.port)
        raise ClientHttpProxyError(
            RequestInfo(url, "CONNECT", _proxy_view(headers)),
            (),
            status=response_head.status,
            message=response_head.reason or "",
            headers=_response_headers(response_head.raw_headers),
        )
    if proto._tail and any(proto._tail):
        raise ClientProxyConnectionError(
            proxy_key, OSError(0, "the proxy sent data before the TLS handshake")
        )


def _proxy_view(headers: CIMultiDict[str]) -> CIMultiDictProxy[str]:
    shown = CIMultiDict(headers)
    if "Proxy-Authorization" in shown:
        shown["Proxy-Authorization"] = "<hidden>"
    return CIMultiDictProxy(shown)


def _response_headers(raw: Any) -> CIMultiDictProxy[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in raw:
        out.add(name.decode("latin-1"), value.decode("latin-1"))
    return CIMultiDictProxy(out)


def _fresh_protocol(connector: TCPConnector, proto: ResponseHandler, key: Any) -> ResponseHandler:
    """A new protocol for the tunnel's transport: the one that spoke CONNECT is done
    (its parser saw the tunnel open and reads nothing more)."""
    transport = proto.transport
    if transport is None or transport.is_closing():
        raise ClientProxyConnectionError(key, OSError(0, "the proxy closed the tunnel"))
    fresh = connector._protocol_factory()()
    transport.set_protocol(fresh)
    fresh.connection_made(transport)
    return fresh


async def _start_tls(connector: TCPConnector, proto: ResponseHandler, req: Any) -> ResponseHandler:
    """TLS to the target over the tunnel; a fresh protocol takes over the TLS transport."""
    key = req.connection_key
    loop = connector._loop
    assert loop is not None
    sslcontext, pin = connector._ssl_for(req)
    assert sslcontext is not None
    raw = proto.transport
    if raw is None:
        raise ClientProxyConnectionError(
            key, OSError(0, "the proxy closed the tunnel before the TLS handshake")
        )
    tls_proto = connector._protocol_factory()()
    try:
        tls_transport = await fastnet.start_tls(
            connector._fastnet,
            loop,
            raw,
            tls_proto,
            sslcontext,
            server_hostname=(key.server_hostname or key.host).rstrip("."),
        )
    except TypeError as exc:
        if raw.get_extra_info("sslcontext") is None:
            raise
        # an event loop whose TLS transports cannot carry TLS (asyncio can since 3.11)
        raise ClientProxyConnectionError(
            key, OSError(0, f"this event loop cannot run TLS through an https:// proxy: {exc}")
        ) from exc
    except ssl_mod.CertificateError as exc:
        raise ClientConnectorCertificateError(key, exc) from exc
    except ssl_mod.SSLError as exc:
        raise ClientConnectorSSLError(key, exc) from exc
    except ConnectionResetError as exc:
        # the target (or the proxy) hung up during the TLS handshake
        from .connector import handshake_reset

        raise ClientConnectorSSLError(key, handshake_reset(exc)) from exc
    except OSError as exc:
        raise ClientProxyConnectionError(key, exc) from exc
    if tls_transport is None:  # pragma: no cover - only when the loop is closing
        raise ClientProxyConnectionError(key, OSError(0, "TLS through the tunnel failed"))
    tls_proto.connection_made(tls_transport)
    if pin is not None:
        try:
            pin.check(tls_transport, key.host, key.port or 443)
        except BaseException:
            tls_transport.abort()
            raise
    return tls_proto
