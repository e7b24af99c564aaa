"""Extraction quality on real articles: a regression gate on the corpus's dev split.

The figures the project reports are on `test` (docs/extraction.md); this gate watches
`dev`, which rules are tuned against, so that a change that loses ground on real
articles fails here and not only in a benchmark nobody reran.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quality() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_quality"] = module
    spec.loader.exec_module(module)
    return module


def test_dev_split_holds_its_figures_and_beats_the_keyword_floor(quality: ModuleType) -> None:
    scorer = quality.load_scorer()
    gold = quality.load_gold("dev")
    pred, _ = quality.run_bantin(gold, [str(ROOT / ".venv" / "bin" / "bantin"), "extract"])
    ours = quality.score(scorer, gold, pred)
    floor = quality.score(scorer, gold, quality.run_baseline(gold))
    assert ours.articles == len(gold) >= 30
    assert ours.fields >= 0.85, ours.fields_ok
    assert ours.meeting_right / ours.articles >= 0.95
    assert ours.prf("shortfalls")[2] >= 0.80
    assert ours.prf("directives")[2] >= 0.72
    for key in ("shortfalls", "directives"):
        assert ours.prf(key)[2] > floor.prf(key)[2] + 0.2
    assert ours.fields > floor.fields + 0.3
