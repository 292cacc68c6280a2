"""CookieJar behaviour: storage and retrieval rules, caps, prefixes, persistence, API."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from http.cookies import CookieError, Morsel, SimpleCookie
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

import cyhttp
from cyhttp import cookiejar as cookiejar_module
from cyhttp import public_suffix
from cyhttp.abc import AbstractCookieJar
from cyhttp.cookiejar import MAX_EXPIRY_SECONDS, CookieJar, DummyCookieJar

START = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cookiejar_module, "_now", fake)
    return fake


@pytest.fixture
def builtin_psl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Force the built-in public-suffix rule, as on a machine without the package."""
    monkeypatch.setattr(public_suffix, "_package_list", lambda: None)
    assert public_suffix.source() == "builtin"
    yield


def set_cookies(jar: CookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def first_of_each_name(header: str | None) -> str:
    """The pairs of a Cookie header, only the first of each name."""
    seen: set[str] = set()
    kept = []
    for pair in header.split("; ") if header else []:
        name = pair.partition("=")[0]
        if name not in seen:
            seen.add(name)
            kept.append(pair)
    return "; ".join(kept)


def header(jar: CookieJar | DummyCookieJar, url: str) -> str | None:
    """What the session sends (``cookie_header``); ``filter_cookies``, aiohttp's shape, holds
    the first cookie of each name, sent the same way."""
    sent = jar.cookie_header(URL(url))
    morsels = jar.filter_cookies(URL(url)).values()
    assert "; ".join(f"{m.key}={m.coded_value}" for m in morsels) == first_of_each_name(sent)
    return sent


# ------------------------------------------------------------------------- public API


def test_public_names_and_abc() -> None:
    assert cyhttp.CookieJar is CookieJar
    assert cyhttp.DummyCookieJar is DummyCookieJar
    assert isinstance(CookieJar(), AbstractCookieJar)
    assert isinstance(DummyCookieJar(), AbstractCookieJar)


def test_loop_argument_is_deprecated_and_ignored() -> None:
    with pytest.warns(DeprecationWarning, match="loop"):
        CookieJar(loop=object())
    with pytest.warns(DeprecationWarning, match="loop"):
        DummyCookieJar(loop=object())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CookieJar()
        DummyCookieJar()


def test_caps_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CookieJar(max_cookies=0)
    with pytest.raises(ValueError):
        CookieJar(max_cookies_per_site=0)


def test_len_iter_and_morsel_attributes(clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(
        jar,
        "https://www.example.com/a/b",
        "s=1; Secure; HttpOnly; SameSite=Lax; Max-Age=100",
        "d=2; Domain=example.com; Path=/",
    )
    assert len(jar) == 2
    morsels = {m.key: m for m in jar}
    assert all(isinstance(m, Morsel) for m in morsels.values())
    s = morsels["s"]
    assert (s.value, s["domain"], s["path"]) == ("1", "www.example.com", "/a")
    assert s["secure"] is True and s["httponly"] is True and s["samesite"] == "Lax"
    assert s["expires"] == cyhttp.cookiejar.format_cookie_date(START + 100)
    d = morsels["d"]
    assert (d["domain"], d["path"], d["expires"], d["secure"]) == ("example.com", "/", "", "")


def test_iteration_returns_copies() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1")
    for morsel in jar:
        morsel["path"] = "/elsewhere"
    assert header(jar, "http://example.com/") == "a=1"


def test_morsel_keeps_names_and_values_http_cookies_refuses() -> None:
    jar = CookieJar(quote_cookie=False)
    names = ["path", "Expires", "$Version", "a b", "(x)", "春节", '"a']
    set_cookies(jar, "http://example.com/", *(f'{name}=v "q" \\,' for name in names))
    got = jar.filter_cookies("http://example.com/")
    assert isinstance(got, SimpleCookie)
    assert [m.key for m in got.values()] == names
    assert {m.coded_value for m in got.values()} == {'v "q" \\,'}
    assert {m.value for m in got.values()} == {'v "q" \\,'}


def test_values_are_sent_exactly_as_received_without_quoting() -> None:
    jar = CookieJar(quote_cookie=False)
    assert jar.quote_cookie is False
    set_cookies(jar, "http://example.com/", 'q="a b"', "c=x, y=z", "e=", "u=%41é", "t=abc==")
    assert header(jar, "http://example.com/") == 'q="a b"; c=x, y=z; e=; u=%41é; t=abc=='


def test_default_quotes_values_as_aiohttp_does() -> None:
    """quote_cookie=True (the default): a value received in double quotes travels as
    received, any other through RFC 2109 quoting, as aiohttp 3.14 sends it."""
    jar = CookieJar()
    assert jar.quote_cookie is True
    set_cookies(jar, "http://example.com/", 'q="a b"', "c=x, y=z", "e=", "u=%41é", "t=abc==")
    set_cookies(jar, "http://example.com/", "plain=Az09!#$%&'*+-.^_`|~:")
    assert header(jar, "http://example.com/") == (
        'q="a b"; c="x\\054 y=z"; e=""; u="%41\\351"; t="abc=="; plain=Az09!#$%&\'*+-.^_`|~:'
    )
    got = jar.filter_cookies(URL("http://example.com/"))
    # the value is the unquoted one, the coded value what is sent; no attributes
    assert (got["q"].value, got["q"].coded_value) == ("a b", '"a b"')
    assert (got["c"].value, got["c"].coded_value) == ("x, y=z", '"x\\054 y=z"')
    assert got["q"]["path"] == "" and got["q"]["domain"] == ""
    # iterating shows what was received, with the attributes
    stored = {m.key: m for m in jar}
    assert (stored["q"].value, stored["q"].coded_value) == ("a b", '"a b"')
    assert (stored["c"].value, stored["c"].coded_value) == ("x, y=z", "x, y=z")
    assert stored["c"]["path"] == "/" and stored["c"]["domain"] == "example.com"


# --------------------------------------------------------------------- domain rules


def test_host_only_versus_domain_cookie() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://home.example.org/", "host=1", "dom=2; Domain=example.org")
    assert header(jar, "http://home.example.org/") == "host=1; dom=2"
    assert header(jar, "http://sub.home.example.org/") == "dom=2"
    assert header(jar, "http://example.org/") == "dom=2"
    assert header(jar, "http://other.org/") is None
    assert header(jar, "http://notexample.org/") is None


def test_foreign_and_sub_domains_refused() -> None:
    jar = CookieJar()
    set_cookies(
        jar,
        "http://home.example.org/",
        "a=1; Domain=other.org",
        "b=1; Domain=sub.home.example.org",
        "c=1; Domain=sibling.example.org",
        "d=1; Domain=ome.example.org",
    )
    assert len(jar) == 0


def test_domain_compared_case_insensitively_and_idna() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://HOME.Example.org/", "a=1; Domain=Example.ORG")
    set_cookies(jar, "http://bücher.example/", "b=1; Domain=Bücher.example")
    assert header(jar, "http://home.example.org/") == "a=1"
    assert header(jar, "http://www.bücher.example/") == "b=1"
    assert header(jar, "http://www.xn--bcher-kva.example/") == "b=1"


def test_uncodable_domain_refuses_the_cookie() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.org/", "a=1; Domain=" + "ü" * 70 + ".example.org")
    assert len(jar) == 0


@pytest.mark.parametrize("use_package", [True, False], ids=["publicsuffixlist", "builtin"])
def test_public_suffix_refused(monkeypatch: pytest.MonkeyPatch, use_package: bool) -> None:
    if not use_package:
        monkeypatch.setattr(public_suffix, "_package_list", lambda: None)
    else:
        assert public_suffix.source() == "publicsuffixlist"  # installed by the test extra
    jar = CookieJar()
    set_cookies(jar, "http://www.example.com/", "a=1; Domain=com", "b=1; Domain=.com")
    assert len(jar) == 0
    set_cookies(jar, "http://www.example.co.uk/", "c=1; Domain=co.uk")
    assert len(jar) == (0 if use_package else 1)
    # a host that is itself a public suffix gets a host-only cookie
    set_cookies(jar, "http://localhost/", "h=1; Domain=localhost")
    assert header(jar, "http://localhost/") == "h=1"
    assert header(jar, "http://sub.localhost/") is None


def test_public_suffix_helper_with_package() -> None:
    assert public_suffix.source() == "publicsuffixlist"
    assert public_suffix.is_public_suffix("co.uk")
    assert public_suffix.is_public_suffix("github.io")
    assert not public_suffix.is_public_suffix("example.co.uk")
    assert public_suffix.registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert public_suffix.is_public_suffix("")


def test_public_suffix_helper_builtin(builtin_psl: None) -> None:
    assert public_suffix.is_public_suffix("com")
    assert not public_suffix.is_public_suffix("co.uk")
    assert public_suffix.registrable_domain("a.b.example.com") == "example.com"
    assert public_suffix.registrable_domain("example.com") == "example.com"


# -------------------------------------------------------------------------- IP hosts


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.1.2.3"])
def test_ip_hosts_refused_unless_unsafe(host: str) -> None:
    jar = CookieJar()
    set_cookies(jar, f"http://{host}/", "a=1")
    jar.update_cookies({"b": "2"}, URL(f"http://{host}/"))
    assert len(jar) == 0
    unsafe = CookieJar(unsafe=True)
    assert unsafe.unsafe
    set_cookies(unsafe, f"http://{host}/", "a=1")
    unsafe.update_cookies({"b": "2"}, URL(f"http://{host}/"))
    assert header(unsafe, f"http://{host}/") == "a=1; b=2"


def test_ip_host_never_domain_matches() -> None:
    jar = CookieJar(unsafe=True)
    set_cookies(jar, "http://10.1.2.3/", "a=1; Domain=2.3", "b=1; Domain=10.1.2.3")
    assert header(jar, "http://10.1.2.3/") == "b=1"
    assert header(jar, "http://9.10.1.2.3/") is None


# ------------------------------------------------------------------------ path rules


def test_default_path_and_path_matching() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/dir/page", "a=1")
    set_cookies(jar, "http://example.com/top", "b=1")
    set_cookies(jar, "http://example.com/", "c=1; Path=/dir/")
    assert [m["path"] for m in jar] == ["/dir", "/", "/dir/"]
    assert header(jar, "http://example.com/dir") == "a=1; b=1"
    assert header(jar, "http://example.com/dir/x") == "c=1; a=1; b=1"
    assert header(jar, "http://example.com/directory") == "b=1"
    assert header(jar, "http://example.com/") == "b=1"


def test_order_longer_paths_then_older() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/a/b/c", "x=1; Path=/", "y=2; Path=/a/b", "z=3; Path=/a")
    set_cookies(jar, "http://example.com/", "w=4; Path=/a/b")
    assert header(jar, "http://example.com/a/b/c") == "y=2; w=4; z=3; x=1"


def test_same_name_cookies_all_sent_most_specific_first() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://home.example.org/", "k=root; Path=/", "k=deep; Path=/a")
    set_cookies(jar, "http://home.example.org/", "k=dom; Domain=example.org; Path=/a")
    got = jar.filter_cookies("http://home.example.org/a/x")
    assert list(got) == ["k"] and got["k"].value == "deep"  # aiohttp's shape: one per name
    assert header(jar, "http://home.example.org/a/x") == "k=deep; k=dom; k=root"


def test_replacing_keeps_creation_time() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1", "b=1")
    set_cookies(jar, "http://example.com/", "a=2")
    assert header(jar, "http://example.com/") == "a=2; b=1"
    assert len(jar) == 2


# ---------------------------------------------------------------------------- Secure


def test_secure_cookies_only_over_https_and_wss() -> None:
    jar = CookieJar()
    set_cookies(jar, "https://example.com/", "s=1; Secure", "p=2")
    assert header(jar, "https://example.com/") == "s=1; p=2"
    assert header(jar, "wss://example.com/") == "s=1; p=2"
    assert header(jar, "http://example.com/") == "p=2"
    assert header(jar, "ws://example.com/") == "p=2"


def test_secure_cookie_refused_from_insecure_origin() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "s=1; Secure")
    assert len(jar) == 0


def test_insecure_origin_cannot_shadow_secure_cookie() -> None:
    jar = CookieJar()
    set_cookies(jar, "https://www.example.com/", "s=secret; Secure; Domain=example.com")
    set_cookies(jar, "http://www.example.com/", "s=evil", "s=evil2; Path=/x", "t=ok")
    assert header(jar, "https://www.example.com/x") == "s=secret; t=ok"
    set_cookies(jar, "https://www.example.com/", "s=new; Domain=example.com")
    assert header(jar, "https://www.example.com/") == "s=new; t=ok"


def test_http_only_is_kept() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "h=1; HttpOnly")
    assert header(jar, "http://example.com/") == "h=1"
    assert next(iter(jar))["httponly"] is True


