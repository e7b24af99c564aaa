"""A portal that published for huyện Vĩnh Linh until July 2025 and for xã Vĩnh Linh since,
crawled offline across the date: each meeting lands under the unit of its date, a reader
of the old district receives both eras under today's unit, and a 2026 week's digest
names the new unit."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
from pathlib import Path

from sqlalchemy import select
from stored_queries import meeting_place, meeting_record
from typer.testing import CliRunner

from bantin.cli import app
from bantin.digest.mail import Subscriber
from bantin.jobs.crawl import crawl_sources
from bantin.jobs.db import database
from bantin.jobs.digest import run_digest
from bantin.jobs.extract import articles_to_do, extract_articles, load_articles
from bantin.places import REORGANISATION
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import Politeness, load_sources
from storage.meetings import StoredPlace
from storage.models import Article
from tests.crawl.conftest import FAST_FETCH

# vietnam-provinces codes: huyện Vĩnh Linh 464 of the legacy Quảng Trị 45; since July 2025
# xã Vĩnh Linh 19363 of Quảng Trị 44 (merged with Quảng Bình).
VINH_LINH_DISTRICT, LEGACY_QUANG_TRI, XA_VINH_LINH, QUANG_TRI = 464, 45, 19363, 44


def _crawl_and_extract(settings: Settings) -> dict[str, tuple[dt.date, StoredPlace]]:
    sources = [
        s.model_copy(update={"politeness": Politeness()})
        for s in load_sources(PROJECT_ROOT / "deploy" / "sources.yaml", only=["vinh-linh"])
    ]
    fast = settings.model_copy(update={"fetch": FAST_FETCH, "offline": True})
    _, (report,) = asyncio.run(crawl_sources(sources, fast, offline=True))
    assert report.ok and report.new_articles >= 12, report
    with database(settings).begin() as session:
        counts = extract_articles(session, load_articles(session, articles_to_do(session)))
        assert not counts["errors"]
    meetings: dict[str, tuple[dt.date, StoredPlace]] = {}
    with database(settings)() as session:
        for article_id, title in session.execute(select(Article.id, Article.title)):
            record = meeting_record(session, article_id)
            if record and record["is_meeting"] and record["meeting_date"]:
                place = meeting_place(session, article_id)
                assert place is not None
                meetings[title] = (dt.date.fromisoformat(record["meeting_date"]), place)
    return meetings


def test_meetings_land_under_the_unit_of_their_date_and_reach_the_old_districts_reader(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    meetings = _crawl_and_extract(sqlite_settings)
    before = {t: p for t, (day, p) in meetings.items() if day < REORGANISATION}
    after = {t: p for t, (day, p) in meetings.items() if day >= REORGANISATION}
    assert len(before) >= 3 and len(after) == 2, meetings
    for place in before.values():
        assert (place.legacy_district_code, place.legacy_province_code, place.ward_code) == (
            VINH_LINH_DISTRICT, LEGACY_QUANG_TRI, None
        )
    for place in after.values():
        assert (place.ward_code, place.legacy_district_code) == (XA_VINH_LINH, None)
    # both eras under today's province
    assert {place.province_code for _, place in meetings.values()} == {QUANG_TRI}

    # A reader who still follows the old district gets both eras, under today's unit.
    reader = Subscriber(name="Phóng viên Quảng Trị", email="pv@example.org", places=["Huyện Vĩnh Linh"])
    settings = sqlite_settings.model_copy(update={"archive_dir": tmp_path / "archive"})
    run = run_digest(settings, start="2022-01-01", end="2026-03-31", send=True, subscribers=[reader])
    (delivery,) = run.deliveries
    assert delivery.status != "failed", delivery.describe()
    (eml,) = (settings.data_dir / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "XÃ VĨNH LINH, Quảng Trị — trước 7/2025: huyện Vĩnh Linh" in text
    for title in [*before, *after]:
        assert title in text, title


def test_the_digest_of_a_2026_week_names_the_new_unit(sqlite_settings: Settings, tmp_path: Path) -> None:
    _crawl_and_extract(sqlite_settings)
    env = {
        "BANTIN_DATA_DIR": str(sqlite_settings.data_dir),
        "BANTIN_DATABASE_URL": sqlite_settings.resolved_database_url,
    }
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["digest", "--week", "2026-W11", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "Xã Vĩnh Linh: 1 meeting" in result.output
    text = (out / "2026-W11.txt").read_text(encoding="utf-8")
    assert "XÃ VĨNH LINH, Quảng Trị — trước 7/2025: huyện Vĩnh Linh" in text
    assert "Ban Thường vụ Đảng ủy xã Vĩnh Linh" in text and "Lê Văn Hùng" in text
    assert "Chi bộ thôn Tân Mỹ" in text
    html = (out / "2026-W11.html").read_text(encoding="utf-8")
    assert "trước 7/2025: huyện Vĩnh Linh" in html
