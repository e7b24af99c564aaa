"""The Prefect flow, run for real: in a subprocess, against the session's Prefect server.

Checks the flow's promises: portals crawled in parallel tasks, a portal that cannot be
reached is retried, recorded and does not stop the others, a table artifact per run,
the run named "crawl <date> <time>".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bantin.fixtures.app import create_app
from bantin.settings import PROJECT_ROOT, FetchSettings
from tests.crawl.conftest import fast_sources_file, serve
from tests.prefect_harness.procs import PrefectServer, prefect_env

pytestmark = pytest.mark.server

SCRIPT = r"""
import json, sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from flows.crawl import crawl_batch

state = crawl_batch(sources=["vinh-hanh", "lam-binh"], offline=True, task_retries=1, task_retry_delay_s=0, return_state=True)
result = state.result()
run_id = state.state_details.flow_run_id  # the server is shared: read back this run only
with get_client(sync_client=True) as client:
    run = client.read_flow_run(run_id)
    artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    table = [a for a in artifacts if a.key == "crawl-report"]
print("RESULT " + json.dumps({
    "state": state.type.value,
    "name": run.name,
    "summary": result,
    "artifact": table[0].data if table else None,
}))
"""


def test_flow_crawls_portals_and_survives_an_unreachable_one(prefect_server: PrefectServer, tmp_path: Path) -> None:
    app = create_app(faults=["lambinh.tuyenquang.gov.vn/robots.txt=reset"])
    with serve(app) as base:
        env = prefect_env(tmp_path / "prefect", prefect_server.api_url)
        env.update(
            PREFECT_LOGGING_LEVEL="WARNING",
            BANTIN_DATA_DIR=str(tmp_path / "var"),
            BANTIN_FIXTURES_URL=base,
            BANTIN_SOURCES=str(fast_sources_file(tmp_path / "sources.yaml")),  # the flow is tested, not politeness
            PYTHONPATH=str(PROJECT_ROOT),
        )
        env.pop("BANTIN_DATABASE_URL", None)
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=480
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["state"] == "COMPLETED"
    assert out["name"].startswith("crawl 20")
    by_portal = {r["portal"]: r for r in out["summary"]["portals"]}
    assert by_portal["vinh-hanh"]["new_articles"] == 10 and not by_portal["vinh-hanh"]["errors"]
    assert by_portal["lam-binh"]["errors"] and by_portal["lam-binh"]["new_articles"] == 0
    # The unreachable portal's task ran twice (one retry): robots.txt was tried
    # 1 + max_retries times in each run of the task, never more.
    attempts = FetchSettings().max_retries + 1
    assert len(app.requests("robots", "lambinh.tuyenquang.gov.vn")) == 2 * attempts
    assert not app.requests("listing", "lambinh.tuyenquang.gov.vn")  # nothing crawled without robots.txt
    table = out["artifact"]
    table = json.loads(table) if isinstance(table, str) else table  # the API returns it as JSON text
    rows = {r["portal"]: r for r in table}
    assert rows["vinh-hanh"]["new articles"] == 10 and rows["lam-binh"]["errors"] >= 1
    assert set(rows["vinh-hanh"]) >= {"listing requests", "304", "new articles", "duplicates", "errors"}
