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


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Alembic revision to upgrade to."),
) -> None:
    """Apply pending migrations (to the newest schema by default). Harmless to repeat."""
    from bantin.settings import Settings
    from storage.session import current_revision, make_engine, upgrade

    settings = Settings.from_env()
    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        typer.echo(f"{_describe(url)}: already at {after}")
    else:
        typer.echo(f"{_describe(url)}: upgraded {before or '(empty)'} -> {after}")


@app.command("current")
def current_command() -> None:
    """Show the database's schema revision and the newest one this code knows.

    Exits with status 1 when the database is behind (migrations pending)."""
    from bantin.settings import Settings
    from storage.session import current_revision, head_revision, make_engine

    settings = Settings.from_env()
    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if current == head else "migrations pending: run `bantin db upgrade`"
    typer.echo(f"database: {_describe(url)}")
    typer.echo(f"current:  {current or '(empty: no schema yet)'}")
    typer.echo(f"head:     {head}  ({state})")
    if current != head:
        raise typer.Exit(1)
