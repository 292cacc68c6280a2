"""Small public value types (BasicAuth, ClientTimeout) and the helpers every layer shares.

Nothing here touches the network. The point of keeping these apart is that the connector,
the request/response layer and the session all need them without needing each other.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import io
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from multidict import MultiDict
from yarl import URL

if TYPE_CHECKING:
    import netrc

__all__ = (
    "BasicAuth",
    "ClientTimeout",
    "MimeType",
    "netrc_auth",
    "parse_mimetype",
    "sentinel",
    "warn_loop",
)


class _Sentinel:
    """Marks "argument not given" where None is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<sentinel>"


sentinel: Any = _Sentinel()


def warn_loop(loop: Any, stacklevel: int = 3) -> None:
    """``loop=`` is accepted for aiohttp 2.x compatibility and ignored, loudly."""
    if loop is not None:
        warnings.warn(
            "the loop argument is deprecated and ignored: the running loop is used",
            DeprecationWarning,
            stacklevel=stacklevel,
        )


class BasicAuth(NamedTuple("_BasicAuth", [("login", str), ("password", str), ("encoding", str)])):
    """HTTP Basic credentials (RFC 7617)."""

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an ``Authorization: Basic ...`` header value."""
        try:
            auth_type, encoded = auth_header.split(" ", 1)
        except ValueError:
            raise ValueError("Could not parse authorization header.") from None
        if auth_type.lower() != "basic":
            raise ValueError(f"Unknown authorization method {auth_type}")
        try:
            decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True).decode(
                encoding
            )
        except (binascii.Error, UnicodeError):
            raise ValueError("Invalid base64 encoding.") from None
        login, sep, password = decoded.partition(":")
        if not sep:
            raise ValueError("Invalid credentials.")
        return cls(login, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """Credentials carried by ``url`` (``http://user:pass@host/``), or None."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.user is None and url.password is None:
            return None
        return cls(url.user or "", url.password or "", encoding=encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value."""
        creds = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(creds).decode("ascii")


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """The ``Authorization`` (or ``Proxy-Authorization``) value for Basic credentials,
    without making a :class:`BasicAuth` (aiohttp 3.14's helper; UTF-8 by default, as
    RFC 7617 recommends). A colon in the login is refused: it would end the login."""
    if ":" in login:
        raise ValueError('A ":" is not allowed in login (RFC 7617 section 2)')
    creds = f"{login}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(creds).decode("ascii")


_T = TypeVar("_T")


class reify(Generic[_T]):
    """A property computed once per instance, then kept (aiohttp's ``helpers.reify``):
    in the instance's ``_cache`` dict when it has one, else in its ``__dict__``. It
    cannot be assigned."""

    def __init__(self, wrapped: Callable[[Any], _T]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.name = wrapped.__name__

    def __get__(self, inst: Any, owner: type[Any] | None = None) -> Any:
        if inst is None:
            return self
        cache = getattr(inst, "_cache", None)
        if not isinstance(cache, dict):
            cache = inst.__dict__
        try:
            return cache[self.name]
        except KeyError:
            value = cache[self.name] = self.wrapped(inst)
            return value

    def __set__(self, inst: Any, value: Any) -> None:
        raise AttributeError("reified property is read-only")


@dataclasses.dataclass(frozen=True, slots=True)
class ETag:
    """An entity tag (RFC 9110 section 8.8.3): its opaque value, without the quotes,
    and whether it is weak (``W/"..."``)."""

    value: str
    is_weak: bool = False


class ChainMapProxy(Mapping[Any, Any]):
    """A read-only view of several mappings, searched in order (the first that has a key
    answers). It copies nothing: changes to the mappings show through."""

    __slots__ = ("_maps",)

    def __init__(self, maps: Iterable[Mapping[Any, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: Any) -> Any:
        for mapping in self._maps:
            if key in mapping:
                return mapping[key]
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __iter__(self) -> Iterator[Any]:
        seen: dict[Any, None] = {}
        for mapping in self._maps:
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"


@dataclasses.dataclass(frozen=True, slots=True)
class ClientTimeout:
    """Timeouts in seconds; None (or 0) disables one.

    ``total`` bounds the whole operation (connection, redirects, body); ``connect`` the
    wait for a connection (pool included), ``sock_connect`` one connection attempt, and
    ``sock_read`` the silence between two reads from the socket.

    A timer of ``ceil_threshold`` seconds or more may fire at the next whole second (see
    :func:`ceil_deadline`): timers that end together wake the loop once.
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5

    def __post_init__(self) -> None:
        for name in ("total", "connect", "sock_read", "sock_connect", "ceil_threshold"):
            check_seconds(f"{name} timeout", getattr(self, name))


def ceil_deadline(now: float, delay: float, ceil_threshold: float = 5) -> float:
    """The loop time at which a ``delay`` started at ``now`` ends: a delay over
    ``ceil_threshold`` seconds is rounded up to a whole second (fewer distinct wake-ups for
    long timers; short ones stay exact, which matters for tests and debugging)."""
    when = now + delay
    if delay > ceil_threshold:
        return float(math.ceil(when))
    return when


def check_seconds(name: str, value: float | None) -> None:
    """Refuse a duration that is not None or a number >= 0: a negative or NaN timer fires at
    once or never (a hang), so it is a ValueError here rather than a surprise later."""
    if value is None:
        return
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0 (0 or None: none), got {value!r}")


#: aiohttp 2.x: read_timeout defaults to five minutes for the whole request.
DEFAULT_TIMEOUT = ClientTimeout(total=5 * 60)


def timeout_or_none(value: float | None) -> float | None:
    """Normalise the 2.x convention where 0 and None both mean "no timeout"."""
    if not value:
        return None
    return float(value)


def is_file_like(obj: Any) -> bool:
    """Whether ``obj`` is read like a file (a ``read`` method; str and bytes are not)."""
    return isinstance(obj, io.IOBase) or (
        hasattr(obj, "read") and callable(obj.read) and not isinstance(obj, (str, bytes))
    )


def file_remaining(fobj: Any) -> int | None:
    """Bytes left to read in a binary, seekable file; None when that cannot be known
    (pipes, sockets, text mode: what a text file's reads give, encoded, is not its size
    on disk)."""
    if isinstance(fobj, io.TextIOBase):
        return None
    try:
        if isinstance(fobj, io.BytesIO):
            return len(fobj.getbuffer()) - fobj.tell()
        return max(0, os.fstat(fobj.fileno()).st_size - fobj.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


class MimeType(NamedTuple):
    type: str
    subtype: str
    suffix: str
    parameters: MultiDict[str]


def parse_mimetype(mimetype: str) -> MimeType:
    """Split a Content-Type value into type, subtype, suffix and parameters (lower-cased
    names, unquoted values). Lenient: garbage gives empty parts rather than an error."""
    if not mimetype:
        return MimeType("", "", "", MultiDict())
    parts = mimetype.split(";")
    params: MultiDict[str] = MultiDict()
    for item in parts[1:]:
        if not item:
            continue
        key, _, value = item.partition("=")
        params.add(key.strip().lower(), value.strip(' "'))
    fulltype = parts[0].strip().lower()
    if fulltype == "*":
        fulltype = "*/*"
    mtype, _, stype = fulltype.partition("/")
    stype, _, suffix = stype.partition("+")
    return MimeType(mtype, stype, suffix, params)


def content_type_of(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(mime type, charset) of a header mapping; aiohttp's defaults when absent."""
    raw = headers.get("Content-Type")
    if raw is None:
        return "application/octet-stream", None
    mime = parse_mimetype(raw)
    ctype = f"{mime.type}/{mime.subtype}" if mime.subtype else mime.type
    if mime.suffix:
        ctype = f"{ctype}+{mime.suffix}"
    return ctype, mime.parameters.get("charset")


class Fingerprint:
    """Certificate pinning: the SHA-256 digest of the server's DER certificate.

    MD5 and SHA-1 digests (16 and 20 bytes) are refused: they no longer pin anything.
    """

    __slots__ = ("_fingerprint",)

    def __init__(self, fingerprint: bytes) -> None:
        if not isinstance(fingerprint, (bytes, bytearray)):
            raise TypeError("fingerprint must be bytes (the SHA-256 digest)")
        if len(fingerprint) in (16, 20):
            raise ValueError("md5 and sha1 are insecure and not supported: use sha256")
        if len(fingerprint) != 32:
            raise ValueError("fingerprint has invalid length: expected a 32-byte SHA-256 digest")
        self._fingerprint = bytes(fingerprint)

    @property
    def fingerprint(self) -> bytes:
        return self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint {self._fingerprint.hex()}>"

    def check(self, transport: Any, host: str, port: int) -> None:
        """Raise ServerFingerprintMismatch unless the peer certificate matches."""
        import hashlib

        from .client_exceptions import ServerFingerprintMismatch

        sslobj = transport.get_extra_info("ssl_object")
        if sslobj is None:
            return  # not TLS: nothing to pin
        der = sslobj.getpeercert(binary_form=True) or b""
        got = hashlib.sha256(der).digest()
        if got != self._fingerprint:
            raise ServerFingerprintMismatch(self._fingerprint, got, host, port)


_SSL_CONTEXTS: dict[bool, Any] = {}

#: what cyhttp speaks, offered by ALPN on the contexts it builds: a server that also speaks
#: h2 then knows for sure it gets HTTP/1.1 (and some servers or load balancers insist on ALPN)
ALPN_PROTOCOLS = ("http/1.1",)


def default_ssl_context(verified: bool = True) -> Any:
    """A shared client SSLContext: verified (CA store, hostname check) or not, offering
    ALPN ``http/1.1``. Built once: loading the CA store costs milliseconds. A context the
    user passes is used as given, never changed (it may be shared with other code)."""
    ctx = _SSL_CONTEXTS.get(verified)
    if ctx is None:
        import ssl

        ctx = ssl.create_default_context()
        if not verified:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(list(ALPN_PROTOCOLS))
        _SSL_CONTEXTS[verified] = ctx
    return ctx


def merge_ssl_params(
    ssl: Any, verify_ssl: bool | None, ssl_context: Any, fingerprint: bytes | None
) -> Any:
    """Fold the 2.x trio (verify_ssl, ssl_context, fingerprint) into one modern ``ssl``
    value: None (connector default), False, an SSLContext or a Fingerprint."""
    if verify_ssl is not None and not verify_ssl:
        if ssl not in (None, True, False):
            raise ValueError("verify_ssl=False conflicts with the ssl argument")
        ssl = False
    if ssl_context is not None:
        if ssl not in (None, True):
            raise ValueError("ssl_context conflicts with the ssl argument")
        ssl = ssl_context
    if fingerprint is not None:
        if ssl not in (None, True):
            raise ValueError("fingerprint conflicts with the ssl argument")
        ssl = Fingerprint(fingerprint)
    if ssl is True:
        ssl = None
    if ssl is not None and ssl is not False and not isinstance(ssl, Fingerprint):
        import ssl as ssl_mod

        if not isinstance(ssl, ssl_mod.SSLContext):
            raise TypeError(f"ssl should be bool, SSLContext or Fingerprint, got {ssl!r}")
    return ssl


class DoneAwaitable:
    """Returned by 2.x methods that became coroutines later (``connector.close()``):
    the work is done synchronously, and ``await`` on the result is allowed."""

    __slots__ = ()

    def __await__(self) -> Any:
        return
        yield  # pragma: no cover


DONE = DoneAwaitable()


# ----- .netrc (trust_env) -----

_log = logging.getLogger("cyhttp.client")

#: file -> ((mtime_ns, size), parsed file or None): a file is parsed again only when it
#: changes, so a lookup per request costs one stat(), and a broken file is reported once
_NETRC_CACHE: dict[str, tuple[tuple[int, int], netrc.netrc | None]] = {}


def netrc_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The netrc file to read: ``$NETRC`` when set, else ``~/.netrc``; None without a home."""
    env = os.environ if environ is None else environ
    named = env.get("NETRC")
    if named:
        return Path(named)
    try:
        return Path.home() / ".netrc"
    except RuntimeError:  # no home directory to speak of
        return None


def _parsed_netrc(path: Path) -> netrc.netrc | None:
    """``path`` parsed, from the cache while it is unchanged; None when it is missing or
    unreadable, and (with one warning per version of the file) when it is malformed."""
    try:
        st = path.stat()
    except OSError:
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _NETRC_CACHE.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    import netrc  # only with trust_env: not imported with the package

    parsed: netrc.netrc | None
    try:
        parsed = netrc.netrc(str(path))
    except (netrc.NetrcParseError, OSError, ValueError) as exc:
        # ValueError: UnicodeDecodeError on a file that is not text
        _log.warning("could not read the netrc file %s: %s", path, exc)
        parsed = None
    if len(_NETRC_CACHE) >= 16:
        _NETRC_CACHE.clear()
    _NETRC_CACHE[str(path)] = (stamp, parsed)
    return parsed


def netrc_auth(host: str, environ: Mapping[str, str] | None = None) -> BasicAuth | None:
    """Basic credentials for ``host`` from the netrc file (``$NETRC``, else ``~/.netrc``;
    ``environ`` defaults to ``os.environ``), or None: no file, no entry for the host (nor a
    ``default`` entry), an entry without login or password, or a file that cannot be parsed
    (logged as a warning on the ``cyhttp.client`` logger). Never raises for a bad file.

    This is what ``trust_env=True`` uses for a request with no credentials and for a proxy
    from the environment whose URL carries none."""
    path = netrc_path(environ)
    if path is None:
        return None
    entries = _parsed_netrc(path)
    if entries is None:
        return None
    found = entries.authenticators(host.lower().strip("[]").rstrip("."))
    if found is None:
        return None
    login, _account, password = found
    if not login and not password:
        return None
    try:
        return BasicAuth(login or "", password or "")
    except ValueError:  # a ":" in the login cannot be sent in Basic credentials
        _log.warning("the netrc login for %s contains ':' and is ignored", host)
        return None
