"""The extract job: meeting records for stored articles, saved one savepoint per article.

    articles_to_do(session, since=..., force=...)   ids of articles needing a record of this version
    extract_articles(session, articles)             extract and save; counts and errors

An article whose extraction or saving fails is rolled back to its savepoint, logged in
the counts and left without a record for the next run: on PostgreSQL a failed statement
would otherwise abort the whole batch's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantin.extract import EXTRACTOR_VERSION, extract_meeting
from bantin.jobs.db import database
from bantin.localtime import LOCAL_TZ
from bantin.parse import parse_article
from bantin.places import PlaceCodes, place_meeting
from bantin.settings import Settings
from storage.articles import load_snapshot
from storage.meetings import (
    ArticleToExtract,
    StoredPlace,
    article_ids_to_extract,
    articles_by_ids,
    portal_places,
    save_meeting,
)
from storage.models import Portal


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    # The portals' day, in Vietnam's time whatever BANTIN_TIMEZONE says: it decides the
    # meeting's year and the unit it is filed under.
    return moment.astimezone(LOCAL_TZ).date() if moment else None


def articles_to_do(
    session: Session, *, since: dt.date | None = None, force: bool = False, portal_ids: Sequence[str] | None = None
) -> list[int]:
    """Ids of the stored articles without a record of the current extractor version
    (with `force`, every article published on/after `since`; `portal_ids`: of those portals)."""
    # ids only: no texts loaded
    return article_ids_to_extract(session, EXTRACTOR_VERSION, since=since, force=force, portal_ids=portal_ids)


def load_articles(session: Session, ids: Sequence[int]) -> list[ArticleToExtract]:
    return articles_by_ids(session, ids)


def from_snapshot(session: Session, article: ArticleToExtract) -> tuple[str, str | None, dt.datetime | None] | None:
    """(text, title, published_at) parsed again from the stored page, or None without one."""
    snapshot = load_snapshot(session, article.url)
    if snapshot is None:
        return None
    family = session.execute(select(Portal.family).where(Portal.id == article.portal_id)).scalar_one_or_none()
    html = snapshot.body.decode(snapshot.encoding or "utf-8", errors="replace")
    parsed = parse_article(html, article.url, family)
    return parsed.text, parsed.title or article.title, parsed.published_at or article.published_at


def _place(day: dt.date | None, portal: StoredPlace | None) -> PlaceCodes | None:
    """The units in force on the meeting's date (else its publication date) for its portal."""
    if portal is None:
        return None
    codes = PlaceCodes(
        portal.legacy_province_code, portal.legacy_district_code, portal.province_code, portal.ward_code
    )
    return place_meeting(day, codes)


def extract_articles(
    session: Session, articles: Sequence[ArticleToExtract], *, from_snapshots: bool = False
) -> dict[str, Any]:
    """Extract and save the records of `articles` in `session`'s transaction; returns counts."""
    counts: dict[str, Any] = {"articles": 0, "meetings": 0, "reparsed": 0, "errors": []}
    portals = portal_places(session, [a.portal_id for a in articles])
    for article in articles:
        text, published_at = article.text, article.published_at
        title: str | None = article.title
        savepoint = session.begin_nested()
        try:
            reparsed = False
            if from_snapshots:
                again = from_snapshot(session, article)
                if again is not None:
                    text, title, published_at = again
                    reparsed = True
            record = extract_meeting(
                text,
                district=article.district,
                province=article.province,
                published=_local_date(published_at),
                title=title,
            )
            record.source = article.url
            place = _place(record.meeting_date or _local_date(published_at), portals.get(article.portal_id))
            save_meeting(session, article.id, record.model_dump(mode="json"), EXTRACTOR_VERSION, place=place)
            savepoint.commit()
        except Exception as exc:  # one bad article must not stop the batch: its savepoint is undone
            savepoint.rollback()
            counts["errors"].append(f"article {article.id} ({article.url}): {type(exc).__name__}: {exc}")
            continue
        counts["articles"] += 1
        counts["meetings"] += int(record.is_meeting)
        counts["reparsed"] += int(reparsed)
    return counts


# ---- with their own sessions (flows, CLI, demo) --------------------------------------------


def pending_articles(
    settings: Settings, *, since: dt.date | None = None, force: bool = False, portal_ids: Sequence[str] | None = None
) -> list[int]:
    """Ids of the articles to extract (see articles_to_do), in their own session."""
    with database(settings)() as session:
        return articles_to_do(session, since=since, force=force, portal_ids=portal_ids)


def extract_stored(settings: Settings, article_ids: Sequence[int], *, from_snapshots: bool = False) -> dict[str, Any]:
    """Extract and save the records of these articles in one transaction; returns counts."""
    with database(settings).begin() as session:
        return extract_articles(session, load_articles(session, article_ids), from_snapshots=from_snapshots)
