"""The clause model: what `make train` makes of the committed corpus, small, quick to load."""

from __future__ import annotations

import time

from bantin.extract.labeller import MODEL_PATH, Model
from bantin.extract.training import fit, load_examples


def test_the_committed_model_is_what_make_train_gives() -> None:
    # the corpus and the model are committed together: a model trained on other data (or by
    # other code) would make the figures in docs/extraction.md unreproducible
    examples = load_examples({"train"}, with_seeds=True)
    assert len(examples) > 1000
    assert fit(examples).to_json() == MODEL_PATH.read_text(encoding="utf-8")


def test_the_model_is_small_and_loads_in_well_under_a_second() -> None:
    assert MODEL_PATH.stat().st_size < 2 * 2**20
    started = time.perf_counter()
    model = Model.from_json(MODEL_PATH.read_text(encoding="utf-8"))
    assert time.perf_counter() - started < 0.5
    assert model.weights.any()
