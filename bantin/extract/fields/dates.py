"""The meeting date, its year from the text, the period or the publication date."""

from __future__ import annotations

import datetime as dt
import re

from bantin.extract.fields.period import Period
from bantin.extract.layout import Layout
from bantin.extract.textnorm import rx

_DATE = rx(
    r"(?<![\w/])(?:(?:sáng|chiều|tối|trưa)(?:\s+nay)?\s+\(?(?:ngày\s+)?|ngày\s+|hôm\s+(?:nay\s+)?\(?)"
    r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{4}))?(?![\d/])"
)
_DATE_WORDS = rx(r"(?<![\w/])ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?")
_DEADLINE = rx(r"(?:trước|đến|từ|hết|sau|tới)\s+$")


def _find_date(norm: str, s: int, e: int) -> tuple[int, int, int | None] | None:
    found = []
    for pat in (_DATE, _DATE_WORDS):
        for m in pat.finditer(norm, s, e):
            if _DEADLINE.search(norm[max(s, m.start() - 8) : m.start()]):
                continue
            d, mo = int(m.group(1)), int(m.group(2))
            if 1 <= d <= 31 and 1 <= mo <= 12:
                found.append((m.start(), d, mo, int(m.group(3)) if m.group(3) else None))
                break
    if not found:
        return None
    _, d, mo, y = min(found)
    return d, mo, y


def meeting_date(layout: Layout, norm: str, period: Period | None, published: dt.date | None) -> dt.date | None:
    lines = [ln for ln in layout.lines if ln.kind == "lead"][:1] + [ln for ln in layout.lines if ln.kind == "body"][:1]
    found = None
    for ln in lines:
        # the date stands in the first sentences of the report
        for s, e in ln.sentences[:2]:
            found = _find_date(norm, s, e)
            if found:
                break
        if found:
            break
    if not found:
        return None
    d, mo, y = found
    if y is None:
        y = _infer_year(mo, d, period, published)
    if y is None:
        y = _year_in_text(norm, d, mo)
    if y is None:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


_YEAR_MENTION = rx(r"(?<![\d/.\-–])(?:năm\s+)?(20\d\d|19\d\d)(?![\d/\-–]|\s*[-–]\s*\d)")
_HORIZON = rx(r"(?:đến|tới|giai đoạn|nhiệm kỳ|trước|sau|từ|khoá|khóa|số|ngày \d{1,2} tháng \d{1,2})\s*(?:năm\s*)?$")


def _year_in_text(norm: str, day: int, month: int) -> int | None:
    """Without a publication date: the same day written in full elsewhere ("ngày 21/3/2017"),
    else the year the text speaks of most, leaving out horizons ("đến năm 2020", "nhiệm kỳ")."""
    full = re.search(rf"(?<!\d){day}\s*[/\-.]\s*0?{month}\s*[/\-.]\s*(\d{{4}})(?!\d)", norm)
    if full:
        return int(full.group(1))
    counts: dict[int, int] = {}
    for m in _YEAR_MENTION.finditer(norm):
        before = norm[max(0, m.start() - 25) : m.start()]
        if _HORIZON.search(before) or re.search(r"[-–]\s*$", before):
            continue  # a horizon, or the end of a range ("2023 - 2028")
        year = int(m.group(1))
        counts[year] = counts.get(year, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda y: (counts[y], y))


def _infer_year(month: int, day: int, period: Period | None, published: dt.date | None) -> int | None:
    candidates: list[int] = []
    if period is not None and period.year:
        y = period.year
        # the report on a period ending in December is held in the new year ("quý IV/2023" on 5/1)
        if period.ends_in_december and month <= 3:
            y += 1
        candidates.append(y)
    if published is not None:
        # no meeting is reported before it took place: 28/12 in a January article is last year's
        y = published.year
        if (month, day) > (published.month, published.day):
            y -= 1
        candidates.append(y)
    if not candidates:
        return None
    if published is not None and len(candidates) == 2:
        text_year = candidates[0]
        try:
            if dt.date(text_year, month, day) <= published:
                return text_year
        except ValueError:
            pass
        return candidates[1]
    return candidates[0]
