"""Listing pages: the article links (with their titles and dates) and the next page.

A fixture family's selectors are used when they find links. Otherwise the article links
are the main column's repeated, same-shaped link group: links are grouped by the shape of
their element path (tag and class of the link and three ancestors); the group of the
longest headlines outside menus wins, and links elsewhere on the page pointing to URLs of
the same shape as that group's (a homepage's other blocks of news) join it. Images,
documents, other sites, menus, paging links and every list after an "other news" heading
("Tin đã đưa") are left out.

The next page is `rel=next`, a "Trang sau"/"Tiếp"/"»" link, or the link numbered one past
the current page; never a "previous" link, the page itself or the site's root.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bantin.families import RELATED_HEADINGS, get_family, heading_line
from bantin.parse.blocks import SKIP_TAGS, chrome_node, segment
from bantin.parse.dates import parse_vietnamese_date
from bantin.parse.text import decompose_all, first, node_text
from bantin.urls import canonicalize_url, host_of

# "Tin mới" and "Xem thêm" on a listing page head or close the listing itself (a home
# page's latest news, its "more" link): only the other headings mark other stories.
RELATED_LIST = heading_line(h for h in RELATED_HEADINGS if h not in ("tin mới", "xem thêm"))
NEXT_TEXT = re.compile(r"^\s*(trang\s+sau|trang\s+kế|tiếp|tiếp\s+theo|sau|next|›|»|>|>>|››|→)\s*[›»>]*\s*$", re.I)
PREV_TEXT = re.compile(r"trước|previous|prev|‹|«|<|←|đầu|first|cuối|last", re.I)
NOT_ARTICLE = re.compile(
    r"\.(pdf|docx?|xlsx?|pptx?|rar|zip|7z|jpe?g|png|gif|bmp|webp|mp3|mp4|avi|xml|rss|css|js)(\?|$)", re.I
)
_WAYBACK = re.compile(r"^/web/\d{14}(?:[a-z]{2}_)?/(https?:)?/*", re.I)
_PAGE_NUMBER = re.compile(r"(?:[?&](?:page|pageindex|trang|p|_cur|cur|pg)=|/page/|/trang[-/]?|[-_]p)(\d{1,4})", re.I)
HOME_PATHS = frozenset({"", "/pages/default.aspx", "/default.aspx", "/index.html", "/index.php", "/trang-chu", "/home"})
MIN_HEADLINE_WORDS = 4  # "Xem tiếp", menu entries and page numbers are shorter


@dataclass(frozen=True)
class ListingLink:
    url: str
    title: str
    published_at: dt.datetime | None  # the date the listing prints beside the link
    # A bare relative href ("thong-bao-x" on /tin-tuc/) resolved against the site's root: static
    # re-hosts write them so, and the browser's reading (/tin-tuc/thong-bao-x) may not exist.
    alternative: str | None = None


@dataclass
class Listing:
    links: list[ListingLink]
    next_url: str | None
    family: str  # the family whose selectors were used, or "generic"
    notes: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [link.url for link in self.links]


def site_of(url: str) -> tuple[str, str]:
    """(host, path) of the page a URL shows: a Wayback capture stands for the page it captured."""
    parts = urlsplit(url)
    path = parts.path
    if host_of(url) == "web.archive.org":
        found = _WAYBACK.match(path)
        if found is not None:
            inner = path[found.end() :]
            host, _, rest = inner.partition("/")
            return host.lower().removeprefix("www."), "/" + rest
    return host_of(url).removeprefix("www."), path


def url_shape(url: str) -> tuple[int, str, tuple[str, ...]]:
    """What article URLs of one site share: depth, kind of last segment, query keys."""
    _, path = site_of(url)
    segments = [s for s in path.split("/") if s]
    last = segments[-1].lower() if segments else ""
    if last.isdigit():
        kind = "number"
    elif "." in last:
        stem, _, ext = last.rpartition(".")
        kind = f"{ext}:{stem}" if ext in ("aspx", "asp", "php", "jsp") else ext
        if ext in ("html", "htm") and stem.count("-") >= 4:
            kind = "slug.html"
    elif last.count("-") >= 4:
        kind = "slug"
    else:
        kind = "word"
    keys = tuple(sorted({k.lower() for k, _ in parse_qsl(urlsplit(url).query)} - {"publisheddate"}))
    return len(segments), kind, keys


def _article_like(url: str) -> bool:
    """A story's URL: a long slug, a number, or a page with an item id in its query."""
    _, kind, keys = url_shape(url)
    return kind in ("slug", "slug.html", "number") or any(k.endswith("id") and k != "listid" for k in keys)


