"""Scale benchmark (not a test): the store step on top of 1k, 10k, 100k stored articles.

    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--measure 500]
                                    [--crawl-portals 40] [--crawl-articles 25] [--workdir var/bench-scale]

The stored articles are built with bulk inserts (every row the crawl would write: the
article with its signature, a compressed page; planted copies linked to their original),
from a deterministic generator:

- 60 district portals in 4 provinces, and the 4 provincial portals that republish them;
- a third of the articles are commune reports written from four templates (a working
  session of the district committee with a commune, a commune party conference, an
  inspection team, differing in commune, people, dates, figures and a few phrases; and a
  rigid quarterly report where only the commune, the date and one figure change): the
  texts that share LSH buckets by the thousand;
- the rest is news made of 3-6 paragraphs of the real articles of corpus/texts (their
  figures redrawn) after a generated lead;
- 6 % are copies of a recent article (a provincial portal's republication: new title,
  closing sentence trimmed, tone marks placed differently, "Theo <portal>" added), 1 %
  word-for-word copies under a second URL.

The database grows from one size to the next; at each size a copy of it is measured in a
fresh process (nothing of the build is in its memory):

1. the store step itself: `measure` new articles stored through `DatabaseStore.store` in
   batches of 25 (a portal's batch in the crawl): 15 % copies of stored articles (of any
   age: 1 in 5 word for word), 25 % fresh template reports (other communes, dates,
   figures: they must not be linked), 60 % fresh news. Reported per new article: store
   time (all calls, and without the first one, which loads what the process needs),
   MinHash comparisons (`Signature.jaccard` calls), candidate texts read back from the
   database, and the links: copies linked to their original, linked elsewhere, missed,
   and articles linked that are no copy;
2. then a real crawl on top (`crawl_sources`, `crawl_portals` generated portals on a
   uvicorn child process, 50 requests/s per host): new articles, wall time;

and the process's peak RSS after each (the crawl's includes the fetcher, parser and store).
Results go to stdout as JSON and a table; the databases stay in --workdir (reused when the
generator's rows are already there). `--database-url postgresql+psycopg://.../NAME` builds
in that PostgreSQL database instead (created when missing; each measurement on a copy,
NAME_measure, made with CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

VN = dt.timezone(dt.timedelta(hours=7))
BASE = dt.datetime(2023, 1, 2, 7, 30, tzinfo=VN)
MINUTES_PER_ARTICLE = 6  # 100k articles span 14 months: ~4 a day per portal
COPY_SHARE, EXACT_SHARE, TEMPLATE_SHARE = 0.06, 0.01, 0.33
BATCH = 25

FIRST = ("Tân", "Hòa", "Thanh", "Phú", "Quang", "Đồng", "An", "Vĩnh", "Minh", "Hồng", "Xuân", "Thuận", "Bình", "Long",
         "Kim", "Ngọc", "Đức", "Hải", "Trung", "Nghĩa", "Cẩm", "Yên", "Lạc", "Thạch", "Hương", "Quảng", "Mỹ", "Tiên")
SECOND = ("Lập", "Bình", "Sơn", "Xuân", "Trung", "Tâm", "Phú", "Phúc", "Khai", "Phong", "Thành", "Hưng", "Lợi", "Lộc",
          "Hòa", "An", "Thịnh", "Tiến", "Hà", "Giang", "Châu", "Lâm", "Điền", "Định")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Ngọc", "Xuân", "Công")
GIVEN = ("Hùng", "Lan", "Tuấn", "Hà", "Dũng", "Hương", "Quang", "Thủy", "Nam", "Bình", "Sơn", "Hải", "Long", "Mai")
PROVINCES = ("Tuyên Quang", "Quảng Trị", "Lạng Sơn", "Thanh Hóa")
SHORTFALLS = (
    "tiến độ giải ngân vốn đầu tư công còn chậm",
    "công tác giải phóng mặt bằng một số dự án còn vướng mắc",
    "tỷ lệ tham gia bảo hiểm y tế chưa đạt chỉ tiêu",
    "thu ngân sách trên địa bàn đạt thấp so với dự toán",
    "công tác phát triển đảng viên trong thôn, bản còn khó khăn",
    "việc chuyển đổi cơ cấu cây trồng chưa đồng bộ",
    "một số tiêu chí nông thôn mới nâng cao chưa đạt",
    "tình trạng khai thác cát trái phép chưa được xử lý dứt điểm",
)
DIRECTIVES = (
    "đẩy nhanh tiến độ xây dựng nông thôn mới nâng cao",
    "tập trung chỉ đạo thu ngân sách, phấn đấu vượt dự toán",
    "làm tốt công tác chuẩn bị đại hội chi bộ nhiệm kỳ mới",
    "tăng cường công tác quản lý đất đai, trật tự xây dựng",
    "quan tâm phát triển đảng viên ở các thôn chưa có chi bộ",
    "chủ động phòng, chống thiên tai, dịch bệnh trên cây trồng, vật nuôi",
    "nâng cao chất lượng sinh hoạt chi bộ",
    "đẩy mạnh chuyển đổi số trong hoạt động của cơ quan",
)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    district: str | None
    province: str
    host: str
    communes: tuple[str, ...]


@cache
def portals() -> tuple[Portal, ...]:
    rng = random.Random("portals")
    places = [f"{a} {b}" for a in FIRST for b in SECOND]
    rng.shuffle(places)
    out: list[Portal] = []
    for p, province in enumerate(PROVINCES):
        for d in range(15):
            n = p * 15 + d
            district = places[n]
            communes = tuple(places[60 + 10 * n : 60 + 10 * (n + 1)])
            out.append(Portal(f"huyen-{n:02d}", f"Cổng TTĐT huyện {district}", district, province, f"h{n:02d}.scale.invalid", communes))
    for p, province in enumerate(PROVINCES):
        out.append(Portal(f"tinh-{p}", f"Cổng TTĐT tỉnh {province}", None, province, f"t{p}.scale.invalid", ()))
    return tuple(out)


def district_portals() -> list[Portal]:
    return [p for p in portals() if p.district]


def province_portal(province: str) -> Portal:
    return next(p for p in portals() if p.district is None and p.province == province)


@cache
def paragraph_pool() -> tuple[str, ...]:
    found: list[str] = []
    for path in sorted((ROOT / "corpus" / "texts").glob("*.txt")):
        found.extend(p.strip() for p in path.read_text(encoding="utf-8").splitlines() if len(p.strip()) >= 120)
    return tuple(found)


_NUMBER = re.compile(r"\d+")


def _redraw_numbers(text: str, rng: random.Random) -> str:
    return _NUMBER.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), text)


def template_report(rng: random.Random, portal: Portal, when: dt.datetime) -> tuple[str, list[str]]:
    """A commune report from one of three templates: commune, dates, figures, phrases differ."""
    commune = rng.choice(portal.communes)
    chair, secretary = _name(rng), _name(rng)
    d, m, y = when.day, when.month, when.year
    quarter = (m - 1) // 3 + 1
    period = rng.choice((f"quý {quarter} năm {y}", f"6 tháng đầu năm {y}", f"9 tháng năm {y}", f"{m - 1 or 1} tháng đầu năm {y}"))
    short = rng.sample(SHORTFALLS, 2)
    directive = rng.sample(DIRECTIVES, 2)
    figures = [rng.randint(60, 130), rng.randint(5, 40), rng.randint(200, 9000), rng.randint(70, 120), rng.randint(12, 19),
               rng.randint(1, 12), rng.randint(10, 40)]
    which = rng.randrange(4)
    if which == 3:
        # The rigid one (as bantin.fixtures.synthetic writes them): commune, date and one figure differ.
        title = f"Thường trực Huyện ủy làm việc với Đảng ủy xã {commune}"
        body = [
            f"Ngày {d}/{m}/{y}, Thường trực Huyện ủy {portal.district} làm việc với Đảng ủy xã {commune} về kết quả thực hiện nhiệm vụ quý {quarter}/{y}.",
            f"Trong quý, công tác thu ngân sách đạt {figures[3]}% kế hoạch; an ninh chính trị, trật tự an toàn xã hội được giữ vững; đời sống vật chất, tinh thần của Nhân dân từng bước được nâng lên.",
            "Tuy nhiên, tiến độ xây dựng nông thôn mới còn chậm; một số chỉ tiêu đạt thấp so với Nghị quyết.",
            f"Đồng chí Bí thư Huyện ủy đề nghị Đảng ủy xã {commune} tập trung đẩy nhanh xây dựng nông thôn mới; rà soát các chỉ tiêu chưa đạt để có giải pháp khắc phục trong thời gian tới.",
        ]
    elif which == 0:
        title = f"Thường trực Huyện ủy {portal.district} làm việc với Đảng ủy xã {commune}"
        body = [
            f"Ngày {d}/{m}/{y}, Thường trực Huyện ủy {portal.district} làm việc với Ban Thường vụ Đảng ủy xã {commune} về kết quả thực hiện nhiệm vụ {period} và phương hướng, nhiệm vụ thời gian tới. Đồng chí {chair}, Bí thư Huyện ủy chủ trì buổi làm việc.",
            f"Theo báo cáo, {period}, Đảng ủy xã {commune} đã lãnh đạo thực hiện đạt và vượt {figures[5]}/{figures[5] + 3} chỉ tiêu; tổng giá trị sản xuất ước đạt {figures[0]} tỷ đồng, tăng {figures[1]}% so với cùng kỳ; thu ngân sách trên địa bàn đạt {figures[2]} triệu đồng, bằng {figures[3]}% dự toán. Công tác xây dựng nông thôn mới được quan tâm, đến nay xã đạt {figures[4]}/19 tiêu chí.",
            f"Công tác xây dựng Đảng được chú trọng; trong kỳ kết nạp {figures[5]} đảng viên mới; an ninh chính trị, trật tự an toàn xã hội được giữ vững. Các chế độ, chính sách đối với người có công, hộ nghèo được thực hiện đầy đủ, kịp thời.",
            f"Tuy nhiên, {short[0]}; {short[1]}.",
            f"Phát biểu kết luận, đồng chí {chair} ghi nhận, biểu dương những kết quả mà Đảng bộ xã {commune} đạt được; đề nghị Đảng ủy xã tập trung lãnh đạo {directive[0]}; {directive[1]}; phấn đấu hoàn thành thắng lợi các chỉ tiêu Nghị quyết đề ra.",
        ]
    elif which == 1:
        title = f"Đảng bộ xã {commune} tổng kết nhiệm vụ {period}"
        body = [
            f"Sáng {d}/{m}/{y}, Đảng ủy xã {commune}, huyện {portal.district} tổ chức hội nghị đánh giá kết quả thực hiện nhiệm vụ {period}, triển khai nhiệm vụ trọng tâm thời gian tới. Dự hội nghị có đồng chí {chair}, Phó Bí thư Thường trực Huyện ủy; đồng chí {secretary}, Bí thư Đảng ủy xã chủ trì hội nghị.",
            f"Năm qua, kinh tế của xã tiếp tục tăng trưởng khá; tổng sản lượng lương thực đạt {figures[2]} tấn, bằng {figures[3]}% kế hoạch; thu nhập bình quân đầu người đạt {figures[1]} triệu đồng/năm; tỷ lệ hộ nghèo giảm còn {figures[5]}%.",
            f"Toàn Đảng bộ có {figures[6]} chi bộ trực thuộc; có {figures[4]} tổ chức cơ sở đảng được đánh giá hoàn thành tốt nhiệm vụ; kết nạp {figures[5]} đảng viên mới.",
            f"Bên cạnh kết quả đạt được, {short[0]}; {short[1]}.",
            f"Phát biểu chỉ đạo hội nghị, đồng chí {chair} đề nghị Đảng ủy xã {commune} {directive[0]}; {directive[1]}.",
        ]
    else:
        title = f"Đoàn kiểm tra của Ban Thường vụ Huyện ủy {portal.district} làm việc tại xã {commune}"
        body = [
            f"Ngày {d}/{m}/{y}, Đoàn kiểm tra số {figures[5]} của Ban Thường vụ Huyện ủy {portal.district} do đồng chí {chair}, Ủy viên Ban Thường vụ, Chủ nhiệm Ủy ban Kiểm tra Huyện ủy làm trưởng đoàn đã làm việc với Đảng ủy xã {commune} về việc thực hiện Chỉ thị số {figures[6]}-CT/TU của Ban Thường vụ Tỉnh ủy {portal.province}.",
            f"Qua kiểm tra cho thấy, Đảng ủy xã đã ban hành {figures[5]} văn bản lãnh đạo, chỉ đạo; tổ chức {figures[6]} hội nghị quán triệt cho {figures[2]} lượt cán bộ, đảng viên; {figures[4]} chi bộ đưa nội dung vào sinh hoạt thường kỳ.",
            f"Tuy nhiên, {short[0]}; {short[1]}.",
            f"Kết luận buổi kiểm tra, đồng chí trưởng đoàn đề nghị Đảng ủy xã {commune} {directive[0]}; {directive[1]}; báo cáo kết quả khắc phục về Ban Thường vụ Huyện ủy trước ngày {rng.randint(1, 28)}/{rng.randint(1, 12)}/{y}.",
        ]
    return title, body


def news(rng: random.Random, portal: Portal, when: dt.datetime) -> tuple[str, list[str]]:
    pool = paragraph_pool()
    commune = rng.choice(portal.communes)
    paragraphs = [_redraw_numbers(p, rng) for p in rng.sample(pool, rng.randint(3, 6))]
    lead = (
        f"Ngày {when.day}/{when.month}/{when.year}, tại xã {commune}, huyện {portal.district}, "
        f"{rng.choice(('UBND huyện', 'Huyện đoàn', 'Hội Nông dân huyện', 'Phòng Nông nghiệp', 'Ban Tuyên giáo Huyện ủy'))} "
        f"tổ chức {rng.choice(('hội nghị', 'lễ ra quân', 'lớp tập huấn', 'buổi làm việc', 'chương trình'))} với sự tham dự của {rng.randint(30, 400)} người."
    )
    title = paragraphs[0][: rng.randint(50, 90)].rsplit(" ", 1)[0].rstrip(",.;:")
    return title, [lead, *paragraphs]


@dataclass(frozen=True)
class Spec:
    key: str  # bulk index, or "m<k>" for measured articles
    portal: str
    url: str
    title: str
    paragraphs: tuple[str, ...]
    published: dt.datetime
    kind: str  # template, news, copy, exact
    original: int | None  # bulk index this copies

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _copy(rng: random.Random, original: Spec, key: str, exact: bool, when: dt.datetime, index: int) -> Spec:
    source = next(p for p in portals() if p.id == original.portal)
    portal = province_portal(source.province) if rng.random() < 0.7 else rng.choice(district_portals())
    paragraphs = list(original.paragraphs)
    if not exact:
        if rng.random() < 0.5:  # the province trims the closing sentence (or paragraph)
            head, _, tail = paragraphs[-1].rpartition(". ")
            if head and len(tail) < len(head):
                paragraphs[-1] = head + "."
            elif len(paragraphs) >= 5:
                paragraphs.pop()
        if rng.random() < 0.5:
            paragraphs = [p.replace("ủy", "uỷ").replace("hòa", "hoà") for p in paragraphs]
        if rng.random() < 0.3:
            paragraphs.append(f"Theo {source.name}")
    title = original.title if exact else f"{source.district or source.province}: {original.title}"
    url = f"https://{portal.host}/tin-tuc/{key}-ban-sao.html"
    return Spec(key, portal.id, url, title, tuple(paragraphs), when, "exact" if exact else "copy", index)


@lru_cache(maxsize=8192)  # the build reads back at most 1500 articles; copies of copies recurse
def bulk(i: int) -> Spec:
    """The i-th stored article (deterministic: 1k is a prefix of 10k)."""
    rng = random.Random(f"bulk:{i}")
    when = BASE + dt.timedelta(minutes=MINUTES_PER_ARTICLE * i + rng.randint(0, 5))
    draw = rng.random()
    if i > 50 and draw < COPY_SHARE + EXACT_SHARE:
        j = i - rng.randint(1, min(i, 1500))  # republished within about a week
        return _copy(rng, bulk(j), str(i), draw < EXACT_SHARE, when, j)
    portal = rng.choice(district_portals())
    kind = "template" if draw < COPY_SHARE + EXACT_SHARE + TEMPLATE_SHARE else "news"
    title, body = (template_report if kind == "template" else news)(rng, portal, when)
    url = f"https://{portal.host}/tin-tuc/{i}-{kind}.html"
    return Spec(str(i), portal.id, url, title, tuple(body), when, kind, None)


def root_of(i: int) -> int:
    spec = bulk(i)
    return i if spec.original is None else root_of(spec.original)


def measured(k: int, stored: int) -> Spec:
    """The k-th article stored by the measurement on top of `stored` articles."""
    rng = random.Random(f"measure:{stored}:{k}")
    when = BASE + dt.timedelta(minutes=MINUTES_PER_ARTICLE * stored + 30 * k)
    draw = rng.random()
    if draw < 0.15:
        j = rng.randrange(stored)
        return _copy(rng, bulk(j), f"m{k}", draw < 0.03, when, j)
    portal = district_portals()[(k // BATCH) % len(district_portals())]  # a portal's crawl stores 25 at a time
    kind = "template" if draw < 0.40 else "news"
    title, body = (template_report if kind == "template" else news)(rng, portal, when)
    return Spec(f"m{k}", portal.id, f"https://{portal.host}/tin-tuc/m{stored}-{k}-{kind}.html", title, tuple(body), when, kind, None)


# --- the build: bulk inserts ------------------------------------------------------------------


def _fingerprint(spec: Spec) -> tuple[str, Any]:
    from bantin.dedup import fingerprint

    return spec.url, fingerprint(spec.text)


def _page(spec: Spec) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in spec.paragraphs)
    return f"<html><head><title>{spec.title}</title></head><body><h1>{spec.title}</h1>{paragraphs}</body></html>".encode()


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def stored_count(url: str) -> int:
    from sqlalchemy import func, select

    from bantin.jobs.db import database
    from bantin.settings import Settings
    from storage.models import Article

    with database(Settings(database_url=url))() as session:
        return int(session.execute(select(func.count()).select_from(Article)).scalar_one())


def build(url: str, upto: int, pool: Any) -> None:
    """Bulk-insert bulk(i) for the indices not stored yet, below `upto`."""
    from sqlalchemy import bindparam, select, update

    from bantin.jobs.db import database
    from bantin.settings import Settings
    from storage import articles as stored_articles
    from storage.models import Article

    factory = database(Settings(database_url=url))
    with factory.begin() as session:
        stored_articles.upsert_portals(session, [_portal_row(p) for p in portals()])
    start = stored_count(url)
    ids: dict[int, int] = {}
    if start:
        with factory() as session:
            by_url = dict(session.execute(select(Article.url, Article.id)).all())
        ids = {i: by_url[bulk(i).url] for i in range(start)}
    chunk = 2000
    for low in range(start, upto, chunk):
        specs = [bulk(i) for i in range(low, min(upto, low + chunk))]
        prints = dict(pool.map(_fingerprint, specs, chunksize=100))
        rows = []
        snapshots = []
        for spec in specs:
            fp = prints[spec.url]
            rows.append(_new_article(spec, fp))
            page = _page(spec)
            snapshots.append(stored_articles.NewSnapshot(spec.url, _sha(page), zlib.compress(page, 6), 200, "text/html", "utf-8"))
        with factory.begin() as session:
            inserted = stored_articles.insert_articles_reporting(session, rows)
            by_url = {row.url: row.id for row in inserted}
            for i, spec in zip(range(low, low + len(specs)), specs, strict=True):
                ids[i] = by_url[spec.url]
            stored_articles.save_snapshots(session, [(s, by_url[s.url]) for s in snapshots])
            _save_fingerprints(session, [(by_url[s.url], prints[s.url], s.published) for s in specs])
            links = [
                {"article_id": ids[low + n], "root": ids[root_of(low + n)]}
                for n, spec in enumerate(specs)
                if spec.original is not None
            ]
            if links:
                table = Article.__table__
                session.execute(
                    update(table).where(table.c.id == bindparam("article_id")).values(duplicate_of=bindparam("root")), links
                )
        print(f"  built {min(upto, low + chunk)} / {upto}", file=sys.stderr, flush=True)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _new_article(spec: Spec, fp: Any) -> Any:
    from storage.articles import NewArticle

    return NewArticle(
        portal_id=spec.portal,
        url=spec.url,
        title=spec.title,
        text=spec.text,
        content_hash=fp.content_hash,
        published_at=spec.published,
        minhash=fp.minhash_bytes,
        facts=fp.facts.to_json(),
    )


def _save_fingerprints(session: Any, rows: Sequence[tuple[int, Any, dt.datetime]]) -> None:
    """What the store step keeps for dedup besides the article row: its LSH bands."""
    from storage.crawl import save_bands

    save_bands(session, [(article_id, band, bucket, when) for article_id, fp, when in rows for band, bucket in fp.bucket_keys])


def _portal_row(p: Portal) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "district": p.district, "province": p.province,
            "base_url": f"https://{p.host}/", "family": "php_static", "enabled": True}


# --- the measurement, in a fresh process ------------------------------------------------------


class Counters:
    def __init__(self) -> None:
        self.comparisons = 0
        self.texts_read = 0


def instrument() -> Counters:
    """Count MinHash comparisons and candidate texts read back, whatever the store's version."""
    from bantin import dedup
    from storage import crawl as stored_crawl

    counters = Counters()
    jaccard = dedup.Signature.jaccard

    def counted_jaccard(self: Any, other: Any) -> float:
        counters.comparisons += 1
        return jaccard(self, other)

    dedup.Signature.jaccard = counted_jaccard  # type: ignore[method-assign]
    if hasattr(stored_crawl, "article_text"):
        one = stored_crawl.article_text

        def counted_text(session: Any, article_id: int) -> str:
            counters.texts_read += 1
            return one(session, article_id)

        stored_crawl.article_text = counted_text
    if hasattr(stored_crawl, "article_texts"):
        many = stored_crawl.article_texts

        def counted_texts(session: Any, ids: Sequence[int]) -> Any:
            found = many(session, ids)
            counters.texts_read += len(found)
            return found

        stored_crawl.article_texts = counted_texts
    return counters


def _detectable(copy: str, original: str) -> bool:
    from bantin.dedup import THRESHOLD, fingerprint, same_figures

    a, b = fingerprint(copy), fingerprint(original)
    return a.content_hash == b.content_hash or (a.minhash.jaccard(b.minhash) >= THRESHOLD and same_figures(copy, original))


def _store_item(spec: Spec) -> Any:
    from bantin.crawl import StoreItem
    from bantin.fetch import FetchResult
    from bantin.parse import ParsedArticle

    parsed = ParsedArticle(spec.url, spec.title, spec.published, None, list(spec.paragraphs), [], "php_static", False)
    result = FetchResult(url=spec.url, final_url=spec.url, status=200, content=_page(spec), text="")
    return StoreItem.of(result, parsed)


def _batches(specs: Sequence[Spec]) -> Iterator[tuple[str, list[Spec]]]:
    by_portal: dict[str, list[Spec]] = {}
    for spec in specs:
        by_portal.setdefault(spec.portal, []).append(spec)
    for portal, group in sorted(by_portal.items()):
        for low in range(0, len(group), BATCH):
            yield portal, group[low : low + BATCH]


def rss_mb() -> float:
    """Peak RSS of this process in MB: VmHWM (ru_maxrss would count the build process this
    one was forked from before its exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(url: str, stored: int, count: int, crawl_portals: int, crawl_articles: int) -> dict[str, Any]:
    from sqlalchemy import select

    from bantin.jobs.crawl import DatabaseStore
    from bantin.jobs.db import database
    from bantin.settings import Settings
    from storage.models import Article

    specs = [measured(k, stored) for k in range(count)]
    # What the rules call a copy (same body, or MinHash >= 0.8 and the same facts), whatever the index finds.
    detectable = {s.url for s in specs if s.original is not None and _detectable(s.text, bulk(root_of(s.original)).text)}
    counters = instrument()
    items = {spec.url: _store_item(spec) for spec in specs}  # fingerprinted by the crawl's workers, not the store step
    rss_before = rss_mb()
    factory = database(Settings(database_url=url))
    store = DatabaseStore(factory)
    timings: list[float] = []
    created = 0

    async def run() -> None:
        nonlocal created
        for portal, group in _batches(specs):
            started = time.perf_counter()
            made, _ = await store.store(portal, [items[s.url] for s in group])
            timings.append(time.perf_counter() - started)
            created += made

    asyncio.run(run())
    rss_store = rss_mb()
    with factory() as session:
        wanted = [s.url for s in specs] + [bulk(root_of(s.original)).url for s in specs if s.original is not None]
        rows = {u: (i, d) for u, i, d in session.execute(select(Article.url, Article.id, Article.duplicate_of).where(Article.url.in_(wanted)))}
    copies = [s for s in specs if s.original is not None]
    right = sum(1 for s in copies if rows[s.url][1] == rows[bulk(root_of(s.original)).url][0])  # type: ignore[arg-type]
    elsewhere = sum(1 for s in copies if rows[s.url][1] is not None) - right
    false_links = [s.kind for s in specs if s.original is None and rows[s.url][1] is not None]
    total = sum(timings)
    comparisons, texts_read = counters.comparisons, counters.texts_read  # of the store step above, not the crawl
    crawl = run_crawl(url, crawl_portals, crawl_articles) if crawl_portals else {}
    return {
        "stored": stored,
        "new_articles": created,
        "store_ms_per_article": round(1000 * total / created, 3),
        "store_ms_per_article_after_first_call": round(1000 * sum(timings[1:]) / max(1, created - BATCH), 3),
        "first_call_ms": round(1000 * timings[0], 1),
        "comparisons_per_article": round(comparisons / created, 2),
        "texts_read_per_article": round(texts_read / created, 2),
        "copies": len(copies),
        "copies_linked_to_original": right,
        "copies_linked_elsewhere": elsewhere,
        "copies_missed": len(copies) - right - elsewhere,
        "copies_by_the_rules": len(detectable),
        "copies_by_the_rules_linked": sum(1 for s in copies if s.url in detectable and rows[s.url][1] is not None),
        "non_copies_linked": len(false_links),
        "non_copies_linked_kinds": sorted(set(false_links)),
        "peak_rss_mb_before_store": rss_before,
        "peak_rss_mb_after_store": rss_store,
        **crawl,
        "peak_rss_mb": rss_mb(),
    }


SERVER = r"""
import sys, uvicorn
from bantin.fixtures.app import create_app
from bantin.fixtures.synthetic import generate_portals
portals, _ = generate_portals(int(sys.argv[1]), int(sys.argv[2]))
uvicorn.run(create_app(portals=portals), host="127.0.0.1", port=int(sys.argv[3]), log_level="warning",
            access_log=False, lifespan="off", backlog=4096)
