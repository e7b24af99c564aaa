"""Duplicates: stored and linked to the earliest original, across batches, runs and portals."""

from __future__ import annotations

import asyncio
import datetime as dt
import unicodedata
from collections import Counter

import pytest
from sqlalchemy import Engine, insert, select

from bantin.crawl import StoreItem
from bantin.dedup import (
    BUCKET_CAP,
    CANDIDATE_BUDGET,
    BucketKey,
    Decision,
    Facts,
    Incoming,
    Lookup,
    Stored,
    choose_candidates,
    content_hash,
    decide_batch,
    fingerprint,
    same_figures,
)
from bantin.fetch import FetchResult
from bantin.jobs.crawl import DatabaseStore
from bantin.jobs.db import database
from bantin.localtime import LOCAL_TZ
from bantin.parse import ParsedArticle
from bantin.settings import Settings
from storage import crawl as stored_crawl
from storage.articles import upsert_portals
from storage.crawl import bucket_members
from storage.models import Article, Portal
from storage.session import downgrade, upgrade

STORY = [
    "Ngày 21/9/2023, Thường trực Huyện ủy Hàm Yên làm việc với Đảng ủy xã Đức Ninh về kết quả thực hiện nhiệm vụ 8 tháng đầu năm 2023.",
    "Thu ngân sách trên địa bàn xã đạt 1,2 tỷ đồng, bằng 86% dự toán; xây dựng nông thôn mới đạt 17/19 tiêu chí.",
    "Tuy nhiên, công tác giải phóng mặt bằng còn chậm; tỷ lệ thu bảo hiểm y tế đạt thấp so với chỉ tiêu Nghị quyết.",
    "Đồng chí Bí thư Huyện ủy đề nghị Đảng ủy xã tập trung chỉ đạo hoàn thành các chỉ tiêu còn lại trong thời gian tới, nhất là thu ngân sách và giải phóng mặt bằng.",
]
# The same template, another meeting: other commune, dates and figures.
OTHER_MEETING = [
    "Ngày 5/10/2023, Thường trực Huyện ủy Hàm Yên làm việc với Đảng ủy xã Thái Sơn về kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023.",
    "Thu ngân sách trên địa bàn xã đạt 0,9 tỷ đồng, bằng 64% dự toán; xây dựng nông thôn mới đạt 15/19 tiêu chí.",
    "Tuy nhiên, công tác giải phóng mặt bằng còn chậm; tỷ lệ thu bảo hiểm y tế đạt thấp so với chỉ tiêu Nghị quyết.",
    "Đồng chí Bí thư Huyện ủy đề nghị Đảng ủy xã tập trung chỉ đạo hoàn thành các chỉ tiêu còn lại trong thời gian tới, nhất là thu ngân sách và giải phóng mặt bằng.",
]


def test_exact_hash_ignores_spacing_case_and_tone_placement() -> None:
    text = "\n\n".join(STORY)
    variant = "  ".join(STORY).upper().replace("HUYỆN ỦY", "HUYỆN UỶ")
    assert content_hash(text) == content_hash(unicodedata.normalize("NFD", variant))


def test_near_duplicate_needs_the_same_figures() -> None:
    story, trimmed = "\n\n".join(STORY), "\n\n".join(STORY[:3])
    other = "\n\n".join(OTHER_MEETING)
    assert fingerprint(story).minhash.jaccard(fingerprint(trimmed).minhash) >= 0.6
    assert same_figures(story, trimmed)
    assert not same_figures(story, other)
    # Same day and figures, another commune: another meeting.
    assert not same_figures(story, story.replace("Đức Ninh", "Thái Sơn"))
    # The province's rewrite of the same report: other wording, same dates, figures and names.
    rewritten = story.replace("còn chậm", "chưa đạt yêu cầu").replace("đề nghị", "yêu cầu").replace(" trong thời gian tới", "")
    assert rewritten != story and fingerprint(story).content_hash != fingerprint(rewritten).content_hash
    assert same_figures(story, rewritten)
    # Other figures (two of its six): another report.
    assert not same_figures(story, story.replace("1,2 tỷ", "0,9 tỷ").replace("86%", "64%"))


def _item(url: str, title: str, paragraphs: list[str], published: dt.datetime) -> StoreItem:
    parsed = ParsedArticle(url, title, published, None, paragraphs, [], "php_static", False)
    result = FetchResult(url=url, final_url=url, status=200, content=f"<p>{title}</p>".encode(), text="")
    return StoreItem.of(result, parsed)


class _Portal:
    def __init__(self, id: str, host: str) -> None:
        self.id, self.name, self.district, self.province = id, id, None, "Tuyên Quang"
        self.base_url, self.family, self.enabled = f"https://{host}/", "php_static", True


