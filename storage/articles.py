"""Portals, articles, raw page snapshots and near-duplicate bookkeeping.

Every writer here is harmless to repeat: a crawl that dies half-way and is retried (by
Prefect or by hand) inserts nothing twice. Inserts use the dialect's
``INSERT ... ON CONFLICT DO NOTHING`` so two crawls racing on the same URL also end with
one row, on SQLite and on PostgreSQL alike.

Functions take a Session and never commit: the caller owns the transaction
(``with session_factory(url).begin() as session: ...``; bantin.jobs.db.database(settings)).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Article, Base, PageSnapshot, Portal, utcnow

_articles = Article.__table__
_snapshots = PageSnapshot.__table__

# Rows per INSERT statement / IN list: well under SQLite's 32766 bound variables and
# PostgreSQL's 65535, while keeping round trips few.
_CHUNK = 200


class StorageInputError(ValueError):
    """A value handed to a storage function is unusable (the message names the field)."""


def _chunks[T](items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Both dialects' INSERTs have `on_conflict_do_nothing`, `on_conflict_do_update` and
# `excluded` with the same keywords, so ON CONFLICT code type-checks without knowing which.
type UpsertInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: Session, table: Table | type[Base]) -> UpsertInsert:
    """The dialect's INSERT (with `on_conflict_do_nothing`/`_do_update`) for `session`'s backend.

    Given a model class, the statement targets its Core table: Core statements skip the
    ORM's bulk machinery and their compiled form is cached (a 3x speed-up measured).
    """
    target = table if isinstance(table, Table) else table.__table__
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(target)
    if name == "sqlite":
        return sqlite.insert(target)
    raise StorageInputError(f"unsupported database dialect {name!r}")


# --- URLs ------------------------------------------------------------------------------

# Article and snapshot URLs are stored and looked up as the caller gives them: the caller
# (bantin's crawl job) canonicalises them with bantin.urls.canonicalize_url, the one
# definition of "the same page". Storage only refuses what cannot be a page address.


def _absolute(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StorageInputError(f"{where}: {url!r} is not an absolute http(s) URL")
    return url


# --- Portals ---------------------------------------------------------------------------

_PORTAL_FIELDS = ("id", "name", "district", "province", "base_url", "family", "enabled")
# The units a portal publishes for (vietnam-provinces codes); absent in older callers' dicts.
_PORTAL_PLACE_FIELDS = ("legacy_province_code", "legacy_district_code", "province_code", "ward_code")


def _field(source: object, name: str, default: Any = ...) -> Any:
    if isinstance(source, Mapping):
        if name in source:
            return source[name]
    elif hasattr(source, name):
        return getattr(source, name)
    if default is ...:
        raise StorageInputError(f"portal source {source!r}: missing field {name!r}")
    return default


def upsert_portals(session: Session, sources: Iterable[object]) -> int:
    """Insert or update one `portals` row per source config (deploy/sources.yaml entry).

    A source is any object or mapping with id, name, district, province, base_url,
    family and (optionally) enabled — e.g. bantin.sources' model. Portals no longer in
    the config are left alone (their articles keep pointing at them). Returns the count.
    """
    rows: dict[str, dict[str, Any]] = {}
    for source in sources:
        row = {name: _field(source, name, True if name == "enabled" else ...) for name in _PORTAL_FIELDS}
        row.update({name: _field(source, name, None) for name in _PORTAL_PLACE_FIELDS})
        row["base_url"] = str(row["base_url"])
        if not row["id"]:
            raise StorageInputError(f"portal source {source!r}: empty id")
        rows[row["id"]] = row
    if not rows:
        return 0
    stmt = dialect_insert(session, Portal)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={name: getattr(stmt.excluded, name) for name in (*_PORTAL_FIELDS, *_PORTAL_PLACE_FIELDS) if name != "id"},
    )
    session.execute(stmt, list(rows.values()))
    return len(rows)


# --- Articles --------------------------------------------------------------------------


@dataclass(slots=True)
class NewArticle:
    """An article as the crawler parsed it: `url` canonical, `content_hash` bantin.dedup's."""

    portal_id: str
    url: str
    title: str
    text: str
    published_at: dt.datetime | None = None  # aware; naive datetimes are refused
    byline: str | None = None
    captions: list[str] = field(default_factory=list)
    minhash: bytes | None = None  # bantin.dedup signature: 128 x uint32 bytes
    first_seen_at: dt.datetime | None = None  # now when None
    duplicate_of: int | None = None
    content_hash: str = field(kw_only=True)  # bantin.dedup.content_hash(text): one definition of "same text"
    facts: dict[str, list[str]] | None = field(default=None, kw_only=True)  # bantin.dedup.Facts.to_json()


@dataclass(frozen=True, slots=True)
class InsertedArticle:
    id: int
    url: str  # canonical
    created: bool  # False: the URL was already stored (nothing was changed)


def _article_row(article: NewArticle, now: dt.datetime, index: int) -> dict[str, Any]:
    where = f"articles[{index}] ({article.url!r})"
    for name in ("published_at", "first_seen_at"):
        value = getattr(article, name)
        if value is not None and value.tzinfo is None:
            raise StorageInputError(f"{where}.{name}: naive datetime {value!r}; give a timezone")
    if not article.portal_id:
        raise StorageInputError(f"{where}.portal_id: empty")
    return {
        "portal_id": article.portal_id,
        "url": _absolute(article.url, where),
        "title": article.title,
        "text": article.text,
        "published_at": article.published_at,
        "first_seen_at": article.first_seen_at or now,
        "byline": article.byline,
        "captions": list(article.captions),
        "content_hash": article.content_hash,
        "minhash": article.minhash,
        "duplicate_of": article.duplicate_of,
        "facts": article.facts,
    }


