"""Content-Disposition (RFC 6266) for :attr:`ClientResponse.content_disposition`.

``disposition-type *( ";" name "=" value )``, where a value is a token or a quoted
string, and a name ending in ``*`` carries an RFC 8187 extended value
(``charset'language'percent-encoded``). Long values may be split into numbered
continuations (``filename*0``, ``filename*1*``, ... as in RFC 2231).

Lenient where no information is lost (stray semicolons, a parameter that cannot be read is
skipped), strict where guessing could mislead: a header whose type is not a token or
that names a parameter twice gives ``(None, {})``. Self-contained on purpose: the
response side does not depend on the multipart module.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ("disposition_filename", "parse_disposition")

#: RFC 9110 token characters
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTINUATION = re.compile(r"(.+)\*(\d+)\*?")


def _split_params(text: str) -> list[str] | None:
    """``text`` split at the semicolons outside quoted strings; None when a quoted string
    is left open."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        return None
    items.append("".join(current))
    return items


def _unquote_string(value: str) -> str:
    """The content of a quoted string, backslash escapes undone."""
    return re.sub(r"\\(.)", r"\1", value[1:-1])


def _extended(value: str) -> str | None:
    """An RFC 8187 ``charset'lang'pct-encoded`` value decoded, or None when unreadable."""
    if value.count("'") < 2:
        return None
    charset, _lang, encoded = value.split("'", 2)
    try:
        return unquote(encoded, charset or "utf-8", "strict")
    except (LookupError, UnicodeDecodeError):  # the charset name is the sender's choice
        return None


def _param_value(name: str, raw: str) -> str | None:
    """The value of one parameter, or None when it cannot be read."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        if name.endswith("*") and _CONTINUATION.fullmatch(name) is None:
            return None  # an extended value is never quoted
        return _unquote_string(raw)
    if not raw or _TOKEN.fullmatch(raw) is None:
        return None
    if name.endswith("*") and _CONTINUATION.fullmatch(name) is None:
        return _extended(raw)
    return raw


def parse_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """``(type, parameters)`` of a Content-Disposition value; parameter names lower-cased,
    values unquoted (extended values decoded; continuations kept as sent, see
    :func:`disposition_filename`)."""
    if not header:
        return None, {}
    items = _split_params(header)
    if items is None:
        return None, {}
    disposition = items[0].strip()
    if _TOKEN.fullmatch(disposition) is None:
        return None, {}
    params: dict[str, str] = {}
    for item in items[1:]:
        if not item.strip():
            continue  # a stray or trailing semicolon
        name, sep, raw = item.partition("=")
        name = name.strip().lower()
        if not sep or _TOKEN.fullmatch(name) is None:
            continue
        if name in params:
            return None, {}  # which one would the sender mean?
        value = _param_value(name, raw.strip())
        if value is not None:
            params[name] = value
    return disposition, params


def disposition_filename(params: dict[str, str], name: str = "filename") -> str | None:
    """The value of ``name`` in parsed parameters: ``name*`` (extended) first, then
    ``name``, then the numbered continuations ``name*0``, ``name*1``, ... joined (and
    decoded when the first one is extended, ``name*0*``)."""
    if f"{name}*" in params:
        return params[f"{name}*"]
    if name in params:
        return params[name]
    parts: list[str] = []
    extended = False
    while True:
        index = len(parts)
        if f"{name}*{index}*" in params:
            parts.append(params[f"{name}*{index}*"])
            extended = extended or index == 0
        elif f"{name}*{index}" in params:
            parts.append(params[f"{name}*{index}"])
        else:
            break
    if not parts:
        return None
    joined = "".join(parts)
    if extended:
        return _extended(joined)
    return joined
