"""The digest job: select → render → archive → deliver, with the rows and the delivery
ledger of storage/.

`flows/digest.py` runs the same steps as Prefect tasks; the CLI and the demo call
`run_digest` (no Prefect server needed).

Delivery is at most once per (week key, recipient), and exactly once when the server
answers: claim the ledger row (pending/failed → sending, attempts + 1, claimed_at/by) and
commit, send, then mark it sent (or outbox when written as a .eml file for lack of an SMTP
host). A send refused before the server had the message marks the row failed; the next
run claims and sends it again. A send whose data went out without the server's answer
marks it uncertain: never re-sent but on an operator's request (`resend`). A row left
sending by a dead run is recorded uncertain by the next send of its week, and reported by
every run (`unsettled_deliveries`) until settled (docs/digest.md, "Delivery guarantees").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

from pydantic import SecretStr
from sqlalchemy.orm import Session

from bantin.digest.archive import ArchivedDigest, folder_problem, write_digest, write_operator_page
from bantin.digest.delivery import (
    DeliveryOutcome,
    DeliveryResult,
    claimant,
    left_behind,
    message_for,
    sending_stale_after,
    unsubscribe_target,
)
from bantin.digest.fit import fit
from bantin.digest.mail import (
    Handover,
    MailError,
    MailUncertainError,
    Subscriber,
    build_message,
    check_mail_settings,
    load_subscribers,
    new_message_id,
    send_smtp,
    smtp_address,
    write_eml,
)
from bantin.digest.model import DigestWeek, PortalHealth
from bantin.digest.operator import Attention, OperatorReport, operator_key, render_operator
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
from bantin.settings import Settings, SettingsError
from storage import digests as stored
from storage.models import Article, DeliveryStatus, DigestDelivery, Meeting, Portal
from storage.session import sqlite_path


class DigestUsageError(ValueError):
    """Parameters that make no sense together (e.g. --district with --send)."""


@dataclass(frozen=True)
class RangeRows:
    """What the database holds for a range: enough to build any district's digest."""

    digest_range: DigestRange
    articles: list[ArticleRow]
    health: list[PortalHealth]
    # The meetings of the LOOKBACK_WEEKS before the range (texts not loaded): "named before".
    history: list[ArticleRow] = field(default_factory=list)


@dataclass
class DigestRun:
    digest: DigestWeek
    archived: ArchivedDigest
    deliveries: list[DeliveryResult] = field(default_factory=list)
    digest_range: DigestRange | None = None
    # Every week's deliveries only an operator can settle (uncertain), after this run.
    unsettled: list[Unsettled] = field(default_factory=list)

    @property
    def attention(self) -> list[Unsettled]:
        """The unsettled deliveries of this run's own range."""
        key = self.digest_range.delivery_key if self.digest_range else None
        return [u for u in self.unsettled if u.week_key == key]


# ---- rows -------------------------------------------------------------------------------


def load_range(settings: Settings, digest_range: DigestRange) -> RangeRows:
    """The articles of the range (see bantin.digest.selection for the rules) and portal health."""
    with database(settings)() as session:
        return range_rows(session, digest_range, settings.timezone)


def range_rows(session: Session, digest_range: DigestRange, timezone: str) -> RangeRows:
    lo, hi = digest_range.bounds_utc(timezone)
    found = stored.load_articles(session, lo, hi, late_from=lo - dt.timedelta(days=LATE_DAYS))
    articles = [_article_row(article, portal, found.meetings.get(article.id)) for article, portal in found.articles]
    back, _ = DigestRange(digest_range.lookback_start(), digest_range.start).bounds_utc(timezone)
    past = stored.load_history(session, back, lo)
    history = [_article_row(a, p, past.meetings.get(a.id), with_text=False) for a, p in past.articles]
    return RangeRows(digest_range, articles, [_health(a) for a in stored.portal_activity(session, lo, hi)], history)


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


def _article_row(a: Article, p: Portal, meeting: stored.StoredMeeting | None, *, with_text: bool = True) -> ArticleRow:
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
        text=a.text if with_text else "",
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
        given_up=activity.given_up,
    )


# ---- digest -----------------------------------------------------------------------------


def digest_for(rows: RangeRows, settings: Settings, places: Sequence[str] = (), now: dt.datetime | None = None) -> DigestWeek:
    return build_digest(
        rows.digest_range,
        rows.articles,
        health=rows.health,
        districts=places,
        timezone=settings.timezone,
        generated_at=now,
        history=rows.history,
    )


