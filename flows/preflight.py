"""The preflight as the deployments run it: the first step of every flow (bantin.jobs.check).

Each flow checks what it needs (a crawl: sources, database, data folder; the digest with
`send`: subscribers and SMTP too) and fails at once with every problem and its fix, before
anything is fetched, written or mailed. Each check is one line of the run's log.

Subscribers may live in the Prefect Variable `bantin_subscribers` (the YAML of a
subscribers file as its value) instead of a file on each worker; when it exists, it wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from bantin.digest.mail import Subscriber, SubscribersError
from bantin.jobs.check import run_checks
from bantin.preflight import Check, Status, load_subscribers_text, raise_on_failure
from bantin.settings import Settings

SUBSCRIBERS_VARIABLE = "bantin_subscribers"


def subscribers_from_variable() -> tuple[list[Subscriber], str] | None:
    """The subscribers of the Prefect Variable `bantin_subscribers`, or None when it does not
    exist. SubscribersError (naming the Variable, line and field) when they are invalid."""
    from prefect.variables import Variable

    value = Variable.get(SUBSCRIBERS_VARIABLE, default=None)
    if value is None:
        return None
    origin = f"Prefect Variable {SUBSCRIBERS_VARIABLE}"
    text = value if isinstance(value, str) else yaml.safe_dump(value, allow_unicode=True)
    return load_subscribers_text(text, origin), origin


@dataclass
class Preflight:
    checks: list[Check]
    subscribers: list[Subscriber] | None = None  # from the Variable; None: the file's
    notes: list[str] = field(default_factory=list)


def preflight(*which: str) -> Preflight:
    """Run the named checks (bantin.jobs.check.CHECKS), log each, raise PreflightFailed
    (every failed check with its fix) when one fails."""
    from prefect import get_run_logger

    logger = get_run_logger()
    settings = Settings.from_env()
    subscribers = origin = None
    failed_early: list[Check] = []
    if "subscribers" in which:
        try:
            found = subscribers_from_variable()
        except SubscribersError as exc:
            failed_early.append(
                Check("subscribers", Status.FAIL, str(exc), f"correct the Prefect Variable {SUBSCRIBERS_VARIABLE} (docs/prefect.md)")
            )
            found = None
        if found is not None:
            subscribers, origin = found
    password = None
    if "smtp" in which and settings.smtp.host and not settings.smtp.password and settings.smtp.password_secret_block:
        from flows.secrets import smtp_password

        password = smtp_password(settings.smtp)
    rest = [name for name in which if not (name == "subscribers" and failed_early)]
    # An SMTP server down for now only warns: the mail tasks retry over 12 minutes.
    checks = failed_early + run_checks(
        settings, rest, subscribers=subscribers, subscribers_origin=origin, password=password, smtp_outage_is_warning=True
    )
    for check in checks:
        (logger.error if check.failed else logger.warning if check.status is Status.WARN else logger.info)(
            "preflight %s", check.line()
        )
    raise_on_failure(checks)
    return Preflight(checks, subscribers)
