"""Grid over fusion settings on a built index: prints R@1/R@5/R@10/MRR for each.

Usage: ESS_INDEX_DIR=... python benchmarks/tune_retrieval.py [gold.jsonl]
The dense and lexical candidate lists are computed once per question, then fused for every setting.
"""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path

from assistant.evaluation import evaluate_retrieval, load_gold
from assistant.retrieval import get_search

GOLD = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/eval/dev.jsonl"


def main() -> None:
    rows = load_gold(GOLD)
    search = get_search()
    lexical_index = search.lexical()
    original_lexical = lexical_index.search
    lexical_search = functools.cache(lambda q, n: original_lexical(q, n))
    dense_search = functools.cache(search.index.dense_search)
    lexical_index.search = lambda q, n, f: lexical_search(q, n)  # type: ignore[method-assign]
    search.index.dense_search = lambda q, n, w: dense_search(q, n)  # type: ignore[method-assign]
    settings = [(1.0, 0.0, 60, 40), (0.0, 1.0, 60, 40)] + list(
        itertools.product([1.0], [0.5, 0.7, 0.85, 1.0], [5, 10, 20], [30, 60])
    )
    print("lex  dense rrf cand |  R@1   R@5   R@10  MRR   cov")
    for lw, dw, rrf, cand in settings:
        res = evaluate_retrieval(
            rows,
            lambda q, k, lw=lw, dw=dw, rrf=rrf, cand=cand: search.search(
                q, k, {}, lexical_weight=lw, dense_weight=dw, rrf_k=rrf, candidates=cand
            ),
        )
        print(
            f"{lw:4.1f} {dw:4.1f} {rrf:4d} {cand:4d} | {res['r@1']:.3f} {res['r@5']:.3f} {res['r@10']:.3f} "
            f"{res['mrr@10']:.3f} {res['coverage@10']:.3f}"
        )


if __name__ == "__main__":
    main()
