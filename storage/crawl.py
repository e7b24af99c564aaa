"""Crawl bookkeeping: crawl runs, the fetch log, HTTP validators, the near-duplicate index.

Functions take a Session and never commit (the caller owns the transaction), like
storage.articles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Integer, bindparam, func, select, text, union_all, update
from sqlalchemy.orm import Session

from storage.articles import dialect_insert
from storage.models import (
    Article,
    ArticleBand,
    CrawlRun,
    FetchLog,
    HttpCacheEntry,
    ListingState,
    PortalLease,
    RunStatus,
    UrlLedgerEntry,
    UrlState,
    utcnow,
)


class FetchRecordLike(Protocol):
    """What log_fetches reads of a fetch record (bantin.fetch.FetchRecord, a frozen dataclass:
    read-only properties, so frozen records match)."""

    @property
    def url(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def bytes(self) -> int: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def requested_at(self) -> dt.datetime: ...


# --- crawl runs -------------------------------------------------------------------------------


def start_run(
    session: Session, *, flow_run_id: str | None = None, worker: str | None = None, pid: int | None = None
) -> int:
    run = CrawlRun(
        flow_run_id=flow_run_id, worker=worker, pid=pid, stats={}, status=RunStatus.RUNNING, heartbeat_at=utcnow()
    )
    session.add(run)
    session.flush()
    return run.id


def heartbeat(session: Session, run_id: int) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(heartbeat_at=utcnow()))


def finish_run(session: Session, run_id: int, stats: dict[str, Any]) -> None:
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(finished_at=utcnow(), stats=stats, status=RunStatus.FINISHED, heartbeat_at=utcnow())
    )


@dataclass(frozen=True, slots=True)
class RunningRun:
    id: int
    worker: str | None
    pid: int | None
    heartbeat_at: dt.datetime | None


def running_runs(session: Session) -> list[RunningRun]:
    stmt = select(CrawlRun.id, CrawlRun.worker, CrawlRun.pid, CrawlRun.heartbeat_at).where(
        CrawlRun.status == RunStatus.RUNNING
    )
    return [RunningRun(*row) for row in session.execute(stmt.order_by(CrawlRun.id))]


def abort_runs(session: Session, run_ids: Sequence[int], reason: str) -> None:
    """Close runs whose process is gone: status aborted, the reason in their stats."""
    if run_ids:
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id.in_(list(run_ids)), CrawlRun.status == RunStatus.RUNNING)
            .values(status=RunStatus.ABORTED, finished_at=utcnow(), stats={"aborted": reason})
        )


def incomplete_listings(session: Session, portal_id: str) -> list[str]:
    """Listings of the portal whose last walk broke off (a page failed): see ListingState."""
    stmt = select(ListingState.listing_url).where(
        ListingState.portal_id == portal_id, ListingState.incomplete.is_(True)
    )
    return list(session.execute(stmt.order_by(ListingState.listing_url)).scalars())


def save_listing_state(session: Session, portal_id: str, walked: Mapping[str, bool]) -> None:
    """Record, per listing URL walked in this crawl, whether its walk broke off."""
    if not walked:
        return
    now = utcnow()
    stmt = dialect_insert(session, ListingState)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ListingState.portal_id, ListingState.listing_url],
        set_={"incomplete": stmt.excluded.incomplete, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(
        stmt,
        [
            {"portal_id": portal_id, "listing_url": url, "incomplete": incomplete, "updated_at": now}
            for url, incomplete in walked.items()
        ],
    )


# --- fetch log --------------------------------------------------------------------------------


def log_fetches(session: Session, run_id: int | None, portal_id: str | None, records: Iterable[FetchRecordLike]) -> int:
    rows = [
        {
            "run_id": run_id,
            "portal_id": portal_id,
            "url": r.url[:1000],
            "host": r.host[:255],
            "purpose": r.purpose[:20],
            "requested_at": r.requested_at,
            "status": r.status,
            "bytes": r.bytes,
            "duration_ms": r.duration_ms,
            "error": r.error,
        }
        for r in records
    ]
    if rows:
        session.execute(FetchLog.__table__.insert(), rows)
    return len(rows)


# --- conditional GET validators ---------------------------------------------------------------


def get_validators(session: Session, urls: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """url -> (etag, last_modified) of listing pages fetched before."""
    if not urls:
        return {}
    stmt = select(HttpCacheEntry.url, HttpCacheEntry.etag, HttpCacheEntry.last_modified).where(
        HttpCacheEntry.url.in_(list(urls))
    )
    return {url: (etag, lm) for url, etag, lm in session.execute(stmt)}


def save_validators(session: Session, items: Iterable[tuple[str, str | None, str | None]]) -> int:
    rows = {url: {"url": url, "etag": etag, "last_modified": lm, "checked_at": utcnow()} for url, etag, lm in items}
    if not rows:
        return 0
    stmt = dialect_insert(session, HttpCacheEntry)
    stmt = stmt.on_conflict_do_update(
        index_elements=[HttpCacheEntry.url],
        set_={
            "etag": stmt.excluded.etag,
            "last_modified": stmt.excluded.last_modified,
            "checked_at": stmt.excluded.checked_at,
        },
    )
    session.execute(stmt, list(rows.values()))
    return len(rows)


# --- dedup: the near-duplicate index in the database ---------------------------------------

# A probe: (band number, the band's bytes, a date). storage keeps bands as given
# (bantin.dedup makes them) and hands back the members of a bucket nearest to the date.
type BucketProbe = tuple[int, bytes, dt.datetime]

# Probes per statement (two terms each: before and after the date): one statement shape,
# its compiled form cached, well under SQLite's 500 terms of a compound SELECT.
_PROBES_PER_STATEMENT = 16


@dataclass(frozen=True, slots=True)
class DedupRow:
    """What the near-duplicate decision reads of a stored article."""

    id: int
    published_at: dt.datetime | None
    duplicate_of: int | None
    content_hash: str
    minhash: bytes | None
    facts: Any  # the stored JSON (bantin.dedup.Facts.to_json), None before revision 0007


def first_with_hash(session: Session, hashes: Collection[str], exclude: Collection[int] = ()) -> dict[str, int]:
    """content hash -> the smallest id of an article with it, other than `exclude`."""
    found: dict[str, int] = {}
    wanted = sorted(hashes)
    for start in range(0, len(wanted), 200):
        stmt = (
            select(Article.content_hash, func.min(Article.id))
            .where(Article.content_hash.in_(wanted[start : start + 200]))
            .group_by(Article.content_hash)
        )
        if exclude:
            stmt = stmt.where(Article.id.not_in(list(exclude)))
        found.update((chash, int(article_id)) for chash, article_id in session.execute(stmt))
    return found


_PG_BUCKETS = text(
    """
    SELECT k.probe, m.article_id, m.published_at
    FROM unnest(CAST(:bands AS smallint[]), CAST(:buckets AS bytea[]), CAST(:ats AS timestamptz[]))
         WITH ORDINALITY AS k(band, bucket, at, probe)
    CROSS JOIN LATERAL (
        (SELECT b.article_id, b.published_at FROM article_bands AS b
         WHERE b.band = k.band AND b.bucket = k.bucket AND b.published_at <= k.at
         ORDER BY b.published_at DESC, b.article_id DESC LIMIT :per_side)
        UNION ALL
        (SELECT b.article_id, b.published_at FROM article_bands AS b
         WHERE b.band = k.band AND b.bucket = k.bucket AND b.published_at > k.at
         ORDER BY b.published_at ASC, b.article_id ASC LIMIT :per_side)
    ) AS m
    """
).columns(probe=Integer, article_id=Integer, published_at=ArticleBand.__table__.c.published_at.type)


@cache
def _bucket_statement(probes: int) -> CompoundSelect[tuple[int, int, dt.datetime]]:
    bands = ArticleBand.__table__
    parts = []
    for n in range(probes):
        bucket = (bands.c.band == bindparam(f"band_{n}"), bands.c.bucket == bindparam(f"bucket_{n}"))
        at = bindparam(f"at_{n}", type_=bands.c.published_at.type)
        probe = bindparam(f"probe_{n}", type_=Integer)
        for side in (
            select(bands.c.article_id, bands.c.published_at)
            .where(*bucket, bands.c.published_at <= at)
            .order_by(bands.c.published_at.desc(), bands.c.article_id.desc()),
            select(bands.c.article_id, bands.c.published_at)
            .where(*bucket, bands.c.published_at > at)
            .order_by(bands.c.published_at.asc(), bands.c.article_id.asc()),
        ):
            found = side.limit(bindparam("per_side")).subquery()
            parts.append(select(probe.label("probe"), found.c.article_id, found.c.published_at))
    return union_all(*parts)


def bucket_members(
    session: Session, probes: Sequence[BucketProbe], per_side: int
) -> list[list[tuple[int, dt.datetime]]]:
    """For each probe (band, bucket, date): the bucket's members dated nearest to the date,
    `per_side` at most on each side, as (article id, date); in the probes' order.

    Each side is an index range read from the date outwards and cut at `per_side`: the
    work does not grow with the bucket (template-written articles fill some by the thousand)."""
    found: list[list[tuple[int, dt.datetime]]] = [[] for _ in probes]
    if session.get_bind().dialect.name == "postgresql":
        # One statement for them all: the probes as arrays, each side a LATERAL subquery.
        for start in range(0, len(probes), 1000):
            chunk = probes[start : start + 1000]
            arrays = {
                "bands": [band for band, _, _ in chunk],
                "buckets": [bucket for _, bucket, _ in chunk],
                "ats": [at for _, _, at in chunk],
                "per_side": per_side,
            }
            for probe, article_id, published_at in session.execute(_PG_BUCKETS, arrays):
                found[start + probe - 1].append((article_id, published_at))
        return found
    stmt = _bucket_statement(_PROBES_PER_STATEMENT)
    for start in range(0, len(probes), _PROBES_PER_STATEMENT):
        chunk = probes[start : start + _PROBES_PER_STATEMENT]
        params: dict[str, Any] = {"per_side": per_side}
        for n in range(_PROBES_PER_STATEMENT):
            band, bucket, at = chunk[n] if n < len(chunk) else (-1, b"", chunk[0][2])  # padding: no band -1
            params.update({f"band_{n}": band, f"bucket_{n}": bucket, f"at_{n}": at, f"probe_{n}": start + n})
        for probe, article_id, published_at in session.execute(stmt, params):
            found[probe].append((article_id, published_at))
    return found


def save_bands(session: Session, rows: Iterable[tuple[int, int, bytes, dt.datetime]]) -> None:
    """Index articles: (article id, band, bucket, date) rows; multi-row inserts, harmless to repeat."""
    values = [
        {"article_id": article_id, "band": band, "bucket": bucket, "published_at": at}
        for article_id, band, bucket, at in rows
    ]
    if values:
        stmt = dialect_insert(session, ArticleBand).on_conflict_do_nothing()
        for start in range(0, len(values), 1000):
            session.execute(stmt, values[start : start + 1000])


def dedup_rows(session: Session, ids: Collection[int]) -> list[DedupRow]:
    """The articles of `ids` as the near-duplicate decision reads them (their texts stay in the database)."""
    rows: list[DedupRow] = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 200):
        stmt = select(
            Article.id, Article.published_at, Article.duplicate_of, Article.content_hash, Article.minhash, Article.facts
        ).where(Article.id.in_(wanted[start : start + 200]))
        rows.extend(DedupRow(*row) for row in session.execute(stmt))
    return rows


def article_texts(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Stored bodies (for articles stored before their facts were kept)."""
    found: dict[int, str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), 200):
        stmt = select(Article.id, Article.text).where(Article.id.in_(wanted[start : start + 200]))
        found.update((article_id, text or "") for article_id, text in session.execute(stmt))
    return found