def archive_page_url(settings: Settings, name: str) -> str:
    """The archived digest `name` as a reader reaches it: under BANTIN_ARCHIVE_URL, else
    its file:// URL (readable on this machine only)."""
    if settings.archive_url:
        return settings.archive_url.rstrip("/") + f"/{name}.html"
    return (settings.archive_dir / f"{name}.html").resolve().as_uri()


def render_digest(digest: DigestWeek, settings: Settings, label: str | None = None) -> RenderedDigest:
    """A reader's mail of `digest`: the whole digest when its message fits under Gmail's
    clipping size (bantin.digest.fit.MAIL_LIMIT), else cut to fit, the rest one link away on
    the archive page of the week (`label`, default the digest's)."""
    page = archive_page_url(settings, label or digest.label)
    unsubscribe = unsubscribe_target(settings)
    # Measured as the message it becomes (headers, both parts, base64); the real recipient
    # and Message-ID differ by a few bytes (fit.MAIL_TARGET leaves room for them).
    probe = Subscriber(name="Người nhận bản tin của các địa phương", email="nguoi.nhan.ban.tin@example.org")
    probe_id = new_message_id(settings.smtp.sender)

    def size(rendered: RenderedDigest) -> int:
        message = build_message(
            rendered, sender=settings.smtp.sender, recipient=probe, message_id=probe_id, unsubscribe=unsubscribe
        )
        return len(message.as_bytes())

    _, rendered = fit(
        digest, lambda d: render(d, unsubscribe=unsubscribe, timezone=settings.timezone, archive_url=page), size, page
    )
    return rendered


def archive(digest: DigestWeek, settings: Settings, out_dir: Path | None = None) -> ArchivedDigest:
    """The digest's page, text and index entry; for a whole week (no place filter) also the
    operator's page (portal errors, stale portals: what the readers' pages leave out)."""
    # The archive copy carries no unsubscribe link: it is not addressed to anyone.
    folder = out_dir or settings.archive_dir
    base_url = None if out_dir is not None or not settings.archive_url else settings.archive_url.rstrip("/") + "/"
    archived = write_digest(folder, digest, render(digest, timezone=settings.timezone), base_url)
    if digest.district_filter:
        return archived
    report = OperatorReport(digest, digest_page=archived.html_path.name)
    operator = write_operator_page(folder, archived.name, render_operator(report, settings.timezone))
    return dataclasses.replace(archived, operator_path=operator)


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
    resend: bool = False,
    now: dt.datetime | None = None,
    ledger_key: str | None = None,
) -> DeliveryResult:
    """Send `rendered` to `subscriber` unless the ledger says it went out already (or
    may have: uncertain).

    `ledger_key`: the recipient as the ledger (and the result) names it, default the
    subscriber's address (the operator's mail: "operator:<address>").

    `week_key` keys the ledger; `label` (default: the key) names the .eml files; `resend`
    (an operator's explicit request) also sends a delivery recorded uncertain. A row left
    `sending` by a dead run is first recorded uncertain. Raises MailError after recording
    the failure, so a caller with retries (the Prefect task) retries; the row stays
    claimable. An uncertain send is recorded and returned, never raised: nothing may
    retry it. Any other exception (a bug, an interrupt) is recorded (failed, or uncertain
    when the message data had gone out) and raised as it is.
    """
    sender = settings.smtp.sender
    recipient = ledger_key or subscriber.email
    if dry_run:
        # No ledger change, no mail: the message lands in outbox/dry-run for inspection.
        message = message_for(settings, rendered, subscriber, new_message_id(sender))
        draft = write_eml(settings.outbox_dir / "dry-run", label or week_key, recipient, message)
        return DeliveryResult(recipient, DeliveryOutcome.DRY_RUN, message["Message-ID"], draft)
    factory = database(settings)
    with factory.begin() as session:  # committed before any mail leaves: other runs see the claim
        before = _record_left_behind(session, settings, week_key, recipient, now)
        claimed = stored.claim_delivery(session, week_key, recipient, new_message_id(sender), claimant=claimant(), resend=resend)
        if claimed is None:
            return _not_claimed(recipient, stored.delivery(session, week_key, recipient))
    resent = before == DeliveryStatus.UNCERTAIN
    message_id = claimed.message_id or new_message_id(sender)
    path: Path | None = None
    handover = Handover()
    try:
        message = message_for(settings, rendered, subscriber, message_id)
        if settings.smtp.host:
            send_smtp(settings.smtp, message, password, handover)
            outcome, status = DeliveryOutcome.SENT, DeliveryStatus.SENT
        else:
            path = write_eml(settings.outbox_dir, label or week_key, recipient, message)
            outcome, status = DeliveryOutcome.OUTBOX, DeliveryStatus.OUTBOX
    except MailUncertainError as exc:
        with factory.begin() as session:
            stored.mark_uncertain(session, claimed.id, str(exc))
        return DeliveryResult(recipient, DeliveryOutcome.UNCERTAIN, message_id, error=str(exc), attempts=claimed.attempts)
    except BaseException as exc:
        # Nothing may leave the row "sending" but a crash.
        error = str(exc) if isinstance(exc, MailError) else f"{type(exc).__name__}: {exc}"
        with factory.begin() as session:
            # A MailError after the data is the server's own refusal (4xx/5xx): it has nothing.
            if handover.data_sent and not isinstance(exc, MailError):
                stored.mark_uncertain(session, claimed.id, f"interrupted after the message data was sent: {error}")
            else:
                stored.mark_failed(session, claimed.id, error)
        raise
    with factory.begin() as session:
        stored.mark_sent(session, claimed.id, message_id, status)
    return DeliveryResult(recipient, outcome, message_id, path, attempts=claimed.attempts, resent=resent)


