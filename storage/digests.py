"""Digest queries: the articles of a date range, portal activity, and the delivery ledger.

Rows come back as models (loaded, nothing lazy left to load); the digest job turns them
into the plain rows the digest is built from (bantin.digest.selection). Functions take a
Session and never commit: the caller owns the transaction, as in the other modules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session, defer

from storage.articles import dialect_insert
from storage.models import (
    Article,
    DeliveryStatus,
    DigestDelivery,
    FetchLog,
    Meeting,
    MeetingItem,
    Portal,
    UrlLedgerEntry,
    UrlState,
    utcnow,
)

SHOWN_ITEM_KINDS = ("shortfall", "directive")


@dataclass(frozen=True)
class StoredMeeting:
    meeting: Meeting
    items: list[MeetingItem]  # the shown kinds (SHOWN_ITEM_KINDS), in article order


@dataclass(frozen=True)
class RangeArticles:
    """Articles of a range with their portals, and the meeting records of those articles."""

    articles: list[tuple[Article, Portal]]
    meetings: dict[int, StoredMeeting]  # by article id


def load_articles(session: Session, lo: dt.datetime, hi: dt.datetime, late_from: dt.datetime) -> RangeArticles:
    """Originals published in [lo, hi), or first seen in it and published in [late_from, lo)
    or never dated (late discoveries), plus all their copies, with their meeting records."""
    published_in = and_(Article.published_at >= lo, Article.published_at < hi)
    late = and_(
        Article.first_seen_at >= lo,
        Article.first_seen_at < hi,
        or_(Article.published_at.is_(None), and_(Article.published_at >= late_from, Article.published_at < lo)),
    )
    originals = session.execute(
        select(Article, Portal).join(Portal).where(Article.duplicate_of.is_(None), or_(published_in, late))
    ).all()
    original_ids = [a.id for a, _ in originals]
    copies = (
        session.execute(select(Article, Portal).join(Portal).where(Article.duplicate_of.in_(original_ids))).all()
        if original_ids
        else []
    )
    pairs = [(a, p) for a, p in (*originals, *copies)]
    return RangeArticles(pairs, _meetings_of(session, [a.id for a, _ in pairs]))


def load_history(session: Session, lo: dt.datetime, hi: dt.datetime) -> RangeArticles:
    """The meetings said before a range (the digest's "named before" look-back): originals
    with a meeting record (`is_meeting`) published in [lo, hi), or undated and first seen in
    it, plus their copies, with the records and their items. The articles' texts are not
    loaded (`Article.text` raises if read): the look-back needs the clauses, not the pages."""
    dated = and_(Article.published_at >= lo, Article.published_at < hi)
    undated = and_(Article.published_at.is_(None), Article.first_seen_at >= lo, Article.first_seen_at < hi)
    without_text = defer(Article.text, raiseload=True)
    originals = session.execute(
        select(Article, Portal)
        .join(Portal)
        .join(Meeting, Meeting.article_id == Article.id)
        .where(Article.duplicate_of.is_(None), Meeting.is_meeting.is_(True), or_(dated, undated))
        .options(without_text)
    ).all()
    original_ids = [a.id for a, _ in originals]
    copies = (
        session.execute(
            select(Article, Portal).join(Portal).where(Article.duplicate_of.in_(original_ids)).options(without_text)
        ).all()
        if original_ids
        else []
    )
    pairs = [(a, p) for a, p in (*originals, *copies)]
    return RangeArticles(pairs, _meetings_of(session, [a.id for a, _ in pairs]))


def _meetings_of(session: Session, article_ids: Sequence[int]) -> dict[int, StoredMeeting]:
    if not article_ids:
        return {}
    meetings = session.scalars(select(Meeting).where(Meeting.article_id.in_(article_ids))).all()
    items: dict[int, list[MeetingItem]] = {}
    if meetings:
        rows = session.scalars(
            select(MeetingItem)
            .where(MeetingItem.meeting_id.in_([m.id for m in meetings]), MeetingItem.kind.in_(SHOWN_ITEM_KINDS))
            .order_by(MeetingItem.meeting_id, MeetingItem.position)
        ).all()
        for item in rows:
            items.setdefault(item.meeting_id, []).append(item)
    return {m.article_id: StoredMeeting(m, items.get(m.id, [])) for m in meetings}


@dataclass
class PortalActivity:
    """An enabled portal's latest article before a moment, and its failed requests in a range."""

    portal: Portal
    last_article_at: dt.datetime | None  # published, else first seen; None: nothing stored
    failures: list[FetchLog] = field(default_factory=list)  # oldest first
    given_up: int = 0  # article URLs in the ledger as given up


def portal_activity(session: Session, lo: dt.datetime, hi: dt.datetime) -> list[PortalActivity]:
    """Per enabled portal: its latest article before `hi`, and its failed requests
    (HTTP >= 400 or a transport error) in [lo, hi)."""
    last_published = dict(
        row._tuple()
        for row in session.execute(
            select(Article.portal_id, func.max(Article.published_at))
            .where(Article.published_at < hi)
            .group_by(Article.portal_id)
        )
    )
    last_seen = dict(
        row._tuple()
        for row in session.execute(
            select(Article.portal_id, func.max(Article.first_seen_at))
            .where(Article.first_seen_at < hi)
            .group_by(Article.portal_id)
        )
    )
    errors: dict[str, list[FetchLog]] = {}
    for row in session.scalars(
        select(FetchLog)
        .where(
            FetchLog.requested_at >= lo,
            FetchLog.requested_at < hi,
            FetchLog.portal_id.is_not(None),
            or_(FetchLog.error.is_not(None), FetchLog.status >= 400),
        )
        .order_by(FetchLog.requested_at)
    ):
        errors.setdefault(row.portal_id or "", []).append(row)
    given_up = dict(
        row._tuple()
        for row in session.execute(
            select(UrlLedgerEntry.portal_id, func.count())
            .where(UrlLedgerEntry.state == UrlState.GIVEN_UP)
            .group_by(UrlLedgerEntry.portal_id)
        )
    )
    return [
        PortalActivity(
            portal,
            _aware(last_published.get(portal.id) or last_seen.get(portal.id)),
            errors.get(portal.id, []),
            int(given_up.get(portal.id, 0)),
        )
        for portal in session.scalars(select(Portal).where(Portal.enabled.is_(True)).order_by(Portal.id))
    ]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # func.max() bypasses the UtcDateTime decorator on SQLite: naive UTC comes back.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# ---- delivery ledger: each (week, recipient) is sent once ----------------------------------


def claim_delivery(
    session: Session, week: str, recipient: str, message_id: str, *, claimant: str, resend: bool = False
) -> DigestDelivery | None:
    """Take the (week, recipient) row for sending, creating it when missing.

    Returns the claimed row (status sending, attempts + 1, claimed_at now, claimed_by
    `claimant`, `message_id` kept from an earlier attempt so a retry carries the same
    Message-ID), or None when the row is sent, outbox, uncertain or held by another run.
    `resend` also takes an `uncertain` row (an operator's explicit request). The caller
    commits before any mail leaves, so the claim is visible to other runs first.
    """
    session.execute(
        dialect_insert(session, DigestDelivery).on_conflict_do_nothing(
            index_elements=[DigestDelivery.week, DigestDelivery.recipient]
        ),
        {"week": week, "recipient": recipient, "status": DeliveryStatus.PENDING.value, "attempts": 0, "created_at": utcnow()},
    )
    key = (DigestDelivery.week == week, DigestDelivery.recipient == recipient)
    # nothing_to_send: nothing went out, and the week has something now (a late article).
    claimable = [DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.NOTHING_TO_SEND]
    if resend:
        claimable.append(DeliveryStatus.UNCERTAIN)
    # An UPDATE's result is a CursorResult, which has the row count (Session.execute types it as any Result).
    claimed = cast(
        CursorResult[Any],
        session.execute(
            update(DigestDelivery)
            .where(*key, DigestDelivery.status.in_(claimable))
            .values(
                status=DeliveryStatus.SENDING,
                attempts=DigestDelivery.attempts + 1,
                message_id=func.coalesce(DigestDelivery.message_id, message_id),
                claimed_at=utcnow(),
                claimed_by=claimant,
            )
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if claimed != 1:
        return None
    return delivery(session, week, recipient)


def record_nothing_to_send(session: Session, week: str, recipient: str) -> DigestDelivery:
    """Record that the (week, recipient) digest had nothing to send (an empty week, not
    asked for): a row made or left `pending`/`failed` becomes `nothing_to_send`; a row whose
    mail went out, may have (uncertain) or is being sent is left as it is. Returns the row."""
    session.execute(
        dialect_insert(session, DigestDelivery).on_conflict_do_nothing(
            index_elements=[DigestDelivery.week, DigestDelivery.recipient]
        ),
        {"week": week, "recipient": recipient, "status": DeliveryStatus.NOTHING_TO_SEND.value, "attempts": 0, "created_at": utcnow()},
    )
    session.execute(
        update(DigestDelivery)
        .where(
            DigestDelivery.week == week,
            DigestDelivery.recipient == recipient,
            DigestDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.FAILED)),
        )
        .values(status=DeliveryStatus.NOTHING_TO_SEND, last_error=None)
        .execution_options(synchronize_session=False)
    )
    row = delivery(session, week, recipient)
    assert row is not None  # inserted above, or there before
    return row


def delivery(session: Session, week: str, recipient: str) -> DigestDelivery | None:
    """The (week, recipient) row as the database has it now."""
    return session.scalars(
        select(DigestDelivery)
        .where(DigestDelivery.week == week, DigestDelivery.recipient == recipient)
        .execution_options(populate_existing=True)
    ).one_or_none()


def mark_sent(
    session: Session, delivery_id: int, message_id: str, status: DeliveryStatus = DeliveryStatus.SENT
) -> None:
    """Record the hand-over (sent, or outbox for a .eml file): never claimed again."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(status=status, message_id=message_id, sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    """Record the failure; the next run claims the row again (status failed)."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(status=DeliveryStatus.FAILED, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def mark_uncertain(session: Session, delivery_id: int, error: str) -> None:
    """Record that the server may have the message: never claimed again but by a resend."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(status=DeliveryStatus.UNCERTAIN, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def mark_left_behind(session: Session, row: DigestDelivery, error: str) -> bool:
    """A row left `sending` by a dead run becomes `uncertain`, if it is still that claim
    (same claimed_by and claimed_at: a late mark by its run wins). True when changed."""
    same_claim = (
        DigestDelivery.claimed_at.is_(None) if row.claimed_at is None else DigestDelivery.claimed_at == row.claimed_at,
        DigestDelivery.claimed_by.is_(None) if row.claimed_by is None else DigestDelivery.claimed_by == row.claimed_by,
    )
    changed = cast(
        CursorResult[Any],
        session.execute(
            update(DigestDelivery)
            .where(DigestDelivery.id == row.id, DigestDelivery.status == DeliveryStatus.SENDING, *same_claim)
            .values(status=DeliveryStatus.UNCERTAIN, last_error=error[:2000])
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    return changed == 1


def unsettled_deliveries(session: Session) -> list[DigestDelivery]:
    """Rows whose fate is open, every week: uncertain, or sending (live or left behind)."""
    return list(
        session.scalars(
            select(DigestDelivery)
            .where(DigestDelivery.status.in_((DeliveryStatus.UNCERTAIN, DeliveryStatus.SENDING)))
            .order_by(DigestDelivery.week, DigestDelivery.recipient)
        )
    )


def deliveries(session: Session, week: str) -> list[DigestDelivery]:
    return list(
        session.scalars(select(DigestDelivery).where(DigestDelivery.week == week).order_by(DigestDelivery.recipient))
    )
