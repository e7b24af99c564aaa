"""Delivery when the SMTP server misbehaves, over real sockets (aiosmtpd on loopback).

What a reader must never get is two copies because bantin guessed, and what an operator
must never see is "already-sent" for a mail nobody knows went out:

- the server takes the whole message and then drops the connection, answers something
  that is no SMTP status, or never answers: the delivery is `uncertain`, reported (exit 3,
  the command that re-sends it), not re-sent by later runs, sent again only by `--resend`;
- the server refuses the recipient, or refuses the message after its data (451): the
  delivery is `failed` and the next run sends it, once;
- a run killed while sending leaves the row `sending`: the next run reports it uncertain
  (never "already-sent"), and `--resend all-uncertain` sends it once.

Each test counts the messages the server received after recovery.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from bantin.cli import app
from bantin.jobs.digest import run_digest
from bantin.settings import PROJECT_ROOT, Settings
from storage.digests import claim_delivery, deliveries
from storage.models import DigestDelivery
from test_delivery import SUBSCRIBERS, Inbox, free_port, week_with_two_provinces, with_smtp  # noqa: F401 (fixture)
from tests.prefect_harness.procs import PrefectServer, prefect_env

QT, TQ = "qt@example.org", "tq@example.org"
SUBSCRIBERS_YAML = (
    "subscribers:\n"
    '  - {name: "Văn phòng Tỉnh ủy Quảng Trị", email: qt@example.org, places: [Vĩnh Linh]}\n'
    '  - {name: "Phóng viên Tuyên Quang", email: tq@example.org, places: [ham-yen, Lâm Bình]}\n'
)


class Misbehaving(Inbox):
    """An SMTP server that misbehaves (`fault`) for one recipient (`victim`) and serves
    everyone else normally. `received` counts what the server took in full: a message
    whose connection it then drops is still one it will deliver."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim
        self.fault: str | None = None
        self.got_data = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: ANN001 (aiosmtpd's hook)
        if self.fault == "refuse-rcpt" and address == self.victim:
            return "550 5.1.1 <" + address + ">: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self.victim not in envelope.rcpt_tos or self.fault in (None, "refuse-rcpt"):
            return await super().handle_DATA(server, session, envelope)
        if self.fault == "refuse-after-data":
            return "451 4.3.0 queue full, try again later"  # an explicit "no": nothing taken
        await super().handle_DATA(server, session, envelope)  # the server has it now
        self.got_data.set()
        if self.fault == "drop-after-data":
            server.transport.close()  # before its "250": the client never hears back
        elif self.fault == "odd-reply":
            return "Message queued, thanks"  # no status code
        elif self.fault == "hang-after-data":
            await asyncio.sleep(120)  # until the client gives up (timeout) or is killed
        return "250 OK"

    def received(self, address: str) -> int:
        return len(self.to(address))


@pytest.fixture
def smtp_server() -> Iterator[tuple[Misbehaving, int]]:
    handler, port = Misbehaving(QT), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("BANTIN_") and n != "BANTIN_TEST_DATABASE_URL"]:
        monkeypatch.delenv(name)
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text(SUBSCRIBERS_YAML, encoding="utf-8")
    return {
        "BANTIN_DATA_DIR": str(settings.data_dir),
        "BANTIN_DATABASE_URL": settings.resolved_database_url,
        "BANTIN_SUBSCRIBERS": str(subscribers),
        "BANTIN_SMTP_SECURITY": "none",
        "BANTIN_SMTP_SENDER": "Bản tin bantin <bantin@example.org>",
        "BANTIN_SMTP_TIMEOUT": "5",
    }


def digest(env: dict[str, str], port: int, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["digest", "--week", "2024-W27", *args], env={**env, "BANTIN_SMTP_HOST": "127.0.0.1", "BANTIN_SMTP_PORT": str(port)}
    )


def ledger(session: Session) -> dict[str, tuple[str, int]]:
    session.expire_all()
    return {row.recipient: (row.status.value, row.attempts) for row in deliveries(session, "2024-W27")}


def mail_line(result: Result, address: str) -> str:
    (line,) = [line for line in result.output.splitlines() if line.startswith(f"mail: {address}:")]
    return line


# ---- the server may have it: uncertain --------------------------------------------------


