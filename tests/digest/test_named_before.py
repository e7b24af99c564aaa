"""What is new against the previous weeks: four weekly digests mailed in sequence (a real
SMTP server), each shortfall and directive marked when the same place's earlier meetings
named it ("Đã nêu ngày 03/07", "Nhắc lại chỉ đạo ngày 03/07", linked to the earlier
article), a first-time one left unmarked, and the recurring section built from those
marks — plus the matching rule itself on real clauses."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session

from bantin.digest.links import link_to_quote
from bantin.digest.mail import Subscriber
from bantin.digest.repeats import content_pairs, same_problem
from bantin.jobs.digest import run_digest
from bantin.settings import Settings
from digest_world import World, local
from storage.digests import deliveries
from test_delivery import Inbox, with_smtp

# Week 27 (Vĩnh Lâm, 03/07): the shortfalls and the directive later meetings come back to.
INVESTMENT = "tiến độ giải ngân vốn đầu tư công còn chậm, mới đạt 35% kế hoạch"
WASTE = "tỷ lệ thu gom, xử lý rác thải sinh hoạt ở các thôn còn thấp"
CLEARANCE = "tập trung đẩy nhanh tiến độ giải phóng mặt bằng dự án đường ven biển"
# Week 28 (Vĩnh Lâm, 10/07): the investment problem again, in other words; two first-timers,
# one of the same topic; (Vĩnh Thủy, 11/07): the waste problem, in another commune.
INVESTMENT_AGAIN = "giải ngân vốn đầu tư công đạt thấp, mới đạt 41% kế hoạch"
REFORM = "công tác cải cách hành chính chưa đáp ứng yêu cầu"
LAND_REVENUE = "thu ngân sách từ đất chưa đạt dự toán"
WASTE_VINH_THUY = "tỷ lệ thu gom, xử lý rác thải sinh hoạt còn thấp"
# Week 29 (district conference, 17/07, no commune: speaks for the whole district).
CLEARANCE_AGAIN = "khẩn trương đẩy nhanh tiến độ giải phóng mặt bằng dự án đường ven biển"
SCHOOLS = "chuẩn bị tốt các điều kiện cho năm học mới 2024 - 2025"
WASTE_DISTRICT = "việc thu gom, xử lý rác thải sinh hoạt trên địa bàn còn hạn chế"
# Week 30 (Vĩnh Lâm, 24/07): the investment problem a third time. Hàm Yên (04/07 and 25/07):
# the same words as Vĩnh Linh's, its own history only.
INVESTMENT_THIRD = "giải ngân vốn đầu tư công vẫn chậm so với kế hoạch"
HY_INVESTMENT = "tiến độ giải ngân vốn đầu tư công còn chậm"

VL = Subscriber(name="Văn phòng Tỉnh ủy Quảng Trị", email="qt@example.org", places=["Vĩnh Linh"])
HY = Subscriber(name="Phóng viên Tuyên Quang", email="tq@example.org", places=["Hàm Yên"])
WEEKS = ("2024-W27", "2024-W28", "2024-W29", "2024-W30")


def meeting(
    world: World,
    portal: str,
    title: str,
    day: dt.date,
    *,
    communes: Sequence[str] = (),
    shortfalls: Sequence[tuple[str, str]] = (),
    directives: Sequence[tuple[str, str]] = (),
) -> str:
    """A meeting published the day after, its article quoting every clause; returns its URL."""
    text = f"Ngày {day:%d/%m/%Y}, {title}. Tuy nhiên, " + "; ".join(t for t, _ in shortfalls) + ". "
    text += "Đồng chí Bí thư đề nghị " + "; ".join(t for t, _ in directives) + "."
    url = f"https://{portal}.example.vn/tin-tuc/{day:%Y%m%d}-{len(title)}.html"
    article = world.article(portal, title, published=local(day.year, day.month, day.day + 1, 9), text=text, url=url)
    world.meeting(article, meeting_date=day, communes=communes, shortfalls=shortfalls, directives=directives)
    return url


@pytest.fixture
def four_weeks(world: World, session: Session) -> dict[str, str]:
    """Four weeks of meetings in Vĩnh Linh and Hàm Yên; the meetings' URLs by name."""
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
    urls = {
        "vl27": meeting(world, "vl", "Huyện ủy làm việc với Đảng ủy xã Vĩnh Lâm", dt.date(2024, 7, 3), communes=["Vĩnh Lâm"],
                        shortfalls=[(INVESTMENT, "budget_investment"), (WASTE, "culture_education_health_welfare")],
                        directives=[(CLEARANCE, "budget_investment")]),
        "hy27": meeting(world, "hy", "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh", dt.date(2024, 7, 4), communes=["Đức Ninh"],
                        shortfalls=[(HY_INVESTMENT, "budget_investment")]),
        "vl28": meeting(world, "vl", "Thường trực Huyện ủy làm việc với xã Vĩnh Lâm lần hai", dt.date(2024, 7, 10), communes=["Vĩnh Lâm"],
                        shortfalls=[(INVESTMENT_AGAIN, "budget_investment"), (REFORM, "administration"), (LAND_REVENUE, "budget_investment")]),
        "vl28b": meeting(world, "vl", "Huyện ủy làm việc với Đảng ủy xã Vĩnh Thủy", dt.date(2024, 7, 11), communes=["Vĩnh Thủy"],
                         shortfalls=[(WASTE_VINH_THUY, "culture_education_health_welfare")]),
        "vl29": meeting(world, "vl", "Hội nghị Ban Chấp hành Đảng bộ huyện Vĩnh Linh", dt.date(2024, 7, 17),
                        shortfalls=[(WASTE_DISTRICT, "culture_education_health_welfare")],
                        directives=[(CLEARANCE_AGAIN, "budget_investment"), (SCHOOLS, "culture_education_health_welfare")]),
        "vl30": meeting(world, "vl", "Thường trực Huyện ủy kiểm tra xã Vĩnh Lâm", dt.date(2024, 7, 24), communes=["Vĩnh Lâm"],
                        shortfalls=[(INVESTMENT_THIRD, "budget_investment")]),
        "hy30": meeting(world, "hy", "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh lần hai", dt.date(2024, 7, 25),
                        communes=["Đức Ninh"], shortfalls=[(HY_INVESTMENT, "budget_investment")]),
    }
    session.commit()
    return urls


