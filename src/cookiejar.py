"""The session's cookie store: RFC 6265 storage (§5.3) and retrieval (§5.4), browser-strict,
with aiohttp 3.14's interface.

:class:`CookieJar` keeps one :class:`_Cookie` record per (domain, path, name), fed by
``Set-Cookie`` headers (parsed by :mod:`cyhttp.cookie_parser`, never by ``http.cookies``)
or by :meth:`CookieJar.update_cookies`. :meth:`CookieJar.cookie_header` builds what a
request carries, every matching cookie in the order browsers send them (longer paths first,
then older cookies); :meth:`CookieJar.filter_cookies` answers the same question the way
aiohttp 3.14 does (one Morsel per name).

Beyond RFC 6265, taken from RFC 6265bis and current browsers:

* a ``Secure`` cookie can only be set from ``https``/``wss`` (or an origin listed in
  ``treat_as_secure_origin``), and a cookie set over plain ``http`` may not shadow an
  existing secure cookie of the same name ("strict secure");
* ``__Secure-`` names need ``Secure``; ``__Host-`` names need ``Secure``, no ``Domain`` and
  ``Path=/`` (prefixes matched case-insensitively);
* no cookie is set for a public suffix (:mod:`cyhttp.public_suffix`);
* expiry is capped at 400 days;
* at most :data:`MAX_COOKIES_PER_SITE` (180) cookies per site (registrable domain, "eTLD+1")
  and :data:`MAX_COOKIES` (3000) in all; past a cap, expired cookies go first, then the
  least recently used (set or sent) ones.

Values: each cookie keeps its value as received on the wire (``coded_value``) and unquoted
(``value``, as aiohttp's Morsels have it). With ``quote_cookie=True`` (aiohttp's default) a
value is sent as aiohttp sends it: a value received in double quotes as received, any other
value through the standard library's RFC 2109 quoting (``a b`` travels as ``"a b"``). With
``quote_cookie=False`` every value travels exactly as it was received, as browsers do.

Cookies from a host given as an IP address are refused unless ``unsafe=True``. Cookies
given without a URL (``update_cookies(cookies)``) are *shared*: sent to every host.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import logging
import math
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from yarl import URL

from . import public_suffix
from .abc import AbstractCookieJar, ClearCookiePredicate
from .cookie_dates import format_cookie_date, parse_cookie_date_timestamp
from .cookie_parser import (
    CONTROL_CHARACTER,
    MAX_NAME_VALUE_LENGTH,
    ParsedSetCookie,
    parse_set_cookie,
)

__all__ = ("MAX_COOKIES", "MAX_COOKIES_PER_SITE", "MAX_EXPIRY_SECONDS", "CookieJar",
           "DummyCookieJar", "morsels_from_headers", "request_cookie_header")  # fmt: skip

#: Cookies kept per site (registrable domain) before the least recently used is evicted.
MAX_COOKIES_PER_SITE = 180
#: Cookies kept in all before the least recently used is evicted.
MAX_COOKIES = 3000
#: Longest lifetime a cookie gets, whatever its Expires/Max-Age say (6265bis: 400 days).
MAX_EXPIRY_SECONDS = 400 * 24 * 3600

_SECURE_SCHEMES = frozenset({"https", "wss"})
_OLD_FILE_FORMAT = "cyhttp-cookiejar"  # what cyhttp wrote before it adopted aiohttp's format
_OLD_FILE_VERSION = 1
_MAX_AGE = re.compile(r"\s*(-?[0-9]+)\s*")
_QUOTED_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_HOST_CHARACTERS = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")  # an IDNA name or an address
#: The stdlib's RFC 2109 value quoting, the one aiohttp's ``quote_cookie`` applies.
_rfc2109_quote = functools.lru_cache(maxsize=1024)(
    lambda value: SimpleCookie().value_encode(value)[1]
)

_log = logging.getLogger("cyhttp.client")

# The wall clock (cookie expiry is wall-clock time); tests replace it.
_now: Callable[[], float] = time.time


@dataclass(slots=True, kw_only=True)
class _Cookie:
    """One stored cookie: the RFC 6265 §5.3 record, plus two counters.

    ``coded_value`` is the value as received (what a browser sends back), ``value`` the
    same unquoted (what aiohttp's Morsels call the value), ``raw`` what travels without
    quoting (``coded_value`` for a received cookie, the given value for one given to
    ``update_cookies``) and ``sent`` what this jar puts in the ``Cookie`` header (``raw``,
    or with ``quote_cookie``, ``coded_value`` or the RFC 2109 quoting of ``value``).
    Clocks are coarse, so times alone cannot order events: ``seq`` orders creations
    (for the sending order) and ``used`` orders the last set-or-send (for LRU eviction).
    """

    name: str
    value: str
    coded_value: str
    raw: str
    sent: str
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
        """A fresh Morsel with every attribute, as iterating the jar shows it."""
        morsel = _bare_morsel(self.name, self.value, self.coded_value)
        attributes: dict[str, Any] = {"domain": self.domain, "path": self.path}
        if self.expires is not None:
            attributes["expires"] = _expires_text(self.expires)
        if self.secure:
            attributes["secure"] = True
        if self.http_only:
            attributes["httponly"] = True
        if self.same_site:
            attributes["samesite"] = self.same_site
        dict.update(morsel, attributes)  # the attribute names are known-good
        return morsel

    def sent_morsel(self) -> Morsel[str]:
        """The Morsel :meth:`CookieJar.filter_cookies` returns: name, value and what is sent,
        no attributes (as aiohttp 3.14 builds them)."""
        return _bare_morsel(self.name, self.value, self.sent)


def _bare_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    """A Morsel built around ``Morsel.set``, which refuses names browsers allow."""
    morsel: Morsel[str] = Morsel()
    cast(Any, morsel).__setstate__({"key": name, "value": value, "coded_value": coded_value})
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


# ------------------------------------------------------------------ values and names


def _unquote(coded: str) -> str:
    """The value inside a double-quoted cookie value (``\\"`` and ``\\ooo`` escapes decoded),
    or ``coded`` itself when it is not quoted: aiohttp's reading of a received value."""
    if len(coded) < 2 or coded[0] != '"' or coded[-1] != '"':
        return coded

    def decode(match: re.Match[str]) -> str:
        return chr(int(match[1], 8)) if match[1] else match[2]

    return _QUOTED_ESCAPE.sub(decode, coded[1:-1])


def _plain_value(coded: str) -> str:
    """The unquoted value of a received one; the received text when unquoting would reveal
    a control character (a value must never carry one)."""
    value = _unquote(coded)
    return coded if CONTROL_CHARACTER.search(value) else value


def _wire_safe(coded: str) -> bool:
    """True if ``coded`` can travel as is in a ``Cookie`` header: no control character, no
    edge whitespace, and a ``;`` only inside a double-quoted value."""
    if CONTROL_CHARACTER.search(coded) or coded != coded.strip(" \t"):
        return False
    return ";" not in coded or (len(coded) >= 2 and coded[0] == coded[-1] == '"')


def _valid_name(name: str) -> bool:
    """A name that can travel in a ``Cookie`` header and be told from its value."""
    return (
        bool(name)
        and name == name.strip(" \t")
        and "=" not in name
        and ";" not in name
        and not CONTROL_CHARACTER.search(name)
    )


def _check_loaded_cookie(name: str, value: str, coded: str) -> None:
    """Refuse, loudly, a cookie from a file that no ``Set-Cookie`` could have stored (a CR
    LF, say) before it can reach a header."""
    if not _valid_name(name):
        raise ValueError(f"invalid cookie name {name!r}")
    if CONTROL_CHARACTER.search(value) or not _wire_safe(coded):
        raise ValueError(f"invalid value for cookie {name!r}: {coded!r}")
    if len(name) + len(coded) > MAX_NAME_VALUE_LENGTH:
        raise ValueError(f"cookie {name!r} is longer than {MAX_NAME_VALUE_LENGTH} characters")


class _InvalidCookie(CookieError, ValueError):
    """A cookie that cannot be sent: both a :class:`ValueError` and the standard library's
    :class:`http.cookies.CookieError` (what aiohttp raises, through ``SimpleCookie``).

    The jar itself skips such cookies; the session raises this for per-request cookies.
    """


def _expiry(parsed: ParsedSetCookie, now: float) -> float | None:
    """When the cookie expires (POSIX seconds; -inf: already), capped at 400 days."""
    expires: float | None = None
    if parsed.max_age is not None:
        # capped first: a Max-Age of hundreds of digits is too big for a float
        max_age = min(parsed.max_age, MAX_EXPIRY_SECONDS)
        expires = now + max_age if max_age > 0 else -math.inf
    elif parsed.expires is not None:
        expires = parsed.expires
    if expires is not None:
        expires = min(expires, now + MAX_EXPIRY_SECONDS)
    return expires


def _cookie_domain(parsed: ParsedSetCookie, host: str) -> tuple[str, bool] | None:
    """§5.3 steps 4-6: the cookie's domain and host-only flag for a response from ``host``
    ("" for a shared cookie), or None when the Domain attribute is refused."""
    domain = _to_idna(parsed.domain) if parsed.domain is not None else None
    if parsed.domain is not None and domain is None:
        return None
    if domain and public_suffix.is_public_suffix(domain) and not _is_ip(domain):
        if domain != host:
            return None
        domain = None  # the host itself may set a host-only cookie
    if not host:  # shared cookie (no URL): everywhere, or the Domain it names
        return domain or "", False
    if not domain:
        return host, True
    if not _domain_match(host, domain):
        return None
    return domain, _is_ip(domain)  # an address names one host, never its "subdomains"


def _prefix_allowed(parsed: ParsedSetCookie, host_only: bool) -> bool:
    """6265bis §4.1.3: ``__Secure-`` needs Secure; ``__Host-`` needs Secure, host-only, ``/``."""
    lower_name = parsed.name.lower()
    if lower_name.startswith("__secure-"):
        return parsed.secure
    if lower_name.startswith("__host-"):
        return parsed.secure and host_only and parsed.path == "/"
    return True


def _secure_origins(origins: Any) -> frozenset[URL]:
    """``treat_as_secure_origin`` as aiohttp takes it (a str, a URL, or several) as origins."""
    if origins is None:
        return frozenset()
    if isinstance(origins, (str, URL)):
        origins = [origins]
    result = set()
    for origin in origins:
        if not isinstance(origin, (str, URL)):
            raise TypeError(
                f"treat_as_secure_origin takes str or yarl.URL values, not {type(origin).__name__}"
            )
        try:
            result.add(_as_url(origin).origin())
        except ValueError:
            raise ValueError(f"treat_as_secure_origin: {origin!r} is not an absolute URL") from None
    return frozenset(result)


class CookieJar(AbstractCookieJar):
    """RFC 6265 cookie storage for a :class:`~cyhttp.ClientSession`, aiohttp 3.14's API.

    ``unsafe=True`` accepts cookies from hosts given as IP addresses. ``quote_cookie``
    chooses how values are sent (see the module documentation). ``treat_as_secure_origin``
    (a str or URL, or several) lists origins that get and may set ``Secure`` cookies over
    plain http. ``loop`` is accepted for aiohttp 2.x compatibility and ignored.
    ``max_cookies_per_site`` and ``max_cookies`` set the caps (defaults
    :data:`MAX_COOKIES_PER_SITE`, :data:`MAX_COOKIES`).
    """

    #: Whether the __Secure-/__Host- prefix rules apply (not for per-request cookies).
    _enforce_prefixes = True

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: Any = None,
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
        super().__init__()
        if max_cookies_per_site < 1 or max_cookies < 1:
            raise ValueError("the cookie caps must be at least 1")
        self._unsafe = unsafe
        self._quote_cookie = bool(quote_cookie)
        self._secure_origins = _secure_origins(treat_as_secure_origin)
        self._max_per_site = max_cookies_per_site
        self._max_total = max_cookies
        self._reset()

    def _reset(self) -> None:
        """Empty every index (a new jar, or :meth:`clear` without a predicate)."""
        self._cookies: dict[tuple[str, str, str], _Cookie] = {}
        self._by_site: dict[str, set[tuple[str, str, str]]] = {}
        self._site_of: dict[tuple[str, str, str], str] = {}  # computed once per cookie
        # domain -> its cookies, so a request looks only at its host and parent domains
        self._by_domain: dict[str, dict[tuple[str, str, str], _Cookie]] = {}
        self._seq = itertools.count()
        self._use = itertools.count()
        self._next_expiry = math.inf

    # ------------------------------------------------------------------- settings

    @property
    def unsafe(self) -> bool:
        """Whether cookies from IP-address hosts are accepted."""
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        """Whether values not received in double quotes are sent RFC 2109-quoted."""
        return self._quote_cookie

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        """Origins treated as secure even over plain http (for ``Secure`` cookies)."""
        return self._secure_origins

    # ------------------------------------------------------------------- views

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """A read-only snapshot, as aiohttp 3.14 shapes it: ``(domain, path)`` ->
        :class:`~http.cookies.SimpleCookie` of full Morsels. As in aiohttp, the path key has
        its trailing ``/`` removed (``/`` is ``""``) and shared cookies are under ``("", "")``.
        """
        self._purge_expired(_now())
        view: dict[tuple[str, str], SimpleCookie] = {}
        for cookie in sorted(self._cookies.values(), key=lambda c: c.seq):
            group = view.setdefault((cookie.domain, cookie.path.rstrip("/")), SimpleCookie())
            dict.__setitem__(group, cookie.name, cookie.morsel())
        return MappingProxyType(view)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """``(domain, path, name)`` of each host-only cookie (path keyed as in :attr:`cookies`)."""
        return frozenset(
            (c.domain, c.path.rstrip("/"), c.name) for c in self._cookies.values() if c.host_only
        )

    # ----------------------------------------------------------------- container protocol

    def __len__(self) -> int:
        self._purge_expired(_now())
        return len(self._cookies)

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._purge_expired(_now())
        return iter([cookie.morsel() for cookie in self._cookies.values()])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._cookies)} cookies unsafe={self._unsafe}>"

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those for which ``predicate(morsel)`` is true."""
        if predicate is None:
            self._reset()
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

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values received from ``response_url``.

        What a browser would ignore (no ``=``, an empty name, a control character, an
        attribute it cannot read) is skipped, never raised.
        """
        url = _as_url(response_url)
        if not self._host_allowed(url):
            return
        for header in headers:
            if not isinstance(header, str):
                raise TypeError(f"Set-Cookie values must be str, not {type(header).__name__}")
            parsed = parse_set_cookie(header)
            if parsed is not None:
                self._store(parsed, _plain_value(parsed.value), url)

    def update_cookies(
        self,
        cookies: Mapping[str, str | Morsel[str]] | BaseCookie[str] | Iterable[Any],
        response_url: URL | str | None = URL(),  # noqa: B008  (immutable, aiohttp's default)
    ) -> None:
        """Store cookies given as a mapping (or ``(name, value)`` pairs) for ``response_url``.

        Values are strings or :class:`~http.cookies.Morsel` objects (their ``domain``,
        ``path``, ``expires``, ``max-age``, ``secure``, ``httponly`` and ``samesite`` count).
        Without a URL the cookies are shared: sent to every host. As in a ``Set-Cookie``
        header, an attribute that cannot be read (``max-age="soon"``) is ignored, a
        ``max-age`` of 0 or less or a past ``expires`` deletes the stored cookie of that
        name, and a cookie with an invalid name (empty, or holding ``=``, ``;``, a control
        character or edge whitespace) or longer than 4096 characters is skipped (logged at
        debug level), not raised. A value holding a control character (CR LF...) raises
        an error that is both a :class:`ValueError` and an :class:`http.cookies.CookieError`,
        and a value or pair that is not a string raises :class:`TypeError`; then nothing of
        the call is stored.
        """
        url = _as_url(response_url)
        if not self._host_allowed(url):
            return
        # all converted first: an error leaves the jar as it was
        converted = [(name, _from_api(name, value)) for name, value in _api_items(cookies)]
        for name, cookie in converted:
            if cookie is None:
                _log.debug("cookie %r skipped: invalid name, or too long", name)
                continue
            parsed, plain, raw = cookie
            self._store(parsed, plain, url, raw)

    def _host_allowed(self, url: URL) -> bool:
        host = _canonical_host(url)
        return self._unsafe or not host or not _is_ip(host)

    def _is_secure(self, url: URL) -> bool:
        """Whether ``url`` may set and receive ``Secure`` cookies."""
        if url.scheme in _SECURE_SCHEMES:
            return True
        if not self._secure_origins or not url.absolute:
            return False
        try:
            return url.origin() in self._secure_origins
        except ValueError:
            return False

    def _send_form(self, value: str, coded: str, raw: str) -> str:
        """What travels in the ``Cookie`` header for a value, per ``quote_cookie``."""
        if not self._quote_cookie:
            return raw
        if coded.startswith('"'):
            return coded
        sent: str = _rfc2109_quote(value)
        return sent

    def _store(
        self,
        parsed: ParsedSetCookie,
        value: str,
        url: URL,
        raw: str | None = None,
    ) -> _Cookie | None:
        """The storage model of §5.3, with the 6265bis checks listed in the module doc.

        ``parsed.value`` is the value as received, ``value`` the same unquoted, ``raw`` what
        travels unquoted (default: as received). Returns the stored record, or None when
        the cookie was refused or only deleted its predecessor.
        """
        now = _now()
        host = _canonical_host(url)
        secure_origin = self._is_secure(url)
        expires = _expiry(parsed, now)
        scope = _cookie_domain(parsed, host)
        if scope is None:
            return None
        domain, host_only = scope
        path = parsed.path or (_default_path(url) if host else "/")

        if parsed.secure and host and not secure_origin:
            return None
        if self._enforce_prefixes and not _prefix_allowed(parsed, host_only):
            return None
        if host and not secure_origin and self._shadows_secure(parsed.name, domain, path):
            return None

        raw = parsed.value if raw is None else raw
        cookie = _Cookie(
            name=parsed.name,
            value=value,
            coded_value=parsed.value,
            raw=raw,
            sent=self._send_form(value, parsed.value, raw),
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
            return None  # an expired cookie only deletes its predecessor
        self._insert(cookie, now)
        return cookie

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
        if not self._cookies:
            return []
        host = _canonical_host(url)
        secure = self._is_secure(url)
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

    def filter_cookies(self, request_url: URL | str = URL()) -> SimpleCookie:  # noqa: B008
        """The cookies for ``request_url`` as aiohttp 3.14 returns them: one bare Morsel per
        name (``key``, ``value`` and, as ``coded_value``, exactly what is sent; no attributes).

        When several stored cookies share a name (other paths or domains), the first in
        RFC 6265 §5.4 order (longest path, then oldest) is the one returned; the session
        sends them all (:meth:`cookie_header`).
        """
        result = SimpleCookie()
        for cookie in self._matching(request_url):
            if cookie.name not in result:
                dict.__setitem__(result, cookie.name, cookie.sent_morsel())
        return result

    def cookie_header(self, request_url: URL | str) -> str | None:
        """The exact ``Cookie`` header value for ``request_url``, or None when none apply:
        every matching cookie, same-name ones included, in RFC 6265 §5.4 order."""
        selected = self._matching(request_url)
        if not selected:
            return None
        return "; ".join(f"{cookie.name}={cookie.sent}" for cookie in selected)

    def _sent_pairs(self, request_url: URL) -> list[tuple[str, str]]:
        """``(name, sent value)`` of every cookie for ``request_url``, in sending order."""
        return [(cookie.name, cookie.sent) for cookie in self._matching(request_url)]

    # ------------------------------------------------------------------- persistence

    def save(self, file_path: str | os.PathLike[str]) -> None:
        """Write the cookies as aiohttp 3.14's JSON cookie file, readable only by the owner.

        aiohttp 3.14's :meth:`aiohttp.CookieJar.load` reads it (host-only flags and expiry
        times included); the creation and last-use times cyhttp also keeps ride along in a
        ``"cyhttp"`` entry per cookie, which aiohttp ignores.
        """
        self._purge_expired(_now())
        ordered = sorted(self._cookies.values(), key=lambda c: c.seq)
        data = json.dumps(_aiohttp_document(ordered), indent=2).encode("ascii")
        _write_private(Path(file_path), data)

    def load(self, file_path: str | os.PathLike[str]) -> None:
        """Replace the jar's cookies with those of a JSON cookie file.

        Reads aiohttp 3.14's format (written by either library's :meth:`save`) and the one
        older cyhttp versions wrote. Each cookie goes through the same rules as a received
        one (expired ones are dropped, expiry capped, caps applied). A file that is not a
        JSON cookie file, a pickle in particular (what aiohttp before 3.14 wrote, never
        unpickled here), raises :class:`ValueError` and leaves the jar unchanged.
        """
        path = Path(file_path)
        raw = path.read_bytes()
        if raw[:1] == b"\x80":
            raise ValueError(
                f"{path} is a pickle file (aiohttp before 3.14); cyhttp never unpickles "
                "cookie files: save the jar again with aiohttp 3.14 or later"
            )
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a JSON cookie file: {exc}") from None
        entries = _entries_from_document(document, path)
        staging = self._empty_copy()
        staging._admit_loaded(entries)
        self._adopt(staging)

    def _empty_copy(self) -> CookieJar:
        """A new, empty jar with this one's settings (load fills it, then swaps it in)."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._reset()
        return copy

    def _adopt(self, other: CookieJar) -> None:
        """Take ``other``'s cookies and indexes (both jars have the same settings)."""
        self._cookies, self._by_site = other._cookies, other._by_site
        self._site_of, self._by_domain = other._site_of, other._by_domain
        self._seq, self._use, self._next_expiry = other._seq, other._use, other._next_expiry

    def _reorder(self) -> None:
        """Put the records in creation order (iteration order, after a load)."""
        for cookie in sorted(self._cookies.values(), key=lambda c: c.seq):
            self._cookies[cookie.key] = self._cookies.pop(cookie.key)
            same_domain = self._by_domain[cookie.domain]
            same_domain[cookie.key] = same_domain.pop(cookie.key)

    def _admit_loaded(self, entries: list[_Entry]) -> None:
        """Store loaded cookies as if received from their domain over https, then restore the
        saved creation and last-use order when the file has it."""
        stored: list[tuple[_Cookie, _Entry]] = []
        for entry in entries:
            if entry.domain and _is_ip(entry.domain) and not self._unsafe:
                continue
            url = _origin_of(entry.domain) if entry.domain else URL()
            parsed = ParsedSetCookie(
                name=entry.name,
                value=entry.coded_value,
                expires=entry.expires,
                domain=None if entry.host_only else (entry.domain or None),
                path=entry.path,
                secure=entry.secure,
                http_only=entry.http_only,
                same_site=entry.same_site,
            )
            cookie = self._store(parsed, entry.value, url, entry.raw)
            if cookie is not None:
                stored.append((cookie, entry))
        _restore_order(self, stored)


# --------------------------------------------------------------------- cookie files


@dataclass(slots=True, kw_only=True)
class _Entry:
    """One cookie read from a file, checked field by field, not yet stored."""

    name: str
    value: str
    coded_value: str
    domain: str
    path: str
    host_only: bool
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    expires: float | None = None
    # creation, last_access, seq, used: what cyhttp adds to aiohttp's format
    order: tuple[float, float, int, int] | None = None
    raw: str | None = None  # cyhttp's too: what travels unquoted, when not coded_value


def _origin_of(domain: str) -> URL:
    """The https URL a loaded cookie is stored from, as if its domain had sent it."""
    host = f"[{domain}]" if ":" in domain else domain
    return URL(f"https://{host}/")


def _aiohttp_document(cookies: Iterable[_Cookie]) -> dict[str, dict[str, dict[str, Any]]]:
    """aiohttp 3.14's cookie file: ``"domain|path"`` (path without its trailing ``/``) ->
    name -> the Morsel's key, value, coded_value and set attributes, plus ``host_only`` and
    ``expires_timestamp`` (absolute POSIX seconds)."""
    data: dict[str, dict[str, dict[str, Any]]] = {}
    for cookie in cookies:
        key = f"{cookie.domain}|{cookie.path.rstrip('/')}"
        if cookie.name in data.get(key, {}):
            # "/x" and "/x/" share aiohttp's key; aiohttp reads the path from the record,
            # so a second key that keeps the slash loses nothing
            key = f"{cookie.domain}|{cookie.path}|{cookie.seq}"
        record: dict[str, Any] = {
            "key": cookie.name,
            "value": cookie.value,
            "coded_value": cookie.coded_value,
            "path": cookie.path,
        }
        if cookie.domain:
            record["domain"] = cookie.domain
        if cookie.secure:
            record["secure"] = True
        if cookie.http_only:
            record["httponly"] = True
        if cookie.same_site:
            record["samesite"] = cookie.same_site
        if cookie.host_only:
            record["host_only"] = True
        if cookie.expires is not None:
            record["expires_timestamp"] = cookie.expires
        record["cyhttp"] = {
            "creation": cookie.creation,
            "last_access": cookie.last_access,
            "seq": cookie.seq,
            "used": cookie.used,
        }
        if cookie.raw != cookie.coded_value:
            record["cyhttp"]["raw"] = cookie.raw
        data.setdefault(key, {})[cookie.name] = record
    return data


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with a file only its owner can read (cookies are
    credentials)."""
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


def _entries_from_document(document: Any, path: Path) -> list[_Entry]:
    """Check a loaded JSON document field by field; nothing in it is ever executed."""
    if isinstance(document, dict) and document.get("format") == _OLD_FILE_FORMAT:
        return _entries_from_old_document(document, path)
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a cookie file (a JSON object was expected)")
    entries = []
    for compound_key, group in document.items():
        domain, bar, _ = compound_key.partition("|")
        if not bar or not isinstance(group, dict):
            raise ValueError(f"{path}: {compound_key!r} is not a cookie group")
        for name, record in group.items():
            where = f"{path}: cookie {name!r} in {compound_key!r}"
            try:
                entries.append(_entry_from_record(domain, name, record))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from None
    return entries


def _field(record: dict[str, Any], name: str, types: tuple[type, ...], default: Any) -> Any:
    """``record[name]`` if of one of ``types`` (never a bool for a number), else an error."""
    value = record.get(name, default)
    if value is default:
        return value
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise TypeError(f"bad {name!r}: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"bad {name!r}: {value!r}")
    return value


def _entry_from_record(domain: str, name: str, record: Any) -> _Entry:
    """One record of aiohttp's format (see :func:`_aiohttp_document`)."""
    if not isinstance(record, dict):
        raise TypeError("not a JSON object")
    value = _field(record, "value", (str,), None)
    coded = _field(record, "coded_value", (str,), None)
    if value is None or coded is None:
        raise ValueError("value or coded_value missing")
    _check_loaded_cookie(name, value, coded)
    domain = _checked_domain(domain)
    path = _field(record, "path", (str,), "")
    same_site = _field(record, "samesite", (str,), "")
    expires = _field(record, "expires_timestamp", (int, float), None)
    return _Entry(
        name=name,
        value=value,
        coded_value=coded,
        domain=domain,
        path=path if path.startswith("/") else "/",
        host_only=bool(domain) and _field(record, "host_only", (bool,), False),
        secure=_field(record, "secure", (bool,), False),
        http_only=_field(record, "httponly", (bool,), False),
        same_site=_SAME_SITE.get(same_site.lower()),
        expires=None if expires is None else float(expires),
        order=_order_of(record.get("cyhttp")),
        raw=_raw_of(record.get("cyhttp"), name),
    )


def _checked_domain(domain: str) -> str:
    """A file's domain as the jar stores it (lower case, IDNA), or ValueError."""
    domain = (_to_idna(domain.lower()) or " ") if domain else ""
    if domain and (
        not _HOST_CHARACTERS.fullmatch(domain) or _canonical_host(_origin_of(domain)) != domain
    ):
        raise ValueError(f"bad domain {domain!r}")
    return domain


def _order_of(extra: Any) -> tuple[float, float, int, int] | None:
    """cyhttp's ``{"creation", "last_access", "seq", "used"}`` entry, or None if absent."""
    if extra is None:
        return None
    if not isinstance(extra, dict):
        raise TypeError(f"bad 'cyhttp' entry: {extra!r}")
    times = [_field(extra, name, (int, float), 0.0) for name in ("creation", "last_access")]
    counters = [_field(extra, name, (int,), 0) for name in ("seq", "used")]
    return (float(times[0]), float(times[1]), counters[0], counters[1])


def _raw_of(extra: Any, name: str) -> str | None:
    """cyhttp's ``"raw"`` (the unquoted form of a cookie given to ``update_cookies``)."""
    raw = _field(extra, "raw", (str,), None) if isinstance(extra, dict) else None
    if raw is not None and not _wire_safe(raw):
        raise ValueError(f"invalid value for cookie {name!r}: {raw!r}")
    return raw


_OLD_RECORD_TYPES: dict[str, tuple[type, ...]] = {
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


def _entries_from_old_document(document: dict[str, Any], path: Path) -> list[_Entry]:
    """The file format of cyhttp before it adopted aiohttp's (``"format":
    "cyhttp-cookiejar"``, version 1): a list of records, the value as received."""
    if document.get("version") != _OLD_FILE_VERSION:
        raise ValueError(f"{path}: unsupported cookie file version {document.get('version')!r}")
    if not isinstance(document.get("cookies"), list):
        raise ValueError(f"{path} is not a cyhttp cookie file")
    entries = []
    for index, record in enumerate(document["cookies"]):
        if not isinstance(record, dict) or set(record) != set(_OLD_RECORD_TYPES):
            raise ValueError(f"{path}: cookie #{index} has the wrong fields")
        try:
            for name, types in _OLD_RECORD_TYPES.items():
                _field(record, name, types, _MISSING)
            coded = record["value"]
            value = _plain_value(coded)
            _check_loaded_cookie(record["name"], value, coded)
            domain = _checked_domain(record["domain"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: cookie #{index}: {exc}") from None
        entries.append(
            _Entry(
                name=record["name"],
                value=value,
                coded_value=coded,
                domain=domain,
                path=record["path"],
                host_only=record["host_only"],
                secure=record["secure"],
                http_only=record["http_only"],
                same_site=record["same_site"],
                expires=record["expires"],
                order=(record["creation"], record["last_access"], record["seq"], record["used"]),
            )
        )
    return entries


_MISSING: Any = object()


def _restore_order(jar: CookieJar, stored: list[tuple[_Cookie, _Entry]]) -> None:
    """Give loaded cookies their saved creation/last-use times and order, when every one
    has them (a file aiohttp wrote has not: its order is then the file's)."""
    orders = [entry.order for _, entry in stored]
    if not stored or any(order is None for order in orders):
        return
    known = cast(list[tuple[float, float, int, int]], orders)
    pairs = list(zip((cookie for cookie, _ in stored), known, strict=True))
    for cookie, (creation, last_access, _, _) in pairs:
        cookie.creation, cookie.last_access = creation, last_access
    for cookie, _ in sorted(pairs, key=lambda pair: pair[1][3]):
        cookie.used = next(jar._use)
    for cookie, _ in sorted(pairs, key=lambda pair: (pair[1][0], pair[1][2])):
        cookie.seq = next(jar._seq)
    jar._reorder()


# ------------------------------------------------------------- cookies given by the API


def _from_api(name: Any, value: Any) -> tuple[ParsedSetCookie, str, str] | None:
    """One ``update_cookies`` item (a str or a Morsel) as a parsed cookie, its unquoted
    value and what travels without quoting (the given value, when it can travel as is),
    or None when it is skipped (invalid name, too long). A control character in the value
    (header injection, or a mistake) raises."""
    if not isinstance(name, str):
        raise TypeError(f"cookie names must be str, not {type(name).__name__}")
    if isinstance(value, Morsel):
        plain, coded = str(value.value), str(value.coded_value)
    elif isinstance(value, str):
        plain, coded = value, value
    else:
        raise TypeError(f"cookie values must be str or Morsel, not {type(value).__name__}")
    if CONTROL_CHARACTER.search(plain) or CONTROL_CHARACTER.search(coded):
        raise _InvalidCookie(f"the value of cookie {name!r} holds a control character")
    if not _wire_safe(coded):
        coded = _rfc2109_quote(plain)  # what SimpleCookie would have sent
    if not _valid_name(name) or len(name) + len(coded) > MAX_NAME_VALUE_LENGTH:
        return None
    cookie = ParsedSetCookie(name=name, value=coded)
    if isinstance(value, Morsel):
        _apply_morsel_attributes(cookie, value)
    return cookie, plain, plain if _wire_safe(plain) else coded


def _api_items(cookies: Any) -> list[tuple[Any, Any]]:
    """``update_cookies``' argument (mapping, SimpleCookie or pairs) as ``(name, value)``
    pairs; anything else is a :class:`TypeError`."""
    if isinstance(cookies, Mapping):
        return list(cookies.items())
    items = []
    for item in cookies:
        if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
            raise TypeError(f"cookies must be a mapping or (name, value) pairs, got {item!r}")
        items.append((item[0], item[1]))
    return items


def _attribute_text(value: Any) -> str:
    """A Morsel attribute as text ("" when unset; ``0`` stays "0")."""
    return "" if value is None or value is False else str(value)


def _apply_morsel_attributes(cookie: ParsedSetCookie, morsel: Morsel[str]) -> None:
    """A Morsel's attributes read as a ``Set-Cookie`` header's are: what cannot be read is
    ignored (RFC 6265 §5.2), never raised."""
    domain = str(morsel["domain"] or "").strip()
    if domain:
        cookie.domain = domain.removeprefix(".").lower()
    path = str(morsel["path"] or "")
    cookie.path = path if path.startswith("/") else None
    max_age = _MAX_AGE.fullmatch(_attribute_text(morsel["max-age"]))
    if max_age:
        cookie.max_age = int(max_age[1])
    expires = morsel["expires"]
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        # http.cookies' convention: a number is seconds from now
        if math.isfinite(expires):
            cookie.expires = _now() + expires
    elif expires := _attribute_text(expires):
        cookie.expires = parse_cookie_date_timestamp(expires)
    cookie.secure = bool(morsel["secure"])
    cookie.http_only = bool(morsel["httponly"])
    cookie.same_site = _SAME_SITE.get(str(morsel["samesite"] or "").strip().lower())


def morsels_from_headers(headers: Iterable[str]) -> list[tuple[str, Morsel[str]]]:
    """Raw ``Set-Cookie`` values as ``(name, Morsel)`` pairs for any jar's ``update_cookies``
    (what :meth:`AbstractCookieJar.update_cookies_from_headers` hands a custom jar).

    Read by cyhttp's RFC 6265 parser: what a browser ignores is skipped, never raised.
    """
    pairs = []
    for header in headers:
        parsed = parse_set_cookie(header) if isinstance(header, str) else None
        if parsed is None:
            continue
        morsel = _bare_morsel(parsed.name, _plain_value(parsed.value), parsed.value)
        attributes: dict[str, Any] = {}
        if parsed.domain is not None:
            attributes["domain"] = parsed.domain
        if parsed.path is not None:
            attributes["path"] = parsed.path
        if parsed.max_age is not None:
            attributes["max-age"] = str(parsed.max_age)
        if parsed.expires is not None:
            attributes["expires"] = _expires_text(parsed.expires)
        if parsed.secure:
            attributes["secure"] = True
        if parsed.http_only:
            attributes["httponly"] = True
        if parsed.same_site:
            attributes["samesite"] = parsed.same_site
        dict.update(morsel, attributes)
        pairs.append((parsed.name, morsel))
    return pairs


# ---------------------------------------------------------- per-request cookies (session)


class _RequestCookieJar(CookieJar):
    """A throwaway jar for a request's own ``cookies=``: no caps and no name-prefix rules
    (aiohttp applies neither to them), otherwise the session jar's rules."""

    _enforce_prefixes = False

    def __init__(self, *, unsafe: bool, quote_cookie: bool, treat_as_secure_origin: Any) -> None:
        super().__init__(
            unsafe=unsafe,
            quote_cookie=quote_cookie,
            treat_as_secure_origin=treat_as_secure_origin,
            max_cookies_per_site=2**62,
            max_cookies=2**62,
        )


def request_cookie_header(
    jar: AbstractCookieJar | None, request_url: URL, cookies: Any = None
) -> str | None:
    """The ``Cookie`` header value a session sends to ``request_url``, or None.

    The session jar's cookies for the URL (all of them, same-name ones included, for a
    cyhttp :class:`CookieJar`; what ``filter_cookies`` returns for any other jar), merged
    with the request's own ``cookies`` as aiohttp 3.14 merges them: those go through a
    temporary jar with the session jar's ``quote_cookie``, ``unsafe`` and
    ``treat_as_secure_origin`` (so their ``Secure``, ``domain`` and ``path`` attributes
    count), and each one that applies replaces, in place, the session cookies of its
    name; the others follow. A request cookie that cannot be sent raises an error that is
    both a :class:`ValueError` and an :class:`http.cookies.CookieError`.
    """
    if not cookies:  # the common case: the jar's own header
        if jar is None or not len(jar):
            return None
        exact = getattr(jar, "cookie_header", None)
        if exact is not None:
            header: str | None = exact(request_url)
            return header
        return "; ".join(f"{n}={v}" for n, v in _jar_pairs(jar, request_url)) or None
    sent = _jar_pairs(jar, request_url) if jar is not None else []
    temporary = _RequestCookieJar(
        unsafe=getattr(jar, "unsafe", False),
        quote_cookie=getattr(jar, "quote_cookie", True),
        treat_as_secure_origin=getattr(jar, "treat_as_secure_origin", None) or None,
    )
    for name, value in _api_items(cookies):
        if _from_api(name, value) is None:
            raise _InvalidCookie(f"cookie {name!r} cannot be sent (invalid name or value)")
        temporary.update_cookies([(name, value)])
    extra = dict(temporary._sent_pairs(request_url))
    merged: list[tuple[str, str]] = []
    placed: set[str] = set()
    for name, value in sent:
        if name not in extra:
            merged.append((name, value))
        elif name not in placed:  # the first session cookie of the name gives the place
            merged.append((name, extra[name]))
            placed.add(name)
    merged.extend((name, value) for name, value in extra.items() if name not in placed)
    return "; ".join(f"{name}={value}" for name, value in merged) or None


def _jar_pairs(jar: AbstractCookieJar, request_url: URL) -> list[tuple[str, str]]:
    """``(name, value to send)`` of a session jar's cookies for ``request_url``."""
    if isinstance(jar, CookieJar):
        return jar._sent_pairs(request_url)
    if not len(jar):  # a custom jar's filter_cookies may be costly
        return []
    return [(morsel.key, morsel.coded_value) for morsel in jar.filter_cookies(request_url).values()]


# ------------------------------------------------------------------------ DummyCookieJar


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: every request goes out without stored cookies."""

    def __init__(self, *, loop: Any = None) -> None:
        if loop is not None:
            warnings.warn(
                "the loop argument of DummyCookieJar is deprecated and ignored",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__()

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Nothing to remove."""

    def clear_domain(self, domain: str) -> None:
        """Nothing to remove."""

    def update_cookies(self, cookies: Any, response_url: URL | str | None = URL()) -> None:  # noqa: B008
        """Ignore the cookies."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Ignore the cookies (without parsing them)."""

    def filter_cookies(self, request_url: URL | str = URL()) -> SimpleCookie:  # noqa: B008
        """Always empty."""
        return SimpleCookie()

    def cookie_header(self, request_url: URL | str) -> str | None:
        """Always None: no Cookie header."""
        return None
