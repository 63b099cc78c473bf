"""Correct OCR misreadings in scanned documents (« étre », « réle », « fagon », « pdle », « a la »…).

OCR leaves real-looking words whose accents or letters were misread: they reach every quote and, once
accents are folded, no longer match a correctly spelt question (« réle » ≠ « rôle »). The step runs after
``clean_text`` on every document whose text shows OCR damage (its rate of non-words, measured per document)
and replaces a token only when (a) it is not a French word, (b) nothing vouches for it (acronym, name with
inner capitals, figure) and (c) a small edit along a known OCR confusion (é/è/ê/ô, g/ç, d/ô, l/I, rn/m, œ,
a letter lost after an apostrophe…) gives a word far more frequent in French. « a » becomes « à » only where
the context leaves no doubt. Word frequencies come from the ``wordfreq`` package (large French list).
See benchmarks/ocr_report.py for the measured effect and precision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

from wordfreq import get_frequency_dict

from vectorstore.text import LIST_ITEM_RE, contains_quote

# Bump when what correct_ocr() returns changes: the ingest manifest records it, so documents indexed with
# another version are re-chunked by the next ``ingest``.
OCR_VERSION = 13

# A document is corrected when at least this many of 1 000 words are non-words (clean French prose: 0-2,
# the bundled OCR documents: 20-30) and at least MIN_NON_WORDS of them are found.
DAMAGED_PER_1000 = 8.0
MIN_NON_WORDS = 3
# A replacement must be a frequent French word (Zipf scale: 3 = once per million words) and far more frequent
# than the token it replaces (MARGIN in Zipf units: 1.5 = 30 times).
MIN_ZIPF = 2.5
MARGIN = 1.5
# French prose: 45-50 % of its words have a Zipf frequency of at least 5.5 in French (le, de, et, pour…);
# English text 3-7 %, random letters 0. Below MIN_FRENCH_SHARE the text is not French and is left alone.
FRENCH_ZIPF = 5.5
MIN_FRENCH_SHARE = 0.25

# (read by OCR, meant) character confusions, on lower-case text. Accents lost on a capital are a
# typographic habit, not damage: capitals are never given one.
CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("é", "è"),
    ("é", "ê"),
    ("é", "ô"),
    ("é", "â"),
    ("é", "ë"),
    ("e", "é"),
    ("e", "è"),
    ("e", "ê"),
    ("eé", "è"),
    ("eé", "é"),
    ("ée", "è"),
    ("ée", "é"),
    ("a", "à"),
    ("a", "â"),
    ("o", "ô"),
    ("i", "î"),
    ("i", "ï"),
    ("u", "û"),
    ("u", "ù"),
    ("c", "ç"),
    ("g", "ç"),
    ("g", "q"),
    ("q", "g"),
    ("d", "ô"),
    ("d", "â"),
    ("d", "û"),
    ("l", "i"),
    ("i", "l"),
    ("b", "ô"),
    ("éa", "â"),
    ("f", "t"),
    ("qg", "q"),
    ("rn", "m"),
    ("ce", "œ"),
)
_MAX_EDITS = 2
MAX_WORD_CHARS = 30
# Two-letter tokens are too ambiguous to correct, except these readings (« ll » → « Il », « ga » → « ça »).
_SHORT_READINGS = frozenset({"il", "ça"})
_FIRST_LETTERS_AFTER_APOSTROPHE = "aeiouhéâîêyà"
_ELISIONS = ("l", "d", "n", "j", "s", "c", "qu")

_WORD_RE = re.compile(r"(?<!\w)([^\W\d_]+)(?![\w-]*\d)(?!['’])")


@dataclass(frozen=True)
class OcrResult:
    text: str
    non_words_per_1000: float
    # (misread, corrected, context of the misreading) for every replacement, in text order per pass.
    changes: tuple[tuple[str, str, str], ...] = ()

    @property
    def corrections(self) -> int:
        return len(self.changes)


@cache
def _zipf_table() -> dict[str, float]:
    """Word → Zipf frequency (log10 of occurrences per billion words) of wordfreq's large French list."""
    return {w: math.log10(f * 1e9) for w, f in get_frequency_dict("fr", wordlist="large").items() if f > 0}


