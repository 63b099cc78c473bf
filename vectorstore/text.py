"""French text analysis, in one place for every stage: ingest, search, answers, briefs and evaluation.

- ``fold`` (lower case, no accents, typographic quotes unified) and ``normalize_for_match``, which also erases
  what OCR and PDF conversion damage (punctuation, hyphenation, markdown emphasis, ``I'``/``|'`` read for
  ``l'``) so a verbatim quote taken from the raw file still matches the cleaned passage it ended up in;
- ``french_terms``: the search terms of a text (elisions and stop words dropped, Snowball stem, accents folded),
  shared by BM25 and the answerer so a question and a passage are cut the same way (``question_terms`` also
  drops question words);
- ``CONNECTORS`` and ``DATED_YEAR_RE``: the words that link a sentence to the one before, and a year given as a
  date (« en 2013 », not « 2000 coopératives »), read alike by answers and notes;
- ``split_spans``/``split_sentences``: French sentence boundaries (abbreviations, list items, headings).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "«": '"', "»": '"', "“": '"', "”": '"'})
_LIGATURES = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ﬁ": "fi", "ﬂ": "fl", "\u00a0": " ", "\u202f": " "}
_LIGATURE_RE = re.compile("|".join(map(re.escape, _LIGATURES)))
# The French words that lose their vowel before another (« l'ESS », « qu'il », « lorsqu'elle »), apostrophe excluded.
ELIDED_WORDS = r"(?:jusqu|lorsqu|puisqu|qu|[cdjlmnst])"
# OCR reads the elided article l' as I' or |' (and sometimes drops the l: "'ESS").
_OCR_ELISION_RE = re.compile(r"(?<![\w])[I|](?=')")
# For matching, any one letter before an apostrophe goes, and a bare apostrophe: OCR garbles or drops the letter.
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


# --- search terms ------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[0-9a-zà-öø-ÿœæ]+", re.IGNORECASE)
SEARCH_STOPWORDS = frozenset(fold(w) for w in STOPWORDS_FRENCH) | {
    "a", "ete", "etre", "cette", "ces", "comme", "dont", "aussi", "plus", "tres", "peut", "fait", "faire",
    "entre", "sans", "sous", "ainsi", "quel", "quels", "quelle", "quelles", "combien", "comment", "pourquoi",
}  # fmt: skip


# Bump when what french_terms() (hence BM25's analyze()) returns changes:
# an index built with another version is rebuilt from the store.
ANALYZER_VERSION = 2


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def french_terms(text: str, stopwords: frozenset[str] = SEARCH_STOPWORDS) -> list[str]:
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


# fmt: off
_QUESTION_WORDS = {
    "quel", "quelle", "quels", "quelles", "comment", "pourquoi", "combien", "qui", "quoi", "quand",
    "lequel", "laquelle", "lesquels", "lesquelles", "est", "sont", "peut", "peuvent", "faut", "fait",
    "faire", "etre", "existe", "il", "y", "a", "t", "cette", "ces", "cet", "dont", "leur", "leurs", "plus",
    "tout", "tous", "toutes", "elles", "ils", "on", "au", "juste", "c", "concretement", "notamment",
    "exemple", "aussi", "selon", "ainsi", "donc", "comme", "entre", "sur", "sous", "par", "pour", "vers",
    "chez", "sans", "avec", "ont", "ete", "etait", "avait", "moins", "tres", "bien", "si", "ou", "mais",
    "ni", "car", "dit", "quelqu", "cela", "ceci", "celle", "celui", "ceux", "celles", "autre", "autres",
    "meme", "memes", "deux",
}
# fmt: on
# Stop words of a question: French stop words and the words that make it a question.
QUESTION_STOPWORDS = frozenset(fold(w) for w in STOPWORDS_FRENCH) | _QUESTION_WORDS


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    """One word as the search term ``french_terms`` makes of it."""
    terms = french_terms(word, frozenset())
    return terms[0] if terms else word


def question_terms(text: str) -> list[str]:
    """The search terms of ``text``, with question words dropped as well."""
    return french_terms(text, QUESTION_STOPWORDS)


# Words that link a sentence to the one before (« Mais ce dernier… », « De plus, cette démarche… »): a reference
# behind them leans on that sentence as much as one opening the sentence. Folded, as a regex alternation.
CONNECTORS = (
    r"(?:mais|et|or|donc|aussi|pourtant|cependant|toutefois|de plus|en effet|enfin|par ailleurs|en outre|ainsi)"
)


# A year the sentence gives as a date (« en 2019 », « depuis 2015 », « fin 2020 », « 1er janvier 2020 »,
# « (2019) », « 2019-2020 »), not a count (« 2000 coopératives »); matched on fold()ed text.
DATED_YEAR_RE = re.compile(
    r"(?:\b(?:en|depuis|des|d'ici|fin|debut|mi|avant|apres|jusqu'en|annee|annees|au|entre|de|du|et|a|le|la"
    r"|trimestre|semestre|exercice|horizon|rentree|printemps|ete|automne|hiver"
    r"|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)\s+|[(-])"
    r"((?:19[5-9]|20[0-4])\d)\b"
    r"(?!\s*[-–]?\s*(?!les\b|des\b|ces\b|nos\b|ses\b|leurs\b|plus\b|dans\b|apres\b|sans\b)[a-z]+[sx]\b)"
)

# --- sentences -------------------------------------------------------------------------------------

# fmt: off
_ABBREVIATIONS = frozenset({
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "p", "pp", "cf", "etc", "ex", "art", "al",
    "env", "vol", "no", "nos", "chap", "fig", "hab", "md", "mds", "m€", "md€", "av", "apr", "bd", "inf",
    "sup", "coll", "dir", "ed", "op",
})
# fmt: on
LIST_MARKERS = "-*•–"
# A list marker where a line starts: a bullet or an item number (« - », « 2. », « 3) »), then a space.
BULLET = f"[{re.escape(LIST_MARKERS)}]"
_ITEM_MARK = rf"(?:{BULLET}|\d+[.)])\s"
LIST_ITEM_RE = re.compile(rf"\s*{_ITEM_MARK}")
# A sentence ends after . ! ? … (optionally closed by a quote/bracket) followed by space; or at a blank line;
# or before a line that starts a list item or a heading.
_END_RE = re.compile(rf"[.!?…]+[\"»”)\]*]*(?=\s)|\n\s*\n|\n(?=\s*(?:{_ITEM_MARK}|#))")
_COLON_NEXT_RE = re.compile(r"[ \t]*:")
# Addresses and code are cut out of sentences (left over from HTML or scripts).
_ACTIVE_TOKEN_RE = re.compile(
    r"\S*(?:(?:https?|ftp|javascript|data|vbscript):|www\.|document\.cookie)\S*|<\s*/?\s*script[^>]*>", re.I
)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the dot at ``dot`` closes an abbreviation, an initial or a list number, not a sentence."""
    # Scanned back from the dot, not searched in text[:dot]: that was quadratic in the length of a document.
    end = dot - 1 if dot and text[dot - 1] == "\n" else dot
    start = end
    while start and not text[start - 1].isspace():
        start -= 1
    if start == end:
        return False
    word = fold(text[start:end]).strip("(«\"'")
    # A number opening its line, or right after a bullet (« - 1. Revaloriser les métiers… »), numbers an item.
    if word.isdigit() and text[text.rfind("\n", 0, start) + 1 : start].strip() in ("", *LIST_MARKERS):
        return True
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of French ``text`` (whitespace trimmed, empty pieces dropped)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END_RE.finditer(text):
        if m.group().startswith(".") and len(m.group()) == 1 and _is_abbreviation(text, m.start()):
            continue
        # A sentence never opens on a colon: « **T.D. :** Dans les territoires… », « écologiques... : comment ».
        if not m.group().isspace() and _COLON_NEXT_RE.match(text, m.end()):
            continue
        end = m.end() if not m.group().isspace() else m.start()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        # A markdown heading is a sentence of its own, ending with its line.
        while s < e and text[s] == "#" and (nl := text.find("\n", s, e)) >= 0:
            out.append((s, nl))
            s = nl + 1
            while s < e and text[s].isspace():
                s += 1
        if e > s:
            out.extend(_isolate_active(text, s, e))
    return out


def _isolate_active(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The span [s, e) without its addresses and code (left over from HTML or scripts), in pieces."""
    out: list[tuple[int, int]] = []
    start = s
    for m in _ACTIVE_TOKEN_RE.finditer(text, s, e):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, e))
    pieces = []
    for a, b in out:
        piece = text[a:b]
        a, b = a + len(piece) - len(piece.lstrip()), a + len(piece.rstrip())
        if re.search(r"\w", text[a:b]):
            pieces.append((a, b))
    return pieces


def split_sentences(text: str) -> list[str]:
    """The sentences of French ``text``, each an exact substring of it."""
    return [text[s:e] for s, e in split_spans(text)]
