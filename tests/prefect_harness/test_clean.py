"""The shared server's clean-up (what keeps the Prefect tests independent of each other)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.prefect_harness.api import PrefectApi

pytestmark = pytest.mark.server


def _names(api: PrefectApi, route: str, body: dict[str, Any] | None = None) -> set[str]:
    return {item["name"] for item in api._objects("POST", route, json={"limit": 200, **(body or {})})}


def test_clean_leaves_only_the_work_pool_and_finished_runs(prefect_api: PrefectApi, work_pool: str) -> None:
    api = prefect_api
    tag = uuid.uuid4().hex[:8]
    flow = api._object("POST", "/flows/", json={"name": f"clean-test-{tag}"})
    deployment = api._object(
        "POST", "/deployments/", json={"name": f"left-behind-{tag}", "flow_id": flow["id"], "work_pool_name": work_pool}
    )
    scheduled = api._object("POST", f"/deployments/{deployment['id']}/create_flow_run", json={})
    finished = api._object(
        "POST", "/flow_runs/", json={"flow_id": flow["id"], "name": f"finished-{tag}", "state": {"type": "COMPLETED"}}
    )
    api.create_concurrency_limit(f"portal-left-behind-{tag}", 1)
    secret = api._object("GET", "/block_types/slug/secret")
    (schema,) = api._objects("POST", "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [secret["id"]]}}})
    api._object(
        "POST",
        "/block_documents/",
        json={"name": f"left-behind-{tag}", "block_type_id": secret["id"], "block_schema_id": schema["id"], "data": {"value": "x"}},
    )
    api._object("POST", "/variables/", json={"name": f"left_behind_{tag}", "value": "x"})
    api._object(
        "POST",
        "/automations/",
        json={
            "name": f"left-behind-{tag}",
            "trigger": {"type": "event", "expect": ["never.happens"], "posture": "Reactive", "threshold": 1, "within": 0},
            "actions": [{"type": "do-nothing"}],
        },
    )
    assert scheduled["state_type"] == "SCHEDULED"
    assert f"left-behind-{tag}" in _names(api, "/deployments/filter")

    deleted = api.clean()

    assert deleted["deployments"] >= 1 and deleted["concurrency limits"] >= 1 and deleted["blocks"] >= 1
    assert deleted["automations"] >= 1 and deleted["variables"] >= 1
    assert _names(api, "/automations/filter") == set()  # none may act on the next test's runs
    assert _names(api, "/variables/filter") == set()  # bantin_subscribers would replace a test's file
    assert _names(api, "/deployments/filter") == set()
    assert _names(api, "/v2/concurrency_limits/filter") == set()
    assert _names(api, "/block_documents/filter", {"block_documents": {"is_anonymous": {"eq_": False}}}) == set()
    unfinished = {"flow_runs": {"state": {"type": {"not_any_": ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]}}}}
    assert api.flow_runs(unfinished) == []
    # Tests read their own finished runs back by id; the pool stays for the next test.
    assert api.flow_run(finished["id"])["state_type"] == "COMPLETED"
    assert work_pool in _names(api, "/work_pools/filter")
