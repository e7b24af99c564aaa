"""One real Prefect server for the whole pytest session (imported by tests/conftest.py).

Fixtures
--------
`prefect_server` (PrefectServer, session)
    `prefect server start` on a free loopback port with its own PREFECT_HOME, stopped at
    the end of the run; the work pool `bantin-process` (process type) exists on it. Its
    database is a fresh PostgreSQL database (created beside BANTIN_TEST_DATABASE_URL,
    dropped after) when that variable is set, else SQLite in its home. A test talks to it
    with ``prefect_server.client_env(...)`` or ``prefect_env(home, prefect_server.api_url)``.
`prefect_api` (PrefectApi, session)
    Reads of the same server's REST API.
`work_pool` (str, session)
    The pool's name.

Starting: when the collected tests include one that uses `prefect_server`, the server is
started in a background thread as soon as collection ends, so its start (10-20 s) runs
beside the first tests instead of in front of the first Prefect test; the fixture waits
for it. Without such a test no server is started.

Isolation: after every test that used the server, what it left there is deleted (runs
not finished, deployments, global concurrency limits, named blocks: `PrefectApi.clean`),
so each test starts from a server holding only the work pool. Finished runs stay: tests
read their own runs back by flow run id, never "the latest run".
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.prefect_harness.api import PrefectApi
from tests.prefect_harness.procs import PrefectServer, prefect_cli
from tests.prefect_harness.timings import TIMINGS, record_timing

PG_URL_ENV = "BANTIN_TEST_DATABASE_URL"
POOL = "bantin-process"
FIXTURE = "prefect_server"


def _pg_admin(base_url: str) -> Engine:
    url = make_url(base_url).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


class SessionServer:
    """The session's server: started once (in a thread), stopped once, its database dropped."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="bantin-prefect-home-"))
        self.pg_url = os.environ.get(PG_URL_ENV)
        self.database: str | None = None
        self.server: PrefectServer | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="prefect-server-start", daemon=True)

    def begin(self) -> SessionServer:
        self._thread.start()
        return self

    def _start(self) -> None:
        try:
            database_url = None
            if self.pg_url:
                self.database = f"bantin_prefect_test_{uuid.uuid4().hex[:10]}"
                admin = _pg_admin(self.pg_url)
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{self.database}"'))
                admin.dispose()
                url = make_url(self.pg_url).set(drivername="postgresql+asyncpg", database=self.database)
                database_url = url.render_as_string(hide_password=False)
            self.server = PrefectServer(self.home, database_url=database_url)
            started = time.monotonic()
            self.server.start()
            backend = "PostgreSQL" if self.pg_url else "SQLite"
            record_timing(f"prefect server start -> healthy ({backend}, beside other tests)", time.monotonic() - started)
            prefect_cli(["work-pool", "create", POOL, "--type", "process"], self.server.client_env())
        except BaseException as exc:  # handed to the fixture, which raises it in the test that waits
            self.error = exc

    def wait(self) -> PrefectServer:
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.server is not None
        return self.server

    def stop(self) -> None:
        self._thread.join()
        if self.server is not None:
            # Its database is dropped next: no need for a long graceful shutdown.
            self.server.process.stop(timeout_s=2.0)
            self.server = None
        if self.pg_url and self.database:
            admin = _pg_admin(self.pg_url)
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            admin.dispose()
            self.database = None
        shutil.rmtree(self.home, ignore_errors=True)


_SESSION: dict[str, SessionServer] = {}


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(FIXTURE in getattr(item, "fixturenames", ()) for item in session.items):
        _SESSION["server"] = SessionServer().begin()


def pytest_sessionfinish(session: pytest.Session) -> None:
    started = _SESSION.pop("server", None)
    if started is not None:  # no test got to ask for it (-x, errors): stop it all the same
        started.stop()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    started = _SESSION.pop("server", None) or SessionServer().begin()
    try:
        yield started.wait()
    finally:
        started.stop()


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
    if FIXTURE in request.fixturenames:
        server: PrefectServer = request.getfixturevalue(FIXTURE)  # set up already: the cached one
        PrefectApi(server.api_url).clean()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("Prefect tests: wall times")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
