"""Sourced briefs ("notes de synthèse") on a topic, built from the corpus with or without an LLM.

Officials need a structured note they can paste into their own document, where every point is tied to a
passage they can check. Without an LLM the note is made of corpus sentences, retrieved with several
sub-queries per section and classified into sections by lexical cues; with an LLM each section is a short
written synthesis whose citations are verified in code. In both modes a section the corpus does not feed
is left out, and near-duplicate bullets are dropped.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz import fuzz

from assistant.answer import ABSTENTION_TEXT
from assistant.extractive import (
    is_contact,
    is_instruction_like,
    is_roster,
    sentence_probabilities,
    shown_sentence,
    signature_of,
)
from assistant.llm import LLMConfigError, describe_error, get_chat_model, message_text
from assistant.types import Citation, Passage
from assistant.verify import markers, verify_answer
from prompts import load_prompt, passages_block
from vectorstore.glossary import ACRONYMS
from vectorstore.text import (
    CONNECTORS,
    DATED_YEAR_RE,
    contains_quote,
    fold,
    normalize_for_match,
    question_terms,
    split_sentences,
    split_spans,
)

log = logging.getLogger(__name__)

Retriever = Callable[..., list[Passage]]

# Two bullets whose normalised token sets overlap this much (rapidfuzz token_set_ratio) say the same thing.
DUPLICATE_RATIO = 85.0
# Minimum share of the topic's (IDF-weighted) terms a sentence must bear, its passage's share counting
# PASSAGE_WEIGHT: a sentence must name part of the topic itself, its passage only tips the balance.
MIN_RELEVANCE = 0.5
PASSAGE_WEIGHT = 0.35
ANAPHORA_PENALTY = 0.75
# Passages (and candidate sentences) an LLM gets per section.
LLM_PASSAGES = 6
MIN_SENTENCE_CHARS = 50
MAX_SENTENCE_CHARS = 450


@dataclass(frozen=True)
class BriefBullet:
    """One point of the note: its text and the verified citations that support it."""

    text: str
    citations: list[Citation]
    figure: str | None = None
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": [c.n for c in self.citations],
            "figure": self.figure,
            "date": self.date,
        }


@dataclass(frozen=True)
class BriefSection:
    key: str
    title: str
    bullets: list[BriefBullet]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "bullets": [b.to_dict() for b in self.bullets]}


@dataclass(frozen=True)
class BriefSource:
    """A document cited by the note, with the places (pages or sections) cited in it."""

    source: str
    title: str
    publisher: str | None
    year: int | None
    locations: list[str]

    def label(self) -> str:
        """French bibliographic line: title, publisher, year, pages or sections."""
        parts = [self.title or self.source]
        parts += [p for p in (self.publisher, str(self.year) if self.year else None) if p]
        if self.locations:
            parts.append(", ".join(self.locations))
        return ", ".join(parts)


@dataclass(frozen=True)
class Brief:
    topic: str
    title: str
    scope: str
    sections: list[BriefSection]
    mode: str = "extractive"
    filters: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def citations(self) -> list[Citation]:
        """Every citation once, in number order."""
        seen: dict[int, Citation] = {}
        for section in self.sections:
            for bullet in section.bullets:
                for c in bullet.citations:
                    seen.setdefault(c.n, c)
        return [seen[n] for n in sorted(seen)]

    def sources(self) -> list[BriefSource]:
        """Cited documents in order of first citation, each with its cited locations."""
        docs: dict[str, tuple[Passage, list[str]]] = {}
        for c in self.citations():
            p = c.passage
            _, locs = docs.setdefault(p.source, (p, []))
            loc = p.location()
            if loc and loc not in locs:
                locs.append(loc)
        return [BriefSource(p.source, p.title, p.publisher, p.year, locs) for p, locs in docs.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "title": self.title,
            "scope": self.scope,
            "mode": self.mode,
            "filters": self.filters,
            "sections": [s.to_dict() for s in self.sections],
            "citations": [c.to_dict() for c in self.citations()],
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class _SectionSpec:
    key: str
    title: str
    queries: tuple[str, ...]
    max_bullets: int = 5


SECTIONS: tuple[_SectionSpec, ...] = (
    _SectionSpec("contexte", "Contexte", ("", "définition enjeux", "histoire contexte loi")),
    _SectionSpec(
        "chiffres",
        "Chiffres clés",
        ("chiffres", "millions d'euros", "emplois salariés", "nombre pourcentage"),
        6,
    ),
    _SectionSpec("acteurs", "Acteurs et dispositifs", ("acteurs réseaux", "dispositif", "financement accompagnement")),
    _SectionSpec(
        "propositions",
        "Propositions et leviers d'action",
        ("propositions", "il faut", "proposer recommandations"),
    ),
    _SectionSpec("exemples", "Exemples dans les territoires", ("exemple", "territoire commune", "expérience projet")),
    _SectionSpec("vigilance", "Points de vigilance", ("vigilance", "difficulté risque", "frein limite")),
)
# Tie-breaks between sections, most specific cue first: a figure, a proposal, a risk, a place, an actor.
_PRIORITY = ("chiffres", "propositions", "vigilance", "exemples", "acteurs", "contexte")

# Cues are matched on fold()ed text (lower case, no accents).
_NUMBER = r"(?<![\w.,])\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d+)?|(?<![\w.,])\d+(?:,\d+)?"
# A range is the figure as a whole: « entre 8 et 10% » (not « 10% »), « de 14 à 20 Mds€ », « 2 à 4 ateliers ».
_RANGE = rf"entre (?:{_NUMBER})\s?%?\s?et |de (?:{_NUMBER})\s?%?\s?a |(?:{_NUMBER})\s?%?\s?a "
_FIGURE_RE = re.compile(
    rf"(?:(?:plus|moins) de |pres de |environ |{_RANGE})?(?:{_NUMBER})\s?"
    r"(?:%|pour ?cent|(?:millions?|milliards?)\b(?:\s?(?:€|d'euros|de personnes|d'emplois))?"
    r"|(?:mds?|m|k)?\s?€|euros?"
    r"|(?:(?:emplois|salaries|etp|personnes|habitants|structures|entreprises|associations|cooperatives"
    r"|etablissements|adherents|benevoles|participants|projets|communes|membres|postes|beneficiaires"
    r"|hectares|ha|m2|m²|tonnes|repas|logements|webinaires|acteurs|jeunes|familles|places)\b))",
)
_YEAR_RE = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")
# The sign of a change in percent (« de - 2,8 % », « (+1 %) »), after a word or a bracket: not a list's dash.
_SIGN_BEFORE_RE = re.compile(r"(?:(?<=\w )|(?<=\())[-−–+] ?$")
_STRONG_PROPOSAL_RE = re.compile(
    r"\b(?:il faut|il faudrait|il convient|nous proposons|proposons|propose de|proposition|preconis|recommand"
    r"|devrai(?:t|ent)|doi(?:t|vent) etre|demandons|appelons a|souhaitons|plaidons|il est necessaire"
    r"|il est indispensable|levier|piste)"
)
_INFINITIVE_START_RE = re.compile(
    r"^(?:[\W\d]*)(?:creer|developper|renforcer|favoriser|soutenir|encourager|faciliter|permettre"
    r"|mettre en place"
    r"|accompagner|mobiliser|structurer|reconnaitre|integrer|generaliser|ouvrir|valoriser|former|simplifier"
    r"|inciter|promouvoir|systematiser|amplifier|conforter|donner|faire|assurer|garantir|adapter|associer)\b"
)
_VIGILANCE_RE = re.compile(
    r"\b(?:vigilan|difficult|risqu|frein|obstacle|limites?\b|fragilis|manque|menac|ecueil|danger|inquiet|crain"
    r"|precarit|probleme|lourdeur|faute de|insuffis|contrainte|complexit|pas assez|prudence|epuis|isolement"
    r"|attention a)"
)
_EXAMPLE_RE = re.compile(
    r"\b(?:par exemple|exemple|a titre d'illustration|experimentation|l'experience de|communaute de communes"
    r"|communaute d'agglomeration|agglomeration|metropole|ville de|commune de|pays de|village|quartier"
    r"|a ete cree|a permis|a mis en place|a lance|s'est (?:implante|installe|developpe))"
)
# Place names: "à Limoux", "en Occitanie", "dans le Gers" (matched on the original text).
_PLACE_RE = re.compile(
    r"\b(?:à|au|aux|en|dans le|dans la|dans les)\s+(?!France\b|Europe\b|ESS\b|Île\b)"
    r"[A-ZÉÈ][a-zéèêëàâîïôûüç]+(?:[- ](?:de |du |sur )?[A-ZÉ][a-zéèêëàâîïôûüç]+)*"
)
_ACTOR_RE = re.compile(
    r"\b(?:association|cooperative|scop|scic|mutuel|fondation|reseau|federation|collectivit|region|departement"
    r"|etat|ministere|secretariat d'etat|agence|anct|cress|ess france|france active|banque des territoires"
    r"|caisse des depots|dla|dispositif|label|agrement|loi|appel a projets|fonds|programme|plateforme"
    r"|chambre|incubateur|pole|siae|insertion|esus|tiers-lieu|pacte|contrat|convention|syndicat)"
)
_ACRONYM_RE = re.compile(r"\b(?!ESS\b)[A-Z]{2,}[a-z]?\b")
# A sentence opening on a pronoun or a connector leans on the one before it: a weaker stand-alone bullet.
_ANAPHORIC_START_RE = re.compile(
    r"(?:Elles?|Ils?(?! faut| convient| s'agit| est (?:nécessaire|indispensable|important))|Ce|Ces|Cet|Cette"
    r"|Ceci|Cela|Celles?|Ceux|Et|Or|Mais|Donc|En effet|Pour autant)\b"
)
# Of those, demonstratives with a noun (« Ces futurs pôles… ») refer back to a thing the previous sentence
# named, and so share its topic; a bare pronoun (« Elles peuvent… ») makes a bullet that cannot stand alone.
_REFERRING_START_RE = re.compile(r"(?:Ces|Cet|Cette|Ce)\s+(?!qui\b|que\b|qu'|dont\b|sont\b|est\b)\w")
_CONTEXT_RE = re.compile(
    r"\b(?:est une?|sont (?:des|une?)|designe|se definit|definition|correspond|depuis (?:19|20)\d\d"
    r"|depuis \d+ ans|historiquement|nee? (?:en|de)|crees? en|loi|contexte|enjeu|aujourd'hui|crise|represente"
    r"|constitue|vise a|a pour objet)"
)

_LINK_WORDS = frozenset({"de", "des", "du", "d", "l", "la", "le", "les", "et", "pour", "en", "a", "au", "aux"})
_MARKER_RE = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_STATEMENT_END_RE = re.compile(r"[.!…][\s\"»”)\]]*$")
_SPACE_RE = re.compile(r"\s+")


@dataclass
class _Candidate:
    text: str
    quote: str
    passage: Passage
    relevance: float
    cues: dict[str, float]
    section: str = ""
    score: float = 0.0
    hits: set[str] = field(default_factory=set)
    # The answer-sentence ranker's probability that the sentence answers the topic taken as a question.
    answers: float = 0.0
    # Who gave the testimony the sentence ends (its signature, part of ``quote``), shown after it.
    signer: str = ""
    # Whether it names what the topic is about, not only where or whose (« emploi » of « l'emploi en Occitanie »).
    names_concept: bool = True


def _balanced(text: str) -> str:
    """Drop a quotation mark the sentence split left unpaired (« … or … »), so the bullet reads cleanly."""
    for left, right in (("“", "”"), ("«", "»"), ('"', '"')):
        if left == right:
            if text.count(left) % 2:
                text = text[1:] if text.startswith(left) else text[:-1] if text.endswith(left) else text
        elif text.count(left) != text.count(right):
            if text.startswith(left) and text.count(left) > text.count(right):
                text = text[1:]
            elif text.endswith(right) and text.count(right) > text.count(left):
                text = text[:-1]
    return text.strip()


# A sentence opening on a reference to what came before it (« Ce modèle… », « Cela… », « C'est à ce titre… »)
# means nothing on its own in a bullet; « Ce que… », « Ces dernières années… » stand alone.
_OPENS_ON_REFERENCE_RE = re.compile(
    rf"^(?:{CONNECTORS},? )?"  # « Mais ce dernier a… »
    r"(?:c'est|cela|ceci|ca|celui|celle|ceux|celles|ils|elle|elles|"
    r"(?:ce|cet|cette|ces)\b(?! qu)(?! (?:dernieres|derniers) (?:annees|decennies|mois)))\b"
)


def opens_on_reference(sentence: str) -> bool:
    """True when the sentence leans on an earlier one for its subject (dropped from bullets)."""
    return bool(_OPENS_ON_REFERENCE_RE.match(fold(sentence.lstrip('«"“( '))))


def _readable(sentence: str) -> bool:
    """Reject fragments, OCR garble, URLs, tables, rosters of speakers, contact lines and sentences that need the one
    before: poor bullets."""
    if not MIN_SENTENCE_CHARS <= len(sentence) <= MAX_SENTENCE_CHARS or "http" in sentence or "www." in sentence:
        return False
    if opens_on_reference(sentence) or is_roster(sentence) or is_contact(sentence):
        return False
    first = sentence.lstrip('«"“( ')[:1]
    # A bullet is a whole statement: capitalised, closed by a full stop (no heading, question, list intro).
    if not first or first.islower() or not _STATEMENT_END_RE.search(sentence):
        return False
    chars = [c for c in sentence if not c.isspace()]
    if sum(c.isalpha() for c in chars) / len(chars) < 0.75:
        return False
    words = sentence.split()
    if len(words) < 8 or any(len(w) > 24 for w in words) or sentence.count("|") > 1:
        return False
    if sum(w.isupper() and len(w) > 3 for w in words) / len(words) > 0.3:
        return False
    # Glued words from bad OCR ("structuratioretau") show up as many long unhyphenated tokens.
    return sum(len(w.strip(".,;:!?»«()")) > 15 and "-" not in w for w in words) <= 1


def figure_of(sentence: str) -> str | None:
    """The first figure with its unit in ``sentence``, as written there ('3 258 établissements'), or None."""
    # Fold character by character, so a match in the folded text maps back to the original span.
    starts, pieces = [], []
    for i, ch in enumerate(sentence):
        piece = fold(ch)
        starts += [i] * len(piece)
        pieces.append(piece)
    folded = "".join(pieces)
    starts.append(len(sentence))
    for m in _FIGURE_RE.finditer(folded):
        number = re.search(r"\d+", m.group())
        if number and _YEAR_RE.fullmatch(number.group()) and not re.search(r"%|€|euro|million", m.group()):
            continue
        end = starts[m.end() - 1] + 1 if m.end() else 0
        start = starts[m.start()]
        if "%" in m.group() and (sign := _SIGN_BEFORE_RE.search(sentence[:start])):
            start = sign.start()  # « reculé de - 2,8 % » is a fall: without its sign it reads as a rise
        return sentence[start:end].strip()
    return None


def _cues(sentence: str) -> dict[str, float]:
    folded = fold(sentence)
    proposal = 3.0 * len(_STRONG_PROPOSAL_RE.findall(folded)) + (1.5 if _INFINITIVE_START_RE.search(folded) else 0)
    examples = len(_EXAMPLE_RE.findall(folded)) + len(_PLACE_RE.findall(sentence))
    actors = 0.5 * len(_ACTOR_RE.findall(folded)) + 0.5 * len(_ACRONYM_RE.findall(sentence))
    return {
        "chiffres": 3.0 if figure_of(sentence) else 0.0,
        "propositions": proposal,
        "vigilance": 1.5 * len(_VIGILANCE_RE.findall(folded)),
        "exemples": float(examples),
        "acteurs": min(actors, 2.0),
        "contexte": float(len(_CONTEXT_RE.findall(folded))),
    }


def acronym_expansions(topic: str, texts: Sequence[str]) -> dict[str, set[frozenset[str]]]:
    """Long forms of the topic's acronyms: 'PTCE' -> {pôle territorial de coopération économique…}.

    Without them a sentence about « les pôles territoriaux de coopération économique » would not count as
    being about « les PTCE ». From the field's glossary, and from the texts where they write « Long Form
    (ACRONYM) » (OCR spellings included).
    """
    out: dict[str, set[frozenset[str]]] = {}
    for word in fold(topic).replace("'", " ").split():
        if word in ACRONYMS:
            out.setdefault(question_terms(word)[0], set()).add(frozenset(question_terms(ACRONYMS[word])))
    for acronym in set(re.findall(r"\b([A-Z]{2,8})s?\b", topic)):
        letters = acronym.lower()
        for text in texts:
            for m in re.finditer(rf"((?:[\w'’-]+\s+){{1,12}})\(\s*{acronym}s?\s*\)", text):
                words = [w for w in re.split(r"[\s'’-]+", m.group(1)) if w]
                significant = [w for w in words if fold(w) not in _LINK_WORDS]
                if len(significant) >= len(letters):
                    tail = significant[-len(letters) :]
                    if "".join(fold(w)[0] for w in tail) == letters:
                        out.setdefault(question_terms(acronym)[0], set()).add(frozenset(question_terms(" ".join(tail))))
    return out


def topic_acronyms(topic_terms: set[str]) -> dict[str, frozenset[str]]:
    """The field's acronyms whose long form the topic spells out (all its terms, or all but one of four or
    more), each with the topic's terms it stands for: the reverse of ``acronym_expansions``."""
    out: dict[str, frozenset[str]] = {}
    for acronym, long_form in ACRONYMS.items():
        terms = set(question_terms(long_form))
        shared = terms & topic_terms
        if terms and len(shared) >= max(len(terms) - (len(terms) >= 4), 1):
            out[question_terms(acronym)[0]] = frozenset(shared)
    return out


