"""Which portal software made a page: generator meta, class names, URL shapes.

The answer names a family of bantin/families.py (or None: unknown software) and why, for
the portal's report. Fixture families are recognised when their own body or listing
selectors find something; real families by their markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser

from bantin.families import FAMILIES, Family

_GENERATOR = re.compile(r"<meta[^>]+name=[\"']generator[\"'][^>]*content=[\"']([^\"']+)", re.I)
_HEAD_CHARS = 400_000  # markers sit in the skin: the first part of a page is enough


@dataclass(frozen=True)
class Detection:
    name: str | None  # a family name, or None when no family matched
    reason: str


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(family: Family, html: str, url: str) -> str | None:
    for marker in family.markers:
        found = _compiled(marker).search(html)
        if found is not None:
            if family.url_markers and not _compiled(family.url_markers).search(url):
                return None
            return found.group(0)
    return None


def detect_family(html: str, url: str, tree: LexborHTMLParser | None = None) -> Detection:
    """The family whose markers (real families) or selectors (fixture families) the page carries."""
    text = html
    head = text[:_HEAD_CHARS]
    generator = _GENERATOR.search(head)
    for family in FAMILIES.values():
        if family.fixture:
            continue
        found = _matches(family, head, url)
        if found is not None:
            return Detection(family.name, f"{family.name}: page carries {found!r}")
    if tree is None:
        tree = LexborHTMLParser(text)
    for family in FAMILIES.values():
        if not family.fixture:
            continue
        for selector in (family.body, family.listing_links):
            if selector and any(tree.css_first(sel.strip()) is not None for sel in selector.split(",")):
                return Detection(family.name, f"{family.name}: selector {selector.split(',')[0]!r} matches")
    if generator is not None:
        return Detection(None, f"unknown software (generator {generator.group(1)!r}): generic parsing")
    return Detection(None, "no family recognised: generic parsing")
