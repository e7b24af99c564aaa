"""The preflight: is this machine ready to crawl, extract and mail? (`bantin check`, and
the first step of every deployed flow.)

    run_checks(settings, CHECKS)            every check, in order; nothing written, no mail

The checks that need no database are bantin.preflight's; this module adds the database
and its migrations (bantin.jobs.db), read without upgrading anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from bantin.digest.mail import Subscriber
from bantin.jobs.db import revisions
from bantin.preflight import Check, Status, check_folder, check_smtp, check_sources, check_subscribers
from bantin.settings import Settings, SettingsError
from storage.session import sqlite_path

CHECKS = ("sources", "subscribers", "smtp", "database", "data folder")


def check_database(settings: Settings) -> Check:
    """Reachable, and its schema at this code's head (behind: upgraded on first use)."""
    variable = "BANTIN_DATABASE_URL" if settings.database_url else "BANTIN_DATA_DIR"
    try:
        path = sqlite_path(settings.resolved_database_url)
    except Exception as exc:  # an unparseable URL
        return Check("database", Status.FAIL, f"{variable}: {exc}", "give a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/bantin")
    if path is not None and not path.exists():
        return Check(
            "database", Status.WARN, f"no database yet at {path}: created on first use (or now: bantin db upgrade)"
        )
    try:
        found = revisions(settings)
    except SettingsError as exc:
        newer = "newer than this code" in str(exc)
        fix = "update this checkout (git pull; make sync): newer code upgraded the database" if newer else f"correct {variable}"
        return Check("database", Status.FAIL, str(exc), fix)
    except (SQLAlchemyError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return Check(
            "database",
            Status.FAIL,
            f"{variable}: cannot connect: {reason}",
            f"check that the database server runs and that {variable} is right (user, password, host, database)",
        )
    if found.up_to_date:
        return Check("database", Status.OK, f"{found.database}: schema at {found.after} (current)")
    state = "empty" if found.after is None else f"at {found.after}, this code's is {found.head}"
    return Check(
        "database",
        Status.WARN,
        f"{found.database}: schema {state}: migrations are applied on first use",
        "or apply them now: bantin db upgrade",
    )


def run_checks(
    settings: Settings,
    which: Iterable[str] = CHECKS,
    *,
    subscribers: list[Subscriber] | None = None,
    subscribers_origin: str | None = None,
    password: SecretStr | None = None,
    connect_smtp: bool = True,
    smtp_outage_is_warning: bool = False,
) -> list[Check]:
    """The checks named in `which`, in CHECKS order. `subscribers` read elsewhere (a Prefect
    Variable, named by `subscribers_origin`) replace the file's; `password` is the SMTP
    password of a Secret block; `smtp_outage_is_warning`: an SMTP server down for now only
    warns (a flow's mail tasks retry)."""
    wanted = set(which)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; known: {', '.join(CHECKS)}")
    found: list[Check] = []
    for name in CHECKS:
        if name not in wanted:
            continue
        if name == "sources":
            found.append(check_sources(settings.sources_file))
        elif name == "subscribers":
            found.append(check_subscribers(settings.subscribers_file, subscribers, subscribers_origin))
        elif name == "smtp":
            found.append(
                check_smtp(
                    settings.smtp, settings.outbox_dir, password, connect=connect_smtp, outage_is_warning=smtp_outage_is_warning
                )
            )
        elif name == "database":
            found.append(check_database(settings))
        else:
            found.append(check_folder("data folder", settings.data_dir))
    return found
