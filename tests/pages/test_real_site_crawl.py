"""A slice of a real portal's public static copy, served on loopback, crawled from one YAML entry
without `family`: what a new user adding a real portal sees.

The slice (tests/pages/sites/sldtbxh/, SOURCES says where each page comes from) is the news
listing of a provincial department's site: page 1 has no pager although page 2 exists, one
item is a document notice ("Tải file đính kèm Tại đây"), articles print their date as
"thứ sáu, Ngày 26/04/2019, 12:00". Expected titles are the listing's, dates the article's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bantin.jobs.crawl import crawl_sources
from bantin.jobs.db import database
from bantin.settings import Settings
from bantin.sources import parse_sources
from storage.models import Article
from tests.crawl.conftest import FAST_FETCH, serve

SLICE = Path(__file__).parent / "sites" / "sldtbxh"


class StaticSite:
    """The saved pages by path (as the static host served them), 404 for anything else."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        path = scope["path"]
        self.requests.append(path)
        name = (path.strip("/") + "/index.html").replace("/", "__") + ".gz"
        file = self.root / name
        if path != "/" and file.is_file():
            status, body = 200, gzip.decompress(file.read_bytes())
        else:
            status, body = 404, b"not found"
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def site() -> Iterator[tuple[StaticSite, str]]:
    app = StaticSite(SLICE)
    with serve(app) as base:
        yield app, base


def test_a_real_portal_is_crawled_from_one_entry_without_family(
    site: tuple[StaticSite, str], sqlite_settings: Settings, tmp_path: Path
) -> None:
    app, base = site
    yaml_text = f"""sources:
  - id: sldtbxh
    name: "Sở Lao động - Thương binh và Xã hội tỉnh Đắk Nông"
    province: "Đắk Nông"
    base_url: "{base}/"
    listing_urls: ["{base}/tin-tuc-su-kien/"]
    private_network: true  # the loopback server stands for the portal
"""
    sources = parse_sources(yaml_text, tmp_path / "sources.yaml")
    # Real pages are bigger than the fixtures (listing pages of 300 KB of chrome).
    settings = sqlite_settings.model_copy(update={"fetch": FAST_FETCH.model_copy(update={"max_bytes": 2_000_000})})
    _, reports = asyncio.run(crawl_sources(sources, settings))
    report = reports[0]
    assert report.ok and report.failed is None, report.errors
    assert set(report.families) == {"easywebhub-sharepoint"}
    assert "/tin-tuc-su-kien/page/2/" in app.requests  # the unrendered pager, probed

    expected: dict[str, dict[str, str | None]] = json.loads((SLICE / "expected.json").read_text(encoding="utf-8"))
    with database(settings)() as session:
        stored = session.execute(select(Article)).scalars().all()
    by_path = {a.url.removeprefix(base): a for a in stored}
    assert sorted(by_path) == sorted(expected)  # every linked article, once
    for path, want in expected.items():
        article = by_path[path]
        assert article.title == want["title"], path
        wanted = dt.datetime.fromisoformat(want["published"]) if want["published"] else None
        got = article.published_at.replace(tzinfo=dt.UTC) if article.published_at and article.published_at.tzinfo is None else article.published_at
        assert got == wanted, (path, got, wanted)
        assert "Số lượt người xem" not in article.text and "Bản in" not in article.text
    notices = [a for a in stored if "Văn bản đính kèm" in a.text]
    assert report.notices == len(notices) >= 1
    assert all(n.duplicate_of is None for n in notices)

    # Again: nothing new, no article fetched twice.
    app.requests.clear()
    _, again = asyncio.run(crawl_sources(sources, settings))
    assert again[0].new_articles == 0 and again[0].article_requests == 0
    assert not [p for p in app.requests if p.strip("/") and not p.startswith(("/tin-tuc-su-kien", "/robots.txt"))]


