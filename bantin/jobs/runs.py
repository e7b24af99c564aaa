"""Crawl runs read back: failed portals, how many runs in a row each has failed, and the
reports of the runs a fan-out started (the parent's one crawl report).

A portal is *down* in a run when nothing of it could be listed (robots.txt and listing
pages failed: `PortalReport.unreachable`, the Prefect task's retries used up) or when it
yielded nothing usable (`PortalReport.failed`: no article link, only empty bodies). A few
articles that failed to fetch are not that: the URL ledger retries them (docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from bantin.crawl import PortalReport
from bantin.jobs.db import database
from bantin.settings import Settings
from storage import history

LOOK_BACK_RUNS = 200  # runs read to count a streak (a portal is in most of them)


def portal_down(report: PortalReport) -> bool:
    return report.failed is not None or report.unreachable


def down_reason(report: PortalReport) -> str:
    """The first error of a down portal (its URL included), for run messages and alerts."""
    return report.errors[0] if report.errors else (report.failed or "failed")


def failure_streaks(settings: Settings, portal_ids: Sequence[str]) -> dict[str, int]:
    """For each portal: in how many of its last crawls in a row it was down (0: the last was fine)."""
    with database(settings)() as session:
        runs = history.recent_finished_runs(session, LOOK_BACK_RUNS)
    streaks: dict[str, int] = {}
    open_ = set(portal_ids)
    for run in runs:  # newest first
        for data in run.portals:
            portal = data.get("portal")
            if portal not in open_:
                continue
            if portal_down(PortalReport.from_dict(data)):
                streaks[portal] = streaks.get(portal, 0) + 1
            else:
                open_.discard(portal)  # the streak ends at its last good crawl
        if not open_:
            break
    return {p: streaks.get(p, 0) for p in portal_ids}


def reports_of_flow_runs(settings: Settings, flow_run_ids: Sequence[str]) -> dict[str, tuple[list[int], list[PortalReport]]]:
    """The crawl runs these flow runs finished (ids) and their per-portal reports, by flow run
    id (a flow run that finished no crawl run is absent)."""
    with database(settings)() as session:
        runs = history.runs_of_flow_runs(session, flow_run_ids)
    found: dict[str, tuple[list[int], list[PortalReport]]] = {}
    for run in runs:
        if run.flow_run_id is not None:
            ids, reports = found.setdefault(run.flow_run_id, ([], []))
            ids.append(run.id)
            reports.extend(PortalReport.from_dict(p) for p in run.portals)
    return found
