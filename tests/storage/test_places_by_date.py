"""Units by date: a portal names the units it publishes for (validated against
vietnam-provinces when the sources file is loaded), and each meeting is stored under
the units in force on its date, findable by the codes of either era."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from stored_queries import article_ids_in_places, insert_articles, meeting_place
from typer.testing import CliRunner

from bantin.cli import app
from bantin.dedup import content_hash
from bantin.jobs.extract import extract_articles, load_articles
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import SourcesError, parse_sources
from storage.articles import NewArticle, upsert_portals

VN = dt.timezone(dt.timedelta(hours=7))
ARTICLES = Path(__file__).parent / "articles"
SEED_2024 = PROJECT_ROOT / "seeds" / "articles" / "000_5c1522404ab5e1ef.txt"

ENTRY = """\
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
# vietnam-provinces codes: legacy Quảng Trị 45 and its huyện Vĩnh Linh 464; since
# July 2025 Quảng Trị (merged with Quảng Bình) is 44 and xã Vĩnh Linh 19363.
LEGACY_QUANG_TRI, VINH_LINH_DISTRICT, QUANG_TRI, XA_VINH_LINH = 45, 464, 44, 19363


def test_a_source_names_its_units_of_both_eras() -> None:
    (source,) = parse_sources(ENTRY, Path("sources.yaml"))
    codes = source.place_codes
    assert (codes.legacy_province_code, codes.legacy_district_code) == (LEGACY_QUANG_TRI, VINH_LINH_DISTRICT)
    assert (codes.province_code, codes.ward_code) == (QUANG_TRI, XA_VINH_LINH)
    # by code alone, too
    by_code = ENTRY.replace('    unit: "Xã Vĩnh Linh"\n', "    unit_code: 19363\n")
    assert parse_sources(by_code, Path("s.yaml"))[0].place_codes == codes


@pytest.mark.parametrize(
    ("edit", "line", "field", "nearest"),
    [
        (lambda t: t.replace('district: "Vĩnh Linh"', 'district: "Vĩnh Lihn"'), 4, "district", "Huyện Vĩnh Linh"),
        (lambda t: t.replace('unit: "Xã Vĩnh Linh"', 'unit: "Xã Vĩnh Lin"'), 6, "unit", "Xã Vĩnh Linh"),
        (lambda t: t.replace('province: "Quảng Trị"', 'province: "Quảng Trụ"'), 5, "province", "Tỉnh Quảng Trị"),
    ],
)
def test_an_unknown_place_exits_2_naming_file_line_field_and_nearest_names(
    tmp_path: Path, edit, line: int, field: str, nearest: str  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(edit(ENTRY), encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "--offline", "--sources-file", str(path)], env={"BANTIN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}:" in result.output and f".{field}:" in result.output
    assert "nearest known" in result.output and nearest in result.output
    assert not (tmp_path / "bantin.sqlite3").exists()


def test_a_code_that_contradicts_the_name_is_refused() -> None:
    wrong = ENTRY.replace('    unit: "Xã Vĩnh Linh"\n', '    unit: "Xã Vĩnh Linh"\n    unit_code: 19366\n')
    with pytest.raises(SourcesError, match=r"sources\[0\] \(id=vinh-linh\)\.unit: .*code 19366"):
        parse_sources(wrong, Path("s.yaml"))


def _article(path: Path) -> tuple[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    title = lines[1] if lines[0].startswith(("Chi tiết", "Thứ")) else lines[0]
    body = [line for line in lines if line != title and not line.startswith(("Chi tiết -", "Thứ tư", "Bài viết liên quan"))]
    return title, "\n\n".join(body)


def test_meetings_are_stored_under_the_units_of_their_date(session: Session, settings: Settings) -> None:
    (source,) = parse_sources(ENTRY, Path("sources.yaml"))
    upsert_portals(session, [source])
    old_title, old_text = _article(SEED_2024)
    new_title, new_text = _article(ARTICLES / "vinh_linh_2025_10.txt")
    before, after = insert_articles(session, [
        NewArticle("vinh-linh", "https://vinhlinh.quangtri.gov.vn/vi/a/2024", old_title, old_text,
                   dt.datetime(2024, 7, 8, 10, 0, tzinfo=VN), content_hash=content_hash(old_text)),
        NewArticle("vinh-linh", "https://vinhlinh.quangtri.gov.vn/vi/a/2025", new_title, new_text,
                   dt.datetime(2025, 10, 15, 9, 0, tzinfo=VN), content_hash=content_hash(new_text)),
    ])
    counts = extract_articles(session, load_articles(session, [before, after]))
    session.commit()
    assert counts["meetings"] == 2 and not counts["errors"]

    old, new = meeting_place(session, before), meeting_place(session, after)
    assert old is not None and new is not None
    # 5 July 2024: huyện Vĩnh Linh of the old Quảng Trị (and the province that absorbed it)
    assert (old.legacy_district_code, old.legacy_province_code, old.ward_code) == (VINH_LINH_DISTRICT, LEGACY_QUANG_TRI, None)
    assert old.province_code == QUANG_TRI
    # 14 October 2025: xã Vĩnh Linh of today's Quảng Trị; no district any more
    assert (new.ward_code, new.province_code, new.legacy_district_code) == (XA_VINH_LINH, QUANG_TRI, None)

    assert article_ids_in_places(session, legacy_district_codes=[VINH_LINH_DISTRICT]) == {before}
    assert article_ids_in_places(session, ward_codes=[XA_VINH_LINH]) == {after}
    assert article_ids_in_places(session, province_codes=[QUANG_TRI]) == {before, after}
