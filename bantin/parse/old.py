"""Parsing portal pages: article pages into ParsedArticle, listing pages into links.

The family's selectors (bantin/families.py) pick the title, the article's own date, the
body, byline and captions, and the chrome to drop. With an unknown family, or a page
where the family's body selector finds nothing, the generic fallback takes the largest
text block (paragraph text length, discounted by link density) and flags `generic`.

Dates are Vietnamese day-first strings in Asia/Ho_Chi_Minh local time; the header's
"today" (e.g. "Thứ tư, 06/12/2023") is never taken: family selectors point at the
article's own date, and the generic path skips header/top-bar/"today" elements.
URL ids that are timestamps (Liferay milliseconds, Unix seconds) are the last resort,
and refine a date-only page date to the minute when they agree on the day.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bantin.families import COMMON_DROP, RELATED_HEADINGS, Family, get_family
from bantin.urls import canonicalize_url, host_of

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# Image placeholders left as text by portal editors and templates.
PLACEHOLDER = re.compile(r"^\s*(hinh|hình|hình ảnh|ảnh|anh|image|img|photo|%image_alt%|%[a-z_]+%)\s*\.?\s*$", re.I)
_WS = re.compile(r"\s+")

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*((?:19|20)\d{2})(?!\d)")
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.I)
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3])\s*[:h]\s*([0-5]\d)(?:\s*:\s*([0-5]\d))?(?![\d:])")
_ISO = re.compile(r"((?:19|20)\d{2})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?")

BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "li", "blockquote", "pre", "td", "div")
# Generic fallback: containers never holding the article.
GENERIC_SKIP = re.compile(
    r"header|footer|menu|navigation|sidebar|banner|breadcrumb|related|lien-?quan|other-news|comment|share|"
    r"social|top-?bar|hot-?news|most-?read|marquee|paging|pager|pagination|phantrang|box-right|right-col|"
    r"left-col|(^|[\s_-])(nav|aside)([\s_-]|$)",
    re.I,
)
_TODAY_HINT = re.compile(r"today|current-date|header|top-bar|date-today|clock", re.I)


@dataclass
class ParsedArticle:
    url: str
    title: str
    published_at: dt.datetime | None
    byline: str | None
    paragraphs: list[str]
    captions: list[str]
    family: str  # the family actually used: a known name or "generic"
    generic: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# --- text helpers -----------------------------------------------------------------------------


def clean(text: str | None) -> str:
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFC", text).replace("\xa0", " ")).strip()


def node_text(node: LexborNode) -> str:
    # No separator: inline tags split words and figures ("<b>5</b>/7"); the source's own spaces stay.
    return clean(node.text(deep=True, separator=""))


def _first(tree: LexborHTMLParser | LexborNode, selector: str | None) -> LexborNode | None:
    if not selector:
        return None
    for sel in selector.split(","):
        node = tree.css_first(sel.strip())
        if node is not None:
            return node
    return None


def _decompose_all(root: LexborHTMLParser | LexborNode, selectors: tuple[str, ...] | list[str]) -> None:
    for sel in selectors:
        for node in root.css(sel):
            node.decompose()


# --- dates ------------------------------------------------------------------------------------


def parse_vietnamese_date(text: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The first day-first date in `text` (with its time when given), aware in Asia/Ho_Chi_Minh.

    Handles "Đăng ngày 17 - 05 - 2024", "- 09-10-2024", "Thứ năm - 09/03/2017 21:41",
    "THỨ BA, 25/02/2020 08:51:00", "(29/06/2026, 14:49)", "04:35 15/03/2016",
    "ngày 5 tháng 7 năm 2024" and ISO 8601. Impossible dates and ones far in the future are None.
    """
    text = clean(text)
    if not text:
        return None
    now = now or dt.datetime.now(VN_TZ)
    iso = _ISO.search(text)
    match = _DATE.search(text) or _DATE_WORDS.search(text)
    if match is None and iso is not None:
        y, mo, d, hh, mm, ss, zone = iso.groups()
        try:
            value = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError:
            return None
        if zone:
            z = zone.replace(":", "")
            offset = dt.timedelta(0) if z == "Z" else dt.timedelta(hours=int(z[:3]), minutes=int(z[0] + z[3:]))
            aware = value.replace(tzinfo=dt.timezone(offset)).astimezone(VN_TZ)
        else:
            aware = value.replace(tzinfo=VN_TZ)
        return aware if aware <= now + dt.timedelta(days=1) else None
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    # A time before or after the date, in the same string, belongs to it.
    rest = text[: match.start()] + " " + text[match.end() :]
    hh = mm = ss = 0
    tmatch = _TIME.search(rest)
    if tmatch:
        hh, mm = int(tmatch.group(1)), int(tmatch.group(2))
        ss = int(tmatch.group(3) or 0)
    try:
        value = dt.datetime(year, month, day, hh, mm, ss, tzinfo=VN_TZ)
    except ValueError:
        return None
    if value > now + dt.timedelta(days=1):
        return None
    return value


