"""deploy/prefect.yaml on a real Prefect server with a real process worker.

The user's path, step by step: create the portal limits, `prefect deploy --all`, start a
worker, trigger `crawl-portals` (offline fixture portals) and `weekly-digest` with
`prefect deployment run ... --param`, and find the result where a user would: articles
and meetings in the app database, the digest's .html in the archive and its .eml files
in the outbox, the schedules' next runs on the server.
"""

from __future__ import annotations

import datetime as dt
import time
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import create_engine, text

from server_helpers import app_env, enabled_source_ids, python_module, record_timing
from tests.crawl.conftest import fast_sources_file
from tests.prefect_harness.api import PrefectApi, parse_time, run_deployment_cli
from tests.prefect_harness.procs import PROJECT_ROOT, PrefectServer, prefect_cli, start_worker

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
PREFECT_FILE = PROJECT_ROOT / "deploy" / "prefect.yaml"


def _next_local_starts(api: PrefectApi, deployment: dict[str, object], n: int) -> list[dt.datetime]:
    runs = api.scheduled_runs(str(deployment["id"]), limit=n)
    return [parse_time(r["expected_start_time"]).astimezone(ICT) for r in runs][:n]


def test_deployments_schedules_and_triggered_runs(
    prefect_server: PrefectServer, prefect_api: PrefectApi, work_pool: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text(
        yaml.safe_dump(
            {"subscribers": [{"name": "Everyone", "email": "all@example.org", "districts": []}]}, allow_unicode=True
        )
    )
    env = app_env(prefect_server, data_dir, database_url=f"sqlite:///{data_dir / 'bantin.sqlite3'}")
    env["BANTIN_SUBSCRIBERS"] = str(subscribers)
    # The same portals, faster (politeness across workers is test_server_scale_out's subject).
    env["BANTIN_SOURCES"] = str(fast_sources_file(tmp_path / "sources.yaml"))

    # 1. The limits the crawl takes with strict=True, one per source.
    started = time.monotonic()
    python_module(["flows.serve", "--create-limits"], env)
    record_timing("python -m flows.serve --create-limits", time.monotonic() - started)
    for source_id in enabled_source_ids():
        limit = prefect_api.concurrency_limit(f"portal-{source_id}")
        assert limit is not None and limit["limit"] == 1, source_id

    # 2. prefect deploy --all, as documented.
    started = time.monotonic()
    prefect_cli(["deploy", "--all", "--prefect-file", str(PREFECT_FILE)], env)
    record_timing("prefect deploy --all", time.monotonic() - started)
    crawl = prefect_api.deployment("crawl-portals", "crawl-portals")
    digest = prefect_api.deployment("weekly-digest", "weekly-digest")
    reextract = prefect_api.deployment("reextract", "reextract")
    prefect_api.deployment("crawl-batch", "crawl-batch")
    assert crawl["work_pool_name"] == digest["work_pool_name"] == work_pool
    assert crawl["job_variables"]["env"]["BANTIN_DATABASE_URL"] == env["BANTIN_DATABASE_URL"]
    assert crawl["job_variables"]["env"]["BANTIN_CONCURRENCY_LIMITS"] == "1"
    assert crawl["global_concurrency_limit"]["limit"] == 1
    assert crawl["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert reextract["schedules"] == []

    # 3. The schedules, read back from the server: every 6 h and Mondays 07:00, local time.
    crawl_starts = _next_local_starts(prefect_api, crawl, 5)
    assert len(crawl_starts) == 5
    assert all(s.minute == 0 and s.hour % 6 == 0 and s.utcoffset() == dt.timedelta(hours=7) for s in crawl_starts)
    assert all(b - a == dt.timedelta(hours=6) for a, b in pairwise(crawl_starts))
    digest_starts = _next_local_starts(prefect_api, digest, 3)
    assert all((s.isoweekday(), s.hour, s.minute) == (1, 7, 0) for s in digest_starts)
    assert all(b - a == dt.timedelta(days=7) for a, b in pairwise(digest_starts))
    scheduled_digest = prefect_api.scheduled_runs(digest["id"], limit=1)[0]
    assert scheduled_digest["parameters"].get("send") is True  # the Monday run mails; manual runs don't by default

    # A scheduled crawl must not start on the worker in the middle of the test.
    for deployment in (crawl, digest):
        prefect_api.deactivate_schedules(deployment)

    worker = start_worker(prefect_server, work_pool, "worker-a")
    try:
        # 4. Trigger the crawl (offline fixtures) as a user would; wait for Completed.
        started = time.monotonic()
        crawl_run_id = run_deployment_cli("crawl-portals/crawl-portals", {"offline": "true"}, env)
        crawl_run = prefect_api.wait(crawl_run_id, timeout_s=300)
        crawl_wall = time.monotonic() - started
        assert crawl_run["name"].startswith("crawl ")
        artifact_keys = {a["key"] for a in prefect_api.artifacts(crawl_run_id)}
        assert "crawl-report" in artifact_keys

        engine = create_engine(env["BANTIN_DATABASE_URL"])
        with engine.connect() as conn:
            per_portal = dict(conn.execute(text("SELECT portal_id, count(*) FROM articles GROUP BY portal_id")).all())
            meetings = conn.execute(
                text("SELECT m.meeting_date, m.district FROM meetings m WHERE m.is_meeting AND m.meeting_date IS NOT NULL")
            ).all()
        assert set(per_portal) == set(enabled_source_ids()), per_portal
        assert meetings, "no meeting extracted after the crawl"

        # 5. The digest of a week that has a meeting, triggered with --param week=...
        meeting_date, district = sorted(meetings)[0]
        if isinstance(meeting_date, str):
            meeting_date = dt.date.fromisoformat(meeting_date)
        year, week_no, _ = meeting_date.isocalendar()
        week = f"{year}-W{week_no:02d}"
        started = time.monotonic()
        digest_run_id = run_deployment_cli("weekly-digest/weekly-digest", {"week": week, "send": "true"}, env)
        digest_run = prefect_api.wait(digest_run_id, timeout_s=240)
        digest_wall = time.monotonic() - started
        assert digest_run["name"] == f"digest {week}"
        assert "weekly-digest" in {a["key"] for a in prefect_api.artifacts(digest_run_id)}
        html_files = list((data_dir / "digests").rglob("*.html"))
        assert html_files, f"no archived digest under {data_dir / 'digests'}"
        assert any(district in f.read_text(encoding="utf-8") for f in html_files)
        emls = list((data_dir / "outbox").rglob("*.eml"))
        assert emls, f"no .eml in {data_dir / 'outbox'}"

        # 6. --param districts='["..."]' narrows the digest to one district.
        narrowed_id = run_deployment_cli(
            "weekly-digest/weekly-digest", {"week": week, "districts": f'["{district}"]'}, env
        )
        prefect_api.wait(narrowed_id, timeout_s=240)
    finally:
        worker.stop()
    record_timing("crawl-portals triggered -> Completed (offline, 1 worker)", crawl_wall)
    record_timing("weekly-digest triggered -> Completed", digest_wall)
