"""The weekly digest as a Prefect flow: select → archive → one SMTP task per subscriber.

Run name "digest 2024-W27"; a markdown artifact lists the counts per district and the
deliveries. The mail task retries; the delivery ledger (digest_deliveries) keeps each
(week, recipient) to one message across retries and re-runs. Inputs (subscribers file,
settings, folders) are checked before anything is written. A delivery left uncertain
(data sent, no answer; or a run died while sending) is never retried: it is logged as an
error, listed first in the artifact with the command that re-sends it, and the run ends
Failed (UncertainDeliveries) so that it is seen.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from bantin.digest.archive import ArchivedDigest
from bantin.digest.delivery import DeliveryOutcome, DeliveryResult
from bantin.digest.mail import Subscriber
from bantin.digest.model import DigestWeek
from bantin.digest.selection import DigestRange, resolve_range
from bantin.jobs.digest import (
    RangeRows,
    Unsettled,
    archive,
    check_inputs,
    deliver_one,
    deliver_operator,
    digest_for,
    load_range,
    unsettled_deliveries,
)
from bantin.settings import Settings
from flows.naming import flags
from flows.params import DelaySeconds, Districts, Retries, Week
from flows.preflight import preflight
from flows.secrets import smtp_password

SMTP_RETRIES = 3
SMTP_RETRY_DELAYS_S: list[float] = [30, 120, 600]


class UncertainDeliveries(RuntimeError):
    """The run ends Failed: a delivery of its range needs an operator (uncertain)."""


def _run_name() -> str:
    """'digest 2024-W27', 'digest 2024-W27 Hàm Yên send': the range, then what else differs."""
    params = flow_run.parameters
    try:
        digest_range = resolve_range(params.get("week"), params.get("start"), params.get("end"))
    except ValueError:
        return "digest (bad parameters)"
    districts = ",".join(params.get("districts") or [])
    return " ".join(
        [f"digest {digest_range.label}", *([districts] if districts else []), *flags(params, send="send", dry_run="dry-run")]
    )


@task(name="load digest rows", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_rows(week: str | None, start: dt.date | None, end: dt.date | None) -> RangeRows:
    # Tasks read the settings themselves: a Settings parameter would be stored on the server.
    settings = Settings.from_env()
    return load_range(settings, resolve_range(week, start, end, timezone=settings.timezone))


@task(name="archive digest", cache_policy=NO_CACHE)
def archive_digest(rows: RangeRows, districts: list[str]) -> tuple[DigestWeek, ArchivedDigest]:
    settings = Settings.from_env()
    digest = digest_for(rows, settings, districts)
    return digest, archive(digest, settings)


@task(name="mail digest", retries=SMTP_RETRIES, retry_delay_seconds=SMTP_RETRY_DELAYS_S, cache_policy=NO_CACHE)
def mail_digest(rows: RangeRows, subscriber: Subscriber, dry_run: bool) -> DeliveryResult:
    # A failure is recorded in the ledger before it is raised; the retry claims the row again.
    settings = Settings.from_env()
    password = None if dry_run or not settings.smtp.host else smtp_password(settings.smtp)
    return deliver_one(rows, settings, subscriber, dry_run=dry_run, password=password)


@task(name="mail operator report", retries=SMTP_RETRIES, retry_delay_seconds=SMTP_RETRY_DELAYS_S, cache_policy=NO_CACHE)
def mail_operator(rows: RangeRows, results: list[DeliveryResult], dry_run: bool) -> DeliveryResult | None:
    # The week's portal health and delivery outcomes, to BANTIN_OPERATOR_EMAIL (None when unset).
    settings = Settings.from_env()
    password = None if dry_run or not settings.smtp.host else smtp_password(settings.smtp)
    return deliver_operator(rows, settings, results, dry_run=dry_run, password=password)


def _artifact(
    digest: DigestWeek,
    archived: ArchivedDigest,
    deliveries: list[DeliveryResult],
    unsettled: list[Unsettled] | None = None,
    digest_range: DigestRange | None = None,
) -> str:
    lines = [f"# Digest {digest.label} ({digest.start} – {digest.end})", ""]
    if unsettled:
        lines += [
            f"## ⚠ {len(unsettled)} uncertain deliver{'y' if len(unsettled) == 1 else 'ies'}: needs an operator",
            "",
            "The SMTP server may have delivered these (the message data went out, no answer came back, or a run "
            "died while sending): they are **not re-sent automatically**. Look for the Message-ID in the server's "
            "log; if it is not there, send it again with the command shown.",
            "",
            "| week | recipient | Message-ID | what happened | re-send with |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {u.week_key} | {u.recipient} | `{u.message_id}` | {u.reason.replace('|', '/')} | `{u.resend_command(digest_range)}` |"
            for u in unsettled
        ]
        lines.append("")
    lines += [f"HTML: `{archived.html_path}`", ""]
    lines += ["| district | meetings | shortfalls | directives |", "|---|---:|---:|---:|"]
    lines += [f"| {d.name} | {len(d.meetings)} | {d.shortfall_count} | {d.directive_count} |" for d in digest.districts]
    if not digest.districts:
        lines.append("| (no meetings) | 0 | 0 | 0 |")
    if deliveries:
        lines += ["", "| recipient | status | detail |", "|---|---|---|"]
        lines += [f"| {r.recipient} | {r.status} | {r.error or r.path or r.message_id or ''} |" for r in deliveries]
    return "\n".join(lines)


@flow(name="weekly-digest", flow_run_name=_run_name, log_prints=True)
def weekly_digest(
    week: Week = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    districts: Districts = None,
    send: bool = False,
    dry_run: bool = False,
    smtp_retries: Retries = SMTP_RETRIES,
    smtp_retry_delay_s: DelaySeconds = None,
) -> dict[str, object]:
    """Build and archive the digest of a week; with `send`, mail each subscriber their places, once.

    The run starts with the preflight (database, data folder; with send or dry_run also the
    subscribers — the Prefect Variable bantin_subscribers when it exists, else the file —
    and the SMTP server, contacted without sending).

    Args:
        week: ISO week, e.g. 2024-W27; empty: the last complete week in Asia/Ho_Chi_Minh.
        start: First day (YYYY-MM-DD) of a custom range instead of a week; needs end.
        end: Last day (YYYY-MM-DD, inclusive) of a custom range.
        districts: Only these places, e.g. ["Hàm Yên"] (a legacy district, a 2025 commune/ward or a province); empty: all.
        send: Mail each subscriber once (the Monday schedule sets it); a manual run archives only.
        dry_run: Build every subscriber's message into outbox/dry-run without sending or recording.
        smtp_retries: Retries of a mail that failed before the server had it.
        smtp_retry_delay_s: Seconds between those retries; empty: 30 s, 2 min, 10 min.
    """
    logger = get_run_logger()
    settings = Settings.from_env()
    mails = send or dry_run
    checks = ("subscribers", "smtp", "database", "data folder") if mails else ("database", "data folder")
    ready = preflight(*checks)
    # Subscribers, mail settings, folders: all checked before anything is written.
    checked = check_inputs(
        settings,
        week=week,
        start=start,
        end=end,
        districts=districts or (),
        send=send,
        dry_run=dry_run,
        subscribers=ready.subscribers,
    )
    rows = load_rows(week, start, end)
    digest, archived = archive_digest(rows, districts or [])
    logger.info("%s: %d meetings, written to %s", digest.label, digest.meeting_count, archived.html_path)
    results: list[DeliveryResult] = []
    if send or dry_run:
        subscribers = checked.subscribers
        mailer = mail_digest.with_options(
            retries=smtp_retries,
            retry_delay_seconds=SMTP_RETRY_DELAYS_S if smtp_retry_delay_s is None else smtp_retry_delay_s,
        )
        futures = [mailer.submit(rows, s, dry_run) for s in subscribers]
        for subscriber, future in zip(subscribers, futures, strict=True):
            state = future.wait() or future.state
            if state.is_completed():
                results.append(future.result())
            else:  # retries exhausted: recorded as failed in the ledger, retried next run
                results.append(DeliveryResult(subscriber.email, DeliveryOutcome.FAILED, error=str(state.message)))
        operator = mail_operator.with_options(retries=smtp_retries)(rows, list(results), dry_run, return_state=True)
        if operator.is_completed():
            if (report := operator.result()) is not None:
                results.append(report)
        else:  # recorded in the ledger like a reader's mail; the readers' mail went out
            logger.error("operator report not mailed: %s", operator.message)
    for r in results:
        if r.needs_operator:
            logger.error("mail %s", r.describe())
        else:
            logger.info("mail %s", r.describe())
    unsettled = unsettled_deliveries(settings)
    for u in unsettled:
        logger.error("uncertain delivery, not re-sent automatically: %s; re-send with: %s", u.describe(), u.resend_command(checked.digest_range))
    create_markdown_artifact(
        key="weekly-digest",
        markdown=_artifact(digest, archived, results, unsettled, checked.digest_range),
        description=f"digest {digest.label}",
    )
    mine = [u for u in unsettled if u.week_key == checked.digest_range.delivery_key]
    if mine:
        raise UncertainDeliveries(
            f"{len(mine)} deliver{'y' if len(mine) == 1 else 'ies'} of {digest.label} uncertain "
            f"({', '.join(u.recipient for u in mine)}): see the artifact; after checking the SMTP server's log: "
            f"{mine[0].resend_command(checked.digest_range).rsplit(' ', 1)[0]} all-uncertain"
        )
    return {
        "label": digest.label,
        "meetings": digest.meeting_count,
        "html": str(archived.html_path),
        "text": str(archived.text_path),
        "deliveries": [r.describe() for r in results],
    }
