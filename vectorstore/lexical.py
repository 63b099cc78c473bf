"""French-aware BM25 index (bm25s + Snowball French stemmer), persisted beside the vector store.

Lexical search is the backbone on this corpus (it beats every packaged embedding model on our French
questions), so the analyzer matters: elisions split off (« l'ESS » → « ess »), stop words dropped,
Snowball stemming, then accents folded so OCR's « a » for « à » or « role » for « rôle » still match.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

from ingest.normalize import fold
from vectorstore.glossary import ACRONYMS

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG when imported

_TOKEN_RE = re.compile(r"[0-9a-zà-öø-ÿœæ]+", re.IGNORECASE)
_STOPWORDS = frozenset(fold(w) for w in STOPWORDS_FRENCH) | {
    "a", "ete", "etre", "cette", "ces", "comme", "dont", "aussi", "plus", "tres", "peut", "fait", "faire",
    "entre", "sans", "sous", "ainsi", "quel", "quels", "quelle", "quelles", "combien", "comment", "pourquoi",
}  # fmt: skip


# Bump when what analyze() returns changes: an index built with another version is rebuilt from the store.
ANALYZER_VERSION = 2


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def french_terms(text: str, stopwords: frozenset[str] = _STOPWORDS) -> list[str]:
    """Lower-case words without elisions and ``stopwords`` (folded forms), stemmed, then accents folded."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    # Elided article/pronoun before an apostrophe (l', d', qu', I' from OCR) is dropped by the tokenizer,
    # as one-letter tokens are not kept.
    words = [w for w in _TOKEN_RE.findall(text) if len(w) > 1 or w.isdigit()]
    words = [_singular(w) for w in words if fold(w) not in stopwords]
    return [fold(s) for s in _stemmer().stemWords(words)]


def _singular(word: str) -> str:
    """Snowball's French stemmer keeps some plurals (« emplois », « lieux ») apart from their singular;
    « -aux » it maps to « -al » itself (« régionaux » → « régional »)."""
    if len(word) > 3 and word[-1] in "sx" and not word[-2].isdigit() and not word.endswith("aux"):
        return word[:-1]
    return word


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


class LexicalIndex:
    """BM25 over chunk texts, with per-chunk source/publisher/year kept for filtering."""

    def __init__(self, ids: list[str], fields: dict[str, list], bm25: bm25s.BM25 | None) -> None:
        self.ids = ids
        self.fields = {name: np.asarray(values, dtype=object) for name, values in fields.items()}
        self._bm25 = bm25

    @classmethod
    def build(cls, ids: Sequence[str], texts: Iterable[str], fields: dict[str, list]) -> LexicalIndex:
        ids = list(ids)
        bm25 = None
        if ids:
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index([analyze(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(ids, fields, bm25)

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, filters: dict[str, list]) -> np.ndarray | None:
        """Boolean mask of chunks matching every filter (None when there is no filter)."""
        if not filters:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        for name, allowed in filters.items():
            keep &= np.isin(self.fields[name], np.asarray(list(allowed), dtype=object))
        return keep

    def search(self, query: str, k: int, filters: dict[str, list] | None = None) -> list[LexicalHit]:
        terms = analyze(query)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        keep = self.mask(filters or {})
        if keep is not None:
            scores = np.where(keep, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [LexicalHit(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write to a sibling temp folder then swap it in, so readers never see half an index."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp / "bm25"), show_progress=False)
        fields = {name: values.tolist() for name, values in self.fields.items()}
        (tmp / "chunks.json").write_text(json.dumps({"ids": self.ids, "fields": fields}), encoding="utf-8")
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        if not folder.exists():
            old = folder.with_name(folder.name + ".old")  # a crash between the two renames of save()
            folder = old if old.exists() else folder
        data = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder / "bm25")) if data["ids"] else None
        return cls(data["ids"], data["fields"], bm25)