def _same_word(a: str, b: str) -> bool:
    """Two stems of five letters or more that differ only in their last letter or two."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    return len(os.path.commonprefix([a, b])) >= min(len(a), len(b)) - 1


# Words that frame a topic without naming it: « l'ESS en milieu rural » is about rural places, and a sentence on
# « le milieu scolaire » is not on the topic (the rarest word, « milieu », would have been the one required);
# « l'accès des jeunes à l'emploi » is about young people and jobs, not « accès à une base documentaire ».
_FRAMING = frozenset(
    question_terms(
        "milieu milieux secteur secteurs domaine domaines champ champs cadre matière place rôle enjeu enjeux accès"
    ),
)


_NAME_RE = re.compile(r"\b[A-ZÀ-Ý][\w-]*")


class _TopicMatcher:
    """IDF-weighted share of the topic's terms found in a text, so 'ESS' counts less than 'PTCE'."""

    def __init__(self, topic: str, texts: Sequence[str]) -> None:
        terms = set(question_terms(topic))
        self.terms = (terms - _FRAMING) or terms
        self.expansions = acronym_expansions(topic, texts)
        self.acronyms = topic_acronyms(self.terms)
        docs = [self._present(t) for t in texts]
        # What share() and names_concept() read of the sentences the matcher was built on, without reading them again.
        self._read = dict(zip(texts, docs, strict=True))
        n = len(docs)
        df = {t: sum(t in d for d in docs) for t in self.terms}
        self.weights = {t: math.log((n + 1) / (df[t] + 0.5)) + 0.1 for t in self.terms}
        self.total = math.fsum(self.weights.values())  # order-free: a set's order changes with the hash seed
        # The topic's most specific term the passages use (« commande » in « ESS et commande publique »):
        # a sentence must name it.
        used = sorted(t for t in self.terms if df[t])
        self.key = max(used, key=self.weights.__getitem__) if used else None
        # The topic's terms written in lower case (its first word aside): its concepts, beside places and acronyms.
        names = set(question_terms(" ".join(_NAME_RE.findall(topic.strip()[1:]))))
        self.concepts = self.terms - names

    def names_concept(self, text: str) -> bool:
        """Whether ``text`` names one of the topic's concepts (always true of a topic made only of names)."""
        return not self.concepts or bool(self.concepts & self._present_in(text))

    def _present_in(self, text: str) -> set[str]:
        known = self._read.get(text)
        return self._present(text) if known is None else known

    def _present(self, text: str) -> set[str]:
        terms = set(question_terms(text))
        # Stems of one word's forms may differ by their last letter (« ruraux » -> rurau, « rural » -> rural).
        near = {t for t in self.terms - terms if any(_same_word(t, w) for w in terms)}
        # « QPV » in a text says « quartiers prioritaires de la politique de la ville » of the topic.
        near |= {t for acronym, forms in self.acronyms.items() if acronym in terms for t in forms}
        # One word of a long form may be missing or misspelt (OCR: « Péles » for « Pôles »).
        return (terms | near) | {
            t for t, forms in self.expansions.items() if any(len(f & terms) >= max(len(f) - 1, 3) for f in forms)
        }

    def share(self, text: str) -> float:
        """Weighted share of the topic's terms in ``text``; 0 when its most specific term is missing."""
        if not self.total:
            return 1.0
        present = self._present_in(text)
        if self.key not in present:
            return 0.0
        return math.fsum(w for t, w in self.weights.items() if t in present) / self.total


