"""The harness itself: server, pool, a deployment from a prefect.yaml, a worker, a run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bantin.ops.prefect_api import PrefectApi, parse_time, run_deployment_cli
from bantin.ops.prefect_procs import PROJECT_ROOT, PrefectServer, prefect_cli, start_worker


PREFECT_YAML = """
name: harness
prefect-version: 3.8.8
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $BANTIN_HOME }}"
deployments:
  - name: write-file
    entrypoint: tests/server/tiny_flow.py:write_file
    parameters: {label: from-yaml}
    work_pool:
      name: %(pool)s
      job_variables:
        env:
          BANTIN_DATA_DIR: "{{ $BANTIN_DATA_DIR }}"
    schedules:
      - cron: "30 7 * * 1"
        timezone: Asia/Ho_Chi_Minh
"""


def test_deployment_from_yaml_runs_on_a_worker(
    prefect_server: PrefectServer, prefect_api: PrefectApi, work_pool: str, tmp_path: Path
) -> None:
    env = prefect_server.client_env()
    env.update(BANTIN_HOME=str(PROJECT_ROOT), BANTIN_DATA_DIR=str(tmp_path / "data"))
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(PREFECT_YAML % {"pool": work_pool})
    prefect_cli(["deploy", "--all", "--prefect-file", str(prefect_file)], env)

    deployment = prefect_api.deployment("write-file", "write-file")
    assert deployment["job_variables"]["env"]["BANTIN_DATA_DIR"] == str(tmp_path / "data")
    upcoming = prefect_api.scheduled_runs(deployment["id"], limit=3)
    starts = [parse_time(run["expected_start_time"]).astimezone(dt.timezone(dt.timedelta(hours=7))) for run in upcoming]
    assert starts and all((s.weekday(), s.hour, s.minute) == (0, 7, 30) for s in starts)

    worker = start_worker(prefect_server, work_pool, "harness-worker")
    try:
        run_id = run_deployment_cli("write-file/write-file", {"label": "manual"}, env)
        run = prefect_api.wait(run_id, timeout_s=120)
    finally:
        worker.stop()
    assert run["name"] == "write manual"
    assert run["labels"].get("prefect.worker.name") == "harness-worker"
    written = (tmp_path / "data" / "manual.txt").read_text()
    assert written.split()[0] == "manual"
    # The pull step ran the flow in the project directory, not in the worker's temp dir.
    assert written.split()[-1] == str(PROJECT_ROOT)
