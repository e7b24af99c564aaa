"""One subscriber's message and what became of it (the ledger is bantin.jobs.digest's)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from bantin.digest.mail import Subscriber, build_message, default_unsubscribe
from bantin.digest.render import RenderedDigest
from bantin.settings import Settings


class DeliveryOutcome(enum.StrEnum):
    SENT = "sent"  # handed to the SMTP server
    OUTBOX = "outbox"  # written as a .eml file (no SMTP host)
    FAILED = "failed"  # recorded; the next run tries again
    ALREADY_SENT = "already-sent"  # the ledger says it went out (or another run holds it)
    DRY_RUN = "dry-run"  # written to outbox/dry-run, ledger untouched


@dataclass(frozen=True)
class DeliveryResult:
    recipient: str
    status: DeliveryOutcome
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


def message_for(settings: Settings, rendered: RenderedDigest, subscriber: Subscriber, message_id: str) -> EmailMessage:
    return build_message(
        rendered,
        sender=settings.smtp.sender,
        recipient=subscriber,
        message_id=message_id,
        unsubscribe=unsubscribe_target(settings),
    )
