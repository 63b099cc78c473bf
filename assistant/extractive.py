"""The answerer that needs no LLM: it quotes the retrieved sentences that answer the question.

Deterministic and fast: French sentence splitting, folded + stemmed terms without stopwords, sentences
scored by how much of the question they cover (idf-weighted over the retrieved sentences) with a bonus for
the kind of answer the question asks for (a figure, a date, a definition, a list). It also decides when the
passages do not answer, because an extractive answer can only be honest if it can say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.types import Citation, Passage
from vectorstore.text import (
    QUESTION_STOPWORDS,
    fold,
    normalize_for_match,
    question_terms,
    split_spans,
    stem_word,
)

# Share of the question's (idf-weighted) terms the best sentence and its passage must cover, else we abstain.
# Calibrated on dev.jsonl with the hybrid retriever (two index builds, k=5): unanswerable questions are caught
# by the kind-specific checks below; this floor only drops answers resting on almost nothing (false
# abstention 0-2 %). Higher floors mostly cost answerable questions.
MIN_SUPPORT = 0.2
# Below this support the answer quotes a single sentence: on dev, every wrong answer was a low-support one.
CONFIDENT_SUPPORT = 0.45
# A further sentence of the quoted passage is kept only if it scores at least this share of its best one.
RELATIVE_KEEP = 0.62
# Weight of the retrieval rank (hybrid lexical + dense) when choosing the passage to quote: the first passage
# gets it whole, the second half of it...
ANCHOR_RANK = 0.2

_WORD_RE = re.compile(r"[a-z0-9]+")
_ELISION_RE = re.compile(r"\b(?:qu|[cdjlmnst])'")
_DIGIT_RE = re.compile(r"\d")
_NUMBER_WORDS = re.compile(
    r"\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|"
    r"soixante|cent|cents|mille|million|millions|milliard|milliards|moitie|tiers|quart|dizaine|dizaines|"
    r"centaine|centaines|majorite)\b"
)
_MONTHS = re.compile(
    r"\b(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|printemps|"
    r"ete|automne|hiver|(?:1[89]|20)\d\d)\b"
)
_DEFINITION_CUE = re.compile(
    r"\b(?:est une?|sont des|designe|designent|consiste|correspond|se definit|definie? comme|c'est|"
    r"il s'agit|vise a|permet de|ont pour objet|a pour objet)\b"
)

# Question kinds: they change what an answering sentence looks like and how many sentences an answer needs.
NUMERIC, DATE, WHO, DEFINITION, LIST, EXPLAIN, FACTUAL = (
    "numeric",
    "date",
    "who",
    "definition",
    "list",
    "explain",
    "factual",
)
_MAX_SENTENCES = {NUMERIC: 2, DATE: 2, WHO: 2, DEFINITION: 3, LIST: 4, EXPLAIN: 4, FACTUAL: 3}
_NUMERIC_FOCUS = (
    "nombre",
    "montant",
    "budget",
    "taux",
    "part",
    "pourcentage",
    "proportion",
    "chiffre",
    "effectif",
    "somme",
    "cout",
    "prix",
    "duree",
    "superficie",
    "population",
)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: exact span (for the quote) and its analysed terms."""

    passage_index: int
    start: int
    end: int
    quote: str
    terms: frozenset[str]

    @property
    def display(self) -> str:
        return display_text(_SOURCE_MARK_RE.sub("", self.quote))


# --- sentence splitting --------------------------------------------------------------------------------

