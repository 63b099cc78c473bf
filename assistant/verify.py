"""Citation verification in code, after generation: nothing unverified reaches the user silently.

Each sentence of a generated answer must cite passages that were given ([n] within 1..len(passages)); every
quoted span must occur in a cited passage (``contains_quote``); every figure must appear in a cited passage;
and most of its content words must come from them. A failing sentence is removed and the removal is reported
in French. Surviving markers are renumbered densely in order of appearance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.extractive import display_text, is_instruction_like, is_quotable
from assistant.types import Citation, Passage
from vectorstore.text import BULLET, contains_quote, normalize_for_match, question_terms, split_spans

logger = logging.getLogger(__name__)

# Share of a sentence's content words (stems) that must occur in the passages it cites.
MIN_TERM_SUPPORT = 0.5

_MARKER_RE = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_BULLET_RE = re.compile(rf"\s*{BULLET}\s")
# Small models write "[Passage 2]" or "[source 2]" for [2].
_WORDY_MARKER_RE = re.compile(r"\[\s*(?:passage|source|document|doc|extrait)\s*n?°?\s*(\d+)\s*\]", re.I)
_LEADING_MARKERS_RE = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_QUOTED_RE = re.compile(r"«\s*([^»]+?)\s*»|\"([^\"]+)\"|“([^”]+)”")
# Runs of words holding digits, once normalised: "1 000", "24 5" (24,5), "4eme", "identifie1" (a footnote call).
_NUMBER_RE = re.compile(r"[a-z]*\d[0-9a-z]*(?: \d[0-9a-z]*)*")


@dataclass(frozen=True)
class Verified:
    """The answer text as it may be shown, its citations, and French notes about what was removed."""

    text: str
    citations: list[Citation]
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def without_markers(text: str) -> str:
    """``text`` without its citation markers ('[1]', '[2, 3]'), to compare it with the sources' words."""
    return _MARKER_RE.sub(" ", text)


def markers(sentence: str) -> list[int]:
    """Citation numbers in ``sentence``, in order, without repeats ('[1, 3] … [2]' -> [1, 3, 2])."""
    out: list[int] = []
    for m in _MARKER_RE.finditer(sentence):
        for n in re.split(r"\s*[,;]\s*", m.group(1)):
            if int(n) not in out:
                out.append(int(n))
    return out


def _sentences(text: str) -> list[tuple[str, str]]:
    """(separator before, sentence) pairs; markers written after the full stop go back to their sentence.

    In a reply, unlike in a passage, a line break always ends a sentence (list items, paragraphs).
    """
    pieces: list[tuple[str, str]] = []
    for line_no, line in enumerate(text.splitlines()):
        for i, (s, e) in enumerate(split_spans(line)):
            sentence = line[s:e]
            lead = _LEADING_MARKERS_RE.match(sentence)
            if lead and pieces:
                sep, prev = pieces[-1]
                pieces[-1] = (sep, prev + " " + lead.group().strip())
                sentence = sentence[lead.end() :].strip()
                if not sentence:
                    continue
            pieces.append(("\n" if i == 0 and line_no > 0 else " ", sentence))
    return pieces


def _quoted_spans(sentence: str) -> list[str]:
    spans = [next(g for g in m.groups() if g) for m in _QUOTED_RE.finditer(sentence)]
    return [q for q in spans if len(q.split()) >= 3]


def _figures(sentence: str) -> list[str]:
    """Figures of a sentence (markers excluded), normalised as contains_quote sees them: '24,5' -> '24 5'."""
    return _NUMBER_RE.findall(normalize_for_match(_MARKER_RE.sub(" ", sentence)))


def best_quote(sentence: str, passage: Passage) -> str | None:
    """The sentence of ``passage`` that best supports ``sentence`` (a quoted span's host first), or None."""
    candidates = [passage.text[s:e].strip() for s, e in split_spans(passage.text)]
    candidates = [c for c in candidates if is_quotable(c)]
    if not candidates:
        return None
    for span in _quoted_spans(sentence):
        for c in candidates:
            if contains_quote(c, span):
                return c
    terms = set(question_terms(_MARKER_RE.sub(" ", sentence)))
    scored = [(len(terms & set(question_terms(c))), -i, c) for i, c in enumerate(candidates)]
    overlap, _, quote = max(scored)
    return quote if overlap else None


