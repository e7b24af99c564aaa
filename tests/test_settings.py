"""Settings come from one place (Settings.from_env) and a bad value names its variable."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bantin.settings import ENVIRONMENT, PROJECT_ROOT, Settings, SettingsError


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"BANTIN_SMTP_PORT='abc'"):
        Settings.from_env({"BANTIN_SMTP_PORT": "abc"})
    with pytest.raises(SettingsError, match=r"BANTIN_SMTP_TIMEOUT='soon'"):
        Settings.from_env({"BANTIN_SMTP_TIMEOUT": "soon"})


def test_passwords_never_print() -> None:
    settings = Settings.from_env({"BANTIN_SMTP_PASSWORD": "hunter2-mật-khẩu", "BANTIN_OFFLINE": "yes"})
    assert settings.offline is True
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
    assert settings.smtp.password is not None and settings.smtp.password.get_secret_value() == "hunter2-mật-khẩu"


def test_the_cli_exits_2_naming_the_bad_variable(tmp_path: Path) -> None:
    env = {**os.environ, "BANTIN_DATA_DIR": str(tmp_path), "BANTIN_SMTP_PORT": "abc"}
    done = subprocess.run(
        [sys.executable, "-c", "from bantin.cli import main; main()", "digest", "--week", "2024-W27"],
        env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert "BANTIN_SMTP_PORT" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "bantin.sqlite3").exists()  # nothing written


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    for path in sorted((PROJECT_ROOT / "bantin").rglob("*.py")) + sorted((PROJECT_ROOT / "flows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
                readers.append(str(path.relative_to(PROJECT_ROOT)))
    assert sorted(set(readers)) == ["bantin/settings.py", "flows/serve.py"]  # serve *sets* the worker's env
    assert set(ENVIRONMENT) >= {"BANTIN_DATABASE_URL", "BANTIN_SMTP_PASSWORD", "BANTIN_FIXTURES_URL"}


def _bantin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bantin.cli import main; main()", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
    )


def test_a_database_bantin_cannot_use_exits_2_naming_the_variable(tmp_path: Path) -> None:
    unsupported = _bantin({"BANTIN_DATA_DIR": str(tmp_path), "BANTIN_DATABASE_URL": "mysql://u@h/db"}, "crawl", "--offline", "-s", "ham-yen")
    assert unsupported.returncode == 2 and "BANTIN_DATABASE_URL" in unsupported.stderr and "Traceback" not in unsupported.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unwritable = _bantin({"BANTIN_DATA_DIR": str(blocker / "var")}, "crawl", "--offline", "-s", "ham-yen")
    assert unwritable.returncode == 2 and "BANTIN_DATA_DIR" in unwritable.stderr and "Traceback" not in unwritable.stderr


def test_a_database_of_a_newer_bantin_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from storage.session import make_engine, upgrade

    path = tmp_path / "bantin.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    done = _bantin({"BANTIN_DATA_DIR": str(tmp_path)}, "digest", "--week", "2024-W27")
    assert done.returncode == 2, done.stderr
    assert "9999" in done.stderr and "newer bantin" in done.stderr and "Traceback" not in done.stderr
    current = _bantin({"BANTIN_DATA_DIR": str(tmp_path)}, "db", "upgrade")
    assert current.returncode == 2 and "9999" in current.stderr
