"""Small synchronous reads (and the tests' clean-up) of a Prefect server's REST API.

Plain httpx against the documented /api routes, so a caller needs neither a Prefect
profile nor an event loop, and the answer is exactly what the UI shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.prefect_harness.procs import PrefectProcessError, prefect_cli

FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
_UUID = re.compile(r"UUID: ([0-9a-f-]{36})")


class FlowRunFailed(PrefectProcessError):
    """A flow run ended in a state other than Completed (or did not end in time)."""


@dataclass
class PrefectApi:
    api_url: str
    timeout_s: float = 30.0

    def _request(self, method: str, path: str, json: Any = None, retries: int = 5) -> Any:
        for attempt in range(retries + 1):
            response = httpx.request(method, f"{self.api_url}{path}", json=json, timeout=self.timeout_s)
            # 503: the server's database was busy (SQLite locked); Prefect's own client retries too.
            if response.status_code != 503 or attempt == retries:
                break
            time.sleep(1.0 + attempt)
        if response.status_code >= 400:
            raise PrefectProcessError(f"{method} {path} -> {response.status_code}: {response.text[:1000]}")
        return response.json() if response.content else None

    def _object(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        """A route answering one JSON object."""
        body = self._request(method, path, json=json)
        if not isinstance(body, dict):
            raise PrefectProcessError(f"{method} {path}: expected a JSON object, got {type(body).__name__}")
        return body

    def _objects(self, method: str, path: str, json: Any = None) -> list[dict[str, Any]]:
        """A route answering a JSON list of objects."""
        body = self._request(method, path, json=json)
        if not isinstance(body, list):
            raise PrefectProcessError(f"{method} {path}: expected a JSON list, got {type(body).__name__}")
        return body

    def deployment(self, flow_name: str, deployment_name: str) -> dict[str, Any]:
        return self._object("GET", f"/deployments/name/{flow_name}/{deployment_name}")

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        return self._object("GET", f"/flow_runs/{flow_run_id}")

    def flow_runs(self, body: dict[str, Any] | None = None, limit: int = 200) -> list[dict[str, Any]]:
        return self._objects("POST", "/flow_runs/filter", json={"limit": limit, **(body or {})})

    def scheduled_runs(self, deployment_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """Upcoming scheduled runs of a deployment, soonest first.

        Asks the server to schedule them first (what its scheduler service does every
        loop; idempotent), so the answer doesn't depend on the loop having run yet.
        """
        self._request("POST", f"/deployments/{deployment_id}/schedule", json={"min_runs": limit})
        runs = self.flow_runs(
            {
                "deployments": {"id": {"any_": [deployment_id]}},
                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_ASC",
            },
            limit=limit,
        )
        return runs

    def deactivate_schedules(self, deployment: dict[str, Any]) -> None:
        """Turn a deployment's schedules off (tests: no scheduled run may start mid-test)."""
        for schedule in deployment.get("schedules") or []:
            self._request("PATCH", f"/deployments/{deployment['id']}/schedules/{schedule['id']}", json={"active": False})

    def logs(self, flow_run_id: str, limit: int = 200) -> list[dict[str, Any]]:
        return self._objects(
            "POST",
            "/logs/filter",
            json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": limit, "sort": "TIMESTAMP_ASC"},
        )

    def artifacts(self, flow_run_id: str) -> list[dict[str, Any]]:
        return self._objects("POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})

    def create_concurrency_limit(self, name: str, limit: int) -> dict[str, Any]:
        return self._object("POST", "/v2/concurrency_limits/", json={"name": name, "limit": limit})

    def concurrency_limit(self, name: str) -> dict[str, Any] | None:
        try:
            return self._object("GET", f"/v2/concurrency_limits/{name}")
        except PrefectProcessError as exc:
            if "-> 404" in str(exc):
                return None
            raise

    def clean(self) -> dict[str, int]:
        """Delete what tests leave on a shared server: automations first (none may act on
        the next test's runs), flow runs not finished (scheduled, pending, running),
        deployments, global concurrency limits, variables and named blocks.
        The work pools and finished runs stay (tests read runs back by id). Returns counts."""
        deleted = {"automations": 0, "flow runs": 0, "deployments": 0, "concurrency limits": 0, "variables": 0, "blocks": 0}
        while batch := self._objects("POST", "/automations/filter", json={"limit": 200}):
            for automation in batch:
                self._delete(f"/automations/{automation['id']}")
                deleted["automations"] += 1
        unfinished = {"flow_runs": {"state": {"type": {"not_any_": sorted(FINAL_STATES)}}}}
        while batch := self.flow_runs(unfinished):
            for run in batch:
                self._delete(f"/flow_runs/{run['id']}")
                deleted["flow runs"] += 1
        while batch := self._objects("POST", "/deployments/filter", json={"limit": 200}):
            for deployment in batch:
                self._delete(f"/deployments/{deployment['id']}")
                deleted["deployments"] += 1
        while batch := self._objects("POST", "/v2/concurrency_limits/filter", json={"limit": 200}):
            for limit in batch:
                self._delete(f"/v2/concurrency_limits/{limit['id']}")
                deleted["concurrency limits"] += 1
        while batch := self._objects("POST", "/variables/filter", json={"limit": 200}):
            for variable in batch:
                self._delete(f"/variables/{variable['id']}")
                deleted["variables"] += 1
        named = {"block_documents": {"is_anonymous": {"eq_": False}}, "limit": 200}
        while batch := self._objects("POST", "/block_documents/filter", json=named):
            for block in batch:
                self._delete(f"/block_documents/{block['id']}")
                deleted["blocks"] += 1
        return deleted

    def _delete(self, path: str) -> None:
        try:
            self._request("DELETE", path)
        except PrefectProcessError as exc:
            if "-> 404" not in str(exc):  # gone meanwhile (a deployment's scheduled runs go with it)
                raise

    def final(self, flow_run_id: str, timeout_s: float = 180.0, poll_s: float = 1.0) -> dict[str, Any]:
        """The flow run once it reached a final state (or as it is after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        run = self.flow_run(flow_run_id)
        while time.monotonic() < deadline:
            run = self.flow_run(flow_run_id)
            if run.get("state_type") in FINAL_STATES:
                break
            time.sleep(poll_s)
        return run

    def log_text(self, flow_run_id: str) -> str:
        return "\n".join(f"{entry['timestamp']} {entry['message']}" for entry in self.logs(flow_run_id, limit=200))

    def wait(self, flow_run_id: str, timeout_s: float = 180.0, poll_s: float = 1.0) -> dict[str, Any]:
        """Wait for a flow run to reach a final state; raise with its logs unless Completed."""
        run = self.final(flow_run_id, timeout_s, poll_s)
        state = run.get("state_type")
        if state != "COMPLETED":
            log_text = self.log_text(flow_run_id)
            raise FlowRunFailed(
                f"flow run {run.get('name')} ({flow_run_id}) is {state} "
                f"({(run.get('state') or {}).get('message')}) after {timeout_s:.0f}s; logs:\n{log_text[-6000:]}"
            )
        return run


def run_deployment_cli(name: str, params: dict[str, str], env: dict[str, str], job_env: dict[str, str] | None = None) -> str:
    """Trigger a deployment exactly as a user would (`prefect deployment run`); return the flow run id.

    params values are given as the user types them after `--param key=`: JSON for lists/bools.
    """
    args = ["deployment", "run", name]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    if job_env:
        args += ["--job-variable", f"env={json.dumps(job_env)}"]
    out = prefect_cli(args, env)
    match = _UUID.search(out)
    if not match:
        raise PrefectProcessError(f"no flow run id in the output of `prefect {' '.join(args)}`:\n{out}")
    return match.group(1)


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