def test_copies_link_to_the_earliest_original_across_runs(settings: Settings) -> None:
    factory = database(settings)
    with factory.begin() as session:
        upsert_portals(session, [_Portal("ham-yen", "hamyen.tuyenquang.gov.vn"), _Portal("tinh", "tuyenquang.gov.vn")])
    day = dt.datetime(2023, 9, 21, 8, 20, tzinfo=LOCAL_TZ)
    # Run 1: the province's copy (edited title, one sentence trimmed) arrives first.
    store = DatabaseStore(factory)
    copy = _item("https://tuyenquang.gov.vn/tin/ham-yen-lam-viec.html", "Hàm Yên: làm việc với xã Đức Ninh", STORY + [STORY[1]], day + dt.timedelta(days=1))
    created, dups = asyncio.run(store.store("tinh", [copy]))
    assert (created, dups) == (1, 0)
    # Run 2, a new process (fresh index, signatures from the database): the original, the
    # same template for another meeting, and an exact copy under a second URL.
    store = DatabaseStore(factory)
    original = _item("https://hamyen.tuyenquang.gov.vn/tin/lam-viec-duc-ninh.html", "Thường trực Huyện ủy làm việc với Đảng ủy xã Đức Ninh", STORY, day)
    other = _item("https://hamyen.tuyenquang.gov.vn/tin/lam-viec-thai-son.html", "Làm việc với xã Thái Sơn", OTHER_MEETING, day + dt.timedelta(days=14))
    second_url = _item("https://hamyen.tuyenquang.gov.vn/tin/lam-viec-duc-ninh-2.html", "Thường trực Huyện ủy làm việc với Đảng ủy xã Đức Ninh", STORY, day + dt.timedelta(hours=1))
    created, dups = asyncio.run(store.store("ham-yen", [original, other, second_url]))
    assert (created, dups) == (3, 2)
    with factory() as session:
        rows = {a.url: a for a in session.execute(select(Article)).scalars()}
    root = rows["https://hamyen.tuyenquang.gov.vn/tin/lam-viec-duc-ninh.html"]
    assert root.duplicate_of is None
    assert rows["https://tuyenquang.gov.vn/tin/ham-yen-lam-viec.html"].duplicate_of == root.id  # re-pointed
    assert rows["https://hamyen.tuyenquang.gov.vn/tin/lam-viec-duc-ninh-2.html"].duplicate_of == root.id
    assert rows["https://hamyen.tuyenquang.gov.vn/tin/lam-viec-thai-son.html"].duplicate_of is None
    assert all(r.minhash for r in rows.values())  # signatures persisted for the next run
    # Storing the same batch again changes nothing.
    assert asyncio.run(DatabaseStore(factory).store("ham-yen", [original])) == (0, 0)


# --- bounded lookup: decisions on what the database hands back ---------------------------------

COMMUNES = ["Đức Ninh", "Thái Sơn", "Bình Xa", "Minh Hương", "Yên Thuận", "Phù Lưu", "Tân Thành", "Bạch Xa",
            "Nhân Mục", "Thành Long", "Bằng Cốc", "Yên Phú"]


def _report(commune: str, day: dt.date) -> list[str]:
    """The district's template (STORY) for one commune and day: the wording the same, the
    figures of the day (STORY's on 21/9/2023)."""
    budget, share = ("1,2", "86") if day == dt.date(2023, 9, 21) else (f"{day.day % 9 + 1},{day.month}", str(40 + day.day))
    return [
        p.replace("Đức Ninh", commune).replace("21/9/2023", f"{day.day}/{day.month}/{day.year}")
        .replace("1,2 tỷ", f"{budget} tỷ").replace("86%", f"{share}%")
        for p in STORY
    ]


def _at(day: dt.date, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 8, minute, tzinfo=LOCAL_TZ)


def test_choose_candidates_prefers_rare_buckets_and_members_near_in_date() -> None:
    day = dt.date(2023, 9, 21)
    fp = fingerprint("\n\n".join(_report("Đức Ninh", day)))
    keys = fp.bucket_keys
    original = 7
    # Every bucket but one is a template bucket: 2 x (BUCKET_CAP + 1) siblings read around the date
    # (the original among them, but farther in date than the cap); one bucket holds the original only.
    members: dict[BucketKey, list[tuple[int, dt.datetime]]] = {}
    for n, key in enumerate(keys[:-1]):
        siblings = [(1000 * (n + 1) + i, _at(day) + dt.timedelta(minutes=i + 1)) for i in range(2 * (BUCKET_CAP + 1))]
        members[key] = siblings
    members[keys[-1]] = [(original, _at(day) - dt.timedelta(days=200))]
    chosen = choose_candidates(fp, _at(day), members)
    assert chosen[0] == original  # the rare bucket first
    assert len(chosen) == CANDIDATE_BUDGET  # and no more than the budget
    # Within a bucket, the members nearest in date: the original, a day before, beats ten
    # newer siblings months later.
    near = {keys[0]: [(1000 + i, _at(day) + dt.timedelta(days=90 + i)) for i in range(10)] + [(original, _at(day) - dt.timedelta(days=1))]}
    assert original in choose_candidates(fp, _at(day), near)
    assert len(choose_candidates(fp, _at(day), near)) == BUCKET_CAP