def _record_left_behind(
    session: Session, settings: Settings, week_key: str, recipient: str, now: dt.datetime | None
) -> DeliveryStatus | None:
    """A row still `sending` whose run is gone becomes `uncertain` (the mail may have
    left). Returns the row's status now (None: no row yet)."""
    row = stored.delivery(session, week_key, recipient)
    if row is None or row.status != DeliveryStatus.SENDING:
        return row.status if row else None
    reason = left_behind(
        row.claimed_by, row.claimed_at, now or dt.datetime.now(dt.UTC), sending_stale_after(settings.smtp.timeout_s)
    )
    if reason and stored.mark_left_behind(session, row, f"{reason}: the message may or may not have reached the server"):
        return DeliveryStatus.UNCERTAIN
    return DeliveryStatus.SENDING


def _not_claimed(recipient: str, row: DigestDelivery | None) -> DeliveryResult:
    if row is not None and row.status in (DeliveryStatus.SENT, DeliveryStatus.OUTBOX):
        return DeliveryResult(recipient, DeliveryOutcome.ALREADY_SENT, row.message_id, attempts=row.attempts)
    if row is not None and row.status == DeliveryStatus.UNCERTAIN:
        return DeliveryResult(recipient, DeliveryOutcome.UNCERTAIN, row.message_id, error=row.last_error, attempts=row.attempts)
    holder = f"claimed by {row.claimed_by} at {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC" if row and row.claimed_at else "claimed"
    return DeliveryResult(recipient, DeliveryOutcome.IN_PROGRESS, error=f"another run is sending it ({holder})")


def deliver_one(
    rows: RangeRows,
    settings: Settings,
    subscriber: Subscriber,
    *,
    dry_run: bool = False,
    password: SecretStr | None = None,
    resend: bool = False,
) -> DeliveryResult:
    """One subscriber's digest (their places only), sent exactly once; raises MailError.

    A week without a meeting in their places is not mailed unless they asked for empty
    weeks (`empty_weeks: true`): the ledger records `nothing_to_send` (a re-run sends
    nothing; a meeting found later for that week is sent by the next run)."""
    digest = digest_for(rows, settings, subscriber.followed)
    if digest.is_empty and not subscriber.empty_weeks:
        return _nothing_to_send(settings, rows.digest_range.delivery_key, subscriber.email, dry_run=dry_run)
    rendered = render_digest(digest, settings, rows.digest_range.label)
    return deliver(
        settings,
        rows.digest_range.delivery_key,
        subscriber,
        rendered,
        dry_run=dry_run,
        password=password,
        label=rows.digest_range.label,
        resend=resend,
    )


def _nothing_to_send(settings: Settings, week_key: str, recipient: str, *, dry_run: bool) -> DeliveryResult:
    if dry_run:
        return DeliveryResult(recipient, DeliveryOutcome.NOTHING_TO_SEND)
    with database(settings).begin() as session:
        _record_left_behind(session, settings, week_key, recipient, None)
        row = stored.record_nothing_to_send(session, week_key, recipient)
        if row.status == DeliveryStatus.NOTHING_TO_SEND:
            return DeliveryResult(recipient, DeliveryOutcome.NOTHING_TO_SEND, attempts=row.attempts)
        return _not_claimed(recipient, row)


