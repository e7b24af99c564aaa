"""Benchmark (not a test): article pages per second, HTML in -> meeting record out.

Pages are the fixture portals' article pages (bantin.fixtures, rendered with each
family's layout: menus, headers, related news). bantin's pipeline is
`bantin.parse.parse_article` + `bantin.extract.extract_meeting`; next to it, in the
same run on the same pages, `trafilatura.extract` (main-text extraction only, no
record). Prints both rates and their ratio (bantin / trafilatura).

    uv sync --group bench && .venv/bin/python bench/extract.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@dataclass
class Page:
    html: str
    url: str
    family: str
    district: str | None
    province: str


def fixture_pages() -> list[Page]:
    from bantin.fixtures.portals import load_portals
    from bantin.fixtures.render import Renderer

    renderer = Renderer()
    today = dt.date(2024, 12, 6)
    pages = []
    for portal in load_portals():
        for article in portal.articles:
            html = renderer.article(portal, article, today=today)
            pages.append(Page(html, portal.url(article.path), portal.family, portal.district, portal.province))
    return pages


def run_bantin(pages: list[Page]) -> int:
    from bantin.extract import extract_meeting
    from bantin.parse import parse_article

    meetings = 0
    for p in pages:
        parsed = parse_article(p.html, p.url, p.family)
        published = parsed.published_at.date() if parsed.published_at else None
        record = extract_meeting(parsed.text, district=p.district, province=p.province, published=published, title=parsed.title)
        meetings += record.is_meeting
    return meetings


def run_extract_only(texts: list[tuple[str, str, Page]]) -> int:
    from bantin.extract import extract_meeting

    return sum(extract_meeting(t, district=p.district, province=p.province, title=title).is_meeting for t, title, p in texts)


def run_trafilatura(pages: list[Page]) -> int:
    import trafilatura

    return sum(1 for p in pages if trafilatura.extract(p.html, url=p.url))


def timed[T](fn: Callable[[T], object], arg: T, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    pages = fixture_pages()
    from bantin.parse import parse_article

    texts = []
    for p in pages:
        parsed = parse_article(p.html, p.url, p.family)
        texts.append((parsed.text, parsed.title, p))
    # warm-up: imports, the underthesea model, the legacy place tables, trafilatura's caches
    meetings = run_bantin(pages)
    run_trafilatura(pages)
    t_ours = timed(run_bantin, pages, a.rounds)
    t_extract = timed(run_extract_only, texts, a.rounds)
    t_traf = timed(run_trafilatura, pages, a.rounds)
    n = len(pages)
    kb = sum(len(p.html.encode()) for p in pages) / n / 1024
    print(f"pages: {n} fixture article pages (mean {kb:.0f} KiB), {meetings} meetings; median of {a.rounds} rounds")
    print(f"bantin parse+extract : {n / t_ours:8.1f} articles/s  ({1000 * t_ours / n:.2f} ms/article)")
    print(f"bantin extract only  : {n / t_extract:8.1f} articles/s  ({1000 * t_extract / n:.2f} ms/article)")
    print(f"trafilatura.extract  : {n / t_traf:8.1f} articles/s  ({1000 * t_traf / n:.2f} ms/article)")
    print(f"ratio bantin/trafilatura: {t_traf / t_ours:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
