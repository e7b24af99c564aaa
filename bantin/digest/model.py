"""Plain typed data the digest is rendered from: week → districts → meetings → items.

Built by `bantin.digest.selection` from database rows (or by hand in tests), so
templates, mail and archive never touch the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bantin.topics import OTHER


@dataclass(frozen=True)
class DigestItem:
    """A shortfall or directive, quoted from the article, linked to its sentence."""

    kind: str  # "shortfall" | "directive"
    text: str
    topic: str | None
    link: str  # article URL with a `#:~:text=` fragment


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

    @property
    def shortfall_count(self) -> int:
        return sum(len(m.shortfalls) for m in self.meetings)

    @property
    def directive_count(self) -> int:
        return sum(len(m.directives) for m in self.meetings)

    @property
    def topics(self) -> set[str]:
        return set().union(*(m.topics for m in self.meetings)) if self.meetings else set()


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
class RecurringTopic:
    topic: str
    districts: tuple[str, ...]


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

    @property
    def meeting_count(self) -> int:
        return sum(len(d.meetings) for d in self.districts)

    @property
    def is_empty(self) -> bool:
        return self.meeting_count == 0

    @property
    def recurring_topics(self) -> list[RecurringTopic]:
        """Topics named in two districts or more, most widespread first ("other" is no topic)."""
        by_topic: dict[str, set[str]] = {}
        for district in self.districts:
            for topic in district.topics - {OTHER}:
                by_topic.setdefault(topic, set()).add(district.name)
        recurring = [RecurringTopic(t, tuple(sorted(d))) for t, d in by_topic.items() if len(d) >= 2]
        return sorted(recurring, key=lambda r: (-len(r.districts), r.topic))