# -------------------------------------------------------------------------- prefixes


@pytest.mark.parametrize(
    ("url", "set_cookie", "kept"),
    [
        ("https://example.com/", "__Secure-a=1; Secure", True),
        ("https://example.com/", "__secure-a=1; Secure", True),
        ("https://example.com/", "__Secure-a=1", False),
        ("http://example.com/", "__Secure-a=1; Secure", False),
        ("https://www.example.com/", "__Secure-a=1; Secure; Domain=example.com", True),
        ("https://example.com/", "__Host-a=1; Secure; Path=/", True),
        ("https://example.com/", "__HOST-a=1; Secure; Path=/", True),
        ("https://example.com/", "__Host-a=1; Path=/", False),
        ("http://example.com/", "__Host-a=1; Secure; Path=/", False),
        ("https://example.com/", "__Host-a=1; Secure", False),
        ("https://example.com/", "__Host-a=1; Secure; Path=/x", False),
        ("https://example.com/", "__Host-a=1; Secure; Path=/; Domain=example.com", False),
        ("https://www.example.com/", "__Host-a=1; Secure; Path=/; Domain=example.com", False),
    ],
)
def test_prefixes(url: str, set_cookie: str, kept: bool) -> None:
    jar = CookieJar()
    set_cookies(jar, url, set_cookie)
    assert len(jar) == (1 if kept else 0)


