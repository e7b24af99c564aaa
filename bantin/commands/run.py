"""`bantin run`: the whole pipeline without Prefect: preflight → crawl → extract → digest.

    bantin run                          crawl every enabled portal, extract the new articles
    bantin run --digest                 ... then archive the digest of the last complete week
    bantin run --week 2024-W27 --send   ... then the digest of that week, mailed to the subscribers
    bantin run --offline -s ham-yen     the fixture portals; one portal

The same jobs as the deployments (bantin/jobs), in this process, with a progress bar per
step. Exit status: 0 every step worked; 1 a portal had errors or an article failed to
extract (the other steps ran all the same), or a delivery failed; 2 the preflight or an
option said no (nothing fetched or written); 3 a delivery is uncertain (`bantin digest --help`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from bantin.commands.options import MaxPages, Offline, SourceIds

EXIT_ERRORS, EXIT_BAD_INPUT = 1, 2


def run_command(
    offline: Offline = False,
    source: SourceIds = None,
    max_pages: MaxPages = None,
    digest: Annotated[bool, typer.Option("--digest", help="Then build the digest (default week: the last complete one).")] = False,
    week: Annotated[str | None, typer.Option("--week", help="Then build the digest of this ISO week, e.g. 2024-W27.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Then build the digest and mail it to the subscribers, each once.")] = False,
) -> None:
    """Crawl, extract the new articles' meeting records, optionally build and mail the digest."""
    from rich.console import Console

    from bantin.commands.crawl import crawl_with_progress, print_reports
    from bantin.commands.extract import extract_stored_articles
    from bantin.jobs.check import run_checks
    from bantin.jobs.crawl import DatabaseLost
    from bantin.settings import Settings
    from bantin.sources import SourcesError, load_sources

    console = Console(stderr=True)
    settings = Settings.from_env()
    if offline:
        settings = settings.model_copy(update={"offline": True})
    with_digest = digest or send or week is not None
    steps = 3 if with_digest else 2

    if week is not None:
        from bantin.digest.selection import WeekError, resolve_range

        try:
            resolve_range(week, None, None, timezone=settings.timezone)
        except (WeekError, ValueError) as exc:
            typer.echo(f"error: --week {week}: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    checks = ["sources", "database", "data folder"] + (["subscribers", "smtp"] if send else [])
    # A mail server down for now does not stop the crawl: the delivery says so at the end.
    failed = [c for c in run_checks(settings, checks, connect_smtp=send, smtp_outage_is_warning=True) if c.failed]
    if failed:
        for c in failed:
            typer.echo(f"error: {c.line()}", err=True)
        typer.echo("nothing was fetched: fix the above (`bantin check` says the same)", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        sources = load_sources(settings.sources_file, only=source or None)
    except SourcesError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    typer.echo(f"[1/{steps}] crawl: {len(sources)} portal{'s' if len(sources) != 1 else ''}{' (offline)' if settings.offline else ''}")
    try:
        run_id, reports = crawl_with_progress(settings, sources, max_pages, console)
    except DatabaseLost as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_ERRORS) from None
    print_reports(run_id, reports, offline=settings.offline)
    crawl_errors = [r.portal_id for r in reports if r.errors]

    typer.echo(f"[2/{steps}] extract: the new articles")
    counts = extract_stored_articles(None, None)

    status = EXIT_ERRORS if crawl_errors or counts["errors"] else 0
    if with_digest:
        from bantin.commands.digest import digest_command

        typer.echo(f"[3/{steps}] digest{' ' + week if week else ''}{' (mailed)' if send else ''}")
        try:
            digest_command(week=week, start=None, end=None, district=None, send=send, resend=None, dry_run=False, out=None)
        except typer.Exit as exc:
            status = max(status, exc.exit_code)
    if crawl_errors:
        typer.echo(f"portals with errors (retried next run): {', '.join(crawl_errors)}", err=True)
    if status:
        raise typer.Exit(status)