def operator_report(rows: RangeRows, settings: Settings, deliveries: Sequence[DeliveryResult] = ()) -> OperatorReport:
    """The whole week's portal health, this run's deliveries and every open (uncertain) one."""
    attention = [Attention(u.describe(), u.resend_command(rows.digest_range)) for u in unsettled_deliveries(settings)]
    return OperatorReport(
        digest_for(rows, settings),
        deliveries=list(deliveries),
        attention=attention,
        digest_page=archive_page_url(settings, rows.digest_range.label),
    )


def deliver_operator(
    rows: RangeRows,
    settings: Settings,
    deliveries: Sequence[DeliveryResult] = (),
    *,
    dry_run: bool = False,
    password: SecretStr | None = None,
    resend: bool = False,
) -> DeliveryResult | None:
    """The operator's report mailed to BANTIN_OPERATOR_EMAIL (None when unset), once per
    week like a reader's mail: ledger row (week, "operator:<address>"). Raises MailError."""
    if not settings.operator_email:
        return None
    operator = Subscriber(name="bantin operator", email=settings.operator_email)
    return deliver(
        settings,
        rows.digest_range.delivery_key,
        operator,
        render_operator(operator_report(rows, settings, deliveries), settings.timezone),
        dry_run=dry_run,
        password=password,
        label=rows.digest_range.label,
        resend=resend,
        ledger_key=operator_key(operator.email),
    )


def deliver_all(
    rows: RangeRows,
    settings: Settings,
    subscribers: Sequence[Subscriber],
    *,
    dry_run: bool = False,
    password: SecretStr | None = None,
    resend: Collection[str] = (),
) -> list[DeliveryResult]:
    """Every subscriber; a failed send is recorded and reported, and the others still go.
    `resend`: the addresses whose uncertain delivery is to be sent again."""
    results = []
    for subscriber in subscribers:
        try:
            results.append(
                deliver_one(rows, settings, subscriber, dry_run=dry_run, password=password, resend=subscriber.email in resend)
            )
        except MailError as exc:
            results.append(DeliveryResult(subscriber.email, DeliveryOutcome.FAILED, error=str(exc)))
    try:
        again = bool(set(_operator_keys(settings)) & {r.casefold() for r in resend})
        operator = deliver_operator(rows, settings, results, dry_run=dry_run, password=password, resend=again)
    except MailError as exc:
        operator = DeliveryResult(operator_key(settings.operator_email or ""), DeliveryOutcome.FAILED, error=str(exc))
    if operator is not None:
        results.append(operator)
    return results


def deliveries(settings: Settings, week_key: str) -> list[tuple[str, DeliveryStatus, int]]:
    """(recipient, status, attempts) of a week's ledger rows."""
    with database(settings)() as session:
        return [(d.recipient, d.status, d.attempts) for d in stored.deliveries(session, week_key)]


@dataclass(frozen=True)
class Unsettled:
    """A delivery only an operator can settle: uncertain, or left `sending` by a dead run."""

    week_key: str
    recipient: str
    message_id: str | None
    attempts: int
    reason: str

    def resend_command(self, digest_range: DigestRange | None = None) -> str:
        """The command that sends it again (the range's options when it is that range)."""
        if digest_range is not None and digest_range.delivery_key == self.week_key:
            where = f"--week {self.week_key}" if digest_range.iso_week else f"--start {digest_range.start} --end {digest_range.end}"
        elif WEEK_KEY.match(self.week_key):
            where = f"--week {self.week_key}"
        else:  # a custom range: its key is a hash of its dates
            where = f"--start YYYY-MM-DD --end YYYY-MM-DD (the range keyed {self.week_key})"
        return f"bantin digest {where} --send --resend {self.recipient}"

    def describe(self) -> str:
        return f"{self.week_key} {self.recipient}: uncertain, Message-ID {self.message_id}, {self.attempts} attempt(s): {self.reason}"


WEEK_KEY = re.compile(r"^\d{4}-W\d{2}$")


