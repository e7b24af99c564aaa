"""Normalised view of an article's text with a map back to the original.

Portals mix both tone-mark placements ("Huyện uỷ" / "Huyện ủy", "hoà" / "hòa") and
some pages are not NFC. Every rule matches on one normalised string; every quote is
cut from the original, so offsets in the output index the text as given.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Old-style placement (mark on the first vowel) -> new style, as the gold scorer does.
_TONE = {
    "òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "òe": "oè", "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ",
}
for _k, _v in list(_TONE.items()):
    _TONE[_k[0].upper() + _k[1]] = _v[0].upper() + _v[1]
    _TONE[_k.upper()] = _v.upper()
_TONE_RE = re.compile("|".join(sorted(_TONE, key=len, reverse=True)))


def fold(s: str) -> str:
    """NFC and one tone-mark placement; keeps case and length (for NFC input)."""
    s = unicodedata.normalize("NFC", s)
    return _TONE_RE.sub(lambda m: _TONE[m.group(0)], s)


def key(s: str) -> str:
    """Comparison key: folded, lower case, single spaces."""
    return re.sub(r"\s+", " ", fold(s).lower()).strip()


@dataclass
class NormText:
    """`norm` is `fold(original)`; `index[i]` is the original offset of norm[i]."""

    original: str
    norm: str
    index: list[int] | None = field(default=None)  # None: identity map (NFC input)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if self.index is None:
            return start, end
        if end <= start:
            o = self.index[start] if start < len(self.index) else len(self.original)
            return o, o
        return self.index[start], self.index[end - 1] + 1 + _tail(self.original, self.index[end - 1])

    def quote(self, start: int, end: int) -> tuple[str, int, int]:
        s, e = self.to_original(start, end)
        return self.original[s:e], s, e


def _tail(original: str, i: int) -> int:
    """Combining marks following original[i] belong to the same character."""
    n = 0
    j = i + 1
    while j < len(original) and unicodedata.combining(original[j]):
        n += 1
        j += 1
    return n


def normalise(text: str) -> NormText:
    if unicodedata.is_normalized("NFC", text):
        # Fast path: the tone fold swaps characters two for two, so offsets are unchanged.
        return NormText(text, _TONE_RE.sub(lambda m: _TONE[m.group(0)], text), None)
    out: list[str] = []
    index: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        seg = unicodedata.normalize("NFC", text[i:j])
        for k, ch in enumerate(seg):
            out.append(ch)
            # a cluster composed to fewer chars maps each to the cluster start
            index.append(i if len(seg) < j - i else min(i + k, j - 1))
        i = j
    norm = "".join(out)
    folded = _TONE_RE.sub(lambda m: _TONE[m.group(0)], norm)
    return NormText(text, folded, index)
