"""SQLAlchemy 2.0 models: what bantin keeps between runs.

Relationships are `lazy="raise"` so every query says what it loads; constraint
names follow one convention so Alembic migrations are stable on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_N_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware in Python, UTC in the database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: bantin stores aware datetimes only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model maps one table (DeclarativeBase types it as any FromClause): Core statements
    # on `Model.__table__` then type-check.
    __table__: ClassVar[Table]


class Portal(Base):
    """A news source: one district (or provincial) portal from deploy/sources.yaml."""

    __tablename__ = "portals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(500))
    family: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The units it publishes for, as codes of vietnam-provinces: the legacy (pre-July-2025)
    # province and district, and the 2025 province and commune/ward. A meeting is placed
    # in those of its date's era.
    legacy_province_code: Mapped[int | None] = mapped_column(Integer)
    legacy_district_code: Mapped[int | None] = mapped_column(Integer)
    province_code: Mapped[int | None] = mapped_column(Integer)
    ward_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[str] = mapped_column(ForeignKey("portals.id"), index=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    byline: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    captions: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # MinHash signature (128 uint32, 512 bytes): near-duplicate search across runs and portals.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    # The figures and names of the text ({"numbers": [...], "names": [...]}, bantin.dedup.Facts):
    # a near-duplicate candidate is checked on them, not on its text. NULL for articles
    # stored before revision 0007 (computed from the text the first time they are a candidate).
    facts: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)

    portal: Mapped[Portal] = relationship(lazy="raise")
    original: Mapped[Article | None] = relationship(remote_side=[id], lazy="raise")
    # passive_deletes: the database's ON DELETE CASCADE removes the meeting. Without it the
    # ORM sets meetings.article_id to NULL on session.delete(article), which fails (NOT NULL).
    meeting: Mapped[Meeting | None] = relationship(back_populates="article", lazy="raise", passive_deletes=True)


class ArticleBand(Base):
    """The near-duplicate index: one row per LSH band of an article's MinHash signature.

    `bucket` is the band's bytes (8 signature values); articles sharing a (band, bucket) are
    candidates for one another. The primary key is the lookup: a bucket's members nearest
    in date to an article (`published_at`: the article's, else when it was first seen),
    read a few at a time from either side. Persisted, so no process rebuilds an index.
    """

    __tablename__ = "article_bands"
    __table_args__ = {"sqlite_with_rowid": False}

    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True)


class PageSnapshot(Base):
    """The raw page as fetched, zlib-compressed, so extraction can be re-run offline."""

    __tablename__ = "page_snapshots"
    __table_args__ = (UniqueConstraint("url", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    fetched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    encoding: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    ABORTED = "aborted"  # its process died (or stopped heart-beating) before finishing


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # VARCHAR + CHECK on both backends: adding a state is a plain migration.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    )


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(200))
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), default=RunStatus.RUNNING)
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class UrlState(enum.StrEnum):
    RETRYING = "retrying"  # tried again at next_try_at, whatever the listing says
    GIVEN_UP = "given_up"  # failed max attempts: listed in the portal's health, not fetched again


class UrlLedgerEntry(Base):
    """An article URL a listing showed that is not stored (yet): why, and when to try again.

    Stored articles are in `articles`; this table holds only the ones that failed, so none
    is lost behind a listing's 304.
    """

    __tablename__ = "url_ledger"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    portal_id: Mapped[str] = mapped_column(String(64), ForeignKey("portals.id", ondelete="CASCADE"), index=True)
    state: Mapped[UrlState] = mapped_column(_enum(UrlState, "url_state"), default=UrlState.RETRYING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    first_failed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PortalLease(Base):
    """Who crawls a portal right now: one crawl per portal at a time, across processes.

    A lease expires (a killed crawler holds it no longer than LEASE_S) and is renewed as
    the crawl stores its batches.
    """

    __tablename__ = "portal_leases"

    portal_id: Mapped[str] = mapped_column(String(64), ForeignKey("portals.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class FetchLog(Base):
    """One row per HTTP request the crawler made (or tried to make)."""

    __tablename__ = "fetch_log"
    __table_args__ = (Index(None, "host", "requested_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    portal_id: Mapped[str | None] = mapped_column(ForeignKey("portals.id"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    host: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(20))  # robots, listing, article
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class HttpCacheEntry(Base):
    """Validators of listing pages, for conditional GET on the next crawl."""

    __tablename__ = "http_cache"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ListingState(Base):
    """Per portal listing: whether its last walk broke off (a page failed) before the end.

    The next crawl walks an incomplete listing past already-known pages, so articles listed
    below the failed page are not lost behind "stop at the first page without new URLs".
    """

    __tablename__ = "listing_state"

    portal_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("portals.id", ondelete="CASCADE"), primary_key=True
    )
    listing_url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Meeting(Base):
    """The extraction of one article. `is_meeting` false records that it was looked at."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    extractor_version: Mapped[str] = mapped_column(String(40))
    extracted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    is_meeting: Mapped[bool] = mapped_column(Boolean)
    meeting_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # As the extractor read them: the provincial portal's republished articles have no
    # portal district, and the text may name another one than the portal's.
    district: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(40))
    host_body: Mapped[str | None] = mapped_column(String(300))
    chair_name: Mapped[str | None] = mapped_column(String(200))
    chair_title: Mapped[str | None] = mapped_column(String(300))
    officials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    communes: Mapped[list[str]] = mapped_column(JSON, default=list)  # bare names, as in the gold shape
    commune_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    period: Mapped[str | None] = mapped_column(String(200))
    # The units in force on the meeting's date: before 1 July 2025 the legacy district and
    # province (and the 2025 province that absorbed it), from then on the 2025 commune/ward
    # and province. Both eras' codes, so a reader of either finds the meeting.
    legacy_province_code: Mapped[int | None] = mapped_column(Integer, index=True)
    legacy_district_code: Mapped[int | None] = mapped_column(Integer, index=True)
    province_code: Mapped[int | None] = mapped_column(Integer, index=True)
    ward_code: Mapped[int | None] = mapped_column(Integer, index=True)

    article: Mapped[Article] = relationship(back_populates="meeting", lazy="raise")
    # passive_deletes: the database's ON DELETE CASCADE removes the items; the ORM need
    # not load them one by one first.
    items: Mapped[list[MeetingItem]] = relationship(
        back_populates="meeting",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="MeetingItem.position",
    )


