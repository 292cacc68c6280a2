"""DigestAuthMiddleware (RFC 7616).

Three layers: the arithmetic against the RFC's worked example (section 3.9.1), the
middleware's state machine driven by a fake handler, and the whole thing over real sockets
against an aiohttp.web server that checks every digest with its own code (``Verifier``).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import io
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import cyhttp
from cyhttp import ClientError, ClientRequest
from cyhttp.client_middleware_digest_auth import (
    DigestAuthError,
    DigestAuthMiddleware,
    DigestChallenge,
    _body_bytes,
    authorization_header,
    digest_response,
    parse_challenges,
)

from .servers import app_server

# ----- an independent verifier (the server side of RFC 7616) -----

_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
_FIELD = re.compile(r'([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')


def parse_authorization(header: str) -> dict[str, str]:
    """The fields of an ``Authorization: Digest`` header (test-side parser)."""
    assert header.startswith("Digest "), header
    fields = {}
    for name, quoted, bare in _FIELD.findall(header[len("Digest ") :]):
        assert name not in fields, f"{name} sent twice"
        fields[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted or not bare else bare
    return fields


@dataclass
class Verifier:
    """Issues challenges and checks answers, hashing with hashlib directly."""

    algorithm: str = "MD5"
    qop: str | None = "auth"
    realm: str = "cyhttp@127.0.0.1"
    users: dict[str, str] = field(default_factory=lambda: {"alice": "wonder land"})
    domain: str | None = None
    opaque: str = "0paque/Value=="
    userhash: bool = False
    nonces: dict[str, int] = field(default_factory=dict)  # nonce -> highest nc seen
    stale: set[str] = field(default_factory=set)

    def issue(self, nonce: str | None = None) -> str:
        nonce = nonce or secrets.token_urlsafe(18)
        self.nonces[nonce] = 0
        return nonce

    def challenge(self, *, stale: bool = False) -> str:
        parts = [
            f'realm="{self.realm}"',
            f'nonce="{self.issue()}"',
            f"algorithm={self.algorithm}",
            f'opaque="{self.opaque}"',
        ]
        if self.qop:
            parts.append(f'qop="{self.qop}"')
        if self.domain:
            parts.append(f'domain="{self.domain}"')
        if self.userhash:
            parts.append("userhash=true")
        if stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)

    def expire_all(self) -> None:
        self.stale.update(self.nonces)

    def h(self, data: str | bytes) -> str:
        name = _HASHES[self.algorithm.upper().removesuffix("-SESS")]
        return hashlib.new(name, data.encode() if isinstance(data, str) else data).hexdigest()

    def user_of(self, f: dict[str, str]) -> str | None:
        if self.userhash:
            assert f.get("userhash") == "true"
            by_hash = {self.h(f"{u}:{self.realm}"): u for u in self.users}
            return by_hash.get(f["username"])
        if "username*" in f:
            charset, _, encoded = f["username*"].partition("''")
            assert charset.upper() == "UTF-8"
            return unquote(encoded)
        return f["username"]

    def check(self, method: str, uri: str, header: str | None, body: bytes = b"") -> str:
        """'ok', 'stale' (right answer, expired nonce), 'missing' or 'bad'."""
        if not header:
            return "missing"
        f = parse_authorization(header)
        user = self.user_of(f)
        nonce = f.get("nonce", "")
        if (
            user not in self.users
            or f.get("realm") != self.realm
            or f.get("uri") != uri
            or f.get("opaque") != self.opaque
            or f.get("algorithm") != self.algorithm
            or nonce not in self.nonces
        ):
            return "bad"
        ha1 = self.h(f"{user}:{self.realm}:{self.users[user]}")
        if self.algorithm.upper().endswith("-SESS"):
            ha1 = self.h(f"{ha1}:{nonce}:{f['cnonce']}")
        a2 = f"{method}:{uri}"
        if f.get("qop") == "auth-int":
            a2 += ":" + self.h(body)
        if self.qop is None:
            assert "nc" not in f and "qop" not in f
            assert ("cnonce" in f) is self.algorithm.upper().endswith("-SESS")
            expected = self.h(f"{ha1}:{nonce}:{self.h(a2)}")
        else:
            assert f["qop"] in self.qop.replace(" ", "").split(",")
            nc = int(f["nc"], 16)
            assert len(f["nc"]) == 8
            if nc <= self.nonces[nonce]:
                return "bad"  # a replayed nonce count
            self.nonces[nonce] = nc
            expected = self.h(f"{ha1}:{nonce}:{f['nc']}:{f['cnonce']}:{f['qop']}:{self.h(a2)}")
        if f.get("response") != expected:
            return "bad"
        return "stale" if nonce in self.stale else "ok"


# ----- (a) the arithmetic against RFC 7616 section 3.9.1 -----

RFC_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC_ARGS: dict[str, Any] = dict(
    username="Mufasa",
    password="Circle of Life",
    method="GET",
    uri="/dir/index.html",
    nc=1,
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    qop="auth",
)


def rfc_challenge(algorithm: str = "MD5") -> DigestChallenge:
    [(scheme, params)] = parse_challenges(RFC_CHALLENGE.replace("MD5", algorithm))
    assert scheme == "Digest"
    return DigestChallenge.from_params(params)


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_worked_example(algorithm: str, expected: str) -> None:
    challenge = rfc_challenge(algorithm)
    assert challenge.realm == "http-auth@example.org"
    assert challenge.qop == ("auth", "auth-int")
    assert digest_response(challenge, **RFC_ARGS) == expected
    header = authorization_header(challenge, **RFC_ARGS)
    assert parse_authorization(header) == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "uri": "/dir/index.html",
        "algorithm": algorithm,
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "nc": "00000001",
        "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "qop": "auth",
        "response": expected,
        "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    }
    # the unquoted fields are sent bare, as RFC 7616 section 3.4 writes them
    assert f"algorithm={algorithm}," in header and "nc=00000001," in header
    assert "qop=auth," in header


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"])
@pytest.mark.parametrize("qop", [None, "auth", "auth-int"])
def test_every_algorithm_agrees_with_the_verifier(algorithm: str, qop: str | None) -> None:
    verifier = Verifier(algorithm=algorithm, qop=qop)
    [(_, params)] = parse_challenges(verifier.challenge())
    challenge = DigestChallenge.from_params(params)
    header = authorization_header(
        challenge,
        username="alice",
        password="wonder land",
        method="POST",
        uri="/a%2Fb?x=1",
        nc=1,
        cnonce="c" * 32,
        qop=qop,
        body=b"payload",
    )
    assert verifier.check("POST", "/a%2Fb?x=1", header, b"payload") == "ok"
    if qop == "auth-int":  # the body is covered
        verifier.nonces[challenge.nonce] = 0
        assert verifier.check("POST", "/a%2Fb?x=1", header, b"tampered") == "bad"


def test_session_variant_differs_from_plain() -> None:
    plain = digest_response(rfc_challenge("MD5"), **RFC_ARGS)
    sess = digest_response(rfc_challenge("MD5-sess"), **RFC_ARGS)
    assert plain != sess and len(sess) == 32


def test_userhash_and_non_ascii_username() -> None:
    challenge = replace(rfc_challenge("SHA-256"), userhash=True)
    header = authorization_header(challenge, **{**RFC_ARGS, "username": "Jäsøn Doe"})
    hashed = hashlib.sha256("Jäsøn Doe:http-auth@example.org".encode()).hexdigest()
    assert parse_authorization(header)["username"] == hashed
    assert header.endswith("userhash=true")
    plain = authorization_header(rfc_challenge(), **{**RFC_ARGS, "username": "Jäsøn Doe"})
    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe," in plain
    assert 'username="' not in plain


def test_quotes_in_values_are_escaped() -> None:
    challenge = replace(rfc_challenge(), realm='the "realm" \\ here')
    header = authorization_header(challenge, **{**RFC_ARGS, "username": 'a"b'})
    assert 'realm="the \\"realm\\" \\\\ here"' in header
    fields = parse_authorization(header)
    assert fields["username"] == 'a"b' and fields["realm"] == 'the "realm" \\ here'


def test_parse_challenges_grammar() -> None:
    value = (
        'Basic realm="b", Newauth abc/def+g==, Digest realm="a\\"q", nonce=xyz,'
        ' qop="auth,auth-int", stale=TRUE'
    )
    assert parse_challenges(value) == [
        ("Basic", {"realm": "b"}),
        ("Newauth", {"": "abc/def+g=="}),
        ("Digest", {"realm": 'a"q', "nonce": "xyz", "qop": "auth,auth-int", "stale": "TRUE"}),
    ]
    assert DigestChallenge.from_params(parse_challenges(value)[2][1]).stale is True
    assert parse_challenges("") == []


@pytest.mark.parametrize(
    "value",
    [
        'Digest realm="unterminated',
        'realm="x", Digest nonce="y"',  # a parameter before any scheme
        'Digest realm="a", realm="b", nonce="n"',  # a repeated parameter
        "Digest realm=, nonce=n",  # a value is missing
        'Digest realm="a" @',
    ],
)
def test_parse_challenges_rejects_bad_grammar(value: str) -> None:
    with pytest.raises(ValueError):
        parse_challenges(value)


# ----- (b) the middleware with a fake handler -----


class StubResponse:
    """What the middleware reads of a ClientResponse: status, headers, read, release."""

    def __init__(self, status: int, headers: dict[str, str] | list[tuple[str, str]]) -> None:
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers))
        self.released = False
        self.was_read = False

    async def read(self) -> bytes:
        self.was_read = True
        return b"body"

    def release(self) -> None:
        self.released = True


class _Sink:
    """Where a fake send writes a streamed body (and forgets it)."""

    async def write(self, chunk: Any) -> None:
        pass

    async def drain(self) -> None:
        pass

    async def write_eof(self, chunk: bytes = b"") -> None:
        pass


@dataclass
class FakeServer:
    """A handler answering with a Verifier; records what each attempt carried."""

    verifier: Verifier = field(default_factory=Verifier)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (url, Authorization)
    responses: list[StubResponse] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    unauthenticated: Callable[[], StubResponse] | None = None

    async def __call__(self, request: ClientRequest) -> StubResponse:
        auth = request.headers.get("Authorization")
        self.seen.append((str(request.url), auth))
        body = _body_bytes(request.body)
        if body is None:  # a stream: read it, as sending it would
            await request.body.write(_Sink())
            body = b""
        verdict = self.verifier.check(request.method, request.url.raw_path_qs, auth, body)
        if verdict == "ok":
            response = StubResponse(200, self.extra_headers)
        elif verdict == "missing" and self.unauthenticated is not None:
            response = self.unauthenticated()
        else:
            challenge = self.verifier.challenge(stale=verdict == "stale")
            response = StubResponse(401, {"WWW-Authenticate": challenge, "Content-Length": "4"})
        self.responses.append(response)
        return response


def make_request(url: str, method: str = "GET", data: Any = None) -> ClientRequest:
    return ClientRequest(method, URL(url), headers=CIMultiDict(), data=data)


async def send(mw: DigestAuthMiddleware, server: Any, url: str, **kw: Any) -> Any:
    return await mw(make_request(url, **kw), server)


def middleware(**kw: Any) -> DigestAuthMiddleware:
    return DigestAuthMiddleware("alice", "wonder land", **kw)


async def test_challenge_then_retry() -> None:
    server, mw = FakeServer(), middleware()
    response = await send(mw, server, "http://a.test/secret?q=1")
    assert response.status == 200
    assert [auth is None for _, auth in server.seen] == [True, False]
    assert parse_authorization(server.seen[1][1] or "")["nc"] == "00000001"
    # the 401 was read (small body: the connection can be reused) and released
    first = server.responses[0]
    assert first.was_read and first.released
    assert not server.responses[1].released  # the caller's response is untouched


async def test_a_response_without_challenge_passes_through() -> None:
    ok = StubResponse(200, {})
    basic = StubResponse(401, {"WWW-Authenticate": 'Basic realm="x"'})
    for answer in (ok, basic):
        calls: list[str | None] = []

        async def handler(
            request: ClientRequest,
            answer: StubResponse = answer,
            calls: list[str | None] = calls,
        ) -> StubResponse:
            calls.append(request.headers.get("Authorization"))
            return answer

        assert await middleware()(make_request("http://a.test/"), handler) is answer
        assert calls == [None] and not answer.released


async def test_wrong_password_is_not_retried_forever() -> None:
    server = FakeServer()
    mw = DigestAuthMiddleware("alice", "wrong")
    response = await send(mw, server, "http://a.test/")
    assert response.status == 401 and len(server.seen) == 2
    # nothing was learnt: the next request is not signed up front
    await send(mw, server, "http://a.test/again")
    assert server.seen[2][1] is None and len(server.seen) == 4


async def test_preemptive_reuse_counts_the_nonce() -> None:
    server, mw = FakeServer(), middleware()
    await send(mw, server, "http://a.test/one")
    for i, path in enumerate(["/two", "/three/deeper", "/"], start=2):
        response = await send(mw, server, "http://a.test" + path)
        assert response.status == 200
        fields = parse_authorization(server.seen[-1][1] or "")
        assert fields["nc"] == f"{i:08x}" and fields["uri"] == path
    assert len(server.seen) == 5  # 2 for the first request, then 1 each


async def test_preemptive_off_waits_for_every_challenge() -> None:
    server, mw = FakeServer(), middleware(preemptive=False)
    await send(mw, server, "http://a.test/one")
    response = await send(mw, server, "http://a.test/two")
    assert response.status == 200 and [a is None for _, a in server.seen] == [
        True,
        False,
        True,
        False,
    ]


async def test_concurrent_preemptive_requests_use_distinct_counts() -> None:
    server, mw = FakeServer(), middleware()
    await send(mw, server, "http://a.test/")
    responses = await asyncio.gather(*(send(mw, server, f"http://a.test/{i}") for i in range(5)))
    assert all(r.status == 200 for r in responses)
    counts = [parse_authorization(a or "")["nc"] for _, a in server.seen[2:]]
    assert sorted(counts) == [f"{i:08x}" for i in range(2, 7)]


async def test_stale_nonce_gets_a_fresh_attempt() -> None:
    server, mw = FakeServer(), middleware()
    await send(mw, server, "http://a.test/")
    old_nonce = parse_authorization(server.seen[-1][1] or "")["nonce"]
    server.verifier.expire_all()
    response = await send(mw, server, "http://a.test/later")
    assert response.status == 200 and len(server.seen) == 4
    assert "stale=true" in server.responses[2].headers["WWW-Authenticate"]
    retry = parse_authorization(server.seen[3][1] or "")
    assert retry["nonce"] != old_nonce and retry["nc"] == "00000001"
    # and the new nonce is the one reused afterwards
    await send(mw, server, "http://a.test/after")
    reused = parse_authorization(server.seen[4][1] or "")
    assert reused["nonce"] == retry["nonce"] and reused["nc"] == "00000002"


async def test_stale_after_the_fresh_answer_is_retried_once_more() -> None:
    class ExpiringVerifier(Verifier):
        """Every nonce is stale when first answered, fine the second time round."""

        def challenge(self, *, stale: bool = False) -> str:
            text = super().challenge(stale=stale)
            if len(self.nonces) == 1:
                self.expire_all()
            return text

    server, mw = FakeServer(verifier=ExpiringVerifier()), middleware()
    response = await send(mw, server, "http://a.test/")
    assert response.status == 200 and len(server.seen) == 3


async def test_a_server_always_answering_stale_is_bounded() -> None:
    class AlwaysStale(Verifier):
        def check(self, *args: Any) -> str:
            verdict = super().check(*args)
            return "stale" if verdict == "ok" else verdict

    server, mw = FakeServer(verifier=AlwaysStale()), middleware()
    response = await send(mw, server, "http://a.test/")
    assert response.status == 401 and len(server.seen) == 3


@pytest.mark.parametrize(
    "other",
    [
        "http://b.test/",  # another host
        "https://a.test/",  # another scheme
        "http://a.test:8080/",  # another port
        "http://a.test.evil/",
    ],
)
async def test_another_origin_gets_nothing(other: str) -> None:
    server, mw = FakeServer(), middleware()
    await send(mw, server, "http://a.test:80/")  # the anchor; :80 is the same origin
    response = await send(mw, server, other)
    # not signed up front, and its Digest 401 is not answered either
    assert response.status == 401
    assert server.seen[2:] == [(other, None)]
    assert not server.responses[2].released


async def test_the_default_port_is_the_same_origin() -> None:
    server, mw = FakeServer(), middleware()
    await send(mw, server, "http://a.test/")
    await send(mw, server, "http://a.test:80/x")
    assert len(server.seen) == 3 and server.seen[2][1] is not None


async def test_domain_limits_the_preemptive_space() -> None:
    verifier = Verifier(domain="/api/ /v2 http://b.test/")
    server, mw = FakeServer(verifier=verifier), middleware()
    await send(mw, server, "http://a.test/api/login")
    for path, signed in [
        ("/api/items", True),
        ("/v2", True),
        ("/v2/x", True),
        ("/v20", False),
        ("/other", False),
    ]:
        before = len(server.seen)
        await send(mw, server, "http://a.test" + path)
        assert (server.seen[before][1] is not None) is signed, path
    # a domain on another origin does not widen where the credentials go
    before = len(server.seen)
    await send(mw, server, "http://b.test/")
    assert server.seen[before:] == [("http://b.test/", None)]


async def test_a_server_inventing_realms_does_not_grow_memory() -> None:
    server, mw = FakeServer(), middleware()
    for i in range(40):
        server.verifier.realm = f"realm {i}"
        assert (await send(mw, server, f"http://a.test/{i}")).status == 200
    assert len(mw._grants) == 32 and "realm 39" in mw._grants and "realm 0" not in mw._grants


async def test_next_nonce_from_authentication_info() -> None:
    server, mw = FakeServer(), middleware()
    server.extra_headers = {"Authentication-Info": 'nextnonce="n-2", qop=auth'}
    server.verifier.issue("n-2")
    await send(mw, server, "http://a.test/")
    server.extra_headers = {}
    await send(mw, server, "http://a.test/next")
    fields = parse_authorization(server.seen[-1][1] or "")
    assert fields["nonce"] == "n-2" and fields["nc"] == "00000001"
    assert len(server.seen) == 3


async def test_the_strongest_of_several_challenges_is_answered() -> None:
    sha, md5 = Verifier(algorithm="SHA-256"), Verifier(algorithm="MD5")
    seen: list[str | None] = []

    async def handler(request: ClientRequest) -> StubResponse:
        auth = request.headers.get("Authorization")
        seen.append(auth)
        if auth is None:
            return StubResponse(
                401,
                [
                    ("WWW-Authenticate", 'Basic realm="x", ' + md5.challenge()),
                    ("WWW-Authenticate", sha.challenge()),
                    ("WWW-Authenticate", 'Digest realm="x", nonce="y", algorithm=XYZ'),
                ],
            )
        return StubResponse(200 if sha.check("GET", "/", auth) == "ok" else 401, {})

    response = await middleware()(make_request("http://a.test/"), handler)
    assert response.status == 200
    assert parse_authorization(seen[1] or "")["algorithm"] == "SHA-256"


async def test_auth_int_covers_a_bytes_body() -> None:
    server, mw = FakeServer(verifier=Verifier(qop="auth-int")), middleware()
    response = await send(mw, server, "http://a.test/up", method="POST", data=b"the body")
    assert response.status == 200
    assert parse_authorization(server.seen[1][1] or "")["qop"] == "auth-int"


async def test_auth_int_only_with_a_streamed_body_is_a_clear_error() -> None:
    server, mw = FakeServer(verifier=Verifier(qop="auth-int")), middleware()
    with pytest.raises(DigestAuthError, match="auth-int"):
        await send(mw, server, "http://a.test/up", method="POST", data=io.BytesIO(b"x"))
    assert server.responses[0].released


async def test_a_body_that_cannot_be_replayed_gets_the_401() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"once"

    server, mw = FakeServer(), middleware()
    response = await send(mw, server, "http://a.test/up", method="POST", data=stream())
    assert response.status == 401 and len(server.seen) == 1


def test_rfc2069_server_without_qop() -> None:
    verifier = Verifier(qop=None)
    [(_, params)] = parse_challenges(verifier.challenge())
    header = authorization_header(
        DigestChallenge.from_params(params),
        username="alice",
        password="wonder land",
        method="GET",
        uri="/",
        nc=1,
        cnonce="ignored",
        qop=None,
    )
    assert verifier.check("GET", "/", header) == "ok"
    assert "cnonce" not in header and "nc=" not in header


@pytest.mark.parametrize(
    ("challenge", "message"),
    [
        ('Digest realm="r"', "nonce"),
        ('Digest nonce="n"', "realm"),
        ('Digest realm="r", nonce=""', "nonce is empty"),
        ("Digest", "realm"),
        ('Digest realm="r", nonce="n", algorithm=SHA3-999', "unsupported algorithm"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "qop"),
        ('Digest realm="r, nonce="n"', "malformed"),
        ('Digest realm="r", nonce="n", nonce="m"', "twice"),
    ],
)
async def test_malformed_challenge_is_a_client_error(challenge: str, message: str) -> None:
    answer = StubResponse(401, {"WWW-Authenticate": challenge})

    async def handler(request: ClientRequest) -> StubResponse:
        return answer

    with pytest.raises(DigestAuthError, match=message) as info:
        await middleware()(make_request("http://a.test/"), handler)
    assert isinstance(info.value, ClientError)
    assert answer.released  # the connection is not leaked


def test_login_validation() -> None:
    with pytest.raises(ValueError, match=":"):
        DigestAuthMiddleware("a:b", "pw")
    with pytest.raises(ValueError):
        DigestAuthMiddleware(None, "pw")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DigestAuthMiddleware("a", None)  # type: ignore[arg-type]


def test_exported_like_aiohttp() -> None:
    assert cyhttp.DigestAuthMiddleware is DigestAuthMiddleware
    assert "DigestAuthMiddleware" in cyhttp.__all__
    params = inspect.signature(DigestAuthMiddleware).parameters
    assert list(params) == ["login", "password", "preemptive"]
    assert params["preemptive"].default is True


# ----- (c) over real sockets -----


def digest_app(verifier: Verifier, log: list[tuple[str, str]], **routes: str) -> web.Application:
    """An app that demands Digest on every path; ``routes`` maps a path to a redirect
    target sent once authenticated."""

    async def protected(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        auth = request.headers.get("Authorization")
        verdict = verifier.check(request.method, request.raw_path, auth, body)
        log.append((request.raw_path, verdict))
        if verdict != "ok":
            return web.Response(
                status=401,
                text="authenticate first",
                headers={"WWW-Authenticate": verifier.challenge(stale=verdict == "stale")},
            )
        if request.path in routes:
            raise web.HTTPFound(routes[request.path])
        return web.Response(text=f"hello {request.method} {request.raw_path} {len(body)}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", protected)
    return app


def origin_log_app(log: list[str | None]) -> web.Application:
    """Another origin: records the Authorization it got and always challenges."""

    async def handler(request: web.Request) -> web.Response:
        log.append(request.headers.get("Authorization"))
        challenge = Verifier().challenge()
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def run_scenario(
    session: Any, verifier: Verifier, get: Callable[..., Awaitable[tuple[int, str]]]
) -> None:
    """The shared story: challenge, preemptive reuse, stale nonce, upload, redirect away."""
    log: list[tuple[str, str]] = []
    elsewhere: list[str | None] = []
    async with app_server(origin_log_app(elsewhere)) as other:
        app = digest_app(verifier, log, **{"/away": str(other.url("/landing"))})
        async with app_server(app) as server:
            # the digest covers the request target as sent, escapes included
            assert await get(session, "GET", server.url("/dir/a%20b.html?q=%26")) == (
                200,
                "hello GET /dir/a%20b.html?q=%26 0",
            )
            assert [v for _, v in log] == ["missing", "ok"]
            assert server.connections == 1  # the 401 was drained, the connection reused

            assert (await get(session, "GET", server.url("/other")))[0] == 200
            assert [v for _, v in log[2:]] == ["ok"]  # preemptive: no round trip

            verifier.expire_all()
            assert (await get(session, "POST", server.url("/up"), data=b"x" * 1000)) == (
                200,
                "hello POST /up 1000",
            )
            assert [v for _, v in log[3:]] == ["stale", "ok"]

            status, _ = await get(session, "GET", server.url("/away"))
            assert status == 401  # the other origin's challenge is not answered
            assert elsewhere == [None]  # and it never saw any Authorization


ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_real_server_through_aiohttp_session(algorithm: str) -> None:
    """The middleware follows aiohttp's middleware contract: it runs unchanged in
    aiohttp's own session (this checks the verifier and the middleware together)."""

    async def get(session: Any, method: str, url: URL, **kw: Any) -> tuple[int, str]:
        async with session.request(method, url, **kw) as resp:
            return resp.status, await resp.text()

    mw = DigestAuthMiddleware("alice", "wonder land")
    async with aiohttp.ClientSession(middlewares=(mw,)) as session:
        await asyncio.wait_for(run_scenario(session, Verifier(algorithm=algorithm), get), 20)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_real_server_through_cyhttp_session(algorithm: str) -> None:
    async def get(session: Any, method: str, url: URL, **kw: Any) -> tuple[int, str]:
        async with session.request(method, url, **kw) as resp:
            return resp.status, await resp.text()

    mw = cyhttp.DigestAuthMiddleware("alice", "wonder land")
    async with cyhttp.ClientSession(middlewares=(mw,)) as session:
        await asyncio.wait_for(run_scenario(session, Verifier(algorithm=algorithm), get), 20)


async def test_real_server_per_request_middleware_and_auth_int() -> None:
    verifier = Verifier(qop="auth-int", algorithm="SHA-256")
    log: list[tuple[str, str]] = []
    async with app_server(digest_app(verifier, log)) as server:
        mw = cyhttp.DigestAuthMiddleware("alice", "wonder land")
        async with cyhttp.ClientSession() as session:
            async with session.post(
                server.url("/upload"), data=b"integrity", middlewares=(mw,)
            ) as resp:
                assert resp.status == 200
                assert await resp.text() == "hello POST /upload 9"
            # without the middleware the same session gets the challenge
            async with session.get(server.url("/upload")) as resp:
                assert resp.status == 401
    assert [v for _, v in log] == ["missing", "ok", "missing"]
