"""Answer quality on a gold file: are citations right, are answers supported, does it abstain when it should.

Gold rows are the eval jsonl rows: ``question``, ``type``, ``evidence`` (verbatim spans) and ``difficulty``;
a question the corpus does not answer has no evidence (and "unanswerable" as its type or difficulty). A
citation is correct when its passage contains one of the gold spans (``contains_evidence``, which tolerates OCR
damage and chunk boundaries). An answer shows its evidence when its own text, markers aside, contains one of
the gold spans: a right citation under a sentence that does not say the answer does not count there.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from assistant.types import Answer
from assistant.verify import without_markers
from ingest.ocr import contains_evidence

logger = logging.getLogger(__name__)

UNANSWERABLE = "unanswerable"


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_answers(qa_rows: Iterable[Mapping[str, Any]], ask_fn: Callable[[str], Answer]) -> dict[str, Any]:
    """Citation precision, answer support, abstention and false-abstention rates, latency, per question type.

    - citation_precision: citations whose passage contains gold evidence / all citations (answerable rows);
    - answer_support: answerable rows answered with at least one such citation / answerable rows;
    - answer_evidence: answerable rows whose answer text contains a gold span / answerable rows;
    - abstention_rate: unanswerable rows where the answer abstained / unanswerable rows;
    - false_abstention_rate: answerable rows where it abstained / answerable rows.
    """
    totals: dict[str, int] = defaultdict(int)
    by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latencies: list[float] = []
    failures: list[dict[str, Any]] = []
    for row in qa_rows:
        evidence = list(row.get("evidence") or [])
        answerable = bool(evidence) and UNANSWERABLE not in (row.get("type"), row.get("difficulty"))
        kind = str(row.get("type") or "unknown") if answerable else UNANSWERABLE
        start = time.perf_counter()
        answer = ask_fn(row["question"])
        latencies.append((time.perf_counter() - start) * 1000)
        stats = by_type[kind]
        stats["n"] += 1
        if not answerable:
            totals["unanswerable"] += 1
            totals["abstained_unanswerable"] += answer.abstained
            stats["abstained"] += answer.abstained
            if not answer.abstained:
                failures.append({"id": row.get("id"), "type": kind, "problem": "answered"})
            continue
        totals["answerable"] += 1
        if answer.abstained:
            totals["false_abstentions"] += 1
            stats["abstained"] += 1
            failures.append({"id": row.get("id"), "type": kind, "problem": "abstained"})
            continue
        shown = without_markers(answer.text)
        has_evidence = any(contains_evidence(shown, e) for e in evidence)
        totals["evidence"] += has_evidence
        stats["evidence"] += has_evidence
        good = [any(contains_evidence(c.passage.text, e) for e in evidence) for c in answer.citations]
        totals["citations"] += len(good)
        totals["correct_citations"] += sum(good)
        totals["supported"] += any(good)
        stats["citations"] += len(good)
        stats["correct_citations"] += sum(good)
        stats["supported"] += any(good)
        if not any(good):
            failures.append({"id": row.get("id"), "type": kind, "problem": "unsupported"})
        elif not has_evidence:
            failures.append({"id": row.get("id"), "type": kind, "problem": "no-evidence-in-text"})
    report = {
        "questions": totals["answerable"] + totals["unanswerable"],
        "citation_precision": _ratio(totals["correct_citations"], totals["citations"]),
        "answer_support": _ratio(totals["supported"], totals["answerable"]),
        "answer_evidence": _ratio(totals["evidence"], totals["answerable"]),
        "abstention_rate": _ratio(totals["abstained_unanswerable"], totals["unanswerable"]),
        "false_abstention_rate": _ratio(totals["false_abstentions"], totals["answerable"]),
        "latency_ms": {
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        },
        "by_type": {
            kind: {
                "n": s["n"],
                "abstained": s["abstained"],
                "citation_precision": _ratio(s["correct_citations"], s["citations"]),
                "answer_support": None if kind == UNANSWERABLE else _ratio(s["supported"], s["n"]),
                "answer_evidence": None if kind == UNANSWERABLE else _ratio(s["evidence"], s["n"]),
            }
            for kind, s in sorted(by_type.items())
        },
        "failures": failures,
    }
    summary = {k: v for k, v in report.items() if k not in ("by_type", "failures")}
    logger.info("answer evaluation: %s", summary)
    return report