"""


def run_crawl(url: str, n_portals: int, n_articles: int) -> dict[str, Any]:
    from crawl import free_port, wait_for  # bench/crawl.py

    from bantin.fetch import loopback_transport
    from bantin.fixtures.synthetic import generate_portals
    from bantin.jobs.crawl import crawl_sources
    from bantin.settings import FetchSettings, Settings
    from bantin.sources import Source

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(n_portals), str(n_articles), str(port)],
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    try:
        wait_for(port, server)
        _, entries = generate_portals(n_portals, n_articles)
        # Real places (the generator's "Tỉnh Thử Nghiệm" is refused by the places check).
        sources = [
            Source.model_validate({**{k: v for k, v in e.items() if k != "politeness"}, "district": None, "province": "Tuyên Quang"})
            for e in entries
        ]
        with tempfile.TemporaryDirectory(prefix="bantin-scale-") as tmp:
            settings = Settings(data_dir=Path(tmp), database_url=url,
                                fetch=FetchSettings(requests_per_second=50, concurrency_per_host=2, max_listing_pages=100))
            started = time.monotonic()
            _, reports = asyncio.run(crawl_sources(sources, settings, transport=loopback_transport(f"http://127.0.0.1:{port}"),
                                                   parallel=len(sources)))
            wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "crawl_new_articles": sum(r.new_articles for r in reports),
        "crawl_duplicates": sum(r.duplicates for r in reports),
        "crawl_errors": sum(len(r.errors) for r in reports),
        "crawl_wall_s": round(wall, 1),
    }


# --- driver -----------------------------------------------------------------------------------


def _pg_admin(url: str) -> Any:
    from sqlalchemy import create_engine

    from storage.session import normalise_url

    return create_engine(normalise_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def ensure_database(url: str) -> None:
    """A PostgreSQL build database is created when missing."""
    from sqlalchemy import text

    from storage.session import normalise_url

    if url.startswith("sqlite"):
        return
    name = normalise_url(url).database
    admin = _pg_admin(url)
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def measure_copy(build_url: str, size: int, workdir: Path) -> str:
    """A copy of the build database at this size, for one measurement: a file copy (SQLite),
    CREATE DATABASE ... TEMPLATE (PostgreSQL)."""
    from sqlalchemy import text

    from storage.session import dispose_engines, normalise_url

    dispose_engines()
    if build_url.startswith("sqlite"):
        source, target = _sqlite_path(build_url), workdir / f"measure-{size}.sqlite3"
        with sqlite3.connect(source) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    parsed = normalise_url(build_url)
    target_name = f"{parsed.database}_measure"
    admin = _pg_admin(build_url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target_name}"'))
        connection.execute(text(f'CREATE DATABASE "{target_name}" TEMPLATE "{parsed.database}"'))
    admin.dispose()
    return parsed.set(database=target_name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--measure", type=int, default=500, help="new articles stored by the measurement")
    parser.add_argument("--crawl-portals", type=int, default=40)
    parser.add_argument("--crawl-articles", type=int, default=25)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-scale")
    parser.add_argument("--database-url", help="build in this PostgreSQL database instead of a SQLite file in --workdir")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per size (a fresh copy each)")
    parser.add_argument("--measure-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--stored", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure_only:
        print(json.dumps(measure(args.measure_only, args.stored, args.measure, args.crawl_portals, args.crawl_articles)))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    build_url = args.database_url or f"sqlite:///{args.workdir / 'build.sqlite3'}"
    ensure_database(build_url)
    results = []
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for size in sorted(int(s) for s in args.sizes.split(",")):
            if stored_count(build_url) > size:
                raise SystemExit(f"the build database holds more than {size} articles: use another --workdir or database")
            started = time.monotonic()
            build(build_url, size, pool)
            print(f"size {size}: built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
            for _ in range(args.repeat):
                target = measure_copy(build_url, size, args.workdir)
                out = subprocess.run(
                    [sys.executable, __file__, "--measure-only", target, "--stored", str(size),
                     "--measure", str(args.measure), "--crawl-portals", str(args.crawl_portals),
                     "--crawl-articles", str(args.crawl_articles)],
                    check=True, capture_output=True, text=True, cwd=ROOT,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                print(json.dumps(result, ensure_ascii=False), file=sys.stderr, flush=True)
                results.append(result)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    keys = ("stored", "store_ms_per_article", "store_ms_per_article_after_first_call", "first_call_ms",
            "comparisons_per_article", "texts_read_per_article", "copies", "copies_by_the_rules", "copies_by_the_rules_linked",
            "copies_linked_to_original", "non_copies_linked", "peak_rss_mb_after_store", "crawl_new_articles", "crawl_wall_s", "peak_rss_mb")
    print(" | ".join(keys))
    for result in results:
        print(" | ".join(str(result.get(k, "")) for k in keys))


if __name__ == "__main__":
    main()
