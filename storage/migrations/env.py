"""Alembic environment for bantin.

Used two ways:
- from code (storage.session.upgrade): the caller puts an open Connection in
  `config.attributes["connection"]`;
- from the alembic CLI (`alembic -c storage/alembic.ini -x url=... ...`): the URL is
  `-x url=...` (storage takes a URL and reads no settings; `bantin db upgrade` is the
  usual way, and finds the URL in bantin's settings).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Connection

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import storage.models (models change, old revisions must not):
    # render our TypeDecorators as their plain implementation type.
    if type_ == "type" and isinstance(obj, sa_types.TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("alembic: give the database as -x url=DATABASE_URL (or run `bantin db upgrade`)")
    return str(url)


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from storage.session import make_engine

    engine = make_engine(_cli_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_cli_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
