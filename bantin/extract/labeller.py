"""Per-clause labels (shortfall, directive, other) from a small learned model.

The rules of `clauses.py` read a report as regions: results, then problems, then the
chair's conclusion. Real reports break that order (no paragraph breaks, a directive in
the middle, a problem after the conclusion), so each clause is labelled on its own
here, from its words, its cues, where it stands and what the rules made of it (the
rules' label is one feature among others: a prior, not a gate).

The model is a multinomial logistic regression over hashed features, trained on the
corpus's `train` split by `make train` (bantin/extract/training.py) and committed as
`clause_model.json` (a few hundred KB, loaded once, in well under a second).
"""

from __future__ import annotations

import bisect
import json
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bantin.extract import clauses as rules
from bantin.extract.layout import Layout
from bantin.extract.textnorm import rx
from bantin.tones import fold

MODEL_PATH = Path(__file__).with_name("clause_model.json")
LABELS = ("other", "shortfall", "directive")
DIM = 1 << 16
# cues of a list intro that its items inherit: the problem words ("khó khăn, vướng mắc như:")
_PROBLEM_INTRO = {"neg", "strong_neg", "sf_word", "problem_lex", "voice"}


# Cues a clause may carry; each is one feature (its name), learned with the rest. Lexicons
# are phrase lists, matched word by word; the rest are expressions.
LEXICONS: dict[str, tuple[str, ...]] = {
    "modal": ("cần", "phải", "cần phải", "cần có", "phải có"),
    "contrast": ("tuy nhiên", "tuy vậy", "tuy thế", "dù vậy", "nhưng", "song", "bên cạnh đó", "mặt khác"),
    "praise": ("đánh giá cao", "ghi nhận", "biểu dương", "đánh gia cao", "gi nhận", "khen ngợi"),
    "sf_word": ("hạn chế", "tồn tại", "khó khăn", "vướng mắc", "bất cập", "yếu kém", "khuyết điểm", "thiếu sót",
                "vi phạm", "chậm"),
    "past": ("đã",),
    "future": ("sẽ", "thời gian tới", "trong thời gian tới", "sắp tới", "tiếp theo"),
    "proposal": ("kiến nghị", "đề xuất"),
    "conclude": ("kết luận", "phát biểu chỉ đạo", "chỉ đạo hội nghị", "phát biểu tại", "nhấn mạnh", "lưu ý"),
    "assign": ("giao cho", "giao nhiệm vụ", "nhắc nhở", "chỉ đạo các", "yêu cầu các", "đề nghị các"),
    "reason": ("nguyên nhân", "do", "vì", "bởi"),
    "problem_lex": (
        "không đạt", "chưa đạt", "diễn biến phức tạp", "phức tạp", "chết hàng loạt", "xuống thấp", "giảm sút",
        "ô nhiễm", "hư hỏng", "xuống cấp", "gia tăng", "vi phạm", "sai phạm", "lầy lội", "nợ nần", "tệ nạn", "thiếu",
        "chậm", "yếu", "khó khăn", "thách thức", "bức xúc", "tiềm ẩn", "nguy cơ", "lãng phí", "tồn đọng", "ùn tắc",
        "thất thu", "bỏ học", "tái nghèo", "tai nạn", "cháy", "mất rừng", "phá rừng", "lấn chiếm",
    ),
    "voice": ("cử tri", "phản ánh", "kiến nghị", "bức xúc", "băn khoăn", "ý kiến", "thắc mắc"),
    "docname": ("nghị quyết số", "kết luận số", "chỉ thị số", "quyết định số", "kế hoạch số", "thông báo số"),
    "result_words": ("kết quả", "đạt được", "đã đạt", "hoàn thành", "vượt"),
    "task_words": ("nhiệm vụ", "giải pháp", "phương hướng", "trọng tâm"),
}
PATTERNS: dict[str, re.Pattern[str]] = {
    "neg": rules.NEG,
    "strong_neg": rules.STRONG_NEG,
    "dir_trigger": rules.DIR_TRIGGER,
    # these two are matched at the clause's start (Pattern.match), not searched
    "imp_start": re.compile(r"\W*" + rules.IMP_START.pattern, re.I),
    "early_modal": re.compile(r"\W*" + rules.EARLY_MODAL.pattern, re.I),
    "pos": rules.POS,
    "question": re.compile(r"\?"),
    "upward": rx(r"\b(?:kiến nghị|đề xuất|đề nghị)\s+(?:với\s+)?(?:trung ương|chính phủ|bộ|tỉnh|ubnd tỉnh|các sở|cấp trên|huyện quan tâm)"),
    "noun_yeucau": rx(r"\b(?:đáp ứng|đảm bảo|bảo đảm|theo) (?:được )?yêu cầu\b"),
    "figure": rules.FIGURE,
    "percent": re.compile(r"\d\s*%"),
    "low_rate": rx(r"\bmới (?:chỉ )?(?:đạt|được|kiểm tra được)\b|\bcòn (?:quá )?ít\b|\bvẫn còn\b|\bcòn tình trạng\b"),
    "target_miss": rx(r"/\s*(?:kh|kế hoạch|nq|nghị quyết)\b|\bso với (?:kế hoạch|nghị quyết|cùng kỳ)|\bđạt \d+(?:[.,]\d+)?\s*%"),
}
CUE_NAMES: tuple[str, ...] = (*PATTERNS, *LEXICONS)
_PHRASES: dict[str, list[str]] = {}
for _name, _phrases in LEXICONS.items():
    for _phrase in _phrases:
        _PHRASES.setdefault(fold(_phrase).lower(), []).append(_name)
