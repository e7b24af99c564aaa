"""`bantin extract PATH...`: meeting records as JSON lines (the gold shape)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer


def extract_command(
    paths: Annotated[list[Path], typer.Argument(help="article files: .txt (cleaned text) or .html (a page)")],
    district: Annotated[str | None, typer.Option(help="the portal's district (default: seeds/manifest.yaml, else the text)")] = None,
    province: Annotated[str | None, typer.Option(help="the portal's province (default: as for --district)")] = None,
    published: Annotated[str | None, typer.Option(help="publication date YYYY-MM-DD (dates meetings whose year the text omits)")] = None,
) -> None:
    """Extract one meeting record per article and print it as one JSON line."""
    import json

    from bantin.extract import extract_meeting
    from bantin.extract.inputs import portal_of, read_article

    published_date: dt.date | None = None
    if published:
        try:
            published_date = dt.date.fromisoformat(published)
        except ValueError:
            typer.echo(f"bantin extract: --published {published!r} is not a date YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
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
