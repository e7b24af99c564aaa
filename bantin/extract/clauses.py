"""Achievements, shortfalls and directives: clauses quoted from the body with offsets.

How reports of the genre are built: the lead says who met whom; the middle reports
results ("đạt", "vượt", "được giữ vững"), then the problems ("Tuy nhiên", "còn hạn
chế, tồn tại như: ...", "chưa ...", "còn chậm", "đạt thấp"), then the chair's
conclusion ("Phát biểu kết luận", "đề nghị", "yêu cầu", "nhiệm vụ trọng tâm") with
tasks, often one a sentence, a ";"-list, "- " bullets or "Một là ..., Hai là ...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import cast

from bantin.extract.layout import _BULLET, Layout
from bantin.extract.textnorm import rx
from bantin.tones import fold
from bantin.topics import OTHER, Topic

FLAGS = re.I


# Where the chair's conclusion (and so the directives) begins.
_DIR_START = rx(
    r"(?<!đáp ứng )(?<!đáp ứng được )(?<!theo )(?<!đúng )(?<!những )(?<!các )(?<!mọi )(?<!với )(?<!kiến nghị, )(?<!đạt )"
    r"\b(?:kết luận|phát biểu chỉ đạo|chỉ đạo hội nghị|(?:đề nghị|yêu cầu)(?!\s*[.;,)]|\s*$)|nhấn mạnh|lưu ý|nhiệm vụ trọng tâm|"
    r"giao nhiệm vụ|thống nhất[^.]{0,40}nhiệm vụ|(?:^|\W)về (?:nhiệm vụ|phương hướng)|"
    r"(?:nhiệm vụ|phương hướng)[^.]{0,30}(?:thời gian tới|tiếp theo|cuối năm))"
)
DIR_TRIGGER = rx(
    r"(?<!đáp ứng )(?<!đáp ứng được )(?<!theo )(?<!đúng )(?<!những )(?<!các )(?<!mọi )(?<!với )(?<!của )(?<!đạt )"
    r"(?<!mục đích, )(?<!mục đích )"
    r"\b(?:đề nghị|yêu cầu|nhấn mạnh|lưu ý|giao nhiệm vụ cho|quán triệt)\b(?! của)\s*:?\s*"
)
# "nhấn mạnh ý nghĩa của hội nghị", "nhấn mạnh: đây là ...": a statement, not a task
_STATEMENT_AFTER = rx(
    r"\s*(?:rằng\s+)?(?:ý nghĩa|tầm quan trọng|vai trò|đây là|những kết quả|kết quả|thành tích|sự kiện|năm \d{4} là|"
    r"hội nghị (?:lần này )?(?:là|có ý nghĩa)|đại hội (?:lần này )?(?:là|có ý nghĩa)|mục đích)"
)
# Addressees that are other agencies stay in the quote ("yêu cầu các cơ quan chuyên môn ... tăng cường");
# the reviewed unit itself ("đề nghị Đảng uỷ xã ...") is implied by the record.
_ADDRESSEE_AGENCY = rx(
    r"\b(?:cơ quan|ban,? ngành|phòng|đơn vị|sở|ngành|mặt trận|mttq|đoàn thể|lực lượng|công an|quân sự|"
    r"doanh nghiệp|hợp tác xã|trường|trạm)\b"
)
_IMPERATIVE = (
    r"(?:tiếp tục|tập trung|thực hiện|quan tâm|đẩy mạnh|tăng cường|phát huy|chú trọng|rà soát|khẩn trương|"
    r"chủ động|phối hợp|nâng cao|xây dựng|triển khai|duy trì|phấn đấu|bám sát|làm tốt|kịp thời|huy động|"
    r"đổi mới|củng cố|giữ vững|hoàn thành|đảm bảo|bảo đảm|tổ chức|lãnh đạo|chỉ đạo|nghiêm túc|tích cực|"
    r"thường xuyên|sớm|đôn đốc|kiểm tra|quản lý|ưu tiên|nắm chắc|làm rõ|tuyên truyền|vận động|giải quyết|"
    r"xử lý|khắc phục|hỗ trợ|phát triển|cải thiện|chăm lo|đề cao|siết chặt|coi trọng|quyết liệt|cần|phải|"
    r"không để|tránh|hướng dẫn|rà soát|chấn chỉnh|thúc đẩy|mở rộng|đa dạng hoá|nhân rộng|khai thác|"
    r"chuẩn bị|kiện toàn|bồi dưỡng|đào tạo|tham mưu|thực hành|đầu tư|vận hành|bố trí|ứng dụng|theo dõi)"
)
IMP_START = rx(rf"{_IMPERATIVE}\b")
_IMP_ANY = rx(rf"\b{_IMPERATIVE}\b")
EARLY_MODAL = rx(r"(?:\S+\s+){0,6}?(?:cần|phải|cần phải)\s")
_TASK_LIST = rx(r"(?:nhiệm vụ|nội dung|giải pháp|công việc)[^:.]{0,100}:\s*")
DIR_LIST = rx(
    r"(?:một số|các|những|hai|ba|bốn|năm|sáu|bảy|\d+)\s+(?:nội dung|nhiệm vụ|giải pháp|vấn đề|công việc|yêu cầu)"
    r"(?:[^.:;,]{0,50}?\s+(?:như|sau|gồm|là|với các nội dung)\s*:?|[^.:;,]{0,50}?:)\s*"
)
_LIST_BACK = rx(r"(?:,\s*đồng thời|;|,\s*và)\s*")
SF_LIST = rx(
    r"(?:(?:hạn chế|tồn tại|yếu kém|khó khăn|bất cập|đạt thấp|chưa đạt|vướng mắc|khuyết điểm)[^.;:]{0,60}?"
    r"(?:\bnhư\b\s*:?|\bsau\s*:|:)|(?:chỉ ra|chỉ rõ|nêu ra|nêu lên|thẳng thắn)[^.;:]{0,40}?:)\s*"
)
_SF_PARA = rx(r"\b(?:tuy nhiên|tuy vậy|tuy thế|dù vậy|hạn chế|tồn tại|yếu kém|khó khăn|bất cập|bên cạnh|khuyết điểm)\b")
CONTRAST = rx(r"\b(?:tuy nhiên|tuy vậy|tuy thế|dù vậy|nhưng|song|bên cạnh đó|mặt khác)\b")
NEG = rx(
    r"\bchưa\b|\bcòn\s+(?:rất\s+|khá\s+)?(?:chậm|thấp|hạn chế|cao|nhiều|yếu|nhỏ|khó khăn|thiếu|bất cập|tồn tại|"
    r"xảy ra|diễn biến|phức tạp|ít|lúng túng|nể nang|né tránh|đạt thấp|hình thức|chồng chéo|chung chung|"
    r"dàn trải|chậm trễ|manh mún|đơn điệu|thụ động)|\bđạt thấp\b|"
    r"\btỷ lệ thấp\b|\bkhông đạt\b|\byếu kém\b|\bbất cập\b|\bchậm tiến độ\b|\bthiếu\s+(?:quyết liệt|chặt chẽ|đồng bộ)|"
    r"\bcòn vướng mắc\b|\bvẫn (?:còn )?(?:diễn ra|xảy ra|tiếp diễn)\b|\bmới (?:chỉ )?đạt\b"
)
# Predicates that name a problem by themselves, without "Tuy nhiên" or "hạn chế" around them.
STRONG_NEG = rx(
    r"\bcòn\s+(?:rất\s+|khá\s+)?(?:chậm|thấp|hạn chế|nhiều (?:khó khăn|hạn chế|bất cập)|vướng mắc|yếu)\b|"
    r"\bchưa (?:đạt|đáp ứng|được khắc phục|được ngăn chặn|tương xứng|đồng đều|chặt chẽ|hiệu quả)\b|\bđạt thấp\b|"
    r"\byếu kém\b|\bbất cập\b|\bchậm tiến độ\b"
)
_GENERIC_SF = rx(
    r"(?:nhiều|một số|những)\s+(?:khó khăn|hạn chế|tồn tại)(?:\s*,\s*(?:khó khăn|hạn chế|tồn tại))*"
    r"(?:\s+nhất định)?\W*$"
)
POS = rx(
    r"\b(?:đạt|vượt|hoàn thành|tăng|giữ vững|ổn định|được đảm bảo|được bảo đảm|được quan tâm|hiệu quả|"
    r"được cải thiện|nổi bật|đạt được|được triển khai|được thực hiện)\b"
)
PRAISE = rx(r"\b(?:đánh giá cao|ghi nhận|biểu dương|đánh gia cao|gi nhận|khen ngợi)\b")
_PREFIX = rx(
    r"(?:[-–+•*]\s*|\d{1,2}[.)]\s*|[a-zđ][.)]\s+|(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười) là\s*[,:]?\s*|"
    r"thứ (?:nhất|hai|ba|tư|năm|sáu|bảy|tám)\s*[,:]?\s*|trong đó\s*[,:]?\s*|đồng thời\s*,?\s*|"
    r"đặc biệt(?: là\s*,?|\s*,)\s*|bên cạnh đó\s*,?\s*|ngoài ra\s*,?\s*|mặt khác\s*,?\s*|cụ thể\s*,\s*|"
    r"tuy nhiên\s*,?\s*|tuy vậy\s*,?\s*|song\s*,\s*|(?:đối với|về)\s+[^,.;:]{1,70},\s*|[,;:.…\s]+|"
    # "Hội nghị cũng nhận định ...": who said it is not part of the problem named
    r"(?:(?:hội nghị|đoàn công tác|đoàn kiểm tra|đoàn|các đại biểu|đại biểu|báo cáo|ý kiến|đồng chí)[^,.;:]{0,30}?\s)?"
    r"(?:cũng\s+)?(?:thẳng thắn\s+)?(?:nhận định|nhận thấy|cho rằng|chỉ ra|chỉ rõ|nêu rõ|thừa nhận)"
    r"\s*(?:rằng\s*)?:?\s+)"
)
_CUT_TAIL = rx(r",\s*(?:qua đó|nhằm|góp phần)\b")
_TRAIL = "  \t,;:.…/!?\"'“”)(-–"
_CONNECTOR_TAIL = rx(r"(?:,\s*|\s+)(?:đồng thời|và|nhưng|song)\s*$")

FIGURE = rx(
    r"\d+(?:[.,]\d+)*\s*(?:tỷ|triệu|nghìn|ngàn)\s*đồng|\d+(?:[.,]\d+)*\s*đồng|\d+(?:[.,]\d+)?\s*%|"
    r"\d+\s*/\s*\d+(?![/\d])\s+(?:tiêu chí|chỉ tiêu|đảng viên|xã|hộ|thôn|bản|[^\W\d_]+)|"
    r"\d+(?:[.,]\d+)*\s*(?:ha|héc-ta|tấn|km|hộ|người|lượt|công trình|dự án|tiêu chí|sản phẩm|phần quà|học sinh)\b"
)

_TOPICS: list[tuple[Topic, re.Pattern[str]]] = [
    ("new_rural_development", rx(r"\b(?:nông thôn mới|ntm|tiêu chí|đô thị văn minh)\b")),
    ("budget_investment", rx(r"\b(?:ngân sách|thu chi|vốn|đầu tư|giải ngân|giải phóng mặt bằng|công trình|dự án|thuế|tài chính|nợ đọng)\b")),
    ("defence_security", rx(r"\b(?:quốc phòng|an ninh|trật tự|quân sự|diễn tập|tội phạm|tuyển quân|phòng thủ|biên giới|ma tuý|anct|ttatxh|công an)\b")),
    ("party_building_personnel", rx(r"\b(?:đảng|đảng viên|cán bộ|chi bộ|cấp uỷ|kiểm tra, giám sát|giám sát|phê bình|hệ thống chính trị|mặt trận|mttq|đoàn thể|chính trị tư tưởng|tư tưởng|nghị quyết|quy hoạch cấp uỷ|đoàn kết|sinh hoạt)\b")),
    ("culture_education_health_welfare", rx(r"\b(?:văn hoá|giáo dục|y tế|học sinh|năm học|tiêm phòng cho trẻ|hộ nghèo|nghèo|an sinh|chính sách xã hội|sức khoẻ|thể thao|du lịch văn hoá|môi trường sống|đời sống|việc làm|trẻ em|nhân dân)\b")),
    ("economy_agriculture", rx(r"\b(?:kinh tế|sản xuất|nông nghiệp|lúa|cây trồng|vật nuôi|chăn nuôi|gia súc|gia cầm|ocop|hợp tác xã|thương mại|dịch vụ|rừng|thuỷ sản|trồng trọt|năng suất|sản phẩm|doanh nghiệp|khoa học công nghệ)\b")),
    ("administration", rx(r"\b(?:hành chính|cải cách|chuyển đổi số|đề án 06|quy chế|tham mưu|lấn chiếm|lộ giới|đất đai|chính quyền|điều hành|pháp luật)\b")),
]


# one pass over the clause: the topic whose keywords occur most (ties: the first listed)
_TOPIC_ANY = re.compile("|".join(f"(?P<{name}>{pat.pattern})" for name, pat in _TOPICS), FLAGS)
_TOPIC_ORDER = {name: i for i, (name, _) in enumerate(_TOPICS)}


def topic_of(text: str) -> Topic:
    """The topic whose keywords the clause names most; OTHER when it names none."""
    counts: dict[Topic, int] = {}
    for m in _TOPIC_ANY.finditer(text):
        topic = cast("Topic", m.lastgroup)  # the group names are the topics
        counts[topic] = counts.get(topic, 0) + 1
    if not counts:
        return OTHER
    return max(counts, key=lambda k: (counts[k], -_TOPIC_ORDER[k]))


@dataclass
class Found:
    achievements: list[tuple[int, int]] = field(default_factory=list)
    shortfalls: list[tuple[int, int]] = field(default_factory=list)
    directives: list[tuple[int, int]] = field(default_factory=list)


def clean(norm: str, s: int, e: int) -> tuple[int, int] | None:
    """Trim connectors, enumerators and punctuation at both ends; None if too little is left."""
    for _ in range(6):
        m = _PREFIX.match(norm, s, e)
        if not m or m.end() == s:
            break
        s = m.end()
    cut = _CUT_TAIL.search(norm, s, e)
    if cut:
        e = cut.start()
    while True:
        while e > s and norm[e - 1] in _TRAIL:
            e -= 1
        m = _CONNECTOR_TAIL.search(norm, s, e)
        if not m:
            break
        e = m.start()
    while s < e and norm[s] in _TRAIL:
        s += 1
    if len(norm[s:e].split()) < 3:
        return None
    return s, e


def split_parts(norm: str, s: int, e: int) -> list[tuple[int, int]]:
    out = []
    i = s
    for m in re.finditer(r";", norm[s:e]):
        out.append((i, s + m.start()))
        i = s + m.end()
    out.append((i, e))
    return out


def emit(norm: str, spans: list[tuple[int, int]], s: int, e: int, *, problems: bool = False) -> int:
    n = 0
    for a, b in split_parts(norm, s, e):
        for x, y in (_split_problems(norm, a, b) if problems else [(a, b)]):
            c = clean(norm, x, y)
            if c:
                spans.append(c)
                n += 1
    return n


_SUBJECT_START = rx(r"(?:công tác|việc|tỷ lệ|chất lượng|tình trạng|tiến độ|hoạt động|một số|nhiều)\b")


def _split_problems(norm: str, s: int, e: int) -> list[tuple[int, int]]:
    """'A còn chậm, B chưa đột phá' -> two problems: a comma starts a new one when what
    follows has its own subject and problem predicate and what precedes already had one."""
    pieces: list[tuple[int, int]] = []
    i = s
    for m in re.finditer(r",\s+", norm[s:e]):
        pieces.append((i, s + m.start()))
        i = s + m.end()
    pieces.append((i, e))
    groups: list[list[tuple[int, int, bool]]] = []
    for a, b in pieces:
        neg = NEG.search(norm, a, b)
        own = neg is not None and neg.start() - a >= 8 and len(norm[a:b].split()) >= 4
        if groups and own and any(p[2] for p in groups[-1]):
            # "..., công tác kiểm tra, giám sát chưa ...": a subject begun before the comma moves along
            prev = groups[-1]
            last_neg = max(i for i, p in enumerate(prev) if p[2])
            cut = next((i for i in range(last_neg + 1, len(prev)) if _SUBJECT_START.match(norm, prev[i][0], prev[i][1])), None)
            moved = prev[cut:] if cut is not None else []
            if cut is not None:
                del prev[cut:]
            groups.append([*moved, (a, b, True)])
        elif groups:
            groups[-1].append((a, b, bool(neg)))
        else:
            groups.append([(a, b, bool(neg))])
    return [(g[0][0], g[-1][1]) for g in groups]


def directive_content(norm: str, s: int, e: int) -> tuple[int, int] | None:
    """Span of the tasks a sentence sets, or None when it sets none."""
    head = clean(norm, s, e)
    if head is None:
        return None
    hs = head[0]
    trig = DIR_TRIGGER.search(norm, s, e)
    if trig:
        word = norm[trig.start() : trig.end()].strip().lower()
        if word.startswith("nhấn mạnh") and _STATEMENT_AFTER.match(norm, trig.end(), e):
            return None
        c = trig.end()
        if word.startswith(("đề nghị", "yêu cầu")) and not word.endswith(":"):
            imp = _IMP_ANY.search(norm, c, min(e, c + 120))
            if imp and len(norm[c : imp.start()].split()) <= 15:
                addressee = norm[c : imp.start()]
                # tasks for the reviewed unit are quoted bare; tasks for others keep who must act
                c = trig.start() if _ADDRESSEE_AGENCY.search(addressee) else imp.start()
        return c, e
    if IMP_START.match(norm, hs, e) or EARLY_MODAL.match(norm, hs, e):
        return hs, e
    tl = _TASK_LIST.search(norm, s, e)
    if tl:
        return tl.end(), e
    return None


def drop_list_intro(norm: str, s: int, e: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """'A, đồng thời thực hiện một số nội dung như: B' -> [A, B]."""
    m = pattern.search(norm, s, e)
    if not m:
        return [(s, e)]
    back = s
    for b in _LIST_BACK.finditer(norm, s, m.start()):
        back = b.start()
    out = []
    if back > s:
        out.append((s, back))
    out.append((m.end(), e))
    return out


def find_clauses(layout: Layout, norm: str) -> Found:
    found = Found()
    lines = [ln for ln in layout.lines if ln.kind in ("lead", "body")]
    region = False
    list_mode: str | None = None
    dir_paras = 0
    closed = False
    for ln in lines:
        text = norm[ln.start : ln.end]
        if list_mode and (_BULLET.match(text) or re.match(fold(r"^\W*(?:một|hai|ba|bốn|năm|sáu|thứ \w+) là\b"), text, re.I)):
            if list_mode == "shortfall":
                emit(norm, found.shortfalls, ln.start, ln.end, problems=True)
            else:
                emit(norm, found.directives, ln.start, ln.end)
            continue
        list_mode = None
        sents = ln.sentences
        if ln.kind == "lead":
            # the lead says who met whom; a text without paragraph breaks holds the whole report in it
            if len(sents) <= 4:
                continue
            sents = sents[2:]
        sf_para = bool(_SF_PARA.search(text))
        n_dirs = 0
        for s, e in sents:
            sent = norm[s:e]
            if not region and not closed and _DIR_START.search(sent):
                region = True
            ends_colon = sent.rstrip().endswith(":")
            # 1. a list of shortfalls: "... một số hạn chế, tồn tại như: A; B; C"
            parts = split_parts(norm, s, e)
            listed = False
            for i, (a, b) in enumerate(parts):
                m = SF_LIST.search(norm, a, b)
                if m and not DIR_TRIGGER.search(norm, a, m.start()):
                    for x, y in parts[:i]:
                        if NEG.search(norm, x, y) and not _GENERIC_SF.search(norm, x, y):
                            emit(norm, found.shortfalls, x, y, problems=True)
                    emit(norm, found.shortfalls, m.end(), b, problems=True)
                    for x, y in parts[i + 1 :]:
                        emit(norm, found.shortfalls, x, y, problems=True)
                    if m.end() >= b - 1:
                        list_mode = "shortfall"
                    listed = True
                    break
            if listed:
                continue
            # 2. in the conclusion: tasks
            if region:
                dc = directive_content(norm, s, e)
                if dc is not None and ends_colon and not _IMP_ANY.search(norm, dc[0], dc[1]):
                    dc = None  # "yêu cầu trong 6 tháng cuối năm:": a heading, the tasks follow
                    list_mode = "directive"
                    continue
                if dc is not None:
                    for a, b in drop_list_intro(norm, dc[0], dc[1], DIR_LIST):
                        n_dirs += emit(norm, found.directives, a, b)
                    if ends_colon:
                        list_mode = "directive"
                    continue
                if ends_colon and (_TASK_LIST.search(sent) or DIR_TRIGGER.search(sent)):
                    list_mode = "directive"
                    continue
                continue
            # 3. shortfalls stated as sentences
            if ((sf_para or CONTRAST.search(sent)) and NEG.search(sent)) or STRONG_NEG.search(sent):
                for a, b in parts:
                    if NEG.search(norm, a, b) and not _GENERIC_SF.search(norm, a, b):
                        emit(norm, found.shortfalls, a, b, problems=True)
                continue
            # 4. results
            if POS.search(sent) and not PRAISE.search(sent) and not NEG.search(sent):
                for a, b in parts:
                    if POS.search(norm, a, b):
                        emit(norm, found.achievements, a, b)
        if region:
            if n_dirs == 0 and dir_paras > 0:
                region = False  # the conclusion is over: closing remarks follow
                closed = True
            elif n_dirs:
                dir_paras += 1
    return found
