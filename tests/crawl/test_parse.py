"""Parsing portal pages: every fixture page of every family, dates, chrome, fallbacks."""

from __future__ import annotations

import datetime as dt

import pytest

from bantin.fixtures.portals import FixtureArticle, FixturePortal, load_portals
from bantin.fixtures.render import Renderer
from bantin.localtime import LOCAL_TZ
from bantin.parse import clean, date_from_url, parse_article, parse_listing, parse_vietnamese_date
from bantin.urls import canonicalize_url

TODAY = dt.date(2026, 11, 22)
PORTALS = load_portals()


def _pages() -> list[tuple[FixturePortal, FixtureArticle]]:
    return [(p, a) for p in PORTALS for a in p.articles]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng ngày 17 - 05 - 2024", dt.datetime(2024, 5, 17, tzinfo=LOCAL_TZ)),
        ("- 09-10-2024", dt.datetime(2024, 10, 9, tzinfo=LOCAL_TZ)),
        ("Thứ năm - 09/03/2017 21:41", dt.datetime(2017, 3, 9, 21, 41, tzinfo=LOCAL_TZ)),
        ("THỨ BA, 25/02/2020 08:51:00", dt.datetime(2020, 2, 25, 8, 51, tzinfo=LOCAL_TZ)),
        ("(29/06/2026, 14:49)", dt.datetime(2026, 6, 29, 14, 49, tzinfo=LOCAL_TZ)),
        ("04:35 15/03/2016", dt.datetime(2016, 3, 15, 4, 35, tzinfo=LOCAL_TZ)),
        ("Đăng ngày 18-03-2021 16:03", dt.datetime(2021, 3, 18, 16, 3, tzinfo=LOCAL_TZ)),
        ("Ngày đăng: 04/03/2024 - 09:05", dt.datetime(2024, 3, 4, 9, 5, tzinfo=LOCAL_TZ)),
        ("ngày 5 tháng 7 năm 2024", dt.datetime(2024, 7, 5, tzinfo=LOCAL_TZ)),
        ("2024-07-08T10:17:00+07:00", dt.datetime(2024, 7, 8, 10, 17, tzinfo=LOCAL_TZ)),
        ("31/02/2024", None),
        ("- 108 lượt xem", None),
    ],
)
def test_vietnamese_dates(text: str, expected: dt.datetime | None) -> None:
    assert parse_vietnamese_date(text) == expected


def test_dates_from_url_ids() -> None:
    liferay = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/20251/1720408620000"
    assert date_from_url(liferay) == dt.datetime(2024, 7, 8, 10, 17, tzinfo=LOCAL_TZ)
    assert date_from_url("https://x.gov.vn/tin/1700000000.html") == dt.datetime(2023, 11, 15, 5, 13, 20, tzinfo=LOCAL_TZ)
    assert date_from_url("https://x.gov.vn/node/505") is None


@pytest.mark.parametrize(("portal", "article"), _pages(), ids=lambda v: getattr(v, "id", None) or getattr(v, "path", "")[-40:])
def test_every_fixture_page_parses_to_its_article(portal: FixturePortal, article: FixtureArticle) -> None:
    html = Renderer().article(portal, article, today=TODAY)
    parsed = parse_article(html, portal.url(article.path), portal.family)
    assert not parsed.generic and parsed.family == portal.family
    assert parsed.title == clean(article.title)
    assert parsed.paragraphs == [clean(p) for p in article.paragraphs]
    assert parsed.captions == [clean(c) for c in article.captions]
    assert parsed.byline == (article.byline or None)
    assert parsed.published_at is not None
    assert parsed.published_at.date() == article.published_at.date()
    assert parsed.published_at.date() != TODAY  # the header's date is never taken


def test_header_today_is_not_taken_when_the_date_is_missing() -> None:
    portal = next(p for p in PORTALS if p.family == "sharepoint")
    article = portal.articles[0]
    html = Renderer().article(portal, article, today=TODAY)
    start = html.index('<span class="date-post">')
    html = html[:start] + html[html.index("</span>", start) + len("</span>") :]
    parsed = parse_article(html, portal.url(article.path), portal.family)
    assert parsed.published_at is None or parsed.published_at.date() != TODAY


