"""The digest job: select → render → archive → deliver, with the rows and the delivery
ledger of storage/.

`flows/digest.py` runs the same steps as Prefect tasks; the CLI and the demo call
`run_digest` (no Prefect server needed).

Delivery is exactly-once per (week key, recipient): claim the ledger row (pending/failed
→ sending, attempts + 1) and commit, send, then mark it sent (or outbox when written as a
.eml file for lack of an SMTP host). A failed send marks the row failed; the next run
claims and sends it again. A row already sent is never claimed again. A crash between
sending and marking leaves the row sending: not retried automatically (docs/digest.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from bantin.digest.archive import ArchivedDigest, write_digest
from bantin.digest.delivery import DeliveryOutcome, DeliveryResult, message_for, unsubscribe_target
from bantin.digest.mail import MailError, Subscriber, load_subscribers, new_message_id, send_smtp, write_eml
from bantin.digest.model import DigestWeek, PortalHealth
from bantin.digest.render import RenderedDigest, render
from bantin.digest.selection import (
    LATE_DAYS,
    ArticleRow,
    DigestRange,
    ItemRow,
    MeetingRow,
    build_digest,
    resolve_range,
)
from bantin.jobs.db import database
from bantin.places import PlaceCodes, UnknownPlaceError, resolve_places
from bantin.settings import Settings
from storage import digests as stored
from storage.models import Article, DeliveryStatus, Meeting, Portal


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


# ---- rows -------------------------------------------------------------------------------


def load_range(settings: Settings, digest_range: DigestRange) -> RangeRows:
    """The articles of the range (see bantin.digest.selection for the rules) and portal health."""
    with database(settings)() as session:
        return range_rows(session, digest_range, settings.timezone)


def range_rows(session: Session, digest_range: DigestRange, timezone: str) -> RangeRows:
    lo, hi = digest_range.bounds_utc(timezone)
    found = stored.load_articles(session, lo, hi, late_from=lo - dt.timedelta(days=LATE_DAYS))
    articles = [_article_row(article, portal, found.meetings.get(article.id)) for article, portal in found.articles]
    return RangeRows(digest_range, articles, [_health(a) for a in stored.portal_activity(session, lo, hi)])


def _codes(row: Meeting | Portal) -> PlaceCodes:
    return PlaceCodes(row.legacy_province_code, row.legacy_district_code, row.province_code, row.ward_code)


def _meeting_row(found: stored.StoredMeeting) -> MeetingRow:
    m = found.meeting
    return MeetingRow(
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
        items=tuple(ItemRow(i.kind, i.text, i.topic) for i in found.items),
        place=_codes(m),
    )


def _article_row(a: Article, p: Portal, meeting: stored.StoredMeeting | None) -> ArticleRow:
    return ArticleRow(
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
        meeting=_meeting_row(meeting) if meeting else None,
        text=a.text,
        portal_place=_codes(p),
    )


def _health(activity: stored.PortalActivity) -> PortalHealth:
    portal, failures = activity.portal, activity.failures
    last = failures[-1] if failures else None
    return PortalHealth(
        portal_id=portal.id,
        name=portal.name,
        district=portal.district,
        last_article_at=activity.last_article_at,
        error_count=len(failures),
        last_error=(last.error or f"HTTP {last.status}") + f" ({last.url})" if last else None,
    )


# ---- digest -----------------------------------------------------------------------------


def digest_for(rows: RangeRows, settings: Settings, places: Sequence[str] = (), now: dt.datetime | None = None) -> DigestWeek:
    return build_digest(
        rows.digest_range, rows.articles, health=rows.health, districts=places, timezone=settings.timezone, generated_at=now
    )


def render_digest(digest: DigestWeek, settings: Settings) -> RenderedDigest:
    return render(digest, unsubscribe=unsubscribe_target(settings), timezone=settings.timezone)


def archive(digest: DigestWeek, settings: Settings, out_dir: Path | None = None) -> ArchivedDigest:
    # The archive copy carries no unsubscribe link: it is not addressed to anyone.
    return write_digest(out_dir or settings.archive_dir, digest, render(digest, timezone=settings.timezone))


# ---- delivery ---------------------------------------------------------------------------


def deliver(
    settings: Settings,
    week_key: str,
    subscriber: Subscriber,
    rendered: RenderedDigest,
    *,
    dry_run: bool = False,
    password: SecretStr | None = None,
    label: str | None = None,
) -> DeliveryResult:
    """Send `rendered` to `subscriber` unless the ledger says it went out already.

    `week_key` keys the ledger; `label` (default: the key) names the .eml files. Raises
    MailError after recording the failure, so a caller with retries (the Prefect task)
    retries; the row stays claimable. Any other exception (a bug) is recorded the same way
    and raised as it is: it is not an SMTP failure.
    """
    sender = settings.smtp.sender
    if dry_run:
        # No ledger change, no mail: the message lands in outbox/dry-run for inspection.
        message = message_for(settings, rendered, subscriber, new_message_id(sender))
        draft = write_eml(settings.outbox_dir / "dry-run", label or week_key, subscriber.email, message)
        return DeliveryResult(subscriber.email, DeliveryOutcome.DRY_RUN, message["Message-ID"], draft)
    factory = database(settings)
    with factory.begin() as session:  # committed before any mail leaves: other runs see the claim
        claimed = stored.claim_delivery(session, week_key, subscriber.email, new_message_id(sender))
    if claimed is None:
        return DeliveryResult(subscriber.email, DeliveryOutcome.ALREADY_SENT)
    message_id = claimed.message_id or new_message_id(sender)
    path: Path | None = None
    try:
        message = message_for(settings, rendered, subscriber, message_id)
        if settings.smtp.host:
            send_smtp(settings.smtp, message, password)
            outcome, status = DeliveryOutcome.SENT, DeliveryStatus.SENT
        else:
            path = write_eml(settings.outbox_dir, label or week_key, subscriber.email, message)
            outcome, status = DeliveryOutcome.OUTBOX, DeliveryStatus.OUTBOX
    except BaseException as exc:
        # Nothing may leave the row "sending" but a crash.
        error = str(exc) if isinstance(exc, MailError) else f"{type(exc).__name__}: {exc}"
        with factory.begin() as session:
            stored.mark_failed(session, claimed.id, error)
        raise
    with factory.begin() as session:
        stored.mark_sent(session, claimed.id, message_id, status)
    return DeliveryResult(subscriber.email, outcome, message_id, path, attempts=claimed.attempts)


def deliver_one(
    rows: RangeRows, settings: Settings, subscriber: Subscriber, *, dry_run: bool = False, password: SecretStr | None = None
) -> DeliveryResult:
    """One subscriber's digest (their places only), sent exactly once; raises MailError."""
    rendered = render_digest(digest_for(rows, settings, subscriber.followed), settings)
    return deliver(
        settings,
        rows.digest_range.delivery_key,
        subscriber,
        rendered,
        dry_run=dry_run,
        password=password,
        label=rows.digest_range.label,
    )