def date_from_url(url: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """Publication time encoded in an article id: milliseconds (Liferay 3cms) or Unix seconds."""
    now = now or dt.datetime.now(VN_TZ)
    path = urlsplit(url).path
    for token in reversed(re.findall(r"(?<!\d)(\d{10}|\d{13})(?!\d)", path)):
        seconds = int(token) / 1000 if len(token) == 13 else int(token)
        try:
            value = dt.datetime.fromtimestamp(seconds, tz=VN_TZ)
        except (OverflowError, OSError, ValueError):
            continue
        if dt.datetime(2000, 1, 1, tzinfo=VN_TZ) <= value <= now + dt.timedelta(days=1):
            return value
    return None


def _meta_date(tree: LexborHTMLParser) -> dt.datetime | None:
    for sel, attr in (
        ('meta[property="article:published_time"]', "content"),
        ('meta[itemprop="datePublished"]', "content"),
        ('meta[name="pubdate"]', "content"),
        ('meta[name="publishdate"]', "content"),
        ("time[datetime]", "datetime"),
    ):
        node = tree.css_first(sel)
        if node is not None:
            value = parse_vietnamese_date(node.attributes.get(attr) or "")
            if value is not None:
                return value
    return None


def _inside(node: LexborNode, pattern: re.Pattern[str]) -> bool:
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        attrs = current.attributes
        marker = f"{current.tag} {attrs.get('class') or ''} {attrs.get('id') or ''}"
        if pattern.search(marker):
            return True
        current = current.parent
    return False


def _generic_date(tree: LexborHTMLParser, main: LexborNode | None) -> dt.datetime | None:
    """A date from an element that calls itself a date, outside the header/"today" chrome."""
    candidates = tree.css('[class*="date"], [class*="time"], [class*="ngay"], [class*="meta"], [class*="created"]')
    for node in candidates:
        if _inside(node, _TODAY_HINT) or _inside(node, re.compile(r"(^|\s)(header|nav|footer|aside)(\s|$)")):
            continue
        value = parse_vietnamese_date(node_text(node))
        if value is not None:
            return value
    if main is not None:
        # The line just before or at the top of the body often carries the date.
        for node in main.css("p, div, span")[:3]:
            value = parse_vietnamese_date(node_text(node)[:80])
            if value is not None:
                return value
    return None


def _refine_with_url(page_date: dt.datetime | None, has_time: bool, url: str) -> dt.datetime | None:
    url_date = date_from_url(url)
    if page_date is None:
        return url_date
    if not has_time and url_date is not None and url_date.date() == page_date.date():
        return url_date
    return page_date


# --- body -------------------------------------------------------------------------------------


_CONTAINER_TAGS = BLOCK_TAGS + ("table", "tbody", "tr", "ul", "ol", "figure", "section", "article", "center")
_BLOCK_SEL = ", ".join(_CONTAINER_TAGS)


def _contains_block(node: LexborNode) -> bool:
    own = node.mem_id
    return any(n.mem_id != own for n in node.css(_BLOCK_SEL))


def _text_blocks(node: LexborNode, out: list[str]) -> None:
    """Text blocks of `node` in document order: leaf block elements, and loose text runs
    between blocks or separated by <br> (some portals write paragraphs as text + <br>)."""
    loose: list[str] = []

    def flush() -> None:
        text = clean("".join(loose))
        if text:
            out.append(text)
        loose.clear()

    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            loose.append(child.text_content or "")
        elif tag == "br":
            flush()
        elif tag in ("img", "script", "style", "-comment", "input", "button", "iframe"):
            pass
        elif tag in _CONTAINER_TAGS or _contains_block(child):
            flush()
            if _contains_block(child):
                _text_blocks(child, out)
            else:
                out.append(node_text(child))
        else:  # inline element: part of the running text
            loose.append(child.text(deep=True, separator=""))
        child = child.next
    flush()


def _paragraphs(body: LexborNode) -> list[str]:
    blocks: list[str] = []
    if _contains_block(body):
        _text_blocks(body, blocks)
    else:
        blocks = [node_text(body)]
    out: list[str] = []
    for text in blocks:
        if not text or PLACEHOLDER.match(text):
            continue
        if RELATED_HEADINGS.match(text):
            break  # the portal's list of other stories starts here
        out.append(text)
    return out


def _split_byline(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """A short all-caps last line ("THANH MAI – MINH KIÊN") is the byline, not text."""
    if len(paragraphs) < 2:
        return paragraphs, None
    last = paragraphs[-1]
    letters = [c for c in last if c.isalpha()]
    if 0 < len(last.split()) <= 8 and letters and all(c.isupper() for c in letters) and not last.endswith("."):
        return paragraphs[:-1], last
    return paragraphs, None


def _generic_main(tree: LexborHTMLParser) -> LexborNode | None:
    """The container holding the most paragraph text, discounted by its link text."""
    body = tree.body
    if body is None:
        return None
    scores: dict[int, tuple[float, LexborNode]] = {}
    for p in body.css("p, div, td"):
        if p.tag != "p" and _contains_block(p):
            continue
        text = node_text(p)
        if len(text) < 25 or _inside(p, GENERIC_SKIP):
            continue
        link_text = sum(len(node_text(a)) for a in p.css("a"))
        weight = len(text) * (1.0 - min(1.0, link_text / max(1, len(text))))
        parent = p.parent if p.tag == "p" else p
        if parent is None:
            continue
        key = parent.mem_id
        prev = scores.get(key, (0.0, parent))[0]
        scores[key] = (prev + weight, parent)
    if not scores:
        return None
    return max(scores.values(), key=lambda item: item[0])[1]


def _title_fallback(tree: LexborHTMLParser) -> str:
    for sel in ('meta[property="og:title"]',):
        node = tree.css_first(sel)
        if node is not None and clean(node.attributes.get("content")):
            return clean(node.attributes.get("content"))
    for h1 in tree.css("h1"):
        if not _inside(h1, GENERIC_SKIP):
            text = node_text(h1)
            if text:
                return text
    node = tree.css_first("title")
    return clean(node.text()) if node is not None else ""


def parse_article(html: str, url: str, family: str | None) -> ParsedArticle:
    """Parse an article page of a portal of `family` (None or unknown: generic fallback)."""
    tree = LexborHTMLParser(html)
    fam: Family | None = get_family(family)
    warnings: list[str] = []
    if family and fam is None:
        warnings.append(f"unknown family {family!r}: generic extraction")

    title = ""
    published: dt.datetime | None = None
    has_time = False
    byline: str | None = None
    captions: list[str] = []
    body: LexborNode | None = None

    if fam is not None:
        node = _first(tree, fam.title)
        title = node_text(node) if node is not None else ""
        node = _first(tree, fam.date)
        if node is not None:
            date_text = node_text(node)
            published = parse_vietnamese_date(date_text)
            has_time = bool(_TIME.search(_DATE.sub(" ", date_text)))
        node = _first(tree, fam.byline)
        if node is not None:
            byline = node_text(node) or None
        body = _first(tree, fam.body)
        if body is not None:
            _decompose_all(body, fam.drop)
            if fam.captions:
                for cap in body.css(fam.captions):
                    text = node_text(cap)
                    if text and not PLACEHOLDER.match(text):
                        captions.append(text)
                    cap.decompose()
        else:
            warnings.append(f"family {fam.name!r}: body selector matched nothing; generic extraction")

    generic = body is None
    if generic:
        _decompose_all(tree, COMMON_DROP + (("aside",)))
        if fam is not None:
            _decompose_all(tree, fam.drop)
        body = _generic_main(tree)
        if body is not None:
            for cap in body.css("figcaption, .caption, .image-caption, [class*=caption]"):
                text = node_text(cap)
                if text and not PLACEHOLDER.match(text):
                    captions.append(text)
                cap.decompose()
        if published is None:
            published = _generic_date(tree, body)
            has_time = published is not None and (published.hour, published.minute) != (0, 0)

    if published is None:
        published = _meta_date(tree)
        has_time = published is not None
    published = _refine_with_url(published, has_time, url)

    paragraphs = _paragraphs(body) if body is not None else []
    if not title:
        title = _title_fallback(tree)
    if paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if byline is None:
        paragraphs, byline = _split_byline(paragraphs)
    elif paragraphs and clean(paragraphs[-1]) == byline:
        paragraphs = paragraphs[:-1]
    if not paragraphs:
        warnings.append("no body text found")
    return ParsedArticle(
        url=url,
        title=title,
        published_at=published,
        byline=byline,
        paragraphs=paragraphs,
        captions=captions,
        family="generic" if generic else fam.name,  # type: ignore[union-attr]
        generic=generic,
        warnings=warnings,
    )


# --- listings ---------------------------------------------------------------------------------

_NEXT_TEXT = re.compile(r"^\s*(sau|trang sau|tiếp|tiếp theo|next|›|»|>|>>|››)\s*[›»>]*\s*$", re.I)
_GENERIC_ARTICLE = re.compile(r"(\.html?|\.aspx|\.php)$|/node/\d+|/\d{5,}|/[a-z0-9]+(?:-[a-z0-9]+){4,}/?$", re.I)


def _href(node: LexborNode, base: str) -> str | None:
    href = (node.attributes.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
        return None
    return canonicalize_url(href, base=base)


def parse_listing(html: str, url: str, family: str | None) -> tuple[list[str], str | None]:
    """Article URLs on a listing page (page order, newest first on these portals) and the next page."""
    tree = LexborHTMLParser(html)
    fam = get_family(family)
    links: list[str] = []
    next_url: str | None = None
    host = host_of(url)
    if fam is not None:
        pattern = re.compile(fam.article_path) if fam.article_path else None
        for sel in fam.listing_links.split(","):
            for a in tree.css(sel.strip()):
                target = _href(a, url)
                if target and (pattern is None or pattern.search(urlsplit(target).path)):
                    links.append(target)
        node = _first(tree, fam.next_page)
        if node is not None:
            next_url = _href(node, url)
    if fam is None:  # unknown family: headline-looking links on the same host
        _decompose_all(tree, ("script", "style", "header", "footer", "nav", "aside"))
        for a in tree.css("a[href]"):
            if _inside(a, GENERIC_SKIP):
                continue
            target = _href(a, url)
            if target and host_of(target) == host and _GENERIC_ARTICLE.search(urlsplit(target).path):
                if len(node_text(a)) >= 15:  # a headline, not "1 2 3" or "Xem tiếp"
                    links.append(target)
    if next_url is None:
        rel = tree.css_first('a[rel="next"], link[rel="next"]')
        if rel is not None:
            next_url = _href(rel, url)
        else:
            for a in tree.css("a[href]"):
                if _NEXT_TEXT.match(node_text(a) or (a.attributes.get("title") or "")):
                    next_url = _href(a, url)
                    if next_url:
                        break
    seen: set[str] = set()
    unique = [u for u in links if not (u in seen or seen.add(u))]
    if next_url == canonicalize_url(url):
        next_url = None
    return unique, next_url
