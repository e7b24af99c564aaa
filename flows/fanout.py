"""The deployed crawl: one flow run per scheduled crawl, optionally fanned out over workers.

    crawl_portals(sources=None, offline=False, max_pages=None, fan_out=False,
                  batch_size=1, extract=True)            flow "crawl-portals"

`crawl-portals` is what the schedule runs. It starts with the preflight. Without `fan_out`
it crawls every portal in its own process (flows/crawl.py's "crawl-batch" body: one task
per portal, in parallel with a bound). With `fan_out=True` it starts one
`crawl-batch/crawl-batch` deployment run per batch of `batch_size` portals and waits for
them, so the workers of the pool — on as many machines as you like, sharing one
PostgreSQL app database — split the crawl; the batches' reports (their crawl_runs rows)
make the parent's one "crawl-report". Every portal crawl holds the global concurrency
limit "portal-<id>" (created by `python -m flows.serve --create-limits`), so one portal is
never crawled by two processes at once and the per-host request spacing of one fetcher
holds everywhere. Then, unless `extract=False`, the new articles are extracted
(flows/extract.py).

A portal down (or a batch run that ended without a report) ends the run Failed, naming
each portal and its first error, after the others were crawled and extracted.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from bantin.jobs.runs import portal_down, reports_of_flow_runs
from bantin.settings import Settings
from flows.crawl import CRAWL_CHECKS, TASK_RETRIES, CrawlOutcome, crawl_here, final_state, publish_report
from flows.naming import flags, parameters, slot, sources_detail, values
from flows.params import BatchSize, DelaySeconds, MaxPages, Retries, SourceIds, selected_sources
from flows.preflight import preflight
from flows.runners import portal_thread_pool

CHILD_DEPLOYMENT = "crawl-batch/crawl-batch"
CHILD_TIMEOUT_S = 3 * 3600  # a batch that takes longer than 3 h is stuck, not slow
CHILD_POLL_S = 2.0


def _parent_run_name() -> str:
    params = parameters()
    fan_out = f"(fan-out by {params.get('batch_size') or 1})" if params.get("fan_out") else ""
    return slot(
        "crawl",
        sources_detail(),
        *flags(params, offline="offline"),
        *values(params, {"max_pages": None, "extract": True}),
        fan_out,
    )


def _batches(ids: list[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError(f"parameter batch_size: must be >= 1, got {size}")
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _fan_out(ids: list[str], batch_size: int, offline: bool, max_pages: int | None, retries: dict[str, Any]) -> CrawlOutcome:
    """Start one crawl-batch run per batch, wait for all; their reports as one outcome."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.runtime import flow_run

    logger = get_run_logger()
    children = []
    for batch in _batches(ids, batch_size):
        child = run_deployment(
            CHILD_DEPLOYMENT,
            parameters={"sources": batch, "offline": offline, "max_pages": max_pages, **retries},
            timeout=0,  # create now, wait below: the batches run side by side
            # A retried parent must find its children, not start the crawl twice.
            idempotency_key=f"{flow_run.id}:{','.join(batch)}",
        )
        # run_deployment answers a coroutine when called from async code; this flow is sync.
        if not isinstance(child, FlowRun):
            raise TypeError(f"run_deployment answered {type(child).__name__}, not a FlowRun")
        logger.info("started %s for %s", child.name, ", ".join(batch))
        children.append((batch, child))
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    finished_runs = []
    with get_client(sync_client=True) as client:
        for batch, child in children:
            finished = client.read_flow_run(child.id)
            while not (finished.state and finished.state.is_final()) and time.monotonic() < deadline:
                time.sleep(CHILD_POLL_S)
                finished = client.read_flow_run(child.id)
            finished_runs.append((batch, finished))
    reported = reports_of_flow_runs(Settings.from_env(), [str(f.id) for _, f in finished_runs])
    outcome = CrawlOutcome([], [])
    rows = []
    for batch, finished in finished_runs:
        state = finished.state.name if finished.state else "?"
        found = reported.get(str(finished.id))
        if found is None:  # crashed, cancelled, timed out: it finished no crawl run
            outcome.notes += [f"{p} (batch run {finished.name!r} ended {state} without a report)" for p in batch]
        else:
            run_ids, reports = found
            outcome.run_ids += run_ids
            outcome.reports += reports
            outcome.down += [r for r in reports if portal_down(r)]
        worker = (finished.labels or {}).get("prefect.worker.name", "")
        rows.append(
            {
                "portals": ", ".join(batch),
                "flow run": finished.name,
                "state": state,
                "worker": worker,
                "infrastructure pid": finished.infrastructure_pid or "",
            }
        )
        logger.info("%s (%s) on worker %s: %s", finished.name, ", ".join(batch), worker, state)
    create_table_artifact(table=rows, key="crawl-fan-out", description=f"{len(rows)} crawl-batch runs over {len(ids)} portals")
    return outcome


@flow(
    name="crawl-portals",
    flow_run_name=_parent_run_name,
    task_runner=portal_thread_pool(),
)
def crawl_portals(
    sources: SourceIds = None,
    offline: bool = False,
    max_pages: MaxPages = None,
    fan_out: bool = False,
    batch_size: BatchSize = 1,
    extract: bool = True,
    task_retries: Retries = TASK_RETRIES,
    task_retry_delay_s: DelaySeconds = None,
) -> Any:
    """Crawl the portals, then extract the new articles; Failed when a portal is down.

    Args:
        sources: Source ids of deploy/sources.yaml, e.g. ["ham-yen"]; empty: every enabled portal.
        offline: Crawl the fixture portals instead of the network (demo, tests).
        max_pages: Listing pages per listing at most; empty: the sources file's bound.
        fan_out: Spread the crawl over the pool's workers, one crawl-batch run per batch_size portals.
        batch_size: Portals per crawl-batch run when fanning out.
        extract: Extract the meeting records of the new articles afterwards.
        task_retries: Retries of a portal that could not be listed at all (then one attempt per request).
        task_retry_delay_s: Seconds before the first such retry, doubled for the next; empty: 60.
    """
    logger = get_run_logger()
    if fan_out:
        preflight(*CRAWL_CHECKS)
        # Check ids here, so a typo fails the parent before any child starts.
        ids = [s.id for s in selected_sources(Settings.from_env(), sources)]
        retries = {"task_retries": task_retries, "task_retry_delay_s": task_retry_delay_s}
        outcome = _fan_out(ids, batch_size, offline or Settings.from_env().offline, max_pages, retries)
        publish_report(outcome, keyed=True)
    else:
        outcome = crawl_here(sources, offline, max_pages, None, task_retries, task_retry_delay_s)
        publish_report(outcome, keyed=True)
    result: dict[str, Any] = outcome.summary()
    if extract:
        from flows.extract import extract_new

        # A subflow run of its own ("extract-new"), so its logs and artifact sit apart.
        result["extract"] = extract_new()
    logger.info("crawl done (%s)", "fan-out" if fan_out else "single process")
    return final_state(outcome, result)


if __name__ == "__main__":
    crawl_portals(offline=Settings.from_env().offline)
