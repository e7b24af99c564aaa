"""Prefect flow "crawl-batch": crawl portals of deploy/sources.yaml in this process, one task per portal.

    crawl_batch(sources=None, offline=False, max_pages=None, use_concurrency_limits=None)

The scheduled deployment "crawl-portals" (flows/fanout.py) runs this body, or fans out
one "crawl-batch" deployment run per batch of portals.

The run starts with the preflight (sources, database, data folder: flows/preflight.py).
Portals run in parallel on a thread pool bounded by FetchSettings.max_portals_in_parallel;
each task crawls one portal (bantin.jobs.crawl.crawl_one). With `use_concurrency_limits`
(or BANTIN_CONCURRENCY_LIMITS=1) each portal runs inside the Prefect global concurrency
limit "portal-<id>" (strict: the limit must exist).

Retries, one layer each: the fetcher retries a request 4 times within seconds (a blip);
the task is retried only when the portal could not be listed at all (`PortalUnreachable`:
an outage), after 1 min then 2 min, each ±50 % jitter, and those retries make one attempt
per request. A portal down costs 4 + 1 + 1 robots.txt requests a run, not 12.

A portal still down after its retries (or one that yielded nothing usable) ends the run
**Failed**, its message naming each such portal and its first error with the URL; the
other portals' articles are stored all the same. Each down portal is also the event
`bantin.portal.down` (resource `bantin.portal.<id>`, label `bantin.down-runs-in-a-row`),
and `bantin.portal.failing` once it has been down PORTAL_FAILING_RUNS runs in a row: the
automations of deploy/automations.yaml report them.

The run leaves the table artifact "crawl-report" (per portal: listing requests, 304s,
new articles, duplicates, errors) and "crawl-summary"; a batch that is part of a fan-out
leaves them without key (its parent publishes the one "crawl-report" of the whole crawl).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture
from prefect.states import Failed
from prefect.tasks import exponential_backoff

from bantin.crawl import PortalReport
from bantin.jobs.crawl import crawl_one, finish_run, start_run
from bantin.jobs.runs import down_reason, failure_streaks, portal_down
from bantin.settings import Settings
from bantin.sources import Source
from flows.naming import flags, parameters, slot, sources_detail, values
from flows.params import DelaySeconds, MaxPages, Retries, SourceIds, selected_sources
from flows.preflight import preflight
from flows.runners import portal_thread_pool

TASK_RETRIES = 2
TASK_RETRY_BACKOFF_S = 60.0  # first retry after 1 min, then 2 min
TASK_RETRY_JITTER = 0.5  # each delay up to 50 % longer, so portals retried together spread out
PORTAL_FAILING_RUNS = 3  # down this many runs in a row: the event bantin.portal.failing
CRAWL_CHECKS = ("sources", "database", "data folder")


def run_label() -> str:
    """'crawl 2026-11-23 06:00 ham-yen,lam-binh offline': the slot, the portals when chosen, the flags."""
    params = parameters()
    return slot("crawl", sources_detail(), *flags(params, offline="offline"), *values(params, {"max_pages": None}))


class PortalUnreachable(RuntimeError):
    """Nothing of the portal could be listed (robots.txt or listing pages failed): retry later."""

    def __init__(self, portal_id: str, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(f"portal {portal_id} unreachable: " + "; ".join(errors[:3]))


def retry_only_unreachable(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Task retries are for an unreachable portal only: a bug, a lost database or a missing
    concurrency limit fails at once (the fetcher has retried each request already)."""
    # The exception itself (state.result() would be a coroutine here: the task is async);
    # its name in the message when results are persisted.
    return isinstance(state.data, PortalUnreachable) or f"{PortalUnreachable.__name__}(" in (state.message or "")


def retry_delays(retries: int, first_delay_s: float | None) -> list[float]:
    return exponential_backoff(TASK_RETRY_BACKOFF_S if first_delay_s is None else first_delay_s)(retries)