def deliver_all(
    rows: RangeRows,
    settings: Settings,
    subscribers: Sequence[Subscriber],
    *,
    dry_run: bool = False,
    password: SecretStr | None = None,
) -> list[DeliveryResult]:
    """Every subscriber; a failed send is recorded and reported, and the others still go."""
    results = []
    for subscriber in subscribers:
        try:
            results.append(deliver_one(rows, settings, subscriber, dry_run=dry_run, password=password))
        except MailError as exc:
            results.append(DeliveryResult(subscriber.email, DeliveryOutcome.FAILED, error=str(exc)))
    return results


def deliveries(settings: Settings, week_key: str) -> list[tuple[str, DeliveryStatus, int]]:
    """(recipient, status, attempts) of a week's ledger rows."""
    with database(settings)() as session:
        return [(d.recipient, d.status, d.attempts) for d in stored.deliveries(session, week_key)]


# ---- the whole job ----------------------------------------------------------------------


def check_parameters(places: Sequence[str], send: bool, dry_run: bool) -> None:
    if places and (send or dry_run):
        # Each subscriber's own list decides what they receive; a partial digest must not
        # count as the week's delivery.
        raise DigestUsageError("--district cannot be combined with --send/--dry-run: subscribers' districts apply")
    for name in places:
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
    password: SecretStr | None = None,
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
        run.deliveries = deliver_all(rows, settings, people, dry_run=dry_run, password=password)
    return run
