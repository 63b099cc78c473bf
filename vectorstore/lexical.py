"""French-aware BM25 index (bm25s + Snowball French stemmer), persisted beside the vector store.

Lexical search is the backbone on this corpus (it beats every packaged embedding model on our French
questions), so the analyzer matters: elisions split off (« l'ESS » → « ess »), stop words dropped,
Snowball stemming, then accents folded so OCR's « a » for « à » or « role » for « rôle » still match.

A passage also scores a tenth of the passage before it in its document: what a passage continues (who is
speaking, which programme, the list it carries on) is often named just before it. Measured on train.jsonl
(benchmarks/tune_retrieval.py): fused R@1/R@5 0.468/0.677 → 0.497/0.684 (grouped 5-fold choice of the weight:
R@1 0.494); a plateau from 0.1 to 0.15.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import bm25s
import numpy as np
from bm25s.tokenization import Tokenized

from vectorstore.glossary import ACRONYMS
from vectorstore.text import ANALYZER_VERSION, french_terms

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG when imported

# Recorded in the manifest: an index saved in another format is rebuilt from the store (analyzed terms reused).
# 2: chunk positions are kept, for the preceding passage's share.
LEXICAL_FORMAT = 2
PRECEDING_WEIGHT = 0.1
POSITION_FIELD = "position"


@cache
def _expansions() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((acronym, tuple(french_terms(expansion))) for acronym, expansion in ACRONYMS.items())


def _spelled_out(terms: list[str], expansion: tuple[str, ...], slack: int = 3) -> bool:
    """True when the expansion's terms occur in order within a short span (« agence nationale chargée
    de la cohésion des territoires » spells out ANCT)."""
    for start, term in enumerate(terms):
        if term != expansion[0]:
            continue
        at, end = start, start + len(expansion) + slack
        for wanted in expansion[1:]:
            try:
                at = terms.index(wanted, at + 1, end)
            except ValueError:
                break
        else:
            return True
    return False


def analyze(text: str) -> list[str]:
    """Text → search terms: lower-case words, elisions and stop words dropped, stemmed, accents folded;
    a spelled-out acronym of the field also yields the acronym, so both spellings match each other."""
    terms = french_terms(text)
    present = set(terms)
    extra = [
        acronym
        for acronym, expansion in _expansions()
        if expansion[0] in present and set(expansion) <= present and _spelled_out(terms, expansion)
    ]
    return terms + extra


@dataclass
class LexicalHit:
    chunk_id: str
    score: float


_EMPTY = "\u2205"  # the term of a chunk with no searchable word, so every chunk has a row


def load_folder(folder: Path) -> Path:
    """Where a saved index is: ``folder``, or its ``.old`` after a crash between the two renames of save_folder()."""
    old = folder.with_name(folder.name + ".old")
    return old if not folder.exists() and old.exists() else folder


def save_folder(folder: Path, write: Callable[[Path], None]) -> None:
    """``write`` the index into a sibling temp folder then swap it in, so readers never see half an index."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def field_mask(fields: dict[str, np.ndarray], filters: dict[str, list], size: int) -> np.ndarray | None:
    """Boolean mask of the ``size`` chunks matching every filter (None when there is no filter)."""
    if not filters:
        return None
    keep = np.ones(size, dtype=bool)
    for name, allowed in filters.items():
        keep &= np.isin(fields[name], np.asarray(list(allowed), dtype=object))
    return keep


