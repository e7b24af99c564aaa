"""The quality gate: `bantin extract seeds/articles/*.txt` scored against the shared gold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLD = (REPO / "../shared/gold/seeds.jsonl").resolve()
SEEDS = (REPO / "../shared/seeds").resolve()
SCORER = (REPO / "../shared/tools/score_extraction.py").resolve()


def test_seeds_meet_the_gold_thresholds(tmp_path: Path) -> None:
    if not GOLD.is_file():
        pytest.fail(f"gold annotation missing: {GOLD}")
    seeds = sorted((REPO / "seeds" / "articles").glob("*.txt"))
    assert len(seeds) == 5
    cli = subprocess.run(
        [sys.executable, "-m", "bantin.cli", "extract", *[str(p.relative_to(REPO)) for p in seeds]],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )
    out = tmp_path / "out.jsonl"
    out.write_text(cli.stdout, encoding="utf-8")
    records = [json.loads(line) for line in cli.stdout.splitlines()]
    assert [r["source"] for r in records] == [str(p.relative_to(REPO)) for p in seeds]
    scored = subprocess.run(
        [sys.executable, str(SCORER), str(GOLD), str(out), "--texts", str(SEEDS)],
        capture_output=True, text=True, timeout=60,
    )
    assert scored.returncode == 0, scored.stderr
    last = scored.stdout.strip().splitlines()[-1].split()
    # 'fields X  shortfalls F1 X  directives F1 X'
    fields, shortfalls, directives = float(last[1]), float(last[4]), float(last[7])
    assert fields >= 0.95, scored.stdout
    assert shortfalls >= 0.90, scored.stdout
    assert directives >= 0.90, scored.stdout


def test_scorer_agrees_in_process(scorer: ModuleType) -> None:
    """The same numbers through the scorer's functions, with the offsets checked too."""
    from bantin.extract import extract_meeting
    from bantin.extract.inputs import portal_of

    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    ok = total = 0
    for g in gold:
        path = REPO / "seeds" / "articles" / g["seed"]
        text = path.read_text(encoding="utf-8")
        portal = portal_of(path)
        record = extract_meeting(text, district=portal.district, province=portal.province, published=portal.published)
        out = record.model_dump(mode="json")
        for kind in ("achievements", "shortfalls", "directives"):
            for item in out[kind]:
                assert text[item["start"] : item["end"]] == item["text"]
        checks = scorer.field_scores(g, out)
        ok += sum(checks.values())
        total += len(checks)
    assert ok / total >= 0.95


def test_seeds_without_paragraph_breaks(tmp_path: Path) -> None:
    """A parser that loses the paragraph breaks (one line of body) still yields the clauses."""
    from bantin.extract import extract_meeting
    from bantin.extract.inputs import portal_of

    out = tmp_path / "flat.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for path in sorted((REPO / "seeds" / "articles").glob("*.txt")):
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            portal = portal_of(path)
            record = extract_meeting(lines[0] + "\n" + " ".join(lines[1:]), district=portal.district,
                                     province=portal.province, published=portal.published)
            record.source = path.name
            f.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
    scored = subprocess.run([sys.executable, str(SCORER), str(GOLD), str(out), "--texts", str(SEEDS)],
                            capture_output=True, text=True, timeout=60)
    last = scored.stdout.strip().splitlines()[-1].split()
    assert float(last[1]) >= 0.9 and float(last[4]) >= 0.85 and float(last[7]) >= 0.85, scored.stdout


def test_seed_pages_html_in(tmp_path: Path) -> None:
    """The seeds as their fixture portals serve them (menus, header dates, related news),
    through bantin.parse and the extractor: the same gate as the cleaned texts."""
    import datetime as dt

    from bantin.extract import extract_meeting
    from bantin.fixtures.portals import load_portals
    from bantin.fixtures.render import Renderer
    from bantin.parse import parse_article

    renderer = Renderer()
    out = tmp_path / "html.jsonl"
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for portal in load_portals():
            for article in portal.articles:
                if not article.seed_file or article.source_note:  # the provincial republish is another page
                    continue
                html = renderer.article(portal, article, today=dt.date(2024, 12, 6))
                parsed = parse_article(html, portal.url(article.path), portal.family)
                record = extract_meeting(parsed.text, district=portal.district, province=portal.province,
                                         published=parsed.published_at.date() if parsed.published_at else None,
                                         title=parsed.title)
                record.source = article.seed_file
                f.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
                n += 1
    assert n == 5
    scored = subprocess.run([sys.executable, str(SCORER), str(GOLD), str(out), "--texts", str(SEEDS)],
                            capture_output=True, text=True, timeout=60)
    last = scored.stdout.strip().splitlines()[-1].split()
    assert float(last[1]) >= 0.95 and float(last[4]) >= 0.90 and float(last[7]) >= 0.90, scored.stdout
