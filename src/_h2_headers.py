"""HTTP/2 field rules for a client (RFC 9113 section 8): requests out, responses in.

``request_fields(headers)`` turns what the caller gives into the header list to encode:
pseudo-headers first, names lower-case, connection-specific fields refused (section
8.2.2), values free of CR, LF and NUL. ``response_head(fields)`` and ``trailer_fields``
check what the peer sent; a malformed one raises :class:`Malformed`, which the connection
turns into a stream error of type PROTOCOL_ERROR (section 8.1.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yarl import URL

__all__ = (
    "Malformed",
    "check_fields",
    "outgoing_trailers",
    "request_fields",
    "request_headers_for",
    "response_head",
    "strip_connection_headers",
    "trailer_fields",
)

Fields = list[tuple[bytes, bytes]]

#: section 8.2.2: hop-by-hop fields that mean nothing in HTTP/2
CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)
_REQUEST_PSEUDO = (b":method", b":scheme", b":authority", b":path")
# section 8.2.1: a name has no controls, spaces, upper case, DEL or non-ASCII, and no colon
# (pseudo-headers aside); a value no NUL, CR or LF, and no whitespace at either end
_NAME = re.compile(rb"[^\x00-\x20A-Z\x7f-\xff:]+")
_BAD_VALUE = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z")
_STATUS = re.compile(rb"[1-5][0-9][0-9]")
_DIGITS = re.compile(rb"[0-9]{1,18}")


class Malformed(Exception):
    """A header list breaks RFC 9113 section 8; the message says how."""


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"header names and values must be bytes or str, not {type(value).__name__}")


def _check_value(name: bytes, value: bytes) -> None:
    if _BAD_VALUE.search(value) is not None:
        raise Malformed(f"the value of {name.decode('latin-1')!r} has a forbidden character")


def _check_regular(name: bytes, value: bytes) -> None:
    """One regular (non-pseudo) field, as section 8.2 wants it."""
    if _NAME.fullmatch(name) is None:
        raise Malformed(f"invalid header name {name!r}")
    if name in CONNECTION_SPECIFIC:
        raise Malformed(f"connection-specific header {name.decode()!r} is not allowed in HTTP/2")
    if name == b"te" and value.lower() != b"trailers":
        raise Malformed("the only TE value HTTP/2 allows is 'trailers'")
    _check_value(name, value)


def request_fields(headers: Iterable[Any]) -> tuple[list[tuple[Any, ...]], bytes]:
    """The request's header list in wire order, and its method.

    ``headers``: ``(name, value)`` or ``(name, value, sensitive)`` items, str or bytes. The
    four request pseudo-headers go first, in the usual order; ``host`` becomes
    ``:authority`` when that is missing (and must agree with it otherwise). Raises
    ``ValueError`` for anything RFC 9113 forbids a client to send.
    """
    pseudo: dict[bytes, bytes] = {}
    regular: list[tuple[Any, ...]] = []
    host: bytes | None = None
    for item in headers:
        name = _as_bytes(item[0]).lower()
        value = _as_bytes(item[1])
        try:
            if name.startswith(b":"):
                if name not in _REQUEST_PSEUDO or name in pseudo:
                    raise Malformed(f"unknown or repeated pseudo-header {name.decode()!r}")
                _check_value(name, value)
                pseudo[name] = value
                continue
            _check_regular(name, value)
        except Malformed as exc:
            raise ValueError(str(exc)) from None
        if name == b"host":
            host = value
            continue
        regular.append((name, value, *item[2:3]))
    if host is not None and pseudo.setdefault(b":authority", host) != host:
        raise ValueError("the host header and :authority disagree")
    _check_request_pseudo(pseudo)
    fields: list[tuple[Any, ...]] = [(n, pseudo[n]) for n in _REQUEST_PSEUDO if n in pseudo]
    return fields + regular, pseudo[b":method"]


def strip_connection_headers(headers: Iterable[Any]) -> list[Any]:
    """``headers`` without what only meant something to an HTTP/1.1 connection: the
    section 8.2.2 fields, the fields that ``Connection`` names, and TE other than
    ``trailers``. For a caller that builds its headers for HTTP/1.1 first
    (:meth:`H2Connection.send_request` refuses these instead of guessing)."""
    items = list(headers)
    drop = set(CONNECTION_SPECIFIC)
    for item in items:
        if _as_bytes(item[0]).lower() == b"connection":
            drop.update(t.strip().lower() for t in _as_bytes(item[1]).split(b","))
    kept = []
    for item in items:
        name = _as_bytes(item[0]).lower()
        if name in drop:
            continue
        if name == b"te" and _as_bytes(item[1]).strip().lower() != b"trailers":
            continue
        kept.append(item)
    return kept


def request_headers_for(
    method: str, url: URL, headers: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The HTTP/2 header list of a request whose headers were built for HTTP/1.1.

    The pseudo-headers come from ``method`` and ``url`` (``:authority`` without userinfo
    nor a default port; a ``Host`` header, when there is one, wins, as it would in
    HTTP/1.1); the headers follow without the connection-specific ones. CONNECT gets
    ``:method`` and ``:authority`` only (RFC 9113 section 8.5).
    """
    authority = url.host_port_subcomponent or ""
    kept = []
    for name, value in strip_connection_headers(headers):
        if name.lower() == "host":
            authority = value
        else:
            kept.append((name, value))
    pseudo = [(":method", method), (":authority", authority)]
    if method != "CONNECT":
        pseudo = [
            (":method", method),
            (":scheme", url.scheme),
            (":authority", authority),
            (":path", url.raw_path_qs or "/"),
        ]
    return pseudo + kept


