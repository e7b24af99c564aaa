"""Crawl runs read back: what each finished run reported per portal.

Functions take a Session and never commit, like storage.crawl (which writes these rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, RunStatus


@dataclass(frozen=True, slots=True)
class FinishedRun:
    id: int
    flow_run_id: str | None
    portals: list[dict[str, Any]]  # the run's per-portal reports (stats["portals"])


def _finished(row: CrawlRun) -> FinishedRun:
    portals = (row.stats or {}).get("portals") or []
    return FinishedRun(row.id, row.flow_run_id, list(portals))


def recent_finished_runs(session: Session, limit: int) -> list[FinishedRun]:
    """The last `limit` finished crawl runs, newest first."""
    stmt = select(CrawlRun).where(CrawlRun.status == RunStatus.FINISHED).order_by(CrawlRun.id.desc()).limit(limit)
    return [_finished(row) for row in session.scalars(stmt)]


def runs_of_flow_runs(session: Session, flow_run_ids: Sequence[str]) -> list[FinishedRun]:
    """The finished crawl runs that these (Prefect) flow runs wrote, oldest first."""
    if not flow_run_ids:
        return []
    stmt = (
        select(CrawlRun)
        .where(CrawlRun.flow_run_id.in_(list(flow_run_ids)), CrawlRun.status == RunStatus.FINISHED)
        .order_by(CrawlRun.id)
    )
    return [_finished(row) for row in session.scalars(stmt)]
