"""Places named in the text: communes the meeting reviews, districts and provinces mentioned."""

from __future__ import annotations

import re

from bantin.extract.fields.common import PLACE
from bantin.extract.layout import Layout, Line
from bantin.extract.textnorm import rx
from bantin.tones import fold

TITLE_PLACE = re.compile(fold(rf"(?P<n>{PLACE})\s*:\s*"))
_COMMUNE = re.compile(fold(rf"(?<![\w])(?i:xã|thị trấn|phường)\s+(?P<n>{PLACE})"))
_COMMUNE_MORE = re.compile(fold(rf"\s*(?:,|(?i:và))\s*(?:(?i:xã|thị trấn|phường)\s+)?(?P<n>{PLACE})"))
DISTRICT = re.compile(fold(rf"(?<![\w])(?i:huyện|thị xã)(?:\s+(?i:uỷ))?\s+(?P<n>{PLACE})"))
PROVINCE = re.compile(fold(rf"(?<![\w])(?i:tỉnh)(?:\s+(?i:uỷ))?\s+(?P<n>{PLACE})"))


def commune_mentions(layout: Layout, norm: str) -> list[tuple[int, int]]:
    lines: list[Line] = []
    if layout.title:
        lines.append(layout.title)
    if layout.lead:
        lines.append(layout.lead)
    out: list[tuple[int, int]] = []
    for ln in lines:
        for s, e in ln.sentences:
            # those who attend ("Dự hội nghị có ... lãnh đạo xã X") are not reviewed
            attend = _ATTENDING.search(norm, s, e)
            if attend:
                e = attend.start()
            pos = s
            while True:
                m = _COMMUNE.search(norm, pos, e)
                if not m:
                    break
                if _VENUE.search(norm, max(s, m.start() - 40), m.start()):
                    pos = m.end()  # "tại UBND xã Đắk Hoà": where it met, not whom it reviewed
                    continue
                out.append(m.span("n"))
                pos = m.end()
                while True:
                    more = _COMMUNE_MORE.match(norm, pos, e)
                    if not more or _NOT_A_PLACE.match(more.group("n")):
                        break
                    out.append(more.span("n"))
                    pos = more.end()
    return out


_VENUE = rx(r"\bt[aạ]i\s+(?:hội trường|trụ sở|nhà văn hoá|trung tâm|trường|uỷ ban nhân dân|ubnd|đảng uỷ|phòng họp)[^,.;]{0,20}$")
_ATTENDING = rx(r"(?:^|[.;,]\s*|\s)(?:đến dự|về dự|cùng dự|tham dự|dự và chỉ đạo|dự hội nghị|dự buổi|dự kỳ họp|dự đại hội|dự)\b[^.;]{0,40}?\bcó\b")
_NOT_A_PLACE = rx(r"(?:ban|đảng|huyện|tỉnh|uỷ|ubnd|hđnd|mặt trận|đoàn|hội|phòng|sở|chi bộ|thường trực|lãnh đạo)\b")


def place_mentions(pattern: re.Pattern[str], layout: Layout, norm: str) -> list[str]:
    out: list[str] = []
    for ln in layout.lines:
        if ln.kind in ("title", "lead", "body", "caption"):
            out.extend(m.group("n") for m in pattern.finditer(norm, ln.start, ln.end))
    return out