def parts(message: EmailMessage) -> tuple[str, str]:
    body = {p.get_content_type(): p.get_content().replace("\r\n", "\n") for p in message.iter_parts()}
    return body["text/plain"], body["text/html"]


def html_mark(html: str, quote: str) -> tuple[str, list[str]] | None:
    """The mark under `quote` in its place's section ('Đã nêu ngày 03/07', its links), or None."""
    at = html.rindex(f"“{quote}”")  # the place's section comes after the recurring section
    block = re.split(r"“|</td>", html[at + len(quote) + 2 :], maxsplit=1)[0]
    found = re.search(r"(Đã nêu|Nhắc lại chỉ đạo) ngày (.*?)</div>", block, re.S)
    if found is None:
        return None
    label = found.group(1) + " ngày " + re.sub(r"<[^>]+>", "", found.group(2))
    return label, re.findall(r'href="([^"]+)"', found.group(2))


def text_mark(text: str, quote: str) -> str | None:
    """The mark under `quote` in the text part's place section."""
    lines = text[text.index("=" * 60 + "\n", text.index("HẠN CHẾ ĐƯỢC NÊU LẠI")) :].splitlines()
    at = next(n for n, line in enumerate(lines) if f'"{quote}"' in line)
    follow = lines[at + 2].strip()  # after the quote's own link
    return follow.rstrip(":") if follow.startswith(("Đã nêu", "Nhắc lại chỉ đạo")) else None


def recurring(text: str) -> list[str]:
    section = text.split("HẠN CHẾ ĐƯỢC NÊU LẠI", 1)[1].split("=" * 60, 1)[0]
    return [line for line in section.splitlines() if line.startswith("- ")]


