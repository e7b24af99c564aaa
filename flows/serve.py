"""bantin on one box: serve the deployments of deploy/prefect.yaml from one process.

    python -m flows.serve                    # create the portal limits, then serve (Ctrl-C stops)
    python -m flows.serve --limit 2          # at most 2 flow runs at once (default 4)
    python -m flows.serve --create-limits    # only create/update "portal-<id>" limits, then exit
    python -m flows.serve --create-limits --prune   # also delete limits of removed portals

Needs a Prefect server (`prefect server start`, PREFECT_API_URL set). The deployments —
names, entrypoints, schedules, parameters, concurrency — are read from deploy/prefect.yaml,
so `prefect deploy --all` (workers, several machines) and this command (one process, no
work pool) always agree. Flow runs are subprocesses of this one, with its environment. A
deployment `prefect deploy` registered for a work pool is served in place: same id, so
its runs and the automations' links stay (adopt_pool_deployments).

The global concurrency limits "portal-<id>" (one per source of deploy/sources.yaml, limit
1) must exist before a deployed crawl runs: the crawl takes them with strict=True, so a
missing or misspelt limit fails the run loudly instead of crawling unguarded.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFECT_FILE = PROJECT_ROOT / "deploy" / "prefect.yaml"
PORTAL_LIMIT_PREFIX = "portal-"
PORTAL_LIMIT_SLOTS = 1  # one crawl of a portal at a time, on any machine
DEFAULT_RUN_LIMIT = 4
_TEMPLATE = re.compile(r"\{\{.*?\}\}")


class DeployConfigError(ValueError):
    """deploy/prefect.yaml cannot be turned into deployments; the message names the entry."""


@dataclass
class DeploymentSpec:
    """What `serve()` needs from one entry of prefect.yaml's `deployments:`."""

    name: str
    entrypoint: str
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    concurrency_limit: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)


def read_deployments(path: Path = PREFECT_FILE) -> list[DeploymentSpec]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeployConfigError(f"{path}: {exc}") from None
    entries = (data or {}).get("deployments") or []
    if not entries:
        raise DeployConfigError(f"{path}: no `deployments:` entries")
    specs = []
    for i, entry in enumerate(entries):
        where = f"{path}: deployments[{i}]"
        for key in ("name", "entrypoint"):
            if not entry.get(key):
                raise DeployConfigError(f"{where}: `{key}` is missing")
        env = ((entry.get("work_pool") or {}).get("job_variables") or {}).get("env") or {}
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry.get("description"),
                tags=list(entry.get("tags") or []),
                parameters=dict(entry.get("parameters") or {}),
                schedules=list(entry.get("schedules") or []),
                concurrency_limit=entry.get("concurrency_limit"),
                env={str(k): str(v) for k, v in env.items()},
            )
        )
    return specs


def load_flow(entrypoint: str) -> Any:
    """'flows/digest.py:weekly_digest' -> the flow object (imported as flows.digest)."""
    file_part, _, attr = entrypoint.partition(":")
    if not file_part.endswith(".py") or not attr:
        raise DeployConfigError(f"entrypoint {entrypoint!r}: expected path/to/file.py:flow_function")
    module = importlib.import_module(file_part[: -len(".py")].replace("/", "."))
    try:
        return getattr(module, attr)
    except AttributeError:
        raise DeployConfigError(f"entrypoint {entrypoint!r}: {module.__name__} has no {attr!r}") from None


def build_deployments(specs: list[DeploymentSpec]) -> list[Any]:
    """RunnerDeployments for `serve()`, with prefect.yaml's schedules and concurrency."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    deployments = []
    for spec in specs:
        flow = load_flow(spec.entrypoint)
        schedules = []
        for sched in spec.schedules:
            if "cron" not in sched:
                raise DeployConfigError(f"deployment {spec.name}: only cron schedules are supported, got {sched}")
            schedules.append(
                Cron(
                    sched["cron"],
                    timezone=sched.get("timezone"),
                    active=sched.get("active", True),
                    parameters=sched.get("parameters") or {},
                )
            )
        concurrency = None
        if spec.concurrency_limit:
            strategy = spec.concurrency_limit.get("collision_strategy", "ENQUEUE")
            concurrency = ConcurrencyLimitConfig(
                limit=int(spec.concurrency_limit["limit"]), collision_strategy=ConcurrencyLimitStrategy(strategy)
            )
        deployments.append(
            flow.to_deployment(
                name=spec.name,
                schedules=schedules,
                parameters=spec.parameters,
                description=spec.description,
                tags=spec.tags,
                concurrency_limit=concurrency,
            )
        )
    return deployments


def apply_static_env(specs: list[DeploymentSpec]) -> None:
    """Served runs inherit this process's environment: set prefect.yaml's literal env
    values (BANTIN_CONCURRENCY_LIMITS=1, ...) where unset; `{{ $VAR }}` ones are already
    this process's own."""
    for spec in specs:
        for key, value in spec.env.items():
            if not _TEMPLATE.search(value):
                os.environ.setdefault(key, value)


