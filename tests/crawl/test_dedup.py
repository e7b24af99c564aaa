"""Duplicates: stored and linked to the earliest original, across batches, runs and portals."""

from __future__ import annotations

import asyncio
import datetime as dt
import unicodedata

from sqlalchemy import select

from bantin.crawl import StoreItem
from bantin.dedup import content_hash, fingerprint, same_figures
from bantin.fetch import FetchResult
from bantin.jobs.crawl import DatabaseStore
from bantin.jobs.db import database
from bantin.localtime import LOCAL_TZ
from bantin.parse import ParsedArticle
from bantin.settings import Settings
from storage.articles import upsert_portals
from storage.models import Article

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