_LONGEST = max(len(p.split()) for p in _PHRASES)
_CUE_ORDER = {name: i for i, name in enumerate(CUE_NAMES)}
_TOKEN = re.compile(r"\w+", re.U)
_BULLET_START = re.compile(r"\s*(?:[-–+•*]|\d{1,2}[.)]|[a-zđ][.)])\s+", re.I)
_CONCLUSION_MARK = rx(r"\b(?:phát biểu kết luận|kết luận (?:hội nghị|buổi làm việc|cuộc họp)|phát biểu chỉ đạo|chỉ đạo hội nghị)\b")


@dataclass
class Unit:
    """A clause: a ";"-part of a sentence, a list item after ":", or a bullet line."""

    start: int
    end: int
    line: int  # index among the body lines
    sentence: int  # index of the sentence in the article
    ends_colon: bool = False
    rule: str = "other"  # what the region rules made of it
    features: list[str] = field(default_factory=list)


def segment(layout: Layout, norm: str) -> list[Unit]:
    units: list[Unit] = []
    lines = [ln for ln in layout.lines if ln.kind in ("lead", "body")]
    n_sent = 0
    for li, ln in enumerate(lines):
        for s, e in ln.sentences:
            n_sent += 1
            # "... như sau: A; B" -> the intro and the items; ";" parts are clauses
            cuts = [s]
            for m in re.finditer(r";|:\s+(?=\S)", norm[s:e]):
                cuts.append(s + m.end())
            cuts.append(e)
            for a, b in zip(cuts, cuts[1:], strict=False):
                while a < b and norm[a].isspace():
                    a += 1
                if len(norm[a:b].split()) < 2:
                    continue
                units.append(Unit(a, b, li, n_sent, norm[a:b].rstrip().endswith(":")))
    return units


def _rule_labels(units: list[Unit], found: rules.Found) -> None:
    for u in units:
        for label, spans in (("shortfall", found.shortfalls), ("directive", found.directives),
                             ("achievement", found.achievements)):
            covered = sum(max(0, min(u.end, e) - max(u.start, s)) for s, e in spans)
            if covered * 2 >= (u.end - u.start):
                u.rule = label
                break


# cues that read the start of a clause are matched clause by clause; the others once over
# the article, then looked up by position (30 searches an article instead of 30 a clause)
_ANCHORED = frozenset({"imp_start", "early_modal"})


