"""Exactly-once delivery of a digest to each subscriber, recorded in digest_deliveries.

For each (week key, recipient): claim the row (pending/failed → sending, attempts + 1),
send, then mark it sent (or "outbox" when written as a .eml file for lack of an SMTP
host). A failed send marks the row failed with the error; the next run claims and sends
it again. A row already sent or delivered to the outbox is never claimed again, so a
re-run sends nothing new. A crash between sending and marking leaves the row "sending":
it is not retried automatically (at most once; see docs/digest.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.orm import Session

from bantin.digest.mail import (
    MailError,
    Subscriber,
    build_message,
    default_unsubscribe,
    new_message_id,
    send_smtp,
    smtp_password,
    write_eml,
)
from bantin.digest.render import RenderedDigest
from bantin.settings import Settings
from storage import digests as ledger

OUTBOX = "outbox"


@dataclass(frozen=True)
class DeliveryResult:
    recipient: str
    status: str  # sent, outbox, failed, already-sent, dry-run
    message_id: str | None = None
    path: Path | None = None  # the .eml file (outbox or dry run)
    error: str | None = None
    attempts: int = 0

    def describe(self) -> str:
        where = f" → {self.path}" if self.path else ""
        error = f": {self.error}" if self.error else ""
        return f"{self.recipient}: {self.status}{where}{error}"


def unsubscribe_target(settings: Settings) -> str:
    return settings.smtp.list_unsubscribe or default_unsubscribe(settings.smtp.sender)


def _message(settings: Settings, rendered: RenderedDigest, subscriber: Subscriber, message_id: str) -> EmailMessage:
    return build_message(
        rendered,
        sender=settings.smtp.sender,
        recipient=subscriber,
        message_id=message_id,
        unsubscribe=unsubscribe_target(settings),
    )


def deliver(
    session: Session,
    settings: Settings,
    week_key: str,
    subscriber: Subscriber,
    rendered: RenderedDigest,
    *,
    dry_run: bool = False,
    password: str | None = None,
    label: str | None = None,
) -> DeliveryResult:
    """Send `rendered` to `subscriber` unless the ledger says it went out already.

    `week_key` keys the ledger; `label` (default: the key) names the .eml files.

    Raises MailError after recording the failure, so a caller with retries (the Prefect
    task) retries; the row stays claimable.
    """
    if dry_run:
        # No ledger change, no mail: the message lands in outbox/dry-run for inspection.
        message = _message(settings, rendered, subscriber, new_message_id(settings.smtp.sender))
        path = write_eml(settings.outbox_dir / "dry-run", label or week_key, subscriber.email, message)
        return DeliveryResult(subscriber.email, "dry-run", message["Message-ID"], path)
    claimed = ledger.claim_delivery(session, week_key, subscriber.email, new_message_id(settings.smtp.sender))
    if claimed is None:
        return DeliveryResult(subscriber.email, "already-sent")
    message_id = claimed.message_id or new_message_id(settings.smtp.sender)
    try:
        message = _message(settings, rendered, subscriber, message_id)
        if settings.smtp.host:
            send_smtp(settings.smtp, message, password if password is not None else smtp_password(settings.smtp))
            ledger.mark_sent(session, claimed.id, message_id)
            return DeliveryResult(subscriber.email, "sent", message_id, attempts=claimed.attempts)
        path = write_eml(settings.outbox_dir, label or week_key, subscriber.email, message)
        ledger.mark_sent(session, claimed.id, message_id, status=OUTBOX)
        return DeliveryResult(subscriber.email, OUTBOX, message_id, path, attempts=claimed.attempts)
    except MailError as exc:
        ledger.mark_failed(session, claimed.id, str(exc))
        raise
    except Exception as exc:
        # Anything else (a header the policy refuses, ...) must not leave the row "sending".
        ledger.mark_failed(session, claimed.id, f"{type(exc).__name__}: {exc}")
        raise MailError(f"{subscriber.email}: {type(exc).__name__}: {exc}") from exc
