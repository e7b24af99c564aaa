"""The operator's commands without Prefect: `bantin check` (the preflight), `bantin run`
(crawl → extract → digest) and `bantin extract --stored`, as an operator sees them: what
they print, their exit status, and what they leave (or do not leave) behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from bantin.cli import app
from bantin.jobs.check import run_checks
from bantin.preflight import Status
from bantin.settings import ENVIRONMENT, PROJECT_ROOT, Settings
from storage.session import dispose_engines
from tests.crawl.conftest import virtual_politeness
from tests.prefect_harness.procs import free_port

EXAMPLE = PROJECT_ROOT / "deploy" / "subscribers.example.yaml"


def bantin(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **env}, prog_name="bantin")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str | None]]:
    """A machine with nothing set up: every BANTIN_ variable unset but the data folder and
    the subscribers file, both in tmp_path (the subscribers file not created)."""
    values: dict[str, str | None] = dict.fromkeys(ENVIRONMENT)
    values.update(
        BANTIN_DATA_DIR=str(tmp_path / "var"),
        BANTIN_SUBSCRIBERS=str(tmp_path / "subscribers.yaml"),
        PREFECT_API_URL=None,
    )
    yield values
    dispose_engines()


def test_check_on_a_fresh_machine_names_the_missing_subscribers_file_and_its_fix(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    result = bantin(["check"], env)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("ok") and "sources" in line and "6 portals enabled" in line for line in lines), result.output
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1 and "subscribers" in failed[0] and "no such file" in failed[0], result.output
    assert "fix: cp deploy/subscribers.example.yaml" in result.output
    assert "Prefect Variable bantin_subscribers" in result.output
    assert "1 problem (subscribers)" in result.output
    assert not (tmp_path / "var").exists()  # a check writes nothing, not even the data folder

    shutil.copy(EXAMPLE, tmp_path / "subscribers.yaml")
    result = bantin(["check"], env)
    assert result.exit_code == 0, result.output
    assert "3 subscribers in" in result.output
    assert "no BANTIN_SMTP_HOST: messages are written as .eml files" in result.output  # a warning, not a failure


def test_check_names_the_line_of_a_broken_sources_file(env: dict[str, str | None], tmp_path: Path) -> None:
    broken = tmp_path / "sources.yaml"
    broken.write_text("sources:\n  - id: x\n    base_url: not a url\n", encoding="utf-8")
    result = bantin(["check", "--only", "sources"], {**env, "BANTIN_SOURCES": str(broken)})
    assert result.exit_code == 1
    assert f"{broken}:2" in result.output or f"{broken}:3" in result.output, result.output
    assert f"fix: correct {broken}" in result.output


def test_check_of_an_unreachable_database_hides_its_password(env: dict[str, str | None]) -> None:
    url = "postgresql+psycopg://bantin:s3cret-pw@127.0.0.1:1/bantin"
    result = bantin(["check", "--only", "database"], {**env, "BANTIN_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "BANTIN_DATABASE_URL: cannot connect" in result.output
    assert "fix: check that the database server runs" in result.output
    assert "s3cret-pw" not in result.output


class Recorder:
    """An SMTP server that counts greetings and keeps any message it is given."""

    def __init__(self) -> None:
        self.greetings = 0
        self.messages: list[bytes] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, ANN201
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        self.messages.append(envelope.content)
        return "250 OK"


def test_check_says_hello_to_the_smtp_server_and_sends_nothing(env: dict[str, str | None]) -> None:
    port = free_port()
    recorder = Recorder()

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        assert isinstance(auth_data, LoginPassword)
        return AuthResult(success=auth_data.password == b"right", handled=False)

    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    smtp = {
        "BANTIN_SMTP_HOST": "127.0.0.1",
        "BANTIN_SMTP_PORT": str(port),
        "BANTIN_SMTP_SECURITY": "none",
        "BANTIN_SMTP_USER": "bantin",
        "BANTIN_SMTP_PASSWORD": "right",
    }
    try:
        ok = bantin(["check", "--only", "smtp"], {**env, **smtp})
        wrong = bantin(["check", "--only", "smtp"], {**env, **smtp, "BANTIN_SMTP_PASSWORD": "wrong"})
    finally:
        controller.stop()
    assert ok.exit_code == 0, ok.output
    assert f"127.0.0.1:{port} (none) answers" in ok.output and "logged in as bantin; no mail sent" in ok.output
    assert wrong.exit_code == 1
    assert "SMTPAuthenticationError" in wrong.output and "fix: check BANTIN_SMTP_USER and the password" in wrong.output
    assert "wrong" not in wrong.output.replace("SMTPAuthenticationError", "")  # the password is never shown
    assert recorder.greetings == 2 and recorder.messages == []

    nobody = bantin(["check", "--only", "smtp"], {**env, **smtp})  # the server is gone now
    assert nobody.exit_code == 1
    assert f"fix: nothing listens at 127.0.0.1:{port}" in nobody.output
    # As a flow runs it, a server down for now only warns (its mail tasks retry over minutes).
    settings = Settings.from_env({**{k: v for k, v in env.items() if v is not None}, **smtp})
    (down,) = run_checks(settings, ["smtp"], smtp_outage_is_warning=True)
    assert down.status is Status.WARN and "the mail tasks retry it" in down.detail


def test_run_goes_from_crawl_to_mail_and_extract_stored_finds_nothing_left(env: dict[str, str | None], tmp_path: Path) -> None:
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text("subscribers:\n  - {name: An, email: an@example.org, districts: []}\n", encoding="utf-8")
    with virtual_politeness():
        result = bantin(["run", "--offline", "-s", "vinh-hanh", "--week", "2024-W27", "--send"], env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("[1/3] crawl: 1 portal (offline)") < out.index("[2/3] extract") < out.index("[3/3] digest 2024-W27")
    assert "vinh-hanh: 10 new" in out
    assert "extracted 10 stored articles" in out
    assert "2024-W27: 1 meeting" in out
    eml = tmp_path / "var" / "outbox" / "2024-W27__an@example.org.eml"
    assert eml.exists() and f"mail: an@example.org: outbox → {eml}" in out
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'bantin.sqlite3'}")
    with engine.connect() as conn:
        meetings = conn.execute(text("SELECT count(*) FROM meetings WHERE is_meeting")).scalar_one()
    engine.dispose()
    assert meetings >= 1

    again = bantin(["extract", "--stored"], env)
    assert again.exit_code == 0 and "extracted 0 stored articles" in again.output
    redo = bantin(["extract", "--stored", "--again", "--source", "vinh-hanh", "--since", "2000-01-01"], env)
    assert redo.exit_code == 0, redo.output
    assert "extracted 10 stored articles (published since 2000-01-01, of vinh-hanh)" in redo.output
    unknown = bantin(["extract", "--stored", "--source", "vinh-hanhh"], env)
    assert unknown.exit_code == 2 and "unknown source id 'vinh-hanhh'" in unknown.output


def test_run_that_would_mail_nobody_fetches_nothing(env: dict[str, str | None], tmp_path: Path) -> None:
    result = bantin(["run", "--offline", "--send"], env)
    assert result.exit_code == 2
    assert "subscribers: FAIL" in result.output and "nothing was fetched" in result.output
    assert not (tmp_path / "var" / "bantin.sqlite3").exists()
    bad_week = bantin(["run", "--offline", "--week", "2024-27"], env)
    assert bad_week.exit_code == 2 and "--week 2024-27" in bad_week.output
    assert not (tmp_path / "var" / "bantin.sqlite3").exists()
