"""The cookie-date algorithm of RFC 6265 §5.1.1, which is how browsers read ``Expires``.

Servers send every date format ever invented ("Wed, 09 Jun 2021 10:18:14 GMT",
"Wednesday, 09-Jun-21 ...", asctime, JavaScript's ``Date.toString()``...), so the RFC does
not parse a grammar: it splits the text into tokens on delimiter characters and takes, in
order, the first token that looks like a time, a day of month, a month and a year. Anything
else (weekday names, "GMT", zone offsets, comments) is ignored; a date that lacks one of the
four parts, or names an impossible moment, is rejected (``None``), and the caller then
ignores the ``Expires`` attribute.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime

__all__ = ("format_cookie_date", "parse_cookie_date", "parse_cookie_date_timestamp")

# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E; every other character
# (digits, letters, ':', controls and all non-ASCII) belongs to a date-token.
_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")

# Each production is "digits, then optionally a non-digit followed by anything".
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_DAY_OF_MONTH = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?", re.DOTALL)
_YEAR = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?", re.DOTALL)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


def parse_cookie_date(text: str) -> datetime | None:
    """Return the UTC moment named by ``text``, or ``None`` when RFC 6265 rejects it."""
    time: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in _DELIMITERS.split(text):
        if not token:
            continue
        if time is None and (match := _TIME.fullmatch(token)):
            time = (int(match[1]), int(match[2]), int(match[3]))
        elif day is None and (match := _DAY_OF_MONTH.fullmatch(token)):
            day = int(match[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS[token[:3].lower()]
        elif year is None and (match := _YEAR.fullmatch(token)):
            year = int(match[1])
    if time is None or day is None or month is None or year is None:
        return None
    # Two-digit years: 70-99 are 1970-1999, 00-69 are 2000-2069 (step 3 and 4).
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = time
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:  # a day the month does not have, e.g. 31 Apr or 29 Feb 2007
        return None


def parse_cookie_date_timestamp(text: str) -> float | None:
    """Like :func:`parse_cookie_date`, as POSIX seconds (what the jar compares with)."""
    moment = parse_cookie_date(text)
    if moment is None:
        return None
    return float(calendar.timegm(moment.utctimetuple()))


def format_cookie_date(timestamp: float) -> str:
    """Format POSIX seconds as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").

    Independent of the process locale (``strftime("%a")`` is not); moments outside
    years 1..9999 are clamped so that any stored expiry can be shown.
    """
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        moment = (
            datetime.max.replace(tzinfo=UTC) if timestamp > 0 else datetime.min.replace(tzinfo=UTC)
        )
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {moment.day:02d} {_MONTH_NAMES[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )
