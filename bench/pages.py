"""Page-understanding benchmark (not a test): bantin against trafilatura on the real-page corpus.

    .venv/bin/python bench/pages.py [--repeat 5] [--split tuned|untuned]

trafilatura is in the `bench` dependency group (`uv sync --frozen --group bench`). Both read
every article page of tests/pages/real/ with no family given; one table, side by side:

- title: equal after NFC and whitespace folding;
- date: bantin to the minute; trafilatura gives days only, so it is scored on the day
  (bantin's day score is printed too); a page with no date is right when none is returned;
- first / last: the first paragraph starts with, the last one ends with, the annotated text;
- first/last anywhere: the annotated first / last text is somewhere in the text (a looser
  bar: trafilatura keeps table rows as "| ... |" lines, and leading chrome lines);
- chrome-free: none of the annotated chrome strings is in the text;
- pages/s: article pages parsed per second, one process, HTML already in memory.

Listing pages: bantin's link recall, precision and next page (trafilatura has no listing mode).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bantin.localtime import LOCAL_TZ  # noqa: E402
from bantin.parse import parse_article, parse_listing  # noqa: E402
from tests.pages.realpages import (  # noqa: E402
    ArticleScore,
    RealPage,
    expected_date,
    load_pages,
    norm,
    score_article,
    score_listing,
)


def _trafilatura(page: RealPage, html: str) -> tuple[str | None, dt.datetime | None, list[str]]:
    import trafilatura

    doc: Any = trafilatura.bare_extraction(html, url=page.url, with_metadata=True, include_comments=False)
    if doc is None:
        return None, None, []
    data = doc if isinstance(doc, dict) else doc.as_dict()
    date = None
    if data.get("date"):
        try:
            date = dt.datetime.fromisoformat(str(data["date"])).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            date = None
    text = data.get("text") or ""
    return data.get("title"), date, [line for line in text.split("\n") if line.strip()]


def _anywhere(page: RealPage, paragraphs: list[str], key: str) -> bool:
    text = norm(" ".join(paragraphs))
    wanted = [page.expected[key], *(page.expected.get(f"{key}_alternatives") or [])]
    return bool(text) and any(norm(w) in text for w in wanted)


def _day_ok(page: RealPage, published: dt.datetime | None) -> bool:
    want = expected_date(page)
    if want is None or published is None:
        return want is None and published is None
    return published.astimezone(want.tzinfo).date() == want.date()


def _share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timing rounds")
    parser.add_argument("--split", choices=("tuned", "untuned"), help="only pages of this split")
    args = parser.parse_args()
    pages = [p for p in load_pages() if args.split is None or p.split == args.split]
    articles = [(p, p.html) for p in pages if p.kind == "article"]
    listings = [(p, p.html) for p in pages if p.kind == "listing"]

    ours: list[ArticleScore] = []
    theirs: list[ArticleScore] = []
    our_days: list[bool] = []
    their_days: list[bool] = []
    anywhere: dict[str, tuple[list[bool], list[bool]]] = {"body_first": ([], []), "body_last": ([], [])}
    for page, html in articles:
        parsed = parse_article(html, page.url, None)
        ours.append(score_article(page, parsed.title, parsed.published_at, parsed.paragraphs))
        our_days.append(_day_ok(page, parsed.published_at))
        title, date, paragraphs = _trafilatura(page, html)
        for key, (a, b) in anywhere.items():
            a.append(_anywhere(page, parsed.paragraphs, key))
            b.append(_anywhere(page, paragraphs, key))
        theirs.append(score_article(page, title, date, paragraphs))
        their_days.append(_day_ok(page, date))

    def rate(fn: Any) -> float:  # noqa: ANN401
        start = time.perf_counter()
        for _ in range(args.repeat):
            for page, html in articles:
                fn(page, html)
        return float(args.repeat * len(articles) / (time.perf_counter() - start))

    our_rate = rate(lambda page, html: parse_article(html, page.url, None))
    their_rate = rate(_trafilatura)

    print(f"{len(articles)} article pages, {len(listings)} listing pages, {len({p.url.split('/')[2] for p in pages})} hosts")
    print(f"{'':16}{'bantin':>10}{'trafilatura':>13}")
    rows = [
        ("title", [s.title for s in ours], [s.title for s in theirs]),
        ("date (minute)", [s.date for s in ours], []),
        ("date (day)", our_days, their_days),
        ("first para.", [s.first for s in ours], [s.first for s in theirs]),
        ("last para.", [s.last for s in ours], [s.last for s in theirs]),
        ("first anywhere", *anywhere["body_first"]),
        ("last anywhere", *anywhere["body_last"]),
        ("chrome-free", [s.chrome_free for s in ours], [s.chrome_free for s in theirs]),
    ]
    for name, a, b in rows:
        print(f"{name:16}{_share(a):>10}{_share(b):>13}")
    print(f"{'pages/s':16}{our_rate:>10.0f}{their_rate:>13.0f}")

    scores = [score_listing(p, *parse_listing(html, p.url, None)) for p, html in listings]
    if scores:
        recall = sum(s.recall for s in scores) / len(scores)
        precision = sum(s.precision for s in scores) / len(scores)
        print(f"listings: link recall {recall:.2f}, precision {precision:.2f}, next page {_share([s.next_ok for s in scores])}")
    for (page, _), ours_s in zip(articles, ours, strict=True):
        if ours_s.notes:
            print(f"  bantin misses on {page.id}: {'; '.join(ours_s.notes)[:160]}")
    for (page, _), s in zip(listings, scores, strict=True):
        if s.notes:
            print(f"  bantin misses on listing {page.id}: {'; '.join(s.notes)[:160]}")


if __name__ == "__main__":
    main()
