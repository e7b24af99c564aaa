"""A mail Gmail shows whole: the digest cut until its message is under MAIL_LIMIT bytes.

Gmail clips a message over 102 KB ("[Message clipped]"), hiding the rest of the week
behind a link few readers follow. A week that does not fit is cut in steps (`LEVELS`),
the same for every place, until the whole MIME message fits: meetings on one line each,
then fewer items per place (the most important first: shortfalls named before, other
shortfalls, new directives, repeated directives), then places as one line of counts, then
fewer places. What is cut is counted in the mail and one click away on the archive page
(`archive_url`), which keeps everything. Pure: the caller renders and measures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bantin.digest.model import DigestDistrict, DigestItem, DigestMeeting, DigestWeek, MailCut, Recurring

# The whole MIME message (headers, text and HTML parts, base64), in bytes: under Gmail's
# 102 KB clipping with room to spare.
MAIL_LIMIT = 100_000
# What a cut aims at: the headers of the message actually sent (Message-ID, To) may differ a
# little from the ones measured.
MAIL_TARGET = 98_000


@dataclass(frozen=True)
class Level:
    items_per_place: int | None  # None: every item
    compact: bool  # meetings on one line each
    meetings: bool = True  # False: a place is one line of counts
    places: int | None = None  # None: every place
    recurring: int | None = None  # entries of the "named again" section (None: all)


# Richest first; each level's mail is smaller than the one before it (an item weighs about
# as much as a meeting's line, so meeting lines go before the items below four per place).
LEVELS: tuple[Level, ...] = (
    Level(None, False),
    Level(None, True, recurring=20),
    *(Level(k, True, recurring=r) for k, r in ((20, 20), (14, 15), (10, 15), (8, 12), (6, 12), (5, 10), (3, 10))),
    *(Level(k, True, meetings=False, recurring=r) for k, r in ((4, 10), (3, 8), (2, 6), (1, 5), (0, 5))),
    *(Level(0, True, meetings=False, places=p, recurring=3) for p in (200, 120, 80, 50, 30, 15, 5)),
)


def importance(item: DigestItem) -> tuple[int, int]:
    """Lower first: shortfalls named before (most often first), other shortfalls, new
    directives, repeated directives."""
    if item.kind == "shortfall":
        return (0, -len(item.earlier)) if item.repeated else (1, 0)
    return (3, 0) if item.repeated else (2, 0)


def cut(digest: DigestWeek, level: Level, archive_url: str) -> DigestWeek:
    """`digest` as a mail of `level` shows it (a copy; `digest` is left as it is)."""
    if level == LEVELS[0]:
        return digest
    ranked = sorted(digest.districts, key=lambda d: (-d.full.shortfalls_repeated, -len(d.meetings), d.name))
    kept = ranked if level.places is None else ranked[: level.places]
    names = {d.name for d in kept}
    hidden = [d for d in digest.districts if d.name not in names]
    districts = [_cut_place(d, level) for d in digest.districts if d.name in names]
    # The section at the top: the kept places' shortfalls named before, most often named first
    # (also those a place's own list no longer shows: that is where the cut ones are seen).
    recurring = sorted(
        (
            Recurring(d.name, _short(i))
            for d in digest.districts
            if d.name in names
            for i in d.items
            if i.kind == "shortfall" and i.repeated
        ),
        key=lambda r: -len(r.item.earlier),
    )
    shown_recurring = tuple(recurring if level.recurring is None else recurring[: level.recurring])
    return dataclasses.replace(
        digest,
        districts=districts,
        cut=MailCut(
            archive_url=archive_url,
            items_per_place=level.items_per_place,
            compact=level.compact,
            meetings_listed=level.meetings,
            hidden_places=tuple(d.name for d in hidden),
            hidden_meetings=sum(len(d.meetings) for d in hidden),
            hidden_recurring=sum(d.full.shortfalls_repeated for d in hidden),
            recurring=shown_recurring,
        ),
    )


def _cut_place(place: DigestDistrict, level: Level) -> DigestDistrict:
    full = place.full
    chosen: set[int] = set()
    if level.items_per_place is None:
        chosen = {id(i) for i in place.items}
    else:
        order = sorted(
            ((importance(i), n, i) for n, i in enumerate(place.items)), key=lambda t: (t[0], t[1])
        )
        chosen = {id(i) for _, _, i in order[: level.items_per_place]}
    meetings = [_cut_meeting(m, chosen) for m in place.meetings]
    if not level.meetings:  # no meeting lines: only the meetings whose items are kept
        meetings = [m for m in meetings if m.shortfalls or m.directives]
    return dataclasses.replace(place, meetings=meetings, counts=full)


def _short(item: DigestItem) -> DigestItem:
    """The item with its links by the clause's first words (a third of the bytes: the
    percent-encoded Vietnamese of a whole clause is most of a quote's weight)."""
    earlier = tuple(dataclasses.replace(m, link=m.short_link or m.link) for m in item.earlier)
    return dataclasses.replace(item, link=item.short_link or item.link, earlier=earlier)


def _cut_meeting(meeting: DigestMeeting, chosen: set[int]) -> DigestMeeting:
    shortfalls = [_short(i) for i in meeting.shortfalls if id(i) in chosen]
    directives = [_short(i) for i in meeting.directives if id(i) in chosen]
    hidden = len(meeting.shortfalls) + len(meeting.directives) - len(shortfalls) - len(directives)
    return dataclasses.replace(meeting, shortfalls=shortfalls, directives=directives, hidden=hidden)


def fit[T](
    digest: DigestWeek,
    render: Callable[[DigestWeek], T],
    size: Callable[[T], int],
    archive_url: str,
    *,
    target: int = MAIL_TARGET,
    levels: Sequence[Level] = LEVELS,
) -> tuple[DigestWeek, T]:
    """The richest level whose rendering measures at most `target` (the last level when
    none does): the whole digest when it fits (one rendering), else a binary search over
    the levels (sizes shrink from level to level)."""
    whole = render(digest)
    if size(whole) <= target or len(levels) == 1:
        return digest, whole
    lo, hi = 1, len(levels) - 1
    best: tuple[DigestWeek, T] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = cut(digest, levels[mid], archive_url)
        rendered = render(candidate)
        if size(rendered) <= target:
            best, hi = (candidate, rendered), mid - 1
        else:
            lo = mid + 1
    if best is None:
        last = cut(digest, levels[-1], archive_url)
        return last, render(last)
    return best
