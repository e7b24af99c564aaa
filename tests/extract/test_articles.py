"""Articles of the genre written for these tests (tests/extract/articles/): other phrasings
than the seeds. Fields must match exactly; clauses by character overlap (the gold
scorer's metric), F1 >= 0.85 for shortfalls and for directives in each article."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

from bantin.extract import extract_meeting

ARTICLES = sorted((Path(__file__).parent / "articles").glob("*.txt"))
FIELDS = ("is_meeting", "meeting_date", "district", "province", "kind", "host_body", "chair", "communes", "commune_codes", "period")


def nfc(value: object) -> object:
    return json.loads(unicodedata.normalize("NFC", json.dumps(value, ensure_ascii=False)))


def overlap_f1(scorer: ModuleType, text: str, gold: list[str], pred: list[dict[str, object]]) -> float:
    text_n = scorer.norm(text)
    gcov, _ = scorer.spans(text_n, gold)
    pcov, ploc = scorer.spans(text_n, pred)
    unlocated = sum(len(scorer.norm(scorer.item_text(it))) for it, loc in zip(pred, ploc, strict=True) if loc is None)
    if not gcov and not pcov and not unlocated:
        return 1.0
    inter = len(gcov & pcov)
    p = inter / (len(pcov) + unlocated) if (len(pcov) + unlocated) else 0.0
    r = inter / len(gcov) if gcov else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def test_there_are_at_least_ten_articles() -> None:
    assert len(ARTICLES) >= 10
    assert all(a.with_suffix("").with_suffix(".expected.json").is_file() or Path(str(a)[:-4] + ".expected.json").is_file() for a in ARTICLES)


@pytest.mark.parametrize("path", ARTICLES, ids=[a.stem for a in ARTICLES])
def test_article(path: Path, scorer: ModuleType) -> None:
    spec = json.loads(Path(str(path)[:-4] + ".expected.json").read_text(encoding="utf-8"))
    given, expected = spec["input"], spec["expected"]
    text = path.read_text(encoding="utf-8")
    record = extract_meeting(
        text,
        district=given.get("district"),
        province=given.get("province"),
        published=dt.date.fromisoformat(given["published"]) if given.get("published") else None,
    )
    out = record.model_dump(mode="json")
    for name in FIELDS:
        assert nfc(out[name]) == nfc(expected[name]), f"{path.name}: field {name}"
    for kind in ("shortfalls", "directives", "achievements"):
        for item in out[kind]:
            # quotes are verbatim: the offsets index the text as given (here, for one article, NFD)
            assert text[item["start"] : item["end"]] == item["text"], f"{path.name}: {kind} offsets"
    for kind in ("shortfalls", "directives"):
        f1 = overlap_f1(scorer, text, expected[kind], out[kind])
        assert f1 >= 0.85, f"{path.name}: {kind} F1 {f1:.2f}\n" + "\n".join(i["text"] for i in out[kind])
    if not expected["is_meeting"]:
        assert not (out["shortfalls"] or out["directives"] or out["achievements"])


def test_every_fixture_portal_article_extracts_with_verbatim_quotes() -> None:
    """The fixture portals' articles (meetings, festivals, notices...): no failure, and
    every quote is the text at its offsets; non-meetings carry no clauses."""
    from bantin.fixtures.portals import load_portals

    seen = meetings = 0
    for portal in load_portals():
        for article in portal.articles:
            text = article.text
            record = extract_meeting(text, district=portal.district, province=portal.province,
                                     published=article.published_at.date(), title=article.title)
            seen += 1
            meetings += record.is_meeting
            for clause in [*record.achievements, *record.shortfalls, *record.directives]:
                assert text[clause.start : clause.end] == clause.text, (portal.id, article.path)
            if not record.is_meeting:
                assert not (record.shortfalls or record.directives), (portal.id, article.path)
            elif record.meeting_date is not None:
                assert record.meeting_date <= article.published_at.date(), (portal.id, article.path)
    assert seen >= 20 and 0 < meetings < seen
