"""Dates as Vietnamese portals print them, read as Asia/Ho_Chi_Minh local time.

Day-first numeric dates with any separator ("08.08.2019", "17 - 05 - 2024", "26/04/2019"),
spaces only after a weekday ("thứ năm, 08 08 2019 08:52"), spelled out ("ngày 5 tháng 7 năm
2024") and ISO 8601 (with its zone). A time before or after the date belongs to it.
Impossible dates ("281/11/2016", "31/02/2024"), sentinels ("31/12/9999") and dates in the
future are None: a portal's placeholder is not a publication date.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from bantin.localtime import LOCAL_TZ
from bantin.parse.text import clean

EARLIEST = dt.datetime(1995, 1, 1, tzinfo=LOCAL_TZ)  # before any Vietnamese government portal

_DATE = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*((?:19|20)\d{2})(?!\d)")
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.I)
# "thứ năm, 08 08 2019 08:52": spaces only, trusted after a weekday word.
_DATE_SPACES = re.compile(
    r"(?:thứ\s+\w+|chủ\s+nhật|ngày)\s*,?\s*(\d{1,2})\s+(\d{1,2})\s+((?:19|20)\d{2})(?!\d)", re.I
)
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3])\s*[:h]\s*([0-5]\d)(?:\s*:\s*([0-5]\d))?(?![\d:])(\s*[AaPp][Mm])?")
_ISO = re.compile(
    r"((?:19|20)\d{2})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?"
)


def _plausible(value: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    return value if EARLIEST <= value <= now + dt.timedelta(days=1) else None


def _from_iso(match: re.Match[str], now: dt.datetime) -> dt.datetime | None:
    y, mo, d, hh, mm, ss, zone = match.groups()
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if zone:
        z = zone.replace(":", "")
        offset = dt.timedelta(0) if z == "Z" else dt.timedelta(hours=int(z[:3]), minutes=int(z[0] + z[3:]))
        aware = value.replace(tzinfo=dt.timezone(offset)).astimezone(LOCAL_TZ)
    else:
        aware = value.replace(tzinfo=LOCAL_TZ)
    return _plausible(aware, now)


def parse_vietnamese_date(text: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The first date in `text` (with its time when given), aware in Asia/Ho_Chi_Minh, or None."""
    text = clean(text)
    if not text:
        return None
    now = now or dt.datetime.now(LOCAL_TZ)
    day_month_year: tuple[int, int, int] | None = None
    span = (0, 0)
    match = _DATE.search(text)
    if match is not None:
        day_month_year = (int(match.group(1)), int(match.group(3)), int(match.group(4)))
        span = match.span()
    else:
        words = _DATE_WORDS.search(text) or _DATE_SPACES.search(text)
        if words is not None:
            day_month_year = (int(words.group(1)), int(words.group(2)), int(words.group(3)))
            span = words.span()
    if day_month_year is None:
        iso = _ISO.search(text)
        return _from_iso(iso, now) if iso is not None else None
    day, month, year = day_month_year
    rest = text[: span[0]] + " " + text[span[1] :]
    hh = mm = ss = 0
    tmatch = _TIME.search(rest)
    if tmatch:
        hh, mm = int(tmatch.group(1)), int(tmatch.group(2))
        ss = int(tmatch.group(3) or 0)
        if (tmatch.group(4) or "").strip().lower() == "pm" and hh < 12:
            hh += 12
    try:
        value = dt.datetime(year, month, day, hh, mm, ss, tzinfo=LOCAL_TZ)
    except ValueError:
        return None
    return _plausible(value, now)


def has_time(text: str) -> bool:
    """True when the text gives a time of day besides its date."""
    text = clean(text)
    if _ISO.search(text) and "T" in text:
        return True
    return bool(_TIME.search(_DATE.sub(" ", text)))


def date_from_url(url: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """Publication time encoded in an article id: milliseconds (Liferay 3cms) or Unix seconds."""
    now = now or dt.datetime.now(LOCAL_TZ)
    path = urlsplit(url).path
    for token in reversed(re.findall(r"(?<!\d)(\d{10}|\d{13})(?!\d)", path)):
        seconds = int(token) / 1000 if len(token) == 13 else int(token)
        try:
            value = dt.datetime.fromtimestamp(seconds, tz=LOCAL_TZ)
        except (OverflowError, OSError, ValueError):
            continue
        if dt.datetime(2000, 1, 1, tzinfo=LOCAL_TZ) <= value <= now + dt.timedelta(days=1):
            return value
    return None


def refine_with_url(page_date: dt.datetime | None, page_has_time: bool, url: str) -> dt.datetime | None:
    """The URL id's timestamp when the page gives no date, or the same day without a time."""
    url_date = date_from_url(url)
    if page_date is None:
        return url_date
    if not page_has_time and url_date is not None and url_date.date() == page_date.date():
        return url_date
    return page_date
