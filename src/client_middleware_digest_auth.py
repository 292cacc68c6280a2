"""HTTP Digest access authentication (RFC 7616) as a client middleware.

``DigestAuthMiddleware(login, password)`` answers a ``401`` that carries a
``WWW-Authenticate: Digest`` challenge by sending the request once more with an
``Authorization: Digest`` header computed from the challenge. After a challenge has been
answered successfully, later requests inside the same protection space carry the header
from the start (preemptive authentication, RFC 7616 section 3.6), so they need no extra
round trip; a ``stale=true`` answer to such a request gets one fresh attempt.

The credentials belong to one origin: the origin (scheme, host, port) of the first request
the middleware sees. A request to any other origin, a cross-host redirect included, passes
through untouched and never gets a digest computed from the password.

The module is split in three layers so that each can be tested alone: the header grammar
(:func:`parse_challenges`), the arithmetic (:func:`digest_response`,
:func:`authorization_header`) and the middleware's state machine.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from yarl import URL

from . import hdrs
from .client_exceptions import ClientError

if TYPE_CHECKING:
    from .client_reqrep import ClientRequest, ClientResponse

    _Handler = Callable[[ClientRequest], Awaitable[ClientResponse]]

__all__ = (
    "DigestAuthError",
    "DigestAuthMiddleware",
    "DigestChallenge",
    "authorization_header",
    "digest_response",
    "parse_challenges",
)


class DigestAuthError(ClientError):
    """The server sent a Digest challenge this client cannot answer: a malformed header,
    a missing ``realm`` or ``nonce``, an unknown algorithm or no usable ``qop``."""


# ----- the header grammar (RFC 9110 section 11) -----

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_QUOTED: Final = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_PAIR: Final = re.compile(r"\\(.)", re.DOTALL)
# a token68 credential standing alone after a scheme name (``Basic dXNlcg==``)
_TOKEN68_ALONE: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*[ \t]*(?=,|$)")
_OWS: Final = re.compile(r"[ \t]*")
_SEPARATORS: Final = re.compile(r"[ \t,]*")
# characters a challenge value may not smuggle into the header we send back
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DIGEST_SCHEME: Final = re.compile(r"(?:^|[\s,])digest(?:\s|$)", re.IGNORECASE)


def _read_value(text: str, pos: int) -> tuple[str, int]:
    """Read a parameter value (a token or a quoted-string) at ``pos``."""
    if text.startswith('"', pos):
        match = _QUOTED.match(text, pos)
        if match is None:
            raise ValueError(f"unterminated quoted string at offset {pos}")
        return _QUOTED_PAIR.sub(r"\1", match.group(1)), match.end()
    match = _TOKEN.match(text, pos)
    if match is None:
        raise ValueError(f"a parameter value is missing at offset {pos}")
    return match.group(), match.end()


def parse_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """Split one ``WWW-Authenticate`` value into ``(scheme, parameters)`` challenges.

    A header may hold several challenges (``Basic realm="a", Digest realm="b", ...``).
    Scheme names keep their spelling; parameter names are lower-cased. A token68 credential
    is kept under the empty name. Raises :class:`ValueError` on text that does not follow
    the grammar, including a parameter given twice in one challenge.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    params: dict[str, str] | None = None
    pos, end = 0, len(value)
    while True:
        pos = _SEPARATORS.match(value, pos).end()  # type: ignore[union-attr]
        if pos >= end:
            return challenges
        name_match = _TOKEN.match(value, pos)
        if name_match is None:
            raise ValueError(f"unexpected character {value[pos]!r} at offset {pos}")
        name = name_match.group()
        pos = _OWS.match(value, name_match.end()).end()  # type: ignore[union-attr]
        if not value.startswith("=", pos):
            # a bare token starts a new challenge
            params = {}
            challenges.append((name, params))
            token68 = _TOKEN68_ALONE.match(value, pos)
            if token68 is not None and token68.end() > pos:
                params[""] = token68.group().strip()
                pos = token68.end()
            continue
        if params is None:
            raise ValueError(f"parameter {name!r} comes before any scheme")
        if "" in params:
            raise ValueError(f"parameter {name!r} follows a token68 credential")
        pos = _OWS.match(value, pos + 1).end()  # type: ignore[union-attr]
        param_value, pos = _read_value(value, pos)
        key = name.lower()
        if key in params:
            raise ValueError(f"parameter {key!r} is given twice")
        params[key] = param_value


