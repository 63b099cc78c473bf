"""Value types shared by retrieval, answering, briefs and the UI.

They are plain frozen dataclasses so scripts can use them without importing any model code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


class RequestError(ValueError):
    """A request the user must correct (empty question, unknown filter, k below 1); message in French."""


# The passages an answer is chosen from (``ask``'s default k, the web chat's too): the sentence ranker is trained on
# that many. Out of fold on the 1 003 labelled questions (evidence / precision / support / abstention): 4 passages
# 0.570 / 0.562 / 0.591 / 0.617, 5 0.574 / 0.561 / 0.598 / 0.617, 7 0.579 / 0.565 / 0.600 / 0.609, 9 0.577 / 0.568 /
# 0.595 / 0.609: within the spread of this measure (~0.01), so 5 stays (validation, read after: 7 showed two dev
# answers fewer with their evidence, the same number on the heldout questions).
ANSWER_PASSAGES = 5
MAX_QUESTION_CHARS = 2000  # the web's cap, for every entry point: a 100 KB question took 60 s and 400 MB


def checked_question(question: Any) -> str:
    """``question`` stripped, when it is a non-empty text of at most MAX_QUESTION_CHARS, else a RequestError."""
    if not isinstance(question, str):
        raise RequestError(f"La question doit être un texte (reçu : {type(question).__name__}).")
    question = question.strip()
    if not question:
        raise RequestError("La question est vide : écrivez une question.")
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestError(
            f"La question est trop longue ({len(question)} caractères) : {MAX_QUESTION_CHARS} caractères au plus."
        )
    return question


def checked_k(k: Any) -> int:
    """``k`` when it is a whole number of passages ≥ 1, else a French RequestError."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise RequestError(f"Le nombre de passages (k) doit être un entier supérieur ou égal à 1 (reçu : {k!r}).")
    return k


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk of a corpus document, with where it comes from."""

    text: str
    source: str
    title: str
    page: int | None
    section: str | None
    score: float
    chunk_id: str
    publisher: str | None = None
    year: int | None = None
    position: int = 0
    # Raw signals behind ``score`` (fused, rank-based): BM25 score and dense cosine similarity, when the
    # passage was found by that route. Absolute scales, so callers can calibrate thresholds on them.
    lexical_score: float | None = None
    dense_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def location(self) -> str:
        """Human-readable French locator: 'p. 4' or the section title."""
        if self.page is not None:
            return f"p. {self.page}"
        return self.section or ""


@dataclass(frozen=True)
class Citation:
    """A numbered citation: the passage and the exact sentence of it that supports the claim."""

    n: int
    passage: Passage
    quote: str

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        return {
            "n": self.n,
            "text": p.text,
            "source": p.source,
            "title": p.title,
            "publisher": p.publisher,
            "year": p.year,
            "page": p.page,
            "section": p.section,
            "chunk_id": p.chunk_id,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Answer:
    """An answer whose text carries inline markers [n] that index ``citations``."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    mode: str = "extractive"
    leads: list[Passage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON for scripts and the web API: the notes (why a check refused, an old figure) and, for a refusal, the
        closest passages to read, as the chat shows them."""
        return {
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "mode": self.mode,
            "warnings": list(self.warnings),
            "leads": [p.to_dict() for p in self.leads],
        }


@dataclass(frozen=True)
class AnswerEvent:
    """One event of a streamed answer: text tokens first, then one final event with the verified answer."""

    kind: Literal["token", "final"]
    text: str = ""
    answer: Answer | None = None
