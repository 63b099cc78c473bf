"""Hybrid retrieval: French BM25 and dense vectors, fused by weighted reciprocal rank.

BM25 is the backbone on this corpus; dense search adds paraphrases BM25 misses. The weights and the
candidate depth sit on a plateau of the training questions (benchmarks/tune_retrieval.py: other settings stay
within ±0.01 of R@1); near-duplicate passages (the same paragraph in two documents, or overlapping chunks) are
collapsed to the best one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.types import Passage, RequestError, checked_k
from vectorstore.lexical import ANALYZER_VERSION, LEXICAL_FORMAT, LexicalIndex
from vectorstore.settings import Settings
from vectorstore.store import FILTER_FIELDS, CorpusIndex, IndexMissingError
from vectorstore.text import normalize_for_match

logger = logging.getLogger(__name__)

LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 0.7
RRF_K = 10
CANDIDATES = 60
DUPLICATE_JACCARD = 0.6


class FilterError(RequestError):
    """An unknown filter name (message in French)."""


def normalize_filters(filters: dict[str, Any]) -> dict[str, list]:
    """{name: value or list} → {name: [values]} for the known fields, years as ints."""
    out: dict[str, list] = {}
    for name, value in filters.items():
        if value is None or value == [] or value == "":
            continue
        if name not in FILTER_FIELDS:
            raise FilterError(f"Filtre inconnu « {name} » : les filtres possibles sont {', '.join(FILTER_FIELDS)}.")
        values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        out[name] = [int(v) for v in values] if name == "year" else [str(v) for v in values]
    return out


def designates(wanted: str, name: str) -> bool:
    """True when a person's ``wanted`` wording names the publisher ``name``: the same words, or a run of its
    words (« CRESS Occitanie », « cress occitanie » or « Occitanie » for « Acteurs de l'ESS en Occitanie
    (CRESS Occitanie) »), ignoring accents, case and punctuation."""
    words = normalize_for_match(wanted)
    return bool(words) and f" {words} " in f" {normalize_for_match(name)} "


def resolve_publishers(wanted: Iterable[str], known: Iterable[str]) -> list[str]:
    """The indexed publisher names the wanted ones designate; a name matching none is kept as typed (no hit)."""
    known = sorted(set(known))
    resolved: dict[str, None] = {}
    for value in wanted:
        for name in [n for n in known if designates(value, n)] or [value]:
            resolved[name] = None
    return list(resolved)


def _shingles(text: str) -> set[str]:
    words = normalize_for_match(text).split()
    return {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def collapse_near_duplicates(passages: Iterable[Passage], threshold: float = DUPLICATE_JACCARD) -> list[Passage]:
    kept: list[tuple[Passage, set[str]]] = []
    for passage in passages:
        sh = _shingles(passage.text)
        if all(len(sh & other) / max(1, len(sh | other)) < threshold for _, other in kept):
            kept.append((passage, sh))
    return [p for p, _ in kept]


def passage_from(doc: Document, score: float, lexical: float | None, dense: float | None) -> Passage:
    meta = doc.metadata
    return Passage(
        text=doc.page_content,
        source=meta.get("source", ""),
        title=meta.get("title") or meta.get("source", ""),
        page=meta.get("page"),
        section=meta.get("section"),
        score=score,
        chunk_id=meta.get("chunk_id") or doc.id or "",
        publisher=meta.get("publisher"),
        year=meta.get("year"),
        position=int(meta.get("position", 0)),
        lexical_score=lexical,
        dense_score=dense,
    )


class HybridSearch:
    """Holds one open index and its BM25; reloads BM25 when an ingest has published a new generation."""

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index
        self._lexical: LexicalIndex | None = None
        self._generation: int | None = None
        self._manifest_mtime = None
        self._lock = threading.Lock()
        self._publishers: tuple[LexicalIndex | None, list[str]] = (None, [])

    def lexical(self) -> LexicalIndex:
        mtime = self.index.manifest_mtime()
        if mtime is None:
            raise IndexMissingError(f"Aucun index dans {self.index.dir} : lancez d'abord « ess-assistant ingest ».")
        with self._lock:
            if mtime != self._manifest_mtime:
                manifest = self.index.read_manifest()
                self.index.check_model(manifest)
                if manifest.get("lexical_generation") != self._generation or self._lexical is None:
                    self._lexical = self._current_lexical(manifest)
                    self._generation = manifest.get("lexical_generation")
                self._manifest_mtime = mtime
            return self._lexical

    def publishers(self) -> list[str]:
        """The distinct publisher names of the indexed chunks (computed once per index generation)."""
        lexical = self.lexical()
        if self._publishers[0] is not lexical:
            names = lexical.fields.get("publisher")
            self._publishers = (lexical, sorted({str(n) for n in names if n}) if names is not None else [])
        return self._publishers[1]

    def _current_lexical(self, manifest: dict) -> LexicalIndex:
        """The persisted BM25 index, or one built in memory from the store when it was made by another
        version of the analyzer (its terms would not match the queries') or saved in another format (without
        chunk positions); the next ingest persists it."""
        if manifest.get("lexical_analyzer") == ANALYZER_VERSION and manifest.get("lexical_format") == LEXICAL_FORMAT:
            return self.index.load_lexical()
        logger.warning("Lexical index built by another analyzer version or format: rebuilding it in memory")
        return self.index.build_lexical()

    def search(
        self,
        query: str,
        k: int = 5,
        filters: dict[str, list] | None = None,
        *,
        lexical_weight: float = LEXICAL_WEIGHT,
        dense_weight: float = DENSE_WEIGHT,
        rrf_k: int = RRF_K,
        candidates: int = CANDIDATES,
    ) -> list[Passage]:
        filters = dict(filters or {})
        if filters.get("publisher"):
            filters["publisher"] = resolve_publishers(filters["publisher"], self.publishers())
        lexical_hits = self.lexical().search(query, candidates, filters) if lexical_weight else []
        dense_hits = self.index.dense_search(query, candidates, filters) if dense_weight else []
        fused: dict[str, float] = {}
        lex_scores: dict[str, float] = {}
        dense_scores: dict[str, float] = {}
        docs: dict[str, Document] = {}
        for rank, hit in enumerate(lexical_hits):
            fused[hit.chunk_id] = fused.get(hit.chunk_id, 0.0) + lexical_weight / (rrf_k + rank + 1)
            lex_scores[hit.chunk_id] = hit.score
        for rank, (doc, similarity) in enumerate(dense_hits):
            cid = doc.metadata.get("chunk_id") or doc.id
            fused[cid] = fused.get(cid, 0.0) + dense_weight / (rrf_k + rank + 1)
            dense_scores[cid] = similarity
            docs[cid] = doc
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)[: max(k * 3, k + 10)]
        docs.update(self.index.get_chunks([cid for cid in ranked if cid not in docs]))
        passages = (
            passage_from(docs[cid], fused[cid], lex_scores.get(cid), dense_scores.get(cid))
            for cid in ranked
            if cid in docs
        )
        return collapse_near_duplicates(passages)[:k]


_searches: dict[tuple, HybridSearch] = {}
_searches_lock = threading.Lock()


def get_search(settings: Settings | None = None) -> HybridSearch:
    """The process-wide search over the configured index (opened once, reused by every caller)."""
    settings = settings or Settings.from_env()
    key = (str(settings.index_dir), settings.chroma_url, settings.embedding_model)
    with _searches_lock:
        if key not in _searches:
            _searches[key] = HybridSearch(CorpusIndex(settings))
        return _searches[key]


def retrieve(query: str, k: int = 5, **filters: Any) -> list[Passage]:
    """The ``k`` best passages for ``query``; filters: source=, publisher=, year= (a value or a list).

    A ``k`` below 1 is refused (RequestError), not silently read as a slice bound."""
    checked_k(k)
    if not query or not query.strip():
        return []
    return get_search().search(query, k, normalize_filters(filters))


def mentioned_in_corpus(name: str) -> bool:
    """True when some indexed passage uses every search term of ``name``."""
    return get_search().lexical().mentions(name)


def get_neighbours(chunk_id: str, before: int = 1, after: int = 1) -> list[Passage]:
    """The chunk and its neighbours in document order, to read a passage in context."""
    index = get_search().index
    doc = index.get_chunks([chunk_id]).get(chunk_id)
    if doc is None:
        return []
    position = int(doc.metadata.get("position", 0))
    where = {
        "$and": [
            {"source": doc.metadata["source"]},
            {"position": {"$gte": position - before}},
            {"position": {"$lte": position + after}},
        ]
    }
    neighbours = sorted(index.get_where(where), key=lambda d: d.metadata.get("position", 0))
    return [passage_from(d, 0.0, None, None) for d in neighbours]


def adjacent_passage(passage: Passage, offset: int) -> Passage | None:
    """The chunk right before (``offset`` -1) or after (+1) ``passage`` in its document, if any."""
    for p in get_neighbours(passage.chunk_id, max(0, -offset), max(0, offset)):
        if p.source == passage.source and p.position == passage.position + offset:
            return p
    return None


def list_documents() -> list[dict[str, Any]]:
    """The indexed documents (source, title, publisher, year, passages, indexed_at: ISO date or None), for
    filters, citations and the corpus panel."""
    files = get_search().index.read_manifest()["files"]
    return [
        {"source": source, "title": e.get("title"), "publisher": e.get("publisher"), "year": e.get("year"),
         "passages": len(e.get("chunk_ids", [])), "indexed_at": e.get("indexed_at")}
        for source, e in sorted(files.items())
    ]


class HybridRetriever(BaseRetriever):
    """LangChain retriever over :func:`retrieve`, so any chain can use our search."""

    k: int = 5
    filters: dict[str, Any] = {}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=p.text, metadata={k: v for k, v in p.to_dict().items() if k != "text"}, id=p.chunk_id)
            for p in retrieve(query, self.k, **self.filters)
        ]
