"""Same question, same answer (issue 10): dense search gives, in every fresh process, the same top-60 as a
brute-force numpy search over the vectors Chroma stores, with the embedded store and with a `chroma run` server.

Chroma's HNSW graph is rebuilt from its write log, in a different order, by every new process: before the fix,
six processes gave three different top-60 lists on the bundled corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED, running_chroma_server
from vectorstore.embeddings import embedding_model_id, make_embeddings
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
K = 60
PROCESSES = 6

# Runs in a fresh interpreter: the questions' vectors come from the test (the same bytes in every process, as
# the real model gives), so each process does only what a new `serve` does: open the index and search.
SEARCH = """
import json, sys
from langchain_core.embeddings import Embeddings
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

class Known(Embeddings):
    def __init__(self, vectors, model_id):
        self.vectors, self.model_id = vectors, model_id
    def embed_documents(self, texts):
        return [self.vectors[t] for t in texts]
    def embed_query(self, text):
        return self.vectors[text]

data = json.load(sys.stdin)
index = CorpusIndex(Settings.from_env(), embeddings=Known(data["vectors"], data["model_id"]))
print(json.dumps({q: [doc.id for doc, _ in index.dense_search(q, data["k"])] for q in data["vectors"]}))
"""


def questions(step: int = 8) -> list[str]:
    """Every ``step``-th question of the reference sets (train and dev), ~50 questions."""
    path = SHARED / "eval" / "train.jsonl"
    if not path.exists():
        pytest.skip("the reference questions are not available")
    lines = path.read_text(encoding="utf-8").splitlines()
    dev = SHARED / "eval" / "dev.jsonl"
    lines += dev.read_text(encoding="utf-8").splitlines() if dev.exists() else []
    return [json.loads(line)["question"] for line in lines[::step] if line.strip()]


def fresh_process_results(env: dict[str, str], vectors: dict[str, list[float]], model_id: str, n: int) -> list:
    """The dense top-60 of each question in ``n`` new interpreters, started together."""
    payload = json.dumps({"vectors": vectors, "model_id": model_id, "k": K})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SEARCH],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
        )
        for _ in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(payload, timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.splitlines()[-1]))
    return results


def assert_exact(index: CorpusIndex, vectors: dict[str, list[float]], results: dict[str, list[str]]) -> None:
    """Each list is a top-60 by cosine similarity over every stored vector, in order (near-ties may swap)."""
    stored = index.collection.get(include=["embeddings"])
    matrix = np.asarray(stored["embeddings"], dtype=np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    row = {cid: i for i, cid in enumerate(stored["ids"])}
    for question, vector in vectors.items():
        query = np.asarray(vector, dtype=np.float64)
        scores = matrix @ (query / np.linalg.norm(query))
        exact = np.sort(scores)[::-1][:K]
        got = scores[[row[cid] for cid in results[question]]]
        assert len(got) == K, question
        np.testing.assert_allclose(got, exact, atol=1e-6, err_msg=question)


@pytest.fixture(scope="module")
def embedded_questions() -> tuple[dict[str, list[float]], str]:
    """The questions' vectors by the real default model, and its id."""
    model = make_embeddings(Settings.from_env().embedding_model)
    asked = questions()
    return dict(zip(asked, model.embed_documents(asked), strict=True)), embedding_model_id(model)


@pytest.mark.timeout(900)
def test_fresh_processes_give_the_exact_top_60_embedded(corpus_index, embedded_questions, monkeypatch):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    monkeypatch.delenv("ESS_CHROMA_URL", raising=False)
    vectors, model_id = embedded_questions
    env = {"ESS_INDEX_DIR": str(corpus_index), "ESS_CHROMA_URL": ""}
    runs = fresh_process_results(env, vectors, model_id, PROCESSES)
    assert all(run == runs[0] for run in runs[1:]), "fresh processes disagree on the dense top-60"
    assert_exact(CorpusIndex(Settings.from_env()), vectors, runs[0])


@pytest.mark.timeout(900)
def test_fresh_processes_give_the_exact_top_60_through_a_server(
    corpus_index, embedded_questions, tmp_path, monkeypatch
):
    """The bundled corpus's vectors copied into a `chroma run` server (no re-embedding); the server is
    restarted halfway, since its graph, too, is rebuilt by each new server process."""
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    monkeypatch.delenv("ESS_CHROMA_URL", raising=False)
    vectors, model_id = embedded_questions
    source = CorpusIndex(Settings.from_env()).collection.get(include=["embeddings", "documents", "metadatas"])
    data, log, local = tmp_path / "server-data", tmp_path / "chroma.log", tmp_path / "local"
    runs = []
    for half in range(2):
        with running_chroma_server(data, log) as url:
            monkeypatch.setenv("ESS_INDEX_DIR", str(local))
            monkeypatch.setenv("ESS_CHROMA_URL", url)
            index = CorpusIndex(Settings.from_env())
            if half == 0:
                for start in range(0, len(source["ids"]), 500):
                    index.collection.add(
                        ids=source["ids"][start : start + 500],
                        embeddings=source["embeddings"][start : start + 500],
                        documents=source["documents"][start : start + 500],
                        metadatas=source["metadatas"][start : start + 500],
                    )
                index.rebuild_search_indexes(lexical=False)
            env = {"ESS_INDEX_DIR": str(local), "ESS_CHROMA_URL": url}
            runs += fresh_process_results(env, vectors, model_id, PROCESSES // 2)
            if half == 1:
                assert_exact(index, vectors, runs[0])
    assert all(run == runs[0] for run in runs[1:]), "fresh processes disagree on the dense top-60"
