"""The topic of a quoted clause: the subject its words name, "other" when they name none
(never a guess such as "administration")."""

from __future__ import annotations

from pathlib import Path

from bantin.extract import extract_meeting

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "articles"


def _topics(name: str) -> dict[str, str]:
    record = extract_meeting((SEEDS / name).read_text(encoding="utf-8"))
    return {item.text: item.topic for item in (*record.shortfalls, *record.directives)}


def test_a_clause_naming_no_topic_is_other() -> None:
    topics = _topics("000_5c1522404ab5e1ef.txt")
    assert topics["nghiêm túc thực hiện tốt những nhiệm vụ đã đề ra"] == "other"
    assert topics["công tác xây dựng nông thôn mới nâng cao còn chậm"] == "new_rural_development"


def test_administration_is_kept_for_clauses_about_administration() -> None:
    topics = _topics("002_7e2c746a46d81366.txt")
    encroachment = next(text for text in topics if "lấn chiếm hành lang lộ giới" in text)
    assert topics[encroachment] == "administration"
