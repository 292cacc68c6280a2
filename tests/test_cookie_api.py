"""aiohttp 3.14's cookie-jar interface: the views, treat_as_secure_origin, DummyCookieJar,
AbstractCookieJar for custom jars, and the per-request cookie merge the session uses.

Where aiohttp 3.14 and cyhttp agree on a behaviour, the test asks aiohttp itself (its jar
needs a running loop, hence the ``async`` tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from types import MappingProxyType
from typing import Any

import aiohttp
import aiohttp.cookiejar
import pytest
from yarl import URL

import cyhttp
from cyhttp.abc import AbstractCookieJar
from cyhttp.cookiejar import CookieJar, DummyCookieJar, request_cookie_header

from .test_cookiejar import header, set_cookies

HEADERS = [
    "host=1",
    "dom=2; Domain=example.com; Path=/",
    "deep=3; Path=/a/",
    "sec=4; Secure",
]


def fill(jar: Any) -> None:
    jar.update_cookies_from_headers(HEADERS, URL("https://www.example.com/a/b"))
    jar.update_cookies({"shared": "5"})


def view(jar: Any) -> dict[tuple[str, str], list[tuple[str, str, str, str]]]:
    """``jar.cookies`` as plain data: key -> [(name, coded value, domain, path)]."""
    return {
        key: sorted((m.key, m.coded_value, m["domain"], m["path"]) for m in cookie.values())
        for key, cookie in jar.cookies.items()
    }


# ------------------------------------------------------------------------------- views


async def test_cookies_view_is_aiohttps() -> None:
    ours, theirs = CookieJar(), aiohttp.CookieJar()
    fill(ours)
    fill(theirs)
    assert isinstance(ours.cookies, MappingProxyType)
    assert all(isinstance(cookie, SimpleCookie) for cookie in ours.cookies.values())
    assert view(ours) == view(theirs)
    assert set(ours.cookies) == {
        ("www.example.com", "/a"),
        ("example.com", ""),
        ("www.example.com", "/a/"[:-1]),
        ("", ""),
    }
    with pytest.raises(TypeError):
        ours.cookies[("x", "")] = SimpleCookie()  # type: ignore[index]


async def test_host_only_cookies_is_aiohttps() -> None:
    ours, theirs = CookieJar(), aiohttp.CookieJar()
    fill(ours)
    fill(theirs)
    assert isinstance(ours.host_only_cookies, frozenset)
    assert ours.host_only_cookies == theirs.host_only_cookies
    assert ("www.example.com", "/a", "host") in ours.host_only_cookies
    assert not any(name in ("dom", "shared") for _, _, name in ours.host_only_cookies)


def test_len_and_iter_give_stored_morsels() -> None:
    jar = CookieJar()
    fill(jar)
    assert len(jar) == 5
    morsels = list(jar)
    assert all(isinstance(m, Morsel) for m in morsels)
    assert sorted(m.key for m in morsels) == ["deep", "dom", "host", "sec", "shared"]
    assert {m.key: m["secure"] for m in morsels}["sec"] is True


def test_filter_cookies_shape() -> None:
    """A SimpleCookie (so a BaseCookie) keyed by name, bare Morsels, a str URL accepted."""
    jar = CookieJar()
    fill(jar)
    got = jar.filter_cookies(URL("https://www.example.com/a/b"))
    assert isinstance(got, SimpleCookie) and isinstance(got, BaseCookie)
    assert list(got) == ["deep", "host", "sec", "dom", "shared"]  # RFC 6265 §5.4 order
    assert all(m["domain"] == "" and m["path"] == "" for m in got.values())
    assert jar.filter_cookies("https://www.example.com/a/b") == got
    assert list(jar.filter_cookies()) == ["shared"]  # no URL: the shared cookies


def test_clear_with_predicate_and_clear_domain() -> None:
    jar = CookieJar()
    fill(jar)
    jar.clear(lambda morsel: morsel["secure"] is True)
    assert "sec" not in {m.key for m in jar}
    jar.clear_domain("example.com")
    assert [m.key for m in jar] == ["shared"]
    jar.clear()
    assert len(jar) == 0


# ------------------------------------------------------------- treat_as_secure_origin


@pytest.mark.parametrize(
    "origins",
    [
        "http://localhost:8080",
        URL("http://localhost:8080/some/path"),
        ["http://localhost:8080", URL("http://other.test")],
        (URL("http://localhost:8080"),),
    ],
    ids=["str", "url", "list", "tuple"],
)
async def test_treat_as_secure_origin(origins: Any) -> None:
    """Listed origins set and receive Secure cookies over plain http; others do not."""
    jar = CookieJar(treat_as_secure_origin=origins)
    assert (
        jar.treat_as_secure_origin
        == aiohttp.CookieJar(treat_as_secure_origin=origins).treat_as_secure_origin
    )
    assert URL("http://localhost:8080") in jar.treat_as_secure_origin
    set_cookies(jar, "http://localhost:8080/", "s=1; Secure", "p=2")
    set_cookies(jar, "http://localhost:9090/", "t=1; Secure")  # not listed: refused
    assert header(jar, "http://localhost:8080/") == "s=1; p=2"
    assert header(jar, "http://localhost:9090/") == "p=2"
    jar.update_cookies({"shared_secure": _secure_morsel()})
    assert header(jar, "http://localhost:8080/x") == "s=1; p=2; shared_secure=1"
    assert header(jar, "http://example.com/") is None


def _secure_morsel() -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    morsel.set("shared_secure", "1", "1")
    morsel["secure"] = True
    return morsel


def test_treat_as_secure_origin_default_and_errors() -> None:
    assert CookieJar().treat_as_secure_origin == frozenset()
    assert CookieJar(treat_as_secure_origin=[]).treat_as_secure_origin == frozenset()
    with pytest.raises(TypeError):
        CookieJar(treat_as_secure_origin=[1])
    with pytest.raises(ValueError):
        CookieJar(treat_as_secure_origin="/relative")


# ------------------------------------------------------------------- DummyCookieJar


def test_dummy_cookie_jar_matches_aiohttps_interface() -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_cookies_from_headers(["b=2"], URL("http://example.com/"))
    assert (len(jar), list(jar)) == (0, [])
    assert jar.unsafe is False and jar.quote_cookie is True
    assert jar.treat_as_secure_origin == frozenset()
    assert jar.cookies == MappingProxyType({}) and isinstance(jar.cookies, MappingProxyType)
    assert jar.host_only_cookies == frozenset()
    assert jar.filter_cookies(URL("http://example.com/")) == SimpleCookie()
    assert jar.cookie_header(URL("http://example.com/")) is None
    jar.clear()
    jar.clear(lambda morsel: True)
    jar.clear_domain("example.com")


# ------------------------------------------------------------------ AbstractCookieJar


class OldStyleJar(AbstractCookieJar):
    """A custom jar written against the old interface (no quote_cookie, cookies,
    host_only_cookies, clear_domain or update_cookies_from_headers), which calls
    ``super().__init__(loop=...)`` as aiohttp's documentation shows."""

    def __init__(self, *, loop: Any = None) -> None:
        super().__init__(loop=loop)
        self.store: dict[str, Morsel[str]] = {}

    def __len__(self) -> int:
        return len(self.store)

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(list(self.store.values()))

    def clear(self, predicate: Any = None) -> None:
        for name, morsel in list(self.store.items()):
            if predicate is None or predicate(morsel):
                del self.store[name]

    def update_cookies(self, cookies: Any, response_url: URL = URL()) -> None:  # noqa: B008
        for name, value in cookies.items() if hasattr(cookies, "items") else cookies:
            if isinstance(value, Morsel):
                self.store[name] = value
            else:
                morsel: Morsel[str] = Morsel()
                morsel.set(name, value, value)
                self.store[name] = morsel

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        result: SimpleCookie = SimpleCookie()
        for name, morsel in self.store.items():
            dict.__setitem__(result, name, morsel)
        return result


