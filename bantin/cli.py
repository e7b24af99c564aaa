"""The `bantin` command. Subcommands live in bantin/commands/, one module per job;
heavy imports stay inside the commands so `bantin --help` answers at once."""

from __future__ import annotations

import typer

from bantin.commands import check, crawl, db, demo, digest, extract, fixtures, run, sources

app = typer.Typer(
    help="bantin: crawl Vietnamese district party-committee portals, extract meeting "
    "records (shortfalls, directives) and mail a weekly digest per district.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(db.app, name="db")
app.add_typer(fixtures.app, name="fixtures")
app.add_typer(sources.app, name="sources")
app.command("check")(check.check_command)
app.command("crawl")(crawl.crawl_command)
app.command("extract")(extract.extract_command)
app.command("digest")(digest.digest_command)
app.command("run")(run.run_command)
app.command("demo")(demo.demo_command)



def main() -> None:
    """The console script: a setting bantin cannot use ends in exit 2 naming the variable."""
    from bantin.settings import SettingsError

    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: bad setting: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
