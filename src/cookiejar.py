"""The session's cookie store: RFC 6265 storage (§5.3) and retrieval (§5.4), browser-strict.

:class:`CookieJar` keeps one :class:`_Cookie` record per (domain, path, name), fed by
``Set-Cookie`` headers (parsed by :mod:`cyhttp.cookie_parser`, never by ``http.cookies``)
or by :meth:`CookieJar.update_cookies`. :meth:`CookieJar.filter_cookies` answers what a
request must carry, in the order browsers send it (longer paths first, then older cookies).

Beyond RFC 6265, taken from RFC 6265bis and current browsers:

* a ``Secure`` cookie can only be set from ``https``/``wss``, and a cookie set over plain
  ``http`` may not shadow an existing secure cookie of the same name ("strict secure");
* ``__Secure-`` names need ``Secure``; ``__Host-`` names need ``Secure``, no ``Domain`` and
  ``Path=/`` (prefixes matched case-insensitively);
* no cookie is set for a public suffix (:mod:`cyhttp.public_suffix`);
* expiry is capped at 400 days;
* at most :data:`MAX_COOKIES_PER_SITE` (180) cookies per site (registrable domain, "eTLD+1")
  and :data:`MAX_COOKIES` (3000) in all; past a cap, expired cookies go first, then the
  least recently used (set or sent) ones.

Cookies from a host given as an IP address are refused unless ``unsafe=True``. Cookies
given without a URL (``update_cookies(cookies)``) are *shared*: sent to every host.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from pathlib import Path
from typing import Any, cast

from yarl import URL

from . import public_suffix
from .abc import AbstractCookieJar
from .cookie_dates import format_cookie_date, parse_cookie_date_timestamp
from .cookie_parser import (
    CONTROL_CHARACTER,
    MAX_NAME_VALUE_LENGTH,
    ParsedSetCookie,
    parse_set_cookie,
)

__all__ = ("MAX_COOKIES", "MAX_COOKIES_PER_SITE", "MAX_EXPIRY_SECONDS", "CookieJar",
           "DummyCookieJar")  # fmt: skip

#: Cookies kept per site (registrable domain) before the least recently used is evicted.
MAX_COOKIES_PER_SITE = 180
#: Cookies kept in all before the least recently used is evicted.
MAX_COOKIES = 3000
#: Longest lifetime a cookie gets, whatever its Expires/Max-Age say (6265bis: 400 days).
MAX_EXPIRY_SECONDS = 400 * 24 * 3600

_SECURE_SCHEMES = frozenset({"https", "wss"})
_FILE_FORMAT = "cyhttp-cookiejar"
_FILE_VERSION = 1

# The wall clock (cookie expiry is wall-clock time); tests replace it.
_now: Callable[[], float] = time.time


@dataclass(slots=True, kw_only=True)
class _Cookie:
    """One stored cookie: the RFC 6265 §5.3 record, plus two counters.

    Clocks are coarse, so times alone cannot order events: ``seq`` orders creations
    (for the sending order) and ``used`` orders the last set-or-send (for LRU eviction).
    """

    name: str
    value: str
    domain: str  # "" for a shared cookie (sent everywhere)
    path: str
    host_only: bool
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    expires: float | None = None  # POSIX seconds; None = session cookie
    creation: float = 0.0
    last_access: float = 0.0
    seq: int = 0
    used: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.domain, self.path, self.name)

    def morsel(self) -> Morsel[str]:
        """A fresh Morsel, built around ``Morsel.set`` (which refuses names browsers allow)
        and filled with ``dict.update`` (the attribute names are known-good)."""
        morsel: Morsel[str] = Morsel()
        cast(Any, morsel).__setstate__(
            {"key": self.name, "value": self.value, "coded_value": self.value}
        )
        attributes: dict[str, Any] = {"domain": self.domain, "path": self.path}
        if self.expires is not None:
            attributes["expires"] = _expires_text(self.expires)
        if self.secure:
            attributes["secure"] = True
        if self.http_only:
            attributes["httponly"] = True
        if self.same_site:
            attributes["samesite"] = self.same_site
        dict.update(morsel, attributes)
        return morsel


_expires_text = functools.lru_cache(maxsize=1024)(format_cookie_date)


@functools.lru_cache(maxsize=1024)
def _is_ip(host: str) -> bool:
    """True for an IPv4 or IPv6 address (no brackets); cached: hosts repeat endlessly."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _canonical_host(url: URL) -> str:
    """The request host as RFC 6265 compares it: lower case, IDNA-encoded, no brackets."""
    return (url.raw_host or "").lower()


