"""Retrieval quality on a gold file (JSON lines with `question`, `evidence` quotes, `type`).

A passage is a hit when it contains one of the question's evidence quotes after normalisation
(``ingest.ocr.contains_evidence``: ``contains_quote``, also finding a quote copied from raw OCR text in its
corrected passage). Questions without evidence (``unanswerable``) are not scored here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.types import Passage
from ingest.ocr import contains_evidence

SearchFn = Callable[[str, int], list[Passage]]
# Shipped inside the package so `ess-assistant eval` works from a clone and from an installed package alike.
EXAMPLE_QUESTIONS = Path(__file__).with_name("example_questions.jsonl")


def load_gold(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"Ligne {n} de {path} : JSON invalide ({exc}).") from None
    return rows


def first_hit_rank(passages: list[Passage], evidence: list[str]) -> int | None:
    for rank, passage in enumerate(passages, 1):
        if any(contains_evidence(passage.text, quote) for quote in evidence):
            return rank
    return None


def evaluate_retrieval(rows: list[dict[str, Any]], search: SearchFn, depth: int = 10) -> dict[str, Any]:
    """Recall@1/5/10, MRR@10 and evidence coverage@10, overall and per question type."""
    per_type: dict[str, list[dict[str, float]]] = defaultdict(list)
    misses = []
    for row in rows:
        evidence = row.get("evidence") or []
        if not evidence:
            continue
        passages = search(row["question"], depth)
        rank = first_hit_rank(passages, evidence)
        covered = sum(any(contains_evidence(p.text, q) for p in passages) for q in evidence) / len(evidence)
        per_type[row.get("type", "?")].append(
            {
                "r@1": float(rank is not None and rank <= 1),
                "r@5": float(rank is not None and rank <= 5),
                "r@10": float(rank is not None and rank <= 10),
                "mrr@10": 1.0 / rank if rank else 0.0,
                "coverage@10": covered,
            }
        )
        if rank is None or rank > 5:
            misses.append({"id": row.get("id"), "question": row["question"], "rank": rank})
    every = [m for ms in per_type.values() for m in ms]

    def mean(ms: list[dict[str, float]]) -> dict[str, float]:
        return {key: round(sum(m[key] for m in ms) / len(ms), 3) for key in ms[0]} if ms else {}

    return {
        "questions": len(every),
        **mean(every),
        "by_type": {t: {"n": len(ms), **mean(ms)} for t, ms in sorted(per_type.items())},
        "misses@5": misses,
    }
