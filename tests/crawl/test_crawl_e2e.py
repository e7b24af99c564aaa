"""Offline crawl of every fixture portal over a real loopback socket (uvicorn).

What a user of the crawl would notice: every fixture article stored once with the right
date, the republished story linked to its original, no page chrome or other stories in
any body, and a second crawl that costs only conditional listing requests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select
from stored_queries import fetch_log_rows

from bantin.crawl import PortalReport
from bantin.dedup import shingles
from bantin.fixtures.app import FixtureApp, RequestRecord, create_app
from bantin.fixtures.portals import FixturePortal, load_portals
from bantin.fixtures.routing import offline_transport
from bantin.jobs.crawl import crawl_sources
from bantin.jobs.db import database
from bantin.localtime import LOCAL_TZ
from bantin.parse import clean
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import Politeness, Source, load_sources
from bantin.urls import canonicalize_url
from storage.models import Article, PageSnapshot, Portal
from tests.crawl.conftest import FAST_FETCH as FAST
from tests.crawl.conftest import FakeClock, serve, virtual_politeness

CHROME = (
    "Bài viết liên quan",
    "Tin cùng chuyên mục",
    "Các tin khác",
    "Skip to main content",
    "%image_alt%",
    "Chi tiết - Huyện Vĩnh Linh",
    "lượt xem",
    "Lượt xem",
    "Trang chủ",
    "Đăng nhập",
)


def fast_sources() -> list[Source]:
    """deploy/sources.yaml with the per-portal politeness overrides removed (robots.txt still rules)."""
    return [s.model_copy(update={"politeness": Politeness()}) for s in load_sources(PROJECT_ROOT / "deploy" / "sources.yaml")]


def _portals() -> dict[str, FixturePortal]:
    return {p.id: p for p in load_portals()}


def _words(text: str) -> str:
    return clean(text)


class Crawled:
    """The first crawl, for the tests to read (none changes it): its database, reports,
    run id and the requests the portals answered."""

    def __init__(
        self, settings: Settings, reports: list[PortalReport], run_id: int, requests: tuple[RequestRecord, ...]
    ) -> None:
        self.settings = settings
        self.reports = reports
        self.run_id = run_id
        self.requests = requests


@pytest.fixture(scope="module", autouse=True)
def _politeness_in_virtual_time() -> Iterator[FakeClock]:
    """Every crawl of this module waits out politeness (the fixture portals' Crawl-delay,
    Retry-After, backoff) in virtual time: same requests, no wall-clock waits."""
    with virtual_politeness() as clock:
        yield clock


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One full offline crawl, shared by the module's tests (none changes it)."""
    data = tmp_path_factory.mktemp("crawl-e2e")
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'bantin.sqlite3'}", fetch=FAST)
    app = create_app()
    with serve(app) as base:
        run_id, reports = asyncio.run(crawl_sources(fast_sources(), settings, transport=offline_transport(base)))
    return Crawled(settings, reports, run_id, tuple(app.requests()))


def _articles(settings: Settings) -> dict[str, Article]:
    with database(settings)() as session:
        return {a.url: a for a in session.execute(select(Article)).scalars()}


def test_every_fixture_article_is_stored_once(crawled: Crawled) -> None:
    portals = _portals()
    stored = _articles(crawled.settings)
    expected = {canonicalize_url(p.url(a.path)): (p, a) for p in portals.values() for a in p.articles}
    assert set(stored) == set(expected)
    assert all(r.ok for r in crawled.reports), [r.errors for r in crawled.reports]
    for url, (portal, fixture) in expected.items():
        article = stored[url]
        assert article.portal_id == portal.id
        assert article.title == _words(fixture.title)
        assert article.text == "\n\n".join(_words(p) for p in fixture.paragraphs), url
        assert article.captions == [_words(c) for c in fixture.captions], url
        assert (article.byline or None) == (fixture.byline or None), url
    # Snapshots: one compressed raw page per article.
    with database(crawled.settings)() as session:
        snapshots = session.execute(select(PageSnapshot.article_id)).scalars().all()
    assert sorted(snapshots) == sorted(a.id for a in stored.values())


def test_publication_dates_are_the_articles_own(crawled: Crawled) -> None:
    stored = _articles(crawled.settings)
    served_today = dt.datetime.now(LOCAL_TZ).date()
    for portal in _portals().values():
        for fixture in portal.articles:
            article = stored[canonicalize_url(portal.url(fixture.path))]
            assert article.published_at is not None, fixture.path
            local = article.published_at.astimezone(LOCAL_TZ)
            assert local.date() == fixture.published_at.date(), (portal.id, fixture.path, local)
            if portal.family in ("php_static", "drupal", "liferay"):  # pages (or URL ids) carry the time
                assert local == fixture.published_at, (portal.id, fixture.path, local)
            assert local.date() != served_today
            if fixture.seed_file and "004_" in fixture.seed_file:
                assert local.date() != dt.date(2023, 12, 6)  # the header's "today" on the original page


