"""Does ordering the fusion's five best passages by their best answer sentence put the evidence first more often?

``retrieve`` reorders the hybrid's five best passages by the best sentence each holds, as the answer-sentence
ranker scores it (``extractive.order_by_answers``). Measured out of fold, as every answer figure of the README: each
labelled question is ordered by a sentence model trained without its fold (folds grouped by evidence passage,
``extractive.fold_keys``), then by the model trained on every question (in-sample, for the gap). Printed: R@1 and
MRR@5 of the fusion's order and of the reordered one (R@5 cannot change). Dev is not read.

Measured 2026-12-04 (2 cores; train.jsonl + data/questions/written.jsonl, 875 questions with evidence): R@1 / MRR@5
0.554 / 0.641 in the fusion's order → 0.576 / 0.651 out of fold (in-sample 0.592 / 0.663). Validation, with the
shipped model (``ess-assistant eval --qa``): heldout R@1 0.465 → 0.542, dev 0.647 → 0.647.
Usage: ESS_INDEX_DIR=... PYTHONPATH=. python benchmarks/eval_passage_order.py [questions.jsonl …]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from assistant import extractive, ranking
from assistant.evaluation import load_gold
from assistant.retrieval import REORDERED, fused_passages
from benchmarks.eval_answers_cv import FOLDS, write_models
from ingest.ocr import contains_evidence

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval"
QUESTIONS = [SHARED / "train.jsonl", Path(__file__).resolve().parents[1] / "data" / "questions" / "written.jsonl"]


def _rank(passages: list, evidence: list[str]) -> int | None:
    return next((n for n, p in enumerate(passages, 1) if any(contains_evidence(p.text, e) for e in evidence)), None)


def main() -> None:
    rows = [row for path in ([Path(a) for a in sys.argv[1:]] or QUESTIONS) for row in load_gold(path)]
    before = os.environ.get("ESS_MODELS_DIR")
    ranks: dict[str, list[int | None]] = {"fusion": [], "out of fold": [], "in-sample": []}
    with tempfile.TemporaryDirectory() as tmp:
        fold_dirs, all_dir, _ = write_models(rows, Path(tmp))
        try:
            for row, key in zip(rows, extractive.fold_keys(rows), strict=True):
                evidence = row.get("evidence") or []
                if not evidence:
                    continue
                passages = fused_passages(row["question"], k=REORDERED)
                ranks["fusion"].append(_rank(passages, evidence))
                for name, folder in (("out of fold", fold_dirs[ranking.fold_of(key, FOLDS)]), ("in-sample", all_dir)):
                    os.environ["ESS_MODELS_DIR"] = str(folder)
                    ranks[name].append(_rank(extractive.order_by_answers(row["question"], passages), evidence))
        finally:
            os.environ.pop("ESS_MODELS_DIR", None)
            if before is not None:
                os.environ["ESS_MODELS_DIR"] = before
    n = len(ranks["fusion"])
    print(f"{n} questions with evidence")
    for name, found in ranks.items():
        r1 = sum(r == 1 for r in found) / n
        mrr = sum(1 / r for r in found if r) / n
        print(f"{name:<12} R@1 {r1:.3f}  MRR@5 {mrr:.3f}  R@5 {sum(r is not None for r in found) / n:.3f}")


if __name__ == "__main__":
    main()
