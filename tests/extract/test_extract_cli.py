"""`bantin extract PATH...`: JSON lines in the gold shape, from .txt and .html files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from bantin.cli import app
from bantin.settings import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds" / "articles"
ARTICLES = Path(__file__).parent / "articles"


def run(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(app, ["extract", *args])
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, records, result.output


def test_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    code, records, output = run(str(SEEDS / "000_5c1522404ab5e1ef.txt"), str(tmp_path / "nope.txt"))
    assert code == 2 and records == []
    assert "nope.txt: no such file" in output


def test_portal_from_the_seed_manifest() -> None:
    # seed 002 names neither its district nor its province: the manifest does
    code, records, _ = run(str(SEEDS / "002_7e2c746a46d81366.txt"))
    assert code == 0
    (r,) = records
    assert r["source"] == str(SEEDS / "002_7e2c746a46d81366.txt")
    assert (r["district"], r["province"]) == ("Châu Thành", "An Giang")
    assert r["commune_codes"] == [30598]


def test_district_from_the_text_when_unknown(tmp_path: Path) -> None:
    path = tmp_path / "bai.txt"
    path.write_text((ARTICLES / "09_bi_thu_lam_viec_tai_xa.txt").read_text(encoding="utf-8"), encoding="utf-8")
    code, records, _ = run(str(path))
    assert code == 0
    assert (records[0]["district"], records[0]["province"]) == ("Lâm Bình", "Tuyên Quang")


def test_options_override_and_published_dates_the_year(tmp_path: Path) -> None:
    path = tmp_path / "giao-ban.txt"
    text = (ARTICLES / "01_giao_ban_xa.txt").read_text(encoding="utf-8").replace("tháng 11 năm 2023", "tháng 11")
    path.write_text(text, encoding="utf-8")
    code, records, _ = run(str(path), "--district", "Vĩnh Linh", "--province", "Quảng Trị", "--published", "2021-12-20")
    assert code == 0 and records[0]["meeting_date"] == "2021-12-15"
    code, _, output = run(str(path), "--published", "20/12/2021")
    assert code == 2 and "YYYY-MM-DD" in output


def test_html_page_through_the_parser(tmp_path: Path) -> None:
    from bantin.fixtures.portals import load_portals
    from bantin.fixtures.render import Renderer

    portal = next(p for p in load_portals() if p.id == "vinh-linh")
    article = next(a for a in portal.articles if a.seed_file and a.seed_file.endswith("000_5c1522404ab5e1ef.txt"))
    page = tmp_path / "vinh-lam.html"
    page.write_text(Renderer().article(portal, article, today=dt.date(2024, 12, 6)), encoding="utf-8")
    code, records, _ = run(str(page), "--district", "Vĩnh Linh", "--province", "Quảng Trị")
    assert code == 0
    (r,) = records
    assert r["source"] == str(page)
    assert r["is_meeting"] and r["meeting_date"] == "2024-07-05"
    assert r["chair"] == {"name": "Trần Nhật Quang", "title": "Bí thư Huyện ủy Vĩnh Linh"}
    assert r["communes"] == ["Vĩnh Lâm"] and r["kind"] == "working_session"
    assert len(r["directives"]) >= 6 and len(r["shortfalls"]) >= 3
    # no menu, header date or related story leaks into the quotes
    quoted = " ".join(i["text"] for k in ("achievements", "shortfalls", "directives") for i in r[k])
    assert "Trang chủ" not in quoted and "Bài viết liên quan" not in quoted
