"""`bantin crawl` refuses a bad registry before any request, naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bantin.cli import app

ENTRY = """\
sources:
  - id: vinh-linh
    name: "Cổng TTĐT huyện Vĩnh Linh"
    district: "Vĩnh Linh"
    province: "Quảng Trị"
    family: liferay
    base_url: "https://vinhlinh.quangtri.gov.vn"
    listing_urls: ["https://vinhlinh.quangtri.gov.vn/vi/tin-tuc"]
"""


@pytest.mark.parametrize(
    ("edit", "line", "needle"),
    [
        (lambda t: t.replace("    family: liferay\n", "    family: liferay\n    colour: red\n"), 7, "colour"),
        (lambda t: t.replace('base_url: "https://', 'base_url: "htps://'), 7, "base_url"),
        (lambda t: t.replace("listing_urls: [", "listing_urls: [[").rstrip() + "\n", None, "yaml"),
        (lambda t: t + t.split("\n", 1)[1], 9, "duplicate id"),
    ],
)
def test_bad_sources_exit_2_naming_file_line_field(
    tmp_path: Path, edit, line: int | None, needle: str  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(edit(ENTRY), encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "--offline", "--sources-file", str(path)], env={"BANTIN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and needle in result.output
    if line is not None:
        assert f"{path}:{line}:" in result.output
    assert not (tmp_path / "bantin.sqlite3").exists()  # failed before touching anything


def test_unknown_source_id_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(ENTRY, encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "--sources-file", str(path), "--source", "nowhere"])
    assert result.exit_code == 2 and "unknown source id 'nowhere'" in result.output
