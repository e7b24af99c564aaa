"""The task runner of the crawl flows (flows/crawl.py and flows/fanout.py)."""

from __future__ import annotations

from typing import Any, cast

from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from bantin.settings import FetchSettings


def portal_thread_pool() -> TaskRunner[PrefectFuture[Any]]:
    """Threads for the portal tasks, as many as FetchSettings.max_portals_in_parallel.

    The cast: `flow(task_runner=)` is typed TaskRunner[PrefectFuture[Any]], which Prefect's
    own ThreadPoolTaskRunner (a TaskRunner[PrefectConcurrentFuture[R]], and TaskRunner is
    invariant) never matches; Prefect's Flow casts it the same way.
    """
    return cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=FetchSettings().max_portals_in_parallel))