@pytest.mark.usefixtures("week_with_two_provinces")
def test_connection_dropped_after_the_data_is_uncertain_and_sent_again_only_on_request(
    cli_env: dict[str, str], smtp_server: tuple[Misbehaving, int], session: Session
) -> None:
    server, port = smtp_server
    server.fault = "drop-after-data"

    first = digest(cli_env, port, "--send")
    assert first.exit_code == 3, first.output
    line = mail_line(first, QT)
    assert "uncertain" in line and "the message data was sent" in line and "not re-sent automatically" in line
    assert f"mail: {TQ}: sent" in first.output  # the others still go
    assert "attention: 1 delivery uncertain" in first.output
    assert f"bantin digest --week 2024-W27 --send --resend {QT}" in first.output
    assert ledger(session) == {QT: ("uncertain", 1), TQ: ("sent", 1)}
    assert (server.received(QT), server.received(TQ)) == (1, 1)  # the server has it: it will deliver it

    # The server behaves again; a plain re-run must not send it a second time, nor call it sent.
    server.fault = None
    again = digest(cli_env, port, "--send")
    assert again.exit_code == 3, again.output
    assert "uncertain" in mail_line(again, QT) and "already-sent" not in mail_line(again, QT)
    assert server.received(QT) == 1

    resent = digest(cli_env, port, "--send", "--resend", QT)
    assert resent.exit_code == 0, resent.output
    assert mail_line(resent, QT) == f"mail: {QT}: sent (re-sent on request)"
    assert mail_line(resent, TQ) == f"mail: {TQ}: already-sent"
    assert (server.received(QT), server.received(TQ)) == (2, 1)  # exactly one more copy, to QT only
    first_copy, second_copy = server.to(QT)
    assert first_copy["Message-ID"] == second_copy["Message-ID"]  # a mail client shows one message
    assert ledger(session) == {QT: ("sent", 2), TQ: ("sent", 1)}

    settled = digest(cli_env, port, "--send")
    assert settled.exit_code == 0 and "attention" not in settled.output
    assert (server.received(QT), server.received(TQ)) == (2, 1)


@pytest.mark.parametrize("fault", ["drop-after-data", "odd-reply", "hang-after-data"])
@pytest.mark.usefixtures("week_with_two_provinces")
def test_no_answer_to_the_data_is_never_retried_by_a_run(
    fault: str, settings: Settings, smtp_server: tuple[Misbehaving, int], session: Session
) -> None:
    server, port = smtp_server
    server.fault = fault
    smtp = with_smtp(settings, port)
    smtp = smtp.model_copy(update={"smtp": smtp.smtp.model_copy(update={"timeout_s": 1.0})})
    one = SUBSCRIBERS[:1]

    (result,) = run_digest(smtp, week="2024-W27", send=True, subscribers=one).deliveries
    assert result.status == "uncertain" and result.needs_operator
    assert "the message data was sent" in (result.error or "")
    server.fault = None
    for _ in range(2):
        run = run_digest(smtp, week="2024-W27", send=True, subscribers=one)
        assert [r.status for r in run.deliveries] == ["uncertain"]
        assert [u.recipient for u in run.attention] == [QT]
    assert server.received(QT) == 1
    assert ledger(session) == {QT: ("uncertain", 1)}

    (result,) = run_digest(smtp, week="2024-W27", send=True, subscribers=one, resend=["all-uncertain"]).deliveries
    assert (result.status, result.resent) == ("sent", True)
    assert server.received(QT) == 2
    assert run_digest(smtp, week="2024-W27", send=True, subscribers=one).attention == []
    assert server.received(QT) == 2


# ---- the server said no: failed, retried by the next run ----------------------------------


@pytest.mark.parametrize("fault", ["refuse-rcpt", "refuse-after-data"])
@pytest.mark.usefixtures("week_with_two_provinces")
def test_a_refusal_is_failed_and_the_next_run_sends_it_once(
    fault: str, cli_env: dict[str, str], smtp_server: tuple[Misbehaving, int], session: Session
) -> None:
    server, port = smtp_server
    server.fault = fault
    refused = digest(cli_env, port, "--send")
    assert refused.exit_code == 1, refused.output
    line = mail_line(refused, QT)
    assert line.startswith(f"mail: {QT}: failed:") and ("550" if fault == "refuse-rcpt" else "451") in line
    assert "attention" not in refused.output
    assert server.received(QT) == 0
    assert ledger(session)[QT] == ("failed", 1)

    server.fault = None
    retried = digest(cli_env, port, "--send")
    assert retried.exit_code == 0, retried.output
    assert mail_line(retried, QT) == f"mail: {QT}: sent"
    digest(cli_env, port, "--send")
    assert (server.received(QT), server.received(TQ)) == (1, 1)
    assert ledger(session) == {QT: ("sent", 2), TQ: ("sent", 1)}


