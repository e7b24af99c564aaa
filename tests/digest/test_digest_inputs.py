"""Validate first, write after: `bantin digest` refuses a bad subscribers file, a mail
setting every send would fail on, or a folder it cannot write in with exit 2 naming the
file (line, field), option or variable — and has written nothing then: no database file,
no archive, no outbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bantin.cli import app


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A data folder that does not exist yet (SQLite inside it), a good subscribers file."""
    for name in [n for n in os.environ if n.startswith("BANTIN_") and n != "BANTIN_TEST_DATABASE_URL"]:
        monkeypatch.delenv(name)
    subscribers = tmp_path / "subscribers.yaml"
    # empty_weeks: the week has no meeting, and the control below needs a message written.
    subscribers.write_text("subscribers:\n  - {name: An, email: an@example.org, empty_weeks: true}\n", encoding="utf-8")
    return {"BANTIN_DATA_DIR": str(tmp_path / "var"), "BANTIN_SUBSCRIBERS": str(subscribers)}


def written(tmp_path: Path) -> list[str]:
    """Every file under tmp_path but the test's own inputs."""
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".yaml" and p.name != "a-file")


def test_a_good_run_writes_the_database_and_the_archive(fresh: dict[str, str], tmp_path: Path) -> None:
    # The control: the checks below would pass vacuously if a run never wrote anything.
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env=fresh)
    assert result.exit_code == 0, result.output
    assert "var/bantin.sqlite3" in written(tmp_path) and "var/digests/2024-W27.html" in written(tmp_path)
    assert "var/outbox/2024-W27__an@example.org.eml" in written(tmp_path)


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ('{name: "An\\r\\nBcc: spy@example.org", email: an@example.org}', ":3: subscribers.1.name: "),
        ("{name: Nguyễn An, email: nguyễn@example.org}", ":3: subscribers.1.email: "),
        ("{name: An, email: an@example.org, places: [Nowhere-at-all]}", ":3: subscribers.1.places.0: "),
        ("{name: An, email: BINH@example.org}", ":3: subscribers.1.email: BINH@example.org is listed twice (first on line 2)"),
    ],
)
@pytest.mark.parametrize("mode", ["--send", "--dry-run"])
def test_a_bad_subscribers_file_writes_nothing(fresh: dict[str, str], tmp_path: Path, entry: str, where: str, mode: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"subscribers:\n  - {{name: Bình, email: binh@example.org}}\n  - {entry}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", mode], env={**fresh, "BANTIN_SUBSCRIBERS": str(bad)})
    assert result.exit_code == 2, result.output
    assert f"{bad}{where}" in result.output
    assert written(tmp_path) == []
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BANTIN_SMTP_SECURITY", "tls", "BANTIN_SMTP_SECURITY='tls': expected starttls, ssl or none"),
        ("BANTIN_SMTP_SENDER", "Bản tin <bản-tin@example.org>", "BANTIN_SMTP_SENDER='Bản tin <bản-tin@example.org>': "),
        ("BANTIN_SMTP_CA_FILE", "/nonexistent/ca.pem", "BANTIN_SMTP_CA_FILE='/nonexistent/ca.pem': no such file"),
        ("BANTIN_LIST_UNSUBSCRIBE", "http://example.org/u", "BANTIN_LIST_UNSUBSCRIBE='http://example.org/u': expected a mailto: or https: URL"),
        ("BANTIN_SMTP_PASSWORD", "mật-khẩu", "BANTIN_SMTP_PASSWORD: smtplib sends only ASCII passwords"),
    ],
)
def test_a_mail_setting_every_send_would_fail_on_writes_nothing(
    fresh: dict[str, str], tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {**fresh, "BANTIN_SMTP_HOST": "127.0.0.1", "BANTIN_SMTP_PORT": "9", "BANTIN_SMTP_USER": "bantin", variable: value}
    result = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "mật-khẩu" not in result.output  # a secret is never printed
    assert written(tmp_path) == []


def test_a_folder_that_cannot_be_written_is_named_before_anything_is_written(fresh: dict[str, str], tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")

    out = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--out", str(a_file / "digests")], env=fresh)
    assert out.exit_code == 2, out.output
    assert f"--out: {a_file / 'digests'}: {a_file} is not a folder" in out.output

    data = CliRunner().invoke(app, ["digest", "--week", "2024-W27", "--send"], env={**fresh, "BANTIN_DATA_DIR": str(a_file)})
    assert data.exit_code == 2, data.output
    assert f"BANTIN_DATA_DIR (the digest archive): {a_file / 'digests'}: {a_file} is not a folder" in data.output
    assert written(tmp_path) == []
