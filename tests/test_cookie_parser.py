"""The RFC 6265 §5.2 Set-Cookie parser, attribute by attribute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyhttp.cookie_parser import (
    MAX_ATTRIBUTE_VALUE_LENGTH,
    MAX_NAME_VALUE_LENGTH,
    ParsedSetCookie,
    parse_set_cookie,
)


def parse(header: str) -> ParsedSetCookie:
    cookie = parse_set_cookie(header)
    assert cookie is not None, header
    return cookie


@pytest.mark.parametrize(
    ("header", "name", "value"),
    [
        ("a=b", "a", "b"),
        ("  a  =  b  ", "a", "b"),
        ("\ta\t=\tb\t", "a", "b"),
        ('a="quoted; not really"', "a", '"quoted'),
        ('a="x y"', "a", '"x y"'),
        ("a===b", "a", "==b"),
        ("a=", "a", ""),
        ("a=b, c=d", "a", "b, c=d"),  # a comma separates nothing
        ("$Version=1; foo=bar", "$Version", "1"),
        ("path=/x", "path", "/x"),  # attribute names are fine cookie names
        ("foo bar=baz", "foo bar", "baz"),
        ("春节=回家", "春节", "回家"),
    ],
)
def test_name_value(header: str, name: str, value: str) -> None:
    cookie = parse(header)
    assert (cookie.name, cookie.value) == (name, value)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        "foo",  # no '=': RFC 6265 ignores it
        "=foo",  # empty name
        "  =foo",
        "=",
        "foo;bar=baz",  # the '=' is in the attributes
        "a=b\x00c",  # control characters
        "a\x01=b",
        "a=b\rc",
        "a=b\x7f",
    ],
)
def test_ignored(header: str) -> None:
    assert parse_set_cookie(header) is None


def test_tab_is_not_a_control_character_inside_a_value() -> None:
    assert parse("a=b\tc").value == "b\tc"


def test_size_limit() -> None:
    assert parse("a=" + "x" * (MAX_NAME_VALUE_LENGTH - 1)).value.startswith("x")
    assert parse_set_cookie("a=" + "x" * MAX_NAME_VALUE_LENGTH) is None


def test_long_attribute_is_skipped_not_the_cookie() -> None:
    cookie = parse("a=b; Path=/" + "p" * MAX_ATTRIBUTE_VALUE_LENGTH)
    assert cookie.path is None
    assert parse("a=b; Path=/" + "p" * (MAX_ATTRIBUTE_VALUE_LENGTH - 1)).path is not None


def test_flags_case_insensitive_and_with_values() -> None:
    cookie = parse("a=b; seCURE=whatever; HTTPONLY")
    assert cookie.secure and cookie.http_only
    assert not parse('a=b; "Secure"').secure
    assert not parse("a=b; Secure qux").secure


@pytest.mark.parametrize(
    ("header", "max_age"),
    [
        ("a=b; Max-Age=60", 60),
        ("a=b; max-age=0", 0),
        ("a=b; Max-Age=-5", -5),
        ("a=b; Max-Age=50,399", None),
        ("a=b; Max-Age=2.63", None),
        ("a=b; Max-Age=+5", None),
        ("a=b; Max-Age=", None),
        ("a=b; Max-Age=-", None),
        ("a=b; Max-Age=60; Max-Age=x", 60),  # an unparsable one is skipped
        ("a=b; Max-Age=60; Max-Age=7", 7),  # the last valid one wins
        ("a=b; Max-Age=99999999999999999999999", 99999999999999999999999),
    ],
)
def test_max_age(header: str, max_age: int | None) -> None:
    assert parse(header).max_age == max_age


def test_expires() -> None:
    assert parse("a=b; Expires=Thu, 01 Jan 1970 00:00:10 GMT").expires == 10.0
    assert parse("a=b; Expires=garbage").expires is None
    assert parse("a=b; expires=Thu, 01 Jan 1970 00:00:10 GMT; expires=nope").expires == 10.0


def test_domain() -> None:
    assert parse("a=b; Domain=.Example.ORG").domain == "example.org"
    assert parse("a=b; Domain=..example.org").domain == ".example.org"
    assert parse("a=b; Domain=example.org; Domain=").domain == "example.org"
    assert parse("a=b; Domain=x.org; Domain=y.org").domain == "y.org"
    assert parse("a=b").domain is None


def test_path() -> None:
    assert parse("a=b; Path=/x/y").path == "/x/y"
    assert parse("a=b; Path=x").path is None
    assert parse("a=b; Path=").path is None
    assert parse("a=b; Path=/x; Path=").path is None  # last one: default path
    assert parse("a=b; Path=/; Path=/qux").path == "/qux"


def test_same_site_and_partitioned() -> None:
    assert parse("a=b; SameSite=lax").same_site == "Lax"
    assert parse("a=b; SameSite=STRICT").same_site == "Strict"
    assert parse("a=b; SameSite=None").same_site == "None"
    assert parse("a=b; SameSite=bogus").same_site is None
    assert parse("a=b; Partitioned").partitioned


def test_unknown_and_empty_attributes_are_ignored() -> None:
    cookie = parse("a=b; ;; =x; Version=1; Comment=hi; Secure")
    assert (cookie.name, cookie.value, cookie.secure) == ("a", "b", True)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=0, max_codepoint=0x2FFF), max_size=80))
def test_parser_never_fails_and_keeps_invariants(header: str) -> None:
    cookie = parse_set_cookie(header)
    if cookie is None:
        return
    assert cookie.name and "=" not in cookie.name
    for text in (cookie.name, cookie.value):
        assert ";" not in text and text == text.strip(" \t")
        assert not any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in text)
    assert cookie.path is None or cookie.path.startswith("/")