def _incoming(article_id: int, paragraphs: list[str], published: dt.datetime) -> Incoming:
    return Incoming(article_id, published, fingerprint("\n\n".join(paragraphs)), published)


def _stored(article_id: int, paragraphs: list[str], published: dt.datetime, root: int | None = None) -> Stored:
    fp = fingerprint("\n\n".join(paragraphs))
    return Stored(article_id, published, root or article_id, fp.minhash, fp.facts)


def test_decide_batch_links_copies_within_the_batch_and_adopts_stored_clusters() -> None:
    day = _at(dt.date(2023, 9, 21))
    province_copy = _report("Đức Ninh", day.date()) + ["Theo Cổng TTĐT huyện Hàm Yên"]
    # Stored: the province's copy (root 10) and a copy of it (11); the district's original arrives now,
    # with another commune's report and a second copy of the original later in the same batch.
    stored = {10: _stored(10, province_copy, day + dt.timedelta(days=1)),
              11: _stored(11, province_copy, day + dt.timedelta(days=2), root=10)}
    batch = [
        _incoming(20, _report("Đức Ninh", day.date()), day),
        _incoming(21, _report("Thái Sơn", day.date()), day + dt.timedelta(hours=2)),
        _incoming(22, [p.replace("ủy", "uỷ") for p in _report("Đức Ninh", day.date())] + ["Nguồn: Cổng TTĐT huyện Hàm Yên"], day + dt.timedelta(days=3)),
    ]
    lookup = Lookup(exact={}, candidates={20: [10, 11], 21: [10, 11], 22: [10, 11]}, stored=stored)
    decisions = decide_batch(batch, lookup)
    assert decisions[0] == Decision(None, 10, "near")  # earlier than the stored root: adopts its cluster
    assert decisions[1] == Decision(None, None, None)  # another commune: its own story
    assert decisions[2] == Decision(20, None, "near")  # the cluster's root is now the original
    # The same body as a stored article: linked to that article's root.
    exact = Lookup(exact={fingerprint("\n\n".join(province_copy)).content_hash: 11}, candidates={}, stored=stored)
    assert decide_batch([_incoming(30, province_copy, day + dt.timedelta(days=5))], exact) == [Decision(10, None, "exact")]


@pytest.mark.parametrize("per_side", [3])
def test_bucket_members_are_read_nearest_in_date_a_few_each_side(settings: Settings, per_side: int) -> None:
    factory = database(settings)
    store = DatabaseStore(factory)
    with factory.begin() as session:
        upsert_portals(session, [_Portal("ham-yen", "hamyen.tuyenquang.gov.vn")])
    first = dt.date(2023, 3, 1)
    items = [_item(f"https://hamyen.tuyenquang.gov.vn/tin/{n}.html", f"Tin {n}", _report(COMMUNES[n % 12], first + dt.timedelta(days=n)),
                   _at(first + dt.timedelta(days=n))) for n in range(30)]
    assert asyncio.run(store.store("ham-yen", items)) == (30, 0)
    with factory() as session:
        ids = {a.url: a.id for a in session.execute(select(Article)).scalars()}
        # The template's most shared bucket.
        ((band, bucket), _), = Counter(key for i in items for key in i.fingerprint.bucket_keys).most_common(1)
        in_bucket = [ids[i.url] for i in items if (band, bucket) in i.fingerprint.bucket_keys]
        probe_at = items[10].parsed.published_at
        assert probe_at is not None
        (found,) = bucket_members(session, [(band, bucket, probe_at)], per_side)
    dated = {ids[i.url]: i.parsed.published_at for i in items}
    assert len(in_bucket) > 2 * per_side  # a template bucket
    nearest_before = sorted((i for i in in_bucket if dated[i] <= probe_at), key=lambda i: dated[i])[-per_side:]
    nearest_after = sorted((i for i in in_bucket if dated[i] > probe_at), key=lambda i: dated[i])[:per_side]
    assert sorted(i for i, _ in found) == sorted(nearest_before + nearest_after)