_MARKUP_RE = re.compile(r"\*\*|__|<sup>.*?</sup>|<[^>]+>|^\s*(?:#+|[-*•–]|\d+[.)])\s+", re.M)
_SPACE_RE = re.compile(r"\s+")
# Markdown images go, links keep their text: an answer carries no address it could load or send data to.
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Addresses and code: a sentence carrying them is never quoted; split_spans cuts them out of sentences.
_ACTIVE_RE = re.compile(r"(?:https?|ftp|javascript|data|vbscript):|www\.|document\.cookie|<\s*/?\s*script", re.I)
# A source's own reference calls ("rapport [7]", "2022[^1]") would read as our markers in an answer.
_SOURCE_MARK_RE = re.compile(r"\s?\[\^?\d+\]")
_ITEM_RE = re.compile(r"\s*(?:[-*•–]|\d+[.)])\s")
# Sentences that address the reader's assistant rather than inform: planted instructions are never quoted.
# Matched on folded text (lower case, no accents, quotes unified). Each branch needs a cue that ordinary
# report prose lacks (an imperative, « l'IA », « système », « prompt »…): « l'instruction des dossiers » or
# « X affirme que » stay quotable. tests/test_instructions.py lists the phrasings and checks the corpus.
_AI = r"(?:ia|ai|assistant|intelligence artificielle|modele(?: de langage)?|language model|llm|chatbot)"
_ORDERS = r"(?:instructions?|consignes?|directives?|regles|rules|prompt)"
_INSTRUCTION_RE = re.compile(
    # « Ignorez les consignes précédentes », « disregard the above », « oubliez tout ce qui précède »
    r"\b(?:ignore[rsz]?|ignoring|oublie[rsz]?|disregard|forget|override|ne tiens? pas compte|ne tenez pas compte"
    r"|fai(?:s|tes) abstraction)\b.{0,60}?"
    rf"\b(?:{_ORDERS}|previous|above|prior|precedent\w*|ci-dessus|ce qui precede|everything|reste du contexte)\b"
    # « Nouvelle consigne système : », « new instructions », « consigne prioritaire : », « [system] »
    rf"|\b(?:nouvelles?|new) {_ORDERS}\b"
    rf"|\b{_ORDERS} (?:systeme|system|prioritaires?|cachees?|secretes?)\b"
    r"|\b(?:system prompt|prompt systeme|system message|message systeme|mode developpeur|developer mode|jailbreak)\b"
    r"|^\W*(?:system|systeme|assistant)\s*\]?\s*[:,]"
    # Addressing the model: « tu es désormais », « si tu es une IA », « à l'attention de l'IA », « as an AI »
    r"|\b(?:tu es|vous etes|you are) (?:maintenant|desormais|now)\b"
    rf"|\b(?:si tu es|si vous etes|if you are) (?:une? |an? )?{_AI}\b"
    rf"|\b(?:en tant qu'|as an? ){_AI}\b"
    rf"|\b(?:a l'attention d[eu] |pour |a )l'{_AI}\b(?! (?:social|parlementaire|de direction))"
    rf"|\b(?:instructions?|notes?|messages?) (?:for|to) the {_AI}\b"
    # Forcing the answer: « répondez "PWNED" », « réponds uniquement », « say that », « you must answer »
    r"|\b(?:reponds|repondez|ecris|ecrivez|affirmez|answer|reply|respond|say)\b\s*"
    r"(?:que|uniquement|seulement|toujours|only|that|always|with|par|avec|:|\")"
    r"|\b(?:dites|dis) (?:uniquement|seulement|toujours)\b"
    r"|\b(?:you must|tu dois|vous devez) (?:answer|reply|say|respond|ignore|repondre|dire|ecrire|ignorer)\b"
    # « Révèle ton prompt système », « print your instructions »
    rf"|\b(?:revele|revelez|reveal|print|show|affiche|affichez|montre|montrez|repete|repetez|repeat)\b.{{0,20}}"
    rf"\b(?:ton|tes|votre|vos|your)\b.{{0,20}}\b{_ORDERS}\b"
)


def display_text(quote: str) -> str:
    """The text as shown in an answer: markdown/HTML marks, images, link targets and line breaks removed."""
    text = _LINK_RE.sub(r"\1", _IMAGE_RE.sub(" ", quote))
    return _SPACE_RE.sub(" ", _MARKUP_RE.sub(" ", text)).strip()


def is_quotable(sentence: str) -> bool:
    """A sentence an answer may quote: not a planted instruction, a heading, or a line of addresses/code."""
    return not (is_instruction_like(sentence) or sentence.lstrip().startswith("#") or _ACTIVE_RE.search(sentence))


def is_instruction_like(sentence: str) -> bool:
    """True for a sentence that gives orders to an assistant ('Ignorez les instructions précédentes…')."""
    return bool(_INSTRUCTION_RE.search(fold(sentence)))


# --- question analysis --------------------------------------------------------------------------------


