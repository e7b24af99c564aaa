"""A text that kept its page's "other stories" block: nothing after the heading is quoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bantin.extract import extract_meeting

SEED = Path(__file__).resolve().parents[2] / "seeds" / "articles" / "000_5c1522404ab5e1ef.txt"
# a shortfall of another meeting, quoted when nothing says it is another story
OTHER_STORY = "Tuy nhiên, công tác thu ngân sách ở xã Vĩnh Thủy còn chậm; tỷ lệ giải ngân vốn đầu tư công đạt thấp."


def _quoted(heading: str) -> list[str]:
    # the seed ends with its page's "Bài viết liên quan": the other story replaces what followed
    article = SEED.read_text(encoding="utf-8").rstrip().removesuffix("Bài viết liên quan").rstrip()
    text = "\n\n".join(part for part in (article, heading, OTHER_STORY) if part)
    record = extract_meeting(text, district="Vĩnh Linh", province="Quảng Trị")
    assert record.is_meeting and len(record.directives) >= 6
    return [i.text for i in (*record.achievements, *record.shortfalls, *record.directives)]


def test_without_a_heading_the_other_story_reads_as_the_article() -> None:
    assert "công tác thu ngân sách ở xã Vĩnh Thủy còn chậm" in _quoted("")


@pytest.mark.parametrize("heading", ["Bài viết liên quan", "Tin tức liên quan", "Các bài khác", "Tin đọc nhiều", "Related posts"])
def test_nothing_after_an_other_stories_heading_is_quoted(heading: str) -> None:
    assert not [q for q in _quoted(heading) if "Vĩnh Thủy" in q]