def save_facts(session: Session, facts: Mapping[int, Any]) -> None:
    """Keep the facts computed for articles stored without them."""
    if facts:
        table = Article.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("article_id")).values(facts=bindparam("article_facts")),
            [{"article_id": article_id, "article_facts": value} for article_id, value in facts.items()],
        )


def link_duplicate(session: Session, article_id: int, original_id: int) -> None:
    """Point a just-inserted article (nothing points at it yet) at its original (a root)."""
    session.execute(update(Article).where(Article.id == article_id).values(duplicate_of=original_id))


# --- URL ledger: article URLs that failed -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    url: str
    state: UrlState
    attempts: int
    last_error: str | None
    next_try_at: dt.datetime | None


def ledger_entries(session: Session, portal_id: str) -> list[LedgerEntry]:
    """The portal's failed URLs (retrying or given up)."""
    stmt = (
        select(UrlLedgerEntry.url, UrlLedgerEntry.state, UrlLedgerEntry.attempts, UrlLedgerEntry.last_error, UrlLedgerEntry.next_try_at)
        .where(UrlLedgerEntry.portal_id == portal_id)
        .order_by(UrlLedgerEntry.url)
    )
    return [LedgerEntry(*row) for row in session.execute(stmt)]


def attempts_of(session: Session, urls: Sequence[str]) -> dict[str, int]:
    """How often each of these URLs failed before (absent: never)."""
    if not urls:
        return {}
    stmt = select(UrlLedgerEntry.url, UrlLedgerEntry.attempts).where(UrlLedgerEntry.url.in_(list(urls)))
    return {url: int(n) for url, n in session.execute(stmt)}


