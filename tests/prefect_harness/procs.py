"""A real Prefect server and process workers as child processes.

Each process is started in its own session (process group) so that stopping it
also stops what it spawned (a worker's flow-run subprocesses, uvicorn's
children); everything is stopped by PID, never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent


class PrefectProcessError(RuntimeError):
    """A Prefect server, worker or CLI call did not start or failed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_exe() -> str:
    candidate = VENV_BIN / "prefect"
    return str(candidate) if candidate.exists() else "prefect"


def _tail(path: Path, n_chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n_chars:]
    except OSError:
        return ""


@dataclass
class ManagedProcess:
    """A child process in its own process group, with its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path = PROJECT_ROOT
    popen: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() reaches its children too
        )

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise PrefectProcessError(f"{self.name} was never started")
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, n_chars: int = 4000) -> str:
        return _tail(self.log_path, n_chars)

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it lingers."""
        if self.popen is None:
            return
        pgid = self.popen.pid  # start_new_session: the group id is the leader's pid
        for sig, wait_s in ((signal.SIGINT, timeout_s / 2), (signal.SIGTERM, timeout_s / 2), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no grandchild of the group survives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            break
        if self._log is not None:
            self._log.close()
            self._log = None


def prefect_env(home: Path, api_url: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a Prefect process isolated in `home` (no user profile leaks in)."""
    env = dict(os.environ if base is None else base)
    # A profile or API URL from the caller's shell must not redirect the test/server elsewhere.
    for key in list(env):
        if key.startswith("PREFECT_") and key not in {"PREFECT_LOGGING_LEVEL"}:
            del env[key]
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_PROFILES_PATH=str(home / "profiles.toml"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_CLI_PROMPT="false",
        PYTHONUNBUFFERED="1",
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


class PrefectServer:
    """`prefect server start` on 127.0.0.1:<port> with its own PREFECT_HOME and database.

    database_url: the server's own database (sqlite+aiosqlite:///... or
    postgresql+asyncpg://...); a SQLite file in `home` by default.
    """

    def __init__(
        self,
        home: Path,
        *,
        port: int | None = None,
        database_url: str | None = None,
        ui: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.database_url = database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}"
        env = prefect_env(home)
        env.update(
            PREFECT_SERVER_DATABASE_CONNECTION_URL=self.database_url,
            PREFECT_UI_ENABLED="true" if ui else "false",
            PREFECT_SERVER_UI_ENABLED="true" if ui else "false",
            # Scheduled runs should be created promptly in tests and on a fresh install.
            PREFECT_API_SERVICES_SCHEDULER_LOOP_SECONDS="10",
        )
        env.update(extra_env or {})
        self.process = ManagedProcess(
            name="prefect server",
            argv=[prefect_exe(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            log_path=home / "server.log",
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for CLI calls, workers and clients talking to this server."""
        return prefect_env(self.home, self.api_url, base)

    def start(self, timeout_s: float = 120.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise PrefectProcessError(
                    f"prefect server exited with {self.process.popen and self.process.popen.returncode}; "
                    f"log {self.process.log_path}:\n{self.process.log_tail()}"
                )
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.process.stop()
        raise PrefectProcessError(
            f"prefect server not healthy after {timeout_s:.0f}s; log {self.process.log_path}:\n{self.process.log_tail()}"
        )

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> PrefectServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def prefect_cli(args: list[str], env: dict[str, str], *, cwd: Path = PROJECT_ROOT, timeout_s: float = 180.0) -> str:
    """Run `prefect <args>`; raise with its output when it fails."""
    proc = subprocess.run(
        [prefect_exe(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise PrefectProcessError(
            f"`prefect {' '.join(args)}` exited with {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def start_worker(
    server: PrefectServer,
    pool: str,
    name: str,
    *,
    env: dict[str, str] | None = None,
    limit: int | None = None,
    prefetch_seconds: int | None = None,
) -> ManagedProcess:
    """`prefect worker start --pool <pool> --type process` talking to `server`."""
    worker_env = server.client_env(env)
    # Poll often so a triggered run starts within a second or two.
    worker_env.setdefault("PREFECT_WORKER_QUERY_SECONDS", "1")
    worker_env.setdefault("PREFECT_WORKER_HEARTBEAT_SECONDS", "5")
    argv = [prefect_exe(), "worker", "start", "--pool", pool, "--type", "process", "--name", name]
    if limit is not None:
        argv += ["--limit", str(limit)]
    if prefetch_seconds is not None:
        argv += ["--prefetch-seconds", str(prefetch_seconds)]
    proc = ManagedProcess(name=f"worker {name}", argv=argv, env=worker_env, log_path=server.home / f"worker-{name}.log")
    proc.start()
    return proc
