"""Wall times of the Prefect steps (server start, deploy, triggered runs), printed at the
end of the pytest run (tests/conftest.py): the figures docs/prefect.md reports."""

from __future__ import annotations

TIMINGS: list[tuple[str, float]] = []


def record_timing(label: str, seconds: float) -> None:
    TIMINGS.append((label, seconds))