# ---------------------------------------------------------------------- expiry


def test_max_age_and_expires(clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "m=1; Max-Age=10", "session=1")
    set_cookies(jar, "http://example.com/", "e=1; Expires=Wed, 15 Nov 2023 00:00:00 GMT")
    assert header(jar, "http://example.com/") == "m=1; session=1; e=1"
    clock.now += 10
    assert header(jar, "http://example.com/") == "session=1; e=1"
    clock.now = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
    assert header(jar, "http://example.com/") == "session=1"
    assert len(jar) == 1


def test_max_age_wins_over_expires_in_either_order(clock: Clock) -> None:
    jar = CookieJar()
    past = "Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    set_cookies(jar, "http://example.com/", f"a=1; Max-Age=60; {past}", f"b=1; {past}; Max-Age=60")
    set_cookies(jar, "http://example.com/", "c=1; Max-Age=0; Expires=Fri, 01 Jan 2100 0:0:0")
    assert header(jar, "http://example.com/") == "a=1; b=1"


def test_expired_cookie_deletes_its_predecessor(clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1", "b=1", "c=1; Path=/x")
    set_cookies(jar, "http://example.com/", "a=; Max-Age=0", "b=; Expires=Thu, 01 Jan 1970 0:0:0")
    set_cookies(jar, "http://example.com/", "c=; Max-Age=-1")  # other path: c stays
    assert header(jar, "http://example.com/x") == "c=1"


def test_expiry_capped_at_400_days(clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(
        jar, "http://example.com/", "a=1; Max-Age=999999999999", "b=1; Expires=1 Jan 9999 0:0:0"
    )
    clock.now += MAX_EXPIRY_SECONDS - 1
    assert header(jar, "http://example.com/") == "a=1; b=1"
    clock.now += 1
    assert header(jar, "http://example.com/") is None


def test_max_age_too_big_for_a_float(clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1; Max-Age=" + "9" * 400, "b=1")
    morsel: Morsel[str] = Morsel()
    morsel.set("c", "1", "1")
    morsel["max-age"] = "9" * 400
    jar.update_cookies({"c": morsel}, URL("http://example.com/"))
    assert header(jar, "http://example.com/") == "a=1; b=1; c=1"
    set_cookies(jar, "http://example.com/", "b=; Max-Age=-" + "9" * 400)  # deletes
    assert header(jar, "http://example.com/") == "a=1; c=1"
    clock.now += MAX_EXPIRY_SECONDS
    assert header(jar, "http://example.com/") is None


# ------------------------------------------------------------------------------ caps


def test_per_site_cap_evicts_least_recently_used(clock: Clock) -> None:
    jar = CookieJar(max_cookies_per_site=3)
    for name in "abc":
        clock.now += 1
        set_cookies(jar, "http://www.example.com/", f"{name}=1")
    clock.now += 1
    header(jar, "http://www.example.com/")  # a, b, c all used now: tie broken by age
    clock.now += 1
    set_cookies(jar, "http://www.example.com/", "a=2")  # a used again
    clock.now += 1
    set_cookies(jar, "http://api.example.com/", "d=1")  # same site: evicts b
    assert sorted(m.key for m in jar) == ["a", "c", "d"]
    set_cookies(jar, "http://other.com/", "e=1")  # another site: no eviction
    assert len(jar) == 4


def test_per_site_cap_drops_expired_first(clock: Clock) -> None:
    jar = CookieJar(max_cookies_per_site=2)
    set_cookies(jar, "http://example.com/", "old=1", "short=1; Max-Age=5")
    clock.now += 10
    set_cookies(jar, "http://example.com/", "new=1")
    assert sorted(m.key for m in jar) == ["new", "old"]


def test_total_cap(clock: Clock) -> None:
    jar = CookieJar(max_cookies=3)
    for index, host in enumerate(["a.com", "b.com", "c.com", "d.com"]):
        clock.now += 1
        set_cookies(jar, f"http://{host}/", f"n{index}=1")
        if host == "b.com":
            header(jar, "http://a.com/")  # a.com is used: b.com becomes the oldest
    assert sorted(m["domain"] for m in jar) == ["a.com", "c.com", "d.com"]


def test_default_caps_are_browser_like() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", *(f"c{i}=1" for i in range(200)))
    assert len(jar) == cookiejar_module.MAX_COOKIES_PER_SITE == 180
    assert header(jar, "http://example.com/").startswith("c20=1; c21=1")  # type: ignore[union-attr]
    assert cookiejar_module.MAX_COOKIES == 3000


# -------------------------------------------------------------------- shared cookies


def test_shared_cookies_go_everywhere() -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "1"})
    jar.update_cookies([("pair", "2")], URL())
    jar.update_cookies({"none": "3"}, None)
    for url in ["http://example.com/", "https://other.org/deep/path", "http://127.0.0.1/"]:
        assert header(jar, url) == "shared=1; pair=2; none=3"
    assert [m["domain"] for m in jar] == ["", "", ""]


def test_update_cookies_with_url_and_morsels(clock: Clock) -> None:
    jar = CookieJar()
    jar.update_cookies({"a": "1"}, URL("http://www.example.com/dir/page"))
    loaded: SimpleCookie = SimpleCookie()
    loaded.load('b="x y"; Domain=example.com; Path=/; Max-Age=60; HttpOnly')
    jar.update_cookies(loaded, "http://www.example.com/")
    assert header(jar, "http://www.example.com/dir/") == 'a=1; b="x y"'
    assert header(jar, "http://api.example.com/") == 'b="x y"'
    clock.now += 61
    assert header(jar, "http://api.example.com/") is None


def test_shared_morsel_with_domain() -> None:
    jar = CookieJar()
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "1", "1")
    morsel["domain"] = "example.com"
    morsel["path"] = "/p"
    jar.update_cookies({"a": morsel})
    assert header(jar, "http://sub.example.com/p") == "a=1"
    assert header(jar, "http://other.com/p") is None