def is_duplicate(a: str, b: str) -> bool:
    """True when two bullets say the same thing (normalised token-set similarity)."""
    return fuzz.token_set_ratio(normalize_for_match(a), normalize_for_match(b)) >= DUPLICATE_RATIO


def _gather(
    topic: str, retriever: Retriever, cue_retriever: Retriever, k: int, filters: dict[str, Any]
) -> dict[str, dict[str, Passage]]:
    """Passages per section: the topic alone through ``retriever``, then each section's sub-queries
    (topic + cue words) through ``cue_retriever``."""
    found: dict[str, dict[str, Passage]] = {}
    for spec in SECTIONS:
        bucket = found.setdefault(spec.key, {})
        for suffix in spec.queries:
            search = cue_retriever if suffix else retriever
            for p in search(f"{topic} {suffix}".strip(), k=k if suffix else 2 * k, **filters):
                bucket.setdefault(p.chunk_id, p)
    return found


def lexical_retrieve(query: str, k: int = 5, **filters: Any) -> list[Passage]:
    """BM25 only, for sub-queries: their cue words (« il faut », « chiffres ») are a lexical matter, and a
    dense encoding per sub-query would cost seconds per note on a laptop CPU."""
    from assistant.retrieval import get_search, normalize_filters

    return get_search().search(query, k, normalize_filters(filters), dense_weight=0.0)


