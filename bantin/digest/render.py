"""The digest as an e-mail-safe HTML page (CSS inlined) and as plain text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import css_inline
import jinja2

from bantin.digest.model import DigestWeek
from bantin.digest.selection import district_key
from bantin.localtime import LOCAL_TZ
from bantin.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"

KIND_LABELS = {"working_session": "Buổi làm việc", "committee_conference": "Hội nghị"}
# The extractor's topic codes (bantin.topics.Topic) in the readers' words; an
# unknown code is shown as it is.
TOPIC_LABELS = {
    "economy_agriculture": "Kinh tế, nông nghiệp",
    "budget_investment": "Ngân sách, đầu tư",
    "new_rural_development": "Nông thôn mới",
    "party_building_personnel": "Xây dựng Đảng, cán bộ",
    "culture_education_health_welfare": "Văn hóa, giáo dục, y tế, an sinh",
    "defence_security": "Quốc phòng, an ninh",
    "administration": "Quản lý hành chính, đất đai",
    "other": "Khác",
}


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


@lru_cache(maxsize=4)
def environment(templates_dir: Path = TEMPLATES_DIR, timezone: str = LOCAL_TZ.key) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        # Article titles and quotes come from the web: escape everything in HTML.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    zone = ZoneInfo(timezone)

    def vn_date(value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(zone).date()
        return value.strftime("%d/%m/%Y")

    def vn_datetime(value: dt.datetime | None) -> str:
        return value.astimezone(zone).strftime("%H:%M %d/%m/%Y") if value else ""

    env.filters["vn_date"] = vn_date
    env.filters["vn_datetime"] = vn_datetime
    env.filters["kind_label"] = lambda k: KIND_LABELS.get(k, k)
    env.filters["topic_label"] = lambda t: TOPIC_LABELS.get(t, t)
    env.filters["anchor"] = lambda name: "d-" + district_key(name)
    env.filters["short_date"] = short_date
    return env


def is_iso_week(start: dt.date, end: dt.date) -> bool:
    return start.isoweekday() == 1 and end == start + dt.timedelta(days=6)


def span(start: dt.date, end: dt.date) -> str:
    """'01–07/07/2024', '29/07–04/08/2024', '30/12/2024–05/01/2025' (day first, as readers write it)."""
    if start.year != end.year:
        return f"{start:%d/%m/%Y}–{end:%d/%m/%Y}"
    if start.month != end.month:
        return f"{start:%d/%m}–{end:%d/%m/%Y}"
    return f"{start:%d}–{end:%d/%m/%Y}"


def week_name(start: dt.date, end: dt.date) -> str:
    """How a reader names the range: 'Tuần 27 (01–07/07/2024)' for an ISO week, else
    'Từ 24/06/2022 đến 08/07/2024'. (The ISO key "2024-W27" stays internal: ledger, file names.)"""
    if is_iso_week(start, end):
        return f"Tuần {start.isocalendar().week} ({span(start, end)})"
    return f"Từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}"


def heading(digest: DigestWeek) -> str:
    name = week_name(digest.start, digest.end)
    return name if is_iso_week(digest.start, digest.end) else f"Bản tin {name[:1].lower()}{name[1:]}"


def period_text(digest: DigestWeek) -> str:
    return f"Từ {digest.start:%d/%m/%Y} đến {digest.end:%d/%m/%Y}"


def empty_text(digest: DigestWeek) -> str:
    where = f" tại {', '.join(digest.district_filter)}" if digest.district_filter else ""
    if is_iso_week(digest.start, digest.end):
        return f"Không có cuộc họp nào được ghi nhận trong tuần {digest.start.isocalendar().week} ({span(digest.start, digest.end)}){where}."
    return f"Không có cuộc họp nào được ghi nhận trong thời gian {span(digest.start, digest.end)}{where}."


def subject(digest: DigestWeek) -> str:
    """'Tuần 27 (01–07/07/2024): 3 cuộc họp tại 2 địa phương, 2 hạn chế được nêu lại'."""
    if digest.is_empty:
        return f"{heading(digest)}: không có cuộc họp nào"
    where = digest.districts[0].name if digest.place_count == 1 and digest.districts else f"{digest.place_count} địa phương"
    again = f", {digest.recurring_count} hạn chế được nêu lại" if digest.recurring_count else ""
    return f"{heading(digest)}: {digest.meeting_count} cuộc họp tại {where}{again}"


def short_date(value: dt.date, year: int) -> str:
    """'12/06' in the digest's year, '12/06/2023' otherwise."""
    return f"{value:%d/%m}" if value.year == year else f"{value:%d/%m/%Y}"


_INDENT = re.compile(r"\n[ \t]+")
# A class attribute inside a tag (text nodes carry '<' and '>' escaped, so never match).
_CLASS = re.compile(r'(<[a-zA-Z][^<>]*?)\sclass="([^"]*)"')
# Kept: the classes the phone media query uses, and the container (a handle for tests and readers' tools).
KEPT_CLASSES = frozenset({"section", "masthead", "meta-label", "container"})


def _kept_classes(match: re.Match[str]) -> str:
    kept = [c for c in match.group(2).split() if c in KEPT_CLASSES]
    return match.group(1) + (f' class="{" ".join(kept)}"' if kept else "")
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)


def inline_css(html: str) -> str:
    """Every <style> rule onto the elements (media queries stay in <head>)."""
    return _INLINER.inline(html)


def render(
    digest: DigestWeek,
    *,
    unsubscribe: str | None = None,
    timezone: str = LOCAL_TZ.key,
    templates_dir: Path = TEMPLATES_DIR,
    archive_url: str | None = None,
) -> RenderedDigest:
    """The digest as HTML (CSS inlined) and text. `archive_url`: the whole digest's page,
    linked from the footer (a cut digest, `digest.cut`, links its own)."""
    env = environment(templates_dir, timezone)
    context = {
        "digest": digest,
        "heading": heading(digest),
        "period_text": period_text(digest),
        "empty_text": empty_text(digest),
        "unsubscribe": unsubscribe,
        "archive_url": digest.cut.archive_url if digest.cut else archive_url,
        "year": digest.end.year,
        "is_week": is_iso_week(digest.start, digest.end),
    }
    html = env.get_template("digest.html").render(context)
    # Gmail and Outlook drop or ignore most <style> rules: inline them; media queries stay
    # in <head> for the clients that honour them (phones).
    # Bytes a mail can spare (Gmail clips at 102 KB): the templates' indentation, and the
    # class names once their rules are inlined (those the phone media query uses stay).
    html = _CLASS.sub(_kept_classes, _INDENT.sub("\n", inline_css(html)))
    text = env.get_template("digest.txt").render(context)
    return RenderedDigest(subject=subject(digest), html=html, text=text)