@pytest.mark.parametrize(
    "cookies",
    [
        {"": "x"},
        {"a=b": "x"},
        {"a;b": "x"},
        {" a": "x"},
        {"a\x00": "x"},
        {"a\r\nX-Injected: 1": "x"},
        {"a": "x" * 5000},
    ],
    ids=["empty", "equals", "semicolon", "space", "nul", "crlf-name", "too-long"],
)
def test_update_cookies_skips_what_cannot_be_sent(cookies: dict[str, str]) -> None:
    """Invalid names (and cookies too long to keep) are skipped, never raised; the other
    cookies of the same call are stored. Before, a private exception escaped."""
    jar = CookieJar()
    jar.update_cookies({"before": "1", **cookies, "after": "2"})
    assert [m.key for m in jar] == ["before", "after"]


def test_invalid_names_skipped_in_every_form() -> None:
    """Dicts, pairs, Morsels and SimpleCookies: the invalid name goes, the rest stays."""
    jar = CookieJar()
    bad: Morsel[str] = Morsel()
    cast_morsel = cast(Any, bad)
    cast_morsel.__setstate__({"key": "a b;", "value": "1", "coded_value": "1"})
    loaded: SimpleCookie = SimpleCookie()
    loaded["ok3"] = "3"
    dict.__setitem__(loaded, "bad=name", bad)
    jar.update_cookies({"ok1": "1", "": "x"})
    jar.update_cookies([("ok2", "2"), ("x=y", "z")])
    jar.update_cookies({"a b;": bad})
    jar.update_cookies(loaded, URL("http://example.com/"))
    set_cookies(jar, "http://example.com/", "=nameless", "novalue", "ok4=4", "\x01c=1")
    assert sorted(m.key for m in jar) == ["ok1", "ok2", "ok3", "ok4"]


