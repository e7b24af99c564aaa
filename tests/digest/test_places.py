"""Readers follow places, not strings: a legacy district brings its successor communes'
news, a 2025 commune its predecessor district's history; the digest groups by today's
unit with its history in the heading; unknown places are refused before anything is
written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from stored_queries import insert_articles
from typer.testing import CliRunner

from bantin.cli import app
from bantin.dedup import content_hash
from bantin.digest.mail import SubscribersError, load_subscribers
from bantin.digest.render import render
from bantin.digest.selection import DigestRange, build_digest
from bantin.jobs.digest import range_rows
from bantin.jobs.extract import extract_articles, load_articles
from bantin.localtime import LOCAL_TZ
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import parse_sources
from storage.articles import NewArticle, upsert_portals
from storage.session import make_engine

TZ = LOCAL_TZ.key
VN = dt.timezone(dt.timedelta(hours=7))
SEED_2024 = PROJECT_ROOT / "seeds" / "articles" / "000_5c1522404ab5e1ef.txt"
ARTICLE_2025 = PROJECT_ROOT / "tests" / "storage" / "articles" / "vinh_linh_2025_10.txt"
SOURCES = """\
sources:
  - id: vinh-linh
    name: "Cổng TTĐT Vĩnh Linh"
    district: "Vĩnh Linh"
    province: "Quảng Trị"
    unit: "Xã Vĩnh Linh"
    family: liferay
    base_url: "https://vinhlinh.quangtri.gov.vn"
    listing_urls: ["https://vinhlinh.quangtri.gov.vn/vi/tin-tuc"]
"""
BOTH_ERAS = DigestRange(dt.date(2024, 7, 1), dt.date(2025, 10, 31))
HEADING = "Xã Vĩnh Linh, Quảng Trị — trước 7/2025: huyện Vĩnh Linh"


def _article(path: Path) -> tuple[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    title = lines[1] if lines[0].startswith(("Chi tiết", "Thứ")) else lines[0]
    body = [line for line in lines if line != title and not line.startswith(("Chi tiết -", "Thứ tư", "Bài viết liên quan"))]
    return title, "\n\n".join(body)


def _store_both_eras(session: Session, settings: Settings) -> tuple[str, str]:
    upsert_portals(session, parse_sources(SOURCES, Path("sources.yaml")))
    old_title, old_text = _article(SEED_2024)
    new_title, new_text = _article(ARTICLE_2025)
    ids = insert_articles(session, [
        NewArticle("vinh-linh", "https://vinhlinh.quangtri.gov.vn/vi/a/2024", old_title, old_text,
                   dt.datetime(2024, 7, 8, 10, 0, tzinfo=VN), content_hash=content_hash(old_text)),
        NewArticle("vinh-linh", "https://vinhlinh.quangtri.gov.vn/vi/a/2025", new_title, new_text,
                   dt.datetime(2025, 10, 15, 9, 0, tzinfo=VN), content_hash=content_hash(new_text)),
    ])
    counts = extract_articles(session, load_articles(session, ids))
    session.commit()
    assert counts["meetings"] == 2, counts
    return old_title, new_title


def _titles(session: Session, places: tuple[str, ...]) -> set[str]:
    digest = build_digest(BOTH_ERAS, range_rows(session, BOTH_ERAS, TZ).articles, districts=places, timezone=TZ)
    return {m.title for d in digest.districts for m in d.meetings}


def test_a_reader_of_either_era_gets_the_meetings_of_the_place(session: Session, settings: Settings) -> None:
    old, new = _store_both_eras(session, settings)
    # the legacy district brings its successor communes' news
    assert _titles(session, ("Huyện Vĩnh Linh",)) == {old, new}
    # the new commune brings its predecessor district's history
    assert _titles(session, ("Xã Vĩnh Linh, Quảng Trị",)) == {old, new}
    # another commune formed from the same district: the district's history, not xã Vĩnh Linh's news
    assert _titles(session, ("Xã Bến Quan",)) == {old}
    # today's merged province and the legacy province alike
    assert _titles(session, ("Tỉnh Quảng Trị",)) == {old, new}
    assert _titles(session, ("vinh-linh",)) == {old, new}
    assert _titles(session, ("Lâm Bình",)) == set()


def test_the_digest_groups_by_todays_unit_with_its_history(session: Session, settings: Settings) -> None:
    _store_both_eras(session, settings)
    digest = build_digest(BOTH_ERAS, range_rows(session, BOTH_ERAS, TZ).articles, districts=("Huyện Vĩnh Linh",), timezone=TZ)
    (unit,) = digest.districts
    assert (unit.name, unit.province, unit.history) == ("Xã Vĩnh Linh", "Quảng Trị", "trước 7/2025: huyện Vĩnh Linh")
    assert [m.meeting_date for m in unit.meetings] == [dt.date(2024, 7, 5), dt.date(2025, 10, 14)]
    rendered = render(digest, timezone=TZ)
    assert HEADING in rendered.text.replace("XÃ VĨNH LINH", "Xã Vĩnh Linh")
    assert "trước 7/2025: huyện Vĩnh Linh" in rendered.html


def test_an_unknown_place_in_the_subscribers_file_is_named_with_line_and_nearest(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - name: An\n"
        "    email: an@example.org\n"
        "    places: [\"Huyện Vĩnh Linh\",\n"
        "             \"Xã Vĩnh Lihn\"]\n",
        encoding="utf-8",
    )
    with pytest.raises(SubscribersError) as error:
        load_subscribers(path)
    message = str(error.value)
    assert f"{path}:5: subscribers.0.places.1" in message
    assert "nearest known" in message and "Xã Vĩnh Linh, Tỉnh Quảng Trị" in message
    ok = tmp_path / "ok.yaml"
    ok.write_text("subscribers:\n  - {name: An, email: an@example.org, places: [Xã Vĩnh Linh], districts: [Hàm Yên]}\n",
                  encoding="utf-8")
    assert load_subscribers(ok)[0].followed == ["Xã Vĩnh Linh", "Hàm Yên"]


def test_digest_refuses_an_unknown_place_before_writing(sqlite_settings: Settings, tmp_path: Path) -> None:
    make_engine(sqlite_settings.resolved_database_url).dispose()
    out = tmp_path / "out"
    env = {"BANTIN_DATA_DIR": str(sqlite_settings.data_dir), "BANTIN_DATABASE_URL": sqlite_settings.resolved_database_url}
    result = CliRunner().invoke(app, ["digest", "--week", "2025-W42", "--district", "Vinh Lihn", "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert "--district 'Vinh Lihn'" in result.output and "Huyện Vĩnh Linh" in result.output
    assert not out.exists()