def test_placeholders_and_related_blocks_are_dropped() -> None:
    html = """<html><body><div id="noidung">
      <p>Ngày 5/7/2024, Huyện ủy tổ chức hội nghị sơ kết công tác 6 tháng đầu năm.</p>
      <p>hinh</p><p><img alt="hinh" src="a.jpg"></p><p>%image_alt%</p>
      <p>Hội nghị đề nghị các xã tập trung thu ngân sách.</p>
      <p><strong>Tin liên quan:</strong></p><p>Một bài khác hoàn toàn</p>
    </div></body></html>"""
    parsed = parse_article(html, "https://x.gov.vn/a.html", "php_static")
    assert parsed.paragraphs == [
        "Ngày 5/7/2024, Huyện ủy tổ chức hội nghị sơ kết công tác 6 tháng đầu năm.",
        "Hội nghị đề nghị các xã tập trung thu ngân sách.",
    ]


@pytest.mark.parametrize("heading", ["Tin liên quan:", "Tin đọc nhiều", "Các bài khác", "Tin tức liên quan", "Xem thêm"])
@pytest.mark.parametrize("family", ["php_static", None], ids=["family", "recognised"])
def test_the_article_ends_at_any_other_stories_heading(heading: str, family: str | None) -> None:
    lines = [
        "Ngày 5/7/2024, Huyện ủy Hàm Yên tổ chức hội nghị sơ kết công tác 6 tháng đầu năm 2024 với các xã trên địa bàn.",
        "Hội nghị đề nghị các xã tập trung thu ngân sách, đẩy nhanh tiến độ giải phóng mặt bằng các công trình trọng điểm.",
        "Đồng chí Bí thư Huyện ủy yêu cầu các cấp ủy rà soát, hoàn thành các chỉ tiêu Nghị quyết đề ra trong năm 2024.",
    ]
    other = "Hội nghị Ban Chấp hành Đảng bộ huyện Lâm Bình lần thứ 15 đánh giá kết quả công tác quý III năm 2024."
    html = f"""<html><body><h1>Huyện ủy Hàm Yên sơ kết công tác 6 tháng đầu năm 2024</h1><div id="noidung">
      {"".join(f"<p>{line}</p>" for line in lines)}
      <p><strong>{heading}</strong></p><p>{other}</p>
    </div></body></html>"""
    parsed = parse_article(html, "https://x.gov.vn/a.html", family)
    assert parsed.paragraphs == lines


def test_generic_fallback_takes_the_largest_text_block() -> None:
    body = "".join(f"<p>Đoạn văn số {i} của bài viết về hội nghị Huyện ủy, có đủ chữ để là nội dung.</p>" for i in range(5))
    html = f"""<html><head><title>Trang chủ</title></head><body>
      <div class="top-menu"><a href="/">Trang chủ</a> <a href="/gioi-thieu">Giới thiệu</a></div>
      <div class="header-date">Chủ nhật, 22/11/2026</div>
      <div class="main"><h1>Hội nghị Ban Chấp hành</h1><div class="ngay-dang">Đăng ngày 17 - 05 - 2024</div>
        <div class="noi-dung">{body}</div></div>
      <div class="box-right"><p>Tin đọc nhiều: <a href="/a">Tiêu đề một bài khác rất dài ở cột phải</a></p></div>
      <div class="footer"><p>Cơ quan chủ quản: Ủy ban nhân dân huyện, địa chỉ số 1 đường chính</p></div>
    </body></html>"""
    parsed = parse_article(html, "https://x.gov.vn/tin/a.html", "mystery-cms")
    assert parsed.generic and parsed.family == "generic" and parsed.warnings
    assert len(parsed.paragraphs) == 5 and parsed.paragraphs[0].startswith("Đoạn văn số 0")
    assert parsed.title == "Hội nghị Ban Chấp hành"
    assert parsed.published_at == dt.datetime(2024, 5, 17, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("portal", PORTALS, ids=lambda p: p.id)
def test_listing_pages_give_article_links_and_next_page(portal: FixturePortal) -> None:
    renderer = Renderer()
    listing = portal.listings[0]
    pages = portal.page_count(listing)
    found: list[str] = []
    url = portal.url(listing.path)
    for page in range(1, pages + 1):
        html = renderer.listing(portal, listing, page, today=TODAY)
        links, next_url = parse_listing(html, url, portal.family)
        found.extend(links)
        if page < pages:
            assert next_url is not None and next_url != canonicalize_url(url)
            url = next_url
        else:
            assert next_url is None
    expected = [canonicalize_url(portal.url(a.path)) for a in portal.listing_articles(listing)]
    assert found == expected  # all of them, newest first, nothing from menus or sidebars
