"""What becomes of an article URL that failed: tried again later, or given up.

Every article URL a listing showed ends stored, retrying, or given up after
MAX_ATTEMPTS; a retrying URL is fetched when due whatever its listing says (a 304 on
the listing cannot hide it). The first retry is at the next run: most failures (a
timeout, a 503, a page cut short) are gone by then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MAX_ATTEMPTS = 5
# Wait before attempt 2, 3, 4, 5 (attempt 1 was the one that failed first).
RETRY_DELAYS = (dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(hours=6), dt.timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed article URL of this run; `permanent` failures are not retried."""

    url: str
    error: str
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class FailedUrl:
    """The ledger's view of a URL after its latest failure."""

    url: str
    error: str
    attempts: int
    given_up: bool
    next_try_at: dt.datetime | None  # None when given up


def after_failure(failure: Failure, attempts_before: int, now: dt.datetime) -> FailedUrl:
    attempts = attempts_before + 1
    if failure.permanent or attempts >= MAX_ATTEMPTS:
        return FailedUrl(failure.url, failure.error, attempts, True, None)
    delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
    return FailedUrl(failure.url, failure.error, attempts, False, now + delay)


@dataclass
class PortalLedger:
    """A portal's failed URLs as a crawl starts."""

    due: list[str] = field(default_factory=list)  # retrying, due now: fetched this run
    waiting: set[str] = field(default_factory=set)  # retrying later: not fetched, not "new"
    given_up: set[str] = field(default_factory=set)  # not fetched again

    @property
    def not_new(self) -> set[str]:
        """URLs a listing walk must not count as new (the due ones are fetched anyway)."""
        return self.waiting | self.given_up | set(self.due)
