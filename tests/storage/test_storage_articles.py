"""Articles, portals, snapshots and duplicates, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import zlib

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from stored_queries import insert_articles

from bantin.dedup import content_hash
from bantin.settings import Settings
from bantin.urls import canonicalize_url
from storage.articles import (
    ArticleNotFound,
    NewArticle,
    NewSnapshot,
    StorageInputError,
    insert_articles_reporting,
    known_urls,
    load_snapshot,
    mark_duplicate,
    save_snapshots,
    upsert_portals,
)
from storage.models import Article, PageSnapshot, Portal
from storage.session import session_factory
from storage_testdata import ICT, PORTALS, seed_article


@pytest.fixture
def portals(session: Session) -> Session:
    upsert_portals(session, PORTALS)
    session.commit()
    return session


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_upsert_portals_updates_changed_config(session: Session) -> None:
    assert upsert_portals(session, PORTALS) == 2
    renamed = [{**PORTALS[0], "name": "Cổng TTĐT xã Vĩnh Linh", "enabled": False}]
    upsert_portals(session, renamed)
    session.commit()
    portal = session.get(Portal, "vinh-linh")
    assert portal is not None and portal.name == "Cổng TTĐT xã Vĩnh Linh" and portal.enabled is False
    assert count(session, Portal) == 2


def test_upsert_portals_names_missing_field(session: Session) -> None:
    broken = {key: value for key, value in PORTALS[0].items() if key != "base_url"}
    with pytest.raises(StorageInputError, match="base_url"):
        upsert_portals(session, [broken])


def test_inserting_the_same_article_twice_keeps_one_row(portals: Session, engine: Engine) -> None:
    first = insert_articles_reporting(portals, [seed_article()])
    portals.commit()
    # A retried crawl, in a new session as a new Prefect task run would be.
    with Session(engine) as other:
        second = insert_articles_reporting(other, [seed_article(), seed_article()])
        other.commit()
    assert first[0].created is True
    assert [r.created for r in second] == [False, False]
    assert first[0].id == second[0].id == second[1].id
    assert count(portals, Article) == 1


def test_insert_returns_ids_in_input_order(portals: Session) -> None:
    urls = [f"https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/{n}" for n in range(5)]
    ids_first = insert_articles(portals, [seed_article(url) for url in urls[:3]])
    ids_all = insert_articles(portals, [seed_article(url) for url in reversed(urls)])
    assert ids_all[2:] == list(reversed(ids_first))
    assert len(set(ids_all)) == 5
    assert count(portals, Article) == 5


def test_url_spellings_of_one_page_are_one_article(portals: Session) -> None:
    raw = "https://VinhLinh.quangtri.gov.vn:443/vi/tin-tức/hội-nghị.html#top"
    encoded = "https://vinhlinh.quangtri.gov.vn/vi/tin-t%e1%bb%a9c/h%E1%BB%99i-ngh%E1%BB%8B.html"
    # The crawl stores and looks up canonical URLs (bantin.urls, the one definition).
    insert_articles(portals, [seed_article(canonicalize_url(raw))])
    assert insert_articles_reporting(portals, [seed_article(canonicalize_url(encoded))])[0].created is False
    other = canonicalize_url("https://vinhlinh.quangtri.gov.vn/vi/khac.html")
    assert known_urls(portals, [canonicalize_url(raw), other]) == {canonicalize_url(encoded)}
    with pytest.raises(StorageInputError, match="not an absolute"):
        insert_articles(portals, [seed_article("/vi/tin-tuc/a.html")])


def test_datetimes_come_back_aware_in_utc(portals: Session, engine: Engine) -> None:
    published = dt.datetime(2024, 7, 5, 16, 30, tzinfo=ICT)
    [article_id] = insert_articles(portals, [seed_article(published_at=published)])
    portals.commit()
    with Session(engine) as fresh:
        article = fresh.get(Article, article_id)
        assert article is not None
        assert article.published_at == published
        assert article.published_at.utcoffset() == dt.timedelta(0)
        assert article.published_at.hour == 9
        assert article.first_seen_at.tzinfo is not None


def test_naive_datetimes_are_refused_with_the_field_name(portals: Session) -> None:
    with pytest.raises(StorageInputError, match=r"articles\[0\].*published_at"):
        insert_articles(portals, [seed_article(published_at=dt.datetime(2024, 7, 5, 16, 30))])


def snapshot_of(url: str, body: bytes, content_type: str | None = None, encoding: str | None = None) -> NewSnapshot:
    return NewSnapshot(url, hashlib.sha256(body).hexdigest(), zlib.compress(body), 200, content_type, encoding)


def test_snapshot_round_trips_and_is_stored_once(portals: Session) -> None:
    url = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/1720166400000"
    body = ("<html><body>" + "<p>Huyện ủy Vĩnh Linh làm việc với Đảng uỷ xã Vĩnh Lâm</p>" * 200 + "</body></html>").encode()
    [article_id] = insert_articles(portals, [seed_article(url)])
    page = snapshot_of(url, body, content_type="text/html; charset=utf-8", encoding="utf-8")
    assert save_snapshots(portals, [(page, article_id)]) == 1
    save_snapshots(portals, [(page, article_id)])  # a retried batch
    portals.commit()
    assert count(portals, PageSnapshot) == 1
    stored_size = portals.execute(select(func.length(PageSnapshot.body_zlib))).scalar_one()
    assert stored_size < len(body) / 10  # repetitive HTML compresses well

    snapshot = load_snapshot(portals, url)
    assert snapshot is not None
    assert snapshot.body == body
    assert snapshot.sha256 == hashlib.sha256(body).hexdigest()
    assert snapshot.article_id == article_id
    assert snapshot.content_type == "text/html; charset=utf-8"
    assert snapshot.fetched_at.tzinfo is not None

    changed = body.replace(b"</body>", b"<p>108 lu\xe1\xbb\xa3t xem</p></body>")
    save_snapshots(portals, [(snapshot_of(url, changed), article_id)], fetched_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert count(portals, PageSnapshot) == 2
    newest = load_snapshot(portals, url)
    assert newest is not None and newest.body == changed
    older = load_snapshot(portals, url, sha256=snapshot.sha256)
    assert older is not None and older.body == body
    assert load_snapshot(portals, "https://vinhlinh.quangtri.gov.vn/never-fetched") is None


def test_mark_duplicate_flattens_chains_and_refuses_cycles(portals: Session) -> None:
    base = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/"
    original, copy, copy_of_copy = insert_articles(
        portals,
        [
            seed_article(base + "1"),
            seed_article("https://tuyenquang.gov.vn/tin-tuc/hoi-nghi.html", portal_id="tuyen-quang"),
            seed_article(base + "3"),
        ],
    )
    assert mark_duplicate(portals, copy, original) == original
    assert mark_duplicate(portals, copy_of_copy, copy) == original
    assert mark_duplicate(portals, copy, original) == original  # harmless to repeat
    with pytest.raises(StorageInputError, match="cycle"):
        mark_duplicate(portals, original, copy)
    with pytest.raises(ArticleNotFound, match="999999"):
        mark_duplicate(portals, 999999, original)
    rows = dict(row._tuple() for row in portals.execute(select(Article.id, Article.duplicate_of)))
    assert rows == {original: None, copy: original, copy_of_copy: original}


def test_article_needs_a_known_portal(session: Session) -> None:
    # Foreign keys are enforced on SQLite too (PRAGMA foreign_keys=ON).
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        insert_articles(session, [NewArticle(portal_id="nowhere", url="https://x.gov.vn/a", title="t", text="x", content_hash=content_hash("x"))])


def test_concurrent_crawls_store_each_url_once(settings: Settings) -> None:
    """Parallel Prefect tasks inserting overlapping URLs: no lock error, one row per URL."""
    factory = session_factory(settings.resolved_database_url)
    with factory.begin() as session:
        upsert_portals(session, PORTALS)
    errors: list[BaseException] = []

    def crawl(worker: int) -> None:
        try:
            for round_ in range(5):
                urls = [f"https://vinhlinh.quangtri.gov.vn/a/{(worker * 3 + round_ + j) % 12}" for j in range(4)]
                with factory.begin() as session:
                    known_urls(session, urls)
                    ids = insert_articles(session, [seed_article(url) for url in urls])
                    for url, article_id in zip(urls, ids, strict=True):
                        save_snapshots(session, [(snapshot_of(url, url.encode()), article_id)])
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=crawl, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with factory() as session:
        assert count(session, Article) == 12
        assert count(session, PageSnapshot) == 12