def unsettled_deliveries(settings: Settings, now: dt.datetime | None = None) -> list[Unsettled]:
    """Every week's deliveries whose fate is open (read only: a row left `sending` is
    reported here, and recorded uncertain by the next send of its week)."""
    now = now or dt.datetime.now(dt.UTC)
    stale_after = sending_stale_after(settings.smtp.timeout_s)
    found = []
    with database(settings)() as session:
        for row in stored.unsettled_deliveries(session):
            if row.status == DeliveryStatus.UNCERTAIN:
                reason = row.last_error or "uncertain"
            else:
                left = left_behind(row.claimed_by, row.claimed_at, now, stale_after)
                if left is None:
                    continue  # a live run is sending it now
                reason = f"{left}: the message may or may not have reached the server"
            found.append(Unsettled(row.week, row.recipient, row.message_id, row.attempts, reason))
    return found


# ---- the whole job ----------------------------------------------------------------------

RESEND_ALL = "all-uncertain"


def check_parameters(
    places: Sequence[str], send: bool, dry_run: bool, resend: Sequence[str] = (), explicit_range: bool = True
) -> None:
    if places and (send or dry_run):
        # Each subscriber's own list decides what they receive; a partial digest must not
        # count as the week's delivery.
        raise DigestUsageError("--district cannot be combined with --send/--dry-run: subscribers' districts apply")
    if resend:
        if not send or dry_run:
            raise DigestUsageError("--resend needs --send (and no --dry-run): it sends mail")
        if not explicit_range:
            # The default week moves every Monday: a resend must name the week it re-sends.
            raise DigestUsageError("--resend needs the week (--week) or range (--start/--end) of the uncertain delivery")
        if RESEND_ALL in resend and len(resend) > 1:
            raise DigestUsageError(f"--resend {RESEND_ALL} already names every uncertain delivery: give it alone")
    for name in places:
        try:
            resolve_places([name])
        except UnknownPlaceError as exc:
            raise DigestUsageError(f"--district {name!r}: {exc}") from None


class DigestOptions(TypedDict, total=False):
    """What a digest run is asked for (the CLI's options, the flow's parameters)."""

    week: str | None  # "2024-W27"; default the last complete week
    start: dt.date | str | None  # or a range of local dates
    end: dt.date | str | None
    districts: Sequence[str]  # places only (not with send/dry_run)
    send: bool
    dry_run: bool
    out_dir: Path | None  # instead of the archive
    subscribers: Sequence[Subscriber] | None  # instead of settings.subscribers_file
    password: SecretStr | None  # the SMTP password from a Prefect Secret block
    resend: Sequence[str]  # addresses, or "all-uncertain"


@dataclass(frozen=True)
class CheckedInputs:
    """What a digest run reads, validated before it writes anything."""

    digest_range: DigestRange
    subscribers: list[Subscriber]


def check_inputs(settings: Settings, **options: Unpack[DigestOptions]) -> CheckedInputs:
    """Parameters, subscribers file, mail settings and every folder the run writes in,
    checked before anything is written (database, archive, outbox). Raises
    DigestUsageError, WeekError, SubscribersError or SettingsError, each naming the
    option, file (with line and field) or variable."""
    week, start, end = options.get("week"), options.get("start"), options.get("end")
    districts, send, dry_run = options.get("districts", ()), options.get("send", False), options.get("dry_run", False)
    out_dir, password, resend = options.get("out_dir"), options.get("password"), options.get("resend", ())
    subscribers = options.get("subscribers")
    check_parameters(districts, send, dry_run, resend, explicit_range=bool(week or start or end))
    digest_range = resolve_range(week, start, end, timezone=settings.timezone)
    people: list[Subscriber] = []
    if send or dry_run:
        people = list(subscribers) if subscribers is not None else load_subscribers(settings.subscribers_file)
        check_mail_settings(settings.smtp, password)
        check_reader_settings(settings)
        known = {p.email.casefold() for p in people} | set(_operator_keys(settings))
        for address in resend:
            if address != RESEND_ALL and address.casefold() not in known:
                raise DigestUsageError(
                    f"--resend {address}: not a subscriber in {settings.subscribers_file} (give an address listed there, or {RESEND_ALL})"
                )
    folders: list[tuple[str, Path]] = [
        ("--out", out_dir) if out_dir is not None else ("BANTIN_DATA_DIR (the digest archive)", settings.archive_dir)
    ]
    if dry_run:
        folders.append(("BANTIN_DATA_DIR (the outbox)", settings.outbox_dir / "dry-run"))
    elif send and not settings.smtp.host:
        folders.append(("BANTIN_DATA_DIR (the outbox)", settings.outbox_dir))
    database_file = sqlite_path(settings.resolved_database_url)
    if database_file is not None:
        variable = "BANTIN_DATABASE_URL" if settings.database_url else "BANTIN_DATA_DIR (the database)"
        folders.append((variable, database_file.parent))
    for name, folder in folders:
        problem = folder_problem(folder)
        if problem:
            message = f"{name}: {folder}: {problem}"
            if name == "--out":
                raise DigestUsageError(message)
            raise SettingsError(message)
    return CheckedInputs(digest_range, people)


