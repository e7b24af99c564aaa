"""The crawl job: many portals in one event loop, stored with storage/.

    crawl_sources(sources, settings)   one run: a crawl_runs row, every portal, the report

`DatabaseStore` is bantin.crawl's `CrawlStore` on the database, made of small parts:
`SessionRunner` (blocking session work in a thread, writes serialised) and `Deduplicator`
(the store step: insert a batch, look its duplicates up in the index the database keeps,
decide with bantin.dedup's pure `decide_batch`, link; one transaction under a lock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bantin.crawl import CrawlStore, PortalReport, StoreItem, Validators, configure_fetcher, crawl_portal, make_transport
from bantin.crawl.ledger import FailedUrl, Failure, PortalLedger, after_failure
from bantin.dedup import (
    BUCKET_CAP,
    Facts,
    Incoming,
    Lookup,
    Stored,
    choose_candidates,
    decide_batch,
    signature_from_bytes,
)
from bantin.fetch import Fetcher, FetchRecord, TransportLike
from bantin.jobs.db import database
from bantin.settings import Settings
from bantin.sources import Source
from storage import articles as stored_articles
from storage import crawl as stored_crawl
from storage import session as storage_session
from storage.models import UrlState

# Any constant will do: the same in every bantin process.
_DEDUP_LOCK_KEY = 0x62616E74696E01


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
    """The store step: insert a batch, decide which of its articles are copies, link them.

    One transaction under the store lock (`_lock_store_step`): the batch is inserted, the
    database is asked what the decision needs (`_lookup`: articles with the same body hash,
    the members of the batch's LSH buckets, the candidates' signatures and facts), the
    decision is made by `bantin.dedup.decide_batch` (pure) and written (links, the batch's
    bands). Nothing is kept between batches: a new process starts storing at once, whatever
    the size of the table, and a recreated database is simply what it is.
    """

    def store(self, session: Session, portal_id: str, items: Sequence[StoreItem]) -> tuple[int, int]:
        """Insert a batch and link its copies: (articles created, duplicate links made)."""
        _lock_store_step(session)
        # One multi-row insert for the batch (duplicates are rare: linked afterwards).
        inserted = stored_articles.insert_articles_reporting(session, [_new_article(portal_id, i) for i in items])
        stored_articles.save_snapshots(
            session, [(_new_snapshot(item), row.id) for item, row in zip(items, inserted, strict=True)]
        )
        stored_crawl.forget_failures(session, [item.url for item in items])
        incoming: dict[int, Incoming] = {}
        now = dt.datetime.now(dt.UTC)
        for item, row in zip(items, inserted, strict=True):
            # Not created: already stored (another process); the same URL twice in the batch: once.
            if row.created and row.id not in incoming:
                incoming[row.id] = Incoming(row.id, item.parsed.published_at, item.fingerprint, now)
        if not incoming:
            return 0, 0
        batch = list(incoming.values())  # in the batch's order: a copy finds the original earlier in it
        decisions = decide_batch(batch, _lookup(session, batch))
        duplicates = 0
        for article, decision in zip(batch, decisions, strict=True):
            if decision.duplicate_of is not None:
                stored_crawl.link_duplicate(session, article.id, decision.duplicate_of)
                duplicates += 1
            elif decision.adopt is not None:
                # The new article is the earlier one: the old root and its copies point to it.
                stored_articles.mark_duplicate(session, decision.adopt, article.id)
                duplicates += 1
        stored_crawl.save_bands(
            session, [(a.id, band, bucket, a.when) for a in batch for band, bucket in a.fingerprint.bucket_keys]
        )
        return len(batch), duplicates


def _lookup(session: Session, batch: Sequence[Incoming]) -> Lookup:
    """What the decision on `batch` needs of the stored articles: a few queries per batch,
    each bounded (CANDIDATE_BUDGET candidates per article), whatever the table's size."""
    ids = {a.id for a in batch}
    exact = stored_crawl.first_with_hash(session, {a.fingerprint.content_hash for a in batch}, exclude=ids)
    near = [a for a in batch if a.fingerprint.near_comparable and a.fingerprint.content_hash not in exact]
    probes = [(band, bucket, a.when) for a in near for band, bucket in a.fingerprint.bucket_keys]
    members = iter(stored_crawl.bucket_members(session, probes, BUCKET_CAP + 1))
    candidates = {
        a.id: choose_candidates(a.fingerprint, a.when, {key: next(members) for key in a.fingerprint.bucket_keys})
        for a in near
    }
    compared = {i for chosen in candidates.values() for i in chosen}
    rows = {row.id: row for row in stored_crawl.dedup_rows(session, compared | set(exact.values()))}
    roots = {row.duplicate_of for row in rows.values() if row.duplicate_of is not None} - rows.keys()
    rows.update((row.id, row) for row in stored_crawl.dedup_rows(session, roots))
    facts = {i: Facts.from_json(rows[i].facts) for i in compared if i in rows}
    unknown = [i for i, known in facts.items() if known is None]
    if unknown:
        # Stored before facts were kept (revision 0007): read once, kept for next time.
        texts = stored_crawl.article_texts(session, unknown)
        found = {i: Facts.of(texts.get(i, "")) for i in unknown}
        stored_crawl.save_facts(session, {i: f.to_json() for i, f in found.items()})
        facts.update(found)
    stored = {
        row.id: Stored(
            row.id,
            row.published_at,
            row.duplicate_of or row.id,
            signature_from_bytes(row.minhash) if row.minhash else None,
            facts.get(row.id),
        )
        for row in rows.values()
    }
    return Lookup(exact, {i: [c for c in chosen if c in stored] for i, chosen in candidates.items()}, stored)


