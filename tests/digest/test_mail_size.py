"""A mail Gmail shows whole (it clips over 102 KB): a week of 50 districts, 100 meetings,
1,300 quoted items is mailed under 100 KB — measured on the MIME message as it would be
sent — with each place's most important item, its counts and a link to the archive page,
which keeps everything. A small week is mailed whole."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

import pytest

from bantin.digest.fit import LEVELS, MAIL_LIMIT, cut
from bantin.digest.mail import Subscriber, build_message
from bantin.digest.render import render
from bantin.settings import Settings
from digest_world import EVERYWHERE, busy_districts, busy_mail

ARCHIVE = "https://bantin.example.org/digests/"


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    body = {p.get_content_type(): p.get_content().replace("\r\n", "\n") for p in message.iter_parts()}
    return body["text/plain"], body["text/html"]


@pytest.fixture
def served(sqlite_settings: Settings) -> Settings:
    return sqlite_settings.model_copy(update={"archive_url": ARCHIVE})


def test_a_fifty_district_week_is_mailed_under_100_kb(served: Settings) -> None:
    raw, run = busy_mail(served)
    assert len(raw) < MAIL_LIMIT == 100_000, f"{len(raw):,} bytes"
    message = parsed(raw)
    assert message["To"].addresses[0].addr_spec == EVERYWHERE
    assert message["Subject"] == "Tuần 27 (01–07/07/2024): 100 cuộc họp tại 50 địa phương, 1 hạn chế được nêu lại"
    text, html = parts(message)
    page = ARCHIVE + "2024-W27.html"

    # The control: the whole week as one mail is 20 times too large.
    whole = build_message(
        render(run.digest, unsubscribe="mailto:bantin@localhost"), sender="bantin <bantin@localhost>",
        recipient=Subscriber(name="Nhóm nghiên cứu", email=EVERYWHERE), message_id="<x@localhost>", unsubscribe="mailto:x@localhost",
    )
    assert len(whole.as_bytes()) > 20 * MAIL_LIMIT

    for body in (text, html):
        # Says it was cut, and where the rest is.
        assert "Tuần này nhiều tin, thư được rút gọn" in body and page in body
        assert "100 cuộc họp tại 50 địa phương" in body
        for district, _ in busy_districts(50):  # every place, with its counts
            assert district.upper() in body or district in body, district
        assert body.count("2 cuộc họp · 10 hạn chế") >= 49
    # Each place keeps its most important item, linked to its sentence; the one named the
    # week before comes first in its place and in the recurring section, with its mark.
    assert len(re.findall(r"Đã nêu ngày <a href=\"https://p00\.example\.vn/[^\"]+\">26/06</a>", html)) == 2  # recurring section, place
    assert text.count("Đã nêu ngày 26/06:") == 2
    assert len(re.findall(r"“[^”]+” <a href=\"https://p\d\d\.example\.vn/", html)) >= 50
    assert len(re.findall(r'href="' + re.escape(page) + r'#d-[a-z-]+"', html)) == 50  # "xem N mục khác" per place

    # The archive page keeps everything: every meeting, every quote.
    archived = run.archived.html_path.read_text(encoding="utf-8")
    assert archived.count("Thường trực Huyện ủy") >= 100
    assert sum(len(m.shortfalls) + len(m.directives) for d in run.digest.districts for m in d.meetings) == 50 * 2 * 13
    for d in run.digest.districts:
        for m in d.meetings:
            assert m.title in archived


def test_the_cut_levels_shrink_in_order(served: Settings) -> None:
    """The fit searches its levels by halves: each must make a smaller mail than the one before."""
    _, run = busy_mail(served, districts=20)
    person = Subscriber(name="Nhóm nghiên cứu", email=EVERYWHERE)
    sizes = []
    for level in LEVELS:
        rendered = render(cut(run.digest, level, ARCHIVE + "2024-W27.html"), unsubscribe="mailto:a@example.org")
        message = build_message(rendered, sender="b <b@example.org>", recipient=person, message_id="<x@y>", unsubscribe="mailto:a@example.org")
        sizes.append(len(message.as_bytes()))
    assert sizes == sorted(sizes, reverse=True), sizes
    assert sizes[0] > 4 * sizes[-1]


def test_a_small_week_is_mailed_whole(served: Settings) -> None:
    raw, run = busy_mail(served, districts=1)  # 2 meetings, 26 quoted items
    text, html = parts(parsed(raw))
    assert len(raw) < MAIL_LIMIT
    assert "rút gọn" not in text + html
    for d in run.digest.districts:
        for m in d.meetings:
            for item in (*m.shortfalls, *m.directives):
                assert item.text in text and item.link in text and item.text in html
