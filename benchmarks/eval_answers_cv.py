"""Extractive answers on the training questions, as on unseen ones: grouped cross-validation of the whole answerer.

``ess-assistant eval --answers`` on train.jsonl scores answers made with a sentence ranker trained on those very
questions. Here each question is answered, through the public ``ask``, by a model trained without its fold
(folds grouped by the passage holding the evidence, ``extractive.fold_keys``; calibration from out-of-fold
scores, as ``train`` does), then by the model trained on all of them: the two lines show what a change of the
answerer (selection, features, model) does on new questions, and whether the model only fits its data (the
issue asks for cross-validated figures within 0.05 of in-sample ones). Choose and tune answerer changes here,
on train: the validation file is for reporting.

Usage: ESS_INDEX_DIR=... python benchmarks/eval_answers_cv.py [train.jsonl]
(an index of the bundled corpus; the models are written to a temporary folder, the shipped one is untouched).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant import extractive, ranking
from assistant.answer import ask
from assistant.answer_eval import evaluate_answers
from assistant.evaluation import load_gold
from assistant.retrieval import CENTROID_FILE
from assistant.types import Answer

DEFAULT_QA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "train.jsonl"
FOLDS = 5
METRICS = ("answer_evidence", "citation_precision", "answer_support", "abstention_rate", "false_abstention_rate")


def write_models(rows: Sequence[dict[str, Any]], folder: Path) -> tuple[list[Path], Path, ranking.TrainReport]:
    """One model per fold (trained on the other folds) and one on every question, written under ``folder``."""
    spec = ranking.registered()[extractive.RANKER]
    groups = spec.examples(rows)
    assignment = [ranking.fold_of(key, FOLDS) for key in groups.keys]
    calibration = ranking.fit_calibration(ranking.out_of_fold_scores(groups, spec.params, FOLDS), groups.labels)
    fold_dirs = []
    for fold in range(FOLDS):
        booster = ranking.fit_booster(groups.subset([i for i, f in enumerate(assignment) if f != fold]), spec.params)
        model = ranking.Ranker(spec.features, booster, calibration, {"fold": fold})
        fold_dirs.append(model.save(ranking.model_path(spec.name, folder / f"fold-{fold}")).parent)
    full, report = ranking.train(spec, groups, FOLDS)
    all_dir = full.save(ranking.model_path(spec.name, folder / "all")).parent
    # Retrieval keeps the query centroid in use (learned from questions alone, no labels).
    centroid = ranking.models_dir() / CENTROID_FILE
    if centroid.exists():
        for directory in (*fold_dirs, all_dir):
            shutil.copy(centroid, directory / CENTROID_FILE)
    return fold_dirs, all_dir, report


def asking_with(models: Callable[[str], Path]) -> Callable[[str], Answer]:
    """``ask`` in extractive mode with the sentence model of ``models(question)`` (through ESS_MODELS_DIR)."""

    def ask_fn(question: str) -> Answer:
        os.environ["ESS_MODELS_DIR"] = str(models(question))
        return ask(question, mode="extractive")

    return ask_fn


def main() -> None:
    rows = load_gold(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_QA)
    started = time.perf_counter()
    before = os.environ.get("ESS_MODELS_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        fold_dirs, all_dir, report = write_models(rows, Path(tmp))
        keys = extractive.fold_keys(rows)
        fold_of = {row["question"]: ranking.fold_of(key, FOLDS) for row, key in zip(rows, keys, strict=True)}
        try:
            cv = evaluate_answers(rows, asking_with(lambda q: fold_dirs[fold_of[q]]))
            in_sample = evaluate_answers(rows, asking_with(lambda q: all_dir))
        finally:
            os.environ.pop("ESS_MODELS_DIR", None)
            if before is not None:
                os.environ["ESS_MODELS_DIR"] = before
    print(report.summary())
    print(f"{len(rows)} questions ({cv['questions']} asked), {time.perf_counter() - started:.0f} s")
    print("                      " + " ".join(f"{m[:18]:>18}" for m in METRICS))
    for name, result in (("cross-validated", cv), ("in-sample", in_sample)):
        print(f"{name:<22}" + " ".join(f"{result[m]:>18.3f}" for m in METRICS))
    print("gap (in-sample - CV)  " + " ".join(f"{in_sample[m] - cv[m]:>18.3f}" for m in METRICS))


if __name__ == "__main__":
    main()