def _domain_match(host: str, domain: str) -> bool:
    """§5.1.3: ``host`` is ``domain`` or a subdomain of it (never for IP addresses)."""
    if host == domain:
        return True
    return host.endswith(domain) and host[-len(domain) - 1] == "." and not _is_ip(host)


def _candidate_domains(host: str) -> list[str]:
    """The cookie domains that can match ``host``: itself, its parents (not for an IP
    address), and "" (shared cookies)."""
    if not host:
        return [""]
    if _is_ip(host):
        return [host, ""]
    labels = host.split(".")
    parents = (".".join(labels[index:]) for index in range(len(labels)))
    return [domain for domain in parents if domain.strip(".")] + [""]


def _default_path(url: URL) -> str:
    """§5.1.4: the request path up to, not including, its last ``/`` (or ``/``)."""
    path = url.raw_path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


def _path_match(request_path: str, cookie_path: str) -> bool:
    """§5.1.4: ``cookie_path`` is ``request_path`` or a ``/``-bounded prefix of it."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def _as_url(url: URL | str | None) -> URL:
    if url is None:
        return URL()
    return url if isinstance(url, URL) else URL(url)


def _to_idna(domain: str) -> str | None:
    """A Domain attribute as the host would be written on the wire, or None if impossible."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


class CookieJar(AbstractCookieJar):
    """RFC 6265 cookie storage for a :class:`~cyhttp.ClientSession`.

    ``unsafe=True`` accepts cookies from hosts given as IP addresses. ``loop`` is accepted
    for aiohttp 2.x compatibility and ignored. ``max_cookies_per_site`` and ``max_cookies``
    set the caps (defaults :data:`MAX_COOKIES_PER_SITE`, :data:`MAX_COOKIES`).
    """

    def __init__(
        self,
        *,
        unsafe: bool = False,
        loop: Any = None,
        max_cookies_per_site: int = MAX_COOKIES_PER_SITE,
        max_cookies: int = MAX_COOKIES,
    ) -> None:
        if loop is not None:
            warnings.warn(
                "the loop argument of CookieJar is deprecated and ignored",
                DeprecationWarning,
                stacklevel=2,
            )
        if max_cookies_per_site < 1 or max_cookies < 1:
            raise ValueError("the cookie caps must be at least 1")
        self._unsafe = unsafe
        self._max_per_site = max_cookies_per_site
        self._max_total = max_cookies
        self._cookies: dict[tuple[str, str, str], _Cookie] = {}
        self._by_site: dict[str, set[tuple[str, str, str]]] = {}
        self._site_of: dict[tuple[str, str, str], str] = {}  # computed once per cookie
        # domain -> its cookies, so a request looks only at its host and parent domains
        self._by_domain: dict[str, dict[tuple[str, str, str], _Cookie]] = {}
        self._seq = itertools.count()
        self._use = itertools.count()
        self._next_expiry = math.inf

    @property
    def unsafe(self) -> bool:
        """Whether cookies from IP-address hosts are accepted."""
        return self._unsafe

    # ----------------------------------------------------------------- container protocol

    def __len__(self) -> int:
        self._purge_expired(_now())
        return len(self._cookies)

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._purge_expired(_now())
        return iter([cookie.morsel() for cookie in self._cookies.values()])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._cookies)} cookies unsafe={self._unsafe}>"

    def clear(self, predicate: Callable[[Morsel[str]], bool] | None = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""
        if predicate is None:
            self._cookies.clear()
            self._by_site.clear()
            self._site_of.clear()
            self._by_domain.clear()
            self._next_expiry = math.inf
            return
        for cookie in list(self._cookies.values()):
            if predicate(cookie.morsel()):
                self._remove(cookie)

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains (not shared cookies)."""
        domain = domain.removeprefix(".").lower()
        wanted = _to_idna(domain) or domain
        for cookie in list(self._cookies.values()):
            if cookie.domain and _domain_match(cookie.domain, wanted):
                self._remove(cookie)

    # -------------------------------------------------------------------------- storing

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values received from ``response_url``."""
        url = _as_url(response_url)
        if not self._host_allowed(url):
            return
        for header in headers:
            if not isinstance(header, str):
                raise TypeError(f"Set-Cookie values must be str, not {type(header).__name__}")
            parsed = parse_set_cookie(header)
            if parsed is not None:
                self._store(parsed, url)

    def update_cookies(
        self,
        cookies: Mapping[str, str | Morsel[str]] | BaseCookie[str] | Iterable[Any],
        response_url: URL | str | None = URL(),  # noqa: B008  (immutable, aiohttp's default)
    ) -> None:
        """Store cookies given as a mapping (or ``(name, value)`` pairs) for ``response_url``.

        Values are strings or :class:`~http.cookies.Morsel` objects (their ``domain``,
        ``path``, ``expires``, ``max-age``, ``secure``, ``httponly`` and ``samesite`` count;
        a Morsel's ``coded_value`` is what will be sent). Without a URL the cookies are
        shared: sent to every host. Names and values that cannot travel in a ``Cookie``
        header raise :class:`ValueError`, which is also an :class:`http.cookies.CookieError`
        (what aiohttp raises for them).
        """
        url = _as_url(response_url)
        if not self._host_allowed(url):
            return
        items: Iterable[Any] = cookies.items() if isinstance(cookies, Mapping) else cookies
        for item in items:
            try:
                if isinstance(item, (str, bytes)):
                    raise TypeError
                name, value = item
            except (TypeError, ValueError):
                raise TypeError(
                    f"cookies must be a mapping or (name, value) pairs, got {item!r}"
                ) from None
            self._store(_from_api(name, value), url)

    def _host_allowed(self, url: URL) -> bool:
        host = _canonical_host(url)
        return self._unsafe or not host or not _is_ip(host)

    def _store(self, parsed: ParsedSetCookie, url: URL) -> None:
        """The storage model of §5.3, with the 6265bis checks listed in the module doc."""
        now = _now()
        host = _canonical_host(url)
        secure_origin = url.scheme in _SECURE_SCHEMES

        expires: float | None = None
        if parsed.max_age is not None:
            # capped first: a Max-Age of hundreds of digits is too big for a float
            max_age = min(parsed.max_age, MAX_EXPIRY_SECONDS)
            expires = now + max_age if max_age > 0 else -math.inf
        elif parsed.expires is not None:
            expires = parsed.expires
        if expires is not None:
            expires = min(expires, now + MAX_EXPIRY_SECONDS)

        domain = _to_idna(parsed.domain) if parsed.domain is not None else None
        if parsed.domain is not None and domain is None:
            return
        if domain and public_suffix.is_public_suffix(domain) and not _is_ip(domain):
            if domain != host:
                return
            domain = None  # the host itself may set a host-only cookie
        if not host:  # shared cookie (no URL): everywhere, or the Domain it names
            host_only = False
            domain = domain or ""
        elif domain:
            if not _domain_match(host, domain):
                return
            host_only = _is_ip(domain)  # an address names one host, never its "subdomains"
        else:
            host_only = True
            domain = host
        path = parsed.path or (_default_path(url) if host else "/")

        if parsed.secure and host and not secure_origin:
            return
        lower_name = parsed.name.lower()
        if lower_name.startswith("__secure-") and not parsed.secure:
            return
        if lower_name.startswith("__host-") and not (
            parsed.secure and host_only and parsed.path == "/"
        ):
            return
        if host and not secure_origin and self._shadows_secure(parsed.name, domain, path):
            return

        cookie = _Cookie(
            name=parsed.name,
            value=parsed.value,
            domain=domain,
            path=path,
            host_only=host_only,
            secure=parsed.secure,
            http_only=parsed.http_only,
            same_site=parsed.same_site,
            expires=expires,
            creation=now,
            last_access=now,
            seq=next(self._seq),
            used=next(self._use),
        )
        old = self._cookies.get(cookie.key)
        if old is not None:
            cookie.creation, cookie.seq = old.creation, old.seq
            self._remove(old)
        if expires is not None and expires <= now:
            return  # an expired cookie only deletes its predecessor
        self._insert(cookie, now)

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        """6265bis §5.7 step 16: an insecure origin may not overlay an existing secure cookie."""
        for old in self._cookies.values():
            if (
                old.secure
                and old.name == name
                and (_domain_match(old.domain, domain) or _domain_match(domain, old.domain))
                and _path_match(path, old.path)
            ):
                return True
        return False

    def _site(self, cookie: _Cookie) -> str:
        if not cookie.domain or _is_ip(cookie.domain):
            return cookie.domain
        return public_suffix.registrable_domain(cookie.domain)

    def _insert(self, cookie: _Cookie, now: float) -> None:
        key = cookie.key
        self._cookies[key] = cookie
        site = self._site_of[key] = self._site(cookie)
        self._by_site.setdefault(site, set()).add(key)
        self._by_domain.setdefault(cookie.domain, {})[key] = cookie
        if cookie.expires is not None:
            self._next_expiry = min(self._next_expiry, cookie.expires)
        if len(self._by_site[site]) > self._max_per_site:
            self._purge_expired(now)
            self._evict(self._by_site.get(site, set()), self._max_per_site)
        if len(self._cookies) > self._max_total:
            self._purge_expired(now)
            self._evict(self._cookies.keys(), self._max_total)

    def _evict(self, keys: Iterable[tuple[str, str, str]], cap: int) -> None:
        """Drop the least recently used cookies among ``keys`` until at most ``cap`` remain."""
        records = sorted((self._cookies[key] for key in keys), key=lambda c: c.used)
        for cookie in records[: max(0, len(records) - cap)]:
            self._remove(cookie)

    def _remove(self, cookie: _Cookie) -> None:
        key = cookie.key
        if self._cookies.pop(key, None) is None:
            return
        site = self._site_of.pop(key)
        keys = self._by_site.get(site)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_site[site]
        same_domain = self._by_domain.get(cookie.domain)
        if same_domain is not None:
            same_domain.pop(key, None)
            if not same_domain:
                del self._by_domain[cookie.domain]

    def _purge_expired(self, now: float) -> None:
        if now < self._next_expiry:
            return
        next_expiry = math.inf
        for cookie in list(self._cookies.values()):
            if cookie.expires is None:
                continue
            if cookie.expires <= now:
                self._remove(cookie)
            else:
                next_expiry = min(next_expiry, cookie.expires)
        self._next_expiry = next_expiry

    # ------------------------------------------------------------------------ retrieving

    def _matching(self, request_url: URL | str) -> list[_Cookie]:
        """§5.4: the cookies a request to ``request_url`` carries, in sending order."""
        url = _as_url(request_url)
        now = _now()
        self._purge_expired(now)
        host = _canonical_host(url)
        secure = url.scheme in _SECURE_SCHEMES
        request_path = url.raw_path or "/"
        selected = []
        for domain in _candidate_domains(host):
            for cookie in self._by_domain.get(domain, {}).values():
                if cookie.host_only and host != domain:
                    continue
                if cookie.secure and not secure:
                    continue
                if not _path_match(request_path, cookie.path):
                    continue
                selected.append(cookie)
        selected.sort(key=lambda c: (-len(c.path), c.creation, c.seq))
        for cookie in selected:
            cookie.last_access = now
            cookie.used = next(self._use)
        return selected

    def filter_cookies(self, request_url: URL | str) -> SimpleCookie:
        """The cookies a request to ``request_url`` must carry, in RFC 6265 §5.4 order.

        Iterate ``.values()``: each Morsel's ``key`` and ``coded_value`` are the name and
        value exactly as received. Two cookies may share a name (different paths or
        domains) and both must be sent; the first, most specific one is ``result[name]``,
        the others follow under the keys ``f"{name}\\x00{n}"`` (n = 1, 2, ...), which no
        cookie name can contain. :meth:`cookie_header` builds the header directly.
        """
        result = SimpleCookie()
        seen: dict[str, int] = {}
        for cookie in self._matching(request_url):
            count = seen.get(cookie.name, 0)
            seen[cookie.name] = count + 1
            slot = cookie.name if count == 0 else f"{cookie.name}\x00{count}"
            dict.__setitem__(result, slot, cookie.morsel())
        return result

    def cookie_header(self, request_url: URL | str) -> str | None:
        """The exact ``Cookie`` header value for ``request_url``, or None when none apply."""
        selected = self._matching(request_url)
        if not selected:
            return None
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in selected)

    # ------------------------------------------------------------------- persistence

    def save(self, file_path: str | os.PathLike[str]) -> None:
        """Write every cookie, with all its attributes, as JSON readable only by the owner."""
        self._purge_expired(_now())
        path = Path(file_path)
        document = {
            "format": _FILE_FORMAT,
            "version": _FILE_VERSION,
            "cookies": [asdict(cookie) for cookie in self._cookies.values()],
        }
        # ASCII escapes keep lone surrogates (undecodable header bytes) representable.
        data = json.dumps(document, indent=1).encode("ascii")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def load(self, file_path: str | os.PathLike[str]) -> None:
        """Replace the jar's cookies with those saved by :meth:`save` (expired ones dropped).

        A file that is not a cyhttp cookie file raises :class:`ValueError`; the jar is then
        left unchanged.
        """
        path = Path(file_path)
        try:
            document = json.loads(path.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a cyhttp cookie file: {exc}") from None
        records = _records_from_document(document, path)
        self.clear()
        now = _now()
        # Renumber both counters in the saved order, then insert oldest first.
        for record in sorted(records, key=lambda c: c.used):
            record.used = next(self._use)
        for record in sorted(records, key=lambda c: (c.creation, c.seq)):
            record.seq = next(self._seq)
        for record in records:
            if record.expires is None or record.expires > now:
                self._insert(record, now)


_RECORD_FIELDS = {field.name for field in fields(_Cookie)}
_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "value": (str,),
    "domain": (str,),
    "path": (str,),
    "host_only": (bool,),
    "secure": (bool,),
    "http_only": (bool,),
    "same_site": (str, type(None)),
    "expires": (int, float, type(None)),
    "creation": (int, float),
    "last_access": (int, float),
    "seq": (int,),
    "used": (int,),
}


