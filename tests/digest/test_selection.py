"""Which meetings a digest holds: week boundaries in Vietnam's time, late discoveries,
duplicates, districts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import pytest
from sqlalchemy.orm import Session

from bantin.digest.links import link_to_quote, text_fragment
from bantin.digest.operator import OperatorReport, render_operator
from bantin.digest.render import render
from bantin.digest.selection import (
    WeekError,
    build_digest,
    last_complete_week,
    parse_week,
    resolve_range,
)
from bantin.jobs.digest import range_rows
from bantin.localtime import LOCAL_TZ
from digest_world import World, local
from storage.models import FetchLog

TZ = LOCAL_TZ.key
W27 = parse_week("2024-W27")


def digest_of(session: Session, week: str = "2024-W27", districts: tuple[str, ...] = ()):  # noqa: ANN201
    rows = range_rows(session, parse_week(week), TZ)
    return build_digest(
        rows.digest_range,
        rows.articles,
        health=rows.health,
        districts=districts,
        timezone=TZ,
    )


def titles(digest) -> list[str]:  # noqa: ANN001
    return [m.title for d in digest.districts for m in d.meetings]


def test_iso_week_parsing_and_errors() -> None:
    assert (W27.start, W27.end) == (dt.date(2024, 7, 1), dt.date(2024, 7, 7))
    assert W27.label == W27.delivery_key == "2024-W27"
    assert parse_week("2020-W53").start == dt.date(2020, 12, 28)
    with pytest.raises(WeekError, match="2023 has no week 53"):
        parse_week("2023-W53")
    with pytest.raises(WeekError, match="ISO week"):
        parse_week("2024-27")
    with pytest.raises(WeekError, match="before start"):
        resolve_range(start="2024-07-07", end="2024-07-01")
    custom = resolve_range(start="2022-06-01", end="2024-07-31")
    assert custom.label == "2022-06-01_2024-07-31"
    assert len(custom.delivery_key) <= 10 and custom.delivery_key == resolve_range(start="2022-06-01", end="2024-07-31").delivery_key


def test_last_complete_week_is_taken_in_vietnam_time() -> None:
    # Sunday 23:00 in Hanoi: week 27 is not over yet there.
    assert last_complete_week(local(2024, 7, 7, 23, 0)).label == "2024-W26"
    # 17:30 UTC on Sunday is already Monday 00:30 in Hanoi: week 27 is complete.
    assert last_complete_week(dt.datetime(2024, 7, 7, 17, 30, tzinfo=dt.UTC)).label == "2024-W27"


def test_week_boundaries_follow_local_time(world: World, session: Session) -> None:
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    cases = {
        "Sunday before, 23:30": local(2024, 6, 30, 23, 30),
        "Monday 00:10": local(2024, 7, 1, 0, 10),  # still 30 June in UTC
        "Sunday 23:50": local(2024, 7, 7, 23, 50),
        "next Monday 00:05": local(2024, 7, 8, 0, 5),  # still 7 July in UTC
    }
    for title, published in cases.items():
        world.meeting(world.article("vl", title, published=published), meeting_date=published.date())
    assert titles(digest_of(session)) == ["Monday 00:10", "Sunday 23:50"]


def test_late_discoveries_up_to_thirty_days(world: World, session: Session) -> None:
    world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
    late = world.article("hy", "Published in June, found in July", published=local(2024, 6, 10, 9), first_seen=local(2024, 7, 3, 9))
    too_old = world.article("hy", "Published in May, found in July", published=local(2024, 5, 20, 9), first_seen=local(2024, 7, 3, 9))
    world.meeting(late, meeting_date=dt.date(2024, 6, 9))
    world.meeting(too_old, meeting_date=dt.date(2024, 5, 19))
    digest = digest_of(session)
    assert titles(digest) == ["Published in June, found in July"]
    (meeting,) = digest.districts[0].meetings
    assert meeting.late
    # It was not in its publication week's digest when that ran (not yet found); a
    # re-run of that week now would list it as published there.
    assert "Phát hiện muộn" in render(digest).text


def test_duplicates_appear_once_with_also_published_links(world: World, session: Session) -> None:
    world.portal("lb", "Cổng Lâm Bình", "Lâm Bình", "Tuyên Quang")
    world.portal("tq", "Cổng tỉnh Tuyên Quang", None, "Tuyên Quang")
    original = world.article("lb", "Huyện ủy Lâm Bình làm việc với xã Thượng Lâm", published=local(2024, 7, 2, 8))
    copy = world.article(
        "tq", "Lâm Bình: làm việc với Đảng ủy xã Thượng Lâm", published=local(2024, 7, 4, 8), duplicate_of=original,
        url="https://tq.example.vn/tin/lam-binh-lam-viec.html",
    )
    world.meeting(original, meeting_date=dt.date(2024, 7, 1), shortfalls=[("thu ngân sách đạt thấp", "budget_investment")])
    world.meeting(copy, meeting_date=dt.date(2024, 7, 1), shortfalls=[("thu ngân sách đạt thấp", "budget_investment")])
    # A provincial original whose district copy came second groups under the district too.
    prov_first = world.article("tq", "Hội nghị Ban Chấp hành Đảng bộ huyện Lâm Bình", published=local(2024, 7, 5, 8))
    world.article("lb", "Hội nghị Ban Chấp hành Đảng bộ huyện (kỳ 15)", published=local(2024, 7, 5, 10), duplicate_of=prov_first)
    world.meeting(prov_first, meeting_date=dt.date(2024, 7, 5))
    digest = digest_of(session)
    assert [d.name for d in digest.districts] == ["Lâm Bình"]
    meetings = digest.districts[0].meetings
    assert [m.title for m in meetings] == ["Huyện ủy Lâm Bình làm việc với xã Thượng Lâm", "Hội nghị Ban Chấp hành Đảng bộ huyện Lâm Bình"]
    assert [c.url for c in meetings[0].also_published] == ["https://tq.example.vn/tin/lam-binh-lam-viec.html"]
    rendered = render(digest)
    assert rendered.html.count("Huyện ủy Lâm Bình làm việc với xã Thượng Lâm") == 1
    assert "Cũng đăng trên" in rendered.html and "https://tq.example.vn/tin/lam-binh-lam-viec.html" in rendered.html
    assert "Cũng đăng trên: Cổng tỉnh Tuyên Quang" in rendered.text


def test_non_meetings_are_left_out_and_districts_filter(world: World, session: Session) -> None:
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    world.portal("hl", "Cổng Hữu Lũng", "Hữu Lũng", "Lạng Sơn")
    world.meeting(world.article("vl", "Làm việc với xã Vĩnh Lâm", published=local(2024, 7, 5, 15)), shortfalls=[("nông thôn mới còn chậm", "new_rural_development")])
    world.meeting(world.article("hl", "Hội nghị Ban Chấp hành", published=local(2024, 7, 3, 15)), shortfalls=[("xây dựng nông thôn mới chậm", "new_rural_development")])
    world.meeting(world.article("hl", "Lễ hội hoa đào", published=local(2024, 7, 3, 16)), is_meeting=False)
    world.article("hl", "Not yet extracted", published=local(2024, 7, 3, 17))
    digest = digest_of(session)
    assert titles(digest) == ["Hội nghị Ban Chấp hành", "Làm việc với xã Vĩnh Lâm"]
    # One topic in two places is no recurring problem: "named before" is per place (test_named_before.py).
    assert digest.recurring == [] and "Không có hạn chế nào đã được cùng địa phương nêu" in render(digest).text
    only = digest_of(session, districts=("vinh-linh",))
    assert titles(only) == ["Làm việc với xã Vĩnh Lâm"]
    assert titles(digest_of(session, districts=("VĨNH LINH", "Hữu Lũng"))) == titles(digest)


def test_empty_week_says_so(world: World, session: Session) -> None:
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    digest = digest_of(session, "2024-W28")
    assert digest.is_empty
    rendered = render(digest)
    sentence = "Không có cuộc họp nào được ghi nhận trong tuần 28 (08–14/07/2024)."
    assert sentence in rendered.text and sentence in rendered.html
    assert rendered.subject == "Tuần 28 (08–14/07/2024): không có cuộc họp nào"


def test_portal_health_stale_and_fetch_errors(world: World, session: Session) -> None:
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
    world.article("vl", "Recent", published=local(2024, 7, 6, 8))
    world.article("hy", "Old", published=local(2024, 6, 1, 8))
    session.add_all(
        [
            FetchLog(portal_id="vl", url="https://vl.example.vn/tin-tuc", host="vl.example.vn", purpose="listing",
                     requested_at=local(2024, 7, 3, 6), status=503, error=None),
            FetchLog(portal_id="vl", url="https://vl.example.vn/x", host="vl.example.vn", purpose="article",
                     requested_at=local(2024, 7, 4, 6), status=None, error="ConnectTimeout"),
            FetchLog(portal_id="hy", url="https://hy.example.vn/", host="hy.example.vn", purpose="listing",
                     requested_at=local(2024, 6, 20, 6), status=500, error=None),  # another week
        ]
    )
    session.flush()
    digest = digest_of(session)
    assert [h.portal_id for h in digest.stale_portals] == ["hy"]
    assert [(h.portal_id, h.error_count) for h in digest.failing_portals] == [("vl", 2)]
    # Readers see one line per quiet or failing portal; the errors and URLs are the operator's.
    reader = render(digest)
    for text in (reader.text, reader.html):
        assert "Chưa có bài mới trong 14 ngày: Cổng Hàm Yên (bài mới nhất 01/06/2024)." in text
        assert "Đang gặp lỗi khi tải, tin có thể chưa đủ: Cổng Vĩnh Linh." in text
        assert "ConnectTimeout" not in text and "vl.example.vn" not in text and "lỗi, gần nhất" not in text
    operator = render_operator(OperatorReport(digest))
    for text in (operator.text, operator.html):
        assert "2 failed request(s)" in text and "ConnectTimeout (https://vl.example.vn/x)" in text
        assert "latest article 01/06/2024" in text
    assert operator.subject == "bantin operator report 2024-W27: 1 portal(s) with errors; 1 stale"


def test_text_fragments_are_percent_encoded() -> None:
    assert text_fragment("còn chậm") == ":~:text=c%C3%B2n%20ch%E1%BA%ADm"
    # '-' ',' '&' are syntax in a text directive and must be encoded.
    assert text_fragment("2020 - 2025, A&B") == ":~:text=2020%20%2D%202025%2C%20A%26B"
    long = (
        "Phát huy kết quả đã đạt được, khắc phục những hạn chế chủ quan, giảm thiểu những nguyên nhân "
        "khách quan, rà soát và đánh giá kết quả của từng tiêu chí theo Kế hoạch đề ra."
    )
    fragment = text_fragment(long)
    start, end = fragment.removeprefix(":~:text=").split(",")
    assert start == "Ph%C3%A1t%20huy%20k%E1%BA%BFt%20qu%E1%BA%A3%20%C4%91%C3%A3"
    assert end.endswith("%C4%91%E1%BB%81%20ra")  # "đề ra", trailing full stop dropped
    assert link_to_quote("https://a.vn/x.html#top", "còn chậm") == "https://a.vn/x.html#:~:text=c%C3%B2n%20ch%E1%BA%ADm"


def test_long_quote_links_use_edges_unique_in_the_article() -> None:
    clause = "Tăng cường công tác xây dựng Đảng ở cơ sở, nâng cao năng lực lãnh đạo và sức chiến đấu của tổ chức đảng"
    context = (
        "Năm qua, Tăng cường công tác xây dựng Đảng là chủ đề của huyện; sức chiến đấu của tổ chức đảng được nâng lên. "
        "Đồng chí Bí thư đề nghị: " + clause + "; làm tốt công tác tuyển quân."
    )
    start, end = text_fragment(clause, context).removeprefix(":~:text=").split(",")
    # Five words would first match the earlier sentence: the start grows until it is the quote's own.
    assert unquote(start) == "Tăng cường công tác xây dựng Đảng ở"
    # The end words also appear earlier, but the first match after the start is the quote's end.
    assert unquote(end) == "đấu của tổ chức đảng"
    # Without the article, the default five words each side.
    assert unquote(text_fragment(clause).removeprefix(":~:text=").split(",")[0]) == "Tăng cường công tác xây"
