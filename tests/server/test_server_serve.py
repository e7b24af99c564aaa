"""`python -m flows.serve`: the same deployments from one process, no work pool; a deployment
`prefect deploy` registered for the pool is served in place (same id, its runs kept)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from flows.serve import DeployConfigError, build_deployments, read_deployments
from server_helpers import app_env, python_module, record_timing
from tests.prefect_harness.api import PrefectApi, run_deployment_cli
from tests.prefect_harness.procs import PROJECT_ROOT, ManagedProcess, PrefectServer

PREFECT_FILE = PROJECT_ROOT / "deploy" / "prefect.yaml"


def test_serve_builds_what_prefect_yaml_says() -> None:
    specs = read_deployments(PREFECT_FILE)
    deployments = {d.name: d for d in build_deployments(specs)}
    assert set(deployments) == {"crawl-portals", "crawl-batch", "weekly-digest", "reextract"}
    crawl = deployments["crawl-portals"]
    assert crawl.entrypoint.endswith("flows/fanout.py:crawl_portals")
    assert crawl.concurrency_limit == 1 and crawl.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    (crawl_schedule,) = crawl.schedules
    assert (crawl_schedule.schedule.cron, crawl_schedule.schedule.timezone) == ("0 */6 * * *", "Asia/Ho_Chi_Minh")
    (digest_schedule,) = deployments["weekly-digest"].schedules
    assert digest_schedule.schedule.cron == "0 7 * * 1" and digest_schedule.parameters == {"send": True}
    assert deployments["reextract"].schedules == []


def test_serve_names_a_broken_entry(tmp_path: Path) -> None:
    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: flows/nope.py\n")
    with pytest.raises(DeployConfigError, match=r"entrypoint 'flows/nope.py'"):
        build_deployments(read_deployments(bad))
    bad.write_text("deployments:\n  - entrypoint: flows/digest.py:weekly_digest\n")
    with pytest.raises(DeployConfigError, match=r"deployments\[0\]: `name` is missing"):
        read_deployments(bad)


def test_create_limits_prunes_removed_portals(prefect_server: PrefectServer, prefect_api: PrefectApi, tmp_path: Path) -> None:
    env = app_env(prefect_server, tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'data' / 'b.sqlite3'}")
    prefect_api.create_concurrency_limit("portal-no-longer-listed", 1)
    prefect_api.create_concurrency_limit("not-a-portal-limit", 3)
    out = python_module(["flows.serve", "--create-limits", "--prune"], env)
    assert "deleted portal-no-longer-listed" in out
    assert prefect_api.concurrency_limit("portal-no-longer-listed") is None
    assert prefect_api.concurrency_limit("not-a-portal-limit") is not None  # only portal-* limits are ours
    assert prefect_api.concurrency_limit("portal-ham-yen") is not None


def test_serve_keeps_a_deployed_deployment_and_runs_a_triggered_digest(
    prefect_server: PrefectServer, prefect_api: PrefectApi, work_pool: str, tmp_path: Path
) -> None:
    api = prefect_api
    # weekly-digest as `prefect deploy` registered it for the pool, with a past run.
    flow = api._object("POST", "/flows/", json={"name": "weekly-digest"})
    deployed = api._object(
        "POST",
        "/deployments/",
        json={
            "name": "weekly-digest",
            "flow_id": flow["id"],
            "work_pool_name": work_pool,
            "entrypoint": "flows/digest.py:weekly_digest",
            "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $BANTIN_HOME }}"}}],
            "job_variables": {"env": {"BANTIN_CONCURRENCY_LIMITS": "1"}},
        },
    )
    past = api._object("POST", f"/deployments/{deployed['id']}/create_flow_run", json={})
    api._request("POST", f"/flow_runs/{past['id']}/set_state", json={"state": {"type": "COMPLETED"}, "force": True})

    data_dir = tmp_path / "data"
    env = app_env(prefect_server, data_dir, database_url=f"sqlite:///{data_dir / 'bantin.sqlite3'}")
    env.pop("BANTIN_HOME")  # serving needs no checkout path: it runs from this one
    serve = ManagedProcess(
        name="flows.serve",
        argv=[sys.executable, "-m", "flows.serve", "--limit", "1"],
        env=env,
        log_path=tmp_path / "serve.log",
    )
    started = time.monotonic()
    serve.start()
    try:
        # Serving has begun once the runner says so (importing the four flows' modules
        # takes a while on a loaded machine).
        deadline = time.monotonic() + 300
        while "Your deployments are being served" not in serve.log_tail():
            assert serve.alive(), serve.log_tail()
            assert time.monotonic() < deadline, serve.log_tail()
            time.sleep(1)
        assert f"serving weekly-digest/weekly-digest (id {deployed['id']}) from this process instead of work pool" in serve.log_tail()
        served = api.deployment("weekly-digest", "weekly-digest")
        assert served["id"] == deployed["id"]  # the same deployment: its runs stay its own
        assert served["work_pool_name"] is None and not served["pull_steps"]
        assert served["schedules"] and served["enforce_parameter_schema"] is True
        assert api.flow_run(past["id"])["deployment_id"] == deployed["id"]
        assert api.concurrency_limit("portal-ham-yen") is not None
        run_id = run_deployment_cli("weekly-digest/weekly-digest", {"week": "2024-W27"}, env)
        run = api.wait(run_id, timeout_s=240)
        assert run["name"] == "digest 2024-W27"
        assert run["deployment_id"] == deployed["id"]
        assert (data_dir / "digests" / "2024-W27.html").exists()
    finally:
        serve.stop()
    record_timing("python -m flows.serve start + triggered digest -> Completed", time.monotonic() - started)
