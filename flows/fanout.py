"""The deployed crawl: one flow run per scheduled crawl, optionally fanned out over workers.

    crawl_portals(sources=None, offline=False, max_pages=None, fan_out=False,
                  batch_size=1, extract=True)            flow "crawl-portals"

`crawl-portals` is what the schedule runs. Without `fan_out` it crawls every portal in
its own process (flows/crawl.py's "crawl-batch" body: one task per portal, in parallel
with a bound). With `fan_out=True` it starts one `crawl-batch/crawl-batch` deployment run per batch of
`batch_size` portals and waits for them, so the workers of the pool — on as many
machines as you like, sharing one PostgreSQL app database — split the crawl. Every
portal crawl holds the global concurrency limit "portal-<id>" (created by
`python -m flows.serve --create-limits`), so one portal is never crawled by two
processes at once and the per-host request spacing of one fetcher holds everywhere.
Then, unless `extract=False`, the new articles are extracted (flows/extract.py).

The crawl itself is flows/crawl.py's; this module only adds the orchestration, which is
why it calls that flow's body (`.fn`) inside its own run instead of nesting a
"crawl-batch" run under it.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from bantin.settings import Settings
from flows.naming import slot, sources_detail
from flows.runners import portal_thread_pool

CHILD_DEPLOYMENT = "crawl-batch/crawl-batch"
CHILD_TIMEOUT_S = 3 * 3600  # a batch that takes longer than 3 h is stuck, not slow
CHILD_POLL_S = 2.0


def _parent_run_name() -> str:
    from prefect.runtime import flow_run

    return slot("crawl", sources_detail(), "(fan-out)" if flow_run.parameters.get("fan_out") else "")


def _batches(ids: list[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, got {size}")
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _fan_out(ids: list[str], batch_size: int, offline: bool, max_pages: int | None) -> list[dict[str, Any]]:
    """Start one crawl-batch run per batch, then wait for all; returns one row per batch."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.runtime import flow_run

    logger = get_run_logger()
    batches = _batches(ids, batch_size)
    children = []
    for batch in batches:
        child = run_deployment(
            CHILD_DEPLOYMENT,
            parameters={"sources": batch, "offline": offline, "max_pages": max_pages},
            timeout=0,  # create now, wait below: the batches run side by side
            # A retried parent must find its children, not start the crawl twice.
            idempotency_key=f"{flow_run.id}:{','.join(batch)}",
        )
        # run_deployment answers a coroutine when called from async code; this flow is sync.
        if not isinstance(child, FlowRun):
            raise TypeError(f"run_deployment answered {type(child).__name__}, not a FlowRun")
        logger.info("started %s for %s", child.name, ", ".join(batch))
        children.append((batch, child))
    rows = []
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    with get_client(sync_client=True) as client:
        finished_runs = []
        for batch, child in children:
            finished = client.read_flow_run(child.id)
            while not (finished.state and finished.state.is_final()) and time.monotonic() < deadline:
                time.sleep(CHILD_POLL_S)
                finished = client.read_flow_run(child.id)
            finished_runs.append((batch, finished))
    for batch, finished in finished_runs:
        state = finished.state
        rows.append(
            {
                "portals": ", ".join(batch),
                "flow run": finished.name,
                "state": state.name if state else "?",
                "worker": (finished.labels or {}).get("prefect.worker.name", ""),
                "infrastructure pid": finished.infrastructure_pid or "",
                "_ok": bool(state and state.is_completed()),
            }
        )
        logger.info("%s (%s) on worker %s: %s", finished.name, ", ".join(batch), rows[-1]["worker"], rows[-1]["state"])
    return rows


@flow(
    name="crawl-portals",
    flow_run_name=_parent_run_name,
    task_runner=portal_thread_pool(),
)
def crawl_portals(
    sources: list[str] | None = None,
    offline: bool = False,
    max_pages: int | None = None,
    fan_out: bool = False,
    batch_size: int = 1,
    extract: bool = True,
) -> dict[str, Any]:
    """Crawl the portals (default: every enabled one), in this process or fanned out over
    the pool's workers (`fan_out`, `batch_size` portals per run); then extract new articles."""
    from bantin.sources import load_sources

    logger = get_run_logger()
    settings = Settings.from_env()
    result: dict[str, Any]
    failed: list[str] = []
    if fan_out:
        # Validate ids here, so a typo fails the parent before any child starts.
        ids = [s.id for s in load_sources(settings.sources_file, only=sources)]
        rows = _fan_out(ids, batch_size, offline or settings.offline, max_pages)
        failed = [row["portals"] for row in rows if not row.pop("_ok")]
        create_table_artifact(
            table=rows, key="crawl-fan-out", description=f"{len(rows)} crawl-batch runs over {len(ids)} portals"
        )
        result = {"fan_out": rows}
    else:
        from flows.crawl import crawl_batch

        result = crawl_batch.fn(
            sources=sources, offline=offline, max_pages=max_pages, use_concurrency_limits=None
        )
    if extract:
        from flows.extract import extract_new

        # A subflow run of its own ("extract-new"), so its logs and artifact sit apart.
        result["extract"] = extract_new()
    if failed:
        raise RuntimeError(f"crawl-batch runs did not complete for: {'; '.join(failed)}")
    logger.info("crawl done (%s)", "fan-out" if fan_out else "single process")
    return result


if __name__ == "__main__":
    crawl_portals(offline=Settings.from_env().offline)