def _signature(node: LexborNode) -> str:
    parts: list[str] = []
    current: LexborNode | None = node
    for _ in range(4):
        if current is None or current.tag in ("body", "html"):
            break
        cls = re.sub(r"\d+", "", current.attributes.get("class") or "")
        parts.append(f"{current.tag}.{cls}")
        current = current.parent
    return "|".join(parts)


def _nested_list(node: LexborNode) -> bool:
    """Inside a list item of a list inside another list item: a drop-down menu."""
    items = 0
    current: LexborNode | None = node.parent
    while current is not None and current.tag not in ("body", "html"):
        items += current.tag == "li"
        if items >= 2:
            return True
        current = current.parent
    return False


def _within(node: LexborNode, mem_id: int) -> bool:
    current: LexborNode | None = node.parent
    while current is not None:
        if current.mem_id == mem_id:
            return True
        current = current.parent
    return False


def _in_marquee(node: LexborNode) -> bool:
    current: LexborNode | None = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag == "marquee":
            return True
        current = current.parent
    return False


def page_number(url: str) -> int:
    found = _PAGE_NUMBER.findall(url)
    return int(found[-1]) if found else 1


@dataclass
class _Candidate:
    node: LexborNode
    url: str
    text: str
    block: int
    chrome: bool
    near_chrome: bool  # the link's own element or a close parent is named like a menu
    related: bool
    image: bool
    signature: str
    marquee: bool


def _valid_next(target: str | None, url: str) -> str | None:
    if target is None:
        return None
    here = canonicalize_url(url)
    if target == here:
        return None
    if site_of(target)[1] in ("", "/") and site_of(here)[1] not in ("", "/"):
        return None  # a "next" button pointing to the home page
    return target


