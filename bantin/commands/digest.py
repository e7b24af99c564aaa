"""`bantin digest`: the weekly digest of meetings, shortfalls and directives per district."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def digest_command(
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2024-W27 (default: the last complete week in Vietnam's time, BANTIN_TIMEZONE).")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD) of a custom range; needs --end.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day (YYYY-MM-DD, inclusive) of a custom range.")] = None,
    district: Annotated[list[str] | None, typer.Option("--district", help="Only this district (repeatable); names or slugs, e.g. 'Vĩnh Linh' or vinh-linh.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Mail it to the subscribers (BANTIN_SUBSCRIBERS, default deploy/subscribers.yaml), each once.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build every subscriber's message into outbox/dry-run without sending or recording anything.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML/text digest here instead of the archive (var/digests).")] = None,
) -> None:
    """Build the digest (HTML + text, archived with index.html and feed.xml); optionally mail it.

    Without BANTIN_SMTP_HOST, mail goes to .eml files in the outbox (var/outbox)."""
    from bantin.digest.mail import SubscribersError
    from bantin.digest.selection import WeekError
    from bantin.jobs.digest import DigestUsageError, run_digest
    from bantin.settings import Settings

    settings = Settings.from_env()
    password = None
    if send and settings.smtp.host and not settings.smtp.password and settings.smtp.password_secret_block:
        from flows.secrets import smtp_password  # the password lives in a Prefect Secret block

        password = smtp_password(settings.smtp)
    try:
        run = run_digest(
            settings,
            week=week,
            start=start,
            end=end,
            districts=district or (),
            send=send,
            dry_run=dry_run,
            out_dir=out,
            password=password,
        )
    except (WeekError, DigestUsageError, SubscribersError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    digest = run.digest
    typer.echo(f"{digest.label}: {_count(digest.meeting_count, 'meeting')} in {_count(len(digest.districts), 'district')}")
    for d in digest.districts:
        typer.echo(f"  {d.name}: {_count(len(d.meetings), "meeting")}, {_count(d.shortfall_count, "shortfall")}, {_count(d.directive_count, "directive")}")
    typer.echo(f"html: {run.archived.html_path}")
    typer.echo(f"text: {run.archived.text_path}")
    for result in run.deliveries:
        typer.echo(f"mail: {result.describe()}")
    if any(r.status == "failed" for r in run.deliveries):
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