def zipf(word: str) -> float:
    return _zipf_table().get(word, 0.0)


def _variants(word: str, edits: int = _MAX_EDITS) -> dict[str, float]:
    """``word`` with up to ``edits`` non-overlapping OCR confusions undone, each with its cost.

    An accent added to a final « e » costs a little more: OCR misreads « è » as « é » more often than it drops
    a final « é », so « tempére » reads « tempère », not « tempéré ».
    """
    out: dict[str, float] = {}
    for read, meant in CONFUSIONS:
        start = word.find(read)
        while start >= 0:
            head, tail = word[:start] + meant, word[start + len(read) :]
            cost = 1.2 if meant == "é" and tail in ("", "s") else 1.0
            for rest, rest_cost in ({tail: 0.0} | (_variants(tail, edits - 1) if edits > 1 else {})).items():
                candidate = head + rest
                out[candidate] = min(out.get(candidate, 9.0), cost + rest_cost)
            start = word.find(read, start + 1)
    return out


@lru_cache(maxsize=65536)
def best_reading(word: str, edits: int = 1) -> str | None:
    """The frequent French word a lower-case non-word was misread from, or None when it is not clearly one.

    The cheapest edit wins, then the most frequent word; short tokens only become « il » or « ça ».
    """
    floor = max(MIN_ZIPF, zipf(word) + MARGIN)
    scored = [(cost, -z, c) for c, cost in _variants(word, edits).items() if (z := zipf(c)) >= floor]
    if len(word) < 3:
        scored = [s for s in scored if s[2] in _SHORT_READINGS]
    return min(scored)[2] if scored else None


def is_non_word(token: str) -> bool:
    """A token unknown to the lexicon, or a misreading of a far more frequent word (« Economie », a capital
    without its accent, is neither)."""
    word = token.lower()
    if token[0].isupper() and _accent_dropped_on_capital(word):
        return False
    return zipf(word) == 0.0 or best_reading(word, _edits(token)) is not None


def _edits(token: str) -> int:
    """Two confusions are undone only in short words starting with a capital or an l (« lsére » → « Isère »);
    one elsewhere keeps the candidates per token few (hostile text stays fast) and the corrections safe."""
    return _MAX_EDITS if (token[0].isupper() or token[0] == "l") and len(token) <= 8 else 1


def _accent_dropped_on_capital(word: str) -> bool:
    """« Etat », « Economie »: French capitals often go without their accent."""
    return word[0] == "e" and any(zipf(accented + word[1:]) >= MIN_ZIPF for accented in "éèê")


def _vouched(token: str) -> bool:
    """Acronyms (« ESS »), names and brands with inner capitals (« InterstiCiel »), one-letter tokens, and
    tokens too long to be one French word (which also bounds the edits tried per token)."""
    return not 2 <= len(token) <= MAX_WORD_CHARS or token.isupper() or any(c.isupper() for c in token[1:])


def non_word_rate(text: str) -> tuple[int, int]:
    """(non-words, words) of ``text``, counting only tokens nothing vouches for."""
    bad, _, total = _profile(text)
    return bad, total


def _profile(text: str) -> tuple[int, int, int]:
    """(non-words, very frequent French words, words) of ``text``, counting only tokens nothing vouches for."""
    bad = frequent = total = 0
    for match in _WORD_RE.finditer(text):
        token = match.group(1)
        if not _vouched(token):
            total += 1
            frequent += zipf(token.lower()) >= FRENCH_ZIPF
            bad += is_non_word(token)
    return bad, frequent, total


def is_damaged(text: str) -> bool:
    return _damaged(*_profile(text))


def _damaged(bad: int, frequent: int, total: int) -> bool:
    """French text (an English report or garbage is left alone) with OCR damage."""
    return (
        frequent >= MIN_FRENCH_SHARE * total and bad >= MIN_NON_WORDS and 1000 * bad / max(total, 1) >= DAMAGED_PER_1000
    )


def _with_case(template: str, word: str) -> str:
    """``word`` with the first letter's case of ``template``; an « l » read for « I » becomes « I »."""
    if template[0].isupper() or (template[0] == "l" and word[0] == "i"):
        return word[0].upper() + word[1:]
    return word


