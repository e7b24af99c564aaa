"""Extraction quality on the real-article corpus (corpus/), beside a keyword baseline.

    make quality                                   # the `test` split
    .venv/bin/python bench/quality.py --split dev --worst 10
    .venv/bin/python bench/quality.py --split all --baseline-only

Runs `bantin extract` on the split's texts (one process, as a user would), scores the
records with ../shared/tools/score_extraction.py (the project's scorer, imported so
that per-field figures use its own comparisons), and prints: fields accuracy overall
and per field (meeting articles), shortfall and directive precision / recall / F1 (all
articles: clauses found in a non-meeting count against precision), is_meeting
accuracy. The same figures for a keyword baseline follow, as a floor: a sentence with
a problem word is a shortfall, one with a request word is a directive, the portal's
district and province, nothing else.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
TEXTS = CORPUS / "texts"
SCORER = ROOT.parent / "shared" / "tools" / "score_extraction.py"
FIELD_NAMES = ("meeting_date", "district", "province", "chair_name", "chair_title", "communes",
               "kind", "host_body", "period")
Record = dict[str, Any]


def load_scorer() -> ModuleType:
    if not SCORER.is_file():
        sys.exit(f"bench/quality.py: the scorer is missing: {SCORER} (../shared beside the repo)")
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_gold(split: str, path: Path = CORPUS / "gold.jsonl") -> list[Record]:
    if not path.is_file():
        sys.exit("bench/quality.py: corpus/gold.jsonl is missing: run corpus/tools/build.py")
    gold = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [g for g in gold if split == "all" or g["split"] in split.split("+")]


def run_bantin(gold: list[Record], command: list[str]) -> tuple[dict[str, Record], float]:
    paths = [str(TEXTS / g["seed"]) for g in gold]
    started = time.perf_counter()
    out = subprocess.run([*command, *paths],
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"bantin extract failed ({out.returncode}):\n{out.stderr[-2000:]}")
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {Path(r["source"]).name: r for r in records}, elapsed


# --- the keyword baseline -------------------------------------------------------------
_SENT = re.compile(r"[^.;!?\n]+[.;!?]?")
_PROBLEM = re.compile(r"\b(?:hạn chế|tồn tại|khó khăn|chưa|còn chậm|còn thấp|yếu kém|vướng mắc|bất cập)\b", re.I)
_REQUEST = re.compile(r"\b(?:đề nghị|yêu cầu|cần|phải|chỉ đạo|thời gian tới)\b", re.I)
_MEETING = re.compile(r"\b(?:hội nghị|làm việc|kỳ họp|giao ban|đại hội|giám sát)\b", re.I)


def baseline(text: str, portal: Record) -> Record:
    nfc = unicodedata.normalize("NFC", text)
    shortfalls, directives = [], []
    for m in _SENT.finditer(nfc):
        sent = m.group(0).strip()
        if len(sent.split()) < 4:
            continue
        if _REQUEST.search(sent):
            directives.append(sent)
        elif _PROBLEM.search(sent):
            shortfalls.append(sent)
    head = "\n".join(nfc.splitlines()[:3])
    meeting = bool(_MEETING.search(head))
    return {"is_meeting": meeting, "district": portal.get("district"), "province": portal.get("province"),
            "shortfalls": shortfalls if meeting else [], "directives": directives if meeting else []}


def run_baseline(gold: list[Record]) -> dict[str, Record]:
    import yaml

    manifest = yaml.safe_load((TEXTS / "manifest.yaml").read_text(encoding="utf-8"))["seeds"]
    portals = {entry["file"]: entry for entry in manifest}
    return {g["seed"]: baseline((TEXTS / g["seed"]).read_text(encoding="utf-8"), portals.get(g["seed"], {}))
            for g in gold}


# --- scoring --------------------------------------------------------------------------
@dataclass
class Scores:
    fields_ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELD_NAMES, 0))
    meetings: int = 0
    clauses: dict[str, list[int]] = field(default_factory=lambda: {"shortfalls": [0, 0, 0], "directives": [0, 0, 0]})
    meeting_right: int = 0
    articles: int = 0
    per_article: list[tuple[float, str, str]] = field(default_factory=list)

    def prf(self, key: str) -> tuple[float, float, float]:
        inter, npred, ngold = self.clauses[key]
        p = inter / npred if npred else (1.0 if not ngold else 0.0)
        r = inter / ngold if ngold else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    @property
    def fields(self) -> float:
        total = self.meetings * len(FIELD_NAMES)
        return sum(self.fields_ok.values()) / total if total else 0.0


def score(scorer: ModuleType, gold: list[Record], pred: dict[str, Record]) -> Scores:
    s = Scores()
    for g in gold:
        p = pred.get(g["seed"], {})
        text_n = scorer.norm((TEXTS / g["seed"]).read_text(encoding="utf-8"))
        s.articles += 1
        s.meeting_right += bool(p.get("is_meeting")) == bool(g["is_meeting"])
        wrong: list[str] = []
        if g["is_meeting"]:
            s.meetings += 1
            for name, ok in scorer.field_scores(g, p).items():
                s.fields_ok[name] += ok
                if not ok:
                    wrong.append(name)
        lost = 0.0
        for key in ("shortfalls", "directives"):
            gcov, _ = scorer.spans(text_n, g.get(key) or [])
            items = p.get(key) or []
            pcov, located = scorer.spans(text_n, items)
            unlocated = sum(len(scorer.norm(scorer.item_text(it))) for it, loc in zip(items, located, strict=True) if loc is None)
            inter = len(gcov & pcov)
            s.clauses[key][0] += inter
            s.clauses[key][1] += len(pcov) + unlocated
            s.clauses[key][2] += len(gcov)
            lost += (len(gcov) - inter) + (len(pcov) + unlocated - inter)
        why = ", ".join(wrong)
        if bool(p.get("is_meeting")) != bool(g["is_meeting"]):
            why = f"is_meeting {p.get('is_meeting')} (gold {g['is_meeting']})" + (f"; {why}" if why else "")
        s.per_article.append((lost, g["seed"], why))
    return s


def report(name: str, s: Scores, elapsed: float | None) -> list[str]:
    sp, sr, sf = s.prf("shortfalls")
    dp, dr, df = s.prf("directives")
    lines = [f"== {name}: {s.articles} articles, {s.meetings} meetings"
             + (f", {elapsed:.1f} s" if elapsed is not None else "")]
    lines.append(f"  is_meeting accuracy {s.meeting_right / s.articles:.3f}" if s.articles else "  no articles")
    lines.append("  fields (meetings) " + f"{s.fields:.3f}  " + "  ".join(
        f"{k} {v / s.meetings:.2f}" for k, v in s.fields_ok.items()) if s.meetings else "  fields: no meetings")
    lines.append(f"  shortfalls P {sp:.3f} R {sr:.3f} F1 {sf:.3f}")
    lines.append(f"  directives P {dp:.3f} R {dr:.3f} F1 {df:.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test", choices=["train", "dev", "train+dev", "test", "all"])
    ap.add_argument("--worst", type=int, default=0, help="list the N articles with most clause characters lost")
    ap.add_argument("--baseline-only", action="store_true")
    ap.add_argument("--extractor", default=f"{ROOT / '.venv' / 'bin' / 'bantin'} extract",
                    help="the command that extracts (file paths are appended), e.g. an older checkout's")
    ap.add_argument("--gold", type=Path, default=CORPUS / "gold.jsonl", help="gold records (default corpus/gold.jsonl)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    a = ap.parse_args(argv)
    scorer = load_scorer()
    gold = load_gold(a.split, a.gold)
    if not gold:
        sys.exit(f"bench/quality.py: no article in split {a.split!r}")
    results: dict[str, tuple[Scores, float | None]] = {}
    if not a.baseline_only:
        pred, elapsed = run_bantin(gold, a.extractor.split())
        results["bantin"] = (score(scorer, gold, pred), elapsed)
    results["keyword baseline"] = (score(scorer, gold, run_baseline(gold)), None)
    print(f"split {a.split}")
    for name, (s, elapsed) in results.items():
        print("\n".join(report(name, s, elapsed)))
    if a.worst:
        s = next(iter(results.values()))[0]
        print(f"worst {a.worst} ({next(iter(results))}): characters lost, fields wrong")
        for lost, seed, why in sorted(s.per_article, reverse=True)[: a.worst]:
            print(f"  {seed:20} {lost:6.0f}  {why}")
    if a.json:
        a.json.write_text(json.dumps({name: {
            "articles": s.articles, "meetings": s.meetings, "fields": s.fields,
            "per_field": {k: v / s.meetings for k, v in s.fields_ok.items()} if s.meetings else {},
            "is_meeting": s.meeting_right / s.articles,
            "shortfalls": s.prf("shortfalls"), "directives": s.prf("directives")}
            for name, (s, _) in results.items()}, indent=1))
    first = next(iter(results.values()))[0]
    print(f"fields {first.fields:.3f}  shortfalls F1 {first.prf('shortfalls')[2]:.3f}  "
          f"directives F1 {first.prf('directives')[2]:.3f}  is_meeting {first.meeting_right / first.articles:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