def test_four_weeks_mark_what_was_named_before(
    settings: Settings, session: Session, four_weeks: dict[str, str], inbox: Inbox, smtp_port: int
) -> None:
    settings = with_smtp(settings, smtp_port)
    mails: dict[tuple[str, str], tuple[str, str, str]] = {}
    for week in WEEKS:
        before = len(inbox.messages)
        run_digest(settings, week=week, send=True, subscribers=[VL, HY])
        for message in [m for _, m in inbox.messages[before:]]:
            (to,) = [a.addr_spec for a in message["To"].addresses]
            mails[(week, to)] = (str(message["Subject"]), *parts(message))
        # A re-run of the week sends nothing (the ledger), marks or not.
        assert {r.status for r in run_digest(settings, week=week, send=True, subscribers=[VL, HY]).deliveries} <= {
            "already-sent", "nothing-to-send"}
    # Hàm Yên had no meeting in weeks 28 and 29: no mail, and the ledger says so.
    assert sorted(mails) == sorted([(w, "qt@example.org") for w in WEEKS] + [("2024-W27", "tq@example.org"), ("2024-W30", "tq@example.org")])
    assert {(d.week, d.status) for w in WEEKS for d in deliveries(session, w) if d.recipient == "tq@example.org"} == {
        ("2024-W27", "sent"), ("2024-W28", "nothing_to_send"), ("2024-W29", "nothing_to_send"), ("2024-W30", "sent")}

    # Week 27: everything is new; nothing is marked, the recurring section says so.
    subject, text, html = mails[("2024-W27", "qt@example.org")]
    assert subject == "Tuần 27 (01–07/07/2024): 1 cuộc họp tại Vĩnh Linh"
    for quote in (INVESTMENT, WASTE, CLEARANCE):
        assert html_mark(html, quote) is None and text_mark(text, quote) is None
    assert "Đã nêu" not in text + html and "Nhắc lại chỉ đạo" not in text + html
    assert recurring(text) == [] and "Không có hạn chế nào đã được cùng địa phương nêu trong 8 tuần qua." in text

    # Week 28: the investment problem again, in other words -> named on 03/07, linked to the
    # week-27 article at its clause; the first-timers (one of the same topic) unmarked; the
    # waste problem of another commune (Vĩnh Thủy) unmarked.
    subject, text, html = mails[("2024-W28", "qt@example.org")]
    assert subject == "Tuần 28 (08–14/07/2024): 2 cuộc họp tại Vĩnh Linh, 1 hạn chế được nêu lại"
    week27_investment = link_to_quote(four_weeks["vl27"], INVESTMENT, _text_of(session, four_weeks["vl27"]))
    assert html_mark(html, INVESTMENT_AGAIN) == ("Đã nêu ngày 03/07", [week27_investment])
    assert text_mark(text, INVESTMENT_AGAIN) == "Đã nêu ngày 03/07"
    assert f"03/07: {week27_investment}" in text
    for first_time in (REFORM, LAND_REVENUE, WASTE_VINH_THUY):
        assert html_mark(html, first_time) is None and text_mark(text, first_time) is None, first_time
    assert recurring(text) == [f'- Vĩnh Linh: "{INVESTMENT_AGAIN}"']

    # Week 29: the district conference repeats week 27's directive, and names the waste
    # problem both communes had (a meeting without communes speaks for the whole district).
    subject, text, html = mails[("2024-W29", "qt@example.org")]
    assert html_mark(html, CLEARANCE_AGAIN) == (
        "Nhắc lại chỉ đạo ngày 03/07", [link_to_quote(four_weeks["vl27"], CLEARANCE, _text_of(session, four_weeks["vl27"]))])
    assert html_mark(html, SCHOOLS) is None
    label, links = html_mark(html, WASTE_DISTRICT) or ("", [])
    assert label == "Đã nêu ngày 11/07, 03/07"  # most recent first
    assert [link.split("#")[0] for link in links] == [four_weeks["vl28b"], four_weeks["vl27"]]
    assert "1 chỉ đạo nhắc lại" in text

    # Week 30: the investment problem a third time -> both earlier dates; Hàm Yên's identical
    # words count only against Hàm Yên's own earlier meeting.
    subject, text, html = mails[("2024-W30", "qt@example.org")]
    assert html_mark(html, INVESTMENT_THIRD) == (
        "Đã nêu ngày 10/07, 03/07",
        [link_to_quote(four_weeks["vl28"], INVESTMENT_AGAIN, _text_of(session, four_weeks["vl28"])), week27_investment],
    )
    assert len(recurring(text)) == 1 and INVESTMENT_THIRD in recurring(text)[0]
    subject, text, html = mails[("2024-W30", "tq@example.org")]
    label, links = html_mark(html, HY_INVESTMENT) or ("", [])
    assert label == "Đã nêu ngày 04/07" and [link.split("#")[0] for link in links] == [four_weeks["hy27"]]
    assert "Vĩnh Linh" not in text
    # ... and in week 27 Hàm Yên's first mention was new, though Vĩnh Linh said the same.
    assert html_mark(mails[("2024-W27", "tq@example.org")][2], HY_INVESTMENT) is None


def _text_of(session: Session, url: str) -> str:
    from sqlalchemy import select

    from storage.models import Article

    return session.scalars(select(Article.text).where(Article.url == url)).one()


def test_a_range_also_matches_its_own_earlier_meetings(world: World, session: Session, settings: Settings) -> None:
    """A custom range (the demo's two years) marks against its own earlier meetings too."""
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    meeting(world, "vl", "Làm việc với xã Vĩnh Lâm", dt.date(2023, 8, 8), communes=["Vĩnh Lâm"],
            shortfalls=[("tiến độ giải ngân vốn đầu tư công còn chậm", "budget_investment")])
    meeting(world, "vl", "Hội nghị Ban Chấp hành", dt.date(2024, 4, 20),
            shortfalls=[("giải ngân vốn đầu tư công đạt thấp, mới đạt 12% kế hoạch", "budget_investment")])
    session.commit()
    run = run_digest(settings, start="2023-08-01", end="2024-07-31")
    text = run.archived.text_path.read_text(encoding="utf-8")
    assert text_mark(text, "giải ngân vốn đầu tư công đạt thấp, mới đạt 12% kế hoạch") == "Đã nêu ngày 08/08/2023"
    assert "đã nêu trước đó trong kỳ hoặc trong 8 tuần trước kỳ" in text


