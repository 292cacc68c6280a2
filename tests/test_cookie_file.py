"""CookieJar.save()/load(): aiohttp 3.14's JSON cookie file, checked against aiohttp itself.

A file saved by cyhttp must load in ``aiohttp.CookieJar`` with the same cookies, host-only
flags and expiry times, and the reverse. The older cyhttp format still loads; a pickle
(aiohttp before 3.14) or anything else that is not a cookie file is refused with a clear
``ValueError`` and leaves the jar unchanged. (aiohttp's jar needs a running loop, hence the
``async`` tests.)
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import time
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.cookiejar
import pytest
from yarl import URL

from cyhttp.cookiejar import MAX_EXPIRY_SECONDS, CookieJar

from .test_cookiejar import START, Clock, clock, header, set_cookies

__all__ = ("clock",)  # the fixture, imported for this module's tests

SITE = "https://www.example.com/a/b"


def fill(jar: Any) -> None:
    """The same received cookies, for either library's jar: host-only, domain, path,
    flags, expiry, quoted and unquoted values, a shared cookie."""
    jar.update_cookies_from_headers(
        [
            "host=1; Secure; HttpOnly; SameSite=Strict; Max-Age=100",
            "dom=2; Domain=example.com; Path=/",
            "deep=3; Domain=example.com; Path=/a/",
            'q="x y"',
            "plain=abc==",
        ],
        URL(SITE),
    )
    jar.update_cookies({"shared": "6"})


def sent(jar: Any, url: str) -> dict[str, str]:
    """What ``filter_cookies`` gives for ``url``, as name -> value sent."""
    return {m.key: m.coded_value for m in jar.filter_cookies(URL(url)).values()}


def described(jar: Any) -> set[tuple[str, str, str, str, bool, bool, str]]:
    """Each stored cookie as (name, value, domain, path, secure, httponly, samesite)."""
    return {
        (
            m.key,
            m.coded_value,
            m["domain"],
            m["path"],
            bool(m["secure"]),
            bool(m["httponly"]),
            str(m["samesite"]),
        )
        for m in jar
    }


URLS = [
    SITE,
    "https://www.example.com/",
    "https://sub.www.example.com/a/b",  # host-only cookies must not come here
    "https://example.com/a/",
    "http://www.example.com/a/b",  # no Secure cookie
    "https://other.org/",
]


# ---------------------------------------------------------------- the two directions


async def test_saved_by_cyhttp_loads_in_aiohttp(tmp_path: Path) -> None:
    ours = CookieJar()
    fill(ours)
    target = tmp_path / "cookies.json"
    ours.save(target)

    theirs = aiohttp.CookieJar()
    theirs.load(target)
    assert len(theirs) == len(ours) == 6
    assert theirs.host_only_cookies == ours.host_only_cookies
    assert theirs.host_only_cookies == {
        ("www.example.com", "/a", "host"),
        ("www.example.com", "/a", "q"),
        ("www.example.com", "/a", "plain"),
    }
    assert described(theirs) == described(ours)
    assert set(theirs.cookies) == set(ours.cookies)
    for url in URLS:
        assert sent(theirs, url) == sent(ours, url), url


async def test_saved_by_aiohttp_loads_in_cyhttp(tmp_path: Path) -> None:
    theirs = aiohttp.CookieJar()
    fill(theirs)
    target = tmp_path / "cookies.json"
    theirs.save(target)

    ours = CookieJar()
    ours.load(target)
    assert len(ours) == len(theirs) == 6
    assert ours.host_only_cookies == theirs.host_only_cookies
    assert described(ours) == described(theirs)
    for url in URLS:
        assert sent(ours, url) == sent(theirs, url), url


async def test_expiry_survives_both_ways(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Max-Age=100 cookie is saved as an absolute time: both jars drop it once the
    (shared, faked) clock passes it, whoever saved it."""
    monkeypatch.setattr(aiohttp.cookiejar.time, "time", clock)
    ours, theirs = CookieJar(), aiohttp.CookieJar()
    fill(ours)
    fill(theirs)
    ours.save(tmp_path / "ours.json")
    theirs.save(tmp_path / "theirs.json")
    for document in ("ours.json", "theirs.json"):
        record = json.loads((tmp_path / document).read_text())["www.example.com|/a"]["host"]
        assert record["expires_timestamp"] == START + 100
    from_ours, from_theirs = aiohttp.CookieJar(), CookieJar()
    from_ours.load(tmp_path / "ours.json")
    from_theirs.load(tmp_path / "theirs.json")
    assert "host" in sent(from_ours, SITE) and "host" in sent(from_theirs, SITE)
    clock.now += 100
    assert "host" not in sent(from_ours, SITE) and "host" not in sent(from_theirs, SITE)
    assert "dom" in sent(from_ours, SITE) and "dom" in sent(from_theirs, SITE)