def test_a_template_report_of_another_commune_is_not_a_duplicate(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """72 reports from one template (12 communes x 6 days) share their LSH buckets; a new
    process stores another commune's report (same day, same figures: MinHash says 'copy')
    and the province's copy of one of them: only the copy is linked, to its original, and
    the lookup reads no text and at most CANDIDATE_BUDGET candidates per article."""
    factory = database(settings)
    with factory.begin() as session:
        upsert_portals(session, [_Portal("ham-yen", "hamyen.tuyenquang.gov.vn"), _Portal("tinh", "tuyenquang.gov.vn")])
    days = [dt.date(2023, 9, d) for d in (4, 8, 12, 16, 21, 25)]
    reports = [(c, d) for d in days for c in COMMUNES]
    items = [_item(f"https://hamyen.tuyenquang.gov.vn/tin/{n}.html", f"Làm việc với xã {c}", _report(c, d), _at(d, n % 12))
             for n, (c, d) in enumerate(reports)]
    store = DatabaseStore(factory)
    for start in range(0, len(items), 25):
        created, dups = asyncio.run(store.store("ham-yen", items[start : start + 25]))
        assert dups == 0  # no report of the template is a copy of another
    story, other = "\n\n".join(STORY), "\n\n".join(_report("Xuân Vân", days[4]))
    assert fingerprint(story).minhash.jaccard(fingerprint(other).minhash) >= 0.8  # only the facts tell them apart

    read: list[int] = []
    texts: list[int] = []
    rows, article_texts = stored_crawl.dedup_rows, stored_crawl.article_texts
    monkeypatch.setattr(stored_crawl, "dedup_rows", lambda s, ids: read.extend(ids) or rows(s, ids))
    monkeypatch.setattr(stored_crawl, "article_texts", lambda s, ids: texts.extend(ids) or article_texts(s, ids))
    store = DatabaseStore(factory)  # a new process: nothing loaded
    another = _item("https://hamyen.tuyenquang.gov.vn/tin/xuan-van.html", "Làm việc với xã Xuân Vân", _report("Xuân Vân", days[4]), _at(days[4], 30))
    copy = _item("https://tuyenquang.gov.vn/tin/ham-yen-duc-ninh.html", "Hàm Yên: làm việc với xã Đức Ninh",
                 [p.replace("ủy", "uỷ") for p in STORY] + ["Theo Cổng TTĐT huyện Hàm Yên"], _at(days[4]) + dt.timedelta(days=1))
    assert asyncio.run(store.store("ham-yen", [another])) == (1, 0)
    assert asyncio.run(store.store("tinh", [copy])) == (1, 1)
    assert texts == []  # facts are stored with the articles
    assert 0 < len(read) <= 2 * CANDIDATE_BUDGET  # candidates and their roots, per article: not the table
    with factory() as session:
        stored = {a.url: a for a in session.execute(select(Article)).scalars()}
    original = stored[items[reports.index(("Đức Ninh", days[4]))].url]
    assert stored[copy.url].duplicate_of == original.id
    assert stored[another.url].duplicate_of is None
    assert [a.url for a in stored.values() if a.duplicate_of is not None] == [copy.url]


def test_articles_stored_before_the_index_was_persisted_are_found(settings: Settings, engine: Engine) -> None:
    """Upgrading to revision 0007 cuts the bands of stored articles from their signatures;
    their facts are read from the text the first time one is a candidate, and kept."""
    downgrade(engine, "0006")
    day = _at(dt.date(2023, 9, 21))
    old = _item("https://hamyen.tuyenquang.gov.vn/tin/lam-viec-duc-ninh.html", "Làm việc với xã Đức Ninh", STORY, day)
    with engine.begin() as connection:
        connection.execute(insert(Portal.__table__), [{"id": "ham-yen", "name": "Hàm Yên", "province": "Tuyên Quang",
                                                       "base_url": "https://hamyen.tuyenquang.gov.vn/", "family": "php_static",
                                                       "enabled": True}, {"id": "tinh", "name": "Tỉnh", "province": "Tuyên Quang",
                                                       "base_url": "https://tuyenquang.gov.vn/", "family": "php_static", "enabled": True}])
        connection.execute(insert(Article.__table__).values(
            portal_id="ham-yen", url=old.url, title=old.parsed.title, text=old.parsed.text, published_at=day,
            content_hash=old.fingerprint.content_hash, minhash=old.fingerprint.minhash_bytes, captions=[]))
    upgrade(engine)
    copy = _item("https://tuyenquang.gov.vn/tin/ham-yen-duc-ninh.html", "Hàm Yên: làm việc với xã Đức Ninh",
                 STORY + ["Theo Cổng TTĐT huyện Hàm Yên"], day + dt.timedelta(days=1))
    assert asyncio.run(DatabaseStore(database(settings)).store("tinh", [copy])) == (1, 1)
    with database(settings)() as session:
        stored = {a.url: a for a in session.execute(select(Article)).scalars()}
    assert stored[copy.url].duplicate_of == stored[old.url].id
    assert Facts.from_json(stored[old.url].facts) == old.fingerprint.facts  # kept for next time
