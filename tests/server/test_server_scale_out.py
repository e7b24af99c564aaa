"""Scale-out: Prefect server and app database on PostgreSQL, two workers sharing one crawl.

Runs when BANTIN_TEST_DATABASE_URL is set (CI has PostgreSQL); the session's Prefect
server is then on PostgreSQL too (tests/prefect_harness/fixtures.py). `crawl-portals` with
fan_out=true starts one `crawl-batch` run per batch of portals; with two workers of
two slots each and four runs (parent + three batches), both workers must take runs.
Then: every portal crawled once, no duplicate article rows, and each host's requests
spaced by its politeness interval although several processes crawled at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server_helpers import app_env, enabled_source_ids, python_module, record_timing
from tests.prefect_harness.api import PrefectApi, run_deployment_cli
from tests.prefect_harness.procs import PROJECT_ROOT, PrefectServer, prefect_cli, start_worker

PG_URL_ENV = "BANTIN_TEST_DATABASE_URL"
PREFECT_FILE = PROJECT_ROOT / "deploy" / "prefect.yaml"
BATCH_SIZE = 2
# The fetcher reserves start slots one interval apart; a request starts at its slot plus
# the event loop's wake-up lateness, which on a loaded 2-core CI box reaches a few 100 ms.
SPACING_TOLERANCE_S = 0.3

pytestmark = pytest.mark.skipif(not os.environ.get(PG_URL_ENV), reason=f"{PG_URL_ENV} not set")


@pytest.fixture
def app_database() -> Iterator[str]:
    """A fresh app database on the test PostgreSQL (the workers' BANTIN_DATABASE_URL); dropped after."""
    base = make_url(os.environ[PG_URL_ENV])
    name = f"bantin_app_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _host_intervals() -> dict[str, float]:
    """Seconds between request starts per portal host, from deploy/sources.yaml's politeness."""
    from bantin.settings import FetchSettings
    from bantin.sources import load_sources

    default_rate = FetchSettings().requests_per_second
    return {
        source.host: 1.0 / (source.politeness.requests_per_second or default_rate)
        for source in load_sources(PROJECT_ROOT / "deploy" / "sources.yaml")
    }


def test_fan_out_crawl_on_two_workers_with_postgresql(
    prefect_server: PrefectServer, prefect_api: PrefectApi, work_pool: str, app_database: str, tmp_path: Path
) -> None:
    assert prefect_server.database_url.startswith("postgresql+asyncpg://")
    server, api, app_db_url = prefect_server, prefect_api, app_database
    workers = []
    try:
        env = app_env(server, tmp_path / "data", database_url=app_db_url)
        python_module(["flows.serve", "--create-limits"], env)
        prefect_cli(["deploy", "--all", "--prefect-file", str(PREFECT_FILE)], env)
        for name in ("crawl-portals", "weekly-digest"):  # no scheduled run mid-test
            api.deactivate_schedules(api.deployment(name, name))
        # Two slots each: the parent and three batch runs need both workers. The app's
        # settings (database URL with its password) live in the workers' environment.
        worker_env = {k: v for k, v in env.items() if not k.startswith("PREFECT_")}
        workers = [start_worker(server, work_pool, name, env=worker_env, limit=2) for name in ("worker-a", "worker-b")]

        started = time.monotonic()
        parent_id = run_deployment_cli(
            "crawl-portals/crawl-portals",
            {"offline": "true", "fan_out": "true", "batch_size": str(BATCH_SIZE)},
            env,
        )
        parent = api.wait(parent_id, timeout_s=420)
        record_timing("crawl-portals fan_out=true, 2 workers, PostgreSQL: triggered -> Completed", time.monotonic() - started)
        assert parent["name"].endswith(f" offline (fan-out by {BATCH_SIZE})")

        child_deployment = api.deployment("crawl-batch", "crawl-batch")
        children = api.flow_runs({"deployments": {"id": {"any_": [child_deployment["id"]]}}})
        sources = enabled_source_ids()
        assert len(children) == -(-len(sources) // BATCH_SIZE)
        assert all(c["state_type"] == "COMPLETED" for c in children), [(c["name"], c["state_type"]) for c in children]
        runs_by_worker: dict[str, int] = defaultdict(int)
        for run in [parent, *children]:
            runs_by_worker[run["labels"].get("prefect.worker.name", "?")] += 1
        assert set(runs_by_worker) == {"worker-a", "worker-b"}, runs_by_worker
        assert {"crawl-fan-out", "crawl-report", "crawl-summary"} <= {a["key"] for a in api.artifacts(parent_id)}
        # One crawl report for the whole crawl, on the parent; the batches' own tables carry no key.
        (report,) = [a for a in api.artifacts(parent_id) if a["key"] == "crawl-report"]
        rows = json.loads(report["data"]) if isinstance(report["data"], str) else report["data"]
        assert sorted(r["portal"] for r in rows) == sorted(enabled_source_ids())
        assert all(a["key"] is None for c in children for a in api.artifacts(c["id"]) if a["type"] == "table")
        for limit_name in (f"portal-{s}" for s in sources):
            limit = api.concurrency_limit(limit_name)
            assert limit is not None and limit["active_slots"] == 0, limit  # taken and given back

        engine = create_engine(app_db_url)
        with engine.connect() as conn:
            runs = conn.execute(text("SELECT flow_run_id, stats FROM crawl_runs")).all()
            duplicates = conn.execute(text("SELECT url, count(*) FROM articles GROUP BY url HAVING count(*) > 1")).all()
            per_portal = dict(conn.execute(text("SELECT portal_id, count(*) FROM articles GROUP BY portal_id")).all())
            fetches = conn.execute(
                text(
                    "SELECT host, requested_at, duration_ms FROM fetch_log "
                    "WHERE status IS NOT NULL ORDER BY host, requested_at"
                )
            ).all()
            meetings = conn.execute(text("SELECT count(*) FROM meetings")).scalar_one()
        engine.dispose()

        # Each batch run is one crawl run; together they crawled every portal exactly once.
        assert {r.flow_run_id for r in runs} == {c["id"] for c in children}
        crawled = [p["portal"] for r in runs for p in r.stats["portals"]]
        assert sorted(crawled) == sorted(sources)
        assert duplicates == []
        assert set(per_portal) == set(sources)
        assert meetings > 0  # the parent extracted after the batches

        # Politeness across processes: request starts per host at least one interval apart.
        intervals = _host_intervals()
        starts: dict[str, list[dt.datetime]] = defaultdict(list)
        for host, requested_at, duration_ms in fetches:
            starts[host].append(requested_at - dt.timedelta(milliseconds=duration_ms))
        assert set(intervals) <= set(starts)
        too_close = []
        for host, times in starts.items():
            times.sort()
            interval = intervals.get(host, 1.0)
            # k requests after any request, at least k intervals have passed (a second process
            # crawling the host at the same rate would halve that).
            for j in range(1, len(times)):
                for i in range(j):
                    elapsed = (times[j] - times[i]).total_seconds()
                    if elapsed < (j - i) * interval - SPACING_TOLERANCE_S:
                        too_close.append((host, j - i, round(elapsed, 3)))
        assert len(fetches) > 2 * len(sources)
        assert too_close == []
    finally:
        for worker in workers:
            worker.stop()
