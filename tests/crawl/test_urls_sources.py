"""URL canonicalisation and the sources registry (errors name file, line and field)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bantin.sources import SourcesError, load_sources, parse_sources
from bantin.urls import canonicalize_url

GOOD = """\
sources:
  - id: vinh-linh
    name: "Cổng TTĐT huyện Vĩnh Linh"
    district: "Vĩnh Linh"
    province: "Quảng Trị"
    family: liferay
    base_url: "https://vinhlinh.quangtri.gov.vn"
    listing_urls: ["https://vinhlinh.quangtri.gov.vn/vi/tin-tuc"]
    verify_tls: false
    politeness: {requests_per_second: 0.5, concurrency: 1}
  - id: moi
    name: "Cổng mới"
    district: null
    province: "An Giang"
    family: joomla
    base_url: "https://moi.angiang.gov.vn/"
    listing_urls: ["https://moi.angiang.gov.vn/tin-tuc"]
"""


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://VinhLinh.QuangTri.gov.vn:443/vi/tin-tuc#top", "https://vinhlinh.quangtri.gov.vn/vi/tin-tuc"),
        ("https://x.gov.vn/a?utm_source=fb&b=2&fbclid=Z&a=1&gclid=1", "https://x.gov.vn/a?a=1&b=2"),
        ("https://x.gov.vn/tin-tức/a.html", "https://x.gov.vn/tin-t%E1%BB%A9c/a.html"),
        ("https://x.gov.vn/tin-t%e1%bb%a9c/a.html", "https://x.gov.vn/tin-t%E1%BB%A9c/a.html"),
        (unicodedata.normalize("NFD", "https://x.gov.vn/tin-tức/a.html"), "https://x.gov.vn/tin-t%E1%BB%A9c/a.html"),
        ("http://x.gov.vn:8080", "http://x.gov.vn:8080/"),
        ("https://x.gov.vn/a b", "https://x.gov.vn/a%20b"),
    ],
)
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical
    assert canonicalize_url(canonical) == canonical  # a fixed point


def test_relative_links_resolve() -> None:
    base = "https://lambinh.tuyenquang.gov.vn/tin-tuc-su-kien/trang-2.html"
    assert canonicalize_url("../tin-hoat-dong/a.html", base=base) == "https://lambinh.tuyenquang.gov.vn/tin-hoat-dong/a.html"


def test_good_registry_and_unknown_family_is_generic(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(GOOD, encoding="utf-8")
    vinh_linh, moi = load_sources(path)
    assert vinh_linh.family == "liferay" and not vinh_linh.generic and not vinh_linh.verify_tls
    assert vinh_linh.politeness.requests_per_second == 0.5
    assert moi.generic and moi.base_url == "https://moi.angiang.gov.vn/"
    assert load_sources(path, only=["moi"]) == [moi]


def _error(text: str, tmp_path: Path) -> SourcesError:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    return info.value


def test_unknown_key_names_file_line_and_field(tmp_path: Path) -> None:
    err = _error(GOOD.replace("    verify_tls: false\n", "    verify_tsl: false\n"), tmp_path)
    assert str(tmp_path / "sources.yaml") + ":9:" in str(err)
    assert "sources[0] (id=vinh-linh).verify_tsl" in str(err)


def test_bad_url_names_line(tmp_path: Path) -> None:
    err = _error(GOOD.replace('listing_urls: ["https://moi.angiang.gov.vn/tin-tuc"]', 'listing_urls: ["moi/tin-tuc"]'), tmp_path)
    (issue,) = err.issues
    assert issue.line == 17 and "listing_urls[0]" in issue.where and "not an http(s) URL" in issue.message


def test_duplicate_ids_and_offsite_listing(tmp_path: Path) -> None:
    text = GOOD.replace("id: moi", "id: vinh-linh").replace(
        'listing_urls: ["https://moi.angiang.gov.vn/tin-tuc"]', 'listing_urls: ["https://other.vn/tin-tuc"]'
    )
    err = _error(text, tmp_path)
    assert any("allowed_hosts" in i.message and i.line == 17 and i.where.endswith("listing_urls[0]") for i in err.issues), err
    err = _error(GOOD.replace("id: moi", "id: vinh-linh"), tmp_path)
    assert err.issues[0].line == 11 and "duplicate id 'vinh-linh'" in err.issues[0].message


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    err = _error(GOOD.replace('name: "Cổng mới"', 'name: "Cổng mới'), tmp_path)
    assert err.issues[0].line is not None and err.issues[0].where == "yaml"
    err = _error(GOOD.replace("    district: null\n", "    district: null\n    district: x\n"), tmp_path)
    assert err.issues[0].line == 14 and "duplicate key" in err.issues[0].message


def test_missing_field(tmp_path: Path) -> None:
    err = _error(GOOD.replace('    province: "An Giang"\n', ""), tmp_path)
    assert "sources[1] (id=moi).province" in str(err) and "Field required" in str(err)
    assert err.issues[0].line == 11  # the entry's first line


def test_parse_sources_rejects_non_mapping() -> None:
    with pytest.raises(SourcesError):
        parse_sources("- a\n- b\n", Path("x.yaml"))
