"""The RFC 6265 §5.1.1 cookie-date algorithm: the http-state vectors, then its edges."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cyhttp.cookie_dates import format_cookie_date, parse_cookie_date, parse_cookie_date_timestamp

from .conftest import conformance_file


def _date_vectors() -> list[Any]:
    path = conformance_file("http-state-dates.json")
    document = json.loads(path.read_text("utf-8"))
    return [
        pytest.param(vector["test"], vector["expected"], id=f"{source}:{index}")
        for source, vectors in document["files"].items()
        for index, vector in enumerate(vectors)
    ]


@pytest.mark.parametrize(("text", "expected"), _date_vectors())
def test_http_state_date_vectors(text: str, expected: str | None) -> None:
    timestamp = parse_cookie_date_timestamp(text)
    shown = None if timestamp is None else format_cookie_date(timestamp)
    assert shown == expected


def test_vector_count() -> None:
    """Every vector of the suite is collected above (15 examples + 55 from Chromium)."""
    assert len(_date_vectors()) == 70


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("1 Jan 70 00:00:00", 1970),
        ("1 Jan 99 00:00:00", 1999),
        ("1 Jan 00 00:00:00", 2000),
        ("1 Jan 69 00:00:00", 2069),
        ("1 Jan 1601 00:00:00", 1601),
        ("1 Jan 9999 00:00:00", 9999),
    ],
)
def test_two_digit_years_and_range(text: str, year: int) -> None:
    moment = parse_cookie_date(text)
    assert moment is not None and moment.year == year


@pytest.mark.parametrize(
    "text",
    [
        "1 Jan 1600 00:00:00",  # before 1601
        "29 Feb 2007 00:00:00",  # not a leap year
        "31 Apr 2020 00:00:00",  # April has 30 days
        "0 Jan 2020 00:00:00",  # day 0
        "1 Jan 2020 24:00:00",  # hour 24
        "1 Jan 2020 23:60:00",  # minute 60
        "1 Jan 2020 23:59:60",  # no leap seconds
        "1 Jan 2020",  # no time
        "1 2020 00:00:00",  # no month
        "Jan 2020 00:00:00",  # no day (2020 is taken as the year, no day left)
        "",
        "\x00\x01\x02",
    ],
)
def test_rejected(text: str) -> None:
    assert parse_cookie_date(text) is None
    assert parse_cookie_date_timestamp(text) is None


def test_leap_day_and_result_is_utc() -> None:
    assert parse_cookie_date("29 Feb 2024 12:34:56") == datetime(
        2024, 2, 29, 12, 34, 56, tzinfo=UTC
    )


def test_non_ascii_is_part_of_tokens() -> None:
    # Characters above 0x7F are non-delimiters: "15é" is not a day-of-month token,
    # but a digit followed by a non-digit is ("15é" matches 1*2DIGIT non-digit *OCTET).
    assert parse_cookie_date("15é Apr 2017 21:01:22") == datetime(
        2017, 4, 15, 21, 1, 22, tzinfo=UTC
    )
    assert parse_cookie_date("é15 Apr 2017 21:01:22") is None


def test_format_is_imf_fixdate() -> None:
    assert format_cookie_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert format_cookie_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_format_clamps_out_of_range_moments() -> None:
    assert format_cookie_date(1e20).startswith("Fri, 31 Dec 9999")
    assert format_cookie_date(-1e20).startswith("Mon, 01 Jan 0001")
