"""`bantin check`: the preflight. Is this machine ready to crawl, extract and mail?

Checks, in order, each answered ok, warn or FAIL with the fix:

  sources      deploy/sources.yaml (BANTIN_SOURCES) reads, and enables a portal
  subscribers  deploy/subscribers.yaml (BANTIN_SUBSCRIBERS); with --prefect, the Prefect
               Variable bantin_subscribers instead when it exists (as the deployments do)
  smtp         the mail settings; with BANTIN_SMTP_HOST: connect, EHLO (STARTTLS, login
               as configured), QUIT: no mail is sent
  database     BANTIN_DATABASE_URL (or SQLite in the data folder) answers; its migrations
  data folder  BANTIN_DATA_DIR is writable

Nothing is written. Exit status: 0 nothing failed (warnings allowed), 1 a check failed,
2 bad usage or a setting bantin cannot read. The deployments run the same checks first
(the ones their flow needs) and fail with the same message.
"""

from __future__ import annotations

from typing import Annotated

import typer

EXIT_FAILED = 1


def check_command(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this check (repeatable): sources, subscribers, smtp, database, data-folder."),
    ] = None,
    no_connect: Annotated[
        bool, typer.Option("--no-connect", help="Check the SMTP settings without connecting to the server.")
    ] = False,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect",
            help="Read the subscribers as the deployments do: the Prefect Variable bantin_subscribers when it exists (PREFECT_API_URL).",
        ),
    ] = False,
) -> None:
    """Check sources, subscribers, SMTP, database and data folder; say how to fix each problem."""
    from bantin.jobs.check import CHECKS, run_checks
    from bantin.preflight import Status
    from bantin.settings import Settings

    settings = Settings.from_env()
    which = [name.replace("-", " ") for name in only] if only else list(CHECKS)
    unknown = [name for name in which if name not in CHECKS]
    if unknown:
        typer.echo(f"error: --only {unknown[0]!r}: expected one of {', '.join(c.replace(' ', '-') for c in CHECKS)}", err=True)
        raise typer.Exit(2)
    subscribers = origin = None
    password = None
    if "subscribers" in which and prefect:
        from flows.preflight import subscribers_from_variable

        found = subscribers_from_variable()
        if found is not None:
            subscribers, origin = found
    if "smtp" in which and settings.smtp.host and not settings.smtp.password and settings.smtp.password_secret_block:
        from flows.secrets import smtp_password  # the password lives in a Prefect Secret block

        password = smtp_password(settings.smtp)
    checks = run_checks(
        settings, which, subscribers=subscribers, subscribers_origin=origin, password=password, connect_smtp=not no_connect
    )
    width = max(len(c.name) for c in checks)
    for c in checks:
        colour = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}[c.status]
        typer.echo(f"{typer.style(f'{c.status.value:<4}', fg=colour, bold=c.failed)}  {c.name:<{width}}  {c.detail}")
        if c.fix:
            typer.echo(f"      {'':<{width}}  fix: {c.fix}")
    failed = [c for c in checks if c.failed]
    if failed:
        typer.echo(
            f"{len(failed)} problem{'s' if len(failed) > 1 else ''} ({', '.join(c.name for c in failed)}): "
            "the runs that need it fail until it is fixed",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)