def test_probe_prints_links_articles_and_a_ready_entry(site: tuple[StaticSite, str]) -> None:
    from typer.testing import CliRunner

    from bantin.cli import app as cli

    _, base = site
    result = CliRunner().invoke(cli, ["sources", "probe", f"{base}/tin-tuc-su-kien/", "-n", "2", "--private-network"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "family: easywebhub-sharepoint" in out
    assert "5 article links" in out and f"{base}/cong-tac-giam-ngheo-vuot-muc-tieu-hdnd-tinh-de-ra" in out
    assert "title: Công tác giảm nghèo vượt mục tiêu HĐND tỉnh đề ra" in out
    assert "date:  2019-08-03T09:28:00+07:00" in out
    entry = out.split("deploy/sources.yaml entry")[1]
    assert "listing_urls:" in entry and "family:" not in entry
    assert "private_network: true" in entry  # as probed: the entry crawls what the probe read


def test_probe_of_a_page_without_articles_fails(site: tuple[StaticSite, str]) -> None:
    from typer.testing import CliRunner

    from bantin.cli import app as cli

    _, base = site
    result = CliRunner().invoke(cli, ["sources", "probe", f"{base}/no-such-listing/", "--private-network"])
    assert result.exit_code == 1


def test_a_portal_without_article_links_is_a_failed_portal(
    site: tuple[StaticSite, str], sqlite_settings: Settings, tmp_path: Path
) -> None:
    """Pointed at a page that lists nothing (here: an article), the crawl says so: failed, in error."""
    from stored_queries import fetch_log_rows

    from bantin.digest.selection import DigestRange
    from bantin.jobs.digest import range_rows

    _, base = site
    yaml_text = f"""sources:
  - id: wrong-page
    name: "Sở LĐ-TBXH (wrong listing URL)"
    province: "Đắk Nông"
    base_url: "{base}/"
    listing_urls: ["{base}/le-dang-huong-thap-nen-tri-an-cac-anh-hung-liet-si/"]
    private_network: true  # the loopback server stands for the portal
"""
    sources = parse_sources(yaml_text, tmp_path / "sources.yaml")
    settings = sqlite_settings.model_copy(update={"fetch": FAST_FETCH.model_copy(update={"max_bytes": 2_000_000})})
    run_id, reports = asyncio.run(crawl_sources(sources, settings))
    report = reports[0]
    assert report.failed in ("no article link found on its listing pages", "none of its listing links led to an article")
    assert not report.ok and report.new_articles == 0
    today = dt.datetime.now(dt.UTC).date()
    with database(settings)() as session:
        health = range_rows(session, DigestRange(today - dt.timedelta(days=1), today + dt.timedelta(days=1)), "Asia/Ho_Chi_Minh").health
        logged = fetch_log_rows(session, run_id)
    (row,) = [h for h in health if h.portal_id == "wrong-page"]
    assert row.error_count >= 1  # red in the digest's portal health
    assert any((r.error or "").startswith("failed portal") for r in logged if r.purpose == "listing")


def test_bare_relative_links_and_a_site_wide_stamp(sqlite_settings: Settings, tmp_path: Path) -> None:
    """thanhtra.daknong's static copy: the listing at /tin-tuc/ links "slug" (no leading slash),
    which a browser reads as /tin-tuc/slug (not there); every article prints the deploy time
    "(26.07.2019 14:14)". Expected: articles found at /slug, none dated by the stamp."""
    root = SLICE.parent / "thanhtra"
    app = StaticSite(root)
    expected: dict[str, dict[str, str | None]] = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    stamp = dt.datetime(2019, 7, 26, 14, 14, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    with serve(app) as base:
        yaml_text = f"""sources:
  - id: thanhtra
    name: "Thanh tra tỉnh Đắk Nông"
    province: "Đắk Nông"
    base_url: "{base}/"
    listing_urls: ["{base}/tin-tuc/"]
    private_network: true  # the loopback server stands for the portal
"""
        sources = parse_sources(yaml_text, tmp_path / "sources.yaml")
        settings = sqlite_settings.model_copy(update={"fetch": FAST_FETCH.model_copy(update={"max_bytes": 2_000_000})})
        _, reports = asyncio.run(crawl_sources(sources, settings))
        report = reports[0]
        assert report.failed is None
        assert any("site-wide stamp" in w for w in report.warnings), (report.warnings, report.errors, report.new_articles)
        with database(settings)() as session:
            stored = session.execute(select(Article)).scalars().all()
        by_path = {a.url.removeprefix(base): a for a in stored}
        assert sorted(by_path) == sorted(expected)
        for path, want in expected.items():
            assert by_path[path].title == want["title"], path
            published = by_path[path].published_at
            assert published is None or published.astimezone(stamp.tzinfo) != stamp, path

        app.requests.clear()
        _, again = asyncio.run(crawl_sources(sources, settings))
        assert again[0].new_articles == 0 and again[0].article_requests == 0
