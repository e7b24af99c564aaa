"""The crawl's parts alone: a portal crawled into a store kept in a dict (no database),
and what the crawl does with a bug versus a fetch failure."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from bantin.crawl import StoreItem, Validators, crawl_portal
from bantin.crawl.ledger import FailedUrl, Failure, PortalLedger, after_failure
from bantin.fetch import Fetcher, FetchRecord, UnsupportedScheme
from bantin.fixtures.routing import offline_transport
from bantin.settings import PROJECT_ROOT
from bantin.sources import load_sources
from bantin.urls import canonicalize_url

from .conftest import FAST_FETCH


@dataclass
class MemoryStore:
    """bantin.crawl.CrawlStore in dicts: what a test needs to see every write."""

    articles: dict[str, StoreItem] = field(default_factory=dict)
    validators_by_url: dict[str, Validators] = field(default_factory=dict)
    walked: dict[str, bool] = field(default_factory=dict)
    log_records: list[FetchRecord] = field(default_factory=list)
    failed: dict[str, FailedUrl] = field(default_factory=dict)  # the URL ledger

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        return {u for u in urls if u in self.articles}

    async def incomplete_listings(self, portal_id: str) -> list[str]:
        return [url for url, broke_off in self.walked.items() if broke_off]

    async def validators(self, url: str) -> Validators | None:
        return self.validators_by_url.get(url)

    async def save_listings(self, portal_id: str, validators: Sequence[Validators], walked: dict[str, bool]) -> None:
        self.validators_by_url.update((v.url, v) for v in validators)
        self.walked.update(walked)

    async def store(self, portal_id: str, items: list[StoreItem]) -> tuple[int, int]:
        fresh = [item for item in items if item.url not in self.articles]
        self.articles.update((item.url, item) for item in fresh)
        for item in items:
            self.failed.pop(item.url, None)
        return len(fresh), 0

    async def log(self, run_id: int | None, portal_id: str, records: Sequence[FetchRecord]) -> None:
        self.log_records.extend(records)

    async def ledger(self, portal_id: str) -> PortalLedger:
        return PortalLedger(
            due=[u for u, f in self.failed.items() if not f.given_up],
            given_up={u for u, f in self.failed.items() if f.given_up},
        )

    async def record_failures(self, portal_id: str, failures: Sequence[Failure]) -> list[FailedUrl]:
        now = dt.datetime.now(dt.UTC)
        outcome = [after_failure(f, self.failed[f.url].attempts if f.url in self.failed else 0, now) for f in failures]
        self.failed.update((o.url, o) for o in outcome)
        return outcome


def vinh_linh():  # noqa: ANN201
    (source,) = load_sources(PROJECT_ROOT / "deploy" / "sources.yaml", only=["vinh-linh"])
    return source


async def crawl(store: MemoryStore, transport: httpx.AsyncBaseTransport):  # noqa: ANN201
    async with Fetcher(FAST_FETCH, transport=transport) as fetcher:
        return await crawl_portal(vinh_linh(), fetcher=fetcher, store=store)


def test_a_portal_crawls_into_any_store_and_the_next_run_finds_nothing_new() -> None:
    store = MemoryStore()
    report = asyncio.run(crawl(store, offline_transport()))
    assert report.ok and report.new_articles == len(store.articles) >= 3
    for url, item in store.articles.items():
        assert url == canonicalize_url(url)  # stored under the canonical spelling
        assert item.parsed.paragraphs and item.page.body_zlib and item.page.status == 200
    assert all(not broke_off for broke_off in store.walked.values()) and store.walked
    assert {r.purpose for r in store.log_records} >= {"robots", "listing", "article"}
    again = asyncio.run(crawl(store, offline_transport()))
    assert again.ok and again.new_articles == 0 and again.article_requests == 0


class BuggyArticles(httpx.AsyncBaseTransport):
    """Serves listings; any article page hits a bug (not a network failure)."""

    def __init__(self) -> None:
        self.inner = offline_transport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith(".html") or "/chi-tiet/" in request.url.path:
            raise KeyError("a bug in the page handling")
        return response


def test_a_bug_while_fetching_an_article_is_raised_not_recorded_as_a_fetch_failure() -> None:
    store = MemoryStore()
    with pytest.raises(KeyError, match="a bug in the page handling"):
        asyncio.run(crawl(store, BuggyArticles()))
    assert store.articles == {}


def test_a_link_that_is_not_http_is_refused_before_any_request() -> None:
    async def fetch() -> None:
        async with Fetcher(FAST_FETCH, transport=offline_transport()) as fetcher:
            await fetcher.fetch("ftp://vinhlinh.quangtri.gov.vn/x", purpose="article", allowed=vinh_linh().origins)

    with pytest.raises(UnsupportedScheme, match="not an http"):
        asyncio.run(fetch())
