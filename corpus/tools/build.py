#!/usr/bin/env python3
"""Build corpus/gold.jsonl and corpus/texts/manifest.yaml from the annotation batches.

usage: build.py [--check] [--only annotations/FILE.jsonl]

Reads every `corpus/annotations/*.jsonl` (records as `corpus/GUIDE.md` describes, clauses
as strings), locates each clause in its text (`texts/<seed>`) as an exact substring and
writes the gold records with `{"text", "start", "end"}` items, the split of each article,
the manifest `bantin extract` reads for the portal's district, province and
publication date, and SOURCES.tsv (where each text was taken from). `--check` writes nothing and exits 1 on any problem (a clause not found,
a missing text, a field of the wrong shape, a seed annotated twice).

Splits: `test` is every article of the t*.jsonl batches (portals no rule is tuned on); the
rest is `train` or `dev` by a stable hash of the file name (dev ≈ 30%).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "texts"
ANNOTATIONS = ROOT / "annotations"
GOLD = ROOT / "gold.jsonl"
MANIFEST = TEXTS / "manifest.yaml"
SOURCES = ROOT / "SOURCES.tsv"

# Batches named t*.jsonl hold the test split: articles of portals that no rule or model is
# tuned on (tests/corpus checks that no test portal appears in train/dev). Every other batch
# is split into train and dev.
TEST_BATCH_PREFIX = "t"
DEV_SHARE = 30  # percent
# Portals of a district or of one of its communes (before July 2025): their district is the
# portal's, known to the crawler from sources.yaml, so the manifest gives it. Provincial and
# post-2025 portals are left to the text.
DISTRICT_PORTALS = {
    "daksong.daknong.gov.vn", "xagiapho.hatinh.gov.vn", "dienbiendong.dienbien.gov.vn", "hauloc.thanhhoa.gov.vn",
    "phuongphothanh.ducpho.quangngai.gov.vn", "duclinh.binhthuan.gov.vn", "yenlap.phutho.gov.vn",
    "lamthao.phutho.gov.vn", "doluong.gov.vn", "kyanh.hatinh.gov.vn", "chupuh.gialai.gov.vn", "bachthong.gov.vn",
    "thapmuoi.dongthap.gov.vn", "bactramy.quangnam.gov.vn", "nganson.backan.gov.vn",
    "phuninh.thuynguyen.haiphong.gov.vn", "hoanghoa.gov.vn",
}

KINDS = {"working_session", "committee_conference", None}
FIELDS = ("seed", "portal", "source", "published", "level", "genre", "is_meeting", "title",
          "meeting_date", "date_evidence", "district", "province", "kind", "host_body",
          "chair", "communes", "period", "shortfalls", "directives", "notes")


def split_of(record: dict[str, Any], batch: str) -> str:
    if batch.startswith(TEST_BATCH_PREFIX):
        return "test"
    digest = hashlib.sha256(record["seed"].encode()).digest()
    return "dev" if digest[0] * 100 // 256 < DEV_SHARE else "train"


def locate(text: str, clause: str) -> tuple[int, int] | None:
    clause = clause.strip()
    pos = text.find(clause)
    return (pos, pos + len(clause)) if clause and pos >= 0 else None


def build_record(raw: dict[str, Any], where: str, problems: list[str], batch: str) -> dict[str, Any] | None:
    missing = [f for f in FIELDS if f not in raw]
    if missing:
        problems.append(f"{where}: missing fields {', '.join(missing)}")
        return None
    path = TEXTS / raw["seed"]
    if not path.is_file():
        problems.append(f"{where}: no text {path.relative_to(ROOT)}")
        return None
    text = path.read_text(encoding="utf-8")
    if raw["kind"] not in KINDS:
        problems.append(f"{where}: kind {raw['kind']!r}")
    if not raw["is_meeting"] and (raw["shortfalls"] or raw["directives"] or raw["kind"]):
        problems.append(f"{where}: a non-meeting with clauses or a kind")
    chair = raw["chair"]
    if chair is not None and not (isinstance(chair, dict) and chair.get("name")):
        problems.append(f"{where}: chair must be null or {{name, title}}")
    record = {k: raw[k] for k in FIELDS}
    if raw.get("truncated"):
        record["truncated"] = True
    for key in ("shortfalls", "directives"):
        items = []
        for item in raw[key]:
            clause = item["text"] if isinstance(item, dict) else str(item)
            span = locate(text, clause)
            if span is None:
                problems.append(f"{where}: {key} clause not in the text: {clause[:80]!r}")
                continue
            items.append({"text": text[span[0]:span[1]], "start": span[0], "end": span[1]})
        record[key] = items
    record["split"] = split_of(record, batch)
    return record


def load(files: list[Path], problems: list[str]) -> list[dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    sources: dict[tuple[str, str], str] = {}
    for file in files:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{file.relative_to(ROOT)}:{n}"
            try:
                raw = json.loads(line)
            except ValueError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            record = build_record(raw, where, problems, file.name)
            if record is None:
                continue
            if record["seed"] in records:
                problems.append(f"{where}: {record['seed']} annotated twice")
            src = record["source"] or {}
            key = (str(src.get("repo")), str(src.get("path")))
            if key in sources and sources[key] != record["seed"]:
                problems.append(f"{where}: same source as {sources[key]}: {key[1]}")
            sources[key] = record["seed"]
            records[record["seed"]] = record
    return [records[k] for k in sorted(records)]


def claimed_elsewhere(only: Path, records: list[dict[str, Any]]) -> list[str]:
    """Articles of `only` that a batch sorting before it already annotates (annotators
    work side by side; the earlier batch keeps the article)."""
    earlier: dict[tuple[str, str], str] = {}
    for file in sorted(ANNOTATIONS.glob("*.jsonl")):
        if file.name >= only.name:
            continue
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
                src = raw["source"]
                earlier[(str(src["repo"]), str(src["path"]))] = f"{file.name} ({raw['seed']})"
            except (ValueError, KeyError, TypeError):
                continue
    out = []
    for r in records:
        src = r["source"] or {}
        where = earlier.get((str(src.get("repo")), str(src.get("path"))))
        if where:
            out.append(f"{r['seed']}: this article is already annotated in {where}: "
                       f"delete this record and its text file, and pick another article")
    return out


def sources(records: list[dict[str, Any]]) -> str:
    """Where each text came from: repository (or search:pages), path (or URL), commit."""
    rows = ["file\tportal\tsplit\trepository\tpath\tcommit"]
    for r in records:
        src = r["source"] or {}
        rows.append("\t".join([r["seed"], r["portal"], r["split"], str(src.get("repo") or ""),
                               str(src.get("path") or ""), str(src.get("commit") or "")]))
    return "\n".join(rows) + "\n"


def manifest(records: list[dict[str, Any]]) -> str:
    lines = ["# Written by corpus/tools/build.py: the portal of each corpus text, read by",
             "# `bantin extract` (district, province, publication date).", "seeds:"]
    for r in records:
        lines.append(f"  - file: {r['seed']}")
        lines.append(f"    portal: {r['portal']}")
        # a district portal's district is the portal's (the crawler knows it); elsewhere the
        # text must say it
        for key, value in (("district", r["district"] if r["portal"] in DISTRICT_PORTALS
                            else None), ("province", r["province"]),
                           ("published_at", r["published"])):
            if value:
                lines.append(f"    {key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="validate only, write nothing")
    ap.add_argument("--only", type=Path, help="one annotation file")
    a = ap.parse_args()
    files = [a.only.resolve()] if a.only else sorted(ANNOTATIONS.glob("*.jsonl"))
    problems: list[str] = []
    records = load(files, problems)
    if a.only:
        problems.extend(claimed_elsewhere(a.only.resolve(), records))
    for p in problems:
        print(p, file=sys.stderr)
    splits = {s: sum(r["split"] == s for r in records) for s in ("train", "dev", "test")}
    meetings = sum(bool(r["is_meeting"]) for r in records)
    print(f"{len(records)} articles ({meetings} meetings), splits {splits}, "
          f"{len(problems)} problems", file=sys.stderr)
    if problems:
        return 1
    if not a.check and not a.only:
        GOLD.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                        encoding="utf-8")
        MANIFEST.write_text(manifest(records), encoding="utf-8")
        SOURCES.write_text(sources(records), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