@task(
    name="crawl-one-portal",
    task_run_name="crawl {source.id}",
    retries=TASK_RETRIES,
    retry_delay_seconds=retry_delays(TASK_RETRIES, None),
    retry_jitter_factor=TASK_RETRY_JITTER,
    retry_condition_fn=retry_only_unreachable,
    cache_policy=NO_CACHE,  # a crawl must run every time
)
async def crawl_portal_task(
    source: Source,
    run_id: int,
    offline: bool = False,
    max_pages: int | None = None,
    use_concurrency_limits: bool = False,
) -> dict[str, Any]:
    from prefect.runtime import task_run

    # Settings come from the environment here, not as a parameter: they hold secrets (SMTP).
    settings = Settings.from_env()
    if task_run.run_count > 1:  # a task retry: one attempt per request, the fetcher's retries were spent
        settings = settings.model_copy(update={"fetch": settings.fetch.model_copy(update={"max_retries": 0})})
    if use_concurrency_limits:
        from prefect.concurrency.asyncio import concurrency

        async with concurrency(source.concurrency_limit_name, occupy=1, strict=True):
            report = await crawl_one(source, settings, run_id=run_id, offline=offline, max_pages=max_pages)
    else:
        report = await crawl_one(source, settings, run_id=run_id, offline=offline, max_pages=max_pages)
    if report.unreachable:
        raise PortalUnreachable(source.id, report.errors)
    return report.as_dict()