def _candidates(topic: str, found: dict[str, dict[str, Passage]]) -> list[_Candidate]:
    """Readable, verifiable, on-topic sentences of every passage found, with their cues."""
    passages: dict[str, Passage] = {}
    hits: dict[str, set[str]] = {}
    for key, bucket in found.items():
        for cid, p in bucket.items():
            passages.setdefault(cid, p)
            hits.setdefault(cid, set()).add(key)
    spans = {cid: split_spans(p.text) for cid, p in passages.items()}
    matcher = _TopicMatcher(topic, [p.text[s:e] for cid, p in passages.items() for s, e in spans[cid]])
    ranked = sentence_probabilities(topic, list(passages.values()))
    out: list[_Candidate] = []
    for cid, p in passages.items():
        passage_share = matcher.share(p.text)
        previous_share = 0.0
        for start, end in spans[cid]:
            quote = p.text[start:end]
            text = _balanced(shown_sentence(quote))
            share = matcher.share(quote)
            prior, previous_share = previous_share, share
            if not _readable(text) or is_instruction_like(text) or not contains_quote(p.text, text):
                continue
            if _REFERRING_START_RE.match(text):
                # « Ces futurs pôles sont… » is about what the sentence before named.
                share = max(share, ANAPHORA_PENALTY * prior)
            if not share:
                continue
            relevance = min(1.0, share + PASSAGE_WEIGHT * passage_share)
            if relevance >= MIN_RELEVANCE:
                answers = ranked.get((cid, start), 0.0)
                signed = signature_of(p, start, end)
                signer, quote = (signed[1], p.text[start : signed[0]]) if signed else ("", quote)
                out.append(
                    _Candidate(
                        text,
                        quote.strip(),
                        p,
                        relevance,
                        _cues(text),
                        hits=hits[cid],
                        answers=answers,
                        signer=signer,
                        names_concept=matcher.names_concept(quote),
                    )
                )
    return out


