"""One tone-mark placement for Vietnamese text: what every comparison of texts folds with.

Portals write both placements, even within one article: the mark on the first vowel of
"oa", "oe", "uy" ("hòa", "Huyện ủy") or on the second ("hoà", "Huyện uỷ"). `fold` maps
the first to the second (as the gold scorer does), so the extractor's rules, its clause
model's features and dedup's hashes see one spelling. Pure: no I/O, standard library only.
"""

from __future__ import annotations

import re
import unicodedata

# "òa" -> "oà", ... in lower case, capitalised ("Òa" -> "Oà") and upper case ("ÒA" -> "OÀ").
_MARKS = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
_PLACEMENT: dict[str, str] = {}
for _pair in ("oa", "oe", "uy"):
    for _mark in _MARKS:
        _first = unicodedata.normalize("NFC", _pair[0] + _mark + _pair[1])
        _second = unicodedata.normalize("NFC", _pair + _mark)
        for _case in (str, str.capitalize, str.upper):
            _PLACEMENT[_case(_first)] = _case(_second)
_PLACEMENT_RE = re.compile("|".join(map(re.escape, _PLACEMENT)))


def place_tones(text: str) -> str:
    """`text` (NFC) with one tone placement; two characters for two, so offsets are kept."""
    return _PLACEMENT_RE.sub(lambda m: _PLACEMENT[m.group(0)], text)


def fold(text: str) -> str:
    """NFC and one tone placement; keeps case (and length, for NFC input)."""
    return place_tones(unicodedata.normalize("NFC", text))
