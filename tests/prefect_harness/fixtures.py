"""One real Prefect server for the whole pytest session (imported by tests/conftest.py).

Fixtures
--------
`prefect_server` (PrefectServer, session)
    `prefect server start` on a free loopback port with its own PREFECT_HOME, started
    the first time a test asks for it and stopped at the end of the run; the work pool
    `bantin-process` (process type) exists on it. Its database is a fresh PostgreSQL
    database (created beside BANTIN_TEST_DATABASE_URL, dropped after) when that variable
    is set, else SQLite in its home. A test talks to it with
    ``prefect_server.client_env(...)`` or ``prefect_env(home, prefect_server.api_url)``.
`prefect_api` (PrefectApi, session)
    Reads of the same server's REST API.
`work_pool` (str, session)
    The pool's name.

Isolation: after every test that used the server, what it left there is deleted (runs
not finished, deployments, global concurrency limits, named blocks: `PrefectApi.clean`),
so each test starts from a server holding only the work pool. Finished runs stay: tests
read their own runs back by flow run id, never "the latest run".
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.prefect_harness.api import PrefectApi
from tests.prefect_harness.procs import PrefectServer, prefect_cli
from tests.prefect_harness.timings import TIMINGS, record_timing

PG_URL_ENV = "BANTIN_TEST_DATABASE_URL"
POOL = "bantin-process"


def _pg_admin(base_url: str) -> Engine:
    url = make_url(base_url).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    pg_url = os.environ.get(PG_URL_ENV)
    database_url = database = None
    if pg_url:
        database = f"bantin_prefect_test_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin(pg_url)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        database_url = make_url(pg_url).set(drivername="postgresql+asyncpg", database=database)
        database_url = database_url.render_as_string(hide_password=False)
    server = PrefectServer(tmp_path_factory.mktemp("prefect-home"), database_url=database_url)
    started = time.monotonic()
    try:
        server.start()
        record_timing(
            f"prefect server start -> healthy ({'PostgreSQL' if pg_url else 'SQLite'})", time.monotonic() - started
        )
        prefect_cli(["work-pool", "create", POOL, "--type", "process"], server.client_env())
        yield server
    finally:
        server.stop()
        if pg_url and database:
            admin = _pg_admin(pg_url)
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def prefect_api(prefect_server: PrefectServer) -> PrefectApi:
    return PrefectApi(prefect_server.api_url)


@pytest.fixture(scope="session")
def work_pool(prefect_server: PrefectServer) -> str:
    return POOL


@pytest.fixture(autouse=True)
def _clean_prefect_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the shared server: delete what it left there."""
    yield
    if "prefect_server" in request.fixturenames:
        server: PrefectServer = request.getfixturevalue("prefect_server")  # set up already: the cached one
        PrefectApi(server.api_url).clean()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("Prefect tests: wall times")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
