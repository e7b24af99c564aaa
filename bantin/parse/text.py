"""Text helpers shared by the page parsers: normalised text of nodes, ancestry tests."""

from __future__ import annotations

import re
import unicodedata

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Image placeholders left as text by portal editors and templates.
PLACEHOLDER = re.compile(r"^\s*(hinh|hình|hình ảnh|ảnh|anh|image|img|photo|%image_alt%|%[a-z_]+%)\s*\.?\s*$", re.I)
_WS = re.compile(r"\s+")
# Zero-width characters and the BOM that editors paste into titles and paragraphs.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Word markup pasted as escaped text ("<o:p></o:p>"), visible on some pages.
_WORD_TAGS = re.compile(r"</?o:p>", re.I)


def clean(text: str | None) -> str:
    """NFC, no zero-width characters, no escaped Word tags, whitespace folded."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text).replace("\xa0", " "))
    if "o:p" in text:
        text = _WORD_TAGS.sub("", text)
    return _WS.sub(" ", text).strip()


def node_text(node: LexborNode) -> str:
    # No separator: inline tags split words and figures ("<b>5</b>/7"); the source's own spaces stay.
    return clean(node.text(deep=True, separator=""))


def marker(node: LexborNode) -> str:
    """Tag, class and id of one element: what chrome patterns are matched against."""
    attrs = node.attributes
    return f"{node.tag} {attrs.get('class') or ''} {attrs.get('id') or ''}"


def inside(node: LexborNode, pattern: re.Pattern[str]) -> bool:
    """True when the node or one of its ancestors has a tag/class/id matching `pattern`."""
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html"):
        if pattern.search(marker(current)):
            return True
        current = current.parent
    return False


def first(tree: LexborHTMLParser | LexborNode, selector: str | None) -> LexborNode | None:
    """The first node matching the first selector of a comma list that matches anything."""
    if not selector:
        return None
    for sel in selector.split(","):
        node = tree.css_first(sel.strip())
        if node is not None:
            return node
    return None


def decompose_all(root: LexborHTMLParser | LexborNode, selectors: tuple[str, ...] | list[str]) -> None:
    for sel in selectors:
        for node in root.css(sel):
            node.decompose()
