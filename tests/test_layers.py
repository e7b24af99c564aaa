"""The layers point one way (docs/architecture.md): read from every module's imports,
including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported(path: Path) -> set[str]:
    """Top-level package names and dotted module names a file imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        for name in sorted(imported(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                found.append(f"{where} imports {name}")
    return found


def test_storage_imports_nothing_of_bantin_or_flows() -> None:
    assert offending(modules("storage"), ("bantin", "flows", "prefect")) == []


def test_pure_bantin_modules_import_neither_storage_nor_prefect() -> None:
    # The application layer (bantin/jobs) joins bantin and storage; the CLI (bantin/commands,
    # bantin/cli.py) calls jobs; bantin/fixtures is the fixture portal server.
    pure = [
        p
        for p in modules("bantin")
        if not p.is_relative_to(ROOT / "bantin" / "jobs") and not p.is_relative_to(ROOT / "bantin" / "commands")
    ]
    assert len(pure) > 40
    assert offending(pure, ("storage", "prefect", "flows")) == []


def test_jobs_do_not_import_prefect_or_flows() -> None:
    assert offending(modules("bantin/jobs"), ("prefect", "flows")) == []


@pytest.mark.parametrize("folder", ["flows", "bantin/commands"])
def test_flows_and_cli_reach_storage_only_through_jobs(folder: str) -> None:
    assert offending(modules(folder), ("storage",)) == []


def test_a_storage_import_in_a_pure_module_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from storage.session import session_factory\n    return session_factory\n")
    assert offending([bad], ("storage",)) == ["bad.py imports storage.session"]
