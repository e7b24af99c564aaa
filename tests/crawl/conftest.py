"""Helpers for the crawl tests: a real uvicorn server on a loopback port, fast politeness,
a fake clock for the fetcher."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml

from bantin.fetch import Fetcher
from bantin.settings import PROJECT_ROOT, FetchSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app on 127.0.0.1:<free port> in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# Politeness fast enough for tests (50 req/s per host), short timeouts and backoff.
FAST_FETCH = FetchSettings(
    requests_per_second=50.0,
    concurrency_per_host=4,
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    max_retries=2,
    backoff_base_s=0.05,
    backoff_cap_s=5.0,
    max_bytes=200_000,
)


@pytest.fixture
def fast_fetch() -> FetchSettings:
    return FAST_FETCH


def fast_sources_file(path: Path) -> Path:
    """deploy/sources.yaml written to `path` with every portal at 20 requests/s (robots.txt
    Crawl-delay still rules): for crawls in other processes (BANTIN_SOURCES) that test
    something other than politeness."""
    registry = yaml.safe_load((PROJECT_ROOT / "deploy" / "sources.yaml").read_text(encoding="utf-8"))
    for source in registry["sources"]:
        source["politeness"] = {"requests_per_second": 20.0}
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    return path


class FakeClock:
    """A clock and a sleep for `Fetcher(clock=..., sleep=...)`: no wall-clock waits.

    Sleeping advances `now` to when the sleeper asked to wake (never backwards: several
    tasks may sleep at once), and records it: `sleeps` are the durations asked for,
    `wakes` the instants slept until (for politeness, the start slots reserved).
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.wakes: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        self.sleeps.append(seconds)
        self.wakes.append(wake)
        await asyncio.sleep(0)  # let the other tasks run, as a real sleep would
        self.now = max(self.now, wake)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def fake_clock_fetcher(clock: FakeClock) -> type[Fetcher]:
    """A Fetcher class whose clock and sleep are `clock` unless given."""

    class FakeClockFetcher(Fetcher):
        def __init__(self, settings: FetchSettings, **kwargs: Any) -> None:
            kwargs.setdefault("clock", clock)
            kwargs.setdefault("sleep", clock.sleep)
            super().__init__(settings, **kwargs)

    return FakeClockFetcher


@contextmanager
def virtual_politeness() -> Iterator[FakeClock]:
    """Crawls (`bantin.jobs.crawl`) in this context wait out politeness on a fake clock:
    robots.txt Crawl-delay, the per-host rate, Retry-After and backoff are computed and
    kept as always, in virtual time, so the same requests are made without wall-clock
    waits (request timeouts stay real). The fetcher's own tests check the waits."""
    clock = FakeClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bantin.jobs.crawl.Fetcher", fake_clock_fetcher(clock))
        yield clock
