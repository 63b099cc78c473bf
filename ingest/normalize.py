"""Text normalisation shared by search, evaluation and citation checks.

Two levels: ``fold`` (lower case, no accents, typographic quotes unified) for lexical search, and
``normalize_for_match`` which also erases what OCR and PDF conversion damage (punctuation, hyphenation,
markdown emphasis, ``I'``/``|'`` read for ``l'``) so a verbatim quote taken from the raw file still
matches the cleaned passage it ended up in.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "«": '"', "»": '"', "“": '"', "”": '"'})
_LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ﬁ": "fi", "ﬂ": "fl", "\u00a0": " ", "\u202f": " "}
_LIGATURE_RE = re.compile("|".join(map(re.escape, _LIGATURES)))
# OCR reads the elided article l' as I' or |' (and sometimes drops the l: "'ESS").
_OCR_ELISION_RE = re.compile(r"(?<![\w])[I|](?=')")
_ELISION_RE = re.compile(r"\b(?:qu|[a-z])?'")
_HYPHEN_RE = re.compile(r"[-‐‑‒–—]\s*")
_NON_WORD_RE = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and unify quotes and ligatures (keeps punctuation)."""
    text = _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text.translate(_QUOTES))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalize_for_match(text: str) -> str:
    """Reduce text to lowercase ascii words separated by single spaces, OCR confusions erased."""
    text = _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text.translate(_QUOTES))
    text = _OCR_ELISION_RE.sub("l", text)
    text = fold(text)
    # Elided articles are dropped ("l'ESS", "I'ESS", "'ESS" all give "ess"); hyphenated words are joined.
    text = _ELISION_RE.sub(" ", text)
    text = _HYPHEN_RE.sub("", text)
    return _NON_WORD_RE.sub(" ", text).strip()


def contains_quote(passage: str, quote: str, min_half_chars: int = 40) -> bool:
    """True when ``quote`` occurs in ``passage`` after normalisation, or one long half of it does.

    The half rule accepts a quote that a chunk boundary cut in two: its first or second half, if at
    least ``min_half_chars`` long once normalised, must occur whole.
    """
    hay = normalize_for_match(passage)
    needle = normalize_for_match(quote)
    if not needle:
        return False
    if needle in hay:
        return True
    if len(needle) < 2 * min_half_chars:
        return False
    words = needle.split()
    mid = len(words) // 2
    halves = (" ".join(words[:mid]), " ".join(words[mid:]))
    return any(len(h) >= min_half_chars and h in hay for h in halves)
