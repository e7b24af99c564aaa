"""The digest as an e-mail-safe HTML page (CSS inlined) and as plain text."""

from __future__ import annotations

import datetime as dt
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
    return env


def heading(digest: DigestWeek) -> str:
    return f"Bản tin tuần {digest.label}" if "-W" in digest.label else "Bản tin các cuộc họp"


def period_text(digest: DigestWeek) -> str:
    return f"Từ {digest.start:%d/%m/%Y} đến {digest.end:%d/%m/%Y}"


def empty_text(digest: DigestWeek) -> str:
    span = f"({digest.start:%d/%m/%Y} – {digest.end:%d/%m/%Y})"
    where = f" tại {', '.join(digest.district_filter)}" if digest.district_filter else ""
    if "-W" in digest.label:
        return f"Không có cuộc họp nào được ghi nhận trong tuần {digest.label} {span}{where}."
    return f"Không có cuộc họp nào được ghi nhận trong thời gian {span}{where}."


def subject(digest: DigestWeek) -> str:
    if digest.is_empty:
        return f"{heading(digest)}: không có cuộc họp nào"
    return f"{heading(digest)}: {digest.meeting_count} cuộc họp tại {len(digest.districts)} địa phương"


_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)


def render(
    digest: DigestWeek,
    *,
    unsubscribe: str | None = None,
    timezone: str = LOCAL_TZ.key,
    templates_dir: Path = TEMPLATES_DIR,
) -> RenderedDigest:
    env = environment(templates_dir, timezone)
    context = {
        "digest": digest,
        "heading": heading(digest),
        "period_text": period_text(digest),
        "empty_text": empty_text(digest),
        "unsubscribe": unsubscribe,
    }
    html = env.get_template("digest.html").render(context)
    # Gmail and Outlook drop or ignore most <style> rules: inline them; media queries stay
    # in <head> for the clients that honour them (phones).
    html = _INLINER.inline(html)
    text = env.get_template("digest.txt").render(context)
    return RenderedDigest(subject=subject(digest), html=html, text=text)