def _lock_store_step(session: Session) -> None:
    """Serialise store steps across processes: the dedup decision must see every article
    stored before it, and ids must be handed out in commit order (the index loads rows above
    its high-water mark). PostgreSQL: a transaction advisory lock; SQLite: its write lock,
    taken now (a write) rather than at the first insert, so the reads below see the latest."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DEDUP_LOCK_KEY})
    else:
        session.execute(text("UPDATE crawl_runs SET id = id WHERE 0 = 1"))


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
        facts=item.fingerprint.facts.to_json(),
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
        return await self.sessions.write(lambda s: self.dedup.store(s, portal_id, items))

    async def log(self, run_id: int | None, portal_id: str, records: Sequence[FetchRecord]) -> None:
        def write(session: Session) -> None:
            stored_crawl.log_fetches(session, run_id, portal_id, records)
            if run_id is not None:
                stored_crawl.heartbeat(session, run_id)  # the run is alive: not closed as dead

        if records:
            await self.sessions.write(write)

    async def ledger(self, portal_id: str) -> PortalLedger:
        now = dt.datetime.now(dt.UTC)
        found = PortalLedger()
        for entry in await self.sessions.read(lambda s: stored_crawl.ledger_entries(s, portal_id)):
            if entry.state == UrlState.GIVEN_UP:
                found.given_up.add(entry.url)
            elif entry.next_try_at is None or entry.next_try_at <= now:
                found.due.append(entry.url)
            else:
                found.waiting.add(entry.url)
        return found

    async def record_failures(self, portal_id: str, failures: Sequence[Failure]) -> list[FailedUrl]:
        def record(session: Session) -> list[FailedUrl]:
            before = stored_crawl.attempts_of(session, [f.url for f in failures])
            now = dt.datetime.now(dt.UTC)
            outcome = [after_failure(f, before.get(f.url, 0), now) for f in failures]
            stored_crawl.save_failures(
                session,
                portal_id,
                [
                    stored_crawl.LedgerEntry(
                        o.url, UrlState.GIVEN_UP if o.given_up else UrlState.RETRYING, o.attempts, o.error, o.next_try_at
                    )
                    for o in outcome
                ],
            )
            return outcome

        return await self.sessions.write(record) if failures else []


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


STALE_RUN = dt.timedelta(minutes=30)  # no heartbeat for this long: the run's process is gone
LEASE = dt.timedelta(minutes=20)  # a portal's lease; renewed every LEASE / 4 while its crawl runs


class DatabaseLost(RuntimeError):
    """The SQLite file was deleted or replaced while a run wrote to it: its work is lost."""


def _identity(settings: Settings) -> tuple[int, int] | None:
    """(device, inode) of the SQLite file; None for another backend."""
    path = storage_session.sqlite_path(settings.resolved_database_url)
    if path is None:
        return None
    try:
        found = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (found.st_dev, found.st_ino)


@dataclass
class CrawlRun:
    """A crawl_runs row as this process holds it."""

    id: int
    holder: str  # leases taken by this run: "host:pid:run"
    database: tuple[int, int] | None  # the SQLite file's identity when the run started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_dead_runs(session: Session, now: dt.datetime) -> list[int]:
    """Close as aborted the runs left running by a process that is gone: on this host a pid
    that no longer exists, anywhere a heartbeat older than STALE_RUN."""
    host = socket.gethostname()
    dead = [
        run.id
        for run in stored_crawl.running_runs(session)
        if (run.worker == host and run.pid is not None and not _alive(run.pid))
        or (run.heartbeat_at is not None and now - run.heartbeat_at > STALE_RUN)
    ]
    stored_crawl.abort_runs(session, dead, "its process ended before the run finished")
    return dead


def start_run(settings: Settings, sources: Sequence[Source], flow_run_id: str | None = None) -> int:
    """Register the portals, close dead runs, open a crawl_runs row; returns its id."""
    return open_run(settings, sources, flow_run_id).id


def open_run(settings: Settings, sources: Sequence[Source], flow_run_id: str | None = None) -> CrawlRun:
    with database(settings).begin() as session:
        close_dead_runs(session, dt.datetime.now(dt.UTC))
        stored_articles.upsert_portals(session, sources)
        run_id = stored_crawl.start_run(
            session, flow_run_id=flow_run_id, worker=socket.gethostname(), pid=os.getpid()
        )
    run = CrawlRun(run_id, f"{socket.gethostname()}:{os.getpid()}:{run_id}", _identity(settings))
    _RUNS[run_id] = run
    return run


_RUNS: dict[int, CrawlRun] = {}


def finish_run(settings: Settings, run_id: int, reports: Sequence[PortalReport]) -> None:
    """Close the run with its report; DatabaseLost when the SQLite file it wrote is gone."""
    run = _RUNS.pop(run_id, None)
    if run is not None and run.database is not None and _identity(settings) != run.database:
        raise DatabaseLost(
            f"the database file {storage_session.sqlite_path(settings.resolved_database_url)} was deleted or "
            "replaced during the crawl: what this run stored is lost (crawl again to fetch it anew)"
        )
    stats = {
        "portals": [r.as_dict() for r in reports],
        "new_articles": sum(r.new_articles for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "errors": sum(len(r.errors) for r in reports),
    }
    with database(settings).begin() as session:
        stored_crawl.finish_run(session, run_id, stats)


async def leased(
    store: DatabaseStore, source: Source, holder: str, run_id: int | None, crawl: Callable[[], Awaitable[PortalReport]]
) -> PortalReport:
    """Run one portal's crawl holding its lease: a second crawler of the same portal (another
    process, another worker) skips it and says so."""

    def take(session: Session) -> bool:
        return stored_crawl.take_lease(session, source.id, holder, run_id, dt.datetime.now(dt.UTC) + LEASE)

    if not await store.sessions.write(take):
        found = await store.sessions.read(lambda s: stored_crawl.lease_holder(s, source.id))
        other = f"{found[0]} until {found[2]:%H:%M} UTC" if found else "another crawl"
        report = PortalReport(source.id, generic=source.generic)
        report.warn(f"skipped: {other} is crawling this portal")
        return report

    async def renew() -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 4)
            await store.sessions.write(take)

    renewal = asyncio.ensure_future(renew())
    try:
        return await crawl()
    finally:
        renewal.cancel()
        await asyncio.gather(renewal, return_exceptions=True)
        await store.sessions.write(lambda s: stored_crawl.release_lease(s, source.id, holder))


async def crawl_one(
    source: Source, settings: Settings, *, run_id: int, offline: bool = False, max_pages: int | None = None
) -> PortalReport:
    """One portal with a Fetcher of its own (a Prefect task per portal)."""
    store = open_store(settings)
    holder = f"{socket.gethostname()}:{os.getpid()}:{run_id}"
    async with Fetcher(settings.fetch, transport=make_transport(settings, offline)) as fetcher:
        configure_fetcher(fetcher, [source])
        return await leased(
            store,
            source,
            holder,
            run_id,
            lambda: crawl_portal(source, fetcher=fetcher, store=store, run_id=run_id, max_pages=max_pages),
        )


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
    run = _RUNS.get(run_id) if run_id is not None else open_run(settings, sources)
    run_id = run.id if run is not None else run_id
    assert run_id is not None
    holder = run.holder if run is not None else f"{socket.gethostname()}:{os.getpid()}:{run_id}"
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
                report = await leased(
                    store,
                    source,
                    holder,
                    run_id,
                    lambda: crawl_portal(
                        source, fetcher=fetcher, store=store, run_id=run_id, max_pages=max_pages, window=window
                    ),
                )
            if on_portal_done is not None:
                on_portal_done(report)
            return report

        reports = await asyncio.gather(*(one(s) for s in sources))
    finish_run(settings, run_id, reports)
    return run_id, list(reports)