def _parse_params(value: str) -> dict[str, str]:
    """Parse a bare list of auth-params (the ``Authentication-Info`` header)."""
    [(_, params)] = parse_challenges("_ " + value)
    return params


# ----- the arithmetic (RFC 7616 section 3.4) -----

# algorithm name (upper-case, without "-SESS") -> hashlib name; the non-standard spellings
# (SHA, SHA256, SHA512, SHA-512) are ones servers are known to send
_ALGORITHMS: Final[dict[str, str]] = {
    "MD5": "md5",
    "SHA": "sha1",
    "SHA-256": "sha256",
    "SHA256": "sha256",
    "SHA-512": "sha512",
    "SHA512": "sha512",
}
try:
    hashlib.new("sha512_256")
except ValueError:  # pragma: no cover - an OpenSSL without SHA-512/256
    pass
else:
    _ALGORITHMS["SHA-512-256"] = "sha512_256"

# preference when a server offers several challenges: the stronger hash wins
_STRENGTH: Final[dict[str, int]] = {"md5": 0, "sha1": 1, "sha256": 2, "sha512_256": 3, "sha512": 3}


def _hash_name(algorithm: str) -> str | None:
    """The hashlib name for a challenge's ``algorithm``, or None when unsupported."""
    base = algorithm.upper()
    if base.endswith("-SESS"):
        base = base[: -len("-SESS")]
    return _ALGORITHMS.get(base)


@dataclass(frozen=True)
class DigestChallenge:
    """The parts of a ``WWW-Authenticate: Digest`` challenge a client answers with."""

    realm: str
    nonce: str
    algorithm: str = "MD5"  # as the server spelled it: it is sent back verbatim
    qop: tuple[str, ...] = ()  # offered qop values, lower-case; empty for RFC 2069 servers
    opaque: str | None = None
    stale: bool = False
    domain: tuple[str, ...] = ()
    userhash: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> DigestChallenge:
        """Validate the parameters of one Digest challenge; raise :class:`DigestAuthError`
        for a challenge that cannot be answered."""
        for name in ("realm", "nonce"):
            if name not in params:
                raise DigestAuthError(f"malformed Digest challenge: no {name!r} parameter")
        if not params["nonce"]:
            raise DigestAuthError("malformed Digest challenge: the nonce is empty")
        for name, value in params.items():
            if _CONTROL.search(value):
                raise DigestAuthError(
                    f"malformed Digest challenge: a control character in {name!r}"
                )
        algorithm = params.get("algorithm") or "MD5"
        if _hash_name(algorithm) is None:
            raise DigestAuthError(
                f"Digest challenge uses an unsupported algorithm {algorithm!r} "
                f"(supported: {', '.join(sorted(_ALGORITHMS))} and their -sess variants)"
            )
        qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
        if qop and not {"auth", "auth-int"}.intersection(qop):
            raise DigestAuthError(f"Digest challenge offers no supported qop: {qop!r}")
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            algorithm=algorithm,
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
            domain=tuple(params.get("domain", "").split()),
            userhash=params.get("userhash", "").lower() == "true",
        )

    @property
    def hash_name(self) -> str:
        name = _hash_name(self.algorithm)
        assert name is not None  # checked by from_params
        return name

    @property
    def session(self) -> bool:
        """True for the ``-sess`` algorithms, whose A1 also covers the nonces."""
        return self.algorithm.upper().endswith("-SESS")


