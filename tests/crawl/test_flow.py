"""The Prefect flow, run for real (ephemeral Prefect API in a subprocess with its own home).

Checks the flow's promises: portals crawled in parallel tasks, a portal that cannot be
reached is retried, recorded and does not stop the others, a table artifact per run,
the run named "crawl <date> <time>".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bantin.fixtures.app import create_app
from bantin.settings import PROJECT_ROOT, FetchSettings
from tests.crawl.conftest import serve

pytestmark = pytest.mark.server

SCRIPT = r"""
import json, sys
from prefect.client.orchestration import get_client
from flows.crawl import crawl_portals

state = crawl_portals(sources=["vinh-hanh", "lam-binh"], offline=True, task_retries=1, task_retry_delay_s=0, return_state=True)
result = state.result()
with get_client(sync_client=True) as client:
    runs = client.read_flow_runs()
    artifacts = client.read_artifacts()
    table = [a for a in artifacts if a.key == "crawl-report"]
print("RESULT " + json.dumps({
    "state": state.type.value,
    "name": runs[0].name,
    "summary": result,
    "artifact": table[0].data if table else None,
}))
"""


def test_flow_crawls_portals_and_survives_an_unreachable_one(tmp_path: Path) -> None:
    app = create_app(faults=["lambinh.tuyenquang.gov.vn/robots.txt=reset"])
    with serve(app) as base:
        env = dict(os.environ)
        env.update(
            PREFECT_HOME=str(tmp_path / "prefect"),
            PREFECT_API_URL="",
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="240",
            PREFECT_LOGGING_LEVEL="WARNING",
            BANTIN_DATA_DIR=str(tmp_path / "var"),
            BANTIN_FIXTURES_URL=base,
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
