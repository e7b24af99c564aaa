"""Shared bits of the server tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.prefect_harness.procs import PROJECT_ROOT, PrefectProcessError, PrefectServer
from tests.prefect_harness.timings import record_timing

__all__ = ["app_env", "enabled_source_ids", "python_module", "record_timing"]


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