def _hex(hash_name: str, data: str | bytes) -> str:
    """H(data) of RFC 7616: the lower-case hex digest of the UTF-8 bytes."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.new(hash_name, data).hexdigest()


def digest_response(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int,
    cnonce: str,
    qop: str | None,
    body: bytes = b"",
) -> str:
    """The ``response`` value for a request (RFC 7616 section 3.4.1).

    ``username`` is the login as typed (the user hash is not used in A1); ``body`` only
    matters for ``qop="auth-int"``.
    """
    h = challenge.hash_name
    ha1 = _hex(h, f"{username}:{challenge.realm}:{password}")
    if challenge.session:
        ha1 = _hex(h, f"{ha1}:{challenge.nonce}:{cnonce}")
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 = f"{a2}:{_hex(h, body)}"
    ha2 = _hex(h, a2)
    if qop is None:  # RFC 2069 compatibility: no qop, nc or cnonce
        return _hex(h, f"{ha1}:{challenge.nonce}:{ha2}")
    return _hex(h, f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")


def _quote(value: str) -> str:
    """A quoted-string: backslash before each backslash and double quote."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _username_param(challenge: DigestChallenge, username: str) -> str:
    """The username parameter: hashed when the server asked for ``userhash``, in the
    RFC 8187 extended form when it is not printable ASCII, quoted otherwise."""
    if challenge.userhash:
        return "username=" + _quote(_hex(challenge.hash_name, f"{username}:{challenge.realm}"))
    if all(" " <= char <= "~" for char in username):
        return "username=" + _quote(username)
    return "username*=UTF-8''" + quote(username, safe="")


def authorization_header(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int,
    cnonce: str,
    qop: str | None,
    body: bytes = b"",
) -> str:
    """The whole ``Authorization: Digest ...`` value answering ``challenge``."""
    response = digest_response(
        challenge,
        username=username,
        password=password,
        method=method,
        uri=uri,
        nc=nc,
        cnonce=cnonce,
        qop=qop,
        body=body,
    )
    parts = [
        _username_param(challenge, username),
        "realm=" + _quote(challenge.realm),
        "uri=" + _quote(uri),
        "algorithm=" + challenge.algorithm,
        "nonce=" + _quote(challenge.nonce),
    ]
    if qop is not None:
        parts += [f"nc={nc:08x}", "cnonce=" + _quote(cnonce), "qop=" + qop]
    elif challenge.session:
        parts.append("cnonce=" + _quote(cnonce))  # a -sess A1 needs it even without qop
    parts.append("response=" + _quote(response))
    if challenge.opaque is not None:
        parts.append("opaque=" + _quote(challenge.opaque))
    if challenge.userhash:
        parts.append("userhash=true")
    return "Digest " + ", ".join(parts)


# ----- the middleware -----

Origin = tuple[str, str, int]


def _origin(url: URL) -> Origin:
    """(scheme, host, port) with the default port filled in, so ``:80`` and no port agree."""
    return (url.scheme.lower(), (url.host or "").lower(), url.port or 0)


