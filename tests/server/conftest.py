"""The server tests: deploy/prefect.yaml, workers and `flows.serve` on the session's real
Prefect server (`prefect_server`, `prefect_api`, `work_pool`: tests/prefect_harness/fixtures.py).

Every process a test starts is stopped by its process group in a finalizer, also when
the test fails; what a test leaves on the server is deleted after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.server)
