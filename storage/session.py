"""Engines, sessions and schema upgrades.

    factory = session_factory(url)           # upgrades the schema once per process per URL
    with factory.begin() as session:         # commits on success, rolls back on error
        insert_articles(session, [...])

SQLite (the default, a file in `settings.data_dir`) runs in WAL mode with foreign keys
on and a busy timeout, so a crawl, an extraction and a `bantin db current` may share it.
PostgreSQL URLs go through psycopg 3; `postgresql://...` URLs are taken to mean psycopg.
Which URL to use is the caller's business (bantin's settings): this package takes a URL
and imports nothing from bantin.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

STORAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = STORAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = STORAGE_DIR / "migrations"

SQLITE_BUSY_TIMEOUT_S = 30.0
# Any constant will do: it only has to be the same in every bantin process.
_PG_MIGRATION_LOCK_KEY = 0x62616E74696E  # "bantin"


class DatabaseUrlError(ValueError):
    """The database URL names a backend bantin does not support."""


class SchemaNewerError(RuntimeError):
    """The database is at a schema revision this code does not know (a newer bantin made it)."""

    def __init__(self, current: str, head: str | None) -> None:
        super().__init__(
            f"the database is at schema revision {current!r}, which this code does not know "
            f"(its newest is {head!r}): use the newer bantin that wrote it, or another database"
        )
        self.current, self.head = current, head


def normalise_url(url: str | URL) -> URL:
    """Parse `url`, mapping plain PostgreSQL URLs to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise DatabaseUrlError(
            f"database URL {parsed.render_as_string(hide_password=True)!r}: bantin supports "
            "sqlite:///PATH and postgresql+psycopg://USER@HOST/DB only"
        )
    return parsed


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers do not block the writer, so a digest can read while a crawl writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite; ON DELETE CASCADE needs it
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An Engine for `url`, configured for bantin (see the module docstring).

    For a SQLite file the folder is created when missing. Extra keyword arguments go to
    `sqlalchemy.create_engine`.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        # Prefect runs tasks in worker threads: a pooled connection may change threads.
        connect_args.setdefault("check_same_thread", False)
        path = sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            # One shared connection, else every checkout would see a new empty database.
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def alembic_config() -> Config:
    """Alembic's configuration, with paths that do not depend on the working directory."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _sqlite_file_lock(path: Path) -> Iterator[None]:
    # Two processes starting at once on a new database must not both create the tables.
    lock_path = path.with_name(path.name + ".migrate-lock")
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic head by default). Harmless to repeat.

    Raises SchemaNewerError when the database is at a revision this code does not know.
    """
    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaNewerError(current, script.get_current_head())
    config = alembic_config()
    path = sqlite_path(engine.url)
    lock = _sqlite_file_lock(path) if path is not None else contextlib.nullcontext()
    with lock, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Serialise concurrent upgrades (several workers starting at once); the lock
            # is released when this transaction ends.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` ("base" drops every table bantin made)."""
    config = alembic_config()
    path = sqlite_path(engine.url)
    lock = _sqlite_file_lock(path) if path is not None else contextlib.nullcontext()
    with lock, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | URL) -> Engine:
    """The process-wide engine for the database at `url`, upgraded to head on first use."""
    key = normalise_url(url).render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = make_engine(key)
            upgrade(engine)
            _engines[key] = engine
        return engine


def session_factory(url: str | URL) -> sessionmaker[Session]:
    """Sessions on the database at `url`; the schema is upgraded once per process per URL.

    `expire_on_commit=False` so rows returned by a query function stay readable after
    the `with factory.begin()` block commits.
    """
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


def _after_fork_in_child() -> None:
    # A forked child must not use the parent's pooled connections (SQLAlchemy's advice):
    # drop them from the pools without closing them under the parent's feet.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def dispose_engines() -> None:
    """Close every cached engine (tests, and forked worker processes)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
