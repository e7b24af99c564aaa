"""Database fixtures shared by every test folder (owned by storage).

Fixtures
--------
`database_url` (str)
    A fresh, empty-but-migrated database for this test only. Parametrised over
    ``sqlite`` (a file under tmp_path, always) and ``postgresql`` (when the environment
    variable BANTIN_TEST_DATABASE_URL is set, e.g.
    ``postgresql+psycopg://postgres@127.0.0.1:5432/bantin_test``). On PostgreSQL each
    test gets its own schema (``t_<random>``, dropped afterwards), selected by a
    ``search_path`` option inside the URL, so anything that connects with this URL —
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
from storage.session import dispose_engines, make_engine, normalise_url, upgrade

PG_URL_ENV = "BANTIN_TEST_DATABASE_URL"
SQLITE_FILE = "bantin.sqlite3"


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


@pytest.fixture(scope="session")
def _pg_base_url() -> str:
    url = os.environ[PG_URL_ENV]
    _ensure_pg_database(url)
    return url


def _pg_schema_url(base_url: str, schema: str) -> str:
    parsed = normalise_url(base_url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


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

    base_url: str = request.getfixturevalue("_pg_base_url")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_schema_url(base_url, schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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


