"""Ingest and retrieval figures on the bundled corpus, with the configured (default) embedding model.

Prints: ingest time beside the time the embedding model alone takes on the same chunks (their ratio),
re-ingest time of the unchanged corpus, and warm retrieve latency p50/p95.
Usage: python benchmarks/bench_retrieval.py   (builds a throw-away index in a temp folder)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

QUERIES = [
    "Quels dispositifs de financement existent pour les structures de l'ESS ?",
    "commande publique et clauses sociales",
    "Comment les collectivités peuvent-elles soutenir les coopératives ?",
    "Quel rôle pour les PTCE dans les territoires ruraux ?",
    "chiffres de l'emploi dans l'économie sociale et solidaire",
    "Qu'est-ce qu'une SCIC ?",
    "mobilités douces",
    "Comment associer les habitants aux politiques publiques locales ?",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ESS_INDEX_DIR"] = str(Path(tmp) / "index")
        from assistant.retrieval import retrieve
        from ingest.pipeline import discover, ingest_paths, prepare_chunks
        from vectorstore.embeddings import make_embeddings
        from vectorstore.settings import Settings

        settings = Settings.from_env()
        chunks = [c for path in discover([settings.corpus_dir]) for c in prepare_chunks(path)]
        embeddings = make_embeddings(settings.embedding_model)
        embeddings.embed_query("échauffement")  # load the model outside the timings
        started = time.perf_counter()
        embeddings.embed_documents([c.page_content for c in chunks])
        embed_only = time.perf_counter() - started

        report = ingest_paths(settings=settings)
        started = time.perf_counter()
        again = ingest_paths(settings=settings)
        reingest = time.perf_counter() - started
        assert again.count("unchanged") == len(again.outcomes)

        retrieve(QUERIES[0])  # warm: open the store, load BM25
        latencies = []
        for _ in range(5):
            for query in QUERIES:
                started = time.perf_counter()
                retrieve(query, k=5)
                latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]

        print(f"model                      {settings.embedding_model}")
        print(f"chunks                     {len(chunks)}")
        print(f"embedding only             {embed_only:8.1f} s")
        print(f"ingest (clean index)       {report.seconds:8.1f} s   ratio {report.seconds / embed_only:.2f}")
        print(f"re-ingest, unchanged       {reingest:8.2f} s")
        p50 = statistics.median(latencies)
        print(f"retrieve warm p50 / p95    {p50:6.1f} / {p95:.1f} ms ({len(latencies)} queries)")


if __name__ == "__main__":
    main()