def _fix_word(token: str) -> str | None:
    """The corrected spelling of one token, or None to keep it."""
    if _vouched(token):
        return None
    lower = token.lower()
    if zipf(lower) == 0.0 and (split := _split_elision(lower)):
        return _with_case(token, split)
    reading = best_reading(lower, _edits(token))
    if reading is None or (token[0].isupper() and _accent_dropped_on_capital(lower)):
        return None  # no accent added to a capital (« Economique » is a typographic habit)
    if token[0] == "I" and reading[0] == "l":
        return reading  # « Iégitime »: an I read for an l
    return _with_case(token, reading)


@lru_cache(maxsize=65536)
def _split_elision(word: str) -> str | None:
    """« linnovation » → « l'innovation »: an elided article glued to a frequent word.

    Not when the token is an inflection of a word (« découlée » is not « d'écoulée »). OCR also reads « l' »
    as « U » (« Uinsertion »).
    """
    if zipf(word[:-1]) > 0:
        return None
    if word[0] == "u" and word[1:2] in _FIRST_LETTERS_AFTER_APOSTROPHE and zipf(word[1:]) >= 3.0:
        return f"l'{word[1:]}"
    for article in _ELISIONS:
        rest = word[len(article) :]
        if word.startswith(article) and rest[:1] in _FIRST_LETTERS_AFTER_APOSTROPHE and zipf(rest) >= 3.0:
            return f"{article}'{rest}"
    return None


def _missing_first_letter(word: str) -> str | None:
    """« nvestissement » after « l' » → « investissement »: OCR lost the letter after the apostrophe."""
    if zipf(word) > 0:
        return None
    options = [(zipf(c + word), c + word) for c in _FIRST_LETTERS_AFTER_APOSTROPHE]
    z, best = max(options)
    return best if z >= 3.0 else None


def correct_ocr(text: str, *, force: bool = False) -> OcrResult:
    """``text`` with OCR misreadings corrected, when it shows OCR damage (or ``force``)."""
    bad, frequent, total = _profile(text)
    rate = 1000 * bad / max(total, 1)
    if not force and not _damaged(bad, frequent, total):
        return OcrResult(text, rate)
    apostrophe = "’" if text.count("’") > text.count("'") else "'"
    changes: list[tuple[str, str, str]] = []
    text = _GLUED_A_LA_RE.sub(_recorded(changes, lambda m: ("À" if m.group(1) == "A" else "à") + " la "), text)

    def elided(match: re.Match[str]) -> str | None:
        article, acronym = "d" if match.group(1) == "d" else "l", match.group(2)
        if not re.search(rf"(?<!\w){acronym}(?!\w)", match.string):
            return None
        return _sentence_case(match, article) + apostrophe + acronym

    text = _ELIDED_ACRONYM_RE.sub(_recorded(changes, elided), text)
    text = _BULLET_RE.sub(_recorded(changes, lambda m: "- "), text)
    text = _QUOTE_BULLET_RE.sub(_recorded(changes, _quote_bullet), text)
    # The cent sign is no letter, so the word fixer below never sees « ¢a », « ¢’est » or « responsabilit¢ ».
    text = _CENT_CA_RE.sub(_recorded(changes, lambda m: _sentence_case(m, "ç")), text)
    text = _CENT_EST_RE.sub(_recorded(changes, lambda m: _sentence_case(m, "c") + apostrophe), text)
    text = _CENT_END_RE.sub(_recorded(changes, _cent_ending), text)

    def word(match: re.Match[str]) -> str | None:
        token = match.group(1)
        before = match.string[max(0, match.start() - 3) : match.start()]
        if re.fullmatch(r"[A-Z]{2}['’]", before):
            return None  # inside a garbled name (« COI'ZGI'Ii »)
        fixed = None
        if before[-1:] in "'’" and before[-2:-1].isalpha() and not _vouched(token):
            fixed = _missing_first_letter(token.lower())
            fixed = _with_case(token, fixed) if fixed else None
        fixed = fixed or _fix_word(token)
        if not fixed:
            return None
        if token[0] == "U" and fixed.startswith("L'"):  # « Uinsertion »: l' in mid-sentence is lower-case
            fixed = fixed if _starts_sentence(match.string, match.start()) else "l" + fixed[1:]
        return fixed.replace("'", apostrophe)

    text = _WORD_RE.sub(_recorded(changes, word), text)
    text = restore_grave_a(text, changes)
    return OcrResult(text, rate, tuple(changes))