def _in_prefix(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or lies below it as a whole path segment."""
    if not path.startswith(prefix):
        return False
    return len(path) == len(prefix) or prefix.endswith("/") or path[len(prefix)] == "/"


def _body_bytes(body: Any) -> bytes | None:
    """The request body as bytes for ``auth-int``, or None when it is a stream. The body is
    a Payload (``b""`` when there is none); one that holds bytes in memory gives them."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    value = getattr(body, "_value", None)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return None


@dataclass
class _Grant:
    """A challenge being answered: its nonce count and the path prefixes it covers on the
    anchor origin (its protection space)."""

    challenge: DigestChallenge
    prefixes: tuple[str, ...]
    nc: int = field(default=0)

    def covers(self, url: URL) -> str | None:
        """The longest prefix covering ``url``'s path, or None outside the space."""
        matches = [p for p in self.prefixes if _in_prefix(url.raw_path or "/", p)]
        return max(matches, key=len) if matches else None


# a 401 body up to this size is read so the connection can be reused for the retry
_DRAIN_LIMIT: Final = 64 * 1024
# how many realms' answered challenges are kept for preemptive use
_MAX_GRANTS: Final = 32


class DigestAuthMiddleware:
    """Answer ``WWW-Authenticate: Digest`` challenges for one login (RFC 7616).

    ``preemptive=True`` (the default) sends the ``Authorization`` header without waiting for
    a 401 once a challenge from the same protection space has been answered successfully.
    The credentials are pinned to the origin of the first request the middleware handles;
    requests to other origins pass through untouched. Raises :class:`DigestAuthError` (a
    :class:`~cyhttp.ClientError`) for a Digest challenge it cannot answer.
    """

    def __init__(self, login: str, password: str, *, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in the login (it separates the fields of A1)')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._origin: Origin | None = None
        # the answered challenges, one per realm, reused preemptively
        self._grants: dict[str, _Grant] = {}

    async def __call__(self, request: ClientRequest, handler: _Handler) -> ClientResponse:
        """Send ``request``; on a Digest 401 from the anchor origin, answer and resend."""
        origin = _origin(request.url)
        if self._origin is None:
            self._origin = origin
        elif origin != self._origin:
            return await handler(request)  # another origin: no credentials, ever
        grant = self._grant_for(request.url) if self._preemptive else None
        if grant is not None and not self._try_sign(request, grant):
            grant = None
        response = await handler(request)
        fresh: _Grant | None = None
        for _ in range(2):  # a fresh answer, then one more only for a stale nonce
            challenge = await self._challenge_in(response)
            if challenge is None or (fresh is not None and not challenge.stale):
                break
            if not _replayable(request):
                break  # the body cannot be sent again: the caller gets the 401
            fresh = grant = _Grant(challenge, self._prefixes(challenge, request.url))
            await _drain(response)
            self._sign(request, fresh)
            response = await handler(request)
        self._remember(grant, fresh, response)
        return response

    # ----- the steps -----

    def _grant_for(self, url: URL) -> _Grant | None:
        """The answered challenge whose protection space covers ``url`` most narrowly."""
        best: tuple[int, _Grant] | None = None
        for grant in self._grants.values():
            prefix = grant.covers(url)
            if prefix is not None and (best is None or len(prefix) > best[0]):
                best = (len(prefix), grant)
        return best[1] if best else None

    def _prefixes(self, challenge: DigestChallenge, url: URL) -> tuple[str, ...]:
        """The protection space on the anchor origin: the ``domain`` URIs that resolve to
        it (URIs elsewhere are ignored: the credentials stay on one origin), or the whole
        origin when the challenge names no domain."""
        if not challenge.domain:
            return ("/",)
        prefixes = []
        for uri in challenge.domain:
            try:
                target = url.join(URL(uri))
            except ValueError:
                continue
            if _origin(target) == self._origin:
                prefixes.append(target.raw_path or "/")
        return tuple(prefixes)

    def _try_sign(self, request: ClientRequest, grant: _Grant) -> bool:
        """Sign preemptively; a request this grant cannot answer (a streamed body for an
        ``auth-int``-only server) is sent unsigned and waits for the challenge instead."""
        try:
            self._sign(request, grant)
        except DigestAuthError:
            return False
        return True

    def _sign(self, request: ClientRequest, grant: _Grant) -> None:
        """Put an ``Authorization`` header answering ``grant`` on the request."""
        challenge = grant.challenge
        body = _body_bytes(request.body)
        qop = _choose_qop(challenge, body is not None)
        grant.nc += 1
        request.headers[hdrs.AUTHORIZATION] = authorization_header(
            challenge,
            username=self._login,
            password=self._password,
            method=request.method.upper(),
            uri=request.url.raw_path_qs or "/",
            nc=grant.nc,
            cnonce=secrets.token_hex(16),
            qop=qop,
            body=body or b"",
        )

    async def _challenge_in(self, response: ClientResponse) -> DigestChallenge | None:
        """The Digest challenge of a 401 response, None for any other response. A Digest
        challenge that cannot be answered releases the response and raises."""
        if response.status != 401:
            return None
        try:
            return _strongest(response.headers.getall(hdrs.WWW_AUTHENTICATE, ()))
        except DigestAuthError:
            response.release()
            raise

    def _remember(
        self, used: _Grant | None, fresh: _Grant | None, response: ClientResponse
    ) -> None:
        """Keep a challenge that worked for preemptive use, forget one that was refused,
        and move to the server's ``nextnonce`` when it announces one."""
        if used is None:
            return
        if response.status == 401:
            if fresh is not None:
                self._grants.pop(fresh.challenge.realm, None)
            return
        next_nonce = _next_nonce(response)
        if next_nonce is not None and next_nonce != used.challenge.nonce:
            used.challenge = replace(used.challenge, nonce=next_nonce)
            used.nc = 0
        if fresh is not None and self._preemptive:
            realm = fresh.challenge.realm
            self._grants.pop(realm, None)
            if len(self._grants) >= _MAX_GRANTS:  # a server inventing realms: forget the oldest
                self._grants.pop(next(iter(self._grants)))
            self._grants[realm] = fresh


def _choose_qop(challenge: DigestChallenge, body_known: bool) -> str | None:
    """``auth`` when offered (the widely implemented one), else ``auth-int``, which needs
    the body in memory; None for a server that offers no qop at all."""
    if not challenge.qop:
        return None
    if "auth" in challenge.qop:
        return "auth"
    if not body_known:
        raise DigestAuthError(
            "the Digest challenge only offers qop=auth-int, which needs the request body "
            "in memory (bytes), not a stream"
        )
    return "auth-int"


def _strongest(values: Iterable[str]) -> DigestChallenge | None:
    """The answerable Digest challenge with the strongest hash among the header values;
    None when no value names the Digest scheme."""
    found: list[DigestChallenge] = []
    error: DigestAuthError | None = None
    for value in values:
        try:
            challenges = parse_challenges(value)
        except ValueError as exc:
            if _DIGEST_SCHEME.search(value):
                error = error or DigestAuthError(f"malformed Digest challenge: {exc}")
            continue
        for scheme, params in challenges:
            if scheme.lower() != "digest":
                continue
            try:
                found.append(DigestChallenge.from_params(params))
            except DigestAuthError as exc:
                error = error or exc
    if found:
        return max(found, key=lambda c: _STRENGTH[c.hash_name])
    if error is not None:
        raise error
    return None


def _next_nonce(response: ClientResponse) -> str | None:
    """The ``nextnonce`` of an ``Authentication-Info`` header (RFC 7616 section 3.5)."""
    info = response.headers.get(hdrs.AUTHENTICATION_INFO)
    if not info:
        return None
    try:
        value = _parse_params(info).get("nextnonce")
    except ValueError:
        return None
    return value if value and not _CONTROL.search(value) else None


def _replayable(request: ClientRequest) -> bool:
    """Whether the request's body can be sent a second time."""
    check = getattr(request, "is_replayable", None)
    return bool(check()) if check is not None else True


async def _drain(response: ClientResponse) -> None:
    """Finish with a 401 before the retry: read a small body so the connection goes back
    to the pool, then release it."""
    try:
        length = response.headers.get(hdrs.CONTENT_LENGTH)
        if length is not None and length.isdigit() and int(length) <= _DRAIN_LIMIT:
            await response.read()
    except (ClientError, TimeoutError):
        pass  # the retry simply opens another connection
    finally:
        response.release()
