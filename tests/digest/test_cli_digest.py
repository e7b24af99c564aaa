"""`bantin digest` as a user runs it: paths printed, deliveries listed, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bantin.cli import app
from bantin.settings import Settings
from digest_world import World, local
from storage.session import make_engine


@pytest.fixture
def env(sqlite_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    engine = make_engine(sqlite_settings.resolved_database_url)
    with Session(engine) as session:
        world = World(session)
        world.portal("vl", "Cổng Vĩnh Linh", "Vĩnh Linh", "Quảng Trị")
        article = world.article("vl", "Huyện ủy Vĩnh Linh làm việc với xã Vĩnh Lâm", published=local(2024, 7, 6, 9))
        world.meeting(article, meeting_date=dt.date(2024, 7, 5), directives=[("tập trung thu ngân sách", "budget_investment")])
        session.commit()
    engine.dispose()
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text("subscribers:\n  - {name: An, email: an@example.org}\n", encoding="utf-8")
    for name in ("BANTIN_SMTP_HOST", "BANTIN_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return {
        "BANTIN_DATA_DIR": str(sqlite_settings.data_dir),
        "BANTIN_DATABASE_URL": sqlite_settings.resolved_database_url,
        "BANTIN_SUBSCRIBERS": str(subscribers),
    }


def test_digest_prints_paths_and_deliveries(env: dict[str, str], sqlite_settings: Settings) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["digest", "--week", "2024-W27", "--send"], env=env)
    assert result.exit_code == 0, result.output
    html = sqlite_settings.archive_dir / "2024-W27.html"
    assert f"html: {html}" in result.output and html.exists()
    assert "Vĩnh Linh: 1 meeting, 0 shortfalls, 1 directive" in result.output
    eml = sqlite_settings.outbox_dir / "2024-W27__an@example.org.eml"
    assert f"mail: an@example.org: outbox → {eml}" in result.output and eml.exists()
    again = runner.invoke(app, ["digest", "--week", "2024-W27", "--send"], env=env)
    assert "mail: an@example.org: already-sent" in again.output


def test_digest_custom_range_and_out_dir(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["digest", "--start", "2024-07-06", "--end", "2024-07-06", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert (out / "2024-07-06_2024-07-06.html").exists() and (out / "feed.xml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2024-W60"], "2024 has no week 60"),
        (["--start", "2024-07-01"], "give both --start and --end"),
        (["--week", "2024-W27", "--district", "Vĩnh Linh", "--send"], "--district cannot be combined"),
    ],
)
def test_digest_usage_errors(env: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["digest", *args], env=env)
    assert result.exit_code == 2 and message in result.output


def test_digest_names_a_bad_subscribers_file(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subscribers:\n  - {name: An, email: nobody}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env={**env, "BANTIN_SUBSCRIBERS": str(bad)})
    assert result.exit_code == 2 and f"{bad}:2: subscribers.0.email" in result.output
