"""Shared bits of the server tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.prefect_harness.procs import PROJECT_ROOT, PrefectProcessError, PrefectServer, prefect_exe
from tests.prefect_harness.timings import record_timing

__all__ = ["AlertInbox", "alert_inbox", "app_env", "enabled_source_ids", "in_terminal", "python_module", "record_timing"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def app_env(server: PrefectServer, data_dir: Path, database_url: str) -> dict[str, str]:
    """Environment of `prefect deploy`/workers: this server, this app database and data dir."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")}
    env = server.client_env(base)
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(BANTIN_HOME=str(PROJECT_ROOT), BANTIN_DATA_DIR=str(data_dir), BANTIN_DATABASE_URL=database_url)
    return env


def python_module(args: list[str], env: dict[str, str], timeout_s: float = 120.0) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout_s
    )
    if proc.returncode != 0:
        raise PrefectProcessError(f"python -m {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def enabled_source_ids(sources_file: Path = PROJECT_ROOT / "deploy" / "sources.yaml") -> list[str]:
    from bantin.sources import load_sources

    return [s.id for s in load_sources(sources_file)]


def in_terminal(args: list[str], env: dict[str, str], timeout_s: float = 240.0) -> tuple[int, str]:
    """`prefect <args>` as typed in a terminal (a pseudo-terminal on stdin, stdout and
    stderr; prompts allowed): (exit status, output without colour codes). A prompt waiting
    for an answer never gets one: the command is stopped after `timeout_s`, status -1."""
    env = {k: v for k, v in env.items() if k != "PREFECT_CLI_PROMPT"}
    env.update(TERM="xterm-256color", COLUMNS="200", LINES="50")
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [prefect_exe(), *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=PROJECT_ROOT, start_new_session=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other end closed, the command ended
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return -1, _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
        status = proc.wait(timeout=30)
    finally:
        os.close(master)
    return status, _ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r", "")


@dataclass
class AlertInbox:
    """What a notification block POSTed to this test's HTTP endpoint ({"subject", "body"})."""

    url: str
    alerts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, *needles: str, timeout_s: float = 60.0) -> dict[str, Any]:
        """The first alert whose subject and body hold every needle; AssertionError listing
        what did come otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                for alert in self.alerts:
                    text = f"{alert.get('subject')}\n{alert.get('body')}"
                    if all(n in text for n in needles):
                        return alert
            time.sleep(0.5)
        raise AssertionError(f"no alert with {needles!r} within {timeout_s:.0f} s; alerts: {self.alerts}")


@contextmanager
def alert_inbox() -> Iterator[AlertInbox]:
    """An HTTP endpoint on 127.0.0.1 receiving the automations' notifications."""

    inbox = AlertInbox(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            try:
                alert = json.loads(body)
            except ValueError:
                alert = {"subject": "", "body": body.decode("utf-8", "replace")}
            with inbox.lock:
                inbox.alerts.append(alert)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
