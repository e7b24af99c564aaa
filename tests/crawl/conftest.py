"""Helpers for the crawl tests: a real uvicorn server on a loopback port, fast politeness."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from bantin.settings import FetchSettings


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
