"""`bantin extract`: meeting records, of files (JSON lines, the gold shape) or of stored articles.

    bantin extract PATH...                           one JSON line per file, nothing stored
    bantin extract --stored [--since D] [--source ID] [--again]
                                                     the stored articles without a record of
                                                     this extractor version, saved (what the
                                                     extract-new flow does, without Prefect)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

STORED_BATCH = 200  # articles per transaction (the flows' batch size)


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        typer.echo(f"bantin extract: {option} {value!r} is not a date YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None


def extract_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="article files: .txt (cleaned text) or .html (a page); not with --stored")
    ] = None,
    district: Annotated[str | None, typer.Option(help="the portal's district (default: seeds/manifest.yaml, else the text)")] = None,
    province: Annotated[str | None, typer.Option(help="the portal's province (default: as for --district)")] = None,
    published: Annotated[str | None, typer.Option(help="publication date YYYY-MM-DD (dates meetings whose year the text omits)")] = None,
    stored: Annotated[
        bool, typer.Option("--stored", help="Extract the stored articles (crawled) that have no record of this extractor version; saved in the database.")
    ] = False,
    since: Annotated[str | None, typer.Option("--since", help="With --stored: only articles published on or after this day (YYYY-MM-DD).")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="With --stored: only this source's articles (repeatable).")
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="With --stored: re-parse the stored pages and replace every record, whatever its version (after an extractor change).")
    ] = False,
) -> None:
    """Extract meeting records: of files (one JSON line each), or of the stored articles (--stored)."""
    if stored:
        if paths:
            typer.echo("bantin extract: give files or --stored, not both", err=True)
            raise typer.Exit(2)
        counts = extract_stored_articles(_date("--since", since), source or None, again=again)
        if counts["errors"]:
            raise typer.Exit(1)
        return
    if since or source or again:
        typer.echo("bantin extract: --since, --source and --again go with --stored", err=True)
        raise typer.Exit(2)
    if not paths:
        typer.echo("bantin extract: give article files, or --stored for the crawled articles", err=True)
        raise typer.Exit(2)
    extract_files(paths, district, province, _date("--published", published))


def extract_files(paths: list[Path], district: str | None, province: str | None, published_date: dt.date | None) -> None:
    import json

    from bantin.extract import extract_meeting
    from bantin.extract.inputs import portal_of, read_article

    missing = [p for p in paths if not p.is_file()]
    if missing:
        for p in missing:
            typer.echo(f"bantin extract: {p}: no such file", err=True)
        raise typer.Exit(2)
    for path in paths:
        article = read_article(path)
        portal = portal_of(path) if not (district and province and published_date) else None
        record = extract_meeting(
            article.text,
            district=district or (portal.district if portal else None),
            province=province or (portal.province if portal else None),
            published=published_date or article.published or (portal.published if portal else None),
            title=article.title,
        )
        record.source = str(path)
        typer.echo(json.dumps(record.model_dump(mode="json"), ensure_ascii=False))


def extract_stored_articles(since: dt.date | None, sources: list[str] | None, *, again: bool = False) -> dict[str, Any]:
    """Extract (and save) the stored articles to do, with a progress bar; returns the counts.
    Shared by `bantin run`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bantin.extract import EXTRACTOR_VERSION
    from bantin.jobs.extract import extract_stored, pending_articles
    from bantin.settings import Settings
    from bantin.sources import SourcesError, load_sources

    console = Console(stderr=True)
    settings = Settings.from_env()
    if sources:
        try:
            load_sources(settings.sources_file, only=sources)  # an unknown id is bad input, not "nothing to do"
        except SourcesError as exc:
            console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(2) from None
    ids = pending_articles(settings, since=since, force=again, portal_ids=sources)
    total: dict[str, Any] = {"articles": 0, "meetings": 0, "reparsed": 0, "errors": []}
    with Progress(
        TextColumn("[bold]extract[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        bar = progress.add_task("articles", total=len(ids))
        for i in range(0, len(ids), STORED_BATCH):
            batch = ids[i : i + STORED_BATCH]
            counts = extract_stored(settings, batch, from_snapshots=again)
            for key in ("articles", "meetings", "reparsed"):
                total[key] += counts[key]
            total["errors"].extend(counts["errors"])
            for error in counts["errors"]:
                progress.console.print(f"[red]error:[/] {error}", markup=True, highlight=False)
            progress.advance(bar, len(batch))
    scope = ", ".join(
        part
        for part in (f"published since {since}" if since else "", f"of {', '.join(sources)}" if sources else "")
        if part
    )
    typer.echo(
        f"extracted {total['articles']} stored article{'s' if total['articles'] != 1 else ''}"
        f"{' (' + scope + ')' if scope else ''}: {total['meetings']} meetings, {len(total['errors'])} errors "
        f"(extractor {EXTRACTOR_VERSION})"
    )
    return total
