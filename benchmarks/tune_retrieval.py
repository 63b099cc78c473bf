"""Grid over fusion settings on a built index: prints R@1/R@5/R@10/MRR for each, on the training questions.

Usage: ESS_INDEX_DIR=... python benchmarks/tune_retrieval.py [gold.jsonl]
Tune on train.jsonl only (the default); dev.jsonl is the validation set and is never tuned on. The dense and
lexical candidate lists are computed once per question and setting, then fused for every setting.

Measured 2026-12-02 (bundled corpus, OCR correction on, exact dense search; 2-core machine shared with one other
job), train: preceding-passage weight 0 → 0.1 → 0.15 gives R@1/R@5 0.468/0.677 → 0.497/0.684 → 0.500/0.677; a
grouped 5-fold choice of the weight (folds by gold passage) gives R@1 0.494 on the held-out folds. BM25 k1/b
and its variants (Lucene, BM25+, BM25L, ATIRE) and the RRF weights, k and depth all stay within ±0.01 of R@1;
score-based (convex) fusion and embedding passages with their title and section did not help either.
"""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path

from assistant.evaluation import evaluate_retrieval, load_gold
from assistant.retrieval import get_search
from vectorstore import lexical

GOLD = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/eval/train.jsonl"


def main() -> None:
    rows = load_gold(GOLD)
    search = get_search()
    lexical_index = search.lexical()
    original_lexical = lexical_index.search

    @functools.cache
    def lexical_search(query: str, n: int, preceding: float) -> list[lexical.LexicalHit]:
        lexical.PRECEDING_WEIGHT = preceding
        return original_lexical(query, n)

    shipped = search.centroid()
    search.index.embeddings.embed_query = functools.cache(search.index.embeddings.embed_query)  # type: ignore
    settings = itertools.product(
        [shipped, None] if shipped else [None],
        [0.0, 0.1],
        [1.0],
        [0.35, 0.5, 0.7],
        [0.5, 0.7, 1.0],
        [5, 10, 20],
        [30, 60],
    )
    print("centroid prec lex  dense centred rrf cand |  R@1   R@5   R@10  MRR   cov")
    for centroid, preceding, lw, dw, cw, rrf, cand in settings:
        if centroid is None and cw != 0.7:
            continue  # without a centroid there is no centred list
        lexical_index.search = lambda q, n, f, p=preceding: lexical_search(q, n, p)  # type: ignore[method-assign]
        search.centroid = lambda c=centroid: c  # type: ignore[method-assign]
        res = evaluate_retrieval(
            rows,
            lambda q, k, lw=lw, dw=dw, cw=cw, rrf=rrf, cand=cand: search.search(
                q, k, {}, lexical_weight=lw, dense_weight=dw, centred_weight=cw, rrf_k=rrf, candidates=cand
            ),
        )
        print(
            f"{'yes' if centroid else 'no':>8} {preceding:4.2f} {lw:4.1f} {dw:5.2f} {cw if centroid else 0:7.2f} "
            f"{rrf:3d} {cand:4d} | "
            f"{res['r@1']:.3f} {res['r@5']:.3f} {res['r@10']:.3f} {res['mrr@10']:.3f} {res['coverage@10']:.3f}"
        )


if __name__ == "__main__":
    main()
