"""The host body: who convenes or leads the meeting."""

from __future__ import annotations

import re

from bantin.extract.fields.common import PLACE, Span, head_lines
from bantin.extract.fields.people import TITLE_HEAD
from bantin.extract.fields.placenames import TITLE_PLACE
from bantin.extract.layout import Layout
from bantin.extract.textnorm import rx
from bantin.tones import fold

ORG = r"(?:Huyện uỷ|Tỉnh uỷ|Thành uỷ|Thị uỷ|Đảng uỷ|Đảng bộ|UBND|HĐND|Uỷ ban nhân dân|Hội đồng nhân dân|Chi bộ|MTTQ)"
BODY = re.compile(
    fold(
        rf"(?:(?i:đoàn công tác(?: của)?|đoàn kiểm tra(?: của)?|thường trực|trường trực|ban thường vụ|btv|ban chấp hành|bch)\s+)*"
        rf"(?i:{ORG})(?:\s+(?i:huyện|xã|tỉnh|thị trấn|phường|thành phố|thị xã))?(?:\s+{PLACE})?"
    )
)
BODY_START_VERB = rx(
    r"\s*(?:đã\s+)?(?:tổ chức|có buổi làm việc|làm việc|họp|tiến hành|triển khai|kiểm tra|giao ban|sơ kết|tổng kết)\b"
)
_CONF_OF = rx(
    rf"(?:hội nghị|kỳ họp|phiên họp)\s+(?:(?:(?:lần )?thứ \w+|thường kỳ|mở rộng|chuyên đề|bất thường|cuối năm|giữa năm)\s*,?\s+)*"
    rf"(?:của\s+)?(?={ORG}|ban )"
)


def _body_at(norm: str, pos: int, limit: int) -> Span | None:
    m = BODY.match(norm, pos, limit)
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
        for m in BODY.finditer(norm, lead.start, lead.end):
            if BODY_START_VERB.match(norm, m.end(), lead.end):
                return Span(m.start(), m.end())
    for ln in ([title] if title else []) + ([lead] if lead else []):
        conf = _CONF_OF.search(norm, ln.start, ln.end)
        if conf:
            b = _body_at(norm, conf.end(), ln.end)
            if b:
                return b
    return lead_subject(layout, norm)


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
    rf"(?:{TITLE_HEAD}|đồng chí|đ/c|ông|bà|hội nghị|buổi|cuộc|kỳ|phiên|lãnh đạo|khai mạc|sau|trong|tiếp|chiều|sáng|"
    r"tối|trưa|ngày|hôm|tại|với|để|nhằm|thực hiện|theo|hướng tới|nhân|chào mừng|qua|từ|đến|vừa qua|mới đây|dự|"
    r"bế mạc|diễn ra|tham dự)\b"
)
_SUBJECT_CUT = rx(r"\s+(?:do|cùng|và đoàn|dưới sự)\s")


def lead_subject(layout: Layout, norm: str) -> Span | None:
    for ln in [*head_lines(layout), layout.title]:
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
