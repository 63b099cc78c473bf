"""Check a labelled question file before it is used for training or evaluation.

Usage: python benchmarks/check_questions.py QUESTIONS.jsonl [--corpus DIR]

Each row needs a unique ``id``, a ``question``, a ``type`` and a ``difficulty`` from the labelled sets'
vocabularies and a ``source``: a corpus file name, a list of them for a cross-document item, "" for an
unanswerable row, which has no ``evidence`` either. Any other row has an ``answer`` and evidence quotes, each
at least 30 characters long, found in the raw text of one of its source files (normalised as the evaluation
does, so « I'ESS » or « a la » copied from OCR text still count) and within one passage of that file as the
pipeline cuts it (``ingest.ocr.contains_evidence``, the evaluation's hit rule): a quote the chunker splits
would otherwise silently score as a miss.

Prints one line per problem and exits 1 when there is any (0 otherwise). A quote found only once normalised
(not character for character, whitespace, quote marks and Unicode composition aside) is reported as a note.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from assistant.evaluation import load_gold
from ingest.ocr import contains_evidence
from ingest.pipeline import prepare_chunks
from vectorstore.settings import BUNDLED_CORPUS
from vectorstore.text import normalize_for_match

TYPES = frozenset({"factual", "list", "numeric", "who", "definition", "synthesis", "date", "explain"})
DIFFICULTIES = frozenset({"paraphrase", "easy", "hard", "unanswerable"})
MIN_QUOTE_CHARS = 30
_SPACES_RE = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"'})


@dataclass(frozen=True)
class _Document:
    verbatim: str  # the raw text as ``_verbatim`` leaves it
    normalised: str  # the raw text through ``normalize_for_match``
    passages: tuple[str, ...]  # the passages the pipeline cuts (cleaned, OCR-corrected)
    normalised_passages: tuple[str, ...]

    def in_a_passage(self, quote: str) -> bool:
        """The evaluation's hit rule (``contains_evidence``), with its plain case tried first on passages
        normalised once."""
        needle = normalize_for_match(quote)
        return any(needle in p for p in self.normalised_passages) or any(
            contains_evidence(p, quote) for p in self.passages
        )


@cache
def _document(path: Path) -> _Document:
    raw = path.read_text(encoding="utf-8")
    passages = tuple(chunk.page_content for chunk in prepare_chunks(path))
    return _Document(_verbatim(raw), normalize_for_match(raw), passages, tuple(map(normalize_for_match, passages)))


def _verbatim(text: str) -> str:
    """Text as copied by hand: whitespace collapsed, typographic quotes and apostrophes unified."""
    return _SPACES_RE.sub(" ", unicodedata.normalize("NFC", text).translate(_QUOTES)).strip()


def _sources(row: dict[str, Any]) -> list[str]:
    source = row.get("source")
    if isinstance(source, list):
        return [str(s) for s in source]
    return [str(source)] if source else []


def check_rows(rows: Iterable[dict[str, Any]], corpus: Path) -> tuple[list[str], list[str]]:
    """(problems, notes) for the rows; a problem makes the file unusable, a note is worth a look."""
    problems: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, 1):
        rid = str(row.get("id") or f"ligne {n}")
        where = f"{rid}:"
        if not row.get("id"):
            problems.append(f"{where} no id")
        elif rid in seen:
            problems.append(f"{where} duplicate id")
        seen.add(rid)
        if not str(row.get("question") or "").strip():
            problems.append(f"{where} empty question")
        if row.get("type") not in TYPES:
            problems.append(f"{where} type {row.get('type')!r} not in {sorted(TYPES)}")
        if row.get("difficulty") not in DIFFICULTIES:
            problems.append(f"{where} difficulty {row.get('difficulty')!r} not in {sorted(DIFFICULTIES)}")
        evidence = row.get("evidence")
        if not isinstance(evidence, list) or not all(isinstance(q, str) for q in evidence):
            problems.append(f"{where} evidence must be a list of strings")
            continue
        sources = _sources(row)
        if row.get("difficulty") == "unanswerable":
            if evidence or sources:
                problems.append(f"{where} an unanswerable row has no evidence and no source")
            continue
        if not evidence or not sources or not str(row.get("answer") or "").strip():
            problems.append(f"{where} an answerable row needs a source, evidence and an answer")
            continue
        missing = [s for s in sources if not (corpus / s).is_file()]
        if missing:
            problems.append(f"{where} source not in {corpus}: {', '.join(missing)}")
            continue
        documents = [_document(corpus / s) for s in sources]
        for quote in evidence:
            short = quote if len(quote) <= 70 else quote[:67] + "..."
            if len(quote.strip()) < MIN_QUOTE_CHARS:
                problems.append(f"{where} quote shorter than {MIN_QUOTE_CHARS} characters: {quote!r}")
            needle = normalize_for_match(quote)
            if not any(needle and needle in d.normalised for d in documents):
                problems.append(f"{where} quote not in the source text: {short!r}")
                continue
            if not any(d.in_a_passage(quote) for d in documents):
                problems.append(f"{where} quote in the text but in no single passage: {short!r}")
            if not any(_verbatim(quote) in d.verbatim for d in documents):
                notes.append(f"{where} quote found only once normalised: {short!r}")
    return problems, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="JSON lines file of labelled questions")
    parser.add_argument("--corpus", type=Path, default=BUNDLED_CORPUS, help="folder of the source documents")
    args = parser.parse_args(argv)
    rows = load_gold(args.questions)
    problems, notes = check_rows(rows, args.corpus)
    for line in notes:
        print(f"note  {line}")
    for line in problems:
        print(f"FAIL  {line}")
    print(f"{len(rows)} rows, {len(problems)} problems, {len(notes)} notes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
