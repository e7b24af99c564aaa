"""The crawl pipeline, one portal at a time, without Prefect.

    robots.txt -> listing pages (conditional GET, newest first, stop at the first page
    with no new URL) -> new article URLs (known ones skipped) -> fetch -> parse -> dedup
    -> store in batches (article, compressed snapshot) -> fetch log

`crawl_portal` does one portal with a shared Fetcher and ArticleStore; `crawl_sources`
runs many portals in one event loop (the CLI and the benchmark); flows/crawl.py runs
`crawl_portal` in one Prefect task per portal.

Listing validators (ETag / Last-Modified) are saved only once every new article a page
listed is stored (or failed for good): a portal that times out half-way gets the full
listing again next run instead of a 304 hiding the articles it missed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bantin.dedup import DedupIndex, Fingerprint, Known, add_rows, fingerprint, same_figures
from bantin.fetch import (
    Fetcher,
    FetchError,
    FetchRecord,
    FetchResult,
    HttpStatusError,
    RetriesExhausted,
    RobotsDisallowed,
    TransportLike,
    recording,
)
from bantin.parse import ParsedArticle, parse_article, parse_listing_page
from bantin.parse.listing import guess_next_page
from bantin.settings import Settings
from bantin.sources import Source
from bantin.urls import is_allowed

logger = logging.getLogger(__name__)

STORE_BATCH = 25


@dataclass
class PortalReport:
    """What one portal's crawl did: the crawl report's row and the flow artifact's."""

    portal_id: str
    listing_requests: int = 0
    not_modified: int = 0
    article_requests: int = 0
    new_articles: int = 0
    duplicates: int = 0  # duplicate links made: a new copy, or a stored copy re-linked to a new original
    skipped: int = 0  # robots.txt disallowed article URLs
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    generic: bool = False
    families: dict[str, int] = field(default_factory=dict)  # family used -> articles parsed with it
    notices: int = 0  # articles whose content is an attached document
    failed: str | None = None  # why the portal yielded nothing usable (no article link, only empty bodies)
    duration_s: float = 0.0
    incomplete_listings: list[str] = field(default_factory=list)  # walk broke off: resume next run

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, reason: str) -> None:
        """The portal is a failed portal: nothing usable came out of it (red, non-zero exit)."""
        self.failed = reason
        self.add_error(f"failed portal: {reason}")

    def add_error(self, message: str) -> None:
        """Record a failure in the report, and log it with the portal and URL for the run's log."""
        self.errors.append(message)
        logger.warning("portal %s: %s", self.portal_id, message)

    @property
    def unreachable(self) -> bool:
        """Nothing at all could be listed (robots/listing failures): worth a task retry."""
        return bool(self.errors) and self.listing_requests == self.not_modified == 0 and self.new_articles == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "portal": self.portal_id,
            "listing_requests": self.listing_requests,
            "not_modified": self.not_modified,
            "article_requests": self.article_requests,
            "new_articles": self.new_articles,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "generic": self.generic,
            "families": dict(self.families),
            "notices": self.notices,
            "failed": self.failed,
            "duration_s": round(self.duration_s, 2),
            "incomplete_listings": list(self.incomplete_listings),
        }


@dataclass
class StoreItem:
    """A parsed article ready for the store step; the raw page is already compressed."""

    url: str
    parsed: ParsedArticle
    fingerprint: Fingerprint
    snapshot: dict[str, Any]  # storage.crawl.snapshot_row

    @classmethod
    def of(cls, result: FetchResult, parsed: ParsedArticle) -> StoreItem:
        from storage.crawl import snapshot_row

        return cls(
            result.url,
            parsed,
            fingerprint(parsed.text),
            snapshot_row(
                result.url,
                result.content,
                status=result.status,
                content_type=result.content_type,
                encoding=result.encoding,
            ),
        )


