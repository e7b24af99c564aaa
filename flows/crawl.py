"""Prefect flow "crawl-batch": crawl portals of deploy/sources.yaml in this process, one task per portal.

    crawl_batch(sources=None, offline=False, max_pages=None, use_concurrency_limits=None)

The scheduled deployment "crawl-portals" (flows/fanout.py) runs this body, or fans out
one "crawl-batch" deployment run per batch of portals.

Portals run in parallel on a thread pool bounded by FetchSettings.max_portals_in_parallel;
each task crawls one portal (bantin.jobs.crawl.crawl_one) and is retried (I/O) when the
portal could not be listed at all. With `use_concurrency_limits` (or
BANTIN_CONCURRENCY_LIMITS=1, Settings.concurrency_limits) each portal runs inside the Prefect global concurrency limit
"portal-<id>" (strict: the limit must exist), so two deployments never hit one portal at
once. The run leaves a table artifact "crawl-report" (per portal: listing requests, 304s,
new articles, duplicates, errors) and a crawl_runs row.
"""

from __future__ import annotations

from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from bantin.crawl import PortalReport
from bantin.jobs.crawl import crawl_one, finish_run, start_run
from bantin.settings import Settings
from bantin.sources import Source, load_sources
from flows.naming import slot, sources_detail
from flows.runners import portal_thread_pool

TASK_RETRIES = 2
TASK_RETRY_DELAYS_S: list[float] = [30, 120]


def run_label() -> str:
    """'crawl 2026-11-23 06:00 ham-yen,lam-binh': the slot, then the portals when chosen."""
    return slot("crawl", sources_detail())


class PortalUnreachable(RuntimeError):
    """Nothing of the portal could be listed (robots.txt or listing pages failed): retry later."""


@task(
    name="crawl-one-portal",
    task_run_name="crawl {source.id}",
    retries=TASK_RETRIES,
    retry_delay_seconds=TASK_RETRY_DELAYS_S,
    cache_policy=NO_CACHE,  # a crawl must run every time
)
async def crawl_portal_task(
    source: Source,
    run_id: int,
    offline: bool = False,
    max_pages: int | None = None,
    use_concurrency_limits: bool = False,
) -> dict[str, Any]:
    # Settings come from the environment here, not as a parameter: they hold secrets (SMTP).
    settings = Settings.from_env()
    if use_concurrency_limits:
        from prefect.concurrency.asyncio import concurrency

        async with concurrency(source.concurrency_limit_name, occupy=1, strict=True):
            report = await crawl_one(source, settings, run_id=run_id, offline=offline, max_pages=max_pages)
    else:
        report = await crawl_one(source, settings, run_id=run_id, offline=offline, max_pages=max_pages)
    if report.unreachable:
        raise PortalUnreachable(f"{source.id}: " + "; ".join(report.errors[:3]))
    return report.as_dict()


def _report_rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "portal": r["portal"],
            "listing requests": r["listing_requests"],
            "304": r["not_modified"],
            "articles fetched": r["article_requests"],
            "new articles": r["new_articles"],
            "duplicates": r["duplicates"],
            "errors": len(r["errors"]),
            "first error": (r["errors"][0] if r["errors"] else "")[:200],
            "warnings": "; ".join(r["warnings"])[:200],
        }
        for r in reports
    ]


@flow(
    name="crawl-batch",
    flow_run_name=run_label,
    task_runner=portal_thread_pool(),
    log_prints=False,
)
def crawl_batch(
    sources: list[str] | None = None,
    offline: bool = False,
    max_pages: int | None = None,
    use_concurrency_limits: bool | None = None,
    task_retries: int = TASK_RETRIES,
    task_retry_delay_s: float = TASK_RETRY_DELAYS_S[0],
) -> dict[str, Any]:
    """Crawl the given source ids (default: every enabled source); returns the run's summary.

    A portal that cannot be listed is retried `task_retries` times within the run, then
    reported (fetch log, artifact) and simply crawled again by the next run.
    """
    from prefect.runtime import flow_run

    logger = get_run_logger()
    settings = Settings.from_env()
    if offline:
        settings = settings.model_copy(update={"offline": True})
    if use_concurrency_limits is None:
        use_concurrency_limits = settings.concurrency_limits
    # Bad configuration fails here, before any request (SourcesError names file and line).
    selected = load_sources(settings.sources_file, only=sources)
    run_id = start_run(settings, selected, flow_run_id=str(flow_run.id) if flow_run.id else None)
    portal_task = crawl_portal_task.with_options(retries=task_retries, retry_delay_seconds=task_retry_delay_s)
    # Prefect types an async task's future as a future of its coroutine; its result is the report.
    futures = [
        cast(
            "PrefectFuture[dict[str, Any]]",
            portal_task.submit(
                source,
                run_id,
                offline=settings.offline,
                max_pages=max_pages,
                use_concurrency_limits=use_concurrency_limits,
            ),
        )
        for source in selected
    ]
    reports: list[dict[str, Any]] = []
    for source, future in zip(selected, futures, strict=True):
        try:
            reports.append(future.result())
        except Exception as exc:  # one portal down must not sink the others' report
            logger.warning("portal %s failed: %s", source.id, exc)
            failed = PortalReport(source.id, generic=source.generic, errors=[str(exc)])
            reports.append(failed.as_dict())
    finish_run(settings, run_id, [PortalReport.from_dict(r) for r in reports])
    rows = _report_rows(reports)
    create_table_artifact(table=rows, key="crawl-report", description=f"Crawl run {run_id}: per-portal results")
    total_new = sum(r["new_articles"] for r in reports)
    failed_portals = [r["portal"] for r in reports if r["errors"]]
    create_markdown_artifact(
        key="crawl-summary",
        markdown=(
            f"# Crawl run {run_id}\n\n{len(reports)} portals, {total_new} new articles, "
            f"{sum(r['duplicates'] for r in reports)} duplicates.\n\n"
            + (f"Portals with errors (retried next run): {', '.join(failed_portals)}\n" if failed_portals else "No errors.\n")
        ),
    )
    logger.info("crawl run %s: %s new articles, portals with errors: %s", run_id, total_new, failed_portals or "none")
    return {"run_id": run_id, "new_articles": total_new, "portals": reports}


if __name__ == "__main__":
    crawl_batch(offline=True)
