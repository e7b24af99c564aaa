"""The Prefect flow, run for real (in a subprocess, against the session's Prefect
server): run name, markdown artifact, one mail task per subscriber, a retry of the mail
task after a temporary SMTP failure that still delivers exactly one message, and the
SMTP password read from a Prefect Secret block."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.orm import Session

from bantin.digest.operator import operator_key
from bantin.settings import PROJECT_ROOT, Settings
from digest_world import World, local
from storage.digests import deliveries
from storage.session import make_engine
from test_delivery import Inbox, free_port
from tests.prefect_harness.procs import PrefectServer, prefect_env

pytestmark = pytest.mark.server

SCRIPT = r"""
import json, os
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId
from prefect.blocks.system import Secret
from flows.digest import weekly_digest

# The SMTP password lives in a Prefect Secret block, named by BANTIN_SMTP_SECRET_BLOCK.
Secret(value="s3cret-pass").save(os.environ["BANTIN_SMTP_SECRET_BLOCK"])
state = weekly_digest(week="2024-W27", send=True, smtp_retry_delay_s=0, return_state=True)
result = state.result()
run_id = state.state_details.flow_run_id  # the server is shared: read back this run only
with get_client(sync_client=True) as client:
    run = client.read_flow_run(run_id)
    mine = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
    artifacts = [a for a in client.read_artifacts(artifact_filter=mine) if a.key == "weekly-digest"]
    task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
print("RESULT " + json.dumps({
    "state": state.type.value,
    "name": run.name,
    "result": result,
    "artifact": artifacts[0].data if artifacts else None,
    "tasks": sorted((t.name.rsplit("-", 1)[0], t.state.type.value, t.run_count) for t in task_runs),
}))
"""


class FlakyInbox(Inbox):
    """Answers the first message for `flaky` with a temporary failure (451)."""

    def __init__(self, flaky: str) -> None:
        super().__init__()
        self.flaky, self.refused = flaky, 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self.flaky in envelope.rcpt_tos and not self.refused:
            self.refused += 1
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


def test_weekly_digest_flow_mails_each_subscriber_once_with_a_retry(
    sqlite_settings: Settings, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_settings.resolved_database_url)
    with Session(engine) as session:
        world = World(session)
        world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
        world.portal("hy", "Cổng Hàm Yên", "Hàm Yên", "Tuyên Quang")
        vl = world.article("vl", "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm", published=local(2024, 7, 6, 9))
        world.meeting(vl, meeting_date=dt.date(2024, 7, 5), shortfalls=[("nông thôn mới nâng cao còn chậm", "new_rural_development")])
        hy = world.article("hy", "Thường trực Huyện ủy làm việc với xã Đức Ninh", published=local(2024, 7, 3, 9))
        world.meeting(hy, meeting_date=dt.date(2024, 7, 2), directives=[("tập trung thu ngân sách", "budget_investment")])
        session.commit()
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text(
        "subscribers:\n"
        "  - {name: An, email: an@example.org, districts: [Vĩnh Linh]}\n"
        "  - {name: Bình, email: binh@example.org, districts: []}\n",
        encoding="utf-8",
    )
    port = free_port()
    inbox = FlakyInbox("binh@example.org")
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        assert isinstance(auth_data, LoginPassword)
        logins.append(auth_data.password)
        return AuthResult(success=auth_data.login == b"bantin" and auth_data.password == b"s3cret-pass", handled=False)

    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True, auth_require_tls=False
    )
    controller.start()
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith("BANTIN_")}
        env = prefect_env(tmp_path / "prefect", prefect_server.api_url, base)
        env.update(
            PREFECT_LOGGING_LEVEL="WARNING",
            BANTIN_DATA_DIR=str(sqlite_settings.data_dir),
            BANTIN_DATABASE_URL=sqlite_settings.resolved_database_url,
            BANTIN_SUBSCRIBERS=str(subscribers),
            BANTIN_SMTP_HOST="127.0.0.1",
            BANTIN_SMTP_PORT=str(port),
            BANTIN_SMTP_SECURITY="none",
            BANTIN_SMTP_USER="bantin",
            BANTIN_SMTP_SECRET_BLOCK=f"bantin-smtp-password-{uuid.uuid4().hex[:8]}",  # this test's own block
            BANTIN_OPERATOR_EMAIL="ops@example.org",  # the week's operator report, after the readers'
            PYTHONPATH=str(PROJECT_ROOT),
        )
        proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=480)
    finally:
        controller.stop()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1].removeprefix("RESULT "))
    assert out["state"] == "COMPLETED"
    assert out["name"] == "digest 2024-W27 send"
    assert out["result"]["meetings"] == 2 and Path(out["result"]["html"]).name == "2024-W27.html"
    # One message each; Bình's mail task ran twice (the 451, then the retry).
    assert sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts) == ["an@example.org", "binh@example.org", "ops@example.org"]
    (report,) = [m for rcpts, m in inbox.messages if rcpts == ["ops@example.org"]]
    assert "an@example.org: sent" in report.get_body(("plain",)).get_content()  # the readers' outcomes, for the operator
    assert logins and set(logins) == {b"s3cret-pass"}  # from the Secret block
    mail_runs = sorted(count for name, state, count in out["tasks"] if name == "mail digest" and state == "COMPLETED")
    assert mail_runs == [1, 2]
    artifact = out["artifact"]
    assert "| Vĩnh Linh | 1 | 1 | 0 |" in artifact and "| Hàm Yên | 1 | 0 | 1 |" in artifact
    assert "| an@example.org | sent |" in artifact and "| binh@example.org | sent |" in artifact
    with Session(engine) as session:
        rows = {r.recipient: (r.status, r.attempts) for r in deliveries(session, "2024-W27")}
    engine.dispose()
    assert rows == {"an@example.org": ("sent", 1), "binh@example.org": ("sent", 2), operator_key("ops@example.org"): ("sent", 1)}