def insert_articles_reporting(session: Session, articles: Sequence[NewArticle]) -> list[InsertedArticle]:
    """Insert the articles whose URL is new; one result per input, in order.

    An article whose URL is already stored is left as it is (first sighting wins).
    Repeating the call, or racing another process on the same URLs, is harmless.
    """
    now = utcnow()
    rows = [_article_row(article, now, i) for i, article in enumerate(articles)]
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["url"], row)  # the same URL twice in one batch: keep the first
    created: set[str] = set()
    # Sorted: concurrent PostgreSQL transactions inserting overlapping URLs then take the
    # unique-index locks in the same order, so they wait for each other instead of deadlocking.
    batch = sorted(unique.values(), key=lambda row: row["url"])
    for chunk in _chunks(batch):
        stmt = (
            dialect_insert(session, Article)
            .on_conflict_do_nothing(index_elements=["url"])
            .returning(_articles.c.url)
        )
        # executemany with RETURNING ("insertmanyvalues"): few round trips, one compiled form.
        created.update(session.execute(stmt, list(chunk)).scalars())
    ids = _ids_by_url(session, list(unique))
    return [InsertedArticle(id=ids[row["url"]], url=row["url"], created=row["url"] in created) for row in rows]


def _ids_by_url(session: Session, urls: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(urls):
        ids.update((url, id_) for url, id_ in session.execute(select(Article.url, Article.id).where(Article.url.in_(chunk))))
    return ids


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """The subset of `urls` already stored as articles."""
    return set(_ids_by_url(session, list(dict.fromkeys(urls))))


class ArticleNotFound(LookupError):
    """No article has this id."""


def mark_duplicate(session: Session, article_id: int, original_id: int) -> int:
    """Record that `article_id` republishes `original_id`; returns the original's id used.

    Chains are flattened (a duplicate of a duplicate points at the first original), so
    readers need one hop. Marking the same pair again is harmless.
    """
    if article_id == original_id:
        raise StorageInputError(f"mark_duplicate: article {article_id} cannot duplicate itself")
    rows = dict(
        row._tuple()
        for row in session.execute(select(Article.id, Article.duplicate_of).where(Article.id.in_([article_id, original_id])))
    )
    for wanted in (article_id, original_id):
        if wanted not in rows:
            raise ArticleNotFound(f"mark_duplicate: no article with id {wanted}")
    root = rows[original_id] or original_id
    if root == article_id:
        raise StorageInputError(
            f"mark_duplicate: article {original_id} is already a duplicate of {article_id}; "
            "refusing to make a cycle"
        )
    session.execute(update(_articles).where(_articles.c.id == article_id).values(duplicate_of=root))
    # Articles that pointed at `article_id` now point at the root too.
    session.execute(update(_articles).where(_articles.c.duplicate_of == article_id).values(duplicate_of=root))
    return root


# --- Page snapshots --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    id: int
    article_id: int | None
    url: str
    fetched_at: dt.datetime
    status: int
    content_type: str | None
    encoding: str | None
    sha256: str
    body: bytes  # decompressed


@dataclass(frozen=True, slots=True)
class NewSnapshot:
    """A raw page as fetched, already compressed by the crawler (it keeps a few KB per page)."""

    url: str  # canonical, like NewArticle.url
    sha256: str  # of the uncompressed body
    body_zlib: bytes
    status: int = 200
    content_type: str | None = None
    encoding: str | None = None


def save_snapshots(
    session: Session, snapshots: Sequence[tuple[NewSnapshot, int | None]], *, fetched_at: dt.datetime | None = None
) -> int:
    """Keep raw pages: (snapshot, article id or None) pairs, one statement for the batch.

    Idempotent on (url, sha256 of the body): saving the same bytes again changes nothing.
    """
    if fetched_at is not None and fetched_at.tzinfo is None:
        raise StorageInputError("save_snapshots: fetched_at is naive; give a timezone")
    now = fetched_at or utcnow()
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for snapshot, article_id in snapshots:
        values.setdefault(
            (_absolute(snapshot.url, "snapshot"), snapshot.sha256),
            {
                "url": snapshot.url,
                "sha256": snapshot.sha256,
                "body_zlib": snapshot.body_zlib,
                "status": snapshot.status,
                "content_type": snapshot.content_type,
                "encoding": snapshot.encoding,
                "article_id": article_id,
                "fetched_at": now,
            },
        )
    if values:
        stmt = dialect_insert(session, PageSnapshot).on_conflict_do_nothing(
            index_elements=[PageSnapshot.url, PageSnapshot.sha256]
        )
        session.execute(stmt, list(values.values()))
    return len(values)


def load_snapshot(session: Session, url: str, *, sha256: str | None = None) -> StoredSnapshot | None:
    """The newest snapshot of `url` (or the one with body hash `sha256`), decompressed."""
    stmt = select(PageSnapshot).where(PageSnapshot.url == url)
    if sha256 is not None:
        stmt = stmt.where(PageSnapshot.sha256 == sha256)
    snapshot = session.execute(
        stmt.order_by(PageSnapshot.fetched_at.desc(), PageSnapshot.id.desc()).limit(1)
    ).scalar_one_or_none()
    if snapshot is None:
        return None
    return StoredSnapshot(
        id=snapshot.id,
        article_id=snapshot.article_id,
        url=snapshot.url,
        fetched_at=snapshot.fetched_at,
        status=snapshot.status,
        content_type=snapshot.content_type,
        encoding=snapshot.encoding,
        sha256=snapshot.sha256,
        body=zlib.decompress(snapshot.body_zlib),
    )