def _check_request_pseudo(pseudo: dict[bytes, bytes]) -> None:
    method = pseudo.get(b":method")
    if not method:
        raise ValueError("a request needs :method")
    if method == b"CONNECT":
        if set(pseudo) != {b":method", b":authority"}:
            raise ValueError("a CONNECT request has :method and :authority only")
        return
    if not pseudo.get(b":scheme") or not pseudo.get(b":path"):
        raise ValueError("a request needs :scheme and :path")


def outgoing_trailers(headers: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Trailer fields to send: names lower-cased, no pseudo-headers, nothing forbidden
    (``ValueError`` otherwise)."""
    fields = [(_as_bytes(i[0]).lower(), _as_bytes(i[1]), *i[2:3]) for i in headers]
    try:
        check_fields([(f[0], f[1]) for f in fields])
    except Malformed as exc:
        raise ValueError(str(exc)) from None
    return fields


def check_fields(fields: Fields) -> None:
    """Regular fields only (trailers): every name and value valid."""
    for name, value in fields:
        if name.startswith(b":"):
            raise Malformed(f"pseudo-header {name.decode('latin-1')!r} where none may be")
        _check_regular(name, value)


def response_head(fields: Fields) -> tuple[int, Fields, int | None]:
    """``(status, regular fields, content_length)`` of a response head (section 8.3.2:
    exactly one pseudo-header, ``:status``, first)."""
    if not fields or fields[0][0] != b":status":
        raise Malformed("a response head must start with :status")
    raw_status = fields[0][1]
    if _STATUS.fullmatch(raw_status) is None:
        raise Malformed(f"invalid :status {raw_status[:20]!r}")
    status = int(raw_status)
    if status == 101:
        raise Malformed("101 Switching Protocols is not allowed in HTTP/2")
    regular = fields[1:]
    check_fields(regular)
    return status, regular, _content_length(regular)


def _content_length(fields: Fields) -> int | None:
    """The Content-Length, when present; repeated values must agree."""
    found: int | None = None
    for name, value in fields:
        if name != b"content-length":
            continue
        for part in value.split(b","):
            part = part.strip(b" \t")
            if _DIGITS.fullmatch(part) is None:
                raise Malformed(f"invalid content-length {value[:30]!r}")
            length = int(part)
            if found is not None and found != length:
                raise Malformed("conflicting content-length values")
            found = length
    return found


def trailer_fields(fields: Fields) -> Fields:
    """Trailers carry no pseudo-header (section 8.1)."""
    check_fields(fields)
    return fields
