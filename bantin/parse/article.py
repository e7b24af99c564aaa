"""Article pages: title, publication date, body paragraphs, byline, captions, attachments.

A page of a known family is read with that family's selectors when they find a body
(bantin/families.py). Every other page, and a family page whose selectors find nothing,
goes the generic way:

- body: the main container by block scoring (bantin/parse/blocks.py), then its blocks
  without chrome: the title and meta lines repeated at its top, date/view-counter/print
  lines, lists of links, everything from an "other news" heading on, captions (italic,
  under an image, in an image's table cell), the byline or source at the end ("Tin, ảnh:
  ...", "Theo ...", "Nguồn ..."), and "Xem chi tiết tại đây" (its document is an attachment).
- title: the heading or title-classed block nearest above the body (or the body's own
  first line when it is a short unpunctuated line), never a category label (a text the
  menus above already link) nor the site's name; else og:title/<h1>/<title> minus the site.
- date: the article's own header or footer (a few blocks around the title and just after
  the body), never the page header's "today" far above, nor dates inside the text or in
  other stories' lists.

A body that is only a link to a document ("Xem chi tiết tại đây") makes a notice: no
paragraphs, the document's URL in `attachments`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bantin.families import COMMON_DROP, RELATED_HEADING, RELATED_HEADINGS, Family, get_family, heading_line
from bantin.parse.blocks import Block, Page, chrome_node, main_container, segment
from bantin.parse.dates import has_time, parse_vietnamese_date, refine_with_url
from bantin.parse.text import PLACEHOLDER, clean, decompose_all, first, node_text
from bantin.urls import canonicalize_url


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
    attachments: list[str] = field(default_factory=list)  # documents the article links (PDF, Word...)
    # A document notice: a title and "Xem chi tiết tại đây" (the document is the content), no text.
    notice: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# --- patterns ---------------------------------------------------------------------------------

# Headings of the "other stories" block and of comment forms: the article ends before them.
END_HEADINGS = heading_line((*RELATED_HEADINGS, "ý kiến bạn đọc", "ý kiến của bạn", "gửi ý kiến", "bình luận", "gửi bình luận"))
# Lines of article meta or page tools, not text.
META = re.compile(
    r"(lượt xem|lượt người xem|số lượt|bình luận|bản in|quay lại|in bài|gửi email|gửi bài|chia sẻ|lưu bài|"
    r"đăng bởi|ngày đăng|cập nhật|ngày cập nhật|trở về|về đầu trang|phóng to|thu nhỏ|cỡ chữ|print|back|"
    r"share|tweet|views?\b)",
    re.I,
)
# The byline or the source, written at the end of the text.
BYLINE = re.compile(
    r"^\s*[(\[]?\s*(tin(\s*,\s*|\s+và\s+|\s+)ảnh|tin|ảnh|bài(\s*,\s*|\s+và\s+|\s+)ảnh|bài|theo|nguồn|người đưa tin|"
    r"tác giả|người viết|phóng viên|pv|ctv|st|sưu tầm)\b\s*[:.\-–]?",
    re.I,
)
DETAIL_LINK = re.compile(r"^\s*(xem|tải)\s+(chi tiết|toàn văn|nội dung|văn bản|file|tệp)\b.*$", re.I)
# "Xem chi tiết tại đây", "Tải file đính kèm Tại đây": the link to the document a notice is about.
DETAIL_ANYWHERE = re.compile(r"(xem chi tiết|tải file|file đính kèm|tệp đính kèm|tải về|toàn văn)\W*(\w+\W*){0,3}tại đây", re.I)
DOCUMENT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|rar|zip|7z|odt|ods|rtf|tiff?)(\?|$)", re.I)
TITLE_CLASS = re.compile(r"title|tieude|tieu-de|tieu_de|headline|heading|tenbai|ten-bai|tentin", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[-|–:»]+\s*|\s*[|»]\s+|\s+::\s+")
_TRAILING_PARENS = re.compile(r"\s*\(([^()]*)\)\s*$")
_TERMINAL = re.compile(r"[.!?…:;”\"')»]\s*$")
_SITE_WORDS = re.compile(
    r"^(trang chủ|trang chu|home|cổng thông tin|trang thông tin|website|portal)\b", re.I
)


# --- helpers ----------------------------------------------------------------------------------


def _words(text: str) -> int:
    return len(text.split())


def _is_date_line(text: str) -> bool:
    """A short line that is mostly a date (with a weekday, a time, a label)."""
    if len(text) > 80:
        return False
    if parse_vietnamese_date(text) is None and not re.search(r"\d{4}-\d{2}-\d{2}", text):
        return False
    rest = re.sub(r"[\d/.:\-,()T+Z]+", " ", text)
    rest = re.sub(r"(?i)\b(thứ|hai|ba|tư|năm|sáu|bảy|chủ|nhật|ngày|đăng|cập|nhật|lúc|giờ|am|pm|gmt)\b", " ", rest)
    return len(rest.strip()) < 20


def _is_meta_line(text: str) -> bool:
    return len(text) <= 90 and bool(META.search(text)) and not re.search(r"[.!?…]\s*$", text)


def _is_pure_date(text: str) -> bool:
    """Only a date and time, perhaps with a weekday: "(26.07.2019 14:14)", "Thứ hai, 05/08/2019"."""
    if not _is_date_line(text) or len(re.findall(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}", text)) > 1:
        return False  # a range of dates is something's period, not a publication date
    rest = re.sub(r"[\d/.:\-,()T+Z\s]+", " ", text)
    rest = re.sub(r"(?i)\b(thứ|hai|ba|tư|năm|sáu|bảy|chủ|nhật|ngày|đăng|cập|nhật|lúc|giờ|am|pm|gmt)\b", " ", rest)
    return len(rest.strip()) < 3


def _site_names(tree: LexborHTMLParser) -> set[str]:
    names: set[str] = set()
    for node in (tree.css_first("title"), tree.css_first('meta[property="og:site_name"]')):
        if node is None:
            continue
        value = clean(node.text() if node.tag == "title" else node.attributes.get("content"))
        if value:
            names.add(value.casefold())
            names.update(part.casefold() for part in _TITLE_SEPARATORS.split(value) if part.strip())
    return names


def _strip_title_date(text: str) -> tuple[str, str | None]:
    """"Title ( 2019-05-16T05:00:00.000Z )" -> ("Title", the date text); "Title ( )" -> ("Title", None)."""
    match = _TRAILING_PARENS.search(text)
    if match is not None:
        inner = match.group(1).strip()
        # Only a date: "( 2019-05-16T05:00:00.000Z )"; "(từ ngày 11/6/2019 - 15/7/2019)" is the title's.
        if not inner or _is_pure_date(inner):
            return text[: match.start()].rstrip(), inner or None
    return text, None


def _fallback_title(tree: LexborHTMLParser, sites: set[str]) -> str:
    node = tree.css_first('meta[property="og:title"]')
    if node is not None:
        value = clean(node.attributes.get("content"))
        if value and value.casefold() not in sites:
            return value
    for h1 in tree.css("h1"):
        value = node_text(h1)
        if value and value.casefold() not in sites and not chrome_node(h1):
            return value
    node = tree.css_first("title")
    if node is None:
        return ""
    parts = [p.strip() for p in _TITLE_SEPARATORS.split(clean(node.text())) if p.strip()]
    # The site's name is the part naming a portal (or "Trang chủ"); the rest is the article's.
    kept = [p for p in parts if not _SITE_WORDS.match(p) and _words(p) >= 3]
    if len(parts) > 1 and kept and len(kept) < len(parts):
        return max(kept, key=len)
    return ""


# --- generic path -----------------------------------------------------------------------------


@dataclass
class _Generic:
    title: str = ""
    title_index: int | None = None
    published: dt.datetime | None = None
    has_time: bool = False
    byline: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    notice: bool = False
    detail_index: int | None = None  # a notice's "Xem chi tiết tại đây" block


def _attachment_links(page: Page, index: int, url: str) -> list[str]:
    """Documents linked from block `index` (a "Xem chi tiết tại đây" line or a document link)."""
    found: list[str] = []
    for a, at in page.anchors:
        if at not in (index, index + 1):
            continue
        href = (a.attributes.get("href") or "").strip()
        if href and not href.startswith(("javascript:", "#", "mailto:")) and (
            DOCUMENT.search(href)
            or DETAIL_LINK.match(node_text(a))
            or node_text(a).casefold() in ("tại đây", "đây", "tải về")
        ):
            target = canonicalize_url(href, base=url)
            if target not in found:
                found.append(target)
    return found


def _notice(page: Page, url: str, sites: set[str]) -> _Generic | None:
    """A page whose content is a title and a "Xem chi tiết tại đây" link: a document notice."""
    blocks = page.blocks
    for block in blocks:
        if len(block.text) > 120 or not DETAIL_ANYWHERE.search(block.text) or chrome_node(block.node):
            continue
        for i in range(block.index - 1, max(-1, block.index - 6), -1):
            candidate = blocks[i]
            if _title_candidate(candidate, set(), sites, set()):
                out = _Generic(notice=True, detail_index=block.index)
                out.title, _ = _strip_title_date(candidate.text)
                out.title_index = candidate.index
                out.attachments = _attachment_links(page, block.index, url)
                for j in (*range(i + 1, block.index + 1), *range(i - 1, max(-1, i - 4), -1)):
                    if _is_date_line(blocks[j].text) or _is_meta_line(blocks[j].text):
                        out.published = parse_vietnamese_date(blocks[j].text)
                        if out.published is not None:
                            out.has_time = has_time(blocks[j].text)
                            break
                return out
    return None


def _link_texts_before(page: Page) -> list[tuple[int, str]]:
    return [(index, node_text(a).casefold()) for a, index in page.anchors]


def _title_candidate(block: Block, container_path: set[int], sites: set[str], linked_before: set[str]) -> int:
    """0: not a title; 2: a heading or a title-classed element; 1: a bold short line."""
    text = block.text
    if not (8 <= len(text) <= 300) or _words(text) < 3 or block.link_density >= 0.5:
        return 0
    folded = text.casefold()
    if folded in sites or folded in linked_before or END_HEADINGS.match(text):
        return 0
    if _is_date_line(text) or _is_meta_line(text):
        return 0
    # A line of four words or fewer above the text is more often a category label than a title.
    strong = 2 if _words(text) > 4 else 1
    if block.heading:
        return strong
    node: LexborNode | None = block.node
    for _ in range(3):
        if node is None or node.mem_id in container_path or node.tag in ("body", "html"):
            break
        attrs = node.attributes
        if TITLE_CLASS.search(f"{attrs.get('class') or ''} {attrs.get('id') or ''}"):
            return strong
        node = node.parent
    if block.bold and _words(text) <= 40:
        return 1
    return 0


def _generic(tree: LexborHTMLParser, url: str) -> _Generic:
    out = _Generic()
    root = tree.body
    if root is None:
        return out
    page = segment(root)
    blocks = page.blocks
    main = main_container(page)
    if main is None:
        return out
    main_node = page.nodes[main]
    inside = [b for b in blocks if main in b.path]
    sites = _site_names(tree)
    # The page footer is never the article: a page whose best text is its footer has none.
    # (Near names only: some skins wrap the whole page in a div named "header".)
    if not any(b.good for b in inside) or chrome_node(main_node, levels=3):
        return _notice(page, url, sites) or out
    # A title and "Xem chi tiết tại đây" above the best text (then an unnamed footer): a notice.
    notice = _notice(page, url, sites)
    if notice is not None and notice.detail_index is not None and notice.detail_index < inside[0].index:
        return notice
    start, end = inside[0].index, inside[-1].index
    container_path = set(inside[0].path[: inside[0].path.index(main) + 1])

    # Title: the nearest title-like block above the body, or the body's own first line.
    anchors = _link_texts_before(page)
    best: tuple[int, int] | None = None  # (strength, index)
    for block in blocks[max(0, start - 15) : min(len(blocks), start + 2)]:
        linked_before = {text for index, text in anchors if index < block.index}
        strength = _title_candidate(block, container_path, sites, linked_before)
        if strength and (best is None or strength > best[0] or (strength == best[0] and block.index > best[1])):
            if block.index > start and best is not None and best[0] >= strength:
                continue  # inside the body, a title only when nothing stands above it
            best = (strength, block.index)
    if best is None or best[0] < 2:
        # The body's own first line, short and unpunctuated, is its title (a bold line above is a label).
        first_line = blocks[start].text
        if (
            len(inside) > 1
            and 3 <= _words(first_line) <= 30
            and not _TERMINAL.search(first_line)
            and first_line.casefold() not in sites
            and not (_is_date_line(first_line) or _is_meta_line(first_line))
        ):
            best = (1, start)
    date_text: str | None = None
    if best is not None:
        out.title, date_text = _strip_title_date(blocks[best[1]].text)
        out.title_index = best[1]
    else:
        out.title = _fallback_title(tree, sites)

    # Date: in the title, then the article's header around the title, then just after the body.
    windows: list[range] = []
    anchor = out.title_index if out.title_index is not None else start
    windows.append(range(anchor + 1, min(len(blocks), max(anchor + 5, start + 3))))
    windows.append(range(anchor - 1, max(-1, anchor - 4), -1))
    windows.append(range(end + 1, min(len(blocks), end + 4)))
    if date_text:
        out.published = parse_vietnamese_date(date_text)
        out.has_time = out.published is not None and has_time(date_text)
    for window in windows if out.published is None else []:
        for i in window:
            text = blocks[i].text
            if END_HEADINGS.match(text):
                break
            if len(text) <= 100 and (_is_date_line(text) or _is_meta_line(text)):
                value = parse_vietnamese_date(text)
                if value is not None:
                    out.published, out.has_time = value, has_time(text)
                    break
        if out.published is not None:
            break

    # Body: the container's blocks without chrome.
    title_folded = out.title.casefold()
    paragraphs: list[Block] = []
    for block in inside:
        text = block.text
        if out.title_index is not None and block.index <= out.title_index:
            continue
        if END_HEADINGS.match(text):
            break
        if PLACEHOLDER.match(text) or text.casefold() == title_folded:
            continue
        if chrome_node(block.node, stop=main_node):
            continue
        # Dates above the text are its header; below, a labelled date ("Ngày xử lý: ...") is text.
        if _is_meta_line(text) or (_is_date_line(text) and (not paragraphs or _is_pure_date(text))):
            continue
        if DETAIL_LINK.match(text) or block.link_density > 0.5:
            for target in _attachment_links(page, block.index, url):
                if target not in out.attachments:
                    out.attachments.append(target)
            continue
        if block.italic and _words(text) <= 40 or (block.after_image and _words(text) <= 30 and not _TERMINAL.search(text)):
            out.captions.append(text)
            continue
        if _in_image_cell(block) and _words(text) <= 40:
            out.captions.append(text)
            continue
        paragraphs.append(block)
    # Documents linked from the body (beyond "Xem chi tiết") are attachments too.
    for a, index in page.anchors:
        if start <= index <= end + 1:
            href = (a.attributes.get("href") or "").strip()
            if href and DOCUMENT.search(href):
                target = canonicalize_url(href, base=url)
                if target not in out.attachments:
                    out.attachments.append(target)

    # The end: byline or source, then captions trailing after the last sentence.
    texts = [b.text for b in paragraphs]
    unpunctuated = sum(1 for t in texts if not _TERMINAL.search(t))
    listlike = len(texts) >= 4 and unpunctuated / len(texts) > 0.4
    while len(texts) > 1:
        last = texts[-1]
        if out.byline is None and ((BYLINE.match(last) and len(last) <= 120) or _all_caps_name(last)):
            out.byline = last
        elif not listlike and _words(last) <= 25 and not _TERMINAL.search(last) and _TERMINAL.search(texts[-2]):
            out.captions.append(last)
        else:
            break
        texts.pop()
    if sum(len(t) for t in texts) < 40 and out.attachments:
        texts = []  # a notice: the document is the content
        out.notice = True
    out.paragraphs = texts
    return out


def _all_caps_name(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return 0 < _words(text) <= 8 and bool(letters) and all(c.isupper() for c in letters) and not text.endswith(".")


def _in_image_cell(block: Block) -> bool:
    """A short line in a table cell next to a photo: a caption laid out with a table."""
    node: LexborNode | None = block.node
    for _ in range(3):
        if node is None:
            return False
        if node.tag in ("td", "th"):
            table = node.parent
            while table is not None and table.tag != "table":
                table = table.parent
            return table is not None and table.css_first("img") is not None and len(node_text(table)) < 400
        node = node.parent
    return False


# --- family path ------------------------------------------------------------------------------


def _split_byline(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """A short all-caps last line ("THANH MAI – MINH KIÊN") is the byline, not text."""
    if len(paragraphs) < 2:
        return paragraphs, None
    if _all_caps_name(paragraphs[-1]):
        return paragraphs[:-1], paragraphs[-1]
    return paragraphs, None


def _family_paragraphs(body: LexborNode) -> list[str]:
    page = segment(body)
    out: list[str] = []
    for block in page.blocks:
        text = block.text
        if not text or PLACEHOLDER.match(text):
            continue
        if RELATED_HEADING.match(text):
            break  # the portal's list of other stories starts here
        out.append(text)
    return out


def _parse_with_family(tree: LexborHTMLParser, url: str, fam: Family) -> ParsedArticle | None:
    body = first(tree, fam.body)
    if body is None:
        return None
    node = first(tree, fam.title)
    title = node_text(node) if node is not None else ""
    published: dt.datetime | None = None
    timed = False
    node = first(tree, fam.date)
    if node is not None:
        date_text = node_text(node)
        published = parse_vietnamese_date(date_text)
        timed = has_time(date_text)
    node = first(tree, fam.byline)
    byline = (node_text(node) or None) if node is not None else None
    decompose_all(body, fam.drop)
    decompose_all(body, ("script", "style", "noscript"))
    captions: list[str] = []
    if fam.captions:
        for cap in body.css(fam.captions):
            text = node_text(cap)
            if text and not PLACEHOLDER.match(text):
                captions.append(text)
            cap.decompose()
    paragraphs = _family_paragraphs(body)
    if paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if byline is None:
        paragraphs, byline = _split_byline(paragraphs)
    elif paragraphs and paragraphs[-1] == byline:
        paragraphs = paragraphs[:-1]
    if published is None:
        published = _meta_date(tree)
        timed = published is not None
    published = refine_with_url(published, timed, url)
    return ParsedArticle(url, title, published, byline, paragraphs, captions, fam.name, False)


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


# --- entry point ------------------------------------------------------------------------------


def parse_article(html: str, url: str, family: str | None = None) -> ParsedArticle:
    """Parse an article page; `family` None or "auto" recognises the software from the page."""
    from bantin.parse.detect import detect_family

    tree = LexborHTMLParser(html)
    warnings: list[str] = []
    name = family
    if not family or family == "auto":
        name = detect_family(html, url, tree).name
    fam = get_family(name)
    if family and family != "auto" and fam is None:
        warnings.append(f"unknown family {family!r}: generic extraction")
    if fam is not None and fam.body:
        parsed = _parse_with_family(tree, url, fam)
        if parsed is not None and parsed.paragraphs:
            return parsed
        if family and family != "auto":
            warnings.append(f"family {fam.name!r}: body selector matched nothing; generic extraction")
    found = _generic(tree, url)  # segment() skips scripts and styles: nothing to decompose
    published, timed = found.published, found.has_time
    if published is None:
        published = _meta_date(tree)
        timed = published is not None
    published = refine_with_url(published, timed, url)
    if not found.paragraphs and not found.notice:
        warnings.append("no body text found")
    return ParsedArticle(
        url=url,
        title=found.title,
        published_at=published,
        byline=found.byline,
        paragraphs=found.paragraphs,
        captions=found.captions,
        family=name if (name and fam is not None and not fam.body) else "generic",
        generic=True,
        warnings=warnings,
        attachments=found.attachments,
        notice=found.notice,
    )


__all__ = ["COMMON_DROP", "ParsedArticle", "parse_article"]