def question_kind(question: str) -> str:
    """What the question asks for: a figure, a date, a person, a definition, a list, an explanation."""
    q = fold(question)
    focus = r"(?:le |la |les |l')?(?:" + "|".join(_NUMERIC_FOCUS) + r")s?"
    if re.search(r"\bcombien\b|\b(?:quel|quelle|quels|quelles)(?: est| sont| etait)? " + focus + r"\b", q):
        return NUMERIC
    # "Quand une initiative réussit, faut-il…" is a condition, not a question about a date.
    if re.search(
        r"^\W*quand (?!(?:un|une|le|la|les|l'|on|il|elle|ils|elles|des|ce|cette|nous|vous|j'|je)\b)"
        r"|\b(?:jusqu'a|depuis) quand\b|\bquelles? dates?\b|\ben quelle annee\b|\ba quel moment\b",
        q,
    ):
        return DATE
    # Interrogative "qui" opens the question or follows a preposition; "des actions qui sont…" is relative.
    if re.search(r"^\W*qui\b|\b(?:et|par|de|pour|avec|a|chez) qui\b", q):
        return WHO
    if re.search(
        r"qu'est-ce qu|c'est quoi|\bque (?:sont|signifie|designe|veut dire)\b|\bdefinition\b|"
        r"\bqu'appelle-t-on\b|\bque recouvre\b",
        q,
    ):
        return DEFINITION
    if re.search(r"\b(?:quels|quelles) (?:sont )?\w+|\blesquel|\bquels? types?\b|\bdans quels\b", q):
        return LIST
    if re.search(r"\bcomment\b|\bpourquoi\b|\bfaut-il\b|\bquels? (?:role|enjeu|interet)", q):
        return EXPLAIN
    return FACTUAL


@dataclass(frozen=True)
class NumericFocus:
    """What a figure must be about: stems it must mention (or count), and its unit (money, share) if any."""

    stems: tuple[str, ...] = ()
    counted: bool = False
    unit: str | None = None

    def answered_by(self, sentence: Sentence) -> bool:
        if not _has_figure(sentence.quote):
            return False
        if self.unit and not _UNIT_RE[self.unit].search(fold(sentence.quote)):
            return False
        if self.counted:
            return _counts(sentence.quote, list(self.stems))
        return set(self.stems) <= sentence.terms


_MONEY_HEADS = ("montant", "budget", "cout", "prix", "somme")
_SHARE_HEADS = ("part", "pourcentage", "proportion", "taux")
_UNIT_RE = {
    "money": re.compile(r"€|\beuros?\b|\b[km]€|\bmds?\b"),
    "share": re.compile(r"%|\bpour ?cent\b|\bmoitie\b|\btiers\b|\bquarts?\b|\bmajorite\b"),
}


def numeric_focus(question: str) -> NumericFocus:
    """What the asked figure is about: 'combien de Scop' counts Scop; 'quel taux d'intérêt' is a share of
    intérêt; 'quel montant d'aide' is money about aide; 'quels chiffres' takes any figure."""
    q = fold(question)
    m = re.search(r"\bcombien\b(?: y a-t-il)?(?:\s+(?:de|des|d'))?\s*(\w+)", q)
    if m and m.group(1) not in QUESTION_STOPWORDS:
        return NumericFocus((stem_word(m.group(1)),), counted=True)
    # The head's complement, when attached to it: "taux d'intérêt", "montant de l'aide".
    heads = "|".join(_NUMERIC_FOCUS)
    m = re.search(rf"\b({heads})s?\b(?:\s+(?:de|du|des|d')\s*(?:la |le |les |l')?(\w+))?", q)
    if not m or m.group(1) == "chiffre":
        return NumericFocus()
    head, complement = m.group(1), m.group(2) if m.group(2) not in QUESTION_STOPWORDS else None
    extra = (stem_word(complement),) if complement else ()
    if head == "nombre":
        return NumericFocus(extra, counted=bool(extra))
    if head in _MONEY_HEADS:
        return NumericFocus(extra, unit="money")
    if head in _SHARE_HEADS:
        return NumericFocus(extra, unit="share")
    return NumericFocus((stem_word(head), *extra))


def who_focus(question: str) -> list[str]:
    """The role a 'qui' question asks about: 'Qui était le ministre délégué…' -> [ministr]."""
    m = re.search(r"\bqui (?:est|etait|sont|etaient|fut)\s+(?:le|la|les|l')\s*(\w+)", fold(question))
    return [stem_word(m.group(1))] if m and m.group(1) not in QUESTION_STOPWORDS else []


