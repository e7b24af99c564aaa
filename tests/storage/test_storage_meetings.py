"""Meeting records: idempotent saves, version replacement, what is left to extract."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from stored_queries import insert_articles, meeting_record

from storage.articles import StorageInputError, mark_duplicate, upsert_portals
from storage.meetings import article_ids_to_extract, articles_by_ids, save_meeting
from storage.models import Article, Meeting, MeetingItem
from storage_testdata import ICT, PORTALS, clause, seed_article, seed_text
from storage_testdata import meeting_record as gold_like

URL = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/"


@pytest.fixture
def article_id(session: Session) -> int:
    upsert_portals(session, PORTALS)
    [article_id] = insert_articles(session, [seed_article(URL + "1")])
    session.commit()
    return article_id


def counts(session: Session) -> tuple[int, int]:
    meetings = session.execute(select(func.count()).select_from(Meeting)).scalar_one()
    items = session.execute(select(func.count()).select_from(MeetingItem)).scalar_one()
    return int(meetings), int(items)


def test_saving_the_same_meeting_twice_keeps_one_record(session: Session, engine: Engine, article_id: int) -> None:
    record = gold_like(seed_text())
    first = save_meeting(session, article_id, record, "1.0")
    session.commit()
    with Session(engine) as retry:  # a retried Prefect task, in its own session
        second = save_meeting(retry, article_id, record, "1.0")
        retry.commit()
    assert first == second
    assert counts(session) == (1, 4)
    stored = meeting_record(session, article_id)
    assert stored is not None
    assert stored["chair"] == {"name": "Trần Nhật Quang", "title": "Bí thư Huyện ủy"}
    assert stored["meeting_date"] == "2024-07-05"
    assert stored["shortfalls"] == record["shortfalls"]
    assert stored["directives"] == record["directives"]
    assert stored["achievements"] == record["achievements"]
    # Offsets index the article text.
    text = seed_text()
    for item in stored["shortfalls"]:
        assert text[item["start"] : item["end"]] == item["text"]


def test_newer_extractor_version_replaces_record_and_items(session: Session, article_id: int) -> None:
    text = seed_text()
    save_meeting(session, article_id, gold_like(text), "1.9")
    newer = gold_like(
        text,
        chair=None,
        shortfalls=[clause(text, "Tỷ lệ phát triển đảng viên mới chưa bắt kịp xu thế chung của huyện")],
        directives=[],
        achievements=[],
    )
    meeting_id = save_meeting(session, article_id, newer, "1.10")
    session.commit()
    assert counts(session) == (1, 1)
    stored = meeting_record(session, article_id)
    assert stored is not None
    assert stored["chair"] is None
    assert [s["text"] for s in stored["shortfalls"]] == [
        "Tỷ lệ phát triển đảng viên mới chưa bắt kịp xu thế chung của huyện"
    ]
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None and meeting.extractor_version == "1.10"

    # A slow worker still running "1.9" must not undo the re-extraction.
    save_meeting(session, article_id, gold_like(text), "1.9")
    session.commit()
    session.expire_all()
    assert session.get(Meeting, meeting_id).extractor_version == "1.10"  # type: ignore[union-attr]
    assert counts(session) == (1, 1)


def test_not_a_meeting_is_recorded_too(session: Session, article_id: int) -> None:
    save_meeting(session, article_id, {"is_meeting": False}, "1.0")
    session.commit()
    assert meeting_record(session, article_id) == {
        "is_meeting": False,
        "meeting_date": None,
        "district": None,
        "province": None,
        "kind": None,
        "host_body": None,
        "chair": None,
        "officials": [],
        "communes": [],
        "commune_codes": [],
        "period": None,
        "achievements": [],
        "shortfalls": [],
        "directives": [],
    }
    assert article_ids_to_extract(session, "1.0") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meeting_date": "05/07/2024"}, "meeting_date"),
        ({"is_meeting": "yes"}, "is_meeting"),
        ({"chair": "Trần Nhật Quang"}, "chair"),
        ({"shortfalls": [{"text": "x", "start": "1", "end": 2}]}, r"shortfalls\[0\]"),
        ({"communes": "Vĩnh Lâm"}, "communes"),
    ],
)
def test_bad_records_are_refused_naming_the_field(
    session: Session, article_id: int, change: dict[str, object], field: str
) -> None:
    with pytest.raises(StorageInputError, match=field):
        save_meeting(session, article_id, gold_like(seed_text(), **change), "1.0")
    assert counts(session) == (0, 0)


def test_articles_to_extract_follows_the_extractor_version(session: Session, article_id: int) -> None:
    second, republished = insert_articles(
        session,
        [
            seed_article(URL + "2", seed="002_7e2c746a46d81366.txt", published_at=None),
            seed_article("https://tuyenquang.gov.vn/tin/hoi-nghi.html", portal_id="tuyen-quang"),
        ],
    )
    mark_duplicate(session, republished, article_id)
    session.commit()

    todo = articles_by_ids(session, article_ids_to_extract(session, "1.0"))
    assert [a.id for a in todo] == [article_id, second]  # oldest first, duplicates skipped
    assert (todo[0].district, todo[0].province, todo[0].portal_id) == ("Vĩnh Linh", "Quảng Trị", "vinh-linh")
    assert todo[0].text == seed_text()
    assert todo[0].published_at == dt.datetime(2024, 7, 5, 16, 30, tzinfo=ICT)

    save_meeting(session, article_id, gold_like(seed_text()), "1.0")
    session.commit()
    assert article_ids_to_extract(session, "1.0") == [second]
    assert article_ids_to_extract(session, "1.0", limit=1) == [second]
    # A new extractor version makes every record stale again; an older one does not.
    assert article_ids_to_extract(session, "1.1") == [article_id, second]
    assert article_ids_to_extract(session, "0.9") == [second]
    assert article_ids_to_extract(session, "1.0", force=True) == [article_id, second]


def test_articles_to_extract_since(session: Session, article_id: int) -> None:
    # Undated articles count from their first sighting (now).
    [undated] = insert_articles(session, [seed_article(URL + "2", published_at=None)])
    session.commit()
    assert article_ids_to_extract(session, "1.0", since=dt.date(2024, 7, 5)) == [article_id, undated]
    assert article_ids_to_extract(session, "1.0", since=dt.date(2024, 7, 6)) == [undated]
    with pytest.raises(StorageInputError, match="since"):
        article_ids_to_extract(session, "1.0", since=dt.datetime(2024, 7, 6))


def test_deleting_an_article_removes_its_meeting(session: Session, article_id: int) -> None:
    save_meeting(session, article_id, gold_like(seed_text()), "1.0")
    session.commit()
    article = session.get(Article, article_id)
    session.delete(article)
    session.commit()
    assert counts(session) == (0, 0)


def test_ids_then_batches(session: Session, article_id: int) -> None:
    more = insert_articles(session, [seed_article(URL + str(n)) for n in range(2, 7)])
    session.commit()
    ids = article_ids_to_extract(session, "1.0")
    assert ids == sorted([article_id, *more])
    batches = [articles_by_ids(session, ids[i : i + 2]) for i in range(0, len(ids), 2)]
    assert [a.id for batch in batches for a in batch] == ids
    assert all(a.district == "Vĩnh Linh" for batch in batches for a in batch)
