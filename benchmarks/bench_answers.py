"""Warm latency of the extractive `ask` on the gold questions, split into retrieval and answer composition.

The sentence ranker (features + LightGBM) runs inside composition; retrieval (the fusion's order, which the answerer
reads) includes the query embedding. The public `retrieve`, which also reorders the five best by that ranker, is
timed on its own.
Usage: ESS_INDEX_DIR=/path/to/index python benchmarks/bench_answers.py [questions.jsonl]
(an index of the bundled corpus: `ess-assistant ingest` first).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

DEFAULT_QA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered):.0f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.0f} ms"


def main() -> None:
    from assistant import extractive
    from assistant.answer import ask
    from assistant.evaluation import load_gold
    from assistant.retrieval import adjacent_passage, fused_passages, retrieve

    questions = [row["question"] for row in load_gold(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_QA)]
    ask(questions[0], mode="extractive")  # warm: open the index, load BM25, the embedding model and the ranker
    total, retrieval, composition, public = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        ask(question, mode="extractive")
        total.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        passages = fused_passages(question, k=extractive.ANSWER_PASSAGES)
        retrieval.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        retrieve(question, k=5)
        public.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        result = extractive.select(question, passages, adjacent_passage)
        extractive.compose(result.sentences, result.passages)
        composition.append((time.perf_counter() - started) * 1000)
    print(f"questions      {len(questions)}")
    print(f"ask            {_percentiles(total)}")
    print(f"  retrieve     {_percentiles(retrieval)}")
    print(f"  answer       {_percentiles(composition)}")
    print(f"retrieve       {_percentiles(public)} (public: the five best reordered by the sentence ranker)")


if __name__ == "__main__":
    main()