def check_reader_settings(settings: Settings) -> None:
    """BANTIN_OPERATOR_EMAIL and BANTIN_ARCHIVE_URL as mail can use them (SettingsError)."""
    problems = []
    if settings.operator_email:
        try:
            smtp_address(settings.operator_email)
        except ValueError as exc:
            problems.append(f"BANTIN_OPERATOR_EMAIL={settings.operator_email!r}: {exc}")
    if settings.archive_url and not settings.archive_url.startswith(("https://", "http://")):
        problems.append(f"BANTIN_ARCHIVE_URL={settings.archive_url!r}: expected the http(s) URL the archive folder is served at")
    if problems:
        raise SettingsError("; ".join(problems))


def _operator_keys(settings: Settings) -> list[str]:
    return [operator_key(smtp_address(settings.operator_email)).casefold()] if settings.operator_email else []


def resend_targets(
    settings: Settings, digest_range: DigestRange, subscribers: Sequence[Subscriber], resend: Sequence[str], now: dt.datetime | None = None
) -> set[str]:
    """The subscribers' addresses whose delivery of the range `resend` asks to send again:
    `all-uncertain`, or addresses whose delivery is uncertain (or left `sending` by a dead
    run), or not sent yet (sent normally anyway). Raises DigestUsageError for an address
    whose mail went out (sent, outbox) or that a live run is sending now."""
    if not resend:
        return set()
    open_ = {u.recipient.casefold() for u in unsettled_deliveries(settings, now) if u.week_key == digest_range.delivery_key}
    by_address = {s.email.casefold(): s.email for s in subscribers}
    by_address |= {key: key for key in _operator_keys(settings)}
    if RESEND_ALL in resend:
        return {email for folded, email in by_address.items() if folded in open_}
    with database(settings)() as session:
        rows = {row.recipient.casefold(): row for row in stored.deliveries(session, digest_range.delivery_key)}
    targets = set()
    for address in resend:
        folded = address.casefold()
        row = rows.get(folded)
        if row is not None and row.status in (DeliveryStatus.SENT, DeliveryStatus.OUTBOX):
            raise DigestUsageError(
                f"--resend {address}: its {digest_range.label} delivery is {row.status.value} "
                f"(Message-ID {row.message_id}): nothing uncertain to re-send"
            )
        if row is not None and row.status == DeliveryStatus.SENDING and folded not in open_:
            raise DigestUsageError(f"--resend {address}: a live run ({row.claimed_by}) is sending it now")
        targets.add(by_address[folded])
    return targets


def run_digest(settings: Settings, **options: Unpack[DigestOptions]) -> DigestRun:
    """Select, render and archive the digest; with `send` or `dry_run`, deliver it to the
    subscribers (from `settings.subscribers_file` unless given); `resend` (addresses, or
    `all-uncertain`) also sends those whose delivery of the range is uncertain.

    Everything read is checked first (check_inputs): a bad input writes nothing. The run
    ends with every week's unsettled deliveries (`DigestRun.unsettled`)."""
    districts, send, dry_run = options.get("districts", ()), options.get("send", False), options.get("dry_run", False)
    out_dir, password, resend = options.get("out_dir"), options.get("password"), options.get("resend", ())
    checked = check_inputs(settings, **options)
    targets = resend_targets(settings, checked.digest_range, checked.subscribers, resend)
    rows = load_range(settings, checked.digest_range)
    digest = digest_for(rows, settings, districts)
    run = DigestRun(digest, archive(digest, settings, out_dir), digest_range=checked.digest_range)
    if send or dry_run:
        run.deliveries = deliver_all(rows, settings, checked.subscribers, dry_run=dry_run, password=password, resend=targets)
    run.unsettled = unsettled_deliveries(settings)
    return run
