"""`bantin demo` (the README's `make demo`): the whole product offline, in one command.

Offline crawl of every fixture portal → extraction → one digest spanning the seeds'
publication dates → its HTML and the subscribers' .eml messages. A fresh SQLite
database (var/demo.sqlite3) each time, so re-running works. The steps call the plain
pipeline functions, not the Prefect flows: a flow run needs a Prefect API, and starting
the ephemeral one takes 40 s or more on a busy laptop (docs/digest.md).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer


def demo_command(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the demo writes (default var/demo; database var/demo.sqlite3).")] = None,
) -> None:
    """Crawl the offline fixture portals, extract meetings, build and 'mail' the digest (to .eml files)."""
    import asyncio

    from bantin.settings import PROJECT_ROOT, Settings, SmtpSettings

    started = time.perf_counter()
    var = PROJECT_ROOT / "var"
    data = data_dir or var / "demo"
    database = (data.parent if data_dir is None else data) / "demo.sqlite3"
    _fresh(data, database)
    settings = Settings.from_env(
        data_dir=data,
        database_url=f"sqlite:///{database}",
        offline=True,
        smtp=SmtpSettings(),  # never real mail from the demo: messages go to the outbox
    )
    typer.echo(f"bantin demo: fresh database {database}")

    # 1. Crawl
    from bantin.jobs.crawl import crawl_sources
    from bantin.sources import load_sources

    step = time.perf_counter()
    sources = load_sources(settings.sources_file)
    typer.echo(f"[1/3] crawling {len(sources)} fixture portals offline ...")

    def portal_done(report: Any) -> None:
        typer.echo(f"      {_describe_report(report)}")

    _run_id, reports = asyncio.run(crawl_sources(sources, settings, offline=True, on_portal_done=portal_done))
    typer.echo(f"      done in {time.perf_counter() - step:.1f} s")

    # 2. Extract
    step = time.perf_counter()
    typer.echo("[2/3] extracting meeting records ...")
    done, meetings = _extract_all(settings)
    typer.echo(f"      {done} articles read, {meetings} meetings, in {time.perf_counter() - step:.1f} s")

    # 3. Digest
    from bantin.digest.mail import load_subscribers
    from bantin.jobs.digest import run_digest

    step = time.perf_counter()
    start, end = _seed_span(PROJECT_ROOT / "seeds" / "manifest.yaml", settings.timezone)
    typer.echo(f"[3/3] digest of {start} .. {end} (the seeds' publication dates) ...")
    subscribers = load_subscribers(PROJECT_ROOT / "deploy" / "subscribers.example.yaml")
    run = run_digest(settings, start=start, end=end, send=True, subscribers=subscribers)
    digest = run.digest
    for d in digest.districts:
        typer.echo(f"      {d.name}: {_count(len(d.meetings), "meeting")}, {_count(d.shortfall_count, "shortfall")}, {_count(d.directive_count, "directive")}")
    typer.echo(f"      done in {time.perf_counter() - step:.1f} s")
    typer.echo("")
    size = run.archived.html_path.stat().st_size
    typer.echo(f"HTML digest: {run.archived.html_path} ({size:,} bytes)")
    typer.echo(f"Text digest: {run.archived.text_path}")
    typer.echo(f"Archive:     {run.archived.html_path.parent / 'index.html'} (feed.xml beside it)")
    for result in run.deliveries:
        typer.echo(f"Mail:        {result.path or result.describe()}")
    typer.echo(f"Total: {time.perf_counter() - started:.1f} s")


def _fresh(data: Path, database: Path) -> None:
    import shutil

    shutil.rmtree(data, ignore_errors=True)
    for suffix in ("", "-wal", "-shm", ".migrate-lock"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    data.mkdir(parents=True, exist_ok=True)


def _describe_report(report: Any) -> str:
    text = f"{report.portal_id}: {report.new_articles} new articles, {report.duplicates} duplicates"
    if report.errors:
        text += f", {len(report.errors)} errors ({report.errors[0]})"
    return text + f" ({report.duration_s:.1f} s)"


def _extract_all(settings: Any) -> tuple[int, int]:
    """What the extract-new flow does, without Prefect: every article with no record by
    the current extractor, through the same job (bantin/jobs/extract.py)."""
    from bantin.jobs.extract import extract_stored, pending_articles

    counts = extract_stored(settings, pending_articles(settings))
    for error in counts["errors"]:
        typer.echo(f"      {error}", err=True)
    return int(counts["articles"]), int(counts["meetings"])


def _seed_span(manifest: Path, timezone: str) -> tuple[str, str]:
    """First and last local publication dates of the seeds in seeds/manifest.yaml."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import yaml

    seeds = yaml.safe_load(manifest.read_text(encoding="utf-8"))["seeds"]
    zone = ZoneInfo(timezone)
    dates = sorted(dt.datetime.fromisoformat(str(s["published_at"])).astimezone(zone).date() for s in seeds)
    return dates[0].isoformat(), dates[-1].isoformat()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
