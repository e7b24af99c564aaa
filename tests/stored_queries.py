"""Read-backs of stored state for tests: what a test asserts on, not what bantin needs.

(Storage keeps only the functions the product calls; these were its test-only queries.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.articles import NewArticle, insert_articles_reporting
from storage.meetings import ITEM_KINDS, ItemDict, PersonDict, StoredPlace
from storage.models import FetchLog, Meeting, MeetingItem


class StoredRecordDict(TypedDict):
    """A record as `meeting_record` reads it back: every key present, items as dicts."""

    is_meeting: bool
    meeting_date: str | None
    district: str | None
    province: str | None
    kind: str | None
    host_body: str | None
    chair: PersonDict | None
    officials: list[PersonDict]
    communes: list[str]
    commune_codes: list[Any]
    period: str | None
    achievements: list[ItemDict]
    shortfalls: list[ItemDict]
    directives: list[ItemDict]

def insert_articles(session: Session, articles: Sequence[NewArticle]) -> list[int]:
    """Insert new articles (idempotent on URL); the id of each input, in order."""
    return [result.id for result in insert_articles_reporting(session, articles)]


def meeting_record(session: Session, article_id: int) -> StoredRecordDict | None:
    """The stored record of an article in the gold shape (plus achievements), or None."""
    meeting = session.execute(select(Meeting).where(Meeting.article_id == article_id)).scalar_one_or_none()
    if meeting is None:
        return None
    items = session.execute(
        select(MeetingItem).where(MeetingItem.meeting_id == meeting.id).order_by(MeetingItem.position)
    ).scalars()
    by_kind: dict[str, list[ItemDict]] = {kind: [] for kind in ITEM_KINDS.values()}
    for item in items:
        by_kind[item.kind].append(
            ItemDict(text=item.text, start=item.start, end=item.end, topic=item.topic, figures=item.figures)
        )
    record: StoredRecordDict = {
        "is_meeting": meeting.is_meeting,
        "meeting_date": meeting.meeting_date.isoformat() if meeting.meeting_date else None,
        "district": meeting.district,
        "province": meeting.province,
        "kind": meeting.kind,
        "host_body": meeting.host_body,
        "chair": {"name": meeting.chair_name, "title": meeting.chair_title} if meeting.chair_name else None,
        "officials": [PersonDict(name=p["name"], title=p.get("title")) for p in meeting.officials],
        "communes": meeting.communes,
        "commune_codes": meeting.commune_codes,
        "period": meeting.period,
        "achievements": by_kind["achievement"],
        "shortfalls": by_kind["shortfall"],
        "directives": by_kind["directive"],
    }
    return record


def meeting_place(session: Session, article_id: int) -> StoredPlace | None:
    """The units an article's meeting is placed in, or None without a record."""
    row = session.execute(
        select(
            Meeting.legacy_province_code, Meeting.legacy_district_code, Meeting.province_code, Meeting.ward_code
        ).where(Meeting.article_id == article_id)
    ).one_or_none()
    return StoredPlace(*row) if row is not None else None


def article_ids_in_places(
    session: Session,
    *,
    legacy_province_codes: Sequence[int] = (),
    legacy_district_codes: Sequence[int] = (),
    province_codes: Sequence[int] = (),
    ward_codes: Sequence[int] = (),
) -> set[int]:
    """Articles whose meeting is placed in any of these units (of either era)."""
    conditions = [
        column.in_(list(codes))
        for column, codes in (
            (Meeting.legacy_province_code, legacy_province_codes),
            (Meeting.legacy_district_code, legacy_district_codes),
            (Meeting.province_code, province_codes),
            (Meeting.ward_code, ward_codes),
        )
        if codes
    ]
    if not conditions:
        return set()
    return {int(i) for i in session.scalars(select(Meeting.article_id).where(or_(*conditions)))}


def fetch_log_rows(session: Session, run_id: int, portal_id: str | None = None) -> list[FetchLog]:
    stmt = select(FetchLog).where(FetchLog.run_id == run_id)
    if portal_id is not None:
        stmt = stmt.where(FetchLog.portal_id == portal_id)
    return list(session.execute(stmt.order_by(FetchLog.id)).scalars())
