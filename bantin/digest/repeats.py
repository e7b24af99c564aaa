"""Was this named before? A shortfall or directive matched against the same place's
earlier meetings (pure: plain values in, matches out).

The rule (docs/digest.md, "Named before"):

- **same place**: the digest heading the meeting is listed under (today's unit, else the
  district), and a compatible scope: when both meetings name the communes (villages since
  2025) they reviewed, at least one in common; a meeting naming none speaks for the whole
  place and meets any;
- **same kind**: a shortfall matches earlier shortfalls, a directive earlier directives;
- **same words**: the clauses' *content pairs* — pairs of adjacent syllables, tone marks
  folded (`bantin.tones`), leaving out pairs of function words and the pairs every report
  repeats ("công tác", "thực hiện", "tăng cường", "trên địa bàn", ...: `FILLER`, the most
  frequent pairs of the corpus's clauses that name no subject) — shared:
  - same extractor topic: at least 2 shared pairs for a shortfall (3 for a directive:
    directives are formulaic) making at least half (60 %) of the shorter clause's pairs;
  - any topic (the labeller can file one problem under two topics): at least 4 shared
    pairs making at least half of the *longer* clause's pairs (nearly the same wording);
- **earlier**: a meeting of an earlier day (meeting date, else publication date), not the
  same article.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bantin.tones import fold

# Pairs that say how, not what: the corpus's most frequent clause pairs that name no subject.
FILLER = frozenset(
    """thực hiện|công tác|tiếp tục|tập trung|nhiệm vụ|chỉ đạo|tổ chức|hoạt động|đơn vị|nâng cao|phối hợp|đẩy mạnh|
tăng cường|cơ quan|triển khai|kế hoạch|chất lượng|địa bàn|trên địa|hiệu quả|phát huy|kịp thời|hoàn thành|chủ động|
các cấp|đảm bảo|bảo đảm|giải pháp|quan tâm|nghiêm túc|cụ thể|vấn đề|yêu cầu|đánh giá|kết quả|địa phương|một số|
hạn chế|tồn tại|khó khăn|vướng mắc|thời gian|lãnh đạo|ban ngành|ngành chức|chức năng|liên quan|tình hình|tình trạng|
đề ra|nhất là|vai trò|trách nhiệm|quyết liệt|đồng bộ|toàn diện|thường xuyên|chặt chẽ|có hiệu|tốt hơn|hơn nữa|thực sự|
chưa cao|còn chậm|chưa đạt|còn thấp|chưa được|đúng quy|quy định|theo quy|theo dõi|chú trọng|sâu sát|rà soát|kiểm tra|
đôn đốc|chính quyền|cấp ủy|cấp uỷ|thị trấn|các xã|xã thị|huyện ủy|huyện uỷ|đảng ủy|đảng uỷ|ủy ban|uỷ ban|nhân dân|
ban thường|thường vụ|thường trực|hội nghị|đạt được|đã đạt|phấn đấu|nội dung|xây dựng|phát triển|quản lý|công chức|
viên chức|người lao|lao động|cán bộ|góp phần|tạo điều|điều kiện|tích cực|mạnh mẽ|hiệu lực|thi đua|
hướng dẫn|cơ sở|ban hành|văn bản|phân công|tham mưu|các ngành|ban ngành""".replace("\n", "").split("|")
)
# Syllables that never make a pair of their own (function words, numbers are dropped too).
FUNCTION_WORDS = frozenset(
    ["và", "của", "các", "cho", "với", "trong", "trên", "tại", "theo", "đã", "đang", "sẽ", "còn", "chưa", "được", "bị", "là", "có", "không", "những", "này", "đó", "để", "từ", "về", "như", "một", "cần", "phải", "việc", "rất", "vẫn", "hơn", "nữa", "đến", "mọi", "nhiều", "ở", "do", "nên", "thì", "mà", "khi", "đối"]
)

_SYLLABLE = re.compile(r"\w+")

# Thresholds (see the module docstring): shared pairs and the share of the shorter clause.
MIN_SHARED = {"shortfall": 2, "directive": 3}
MIN_SHARE = {"shortfall": 0.5, "directive": 0.6}
ANY_TOPIC_MIN_SHARED = 4
ANY_TOPIC_MIN_SHARE = 0.5


@lru_cache(maxsize=8192)
def content_pairs(text: str) -> frozenset[str]:
    """The clause's content pairs: adjacent syllables (folded, lower case), neither a
    function word nor a number, the pair not in FILLER, not straddling two FILLER pairs."""
    words = _SYLLABLE.findall(fold(text).lower())
    filler_at = [f"{a} {b}" in FILLER for a, b in zip(words, words[1:], strict=False)]
    covered = [False] * len(words)
    for i, is_filler in enumerate(filler_at):
        if is_filler:
            covered[i] = covered[i + 1] = True
    pairs = set()
    for i, (a, b) in enumerate(zip(words, words[1:], strict=False)):
        if filler_at[i] or (covered[i] and covered[i + 1]):
            continue
        if a in FUNCTION_WORDS or b in FUNCTION_WORDS or a.isdigit() or b.isdigit():
            continue
        pairs.add(f"{a} {b}")
    return frozenset(pairs)


def same_problem(kind: str, text: str, topic: str | None, other_text: str, other_topic: str | None) -> bool:
    """Do two clauses of one kind name the same shortfall (or give the same directive)?"""
    mine, theirs = content_pairs(text), content_pairs(other_text)
    if not mine or not theirs:
        return False
    shared = len(mine & theirs)
    shorter = min(len(mine), len(theirs))
    if topic is not None and topic == other_topic and shared >= MIN_SHARED.get(kind, 2) and shared >= MIN_SHARE.get(kind, 0.5) * shorter:
        return True
    return shared >= ANY_TOPIC_MIN_SHARED and shared >= ANY_TOPIC_MIN_SHARE * max(len(mine), len(theirs))


def scopes_meet(communes: frozenset[str], other: frozenset[str]) -> bool:
    """A meeting naming no commune speaks for the whole place; two naming some must share one."""
    return not communes or not other or bool(communes & other)


def commune_key(name: str) -> str:
    return " ".join(_SYLLABLE.findall(fold(name).lower()))


@dataclass(frozen=True)
class Said:
    """A clause as said at one meeting: where, when, and the link to it."""

    place: str  # the digest heading it is listed under
    communes: frozenset[str]  # commune_key of each commune the meeting reviewed
    day: dt.date
    article_id: int
    kind: str
    text: str
    topic: str | None
    link: str  # the article URL with a text fragment to the clause
    title: str
    short_link: str  # the same by the clause's first words (links.short_link_to_quote)


def earlier_mentions(said: Said, candidates: Sequence[Said], limit: int | None = None) -> list[Said]:
    """The candidates naming the same thing before `said` (same place, compatible scope,
    earlier day, another article), most recent first, one per article."""
    found: dict[int, Said] = {}
    for c in candidates:
        if (
            c.day < said.day
            and c.article_id != said.article_id
            and c.kind == said.kind
            and c.place == said.place
            and c.article_id not in found
            and scopes_meet(said.communes, c.communes)
            and same_problem(said.kind, said.text, said.topic, c.text, c.topic)
        ):
            found[c.article_id] = c
    ordered = sorted(found.values(), key=lambda c: (c.day, c.article_id), reverse=True)
    return ordered[:limit] if limit is not None else ordered


def by_place(candidates: Iterable[Said]) -> dict[str, list[Said]]:
    grouped: dict[str, list[Said]] = {}
    for c in candidates:
        grouped.setdefault(c.place, []).append(c)
    return grouped
