"""HTTP proxies: which proxy a request uses, and the connection through it.

Choosing (called by the session for every request, redirects included, because the
environment's choice depends on the target): an explicit ``proxy=`` wins; with
``trust_env=True`` the ``http_proxy`` / ``https_proxy`` / ``all_proxy`` variables (lower
case first, as curl and requests read them) and ``no_proxy`` decide, and proxy
credentials missing from the proxy URL come from ``.netrc`` (``NETRC`` names the file).
Credentials in the proxy URL move to ``proxy_auth`` so that the pool key and the proxy URL
never carry them.

Connecting (called by :class:`~cyhttp.connector.TCPConnector` when the request's
connection key names a proxy): a TCP connection to the proxy; for an ``http`` target that
is the whole story (the request goes out in absolute form, with ``Proxy-Authorization``
and the proxy headers, see :func:`add_proxy_headers`); for an ``https`` target a
``CONNECT host:port`` request opens a tunnel and TLS to the target runs inside it. The
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .client_exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    InvalidURL,
    ServerTimeoutError,
)
from .helpers import BasicAuth
from .http_writer import build_head

if TYPE_CHECKING:
    import netrc

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

_PROXY_SCHEMES = frozenset(("http",))
_ENV_SCHEME = {"http": "http", "ws": "http", "https": "https", "wss": "https"}


# ----- choosing the proxy -----


def explicit_proxy(proxy: Any, proxy_auth: BasicAuth | None) -> tuple[URL, BasicAuth | None]:
    """Validate a ``proxy=`` argument; credentials in its URL become ``proxy_auth``.

    Only ``http://`` proxies are supported (the connection to the proxy is plain TCP).
    """
    try:
        url = proxy if isinstance(proxy, URL) else URL(proxy)
    except (TypeError, ValueError) as exc:
        raise InvalidURL(proxy, f"bad proxy URL: {exc}") from exc
    if url.scheme not in _PROXY_SCHEMES:
        shown = str(url.with_password(None))
        raise ValueError(f"only http:// proxies are supported, got {shown!r}")
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
    # httpoxy: under CGI, HTTP_PROXY may come from a request header ("Proxy:")
    if scheme == "http" and "REQUEST_METHOD" in env:
        value = env.get("http_proxy") or None
    else:
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
        return None  # e.g. a socks:// or https:// proxy we cannot use: go direct
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


#: path -> ((mtime_ns, size), parsed file or None): parsed again only when it changes
_NETRC_CACHE: dict[str, tuple[tuple[int, int], netrc.netrc | None]] = {}


def _load_netrc(path: Path) -> netrc.netrc | None:
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _NETRC_CACHE.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    import netrc  # only with trust_env: not loaded with the package

    try:
        parsed: netrc.netrc | None = netrc.netrc(str(path))
    except (OSError, netrc.NetrcParseError):
        parsed = None
    if len(_NETRC_CACHE) >= 16:
        _NETRC_CACHE.clear()
    _NETRC_CACHE[str(path)] = (stamp, parsed)
    return parsed


def netrc_auth(host: str, environ: Mapping[str, str] | None = None) -> BasicAuth | None:
    """Credentials for ``host`` from the netrc file (``$NETRC``, else ``~/.netrc``), or
    None when there is no file, no entry, or the file cannot be parsed."""
    env = os.environ if environ is None else environ
    path_name = env.get("NETRC")
    if path_name:
        path = Path(path_name)
    else:
        try:
            path = Path.home() / ".netrc"
        except RuntimeError:  # no home directory
            return None
    entries = _load_netrc(path)
    if entries is None:
        return None
    found = entries.authenticators(host.lower().rstrip("."))
    if found is None:
        return None
    login, _account, password = found
    if not login and not password:
        return None
    try:
        return BasicAuth(login or "", password or "")
    except ValueError:
        return None


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
    """A connection for ``req`` through its proxy: the proxy connection itself for an
    http target, a TLS connection inside a CONNECT tunnel for an https one."""
    key = req.connection_key
    proxy: URL = key.proxy
    proxy_host = proxy.raw_host or ""
    proxy_port = proxy.port or 80
    # errors about the proxy name the proxy, not the target
    proxy_key = key._replace(host=proxy_host, port=proxy_port, is_ssl=False, ssl=False)
    limit = getattr(timeout, "sock_connect", None)
    proto = await _open_tcp(connector, proxy_key, proxy_host, proxy_port, limit)
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
            f"{proxy_host}:{proxy_port} (sock_connect={limit})"
        ) from exc
    except BaseException:
        proto.close()
        raise


async def _open_tcp(
    connector: TCPConnector, proxy_key: Any, host: str, port: int, limit: float | None
) -> ResponseHandler:
    loop = connector._loop
    assert loop is not None
    try:
        hosts = await connector._resolve_host(host, port)
    except OSError as exc:
        raise ClientProxyConnectionError(proxy_key, exc) from exc
    last_exc: BaseException | None = None
    for addr in hosts:
        try:
            async with asyncio.timeout(limit):
                _, proto = await loop.create_connection(
                    connector._protocol_factory(),
                    addr["host"],
                    addr["port"],
                    family=addr["family"],
                    proto=addr["proto"],
                    flags=addr["flags"],
                    local_addr=connector._local_addr,
                )
            return proto
        except OSError as exc:
            if isinstance(exc, TimeoutError) and exc.errno is None:
                # our sock_connect limit (a kernel ETIMEDOUT carries its errno)
                last_exc = ServerTimeoutError(
                    f"Connection timeout to proxy {host}:{port} (sock_connect={limit})"
                )
            else:
                last_exc = ClientProxyConnectionError(proxy_key, exc)
            last_exc.__cause__ = exc
    if last_exc is None:
        last_exc = ClientProxyConnectionError(proxy_key, OSError(0, f"no address for proxy {host}"))
    raise last_exc


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

        url = URL.build(scheme="http", host=proxy_key.host, port=proxy_key.port)
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
        tls_transport = await loop.start_tls(
            raw, tls_proto, sslcontext, server_hostname=key.host.rstrip(".")
        )
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
