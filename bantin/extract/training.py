"""Train the clause labeller (`make train`): corpus `train` split (+ the seeds) -> clause_model.json.

    .venv/bin/python -m bantin.extract.training [--splits train] [--out PATH]

Each article is read as the extractor reads it (layout, rules, clause units); a unit's
gold label is the kind of gold clause covering most of its characters (at least 40%),
else "other". The model is a multinomial logistic regression over the units' hashed
features, fitted by full-batch AdaGrad for a fixed number of steps from zero weights:
the same data give the same file. Figures on the `dev` split are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bantin.extract.clauses import Found, find_clauses
from bantin.extract.labeller import DIM, LABELS, MODEL_PATH, Model, Unit, featurise, segment, vector_indices
from bantin.extract.layout import analyse
from bantin.extract.textnorm import key, normalise

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
SEED_GOLD = ROOT.parent / "shared" / "gold" / "seeds.jsonl"
SEED_TEXTS = ROOT / "seeds" / "articles"
MIN_COVER = 0.4
# rarer labels weigh more: (total / count) ** power; 0.5 = the square root
CLASS_WEIGHT_POWER = 1.0
# AdaGrad steps and the L2 penalty, chosen by 10-fold cross-validation on train+dev (--cv)
STEPS = 400
L2 = 3e-3


@dataclass
class Example:
    indices: list[int]
    label: int
    seed: str


def _locate(norm_lower: str, clause: str) -> tuple[int, int] | None:
    k = key(clause).strip(" .;,:")
    if not k:
        return None
    # key() folds white space; the texts have single spaces inside lines, so a direct find works
    pos = norm_lower.find(k)
    return (pos, pos + len(k)) if pos >= 0 else None


def article_examples(text: str, gold: dict[str, Any], seed: str) -> list[Example]:
    nt = normalise(text)
    norm = nt.norm
    layout = analyse(norm)
    found = find_clauses(layout, norm)
    units: list[Unit] = segment(layout, norm)
    featurise(units, norm, found)
    lower = norm.lower()
    spans: dict[str, list[tuple[int, int]]] = {"shortfall": [], "directive": []}
    for kind, name in (("shortfalls", "shortfall"), ("directives", "directive")):
        for item in gold.get(kind) or []:
            if isinstance(item, dict) and "start" in item and nt.index is None:
                spans[name].append((int(item["start"]), int(item["end"])))
                continue
            text_of = item["text"] if isinstance(item, dict) else str(item)
            loc = _locate(lower, text_of)
            if loc:
                spans[name].append(loc)
    out = []
    for u in units:
        size = max(1, u.end - u.start)
        cover = {name: sum(max(0, min(u.end, e) - max(u.start, s)) for s, e in sp) / size
                 for name, sp in spans.items()}
        best = max(cover, key=lambda k: cover[k])
        label = LABELS.index(best) if cover[best] >= MIN_COVER else 0
        out.append(Example(vector_indices(u.features), label, seed))
    return out


def load_examples(splits: set[str], with_seeds: bool, gold_path: Path = CORPUS / "gold.jsonl") -> list[Example]:
    examples: list[Example] = []
    if gold_path.is_file():
        for line in gold_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            g = json.loads(line)
            if g["split"] in splits:
                text = (CORPUS / "texts" / g["seed"]).read_text(encoding="utf-8")
                examples.extend(article_examples(text, g, g["seed"]))
    if with_seeds and SEED_GOLD.is_file():
        for line in SEED_GOLD.read_text(encoding="utf-8").splitlines():
            if line.strip():
                g = json.loads(line)
                text = (SEED_TEXTS / g["seed"]).read_text(encoding="utf-8")
                examples.extend(article_examples(text, g, g["seed"]))
    return examples


def _design(examples: list[Example]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    flat = np.fromiter((i for ex in examples for i in ex.indices), dtype=np.int64)
    rows = np.fromiter((r for r, ex in enumerate(examples) for _ in ex.indices), dtype=np.int64)
    starts = np.cumsum([0] + [len(ex.indices) for ex in examples[:-1]]).astype(np.int64)
    return flat, rows, starts


def fit(examples: list[Example], steps: int = STEPS, rate: float = 0.3, l2: float = L2) -> Model:
    flat, rows, starts = _design(examples)
    y = np.array([ex.label for ex in examples])
    onehot = np.eye(len(LABELS))[y]
    counts = np.bincount(y, minlength=len(LABELS)).astype(float)
    # rarer labels weigh more (square root of the inverse frequency), so "other" does not swamp them
    class_weight = (counts.sum() / np.maximum(counts, 1.0)) ** CLASS_WEIGHT_POWER
    sample_weight = class_weight[y] / class_weight[y].mean()
    w = np.zeros((DIM, len(LABELS)))
    g2 = np.full_like(w, 1e-8)
    for _ in range(steps):
        scores = np.add.reduceat(w[flat], starts, axis=0)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        delta = (p - onehot) * sample_weight[:, None] / len(examples)
        grad = np.zeros_like(w)
        np.add.at(grad, flat, delta[rows])
        grad += l2 * w
        g2 += grad * grad
        w -= rate * grad / np.sqrt(g2)
    return Model(w.astype(np.float32))


def evaluate(model: Model, examples: list[Example]) -> str:
    if not examples:
        return "no examples"
    flat, _, starts = _design(examples)
    pred = np.add.reduceat(model.weights[flat].astype(np.float64), starts, axis=0).argmax(axis=1)
    gold = np.array([ex.label for ex in examples])
    parts = [f"accuracy {float((pred == gold).mean()):.3f}"]
    for k, name in enumerate(LABELS[1:], start=1):
        tp = int(((pred == k) & (gold == k)).sum())
        p = tp / max(1, int((pred == k).sum()))
        r = tp / max(1, int((gold == k).sum()))
        parts.append(f"{name} P {p:.2f} R {r:.2f}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", default="train", help="comma-separated corpus splits to train on")
    ap.add_argument("--no-seeds", action="store_true", help="leave the five seed articles out of training")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--gold", type=Path, default=CORPUS / "gold.jsonl")
    ap.add_argument("--cv", type=int, default=0, help="only cross-validate with K folds on train+dev")
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--l2", type=float, default=L2)
    a = ap.parse_args(argv)
    if a.cv:
        cross_validate(a.cv, a.gold, a.steps, a.l2)
        return 0
    splits = set(a.splits.split(","))
    train = load_examples(splits, with_seeds=not a.no_seeds, gold_path=a.gold)
    if not train:
        print("training: no examples (corpus/gold.jsonl missing?)", file=sys.stderr)
        return 2
    labels = Counter(LABELS[ex.label] for ex in train)
    print(f"training on {len(train)} units of {len({ex.seed for ex in train})} articles: {dict(labels)}")
    model = fit(train, steps=a.steps, l2=a.l2)
    a.out.write_text(model.to_json(), encoding="utf-8")
    print(f"wrote {a.out} ({a.out.stat().st_size // 1024} KB)")
    print("train:", evaluate(model, train))
    if "dev" not in splits:
        print("dev:  ", evaluate(model, load_examples({"dev"}, with_seeds=False, gold_path=a.gold)))
    return 0



def cross_validate(folds: int, gold_path: Path, steps: int, l2: float) -> None:
    """Article-level k-fold on train+dev: clause F1 of rules alone vs the model (char overlap)."""
    import importlib.util

    from bantin.extract.labeller import learned_clauses

    spec = importlib.util.spec_from_file_location("score_extraction", ROOT.parent / "shared" / "tools" / "score_extraction.py")
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    records = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [g for g in records if g["split"] in ("train", "dev") and g["is_meeting"]]
    texts = {g["seed"]: (CORPUS / "texts" / g["seed"]).read_text(encoding="utf-8") for g in records}
    examples = {g["seed"]: article_examples(texts[g["seed"]], g, g["seed"]) for g in records}
    totals = {name: {k: [0, 0, 0] for k in ("shortfalls", "directives")} for name in ("rules", "model", "union")}
    for fold in range(folds):
        held = [g for i, g in enumerate(records) if i % folds == fold]
        train = [ex for g in records if g not in held for ex in examples[g["seed"]]]
        model = fit(train, steps=steps, l2=l2)
        for g in held:
            text = texts[g["seed"]]
            nt = normalise(text)
            layout = analyse(nt.norm)
            found = find_clauses(layout, nt.norm)
            text_n = scorer.norm(text)
            learned = learned_clauses(layout, nt.norm, found, model)
            union = Found(found.achievements, found.shortfalls + learned.shortfalls, learned.directives)
            for name, f in (("rules", found), ("model", learned), ("union", union)):
                for key_, spans in (("shortfalls", f.shortfalls), ("directives", f.directives)):
                    gcov, _ = scorer.spans(text_n, g[key_])
                    pcov, _ = scorer.spans(text_n, [nt.quote(s, e)[0] for s, e in spans])
                    t = totals[name][key_]
                    t[0] += len(gcov & pcov)
                    t[1] += len(pcov)
                    t[2] += len(gcov)
    for name, by_kind in totals.items():
        parts = []
        for key_, (inter, npred, ngold) in by_kind.items():
            p, r = inter / max(1, npred), inter / max(1, ngold)
            parts.append(f"{key_} P {p:.3f} R {r:.3f} F1 {2 * p * r / max(1e-9, p + r):.3f}")
        print(f"{name:6} " + "  ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
