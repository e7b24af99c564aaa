"""Which meetings a digest holds, and in what order: pure rules over plain rows.

`storage.digests` loads the rows of a date range; this module groups duplicates,
assigns districts, applies the district filter and builds the `DigestWeek`.

Rules (docs/digest.md):
- a digest covers local dates [start, end] in the configured time zone;
- an article belongs to it when published in it, or when first seen in it and
  published at most `LATE_DAYS` days before `start` (a late discovery);
- duplicates (articles.duplicate_of) are one entry, under the original, with the
  copies' URLs as "also published on"; the group follows its original's dates;
- the district is the original's portal district, else a copy's portal district
  (the provincial portal republishes district news), else what the extractor read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bantin.digest.links import link_to_quote, short_link_to_quote
from bantin.digest.model import DigestDistrict, DigestItem, DigestMeeting, DigestWeek, Mention, OtherCopy, PortalHealth
from bantin.digest.repeats import Said, by_place, commune_key, earlier_mentions
from bantin.localtime import LOCAL_TZ
from bantin.places import Following, PlaceCodes, bare, following, name_key, place_by_code, resolve_places

LATE_DAYS = 30
STALE_DAYS = 14
# "Named before" looks this far back before the digest's start (and at everything earlier
# inside a longer range): storage loads these weeks' meetings beside the range's.
LOOKBACK_WEEKS = 8

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week or date range given by the user is malformed or inverted."""


@dataclass(frozen=True)
class DigestRange:
    """An inclusive range of local dates, with its label and its delivery key."""

    start: dt.date
    end: dt.date

    @property
    def iso_week(self) -> str | None:
        """"2024-W27" when the range is exactly one ISO week."""
        year, week, weekday = self.start.isocalendar()
        if weekday == 1 and self.end == self.start + dt.timedelta(days=6):
            return f"{year}-W{week:02d}"
        return None

    @property
    def label(self) -> str:
        return self.iso_week or f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def delivery_key(self) -> str:
        """Key of digest_deliveries.week (10 characters at most): the ISO week, or for
        another range "r" and 9 hex digits of a hash of its dates (stable across runs)."""
        if self.iso_week:
            return self.iso_week
        return "r" + hashlib.sha1(self.label.encode()).hexdigest()[:9]

    def lookback_start(self) -> dt.date:
        """The first day "named before" looks at (LOOKBACK_WEEKS before the start)."""
        return self.start - dt.timedelta(weeks=LOOKBACK_WEEKS)

    def bounds_utc(self, timezone: str = LOCAL_TZ.key) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00 local, day after end 00:00 local) as aware UTC datetimes."""
        zone = ZoneInfo(timezone)
        lo = dt.datetime.combine(self.start, dt.time(), zone)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), zone)
        return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)


def parse_week(week: str) -> DigestRange:
    """'2024-W27' → Monday 2024-07-01 .. Sunday 2024-07-07."""
    match = _ISO_WEEK.match(week.strip())
    if not match:
        raise WeekError(f"week {week!r}: expected an ISO week like 2024-W27")
    year, number = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise WeekError(f"week {week!r}: {year} has no week {number}") from exc
    return DigestRange(monday, monday + dt.timedelta(days=6))


def last_complete_week(now: dt.datetime | None = None, timezone: str = LOCAL_TZ.key) -> DigestRange:
    """The last ISO week that has ended in `timezone` (on a Monday: the week before)."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone))
    this_monday = local.date() - dt.timedelta(days=local.weekday())
    monday = this_monday - dt.timedelta(days=7)
    return DigestRange(monday, monday + dt.timedelta(days=6))


def resolve_range(
    week: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    *,
    now: dt.datetime | None = None,
    timezone: str = LOCAL_TZ.key,
) -> DigestRange:
    """The range the user asked for: a week, or start/end dates, or the last complete week."""
    if week and (start or end):
        raise WeekError("give either a week or start/end dates, not both")
    if week:
        return parse_week(week)
    if start or end:
        if not (start and end):
            raise WeekError("give both --start and --end")
        lo, hi = _as_date(start, "start"), _as_date(end, "end")
        if hi < lo:
            raise WeekError(f"end {hi} is before start {lo}")
        return DigestRange(lo, hi)
    return last_complete_week(now, timezone)


