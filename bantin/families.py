"""Portal families: what each portal software's pages look like, defined once.

Two kinds live here:
- real families (`fixture=False`), seen on real portals (tests/pages/real/): recognised
  from the page by `markers` (generator meta, class names, URL shapes). Their pages are
  read by the generic parser (bantin/parse/), which needs no selectors; the family name
  says which software the portal runs and every real family has pages in the corpus.
- fixture families (`fixture=True`): the layouts invented for the offline fixture portals
  (seeds/layouts/<name>/), read by their selectors. A portal that names one in
  deploy/sources.yaml uses its selectors when they find a body, else the generic path.

A portal whose `family` is omitted (`auto`) is recognised page by page
(bantin/parse/detect.py). To add a real family: its markers below and at least one saved
page of it in tests/pages/real/ (a test fails otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Headings of a portal's "other stories" block (lower case), the one list of them: on an
# article page the article ends before one (bantin/parse/article.py, and
# bantin/extract/layout.py for a text that kept the page's chrome); on a listing page the
# links of its box are other stories, not the listing (bantin/parse/listing.py).
RELATED_HEADINGS: tuple[str, ...] = (
    "tin liên quan", "bài viết liên quan", "tin bài liên quan", "tin tức liên quan", "bài liên quan",
    "tin khác", "các tin khác", "bài viết khác", "các bài viết khác", "tin bài khác", "các bài khác",
    "tin cùng chuyên mục", "tin đã đưa", "các tin đã đưa", "các bài đã đăng",
    "tin mới", "tin mới hơn", "các tin mới hơn", "tin cũ hơn", "các tin cũ hơn",
    "tin đọc nhiều", "bài đọc nhiều", "xem thêm", "related posts", "related articles",
)


def heading_line(phrases: Iterable[str]) -> re.Pattern[str]:
    """A line that is one of `phrases` and nothing else (a colon or full stop after it allowed)."""
    alternatives = "|".join(map(re.escape, sorted(phrases, key=len, reverse=True)))
    return re.compile(rf"^\s*(?:{alternatives})\s*[:.]?\s*$", re.I)


RELATED_HEADING = heading_line(RELATED_HEADINGS)

# Chrome dropped from every page whatever the family: never article text.
COMMON_DROP = (
    "script",
    "style",
    "noscript",
    "iframe",
    "form",
    "nav",
    "header",
    "footer",
    "button",
    "select",
    "input",
    "marquee",
)


@dataclass(frozen=True)
class Family:
    name: str
    listing_links: str = ""  # article links on a listing page
    next_page: str = ""  # the "next page" link of a listing
    title: str = ""
    date: str = ""  # the article's own publication date (never the header's "today")
    body: str = ""  # empty: pages of this family go the generic way
    byline: str | None = None
    captions: str | None = None  # photo captions inside the body: kept apart from paragraphs
    drop: tuple[str, ...] = field(default_factory=tuple)  # chrome inside/around the body
    # Path pattern of article URLs: listing links that do not match are ignored (menus, paging).
    article_path: str | None = None
    fixture: bool = True  # invented for the offline fixture portals (no real portal looks like it)
    # Regular expressions any of which, found in the page's HTML, says the page is of this family;
    # `url_markers` must then also match the page's URL (when given).
    markers: tuple[str, ...] = ()
    url_markers: str | None = None
    description: str = ""


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            # Liferay "3cms" (Quảng Trị districts): /vi/chi-tiet/-/view-article/1/<category>/<ms id>
            name="liferay",
            listing_links=".list-news .news-title a, .portlet-newslist .news-title a",
            next_page=".pagination li.next a, .lfr-pagination .next a",
            title="h1.article-title, .article-detail h1",
            date=".article-detail .article-date, .article-info .article-date",
            body=".article-content, .journal-content-article",
            byline=".article-author",
            captions=".image-caption",
            drop=(".related-articles", ".article-share", ".article-print", ".article-views"),
            article_path=r"/view-article/|/chi-tiet/",
        ),
        Family(
            # Static-paged PHP (Tuyên Quang districts): /<category>/<slug>.html, /<category>/trang-2.html
            name="php_static",
            listing_links=".list-news .news-title a, .category-page .news-item h2 a",
            next_page=".phantrang a.next",
            title="h1.detail-title, .news-detail h1",
            date=".news-detail .detail-date",
            body="#noidung, .news-detail .detail-content",
            byline=".detail-author",
            captions=".image-caption",
            drop=(".other-news", ".detail-tools", ".detail-source"),
            article_path=r"\.html?$",
        ),
        Family(
            # Drupal 9 (An Giang communes): /node/<nid> or a slug; pager ?page=N counted from 0
            name="drupal",
            listing_links=".view-content .views-field-title a",
            next_page=".pager__item--next a, li.pager-next a",
            title="h1.page-title, article h1",
            date=".node__submitted .field--name-created, .node__meta .field--name-created, .node__submitted",
            body=".node__content .field--name-body, .field--name-body",
            byline=".field--name-field-tac-gia .field__item",
            captions="figcaption",
            drop=(".block-views-blockbai-viet-lien-quan", ".field--name-field-luot-xem", ".visually-hidden"),
        ),
        Family(
            # SharePoint "Cổng TTĐT": /portal/Pages/<slug>.aspx, listing ?PageIndex=N
            name="sharepoint",
            listing_links=".list-items a.news-title, .category-news a.news-title",
            next_page=".paging a.page-next",
            title="h1.detail-title, .news-detail h1",
            date=".detail-meta .date-post, .news-detail .date-post",
            body=".detail-content, .ms-rtestate-field",
            byline=".detail-author",
            captions=".caption-img",
            drop=(".detail-related", ".views"),
            article_path=r"\.aspx$",
        ),
        # Real families (tests/pages/real/): recognised by markers, read by the generic parser.
        Family(
            name="lacviet-sharepoint",
            fixture=False,
            markers=(r"ms-WPBody|s4-wpTopTable|_layouts/|ctl00_m_g_",),
            url_markers=r"(?i)\.aspx|/web/\d{14}/",
            description="LacViet SharePoint 2010 'Cổng TTĐT' (Lists/Posts/Post.aspx?CategoryId=&ItemId=)",
        ),
        Family(
            name="easywebhub-sharepoint",
            fixture=False,
            markers=(r"ms-WPBody|s4-wpTopTable|ctl00_m_g_|ExternalClass",),
            description="static re-host (easywebhub/metalsmith) of the LacViet SharePoint skin: /<slug>/",
        ),
        Family(
            name="easywebhub-liferay",
            fixture=False,
            markers=(r"portlet-boundary|journal-content-article|asset-publisher|p_p_id_",),
            description="static re-host of a Liferay 6 asset-publisher skin",
        ),
        Family(
            name="easywebhub-bootstrap",
            fixture=False,
            markers=(r'id="contentdetail"|id="boxlist01"|class="list01',),
            description="static re-host of a Bootstrap 3 news skin (#contentdetail, #boxlist01)",
        ),
    )
}

# Families as a new portal's YAML may name them: the real ones and "auto" (the default).
AUTO = "auto"


def real_families() -> list[Family]:
    return [f for f in FAMILIES.values() if not f.fixture]


def get_family(name: str | None) -> Family | None:
    """The family of that name, or None (generic fallback) when unknown."""
    return FAMILIES.get(name or "")