async def test_old_style_custom_jar_still_works() -> None:
    jar = OldStyleJar()
    assert jar._loop is not None  # the running loop, as aiohttp's base class records it
    assert (jar.unsafe, jar.quote_cookie) == (False, True)
    assert jar.cookies == {} and jar.host_only_cookies == frozenset()
    assert jar.treat_as_secure_origin == frozenset()
    # the default update_cookies_from_headers: cyhttp's parser, Morsels with attributes,
    # and names a browser would ignore skipped rather than raised
    jar.update_cookies_from_headers(
        ['a="x y"; Domain=.Example.com; Path=/p; Max-Age=5; Secure', "=x", "b c=1", "noeq"],
        URL("https://www.example.com/"),
    )
    assert sorted(jar.store) == ["a", "b c"]
    a = jar.store["a"]
    assert (a.value, a.coded_value, a["domain"], a["path"], a["max-age"], a["secure"]) == (
        "x y",
        '"x y"',
        "example.com",
        "/p",
        "5",
        True,
    )
    # the default clear_domain goes through clear(predicate)
    jar.update_cookies({"other": "1"})
    jar.clear_domain("example.com")
    assert sorted(jar.store) == ["b c", "other"]


def test_abstract_jar_needs_the_core_methods() -> None:
    class Incomplete(AbstractCookieJar):
        def __len__(self) -> int:
            return 0

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


