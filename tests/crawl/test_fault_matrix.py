"""The fault matrix: every fault a portal can throw at an article page, at once, over a
real loopback socket; then the faults are lifted and the next crawl must end with every
fixture article stored exactly once (docs/reliability.md)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from bantin.crawl import PortalReport
from bantin.fixtures.app import create_app
from bantin.fixtures.faults import Fault
from bantin.fixtures.portals import load_portals
from bantin.fixtures.routing import offline_transport
from bantin.jobs.crawl import crawl_sources
from bantin.jobs.db import database
from bantin.settings import PROJECT_ROOT, Settings
from bantin.sources import Politeness, Source, load_sources
from bantin.urls import canonicalize_url
from storage.models import Article, UrlLedgerEntry, UrlState
from tests.crawl.conftest import FAST_FETCH, serve

# (portal id, article index, fault kind[:arg]): one article per fault, on several portals.
ARTICLE_FAULTS = [
    ("vinh-linh", 1, "cut"),  # 200, cut before the body: was stored as a date line
    ("vinh-linh", 2, "binary"),  # 200 with binary bytes: was reported once, never retried
    ("lam-binh", 1, "empty"),  # 200 with no article text: its listing's ETag was saved
    ("lam-binh", 2, "redirect_loop"),
    ("ham-yen", 1, "oversized:300000"),  # over FetchSettings.max_bytes
    ("ham-yen", 2, "500"),  # retries run out
    ("vinh-hanh", 1, "reset"),
    ("huu-lung", 1, "truncate"),  # Content-Length longer than the bytes sent
]
ROBOTS_DENIED = "tuyen-quang"  # robots.txt refuses everything, later lifted


def sources() -> list[Source]:
    return [s.model_copy(update={"politeness": Politeness()}) for s in load_sources(PROJECT_ROOT / "deploy" / "sources.yaml")]


def crawl(settings: Settings, base: str) -> list[PortalReport]:
    _, reports = asyncio.run(crawl_sources(sources(), settings, transport=offline_transport(base)))
    return reports


@pytest.mark.postgres
def test_every_fixture_article_is_stored_once_after_the_faults_are_lifted(settings: Settings) -> None:
    settings = settings.model_copy(update={"fetch": FAST_FETCH})
    portals = {p.id: p for p in load_portals()}
    expected = {canonicalize_url(p.url(a.path)) for p in portals.values() for a in p.articles}
    faulted = {canonicalize_url(portals[pid].url(portals[pid].articles[i].path)) for pid, i, _ in ARTICLE_FAULTS}
    app = create_app()
    for portal_id, index, kind in ARTICLE_FAULTS:
        portal = portals[portal_id]
        app.add_fault(Fault.parse(f"{portal.host}{portal.articles[index].path.split('?')[0]}={kind}"))
    app.add_fault(Fault.parse(f"{portals[ROBOTS_DENIED].host}/robots.txt=robots_deny"))

    with serve(app) as base:
        first = crawl(settings, base)
        with database(settings)() as session:
            stored = set(session.scalars(select(Article.url)))
            ledger = {e.url: e for e in session.scalars(select(UrlLedgerEntry))}
        # Nothing broken was stored; every faulted article waits in the ledger for a retry.
        assert not stored & faulted
        assert faulted <= set(ledger) and all(ledger[u].state == UrlState.RETRYING for u in faulted)
        assert not any(u.startswith(portals[ROBOTS_DENIED].url("")) for u in stored)
        by_portal = {r.portal_id: r for r in first}
        assert by_portal["vinh-linh"].retrying == 2 and any("cut short" in e for e in by_portal["vinh-linh"].errors)
        assert any("binary" in e for e in by_portal["vinh-linh"].errors)
        assert any("no body text" in e for e in by_portal["lam-binh"].errors)

        app.faults.clear()
        app.reset_counts()
        second = crawl(settings, base)
        assert all(r.ok for r in second), [r.errors for r in second]
        with database(settings)() as session:
            urls = list(session.scalars(select(Article.url)))
            left = session.scalar(select(func.count()).select_from(UrlLedgerEntry))
        assert Counter(urls) == Counter(expected)  # each exactly once
        assert left == 0
        # The faulted articles were fetched again though their listings answered 304.
        fetched = {r.path for r in app.requests("article")}
        assert {p.articles[i].path.split("?")[0] for pid, i, _ in ARTICLE_FAULTS for p in [portals[pid]]} <= fetched

        app.reset_counts()
        third = crawl(settings, base)
        assert sum(r.new_articles for r in third) == 0 and not app.requests("article")
