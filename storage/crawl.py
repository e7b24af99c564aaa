"""Crawl bookkeeping: crawl runs, the fetch log, HTTP validators, dedup rows.

Functions take a Session and never commit (the caller owns the transaction), like
storage.articles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from storage.articles import canonical_url, dialect_insert
from storage.models import Article, CrawlRun, FetchLog, HttpCacheEntry, PageSnapshot, utcnow

REFUSED_PREFIX = "refused:"


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


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    return session.get(CrawlRun, run_id)


def incomplete_listings(session: Session, portal_id: str, lookback: int = 50) -> list[str]:
    """Listings whose walk broke off (a page failed) in the portal's last finished run.

    The next run walks them past already-known pages, so articles listed below the failed
    page are not lost behind "stop at the first page without new URLs".
    """
    runs = session.execute(
        select(CrawlRun.stats).where(CrawlRun.finished_at.is_not(None)).order_by(CrawlRun.id.desc()).limit(lookback)
    ).scalars()
    for stats in runs:
        for portal in (stats or {}).get("portals", []):
            if portal.get("portal") == portal_id:
                return list(portal.get("incomplete_listings", []))
    return []


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


@dataclass(frozen=True)
class PortalFetchStats:
    portal_id: str | None
    requests: int  # real HTTP requests (refusals excluded)
    listing_requests: int
    not_modified: int
    article_requests: int
    robots_requests: int
    refusals: int  # robots.txt disallow, offsite redirects: never sent
    errors: int  # requests that failed (timeouts, resets, 4xx/5xx)


def fetch_stats(session: Session, run_id: int) -> list[PortalFetchStats]:
    """Per-portal request counts of one run, from the fetch log."""
    # Refusals (robots.txt, offsite redirects) are logged with an error starting "refused:".
    real = FetchLog.error.is_(None) | ~FetchLog.error.startswith(REFUSED_PREFIX)

    def count(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (
        select(
            FetchLog.portal_id,
            count(real),
            count(real & (FetchLog.purpose == "listing")),
            count(FetchLog.status == 304),
            count(real & (FetchLog.purpose == "article")),
            count(real & (FetchLog.purpose == "robots")),
            count(~real),
            count(real & (FetchLog.error.is_not(None) | (FetchLog.status >= 400))),
        )
        .where(FetchLog.run_id == run_id)
        .group_by(FetchLog.portal_id)
        .order_by(FetchLog.portal_id)
    )
    return [PortalFetchStats(*(row[0],), *(int(v or 0) for v in row[1:])) for row in session.execute(stmt)]


def fetch_log_rows(session: Session, run_id: int, portal_id: str | None = None) -> list[FetchLog]:
    stmt = select(FetchLog).where(FetchLog.run_id == run_id)
    if portal_id is not None:
        stmt = stmt.where(FetchLog.portal_id == portal_id)
    return list(session.execute(stmt.order_by(FetchLog.id)).scalars())


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


def forget_validators(session: Session, urls: Sequence[str]) -> None:
    """Drop validators so the next crawl fetches these listing pages in full."""
    if urls:
        session.execute(HttpCacheEntry.__table__.delete().where(HttpCacheEntry.url.in_(list(urls))))


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


def snapshot_row(
    url: str, body: bytes, *, status: int, content_type: str | None, encoding: str | None
) -> dict[str, Any]:
    """A page_snapshots row, compressed now: the crawler keeps a few KB per page, not the page."""
    return {
        "url": canonical_url(url),
        "sha256": hashlib.sha256(body).hexdigest(),
        "body_zlib": zlib.compress(body, 6),
        "status": status,
        "content_type": content_type,
        "encoding": encoding,
    }


def save_snapshots(session: Session, rows: Sequence[tuple[dict[str, Any], int | None]]) -> int:
    """Raw pages of one store batch: (snapshot_row(...), article id) pairs.

    Same semantics as storage.articles.save_snapshot (idempotent on canonical URL + body
    hash), one statement for the batch.
    """
    now = utcnow()
    values = {(row["url"], row["sha256"]): row | {"article_id": article_id, "fetched_at": now} for row, article_id in rows}
    if values:
        stmt = dialect_insert(session, PageSnapshot).on_conflict_do_nothing(
            index_elements=[PageSnapshot.url, PageSnapshot.sha256]
        )
        session.execute(stmt, list(values.values()))
    return len(values)
