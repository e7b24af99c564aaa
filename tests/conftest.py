"""Fixtures shared by every test folder: databases (owned by storage), the Prefect server.

Fixtures
--------
`database_url` (str)
    A fresh, empty-but-migrated database for this test only. Parametrised over
    ``sqlite`` (a file under tmp_path, always) and ``postgresql`` (when the environment
    variable BANTIN_TEST_DATABASE_URL is set, e.g.
    ``postgresql+psycopg://postgres@127.0.0.1:5432/bantin_test``). On PostgreSQL each
    test gets a schema of its own (``t_<random>``, from a per-process pool: emptied after
    the test and reused, dropped at the end of the run; row ids therefore do not restart
    at 1), selected by a ``search_path`` option inside the URL, so anything that connects with this URL —
    an engine, ``storage.session.session_factory(settings)``, a subprocess given
    ``BANTIN_DATABASE_URL`` — sees the same tables. Several test modules, and several
    pytest processes, can use it at once.
`engine` (sqlalchemy.Engine)
    ``storage.session.make_engine(database_url)``, schema at Alembic head; disposed after.
`session` (sqlalchemy.orm.Session)
    A session on ``engine`` with ``expire_on_commit=False``. Commit yourself when the
    code under test expects committed data; it is rolled back and closed after.
`settings` (bantin.settings.Settings)
    ``Settings`` with ``data_dir = tmp_path / "var"`` and ``database_url`` = the same
    database as ``engine``/``session`` (parametrised likewise). Engines cached by
    ``session_factory`` are disposed after the test.
`sqlite_settings` (Settings)
    The same, SQLite only, for tests that need a database but have nothing
    backend-specific to check (keeps slow tests from running twice).

`prefect_server`, `prefect_api`, `work_pool`
    One real Prefect server for the whole session, cleaned after each test that used it
    (tests/prefect_harness/fixtures.py).

The PostgreSQL instances carry the ``postgres`` marker: ``-m "not postgres"`` skips
them, ``-m postgres`` runs only them. If BANTIN_TEST_DATABASE_URL is set but the server
cannot be reached, the tests fail (they are never skipped silently). The database in
that URL is created when missing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bantin.settings import Settings
from storage.models import Base
from storage.session import dispose_engines, head_revision, make_engine, normalise_url, upgrade
from tests.prefect_harness.fixtures import (  # noqa: F401  (one real Prefect server per session)
    _clean_prefect_server,
    prefect_api,
    prefect_server,
    pytest_collection_finish,
    pytest_sessionfinish,
    pytest_terminal_summary,
    work_pool,
)

PG_URL_ENV = "BANTIN_TEST_DATABASE_URL"
SQLITE_FILE = "bantin.sqlite3"
MODEL_TABLES = set(Base.metadata.tables)


def _backends() -> list[object]:
    backends: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(PG_URL_ENV):
        backends.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file made once; each test copies it (much faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / SQLITE_FILE
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        # Fold the WAL into the main file so a plain file copy carries everything.
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _ensure_pg_database(url: str) -> None:
    parsed = normalise_url(url)
    try:
        probe = create_engine(parsed)
        with probe.connect():
            pass
        probe.dispose()
        return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    except ProgrammingError as error:  # another pytest process created it meanwhile
        if "already exists" not in str(error):
            raise
    finally:
        admin.dispose()


class _PgSchemas:
    """Per-process pool of migrated PostgreSQL schemas.

    Creating and migrating a schema costs ~0.25 s of DDL; emptying one with DELETE costs
    a few ms. A schema goes back to the pool only when it is still at head with exactly
    the model's tables; anything else (a test that downgraded, a stuck lock) drops it.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
        self.free: list[str] = []
        self.created: set[str] = set()
        self.head = head_revision()

    def url(self, schema: str) -> str:
        parsed = normalise_url(self.base_url)
        query = dict(parsed.query)
        query["options"] = f"-csearch_path={schema}"
        return parsed.set(query=query).render_as_string(hide_password=False)

    def acquire(self) -> str:
        if self.free:
            return self.free.pop()
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.created.add(schema)
        engine = make_engine(self.url(schema))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return schema

    def release(self, schema: str) -> None:
        try:
            with self.admin.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '5s'"))
                found = set(
                    connection.execute(
                        text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                        {"s": schema},
                    ).scalars()
                )
                if found != MODEL_TABLES | {"alembic_version"}:
                    raise LookupError(f"schema {schema} has tables {sorted(found)}")
                version = connection.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()
                if version != self.head:
                    raise LookupError(f"schema {schema} is at {version}, not {self.head}")
                # Children first; one statement per table, so self-references are fine.
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(text(f'DELETE FROM "{schema}"."{table.name}"'))
        except Exception:
            self.drop(schema)
            return
        self.free.append(schema)

    def drop(self, schema: str) -> None:
        with self.admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.created.discard(schema)

    def close(self) -> None:
        for schema in list(self.created):
            self.drop(schema)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_schemas() -> Iterator[_PgSchemas]:
    url = os.environ[PG_URL_ENV]
    _ensure_pg_database(url)
    pool = _PgSchemas(url)
    yield pool
    pool.close()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        data_dir = tmp_path / "var"
        data_dir.mkdir(exist_ok=True)
        path = data_dir / SQLITE_FILE
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        dispose_engines()
        return

    pool: _PgSchemas = request.getfixturevalue("_pg_schemas")
    schema = pool.acquire()
    try:
        yield pool.url(schema)
    finally:
        dispose_engines()
        pool.release(schema)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def _settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings_for(database_url, tmp_path)


@pytest.fixture
def sqlite_settings(tmp_path: Path, _sqlite_template: Path) -> Iterator[Settings]:
    data_dir = tmp_path / "var"
    data_dir.mkdir(exist_ok=True)
    path = data_dir / SQLITE_FILE
    shutil.copyfile(_sqlite_template, path)
    yield _settings_for(f"sqlite:///{path}", tmp_path)
    dispose_engines()


