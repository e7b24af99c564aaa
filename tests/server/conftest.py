"""A real Prefect server (own PREFECT_HOME, SQLite in tmp) shared by the server tests.

Every process a test starts is stopped by its process group in a finalizer, also when
the test fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prefect_harness.api import PrefectApi
from tests.prefect_harness.procs import PrefectServer, prefect_cli

POOL = "bantin-process"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    from server_helpers import record_timing

    server = PrefectServer(tmp_path_factory.mktemp("prefect-home"))
    started = time.monotonic()
    server.start()
    record_timing("prefect server start -> healthy (SQLite)", time.monotonic() - started)
    try:
        prefect_cli(["work-pool", "create", POOL, "--type", "process"], server.client_env())
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prefect_api(prefect_server: PrefectServer) -> PrefectApi:
    return PrefectApi(prefect_server.api_url)


@pytest.fixture(scope="session")
def work_pool(prefect_server: PrefectServer) -> str:
    return POOL


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from server_helpers import TIMINGS

    if TIMINGS:
        terminalreporter.section("Prefect server tests: wall times")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")
