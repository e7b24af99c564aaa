"""Flow run names: the local time slot and the parameters that tell runs apart.

Two runs with different parameters never share a name: every parameter that changes what
a run does appears in it when it differs from its default ("crawl 2026-11-23 06:00
ham-yen offline", "digest 2024-W27 Hàm Yên send").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bantin.settings import Settings


def slot(prefix: str, *details: str) -> str:
    """'crawl 2026-11-23 06:00 ham-yen,lam-binh': the scheduled slot in local time (not the
    start second, so a late start keeps its slot's name), then the details given."""
    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time or dt.datetime.now(dt.UTC)
    local = when.astimezone(ZoneInfo(Settings.from_env().timezone))
    return " ".join([f"{prefix} {local:%Y-%m-%d %H:%M}", *(d for d in details if d)])


def parameters() -> Mapping[str, Any]:
    from prefect.runtime import flow_run

    found: Mapping[str, Any] = flow_run.parameters
    return found


def sources_detail() -> str:
    """The run's `sources` parameter, as 'ham-yen,lam-binh' (empty: every portal)."""
    return ",".join(parameters().get("sources") or [])


def flags(params: Mapping[str, Any], **shown: str) -> list[str]:
    """The words of the flags that are on: flags(p, send="send", dry_run="dry-run")."""
    return [word for key, word in shown.items() if params.get(key)]


def values(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """'key=value' for each parameter set to something else than its default."""
    out = []
    for key, default in defaults.items():
        value = params.get(key, default)
        if value is not None and value != default:
            out.append(f"{key.replace('_', '-')}={value}")
    return out