def _records_from_document(document: Any, path: Path) -> list[_Cookie]:
    """Check a loaded JSON document field by field; nothing in it is ever executed."""
    if (
        not isinstance(document, dict)
        or document.get("format") != _FILE_FORMAT
        or not isinstance(document.get("cookies"), list)
    ):
        raise ValueError(f"{path} is not a cyhttp cookie file")
    if document.get("version") != _FILE_VERSION:
        raise ValueError(f"{path}: unsupported cookie file version {document.get('version')!r}")
    records = []
    for index, entry in enumerate(document["cookies"]):
        if not isinstance(entry, dict) or set(entry) != _RECORD_FIELDS:
            raise ValueError(f"{path}: cookie #{index} has the wrong fields")
        for name, types in _RECORD_TYPES.items():
            value = entry[name]
            if (
                not isinstance(value, types)
                or (isinstance(value, bool) and bool not in types)
                or (isinstance(value, float) and not math.isfinite(value))
            ):
                raise ValueError(f"{path}: cookie #{index} has a bad {name!r}: {value!r}")
        try:  # what no Set-Cookie can store (a CR LF, say) must not reach a header later
            _check_api_cookie(entry["name"], entry["value"])
        except ValueError as exc:
            raise ValueError(f"{path}: cookie #{index}: {exc}") from None
        records.append(_Cookie(**entry))
    return records