def portal_limit_names(sources_file: Path) -> list[str]:
    """'portal-<id>' for every source, enabled or not (enabling one must not break a crawl)."""
    from bantin.sources import load_sources

    return [s.concurrency_limit_name for s in load_sources(sources_file, include_disabled=True)]


async def create_portal_limits(sources_file: Path, prune: bool = False) -> list[str]:
    """Create or update the global concurrency limits; returns one line per change."""
    from prefect.client.orchestration import get_client

    names = portal_limit_names(sources_file)
    changes: list[str] = []
    async with get_client() as client:
        existing = {}
        offset = 0
        while True:  # the API pages its answer
            page = await client.read_global_concurrency_limits(limit=200, offset=offset)
            existing.update({limit.name: limit for limit in page})
            if len(page) < 200:
                break
            offset += 200
        for name in names:
            current = existing.get(name)
            if current is None:
                changes.append(f"created {name} (limit {PORTAL_LIMIT_SLOTS})")
            elif current.limit != PORTAL_LIMIT_SLOTS or not current.active:
                changes.append(f"updated {name}: limit {current.limit} -> {PORTAL_LIMIT_SLOTS}")
            else:
                continue
            await client.upsert_global_concurrency_limit_by_name(name, PORTAL_LIMIT_SLOTS)
            if current is not None and not current.active:
                from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

                await client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active=True))
        if prune:
            for name in sorted(set(existing) - set(names)):
                if name.startswith(PORTAL_LIMIT_PREFIX):
                    await client.delete_global_concurrency_limit_by_name(name)
                    changes.append(f"deleted {name} (no such source)")
    return changes


async def adopt_pool_deployments(deployments: list[Any]) -> list[str]:
    """Turn deployments of these names that `prefect deploy` registered for a work pool into
    served ones, in place: same id, so their runs, schedules' history and automations stay.

    Serving alone would update them but keep what the pool version had (its pull steps,
    no path), with which a served flow run crashes at start ("Downloading flow code from
    storage at None"); so the pool, pull steps and job variables are cleared first and the
    path set to the project directory (serve's working directory).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.exceptions import ObjectNotFound

    adopted = []
    async with get_client() as client:
        for deployment in deployments:
            full_name = f"{deployment.flow_name}/{deployment.name}"
            try:
                existing = await client.read_deployment_by_name(full_name)
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                await client.update_deployment(
                    existing.id,
                    DeploymentUpdate(work_pool_name=None, pull_steps=None, job_variables={}, path="."),
                )
                adopted.append(
                    f"serving {full_name} (id {existing.id}) from this process instead of work pool "
                    f"{existing.work_pool_name}; its runs stay"
                )
    return adopted


def require_api() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise SystemExit(
            "PREFECT_API_URL is not set: start a server (`prefect server start`) and "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api` (docs/prefect.md)"
        )
    return str(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--create-limits", action="store_true", help="create/update the portal-<id> limits and exit")
    parser.add_argument("--prune", action="store_true", help="with --create-limits: delete limits of removed portals")
    parser.add_argument("--limit", type=int, default=DEFAULT_RUN_LIMIT, help="max concurrent flow runs when serving")
    parser.add_argument("--prefect-file", type=Path, default=PREFECT_FILE)
    parser.add_argument("--sources", type=Path, default=None, help="sources file (default: BANTIN_SOURCES or deploy/sources.yaml)")
    args = parser.parse_args(argv)

    from bantin.settings import Settings

    sources_file = args.sources or Settings.from_env().sources_file
    api_url = require_api()
    for line in asyncio.run(create_portal_limits(sources_file, prune=args.prune)) or ["portal limits up to date"]:
        print(line, flush=True)
    if args.create_limits:
        return 0

    # Entrypoints are project paths: serve from the project directory, like the pull step.
    os.chdir(PROJECT_ROOT)
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    specs = read_deployments(args.prefect_file)
    apply_static_env(specs)
    from prefect import serve

    print(f"loading {', '.join(s.entrypoint for s in specs)}", flush=True)
    deployments = build_deployments(specs)
    for line in asyncio.run(adopt_pool_deployments(deployments)):
        print(line, flush=True)
    print(f"serving {', '.join(s.name for s in specs)} on {api_url}, at most {args.limit} runs at once", flush=True)
    serve(*deployments, limit=args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
