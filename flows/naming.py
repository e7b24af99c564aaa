"""Flow run names: the local time slot and the parameters that tell runs apart."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bantin.settings import Settings


def slot(prefix: str, *details: str) -> str:
    """'crawl 2026-11-23 06:00 ham-yen,lam-binh': the scheduled slot in local time (not the
    start second, so a late start keeps its slot's name), then the details given."""
    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time or dt.datetime.now(dt.UTC)
    local = when.astimezone(ZoneInfo(Settings.from_env().timezone))
    return " ".join([f"{prefix} {local:%Y-%m-%d %H:%M}", *(d for d in details if d)])


def sources_detail() -> str:
    """The run's `sources` parameter, as 'ham-yen,lam-binh' (empty: every portal)."""
    from prefect.runtime import flow_run

    return ",".join(flow_run.parameters.get("sources") or [])
