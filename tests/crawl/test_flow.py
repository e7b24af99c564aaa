"""The Prefect flow, run for real: in a subprocess, against the session's Prefect server.

Checks the flow's promises: portals crawled in parallel tasks; a portal that cannot be
reached is retried once per task retry with one attempt per request (no retry stacked on
the fetcher's), does not stop the others, and ends the run Failed with the portal, its
failing URL and the others' count in the message; the URL is in the run's log; the event
`bantin.portal.down` names the portal; a table artifact per run marks it DOWN; the run is
named "crawl <date> <time> <portals>"; a broken sources file fails the run at once with
the preflight's message.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bantin.fixtures.app import create_app
from bantin.settings import PROJECT_ROOT, FetchSettings
from tests.crawl.conftest import fast_sources_file, serve
from tests.prefect_harness.api import PrefectApi
from tests.prefect_harness.procs import PrefectServer, prefect_env

pytestmark = pytest.mark.server

SCRIPT = r"""
import json, sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId
from flows.crawl import crawl_batch

state = crawl_batch(sources=["vinh-hanh", "lam-binh"], offline=True, task_retries=1, task_retry_delay_s=0, return_state=True)
result = state.result(raise_on_failure=False)
run_id = state.state_details.flow_run_id  # the server is shared: read back this run only
with get_client(sync_client=True) as client:
    run = client.read_flow_run(run_id)
    artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    table = [a for a in artifacts if a.key == "crawl-report"]
    tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
# The same flow with a broken sources file: the preflight fails it before any request.
import os
good = os.environ["BANTIN_SOURCES"]
os.environ["BANTIN_SOURCES"] = os.environ["BROKEN_SOURCES"]
broken = crawl_batch(offline=True, return_state=True)
os.environ["BANTIN_SOURCES"] = good
print("RESULT " + json.dumps({
    "broken": [broken.type.value, broken.message],
    "id": str(run_id),
    "state": state.type.value,
    "message": state.message,
    "name": run.name,
    "summary": result,
    "artifact": table[0].data if table else None,
    "tasks": sorted((t.name, t.state.type.value, t.run_count) for t in tasks),
}))
"""


def test_a_portal_down_fails_the_run_naming_it_and_the_others_are_crawled(
    prefect_server: PrefectServer, prefect_api: PrefectApi, tmp_path: Path
) -> None:
    app = create_app(faults=["lambinh.tuyenquang.gov.vn/robots.txt=reset"])
    broken = tmp_path / "broken-sources.yaml"
    broken.write_text("sources:\n  - id: x\n    base_url: not a url\n", encoding="utf-8")
    with serve(app) as base:
        env = prefect_env(tmp_path / "prefect", prefect_server.api_url)
        env.update(
            PREFECT_LOGGING_LEVEL="WARNING",
            PREFECT_LOGGING_EXTRA_LOGGERS="bantin",  # as deploy/prefect.yaml sets it
            BANTIN_DATA_DIR=str(tmp_path / "var"),
            BANTIN_FIXTURES_URL=base,
            BANTIN_SOURCES=str(fast_sources_file(tmp_path / "sources.yaml")),  # the flow is tested, not politeness
            BROKEN_SOURCES=str(broken),
            PYTHONPATH=str(PROJECT_ROOT),
        )
        env.pop("BANTIN_DATABASE_URL", None)
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=480
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    robots = "https://lambinh.tuyenquang.gov.vn/robots.txt"

    # Failed, not Completed: the portal, its failing URL and the others' outcome in the message.
    assert out["state"] == "FAILED"
    assert out["message"].startswith("portal down: lam-binh (")
    assert f"{robots} unreachable" in out["message"]
    assert "1 other portal crawled: 10 new articles" in out["message"]
    assert out["name"].startswith("crawl 20") and out["name"].endswith(" vinh-hanh,lam-binh offline")
    by_portal = {r["portal"]: r for r in out["summary"]["portals"]}
    assert by_portal["vinh-hanh"]["new_articles"] == 10 and not by_portal["vinh-hanh"]["errors"]
    assert by_portal["lam-binh"]["errors"] and by_portal["lam-binh"]["new_articles"] == 0
    assert out["summary"]["down"] == ["lam-binh"]

    # One retry of the task, with one attempt per request: the fetcher's 4 attempts, then 1.
    attempts = FetchSettings().max_retries + 1
    assert len(app.requests("robots", "lambinh.tuyenquang.gov.vn")) == attempts + 1
    assert not app.requests("listing", "lambinh.tuyenquang.gov.vn")  # nothing crawled without robots.txt
    assert ["crawl lam-binh", "FAILED", 2] in out["tasks"] and ["crawl vinh-hanh", "COMPLETED", 1] in out["tasks"]

    table = out["artifact"]
    table = json.loads(table) if isinstance(table, str) else table  # the API returns it as JSON text
    rows = {r["portal"]: r for r in table}
    assert rows["vinh-hanh"]["new articles"] == 10 and rows["vinh-hanh"]["state"] == "ok"
    assert rows["lam-binh"]["state"] == "DOWN" and robots in rows["lam-binh"]["first error"]
    assert set(rows["vinh-hanh"]) >= {"listing requests", "304", "new articles", "duplicates", "errors"}

    # A broken sources file: Failed at once with the preflight's message, the file and the fix.
    state, message = out["broken"]
    assert state == "FAILED" and "preflight failed:" in message
    assert "sources: FAIL: invalid sources file" in message and f"fix: correct {broken} at the line named" in message

    # The failing URL is in the run's log, and the portal's event is on the server.
    logs = "\n".join(entry["message"] for entry in prefect_api.logs(out["id"], limit=200))
    assert "portal lam-binh: listing https://lambinh.tuyenquang.gov.vn" in logs and f"{robots} unreachable" in logs
    event = _wait_for_event(prefect_api, "bantin.portal.down", out["id"])
    assert event["resource"]["prefect.resource.id"] == "bantin.portal.lam-binh"
    assert event["resource"]["bantin.down-runs-in-a-row"] == "1"
    assert robots in event["payload"]["error"]


def _wait_for_event(api: PrefectApi, name: str, flow_run_id: str, timeout_s: float = 30.0) -> dict[str, object]:
    """The event `name` related to the flow run (events are written a few seconds after they are sent)."""
    body = {
        "filter": {
            "event": {"name": [name]},
            "related": {"resources_in_roles": [[f"prefect.flow-run.{flow_run_id}", "flow-run"]]},
            "occurred": {"since": "2000-01-01T00:00:00Z"},
        },
        "limit": 50,
    }
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.post(f"{api.api_url}/events/filter", json=body, timeout=30)
        response.raise_for_status()
        events = response.json()["events"]
        if events or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(events) == 1, events
    found: dict[str, object] = events[0]
    return found
