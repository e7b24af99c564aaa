"""A page as a sequence of text blocks, and the container that holds the main text.

One depth-first pass cuts the page into blocks at block-level tags and <br> (like jusText
or boilerpipe): each block keeps its text, how much of it is link text, the heading level
and the open elements above it. The main container is then the element whose blocks give
the most good text (long, few links) minus a share of the rest (menus, lists of links, short
chrome): the smallest element holding the article, never decided by dropping containers
(some portals put the whole page inside one ASP.NET <form>).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

from bantin.parse.text import clean

# Never text: skipped with everything inside.
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "iframe", "select", "option", "input", "button", "textarea",
        "marquee", "svg", "object", "embed", "head", "template", "canvas", "map", "video", "audio",
        "-comment",
    }
)
# Tags that end the running block of text.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "td", "th", "tr", "table", "tbody", "thead", "tfoot", "li", "ul", "ol", "dl", "dt", "dd",
        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section", "article", "aside", "header",
        "footer", "nav", "main", "figure", "figcaption", "center", "form", "fieldset", "address", "hr", "br",
        "caption", "legend", "details", "summary",
    }
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Chrome by its element names (navigation, header, footer, sidebars, comment forms).
CHROME = re.compile(
    r"(^|[\s_-])(nav|navbar|menu\w*|header|footer|breadcrumb\w*|sidebar|banner|top-?bar|toolbar|"
    r"comment\w*|share|social|marquee\w*|copyright|pager|paging|pagination|phantrang)($|[\s_-])",
    re.I,
)
GOOD_MIN_CHARS = 50  # a block this long with few links is text someone wrote
BAD_SHARE = 0.7  # what a character of chrome costs a container, against a character of text


@dataclass(slots=True)
class Block:
    text: str
    node: LexborNode  # innermost block-level element open when the block started
    path: tuple[int, ...]  # mem_ids of the open elements, outermost first
    link_chars: int
    heading: int  # 1-6 inside <h1>-<h6>, else 0
    bold: bool  # all of the text inside <b>/<strong>
    italic: bool  # all of the text inside <em>/<i>
    after_image: bool = False  # an <img> came between the previous block and this one
    index: int = 0

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))

    @property
    def good(self) -> bool:
        return len(self.text) >= GOOD_MIN_CHARS and self.link_density < 0.3


@dataclass
class Page:
    blocks: list[Block]
    nodes: dict[int, LexborNode] = field(default_factory=dict)  # mem_id -> element on some block's path
    anchors: list[tuple[LexborNode, int]] = field(default_factory=list)  # <a href> and the block index it falls in


class _Walker:
    def __init__(self, skip: frozenset[str]) -> None:
        self.skip = skip
        self.blocks: list[Block] = []
        self.nodes: dict[int, LexborNode] = {}
        self.anchors: list[tuple[LexborNode, int]] = []
        self.stack: list[LexborNode] = []
        self.parts: list[str] = []
        self.chars = 0
        self.link_chars = 0
        self.bold_chars = 0
        self.italic_chars = 0
        self.in_link = 0
        self.in_bold = 0
        self.in_italic = 0
        self.heading = 0
        self.image = False
        self.start: tuple[LexborNode | None, tuple[int, ...], int] = (None, (), 0)

    def text(self, value: str) -> None:
        if not value:
            return
        if not self.parts:
            top = self._block_top()
            self.start = (top, tuple(n.mem_id for n in self.stack), self.heading)
        self.parts.append(value)
        size = len(value.strip())
        self.chars += size
        if self.in_link:
            self.link_chars += size
        if self.in_bold:
            self.bold_chars += size
        if self.in_italic:
            self.italic_chars += size

    def _block_top(self) -> LexborNode | None:
        for node in reversed(self.stack):
            if node.tag in BLOCK_TAGS:
                return node
        return self.stack[-1] if self.stack else None

    def flush(self) -> None:
        if not self.parts:
            return
        text = clean("".join(self.parts))
        node, path, heading = self.start
        if text and node is not None:
            ratio = len(text) / max(1, self.chars)
            self.blocks.append(
                Block(
                    text=text,
                    node=node,
                    path=path,
                    link_chars=min(len(text), int(self.link_chars * ratio)),
                    heading=heading,
                    bold=self.chars > 0 and self.bold_chars >= 0.9 * self.chars,
                    italic=self.chars > 0 and self.italic_chars >= 0.9 * self.chars,
                    after_image=self.image,
                    index=len(self.blocks),
                )
            )
            self.image = False
            for n in self.stack:
                self.nodes[n.mem_id] = n
        self.parts = []
        self.chars = self.link_chars = self.bold_chars = self.italic_chars = 0

    def walk(self, node: LexborNode) -> None:
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                self.text(child.text_content or "")
            elif tag == "img":
                self.flush()
                self.image = True
            elif tag not in self.skip and tag is not None:
                block = tag in BLOCK_TAGS
                if block:
                    self.flush()
                if tag == "a" and child.attributes.get("href"):
                    self.anchors.append((child, len(self.blocks)))
                self.stack.append(child)
                level = HEADINGS.get(tag, 0)
                saved_heading = self.heading
                if level:
                    self.heading = level
                self.in_link += tag == "a"
                self.in_bold += tag in ("b", "strong")
                self.in_italic += tag in ("em", "i")
                self.walk(child)
                self.in_link -= tag == "a"
                self.in_bold -= tag in ("b", "strong")
                self.in_italic -= tag in ("em", "i")
                if block:
                    self.flush()
                self.heading = saved_heading
                self.stack.pop()
            child = child.next


def segment(root: LexborNode, skip: frozenset[str] = SKIP_TAGS) -> Page:
    """Cut the subtree of `root` (usually <body>) into text blocks in document order."""
    walker = _Walker(skip)
    walker.stack.append(root)
    walker.walk(root)
    walker.flush()
    return Page(walker.blocks, walker.nodes, walker.anchors)


def main_container(page: Page, skip: set[int] | None = None) -> int | None:
    """mem_id of the element holding the main text: most good text, least chrome.

    `skip`: indexes of blocks to leave out of the count (e.g. blocks already known as chrome).
    """
    scores: dict[int, float] = {}
    depth: dict[int, int] = {}
    for block in page.blocks:
        if skip and block.index in skip:
            continue
        value = len(block.text) * (1.0 - block.link_density) if block.good else -BAD_SHARE * len(block.text)
        for level, mem_id in enumerate(block.path):
            scores[mem_id] = scores.get(mem_id, 0.0) + value
            depth[mem_id] = level
    if not scores:
        return None
    # Highest score; among equals the deepest (the smallest element holding that text).
    return max(scores, key=lambda m: (round(scores[m], 3), depth[m]))


def chrome_node(node: LexborNode, stop: LexborNode | None = None, levels: int = 64) -> bool:
    """True when the node, or an ancestor below `stop` (at most `levels` up), is named like chrome."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html") and levels > 0:
        levels -= 1
        if stop is not None and current.mem_id == stop.mem_id:
            return False
        attrs = current.attributes
        if current.tag in ("nav", "header", "footer", "aside") or CHROME.search(
            f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        ):
            return True
        current = current.parent
    return False
