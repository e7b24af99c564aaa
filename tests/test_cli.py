from typer.testing import CliRunner

from bantin.cli import app


def test_help_lists_every_job() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("crawl", "extract", "digest", "demo", "db", "fixtures"):
        assert command in result.output