def _as_date(value: dt.date | str, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise WeekError(f"{name} {value!r}: expected a date like 2024-07-01") from exc


def district_key(name: str) -> str:
    """'Vĩnh Linh', 'vinh-linh' and 'VINH LINH' compare equal (bantin.places.name_key)."""
    return name_key(name)


# ---- rows loaded by storage.digests ----------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    kind: str
    text: str
    topic: str | None


@dataclass(frozen=True)
class MeetingRow:
    is_meeting: bool
    meeting_date: dt.date | None
    kind: str | None
    host_body: str | None
    chair_name: str | None
    chair_title: str | None
    communes: Sequence[str]
    period: str | None
    district: str | None
    province: str | None
    items: Sequence[ItemRow] = ()
    # The units in force on the meeting's date (bantin.places.place_meeting); all None for
    # records saved before units were stored.
    place: PlaceCodes = PlaceCodes()


@dataclass(frozen=True)
class ArticleRow:
    id: int
    url: str
    title: str
    published_at: dt.datetime | None
    first_seen_at: dt.datetime
    duplicate_of: int | None
    portal_id: str
    portal_name: str
    portal_district: str | None
    portal_province: str | None
    meeting: MeetingRow | None = None
    text: str = ""  # the article's text: makes quote links unambiguous
    portal_place: PlaceCodes = PlaceCodes()  # the units its portal publishes for


@dataclass
class ArticleGroup:
    """An original and its copies."""

    original: ArticleRow
    copies: list[ArticleRow] = field(default_factory=list)


def is_late_discovery(article: ArticleRow, lo_utc: dt.datetime, hi_utc: dt.datetime) -> bool:
    if not (lo_utc <= article.first_seen_at < hi_utc):
        return False
    if article.published_at is None:
        return True
    return lo_utc - dt.timedelta(days=LATE_DAYS) <= article.published_at < lo_utc


def in_range(article: ArticleRow, lo_utc: dt.datetime, hi_utc: dt.datetime) -> bool:
    """Published in the range, or a late discovery of it."""
    if article.published_at is not None and lo_utc <= article.published_at < hi_utc:
        return True
    return is_late_discovery(article, lo_utc, hi_utc)


def group_duplicates(articles: Iterable[ArticleRow]) -> list[ArticleGroup]:
    """Originals with their copies; copies whose original is absent are dropped (their
    original's digest reports the meeting)."""
    rows = list(articles)
    groups = {a.id: ArticleGroup(a) for a in rows if a.duplicate_of is None}
    for a in rows:
        if a.duplicate_of is not None and a.duplicate_of in groups:
            groups[a.duplicate_of].copies.append(a)
    return list(groups.values())


def _group_district(group: ArticleGroup, meeting: MeetingRow | None) -> tuple[str, str | None]:
    for a in (group.original, *group.copies):
        if a.portal_district:
            return a.portal_district, a.portal_province
    if meeting and meeting.district:
        return meeting.district, meeting.province or group.original.portal_province
    province = group.original.portal_province
    return (f"Tỉnh {province}" if province else group.original.portal_name), province


def _today_unit(group: ArticleGroup, meeting: MeetingRow) -> tuple[str, str | None, str | None]:
    """(heading, province, history): the 2025 commune/ward the meeting's place is today —
    its own after July 2025, else its portal's new unit — with the legacy district it
    comes from; without any 2025 unit known, the district as before."""
    portals = [a.portal_place for a in (group.original, *group.copies)]
    ward_code = meeting.place.ward_code or next((p.ward_code for p in portals if p.ward_code), None)
    ward = place_by_code("ward", ward_code) if ward_code else None
    if ward is None:
        name, province = _group_district(group, meeting)
        return name, province, None
    district_code = meeting.place.legacy_district_code or next(
        (p.legacy_district_code for p in portals if p.legacy_district_code), None
    )
    district = place_by_code("legacy_district", district_code) if district_code else None
    history = f"trước 7/2025: {_lower_first(district.name)}" if district else None
    return ward.name, bare(ward.province_name or "") or None, history


def _lower_first(name: str) -> str:
    """'Huyện Vĩnh Linh' -> 'huyện Vĩnh Linh' (a unit's kind mid-sentence)."""
    return name[:1].lower() + name[1:]


def _meeting_of(group: ArticleGroup) -> tuple[ArticleRow, MeetingRow] | None:
    """The extraction to show: the original's, else a copy's (not yet extracted original)."""
    for a in (group.original, *group.copies):
        if a.meeting is not None:
            return (a, a.meeting) if a.meeting.is_meeting else None
    return None


@dataclass(frozen=True)
class Placed:
    """A group's meeting record with the place it is listed under and the day it is dated by."""

    name: str
    province: str | None
    history: str | None
    group: ArticleGroup
    source: ArticleRow  # the article the record was extracted from
    meeting: MeetingRow
    day: dt.date

    @property
    def place_key(self) -> str:
        return f"{self.name}|{self.province or ''}"


def _placed(group: ArticleGroup, zone: ZoneInfo) -> Placed | None:
    chosen = _meeting_of(group)
    if chosen is None:
        return None
    source, meeting = chosen
    name, province, history = _today_unit(group, meeting)
    original = group.original
    day = meeting.meeting_date or (original.published_at or original.first_seen_at).astimezone(zone).date()
    return Placed(name, province, history, group, source, meeting, day)


def _said(placed: Placed) -> list[Said]:
    communes = frozenset(commune_key(c) for c in placed.meeting.communes)
    return [
        Said(
            place=placed.place_key,
            communes=communes,
            day=placed.day,
            article_id=placed.group.original.id,
            kind=item.kind,
            text=item.text,
            topic=item.topic,
            link=link_to_quote(placed.source.url, item.text, placed.source.text or None),
            title=placed.group.original.title,
            short_link=short_link_to_quote(placed.source.url, item.text, placed.source.text or None),
        )
        for item in placed.meeting.items
    ]


def build_digest(
    digest_range: DigestRange,
    articles: Iterable[ArticleRow],
    *,
    health: Sequence[PortalHealth] = (),
    districts: Sequence[str] = (),
    timezone: str = LOCAL_TZ.key,
    stale_days: int = STALE_DAYS,
    generated_at: dt.datetime | None = None,
    history: Iterable[ArticleRow] = (),
) -> DigestWeek:
    """The digest of `digest_range` from the loaded rows (originals and their copies).

    `history`: the articles (originals and copies) of the LOOKBACK_WEEKS before the range,
    against which each shortfall and directive is matched ("named before",
    bantin.digest.repeats), together with the range's own earlier meetings."""
    lo, hi = digest_range.bounds_utc(timezone)
    zone = ZoneInfo(timezone)
    followed = resolve_places(districts)
    covered = following(followed)
    # Records stored before places were (no codes) and portal health go by name.
    wanted = {district_key(d) for d in districts} | {district_key(bare(p.name)) for p in followed}
    shown: list[tuple[Placed, list[Said]]] = []
    candidates: list[Said] = []
    in_digest: set[int] = set()
    for group in group_duplicates(articles):
        if not in_range(group.original, lo, hi):
            continue
        placed = _placed(group, zone)
        if placed is None:
            continue
        in_digest.add(group.original.id)
        said = _said(placed)
        candidates += said  # earlier meetings of the range count, whatever the filter
        if districts and not _follows(covered, wanted, placed.meeting, placed.name):
            continue
        shown.append((placed, said))
    for group in group_duplicates(history):
        if group.original.id in in_digest:
            continue
        placed = _placed(group, zone)
        if placed is not None:
            candidates += _said(placed)
    earlier_by_place = by_place(candidates)
    by_district: dict[str, DigestDistrict] = {}
    for placed, said_here in shown:
        original, meeting = placed.group.original, placed.meeting
        place_candidates = earlier_by_place.get(placed.place_key, [])
        items = [
            DigestItem(
                kind=row.kind,
                text=row.text,
                topic=row.topic,
                # Quotes link to the article the clauses were extracted from.
                link=said.link,
                earlier=tuple(
                    Mention(m.day, m.link, m.title, m.short_link) for m in earlier_mentions(said, place_candidates)
                ),
                short_link=said.short_link,
            )
            for row, said in zip(meeting.items, said_here, strict=True)
        ]
        by_district.setdefault(placed.name, DigestDistrict(placed.name, placed.province, history=placed.history)).meetings.append(
            DigestMeeting(
                title=original.title,
                url=original.url,
                portal_name=original.portal_name,
                published_at=original.published_at,
                first_seen_at=original.first_seen_at,
                meeting_date=meeting.meeting_date,
                kind=meeting.kind,
                host_body=meeting.host_body,
                chair_name=meeting.chair_name,
                chair_title=meeting.chair_title,
                communes=list(meeting.communes),
                period=meeting.period,
                shortfalls=[i for i in items if i.kind == "shortfall"],
                directives=[i for i in items if i.kind == "directive"],
                also_published=[
                    OtherCopy(c.url, c.portal_name, c.published_at)
                    for c in sorted(placed.group.copies, key=lambda c: (c.published_at or c.first_seen_at, c.id))
                ],
                late=not (original.published_at and lo <= original.published_at < hi),
                day=placed.day,
            )
        )
    far_past = dt.date.min
    for district in by_district.values():
        district.meetings.sort(key=lambda m: (m.meeting_date or far_past, m.published_at or m.first_seen_at))
    ordered = sorted(by_district.values(), key=lambda d: district_key(d.name))
    in_filter = [h for h in health if not wanted or (h.district and district_key(h.district) in wanted)]
    return DigestWeek(
        label=digest_range.label,
        start=digest_range.start,
        end=digest_range.end,
        districts=ordered,
        stale_portals=[h for h in in_filter if _is_stale(h, hi, stale_days)],
        failing_portals=[h for h in in_filter if h.error_count > 0 or h.given_up > 0],
        generated_at=generated_at or dt.datetime.now(dt.UTC),
        stale_after_days=stale_days,
        district_filter=tuple(districts),
        lookback_weeks=LOOKBACK_WEEKS,
    )


def _follows(covered: Following, wanted: set[str], meeting: MeetingRow, group_name: str) -> bool:
    if meeting.place != PlaceCodes():
        return covered.covers(meeting.place)
    return district_key(group_name) in wanted


def _is_stale(h: PortalHealth, as_of: dt.datetime, stale_days: int) -> bool:
    return h.last_article_at is None or h.last_article_at < as_of - dt.timedelta(days=stale_days)