class MeetingItem(Base):
    """A clause quoted from the article: an achievement, a shortfall or a directive."""

    __tablename__ = "meeting_items"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # achievement, shortfall, directive
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(40))
    figures: Mapped[list[str]] = mapped_column(JSON, default=list)

    meeting: Mapped[Meeting] = relationship(back_populates="items", lazy="raise")


class DeliveryStatus(enum.StrEnum):
    """Where one (week, recipient) mail stands (docs/digest.md has the transitions)."""

    PENDING = "pending"  # row made, nothing sent yet
    SENDING = "sending"  # claimed by a run (claimed_at, claimed_by); a run that dies here leaves it
    SENT = "sent"  # handed to the SMTP server (its 250 after the data)
    OUTBOX = "outbox"  # written as a .eml file (no SMTP host configured)
    FAILED = "failed"  # refused before the server had the message; the next run claims it again
    # The message data went out but the server's answer never came (connection lost, odd
    # reply), or a run died while sending: the reader may have it. Never re-sent
    # automatically; only an explicit resend claims it again.
    UNCERTAIN = "uncertain"
    # The subscriber's places had no meeting that week and they did not ask for empty weeks:
    # no mail, decided (a re-run sends nothing); claimed again if the week gains a meeting.
    NOTHING_TO_SEND = "nothing_to_send"


class DigestDelivery(Base):
    """Exactly-once mail: one row per (week, recipient)."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("week", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING)
    message_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The latest claim: when, and by whom ("host:pid"), so a row left sending by a dead
    # run is told from one a live run is sending now.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
