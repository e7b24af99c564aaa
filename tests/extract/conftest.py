"""Helpers for the extraction tests: the shared gold scorer, loaded from ../shared/tools."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCORER = (REPO / "../shared/tools/score_extraction.py").resolve()


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec and spec.loader, f"scorer not found at {SCORER}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def scorer() -> ModuleType:
    if not SCORER.is_file():
        pytest.fail(f"the gold scorer is missing: {SCORER}")
    return load_scorer()