def test_republished_story_is_linked_to_its_original(crawled: Crawled) -> None:
    stored = _articles(crawled.settings)
    by_id = {a.id: a for a in stored.values()}
    portals = _portals()
    everything = [(p, a) for p in portals.values() for a in p.articles]
    republished = [(p, a) for p, a in everything if a.source_note]
    assert republished, "the fixtures should hold at least one republished story"
    expected_links: dict[str, str] = {}
    for portal, copy in republished:
        copy_shingles = shingles(copy.text)
        # The original: the other portal's article sharing the most 3-syllable shingles.
        original_portal, original = max(
            ((p, a) for p, a in everything if p.id != portal.id),
            key=lambda pa: len(copy_shingles & shingles(pa[1].text)),
        )
        if len(copy_shingles & shingles(original.text)) < 0.5 * len(copy_shingles):
            continue  # republished from a portal we do not crawl
        expected_links[canonicalize_url(portal.url(copy.path))] = canonicalize_url(original_portal.url(original.path))
    assert expected_links
    for copy_url, original_url in expected_links.items():
        assert stored[copy_url].duplicate_of == stored[original_url].id
        assert stored[original_url].duplicate_of is None
    # No other article is taken for a copy.
    linked = {url for url, a in stored.items() if a.duplicate_of is not None}
    assert linked == set(expected_links)
    assert all(by_id[a.duplicate_of].duplicate_of is None for a in stored.values() if a.duplicate_of)
    assert sum(r.duplicates for r in crawled.reports) == len(expected_links)


def test_no_chrome_or_teasers_in_bodies(crawled: Crawled) -> None:
    portals = _portals()
    stored = _articles(crawled.settings)
    for article in stored.values():
        portal = portals[article.portal_id]
        for phrase in CHROME:
            assert phrase not in article.text, (article.url, phrase)
        assert not re.search(r"(?<!\w)hinh(?!\w)", article.text), article.url
        menu = {m["label"] if isinstance(m, dict) else m.label for m in portal.menu}
        paragraphs = article.text.split("\n\n")
        assert not menu.intersection(paragraphs), article.url
        for line in portal.footer:
            assert _words(line) not in article.text
        # Titles of other stories (the related/sidebar blocks) never end up in the body.
        others = [_words(a.title) for a in portal.articles if canonicalize_url(portal.url(a.path)) != article.url]
        assert not any(title in paragraphs for title in others), article.url


def test_fetch_log_records_every_request(crawled: Crawled) -> None:
    with database(crawled.settings)() as session:
        rows = fetch_log_rows(session, crawled.run_id)
    served = crawled.requests
    assert len([r for r in rows if not (r.error or "").startswith("refused:")]) == len(served)
    assert {r.purpose for r in rows} == {"robots", "listing", "article"}
    assert all(r.portal_id for r in rows)
    assert all(r.status == 200 for r in rows)


def test_second_crawl_costs_only_conditional_listing_requests(crawled: Crawled, tmp_path: Path) -> None:
    # A copy of the first crawl's database and fresh portals: the module's crawl stays as the other tests read it.
    data = tmp_path / "var"
    data.mkdir()
    first_db, copy_db = crawled.settings.data_dir / "bantin.sqlite3", data / "bantin.sqlite3"
    with closing(sqlite3.connect(first_db)) as first, closing(sqlite3.connect(copy_db)) as copy:
        first.backup(copy)  # consistent, WAL included
    settings = crawled.settings.model_copy(update={"data_dir": data, "database_url": f"sqlite:///{data / 'bantin.sqlite3'}"})
    app = create_app()
    with serve(app) as base:
        _, reports = asyncio.run(crawl_sources(fast_sources(), settings, transport=offline_transport(base)))
    assert app.requests("article") == []
    listing = app.requests("listing")
    assert listing and all(r.status == 304 for r in listing)
    assert len(listing) == sum(len(s.listing_urls) for s in fast_sources())  # page 1 only
    assert all(r.new_articles == 0 and r.not_modified == r.listing_requests for r in reports)


@pytest.fixture
def fixture_server() -> Iterator[tuple[FixtureApp, str]]:
    app = create_app()
    with serve(app) as base:
        yield app, base


def test_429_retry_after_on_a_listing_is_waited_out(
    fixture_server: tuple[FixtureApp, str], sqlite_settings: Settings
) -> None:
    app, base = fixture_server
    app.add_fault("vinhlinh.quangtri.gov.vn/vi/tin-tuc=429:1@1")
    settings = sqlite_settings.model_copy(update={"fetch": FAST})
    sources = [s for s in fast_sources() if s.id == "vinh-linh"]
    _, (report,) = asyncio.run(crawl_sources(sources, settings, transport=offline_transport(base)))
    assert report.ok and report.new_articles == len(_portals()["vinh-linh"].articles)
    first_page = [r for r in app.requests("listing") if r.query == ""]
    assert [r.status for r in first_page] == [429, 200]


