"""The corpus index: chunks and vectors in Chroma (through langchain-chroma), BM25 beside it, and a
manifest recording which files, which chunk ids and which embedding model built it.

Embedded Chroma (a PersistentClient in ``ESS_INDEX_DIR``) by default; a Chroma server when
``ESS_CHROMA_URL`` is set. The manifest and the lexical index always live in ``ESS_INDEX_DIR``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from vectorstore.dense import DENSE_FORMAT, DenseIndex
from vectorstore.embeddings import embedding_model_id, make_embeddings
from vectorstore.lexical import POSITION_FIELD, ChunkTerms, LexicalIndex
from vectorstore.settings import Settings

logger = logging.getLogger(__name__)

COLLECTION = "ess_corpus"
FILTER_FIELDS = ("source", "publisher", "year")
_GET_BATCH = 5000
# Chroma's per-process registry of open stores is not thread-safe: the first queries of a server, arriving
# together, would each open the store and one could tear down the store another is starting.
_OPEN_LOCK = threading.Lock()


class StoreError(Exception):
    """Base class of index problems a user must act on (message in French)."""


class IndexMismatchError(StoreError):
    """The index was built with another embedding model than the configured one."""


class IndexMissingError(StoreError):
    """No index has been built yet in the configured folder."""


def _chroma_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _drop_cached_system(client) -> None:
    """Make the next client on this path load the store afresh from disk.

    Chroma shares one System per path within a process (chromadb.api.shared_system_client); closing our
    client stops it only if no other client holds it, so we also forget it: later clients, old ones
    included, then resolve the path to a new System. The old one is left running for in-flight queries.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = client._identifier
    client.close()
    SharedSystemClient._identifier_to_system.pop(identifier, None)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    # A file name that is not valid UTF-8 reaches us with lone surrogates; backslashreplace writes them as
    # JSON \udcXX escapes (they can only occur inside JSON strings), which json.load reads back unchanged.
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def to_chroma_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata holds scalars only: drop None values."""
    return {key: value for key, value in metadata.items() if value is not None}


class CorpusIndex:
    """One index folder. Cheap to construct: the Chroma client and the model open on first use."""

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.embeddings = embeddings or make_embeddings(self.settings.embedding_model)
        self.model_id = embedding_model_id(self.embeddings)
        self.dir = self.settings.index_dir
        self.manifest_path = self.dir / "manifest.json"
        self.lexical_dir = self.dir / "lexical"
        self.dense_dir = self.dir / "dense"
        self._dense: DenseIndex | None = None
        self._dense_mtime: int | None = None
        self._dense_lock = threading.Lock()
        self._vectorstore = None
        self._seen_manifest: int | None = None  # manifest mtime when we last looked

    # -- manifest -------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            return {"embedding_model": None, "generation": 0, "lexical_generation": -1, "files": {}}
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.manifest_path, manifest | {"writer_pid": os.getpid()})
        self._seen_manifest = self.manifest_mtime()

    def manifest_mtime(self) -> int | None:
        try:
            return self.manifest_path.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def _written_by_another_process(self) -> bool:
        """True once after another process (a CLI ingest beside a running server) rewrote the index."""
        mtime = self.manifest_mtime()
        if mtime == self._seen_manifest:
            return False
        self._seen_manifest = mtime
        return mtime is not None and self.read_manifest().get("writer_pid") != os.getpid()

    def check_model(self, manifest: dict[str, Any] | None = None) -> None:
        """Refuse to mix vectors of two models: their similarities mean nothing together."""
        manifest = manifest if manifest is not None else self.read_manifest()
        built_with = manifest.get("embedding_model")
        if built_with is None:
            built_with = self.collection_model()
        if built_with and built_with != self.model_id:
            raise IndexMismatchError(
                f"L'index de {self.dir} a été construit avec le modèle d'embeddings « {built_with} », "
                f"mais le modèle configuré est « {self.model_id} ». Reconstruisez l'index avec "
                "« ess-assistant ingest --rebuild » ou configurez ESS_EMBEDDING_MODEL sur le modèle d'origine."
            )

    # -- chroma ---------------------------------------------------------------------------------
    @property
    def vectorstore(self):
        with _OPEN_LOCK:
            return self._open_vectorstore()

    def _open_vectorstore(self):
        if self._vectorstore is not None and not self.settings.chroma_url and self._written_by_another_process():
            # An embedded Chroma caches its vector index per process: reopen to see the other writer's vectors.
            logger.info("Index %s changed in another process: reopening the store", self.dir)
            _drop_cached_system(self._vectorstore._client)
            self._vectorstore = None
        if self._vectorstore is None:
            self._seen_manifest = self.manifest_mtime()
            from langchain_chroma import Chroma

            self._vectorstore = Chroma(
                collection_name=COLLECTION,
                embedding_function=self.embeddings,
                client=_chroma_client(self.settings),
                collection_metadata={"embedding_model": self.model_id},
                collection_configuration={"hnsw": {"space": "cosine"}},
            )
        return self._vectorstore

    @property
    def collection(self):
        return self.vectorstore._collection

    def collection_model(self) -> str | None:
        return (self.collection.metadata or {}).get("embedding_model")

    def reset(self) -> None:
        """Drop everything (used by --rebuild and when the model changes)."""
        self.vectorstore.delete_collection()
        self._vectorstore = None
        if self.manifest_path.exists():
            self.manifest_path.unlink()

    def add_chunks(self, chunks: Sequence[Document]) -> None:
        """Embed and upsert chunks (ids are content hashes, so a repeat is harmless)."""
        if not chunks:
            return
        self.vectorstore.add_documents(
            [Document(page_content=c.page_content, metadata=to_chroma_metadata(c.metadata)) for c in chunks],
            ids=[c.metadata["chunk_id"] for c in chunks],
        )

    def update_metadata(self, chunks: Sequence[Document]) -> None:
        """Refresh metadata (position, page…) of chunks whose text, hence vector, did not change."""
        if chunks:
            self.collection.update(
                ids=[c.metadata["chunk_id"] for c in chunks],
                metadatas=[to_chroma_metadata(c.metadata) for c in chunks],
            )

    def update_about(self, ids: Sequence[str], about: dict[str, Any]) -> None:
        """Set document-level metadata (title, publisher, year) on chunks, text and vectors untouched.

        Chroma merges the given keys into each chunk's metadata; a None value removes its key."""
        for i in range(0, len(ids), _GET_BATCH):
            batch = list(ids[i : i + _GET_BATCH])
            self.collection.update(ids=batch, metadatas=[dict(about) for _ in batch])

    def delete_chunks(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), _GET_BATCH):
            self.collection.delete(ids=ids[i : i + _GET_BATCH])

    def stored_ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def iter_all(self) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """Every stored chunk as (id, text, metadata), read in batches."""
        for batch in self._batches(["documents", "metadatas"]):
            yield from zip(batch["ids"], batch["documents"], batch["metadatas"], strict=True)

    def _batches(self, include: list[str]) -> Iterable[dict[str, Any]]:
        offset = 0
        while True:
            batch = self.collection.get(include=include, limit=_GET_BATCH, offset=offset)
            if not batch["ids"]:
                return
            yield batch
            offset += len(batch["ids"])

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Document]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: Document(page_content=text, metadata=meta or {}, id=cid)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def get_where(self, where: dict[str, Any]) -> list[Document]:
        got = self.collection.get(where=where, include=["documents", "metadatas"])
        return [
            Document(page_content=text, metadata=meta or {}, id=cid)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def dense_search(
        self, query: str, k: int, filters: dict[str, list] | None = None
    ) -> list[tuple[Document, float]]:
        """The ``k`` nearest chunks by cosine similarity (higher is closer), exact and the same in every
        process: a brute-force scan of the stored vectors, not Chroma's HNSW (vectorstore/dense.py says why)."""
        nearest = self.dense_index().search(self.embeddings.embed_query(query), k, filters)
        docs = self.get_chunks([cid for cid, _ in nearest])
        return [(docs[cid], similarity) for cid, similarity in nearest if cid in docs]

    def dense_index(self) -> DenseIndex:
        """The saved vector matrix, reloaded when the manifest changed; one built in memory from the store when
        the index has none of the current format (built before it existed): the next ingest saves it."""
        mtime = self.manifest_mtime()
        with self._dense_lock:
            if self._dense is None or mtime != self._dense_mtime:
                self._dense = DenseIndex.load(self.dense_dir)
                if self._dense is None:
                    logger.warning(
                        "No vector matrix of format %d in %s: building one from the store", DENSE_FORMAT, self.dir
                    )
                    self._dense = self.build_dense()
                self._dense_mtime = mtime
            return self._dense

    def build_dense(self) -> DenseIndex:
        ids, _, vectors, fields = self._read_all(texts=False, vectors=True)
        return DenseIndex.build(ids, vectors, _filter_fields(fields))

    # -- lexical --------------------------------------------------------------------------------
    def build_lexical(self) -> LexicalIndex:
        """BM25 over every stored chunk, reusing the analyzed terms the persisted index kept."""
        ids, texts, _, fields = self._read_all(texts=True, vectors=False)
        return LexicalIndex.build(ids, texts, fields, previous=ChunkTerms.load(self.lexical_dir))

    # -- derived indexes ------------------------------------------------------------------------
    def rebuild_search_indexes(self, lexical: bool = True, dense: bool = True) -> None:
        """Build and save the BM25 index and/or the vector matrix from the stored chunks (ingest's job; nothing is
        embedded again), in one read of the store: reading ids and metadata is most of the cost at scale."""
        ids, texts, vectors, fields = self._read_all(texts=lexical, vectors=dense)
        if lexical:
            LexicalIndex.build(ids, texts, fields, previous=ChunkTerms.load(self.lexical_dir)).save(self.lexical_dir)
        if dense:
            DenseIndex.build(ids, vectors, _filter_fields(fields)).save(self.dense_dir)

    def _read_all(self, texts: bool, vectors: bool) -> tuple[list[str], list[str], np.ndarray, dict[str, list]]:
        """Ids, indexed texts (when ``texts``), vectors (when ``vectors``), filter fields and positions of every
        stored chunk."""
        include = ["metadatas", *(["documents"] if texts else []), *(["embeddings"] if vectors else [])]
        ids: list[str] = []
        indexed: list[str] = []
        rows: list[np.ndarray] = []
        fields: dict[str, list] = {name: [] for name in (*FILTER_FIELDS, POSITION_FIELD)}
        for batch in self._batches(include):
            ids += batch["ids"]
            metas = [meta or {} for meta in batch["metadatas"]]
            if texts:
                indexed += [indexed_text(text, meta) for text, meta in zip(batch["documents"], metas, strict=True)]
            if vectors:
                rows.append(np.asarray(batch["embeddings"], dtype=np.float32))
            for name in fields:
                fields[name] += [meta.get(name) for meta in metas]
        return ids, indexed, np.concatenate(rows) if rows else np.zeros((0, 0), np.float32), fields

    def load_lexical(self) -> LexicalIndex:
        return LexicalIndex.load(self.lexical_dir)


def _filter_fields(fields: dict[str, list]) -> dict[str, list]:
    return {name: fields[name] for name in FILTER_FIELDS}


def indexed_text(text: str, metadata: dict[str, Any]) -> str:
    """What search sees of a chunk: its section heading and its text."""
    section = metadata.get("section")
    return f"{section}\n{text}" if section and section not in text[:200] else text
