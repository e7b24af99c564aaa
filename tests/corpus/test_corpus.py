"""The real-article corpus (corpus/): ground truth that can be trusted.

Every quoted clause slices its text exactly, every text is annotated once, the test
split's portals never appear in train/dev, nothing held out was used, and the corpus
is as large and as varied as the benchmark needs.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
HOLDOUT = ROOT.parent / "shared" / "corpus" / "holdout-sha256.txt"
HELD_OUT_REPOS = {
    "magizbox/scraper", "dzungcamlang/crawler_baomoi", "nguyenvulebinh/trends",
    "ewh-support/shrimpnew.dakotavina", "dinhdn218/mttqphonghailangnghe",
    "ewh-support/tuandaknong-dakrlap.daknong", "ewh-support/krongno.daknong",
    "ewh-support/dakglong_quy.daknong", "natuan62/dakglong123.huydaknong",
    "levinhtuyen1234/gianghia.daknong",
}


@pytest.fixture(scope="module")
def gold() -> list[dict[str, Any]]:
    lines = (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_clause_slices_its_text_exactly(gold: list[dict[str, Any]]) -> None:
    checked = 0
    for record in gold:
        text = (CORPUS / "texts" / record["seed"]).read_text(encoding="utf-8")
        for key in ("shortfalls", "directives"):
            for item in record[key]:
                assert text[item["start"]:item["end"]] == item["text"], (record["seed"], item)
                checked += 1
    assert checked > 500


def test_every_text_is_annotated_once(gold: list[dict[str, Any]]) -> None:
    seeds = [r["seed"] for r in gold]
    assert len(seeds) == len(set(seeds))
    texts = {p.name for p in (CORPUS / "texts").glob("*.txt")}
    assert texts == set(seeds)


def test_gold_is_what_the_annotations_build_to() -> None:
    out = subprocess.run([sys.executable, str(CORPUS / "tools" / "build.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_test_split_shares_no_portal_with_train_or_dev(gold: list[dict[str, Any]]) -> None:
    test_portals = {r["portal"] for r in gold if r["split"] == "test"}
    tuned_portals = {r["portal"] for r in gold if r["split"] in ("train", "dev")}
    assert not test_portals & tuned_portals
    assert len(test_portals) >= 3
    assert sum(r["split"] == "test" for r in gold) >= 40


def test_nothing_held_out_was_used(gold: list[dict[str, Any]]) -> None:
    held = {line.split()[0] for line in HOLDOUT.read_text().splitlines() if line.strip() and not line.startswith("#")}
    for record in gold:
        repo, path = record["source"]["repo"], record["source"]["path"]
        assert repo not in HELD_OUT_REPOS, record["seed"]
        assert hashlib.sha256(f"{repo}:{path}".encode()).hexdigest() not in held, record["seed"]


def test_size_and_spread(gold: list[dict[str, Any]]) -> None:
    meetings = [r for r in gold if r["is_meeting"]]
    assert len(gold) >= 150
    assert len(meetings) >= 100
    assert len(gold) - len(meetings) >= 30
    assert len({r["portal"] for r in gold}) >= 5
    years = Counter((r["published"] or "")[:4] for r in gold)
    assert len([y for y in years if y]) >= 3
    kinds = Counter(r["kind"] for r in meetings)
    assert kinds["working_session"] >= 10 and kinds["committee_conference"] >= 10


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}


def test_no_test_article_is_a_copy_of_a_tuning_article(gold: list[dict[str, Any]]) -> None:
    # portals repost each other's news: the same story on a test portal and on the tuning one
    # would let tuning see the test split
    shingles = {r["seed"]: _shingles((CORPUS / "texts" / r["seed"]).read_text(encoding="utf-8")) for r in gold}
    tuned = [r["seed"] for r in gold if r["split"] != "test"]
    for r in gold:
        if r["split"] != "test" or len(shingles[r["seed"]]) < 20:
            continue
        mine = shingles[r["seed"]]
        for other in tuned:
            theirs = shingles[other]
            if len(theirs) >= 20:
                assert len(mine & theirs) / min(len(mine), len(theirs)) < 0.5, (r["seed"], other)
