"""Crawl bookkeeping: crawl runs, the fetch log, HTTP validators, dedup rows.

Functions take a Session and never commit (the caller owns the transaction), like
storage.articles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.articles import dialect_insert
from storage.models import Article, CrawlRun, FetchLog, HttpCacheEntry, ListingState, utcnow


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


def start_run(session: Session, *, flow_run_id: str | None = None, worker: str | None = None) -> int:
    run = CrawlRun(flow_run_id=flow_run_id, worker=worker, stats={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, stats: dict[str, Any]) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(finished_at=utcnow(), stats=stats))


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


# --- dedup ------------------------------------------------------------------------------------


def dedup_rows(
    session: Session, after_id: int = 0
) -> list[tuple[int, dt.datetime | None, int | None, str, bytes | None]]:
    """(id, published_at, duplicate_of, content_hash, minhash) of articles with id > after_id.

    All articles, duplicates included: a copy of a copy must still find its cluster.
    """
    stmt = (
        select(Article.id, Article.published_at, Article.duplicate_of, Article.content_hash, Article.minhash)
        .where(Article.id > after_id)
        .order_by(Article.id)
    )
    return [row._tuple() for row in session.execute(stmt)]


def article_text(session: Session, article_id: int) -> str:
    """The stored body of one article (near-duplicate candidates are checked on their text)."""
    return session.execute(select(Article.text).where(Article.id == article_id)).scalar_one_or_none() or ""


def link_duplicate(session: Session, article_id: int, original_id: int) -> None:
    """Point a just-inserted article (nothing points at it yet) at its original (a root)."""
    session.execute(update(Article).where(Article.id == article_id).values(duplicate_of=original_id))
