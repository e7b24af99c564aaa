"""`bantin sources probe URL`: see how bantin reads a portal before adding it to deploy/sources.yaml.

Fetches one listing page and its first articles politely (robots.txt obeyed, one request
per second), prints the article links and next page found, then per article the title,
date, first and last sentence and any warning, and a ready YAML entry (no `family`: it is
recognised from the pages). Adding a real portal is then: probe, paste, crawl.

A portal whose host resolves to a loopback, private or link-local address is refused, as the
crawl refuses it, unless `--private-network` is given (the entry printed then carries
`private_network: true`).

Exit codes: 0 links and article text found; 1 the portal is not understood (no link, or
only empty bodies) or unreachable; 2 bad usage.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The portals registry: try a portal before adding it.", no_args_is_help=True)


@app.command("probe")
def probe_command(
    url: Annotated[str, typer.Argument(help="A listing page of the portal (its news category).")],
    articles: Annotated[int, typer.Option("--articles", "-n", min=1, max=10, help="Article pages to fetch.")] = 3,
    private_network: Annotated[
        bool,
        typer.Option(
            "--private-network",
            help="Allow a portal on a loopback/private address (an intranet server); refused otherwise.",
        ),
    ] = False,
) -> None:
    """Fetch a listing page and its first articles; print what bantin finds and a YAML entry."""
    import asyncio
    from urllib.parse import urlsplit

    from rich.console import Console

    from bantin.probe import probe
    from bantin.settings import Settings

    console = Console(highlight=False)
    if urlsplit(url).scheme not in ("http", "https"):
        console.print(f"[red]error:[/] not an http(s) URL: {url}")
        raise typer.Exit(2)
    result = asyncio.run(probe(url, Settings.from_env().fetch, articles=articles, private_network=private_network))
    if result.error:
        console.print(f"[red]error:[/] {result.error}")
        raise typer.Exit(1)
    console.print(f"[bold]family[/]: {result.family or 'unknown (generic parsing)'} — {result.family_reason}")
    console.print(f"[bold]{len(result.links)} article links[/]")
    for link in result.links:
        console.print(f"  {link}", soft_wrap=True)
    console.print(f"[bold]next page[/]: {result.next_url or 'none found (a page/2/ is probed when crawling)'}")
    for item in result.articles:
        console.print(f"\n[bold]{item.url}[/]", soft_wrap=True)
        if item.parsed is None:
            console.print(f"  [red]fetch failed:[/] {item.error}")
            continue
        parsed = item.parsed
        console.print(f"  title: {parsed.title or '[red](none)[/]'}")
        console.print(f"  date:  {parsed.published_at.isoformat() if parsed.published_at else '(none)'}")
        if parsed.notice:
            console.print(f"  notice: {', '.join(parsed.attachments) or 'document link without address'}")
        else:
            console.print(f"  first: {item.first_sentence[:200]}")
            console.print(f"  last:  {item.last_sentence[-200:]}")
        for warning in parsed.warnings:
            console.print(f"  [yellow]warning:[/] {warning}")
    console.print("\n[bold]deploy/sources.yaml entry[/] (fill in the TODOs):")
    console.print(result.yaml_entry(), markup=False)
    if not result.ok:
        console.print("[red]this portal is not understood: no article link or no article text[/]")
        raise typer.Exit(1)