def _counts(sentence: str, stems: list[str]) -> bool:
    """True when a figure stands within three words before a ``stems`` word ('400 personnes')."""
    words = _WORD_RE.findall(_ELISION_RE.sub(" ", fold(sentence)))
    for i, w in enumerate(words):
        if stem_word(w) in stems:
            window = " ".join(words[max(0, i - 3) : i])
            if _DIGIT_RE.search(window) or _NUMBER_WORDS.search(window):
                return True
    return False


_ENTITY_RE = re.compile(r"(?<![\w'’])[A-ZÀ-Ý][\w-]*")
_SENTENCE_START_RE = re.compile(r"(?:^|[.?!:;]\s+|\n)$")


def named_entities(question: str) -> list[str]:
    """Capitalised words of the question not starting a sentence, normalised ('Nouvelle-Aquitaine')."""
    out = []
    for m in _ENTITY_RE.finditer(question):
        if _SENTENCE_START_RE.search(question[: m.start()]):
            continue
        name = normalize_for_match(m.group())
        if name and name not in QUESTION_STOPWORDS and name not in out:
            out.append(name)
    return out


# --- scoring and selection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractiveResult:
    """Sentences chosen (best first), the support measured, and why the answerer abstains ("" if not)."""

    sentences: list[Sentence]
    support: float
    abstain_reason: str = ""


def _sentences(passages: Sequence[Passage]) -> list[Sentence]:
    out = []
    for i, p in enumerate(passages):
        for s, e in split_spans(p.text):
            quote = p.text[s:e]
            words = len(display_text(quote).split())
            terms = frozenset(question_terms(quote))
            # Questions in a passage (headings like "Comment renforcer… ?") ask, they do not answer.
            # Planted instructions are data to ignore, never an answer.
            if words >= 4 and terms and not display_text(quote).endswith("?") and is_quotable(quote):
                out.append(Sentence(i, s, e, quote, terms))
    return out


def _kind_bonus(kind: str, folded: str) -> float:
    if kind == NUMERIC:
        return 0.2 if _DIGIT_RE.search(folded) or _NUMBER_WORDS.search(folded) else 0.0
    if kind == DATE:
        return 0.2 if _MONTHS.search(folded) else 0.0
    if kind == DEFINITION:
        return 0.12 if _DEFINITION_CUE.search(folded) else 0.0
    if kind == LIST:
        return 0.08 if _ITEM_RE.match(folded) or folded.count(",") >= 2 or folded.rstrip().endswith(":") else 0.0
    return 0.0


def _has_figure(text: str) -> bool:
    folded = fold(text)
    return bool(_DIGIT_RE.search(folded) or _NUMBER_WORDS.search(folded))