def _evidence(passage: Passage) -> str:
    """What a passage attests: its text without the instructions planted in it (those are not evidence)."""
    spans = split_spans(passage.text)
    return " ".join(passage.text[s:e] for s, e in spans if not is_instruction_like(passage.text[s:e]))


def _check(sentence: str, cited: list[Passage]) -> str:
    """Why ``sentence`` is not supported by the ``cited`` passages ('' when it is)."""
    evidence = [_evidence(p) for p in cited]
    for span in _quoted_spans(sentence):
        if not any(contains_quote(text, span) for text in evidence):
            return "la citation ne figure pas dans la source indiquée"
    hay = " ".join(normalize_for_match(text) for text in evidence)
    for fig in _figures(sentence):
        if fig and f" {fig} " not in f" {hay} ":
            return "un chiffre ne figure pas dans la source indiquée"
    terms = set(question_terms(_MARKER_RE.sub(" ", sentence)))
    source_terms = set().union(*(question_terms(text) for text in evidence))
    if terms and len(terms & source_terms) / len(terms) < MIN_TERM_SUPPORT:
        return "la source indiquée ne dit pas cela"
    return ""


def verify_answer(text: str, passages: Sequence[Passage]) -> Verified:
    """Keep the sentences of ``text`` whose citations check out, renumber them, and say what was removed.

    The notes name the kind of failure, never the removed text: a planted payload must not come back that way.
    """
    text = _WORDY_MARKER_RE.sub(r"[\1]", text)
    kept: list[tuple[str, str]] = []
    removed: list[str] = []
    reasons: list[str] = []
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    for sep, sentence in _sentences(text):
        shown = display_text(sentence)
        if _BULLET_RE.match(sentence):
            shown = "- " + shown  # a list item stays one
        if not re.search(r"\w", _MARKER_RE.sub("", shown)):
            continue  # stray punctuation or markers alone carry no claim
        ns = markers(sentence)
        if not ns:
            # A short lead-in announcing a list ("Trois pistes :") carries no claim of its own.
            if shown.endswith(":") and len(shown.split()) <= 12:
                kept.append((sep, shown))
                continue
            removed.append(shown)
            reasons.append("une phrase sans source")
            continue
        bad = [n for n in ns if not 1 <= n <= len(passages)]
        if bad:
            removed.append(shown)
            reasons.append("une phrase citant une source qui n'existe pas")
            continue
        cited = [passages[n - 1] for n in ns]
        reason = _check(sentence, cited)
        quotes = {n: best_quote(sentence, passages[n - 1]) for n in ns}
        if not reason and not any(quotes.values()):
            reason = "la source indiquée ne dit pas cela"
        if reason:
            removed.append(shown)
            reasons.append(f"une phrase dont {reason}")
            continue
        for n in ns:
            quote = quotes[n]
            if n not in renumber and quote:
                renumber[n] = len(renumber) + 1
                citations.append(Citation(n=renumber[n], passage=passages[n - 1], quote=quote))
        new = _MARKER_RE.sub(
            lambda m: "".join(
                f"[{renumber[int(x)]}]" for x in re.split(r"\s*[,;]\s*", m.group(1)) if int(x) in renumber
            ),
            shown,
        )
        kept.append((sep, new))
    # Drop a lead-in left without the list it announced.
    while kept and kept[-1][1].endswith(":") and not markers(kept[-1][1]):
        kept.pop()
    out = "".join(sep + s for sep, s in kept).strip()
    warnings = [f"Retiré à la vérification : {r}." for r in dict.fromkeys(reasons)]
    if removed:
        logger.info("verification removed %d sentence(s): %s", len(removed), reasons)
    return Verified(out, citations, warnings, removed)