class ArticleStore:
    """Database access of the crawl, serialised by one lock per database per process.

    The store step (dedup decision, insert, link) must see every earlier article,
    including those a parallel portal stored a moment ago: one lock makes it so, and
    keeps SQLite writers from queueing on its file lock. Blocking work runs in a thread
    so the event loop keeps fetching.
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.lock = threading.Lock()
        self.index = DedupIndex()

    async def run[T](self, fn: Callable[[Session], T]) -> T:
        """Run a writing step in a thread, holding the store lock."""

        def work() -> T:
            with self.lock, self.factory.begin() as session:
                return fn(session)

        return await asyncio.to_thread(work)

    async def read[T](self, fn: Callable[[Session], T]) -> T:
        """Run a read in a thread; no lock (SQLite WAL and PostgreSQL readers never wait on the writer)."""

        def work() -> T:
            with self.factory() as session:
                return fn(session)

        return await asyncio.to_thread(work)

    # -- small queries

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        from storage.articles import known_urls

        return await self.read(lambda s: known_urls(s, urls)) if urls else set()

    async def incomplete_listings(self, portal_id: str) -> list[str]:
        from storage.crawl import incomplete_listings

        return await self.read(lambda s: incomplete_listings(s, portal_id))

    async def validators(self, url: str) -> tuple[str | None, str | None]:
        from storage.crawl import get_validators

        found = await self.read(lambda s: get_validators(s, [url]))
        return found.get(url, (None, None))

    async def save_validators(self, items: list[tuple[str, str | None, str | None]]) -> None:
        from storage.crawl import save_validators

        if items:
            await self.run(lambda s: save_validators(s, items))

    async def log(self, run_id: int | None, portal_id: str, records: list[FetchRecord]) -> None:
        from storage.crawl import log_fetches

        if records:
            batch = list(records)
            records.clear()
            await self.run(lambda s: log_fetches(s, run_id, portal_id, batch))

    # -- the store step

    def _store(self, session: Session, portal_id: str, items: list[StoreItem]) -> tuple[int, int]:
        from storage.articles import NewArticle, insert_articles_reporting, mark_duplicate
        from storage.crawl import article_text, dedup_rows, link_duplicate, save_snapshots

        add_rows(self.index, dedup_rows(session, self.index.high_water))
        # One multi-row insert for the batch (duplicates are rare: linked afterwards).
        inserted = insert_articles_reporting(
            session,
            [
                NewArticle(
                    portal_id=portal_id,
                    url=item.url,
                    title=item.parsed.title,
                    text=item.parsed.text,
                    published_at=item.parsed.published_at,
                    byline=(item.parsed.byline or None) and item.parsed.byline[:300],
                    captions=item.parsed.captions,
                    content_hash=item.fingerprint.content_hash,
                    minhash=item.fingerprint.minhash_bytes,
                )
                for item in items
            ],
        )
        save_snapshots(session, [(item.snapshot, row.id) for item, row in zip(items, inserted, strict=True)])
        created = duplicates = 0
        # In order, so a copy later in the same batch finds the original earlier in it.
        for item, row in zip(items, inserted, strict=True):
            parsed, fp = item.parsed, item.fingerprint
            if not row.created:
                continue  # already stored (another process, or the same URL twice)
            created += 1

            def verify(candidate: int, text: str = parsed.text) -> bool:
                return same_figures(text, article_text(session, candidate))

            decision = self.index.decide(fp, parsed.published_at, row.id, verify)
            self.index.add(
                Known(row.id, parsed.published_at, decision.duplicate_of, fp.content_hash),
                fp.minhash if fp.near_comparable else None,
            )
            if decision.duplicate_of is not None:
                link_duplicate(session, row.id, decision.duplicate_of)
                duplicates += 1
            elif decision.adopt is not None:
                # The new article is the earlier one: the stored copy (and its copies) point to it.
                mark_duplicate(session, decision.adopt, row.id)
                self.index.relink(decision.adopt, row.id)
                duplicates += 1
        return created, duplicates

    async def store(self, portal_id: str, items: list[StoreItem]) -> tuple[int, int]:
        try:
            return await self.run(lambda s: self._store(s, portal_id, items))
        except BaseException:
            self.index = DedupIndex()  # it may hold rows of the rolled-back transaction: reload
            raise


_STORES: dict[str, ArticleStore] = {}
_STORES_LOCK = threading.Lock()


def get_store(settings: Settings) -> ArticleStore:
    """One ArticleStore per database URL per process (shared by parallel Prefect tasks)."""
    from storage.session import session_factory

    url = settings.resolved_database_url
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = ArticleStore(session_factory(settings))
            _STORES[url] = store
        return store


def configure_fetcher(fetcher: Fetcher, sources: Sequence[Source]) -> None:
    for source in sources:
        for host in source.hosts:
            fetcher.set_host_policy(
                host,
                requests_per_second=source.politeness.requests_per_second,
                concurrency=source.politeness.concurrency,
                verify_tls=source.verify_tls,
            )


async def _discover(
    source: Source,
    fetcher: Fetcher,
    store: ArticleStore,
    report: PortalReport,
    max_pages: int,
    listed: dict[str, dt.datetime] | None = None,
    alternatives: dict[str, str] | None = None,
) -> tuple[list[str], list[tuple[str, str | None, str | None, list[str]]]]:
    """New article URLs, newest first, and the listing pages' validators (with their new URLs).

    `listed` receives the date a listing prints beside each link (the article's fallback date),
    `alternatives` the root-relative reading of bare relative links (tried when the other 404s).
    A listing page with new links but no pager is followed one guessed page further
    (`page/2/`, `?page=2`...): some portals never render their pager.
    """
    new_urls: list[str] = []
    seen: set[str] = set()
    pages_done: list[tuple[str, str | None, str | None, list[str]]] = []
    resume = set(await store.incomplete_listings(source.id))
    for listing in source.listing_urls:
        page_url: str | None = listing
        visited: set[str] = set()
        # Last run broke off in this listing: walk on past known pages, unconditionally.
        resuming = listing in resume
        guessed = False
        while page_url and len(visited) < max_pages:
            visited.add(page_url)
            etag, last_modified = (None, None) if resuming else await store.validators(page_url)
            try:
                result = await fetcher.fetch(
                    page_url, purpose="listing", allowed_hosts=source.hosts, etag=etag, last_modified=last_modified
                )
            except FetchError as exc:
                if guessed:
                    break  # the guessed page does not exist: the listing simply ends
                report.add_error(f"listing {exc.url}: {exc.message}")
                # Pages below this one were never seen: keep this listing's validators unsaved
                # so the next run walks it again instead of stopping at a 304 on page 1.
                pages_done = [p for p in pages_done if p[0] not in visited]
                report.incomplete_listings.append(listing)
                break
            report.listing_requests += 1
            if result.not_modified:
                report.not_modified += 1
                break  # unchanged since the last complete crawl: nothing new below either
            listing_page = parse_listing_page(result.text, result.final_url, source.parse_family)
            links, next_url = listing_page.urls, listing_page.next_url
            for link in listing_page.links:
                if listed is not None and link.published_at is not None:
                    listed.setdefault(link.url, link.published_at)
                if alternatives is not None and link.alternative is not None:
                    alternatives.setdefault(link.url, link.alternative)
            if not links and not guessed:
                report.warnings.append(f"listing {page_url}: no article links found (layout changed?)")
            links = [u for u in links if is_allowed(u, source.hosts) and u not in seen]
            seen.update(links)
            alts = alternatives or {}
            known = await store.known_urls(links + [alts[u] for u in links if u in alts])
            fresh = [u for u in links if u not in known and alts.get(u) not in known]
            pages_done.append((page_url, result.etag, result.last_modified, fresh))
            new_urls.extend(fresh)
            if not fresh and not resuming:
                break
            # No pager on the listing's first page (or on a page reached by guessing): try one page further.
            if next_url is None and fresh and (len(visited) == 1 or guessed):
                next_url, guessed = guess_next_page(result.final_url), True
            else:
                guessed = False
            page_url = next_url if next_url not in visited else None
    return new_urls, pages_done


async def crawl_portal(
    source: Source,
    *,
    fetcher: Fetcher,
    store: ArticleStore,
    run_id: int | None = None,
    max_pages: int | None = None,
    batch_size: int = STORE_BATCH,
    window: asyncio.Semaphore | None = None,
) -> PortalReport:
    """Crawl one portal. Fetch failures are recorded in the report and the fetch log, not raised.

    `window` bounds the pages fetched but not yet parsed (shared by the portals of a run):
    when parsing falls behind, fetching waits instead of piling pages up in memory.
    """
    started = time.monotonic()
    report = PortalReport(source.id, generic=source.generic)
    if source.generic:
        report.warnings.append(f"unknown family {source.family!r}: pages parsed by the generic fallback")
    listed: dict[str, dt.datetime] = {}
    stamps: dict[dt.datetime, int] = {}  # publication times seen, to spot a site-wide (deploy) stamp
    empty_bodies = 0  # article pages without text: all of them, and the portal is not understood
    records: list[FetchRecord] = []
    pages = max_pages or source.max_listing_pages or fetcher.settings.max_listing_pages
    with recording(records.append):
        try:
            alternatives: dict[str, str] = {}
            new_urls, pages_done = await _discover(source, fetcher, store, report, pages, listed, alternatives)
            prefer_root = False  # set once a link's root reading answered where the browser's did not
            if not new_urls and report.listing_requests > report.not_modified and not report.errors:
                known = await store.known_urls(list(listed)) if listed else set()
                if not known:
                    report.fail("no article link found on its listing pages")
                    _mark_failed(records, report)
            failed_transient: set[str] = set()
            batch: list[StoreItem] = []
            slots = window or asyncio.Semaphore(max(2 * batch_size, 1))

            held = 0  # window slots this portal holds

            def release() -> None:
                nonlocal held
                held -= 1
                slots.release()

            # A few workers per portal pull URLs in listing order (newest first): the fetcher's
            # per-host limits pace them, and no task exists for pages not yet due.
            todo = list(reversed(new_urls))
            done: asyncio.Queue[tuple[str, FetchResult | None, FetchError | None]] = asyncio.Queue()

            async def fetch_article(url: str) -> tuple[str, FetchResult]:
                nonlocal prefer_root
                alt = alternatives.get(url)
                if alt is not None and prefer_root:
                    url, alt = alt, url
                try:
                    return url, await fetcher.fetch(url, purpose="article", allowed_hosts=source.hosts)
                except HttpStatusError as exc:
                    if alt is None or exc.status not in (404, 410):
                        raise
                    result = await fetcher.fetch(alt, purpose="article", allowed_hosts=source.hosts)
                    prefer_root = prefer_root or alt == alternatives.get(url)
                    return alt, result

            async def worker() -> None:
                nonlocal held
                while todo:
                    url = todo.pop()
                    await slots.acquire()  # released once the page is parsed (or failed)
                    held += 1
                    try:
                        url, result = await fetch_article(url)
                    except FetchError as exc:
                        done.put_nowait((url, None, exc))
                    except Exception as exc:  # a bug must not leave the consumer waiting forever
                        done.put_nowait((url, None, FetchError(url, f"unexpected {type(exc).__name__}: {exc}")))
                    else:
                        done.put_nowait((url, result, None))

            async def flush() -> None:
                if batch:
                    items = list(batch)
                    batch.clear()
                    _replace_site_stamps(items, stamps, listed, report)
                    created, dups = await store.store(source.id, items)
                    report.new_articles += created
                    report.duplicates += dups
                    await store.log(run_id, source.id, records)

            per_host = source.politeness.concurrency or fetcher.settings.concurrency_per_host
            tasks = [asyncio.ensure_future(worker()) for _ in range(min(len(new_urls), per_host + 1))]
            try:
                for _ in range(len(new_urls)):
                    url, result, error = await done.get()
                    release()
                    if error is not None:
                        if isinstance(error, RobotsDisallowed):
                            report.skipped += 1
                            continue
                        report.add_error(f"article {url}: {error.message}")
                        if isinstance(error, RetriesExhausted):
                            failed_transient.add(url)
                        continue
                    assert result is not None
                    report.article_requests += 1
                    parsed = parse_article(result.text, url, source.parse_family)
                    if parsed.notice:
                        # The document is the content: the text is the notice's title and the document's
                        # address, never "Xem chi tiết tại đây" (which would make every notice a copy of the others).
                        parsed.paragraphs = [parsed.title or url, *(f"Văn bản đính kèm: {link}" for link in parsed.attachments)]
                        report.notices += 1
                    if not parsed.paragraphs:
                        empty_bodies += 1
                        report.add_error(f"article {url}: no body text found")
                        continue
                    if parsed.published_at is None and url in listed:
                        parsed.published_at = listed[url]
                    if parsed.published_at is not None:
                        stamps[parsed.published_at] = stamps.get(parsed.published_at, 0) + 1
                    report.families[parsed.family] = report.families.get(parsed.family, 0) + 1
                    if parsed.generic and not source.generic and not source.auto:
                        report.warnings.append(f"article {url}: {source.family} selectors failed, generic fallback used")
                    batch.append(StoreItem.of(result, parsed))
                    del result
                    if len(batch) >= batch_size:
                        await flush()
                await flush()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                while held > 0:  # pages never consumed (cancelled run): give the slots back
                    release()
            if new_urls and report.new_articles == 0 and not failed_transient and not report.skipped:
                report.fail(
                    "every article fetched had an empty body"
                    if empty_bodies
                    else "none of its listing links led to an article"
                )
                _mark_failed(records, report)
            # Validators only for listing pages whose new articles are all in (or failed for good).
            complete = [(u, e, lm) for u, e, lm, fresh in pages_done if not failed_transient.intersection(fresh)]
            await store.save_validators([(u, e, lm) for u, e, lm in complete if e or lm])
        finally:
            report.duration_s = time.monotonic() - started
            await store.log(run_id, source.id, records)
    return report


def _mark_failed(records: list[FetchRecord], report: PortalReport) -> None:
    """The listing requests of a failed portal carry the reason into the fetch log, so the
    digest's portal health shows the portal in error (its requests themselves succeeded)."""
    for i, record in enumerate(records):
        if record.purpose == "listing" and record.error is None:
            records[i] = dataclasses.replace(record, error=f"failed portal: {report.failed}")


SITE_STAMP_MIN = 3  # this many articles of one portal with the very same minute: a deploy stamp


def _replace_site_stamps(
    items: list[StoreItem], stamps: dict[dt.datetime, int], listed: dict[str, dt.datetime], report: PortalReport
) -> None:
    """A publication time printed on many articles of a portal is the site's (a re-deploy),
    not theirs: use the date the listing printed beside the link, else none."""
    for item in items:
        value = item.parsed.published_at
        if (
            value is not None
            and stamps.get(value, 0) >= SITE_STAMP_MIN
            and (value.hour, value.minute) != (0, 0)  # many articles of one day without a time are normal
        ):
            other = listed.get(item.url)
            item.parsed.published_at = other if other != value else None
            note = f"{value:%Y-%m-%d %H:%M} is printed on {stamps[value]}+ articles: a site-wide stamp, not their date"
            if note not in report.warnings:
                report.warnings.append(note)


def make_transport(settings: Settings, offline: bool) -> TransportLike:
    """None online; offline, the fixture portals (BANTIN_FIXTURES_URL when set, else in-process)."""
    if not (offline or settings.offline):
        return None
    import os

    from bantin.fetch import loopback_transport
    from bantin.fixtures.routing import offline_transport

    target = os.environ.get("BANTIN_FIXTURES_URL")
    return loopback_transport(target) if target else offline_transport()


def start_run(settings: Settings, sources: Sequence[Source], flow_run_id: str | None = None) -> int:
    """Register the portals and open a crawl_runs row; returns its id."""
    import socket

    from storage.articles import upsert_portals
    from storage.crawl import start_run as _start_run
    from storage.session import session_factory

    with session_factory(settings).begin() as session:
        upsert_portals(session, sources)
        return _start_run(session, flow_run_id=flow_run_id, worker=socket.gethostname())


def finish_run(settings: Settings, run_id: int, reports: Sequence[PortalReport]) -> None:
    from storage.crawl import finish_run as _finish_run
    from storage.session import session_factory

    stats = {
        "portals": [r.as_dict() for r in reports],
        "new_articles": sum(r.new_articles for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "errors": sum(len(r.errors) for r in reports),
    }
    with session_factory(settings).begin() as session:
        _finish_run(session, run_id, stats)


async def crawl_sources(
    sources: Sequence[Source],
    settings: Settings,
    *,
    transport: TransportLike = None,
    offline: bool = False,
    max_pages: int | None = None,
    parallel: int | None = None,
    run_id: int | None = None,
    on_portal_done: Callable[[PortalReport], None] | None = None,
) -> tuple[int, list[PortalReport]]:
    """Crawl many portals in one event loop, `parallel` at a time; returns (run id, reports)."""
    if run_id is None:
        run_id = start_run(settings, sources)
    if transport is None:
        transport = make_transport(settings, offline)
    store = get_store(settings)
    portals_at_once = parallel or settings.fetch.max_portals_in_parallel
    bound = asyncio.Semaphore(portals_at_once)
    # Pages fetched but not yet parsed, across portals: a few per portal at work.
    window = asyncio.Semaphore(max(64, 4 * portals_at_once * settings.fetch.concurrency_per_host))
    async with Fetcher(settings.fetch, transport=transport) as fetcher:
        configure_fetcher(fetcher, sources)

        async def one(source: Source) -> PortalReport:
            async with bound:
                report = await crawl_portal(
                    source, fetcher=fetcher, store=store, run_id=run_id, max_pages=max_pages, window=window
                )
            if on_portal_done is not None:
                on_portal_done(report)
            return report

        reports = await asyncio.gather(*(one(s) for s in sources))
    finish_run(settings, run_id, reports)
    return run_id, list(reports)


def run_label(now: dt.datetime | None = None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """'crawl 2026-11-23 06:00' in local time: the flow run name."""
    from zoneinfo import ZoneInfo

    now = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(tz))
    return f"crawl {now:%Y-%m-%d %H:%M}"
