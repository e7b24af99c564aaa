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