def _recorded(
    changes: list[tuple[str, str, str]], read: Callable[[re.Match[str]], str | None]
) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement: ``read``'s correction of the match (None: none), noted in ``changes`` with its
    context for the ingest report and the precision sample."""

    def sub(match: re.Match[str]) -> str:
        fixed = read(match)
        if fixed is None or fixed == match.group():
            return match.group()
        changes.append((match.group(), fixed, _context(match.string, match.start(), match.end())))
        return fixed

    return sub


def _sentence_case(match: re.Match[str], first: str) -> str:
    """``first``, what replaces the start of the match, with a capital when the match starts a sentence."""
    return first[0].upper() + first[1:] if _starts_sentence(match.string, match.start()) else first


def _cent_ending(match: re.Match[str]) -> str | None:
    """« responsabilit¢ » → « responsabilité », « qualité¢ » → « qualité »: the sign read for a final é, or after it;
    the word's first letter stays as written."""
    word = match.group(1)
    if word.lower().endswith("é") and zipf(word.lower()) > 0:
        return word
    return word + "é" if zipf(word.lower() + "é") >= MIN_ZIPF else None


def _starts_sentence(text: str, start: int) -> bool:
    previous = text[max(0, start - 40) : start].rstrip()
    return not previous or previous[-1] in '.!?…«“‘"'


def correct_blocks(texts: list[str]) -> tuple[list[str], int]:
    """The blocks (pages, sections) of one document corrected when the document as a whole shows OCR damage,
    and the number of corrections."""
    if not is_damaged("\n\n".join(texts)):
        return list(texts), 0
    results = [correct_ocr(text, force=True) for text in texts]
    return [r.text for r in results], sum(r.corrections for r in results)


def contains_evidence(passage: str, quote: str) -> bool:
    """``contains_quote``, also true when ``quote`` was copied from the raw OCR text of a corrected passage."""
    return contains_quote(passage, quote) or contains_quote(passage, _corrected_quote(quote))


@lru_cache(maxsize=4096)
def _corrected_quote(quote: str) -> str:
    return correct_ocr(quote, force=True).text


def _context(text: str, start: int, end: int, width: int = 50) -> str:
    return " ".join(f"{text[max(0, start - width) : start]}[{text[start:end]}]{text[end : end + width]}".split())


# --- « a » for « à » ------------------------------------------------------------------------------------

