"""Benchmark (not a test): HTML page in -> meeting record out, beside trafilatura.

Pages: the fixture portals' article pages (bantin.fixtures, each family's layout) and the
real article pages of tests/pages/real/. bantin's pipeline is `bantin.parse.parse_article`
+ `bantin.extract.extract_meeting` (rules and the clause model); next to it, on the same
pages, `trafilatura.extract` (main text only, no record) in its default and `fast=True`
modes. Rounds are interleaved (bantin, trafilatura, trafilatura fast, again), so a busy
machine slows all three alike; medians are reported. Meeting pages (the slow path: the
whole record is extracted) and non-meeting pages (the lead decides) are reported apart.
Peak memory: tracemalloc's peak over one pass of each, and the process's max RSS.

    make bench    # or: uv sync --group bench && .venv/bin/python bench/extract.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class Page:
    html: str
    url: str
    family: str | None
    district: str | None
    province: str | None
    meeting: bool = False


def fixture_pages() -> list[Page]:
    from bantin.fixtures.portals import load_portals
    from bantin.fixtures.render import Renderer

    renderer = Renderer()
    today = dt.date(2024, 12, 6)
    return [Page(renderer.article(portal, article, today=today), portal.url(article.path), portal.family,
                 portal.district, portal.province)
            for portal in load_portals() for article in portal.articles]


def real_pages() -> list[Page]:
    sys.path.insert(0, str(ROOT / "tests" / "pages"))
    from realpages import load_pages  # type: ignore[import-not-found]

    return [Page(p.html, p.url, None, None, None) for p in load_pages() if p.kind == "article"]


def run_bantin(pages: list[Page]) -> int:
    from bantin.extract import extract_meeting
    from bantin.parse import parse_article

    meetings = 0
    for p in pages:
        parsed = parse_article(p.html, p.url, p.family)
        published = parsed.published_at.date() if parsed.published_at else None
        record = extract_meeting(parsed.text, district=p.district, province=p.province, published=published,
                                 title=parsed.title)
        p.meeting = record.is_meeting
        meetings += record.is_meeting
    return meetings


def run_trafilatura(pages: list[Page]) -> int:
    import trafilatura

    return sum(1 for p in pages if trafilatura.extract(p.html, url=p.url))


def run_trafilatura_fast(pages: list[Page]) -> int:
    import trafilatura

    return sum(1 for p in pages if trafilatura.extract(p.html, url=p.url, fast=True))


def timed(fn: Callable[[list[Page]], int], pages: list[Page]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn(pages)
    return time.perf_counter() - t0


def peak_mib(fn: Callable[[list[Page]], int], pages: list[Page]) -> float:
    gc.collect()
    tracemalloc.start()
    fn(pages)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    pages = fixture_pages() + real_pages()
    # warm-up: imports, the clause model, the place tables, trafilatura's caches; marks meetings
    run_bantin(pages)
    run_trafilatura(pages)
    groups = {"meeting pages": [p for p in pages if p.meeting], "other pages": [p for p in pages if not p.meeting],
              "all pages": pages}
    runners = {"bantin parse+extract": run_bantin, "trafilatura.extract": run_trafilatura,
               "trafilatura fast=True": run_trafilatura_fast}
    times: dict[tuple[str, str], list[float]] = {(g, r): [] for g in groups for r in runners}
    for _ in range(a.rounds):
        for g, group in groups.items():
            for r, fn in runners.items():
                times[(g, r)].append(timed(fn, group))
    kb = sum(len(p.html.encode()) for p in pages) / len(pages) / 1024
    print(f"{len(pages)} article pages (fixture + tests/pages/real, mean {kb:.0f} KiB); "
          f"median of {a.rounds} interleaved rounds")
    for g, group in groups.items():
        med = {r: statistics.median(times[(g, r)]) for r in runners}
        print(f"{g} ({len(group)}):")
        for r in runners:
            print(f"  {r:22} {len(group) / med[r]:8.1f} pages/s  ({1000 * med[r] / len(group):.2f} ms/page)")
        ours = med["bantin parse+extract"]
        print(f"  ratio bantin/trafilatura {med['trafilatura.extract'] / ours:.2f}, "
              f"bantin/trafilatura fast {med['trafilatura fast=True'] / ours:.2f}")
    print(f"peak traced memory, one pass over all pages: bantin {peak_mib(run_bantin, pages):.1f} MiB, "
          f"trafilatura {peak_mib(run_trafilatura, pages):.1f} MiB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
