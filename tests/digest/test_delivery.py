"""Mail delivery against a real SMTP server (aiosmtpd on loopback): one message per
subscriber with only their districts, exactly once, failures retried on the next run."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from bantin.digest.mail import Subscriber, SubscribersError, load_subscribers
from bantin.jobs.digest import DigestUsageError, run_digest
from bantin.settings import Settings, SmtpSettings
from digest_world import World, local
from storage.digests import deliveries

SUBSCRIBERS = [
    Subscriber(name="Văn phòng Tỉnh ủy Quảng Trị", email="qt@example.org", districts=["Vĩnh Linh"]),
    Subscriber(name="Phóng viên Tuyên Quang", email="tq@example.org", districts=["ham-yen", "Lâm Bình"]),
]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 (aiosmtpd's hook)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def with_smtp(settings: Settings, port: int) -> Settings:
    smtp = SmtpSettings(host="127.0.0.1", port=port, security="none", sender="Bản tin bantin <bantin@example.org>", timeout_s=5)
    return settings.model_copy(update={"smtp": smtp})


@pytest.fixture
def week_with_two_provinces(world: World, session: Session) -> None:
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
    vl = world.article("vl", "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm", published=local(2024, 7, 6, 9))
    world.meeting(vl, meeting_date=dt.date(2024, 7, 5), shortfalls=[("xây dựng nông thôn mới nâng cao còn chậm", "new_rural_development")])
    hy = world.article("hy", "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh", published=local(2024, 7, 3, 9))
    world.meeting(hy, meeting_date=dt.date(2024, 7, 2), directives=[("tập trung thu ngân sách", "budget_investment")])
    session.commit()


def parts(message: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in message.iter_parts()}


@pytest.mark.usefixtures("week_with_two_provinces")
def test_each_subscriber_gets_one_message_with_their_districts_once(settings: Settings, inbox: Inbox, smtp_port: int) -> None:
    settings = with_smtp(settings, smtp_port)
    run = run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS)
    assert sorted(r.status for r in run.deliveries) == ["sent", "sent"]
    assert len(inbox.messages) == 2

    (qt,) = inbox.to("qt@example.org")
    assert qt.get_content_type() == "multipart/alternative"
    assert qt["Subject"] == "Tuần 27 (01–07/07/2024): 1 cuộc họp tại Vĩnh Linh"
    assert qt["To"].addresses[0].display_name == "Văn phòng Tỉnh ủy Quảng Trị"
    assert qt["Message-ID"] and qt["Date"] and qt["List-Unsubscribe"] == "<mailto:bantin@example.org?subject=unsubscribe>"
    body = parts(qt)
    assert list(body) == ["text/plain", "text/html"]
    assert "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm" in body["text/plain"] and "Vĩnh Linh" in body["text/html"]
    assert "Hàm Yên" not in body["text/plain"] and "Hàm Yên" not in body["text/html"]

    (tq,) = inbox.to("tq@example.org")
    body = parts(tq)
    assert "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh" in body["text/html"]
    assert "Vĩnh Linh" not in body["text/plain"]

    # The archive holds the whole week.
    whole = run.archived.text_path.read_text(encoding="utf-8")
    assert "Vĩnh Linh" in whole and "Hàm Yên" in whole

    again = run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS)
    assert [r.status for r in again.deliveries] == ["already-sent", "already-sent"]
    assert len(inbox.messages) == 2


@pytest.mark.usefixtures("week_with_two_provinces")
def test_failed_send_is_recorded_and_retried_once_on_the_next_run(settings: Settings, session: Session) -> None:
    port = free_port()  # nothing listens here yet
    settings = with_smtp(settings, port)
    one = SUBSCRIBERS[:1]
    down = run_digest(settings, week="2024-W27", send=True, subscribers=one)
    (result,) = down.deliveries
    assert result.status == "failed" and "ConnectionRefused" in (result.error or "")
    (row,) = deliveries(session, "2024-W27")
    assert (row.status, row.attempts, row.sent_at) == ("failed", 1, None)
    assert "127.0.0.1" in (row.last_error or "")
    failed_message_id = row.message_id

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = run_digest(settings, week="2024-W27", send=True, subscribers=one)
        assert [r.status for r in up.deliveries] == ["sent"]
        assert run_digest(settings, week="2024-W27", send=True, subscribers=one).deliveries[0].status == "already-sent"
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    session.expire_all()
    (row,) = deliveries(session, "2024-W27")
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    # The retry carries the Message-ID chosen at the first attempt: a client that somehow
    # got both would show one message.
    assert row.message_id == failed_message_id == handler.messages[0][1]["Message-ID"]


@pytest.mark.usefixtures("week_with_two_provinces")
def test_without_smtp_host_mail_goes_to_the_outbox_once(settings: Settings, session: Session) -> None:
    run = run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS)
    paths = [r.path for r in run.deliveries]
    assert [r.status for r in run.deliveries] == ["outbox", "outbox"]
    assert all(p is not None and p.parent == settings.outbox_dir for p in paths)
    message = email.message_from_bytes(Path(str(paths[0])).read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm" in message.get_body(("plain",)).get_content()
    again = run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS)
    assert [r.status for r in again.deliveries] == ["already-sent", "already-sent"]
    dry = run_digest(settings, week="2024-W27", dry_run=True, subscribers=SUBSCRIBERS)
    assert [r.status for r in dry.deliveries] == ["dry-run", "dry-run"]
    assert all(r.path and r.path.parent.name == "dry-run" for r in dry.deliveries)


def test_district_filter_cannot_be_mailed(sqlite_settings: Settings) -> None:
    with pytest.raises(DigestUsageError):
        run_digest(sqlite_settings, week="2024-W27", districts=["Vĩnh Linh"], send=True, subscribers=SUBSCRIBERS)


def test_example_subscribers_file_loads() -> None:
    people = load_subscribers(Path(__file__).parents[2] / "deploy" / "subscribers.example.yaml")
    assert len(people) >= 2 and any(not p.districts for p in people)


def test_bad_subscribers_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - name: An\n"
        "    email: an@example.org\n"
        "  - name: Bình\n"
        "    email: not-an-address\n"
        "    districts: [Vĩnh Linh]\n"
        "  - name: Chi\n"
        "    email: chi@example.org\n"
        "    district: [Hàm Yên]\n",
        encoding="utf-8",
    )
    with pytest.raises(SubscribersError) as caught:
        load_subscribers(path)
    message = str(caught.value)
    assert f"{path}:5: subscribers.1.email:" in message and "not-an-address" in message
    assert f"{path}:9: subscribers.2.district:" in message
    path.write_text("subscribers:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SubscribersError, match=rf"{path}:\d+: not valid YAML"):
        load_subscribers(path)


@pytest.mark.usefixtures("week_with_two_provinces")
def test_a_bug_while_mailing_is_raised_as_itself_and_leaves_the_row_claimable(
    settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug is not an SMTP failure: Prefect must not retry it as one (MailError), and the
    # ledger row must not stay "sending" (which nothing ever re-sends).
    import bantin.jobs.digest as job

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug in building the message")

    monkeypatch.setattr(job, "message_for", broken)
    with pytest.raises(KeyError, match="a bug in building the message"):
        run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS[:1])
    (row,) = deliveries(session, "2024-W27")
    assert row.status == "failed" and "KeyError" in (row.last_error or "")
    monkeypatch.undo()
    assert [r.status for r in run_digest(settings, week="2024-W27", send=True, subscribers=SUBSCRIBERS[:1]).deliveries] == ["outbox"]
