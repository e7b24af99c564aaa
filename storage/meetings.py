"""Meeting records extracted from articles, and which articles still need extracting.

One `meetings` row per article (also for articles that are not meetings:
`is_meeting=False` records that the article was looked at), with its quoted clauses in
`meeting_items`. A record carries the extractor version that produced it; when the
extractor changes, `article_ids_to_extract(session, NEW_VERSION)` lists the articles to
redo and `save_meeting` replaces their old record and its items.

Functions take a Session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, TypedDict

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.articles import StorageInputError, dialect_insert
from storage.models import Article, Meeting, MeetingItem, Portal, utcnow

# Core tables: writes skip the ORM's bulk machinery and reuse their compiled statements.
_meetings = Meeting.__table__
_items_table = MeetingItem.__table__

ITEM_KINDS: dict[str, str] = {
    "achievements": "achievement",
    "shortfalls": "shortfall",
    "directives": "directive",
}


class PlaceCodesLike(Protocol):
    """The units a meeting is placed in (vietnam-provinces codes; None: not of that era),
    e.g. bantin.places.PlaceCodes or a `StoredPlace`."""

    @property
    def legacy_province_code(self) -> int | None: ...
    @property
    def legacy_district_code(self) -> int | None: ...
    @property
    def province_code(self) -> int | None: ...
    @property
    def ward_code(self) -> int | None: ...


PLACE_FIELDS = ("legacy_province_code", "legacy_district_code", "province_code", "ward_code")


@dataclass(frozen=True, slots=True)
class StoredPlace:
    """Units as stored on a portal or meeting row (vietnam-provinces codes)."""

    legacy_province_code: int | None
    legacy_district_code: int | None
    province_code: int | None
    ward_code: int | None


def portal_places(session: Session, portal_ids: Sequence[str]) -> dict[str, StoredPlace]:
    """The stored units of these portals, by id."""
    rows = session.execute(
        select(
            Portal.id,
            Portal.legacy_province_code,
            Portal.legacy_district_code,
            Portal.province_code,
            Portal.ward_code,
        ).where(Portal.id.in_(list(set(portal_ids))))
    )
    return {row[0]: StoredPlace(*row[1:]) for row in rows}


class PersonDict(TypedDict):
    name: str
    title: NotRequired[str | None]


class ItemDict(TypedDict):
    text: str
    start: int
    end: int
    topic: NotRequired[str | None]
    figures: NotRequired[list[str]]


class MeetingRecordDict(TypedDict, total=False):
    """The gold shape (shared/gold/README.md) plus achievements, as
    `bantin.extract.MeetingRecord.model_dump(mode="json")` returns it."""

    is_meeting: bool
    meeting_date: str | dt.date | None
    district: str | None
    province: str | None
    kind: str | None
    host_body: str | None
    chair: PersonDict | None
    officials: list[PersonDict]
    communes: list[str]
    commune_codes: list[Any]
    period: str | None
    achievements: list[ItemDict | str]
    shortfalls: list[ItemDict | str]
    directives: list[ItemDict | str]


# --- versions --------------------------------------------------------------------------


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions like "1.2.10" > "1.2.9"; numeric parts compare as numbers."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


def is_newer_version(candidate: str, than: str) -> bool:
    return _version_key(candidate) > _version_key(than)


# --- validation ------------------------------------------------------------------------


def _optional_str(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise StorageInputError(f"{where}.{key}: expected a string or null, got {value!r}")


def _meeting_date(record: Mapping[str, Any], where: str) -> dt.date | None:
    value = record.get("meeting_date")
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise StorageInputError(f"{where}.meeting_date: expected a date, got the datetime {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise StorageInputError(f"{where}.meeting_date: expected YYYY-MM-DD, got {value!r}")


def _people(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise StorageInputError(f"{where}: expected a list of {{name, title}}, got {value!r}")
    people = []
    for i, person in enumerate(value):
        if not isinstance(person, Mapping) or not isinstance(person.get("name"), str):
            raise StorageInputError(f"{where}[{i}]: expected {{name, title}}, got {person!r}")
        people.append({"name": person["name"], "title": person.get("title")})
    return people


def _items(record: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for key, kind in ITEM_KINDS.items():
        value = record.get(key) or []
        if not isinstance(value, list):
            raise StorageInputError(f"{where}.{key}: expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            here = f"{where}.{key}[{i}]"
            if isinstance(item, str):
                # The gold shape allows bare strings: offsets unknown.
                item = {"text": item, "start": -1, "end": -1}
            if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
                raise StorageInputError(f"{here}: expected {{text, start, end, ...}}, got {item!r}")
            start, end = item.get("start", -1), item.get("end", -1)
            if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
                raise StorageInputError(f"{here}: start/end must be integers, got {start!r}, {end!r}")
            figures = item.get("figures") or []
            if not isinstance(figures, list):
                raise StorageInputError(f"{here}.figures: expected a list, got {figures!r}")
            rows.append(
                {
                    "kind": kind,
                    "text": item["text"],
                    "start": start,
                    "end": end,
                    "topic": item.get("topic"),
                    "figures": figures,
                }
            )
    for position, row in enumerate(rows):
        row["position"] = position
    return rows


def _meeting_values(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise StorageInputError(f"{where}: expected a dict in the gold shape, got {type(record).__name__}")
    is_meeting = record.get("is_meeting")
    if not isinstance(is_meeting, bool):
        raise StorageInputError(f"{where}.is_meeting: expected true or false, got {is_meeting!r}")
    chair = record.get("chair")
    if chair is not None and (not isinstance(chair, Mapping) or not isinstance(chair.get("name"), str)):
        raise StorageInputError(f"{where}.chair: expected {{name, title}} or null, got {chair!r}")
    communes = record.get("communes") or []
    if not isinstance(communes, list) or not all(isinstance(c, str) for c in communes):
        raise StorageInputError(f"{where}.communes: expected a list of names, got {communes!r}")
    codes = record.get("commune_codes") or []
    if not isinstance(codes, list):
        raise StorageInputError(f"{where}.commune_codes: expected a list, got {codes!r}")
    return {
        "is_meeting": is_meeting,
        "meeting_date": _meeting_date(record, where),
        "district": _optional_str(record, "district", where),
        "province": _optional_str(record, "province", where),
        "kind": _optional_str(record, "kind", where),
        "host_body": _optional_str(record, "host_body", where),
        "chair_name": chair["name"] if chair else None,
        "chair_title": chair.get("title") if chair else None,
        "officials": _people(record.get("officials"), f"{where}.officials"),
        "communes": list(communes),
        "commune_codes": list(codes),
        "period": _optional_str(record, "period", where),
    }


def _place_code(place: PlaceCodesLike | None, name: str, where: str) -> int | None:
    value = getattr(place, name) if place is not None else None
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise StorageInputError(f"{where}.{name}: expected an integer code or null, got {value!r}")
    return value


# --- writing ---------------------------------------------------------------------------


def save_meeting(
    session: Session,
    article_id: int,
    record: Mapping[str, Any],
    extractor_version: str,
    *,
    extracted_at: dt.datetime | None = None,
    place: PlaceCodesLike | None = None,
) -> int:
    """Store `record` (gold shape) as the article's meeting record; returns the meeting id.

    `place`: the units in force on the meeting's date (bantin.places.place_meeting);
    without it the meeting is stored under no unit.

    Idempotent: saving again replaces the record and all its items (no duplicates). A
    record made by a newer extractor version than `extractor_version` is kept as it is
    (a slow old worker must not undo a re-extraction).
    """
    where = f"meeting record for article {article_id}"
    if not extractor_version:
        raise StorageInputError(f"{where}: empty extractor_version")
    values = _meeting_values(record, where)
    items = _items(record, where)
    values.update(extractor_version=extractor_version, extracted_at=extracted_at or utcnow())
    values.update({name: _place_code(place, name, where) for name in PLACE_FIELDS})

    existing_stmt = select(Meeting.id, Meeting.extractor_version).where(Meeting.article_id == article_id)
    if session.get_bind().dialect.name == "postgresql":
        existing_stmt = existing_stmt.with_for_update()
    existing = session.execute(existing_stmt).one_or_none()
    if existing is None:
        # ON CONFLICT: another worker may insert this article's record at the same moment.
        stmt = (
            dialect_insert(session, Meeting)
            .on_conflict_do_nothing(index_elements=["article_id"])
            .returning(_meetings.c.id)
        )
        inserted = session.execute(stmt, {"article_id": article_id, **values}).scalar_one_or_none()
        if inserted is not None:
            _insert_items(session, inserted, items)
            return int(inserted)
        existing = session.execute(existing_stmt).one()

    meeting_id, stored_version = existing
    if is_newer_version(stored_version, extractor_version):
        return int(meeting_id)
    session.execute(update(_meetings).where(_meetings.c.id == meeting_id), values)
    session.execute(delete(_items_table).where(_items_table.c.meeting_id == meeting_id))
    _insert_items(session, meeting_id, items)
    return int(meeting_id)


def _insert_items(session: Session, meeting_id: int, items: Sequence[dict[str, Any]]) -> None:
    if items:
        session.execute(insert(_items_table), [{"meeting_id": meeting_id, **item} for item in items])


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleToExtract:
    """What the extractor needs about one article (district/province from its portal)."""

    id: int
    url: str
    title: str
    text: str
    published_at: dt.datetime | None
    portal_id: str
    district: str | None
    province: str | None


def article_ids_to_extract(
    session: Session,
    version: str,
    since: dt.date | dt.datetime | None = None,
    *,
    force: bool = False,
    limit: int | None = None,
    portal_ids: Sequence[str] | None = None,
) -> list[int]:
    """Ids of the articles with no meeting record made by extractor `version` (or newer).

    Duplicates (`articles.duplicate_of` set) are skipped: their original is extracted.
    `since` keeps articles published (or, when undated, first seen) on or after it; a
    date means its midnight UTC. `force=True` lists them whatever their record's version.
    Oldest first, so an interrupted run resumes where it stopped. Reads no article text:
    a flow can list everything, then load batches with `articles_by_ids`. `portal_ids`
    keeps the articles of those portals.
    """
    stmt = (
        select(Article.id, Meeting.extractor_version)
        .outerjoin(Meeting, Meeting.article_id == Article.id)
        .where(Article.duplicate_of.is_(None))
        .order_by(Article.id)
    )
    if since is not None:
        if isinstance(since, dt.datetime):
            if since.tzinfo is None:
                raise StorageInputError(f"since: naive datetime {since!r}; give a timezone")
            moment = since
        else:
            moment = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        stmt = stmt.where(
            or_(
                Article.published_at >= moment,
                (Article.published_at.is_(None)) & (Article.first_seen_at >= moment),
            )
        )
    if portal_ids is not None:
        stmt = stmt.where(Article.portal_id.in_(list(portal_ids)))
    if not force:
        # Versions order numerically ("1.10" > "1.9"), which SQL string comparison cannot
        # do: filter out only exact matches in SQL and compare the rest here.
        stmt = stmt.where(or_(Meeting.id.is_(None), Meeting.extractor_version != version))
    ids: list[int] = []
    for article_id, stored_version in session.execute(stmt):
        if not force and stored_version is not None and is_newer_version(stored_version, version):
            continue
        ids.append(int(article_id))
        if limit is not None and len(ids) >= limit:
            break
    return ids


def articles_by_ids(session: Session, ids: Sequence[int]) -> list[ArticleToExtract]:
    """The articles with these ids (with their portal's district and province), by id."""
    result: list[ArticleToExtract] = []
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), 500):
        stmt = (
            select(
                Article.id,
                Article.url,
                Article.title,
                Article.text,
                Article.published_at,
                Article.portal_id,
                Portal.district,
                Portal.province,
            )
            .join(Portal, Portal.id == Article.portal_id)
            .where(Article.id.in_(wanted[start : start + 500]))
        )
        result.extend(ArticleToExtract(*row) for row in session.execute(stmt))
    result.sort(key=lambda article: article.id)
    return result
