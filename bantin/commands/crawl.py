"""`bantin crawl`: fetch new articles from the portals of deploy/sources.yaml.

Runs the same pipeline as the Prefect flow (bantin.crawl.crawl_portal per portal, via bantin.jobs.crawl), in
this process and without a Prefect server, with a progress bar and a per-portal table.

Exit codes: 0 every portal crawled; 1 some portal had errors (recorded in the fetch log,
retried next run) or failed (no article link, or only empty bodies: the portal's layout is
not understood); 2 bad configuration or usage (nothing was fetched).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bantin.commands.options import MaxPages, Offline, SourceIds

if TYPE_CHECKING:
    from rich.console import Console

    from bantin.crawl import PortalReport
    from bantin.settings import Settings
    from bantin.sources import Source

EXIT_PORTAL_ERRORS = 1
EXIT_BAD_CONFIG = 2


def crawl_command(
    offline: Offline = False,
    source: SourceIds = None,
    max_pages: MaxPages = None,
    sources_file: Annotated[
        Path | None, typer.Option("--sources-file", help="Sources registry (default deploy/sources.yaml, BANTIN_SOURCES).")
    ] = None,
) -> None:
    """Crawl the district portals: new articles, deduplicated, stored with their raw page."""
    from rich.console import Console

    from bantin.jobs.crawl import DatabaseLost
    from bantin.settings import Settings
    from bantin.sources import SourcesError, load_sources

    console = Console(stderr=True)
    settings = Settings.from_env()
    if sources_file is not None:
        settings = settings.model_copy(update={"sources_file": sources_file})
    if offline:
        settings = settings.model_copy(update={"offline": True})
    try:
        sources = load_sources(settings.sources_file, only=source or None)
    except SourcesError as exc:
        console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_CONFIG) from None
    if not sources:
        console.print(f"[bold red]error:[/] no enabled source in {settings.sources_file}")
        raise typer.Exit(EXIT_BAD_CONFIG)

    try:
        run_id, reports = crawl_with_progress(settings, sources, max_pages, console)
    except DatabaseLost as exc:
        console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_PORTAL_ERRORS) from None
    print_reports(run_id, reports, offline=settings.offline)
    if any(r.errors for r in reports):
        raise typer.Exit(EXIT_PORTAL_ERRORS)


def crawl_with_progress(
    settings: Settings, sources: list[Source], max_pages: int | None, console: Console
) -> tuple[int, list[PortalReport]]:
    """The crawl job with a progress bar and one line per portal on `console`."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bantin.jobs.crawl import crawl_sources

    with Progress(
        TextColumn("[bold]crawl[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        bar = progress.add_task("portals", total=len(sources))

        def done(report: PortalReport) -> None:
            state = f"[red]FAILED: {report.failed}[/]" if report.failed else "[red]errors[/]" if report.errors else "ok"
            progress.console.print(
                f"{report.portal_id}: {report.new_articles} new, {report.duplicates} duplicates, {state}"
            )
            progress.advance(bar)

        return asyncio.run(
            crawl_sources(sources, settings, offline=settings.offline, max_pages=max_pages, on_portal_done=done)
        )


def print_reports(run_id: int, reports: list[PortalReport], *, offline: bool) -> None:
    """The per-portal table, on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"crawl run {run_id}" + (" (offline)" if offline else ""))
    for column in ("portal", "listing req.", "304", "articles fetched", "new", "duplicates", "retrying", "errors", "notes"):
        table.add_column(column, justify="left" if column in ("portal", "notes") else "right")
    for r in reports:
        notes = "; ".join(r.errors[:1] + r.warnings[:1])[:120]
        table.add_row(
            r.portal_id,
            str(r.listing_requests),
            str(r.not_modified),
            str(r.article_requests),
            str(r.new_articles),
            str(r.duplicates),
            str(r.retrying),
            str(len(r.errors)),
            notes,
        )
    Console().print(table)
