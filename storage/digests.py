"""Digest queries: the articles of a date range, portal health, and the delivery ledger.

Rows come back as the plain dataclasses of `bantin.digest.selection`, so the digest is
built and rendered without a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bantin.digest.model import PortalHealth
from bantin.digest.selection import LATE_DAYS, ArticleRow, DigestRange, ItemRow, MeetingRow
from bantin.places import PlaceCodes
from storage.models import Article, DigestDelivery, FetchLog, Meeting, MeetingItem, Portal, utcnow

SHOWN_ITEM_KINDS = ("shortfall", "directive")


def load_articles(session: Session, digest_range: DigestRange, timezone: str) -> list[ArticleRow]:
    """Originals published in the range or discovered late in it, plus all their copies,
    with their meeting records (see bantin.digest.selection for the rules)."""
    lo, hi = digest_range.bounds_utc(timezone)
    late_from = lo - dt.timedelta(days=LATE_DAYS)
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
    pairs = [*originals, *copies]
    meetings = _meetings_of(session, [a.id for a, _ in pairs])
    return [
        ArticleRow(
            id=a.id,
            url=a.url,
            title=a.title,
            published_at=a.published_at,
            first_seen_at=a.first_seen_at,
            duplicate_of=a.duplicate_of,
            portal_id=p.id,
            portal_name=p.name,
            portal_district=p.district,
            portal_province=p.province,
            meeting=meetings.get(a.id),
            text=a.text,
            portal_place=PlaceCodes(p.legacy_province_code, p.legacy_district_code, p.province_code, p.ward_code),
        )
        for a, p in pairs
    ]


def _meetings_of(session: Session, article_ids: Sequence[int]) -> dict[int, MeetingRow]:
    if not article_ids:
        return {}
    meetings = session.scalars(select(Meeting).where(Meeting.article_id.in_(article_ids))).all()
    items: dict[int, list[ItemRow]] = {}
    if meetings:
        rows = session.scalars(
            select(MeetingItem)
            .where(MeetingItem.meeting_id.in_([m.id for m in meetings]), MeetingItem.kind.in_(SHOWN_ITEM_KINDS))
            .order_by(MeetingItem.meeting_id, MeetingItem.position)
        ).all()
        for item in rows:
            items.setdefault(item.meeting_id, []).append(ItemRow(item.kind, item.text, item.topic))
    return {
        m.article_id: MeetingRow(
            is_meeting=m.is_meeting,
            meeting_date=m.meeting_date,
            kind=m.kind,
            host_body=m.host_body,
            chair_name=m.chair_name,
            chair_title=m.chair_title,
            communes=[c if isinstance(c, str) else str(c.get("name", c)) for c in (m.communes or [])],
            period=m.period,
            district=m.district,
            province=m.province,
            items=tuple(items.get(m.id, ())),
            place=PlaceCodes(m.legacy_province_code, m.legacy_district_code, m.province_code, m.ward_code),
        )
        for m in meetings
    }


def portal_health(session: Session, digest_range: DigestRange, timezone: str) -> list[PortalHealth]:
    """Per enabled portal: its latest article up to the range's end, and its fetch errors
    (HTTP >= 400 or a transport error) during the range."""
    lo, hi = digest_range.bounds_utc(timezone)
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
    health = []
    for portal in session.scalars(select(Portal).where(Portal.enabled.is_(True)).order_by(Portal.id)):
        latest = last_published.get(portal.id) or last_seen.get(portal.id)
        failures = errors.get(portal.id, [])
        last = failures[-1] if failures else None
        health.append(
            PortalHealth(
                portal_id=portal.id,
                name=portal.name,
                district=portal.district,
                last_article_at=_aware(latest),
                error_count=len(failures),
                last_error=(last.error or f"HTTP {last.status}") + f" ({last.url})" if last else None,
            )
        )
    return health


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # func.max() bypasses the UtcDateTime decorator on SQLite: naive UTC comes back.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# ---- delivery ledger: each (week, recipient) is sent once ----------------------------------

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


def claim_delivery(session: Session, week: str, recipient: str, message_id: str) -> DigestDelivery | None:
    """Take the (week, recipient) row for sending, creating it when missing.

    Returns the claimed row (status "sending", attempts + 1, `message_id` kept from an
    earlier attempt so a retry carries the same Message-ID), or None when it was already
    sent or another run holds it. Commits, so the claim is visible to other runs before
    any mail leaves.
    """
    key = (DigestDelivery.week == week, DigestDelivery.recipient == recipient)
    if session.scalar(select(DigestDelivery.id).where(*key)) is None:
        session.add(DigestDelivery(week=week, recipient=recipient, status=PENDING, attempts=0))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a concurrent run made the row first: fine, claim it below
    # An UPDATE's result is a CursorResult, which has the row count (Session.execute types it as any Result).
    claimed = cast(
        CursorResult[Any],
        session.execute(
            update(DigestDelivery)
            .where(*key, DigestDelivery.status.in_((PENDING, FAILED)))
            .values(
                status=SENDING,
                attempts=DigestDelivery.attempts + 1,
                message_id=func.coalesce(DigestDelivery.message_id, message_id),
            )
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    return session.scalars(
        select(DigestDelivery).where(*key).execution_options(populate_existing=True)
    ).one()


def mark_sent(session: Session, delivery_id: int, message_id: str, status: str = SENT) -> None:
    """Record the hand-over (status "sent", or "outbox" for a .eml file): never claimed again."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(status=status, message_id=message_id, sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    """Record the failure; the next run claims the row again (status failed)."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(status=FAILED, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    session.commit()


def deliveries(session: Session, week: str) -> list[DigestDelivery]:
    return list(
        session.scalars(select(DigestDelivery).where(DigestDelivery.week == week).order_by(DigestDelivery.recipient))
    )
