"""No mail for a week without a meeting in the reader's places, unless they ask for it
(`empty_weeks: true`); the ledger says what happened ("nothing_to_send"), so a re-run sends
nothing and a meeting found later for that week is still mailed, once. Operator details
(fetch errors, their URLs) go to the operator's page and mail, not to the readers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bantin.cli import app
from bantin.digest.mail import Subscriber, SubscribersError, build_message, load_subscribers
from bantin.digest.render import RenderedDigest
from bantin.jobs.digest import run_digest
from bantin.settings import Settings
from digest_world import World, local
from storage.digests import deliveries
from storage.models import FetchLog
from storage.session import downgrade, make_engine, upgrade
from test_delivery import Inbox, with_smtp

QUIET = Subscriber(name="Phóng viên Tuyên Quang", email="tq@example.org", places=["Hàm Yên"])
ASKS = Subscriber(name="Văn phòng Tỉnh ủy Tuyên Quang", email="vp@example.org", places=["Hàm Yên"], empty_weeks=True)
BUSY = Subscriber(name="Văn phòng Tỉnh ủy Quảng Trị", email="qt@example.org", places=["Vĩnh Linh"])


@pytest.fixture
def vinh_linh_only(world: World, session: Session) -> World:
    """Week 27 has a meeting in Vĩnh Linh and none in Hàm Yên."""
    world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
    world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
    article = world.article("vl", "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm", published=local(2024, 7, 6, 9))
    world.meeting(article, meeting_date=dt.date(2024, 7, 5), shortfalls=[("xây dựng nông thôn mới nâng cao còn chậm", "new_rural_development")])
    session.commit()
    return world


def test_an_empty_week_is_not_mailed_unless_asked_and_the_ledger_says_so(
    settings: Settings, session: Session, vinh_linh_only: World, inbox: Inbox, smtp_port: int
) -> None:
    settings = with_smtp(settings, smtp_port)
    run = run_digest(settings, week="2024-W27", send=True, subscribers=[QUIET, ASKS, BUSY])
    assert [(r.recipient, r.status) for r in run.deliveries] == [
        ("tq@example.org", "nothing-to-send"), ("vp@example.org", "sent"), ("qt@example.org", "sent")]
    assert "tq@example.org: nothing to send (no meeting in their places" in run.deliveries[0].describe()
    assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == ["qt@example.org", "vp@example.org"]
    (asked,) = inbox.to("vp@example.org")
    assert asked["Subject"] == "Tuần 27 (01–07/07/2024): không có cuộc họp nào"
    assert "Không có cuộc họp nào được ghi nhận trong tuần 27 (01–07/07/2024) tại Hàm Yên." in asked.get_body(("plain",)).get_content()
    rows = {d.recipient: d for d in deliveries(session, "2024-W27")}
    assert (rows["tq@example.org"].status, rows["tq@example.org"].attempts, rows["tq@example.org"].message_id) == ("nothing_to_send", 0, None)

    # A re-run sends nothing, and says the same.
    again = run_digest(settings, week="2024-W27", send=True, subscribers=[QUIET, ASKS, BUSY])
    assert [r.status for r in again.deliveries] == ["nothing-to-send", "already-sent", "already-sent"]
    assert len(inbox.messages) == 2

    # A Hàm Yên meeting of that week found later: the next run mails it to the quiet reader, once.
    late = vinh_linh_only.article("hy", "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh", published=local(2024, 7, 3, 9),
                                  first_seen=local(2024, 7, 10, 9))
    vinh_linh_only.meeting(late, meeting_date=dt.date(2024, 7, 2), directives=[("tập trung thu ngân sách", "budget_investment")])
    session.commit()
    later = run_digest(settings, week="2024-W27", send=True, subscribers=[QUIET, ASKS, BUSY])
    assert [r.status for r in later.deliveries] == ["sent", "already-sent", "already-sent"]
    (quiet,) = inbox.to("tq@example.org")
    assert "Thường trực Huyện ủy Hàm Yên làm việc với xã Đức Ninh" in quiet.get_body(("plain",)).get_content()
    assert [r.status for r in run_digest(settings, week="2024-W27", send=True, subscribers=[QUIET]).deliveries] == ["already-sent"]
    session.expire_all()
    assert {d.recipient: d.status for d in deliveries(session, "2024-W27")}["tq@example.org"] == "sent"


def test_a_dry_run_of_an_empty_week_records_nothing(sqlite_settings: Settings, session: Session) -> None:
    run = run_digest(sqlite_settings, week="2024-W27", dry_run=True, subscribers=[QUIET, ASKS])
    assert [r.status for r in run.deliveries] == ["nothing-to-send", "dry-run"]
    assert run.deliveries[0].path is None and run.deliveries[1].path is not None
    with make_engine(sqlite_settings.resolved_database_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM digest_deliveries")).scalar_one() == 0


def test_the_cli_says_nothing_to_send(sqlite_settings: Settings, tmp_path: Path) -> None:
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text(
        "subscribers:\n  - {name: An, email: an@example.org}\n  - {name: Bình, email: binh@example.org, empty_weeks: true}\n",
        encoding="utf-8",
    )
    env = {"BANTIN_DATA_DIR": str(sqlite_settings.data_dir), "BANTIN_DATABASE_URL": sqlite_settings.resolved_database_url,
           "BANTIN_SUBSCRIBERS": str(subscribers), "BANTIN_SMTP_HOST": ""}
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env=env)
    assert result.exit_code == 0, result.output
    assert "mail: an@example.org: nothing to send (no meeting in their places; `empty_weeks: true` mails such weeks)" in result.output
    assert f"mail: binh@example.org: outbox → {sqlite_settings.outbox_dir / '2024-W27__binh@example.org.eml'}" in result.output
    assert not (sqlite_settings.outbox_dir / "2024-W27__an@example.org.eml").exists()


def test_empty_weeks_is_a_checked_subscriber_field(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text("subscribers:\n  - name: An\n    email: an@example.org\n    empty_weeks: yes\n", encoding="utf-8")
    assert [p.empty_weeks for p in load_subscribers(path)] == [True]
    path.write_text("subscribers:\n  - name: An\n    email: an@example.org\n    empty_weeks: sometimes\n", encoding="utf-8")
    with pytest.raises(SubscribersError, match=rf"{path}:4: subscribers.0.empty_weeks: Input should be a valid boolean"):
        load_subscribers(path)
    example = Path(__file__).parents[2] / "deploy" / "subscribers.example.yaml"
    assert any(p.empty_weeks for p in load_subscribers(example)) and "empty_weeks" in example.read_text(encoding="utf-8")


INSERT = text(
    "INSERT INTO digest_deliveries (week, recipient, status, attempts, created_at) "
    "VALUES ('2024-W27', :recipient, :status, 0, CURRENT_TIMESTAMP)"
)


def test_nothing_to_send_is_a_status_and_a_downgrade_makes_it_pending(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "an@example.org", "status": "nothing_to_send"})
    downgrade(engine, "0005")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM digest_deliveries")).scalar_one() == "pending"
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(INSERT, {"recipient": "binh@example.org", "status": "nothing_to_send"})
    upgrade(engine)


# ---- operator details: out of the readers' mail ------------------------------------------


def test_fetch_errors_go_to_the_operator_not_to_the_readers(
    settings: Settings, session: Session, vinh_linh_only: World, inbox: Inbox, smtp_port: int
) -> None:
    robots = "https://hamyen.example.vn/robots.txt"
    session.add_all([
        FetchLog(portal_id="hy", url=robots, host="hamyen.example.vn", purpose="robots",
                 requested_at=local(2024, 7, 3, 6), status=None, error=f"RobotsUnavailable: {robots} timed out"),
        FetchLog(portal_id="hy", url="https://hamyen.example.vn/tin-tuc", host="hamyen.example.vn", purpose="listing",
                 requested_at=local(2024, 7, 4, 6), status=500, error=None),
    ])
    session.commit()
    settings = with_smtp(settings, smtp_port).model_copy(update={"operator_email": "ops@example.org"})
    run = run_digest(settings, week="2024-W27", send=True, subscribers=[BUSY, ASKS])
    assert [(r.recipient, r.status) for r in run.deliveries] == [
        ("qt@example.org", "sent"), ("vp@example.org", "sent"), ("operator:ops@example.org", "sent")]
    for reader in ("qt@example.org", "vp@example.org"):
        (message,) = inbox.to(reader)
        for part in (message.get_body(("plain",)), message.get_body(("html",))):
            body = part.get_content() if part is not None else ""
            assert "hamyen.example.vn" not in body and "robots" not in body.lower() and "500" not in body
    # Hàm Yên's reader is told, in a reader's words, that its portal is failing.
    (asked,) = inbox.to("vp@example.org")
    assert "Đang gặp lỗi khi tải, tin có thể chưa đủ: Cổng Hàm Yên." in asked.get_body(("plain",)).get_content()

    (ops,) = inbox.to("ops@example.org")
    assert ops["Subject"] == "bantin operator report 2024-W27: 1 portal(s) with errors; 1 stale; deliveries: 2 sent"
    report = ops.get_body(("plain",)).get_content()
    assert "Cổng Hàm Yên (hy, Hàm Yên): 2 failed request(s)" in report and "HTTP 500 (https://hamyen.example.vn/tin-tuc)" in report
    assert "Cổng Hàm Yên (hy, Hàm Yên): nothing stored yet" in report
    assert "qt@example.org: sent" in report and "vp@example.org: sent" in report
    # The operator's page in the archive has the same; the readers' archive page does not.
    assert run.archived.operator_path is not None and run.archived.operator_path.name == "2024-W27.operator.html"
    page = run.archived.operator_path.read_text(encoding="utf-8")
    assert "HTTP 500 (https://hamyen.example.vn/tin-tuc)" in page
    assert "hamyen.example.vn" not in run.archived.html_path.read_text(encoding="utf-8")
    assert "operator" not in (run.archived.html_path.parent / "index.html").read_text(encoding="utf-8")
    # Once a week, like a reader's mail.
    again = run_digest(settings, week="2024-W27", send=True, subscribers=[BUSY, ASKS])
    assert [r.status for r in again.deliveries] == ["already-sent"] * 3
    assert len(inbox.to("ops@example.org")) == 1


def test_a_bad_operator_address_stops_a_sending_run(sqlite_settings: Settings, tmp_path: Path) -> None:
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text("subscribers:\n  - {name: An, email: an@example.org}\n", encoding="utf-8")
    env = {"BANTIN_DATA_DIR": str(sqlite_settings.data_dir), "BANTIN_DATABASE_URL": sqlite_settings.resolved_database_url,
           "BANTIN_SUBSCRIBERS": str(subscribers), "BANTIN_OPERATOR_EMAIL": "ops at example", "BANTIN_SMTP_HOST": ""}
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env=env)
    assert result.exit_code == 2
    assert "BANTIN_OPERATOR_EMAIL='ops at example'" in result.output
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env={**env, "BANTIN_OPERATOR_EMAIL": "", "BANTIN_ARCHIVE_URL": "var/digests"})
    assert result.exit_code == 2 and "BANTIN_ARCHIVE_URL='var/digests': expected the http(s) URL" in result.output


# ---- the headers a reader's client shows ---------------------------------------------------


def test_date_is_vietnam_time_and_a_long_subject_keeps_its_spaces() -> None:
    subject = "Bản tin từ 24/06/2022 đến 08/07/2024: 17 cuộc họp tại 6 địa phương, 3 hạn chế được nêu lại"
    message = build_message(
        RenderedDigest(subject, "<p>x</p>", "x"), sender="bantin <bantin@example.org>",
        recipient=Subscriber(name="Nhóm nghiên cứu", email="nc@example.org"), message_id="<a@example.org>",
        unsubscribe="mailto:bantin@example.org?subject=unsubscribe", date=dt.datetime(2024, 7, 8, 0, 5, tzinfo=dt.UTC),
    )
    raw = message.as_bytes()
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    assert received["Date"] == "Mon, 08 Jul 2024 07:05:00 +0700"
    # The standard library's folding drops the space between two encoded words ("hạnchế").
    assert received["Subject"] == subject
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