# ------------------------------------------------------------- per-request cookies


def aiohttp_merge(jar: aiohttp.CookieJar, url: URL, cookies: Any) -> str:
    """The Cookie header aiohttp 3.14's session builds (its client.py and ClientRequest)."""
    all_cookies = jar.filter_cookies(url)
    temporary = aiohttp.cookiejar._UnlimitedCookieJar(
        unsafe=jar.unsafe,
        quote_cookie=jar.quote_cookie,
        treat_as_secure_origin=frozenset(jar.treat_as_secure_origin),
    )
    temporary.update_cookies(cookies)
    request_cookies = temporary.filter_cookies(url)
    if request_cookies:
        all_cookies.load(request_cookies)
    return "; ".join(f"{name}={m.coded_value}" for name, m in all_cookies.items())


@pytest.mark.parametrize("quote", [True, False])
@pytest.mark.parametrize(
    "cookies",
    [
        {"dom": "mine", "new": "x y"},
        [("host", "1b"), ("z", "last")],
        {"sec": _secure_morsel()},
        SimpleCookie('q="a b"; Max-Age=100'),
    ],
    ids=["dict", "pairs", "secure-morsel", "simplecookie"],
)
@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_request_cookie_header_merges_as_aiohttp(
    quote: bool, cookies: Any, scheme: str
) -> None:
    url = URL(f"{scheme}://www.example.com/a/b")
    ours = CookieJar(quote_cookie=quote)
    theirs = aiohttp.CookieJar(quote_cookie=quote)
    for jar in (ours, theirs):
        jar.update_cookies_from_headers(["host=1", "dom=2; Domain=example.com; Path=/"], url)
        jar.update_cookies({"shared": "s p"})
    ours_sent = request_cookie_header(ours, url, cookies)
    theirs_sent = aiohttp_merge(theirs, url, cookies)
    # the same cookies and values; the order differs (cyhttp: RFC 6265 §5.4, longer paths
    # first; aiohttp: shared cookies first, then by domain)
    assert pairs_of(ours_sent) == pairs_of(theirs_sent)


def pairs_of(header: str | None) -> dict[str, str]:
    pairs = [pair.partition("=") for pair in header.split("; ")] if header else []
    assert len({name for name, _, _ in pairs}) == len(pairs)
    return {name: value for name, _, value in pairs}


def test_request_cookie_header_replaces_every_cookie_of_the_name() -> None:
    """The jar may hold one name on several paths (all sent); a request cookie of that
    name takes the first one's place and the others go."""
    jar = CookieJar()
    url = URL("http://example.com/a/b")
    set_cookies(jar, "http://example.com/", "k=root; Path=/", "k=deep; Path=/a", "o=1")
    assert request_cookie_header(jar, url) == "k=deep; k=root; o=1"
    assert request_cookie_header(jar, url, {"k": "mine", "n": "2"}) == "k=mine; o=1; n=2"
    assert request_cookie_header(jar, url, {}) == "k=deep; k=root; o=1"
    assert request_cookie_header(None, url, {"n": "2"}) == "n=2"
    assert request_cookie_header(None, url) is None
    assert request_cookie_header(DummyCookieJar(), url, None) is None
    assert request_cookie_header(OldJarWithCookies(), url, {"n": "2"}) == "old=1; n=2"