class _InvalidCookie(CookieError, ValueError):
    """A cookie given to :meth:`CookieJar.update_cookies` that cannot be stored or sent.

    Both a :class:`ValueError` (as this module documents) and the standard library's
    :class:`http.cookies.CookieError`, which aiohttp raises for the same mistake (through
    ``SimpleCookie``), so code written for either catches it.
    """


def _check_api_cookie(name: str, value: str) -> None:
    """Refuse, loudly, a name or value that would corrupt the Cookie header."""
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError("cookie names and values must be str")
    if not name or name != name.strip(" \t") or any(ch in name for ch in "=;"):
        raise _InvalidCookie(f"invalid cookie name {name!r}")
    if ";" in value or value != value.strip(" \t"):
        raise _InvalidCookie(f"invalid value for cookie {name!r}: {value!r}")
    if CONTROL_CHARACTER.search(name) or CONTROL_CHARACTER.search(value):
        raise _InvalidCookie(f"cookie {name!r} holds a control character")
    if len(name) + len(value) > MAX_NAME_VALUE_LENGTH:
        raise _InvalidCookie(f"cookie {name!r} is longer than {MAX_NAME_VALUE_LENGTH} characters")


def _from_api(name: Any, value: Any) -> ParsedSetCookie:
    """Turn one ``update_cookies`` item (a str or a Morsel) into a parsed cookie."""
    if not isinstance(value, Morsel):
        _check_api_cookie(name, value)
        return ParsedSetCookie(name=name, value=value)
    coded = value.coded_value
    _check_api_cookie(name, coded)
    cookie = ParsedSetCookie(name=name, value=coded)
    if value["domain"]:
        cookie.domain = str(value["domain"]).removeprefix(".").lower()
    if value["path"]:
        path = str(value["path"])
        cookie.path = path if path.startswith("/") else None
    max_age = str(value["max-age"]).strip()
    if max_age:
        try:
            cookie.max_age = int(max_age)
        except ValueError:
            raise _InvalidCookie(f"cookie {name!r}: bad max-age {max_age!r}") from None
    if value["expires"]:
        cookie.expires = parse_cookie_date_timestamp(str(value["expires"]))
        if cookie.expires is None:
            raise _InvalidCookie(f"cookie {name!r}: bad expires {value['expires']!r}")
    cookie.secure = bool(value["secure"])
    cookie.http_only = bool(value["httponly"])
    same_site = str(value["samesite"]).strip().capitalize()
    cookie.same_site = same_site if same_site in ("Strict", "Lax", "None") else None
    return cookie


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: every request goes out without stored cookies."""

    def __init__(self, *, loop: Any = None) -> None:
        if loop is not None:
            warnings.warn(
                "the loop argument of DummyCookieJar is deprecated and ignored",
                DeprecationWarning,
                stacklevel=2,
            )

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: Any = None) -> None:
        """Nothing to remove."""

    def clear_domain(self, domain: str) -> None:
        """Nothing to remove."""

    def update_cookies(self, cookies: Any, response_url: URL | str | None = URL()) -> None:  # noqa: B008
        """Ignore the cookies."""

    def update_cookies_from_headers(self, headers: Iterable[str], response_url: URL) -> None:
        """Ignore the cookies."""

    def filter_cookies(self, request_url: URL | str) -> SimpleCookie:
        """Always empty."""
        return SimpleCookie()

    def cookie_header(self, request_url: URL | str) -> str | None:
        """Always None: no Cookie header."""
        return None
