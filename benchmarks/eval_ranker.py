"""Would a learned passage order beat the hybrid's fused order? Measured with assistant/ranking.py on a built index.

For each question: the hybrid's 30 best fused candidates (BM25 top 60 + exact dense top 60, weighted RRF, as
``retrieve``), three query-relative signals per candidate (fused score, BM25 score / the query's best, cosine −
the pool's best), label 1 when the candidate holds a gold evidence quote. A monotone LambdaMART is trained on
the training questions; printed: the fused order and the model on train (grouped 5-fold cross-validation and
in-sample) and on the validation questions (model trained on all of train). Near-duplicates are not collapsed
here, so the fused figures can differ slightly from ``ess-assistant eval``.

Measured 2026-12-02 (index of the bundled corpus with OCR correction, exact dense search; machine shared by six
jobs, 344 s): train fused R@1/R@5 0.474/0.677, model grouped CV 0.484/0.690, in-sample 0.513/0.723; validation
fused 0.647/0.882, model 0.647/0.804 (the same through ``retrieve`` when the model was wired in). Richer feature
sets (term and best-sentence coverage, title/section match, question kind ↔ cues, length, position, neighbours,
section and document votes, dense and BM25 pseudo-relevance feedback, sentence vectors) stayed within ±0.02 of
the fused R@1 in cross-validation and cost the easy questions (six of them: R@1 0.69 → 0.66 on train's 58 easy
questions), so this passage model is not used (``retrieve`` orders its five best by the answer-sentence ranker
instead: benchmarks/eval_passage_order.py). Again on train.jsonl + data/questions/written.jsonl (463
questions, 2026-12-02, after the preceding passage's BM25 share): fused R@1/R@5 0.503/0.708, model grouped CV
0.499/0.721, in-sample 0.531/0.737 — still no gain at rank 1. Once more with the questions' common direction
(three fused lists; run on a file joining both, 2026-12-02): fused 0.518/0.739, model grouped CV 0.510/0.743,
in-sample 0.542/0.754; validation fused 0.647/0.843, model 0.588/0.843. Fourth session, 547 questions (train +
the first 258 written ones, one file): fused 0.537/0.751, model grouped CV 0.525/0.748, in-sample 0.556/0.770;
validation fused 0.647/0.843, model 0.647/0.843.

Usage: ESS_INDEX_DIR=... python benchmarks/eval_ranker.py [train.jsonl [dev.jsonl]]
The validation file is only printed, never fitted or tuned on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant import ranking
from assistant.evaluation import load_gold
from assistant.retrieval import get_search
from vectorstore.text import contains_quote, normalize_for_match

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
POOL = 30
FEATURES = ranking.FeatureSet("passages-benchmark", 1, ("rrf", "bm25_ratio", "cosine_gap"))


def pool_features(question: str) -> tuple[list[str], np.ndarray]:
    """The fused pool of ``question`` (best first) and its feature matrix."""
    search = get_search()
    lexical = search.lexical()
    bm25 = {hit.chunk_id: hit.score for hit in lexical.search(question, len(lexical))}
    dense = search.index.dense_index()
    cosine = dict(dense.search(search.index.embeddings.embed_query(question), len(dense)))
    fused = search.fused(question)[0]
    ids = sorted(fused, key=fused.__getitem__, reverse=True)[:POOL]
    best_bm25 = max(bm25.values(), default=0.0)
    cos = np.array([cosine.get(cid, 0.0) for cid in ids])
    features = np.column_stack(
        [
            [fused[cid] for cid in ids],
            [bm25.get(cid, 0.0) / best_bm25 if best_bm25 else 0.0 for cid in ids],
            cos - cos.max(),
        ]
    )
    return ids, features


def examples(rows: list[dict[str, Any]]) -> ranking.Groups:
    groups = ranking.Groups()
    index = get_search().index
    for row in rows:
        evidence = row.get("evidence") or []
        if not evidence:
            continue
        ids, features = pool_features(row["question"])
        docs = index.get_chunks(ids)
        labels = [int(cid in docs and any(contains_quote(docs[cid].page_content, q) for q in evidence)) for cid in ids]
        relevant = sorted(cid for cid, y in zip(ids, labels, strict=True) if y)
        groups.add(features, labels, relevant[0] if relevant else normalize_for_match(evidence[0])[:200])
    return groups


def _line(name: str, figures: dict) -> str:
    return f"{name:30s} " + "  ".join(f"{k.upper()} {figures[k]:.3f}" for k in ("r@1", "r@5", "r@10", "mrr@10"))


def main() -> None:
    train_file = Path(sys.argv[1]) if len(sys.argv) > 1 else EVAL / "train.jsonl"
    dev_file = Path(sys.argv[2]) if len(sys.argv) > 2 else EVAL / "dev.jsonl"
    started = time.perf_counter()
    train, dev = examples(load_gold(train_file)), examples(load_gold(dev_file))
    spec = ranking.RankerSpec(
        "passages", FEATURES, lambda rows: train, params={"monotone_constraints": [1] * len(FEATURES.names)}
    )
    model, report = ranking.train(spec, train)
    print(f"{len(train)} train / {len(dev)} validation questions with evidence ({time.perf_counter() - started:.0f} s)")
    print(_line("train: fused order", ranking.ranking_metrics([f[:, 0] for f in train.features], train.labels)))
    print(_line("train: model, grouped 5-fold CV", report.cross_validated))
    print(_line("train: model, in-sample", report.in_sample))
    print(_line("validation: fused order", ranking.ranking_metrics([f[:, 0] for f in dev.features], dev.labels)))
    print(_line("validation: model", ranking.ranking_metrics([model.score(f) for f in dev.features], dev.labels)))


if __name__ == "__main__":
    main()
