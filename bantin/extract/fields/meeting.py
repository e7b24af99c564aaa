"""Is it a meeting, and of which kind (a working session or a body's own conference)."""

from __future__ import annotations

from bantin.extract.fields.common import head_lines
from bantin.extract.fields.host import BODY, lead_subject
from bantin.extract.layout import Layout
from bantin.extract.textnorm import rx

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
_NOT_MEETING = rx(
    r"\b(?:lễ hội|khai mạc|bế mạc|hội thi|hội diễn|giải (?:bóng|chạy|cờ)|thông báo|tuyển dụng|tuyển sinh|lễ kỷ niệm|"
    r"lễ ra quân|lễ phát động|mít tinh|khai giảng|bế giảng|lớp (?:bồi dưỡng|tập huấn)|tập huấn|phát động|chân dung|"
    r"giấy mời|lịch (?:công tác|tiếp công dân|làm việc))\b"
)
# a document published as an article ("Kế hoạch tổ chức đối thoại ...", "Thông báo kết luận ...")
_DOCUMENT_TITLE = rx(r"^\W*(?:kế hoạch|quyết định|thông báo|công văn|báo cáo|hướng dẫn|nghị quyết|chỉ thị|tờ trình|giấy mời)\b")
_OPENS_WITH_MEETING = rx(r"^\W*(?:\w+\s*:\s*)?(?:đại hội|hội nghị|kỳ họp|phiên họp|giao ban|hội thảo)\b")


def is_meeting(layout: Layout, norm: str) -> bool:
    title = layout.title
    title_text = norm[title.start : title.end] if title else ""
    heads = head_lines(layout)
    head_text = "\n".join(norm[ln.start : ln.end] for ln in heads)
    if (_NOT_MEETING.search(title_text) and not _MEETING.search(title_text)) or _DOCUMENT_TITLE.match(title_text):
        return False
    if not (_MEETING.search(title_text) or _MEETING.search(head_text)):
        return False
    if _OPENS_WITH_MEETING.match(title_text):
        return True  # "Đại hội đại biểu ... lần thứ III": the headline names the meeting itself
    return bool(BODY.search(title_text + "\n" + head_text)) or lead_subject(layout, norm) is not None


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
