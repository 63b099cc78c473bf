"""Scale figures on synthetic corpora: when should a user move from the embedded store to a Chroma server?

For each size (chunks) and each store (embedded PersistentClient, ``chroma run`` server) the script writes
synthetic French-like chunks (words drawn with their frequencies from the bundled corpus, ~900 characters
like real chunks) with random unit vectors of dim 384 straight into the project's CorpusIndex collection,
builds the BM25 index and the dense matrix through ``CorpusIndex.rebuild_search_indexes`` as an
ingest does, then prints: write rate, lexical and dense build times, index size on disk, RSS memory, retrieve
p50/p95 for lexical, dense and hybrid (the production ``HybridSearch.search``), and the recall of the dense
top-60 against a float64 numpy brute force over the vectors written, for the bench queries and the reference
questions (dev + train, embedded by the same random embedder). The embedding model's own rate is measured
separately on a few hundred real chunks and multiplied out to give the ingest time a real corpus of that size
would need.

Usage: python benchmarks/bench_scale.py --sizes 100000 1000000 --stores embedded server [--workdir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.retrieval import HybridSearch  # noqa: E402
from ingest.pipeline import discover, prepare_chunks  # noqa: E402
from vectorstore.dense import DENSE_FORMAT  # noqa: E402
from vectorstore.lexical import ChunkTerms, LexicalIndex  # noqa: E402
from vectorstore.settings import Settings  # noqa: E402
from vectorstore.store import CorpusIndex  # noqa: E402
from vectorstore.text import _TOKEN_RE, ANALYZER_VERSION  # noqa: E402

DIM = 384
WORDS_PER_CHUNK = 130  # ~900 characters, the project's CHUNK_SIZE
PUBLISHERS = ["CRESS Occitanie", "RTES", "ANCT", "ESS France", "Avise", "Région Sud"]
QUERIES = 60
EVAL = ROOT.parent / "shared" / "eval"


class RandomEmbeddings(Embeddings):
    """Random unit vectors, deterministic per text: the store's cost does not depend on what vectors mean."""

    model_id = "bench/random-384"

    def _vector(self, text: str) -> list[float]:
        rng = np.random.default_rng(int(hashlib.md5(text.encode()).hexdigest()[:8], 16))
        v = rng.standard_normal(DIM)
        return (v / np.linalg.norm(v)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def corpus_vocabulary(settings: Settings) -> tuple[list[str], np.ndarray]:
    """Words of the bundled corpus and their frequencies (Zipf-like, as real text)."""
    counts: Counter[str] = Counter()
    for path in discover([settings.corpus_dir]):
        counts.update(_TOKEN_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    words, freq = zip(*counts.most_common(), strict=True)
    p = np.asarray(freq, dtype=float)
    return list(words), p / p.sum()


def synthetic_batches(n: int, batch: int, words: list[str], p: np.ndarray, seed: int = 0):
    """(ids, texts, metadatas, vectors) batches of synthetic chunks."""
    rng = np.random.default_rng(seed)
    vocab = np.asarray(words, dtype=object)
    for start in range(0, n, batch):
        size = min(batch, n - start)
        picks = vocab[rng.choice(len(words), size=(size, WORDS_PER_CHUNK), p=p)]
        texts = [" ".join(row) for row in picks]
        ids = [f"syn{start + i:09d}" for i in range(size)]
        docs = (start + np.arange(size)) // 200  # 200 chunks per synthetic document
        metas = [
            {
                "source": f"doc{d:06d}.pdf",
                "title": f"Document {d}",
                "publisher": PUBLISHERS[d % len(PUBLISHERS)],
                "year": 2000 + int(d % 25),
                "page": int(i % 200) // 3 + 1,
                "position": int(i % 200),
                "chunk_id": cid,
            }
            for cid, d, i in zip(ids, docs, start + np.arange(size), strict=True)
        ]
        vectors = rng.standard_normal((size, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        yield ids, texts, metas, vectors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def start_server(path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = open(path.parent / f"{path.name}.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import chromadb

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            return proc, f"http://127.0.0.1:{port}"
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("chroma run did not start within 60 s")


def timed(fn, queries: list[str]) -> list[float]:
    fn(queries[0])  # warm
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def reference_questions() -> list[str]:
    """The questions of dev.jsonl and train.jsonl, when the labelled data is beside the project."""
    return [
        json.loads(line)["question"]
        for name in ("dev.jsonl", "train.jsonl")
        if (EVAL / name).exists()
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def dense_recall(index: CorpusIndex, vectors: np.ndarray, questions: list[str], k: int = 60) -> dict:
    """Recall of ``dense_search``'s top-k against a float64 brute force over the vectors written (row i is
    chunk ``syn{i}``), mean and worst over ``questions``."""
    recalls = []
    for question in questions:
        query = np.asarray(index.embeddings.embed_query(question))
        scores = vectors @ query
        exact = {f"syn{i:09d}" for i in np.argpartition(-scores, k - 1)[:k]}
        got = {doc.id for doc, _ in index.dense_search(question, k)}
        recalls.append(len(got & exact) / k)
    return {
        "dense_recall_questions": len(recalls),
        "dense_recall_mean": round(float(np.mean(recalls)), 4),
        "dense_recall_min": round(float(np.min(recalls)), 4),
    }


def run_one(n: int, store: str, workdir: Path, base: Settings, words: list[str], p: np.ndarray) -> dict:
    folder = workdir / f"{store}-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    server, url, server_path = None, None, folder / "chroma-server"
    if store == "server":
        server_path.mkdir(parents=True)
        server, url = start_server(server_path)
    try:
        settings = dataclasses.replace(base, index_dir=folder / "index", chroma_url=url)
        index = CorpusIndex(settings, embeddings=RandomEmbeddings())
        batch = min(5000, index.collection._client.get_max_batch_size())
        written: list[np.ndarray] = []
        started = time.perf_counter()
        for ids, texts, metas, vectors in synthetic_batches(n, batch, words, p):
            index.collection.add(ids=ids, documents=texts, metadatas=metas, embeddings=vectors)
            written.append(vectors)
        write_s = time.perf_counter() - started
        count = index.collection.count()
        manifest = {
            "embedding_model": index.model_id,
            "generation": 1,
            "lexical_generation": 1,
            "lexical_analyzer": ANALYZER_VERSION,
            "dense_generation": 1,
            "dense_format": DENSE_FORMAT,
            "files": {},
        }
        index.write_manifest(manifest)
        started = time.perf_counter()
        index.rebuild_search_indexes(dense=False)
        lexical_s = time.perf_counter() - started
        started = time.perf_counter()
        # What an ingest that changed little costs: stored texts read, terms reused.
        index.rebuild_search_indexes(dense=False)
        relexical_s = time.perf_counter() - started
        started = time.perf_counter()
        index.rebuild_search_indexes(lexical=False)
        dense_build_s = time.perf_counter() - started
        # Queries as a user types them: 2 to 6 words of the corpus vocabulary.
        rng = np.random.default_rng(1)
        top = words[50:3000]
        queries = [" ".join(rng.choice(top, size=int(rng.integers(2, 7)))) for _ in range(QUERIES)]
        search = HybridSearch(CorpusIndex(settings, embeddings=RandomEmbeddings()))
        lexical = search.lexical()
        lex_ms = timed(lambda q: lexical.search(q, 40), queries)
        dense_ms = timed(lambda q: search.index.dense_search(q, 40), queries)
        hybrid_ms = timed(lambda q: search.search(q, 5), queries)
        recall = dense_recall(search.index, np.concatenate(written), queries + reference_questions())
        del written
        disk = du_mb(folder / "index") + du_mb(server_path)
        return {
            "store": store,
            "chunks": count,
            "write_rate_per_s": round(n / write_s),
            "write_s": round(write_s, 1),
            "lexical_build_s": round(lexical_s, 1),
            "lexical_rebuild_s": round(relexical_s, 1),
            "dense_build_s": round(dense_build_s, 1),
            "disk_mb": round(disk),
            "bench_rss_mb": round(rss_mb()),
            "server_rss_mb": round(rss_mb(server.pid)) if server else None,
            "lexical_p50_ms": round(statistics.median(lex_ms), 1),
            "lexical_p95_ms": round(pct(lex_ms, 0.95), 1),
            "dense_p50_ms": round(statistics.median(dense_ms), 1),
            "dense_p95_ms": round(pct(dense_ms, 0.95), 1),
            "hybrid_p50_ms": round(statistics.median(hybrid_ms), 1),
            "hybrid_p95_ms": round(pct(hybrid_ms, 0.95), 1),
            **recall,
        }
    finally:
        if server:
            server.terminate()
            server.wait(30)


def run_lexical_only(n: int, workdir: Path, words: list[str], p: np.ndarray) -> dict:
    """BM25 alone at size ``n`` (no Chroma): build, size on disk, RSS and search p50/p95 — the part of
    retrieval whose cost grows linearly with the corpus."""
    ids: list[str] = []
    texts: list[str] = []
    fields: dict[str, list] = {"source": [], "publisher": [], "year": []}
    for batch_ids, batch_texts, metas, _ in synthetic_batches(n, 5000, words, p):
        ids += batch_ids
        texts += batch_texts
        for name in fields:
            fields[name] += [m[name] for m in metas]
    started = time.perf_counter()
    lexical = LexicalIndex.build(ids, texts, fields)
    build_s = time.perf_counter() - started
    folder = workdir / f"lexical-{n}"
    lexical.save(folder)
    # An ingest adding 1 % new chunks: the saved terms spare the analysis of the rest.
    extra = max(1, n // 100)
    new_ids, new_texts, new_metas, _ = next(synthetic_batches(extra, extra, words, p, seed=1))
    started = time.perf_counter()
    LexicalIndex.build(
        ids + new_ids,
        texts + new_texts,
        {name: values + [m[name] for m in new_metas] for name, values in fields.items()},
        previous=ChunkTerms.load(folder),
    )
    rebuild_s = time.perf_counter() - started
    del texts
    rng = np.random.default_rng(1)
    top = words[50:3000]
    queries = [" ".join(rng.choice(top, size=int(rng.integers(2, 7)))) for _ in range(QUERIES)]
    lex_ms = timed(lambda q: lexical.search(q, 40), queries)
    filtered_ms = timed(lambda q: lexical.search(q, 40, {"publisher": ["RTES"]}), queries)
    return {
        "store": "lexical-only",
        "chunks": n,
        "lexical_build_s": round(build_s, 1),
        "lexical_rebuild_1pct_new_s": round(rebuild_s, 1),
        "disk_mb": round(du_mb(folder)),
        "bench_rss_mb": round(rss_mb()),
        "lexical_p50_ms": round(statistics.median(lex_ms), 1),
        "lexical_p95_ms": round(pct(lex_ms, 0.95), 1),
        "lexical_filtered_p95_ms": round(pct(filtered_ms, 0.95), 1),
    }


def embedding_rate(settings: Settings, sample: int) -> dict:
    """The configured model's own rate on real chunks of the bundled corpus."""
    from vectorstore.embeddings import make_embeddings

    chunks = [c.page_content for path in discover([settings.corpus_dir]) for c in prepare_chunks(path)][:sample]
    model = make_embeddings(settings.embedding_model)
    model.embed_query("échauffement")
    started = time.perf_counter()
    model.embed_documents(chunks)
    rate = len(chunks) / (time.perf_counter() - started)
    return {"model": settings.embedding_model, "chunks": len(chunks), "chunks_per_s": round(rate, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument(
        "--stores", nargs="+", choices=["embedded", "server", "lexical-only"], default=["embedded", "server"]
    )
    parser.add_argument("--workdir", type=Path, help="where indexes are built (default: a temp folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument("--embed-sample", type=int, default=300, help="real chunks to time the model on (0: skip)")
    parser.add_argument("--json", type=Path, help="also append each result as a JSON line to this file")
    args = parser.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    base = Settings.from_env()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ess-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def emit(result: dict) -> None:
        print(json.dumps(result, ensure_ascii=False), flush=True)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(result, ensure_ascii=False) + "\n")

    if args.embed_sample:
        rate = embedding_rate(base, args.embed_sample)
        rate |= {f"embed_hours_{n}": round(n / rate["chunks_per_s"] / 3600, 2) for n in args.sizes}
        emit(rate)
    words, p = corpus_vocabulary(base)
    try:
        for n in args.sizes:
            for store in args.stores:
                if store == "lexical-only":
                    emit(run_lexical_only(n, workdir, words, p))
                    folder = workdir / f"lexical-{n}"
                else:
                    emit(run_one(n, store, workdir, base, words, p))
                    folder = workdir / f"{store}-{n}"
                if not args.keep:
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
