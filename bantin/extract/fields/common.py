"""What every field rule shares: character classes of Vietnamese names, the regex
helper (patterns are folded like the text), spans, the head of an article."""

from __future__ import annotations

from dataclasses import dataclass

from bantin.extract.layout import Layout, Line

UP = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
LOW = "a-zđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
# "Đăk N’Drung", "K'Thanh": an apostrophe inside a capitalised word is part of it
CAPW = rf"[{UP}][{LOW}]*(?:['’][{UP}{LOW}][{LOW}]+|[{LOW}])"
PLACE = rf"{CAPW}(?:\s+{CAPW}){{0,2}}"
NAME = rf"{CAPW}(?:\s+{CAPW}){{1,5}}"



@dataclass
class Span:
    start: int
    end: int


def head_lines(layout: Layout) -> list[Line]:
    """The lead and the paragraph after it: a sapo or a repeated headline often comes first."""
    return [ln for ln in layout.lines if ln.kind in ("lead", "body")][:2]
