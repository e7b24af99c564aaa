"""Portal families: what each portal software's pages look like, defined once.

A portal in deploy/sources.yaml names its family; adding a portal of a known family is
one YAML entry. Selectors are CSS (selectolax/lexbor). A family whose selectors find no
body falls back to the generic extractor for that page (and flags it).

To add a family: add a `Family(...)` below, a fixture layout under seeds/layouts/<name>/
and a test page; nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Headings that start the portal's "other stories" block: everything after them is not the article.
RELATED_HEADINGS = re.compile(
    r"^\s*(bài viết liên quan|tin liên quan|tin cùng chuyên mục|các tin khác|tin khác|bài viết khác"
    r"|tin đã đưa|xem thêm|các bài viết khác|tin bài liên quan)\s*:?\s*$",
    re.I,
)

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
    listing_links: str  # article links on a listing page
    next_page: str  # the "next page" link of a listing
    title: str
    date: str  # the article's own publication date (never the header's "today")
    body: str
    byline: str | None = None
    captions: str | None = None  # photo captions inside the body: kept apart from paragraphs
    drop: tuple[str, ...] = field(default_factory=tuple)  # chrome inside/around the body
    # Path pattern of article URLs: listing links that do not match are ignored (menus, paging).
    article_path: str | None = None


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
    )
}


def get_family(name: str | None) -> Family | None:
    """The family of that name, or None (generic fallback) when unknown."""
    return FAMILIES.get(name or "")
