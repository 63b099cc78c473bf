"""Warm latency of the extractive `ask` on the gold questions, split into retrieval and answer composition.

The sentence ranker (features + LightGBM) runs inside composition; retrieval includes the query embedding.
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
    from assistant.retrieval import adjacent_passage, retrieve

    questions = [row["question"] for row in load_gold(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_QA)]
    ask(questions[0], mode="extractive")  # warm: open the index, load BM25, the embedding model and the ranker
    total, retrieval, composition = [], [], []
    for question in questions:
        started = time.perf_counter()
        ask(question, mode="extractive")
        total.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        passages = retrieve(question, k=extractive.ANSWER_PASSAGES)
        retrieval.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        result = extractive.select(question, passages, adjacent_passage)
        extractive.compose(result.sentences, result.passages)
        composition.append((time.perf_counter() - started) * 1000)
    print(f"questions      {len(questions)}")
    print(f"ask            {_percentiles(total)}")
    print(f"  retrieve     {_percentiles(retrieval)}")
    print(f"  answer       {_percentiles(composition)}")


if __name__ == "__main__":
    main()