class OldJarWithCookies(OldStyleJar):
    def __init__(self) -> None:
        super().__init__()
        self.update_cookies({"old": "1"})


def test_request_cookie_header_prefix_names_and_errors() -> None:
    """Per-request cookies skip the name-prefix rules (aiohttp applies none to them); one
    that cannot be sent at all is an error both ValueError and CookieError."""
    url = URL("http://example.com/")
    assert request_cookie_header(CookieJar(), url, {"__Host-x": "1"}) == "__Host-x=1"
    with pytest.raises(ValueError) as info:
        request_cookie_header(CookieJar(), url, {"a b=": "1"})
    assert isinstance(info.value, CookieError)
    with pytest.raises(ValueError):
        request_cookie_header(CookieJar(), url, {"a": "x\r\ny"})
    with pytest.raises(TypeError):
        request_cookie_header(CookieJar(), url, ["ab"])


def test_public_names() -> None:
    assert cyhttp.CookieJar is CookieJar and cyhttp.DummyCookieJar is DummyCookieJar
    assert isinstance(CookieJar(), AbstractCookieJar)
    assert isinstance(DummyCookieJar(), AbstractCookieJar)
    from cyhttp.abc import ClearCookiePredicate

    assert ClearCookiePredicate is not None


# ------------------------------------------------------- through real sessions, both libs

SET_COOKIES = ["t=abc==", "c=x, y", 'q="in quotes"', "plain=1", "e=", "p=1; Path=/echo"]


def cookie_app() -> Any:
    """``/set`` answers with :data:`SET_COOKIES`; anything else echoes its Cookie headers."""
    from aiohttp import web

    async def set_cookies_handler(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        for value in SET_COOKIES:
            response.headers.add("Set-Cookie", value)
        return response

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(request.headers.getall("Cookie", []))

    app = web.Application()
    app.router.add_get("/set", set_cookies_handler)
    app.router.add_get("/{tail:.*}", echo)
    return app


async def sent_by(library: Any, quote: bool, base: URL, **request: Any) -> dict[str, str]:
    """The Cookie header a session of ``library`` (aiohttp or cyhttp) sends to ``/echo``
    after ``/set``, as name -> value."""
    jar = library.CookieJar(unsafe=True, quote_cookie=quote)
    async with library.ClientSession(cookie_jar=jar) as session:
        async with session.get(base.with_path("/set")) as response:
            assert response.status == 200
        async with session.get(base.with_path("/echo"), **request) as response:
            (header_value,) = await response.json()
    return pairs_of(header_value)


@pytest.mark.parametrize("quote", [True, False])
async def test_session_sends_what_aiohttps_session_sends(quote: bool) -> None:
    """Received cookies go back with the bytes aiohttp 3.14's own session sends, in both
    quoting modes (values received in double quotes excepted with quote_cookie=False:
    cyhttp keeps the quotes, as received; aiohttp strips them)."""
    from .servers import app_server

    async with app_server(cookie_app()) as server:
        ours = await sent_by(cyhttp, quote, server.url())
        theirs = await sent_by(aiohttp, quote, server.url())
    if not quote:
        assert (ours.pop("q"), theirs.pop("q")) == ('"in quotes"', "in quotes")
    assert ours == theirs
    assert ("p" in ours) and ours["t"] == ('"abc=="' if quote else "abc==")


async def session_with_request_cookies(quote: bool, cookies: Any) -> None:
    """A request's own cookies= through real sessions of both libraries: the same pairs."""
    from .servers import app_server

    async with app_server(cookie_app()) as server:
        ours = await sent_by(cyhttp, quote, server.url(), cookies=cookies)
        theirs = await sent_by(aiohttp, quote, server.url(), cookies=cookies)
    if not quote:
        ours.pop("q"), theirs.pop("q")
    assert ours == theirs


async def test_session_request_cookies_unquoted_as_aiohttp() -> None:
    await session_with_request_cookies(False, {"plain": "mine", "new": "a b"})


async def test_session_request_cookies_quoted_as_aiohttp() -> None:
    """With quote_cookie=True (the default) aiohttp quotes a request's own values too."""
    await session_with_request_cookies(True, {"plain": "mine", "new": "a b", "t": "x;y"})
