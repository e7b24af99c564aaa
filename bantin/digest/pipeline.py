"""The digest job as plain functions: select → render → archive → deliver.

`flows/digest.py` wraps the same steps in Prefect tasks; the CLI and the demo call
`run_digest` directly (no Prefect server needed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bantin.digest.archive import ArchivedDigest, write_digest
from bantin.digest.delivery import DeliveryResult, deliver, unsubscribe_target
from bantin.digest.mail import MailError, Subscriber, load_subscribers, smtp_password
from bantin.digest.model import DigestWeek, PortalHealth
from bantin.digest.render import RenderedDigest, render
from bantin.digest.selection import ArticleRow, DigestRange, build_digest, resolve_range
from bantin.places import UnknownPlaceError, resolve_places
from bantin.settings import Settings


class DigestUsageError(ValueError):
    """Parameters that make no sense together (e.g. --district with --send)."""


@dataclass(frozen=True)
class RangeRows:
    """What the database holds for a range: enough to build any district's digest."""

    digest_range: DigestRange
    articles: list[ArticleRow]
    health: list[PortalHealth]


@dataclass
class DigestRun:
    digest: DigestWeek
    archived: ArchivedDigest
    deliveries: list[DeliveryResult] = field(default_factory=list)


def load_range(settings: Settings, digest_range: DigestRange) -> RangeRows:
    from storage.digests import load_articles, portal_health
    from storage.session import session_factory

    with session_factory(settings)() as session:
        articles = load_articles(session, digest_range, settings.timezone)
        health = portal_health(session, digest_range, settings.timezone)
    return RangeRows(digest_range, articles, health)


def digest_for(rows: RangeRows, settings: Settings, districts: Sequence[str] = (), now: dt.datetime | None = None) -> DigestWeek:
    return build_digest(
        rows.digest_range, rows.articles, health=rows.health, districts=districts, timezone=settings.timezone, generated_at=now
    )


def render_digest(digest: DigestWeek, settings: Settings) -> RenderedDigest:
    return render(digest, unsubscribe=unsubscribe_target(settings), timezone=settings.timezone)


def archive(digest: DigestWeek, settings: Settings, out_dir: Path | None = None) -> ArchivedDigest:
    # The archive copy carries no unsubscribe link: it is not addressed to anyone.
    return write_digest(out_dir or settings.archive_dir, digest, render(digest, timezone=settings.timezone))


def deliver_one(
    rows: RangeRows, settings: Settings, subscriber: Subscriber, *, dry_run: bool = False, password: str | None = None
) -> DeliveryResult:
    """One subscriber's digest (their districts only), sent exactly once; raises MailError."""
    from storage.session import session_factory

    rendered = render_digest(digest_for(rows, settings, subscriber.followed), settings)
    with session_factory(settings)() as session:
        return deliver(
            session,
            settings,
            rows.digest_range.delivery_key,
            subscriber,
            rendered,
            dry_run=dry_run,
            password=password,
            label=rows.digest_range.label,
        )


def deliver_all(
    rows: RangeRows, settings: Settings, subscribers: Sequence[Subscriber], *, dry_run: bool = False
) -> list[DeliveryResult]:
    """Every subscriber; a failure is recorded and reported, and the others still go."""
    password = None if dry_run or not settings.smtp.host else smtp_password(settings.smtp)
    results = []
    for subscriber in subscribers:
        try:
            results.append(deliver_one(rows, settings, subscriber, dry_run=dry_run, password=password))
        except MailError as exc:
            results.append(DeliveryResult(subscriber.email, "failed", error=str(exc)))
    return results


def check_parameters(districts: Sequence[str], send: bool, dry_run: bool) -> None:
    if districts and (send or dry_run):
        # Each subscriber's own district list decides what they receive; a partial digest
        # must not count as the week's delivery.
        raise DigestUsageError("--district cannot be combined with --send/--dry-run: subscribers' districts apply")
    for name in districts:
        try:
            resolve_places([name])
        except UnknownPlaceError as exc:
            raise DigestUsageError(f"--district {name!r}: {exc}") from None


def run_digest(
    settings: Settings,
    *,
    week: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    districts: Sequence[str] = (),
    send: bool = False,
    dry_run: bool = False,
    out_dir: Path | None = None,
    subscribers: Sequence[Subscriber] | None = None,
) -> DigestRun:
    """Select, render and archive the digest; with `send` or `dry_run`, deliver it to the
    subscribers (from `settings.subscribers_file` unless given)."""
    check_parameters(districts, send, dry_run)
    digest_range = resolve_range(week, start, end, timezone=settings.timezone)
    people: list[Subscriber] = []
    if send or dry_run:
        # Read (and validate) the subscribers before anything is written: a bad file stops the run.
        people = list(subscribers) if subscribers is not None else load_subscribers(settings.subscribers_file)
    rows = load_range(settings, digest_range)
    digest = digest_for(rows, settings, districts)
    run = DigestRun(digest, archive(digest, settings, out_dir))
    if send or dry_run:
        run.deliveries = deliver_all(rows, settings, people, dry_run=dry_run)
    return run