async def test_morsel_attributes_from_update_cookies_travel(tmp_path: Path) -> None:
    """A Morsel given to update_cookies with a domain and a path, saved by cyhttp, is the
    same cookie in aiohttp (and a value that needs quoting is sent alike)."""
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "a;b c", '"a\\073b c"')
    morsel["domain"] = "example.com"
    morsel["path"] = "/a"
    ours = CookieJar()
    ours.update_cookies({"m": morsel}, URL(SITE))
    ours.save(tmp_path / "c.json")
    theirs = aiohttp.CookieJar()
    theirs.load(tmp_path / "c.json")
    assert sent(theirs, "https://sub.example.com/a/x") == sent(ours, "https://sub.example.com/a/x")
    assert sent(ours, "https://sub.example.com/a/x") == {"m": '"a\\073b c"'}
    assert theirs.host_only_cookies == frozenset()


# ------------------------------------------------------------------- cyhttp's round trip


def test_save_load_round_trip(tmp_path: Path, clock: Clock) -> None:
    jar = CookieJar(unsafe=True)
    set_cookies(
        jar,
        "https://www.example.com/a/b",
        "host=1; Secure; HttpOnly; SameSite=Strict; Max-Age=100",
        "dom=2; Domain=example.com; Path=/; Expires=Fri, 01 Jan 2027 00:00:00 GMT",
        "dom=3; Domain=example.com; Path=/a",
        "dom=4; Domain=example.com; Path=/a/",  # the same key as /a in aiohttp's format
        'q="x; y"',
        "__Host-h=4; Secure; Path=/",
        "春节=回家",
    )
    set_cookies(jar, "http://127.0.0.1/", "ip=5")
    set_cookies(jar, "http://[::1]/", "ip6=6")
    jar.update_cookies({"shared": "6"})
    clock.now += 1
    header(jar, "https://www.example.com/a/")  # bumps last-access times
    target = tmp_path / "cookies.json"
    jar.save(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600

    again = CookieJar(unsafe=True)
    again.load(str(target))
    assert sorted(vars_of(m) for m in again) == sorted(vars_of(m) for m in jar)
    assert sorted(map(record_of, again._cookies.values()), key=str) == sorted(
        map(record_of, jar._cookies.values()), key=str
    )
    # the least-recently-used and the sending order survive too
    assert [c.name for c in sorted(again._cookies.values(), key=lambda c: c.used)] == [
        c.name for c in sorted(jar._cookies.values(), key=lambda c: c.used)
    ]
    for url in [
        "https://www.example.com/a/b",
        "https://www.example.com/a/",
        "http://sub.example.com/",
        "http://127.0.0.1/",
        "http://[::1]/",
    ]:
        assert header(again, url) == header(jar, url)
    assert "host=" not in (header(again, "https://sub.www.example.com/a/") or "")
    clock.now += 100  # the Max-Age=100 cookie expires in the loaded jar too
    assert "host=1" not in (header(again, "https://www.example.com/a/b") or "")


def vars_of(morsel: Morsel[str]) -> tuple[object, ...]:
    return (morsel.key, morsel.value, morsel.coded_value, *sorted(morsel.items()))


def record_of(cookie: Any) -> dict[str, object]:
    """Every field of a stored record but the two counters, renumbered on load."""
    fields = {name: getattr(cookie, name) for name in cookie.__slots__}
    del fields["seq"], fields["used"]
    return fields


def test_save_overwrites_with_owner_only_mode(tmp_path: Path) -> None:
    target = tmp_path / "cookies.json"
    target.write_text("old")
    target.chmod(0o644)
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1")
    jar.save(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [target]


def test_load_drops_expired_and_caps_expiry(tmp_path: Path, clock: Clock) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1; Max-Age=10", "b=1")
    jar.save(tmp_path / "c.json")
    document = json.loads((tmp_path / "c.json").read_text())
    document["example.com|"]["b"]["expires_timestamp"] = START + 100 * MAX_EXPIRY_SECONDS
    (tmp_path / "c.json").write_text(json.dumps(document))
    clock.now += 20
    again = CookieJar()
    again.load(tmp_path / "c.json")
    assert [m.key for m in again] == ["b"]
    clock.now += MAX_EXPIRY_SECONDS  # the far-off expiry was capped at 400 days on load
    assert len(again) == 0


def test_loaded_cookies_follow_the_jar_rules(tmp_path: Path) -> None:
    """A file is not trusted more than a server: a domain cookie for a public suffix is
    at most a host-only cookie of that name; a broken prefix or an IP host (without
    unsafe=True) is dropped as it would be from a response."""
    document = {
        "com|": {"a": {"key": "a", "value": "1", "coded_value": "1", "domain": "com"}},
        "example.com|": {
            "__Host-b": {"key": "__Host-b", "value": "1", "coded_value": "1", "path": "/"},
            "ok": {"key": "ok", "value": "1", "coded_value": "1", "path": "/"},
        },
        "10.0.0.1|": {"ip": {"key": "ip", "value": "1", "coded_value": "1", "host_only": True}},
    }
    (tmp_path / "c.json").write_text(json.dumps(document))
    jar = CookieJar()
    jar.load(tmp_path / "c.json")
    assert sorted(m.key for m in jar) == ["a", "ok"]
    assert ("com", "", "a") in jar.host_only_cookies
    assert header(jar, "http://example.com/") == "ok=1"
    unsafe = CookieJar(unsafe=True)
    unsafe.load(tmp_path / "c.json")
    assert sorted(m.key for m in unsafe) == ["a", "ip", "ok"]


def test_old_cyhttp_format_still_loads(tmp_path: Path) -> None:
    """Files written by cyhttp before it adopted aiohttp's format."""
    old = {
        "format": "cyhttp-cookiejar",
        "version": 1,
        "cookies": [
            {
                "name": "q",
                "value": '"a b"',
                "domain": "www.example.com",
                "path": "/",
                "host_only": True,
                "secure": False,
                "http_only": True,
                "same_site": "Lax",
                "expires": time.time() + 1000,
                "creation": 1.0,
                "last_access": 2.0,
                "seq": 0,
                "used": 0,
            }
        ],
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    jar = CookieJar()
    jar.load(tmp_path / "old.json")
    assert header(jar, "http://www.example.com/") == 'q="a b"'
    assert header(jar, "http://sub.www.example.com/") is None
    assert jar.host_only_cookies == {("www.example.com", "", "q")}


def test_save_load_keeps_undecodable_bytes(tmp_path: Path) -> None:
    """Header bytes that are not UTF-8 arrive as lone surrogates and must survive a save."""
    value = b"\xff\xfeok".decode("utf-8", "surrogateescape")
    jar = CookieJar(quote_cookie=False)
    set_cookies(jar, "http://example.com/", f"raw={value}")
    jar.save(tmp_path / "c.json")
    again = CookieJar(quote_cookie=False)
    again.load(tmp_path / "c.json")
    sent_header = header(again, "http://example.com/")
    assert sent_header is not None
    assert sent_header.encode("utf-8", "surrogateescape") == b"raw=\xff\xfeok"


# ------------------------------------------------------------------------ refusals


def test_pickle_is_refused_clearly(tmp_path: Path) -> None:
    """What aiohttp before 3.14 saved: never unpickled, a ValueError that says why."""
    target = tmp_path / "cookies.pickle"
    target.write_bytes(pickle.dumps({("example.com", ""): SimpleCookie("a=1")}))
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "keep=1")
    with pytest.raises(ValueError, match="pickle"):
        jar.load(target)
    assert [m.key for m in jar] == ["keep"]


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"format": "cyhttp-cookiejar", "version": 99, "cookies": []}',
        b'{"format": "cyhttp-cookiejar", "version": 1, "cookies": [{"name": "a"}]}',
        b'{"nobar": {}}',
        b'{"example.com|": []}',
        b'{"example.com|": {"a": "x"}}',
        b'{"example.com|": {"a": {"key": "a"}}}',
        b'{"example.com|": {"a": {"key": "a", "value": 1, "coded_value": "1"}}}',
        b'{"exa mple.com|": {"a": {"key": "a", "value": "1", "coded_value": "1"}}}',
    ],
)
def test_load_refuses_foreign_files(tmp_path: Path, content: bytes) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "keep=1")
    target = tmp_path / "c.json"
    target.write_bytes(content)
    with pytest.raises(ValueError):
        jar.load(target)
    assert [m.key for m in jar] == ["keep"]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("secure", "yes"),
        ("httponly", 1),
        ("expires_timestamp", "later"),
        ("expires_timestamp", True),
        ("path", 3),
        ("samesite", None),
        ("host_only", "true"),
        ("cyhttp", {"seq": "first"}),
        ("value", "1\r\nX-Injected: 1"),
        ("coded_value", "1; b=2"),
        ("coded_value", "a\x00"),
    ],
)
def test_load_refuses_bad_fields(tmp_path: Path, field: str, bad: object) -> None:
    """An edited file cannot smuggle what no Set-Cookie could store into a Cookie header."""
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1")
    jar.save(tmp_path / "c.json")
    document = json.loads((tmp_path / "c.json").read_text("utf-8"))
    document["example.com|"]["a"][field] = bad
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match=f"cookie 'a' in 'example.com|'.*{field}|invalid"):
        jar.load(tmp_path / "bad.json")
    assert [(m.key, m.value) for m in jar] == [("a", "1")]