def _cues_of(norm: str, spans: list[tuple[int, int]]) -> list[list[str]]:
    out: list[set[str]] = [set() for _ in spans]
    starts = [s for s, _ in spans]

    def unit_of(start: int, end: int) -> int | None:
        k = bisect.bisect_right(starts, start) - 1
        return k if k >= 0 and end <= spans[k][1] else None

    for name, pattern in PATTERNS.items():
        if name in _ANCHORED:
            for at, (s, e) in enumerate(spans):
                if pattern.match(norm, s, e):
                    out[at].add(name)
            continue
        for m in pattern.finditer(norm):
            k = unit_of(m.start(), m.end())
            if k is not None:
                out[k].add(name)
    # lexicons: each word and the phrases it starts, looked up (a set lookup, not a regex scan)
    words = [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN.finditer(norm)]
    for i, (start, _, word) in enumerate(words):
        phrase = word
        for j in range(i, min(i + _LONGEST, len(words))):
            if j > i:
                phrase += " " + words[j][2]
            names = _PHRASES.get(phrase)
            if names:
                unit = unit_of(start, words[j][1])
                if unit is not None:
                    out[unit].update(names)
    return [sorted(names, key=_CUE_ORDER.__getitem__) for names in out]


def featurise(units: list[Unit], norm: str, found: rules.Found) -> None:
    _rule_labels(units, found)
    n = len(units)
    conclusion_at = next((i for i, u in enumerate(units) if _CONCLUSION_MARK.search(norm, u.start, u.end)), None)
    # each unit's own cues, lent to its neighbours: a list item reads like the items around it
    # read each unit without its enumerator or connector ("Thứ nhất,", "- ", "Đồng thời,"): what
    # starts the clause after them is what tells a task from a finding
    bare = [(rules.clean(norm, u.start, u.end) or (u.start, u.end)) for u in units]
    cues = _cues_of(norm, bare)
    # the items of a list inherit what its intro says ("còn khó khăn, vướng mắc như: A; B; C",
    # "cử tri phản ánh: - A - B", "nhiệm vụ trọng tâm: ..."): within the sentence, or on the
    # bullet lines that follow it
    intro: list[str] = []
    intro_sentence = -1
    for i, u in enumerate(units):
        bullet = bool(_BULLET_START.match(norm, u.start, u.end))
        if intro and not (u.sentence == intro_sentence or bullet):
            intro = []
        if intro:
            u.features.extend("li:" + c for c in intro)
        if u.ends_colon:
            intro = [c for c in cues[i] if c in _PROBLEM_INTRO]
            intro_sentence = u.sentence
            u.features.append("intro")
    for i, u in enumerate(units):
        text = norm[bare[i][0] : bare[i][1]].lower()
        words = _TOKEN.findall(text)
        f = u.features
        f.append("bias")
        if i:
            f.extend("pc:" + c for c in cues[i - 1])
        if i + 1 < n:
            f.extend("nc:" + c for c in cues[i + 1])
        f.extend("w:" + w for w in words)
        f.extend("b:" + a + "_" + b for a, b in zip(words, words[1:], strict=False))
        f.extend("f:" + w for w in words[:3])
        if len(words) >= 2:
            f.append("f2:" + words[0] + "_" + words[1])
        f.extend("c:" + c for c in cues[i])
        f.append("r:" + u.rule)
        pos = i / max(1, n - 1)
        f.append(f"pos:{min(4, int(pos * 5))}")
        f.append(f"len:{min(5, len(words) // 8)}")
        if conclusion_at is not None:
            f.append("after_conclusion" if i >= conclusion_at else "before_conclusion")
        if u.line == 0:
            f.append("lead")
        prev = units[i - 1] if i else None
        if prev is not None:
            f.append("prev_r:" + prev.rule)
            if prev.ends_colon:
                f.append("after_colon")
                for name in ("sf_word", "task_words", "dir_trigger", "voice", "problem_lex", "result_words"):
                    if name in cues[i - 1]:
                        f.append("after_colon_" + name)
            if prev.sentence == u.sentence:
                f.append("same_sentence")
        if u.ends_colon:
            f.append("ends_colon")


@lru_cache(maxsize=1 << 16)
def _hash(feature: str) -> int:
    # crc32, not hash(): the same feature must land in the same row in every process
    return zlib.crc32(feature.encode()) % DIM


def vector_indices(features: list[str]) -> list[int]:
    return [_hash(f) for f in features]