@pytest.mark.parametrize("value", ["x\r\nX-Injected: 1", "x\x00", "\x7f"])
def test_control_character_in_a_value_raises(value: str) -> None:
    """A CR LF in a value is an injection attempt or a mistake: a clear error (ValueError
    and CookieError), and nothing of the call is stored."""
    jar = CookieJar()
    morsel: Morsel[str] = Morsel()
    cast(Any, morsel).__setstate__({"key": "m", "value": value, "coded_value": "ok"})
    for cookies in ({"before": "1", "a": value}, {"before": "1", "m": morsel}):
        with pytest.raises(ValueError, match="control character") as info:
            jar.update_cookies(cookies)
        assert isinstance(info.value, CookieError)
        assert len(jar) == 0


def test_value_with_semicolon_is_stored_quoted() -> None:
    """aiohttp stores {"a": "x;y"} and sends it RFC 2109-quoted; so does cyhttp, in both
    quoting modes (sent raw, it would split into two cookies)."""
    for quote in (True, False):
        jar = CookieJar(quote_cookie=quote)
        jar.update_cookies({"a": "x;y", "b": "c d"})
        expected = 'a="x\\073y"; b="c d"' if quote else 'a="x\\073y"; b=c d'
        assert header(jar, "http://example.com/") == expected
        assert next(iter(jar)).value == "x;y"


