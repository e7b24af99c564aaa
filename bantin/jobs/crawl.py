"""The crawl job: many portals in one event loop, stored with storage/.

    crawl_sources(sources, settings)   one run: a crawl_runs row, every portal, the report

`DatabaseStore` is bantin.crawl's `CrawlStore` on the database, made of small parts:
`SessionRunner` (blocking session work in a thread, writes serialised) and `Deduplicator`
(the near-duplicate index of stored articles and the store step's decisions).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from bantin.crawl import CrawlStore, PortalReport, StoreItem, Validators, configure_fetcher, crawl_portal, make_transport
from bantin.dedup import DedupIndex, Known, add_rows, same_figures
from bantin.fetch import Fetcher, FetchRecord, TransportLike
from bantin.jobs.db import database
from bantin.settings import Settings
from bantin.sources import Source
from storage import articles as stored_articles
from storage import crawl as stored_crawl


class SessionRunner:
    """Runs blocking session work in a thread so the event loop keeps fetching.

    Writes hold one lock per database per process: the store step must see every earlier
    article, including those a parallel portal stored a moment ago, and SQLite writers
    must not queue on its file lock. Reads take no lock (SQLite WAL and PostgreSQL
    readers never wait on the writer).
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.lock = threading.Lock()

    async def write[T](self, fn: Callable[[Session], T]) -> T:
        def work() -> T:
            with self.lock, self.factory.begin() as session:
                return fn(session)

        return await asyncio.to_thread(work)

    async def read[T](self, fn: Callable[[Session], T]) -> T:
        def work() -> T:
            with self.factory() as session:
                return fn(session)

        return await asyncio.to_thread(work)


class Deduplicator:
    """The index of stored articles' fingerprints, and the store step that uses it.

    The index is loaded incrementally (rows above its high-water mark) inside the write
    transaction, so it holds every article committed before; a rolled-back batch resets it.
    """

    def __init__(self) -> None:
        self.index = DedupIndex()

    def reset(self) -> None:
        self.index = DedupIndex()

    def store(self, session: Session, portal_id: str, items: Sequence[StoreItem]) -> tuple[int, int]:
        """Insert a batch and link its copies: (articles created, duplicate links made)."""
        add_rows(self.index, stored_crawl.dedup_rows(session, self.index.high_water))
        # One multi-row insert for the batch (duplicates are rare: linked afterwards).
        inserted = stored_articles.insert_articles_reporting(session, [_new_article(portal_id, i) for i in items])
        stored_articles.save_snapshots(
            session, [(_new_snapshot(item), row.id) for item, row in zip(items, inserted, strict=True)]
        )
        created = duplicates = 0
        # In order, so a copy later in the same batch finds the original earlier in it.
        for item, row in zip(items, inserted, strict=True):
            if not row.created:
                continue  # already stored (another process, or the same URL twice)
            created += 1
            duplicates += self._link(session, item, row.id)
        return created, duplicates

    def _link(self, session: Session, item: StoreItem, article_id: int) -> int:
        parsed, fp = item.parsed, item.fingerprint

        def verify(candidate: int) -> bool:
            return same_figures(parsed.text, stored_crawl.article_text(session, candidate))

        decision = self.index.decide(fp, parsed.published_at, article_id, verify)
        self.index.add(
            Known(article_id, parsed.published_at, decision.duplicate_of, fp.content_hash),
            fp.minhash if fp.near_comparable else None,
        )
        if decision.duplicate_of is not None:
            stored_crawl.link_duplicate(session, article_id, decision.duplicate_of)
            return 1
        if decision.adopt is not None:
            # The new article is the earlier one: the stored copy (and its copies) point to it.
            stored_articles.mark_duplicate(session, decision.adopt, article_id)
            self.index.relink(decision.adopt, article_id)
            return 1
        return 0


