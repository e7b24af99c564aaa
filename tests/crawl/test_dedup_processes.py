"""Two crawler processes storing copies of the same stories at the same moment link them:
the store step is serialised by the database (advisory lock / SQLite write lock), not by
a lock of one process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import select

from bantin.jobs.db import database
from bantin.settings import PROJECT_ROOT, Settings
from storage.articles import upsert_portals
from storage.models import Article

STORIES = 24

WORKER = textwrap.dedent(
    """
    import asyncio, datetime as dt, sys, time
    from pathlib import Path
    from bantin.crawl import StoreItem
    from bantin.fetch import FetchResult
    from bantin.jobs.crawl import DatabaseStore
    from bantin.jobs.db import database
    from bantin.parse import ParsedArticle
    from bantin.settings import Settings

    url, portal, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    texts = sorted(Path("corpus/texts").glob("*.txt"))[: int(sys.argv[4])]
    store = DatabaseStore(database(Settings(database_url=url)))
    day = dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)
    while time.time() < start_at:
        time.sleep(0.001)

    async def main() -> None:
        for i, path in enumerate(texts):
            paragraphs = [p for p in path.read_text(encoding="utf-8").split("\\n") if p.strip()]
            page_url = f"https://{portal}.example.gov.vn/tin/{i}.html"
            # The province republishes the story word for word under its own title.
            parsed = ParsedArticle(page_url, f"Tin {i} ({portal})", day + dt.timedelta(days=i), None, paragraphs, [], "php_static", False)
            result = FetchResult(url=page_url, final_url=page_url, status=200, content=b"<p>x</p>", text="")
            await store.store(portal, [StoreItem.of(result, parsed)])

    asyncio.run(main())
    """
)


class _Portal:
    def __init__(self, id: str) -> None:
        self.id, self.name, self.district, self.province = id, id, None, "Tuyên Quang"
        self.base_url, self.family, self.enabled = f"https://{id}.example.gov.vn/", "php_static", True


@pytest.mark.postgres
def test_copies_stored_by_two_processes_at_once_are_linked(settings: Settings) -> None:
    with database(settings).begin() as session:
        upsert_portals(session, [_Portal("original"), _Portal("copy")])
    start_at = time.time() + 3.0  # both processes past their imports by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, settings.resolved_database_url, portal, str(start_at), str(STORIES)],
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for portal in ("original", "copy")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    with database(settings)() as session:
        rows = session.execute(select(Article.url, Article.portal_id, Article.duplicate_of, Article.id)).all()
    assert len(rows) == 2 * STORIES
    by_story: dict[str, list[tuple[str, int | None, int]]] = {}
    for url, portal, duplicate_of, article_id in rows:
        by_story.setdefault(url.rsplit("/", 1)[1], []).append((portal, duplicate_of, article_id))
    unlinked = [story for story, pair in by_story.items() if sum(d is not None for _, d, _ in pair) != 1]
    assert unlinked == []  # every story: one original, one copy pointing at it
