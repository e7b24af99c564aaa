"""Prefect flows: meeting records for stored articles.

    extract_new(batch_size=200)       articles without a record of the current EXTRACTOR_VERSION
    reextract(since=None, batch_size=200)
                                      every stored article (published on/after `since`), re-parsed
                                      from its stored page snapshot, records replaced

One task per batch of articles (not per article): extraction takes a few ms an
article, a task run costs more than that. The job itself is bantin/jobs/extract.py: a
batch is one transaction, each article a savepoint in it; an article whose extraction
fails is logged and counted, and stays unextracted for the next run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from bantin.extract import EXTRACTOR_VERSION
from bantin.jobs.extract import extract_stored, pending_articles
from bantin.settings import Settings
from flows.naming import slot, values
from flows.params import BatchSize
from flows.preflight import preflight

EXTRACT_CHECKS = ("database", "data folder")

BATCH_RETRIES = 2
BATCH_RETRY_DELAYS_S: list[float] = [10, 60]


@task(name="extract-batch", retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAYS_S, cache_policy=NO_CACHE)
def extract_batch(article_ids: list[int], from_snapshots: bool) -> dict[str, Any]:
    # Articles are loaded here rather than passed in: task parameters stay small (ids only).
    counts = extract_stored(Settings.from_env(), article_ids, from_snapshots=from_snapshots)
    logger = get_run_logger()
    for error in counts["errors"]:
        logger.warning(error)
    return counts


def _run(batch_size: int, since: dt.date | None, force: bool, from_snapshots: bool) -> dict[str, Any]:
    if batch_size < 1:
        raise ValueError(f"parameter batch_size: must be >= 1, got {batch_size}")
    preflight(*EXTRACT_CHECKS)
    ids = pending_articles(Settings.from_env(), since=since, force=force)
    total: dict[str, Any] = {"version": EXTRACTOR_VERSION, "articles": 0, "meetings": 0, "reparsed": 0, "errors": [], "batches": 0}
    for i in range(0, len(ids), batch_size):
        counts = extract_batch(ids[i : i + batch_size], from_snapshots)
        total["batches"] += 1
        for k in ("articles", "meetings", "reparsed"):
            total[k] += counts[k]
        total["errors"].extend(counts["errors"])
    create_table_artifact(
        key="extract-report",
        table=[{k: (len(v) if isinstance(v, list) else v) for k, v in total.items()}],
        description=f"extractor {EXTRACTOR_VERSION}",
    )
    get_run_logger().info(
        "extracted %d articles (%d meetings) in %d batches, %d errors",
        total["articles"], total["meetings"], total["batches"], len(total["errors"]),
    )
    return total


def _extract_run_name() -> str:
    return slot("extract")


def _reextract_run_name() -> str:
    params = flow_run.parameters
    since = params.get("since")
    return " ".join(["reextract", f"since {since}" if since else "all", *values(params, {"batch_size": 200})])


@flow(name="extract-new", flow_run_name=_extract_run_name)
def extract_new(batch_size: BatchSize = 200) -> dict[str, Any]:
    """Extract every stored article that has no record of the current extractor version.

    Args:
        batch_size: Articles per task (one transaction each).
    """
    return _run(batch_size, None, force=False, from_snapshots=False)


@flow(name="reextract", flow_run_name=_reextract_run_name)
def reextract(since: dt.date | None = None, batch_size: BatchSize = 200) -> dict[str, Any]:
    """Re-parse stored snapshots and re-extract with the current version, replacing older records.

    Args:
        since: Only articles published on or after this day (YYYY-MM-DD); empty: every stored article.
        batch_size: Articles per task (one transaction each).
    """
    return _run(batch_size, since, force=True, from_snapshots=True)
