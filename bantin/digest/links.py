"""Links to a quoted sentence on the portal, with a URL text fragment (`#:~:text=`).

Browsers that support text fragments (Chrome, Edge, Safari; Firefox since 131)
scroll to and highlight the quoted words; others just open the article.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

# Longer quotes use the textStart,textEnd form: a fragment must match the page exactly,
# and a long one breaks on any difference in the portal's spacing or punctuation.
MAX_EXACT_CHARS = 80
EDGE_WORDS = 5

_SPACE = re.compile(r"\s+")
# Characters at the clause's edges that add nothing to the match but could differ on the page.
_EDGE_PUNCT = " \t\n.,;:!?…\"'“”‘’()[]–-"


def _encode(term: str) -> str:
    # '-', ',' and '&' are syntax inside a text directive; quote() leaves '-' alone.
    return quote(term, safe="").replace("-", "%2D")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=256)
def _haystack(context: str) -> str:
    """An article's text as quotes are looked up in it (one article gives many quotes)."""
    return _norm(context).casefold()


def _unique_edges(words: list[str], context: str, clause: str) -> tuple[int, int] | None:
    """How many first and last words pin the clause down in `context`: the start words'
    first occurrence must be the clause's own, and the end words' first occurrence after
    them its end. Browsers match the first occurrence, so a phrase that also appears
    earlier in the article (a repeated slogan) would otherwise highlight the wrong place."""
    haystack, needle = _haystack(context), clause.casefold()
    at = haystack.find(needle)
    if at < 0:
        return None  # the page words it differently: keep the default edges
    k = EDGE_WORDS
    while k < len(words) and haystack.find(" ".join(words[:k]).casefold()) != at:
        k += 1
    start_end = at + len(" ".join(words[:k]))
    m = EDGE_WORDS
    while m < len(words):
        tail = " ".join(words[-m:]).casefold()
        if haystack.find(tail, start_end) == at + len(needle) - len(tail):
            break
        m += 1
    return k, m


def text_fragment(text: str, context: str | None = None) -> str:
    """The `:~:text=` directive (without '#') matching `text` on the page.

    `context`, the article's text, lets long clauses use start/end words that occur
    nowhere earlier in it."""
    clause = _norm(text).strip(_EDGE_PUNCT)
    if not clause:
        return ""
    words = clause.split(" ")
    if len(clause) <= MAX_EXACT_CHARS or len(words) <= 2 * EDGE_WORDS:
        return ":~:text=" + _encode(clause)
    k, m = EDGE_WORDS, EDGE_WORDS
    if context:
        edges = _unique_edges(words, context, clause)
        if edges:
            k, m = edges
    if k + m >= len(words):
        return ":~:text=" + _encode(clause)
    start = " ".join(words[:k]).strip(_EDGE_PUNCT)
    end = " ".join(words[-m:]).strip(_EDGE_PUNCT)
    return f":~:text={_encode(start)},{_encode(end)}"


def link_to_quote(url: str, text: str, context: str | None = None) -> str:
    """`url` pointing at `text` (within `context`, the article's text, when known); any
    existing fragment of the URL is replaced."""
    base = url.split("#", 1)[0]
    fragment = text_fragment(text, context)
    return f"{base}#{fragment}" if fragment else base


SHORT_START_WORDS = 4


def short_link_to_quote(url: str, text: str, context: str | None = None) -> str:
    """A shorter link to the same sentence, for a mail cut to fit (bantin.digest.fit): a
    `textStart` alone, the clause's first words (four or more, until their first occurrence
    in `context` is the clause's own), which the browser scrolls to and highlights. The
    mail shows the whole quote; the link only has to land on it."""
    base = url.split("#", 1)[0]
    clause = _norm(text).strip(_EDGE_PUNCT)
    if not clause:
        return base
    words = clause.split(" ")
    k = min(SHORT_START_WORDS, len(words))
    if context:
        haystack = _haystack(context)
        at = haystack.find(clause.casefold())
        if at >= 0:
            while k < len(words) and haystack.find(" ".join(words[:k]).casefold()) != at:
                k += 1
    start = " ".join(words[:k]).strip(_EDGE_PUNCT)
    return f"{base}#:~:text={_encode(start)}" if start else base