def _new_article(portal_id: str, item: StoreItem) -> stored_articles.NewArticle:
    parsed = item.parsed
    return stored_articles.NewArticle(
        portal_id=portal_id,
        url=item.url,
        title=parsed.title,
        text=parsed.text,
        content_hash=item.fingerprint.content_hash,
        published_at=parsed.published_at,
        byline=(parsed.byline or None) and parsed.byline[:300],
        captions=parsed.captions,
        minhash=item.fingerprint.minhash_bytes,
    )


def _new_snapshot(item: StoreItem) -> stored_articles.NewSnapshot:
    page = item.page
    return stored_articles.NewSnapshot(
        url=item.url,
        sha256=page.sha256,
        body_zlib=page.body_zlib,
        status=page.status,
        content_type=page.content_type,
        encoding=page.encoding,
    )


class DatabaseStore(CrawlStore):
    """bantin.crawl's CrawlStore on the database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.sessions = SessionRunner(factory)
        self.dedup = Deduplicator()

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        if not urls:
            return set()
        return await self.sessions.read(lambda s: stored_articles.known_urls(s, urls))

    async def incomplete_listings(self, portal_id: str) -> list[str]:
        return await self.sessions.read(lambda s: stored_crawl.incomplete_listings(s, portal_id))

    async def validators(self, url: str) -> Validators | None:
        found = await self.sessions.read(lambda s: stored_crawl.get_validators(s, [url]))
        if url not in found:
            return None
        etag, last_modified = found[url]
        return Validators(url, etag, last_modified)

    async def save_listings(self, portal_id: str, validators: Sequence[Validators], walked: dict[str, bool]) -> None:
        def save(session: Session) -> None:
            stored_crawl.save_validators(session, [(v.url, v.etag, v.last_modified) for v in validators])
            stored_crawl.save_listing_state(session, portal_id, walked)

        if validators or walked:
            await self.sessions.write(save)

    async def store(self, portal_id: str, items: list[StoreItem]) -> tuple[int, int]:
        try:
            return await self.sessions.write(lambda s: self.dedup.store(s, portal_id, items))
        except BaseException:
            self.dedup.reset()  # the index may hold rows of the rolled-back transaction: reload
            raise

    async def log(self, run_id: int | None, portal_id: str, records: Sequence[FetchRecord]) -> None:
        if records:
            await self.sessions.write(lambda s: stored_crawl.log_fetches(s, run_id, portal_id, records))


_STORES: dict[str, DatabaseStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(settings: Settings) -> DatabaseStore:
    """The store of the settings' database, one per process: the portal tasks a Prefect
    flow runs in parallel threads share its write lock and dedup index."""
    url = settings.resolved_database_url
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = _STORES[url] = DatabaseStore(database(settings))
        return store


def start_run(settings: Settings, sources: Sequence[Source], flow_run_id: str | None = None) -> int:
    """Register the portals and open a crawl_runs row; returns its id."""
    with database(settings).begin() as session:
        stored_articles.upsert_portals(session, sources)
        return stored_crawl.start_run(session, flow_run_id=flow_run_id, worker=socket.gethostname())


def finish_run(settings: Settings, run_id: int, reports: Sequence[PortalReport]) -> None:
    stats = {
        "portals": [r.as_dict() for r in reports],
        "new_articles": sum(r.new_articles for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "errors": sum(len(r.errors) for r in reports),
    }
    with database(settings).begin() as session:
        stored_crawl.finish_run(session, run_id, stats)


async def crawl_one(
    source: Source, settings: Settings, *, run_id: int, offline: bool = False, max_pages: int | None = None
) -> PortalReport:
    """One portal with a Fetcher of its own (a Prefect task per portal)."""
    async with Fetcher(settings.fetch, transport=make_transport(settings, offline)) as fetcher:
        configure_fetcher(fetcher, [source])
        return await crawl_portal(source, fetcher=fetcher, store=open_store(settings), run_id=run_id, max_pages=max_pages)


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
    store = open_store(settings)
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
