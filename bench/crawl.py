"""Crawl benchmark (not a test): many generated portals on one loopback server.

    .venv/bin/python bench/crawl.py [--portals 200] [--articles 50] [--rate 1.0] [--concurrency 2]

One uvicorn process (a child process, so its memory is not counted) serves every
generated portal (hosts pNNN.bench.invalid, routed by Host header). The crawler runs
every portal at once in one event loop, with the politeness given (per host), into a
fresh SQLite database, then prints:

- wall time / politeness lower bound, the bound being max over hosts of
  (requests to the host / allowed request rate) (aim <= 1.2);
- requests per new article: article requests / new articles (aim <= 1.05), and
  listing + robots requests per portal;
- peak RSS of the crawler process (resource.getrusage; aim <= 300 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = r"""
import sys, uvicorn
from bantin.fixtures.app import create_app
from bantin.fixtures.synthetic import generate_portals
portals, _ = generate_portals(int(sys.argv[1]), int(sys.argv[2]))
uvicorn.run(create_app(portals=portals), host="127.0.0.1", port=int(sys.argv[3]), log_level="warning",
            access_log=False, lifespan="off", backlog=4096)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("fixture server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("fixture server did not start")


async def run(args: argparse.Namespace, base_url: str, data_dir: Path) -> dict[str, object]:
    from sqlalchemy import select

    from bantin.fetch import loopback_transport
    from bantin.fixtures.synthetic import generate_portals
    from bantin.jobs.crawl import crawl_sources
    from bantin.jobs.db import database
    from bantin.settings import FetchSettings, Settings
    from bantin.sources import Source
    from storage.models import FetchLog

    _, entries = generate_portals(args.portals, args.articles)
    # The generated portals are of no real place: filed under a real province for the places check.
    anywhere = {"province": "Tuyên Quang", "district": None}
    sources = [Source.model_validate({k: v for k, v in e.items() if k != "politeness"} | anywhere) for e in entries]
    settings = Settings(
        data_dir=data_dir,
        fetch=FetchSettings(
            requests_per_second=args.rate,
            concurrency_per_host=args.concurrency,
            max_listing_pages=100,
            read_timeout_s=30.0,
        ),
    )
    started = time.monotonic()
    cpu_started = time.process_time()
    run_id, reports = await crawl_sources(
        sources, settings, transport=loopback_transport(base_url), parallel=len(sources)
    )
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    with database(settings)() as session:
        rows = session.execute(
            select(FetchLog.host, FetchLog.purpose, FetchLog.status, FetchLog.error).where(FetchLog.run_id == run_id)
        ).all()
    sent = [r for r in rows if not (r.error or "").startswith("refused:")]
    per_host = Counter(r.host for r in sent)
    purposes = Counter(r.purpose for r in sent)
    # Robots.txt may ask for a Crawl-delay slower than the rate: the bound uses the host's real interval.
    bound = max(per_host.values()) / args.rate if per_host else 0.0
    new = sum(r.new_articles for r in reports)
    return {
        "portals": len(sources),
        "articles_per_portal": args.articles,
        "rate_per_host": args.rate,
        "concurrency_per_host": args.concurrency,
        "requests": len(sent),
        "requests_by_purpose": dict(purposes),
        "errors": sum(len(r.errors) for r in reports),
        "failed_requests": sum(1 for r in sent if r.error or (r.status or 0) >= 400),
        "new_articles": new,
        "duplicates": sum(r.duplicates for r in reports),
        "wall_s": round(wall, 1),
        "politeness_lower_bound_s": round(bound, 1),
        "wall_over_bound": round(wall / bound, 3) if bound else None,
        "article_requests_per_new_article": round(purposes["article"] / new, 3) if new else None,
        "listing_requests_per_portal": round(purposes["listing"] / len(sources), 2),
        "robots_requests_per_portal": round(purposes["robots"] / len(sources), 2),
        "crawler_cpu_s": round(cpu, 1),
        "crawler_cpu_ms_per_request": round(1000 * cpu / len(sent), 2) if sent else None,
        "served_requests_per_s": round(len(sent) / wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1.0, help="requests per second per host (politeness)")
    parser.add_argument("--concurrency", type=int, default=2, help="requests in flight per host")
    args = parser.parse_args()

    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.portals), str(args.articles), str(port)], env=env, cwd=ROOT
    )
    try:
        wait_for(port, server)
        with tempfile.TemporaryDirectory(prefix="bantin-bench-crawl-") as tmp:
            result = asyncio.run(run(args, f"http://127.0.0.1:{port}", Path(tmp)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