@pytest.mark.parametrize(
    "cookies",
    [{"a": 1}, [("a",)], ["ab"], {"a": b"x"}, {1: "x"}],
    ids=["int-value", "one-tuple", "str-item", "bytes-value", "int-name"],
)
def test_update_cookies_type_errors(cookies: object) -> None:
    jar = CookieJar()
    with pytest.raises(TypeError):
        jar.update_cookies(cookies)  # type: ignore[arg-type]
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("attribute", "text"),
    [("max-age", "string"), ("max-age", "1.5"), ("expires", "whenever"), ("samesite", "odd")],
)
def test_unreadable_morsel_attribute_is_ignored(clock: Clock, attribute: str, text: str) -> None:
    """RFC 6265 §5.2: an attribute that cannot be read is ignored; the cookie is stored
    (a session cookie here). Before, a private exception escaped update_cookies."""
    jar = CookieJar()
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "1", "1")
    morsel[attribute] = text
    jar.update_cookies({"a": morsel}, URL("http://example.com/"))
    loaded: SimpleCookie = SimpleCookie()
    loaded.load(f"b=2; {attribute}={text}")
    jar.update_cookies(loaded, URL("http://example.com/"))
    set_cookies(jar, "http://example.com/", f"c=3; {attribute}={text}")
    assert header(jar, "http://example.com/") == "a=1; b=2; c=3"
    assert all(m["expires"] == "" and m["samesite"] == "" for m in jar)
    clock.now += 10 * MAX_EXPIRY_SECONDS  # session cookies: no expiry
    assert len(jar) == 3