# ---- a run that died while sending --------------------------------------------------------


@pytest.mark.usefixtures("week_with_two_provinces")
def test_a_run_killed_while_sending_is_reported_uncertain_not_already_sent(
    cli_env: dict[str, str], smtp_server: tuple[Misbehaving, int], session: Session
) -> None:
    server, port = smtp_server
    server.fault = "hang-after-data"
    env = {
        **os.environ,
        **cli_env,
        "BANTIN_SMTP_HOST": "127.0.0.1",
        "BANTIN_SMTP_PORT": str(port),
        "BANTIN_SMTP_TIMEOUT": "60",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    victim = subprocess.Popen(
        [sys.executable, "-m", "bantin.cli", "digest", "--week", "2024-W27", "--send"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.got_data.wait(60), "the run never reached DATA"
        victim.send_signal(signal.SIGKILL)  # while it waits for the server's answer
    finally:
        _, err = victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL, err.decode()
    assert ledger(session)[QT] == ("sending", 1)
    assert server.received(QT) == 1

    server.fault = None
    after = digest(cli_env, port, "--send")
    assert after.exit_code == 3, after.output
    line = mail_line(after, QT)
    assert "uncertain" in line and "that process is gone" in line and "already-sent" not in line
    assert ledger(session)[QT] == ("uncertain", 1)
    assert server.received(QT) == 1  # not re-sent automatically

    resent = digest(cli_env, port, "--send", "--resend", "all-uncertain")
    assert resent.exit_code == 0, resent.output
    assert mail_line(resent, QT) == f"mail: {QT}: sent (re-sent on request)"
    digest(cli_env, port, "--send")
    assert server.received(QT) == 2  # the one the killed run handed over, and the resend
    assert ledger(session)[QT] == ("sent", 2)


@pytest.mark.usefixtures("week_with_two_provinces")
def test_sending_rows_old_or_of_a_live_run(settings: Settings, smtp_server: tuple[Misbehaving, int], session: Session) -> None:
    """A row claimed on another machine 10 minutes ago is uncertain; one a live run claimed
    a moment ago is "in-progress": neither is sent, neither is called already-sent."""
    server, port = smtp_server
    smtp = with_smtp(settings, port)
    for subscriber, holder in zip(SUBSCRIBERS, ["other-host:4242", f"{socket.gethostname()}:{os.getpid()}"], strict=True):
        claim_delivery(session, "2024-W27", subscriber.email, f"<{subscriber.email}.claimed@example.org>", claimant=holder)
    ten_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    session.execute(update(DigestDelivery).where(DigestDelivery.recipient == QT).values(claimed_at=ten_minutes_ago))
    session.commit()

    run = run_digest(smtp, week="2024-W27", send=True, subscribers=SUBSCRIBERS)
    by_address = {r.recipient: r for r in run.deliveries}
    assert by_address[QT].status == "uncertain" and "other-host:4242" in (by_address[QT].error or "")
    assert by_address[QT].message_id == f"<{QT}.claimed@example.org>"  # what to look for in the server's log
    assert by_address[TQ].status == "in-progress"
    assert [u.recipient for u in run.attention] == [QT]
    assert server.received(QT) + server.received(TQ) == 0
    assert ledger(session) == {QT: ("uncertain", 1), TQ: ("sending", 1)}


# ---- what --resend refuses ------------------------------------------------------------------


@pytest.mark.usefixtures("week_with_two_provinces")
def test_resend_refuses_what_it_cannot_mean(cli_env: dict[str, str], smtp_server: tuple[Misbehaving, int]) -> None:
    server, port = smtp_server
    assert digest(cli_env, port, "--send").exit_code == 0
    refusals = {
        "needs the week": CliRunner().invoke(app, ["digest", "--send", "--resend", QT], env={**cli_env, "BANTIN_SMTP_HOST": "127.0.0.1", "BANTIN_SMTP_PORT": str(port)}),
        "needs --send": digest(cli_env, port, "--resend", QT),
        "not a subscriber": digest(cli_env, port, "--send", "--resend", "nobody@example.org"),
        "nothing uncertain to re-send": digest(cli_env, port, "--send", "--resend", QT),
    }
    for expected, result in refusals.items():
        assert result.exit_code == 2 and expected in result.output, (expected, result.output)
    assert (server.received(QT), server.received(TQ)) == (1, 1)


# ---- the Prefect flow ------------------------------------------------------------------------

FLOW_SCRIPT = r"""
import json, os
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId
from flows.digest import weekly_digest

def run(**env):
    os.environ.update(env)
    for name in [n for n, v in env.items() if v == ""]:
        del os.environ[name]
    state = weekly_digest(week="2024-W27", send=True, smtp_retry_delay_s=0, return_state=True)
    run_id = state.state_details.flow_run_id  # the server is shared: read back this run only
    with get_client(sync_client=True) as client:
        mine = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        artifacts = [a.data for a in client.read_artifacts(artifact_filter=mine) if a.key == "weekly-digest"]
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return {
        "state": state.type.value,
        "message": state.message,
        "artifact": artifacts[0] if artifacts else None,
        "mail_tasks": sorted((t.state.type.value, t.run_count) for t in tasks if t.name.startswith("mail digest")),
    }

good = {k: os.environ[k] for k in ("BANTIN_DATA_DIR", "BANTIN_DATABASE_URL", "BANTIN_SUBSCRIBERS")}
out = {
    # A bad subscribers file, in a data folder of its own: nothing may be written there.
    "bad": run(BANTIN_DATA_DIR=os.environ["FRESH_DATA_DIR"], BANTIN_DATABASE_URL="", BANTIN_SUBSCRIBERS=os.environ["BAD_SUBSCRIBERS"]),
    "dropped": run(**good),
}
open(os.environ["SERVER_FAULT_OFF"], "w").close()  # the server behaves from now on
out["rerun"] = run(**good)
print("RESULT " + json.dumps(out))
"""


@pytest.mark.server
@pytest.mark.usefixtures("week_with_two_provinces")
def test_the_flow_checks_first_never_retries_an_uncertain_delivery_and_fails_loudly(
    cli_env: dict[str, str], smtp_server: tuple[Misbehaving, int], session: Session, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    server, port = smtp_server
    server.fault = "drop-after-data"
    bad = tmp_path / "bad.yaml"
    bad.write_text('subscribers:\n  - {name: "An\\r\\nBcc: spy@example.org", email: an@example.org}\n', encoding="utf-8")
    fault_off = tmp_path / "fault-off"
    env = prefect_env(tmp_path / "prefect", prefect_server.api_url, {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")})
    env.update(
        cli_env,
        PREFECT_LOGGING_LEVEL="WARNING",
        BANTIN_SMTP_HOST="127.0.0.1",
        BANTIN_SMTP_PORT=str(port),
        FRESH_DATA_DIR=str(tmp_path / "fresh"),
        BAD_SUBSCRIBERS=str(bad),
        SERVER_FAULT_OFF=str(fault_off),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", FLOW_SCRIPT], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # Turn the fault off when the script says so (the server runs in this process).
    deadline = time.monotonic() + 480
    while proc.poll() is None and time.monotonic() < deadline:
        if fault_off.exists():
            server.fault = None
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    stdout, stderr = proc.communicate(timeout=30)
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))

    bad_run = out["bad"]
    assert bad_run["state"] == "FAILED" and f"{bad}:2: subscribers.0.name" in bad_run["message"]
    assert bad_run["mail_tasks"] == [] and not (tmp_path / "fresh").exists()  # no database, no archive

    dropped = out["dropped"]
    assert dropped["state"] == "FAILED"
    assert "1 delivery of 2024-W27 uncertain (qt@example.org)" in dropped["message"]
    assert "bantin digest --week 2024-W27 --send --resend all-uncertain" in dropped["message"]
    assert dropped["mail_tasks"] == [["COMPLETED", 1], ["COMPLETED", 1]]  # no task retried the uncertain one
    artifact = dropped["artifact"]
    assert "## ⚠ 1 uncertain delivery: needs an operator" in artifact
    assert f"| 2024-W27 | {QT} |" in artifact and f"`bantin digest --week 2024-W27 --send --resend {QT}`" in artifact
    assert f"| {QT} | uncertain |" in artifact and f"| {TQ} | sent |" in artifact
    assert (server.received(QT), server.received(TQ)) == (1, 1)

    rerun = out["rerun"]  # the server behaves again: still nothing re-sent, still loud
    assert rerun["state"] == "FAILED" and f"| {QT} | uncertain |" in rerun["artifact"]
    assert (server.received(QT), server.received(TQ)) == (1, 1)
    assert ledger(session) == {QT: ("uncertain", 1), TQ: ("sent", 1)}

    resent = digest(cli_env, port, "--send", "--resend", "all-uncertain")
    assert resent.exit_code == 0, resent.output
    assert (server.received(QT), server.received(TQ)) == (2, 1)
