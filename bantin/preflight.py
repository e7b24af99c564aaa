"""The preflight's checks that need no database: sources, subscribers, SMTP, folders.

Each check answers a `Check`: ok, warn (works, but worth knowing) or fail, what was found,
and for a problem the fix in the operator's words. `bantin check` prints them; the
deployments run the ones they need before anything else (bantin.jobs.check adds the
database). No check writes anything or sends mail: the SMTP check connects, says EHLO
(STARTTLS and login when configured) and quits.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import SecretStr

from bantin.digest.archive import folder_problem
from bantin.digest.mail import Subscriber, SubscribersError, check_mail_settings, load_subscribers
from bantin.settings import SettingsError, SmtpSettings
from bantin.sources import SourcesError, load_sources

EXAMPLE_SUBSCRIBERS = "deploy/subscribers.example.yaml"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def line(self) -> str:
        text = f"{self.name}: {self.status.value}: {self.detail}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class PreflightFailed(RuntimeError):
    """A check failed: the message lists each failed check with its fix."""

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks
        failed = [c for c in checks if c.failed]
        super().__init__("preflight failed:\n" + "\n".join(c.line() for c in failed))


def raise_on_failure(checks: list[Check]) -> list[Check]:
    if any(c.failed for c in checks):
        raise PreflightFailed(checks)
    return checks


def check_sources(path: Path) -> Check:
    try:
        every = load_sources(path, include_disabled=True)
    except SourcesError as exc:
        return Check("sources", Status.FAIL, str(exc), f"correct {path} at the line named (docs/crawl.md)")
    enabled = [s for s in every if s.enabled]
    if not enabled:
        return Check("sources", Status.FAIL, f"{path}: no enabled source", f"set `enabled: true` on a source of {path}")
    return Check("sources", Status.OK, f"{len(enabled)} portals enabled (of {len(every)}) in {path}")


def load_subscribers_text(text: str, origin: str) -> list[Subscriber]:
    """Subscribers from YAML text (a Prefect Variable's value); errors name `origin`."""
    with tempfile.TemporaryDirectory(prefix="bantin-subscribers-") as folder:
        path = Path(folder) / "subscribers.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_subscribers(path)
        except SubscribersError as exc:
            raise SubscribersError(str(exc).replace(str(path), origin)) from None


def check_subscribers(path: Path, people: list[Subscriber] | None = None, origin: str | None = None) -> Check:
    """The subscribers file (or, with `people`, subscribers read from `origin`)."""
    if people is None:
        if not path.exists():
            return Check(
                "subscribers",
                Status.FAIL,
                f"{path}: no such file",
                f"cp {EXAMPLE_SUBSCRIBERS} {path} and edit it (git-ignored), or set BANTIN_SUBSCRIBERS to your "
                "file, or (on Prefect) store them in the Prefect Variable bantin_subscribers (docs/prefect.md)",
            )
        try:
            people = load_subscribers(path)
        except SubscribersError as exc:
            return Check("subscribers", Status.FAIL, str(exc), f"correct {path} at the line named (docs/digest.md)")
        origin = str(path)
    if not people:
        return Check("subscribers", Status.WARN, f"{origin}: no subscriber: nobody gets the digest")
    return Check("subscribers", Status.OK, f"{len(people)} subscriber{'s' if len(people) != 1 else ''} in {origin}")


def _smtp_fix(exc: BaseException, smtp: SmtpSettings) -> str:
    where = f"BANTIN_SMTP_HOST={smtp.host} BANTIN_SMTP_PORT={smtp.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "check BANTIN_SMTP_USER and the password (BANTIN_SMTP_PASSWORD, or the Secret block named by BANTIN_SMTP_SECRET_BLOCK)"
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return (
            f"check BANTIN_SMTP_SECURITY={smtp.security} (starttls on port 587, ssl on 465, none for a local relay) "
            "and BANTIN_SMTP_CA_FILE for a private CA"
        )
    if isinstance(exc, socket.gaierror):
        return f"{smtp.host} is not a known host name: check BANTIN_SMTP_HOST"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing listens at {smtp.host}:{smtp.port}: check {where} and that the mail server runs"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {smtp.timeout_s:g} s: check {where} and the firewall"
    return f"check {where} and BANTIN_SMTP_SECURITY={smtp.security}"


def smtp_hello(smtp: SmtpSettings, password: SecretStr | None = None) -> str:
    """Connect, EHLO, STARTTLS / login as configured, QUIT; returns the server's EHLO line."""
    assert smtp.host
    context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
    security = smtp.security.lower()
    client: smtplib.SMTP
    if security == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    try:
        code, answer = client.ehlo()
        if code != 250:
            raise smtplib.SMTPHeloError(code, answer)
        if security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        secret = password or smtp.password
        if smtp.username and secret is not None:
            client.login(smtp.username, secret.get_secret_value())
        return answer.decode("utf-8", "replace").splitlines()[0]
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _permanent(exc: BaseException) -> bool:
    """A refusal that trying again later cannot change (credentials, TLS, a host name that
    does not exist), as opposed to a server that is down or unreachable for now."""
    return isinstance(
        exc, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError | smtplib.SMTPHeloError | ssl.SSLError | socket.gaierror
    )


def check_smtp(
    smtp: SmtpSettings, outbox: Path, password: SecretStr | None = None, connect: bool = True, outage_is_warning: bool = False
) -> Check:
    """The mail settings, and with a host the server's hello. `outage_is_warning`: a server
    down or unreachable is a warning, not a failure (a flow's mail tasks retry over minutes);
    a refusal that retrying cannot change (login, TLS, unknown host) fails all the same."""
    try:
        check_mail_settings(smtp, password)
    except SettingsError as exc:
        return Check("smtp", Status.FAIL, str(exc), "correct the variable named (docs/digest.md)")
    if not smtp.host:
        return Check(
            "smtp", Status.WARN, f"no BANTIN_SMTP_HOST: messages are written as .eml files in {outbox}, not mailed"
        )
    if smtp.username and (password or smtp.password) is None:
        return Check(
            "smtp",
            Status.FAIL,
            f"BANTIN_SMTP_USER={smtp.username} but no password",
            "set BANTIN_SMTP_PASSWORD in the worker's environment, or BANTIN_SMTP_SECRET_BLOCK to a Prefect Secret block",
        )
    if not connect:
        return Check("smtp", Status.OK, f"{smtp.host}:{smtp.port} ({smtp.security}), not contacted")
    try:
        hello = smtp_hello(smtp, password)
    except (OSError, smtplib.SMTPException) as exc:
        what = f"{type(exc).__name__}: {exc}".strip()
        status = Status.WARN if outage_is_warning and not _permanent(exc) else Status.FAIL
        later = "; the mail tasks retry it" if status is Status.WARN else ""
        return Check("smtp", status, f"{smtp.host}:{smtp.port} ({smtp.security}): {what}{later}", _smtp_fix(exc, smtp))
    login = f", logged in as {smtp.username}" if smtp.username else ""
    return Check("smtp", Status.OK, f"{smtp.host}:{smtp.port} ({smtp.security}) answers: {hello}{login}; no mail sent")


def check_folder(name: str, folder: Path, variable: str = "BANTIN_DATA_DIR") -> Check:
    problem = folder_problem(folder)
    if problem:
        return Check(name, Status.FAIL, f"{folder}: {problem}", f"make {folder} writable, or point {variable} elsewhere")
    state = "writable" if folder.exists() else "will be created (its parent is writable)"
    return Check(name, Status.OK, f"{folder} {state}")
