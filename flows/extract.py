"""Prefect flows: meeting records for stored articles.

    extract_new(batch_size=200)       articles without a record of the current EXTRACTOR_VERSION
    reextract(since=None, batch_size=200)
                                      every stored article (published on/after `since`), re-parsed
                                      from its stored page snapshot, records replaced

One task per batch of articles (not per article): extraction takes a few ms an
article, a task run costs more than that. A batch is one transaction; an article
whose extraction fails is logged and counted, and stays unextracted for the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from bantin.settings import Settings

BATCH_RETRIES = 2
BATCH_RETRY_DELAYS_S: list[float] = [10, 60]


def _local_date(moment: dt.datetime | None, timezone: str) -> dt.date | None:
    return moment.astimezone(ZoneInfo(timezone)).date() if moment else None


def _from_snapshot(session: Any, article: Any) -> tuple[str, str | None, dt.datetime | None] | None:
    """(text, title, published_at) parsed again from the stored page, or None without one."""
    from sqlalchemy import select

    from bantin.parse import parse_article
    from storage.articles import load_snapshot
    from storage.models import Portal

    snapshot = load_snapshot(session, article.url)
    if snapshot is None:
        return None
    family = session.execute(select(Portal.family).where(Portal.id == article.portal_id)).scalar_one_or_none()
    html = snapshot.body.decode(snapshot.encoding or "utf-8", errors="replace")
    parsed = parse_article(html, article.url, family)
    return parsed.text, parsed.title or article.title, parsed.published_at or article.published_at


def _load_articles(session: Any, ids: Sequence[int]) -> list[Any]:
    from sqlalchemy import select

    from storage.meetings import ArticleToExtract
    from storage.models import Article, Portal

    rows = session.execute(
        select(
            Article.id, Article.url, Article.title, Article.text, Article.published_at,
            Article.portal_id, Portal.district, Portal.province,
        )
        .join(Portal, Portal.id == Article.portal_id)
        .where(Article.id.in_(list(ids)))
        .order_by(Article.id)
    )
    return [ArticleToExtract(*row) for row in rows]


def extract_articles(
    session: Any, articles: Sequence[Any], settings: Settings, *, from_snapshots: bool = False
) -> dict[str, Any]:
    """Extract and save the records of `articles` (storage.meetings.ArticleToExtract) in
    `session`'s transaction; returns counts. Plain function: the task wraps it."""
    from bantin.extract import EXTRACTOR_VERSION, extract_meeting
    from storage.meetings import save_meeting

    counts: dict[str, Any] = {"articles": 0, "meetings": 0, "reparsed": 0, "errors": []}
    for article in articles:
        text, title, published_at = article.text, article.title, article.published_at
        try:
            if from_snapshots:
                again = _from_snapshot(session, article)
                if again is not None:
                    text, title, published_at = again
                    counts["reparsed"] += 1
            record = extract_meeting(
                text,
                district=article.district,
                province=article.province,
                published=_local_date(published_at, settings.timezone),
                title=title,
            )
            record.source = article.url
            save_meeting(session, article.id, record.model_dump(mode="json"), EXTRACTOR_VERSION)
        except Exception as exc:  # one bad article must not stop the batch
            counts["errors"].append(f"article {article.id} ({article.url}): {type(exc).__name__}: {exc}")
            continue
        counts["articles"] += 1
        counts["meetings"] += int(record.is_meeting)
    return counts


@task(name="extract-batch", retries=BATCH_RETRIES, retry_delay_seconds=BATCH_RETRY_DELAYS_S, cache_policy=NO_CACHE)
def extract_batch(article_ids: list[int], settings: Settings, from_snapshots: bool, force: bool) -> dict[str, Any]:
    from storage.session import session_factory

    with session_factory(settings).begin() as session:
        # Loaded here rather than passed in: task parameters stay small (ids only).
        batch = _load_articles(session, article_ids)
        counts = extract_articles(session, batch, settings, from_snapshots=from_snapshots)
    logger = get_run_logger()
    for error in counts["errors"]:
        logger.warning(error)
    return counts


def _run(settings: Settings, batch_size: int, since: dt.date | None, force: bool, from_snapshots: bool) -> dict[str, Any]:
    from bantin.extract import EXTRACTOR_VERSION
    from storage.meetings import articles_to_extract
    from storage.session import session_factory

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    with session_factory(settings)() as session:
        ids = [a.id for a in articles_to_extract(session, EXTRACTOR_VERSION, since=since, force=force)]
    total: dict[str, Any] = {"version": EXTRACTOR_VERSION, "articles": 0, "meetings": 0, "reparsed": 0, "errors": [], "batches": 0}
    for i in range(0, len(ids), batch_size):
        counts = extract_batch(ids[i : i + batch_size], settings, from_snapshots, force)
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


def _local_now() -> str:
    return dt.datetime.now(ZoneInfo(Settings().timezone)).strftime("%Y-%m-%d %H:%M")


def _extract_run_name() -> str:
    return f"extract {_local_now()}"


def _reextract_run_name() -> str:
    since = flow_run.parameters.get("since")
    return f"reextract since {since}" if since else "reextract all"


@flow(name="extract-new", flow_run_name=_extract_run_name)
def extract_new(batch_size: int = 200, settings: Settings | None = None) -> dict[str, Any]:
    """Extract every stored article that has no record of the current extractor version."""
    return _run(settings or Settings.from_env(), batch_size, None, force=False, from_snapshots=False)


@flow(name="reextract", flow_run_name=_reextract_run_name)
def reextract(since: dt.date | None = None, batch_size: int = 200, settings: Settings | None = None) -> dict[str, Any]:
    """Re-parse stored snapshots and re-extract with the current version, replacing older records."""
    return _run(settings or Settings.from_env(), batch_size, since, force=True, from_snapshots=True)