@dataclass
class CrawlOutcome:
    """What a crawl did: its runs' reports, and the portals that were down."""

    run_ids: list[int]
    reports: list[PortalReport]
    down: list[PortalReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # batch runs that ended without a report

    @property
    def new_articles(self) -> int:
        return sum(r.new_articles for r in self.reports)

    def summary(self) -> dict[str, Any]:
        return {
            "run_ids": self.run_ids,
            "new_articles": self.new_articles,
            "portals": [r.as_dict() for r in self.reports],
            "down": [r.portal_id for r in self.down],
        }

    def failure_message(self) -> str | None:
        """'portal down: lam-binh (listing https://…: https://…/robots.txt unreachable (…)). 5 other portals crawled: 47 new articles'."""
        parts = [f"{r.portal_id} ({down_reason(r)[:300]})" for r in self.down] + self.notes
        if not parts:
            return None
        ok = len(self.reports) - len(self.down)
        head = "portal down: " if len(parts) == 1 else f"{len(parts)} portals down: "
        return f"{head}{'; '.join(parts)}. {ok} other portal{'s' if ok != 1 else ''} crawled: {self.new_articles} new articles"


def report_rows(reports: list[PortalReport]) -> list[dict[str, Any]]:
    return [
        {
            "portal": r.portal_id,
            "state": "DOWN" if portal_down(r) else "errors" if r.errors else "ok",
            "listing requests": r.listing_requests,
            "304": r.not_modified,
            "articles fetched": r.article_requests,
            "new articles": r.new_articles,
            "duplicates": r.duplicates,
            "errors": len(r.errors),
            "first error": (r.errors[0] if r.errors else "")[:200],
            "warnings": "; ".join(r.warnings)[:200],
        }
        for r in reports
    ]


def publish_report(outcome: CrawlOutcome, *, keyed: bool) -> None:
    """The crawl-report table and crawl-summary note (keyed: the run's one crawl report)."""
    runs = ", ".join(str(i) for i in outcome.run_ids) or "-"
    create_table_artifact(
        table=report_rows(outcome.reports),
        key="crawl-report" if keyed else None,
        description=f"Crawl run{'s' if len(outcome.run_ids) > 1 else ''} {runs}: per-portal results",
    )
    message = outcome.failure_message()
    with_errors = [r.portal_id for r in outcome.reports if r.errors and not portal_down(r)]
    create_markdown_artifact(
        key="crawl-summary" if keyed else None,
        markdown=(
            f"# Crawl run{'s' if len(outcome.run_ids) > 1 else ''} {runs}\n\n"
            f"{len(outcome.reports)} portals, {outcome.new_articles} new articles, "
            f"{sum(r.duplicates for r in outcome.reports)} duplicates.\n\n"
            + (f"**Down:** {message}\n\n" if message else "No portal down.\n\n")
            + (f"Some articles failed (retried next run): {', '.join(with_errors)}\n" if with_errors else "")
        ),
    )


def announce_down(settings: Settings, down: list[PortalReport]) -> None:
    """One event per down portal, and 'failing' when it has been down PORTAL_FAILING_RUNS runs in a row."""
    if not down:
        return
    from prefect.events import emit_event

    logger = get_run_logger()
    streaks = failure_streaks(settings, [r.portal_id for r in down])
    for report in down:
        streak = max(streaks.get(report.portal_id, 0), 1)
        resource = {
            "prefect.resource.id": f"bantin.portal.{report.portal_id}",
            "prefect.resource.name": report.portal_id,
            "bantin.down-runs-in-a-row": str(streak),
        }
        payload = {"error": down_reason(report)[:1000], "runs_in_a_row": streak}
        emit_event("bantin.portal.down", resource=resource, payload=payload)
        if streak >= PORTAL_FAILING_RUNS:
            emit_event("bantin.portal.failing", resource=resource, payload=payload)
            logger.error("portal %s has been down %d crawls in a row: %s", report.portal_id, streak, down_reason(report))


def crawl_here(
    sources: list[str] | None,
    offline: bool,
    max_pages: int | None,
    use_concurrency_limits: bool | None,
    task_retries: int = TASK_RETRIES,
    task_retry_delay_s: float | None = None,
) -> CrawlOutcome:
    """The crawl in this process: preflight, one task per portal, the crawl_runs row, events."""
    from prefect.runtime import flow_run

    logger = get_run_logger()
    preflight(*CRAWL_CHECKS)
    settings = Settings.from_env()
    if offline:
        settings = settings.model_copy(update={"offline": True})
    if use_concurrency_limits is None:
        use_concurrency_limits = settings.concurrency_limits
    selected = selected_sources(settings, sources)
    run_id = start_run(settings, selected, flow_run_id=str(flow_run.id) if flow_run.id else None)
    portal_task = crawl_portal_task.with_options(
        retries=task_retries, retry_delay_seconds=retry_delays(task_retries, task_retry_delay_s)
    )
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
    reports: list[PortalReport] = []
    for source, future in zip(selected, futures, strict=True):
        try:
            reports.append(PortalReport.from_dict(future.result()))
        except Exception as exc:  # one portal down must not sink the others' crawl
            logger.error("portal %s down: %s", source.id, exc)
            errors = exc.errors if isinstance(exc, PortalUnreachable) else [f"{type(exc).__name__}: {exc}"]
            reports.append(PortalReport(source.id, generic=source.generic, errors=errors))
    finish_run(settings, run_id, reports)
    outcome = CrawlOutcome([run_id], reports, [r for r in reports if portal_down(r)])
    announce_down(settings, outcome.down)
    logger.info(
        "crawl run %s: %s new articles, portals down: %s",
        run_id,
        outcome.new_articles,
        ", ".join(r.portal_id for r in outcome.down) or "none",
    )
    return outcome


def final_state(outcome: CrawlOutcome, result: dict[str, Any]) -> dict[str, Any] | State[Any]:
    """The run's end: its summary when every portal was crawled, else Failed naming the portals down."""
    message = outcome.failure_message()
    return Failed(message=message, data=result) if message else result


@flow(
    name="crawl-batch",
    flow_run_name=run_label,
    task_runner=portal_thread_pool(),
    log_prints=False,
)
def crawl_batch(
    sources: SourceIds = None,
    offline: bool = False,
    max_pages: MaxPages = None,
    use_concurrency_limits: bool | None = None,
    task_retries: Retries = TASK_RETRIES,
    task_retry_delay_s: DelaySeconds = None,
) -> Any:
    """Crawl the given portals in this process; Failed when a portal is down.

    Args:
        sources: Source ids of deploy/sources.yaml, e.g. ["ham-yen"]; empty: every enabled portal.
        offline: Crawl the fixture portals instead of the network (demo, tests).
        max_pages: Listing pages per listing at most; empty: the sources file's bound.
        use_concurrency_limits: Hold the Prefect limit "portal-<id>" while crawling a portal; empty: BANTIN_CONCURRENCY_LIMITS.
        task_retries: Retries of a portal that could not be listed at all (then one attempt per request).
        task_retry_delay_s: Seconds before the first such retry, doubled for the next; empty: 60.
    """
    from prefect.runtime import flow_run

    outcome = crawl_here(sources, offline, max_pages, use_concurrency_limits, task_retries, task_retry_delay_s)
    # Part of a fan-out: the parent publishes the crawl's one keyed report.
    publish_report(outcome, keyed=flow_run.parent_flow_run_id is None)
    return final_state(outcome, outcome.summary())


if __name__ == "__main__":
    crawl_batch(offline=True)
