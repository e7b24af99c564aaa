"""Crawls that overlap, die, or lose their database (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from bantin.crawl import PortalReport
from bantin.fixtures.routing import offline_transport
from bantin.jobs.crawl import DatabaseLost, crawl_sources, start_run
from bantin.jobs.db import database
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import Politeness, Source, load_sources
from storage import crawl as stored_crawl
from storage.articles import upsert_portals
from storage.models import Article, CrawlRun, RunStatus
from tests.crawl.conftest import FAST_FETCH


def sources(*ids: str) -> list[Source]:
    found = load_sources(PROJECT_ROOT / "deploy" / "sources.yaml", only=list(ids) or None)
    return [s.model_copy(update={"politeness": Politeness()}) for s in found]


@pytest.mark.postgres
def test_a_portal_another_crawler_holds_is_skipped_and_said(settings: Settings) -> None:
    settings = settings.model_copy(update={"fetch": FAST_FETCH})
    chosen = sources("ham-yen", "lam-binh")
    with database(settings).begin() as session:
        upsert_portals(session, chosen)
        until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        assert stored_crawl.take_lease(session, "ham-yen", "worker-2:4242:7", 7, until)
    _, reports = asyncio.run(crawl_sources(chosen, settings, transport=offline_transport()))
    by_id = {r.portal_id: r for r in reports}
    assert by_id["ham-yen"].new_articles == 0 and by_id["ham-yen"].article_requests == 0
    assert any("worker-2:4242:7" in w and "skipped" in w for w in by_id["ham-yen"].warnings)
    assert by_id["lam-binh"].new_articles > 0
    with database(settings)() as session:
        portals = set(session.scalars(select(Article.portal_id)))
        # Our own lease on lam-binh was given back; the other worker's is untouched.
        assert stored_crawl.lease_holder(session, "lam-binh") is None
        assert stored_crawl.lease_holder(session, "ham-yen") is not None
    assert portals == {"lam-binh"}


@pytest.mark.postgres
def test_an_expired_lease_does_not_block(settings: Settings) -> None:
    settings = settings.model_copy(update={"fetch": FAST_FETCH})
    chosen = sources("ham-yen")
    with database(settings).begin() as session:
        upsert_portals(session, chosen)
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        assert stored_crawl.take_lease(session, "ham-yen", "dead-worker:1:1", 1, stale)
    _, (report,) = asyncio.run(crawl_sources(chosen, settings, transport=offline_transport()))
    assert report.new_articles > 0 and not report.warnings


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.postgres
def test_runs_left_running_by_a_dead_process_are_closed_as_aborted(settings: Settings) -> None:
    import socket

    with database(settings).begin() as session:
        dead = stored_crawl.start_run(session, worker=socket.gethostname(), pid=_dead_pid())
        silent = stored_crawl.start_run(session, worker="another-host", pid=1)
        alive = stored_crawl.start_run(session, worker="another-host", pid=1)
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        session.execute(CrawlRun.__table__.update().where(CrawlRun.id == silent).values(heartbeat_at=old))
    new = start_run(settings, sources("ham-yen"))
    with database(settings)() as session:
        status = dict(session.execute(select(CrawlRun.id, CrawlRun.status)).tuples().all())
    assert status[dead] == RunStatus.ABORTED and status[silent] == RunStatus.ABORTED
    assert status[alive] == RunStatus.RUNNING and status[new] == RunStatus.RUNNING


def test_a_database_file_deleted_mid_crawl_fails_the_run(sqlite_settings: Settings) -> None:
    settings = sqlite_settings.model_copy(update={"fetch": FAST_FETCH})
    path = settings.data_dir / "bantin.sqlite3"
    assert settings.resolved_database_url.endswith(str(path)) and path.exists()

    def delete_after_the_first(report: PortalReport) -> None:
        path.unlink(missing_ok=True)

    with pytest.raises(DatabaseLost, match="deleted or replaced"):
        asyncio.run(
            crawl_sources(
                sources("ham-yen", "lam-binh"), settings, transport=offline_transport(), parallel=1,
                on_portal_done=delete_after_the_first,
            )
        )


def test_the_cli_says_the_database_was_lost(tmp_path: Path) -> None:
    # The same through `bantin crawl`: non-zero exit and the reason, not "57 new".
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from bantin.cli import app
        import bantin.jobs.crawl as job
        original = job.crawl_portal
        async def crawl_then_delete(*args, **kwargs):
            report = await original(*args, **kwargs)
            Path({str(tmp_path / "bantin.sqlite3")!r}).unlink(missing_ok=True)
            return report
        job.crawl_portal = crawl_then_delete
        app(["crawl", "--offline", "-s", "ham-yen"])
        """
    )
    env = {"BANTIN_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert done.returncode != 0
    assert "deleted or replaced" in done.stderr, done.stderr[-2000:]


@pytest.mark.postgres
def test_a_url_that_keeps_failing_is_given_up_and_shown_in_the_portal_health(settings: Settings) -> None:
    from bantin.crawl.ledger import MAX_ATTEMPTS, Failure
    from bantin.digest.render import render
    from bantin.digest.selection import build_digest, parse_week
    from bantin.jobs.crawl import DatabaseStore
    from bantin.jobs.digest import range_rows

    with database(settings).begin() as session:
        upsert_portals(session, sources("ham-yen"))
    store = DatabaseStore(database(settings))
    url = "https://hamyen.tuyenquang.gov.vn/tin-hoat-dong/bai-hong.html"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (outcome,) = asyncio.run(store.record_failures("ham-yen", [Failure(url, "page cut short")]))
        assert outcome.attempts == attempt and outcome.given_up == (attempt == MAX_ATTEMPTS)
    ledger = asyncio.run(store.ledger("ham-yen"))
    assert ledger.given_up == {url} and not ledger.due  # never fetched again
    week = parse_week(f"{dt.date.today():%G-W%V}")
    with database(settings)() as session:
        rows = range_rows(session, week, "Asia/Ho_Chi_Minh")
    (health,) = [h for h in rows.health if h.portal_id == "ham-yen"]
    assert health.given_up == 1
    digest = build_digest(week, rows.articles, health=rows.health, timezone="Asia/Ho_Chi_Minh")
    assert "1 bài không tải được" in render(digest).text


@pytest.mark.postgres
def test_a_recreated_database_does_not_inherit_the_process_dedup_index(settings: Settings) -> None:
    # The same URL, a new database (recreated, restored from an older backup): the store of
    # this process must not link a new article to an id the database no longer has.
    from bantin.crawl import StoreItem
    from bantin.fetch import FetchResult
    from bantin.jobs.crawl import open_store
    from bantin.parse import ParsedArticle

    def item(url: str) -> StoreItem:
        text = ["Sáng 5/7, Thường trực Huyện ủy làm việc với Đảng ủy xã Đức Ninh về 12 chỉ tiêu năm 2024."] * 3
        parsed = ParsedArticle(url, "Làm việc với xã Đức Ninh", None, None, text, [], "php_static", False)
        return StoreItem.of(FetchResult(url=url, final_url=url, status=200, content=b"<p>x</p>", text=""), parsed)

    with database(settings).begin() as session:
        upsert_portals(session, sources("ham-yen"))
    store = open_store(settings)
    assert asyncio.run(store.store("ham-yen", [item("https://hamyen.tuyenquang.gov.vn/a.html")])) == (1, 0)
    with database(settings).begin() as session:
        session.execute(Article.__table__.delete())
    assert asyncio.run(store.store("ham-yen", [item("https://hamyen.tuyenquang.gov.vn/b.html")])) == (1, 0)
    with database(settings)() as session:
        (only,) = session.scalars(select(Article)).all()
    assert only.url.endswith("/b.html") and only.duplicate_of is None
