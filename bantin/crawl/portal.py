"""One portal's crawl: listings -> new article URLs -> fetch -> parse -> store in batches.

The parts keep their state in objects (`ListingWalk`, `ArticleFetcher`, `PortalCrawl`)
instead of closures, so each can be read and tested alone. Fetch failures are recorded in
the report and the fetch log, never raised: one portal's trouble is its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bantin.crawl.ledger import Failure
from bantin.crawl.listing import ListingWalk
from bantin.crawl.pages import damaged, not_html
from bantin.crawl.report import PortalReport
from bantin.crawl.stamps import SiteStamps
from bantin.crawl.store import CrawlStore, StoreItem
from bantin.fetch import (
    Fetcher,
    FetchError,
    FetchRecord,
    FetchResult,
    HostNotAllowed,
    HttpStatusError,
    OffsiteRedirect,
    RetriesExhausted,
    RobotsDisallowed,
    UnsupportedScheme,
    recording,
)
from bantin.parse import ParsedArticle, parse_article
from bantin.sources import Source

STORE_BATCH = 25


@dataclass
class ArticleFetcher:
    """Fetches article pages of one portal; a bare relative link that 404s is tried in its
    root-relative reading, and once that reading has answered it is tried first."""

    source: Source
    fetcher: Fetcher
    alternatives: dict[str, str]
    prefer_root: bool = False

    async def fetch(self, url: str) -> tuple[str, FetchResult]:
        alt = self.alternatives.get(url)
        if alt is not None and self.prefer_root:
            url, alt = alt, url
        try:
            return url, await self.fetcher.fetch(url, purpose="article", allowed=self.source.origins)
        except HttpStatusError as exc:
            if alt is None or exc.status not in (404, 410):
                raise
            result = await self.fetcher.fetch(alt, purpose="article", allowed=self.source.origins)
            self.prefer_root = self.prefer_root or alt == self.alternatives.get(url)
            return alt, result


type Fetched = tuple[str, FetchResult | None, FetchError | None]


@dataclass
class PortalCrawl:
    """The state of one portal's crawl while it runs."""

    source: Source
    fetcher: Fetcher
    store: CrawlStore
    run_id: int | None = None
    max_pages: int | None = None
    batch_size: int = STORE_BATCH
    window: asyncio.Semaphore | None = None
    report: PortalReport = field(init=False)
    records: list[FetchRecord] = field(default_factory=list)  # fetch log, written with each batch
    batch: list[StoreItem] = field(default_factory=list)
    stamps: SiteStamps = field(default_factory=SiteStamps)
    failed_transient: set[str] = field(default_factory=set)  # network or damaged page: not the portal's layout
    empty_bodies: int = 0  # article pages without text: all of them, and the portal is not understood
    failures: list[Failure] = field(default_factory=list)  # for the ledger, written with each batch
    pending: set[str] = field(default_factory=set)  # failed and retrying: their listing pages stay open

    def __post_init__(self) -> None:
        self.report = PortalReport(self.source.id, generic=self.source.generic)
        if self.source.generic:
            self.report.warnings.append(
                f"unknown family {self.source.family!r}: pages parsed by the generic fallback"
            )

    async def run(self) -> PortalReport:
        started = time.monotonic()
        pages = self.max_pages or self.source.max_listing_pages or self.fetcher.settings.max_listing_pages
        ledger = await self.store.ledger(self.source.id)
        walk = ListingWalk(self.source, self.fetcher, self.store, self.report, pages, not_new=ledger.not_new)
        with recording(self.records.append):
            try:
                await walk.run()
                if not walk.new_urls:
                    await self._check_listings_understood(walk)
                listed = set(walk.new_urls)
                # Failed before and due now: fetched whatever the listings said (a 304 hides nothing).
                await self._fetch_and_store(walk, walk.new_urls + [u for u in ledger.due if u not in listed])
                if (
                    walk.new_urls
                    and self.report.new_articles == 0
                    and not self.failed_transient
                    and not self.report.skipped
                ):
                    self._fail(
                        "every article fetched had an empty body"
                        if self.empty_bodies
                        else "none of its listing links led to an article"
                    )
                await self._flush(walk)  # failures of the last pages
                await self.store.save_listings(self.source.id, walk.complete_pages(self.pending), walk.walked)
            finally:
                self.report.duration_s = time.monotonic() - started
                await self._log(final=True)
        return self.report

    async def _check_listings_understood(self, walk: ListingWalk) -> None:
        """Listings fetched, no error, nothing new and none of their links known: not understood."""
        report = self.report
        if report.listing_requests > report.not_modified and not report.errors:
            known = await self.store.known_urls(list(walk.listed)) if walk.listed else set()
            if not known:
                self._fail("no article link found on its listing pages")

    async def _fetch_and_store(self, walk: ListingWalk, urls: list[str]) -> None:
        """A few workers pull URLs in listing order (newest first); the fetcher's per-host
        limits pace them. `window` bounds pages fetched but not yet parsed, across portals:
        when parsing falls behind, fetching waits instead of piling pages up in memory."""
        if not urls:
            return
        articles = ArticleFetcher(self.source, self.fetcher, walk.alternatives)
        slots = self.window or asyncio.Semaphore(max(2 * self.batch_size, 1))
        todo = list(reversed(urls))
        done: asyncio.Queue[Fetched] = asyncio.Queue()
        held = 0  # window slots taken by pages not yet consumed

        async def worker() -> None:
            nonlocal held
            while todo:
                url = todo.pop()
                await slots.acquire()  # released once the page is parsed (or failed)
                held += 1
                try:
                    url, result = await articles.fetch(url)
                except FetchError as exc:
                    done.put_nowait((url, None, exc))
                except Exception:
                    # A bug: the consumer must not wait forever, and the bug must not pass as
                    # a fetch failure. Hand over nothing and let the exception end the task.
                    done.put_nowait((url, None, None))
                    raise
                else:
                    done.put_nowait((url, result, None))

        per_host = self.source.politeness.concurrency or self.fetcher.settings.concurrency_per_host
        tasks = [asyncio.ensure_future(worker()) for _ in range(min(len(urls), per_host + 1))]
        try:
            for _ in range(len(urls)):
                url, result, error = await done.get()
                held -= 1
                slots.release()
                if result is None and error is None:
                    await _raise_first_bug(tasks)
                await self._consume(url, result, error, walk)
            await self._flush(walk)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for _ in range(held):  # pages never consumed (cancelled run): give the slots back
                slots.release()

    async def _consume(self, url: str, result: FetchResult | None, error: FetchError | None, walk: ListingWalk) -> None:
        report = self.report
        if error is not None:
            # Refused by robots.txt: retried later (the refusal may be lifted), not an error.
            if isinstance(error, RobotsDisallowed):
                report.skipped += 1
            else:
                report.add_error(f"article {url}: {error.message}")
            if isinstance(error, RetriesExhausted):
                self.failed_transient.add(url)
            # Off the portal's origins, or not a web page: retrying cannot change it.
            permanent = isinstance(error, HostNotAllowed | OffsiteRedirect | UnsupportedScheme)
            self.failures.append(Failure(url, error.message, permanent=permanent))
            return
        assert result is not None
        report.article_requests += 1
        other_type, broken = not_html(result), damaged(result)
        if other_type or broken:
            report.add_error(f"article {url}: {other_type or broken}")
            if broken:
                self.failed_transient.add(url)
            self.failures.append(Failure(url, other_type or broken or "", permanent=other_type is not None))
            return
        parsed = self._parse(url, result)
        if parsed is None:
            self.failures.append(Failure(url, "no body text found"))
            return
        if parsed.published_at is None and url in walk.listed:
            parsed.published_at = walk.listed[url]
        self.stamps.see(parsed.published_at)
        self.batch.append(StoreItem.of(result, parsed))
        if len(self.batch) >= self.batch_size:
            await self._flush(walk)

    def _parse(self, url: str, result: FetchResult) -> ParsedArticle | None:
        """The article of a page, or None (recorded) when the page has no body text."""
        report = self.report
        parsed = parse_article(result.text, url, self.source.parse_family)
        if parsed.notice:
            # The document is the content: the text is the notice's title and the document's
            # address, never "Xem chi tiết tại đây" (which would make every notice a copy of the others).
            parsed.paragraphs = [parsed.title or url, *(f"Văn bản đính kèm: {link}" for link in parsed.attachments)]
            report.notices += 1
        if not parsed.paragraphs:
            self.empty_bodies += 1
            report.add_error(f"article {url}: no body text found")
            return None
        report.families[parsed.family] = report.families.get(parsed.family, 0) + 1
        if parsed.generic and not self.source.generic and not self.source.auto:
            report.warnings.append(f"article {url}: {self.source.family} selectors failed, generic fallback used")
        return parsed

    async def _flush(self, walk: ListingWalk) -> None:
        if self.batch:
            items, self.batch = self.batch, []
            self.stamps.replace(items, walk.listed, self.report)
            created, duplicates = await self.store.store(self.source.id, items)
            self.report.new_articles += created
            self.report.duplicates += duplicates
        if self.failures:
            failures, self.failures = self.failures, []
            for failed in await self.store.record_failures(self.source.id, failures):
                if failed.given_up:
                    self.report.given_up.append(failed.url)
                else:
                    self.pending.add(failed.url)
            self.report.retrying = len(self.pending)
        await self._log()

    async def _log(self, *, final: bool = False) -> None:
        """Write the fetch log so far. Listing requests wait for the end: a portal found
        failed at the end marks them (_fail)."""
        keep = [] if final else [r for r in self.records if r.purpose == "listing"]
        batch = [r for r in self.records if final or r.purpose != "listing"]
        self.records[:] = keep
        if batch:
            await self.store.log(self.run_id, self.source.id, batch)

    def _fail(self, reason: str) -> None:
        """A failed portal: the listing requests carry the reason into the fetch log, so the
        digest's portal health shows the portal in error (its requests themselves succeeded)."""
        self.report.fail(reason)
        for i, record in enumerate(self.records):
            if record.purpose == "listing" and record.error is None:
                self.records[i] = dataclasses.replace(record, error=f"failed portal: {reason}")


async def _raise_first_bug(tasks: Sequence[asyncio.Future[None]]) -> None:
    """Re-raise the exception of the worker that hit a bug (it has ended by now)."""
    await asyncio.sleep(0)
    for task in tasks:
        if task.done() and not task.cancelled():
            bug = task.exception()
            if bug is not None:
                raise bug
    raise RuntimeError("a crawl worker stopped without a result")


async def crawl_portal(
    source: Source,
    *,
    fetcher: Fetcher,
    store: CrawlStore,
    run_id: int | None = None,
    max_pages: int | None = None,
    batch_size: int = STORE_BATCH,
    window: asyncio.Semaphore | None = None,
) -> PortalReport:
    """Crawl one portal with a shared Fetcher and store; returns its report."""
    crawl = PortalCrawl(source, fetcher, store, run_id, max_pages, batch_size, window)
    return await crawl.run()
