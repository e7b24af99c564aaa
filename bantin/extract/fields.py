"""Meeting fields: is it a meeting, date, kind, host body, chair and officials,
communes, reporting period. Rules are Vietnamese patterns of the genre, matched on
the folded text (one tone-mark placement, NFC), quoted from the original."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from bantin.extract.layout import Layout, Line
from bantin.extract.textnorm import fold, key

UP = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
LOW = "a-zđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
# "Đăk N’Drung", "K'Thanh": an apostrophe inside a capitalised word is part of it
CAPW = rf"[{UP}][{LOW}]*(?:['’][{UP}{LOW}][{LOW}]+|[{LOW}])"
PLACE = rf"{CAPW}(?:\s+{CAPW}){{0,2}}"
NAME = rf"{CAPW}(?:\s+{CAPW}){{1,5}}"


def rx(pattern: str, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(fold(pattern), flags)


# ---------------------------------------------------------------- meeting, kind
_MEETING = rx(
    r"\b(?:hội nghị|kỳ họp|phiên họp|cuộc họp|buổi làm việc|làm việc với|làm việc tại|giao ban|"
    r"họp (?:phiên|định kỳ|thường kỳ|ban|chi bộ|thường trực|thường vụ|trực tuyến|xét|bàn)|sinh hoạt chi bộ|hội ý|"
    r"đại hội(?! (?:thể dục|thể thao|tdtt|điền kinh))|hội thảo|tiếp xúc(?: với)? cử tri|đối thoại|"
    r"(?:sơ kết|tổng kết)(?= công tác| hoạt động| phong trào| năm| \d| nhiệm vụ| chương trình| \w+ năm)|"
    r"giám sát (?:việc|tình hình|kết quả|tại|chuyên đề)|kiểm tra (?:việc|tình hình|kết quả) thực hiện)\b"
)
_WORKING = rx(
    r"\b(?:làm việc (?:với|tại)|buổi làm việc|đã làm việc|đoàn công tác|thăm và làm việc|kiểm tra tình hình|"
    r"tiếp xúc(?: với)? cử tri|đoàn giám sát|đoàn kiểm tra|giám sát (?:việc|tình hình|kết quả|tại)|"
    r"kiểm tra (?:việc|tại|công tác)|đối thoại)\b"
)
_CONFERENCE = rx(
    r"\b(?:hội nghị|kỳ họp|phiên họp|giao ban|cuộc họp|họp (?:phiên|định kỳ|thường kỳ|ban|chi bộ|thường trực|thường vụ|xét|bàn)|"
    r"sinh hoạt chi bộ|hội ý|đại hội|hội thảo|sơ kết|tổng kết)\b"
)
_NOT_MEETING = rx(r"\b(?:lễ hội|khai mạc|bế mạc|hội thi|hội diễn|giải (?:bóng|chạy|cờ)|thông báo|tuyển dụng|tuyển sinh|lễ kỷ niệm|lễ ra quân|lễ phát động|mít tinh)\b")
_ORG = r"(?:Huyện uỷ|Tỉnh uỷ|Thành uỷ|Thị uỷ|Đảng uỷ|Đảng bộ|UBND|HĐND|Uỷ ban nhân dân|Hội đồng nhân dân|Chi bộ|MTTQ)"
_BODY = re.compile(
    fold(
        rf"(?:(?i:đoàn công tác(?: của)?|đoàn kiểm tra(?: của)?|thường trực|trường trực|ban thường vụ|btv|ban chấp hành|bch)\s+)*"
        rf"(?i:{_ORG})(?:\s+(?i:huyện|xã|tỉnh|thị trấn|phường|thành phố|thị xã))?(?:\s+{PLACE})?"
    )
)
_BODY_START_VERB = rx(
    r"\s*(?:đã\s+)?(?:tổ chức|có buổi làm việc|làm việc|họp|tiến hành|triển khai|kiểm tra|giao ban|sơ kết|tổng kết)\b"
)


_OPENS_WITH_MEETING = rx(r"^\W*(?:\w+\s*:\s*)?(?:đại hội|hội nghị|kỳ họp|phiên họp|giao ban|hội thảo)\b")


def _head_lines(layout: Layout) -> list[Line]:
    """The lead and the paragraph after it: a sapo or a repeated headline often comes first."""
    return [ln for ln in layout.lines if ln.kind in ("lead", "body")][:2]


def is_meeting(layout: Layout, norm: str) -> bool:
    title = layout.title
    title_text = norm[title.start : title.end] if title else ""
    heads = _head_lines(layout)
    head_text = "\n".join(norm[ln.start : ln.end] for ln in heads)
    if _NOT_MEETING.search(title_text) and not _MEETING.search(title_text):
        return False
    if not (_MEETING.search(title_text) or _MEETING.search(head_text)):
        return False
    if _OPENS_WITH_MEETING.match(title_text):
        return True  # "Đại hội đại biểu ... lần thứ III": the headline names the meeting itself
    return bool(_BODY.search(title_text + "\n" + head_text)) or lead_subject(layout, norm) is not None


def meeting_kind(layout: Layout, norm: str) -> str | None:
    spans: list[tuple[int, int]] = []
    if layout.title:
        spans.append((layout.title.start, layout.title.end))
    if layout.lead:
        spans.append(layout.lead.sentences[0])
        spans.append((layout.lead.start, layout.lead.end))
    for s, e in spans:
        text = norm[s:e]
        w, c = _WORKING.search(text), _CONFERENCE.search(text)
        if w and (not c or w.start() <= c.start()):
            return "working_session"
        if c:
            return "committee_conference"
    return "committee_conference"  # a meeting named by none of these words: a body's own meeting


# ---------------------------------------------------------------- host body
_CONF_OF = rx(
    rf"(?:hội nghị|kỳ họp|phiên họp)\s+(?:(?:(?:lần )?thứ \w+|thường kỳ|mở rộng|chuyên đề|bất thường|cuối năm|giữa năm)\s*,?\s+)*"
    rf"(?:của\s+)?(?={_ORG}|ban )"
)


@dataclass
class Span:
    start: int
    end: int


def _body_at(norm: str, pos: int, limit: int) -> Span | None:
    m = _BODY.match(norm, pos, limit)
    if not m:
        return None
    s, e = m.start(), m.end()
    while e > s and norm[e - 1] in " ,":
        e -= 1
    return Span(s, e)


def host_body(layout: Layout, norm: str) -> Span | None:
    title = layout.title
    if title:
        i = title.start
        while i < title.end and not norm[i].isalnum():
            i += 1
        tp = TITLE_PLACE.match(norm, i, title.end)
        if tp:  # "Hàm Yên: Thường trực Huyện uỷ làm việc ..." on a provincial portal
            i = tp.end()
        b = _body_at(norm, i, title.end)
        if b:
            return b
    lead = layout.lead
    if lead:
        for m in _BODY.finditer(norm, lead.start, lead.end):
            if _BODY_START_VERB.match(norm, m.end(), lead.end):
                return Span(m.start(), m.end())
    for ln in ([title] if title else []) + ([lead] if lead else []):
        conf = _CONF_OF.search(norm, ln.start, ln.end)
        if conf:
            b = _body_at(norm, conf.end(), ln.end)
            if b:
                return b
    return lead_subject(layout, norm)




# ---------------------------------------------------------------- dates
_DATE = rx(
    r"(?<![\w/])(?:(?:sáng|chiều|tối|trưa)(?:\s+nay)?\s+\(?(?:ngày\s+)?|ngày\s+|hôm\s+(?:nay\s+)?\(?)"
    r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{4}))?(?![\d/])"
)
_DATE_WORDS = rx(r"(?<![\w/])ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s+năm\s+(\d{4}))?")
_DEADLINE = rx(r"(?:trước|đến|từ|hết|sau|tới)\s+$")


def _find_date(norm: str, s: int, e: int) -> tuple[int, int, int | None] | None:
    found = []
    for pat in (_DATE, _DATE_WORDS):
        for m in pat.finditer(norm, s, e):
            if _DEADLINE.search(norm[max(s, m.start() - 8) : m.start()]):
                continue
            d, mo = int(m.group(1)), int(m.group(2))
            if 1 <= d <= 31 and 1 <= mo <= 12:
                found.append((m.start(), d, mo, int(m.group(3)) if m.group(3) else None))
                break
    if not found:
        return None
    _, d, mo, y = min(found)
    return d, mo, y


def meeting_date(layout: Layout, norm: str, period: Period | None, published: dt.date | None) -> dt.date | None:
    lines = [ln for ln in layout.lines if ln.kind == "lead"][:1] + [ln for ln in layout.lines if ln.kind == "body"][:1]
    found = None
    for ln in lines:
        # the date stands in the first sentences of the report
        for s, e in ln.sentences[:2]:
            found = _find_date(norm, s, e)
            if found:
                break
        if found:
            break
    if not found:
        return None
    d, mo, y = found
    if y is None:
        y = _infer_year(mo, d, period, published)
    if y is None:
        y = _year_in_text(norm, d, mo)
    if y is None:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


_YEAR_MENTION = rx(r"(?<![\d/.\-–])(?:năm\s+)?(20\d\d|19\d\d)(?![\d/\-–]|\s*[-–]\s*\d)")
_HORIZON = rx(r"(?:đến|tới|giai đoạn|nhiệm kỳ|trước|sau|từ|khoá|khóa|số|ngày \d{1,2} tháng \d{1,2})\s*(?:năm\s*)?$")


def _year_in_text(norm: str, day: int, month: int) -> int | None:
    """Without a publication date: the same day written in full elsewhere ("ngày 21/3/2017"),
    else the year the text speaks of most, leaving out horizons ("đến năm 2020", "nhiệm kỳ")."""
    full = re.search(rf"(?<!\d){day}\s*[/\-.]\s*0?{month}\s*[/\-.]\s*(\d{{4}})(?!\d)", norm)
    if full:
        return int(full.group(1))
    counts: dict[int, int] = {}
    for m in _YEAR_MENTION.finditer(norm):
        if _HORIZON.search(norm[max(0, m.start() - 25) : m.start()]):
            continue
        year = int(m.group(1))
        counts[year] = counts.get(year, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda y: (counts[y], y))


def _infer_year(month: int, day: int, period: Period | None, published: dt.date | None) -> int | None:
    candidates: list[int] = []
    if period is not None and period.year:
        y = period.year
        # the report on a period ending in December is held in the new year ("quý IV/2023" on 5/1)
        if period.ends_in_december and month <= 3:
            y += 1
        candidates.append(y)
    if published is not None:
        # no meeting is reported before it took place: 28/12 in a January article is last year's
        y = published.year
        if (month, day) > (published.month, published.day):
            y -= 1
        candidates.append(y)
    if not candidates:
        return None
    if published is not None and len(candidates) == 2:
        text_year = candidates[0]
        try:
            if dt.date(text_year, month, day) <= published:
                return text_year
        except ValueError:
            pass
        return candidates[1]
    return candidates[0]


# ---------------------------------------------------------------- period
_PERIOD = rx(
    r"(?P<half>(?:\d{1,2}|sáu|chín)\s+tháng(?:\s+(?:đầu|cuối))?\s+năm(?:\s+(?P<hy>\d{4}))?)"
    r"|(?P<quarter>quý\s+(?P<q>IV|I{1,3}|[1-4])(?:\s*(?:/|năm)\s*(?P<qy>\d{4}))?)"
    r"|(?P<month>tháng\s+(?P<m>\d{1,2})(?:\s*(?:/|năm)\s*(?P<my>\d{4}))?(?!\s*(?:tháng|/\d)))"
    r"|(?P<year>năm\s+(?P<yy>\d{4})(?!\s*[-–]))"
)
# Periods that carry no single year: a term, a school year, a stage, "5 năm qua"
_SPAN_PERIOD = rx(
    r"nhiệm kỳ\s+(?:qua|vừa qua)|năm học\s+\d{4}\s*[-–]\s*\d{4}|(?:\d{1,2}|hai|ba|bốn|năm|mười)\s+năm\s+(?:qua|vừa qua)|"
    r"(?<=tổng kết )giai đoạn\s+\d{4}\s*[-–]\s*\d{4}|(?<=sơ kết )giai đoạn\s+\d{4}\s*[-–]\s*\d{4}"
)
# "nhiệm kỳ 2020-2025" names the period of a congress only; elsewhere it is someone's term of office
_TERM = rx(r"nhiệm kỳ\s+\d{4}\s*[-–]\s*\d{4}")
_CONGRESS = rx(r"\bđại hội\b")
_FORWARD_BEFORE = rx(r"(?:phương hướng|triển khai|kế hoạch|tới|tiếp theo)[^.;]{0,25}$")
_YEAR_CONTEXT = rx(r"(?:tổng kết|kết quả|tình hình|đánh giá|thực hiện nhiệm vụ|công tác)[^.;]{0,40}$")


@dataclass
class Period:
    text: str  # as the article words it (original spelling), year attached when borrowed
    start: int
    end: int
    year: int | None
    ends_in_december: bool
    kind: str


def _ends_december(kind: str, m: re.Match[str]) -> bool:
    g = m.group(0).lower()
    if kind == "half":
        return "cuối" in g or g.startswith("12")
    if kind == "quarter":
        return m.group("q").upper() in ("IV", "4")
    if kind == "month":
        return int(m.group("m")) == 12
    return kind == "year"


def reporting_period(layout: Layout, norm: str, original_of: Callable[[int, int], str]) -> Period | None:
    """The period the meeting reviewed: the first specific one ("6 tháng đầu năm 2024",
    "quý I/2023", "tháng 02 ...") that looks back, in the lead, then the body, then the
    headline; else a whole year in a reporting context ("tổng kết ... năm 2023")."""
    lines = [ln for ln in layout.lines if ln.kind in ("lead", "body")]
    if layout.title:
        lines.append(layout.title)
    best_year: Period | None = None
    for ln in lines:
        for s, e in ln.sentences:
            span = _SPAN_PERIOD.search(norm, s, e)
            if span is None and layout.title and _CONGRESS.search(norm, layout.title.start, layout.title.end):
                span = _TERM.search(norm, s, e)
            ms = list(_PERIOD.finditer(norm, s, e))
            if span and not _FORWARD_BEFORE.search(norm[s : span.start()]) and not any(m.start() < span.start() for m in ms if not m.group("year")):
                return Period(original_of(span.start(), span.end()), span.start(), span.end(), None, False, "span")
            for i, m in enumerate(ms):
                kind = next(k for k in ("half", "quarter", "month", "year") if m.group(k))
                if kind == "month" and re.search(r"ngày\s+\d{1,2}\s+$", norm[max(s, m.start() - 10) : m.start()], re.I):
                    continue
                before = norm[s : m.start()]
                g = m.group(0)
                if "cuối" in g.lower() or _FORWARD_BEFORE.search(before):
                    continue
                year_s = m.group({"half": "hy", "quarter": "qy", "month": "my", "year": "yy"}[kind])
                text = original_of(m.start(), m.end())
                if year_s is None:
                    # "quý I, ... nhiệm vụ quý II/2023": the year is written once, on the later period
                    later = next((n for n in ms[i + 1 :] if re.search(r"\d{4}", n.group(0))), None)
                    if later is None:
                        continue
                    year_s = re.search(r"\d{4}", later.group(0)).group(0)  # type: ignore[union-attr]
                    lg = later.group(0)
                    if g.lower().rstrip().endswith("năm"):
                        text = f"{text} {year_s}"
                    elif re.search(r"/\s*\d{4}$", lg):
                        text = f"{text}/{year_s}"
                    else:
                        text = f"{text} năm {year_s}"
                p = Period(text, m.start(), m.end(), int(year_s), _ends_december(kind, m), kind)
                if kind != "year":
                    return p
                opens = not before.strip(" ,.-–") and ln.kind in ("lead", "body")  # "Năm 2020, dưới sự lãnh đạo ..."
                if best_year is None and (opens or ln.kind in ("lead", "title") and _YEAR_CONTEXT.search(before)):
                    best_year = p
    return best_year


# ---------------------------------------------------------------- people
SURNAMES = {
    key(x)
    for x in ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Mai", "Hà", "Đinh", "Lương", "Trương", "Lâm", "Phùng", "Đào", "Tạ", "Chu", "Ma", "Hứa", "Nông", "Triệu", "Quan", "Lục", "Sầm", "Vi", "Lò", "Cao", "Thái", "Đoàn", "Kiều", "Tô", "Trịnh", "Văn", "Lưu", "Khổng", "Mạc", "Hầu", "Giàng", "Thào", "Sùng", "Vàng", "Lầu", "Tống", "Âu", "Châu", "Từ", "Diệp", "Thân", "Kim", "Doãn", "Khúc", "Ninh", "Quách", "Bế", "Tôn", "Đàm", "Lã", "Khương", "Lỗ", "Hàn", "Ông", "Phí", "Giáp", "Bạch", "Nghiêm", "Cù", "Mẫn", "Tăng", "Viên", "Lạc", "Cung", "Đồng", "Lại", "Khuất", "Kha", "Nhữ", "Tiêu", "Y", "Ksor", "Siu", "Rơ", "Nay", "Điểu", "Rah", "Ka", "Lường", "Quàng", "Bàn", "Mông", "Vương", "Lữ", "Trình", "Thiều", "Đồ"]
}
_TITLE_HEAD = (
    r"(?:phó\s+)?(?:bí thư|chủ tịch|trưởng ban|phó ban|trưởng phòng|trưởng đoàn|trưởng|giám đốc|chánh văn phòng|chánh|"
    r"uỷ viên|huyện uỷ viên|tỉnh uỷ viên|thành uỷ viên|đảng uỷ viên|chỉ huy trưởng|thường trực|tổng biên tập|"
    r"bộ trưởng|thứ trưởng|chủ nhiệm|phó chủ nhiệm|chính uỷ|hiệu trưởng|viện trưởng|chánh án|tổng giám đốc|"
    r"uvbtv|uv btv|ubtv|tuv|huv|ct(?= ubnd| hđnd| uỷ ban| mttq| hội)|pct)"
)
# "đồng chí", "Đ/c", "ông", "các đồng chí:", "đồng chí Đại tá": what stands before a person's name
_HONORIFIC = r"(?:các\s+)?(?:đồng chí|đ/c|ông|bà)\s*:?\s*(?:(?:đại|thượng|trung|thiếu)\s+(?:tá|tướng|uý)\s+)?"
_TITLE_HEAD_RE = rx(rf"^\s*{_TITLE_HEAD}\b")
_FORM_A = re.compile(fold(rf"(?i:{_HONORIFIC})(?P<name>{NAME})\s*(?:,|–|-|\()\s*(?=(?i:{_TITLE_HEAD})\b)"))
_FORM_B = re.compile(fold(rf"(?:(?i:đồng chí|đ/c|ông|bà)\s+)?(?P<title>(?i:{_TITLE_HEAD})\b(?:\s+[^\s,;.:()–]+){{0,10}}?)\s+(?P<name>{NAME})"))
_TITLE_STOP = rx(
    r"\s+(?:chủ trì|đã|đến dự|cùng dự|dự|và các|và đại diện|kết luận|cho biết|nhấn mạnh|đề nghị|yêu cầu|đánh giá|"
    r"ghi nhận|tham dự|làm trưởng đoàn|phát biểu|làm việc|khẳng định|biểu dương|chỉ rõ|chỉ ra|lưu ý|trao|tặng|"
    r"điều hành|chủ toạ|cùng|và đoàn)\b"
)
_NOT_TITLE = rx(r"\b(?:với|về|tại|cùng|cho)\b")
_MEMBERSHIP = rx(r"\s*(?:uỷ viên|huyện uỷ viên|tỉnh uỷ viên|thành uỷ viên|đảng uỷ viên)\b")


@dataclass
class PersonSpan:
    name: tuple[int, int]
    title: tuple[int, int] | None
    start: int


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
    fold(w) for w in ["viên", "ban", "thường", "vụ", "trực", "chấp", "hành", "kiểm", "tra", "nhân", "dân", "mặt", "trận", "tổ", "quốc", "đảng", "chi", "thị", "thành", "quân", "sự", "đội", "biên", "phòng"]
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
        j = norm.find(",", i, seg_end)
        part_end = j if j >= 0 else seg_end
        # every comma-separated part is a title of its own ("Bí thư Đảng uỷ", "Chủ tịch UBND xã")
        if not _TITLE_HEAD_RE.match(norm[i:part_end]):
            break
        parts_end = _title_part_end(norm, i, part_end)
        if parts_end < part_end:
            break
        i = part_end + 1
    if parts_end <= pos:
        return None
    s = pos
    while s < parts_end and norm[s] in " ,–-":
        s += 1
    e = parts_end
    while e > s and norm[e - 1] in " ,":
        e -= 1
    return (s, e) if e > s else None


_PERSON_HINT = rx(rf"\b(?:đồng chí|đ/c|ông|bà)\b|{_TITLE_HEAD}")


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
        j = norm.find(",", s, e)
        if j < 0:
            break
        s = j + 1
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


# ---------------------------------------------------------------- places in text
TITLE_PLACE = re.compile(fold(rf"(?P<n>{PLACE})\s*:\s*"))
_COMMUNE = re.compile(fold(rf"(?<![\w])(?i:xã|thị trấn|phường)\s+(?P<n>{PLACE})"))
_COMMUNE_MORE = re.compile(fold(rf"\s*(?:,|(?i:và))\s*(?:(?i:xã|thị trấn|phường)\s+)?(?P<n>{PLACE})"))
_DISTRICT = re.compile(fold(rf"(?<![\w])(?i:huyện|thị xã)(?:\s+(?i:uỷ))?\s+(?P<n>{PLACE})"))
_PROVINCE = re.compile(fold(rf"(?<![\w])(?i:tỉnh)(?:\s+(?i:uỷ))?\s+(?P<n>{PLACE})"))


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


# "Sáng 15-1-2019, tại hội trường ..., Hội LHPN huyện (đã) tổ chức hội nghị ...": whoever
# stands before the meeting verb of the lead (or the headline) convenes it, whatever the
# body's name (mass organisations, departments, delegations: too many to list).
_LEAD_ADVERBIAL = rx(
    r"\W*(?:(?:vào\s+)?(?:sáng|chiều|tối|trưa)(?:\s+(?:nay|qua))?\s*,?\s*)?(?:(?:hôm nay|ngày|hôm)\s*)?"
    r"(?:\(?\d{1,2}\s*[/\-.]\s*\d{1,2}(?:\s*[/\-.]\s*\d{2,4})?\)?|\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?)?"
    r"(?:\s*\(?(?:thứ \w+|chủ nhật)\)?)?\s*,?\s*(?:(?:tại|ở)\s+[^,]{3,90},\s*)?(?:trong (?:\d|hai|ba) ngày[^,]{0,40},\s*)?"
)
# "Thực hiện Kế hoạch số 169, Ngày 28/6 Đoàn kiểm tra ...": a purpose clause before the date
_PURPOSE = rx(r"\W*(?:thực hiện|căn cứ|theo|nhằm|để)\s[^,]{3,90},\s*")
_MEETING_VERB = rx(
    r"\s+(?:đã\s+|long trọng\s+|chính thức\s+|cũng\s+|vừa\s+|mới\s+|vừa qua\s+)*(?:tổ chức|có buổi làm việc|có buổi|làm việc|họp|tiến hành|khai mạc|"
    r"giám sát|kiểm tra|tiếp xúc|sơ kết|tổng kết|triển khai|đối thoại|đến thăm|thăm và làm việc|quán triệt)\b"
)
_NOT_A_BODY = rx(
    rf"(?:{_TITLE_HEAD}|đồng chí|đ/c|ông|bà|hội nghị|buổi|cuộc|kỳ|phiên|lãnh đạo|khai mạc|sau|trong|tiếp|chiều|sáng|"
    r"tối|trưa|ngày|hôm|tại|với|để|nhằm|thực hiện|theo|hướng tới|nhân|chào mừng|qua|từ|đến|vừa qua|mới đây|dự|"
    r"bế mạc|diễn ra|tham dự)\b"
)
_SUBJECT_CUT = rx(r"\s+(?:do|cùng|và đoàn|dưới sự)\s")


def lead_subject(layout: Layout, norm: str) -> Span | None:
    for ln in [*_head_lines(layout), layout.title]:
        if ln is None:
            continue
        s, e = ln.sentences[0] if ln.sentences else (ln.start, ln.end)
        p = _PURPOSE.match(norm, s, e)
        m = _LEAD_ADVERBIAL.match(norm, p.end() if p else s, e)
        a = m.end() if m else s
        v = _MEETING_VERB.search(norm, a, min(e, a + 160))
        if v is None:
            continue
        b = v.start()
        cut = _SUBJECT_CUT.search(norm, a, b)
        if cut:
            b = cut.start()
        while b > a and norm[b - 1] in " ,":
            b -= 1
        subject = norm[a:b]
        if _NOT_A_BODY.match(subject):
            continue  # a person ("Bí thư Huyện uỷ ... Nguyễn Văn A làm việc ...") or the meeting itself
        if 1 <= len(subject.split()) <= 14 and subject[:1].isupper() and subject.count(",") <= 1:
            return Span(a, b)
    return None