def _href(node: LexborNode, base: str) -> str | None:
    href = (node.attributes.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
        return None
    return canonicalize_url(href, base=base)


def find_next_page(tree: LexborHTMLParser, url: str) -> str | None:
    """The next listing page, or None."""
    for rel in tree.css('a[rel="next"], link[rel="next"]'):
        target = _valid_next(_href(rel, url), url)
        if target:
            return target
    anchors = tree.css("a[href]")
    for a in anchors:
        text = node_text(a) or (a.attributes.get("title") or "") or (a.attributes.get("aria-label") or "")
        if NEXT_TEXT.match(text) and not PREV_TEXT.search(a.attributes.get("title") or ""):
            target = _valid_next(_href(a, url), url)
            if target:
                return target
    wanted = str(page_number(url) + 1)
    for a in anchors:
        if node_text(a) == wanted:
            parent = a.parent
            numbers = 0
            while parent is not None and numbers < 2 and parent.tag not in ("body", "html"):
                numbers = sum(1 for b in parent.css("a") if node_text(b).isdigit())
                parent = parent.parent if numbers < 2 else parent
            target = _valid_next(_href(a, url), url)
            if target and numbers >= 2 or (target and page_number(target) == int(wanted)):
                return target
    return None


def _generic_links(tree: LexborHTMLParser, url: str) -> list[ListingLink]:
    root = tree.body
    if root is None:
        return []
    # Some homepages scroll their news list in a <marquee>: read it here (never in articles).
    page = segment(root, skip=SKIP_TAGS - {"marquee"})
    site = site_of(url)[0]
    wayback = host_of(url) == "web.archive.org"
    # A home page is a digest of every category: all its news blocks count, scrolling ones too;
    # on a category page a scrolling block repeats other pages' stories.
    home = site_of(url)[1].lower().rstrip("/") in HOME_PATHS
    here = canonicalize_url(url)
    # An "other news" heading covers the links of its own box (the nearest element around it
    # holding links), not everything below it.
    related: list[tuple[int, int]] = []  # (heading block index, mem_id of its box)
    for block in page.blocks:
        if len(block.text) <= 40 and RELATED_LIST.match(block.text):
            box = block.node.parent
            for _ in range(4):
                if box is None or box.tag in ("body", "html") or len(box.css("a[href]")) >= 2:
                    break
                box = box.parent
            if box is not None and box.tag not in ("body", "html"):
                related.append((block.index, box.mem_id))
    candidates: list[_Candidate] = []
    for a, index in page.anchors:
        target = _href(a, url)
        # On a Wayback capture, captured links stand for the site's; elsewhere they are another site.
        if target is None or target == here or (site_of(target)[0] if wayback else host_of(target)) != site:
            continue
        if NOT_ARTICLE.search(urlsplit(target).path) or NOT_ARTICLE.search(target):
            continue
        text = node_text(a)
        candidates.append(
            _Candidate(
                node=a,
                url=target,
                text=text,
                block=index,
                chrome=chrome_node(a),
                near_chrome=chrome_node(a, levels=4) or _nested_list(a),
                related=any(h < index and _within(a, box) for h, box in related),
                image=not text and a.css_first("img") is not None,
                signature=_signature(a),
                marquee=_in_marquee(a),
            )
        )
    groups: dict[str, list[_Candidate]] = {}
    for cand in candidates:
        groups.setdefault(cand.signature, []).append(cand)

    def score(group: list[_Candidate]) -> float:
        headlines = [c for c in group if len(c.text.split()) >= MIN_HEADLINE_WORDS and not c.related]
        if not headlines:
            return 0.0
        value = float(sum(min(len(c.text.split()), 12) for c in headlines))
        # Menus link categories ("/co-cau-to-chuc"); news lists link stories (long slugs, ids).
        article_like = sum(1 for c in headlines if _article_like(c.url)) / len(headlines)
        if article_like < 0.3:
            return 0.0  # links to categories only: a menu, however it is styled
        if article_like < 0.5:
            value *= 0.3
        # Named like a menu close by (a.tmenu, ul.menu): a menu. Named so far up, a menu unless
        # every link is a story's (a news block inside a div called "UnionNews_menu_mode2").
        near = sum(1 for c in headlines if c.near_chrome) >= len(headlines) / 2
        far = sum(1 for c in headlines if c.chrome) >= len(headlines) / 2
        if near or (far and article_like < 0.9):
            value *= 0.2
        return value

    ranked = sorted(groups.values(), key=score, reverse=True)
    if not ranked or score(ranked[0]) == 0:
        return []
    best = ranked[0]
    shapes = {url_shape(c.url) for c in best if not c.related}
    members = {id(c) for c in best}
    chosen: list[_Candidate] = []
    for cand in candidates:
        if cand.related:
            continue
        if id(cand) in members:
            if cand.text or cand.image:
                chosen.append(cand)
            continue
        if (cand.marquee and not home) or url_shape(cand.url) not in shapes or cand.near_chrome or (cand.chrome and not home):
            continue
        if len(cand.text.split()) >= MIN_HEADLINE_WORDS or cand.image:
            chosen.append(cand)
    block_text = {b.index: b.text for b in page.blocks}
    out: list[ListingLink] = []
    seen: set[str] = set()
    titles: dict[str, str] = {}
    for cand in chosen:
        if cand.text and cand.url not in titles:
            titles[cand.url] = cand.text
    for cand in chosen:
        if cand.url in seen:
            continue
        seen.add(cand.url)
        # The item's own line (link text + date span) or the line after it carries its date.
        date = None
        for i in (cand.block, cand.block + 1):
            # Beside the link, not inside its text ("... Quyết định 412/QĐ-UBND ngày 01/04/2019").
            text = block_text.get(i, "").replace(cand.text, " ") if cand.text else block_text.get(i, "")
            if text and len(text) < 400:
                date = parse_vietnamese_date(text)
                if date is not None:
                    break
        out.append(ListingLink(cand.url, titles.get(cand.url, ""), date, _root_alternative(cand.node, url)))
    return out


def _root_alternative(node: LexborNode, base: str) -> str | None:
    href = (node.attributes.get("href") or "").strip()
    if not href or re.match(r"^([a-z][a-z0-9+.-]*:|/|\.|\?|#)", href, re.I):
        return None
    parts = urlsplit(base)
    if parts.path.count("/") < 2:  # the page is at the root: both readings agree
        return None
    return canonicalize_url(href, base=f"{parts.scheme}://{parts.netloc}/")


_PAGE_PARAM = re.compile(r"([?&](?:page|pageindex|trang|_cur|cur|pg)=)(\d{1,4})", re.I)
_PAGE_PATH = re.compile(r"(/(?:page|trang)[-/]?)(\d{1,4})(/?)$", re.I)


def guess_next_page(url: str) -> str | None:
    """The page after `url` by the usual URL patterns, for listings whose pager is not rendered.

    "/tin-tuc/page/2/" -> "/tin-tuc/page/3/", "?PageIndex=2" -> "?PageIndex=3"; a first page
    ending in "/" -> "page/2/" (static site generators' default). None for anything else.
    """
    parts = urlsplit(url)
    found = _PAGE_PARAM.search("?" + parts.query)
    if found is not None:
        query = _PAGE_PARAM.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", "?" + parts.query, count=1)[1:]
        return canonicalize_url(parts._replace(query=query).geturl())
    path_found = _PAGE_PATH.search(parts.path)
    if path_found is not None:
        path = parts.path[: path_found.start()] + f"{path_found.group(1)}{int(path_found.group(2)) + 1}{path_found.group(3)}"
        return canonicalize_url(parts._replace(path=path).geturl())
    if parts.path.endswith("/") and not parts.query and parts.path != "/":
        return canonicalize_url(parts._replace(path=parts.path + "page/2/").geturl())
    return None


def parse_listing_page(html: str, url: str, family: str | None = None) -> Listing:
    """Article links and next page of a listing page (`family` None or "auto": recognised)."""
    tree = LexborHTMLParser(html)
    decompose_all(tree, ("script", "style", "noscript"))
    fam = get_family(family) if family and family != "auto" else None
    if fam is not None and fam.listing_links:
        pattern = re.compile(fam.article_path) if fam.article_path else None
        links: list[str] = []
        for sel in fam.listing_links.split(","):
            for a in tree.css(sel.strip()):
                target = _href(a, url)
                if target and (pattern is None or pattern.search(urlsplit(target).path)):
                    links.append(target)
        if links:
            node = first(tree, fam.next_page)
            next_url = _valid_next(_href(node, url), url) if node is not None else None
            unique = list(dict.fromkeys(links))
            return Listing([ListingLink(u, "", None) for u in unique], next_url or find_next_page(tree, url), fam.name)
    links_found = _generic_links(tree, url)
    notes = [] if links_found else ["no article links found"]
    return Listing(links_found, find_next_page(tree, url), "generic", notes)


def parse_listing(html: str, url: str, family: str | None = None) -> tuple[list[str], str | None]:
    """Article URLs on a listing page (page order, newest first on these portals) and the next page."""
    listing = parse_listing_page(html, url, family)
    return listing.urls, listing.next_url