# Words after which « a » can only be the preposition.
_BEFORE_A = frozenset({"grâce", "grace", "face", "quant", "jusqu", "rapport", "accès"})
# Nouns that take « à » and are rarely the subject of « a » + object (« soutien a la création »).
_NOUNS_BEFORE_A = frozenset(
    {
        "soutien", "aide", "appui", "accompagnement", "contribution", "participation", "réponse", "réaction",
        "attention", "sensibilisation", "relation", "incitation", "appel", "urgence",
    }
)  # fmt: skip
# Adjectives and participles that take « à » (« utile a la population », « liée a une situation », « délégué a
# l'ESS »): after an article they are nouns that can be the subject of « a » (« le délégué a la parole »).
_ADJECTIVES_BEFORE_A = frozenset(
    {
        "utile", "nécessaire", "indispensable", "favorable", "propice", "relatif", "relative", "lié", "liée",
        "dédié", "dédiée", "destiné", "destinée", "consacré", "consacrée", "adapté", "adaptée", "accessible",
        "ouvert", "ouverte", "consubstantiel", "consubstantielle", "confronté", "confrontée", "contraint",
        "contrainte", "invité", "invitée", "appelé", "appelée", "amené", "amenée", "attaché", "attachée",
        "délégué", "déléguée", "préalable", "complémentaire", "antérieur", "antérieure", "supérieur", "supérieure",
    }
)  # fmt: skip
# Words that make the next one a noun (« le président a », « l'adhérent a », « chaque délégué a »).
_DETERMINERS = frozenset(
    {
        "le", "la", "les", "l", "un", "une", "des", "du", "au", "aux", "ce", "cet", "cette", "ces", "son", "sa",
        "ses", "leur", "leurs", "notre", "nos", "votre", "vos", "mon", "ma", "mes", "chaque", "aucun", "quel",
    }
)  # fmt: skip
# « de façon a ce que », « de manière a favoriser »: the preposition after these, when « de » opens them.
_MANNER = frozenset({"façon", "manière"})
# « appel a projets », « appel a candidatures »…
_APPEL_A = frozenset(
    {"projets", "projet", "candidatures", "candidature", "manifestation", "initiatives", "contributions"}
)
# Words (or two-word starts) after which « a » can only be the preposition: « a partir de », « a travers »…
_AFTER_A = frozenset(
    {
        "partir",
        "travers",
        "savoir",
        "destination",
        "disposition",
        "domicile",
        "proximité",
        "condition",
        "hauteur",
        "titre",
        "nouveau",
        "côté",
        "cote",
        "terme",
        "long terme",
        "court terme",
        "moyen terme",
        "la fois",
        "la suite",
        "la place",
        "la demande",
        "la croisée",
        "la hauteur",
        "la disposition",
        "la faveur",
        "la fin",
        "la lumière",
        "la rencontre",
        "la marge",
        "l'échelle",
        "l'égard",
        "l'instar",
        "l'inverse",
        "l'issue",
        "l'image",
        "l'heure",
        "l'occasion",
        "l'horizon",
        "l'initiative",
        "l'origine",
        "l'intérieur",
        "l'extérieur",
        "l'appui",
        "ce jour",
        "ce titre",
        "ce stade",
        "cet égard",
        "cette fin",
        "cette occasion",
        "cette échelle",
        "ce que",
    }
)
# Words ending like an infinitive that are not one next to « a » (or also a noun that can be its subject).
_NOT_INFINITIVES = frozenset(
    {
        "notre", "votre", "autre", "entre", "contre", "encore", "quatre", "affaire", "hier", "premier", "dernier",
        "conseiller", "dîner", "déjeuner", "goûter", "pouvoir", "devoir", "savoir", "sourire", "lettre",
    }
)  # fmt: skip
# After these the verb « a » is certain (« a été », « a pu »), or « a » is Latin (« a priori »).
_VERB_NEXT = frozenset(
    {"été", "eu", "pu", "dû", "fait", "dit", "mis", "pris", "su", "vu", "priori", "posteriori", "fortiori", "minima"}
)
# Adverbs that follow the verb « a » (« a aussi permis », « a ainsi porté »), as do all in -ment.
_ADVERBS = frozenset(
    {
        "aussi", "ainsi", "plus", "déjà", "toujours", "souvent", "beaucoup", "bien", "alors", "encore", "donc",
        "pourtant", "même", "enfin", "parfois", "longtemps", "désormais", "surtout", "vite", "trop", "peu",
        "jamais", "pas", "tant", "autant", "depuis", "toutefois", "cependant", "aujourd'hui", "hier", "notamment",
    }
)  # fmt: skip
# Words in -s/-x that are not plurals (or object pronouns: « il les a »).
_NOT_PLURALS = frozenset(
    {
        "les",
        "des",
        "ces",
        "ses",
        "mes",
        "tes",
        "nous",
        "vous",
        "mois",
        "fois",
        "fils",
        "cours",
        "cas",
        "plus",
        "vers",
        "souris",
        "jus",
    }
)
# « AlaBPI »: « à la » glued to an acronym.
_GLUED_A_LA_RE = re.compile(r"(?<![\w'’])([Aa])la(?=[A-Z]{2,}\b)")
# « e Maxime Baduel, conseiller… », « o Relance des PTCE »: a list bullet read as a letter at the start of a line
# (neither is a French word; « e I'agglomération », a letter before an elided article, is left alone).
_BULLET_RE = re.compile(r"(?m)^[eo¢] (?=[A-ZÀ-Ý](?!['’]))")
# « Valoriser auprès des institutions… » between two « * » items: the bullet read as an opening quote mark.
_QUOTE_BULLET_RE = re.compile(r"(?m)^« (?=[A-ZÀ-Ý])")
_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n")
# How far around the quote mark its paragraph and the neighbouring ones are read: a list item is shorter, and a
# paragraph that runs on beyond is prose (each match then costs a bounded read, whatever the document's size).
_ITEM_WINDOW = 2000


