"""`bantin digest`: the weekly digest of meetings, shortfalls and directives per district."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Exit status: 0 ok, 1 some delivery failed (recorded, retried by the next run), 2 bad
# input (nothing written), 3 a delivery of this range is uncertain (only an operator can
# tell whether the reader got it; see --resend).
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNCERTAIN = 1, 2, 3

RESEND_HELP = (
    "Send again a delivery of this --week (or --start/--end) recorded [bold]uncertain[/bold]: the message data "
    "reached the SMTP server but its answer never came (connection lost, timeout, odd reply), or a run died while "
    "sending. Such a delivery is never re-sent automatically (the reader may have it: a resend can mean two copies); "
    "check the server's log for its Message-ID first. EMAIL: one subscriber (repeatable); 'all-uncertain': every "
    "uncertain delivery of the range. Needs --send; the copy carries the same Message-ID. An address whose mail went "
    "out (sent, outbox) is refused."
)


def digest_command(
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2024-W27 (default: the last complete week in Asia/Ho_Chi_Minh).")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD) of a custom range; needs --end.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day (YYYY-MM-DD, inclusive) of a custom range.")] = None,
    district: Annotated[list[str] | None, typer.Option("--district", help="Only this district (repeatable); names or slugs, e.g. 'Vĩnh Linh' or vinh-linh.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Mail it to the subscribers (BANTIN_SUBSCRIBERS, default deploy/subscribers.yaml), each once.")] = False,
    resend: Annotated[list[str] | None, typer.Option("--resend", metavar="EMAIL|all-uncertain", help=RESEND_HELP)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build every subscriber's message into outbox/dry-run without sending or recording anything.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML/text digest here instead of the archive (var/digests).")] = None,
) -> None:
    """Build the digest (HTML + text, archived with index.html and feed.xml); optionally mail it.

    Without BANTIN_SMTP_HOST, mail goes to .eml files in the outbox (var/outbox).
    Exit status: 0 ok; 1 a delivery failed (recorded; the next run retries it); 2 bad input
    (an option, the subscribers file, a setting, a folder that cannot be written: nothing is
    written); 3 a delivery of this range is uncertain (not re-sent automatically; see --resend)."""
    from bantin.digest.mail import SubscribersError
    from bantin.digest.selection import WeekError
    from bantin.jobs.digest import DigestUsageError, run_digest
    from bantin.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        password = None
        if send and settings.smtp.host and not settings.smtp.password and settings.smtp.password_secret_block:
            from flows.secrets import smtp_password  # the password lives in a Prefect Secret block

            password = smtp_password(settings.smtp)
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
            resend=resend or (),
        )
    except (WeekError, DigestUsageError, SubscribersError, SettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    digest = run.digest
    typer.echo(f"{digest.label}: {_count(digest.meeting_count, 'meeting')} in {_count(len(digest.districts), 'district')}")
    for d in digest.districts:
        typer.echo(f"  {d.name}: {_count(len(d.meetings), "meeting")}, {_count(d.shortfall_count, "shortfall")}, {_count(d.directive_count, "directive")}")
    typer.echo(f"html: {run.archived.html_path}")
    typer.echo(f"text: {run.archived.text_path}")
    for result in run.deliveries:
        typer.echo(f"mail: {result.describe()}")
    if run.unsettled:
        one = len(run.unsettled) == 1
        typer.echo(
            f"attention: {_count(len(run.unsettled), 'delivery')} uncertain: the SMTP server may have delivered "
            f"{'it' if one else 'them'}, so {'it is' if one else 'they are'} not re-sent automatically. Look for "
            "the Message-ID in the server's log; if it is not there, send it again:",
            err=True,
        )
        for unsettled in run.unsettled:
            typer.echo(f"  {unsettled.describe()}", err=True)
            typer.echo(f"    {unsettled.resend_command(run.digest_range)}", err=True)
    if run.attention:
        raise typer.Exit(EXIT_UNCERTAIN)
    if any(r.status == "failed" for r in run.deliveries):
        raise typer.Exit(EXIT_FAILED)


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:] != "ey" else noun + "s"
    return f"{n} {noun if n == 1 else plural}"
