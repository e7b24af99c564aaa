"""A fresh setup by docs/prefect.md, non-interactively, on a real Prefect server with a real
process worker; then a crawl with a portal down, and the Monday digest run.

The user's path, step by step: the portal limits, the subscribers in the Prefect Variable
`bantin_subscribers`, `prefect deploy --all` typed in a terminal (no prompt, no warning,
nothing secret stored), the alerts (`python -m flows.automations --webhook`), a worker
whose environment holds the app's settings. Bad parameters are refused when triggered, in
parameter words. A crawl with one portal answering 500 ends Failed naming it and its URL,
after the others were crawled and extracted, and the alert arrives. The run the Monday
schedule created, made due now, mails the subscribers (an .eml in the outbox).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import create_engine, text

from bantin.fixtures.app import create_app
from server_helpers import alert_inbox, app_env, enabled_source_ids, in_terminal, record_timing
from tests.crawl.conftest import fast_sources_file, serve
from tests.prefect_harness.api import PrefectApi, parse_time, run_deployment_cli
from tests.prefect_harness.procs import PROJECT_ROOT, PrefectServer, prefect_exe, start_worker

ICT = ZoneInfo("Asia/Ho_Chi_Minh")
PREFECT_FILE = PROJECT_ROOT / "deploy" / "prefect.yaml"
DOWN = "lambinh.tuyenquang.gov.vn"


def _next_local_starts(api: PrefectApi, deployment: dict[str, object], n: int) -> list[dt.datetime]:
    runs = api.scheduled_runs(str(deployment["id"]), limit=n)
    return [parse_time(r["expected_start_time"]).astimezone(ICT) for r in runs][:n]


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen[str], timeout_s: float = 180) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout_s)
    return proc.returncode, out


def test_a_fresh_setup_by_the_docs_alerts_on_a_portal_down_and_mails_the_monday_digest(
    prefect_server: PrefectServer, prefect_api: PrefectApi, work_pool: str, tmp_path: Path
) -> None:
    api = prefect_api
    data_dir = tmp_path / "data"
    # What the operator exports before deploying (docs/prefect.md, 3.): a password that must
    # stay out of the server.
    deploy_env = app_env(prefect_server, data_dir, database_url="postgresql+psycopg://bantin:s3cret-pw@db.example/bantin")
    subscribers = yaml.safe_dump(
        {"subscribers": [{"name": "Everyone", "email": "all@example.org", "districts": [], "empty_weeks": True}]},
        allow_unicode=True,
    )
    fixtures = create_app(faults=[f"{DOWN}/robots.txt=500"])
    with serve(fixtures) as fixtures_url, alert_inbox() as alerts:
        # 2.-4. Limits, subscribers, alerts, and `prefect deploy` in a terminal, side by side.
        started = time.monotonic()
        steps = {
            "limits": _start([sys.executable, "-m", "flows.serve", "--create-limits"], deploy_env),
            "subscribers": _start([prefect_exe(), "variable", "set", "bantin_subscribers", subscribers, "--overwrite"], deploy_env),
            "alerts": _start([sys.executable, "-m", "flows.automations", "--webhook", alerts.url], deploy_env),
        }
        status, deployed = in_terminal(["deploy", "--all", "--prefect-file", str(PREFECT_FILE)], deploy_env)
        done = {name: _finish(proc) for name, proc in steps.items()}
        record_timing("setup: limits, subscribers, alerts, prefect deploy --all (in a terminal), side by side", time.monotonic() - started)
        assert status == 0, deployed[-4000:]
        for name, (code, out) in done.items():
            assert code == 0, f"{name}: {out[-3000:]}"
        assert deployed.count("successfully created") == 4, deployed[-4000:]
        lowered = deployed.lower()
        assert "would you like" not in lowered and "[y/n]" not in lowered  # it also ended: a prompt would wait
        assert "warning" not in lowered and "eoferror" not in lowered and "traceback" not in lowered, deployed[-4000:]
        assert "created 'bantin: flow run failed'" in done["alerts"][1]

        crawl = api.deployment("crawl-portals", "crawl-portals")
        digest = api.deployment("weekly-digest", "weekly-digest")
        reextract = api.deployment("reextract", "reextract")
        batch = api.deployment("crawl-batch", "crawl-batch")
        assert crawl["work_pool_name"] == digest["work_pool_name"] == work_pool
        for deployment in (crawl, digest, reextract, batch):
            assert "s3cret-pw" not in json.dumps(deployment)  # nothing secret stored
            assert "BANTIN_DATABASE_URL" not in deployment["job_variables"]["env"]
            assert deployment["job_variables"]["env"]["BANTIN_CONCURRENCY_LIMITS"] == "1"
            assert deployment["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
            assert deployment["enforce_parameter_schema"] is True
        assert crawl["global_concurrency_limit"]["limit"] == 1
        assert crawl["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        assert reextract["schedules"] == [] and batch["schedules"] == []
        week_schema = digest["parameter_openapi_schema"]["properties"]["week"]
        assert week_schema["description"].startswith("ISO week, e.g. 2024-W27")

        # The schedules, read back from the server: every 6 h and Mondays 07:00, local time.
        crawl_starts = _next_local_starts(api, crawl, 5)
        assert len(crawl_starts) == 5
        assert all(s.minute == 0 and s.hour % 6 == 0 and s.utcoffset() == dt.timedelta(hours=7) for s in crawl_starts)
        assert all(b - a == dt.timedelta(hours=6) for a, b in pairwise(crawl_starts))
        monday = api.scheduled_runs(digest["id"], limit=3)
        digest_starts = [parse_time(r["expected_start_time"]).astimezone(ICT) for r in monday]
        assert all((s.isoweekday(), s.hour, s.minute) == (1, 7, 0) for s in digest_starts)
        assert all(b - a == dt.timedelta(days=7) for a, b in pairwise(digest_starts))
        assert monday[0]["parameters"] == {"send": True}  # the Monday run mails; manual runs don't by default
        api.deactivate_schedules(crawl)  # no scheduled crawl may start mid-test

        # 5. The worker, with the app's settings in its own environment.
        worker_env = {k: v for k, v in deploy_env.items() if not k.startswith("PREFECT_")}
        worker_env.update(
            BANTIN_DATABASE_URL=f"sqlite:///{data_dir / 'bantin.sqlite3'}",
            BANTIN_FIXTURES_URL=fixtures_url,
            BANTIN_SOURCES=str(fast_sources_file(tmp_path / "sources.yaml")),  # politeness is test_server_scale_out's
            BANTIN_SUBSCRIBERS=str(tmp_path / "no-such-file.yaml"),  # the Variable is what counts
        )
        worker = start_worker(prefect_server, work_pool, "worker-a", env=worker_env)
        try:
            # Bad parameters are refused when triggered, in parameter words; no run is created.
            refusals = {
                "week": _start(
                    [prefect_exe(), "deployment", "run", "weekly-digest/weekly-digest", "--param", "week=2024-27"], deploy_env
                ),
                "sources": _start(
                    [prefect_exe(), "deployment", "run", "crawl-portals/crawl-portals", "--param", 'sources=["ham-yenn"]'],
                    deploy_env,
                ),
            }
            # A crawl with one portal answering 500 (one quick task retry instead of 1 min).
            started = time.monotonic()
            crawl_run_id = run_deployment_cli(
                "crawl-portals/crawl-portals",
                {"offline": "true", "task_retries": "1", "task_retry_delay_s": "0"},
                deploy_env,
            )
            code, out = _finish(refusals["week"])
            assert code != 0 and "Validation failed for field 'week'" in out and "'2024-27' does not match" in out, out
            code, out = _finish(refusals["sources"])
            assert code != 0 and "Validation failed for field 'sources[0]'" in out and "'ham-yenn' is not one of" in out, out

            run = api.final(crawl_run_id, timeout_s=300)
            record_timing("crawl-portals (a portal down) triggered -> Failed", time.monotonic() - started)
            assert run["state_type"] == "FAILED", api.log_text(crawl_run_id)[-4000:]
            message = run["state"]["message"]
            assert message.startswith("portal down: lam-binh ("), message
            assert f"https://{DOWN}/robots.txt unreachable (HTTP 500 after 1 attempts)" in message  # the retry's one attempt
            assert f"{len(enabled_source_ids()) - 1} other portals crawled" in message
            assert run["name"].startswith("crawl ") and run["name"].endswith(" offline")
            assert {"crawl-report", "crawl-summary"} <= {a["key"] for a in api.artifacts(crawl_run_id)}
            engine = create_engine(worker_env["BANTIN_DATABASE_URL"])
            with engine.connect() as conn:
                per_portal = dict(conn.execute(text("SELECT portal_id, count(*) FROM articles GROUP BY portal_id")).all())
                meetings = conn.execute(text("SELECT count(*) FROM meetings WHERE is_meeting")).scalar_one()
            engine.dispose()
            assert set(per_portal) == set(enabled_source_ids()) - {"lam-binh"}, per_portal
            assert meetings > 0  # extracted although the run failed
            alert = alerts.wait_for(run["name"], "Failed", "lam-binh")
            assert f"https://{DOWN}/robots.txt" in alert["body"]

            # 6. The Monday run, as the schedule created it, made due now.
            started = time.monotonic()
            now = dt.datetime.now(dt.UTC).isoformat()
            api._request(
                "POST",
                f"/flow_runs/{monday[0]['id']}/set_state",
                json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": now}}, "force": True},
            )
            digest_run = api.wait(monday[0]["id"], timeout_s=240)
            record_timing("weekly-digest scheduled run made due -> Completed", time.monotonic() - started)
        finally:
            worker.stop()
    today = dt.datetime.now(ICT).date()
    year, week_no, _ = (today - dt.timedelta(days=7)).isocalendar()
    week = f"{year}-W{week_no:02d}"
    assert digest_run["name"] == f"digest {week} send"
    assert (data_dir / "digests" / f"{week}.html").exists()
    assert (data_dir / "outbox" / f"{week}__all@example.org.eml").exists()