@pytest.mark.parametrize(
    "deleting",
    [
        {"max-age": "0"},
        {"max-age": "-1"},
        {"max-age": " -99999999999999999999 "},
        {"expires": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"expires": "Wed, 15 Nov 2023 00:00:00 GMT", "max-age": "-5"},
        {"max-age": "0", "expires": "garbage"},
        {"expires": "Thu, 01 Jan 1970 00:00:00 GMT", "max-age": "soon"},
    ],
    ids=[
        "max-age-0",
        "max-age-negative",
        "max-age-huge-negative",
        "past-expires",
        "both",
        "max-age-0-bad-expires",
        "past-expires-bad-max-age",
    ],
)
@pytest.mark.parametrize("form", ["morsel", "simplecookie", "header"])
def test_expired_update_deletes_and_is_not_stored(
    clock: Clock, deleting: dict[str, str], form: str
) -> None:
    """Max-Age <= 0 or a past Expires, given to update_cookies or in a header, deletes the
    stored cookie of that name (same domain and path) and stores nothing."""
    jar = CookieJar()
    url = URL("http://example.com/")
    jar.update_cookies({"a": "1", "keep": "1"}, url)
    jar.update_cookies({"a": "shared"})
    if form == "morsel":
        morsel: Morsel[str] = Morsel()
        morsel.set("a", "", "")
        for attribute, text in deleting.items():
            morsel[attribute] = text
        jar.update_cookies({"a": morsel}, url)
    else:
        attributes = "; ".join(f"{name}={text}" for name, text in deleting.items())
        if form == "simplecookie":
            loaded: SimpleCookie = SimpleCookie()
            loaded.load(f"a=gone; {attributes}")
            jar.update_cookies(loaded, url)
        else:
            set_cookies(jar, str(url), f"a=gone; {attributes}")
    assert header(jar, "http://example.com/") == "keep=1; a=shared"
    assert sorted((m.key, m["domain"]) for m in jar) == [("a", ""), ("keep", "example.com")]


