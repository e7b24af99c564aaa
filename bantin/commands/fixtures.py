"""`bantin fixtures ...`: the offline fixture portals (docs/fixtures.md)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Offline copies of the district portals, for crawls without internet.", no_args_is_help=True)


@app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="TCP port to listen on")] = 8765,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="inject a fault: [HOST]PATH=KIND[:ARG][@N]; KIND is 500, 503, 429, slow, reset, truncate, "
            "wrong_charset, redirect_loop or oversized; @N fails only the first N requests. Repeatable.",
        ),
    ] = None,
) -> None:
    """Serve every fixture portal on one port, chosen by the Host header."""
    import uvicorn

    from bantin.fixtures.app import create_app
    from bantin.fixtures.faults import FaultPlan, FaultSpecError

    try:
        plan = FaultPlan.parse(fault or [])
    except FaultSpecError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    fixture_app = create_app(faults=plan)
    typer.echo(f"Fixture portals on http://{host}:{port}/ (chosen by Host header):")
    for portal in fixture_app.portals.values():
        typer.echo(f"  {portal.host:<38} {portal.family:<11} {portal.listing_url(portal.listings[0])}")
    for f in plan.faults:
        scope = f.host or "any host"
        typer.echo(f"  fault: {f.kind}{':' + f.arg if f.arg else ''} on {scope} {f.path}" + (f" (first {f.times} requests)" if f.times else ""))
    first = next(iter(fixture_app.portals.values()))
    typer.echo(f"Try: curl -s -H 'Host: {first.host}' http://{host}:{port}{first.listings[0].path}")
    typer.echo(f"Crawl through it: BANTIN_OFFLINE=1 BANTIN_FIXTURES_URL=http://{host}:{port} bantin crawl")
    # server_header=False: the portal's own Server header (nginx, IIS) is the only one.
    uvicorn.run(fixture_app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1, server_header=False)


@app.command("list")
def list_command() -> None:
    """List the fixture portals and their articles (seeds marked with *)."""
    from bantin.fixtures.portals import load_portals

    for portal in load_portals():
        typer.echo(f"{portal.id} ({portal.family}) {portal.base_url}  {len(portal.articles)} articles")
        for article in sorted(portal.articles, key=lambda a: a.published_at, reverse=True):
            mark = "*" if article.seed_file else " "
            typer.echo(f"  {mark} {article.published_at:%Y-%m-%d} {portal.url(article.path)}")