def save_failures(session: Session, portal_id: str, entries: Sequence[LedgerEntry]) -> None:
    """Record failed URLs (state, attempts, error, next try), replacing what was there."""
    if not entries:
        return
    now = utcnow()
    stmt = dialect_insert(session, UrlLedgerEntry)
    stmt = stmt.on_conflict_do_update(
        index_elements=[UrlLedgerEntry.url],
        set_={
            "state": stmt.excluded.state,
            "attempts": stmt.excluded.attempts,
            "last_error": stmt.excluded.last_error,
            "next_try_at": stmt.excluded.next_try_at,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    session.execute(
        stmt,
        [
            {
                "url": e.url,
                "portal_id": portal_id,
                "state": e.state.value,
                "attempts": e.attempts,
                "last_error": (e.last_error or "")[:2000],
                "next_try_at": e.next_try_at,
                "first_failed_at": now,
                "updated_at": now,
            }
            for e in {e.url: e for e in entries}.values()
        ],
    )


def forget_failures(session: Session, urls: Sequence[str]) -> None:
    """These URLs are stored now: out of the ledger."""
    if urls:
        session.execute(UrlLedgerEntry.__table__.delete().where(UrlLedgerEntry.url.in_(list(urls))))


# --- portal leases: one crawl per portal at a time --------------------------------------------


def take_lease(session: Session, portal_id: str, holder: str, run_id: int | None, until: dt.datetime) -> bool:
    """Take (or renew) the portal's lease for `holder`; False when another holder's lease runs."""
    now = utcnow()
    stmt = dialect_insert(session, PortalLease)
    stmt = stmt.on_conflict_do_update(
        index_elements=[PortalLease.portal_id],
        set_={"holder": stmt.excluded.holder, "run_id": stmt.excluded.run_id, "expires_at": stmt.excluded.expires_at},
        where=(PortalLease.holder == holder) | (PortalLease.expires_at < now),
    )
    session.execute(stmt, {"portal_id": portal_id, "holder": holder, "run_id": run_id, "expires_at": until})
    current = session.execute(select(PortalLease.holder).where(PortalLease.portal_id == portal_id)).scalar_one()
    return bool(current == holder)


def lease_holder(session: Session, portal_id: str) -> tuple[str, int | None, dt.datetime] | None:
    row = session.execute(
        select(PortalLease.holder, PortalLease.run_id, PortalLease.expires_at).where(PortalLease.portal_id == portal_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def release_lease(session: Session, portal_id: str, holder: str) -> None:
    session.execute(
        PortalLease.__table__.delete().where(PortalLease.portal_id == portal_id, PortalLease.holder == holder)
    )
