"""`bantin db ...`: the database schema (Alembic migrations in storage/migrations/)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The database: bring its schema up to date, or show which revision it is at. "
    "The database is BANTIN_DATABASE_URL (e.g. postgresql+psycopg://user@host/bantin) or, "
    "when unset, SQLite at BANTIN_DATA_DIR/bantin.sqlite3 (default var/bantin.sqlite3). "
    "Other commands upgrade automatically on first use; these are for operators.",
    no_args_is_help=True,
)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Alembic revision to upgrade to."),
) -> None:
    """Apply pending migrations (to the newest schema by default). Harmless to repeat."""
    from bantin.jobs.db import revisions
    from bantin.settings import Settings

    found = revisions(Settings.from_env(), upgrade_to=revision)
    if found.before == found.after:
        typer.echo(f"{found.database}: already at {found.after}")
    else:
        typer.echo(f"{found.database}: upgraded {found.before or '(empty)'} -> {found.after}")


@app.command("current")
def current_command() -> None:
    """Show the database's schema revision and the newest one this code knows.

    Exits with status 1 when the database is behind (migrations pending)."""
    from bantin.jobs.db import revisions
    from bantin.settings import Settings

    found = revisions(Settings.from_env())
    state = "up to date" if found.up_to_date else "migrations pending: run `bantin db upgrade`"
    typer.echo(f"database: {found.database}")
    typer.echo(f"current:  {found.after or '(empty: no schema yet)'}")
    typer.echo(f"head:     {found.head}  ({state})")
    if not found.up_to_date:
        raise typer.Exit(1)
