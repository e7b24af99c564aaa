"""Lines of an article's text: title, lead, body paragraphs, captions and page chrome.

The text may come straight from a page (seeds, D's parser, a fallback) and carry
chrome: "Skip to main content", "Chi tiết - Huyện ...", image placeholders "hinh",
the header's "Thứ tư, 06/12/2023", bylines, and other stories after "Bài viết liên
quan". These are recognised by the shape of a line (short, no sentence, known
boilerplate), never by an article's own wording.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bantin.extract.textnorm import key
from bantin.families import RELATED_HEADINGS
from bantin.tones import fold

# Everything from a line opening with one of these headings belongs to other stories.
_CUT = re.compile(fold(r"^\W*(?:" + "|".join(map(re.escape, RELATED_HEADINGS)) + r")\b"), re.I)
_CHROME = re.compile(
    fold(
        r"^\W*(?:skip to (?:main )?content|chuyển đến nội dung|chi tiết\s*[-–|:]|trang chủ\b|in bài\b|"
        r"bản in\b|chia sẻ\b|lượt xem|số lượt|(?:hinh)+\W*$|%image|đăng ngày\b|ngày đăng\b|cập nhật\b|"
        r"nguồn\s*:|tác giả\s*:|cổng thông tin|trang thông tin điện tử|cổng ttđt|bản quyền|©|"
        r"liên hệ\s*:|điện thoại\s*:|email\s*:|địa chỉ\s*:|chịu trách nhiệm|lượt truy cập|đang truy cập|(?:thứ (?:hai|ba|tư|năm|sáu|bảy)|chủ nhật)\s*[,\-–]?\s*\d{1,2}\s*[/\-]\s*\d{1,2}\s*[/\-]\s*\d{2,4})"
    ),
    re.I,
)
_DATE_ONLY = re.compile(r"^[\s\d/:\-–.,()]+$")
_DATE_LEAD = re.compile(
    r"^\W*(?:(?:sáng|chiều|tối|trưa)(?:\s+nay)?\s+)?(?:ngày\s+)?\d{1,2}\s*[/\-.]\s*\d{1,2}\b|^\W*(?:sáng|chiều|tối|trưa)\s+(?:nay|qua)\b|^\W*ngày\s+\d",
    re.I,
)
_CAPTION_VERB = re.compile(
    fold(
        r"^\W*(?:đồng chí|đ/c|ông|bà|lãnh đạo|quang cảnh|toàn cảnh|các đại biểu|đại biểu|ảnh)\b.*"
        r"\b(?:phát biểu|chủ trì|báo cáo|trao|tặng|tham quan|kiểm tra|dự|tham dự|chụp ảnh)\b"
    ),
    re.I,
)
_DIRECTIVE_WORD = re.compile(fold(r"\b(?:đề nghị|yêu cầu|cần|phải)\b"), re.I)
_SENT_END = re.compile(r"[.!?:;…](?:\W*)$")
_BULLET = re.compile(r"^\s*(?:[-–+•*]|\d{1,2}[.)]|[a-zđ][.)])\s+", re.I)


@dataclass
class Line:
    start: int
    end: int
    kind: str  # title, lead, body, caption, chrome
    norm: str = field(default="", repr=False)
    _sentences: list[tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def sentences(self) -> list[tuple[int, int]]:
        # segmented on first use: most articles are not meetings and need only the lead's
        if self._sentences is None:
            if self.kind in ("lead", "body"):
                self._sentences = sentences(self.norm, self.start, self.end)
            elif self.kind in ("title", "caption"):
                self._sentences = [(self.start, self.end)]
            else:
                self._sentences = []
        return self._sentences


@dataclass
class Layout:
    lines: list[Line]

    @property
    def title(self) -> Line | None:
        return next((ln for ln in self.lines if ln.kind == "title"), None)

    @property
    def lead(self) -> Line | None:
        return next((ln for ln in self.lines if ln.kind == "lead"), None)

    def of(self, *kinds: str) -> list[Line]:
        return [ln for ln in self.lines if ln.kind in kinds]


def _words(s: str) -> int:
    return len(s.split())


def _is_chrome(s: str) -> bool:
    if _CHROME.search(s) or _DATE_ONLY.match(s):
        return True
    if _BULLET.match(s):
        return False
    n = _words(s)
    # bylines ("Vân Anh", "THANH MAI – MINH KIÊN"), placeholders, menus: a few words, no sentence
    if n <= 4 and not _SENT_END.search(s):
        return True
    return n <= 8 and s.isupper()


def _is_caption(s: str) -> bool:
    if _BULLET.match(s) or _DATE_LEAD.match(s):
        return False
    n = _words(s)
    if not re.search(r"[.!?:;…]\W*$", s) and n <= 30:
        return True  # a one-line label without a sentence end: caption or sub-heading
    return n <= 18 and bool(_CAPTION_VERB.match(s)) and not _DIRECTIVE_WORD.search(s) and s.count(". ") == 0


_ELLIPSIS_BREAK = re.compile(r"(?:(?<=…)|(?<=\.\.\.))\s+(?=[A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ])")


@lru_cache(maxsize=1)
def _sent_tokenize() -> Callable[[str], list[str]]:
    """underthesea's Punkt sentence splitter for Vietnamese (abbreviations like "TP.",
    "Đ/c"): ~1 ms an article. `import underthesea` also loads its models' machinery
    (1.5-3 s); the splitter's module stands alone, so it is loaded by itself."""
    try:
        spec = importlib.util.find_spec("underthesea")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("underthesea not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / "pipeline" / "sent_tokenize" / "__init__.py"
        mod_spec = importlib.util.spec_from_file_location("bantin_underthesea_sent_tokenize", path)
        if mod_spec is None or mod_spec.loader is None:
            raise ImportError(path)
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
        return module.sent_tokenize  # type: ignore[no-any-return]
    except (ImportError, OSError, AttributeError):
        from underthesea.pipeline.sent_tokenize import sent_tokenize

        return sent_tokenize  # type: ignore[no-any-return]


def sentences(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of norm[start:end] (underthesea's segmentation, located in the text)."""
    para = norm[start:end]
    out: list[tuple[int, int]] = []
    pos = 0
    for sent in _sent_tokenize()(para):
        sent = sent.strip()
        if not sent:
            continue
        i = para.find(sent, pos)
        if i < 0:  # whitespace changed by the tokenizer: locate by its head
            i = para.find(sent[:20], pos)
            if i < 0:
                continue
            j = para.find(sent[-10:], i)
            e = j + 10 if j >= 0 else i + len(sent)
        else:
            e = i + len(sent)
        a, b = start + i, start + min(e, len(para))
        # Punkt keeps "... mức… Các đại biểu ..." together: an ellipsis before a capital ends a sentence
        for m in _ELLIPSIS_BREAK.finditer(norm, a, b):
            out.append((a, m.start()))
            a = m.end()
        out.append((a, b))
        pos = e
    return out or [(start, end)]


def analyse(norm: str, title: str | None = None) -> Layout:
    lines: list[Line] = []
    title_key = key(title) if title else None
    seen_title: str | None = title_key
    have_lead = False
    for m in re.finditer(r"[^\n]+", norm):
        s, e = m.start(), m.end()
        while s < e and norm[s].isspace():
            s += 1
        while e > s and norm[e - 1].isspace():
            e -= 1
        if s >= e:
            continue
        text = norm[s:e]
        if _CUT.match(text):
            break
        k = key(text)
        if seen_title is not None and (k == seen_title or k.rstrip(". ") == seen_title.rstrip(". ")):
            kind = "title"
        elif _is_chrome(text):
            kind = "chrome"
        elif seen_title is None and not have_lead and not _DATE_LEAD.match(text) and _words(text) <= 45 and text.count(". ") == 0:
            kind = "title"
            seen_title = k
        elif _is_caption(text):
            kind = "caption"
        elif not have_lead:
            kind = "lead"
            have_lead = True
        else:
            kind = "body"
        lines.append(Line(s, e, kind, norm))
    return Layout(lines)