def _classify(candidates: list[_Candidate]) -> None:
    """Give each sentence the section its cues point to most strongly, and a ranking score in it."""
    for c in candidates:
        boosted = {k: v + (0.5 if v > 0 and k in c.hits else 0.0) for k, v in c.cues.items()}
        best = max(_PRIORITY, key=lambda k: (boosted[k], -_PRIORITY.index(k)))
        if boosted[best] <= 0:
            # No cue at all: only a sentence squarely on the topic may serve as context.
            best = "contexte" if c.relevance >= 0.99 else ""
        if best == "contexte" and not c.names_concept:
            # Context is about what the topic is about, not only its place (« Notre belle et vaste région
            # d'Occitanie est une terre accueillante… » for « l'emploi dans l'ESS en Occitanie »).
            best = ""
        c.section = best
        c.score = c.relevance * (1 + 0.25 * min(boosted.get(best, 0.0), 4.0)) if best else 0.0
        # Of two sentences as relevant and as cued, the one the answer ranker finds more telling comes first.
        c.score *= 0.5 + c.answers
        if _ANAPHORIC_START_RE.match(c.text):
            c.score *= ANAPHORA_PENALTY


def _select(candidates: list[_Candidate], per_section: dict[str, int]) -> dict[str, list[_Candidate]]:
    """Best sentences per section, no two near-duplicates anywhere in the note."""
    chosen: dict[str, list[_Candidate]] = {s.key: [] for s in SECTIONS}
    kept: list[str] = []
    ranked = sorted(
        (c for c in candidates if c.section),
        key=lambda c: (-c.score, c.passage.source, c.passage.position, c.text),
    )
    for c in ranked:
        bucket = chosen[c.section]
        if len(bucket) >= per_section[c.section] or any(is_duplicate(c.text, t) for t in kept):
            continue
        bucket.append(c)
        kept.append(c.text)
    return chosen


