"""Links to a quoted sentence on the portal, with a URL text fragment (`#:~:text=`).

Browsers that support text fragments (Chrome, Edge, Safari; Firefox since 131)
scroll to and highlight the quoted words; others just open the article.
"""

from __future__ import annotations

import re
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


def text_fragment(text: str) -> str:
    """The `:~:text=` directive (without '#') matching `text` on the page."""
    clause = _SPACE.sub(" ", text).strip(_EDGE_PUNCT)
    if not clause:
        return ""
    words = clause.split(" ")
    if len(clause) <= MAX_EXACT_CHARS or len(words) <= 2 * EDGE_WORDS:
        return ":~:text=" + _encode(clause)
    start = " ".join(words[:EDGE_WORDS]).strip(_EDGE_PUNCT)
    end = " ".join(words[-EDGE_WORDS:]).strip(_EDGE_PUNCT)
    return f":~:text={_encode(start)},{_encode(end)}"


def link_to_quote(url: str, text: str) -> str:
    """`url` pointing at `text`: any existing fragment of the URL is replaced."""
    base = url.split("#", 1)[0]
    fragment = text_fragment(text)
    return f"{base}#{fragment}" if fragment else base