def select(question: str, passages: Sequence[Passage]) -> ExtractiveResult:
    """Pick the sentences of ``passages`` that answer ``question``, or say why none does."""
    sentences = _sentences(passages)
    q_terms = set(question_terms(question))
    if not sentences or not q_terms:
        return ExtractiveResult([], 0.0, "no-sentence")
    n = len(sentences)
    df = {t: sum(1 for s in sentences if t in s.terms) for t in q_terms}
    idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 0.1 for t in q_terms}
    total = sum(idf.values())
    passage_terms = [frozenset(question_terms(p.text + " " + p.title)) for p in passages]
    passage_cov = [sum(idf[t] for t in q_terms & terms) / total for terms in passage_terms]
    kind = question_kind(question)

    def coverage(s: Sentence) -> float:
        return sum(idf[t] for t in q_terms & s.terms) / total

    def score(s: Sentence) -> float:
        """How well the sentence answers, from the words alone (retrieval rank left out)."""
        length = len(s.terms)
        length_penalty = 0.1 if length < 3 else (0.05 if length > 60 else 0.0)
        return coverage(s) + 0.35 * passage_cov[s.passage_index] + _kind_bonus(kind, fold(s.quote)) - length_penalty

    ranked = sorted(sentences, key=lambda s: (-score(s), s.passage_index, s.start))
    best = ranked[0]
    support = 0.5 * coverage(best) + 0.5 * passage_cov[best.passage_index]

    # Names in the question the retrieved passages never mention: the corpus is about something else.
    texts = [normalize_for_match(p.text + " " + p.title) for p in passages]
    entities = named_entities(question)
    missing = [e for e in entities if not any(e in t for t in texts)]
    if missing:
        return ExtractiveResult([], support, "missing-entity:" + ",".join(missing))
    if support < MIN_SUPPORT:
        return ExtractiveResult([], support, "low-support")
    if kind == NUMERIC:
        # A figure answers only if it is about the thing asked, in a passage about what the question names:
        # a figure borrowed from a neighbouring passage is the classic invented answer.
        focus = numeric_focus(question)
        ranked = [s for s in ranked if focus.answered_by(s) and all(e in texts[s.passage_index] for e in entities)]
        if not ranked:
            return ExtractiveResult([], support, "no-figure")
    elif kind == WHO and (role := who_focus(question)):
        ranked = [s for s in ranked if set(role) <= s.terms]
        if not ranked:
            return ExtractiveResult([], support, "no-person")

    # The passage to quote: words and retrieval rank together (rank carries the dense, paraphrase-aware
    # match that word overlap misses). Quoting a second passage was measured: it costs precision, gains nothing.
    best_in: dict[int, Sentence] = {}
    for s in ranked:
        best_in.setdefault(s.passage_index, s)
    anchor = max(best_in, key=lambda i: (score(best_in[i]) + ANCHOR_RANK / (1 + i), -i))
    # An answer on shaky ground quotes one sentence: fewer claims, each easier to check.
    limit = _MAX_SENTENCES[kind] if support >= CONFIDENT_SUPPORT else 1
    chosen = [best_in[anchor]]
    top = score(best_in[anchor])
    for s in ranked:
        if len(chosen) >= limit:
            break
        if s.passage_index != anchor or s in chosen or score(s) < RELATIVE_KEEP * top:
            continue
        if any(len(s.terms & c.terms) / len(s.terms | c.terms) > 0.6 for c in chosen):
            continue
        chosen.append(s)
    chosen = _with_list_items(chosen, sentences, _MAX_SENTENCES[kind] + 2 if limit > 1 else 1)
    return ExtractiveResult(chosen, support)


def _with_list_items(chosen: list[Sentence], sentences: list[Sentence], limit: int) -> list[Sentence]:
    """A sentence announcing a list ('… :') brings the items that follow it; a chosen item its siblings."""
    out = list(chosen)
    for c in chosen:
        same = sorted((s for s in sentences if s.passage_index == c.passage_index), key=lambda s: s.start)
        if display_text(c.quote).endswith(":"):
            following = [s for s in same if s.start > c.start][:3]
        elif _ITEM_RE.match(c.quote):
            i = same.index(c)
            following = [s for s in same[i + 1 : i + 4] if _ITEM_RE.match(s.quote)]
        else:
            continue
        for s in following:
            if len(out) >= limit:
                break
            if s not in out:
                out.append(s)
    return out


def _ordered(chosen: list[Sentence]) -> list[Sentence]:
    """Best passage first, then each passage's sentences in reading order, so the answer reads as prose."""
    order: list[int] = []
    for s in chosen:
        if s.passage_index not in order:
            order.append(s.passage_index)
    return sorted(chosen, key=lambda s: (order.index(s.passage_index), s.start))


_OPENERS = {"(": ")", "«": " »", "“": "”"}
_END_RE = re.compile(r"([.!?…:;]*)((?:\s*[\"»”)\]])*)$")


def _with_marker(text: str, n: int) -> str:
    """Put ' [n]' at the sentence's end, before its final punctuation ('en 2020 [1].'), never inside brackets
    or quotes: a sentence ending in one is marked after it, an opening a cut sentence left unclosed is closed."""
    text = text.rstrip()
    for opener, closer in _OPENERS.items():
        text += closer * max(0, text.count(opener) - text.count(closer.strip()))
    m = _END_RE.search(text)
    if m.group(2):
        return f"{text} [{n}]"
    if m.group(1):
        return f"{text[: m.start()].rstrip()} [{n}]{m.group(1)}"
    return f"{text} [{n}]."


def compose(sentences: Sequence[Sentence], passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """The answer text (one cited sentence per line group) and its citations, numbered densely from 1."""
    parts, citations = [], []
    for n, s in enumerate(_ordered(list(sentences)), start=1):
        shown = s.display
        # A sentence a chunk boundary cut ("soit, au total, plus de 400…") still starts like one.
        parts.append(_with_marker(shown[:1].upper() + shown[1:], n))
        citations.append(Citation(n=n, passage=passages[s.passage_index], quote=s.quote.strip()))
    return " ".join(parts), citations
