"""The reporting period the meeting reviews, as the article words it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bantin.extract.layout import Layout
from bantin.extract.textnorm import rx

_PERIOD = rx(
    r"(?P<half>(?:\d{1,2}|sáu|chín)\s+tháng(?:\s+(?:đầu|cuối))?\s+năm(?:\s+(?P<hy>\d{4}))?)"
    r"|(?P<quarter>quý\s+(?P<q>IV|I{1,3}|[1-4])(?:\s*(?:/|năm)\s*(?P<qy>\d{4}))?)"
    r"|(?P<month>tháng\s+(?P<m>\d{1,2})(?:\s*(?:/|năm)\s*(?P<my>\d{4}))?(?!\s*(?:tháng|/\d)))"
    r"|(?P<year>năm\s+(?P<yy>\d{4})(?!\s*[-–]))"
)
# Periods that carry no single year: a term, a school year, a stage, "5 năm qua"
_SPAN_PERIOD = rx(
    r"nhiệm kỳ\s+(?:qua|vừa qua)|năm học\s+\d{4}\s*[-–]\s*\d{4}|(?:\d{1,2}|hai|ba|bốn|năm|mười)\s+năm\s+(?:qua|vừa qua)|"
    r"(?<=tổng kết )giai đoạn\s+\d{4}\s*[-–]\s*\d{4}|(?<=sơ kết )giai đoạn\s+\d{4}\s*[-–]\s*\d{4}"
)
# "nhiệm kỳ 2020-2025" names the period of a congress only; elsewhere it is someone's term of office
_TERM = rx(r"nhiệm kỳ\s+\d{4}\s*[-–]\s*\d{4}")
_CONGRESS = rx(r"\bđại hội\b")
_FORWARD_BEFORE = rx(r"(?:phương hướng|triển khai|kế hoạch|tới|tiếp theo)[^.;]{0,25}$")
_YEAR_CONTEXT = rx(r"(?:tổng kết|kết quả|tình hình|đánh giá|thực hiện nhiệm vụ|công tác)[^.;]{0,40}$")


@dataclass
class Period:
    text: str  # as the article words it (original spelling), year attached when borrowed
    start: int
    end: int
    year: int | None
    ends_in_december: bool
    kind: str


def _ends_december(kind: str, m: re.Match[str]) -> bool:
    g = m.group(0).lower()
    if kind == "half":
        return "cuối" in g or g.startswith("12")
    if kind == "quarter":
        return m.group("q").upper() in ("IV", "4")
    if kind == "month":
        return int(m.group("m")) == 12
    return kind == "year"


def _reviewed_term(layout: Layout, norm: str) -> re.Match[str] | None:
    """A congress reviews the term that ends and opens the next: of two terms named, the
    earlier is the period ("nhiệm kỳ 2018-2023" at the congress of 2023-2028); one alone
    is the term it opens, not a period."""
    if layout.title is None or not _CONGRESS.search(norm, layout.title.start, layout.title.end):
        return None
    terms: dict[int, re.Match[str]] = {}
    for ln in layout.lines:
        if ln.kind in ("lead", "body"):
            for m in _TERM.finditer(norm, ln.start, ln.end):
                terms.setdefault(int(re.search(r"\d{4}", m.group(0)).group(0)), m)  # type: ignore[union-attr]
    return terms[min(terms)] if len(terms) >= 2 else None


def reporting_period(layout: Layout, norm: str, original_of: Callable[[int, int], str]) -> Period | None:
    """The period the meeting reviewed: the first specific one ("6 tháng đầu năm 2024",
    "quý I/2023", "tháng 02 ...") that looks back, in the lead, then the body, then the
    headline; else a whole year in a reporting context ("tổng kết ... năm 2023")."""
    lines = [ln for ln in layout.lines if ln.kind in ("lead", "body")]
    if layout.title:
        lines.append(layout.title)
    best_year: Period | None = None
    congress_term = _reviewed_term(layout, norm)
    for ln in lines:
        for s, e in ln.sentences:
            span = _SPAN_PERIOD.search(norm, s, e)
            if span is None and congress_term is not None and congress_term.start() >= s and congress_term.end() <= e:
                span = congress_term
            ms = list(_PERIOD.finditer(norm, s, e))
            if span and not _FORWARD_BEFORE.search(norm[s : span.start()]) and not any(m.start() < span.start() for m in ms if not m.group("year")):
                return Period(original_of(span.start(), span.end()), span.start(), span.end(), None, False, "span")
            for i, m in enumerate(ms):
                kind = next(k for k in ("half", "quarter", "month", "year") if m.group(k))
                if kind == "month" and re.search(r"ngày\s+\d{1,2}\s+$", norm[max(s, m.start() - 10) : m.start()], re.I):
                    continue
                before = norm[s : m.start()]
                g = m.group(0)
                if "cuối" in g.lower() or _FORWARD_BEFORE.search(before):
                    continue
                year_s = m.group({"half": "hy", "quarter": "qy", "month": "my", "year": "yy"}[kind])
                text = original_of(m.start(), m.end())
                if year_s is None:
                    # "quý I, ... nhiệm vụ quý II/2023": the year is written once, on the later period
                    later = next((n for n in ms[i + 1 :] if re.search(r"\d{4}", n.group(0))), None)
                    if later is None:
                        if kind == "year":
                            continue
                        # "7 tháng đầu năm": the period as worded, its year left to the date
                        return Period(text, m.start(), m.end(), None, _ends_december(kind, m), kind)
                    year_s = re.search(r"\d{4}", later.group(0)).group(0)  # type: ignore[union-attr]
                    lg = later.group(0)
                    if g.lower().rstrip().endswith("năm"):
                        text = f"{text} {year_s}"
                    elif re.search(r"/\s*\d{4}$", lg):
                        text = f"{text}/{year_s}"
                    else:
                        text = f"{text} năm {year_s}"
                p = Period(text, m.start(), m.end(), int(year_s), _ends_december(kind, m), kind)
                if kind != "year":
                    return p
                opens = not before.strip(" ,.-–") and ln.kind in ("lead", "body")  # "Năm 2020, dưới sự lãnh đạo ..."
                if best_year is None and (opens or ln.kind in ("lead", "title") and _YEAR_CONTEXT.search(before)):
                    best_year = p
    return best_year
