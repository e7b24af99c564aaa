"""Plain typed data the digest is rendered from: week → districts → meetings → items.

Built by `bantin.digest.selection` from database rows (or by hand in tests), so
templates, mail and archive never touch the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mention:
    """An earlier meeting of the same place that named the same thing (bantin.digest.repeats)."""

    day: dt.date  # its meeting date, else its publication date (local)
    link: str  # the earlier article, at the earlier clause
    title: str
    short_link: str | None = None  # the same, by the clause's first words (a cut mail's)


@dataclass(frozen=True)
class DigestItem:
    """A shortfall or directive, quoted from the article, linked to its sentence."""

    kind: str  # "shortfall" | "directive"
    text: str
    topic: str | None
    link: str  # article URL with a `#:~:text=` fragment
    # The same place's earlier meetings that named it (most recent first): "đã nêu ngày 12/06".
    earlier: tuple[Mention, ...] = ()
    # The same sentence by its first words only (links.short_link_to_quote): a cut mail's link.
    short_link: str | None = None

    @property
    def repeated(self) -> bool:
        return bool(self.earlier)


@dataclass(frozen=True)
class OtherCopy:
    """Another portal's (or the same portal's) copy of the same article."""

    url: str
    portal_name: str
    published_at: dt.datetime | None


@dataclass
class DigestMeeting:
    title: str
    url: str
    portal_name: str
    published_at: dt.datetime | None
    first_seen_at: dt.datetime
    meeting_date: dt.date | None
    kind: str | None
    host_body: str | None
    chair_name: str | None
    chair_title: str | None
    communes: list[str]
    period: str | None
    shortfalls: list[DigestItem] = field(default_factory=list)
    directives: list[DigestItem] = field(default_factory=list)
    also_published: list[OtherCopy] = field(default_factory=list)
    # Found this week although published earlier (a late discovery).
    late: bool = False
    # The day it is dated by: the meeting date, else the publication (or discovery) date, local.
    day: dt.date | None = None
    # Items of this meeting left out of a mail that had to be cut (see bantin.digest.fit).
    hidden: int = 0

    @property
    def chair(self) -> str | None:
        if self.chair_name and self.chair_title:
            return f"{self.chair_name}, {self.chair_title}"
        return self.chair_name or self.chair_title

    @property
    def topics(self) -> set[str]:
        return {i.topic for i in (*self.shortfalls, *self.directives) if i.topic}


@dataclass
class DigestDistrict:
    name: str
    province: str | None
    meetings: list[DigestMeeting] = field(default_factory=list)
    # The unit's past, for a 2025 commune that was (part of) a district: "trước 7/2025: huyện Vĩnh Linh".
    history: str | None = None
    # Set when a mail had to be cut (bantin.digest.fit): what the place holds in full.
    counts: PlaceCounts | None = None

    @property
    def items(self) -> list[DigestItem]:
        return [i for m in self.meetings for i in (*m.shortfalls, *m.directives)]

    @property
    def full(self) -> PlaceCounts:
        """The place's meetings, shortfalls (and those named before), directives (and
        repeated ones), as the archive holds them (a cut mail shows fewer)."""
        if self.counts is not None:
            return self.counts
        items = self.items
        return PlaceCounts(
            meetings=len(self.meetings),
            shortfalls=sum(i.kind == "shortfall" for i in items),
            shortfalls_repeated=sum(i.kind == "shortfall" and i.repeated for i in items),
            directives=sum(i.kind == "directive" for i in items),
            directives_repeated=sum(i.kind == "directive" and i.repeated for i in items),
        )

    @property
    def shortfall_count(self) -> int:
        return self.full.shortfalls

    @property
    def directive_count(self) -> int:
        return self.full.directives

    @property
    def hidden(self) -> int:
        """Items left out of a cut mail (the archive page has them)."""
        shown = len(self.items)
        return self.full.shortfalls + self.full.directives - shown

    @property
    def topics(self) -> set[str]:
        return set().union(*(m.topics for m in self.meetings)) if self.meetings else set()


@dataclass(frozen=True)
class PlaceCounts:
    meetings: int
    shortfalls: int
    shortfalls_repeated: int
    directives: int
    directives_repeated: int


@dataclass(frozen=True)
class PortalHealth:
    portal_id: str
    name: str
    district: str | None
    last_article_at: dt.datetime | None  # None: nothing ever stored
    error_count: int = 0
    last_error: str | None = None
    given_up: int = 0  # article URLs the crawl gave up on (url_ledger): listed, never stored


@dataclass(frozen=True)
class Recurring:
    """A shortfall of this digest that its place's earlier meetings named too."""

    place: str
    item: DigestItem


@dataclass
class DigestWeek:
    """One digest: a label ("2024-W27" or a date range), an inclusive local-date range."""

    label: str
    start: dt.date
    end: dt.date  # inclusive
    districts: list[DigestDistrict]
    stale_portals: list[PortalHealth] = field(default_factory=list)
    failing_portals: list[PortalHealth] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    stale_after_days: int = 14
    # The district filter this digest was made for (empty: all districts).
    district_filter: tuple[str, ...] = ()
    # How far back "named before" looked (bantin.digest.selection.LOOKBACK_WEEKS), for the text.
    lookback_weeks: int = 8
    # A mail cut to fit (bantin.digest.fit): the whole digest's page, and what was left out.
    cut: MailCut | None = None

    @property
    def meeting_count(self) -> int:
        return sum(d.full.meetings for d in self.districts) + (self.cut.hidden_meetings if self.cut else 0)

    @property
    def place_count(self) -> int:
        return len(self.districts) + (len(self.cut.hidden_places) if self.cut else 0)

    @property
    def is_empty(self) -> bool:
        return self.meeting_count == 0

    @property
    def recurring(self) -> list[Recurring]:
        """The shortfalls named before at the same place, most often named first, then by
        place (the "recurring problems" section)."""
        if self.cut is not None:
            return list(self.cut.recurring)
        found = [Recurring(d.name, i) for d in self.districts for i in d.items if i.kind == "shortfall" and i.repeated]
        return sorted(found, key=lambda r: -len(r.item.earlier))

    @property
    def recurring_count(self) -> int:
        """Shortfalls named before, in the whole digest (a cut mail lists fewer)."""
        return sum(d.full.shortfalls_repeated for d in self.districts) + (self.cut.hidden_recurring if self.cut else 0)

    @property
    def repeated_directive_count(self) -> int:
        return sum(d.full.directives_repeated for d in self.districts)


@dataclass(frozen=True)
class MailCut:
    """What a mail too large for Gmail (102 KB) leaves to the archive page."""

    archive_url: str  # the whole digest's page
    items_per_place: int | None  # None: every item
    compact: bool  # meetings on one line each
    meetings_listed: bool = True  # False: each place is one line of counts
    hidden_places: tuple[str, ...] = ()  # places listed on the archive page only
    hidden_meetings: int = 0  # their meetings
    hidden_recurring: int = 0  # their shortfalls named before
    # The shortfalls named before listed at the top (the most often named).
    recurring: tuple[Recurring, ...] = ()