@pytest.mark.parametrize("name", ["a=b", "", "a\x00", " a"])
def test_load_refuses_bad_names(tmp_path: Path, name: str) -> None:
    record = {"key": name, "value": "1", "coded_value": "1"}
    (tmp_path / "bad.json").write_text(json.dumps({"example.com|": {name: record}}))
    with pytest.raises(ValueError, match="invalid cookie name"):
        CookieJar().load(tmp_path / "bad.json")


def test_load_refuses_non_finite_numbers(tmp_path: Path) -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "a=1; Max-Age=100")
    jar.save(tmp_path / "c.json")
    document = json.loads((tmp_path / "c.json").read_text("ascii"))
    expires = document["example.com|"]["a"]["expires_timestamp"]
    text = (tmp_path / "c.json").read_text("ascii").replace(repr(expires), "NaN")
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(ValueError, match="expires_timestamp"):
        CookieJar().load(tmp_path / "c.json")


@pytest.mark.parametrize("quote", [True, False])
async def test_given_and_received_values_send_alike_after_a_reload(
    tmp_path: Path, quote: bool
) -> None:
    """A value given to update_cookies ("a b") and one received in quotes ('"a b"') are
    sent after a save and a load exactly as before, in both quoting modes; aiohttp reads
    the same file and sends the same for the given one."""
    jar = CookieJar(quote_cookie=quote)
    jar.update_cookies({"given": "a b", "semi": "x;y"}, URL("http://example.com/"))
    set_cookies(jar, "http://example.com/", 'received="a b"')
    before = header(jar, "http://example.com/")
    jar.save(tmp_path / "c.json")
    again = CookieJar(quote_cookie=quote)
    again.load(tmp_path / "c.json")
    assert header(again, "http://example.com/") == before
    assert before == (
        'given="a b"; semi="x\\073y"; received="a b"'
        if quote
        else 'given=a b; semi="x\\073y"; received="a b"'
    )
    theirs = aiohttp.CookieJar(quote_cookie=quote)
    theirs.load(tmp_path / "c.json")
    assert (
        sent(theirs, "http://example.com/")["given"] == sent(again, "http://example.com/")["given"]
    )