class ChunkTerms:
    """Each chunk's analyzed terms (ids into one vocabulary), keyed by a hash of the text analyzed and saved
    beside the BM25 index: a rebuild analyzes only the texts it has not seen — analysis is most of a build
    (a million chunks: 445 s from scratch, 74 s with 1 % new; benchmarks/bench_scale.py)."""

    FILE = "terms.npz"

    def __init__(self, keys: np.ndarray, vocab: list[str], flat: np.ndarray, offsets: np.ndarray) -> None:
        self.keys, self.vocab, self.flat, self.offsets = keys, vocab, flat, offsets

    @cached_property
    def _rows(self) -> dict[bytes, int]:
        """Row of each key; built only when a later build looks texts up, not for the index just built."""
        return {key: row for row, key in enumerate(self.keys.tolist())}

    @staticmethod
    def key(text: str) -> bytes:
        # Hex, not raw bytes: numpy's fixed-width bytes would drop a digest's trailing NULs.
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest().encode()

    @classmethod
    def analyze_all(cls, texts: Iterable[str], previous: ChunkTerms | None = None) -> ChunkTerms:
        """Terms of ``texts`` in order, reusing ``previous`` for texts it holds; unused terms are dropped."""
        vocab = {term: i for i, term in enumerate(previous.vocab)} if previous else {}
        keys, rows, fresh = [], [], 0
        for text in texts:
            key = cls.key(text)
            row = previous.row(key) if previous else None
            if row is None:
                row = np.fromiter((vocab.setdefault(t, len(vocab)) for t in analyze(text) or [_EMPTY]), np.int32)
                fresh += 1
            keys.append(key)
            rows.append(row)
        logger.info("Lexical build: %d texts analyzed, %d reused", fresh, len(rows) - fresh)
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=offsets[1:])
        flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
        used = np.unique(flat)
        words = list(vocab)
        return cls(
            np.array(keys, dtype="S32"),
            [words[i] for i in used],
            np.searchsorted(used, flat).astype(np.int32),
            offsets,
        )

    def row(self, key: bytes) -> np.ndarray | None:
        at = self._rows.get(key)
        return None if at is None else self.flat[self.offsets[at] : self.offsets[at + 1]]

    def tokenized(self) -> Tokenized:
        return Tokenized(
            ids=[self.flat[a:b].tolist() for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)],
            vocab={term: i for i, term in enumerate(self.vocab)},
        )

    def save(self, folder: Path) -> None:
        np.savez(folder / self.FILE, keys=self.keys, flat=self.flat, offsets=self.offsets)
        (folder / "vocab.json").write_text(
            json.dumps({"analyzer": ANALYZER_VERSION, "vocab": self.vocab}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> ChunkTerms | None:
        """The saved terms, or None when absent, unreadable or made by another analyzer version."""
        folder = load_folder(folder)
        try:
            meta = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
            if meta.get("analyzer") != ANALYZER_VERSION:
                return None
            with np.load(folder / cls.FILE) as data:
                return cls(data["keys"], meta["vocab"], data["flat"], data["offsets"])
        except (OSError, ValueError, KeyError):
            return None


def preceding_rows(sources: Sequence[object], positions: Sequence[object]) -> np.ndarray:
    """Row of the chunk just before each chunk in its document, -1 for a first chunk (or an unknown position)."""
    row_of = {(source, position): row for row, (source, position) in enumerate(zip(sources, positions, strict=True))}
    return np.array(
        [
            row_of.get((source, position - 1), -1) if isinstance(position, int | np.integer) else -1
            for source, position in zip(sources, positions, strict=True)
        ],
        dtype=np.int64,
    )


class LexicalIndex:
    """BM25 over chunk texts, with per-chunk source/publisher/year kept for filtering and positions for context."""

    def __init__(
        self, ids: list[str], fields: dict[str, list], bm25: bm25s.BM25 | None, terms: ChunkTerms | None = None
    ) -> None:
        self.ids = ids
        self.fields = {name: np.asarray(values, dtype=object) for name, values in fields.items()}
        self._bm25 = bm25
        self.terms = terms
        positions = fields.get(POSITION_FIELD)
        self._preceding = (
            preceding_rows(fields["source"], positions) if positions is not None and "source" in fields else None
        )

    @classmethod
    def build(
        cls, ids: Sequence[str], texts: Iterable[str], fields: dict[str, list], previous: ChunkTerms | None = None
    ) -> LexicalIndex:
        """BM25 over ``texts``; with ``previous`` (the terms saved by the last build) only new texts are analyzed."""
        ids = list(ids)
        if not ids:
            return cls(ids, fields, None)
        terms = ChunkTerms.analyze_all(texts, previous)
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        bm25.index(terms.tokenized(), show_progress=False)
        return cls(ids, fields, bm25, terms)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, filters: dict[str, list] | None = None) -> list[LexicalHit]:
        terms = analyze(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        if self._preceding is not None:
            scores = scores + PRECEDING_WEIGHT * np.where(self._preceding >= 0, scores[self._preceding], 0.0)
        keep = field_mask(self.fields, filters or {}, len(self.ids))
        if keep is not None:
            scores = np.where(keep, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [LexicalHit(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def mentions(self, text: str) -> bool:
        """True when every search term of ``text`` (a place, a body, an acronym) occurs in some chunk."""
        terms = analyze(text)
        vocabulary = self._bm25.vocab_dict if self._bm25 is not None else {}
        return bool(terms) and all(term in vocabulary for term in terms)

    def save(self, folder: Path) -> None:
        def write(tmp: Path) -> None:
            if self._bm25 is not None:
                self._bm25.save(str(tmp / "bm25"), show_progress=False)
            if self.terms is not None:
                self.terms.save(tmp)
            fields = {name: values.tolist() for name, values in self.fields.items()}
            (tmp / "chunks.json").write_text(json.dumps({"ids": self.ids, "fields": fields}), encoding="utf-8")

        save_folder(folder, write)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        folder = load_folder(folder)
        data = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25")) if data["ids"] else None
        return cls(data["ids"], data["fields"], bm25)