@dataclass
class Model:
    weights: npt.NDArray[np.float32]  # (DIM, len(LABELS))

    def scores(self, units: list[Unit]) -> npt.NDArray[np.float64]:
        out = np.zeros((len(units), len(LABELS)))
        for row, u in enumerate(units):
            idx = vector_indices(u.features)
            out[row] = self.weights[idx].sum(axis=0)
        return out

    def labels(self, units: list[Unit]) -> list[str]:
        if not units:
            return []
        return [LABELS[k] for k in self.scores(units).argmax(axis=1)]

    def to_json(self) -> str:
        nz = np.nonzero(np.abs(self.weights).max(axis=1) > 1e-4)[0]
        rows = {int(i): [round(float(x), 4) for x in self.weights[i]] for i in nz}
        return json.dumps({"dim": DIM, "labels": LABELS, "rows": rows}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Model:
        data = json.loads(text)
        weights = np.zeros((int(data["dim"]), len(LABELS)), dtype=np.float32)
        for i, row in data["rows"].items():
            weights[int(i)] = row
        return cls(weights)


@lru_cache(maxsize=1)
def load_model() -> Model | None:
    """The committed model, or None when there is none (the rules alone then)."""
    if not MODEL_PATH.is_file():
        return None
    return Model.from_json(MODEL_PATH.read_text(encoding="utf-8"))


def label_units(layout: Layout, norm: str, found: rules.Found, model: Model) -> list[tuple[Unit, str]]:
    units = segment(layout, norm)
    featurise(units, norm, found)
    return list(zip(units, model.labels(units), strict=True))


_PAST_REPORT = rx(r"\bđã\s+(?:chỉ đạo|yêu cầu|đề nghị|triển khai|tập trung|quán triệt|giao)\b")
_AHEAD = rx(r"\b(?:thời gian tới|sắp tới|tới đây|sẽ|tiếp tục)\b")


def _merge(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of both lists, in text order; of two that overlap for most of the shorter one,
    the longer is kept (the same task quoted twice would be shown twice)."""
    kept: list[tuple[int, int]] = []
    for s, e in sorted(first + second, key=lambda sp: sp[0] - sp[1]):
        if all(min(e, b) - max(s, a) < (e - s) / 2 for a, b in kept):
            kept.append((s, e))
    return sorted(kept)


def learned_clauses(layout: Layout, norm: str, found: rules.Found, model: Model) -> rules.Found:
    """The rules' achievements, the model's shortfalls, and the directives of both (measured
    on the corpus: the union finds more tasks at the same F1), trimmed as the rules trim
    theirs (cue words, enumerators, list intros, who asks)."""
    out = rules.Found(achievements=found.achievements)
    labelled = label_units(layout, norm, found, model)
    # "UBND huyện đã chỉ đạo các xã hoàn thành ...; tập trung ...; ...": a report of what was
    # instructed before, not a task set by this meeting; the sentence's clauses are no directives
    first_of: dict[int, Unit] = {}
    for unit, _ in labelled:
        first_of.setdefault(unit.sentence, unit)
    past_sentences = {n for n, head in first_of.items()
                      if _PAST_REPORT.search(norm, head.start, head.end) and not _AHEAD.search(norm, head.start, head.end)}
    past = [(u.start, u.end) for u, _ in labelled if u.sentence in past_sentences]
    for unit, label in labelled:
        if label == "shortfall":
            intro = rules.SF_LIST.search(norm, unit.start, unit.end)
            start = intro.end() if intro else unit.start
            rules.emit(norm, out.shortfalls, start, unit.end, problems=True)
        elif label == "directive":
            if "li:voice" in unit.features and "c:dir_trigger" not in unit.features:
                continue  # an item of what voters or units ask for ("cử tri kiến nghị: ..."): a request upward
            if unit.sentence in past_sentences:
                continue
            content = rules.directive_content(norm, unit.start, unit.end) or (unit.start, unit.end)
            for a, b in rules.drop_list_intro(norm, content[0], content[1], rules.DIR_LIST):
                rules.emit(norm, out.directives, a, b)
    out.directives = _merge(out.directives, [(a, b) for a, b in found.directives
                                             if not any(s <= a and b <= e for s, e in past)])
    return out