def _quote_bullet(match: re.Match[str]) -> str | None:
    """« - » for an opening quote mark that starts a paragraph holding no closing one, next to a list item: a
    bullet OCR read as « (a quotation closes, and stands among prose)."""
    text = match.string
    head = _PARAGRAPH_BREAK_RE.split(text[max(0, match.start() - _ITEM_WINDOW) : match.start()])
    tail = _PARAGRAPH_BREAK_RE.split(text[match.end() : match.end() + _ITEM_WINDOW], maxsplit=2)
    runs_on = (
        len(head) == 1 and match.start() > _ITEM_WINDOW or len(tail) == 1 and match.end() + _ITEM_WINDOW < len(text)
    )
    previous = head[-2] if len(head) > 1 else ""
    following = tail[1] if len(tail) > 1 else ""
    if runs_on or "»" in head[-1] + tail[0] or not (LIST_ITEM_RE.match(previous) or LIST_ITEM_RE.match(following)):
        return None
    return "- "


# « ¢a », « c¢a », « ¢’est », « qualit¢ »: the cent sign read for ç, c or é (RTES proceedings); each form is read as
# the French word it makes.
_CENT_CA_RE = re.compile(r"(?<![\w¢])c?¢(?=a\b)", re.I)
_CENT_EST_RE = re.compile(r"(?<![\w¢])c?¢['’]+(?=est\b)", re.I)
_CENT_END_RE = re.compile(r"(?<![\w¢])([^\W\d_]{2,})¢(?![\w¢])")
# « FESS », « LESS », « IESS », « lESS », « dESS »: « l'ESS », « d'ESS » with the apostrophe lost and the elided
# article read as F, L, I or l, before an acronym the text uses bare. French elides only before a vowel (« le
# RTES »), so the acronym must start with one; « DESS » is an acronym of its own and is left alone.
_ELIDED_ACRONYM_RE = re.compile(r"(?<![\w'’])([FLIld])([AEIOUY][A-Z]{2,})(?![\w'’])")
_A_RE = re.compile(r"(?<![\w'’-])a(?= )|(?<=jusqu['’])a(?!\w)")
# « A la fois… » at the start of a sentence: the verb never starts one.
_SENTENCE_A_RE = re.compile(r"(?:^|(?<=[.!?…] )|(?<=[«“\"] )|(?<=[«“\"(]))A(?= [a-zà-ÿ])", re.M)
# What « À » starting a sentence is followed by: a determiner, or a locution (« À partir de », « À noter »).
_SENTENCE_A_NEXT = frozenset(
    {
        "la", "le", "les", "ce", "cet", "cette", "ces", "un", "une", "mon", "ma", "mes", "son", "sa", "ses", "notre",
        "nos", "votre", "vos", "leur", "leurs", "chaque", "tout", "toute", "tous", "toutes", "quel", "quelle",
        "quels", "quelles", "partir", "travers", "noter", "nouveau", "titre", "terme", "côté", "savoir", "peine",
        "long", "court", "moyen", "date", "propos", "défaut", "condition", "mesure",
    }
)  # fmt: skip
_NEXT_RE = re.compile(r" ([^\W\d_]+(?:['’][^\W\d_]+)?)(?: ([^\W\d_]+))?")
_PREVIOUS_RE = re.compile(r"([^\W\d_]+)['’]?[ ]?$")


