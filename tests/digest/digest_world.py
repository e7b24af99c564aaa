"""Builders for digest tests (imported by tests/digest/conftest.py and the tests): portals, articles and meeting records written through the ORM."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.models import Article, Meeting, MeetingItem, Portal

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args: int) -> dt.datetime:
    """An aware datetime in Vietnam's local time."""
    return dt.datetime(*args, tzinfo=VN)  # type: ignore[misc]


class World:
    """A tiny database of portals and articles for one test."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._n = 0

    def portal(self, pid: str, name: str, district: str | None, province: str) -> str:
        self.session.add(
            Portal(id=pid, name=name, district=district, province=province, base_url=f"https://{pid}.example.vn", family="generic")
        )
        self.session.flush()
        return pid

    def article(
        self,
        portal_id: str,
        title: str,
        *,
        published: dt.datetime | None,
        first_seen: dt.datetime | None = None,
        duplicate_of: int | None = None,
        text: str = "",
        url: str | None = None,
    ) -> int:
        self._n += 1
        body = text or f"Bài số {self._n}: {title}"
        article = Article(
            portal_id=portal_id,
            url=url or f"https://{portal_id}.example.vn/tin-tuc/bai-{self._n}.html",
            title=title,
            published_at=published,
            first_seen_at=first_seen or published or local(2024, 7, 1, 12),
            text=body,
            captions=[],
            content_hash=hashlib.sha256(body.encode()).hexdigest(),
            duplicate_of=duplicate_of,
        )
        self.session.add(article)
        self.session.flush()
        return article.id

    def meeting(
        self,
        article_id: int,
        *,
        is_meeting: bool = True,
        meeting_date: dt.date | None = None,
        chair: tuple[str, str] | None = ("Nguyễn Văn A", "Bí thư Huyện ủy"),
        host_body: str | None = "Huyện ủy",
        communes: Sequence[str] = (),
        shortfalls: Sequence[tuple[str, str | None]] = (),
        directives: Sequence[tuple[str, str | None]] = (),
        district: str | None = None,
    ) -> None:
        meeting = Meeting(
            article_id=article_id,
            extractor_version="test",
            is_meeting=is_meeting,
            meeting_date=meeting_date,
            district=district,
            kind="working_session" if is_meeting else None,
            host_body=host_body if is_meeting else None,
            chair_name=chair[0] if chair else None,
            chair_title=chair[1] if chair else None,
            officials=[],
            communes=list(communes),
            commune_codes=[],
            period=None,
        )
        self.session.add(meeting)
        self.session.flush()
        position = 0
        for kind, items in (("shortfall", shortfalls), ("directive", directives)):
            for text, topic in items:
                self.session.add(
                    MeetingItem(meeting_id=meeting.id, position=position, kind=kind, text=text, start=0, end=len(text), topic=topic, figures=[])
                )
                position += 1
        self.session.flush()