def test_numeric_morsel_attributes(clock: Clock) -> None:
    """Morsel attributes set as numbers: max-age 0 deletes, expires is seconds from now
    (http.cookies' convention)."""
    jar = CookieJar()
    jar.update_cookies({"a": "1", "b": "1"})
    deleting: Morsel[str] = Morsel()
    deleting.set("a", "", "")
    deleting["max-age"] = 0
    lasting: Morsel[str] = Morsel()
    lasting.set("b", "2", "2")
    lasting["expires"] = 60
    jar.update_cookies({"a": deleting, "b": lasting})
    assert header(jar, "http://example.com/") == "b=2"
    clock.now += 60
    assert len(jar) == 0


def test_set_cookie_values_must_be_str() -> None:
    jar = CookieJar()
    with pytest.raises(TypeError):
        jar.update_cookies_from_headers([b"a=1"], URL("http://example.com/"))  # type: ignore[list-item]


# ---------------------------------------------------------------------- clearing


def test_clear_and_clear_domain() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1")
    set_cookies(jar, "http://www.example.com/", "b=1", "c=1; Domain=example.com")
    set_cookies(jar, "http://notexample.com/", "d=1")
    jar.update_cookies({"shared": "1"})
    jar.clear_domain("www.example.com")
    assert sorted(m.key for m in jar) == ["a", "c", "d", "shared"]
    jar.clear_domain(".Example.com")
    assert sorted(m.key for m in jar) == ["d", "shared"]
    jar.clear(lambda morsel: morsel.key == "d")
    assert [m.key for m in jar] == ["shared"]
    jar.clear()
    assert len(jar) == 0 and header(jar, "http://example.com/") is None


# --------------------------------------------------------------------- DummyCookieJar


def test_dummy_cookie_jar_stores_nothing(tmp_path: Path) -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_cookies({"a": "1"}, URL("http://example.com/"))
    jar.update_cookies_from_headers(["b=2"], URL("http://example.com/"))
    assert len(jar) == 0
    assert list(jar) == []
    assert jar.filter_cookies(URL("http://example.com/")) == SimpleCookie()
    assert jar.cookie_header(URL("http://example.com/")) is None
    jar.clear()
    jar.clear_domain("example.com")


def test_trailing_dot_host_sends_shared_cookies_once() -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "1"})
    set_cookies(jar, "http://example.com./", "dot=1")
    assert header(jar, "http://example.com./") == "shared=1; dot=1"
    assert header(jar, "http://example.com/") == "shared=1"


@settings(max_examples=200, deadline=None)
@given(
    headers=st.lists(
        st.text(alphabet=st.sampled_from('ab=; ,."\t\r\x00é/Dd'), max_size=30)
        | st.sampled_from(
            [
                "a=1; Domain=example.com",
                "a=2; Path=/x",
                "b=1; Secure",
                "c=1; Max-Age=0",
                "__Host-h=1; Secure; Path=/",
            ]
        ),
        max_size=6,
    ),
    host=st.sampled_from(["example.com", "www.example.com", "127.0.0.1", "com"]),
    scheme=st.sampled_from(["http", "https"]),
)
def test_any_headers_give_a_sendable_cookie_header(
    headers: list[str], host: str, scheme: str
) -> None:
    """Whatever a server sends, the jar never breaks and never emits a corrupt header."""
    jar = CookieJar(unsafe=True, max_cookies_per_site=4)
    jar.update_cookies_from_headers(headers, URL(f"{scheme}://{host}/x/y"))
    assert len(jar) <= 4
    for url in [f"{scheme}://{host}/x/y", "https://www.example.com/", "http://other.org/"]:
        sent = header(jar, url)
        if sent is None:
            continue
        assert not any(ch in sent for ch in "\r\n\x00")
        for pair in sent.split("; "):
            name, equals, _value = pair.partition("=")
            assert equals and name.strip(" \t") == name and name