def _is_infinitive(word: str) -> bool:
    """A frequent verb in the infinitive, told from a noun by its participle: « travailler » (« travaillé »),
    « agir » (« agi »), « répondre » (« répondu »), « conduire » (« conduit »), « permettre » (« permis »), -oir."""
    if word in _NOT_INFINITIVES or zipf(word) < 3.0:
        return False
    if word.endswith("er"):
        participle = word[:-2] + "é"
    elif word.endswith("ir") and not word.endswith("oir"):
        participle = word[:-1]
    elif word.endswith("dre"):
        participle = word[:-2] + "u"
    elif word.endswith("ire"):
        participle = word[:-2] + "t"
    elif word.endswith("ettre"):
        participle = word[:-5] + "is"
    else:
        return word.endswith("oir")
    return zipf(participle) >= 2.5


def _grave_a_certain(text: str, start: int, end: int) -> bool:
    nxt = _NEXT_RE.match(text, end)
    if not nxt:
        return False
    first = nxt.group(1).lower().replace("’", "'")
    two = f"{first} {nxt.group(2).lower()}" if nxt.group(2) else first
    prev = _PREVIOUS_RE.search(text, max(0, start - 40), start)
    before = prev.group(1) if prev else ""
    if before.lower() in _BEFORE_A or first in _AFTER_A or two in _AFTER_A:
        return True
    if first in _VERB_NEXT or first in _ADVERBS or (first.endswith(("é", "ment")) and "'" not in first):
        return False
    earlier = _PREVIOUS_RE.search(text, max(0, prev.start() - 40), prev.start()) if prev else None
    before_that = earlier.group(1).lower() if earlier else ""
    if before in ("Etat", "État") and before_that == "d" and first.startswith("l'"):  # « Secrétaire d'Etat a l'ESS »
        return True
    # « a » before an infinitive, or after a lower-case one (« participer a la », « aider a l'émergence »), after
    # a plural (the verb would be « ont »: « difficultés liées a la crise ») or a noun taking « à »; after a verb in
    # the plural (« contribuent a la relance »: « a » has a singular subject) or an adjective taking « à », unless
    # an article makes it a noun (« le président a la charge »); « de façon a ».
    # These last ones want what « à » governs next (« délégué a l'ESS »), not a participle (« délégué a conclu »).
    governed = first in _SENTENCE_A_NEXT or first.startswith(("l'", "s'"))
    return _is_infinitive(first) or (
        before.islower()
        and (
            before in _NOUNS_BEFORE_A
            or _is_infinitive(before)
            or _is_plural(before)
            or (
                governed
                and (
                    (before in _MANNER and before_that == "de")
                    or (before_that not in _DETERMINERS and (before in _ADJECTIVES_BEFORE_A or _is_plural_verb(before)))
                )
            )
        )
    )


def _is_plural_verb(word: str) -> bool:
    """A verb in the third person plural (« contribuent », « participaient »): its infinitive in -er is a frequent
    verb, and it has no plural of its own, as a noun in -ent has (« présidents », « parents », « adhérents »)."""
    for ending in ("aient", "ent"):
        if word.endswith(ending) and not word.endswith("ment"):
            return _is_infinitive(word[: -len(ending)] + "er") and zipf(word + "s") < 1.5
    return False


def _is_plural(word: str) -> bool:
    return word[-1] in "sx" and word not in _NOT_PLURALS and zipf(word) >= 2.5 and zipf(word[:-1]) >= 3.0


def restore_grave_a(text: str, changes: list[tuple[str, str, str]] | None = None) -> str:
    """Replace « a » by « à » where the context makes the preposition certain, and « A » starting a sentence by
    « À » (each change appended to ``changes``)."""
    out: list[str] = []
    last = 0
    for m in _A_RE.finditer(text):
        if _grave_a_certain(text, m.start(), m.end()):
            out += [text[last : m.start()], "à"]
            last = m.end()
            if changes is not None:
                changes.append(("a", "à", _context(text, m.start(), m.end())))
    out.append(text[last:])

    def capital(match: re.Match[str]) -> str:
        nxt = _NEXT_RE.match(match.string, match.end())
        first = nxt.group(1).lower() if nxt else ""
        if first not in _SENTENCE_A_NEXT and first[:2] not in ("l'", "l’"):
            return "A"  # « A series of… », « A lors que »
        if changes is not None:
            changes.append(("A", "À", _context(match.string, match.start(), match.end())))
        return "À"

    return _SENTENCE_A_RE.sub(capital, "".join(out))