class _Numberer:
    """Gives citations numbers in order of first appearance; one number per (passage, quote)."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, str], int] = {}

    def cite(self, passage: Passage, quote: str) -> Citation:
        n = self.numbers.setdefault((passage.chunk_id, quote), len(self.numbers) + 1)
        return Citation(n=n, passage=passage, quote=quote)


def stated_date(sentence: str) -> str | None:
    """The year ``sentence`` dates its facts with, or None: a year that counts something (« 2000
    coopératives ») is no date, and the document's year is not the figure's."""
    m = DATED_YEAR_RE.search(fold(sentence))
    return m.group(1) if m else None


def _figure_bullet(text: str, citations: list[Citation], key: str, signer: str = "") -> BriefBullet:
    """A bullet; in « Chiffres clés » it also carries its figure and the date its sentence states, if any; a
    testimony ends with who gave it."""
    figure = figure_of(text) if key == "chiffres" else None
    shown = f"{text} — {signer}" if signer else text
    return BriefBullet(shown, citations, figure, stated_date(text) if figure else None)


def _extractive_bullets(key: str, chosen: list[_Candidate], numberer: _Numberer) -> list[BriefBullet]:
    limit = next(s.max_bullets for s in SECTIONS if s.key == key)
    return [_figure_bullet(c.text, [numberer.cite(c.passage, c.quote)], key, c.signer) for c in chosen[:limit]]


def _synthesised_bullets(
    topic: str, spec: _SectionSpec, chosen: list[_Candidate], chat_model: Any, numberer: _Numberer
) -> tuple[list[BriefBullet], list[str]]:
    """The LLM's synthesis of one section, one bullet per verified sentence, and French warnings.

    Only the passages that fed the section are given; verify_answer drops any sentence whose markers,
    quotes or figures do not check out, and a sentence left without a citation is not kept.
    """
    passages = list({c.passage.chunk_id: c.passage for c in chosen}.values())[:LLM_PASSAGES]
    prompt = load_prompt("brief").invoke({"topic": topic, "section": spec.title, "passages": passages_block(passages)})
    reply = message_text(chat_model.invoke(prompt))
    if fold(ABSTENTION_TEXT.rstrip(".")) in fold(reply):
        return [], []
    verified = verify_answer(reply, passages)
    by_n = {c.n: c for c in verified.citations}
    bullets = []
    for sentence in split_sentences(verified.text):
        cited = [by_n[n] for n in markers(sentence) if n in by_n]
        text = " ".join(_MARKER_RE.sub("", sentence).split())
        if cited and text and not opens_on_reference(text):
            bullets.append(_figure_bullet(text, [numberer.cite(c.passage, c.quote) for c in cited], spec.key))
    return bullets, verified.warnings


def _renumbered(sections: list[BriefSection]) -> list[BriefSection]:
    """Citations numbered densely from 1 in reading order (dropped duplicates leave gaps otherwise)."""
    numbers: dict[int, int] = {}
    out = []
    for section in sections:
        bullets = []
        for b in section.bullets:
            cites = [replace(c, n=numbers.setdefault(c.n, len(numbers) + 1)) for c in b.citations]
            bullets.append(replace(b, citations=cites))
        out.append(replace(section, bullets=bullets))
    return out


def _dedup(bullets: list[BriefBullet], kept: list[str]) -> list[BriefBullet]:
    out = []
    for b in bullets:
        if not any(is_duplicate(b.text, t) for t in kept):
            out.append(b)
            kept.append(b.text)
    return out


def _scope(topic: str, sections: list[BriefSection], filters: dict[str, Any], mode: str) -> str:
    docs = {c.passage.source for s in sections for b in s.bullets for c in b.citations}
    text = (
        f"Note établie automatiquement sur « {topic} » à partir de {len(docs)} document(s) du corpus "
        "de l'économie sociale et solidaire"
    )
    if filters:
        shown = "; ".join(
            f"{k} = {v if isinstance(v, str | int) else ', '.join(map(str, v))}" for k, v in filters.items()
        )
        text += f" (filtres : {shown})"
    if mode == "extractive":
        text += ". Mode extractif : chaque point reprend telle quelle une phrase d'un document, avec sa source."
    else:
        text += (
            ". Les sections sont rédigées par un modèle de langage à partir des passages cités, "
            "citations vérifiées ; à défaut, elles reprennent telles quelles des phrases des documents."
        )
    return text


def brief(
    topic: str,
    *,
    retriever: Retriever | None = None,
    chat_model: Any | None = None,
    extractive: bool = False,
    k: int = 12,
    **filters: Any,
) -> Brief:
    """Build a sourced note on ``topic``; ``chat_model`` None means the configured LLM, if any.

    ``retriever`` serves every query (default: the hybrid search in the fusion's order, which the sentence ranker
    scoring the bullets was trained on, for the topic; BM25 for sub-queries).

    ``extractive=True`` forces the no-LLM mode. Filters (source=, publisher=, year=) go to retrieval.
    """
    topic = _SPACE_RE.sub(" ", topic).strip()
    if not topic:
        raise ValueError("Le sujet de la note est vide.")
    filters = {k_: v for k_, v in filters.items() if v not in (None, "", [], ())}
    cue_retriever = retriever or lexical_retrieve
    if retriever is None:
        from assistant.retrieval import fused_passages as retriever
    warnings: list[str] = []
    if chat_model is None and not extractive:
        try:
            chat_model = get_chat_model()
        except LLMConfigError as exc:
            warnings.append(f"{exc} Note établie en mode extractif.")
    if extractive:
        chat_model = None
    found = _gather(topic, retriever, cue_retriever, k, filters)
    candidates = _candidates(topic, found)
    _classify(candidates)
    per_section = {s.key: (LLM_PASSAGES if chat_model else s.max_bullets) for s in SECTIONS}
    chosen = _select(candidates, per_section)
    numberer = _Numberer()
    sections: list[BriefSection] = []
    kept: list[str] = []
    synthesised = 0
    for spec in SECTIONS:
        if not chosen[spec.key]:
            continue
        bullets: list[BriefBullet] = []
        if chat_model is not None:
            try:
                bullets, notes = _synthesised_bullets(topic, spec, chosen[spec.key], chat_model, numberer)
                warnings += [f"{spec.title} : {n}" for n in notes]
            except Exception as exc:  # any provider failure: say it in French and go on without the LLM
                log.warning("brief synthesis failed: %r", exc)
                warnings.append(f"{describe_error(exc)} Note terminée en mode extractif.")
                chat_model = None
        bullets = _dedup(bullets, kept)
        synthesised += bool(bullets)
        if not bullets:
            # The model had nothing verified and new to say: the section keeps its quoted sentences.
            bullets = _dedup(_extractive_bullets(spec.key, chosen[spec.key], numberer), kept)
        if bullets:
            sections.append(BriefSection(spec.key, spec.title, bullets))
    sections = _renumbered(sections)
    mode = "llm" if synthesised else "extractive"
    if not sections:
        warnings.append("Le corpus ne contient pas de passage suffisamment pertinent pour rédiger cette note.")
    title = f"Note de synthèse : {topic[:1].upper()}{topic[1:]}"
    log.info("brief %r (%s): %d candidates, %d sections", topic, mode, len(candidates), len(sections))
    return Brief(topic, title, _scope(topic, sections, filters, mode), sections, mode, filters, warnings)
