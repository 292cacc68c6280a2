"""The ``Set-Cookie`` parsing algorithm of RFC 6265 §5.2, as browsers run it.

The stdlib ``http.cookies`` parser follows the old RFC 2109 grammar: it unquotes values,
stops at characters browsers accept, and treats a comma as a cookie separator. Browsers do
none of that. They take everything up to the first ``;`` as ``name=value`` (split at the
first ``=``, whitespace trimmed, the value kept byte for byte, quotes included), then read
``;``-separated attributes, silently skipping those they do not understand or cannot parse.

This module only parses: it returns a :class:`ParsedSetCookie` with the attributes already
interpreted (§5.2.1-§5.2.6) but knows nothing about the request URL. Whether the cookie is
stored, and where, is the jar's storage model (§5.3, in :mod:`cyhttp.cookiejar`).

Choices where RFC 6265 leaves room (each matches current browsers and RFC 6265bis):

* a pair without ``=`` (``Set-Cookie: foo``) or with an empty name (``=foo``) is ignored,
  as RFC 6265 and the http-state suite require (6265bis would store a nameless cookie);
* a name or value holding a control character other than HTAB is ignored as a whole;
* a cookie whose name and value together exceed 4096 characters is ignored, and so is an
  attribute whose value exceeds 1024 characters;
* an empty ``Domain=`` is ignored (the attribute, not the cookie);
* ``Max-Age`` wins over ``Expires`` whatever their order; of repeated attributes the last
  one counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cookie_dates import parse_cookie_date_timestamp

__all__ = (
    "CONTROL_CHARACTER",
    "MAX_ATTRIBUTE_VALUE_LENGTH",
    "MAX_NAME_VALUE_LENGTH",
    "ParsedSetCookie",
    "parse_set_cookie",
)

#: Longest ``name`` + ``value`` a browser keeps (RFC 6265bis §5.6 step 4).
MAX_NAME_VALUE_LENGTH = 4096
#: Longest attribute value a browser reads; longer attributes are skipped (6265bis §5.6).
MAX_ATTRIBUTE_VALUE_LENGTH = 1024

_WSP = " \t"
#: Controls except HTAB; 6265bis makes a cookie holding one invalid as a whole.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_AGE = re.compile(r"-?[0-9]+")
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


@dataclass(slots=True, kw_only=True)
class ParsedSetCookie:
    """One ``Set-Cookie`` header, read but not yet checked against its request URL.

    ``expires`` is POSIX seconds from ``Expires``; ``max_age`` the raw delta-seconds of
    ``Max-Age`` (may be 0 or negative, meaning "delete now"). ``domain`` is lower-cased with
    its leading dot removed; ``path`` is ``None`` when absent or not starting with ``/``
    (the jar then uses the default path).
    """

    name: str
    value: str
    expires: float | None = None
    max_age: int | None = None
    domain: str | None = None
    path: str | None = None
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    partitioned: bool = False


def parse_set_cookie(header: str) -> ParsedSetCookie | None:
    """Parse one ``Set-Cookie`` header value; ``None`` means a browser would ignore it."""
    pair, _, attributes = header.partition(";")
    name, equals, value = pair.partition("=")
    if not equals:
        return None
    name = name.strip(_WSP)
    value = value.strip(_WSP)
    if not name or CONTROL_CHARACTER.search(name) or CONTROL_CHARACTER.search(value):
        return None
    if len(name) + len(value) > MAX_NAME_VALUE_LENGTH:
        return None
    cookie = ParsedSetCookie(name=name, value=value)
    if attributes:
        for av in attributes.split(";"):
            _apply_attribute(cookie, av)
    return cookie


def _apply_attribute(cookie: ParsedSetCookie, av: str) -> None:
    """Interpret one ``;``-separated cookie-av (§5.2.1-§5.2.6); unknown ones are dropped."""
    attr_name, _, attr_value = av.partition("=")
    attr_name = attr_name.strip(_WSP).lower()
    attr_value = attr_value.strip(_WSP)
    if len(attr_value) > MAX_ATTRIBUTE_VALUE_LENGTH:
        return
    if attr_name == "expires":
        expires = parse_cookie_date_timestamp(attr_value)
        if expires is not None:
            cookie.expires = expires
    elif attr_name == "max-age":
        # "-?DIGIT+" only: "50,399", "2.63" and "+5" are ignored.
        if _MAX_AGE.fullmatch(attr_value):
            cookie.max_age = int(attr_value)
    elif attr_name == "domain":
        if attr_value:
            cookie.domain = attr_value.removeprefix(".").lower()
    elif attr_name == "path":
        cookie.path = attr_value if attr_value.startswith("/") else None
    elif attr_name == "secure":
        cookie.secure = True
    elif attr_name == "httponly":
        cookie.http_only = True
    elif attr_name == "samesite":
        # 6265bis: an unknown value means "Default" (the browser's choice): not recorded.
        cookie.same_site = _SAME_SITE.get(attr_value.lower())
    elif attr_name == "partitioned":
        cookie.partitioned = True
