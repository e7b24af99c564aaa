"""People: persons named with their titles, and the chair (chủ trì > trưởng đoàn > who sets
the tasks > the lead's first person) with the fullest title the article gives."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bantin.extract.fields.common import CAPW, NAME
from bantin.extract.layout import Layout
from bantin.extract.textnorm import key, rx
from bantin.tones import fold

SURNAMES = {
    key(x)
    for x in ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Mai", "Hà", "Đinh", "Lương", "Trương", "Lâm", "Phùng", "Đào", "Tạ", "Chu", "Ma", "Hứa", "Nông", "Triệu", "Quan", "Lục", "Sầm", "Vi", "Lò", "Cao", "Thái", "Đoàn", "Kiều", "Tô", "Trịnh", "Văn", "Lưu", "Khổng", "Mạc", "Hầu", "Giàng", "Thào", "Sùng", "Vàng", "Lầu", "Tống", "Âu", "Châu", "Từ", "Diệp", "Thân", "Kim", "Doãn", "Khúc", "Ninh", "Quách", "Bế", "Tôn", "Đàm", "Lã", "Khương", "Lỗ", "Hàn", "Ông", "Phí", "Giáp", "Bạch", "Nghiêm", "Cù", "Mẫn", "Tăng", "Viên", "Lạc", "Cung", "Đồng", "Lại", "Khuất", "Kha", "Nhữ", "Tiêu", "Y", "Ksor", "Siu", "Rơ", "Nay", "Điểu", "Rah", "Ka", "Lường", "Quàng", "Bàn", "Mông", "Vương", "Lữ", "Trình", "Thiều", "Đồ"]
}
TITLE_HEAD = (
    r"(?:phó\s+)?(?:bí thư|chủ tịch|trưởng ban|phó ban|trưởng phòng|trưởng đoàn|trưởng|giám đốc|chánh văn phòng|chánh|"
    r"uỷ viên|huyện uỷ viên|tỉnh uỷ viên|thành uỷ viên|đảng uỷ viên|chỉ huy trưởng|thường trực|tổng biên tập|"
    r"bộ trưởng|thứ trưởng|chủ nhiệm|phó chủ nhiệm|chính uỷ|hiệu trưởng|viện trưởng|chánh án|tổng giám đốc|"
    r"uvbtv(?:tu|hu)?|uv btv|ubtv|uvtv(?:tu|hu)?|tuv|huv|đuv|ct(?= ubnd| hđnd| uỷ ban| mttq| hội)|pct)"
)
# "đồng chí", "Đ/c", "ông", "các đồng chí:", "đồng chí Đại tá": what stands before a person's name
_HONORIFIC = r"(?:các\s+)?(?:đồng chí|đ/c|ông|bà)\s*:?\s*(?:(?:đại|thượng|trung|thiếu)\s+(?:tá|tướng|uý)\s+)?"
TITLE_HEAD_RE = rx(rf"^\s*{TITLE_HEAD}\b")
_FORM_A = re.compile(fold(rf"(?i:{_HONORIFIC})(?P<name>{NAME})\s*(?:,|–|-|\()\s*(?=(?i:{TITLE_HEAD})\b)"))
_FORM_B = re.compile(fold(rf"(?:(?i:đồng chí|đ/c|ông|bà)\s+)?(?P<title>(?i:{TITLE_HEAD})\b(?:\s+[^\s,;.:()–]+){{0,10}}?)\s+(?P<name>{NAME})"))
_TITLE_STOP = rx(
    r"\s+(?:chủ trì|đã|đến dự|cùng dự|dự|và các|và đại diện|kết luận|cho biết|nhấn mạnh|đề nghị|yêu cầu|đánh giá|"
    r"ghi nhận|tham dự|làm trưởng đoàn|phát biểu|làm việc|khẳng định|biểu dương|chỉ rõ|chỉ ra|lưu ý|trao|tặng|"
    r"điều hành|chủ toạ|cùng|và đoàn)\b"
)
_NOT_TITLE = rx(r"\b(?:với|về|tại|cùng|cho)\b")
# stacked titles are separated by commas or spaced dashes ("UVBTV Tỉnh uỷ – Trưởng ban ...")
_TITLE_SEP = re.compile(r",\s*|\s+[–-]\s+")
_MEMBERSHIP = rx(r"\s*(?:uỷ viên|huyện uỷ viên|tỉnh uỷ viên|thành uỷ viên|đảng uỷ viên|uvbtv(?:tu|hu)?|uv btv|ubtv|uvtv(?:tu|hu)?|tuv|huv|đuv)\b")


@dataclass
class PersonSpan:
    name: tuple[int, int]
    title: tuple[int, int] | None
    start: int


_HO_CHI_MINH = rx(r"hồ chí minh\b")


def _split_name(words: list[re.Match[str]], places: set[str]) -> int:
    """Index of the first word of the person's name in a run of capitalised words
    ("Vĩnh Linh Trần Nhật Quang": the district's name, then the person's)."""
    n = len(words)
    keys = [key(w.group(0)) for w in words]
    for i in range(n - 1, 0, -1):  # longest known place as a prefix
        if " ".join(keys[:i]) in places and n - i >= 2:
            return i
    for i in range(0, n - 1):
        if keys[i] in SURNAMES and 2 <= n - i <= 4:
            return i
    return max(0, n - 3)


# A title names its unit ("Huyện uỷ", "HĐND huyện", "Chi bộ ấp"). After the unit it goes on only
# with words of unit names ("Ban Thường vụ", "Uỷ ban nhân dân") or a capitalised place name; any
# other lower-case word there is the sentence's verb, even one the stop list misses ("đánh gia cao").
_UNIT_WORDS = frozenset(fold(w) for w in ["uỷ", "ubnd", "hđnd", "ubmttq", "mttq", "bch", "btv", "bộ", "xã", "huyện", "tỉnh", "phường", "trấn", "phố", "ấp", "thôn", "bản", "khu"])
_UNIT_NAME_WORDS = frozenset(
    fold(w) for w in ["viên", "ban", "thường", "vụ", "trực", "chấp", "hành", "kiểm", "tra", "nhân", "dân", "mặt", "trận", "tổ", "quốc", "đảng", "chi", "thị", "thành", "quân", "sự", "đội", "biên", "phòng", "trung", "ương"]
)


def _title_part_end(norm: str, s: int, e: int) -> int:
    """Where one comma-separated title ends: at `e`, or before a lower-case word after its unit."""
    seen_unit = False
    for w in re.finditer(r"\S+", norm[s:e]):
        token = w.group(0)
        lower = token.lower()
        if lower in _UNIT_WORDS:
            seen_unit = True
        elif seen_unit and lower not in _UNIT_NAME_WORDS and not token[0].isupper():
            return s + w.start()
    return e


def _titles_after(norm: str, pos: int, limit: int) -> tuple[int, int] | None:
    """'Phó Bí thư Huyện uỷ, Chủ tịch HĐND huyện' after a name: comma-separated titles."""
    seg_end = limit
    for ch in ";.()":
        j = norm.find(ch, pos, limit)
        if j >= 0:
            seg_end = min(seg_end, j)
    stop = _TITLE_STOP.search(norm, pos, seg_end)
    if stop:
        seg_end = stop.start()
    parts_end = pos
    i = pos
    while i < seg_end:
        sep = _TITLE_SEP.search(norm, i, seg_end)
        j = sep.start() if sep else -1
        part_end = j if j >= 0 else seg_end
        # every comma-separated part is a title of its own ("Bí thư Đảng uỷ", "Chủ tịch UBND xã")
        if not TITLE_HEAD_RE.match(norm[i:part_end]):
            break
        parts_end = _title_part_end(norm, i, part_end)
        if parts_end < part_end:
            break
        i = sep.end() if sep else seg_end
    if parts_end <= pos:
        return None
    s = pos
    while s < parts_end and norm[s] in " ,–-":
        s += 1
    e = parts_end
    while e > s and norm[e - 1] in " ,":
        e -= 1
    return (s, e) if e > s else None


_PERSON_HINT = rx(rf"\b(?:đồng chí|đ/c|ông|bà)\b|{TITLE_HEAD}")


def persons(norm: str, s: int, e: int, places: set[str]) -> list[PersonSpan]:
    out: list[PersonSpan] = []
    if not _PERSON_HINT.search(norm, s, e):
        return out
    taken: list[tuple[int, int]] = []
    for m in _FORM_A.finditer(norm, s, e):
        t = _titles_after(norm, m.end(), e)
        out.append(PersonSpan(m.span("name"), t, m.start()))
        taken.append((m.start(), t[1] if t else m.end()))
    for m in _FORM_B.finditer(norm, s, e):
        if any(a <= m.start("name") < b for a, b in taken):
            continue
        # the whole run of capitalised words ending at the name, split into place + person
        run_start = m.start("name")
        run = list(re.finditer(CAPW, norm[m.start("title") : m.end("name")]))
        words: list[tuple[int, re.Match[str]]] = []
        for w in reversed(run):
            ws = m.start("title") + w.start()
            if words and norm[ws + len(w.group(0)) : words[0][0]].strip():
                break
            words.insert(0, (ws, w))
        # extend the run to the right (the regex stops at 6 words)
        k = _split_name([w for _, w in words], places)
        name_start = words[k][0] if words else run_start
        name_end = m.end("name")
        # "Thành đoàn Hồ Chí Minh", "TP. Hồ Chí Minh": the city and the Youth Union, never a person here
        if _HO_CHI_MINH.match(norm, name_start, name_end):
            continue
        if not (2 <= len(norm[name_start:name_end].split()) <= 4):
            continue
        if key(norm[name_start:name_end].split()[0]) not in SURNAMES:
            continue
        if _TITLE_STOP.search(norm, m.start("title"), name_start) or _NOT_TITLE.search(norm, m.start("title"), name_start):
            continue
        title_end = name_start
        while title_end > m.start("title") and norm[title_end - 1] == " ":
            title_end -= 1
        out.append(PersonSpan((name_start, name_end), (m.start("title"), title_end), m.start()))
    out.sort(key=lambda p: p.start)
    return out


_BARE = re.compile(fold(rf"(?i:{_HONORIFIC})(?P<name>{NAME})"))
_CHAIR = rx(r"\b(?:chủ trì|điều hành|chủ toạ)\b")
_CHAIR_IS = rx(r"(?:\s+(?:hội nghị|buổi làm việc|cuộc họp|phiên họp|kỳ họp|buổi giao ban))?\s*(?:là|có|:)\s*$")
_CONCLUDE = rx(r"\b(?:kết luận|phát biểu chỉ đạo|chỉ đạo hội nghị)\b")


def clean_title(norm: str, span: tuple[int, int] | None) -> tuple[int, int] | None:
    """Drop leading memberships ("Uỷ viên BCH Đảng bộ tỉnh, Bí thư Huyện uỷ" -> "Bí thư Huyện uỷ")."""
    if span is None:
        return None
    s, e = span
    while _MEMBERSHIP.match(norm, s, e):
        sep = _TITLE_SEP.search(norm, s, e)
        if sep is None:
            break
        s = sep.end()
        while s < e and norm[s] == " ":
            s += 1
    return s, e


_LEADS = rx(r"\b(?:làm trưởng đoàn|trưởng đoàn là|dẫn đầu)\b")
_SPEAKS = rx(r"\b(?:kết luận|phát biểu|chỉ đạo|ghi nhận|biểu dương|đánh giá cao|nhấn mạnh)\b")
_ASKS = rx(r"\b(?:đề nghị|yêu cầu|cần|phải|nhấn mạnh|lưu ý|chỉ đạo|giao)\b")


def _known(norm: str, s: int, e: int, by_name: dict[str, PersonSpan]) -> list[PersonSpan]:
    """'đồng chí Lê Thị Kim Dung ghi nhận': a person whose title was given earlier."""
    for m in _BARE.finditer(norm, s, e):
        words = m.group("name").split()
        for k in range(len(words), 1, -1):
            p = by_name.get(key(" ".join(words[:k])))
            if p:
                return [p]
    return []


def chair_and_officials(layout: Layout, norm: str, places: set[str]) -> tuple[PersonSpan | None, list[PersonSpan]]:
    ordered = [ln for ln in layout.lines if ln.kind in ("lead", "caption", "body")]
    everyone: list[PersonSpan] = []
    chair: PersonSpan | None = None
    for ln in ordered:
        for s, e in ln.sentences:
            found = persons(norm, s, e, places)
            everyone.extend(found)
            if chair is None:
                m = _CHAIR.search(norm, s, e)
                if m:
                    before = [p for p in found if p.name[1] <= m.start()]
                    after = [p for p in found if p.start >= m.end() and _CHAIR_IS.match(norm, m.end(), p.start)]
                    if before:
                        chair = before[-1]
                    elif after:  # "Chủ trì hội nghị là đồng chí ..."
                        chair = after[0]
    by_name = {key(norm[p.name[0] : p.name[1]]): p for p in everyone}
    sentences = [se for ln in ordered for se in ln.sentences]
    if chair is None:
        # "Tổ đại biểu ... do ông X, Trưởng ban ..., làm trưởng đoàn": who leads a delegation
        for s, e in sentences:
            m = _LEADS.search(norm, s, e)
            if m:
                found = persons(norm, s, e, places)
                before = [p for p in found if p.name[1] <= m.start()]
                after = [p for p in found if p.start >= m.end()]
                if before or after:
                    chair = before[-1] if before else after[0]
                    break
    if chair is None:
        for ln in ordered:
            for s, e in ln.sentences:
                if _CONCLUDE.search(norm, s, e):
                    found = persons(norm, s, e, places)
                    if not found:
                        # "đồng chí Lê Thị Kim Dung ghi nhận": a person whose title was given earlier
                        for m in _BARE.finditer(norm, s, e):
                            words = m.group("name").split()
                            for k in range(len(words), 1, -1):
                                p = by_name.get(key(" ".join(words[:k])))
                                if p:
                                    found = [p]
                                    break
                            if found:
                                break
                    if found:
                        chair = found[0]
                        break
            if chair:
                break
    if chair is None:
        # whoever speaks and sets tasks: "Phát biểu tại hội nghị, đồng chí X ... đề nghị ..."
        for i, (s, e) in enumerate(sentences):
            if not _SPEAKS.search(norm, s, e):
                continue
            nxt = sentences[i + 1] if i + 1 < len(sentences) else (e, e)
            if not (_ASKS.search(norm, s, e) or _ASKS.search(norm, *nxt)):
                continue
            found = persons(norm, s, e, places) or _known(norm, s, e, by_name)
            if found:
                chair = found[0]
                break
    if chair is None and layout.lead:
        s, e = layout.lead.sentences[0]
        found = persons(norm, s, e, places)
        if found:
            chair = found[0]
    if chair is not None:
        # the fullest title given anywhere ("Phó Bí thư TT Huyện uỷ" in the lead, spelled out later)
        chair_key = key(norm[chair.name[0] : chair.name[1]])
        titled = [p for p in everyone if p.title and key(norm[p.name[0] : p.name[1]]) == chair_key]
        if titled:
            best = max(titled, key=lambda p: (p.title[1] - p.title[0]) if p.title else 0)
            if chair.title is None or best.title and best.title[1] - best.title[0] > chair.title[1] - chair.title[0]:
                chair = PersonSpan(chair.name, best.title, chair.start)
    seen = {key(norm[chair.name[0] : chair.name[1]])} if chair else set()
    officials = []
    for p in everyone:
        person_key = key(norm[p.name[0] : p.name[1]])
        if person_key in seen:
            continue
        seen.add(person_key)
        officials.append(p)
    return chair, officials
