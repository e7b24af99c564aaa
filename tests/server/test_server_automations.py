"""deploy/automations.yaml on the real Prefect server: applied by the documented command
(idempotently), and each automation does what it says when its events come.

The events are posted to the server's events API as the flows and Prefect's engine send
them (a run's Running state and heartbeats, bantin's `bantin.portal.failing`), so the
proactive ones need not wait hours: the file is applied a second time with 10-second
windows, which also shows that applying updates the automations of the same name. The
notifications go to the notification block the command creates (`--webhook`), here an
HTTP endpoint of the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.automations import apply
from server_helpers import alert_inbox, app_env, python_module
from tests.prefect_harness.api import PrefectApi
from tests.prefect_harness.procs import PROJECT_ROOT, PrefectServer

AUTOMATIONS = PROJECT_ROOT / "deploy" / "automations.yaml"
NAMES = {"bantin: flow run failed", "bantin: portal failing", "bantin: run stuck", "bantin: crashed runs"}


def _post_event(api: PrefectApi, event: str, resource: dict[str, str], related: list[dict[str, str]], payload: dict[str, Any]) -> None:
    body = [
        {
            "id": str(uuid.uuid4()),
            "occurred": dt.datetime.now(dt.UTC).isoformat(),
            "event": event,
            "resource": resource,
            "related": related,
            "payload": payload,
        }
    ]
    httpx.post(f"{api.api_url}/events", json=body, timeout=30).raise_for_status()


def test_automations_apply_once_and_report_failing_portals_stuck_and_crashed_runs(
    prefect_server: PrefectServer, prefect_api: PrefectApi, tmp_path: Path
) -> None:
    api = prefect_api
    env = app_env(prefect_server, tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'data' / 'b.sqlite3'}")
    with alert_inbox() as inbox:
        out = python_module(["flows.automations", "--webhook", inbox.url], env)
        assert "saved notification block bantin-alerts" in out
        assert all(f"created {name!r}" in out for name in NAMES), out

        # The same file with 10-second windows: applied again, it updates them in place.
        data = yaml.safe_load(AUTOMATIONS.read_text(encoding="utf-8"))
        for automation in data["automations"]:
            if automation["trigger"].get("posture") == "Proactive":
                automation["trigger"]["within"] = 10  # the least Prefect allows
        fast = tmp_path / "automations.yaml"
        fast.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        with temporary_settings({PREFECT_API_URL: api.api_url}):  # in this process: one Python start less
            lines = asyncio.run(apply(fast))
        assert sorted(lines) == sorted(f"updated {name!r}" for name in NAMES), lines
        stored = api._objects("POST", "/automations/filter", json={"limit": 50})
        assert sorted(a["name"] for a in stored) == sorted(NAMES)  # four, not eight
        (alerts_block,) = api._objects("POST", "/block_documents/filter", json={"block_documents": {"name": {"any_": ["bantin-alerts"]}}})
        notify = {action["block_document_id"] for a in stored for action in a["actions"] if action["type"] == "send-notification"}
        assert notify == {alerts_block["id"]}

        # A portal down three crawls in a row (the event flows/crawl.py sends).
        portal = {"prefect.resource.id": "bantin.portal.lam-binh", "prefect.resource.name": "lam-binh", "bantin.down-runs-in-a-row": "3"}
        error = "listing http://lambinh.tuyenquang.gov.vn/: http://lambinh.tuyenquang.gov.vn/robots.txt unavailable (HTTP 500)"
        _post_event(api, "bantin.portal.failing", portal, [], {"error": error, "runs_in_a_row": 3})
        alert = inbox.wait_for("portal lam-binh down 3 crawls in a row", "robots.txt unavailable (HTTP 500)")
        assert "bantin sources probe" in alert["body"]

        # A bantin run Running, whose process then stops sending heartbeats (a killed worker).
        flow = api._object("POST", "/flows/", json={"name": f"bantin-zombie-{uuid.uuid4().hex[:6]}"})
        run = api._object(
            "POST", "/flow_runs/", json={"flow_id": flow["id"], "name": "crawl 2026-11-23 06:00", "tags": ["bantin", "crawl"]}
        )
        api._request("POST", f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}, "force": True})
        api._request("POST", f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
        resource = {"prefect.resource.id": f"prefect.flow-run.{run['id']}", "prefect.resource.name": run["name"]}
        tag = [{"prefect.resource.id": "prefect.tag.bantin", "prefect.resource.role": "tag"}]
        _post_event(api, "prefect.flow-run.heartbeat", resource, tag, {})

        # Still Running past the window: "stuck"; no heartbeat past it: Crashed, then reported as failed.
        inbox.wait_for("crawl 2026-11-23 06:00 stuck Running", timeout_s=90)
        crashed = inbox.wait_for("crawl 2026-11-23 06:00 Crashed", "No heartbeat", timeout_s=90)
        assert "process running this flow run is gone" in crashed["body"]
        assert api.flow_run(run["id"])["state_type"] == "CRASHED"
