"""Time and check no-LLM briefs on a built index: warm time per note (budget 10 s), sections, bullets,
verified citations, near-duplicate pairs, and the export times.

Usage: ESS_INDEX_DIR=... python benchmarks/bench_brief.py [--runs N] [topic ...]
Exit status 1 when a warm note exceeds the budget or breaks a rule (fewer than 4 sections, an uncited or
unverified bullet, two bullets saying the same thing).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time

from assistant.brief_export import to_docx, to_markdown
from assistant.briefing import brief, is_duplicate
from assistant.retrieval import retrieve
from vectorstore.text import contains_quote

BUDGET_S = 10.0
TOPICS = (
    "les PTCE",
    "ESS et commande publique",
    "l'ESS dans les territoires ruraux",
    "la santé dans l'ESS",
    "le financement de l'ESS par les collectivités",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", default=list(TOPICS))
    parser.add_argument("--runs", type=int, default=3, help="warm runs per topic")
    args = parser.parse_args()

    start = time.perf_counter()
    retrieve("économie sociale et solidaire", k=5)  # opens the index and loads the embedding model
    print(f"cold start (index + model): {time.perf_counter() - start:.2f} s")
    print(f"{'topic':48} warm med  max   sect bullets verified dups  md ms docx ms")
    failures = 0
    for topic in args.topics:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            note = brief(topic, extractive=True)
            times.append(time.perf_counter() - start)
        bullets = [b for s in note.sections for b in s.bullets]
        verified = sum(
            bool(b.citations) and all(contains_quote(c.passage.text, c.quote) for c in b.citations) for b in bullets
        )
        dups = sum(is_duplicate(x.text, y.text) for x, y in itertools.combinations(bullets, 2))
        start = time.perf_counter()
        to_markdown(note)
        md_ms = 1000 * (time.perf_counter() - start)
        start = time.perf_counter()
        to_docx(note)
        docx_ms = 1000 * (time.perf_counter() - start)
        ok = max(times) <= BUDGET_S and len(note.sections) >= 4 and verified == len(bullets) and not dups
        failures += not ok
        print(
            f"{topic[:48]:48} {statistics.median(times):5.2f} {max(times):5.2f} {len(note.sections):5d} "
            f"{len(bullets):7d} {verified:8d} {dups:4d} {md_ms:6.1f} {docx_ms:7.1f}  {'ok' if ok else 'FAIL'}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