def test_timing_out_portal_is_recorded_and_the_others_finish(
    fixture_server: tuple[FixtureApp, str], sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app, base = fixture_server
    app.add_fault("hamyen.tuyenquang.gov.vn/*=slow:1")  # well past the 0.3 s read timeout
    settings = sqlite_settings.model_copy(
        update={"fetch": FAST.model_copy(update={"read_timeout_s": 0.3, "max_retries": 1})}
    )
    sources = [s for s in fast_sources() if s.id in ("ham-yen", "lam-binh", "vinh-hanh")]
    run_id, reports = asyncio.run(crawl_sources(sources, settings, transport=offline_transport(base)))
    by_id = {r.portal_id: r for r in reports}
    assert by_id["ham-yen"].errors and by_id["ham-yen"].new_articles == 0
    assert by_id["lam-binh"].ok and by_id["lam-binh"].new_articles == 10
    assert by_id["vinh-hanh"].ok and by_id["vinh-hanh"].new_articles == 10
    with database(settings)() as session:
        rows = fetch_log_rows(session, run_id, "ham-yen")
    assert rows and all(r.error for r in rows)
    assert any("timeout" in (r.error or "").lower() or "timed out" in (r.error or "").lower() for r in rows)
    # The run's log names the portal and the URL that failed.
    failures = [r.getMessage() for r in caplog.records if r.name == "bantin.crawl"]
    assert any(m.startswith("portal ham-yen: listing https://hamyen.tuyenquang.gov.vn/") for m in failures)
    assert not any("lam-binh" in m for m in failures)
    # Next run, the portal answers again: its articles come in (no stale 304 hides them).
    app.faults.clear()
    _, reports = asyncio.run(crawl_sources(sources, settings, transport=offline_transport(base)))
    by_id = {r.portal_id: r for r in reports}
    assert by_id["ham-yen"].ok and by_id["ham-yen"].new_articles == 10
    assert by_id["lam-binh"].new_articles == 0


def test_unknown_family_falls_back_to_generic_and_is_flagged(
    fixture_server: tuple[FixtureApp, str], sqlite_settings: Settings
) -> None:
    app, base = fixture_server
    settings = sqlite_settings.model_copy(update={"fetch": FAST})
    (source,) = [s.model_copy(update={"family": "unknown-cms"}) for s in fast_sources() if s.id == "lam-binh"]
    _, (report,) = asyncio.run(crawl_sources([source], settings, transport=offline_transport(base)))
    assert report.generic and any("generic" in w for w in report.warnings)
    assert report.new_articles >= 5  # the generic listing parser finds the headlines
    stored = _articles(settings)
    portal = _portals()["lam-binh"]
    fixtures = {canonicalize_url(portal.url(a.path)): a for a in portal.articles}
    for url, article in stored.items():
        # The largest text block is the body: its first paragraph is the article's own.
        assert fixtures[url].paragraphs[0].split()[0] in article.text
        assert "Tin cùng chuyên mục" not in article.text


def test_every_registry_portal_is_crawled_as_configured(crawled: Crawled) -> None:
    """deploy/sources.yaml as shipped: each enabled portal is crawled, reported with its
    article count and stored under its id with the name and place configured for it."""
    registry = {s.id: s for s in load_sources(PROJECT_ROOT / "deploy" / "sources.yaml")}
    portals = _portals()
    assert len(registry) >= 6 and set(registry) <= set(portals)  # each has its offline fixture portal
    assert sorted(r.portal_id for r in crawled.reports) == sorted(registry)
    stored = _articles(crawled.settings)
    for report in crawled.reports:
        expected = len(portals[report.portal_id].articles)
        assert report.new_articles == expected > 0, report
        assert sum(1 for a in stored.values() if a.portal_id == report.portal_id) == expected
    with database(crawled.settings)() as session:
        rows = {p.id: (p.name, p.district, p.province) for p in session.execute(select(Portal)).scalars()}
    assert rows == {s.id: (s.name, s.district, s.province) for s in registry.values()}


def test_failed_listing_page_is_walked_again_next_run(
    fixture_server: tuple[FixtureApp, str], sqlite_settings: Settings
) -> None:
    app, base = fixture_server
    app.add_fault("lambinh.tuyenquang.gov.vn/tin-tuc-su-kien/trang-2.html=500")
    settings = sqlite_settings.model_copy(update={"fetch": FAST.model_copy(update={"max_retries": 1})})
    sources = [s for s in fast_sources() if s.id == "lam-binh"]
    _, (report,) = asyncio.run(crawl_sources(sources, settings, transport=offline_transport(base)))
    assert report.errors and 0 < report.new_articles < 10  # page 1's articles only
    app.faults.clear()
    app.reset_counts()
    _, (report,) = asyncio.run(crawl_sources(sources, settings, transport=offline_transport(base)))
    assert report.ok and report.not_modified == 0  # no 304 hiding page 2
    assert len(_articles(settings)) == 10
