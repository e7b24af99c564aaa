"""`bantin demo` end to end (offline crawl → extraction → digest → .eml), in a temporary folder."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bantin.cli import app
from bantin.settings import PROJECT_ROOT
from tests.crawl.conftest import virtual_politeness


def test_demo_writes_the_digest_and_the_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BANTIN_DATABASE_URL", "BANTIN_SMTP_HOST", "BANTIN_FIXTURES_URL"):
        monkeypatch.delenv(name, raising=False)
    # A stale database from an earlier run is replaced, not appended to.
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "demo.sqlite3").write_bytes(b"not a database")
    runner = CliRunner()
    # The crawl's politeness (1 request/s per portal, Crawl-delay) in virtual time: the same
    # requests and the same demo, in seconds instead of a quarter of a minute.
    with virtual_politeness():
        result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    html_path = Path(re.search(r"HTML digest: (\S+)", result.output).group(1))  # type: ignore[union-attr]
    mails = [Path(p) for p in re.findall(r"Mail: +(\S+\.eml)", result.output)]
    assert html_path.exists() and len(mails) == 3 and all(p.exists() for p in mails)
    assert re.search(r"\[1/3\].*\n(.*\n)*.*\[2/3\].*\n(.*\n)*.*\[3/3\]", result.output)  # progress shown

    text = html_path.with_suffix(".txt").read_text(encoding="utf-8")
    seeds = yaml.safe_load((PROJECT_ROOT / "seeds" / "manifest.yaml").read_text(encoding="utf-8"))["seeds"]
    for seed in seeds:
        assert seed["url"] in text, seed["file"]  # every seed meeting is in the digest, linked
    # The provincial portal's republication is listed once, as another copy of its original.
    assert text.count("Cũng đăng trên:") >= 1
    message = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