# ---- the rule on its own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "topic", "other", "other_topic"),
    [
        # Real clauses of one portal (corpus/gold.jsonl, daksong), named again months later.
        ("shortfall", "tổng nợ xấu, nợ quá hạn còn cao", "other", "tổng nợ xấu, nợ quá hạn còn cao", "other"),
        ("shortfall", "Cây hồ tiêu chết hàng loạt", "other", "tình hình tiêu chết hàng loạt", "other"),
        ("shortfall", "tình trạng khiếu nại, tố cáo, tranh chấp đất đai vẫn còn xảy ra", "administration",
         "tình trạng tranh chấp đất đai đã tồn tại nhiều năm nhưng chưa được giải quyết", "administration"),
        ("directive", "tăng cường các biện pháp phòng chống dịch tả lợn Châu Phi", "other",
         "đẩy mạnh công tác tuyên truyền về bệnh Dịch tả lợn Châu Phi và các biện pháp phòng chống", "other"),
        # Nearly the same words under two topics (the labeller is not the judge of sameness).
        ("directive", "Tổ chức thành công bầu cử đại biểu Quốc hội khóa XV và đại biểu Hội đồng nhân dân các cấp nhiệm kỳ 2021 - 2026",
         "culture_education_health_welfare",
         "các cấp Mặt trận sẽ phối hợp triển khai các nhiệm vụ về Cuộc bầu cử Đại biểu Quốc hội khóa XV và đại biểu Hội đồng nhân dân các cấp nhiệm kỳ 2021-2026",
         "party_building_personnel"),
        # Both tone-mark placements are one spelling.
        ("shortfall", "chất lượng khám chữa bệnh ở trạm y tế xã chưa cao", "culture_education_health_welfare",
         "chất lượng khám chữa bệnh ở trạm y tế xã chưa cao, thiếu bác sỹ", "culture_education_health_welfare"),
    ],
)
def test_the_same_problem_in_other_words_matches(kind: str, text: str, topic: str, other: str, other_topic: str) -> None:
    assert same_problem(kind, text, topic, other, other_topic)
    assert same_problem(kind, other, other_topic, text, topic)  # symmetric


@pytest.mark.parametrize(
    ("kind", "text", "topic", "other", "other_topic"),
    [
        # One topic, other problems: the topic alone is not enough.
        ("shortfall", "tiến độ giải ngân vốn đầu tư công còn chậm", "budget_investment",
         "thu ngân sách từ đất chưa đạt dự toán", "budget_investment"),
        # Only the formulas every report uses in common ("nâng cao chất lượng", "công tác").
        ("directive", "nâng cao chất lượng điều tra án", "other", "Có kế hoạch nâng cao chất lượng giáo dục, đào tạo", "other"),
        ("shortfall", "công tác phát triển đảng viên còn chậm", "party_building_personnel",
         "công tác xây dựng nông thôn mới còn chậm", "party_building_personnel"),
        # A few words in common under different topics.
        ("shortfall", "giá cả các loại nông sản xuống thấp", "economy_agriculture",
         "giá cả thị trường biến động, ảnh hưởng đến đời sống nhân dân", "culture_education_health_welfare"),
        # Directives are formulaic: two shared pairs are not enough for one.
        ("directive", "đẩy mạnh thu ngân sách trên địa bàn huyện", "budget_investment",
         "tăng cường quản lý thu ngân sách xã gắn với chống thất thu thuế", "budget_investment"),
    ],
)
def test_other_problems_of_one_topic_do_not_match(kind: str, text: str, topic: str, other: str, other_topic: str) -> None:
    assert not same_problem(kind, text, topic, other, other_topic), sorted(content_pairs(text) & content_pairs(other))


def test_content_pairs_leave_out_the_formulas() -> None:
    assert content_pairs("công tác xây dựng nông thôn mới nâng cao còn chậm") == {"dựng nông", "nông thôn", "thôn mới", "mới nâng"}
    assert content_pairs("Huyện uỷ") == content_pairs("Huyện ủy") == frozenset()
    assert content_pairs("tăng cường công tác thực hiện nhiệm vụ") == frozenset()
