"""One subscriber's message and what became of it (the ledger is bantin.jobs.digest's)."""

from __future__ import annotations

import datetime as dt
import enum
import os
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from bantin.digest.mail import Subscriber, build_message, default_unsubscribe
from bantin.digest.render import RenderedDigest
from bantin.settings import Settings


class DeliveryOutcome(enum.StrEnum):
    SENT = "sent"  # handed to the SMTP server (its 250 after the data)
    OUTBOX = "outbox"  # written as a .eml file (no SMTP host)
    FAILED = "failed"  # refused before the server had the message; recorded, the next run tries again
    # The data went out and no answer came back, or a run died while sending: the reader may
    # have it. Not re-sent automatically; `bantin digest --send --resend` does. Needs an operator.
    UNCERTAIN = "uncertain"
    IN_PROGRESS = "in-progress"  # another live run holds the row and is sending it now
    ALREADY_SENT = "already-sent"  # the ledger says it went out (sent or outbox)
    DRY_RUN = "dry-run"  # written to outbox/dry-run, ledger untouched
    # No meeting in the subscriber's places and no `empty_weeks: true`: no mail (recorded).
    NOTHING_TO_SEND = "nothing-to-send"


@dataclass(frozen=True)
class DeliveryResult:
    recipient: str
    status: DeliveryOutcome
    message_id: str | None = None
    path: Path | None = None  # the .eml file (outbox or dry run)
    error: str | None = None
    attempts: int = 0
    resent: bool = False  # an uncertain delivery sent again on request (--resend)

    @property
    def needs_operator(self) -> bool:
        """Only a person can tell whether the reader got it (the server's log)."""
        return self.status == DeliveryOutcome.UNCERTAIN

    def describe(self) -> str:
        where = f" → {self.path}" if self.path else ""
        again = " (re-sent on request)" if self.resent else ""
        if self.status == DeliveryOutcome.UNCERTAIN:
            return (
                f"{self.recipient}: uncertain, Message-ID {self.message_id}: {self.error} "
                "— not re-sent automatically"
            )
        if self.status == DeliveryOutcome.NOTHING_TO_SEND:
            return f"{self.recipient}: nothing to send (no meeting in their places; `empty_weeks: true` mails such weeks)"
        error = f": {self.error}" if self.error else ""
        return f"{self.recipient}: {self.status}{again}{where}{error}"


# ---- who holds a row "sending" ------------------------------------------------------------

# A send holds its claim for connect + about ten commands, each bounded by the SMTP timeout.
MIN_SENDING_STALE_AFTER = dt.timedelta(minutes=5)


def claimant() -> str:
    """This process, as a delivery claim records it: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def sending_stale_after(timeout_s: float) -> dt.timedelta:
    """How long a claim may stay `sending` before its run is taken for dead."""
    return max(MIN_SENDING_STALE_AFTER, dt.timedelta(seconds=10 * timeout_s))


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, under another user
        return False
    return False


def left_behind(
    claimed_by: str | None, claimed_at: dt.datetime | None, now: dt.datetime, stale_after: dt.timedelta
) -> str | None:
    """Why a row still `sending` belongs to a run that is gone (None: a live run may be
    sending it now). Gone: claimed before claims were recorded, longer ago than
    `stale_after`, or by a process of this host that no longer exists."""
    who = claimed_by or "a run"
    if claimed_at is None:
        return f"left 'sending' by {who} (claim time unknown)"
    since = f"claimed {claimed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    if now - claimed_at > stale_after:
        minutes = int((now - claimed_at).total_seconds() // 60)
        return f"left 'sending' by {who} ({since}, {minutes} min ago, longer than any send takes)"
    host, _, pid = (claimed_by or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and _process_gone(int(pid)):
        return f"left 'sending' by {who} ({since}; that process is gone)"
    return None


def unsubscribe_target(settings: Settings) -> str:
    return settings.smtp.list_unsubscribe or default_unsubscribe(settings.smtp.sender)


def message_for(settings: Settings, rendered: RenderedDigest, subscriber: Subscriber, message_id: str) -> EmailMessage:
    return build_message(
        rendered,
        sender=settings.smtp.sender,
        recipient=subscriber,
        message_id=message_id,
        unsubscribe=unsubscribe_target(settings),
        timezone=settings.timezone,
    )
