"""Normalised view of an article's text with a map back to the original.

Portals mix both tone-mark placements ("Huyện uỷ" / "Huyện ủy", "hoà" / "hòa"; one is
kept, by bantin.tones) and some pages are not NFC. Every rule matches on one normalised
string; every quote is cut from the original, so offsets in the output index the text as given.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bantin.tones import fold, place_tones

_CLUSTER = re.compile(r".[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+", re.S)


def rx(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    """A pattern folded like the text it is matched on (case-insensitive by default)."""
    return re.compile(fold(pattern), flags)


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
        return NormText(text, place_tones(text), None)
    # Only base+combining-mark clusters change under NFC (Vietnamese NFD: U+0300-U+036F).
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _CLUSTER.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
            index.extend(range(pos, m.start()))
        comp = unicodedata.normalize("NFC", m.group(0))
        out.append(comp)
        # a cluster composed to one char maps to its base; an uncomposable one keeps its chars
        index.extend([m.start()] * len(comp) if len(comp) < len(m.group(0)) else range(m.start(), m.end()))
        pos = m.end()
    out.append(text[pos:])
    index.extend(range(pos, len(text)))
    norm = "".join(out)
    if not unicodedata.is_normalized("NFC", norm):  # rare singletons (e.g. U+212B): give up on exact mapping
        norm = unicodedata.normalize("NFC", norm)
        index = [min(i, len(text) - 1) for i in range(len(norm))]
    return NormText(text, place_tones(norm), index)
