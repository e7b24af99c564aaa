"""The real-page corpus (tests/pages/real/): loading and scoring, shared by the tests and bench/pages.py.

Each page is <id>.html.gz (bytes as served) and <id>.json: url, family, split
("tuned": pages the generic parser was tuned on; "untuned": pages it never was), kind, and
the expected output (../shared/pages/README.md describes the fields). Text is compared
after NFC and whitespace folding.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bantin.localtime import LOCAL_TZ
from bantin.urls import canonicalize_url

CORPUS = Path(__file__).parent / "real"


@dataclass(frozen=True)
class RealPage:
    id: str
    url: str
    family: str
    split: str
    kind: str  # "article" | "listing"
    expected: dict[str, Any]

    @property
    def html(self) -> str:
        raw = gzip.decompress((CORPUS / f"{self.id}.html.gz").read_bytes())
        return raw.decode("utf-8", errors="replace")


def load_pages() -> list[RealPage]:
    pages = []
    for path in sorted(CORPUS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        pages.append(RealPage(data["id"], data["url"], data["family"], data["split"], data["kind"], data))
    return pages


def norm(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "").replace("\xa0", " ")
    text = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def expected_date(page: RealPage) -> dt.datetime | None:
    value = page.expected.get("published")
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


@dataclass
class ArticleScore:
    title: bool
    date: bool
    first: bool
    last: bool
    chrome_free: bool
    notes: list[str] = field(default_factory=list)


def score_article(page: RealPage, title: str | None, published: dt.datetime | None, paragraphs: list[str]) -> ArticleScore:
    exp = page.expected
    notes: list[str] = []
    title_ok = norm(title) == norm(exp["title"])
    if not title_ok:
        notes.append(f"title {norm(title)[:70]!r}")
    want = expected_date(page)
    if want is None or published is None:
        date_ok = want is None and published is None
    else:
        date_ok = abs((published - want).total_seconds()) < 60
    if not date_ok:
        notes.append(f"date {published} want {want}")
    paras = [norm(p) for p in paragraphs if norm(p)]
    firsts = [norm(exp["body_first"]), *(norm(x) for x in exp.get("body_first_alternatives") or [])]
    lasts = [norm(exp["body_last"]), *(norm(x) for x in exp.get("body_last_alternatives") or [])]
    first_ok = bool(paras) and any(paras[0].startswith(f) for f in firsts)
    last_ok = bool(paras) and any(paras[-1].endswith(x) for x in lasts)
    if not first_ok:
        notes.append(f"first {paras[0][:70] if paras else None!r}")
    if not last_ok:
        notes.append(f"last {paras[-1][-70:] if paras else None!r}")
    body = " ".join(paras)
    leaked = [c for c in exp.get("chrome_samples") or [] if norm(c) and norm(c) in body]
    if leaked:
        notes.append(f"chrome {leaked[:2]!r}")
    return ArticleScore(title_ok, date_ok, first_ok, last_ok, bool(paras) and not leaked, notes)


@dataclass
class ListingScore:
    recall: float
    precision: float
    next_ok: bool
    notes: list[str] = field(default_factory=list)


def score_listing(page: RealPage, links: list[str], next_url: str | None) -> ListingScore:
    exp = page.expected
    want = [canonicalize_url(h, base=page.url) for h in exp["article_links"]]
    got = {canonicalize_url(u, base=page.url) for u in links}
    found = [u for u in want if u in got]
    recall = len(found) / len(want) if want else 1.0
    precision = len(set(want) & got) / len(got) if got else (1.0 if not want else 0.0)
    want_next = canonicalize_url(exp["next_page"], base=page.url) if exp.get("next_page") else None
    got_next = canonicalize_url(next_url, base=page.url) if next_url else None
    notes = []
    if recall < 1:
        notes.append(f"missed {[u for u in want if u not in got][:2]}")
    if precision < 1:
        notes.append(f"extra {sorted(got - set(want))[:2]}")
    if want_next != got_next:
        notes.append(f"next {got_next} want {want_next}")
    return ListingScore(recall, precision, want_next == got_next, notes)
