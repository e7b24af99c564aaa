"""Builders for digest tests (imported by tests/digest/conftest.py and the tests): portals, articles and meeting records written through the ORM."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bantin.digest.links import link_to_quote
from bantin.digest.model import DigestDistrict, DigestItem, DigestMeeting, DigestWeek, OtherCopy, PortalHealth
from bantin.jobs.digest import DigestRun
from bantin.localtime import LOCAL_TZ
from bantin.settings import Settings
from storage.models import Article, Meeting, MeetingItem, Portal

VN = LOCAL_TZ


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


SCRIPT_TITLE = "<script>document.title='pwned';document.body.insertAdjacentHTML('beforeend','<p id=xss>x</p>')</script>"
IMG_ATTACK = "\"><img src=x onerror=\"document.title='pwned'\">"


def hostile_digest() -> DigestWeek:
    url = "https://vinhlinh.quangtri.gov.vn/vi/chi-tiet/-/view-article/1/tin-tuc/1720229563000"
    long_quote = (
        "Bám sát chủ đề năm 2024 Phát huy truyền thống - Đẩy mạnh thi đua - Tăng tốc bứt phá, các Nghị quyết, "
        "Chỉ thị chuyên đề của Trung ương, của tỉnh và nhất là của huyện để bổ sung, cập nhật chương trình, kế hoạch"
    )

    def item(kind: str, text: str, topic: str | None) -> DigestItem:
        return DigestItem(kind, text, topic, link_to_quote(url, text))

    published = dt.datetime(2024, 7, 6, 2, 30, tzinfo=dt.UTC)
    meeting = DigestMeeting(
        title="Huyện ủy Vĩnh Linh làm việc với Ban Thường vụ Đảng ủy xã Vĩnh Lâm " + SCRIPT_TITLE,
        url=url,
        portal_name="Cổng TTĐT huyện Vĩnh Linh",
        published_at=published,
        first_seen_at=published,
        meeting_date=dt.date(2024, 7, 5),
        kind="working_session",
        host_body="Huyện ủy Vĩnh Linh",
        chair_name="Trần Nhật Quang",
        chair_title="Bí thư Huyện ủy",
        communes=["Vĩnh Lâm"],
        period="6 tháng đầu năm 2024",
        shortfalls=[
            item("shortfall", "công tác xây dựng nông thôn mới nâng cao còn chậm", "new_rural_development"),
            item("shortfall", "Tỷ lệ phát triển đảng viên mới chưa bắt kịp xu thế chung " + IMG_ATTACK, "party_building_personnel"),
        ],
        directives=[item("directive", long_quote, "party_building_personnel"), item("directive", "Thực hiện tốt nhiệm vụ diễn tập chiến đấu cấp xã", "defence_security")],
        also_published=[OtherCopy("https://tuyenquang.gov.vn/tin-tuc/" + "rat-dai-" * 30 + ".html", "Cổng TTĐT tỉnh Tuyên Quang", published)],
    )
    second = DigestMeeting(
        **{**meeting.__dict__, "title": "Hội nghị Ban Chấp hành Đảng bộ huyện Hữu Lũng lần thứ 15", "chair_name": None, "chair_title": None,
           "communes": [], "also_published": [], "url": "https://huuluong.langson.gov.vn/Pages/" + "x" * 120 + ".aspx"}
    )
    return DigestWeek(
        label="2024-W27",
        start=dt.date(2024, 7, 1),
        end=dt.date(2024, 7, 7),
        districts=[DigestDistrict("Hữu Lũng", "Lạng Sơn", [second]), DigestDistrict("Vĩnh Linh", "Quảng Trị", [meeting])],
        stale_portals=[PortalHealth("lb", "Cổng TTĐT huyện Lâm Bình", "Lâm Bình", dt.datetime(2024, 6, 1, tzinfo=dt.UTC))],
        failing_portals=[PortalHealth("hy", "Cổng TTĐT huyện Hàm Yên", "Hàm Yên", None, 3, "ConnectTimeout (https://hamyen.tuyenquang.gov.vn/" + "a" * 200 + ")")],
    )


# ---- a busy week: many districts, real clauses --------------------------------------------


def corpus_clauses() -> tuple[list[str], list[str]]:
    """Shortfall and directive clauses of the real-article corpus (corpus/gold.jsonl), in file order."""
    import json

    from bantin.settings import PROJECT_ROOT

    shortfalls: list[str] = []
    directives: list[str] = []
    for line in (PROJECT_ROOT / "corpus" / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        shortfalls += [c["text"] for c in record["shortfalls"]]
        directives += [c["text"] for c in record["directives"]]
    return shortfalls, directives


def busy_districts(n: int) -> list[tuple[str, str]]:
    """`n` real legacy districts (bare name, province), for portals of a busy week."""
    from vietnam_provinces.legacy import District, Province

    provinces = {int(p.code): p.name for p in Province.iter_all()}
    found = []
    for d in District.iter_all():
        if d.name.startswith("Huyện "):
            found.append((d.name.removeprefix("Huyện "), provinces[int(d.province_code)].removeprefix("Tỉnh ")))
        if len(found) == n:
            break
    return found


def busy_week(world: World, districts: int = 50, meetings: int = 2, shortfalls: int = 5, directives: int = 8) -> int:
    """A week (2024-W27) with `meetings` meetings in each of `districts` districts, each
    naming `shortfalls` shortfalls and `directives` directives quoted from real articles.
    Returns the number of meetings."""
    from bantin.extract.clauses import topic_of
    from bantin.topics import OTHER

    pool_s, pool_d = corpus_clauses()
    count = 0
    for n, (district, province) in enumerate(busy_districts(districts)):
        pid = world.portal(f"p{n:02d}", f"Cổng thông tin điện tử huyện {district}", district, province)
        for m in range(meetings):
            taken_s = [pool_s[(count * shortfalls + i) % len(pool_s)] for i in range(shortfalls)]
            taken_d = [pool_d[(count * directives + i) % len(pool_d)] for i in range(directives)]
            text = (
                f"Ngày {2 + m}/7/2024, Thường trực Huyện ủy {district} làm việc với Đảng ủy xã Tân Lập {m}. "
                + "Tuy nhiên, " + "; ".join(taken_s) + ". Đồng chí Bí thư yêu cầu " + "; ".join(taken_d) + "."
            )
            article = world.article(
                pid,
                f"Thường trực Huyện ủy {district} làm việc với Đảng ủy xã Tân Lập {m} về kết quả 6 tháng đầu năm 2024",
                published=local(2024, 7, 2 + m, 9),
                text=text,
            )
            world.meeting(
                article,
                meeting_date=dt.date(2024, 7, 2 + m),
                chair=("Nguyễn Văn Bình", f"Bí thư Huyện ủy {district}"),
                host_body=f"Thường trực Huyện ủy {district}",
                communes=[f"Tân Lập {m}"],
                shortfalls=[(t, topic_of(t) or OTHER) for t in taken_s],
                directives=[(t, topic_of(t) or OTHER) for t in taken_d],
            )
            count += 1
    return count


EVERYWHERE = "nghiencuu@example.org"


def busy_mail(settings: Settings, districts: int = 50) -> tuple[bytes, DigestRun]:
    """A busy week (`busy_week`) mailed to a subscriber of every place, as a .eml in the
    outbox (no SMTP host: the file is the MIME message as it would be sent). The first
    district's third shortfall was also named the week before (its "named before" item).
    Returns the message's bytes and the run."""
    from bantin.digest.mail import Subscriber
    from bantin.jobs.db import database
    from bantin.jobs.digest import run_digest

    with database(settings).begin() as session:
        world = World(session)
        busy_week(world, districts=districts)
        session.flush()
        first = session.scalars(select(MeetingItem).where(MeetingItem.kind == "shortfall").order_by(MeetingItem.id)).all()[2]
        earlier = world.article("p00", "Hội nghị Ban Thường vụ Huyện ủy tháng 6", published=local(2024, 6, 27, 9), text=f"Tuy nhiên, {first.text}.")
        world.meeting(earlier, meeting_date=dt.date(2024, 6, 26), shortfalls=[(first.text, first.topic)])
    run = run_digest(settings, week="2024-W27", send=True, subscribers=[Subscriber(name="Nhóm nghiên cứu", email=EVERYWHERE)])
    (delivery,) = run.deliveries
    assert delivery.path is not None, delivery.describe()
    return delivery.path.read_bytes(), run
