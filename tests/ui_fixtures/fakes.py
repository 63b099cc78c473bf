"""A small in-memory answerer and index standing in for the real pipeline in fast UI tests.

The fake answers by word overlap over a handful of passages and quotes the best sentence, so the UI
code paths (streaming, citations, filters, neighbours, ingestion report) are exercised for real.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.types import Answer, AnswerEvent, Citation, Passage
from ingest.pipeline import IngestCancelled
from vectorstore.text import normalize_for_match

SCRIPT = "<script>window.__pwned = 1</script>"


def _p(source: str, title: str, publisher: str, year: int, position: int, text: str) -> Passage:
    return Passage(text=text, source=source, title=title, page=position + 1, section=None, score=0.0,
                   chunk_id=f"{source}#{position}", publisher=publisher, year=year, position=position)


PASSAGES = [
    _p("pactes.txt", "Pacte ESS", "CRESS Test", 2020, 0,
       "Introduction du pacte. Les acteurs de l'ESS proposent un nouveau pacte économique et social."),
    _p("pactes.txt", "Pacte ESS", "CRESS Test", 2020, 1,
       "La coopération territoriale réunit collectivités et entreprises. Les pôles territoriaux de "
       "coopération économique fédèrent des acteurs d'un même territoire."),
    _p("pactes.txt", "Pacte ESS", "CRESS Test", 2020, 2,
       "Conclusion : la relance passe par l'emploi local et non délocalisable."),
    _p("piege.md", "Document <b>piégé</b>", "Éditeur & Cie", 2022, 0,
       f"Ce document contient du code {SCRIPT} dans son texte. Le balisage doit rester inerte."),
]
STOP = {"le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "que", "qui", "quoi", "en", "d", "l"}


def _words(text: str) -> set[str]:
    return {w for w in normalize_for_match(text).split() if w not in STOP and len(w) > 2}


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


@dataclass
class FakeAnswerer:
    """Callable with the signature of assistant.answer.stream_ask; records the calls it gets.

    ``token_delay`` slows the stream so a browser can see it grow; ``max_inflight`` records how many
    answers ran at once; a question containing ``fail_on`` makes the stream break mid-way.
    """

    passages: list[Passage] = field(default_factory=lambda: list(PASSAGES))
    calls: list[dict[str, Any]] = field(default_factory=list)
    token_delay: float = 0.0
    fail_on: str = "PANNE"
    max_inflight: int = 0
    _inflight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _allowed(self, p: Passage, filters: dict[str, Any]) -> bool:
        for key in ("source", "publisher", "year"):
            want = filters.get(key)
            if want is None:
                continue
            values = want if isinstance(want, list) else [want]
            if getattr(p, key) not in values:
                return False
        return True

    def answer(self, question: str, k: int = 5, **filters: Any) -> Answer:
        q = _words(question)
        scored = []
        for p in self.passages:
            if not self._allowed(p, filters):
                continue
            best = max(_sentences(p.text), key=lambda s: len(q & _words(s)))
            overlap = len(q & _words(best))
            if overlap:
                scored.append((overlap, p, best))
        scored.sort(key=lambda t: -t[0])
        scored = scored[:k]
        if not scored:
            return Answer(text="Je n'ai pas trouvé de passage qui réponde à cette question.", abstained=True)
        cites = [Citation(n=i, passage=p, quote=s) for i, (_, p, s) in enumerate(scored[:2], 1)]
        text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        return Answer(text=text, citations=cites)

    def __call__(self, question: str, history: list[dict] | None = None, *, k: int | None = None,
                 mode: str | None = None, **filters: Any) -> Iterator[AnswerEvent]:
        with self._lock:
            self.calls.append({"question": question, "history": history, "k": k, "mode": mode, **filters})
            self._inflight += 1
            self.max_inflight = max(self.max_inflight, self._inflight)
        try:
            answer = self.answer(question, k or 5, **filters)
            for word in re.findall(r"\S+\s*", answer.text):
                time.sleep(self.token_delay)
                yield AnswerEvent(kind="token", text=word)
                if self.fail_on in question:
                    raise RuntimeError("simulated failure: Traceback (most recent call last)")
            yield AnswerEvent(kind="final", answer=answer)
        finally:
            with self._lock:
                self._inflight -= 1


def fake_neighbours(chunk_id: str, before: int = 1, after: int = 1) -> list[Passage]:
    """Neighbouring chunks of the same fake document, in order (without the passage itself)."""
    p = next(x for x in PASSAGES if x.chunk_id == chunk_id)
    same = [x for x in PASSAGES if x.source == p.source]
    return [x for x in same if x.position != p.position and -before <= x.position - p.position <= after]


def fake_documents() -> list[dict]:
    seen = {p.source: {"source": p.source, "title": p.title, "publisher": p.publisher, "year": p.year}
            for p in PASSAGES}
    return list(seen.values())


@dataclass
class FakeOutcome:
    source: str
    status: str
    chunks: int
    reason: str | None


@dataclass
class FakeReport:
    outcomes: list[FakeOutcome]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


def fake_ingest(paths: list[Path], progress: Any = None, delay: float = 0.0, cancel: Any = None) -> FakeReport:
    """Accepts text files and PDFs that start like a PDF; reports the rest as damaged."""
    outcomes = []
    for i, path in enumerate(paths, 1):
        if cancel is not None and cancel():
            raise IngestCancelled("Indexation annulée.")
        if progress:
            progress(path.name, i - 1, len(paths))
        time.sleep(delay)
        data = path.read_bytes()
        if path.suffix == ".pdf" and not data.startswith(b"%PDF"):
            outcomes.append(FakeOutcome(path.name, "failed", 0, "Le fichier PDF est endommagé ou illisible."))
        else:
            outcomes.append(FakeOutcome(path.name, "ingested", 1, None))
        if progress:
            progress(path.name, i, len(paths))
    return FakeReport(outcomes)


@dataclass
class FakeCorpus:
    """The index behind the corpus panel, in memory: documents() lists, ingest() adds (title, publisher and
    year read by the real ingest.pipeline.document_metadata, so the uploads' catalog is exercised), remove()
    takes out."""

    docs: dict[str, dict] = field(default_factory=lambda: {
        d["source"]: {**d, "passages": 3, "indexed_at": "2026-01-05T10:00:00+00:00"} for d in fake_documents()})

    def documents(self) -> list[dict]:
        return list(self.docs.values())

    def ingest(self, paths: list[Path], progress: Any = None, **_: Any) -> FakeReport:
        from ingest.pipeline import document_metadata

        report = fake_ingest(paths, progress)
        for path, outcome in zip(paths, report.outcomes, strict=True):
            if outcome.status == "ingested":
                self.docs[outcome.source] = {**document_metadata(path), "passages": outcome.chunks,
                                             "indexed_at": datetime.now().isoformat(timespec="seconds")}
        return report

    def remove(self, sources: list[str], settings: Any = None) -> FakeReport:
        return FakeReport([FakeOutcome(s, "removed" if self.docs.pop(s, None) else "failed", 0,
                                       None if s else "absent") for s in sources])
