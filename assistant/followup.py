"""Turn a follow-up question ("et en Occitanie ?") into a standalone query, using the conversation history.

With a chat model the ``condense`` prompt rewrites it; without one (or if the model fails) the previous
question's key terms are carried over, the follow-up's names replacing the previous ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.extractive import named_entities
from vectorstore.text import QUESTION_STOPWORDS, fold, normalize_for_match, question_terms

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

# A question with fewer content words than this, and no name of its own, continues the conversation.
STANDALONE_MIN_TERMS = 3
_CONTINUATION_RE = re.compile(
    r"^\s*(?:et|mais|ou|alors|puis|aussi|pareil|idem|meme chose|dans ce cas|en ce cas|et pour|et en|et si|"
    r"et dans|et a|et au|et aux|et les|et la|et le|qu'en est-il|quid)\b"
)
_HISTORY_TURNS = 6
_PLACE_PREPOSITIONS = r"en|à|a|au|aux|dans|pour|chez|sur|(?:dans )?(?:la|le|les) (?:région|département|ville)"


def _turns(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """(role, text) pairs from Gradio-style messages ({'role', 'content'}) or (user, assistant) pairs."""
    out: list[tuple[str, str]] = []
    for item in history or []:
        if isinstance(item, dict):
            content = item.get("content")
            if isinstance(content, str) and content.strip():
                out.append((str(item.get("role", "user")), content))
        elif isinstance(item, Sequence) and len(item) == 2 and not isinstance(item, str):
            user, assistant = item
            if user:
                out.append(("user", str(user)))
            if assistant:
                out.append(("assistant", str(assistant)))
    return out


def is_follow_up(question: str) -> bool:
    """True for a question that needs the conversation to make sense ('et en Occitanie ?')."""
    if _CONTINUATION_RE.search(fold(question)):
        return True
    # A short question that names its subject ("Qu'est-ce qu'une SCIC ?") still stands alone.
    return len(question_terms(question)) < STANDALONE_MIN_TERMS and not _names(question)


def carry_over(question: str, previous: str) -> str:
    """The previous question, the follow-up's names in place of its own, plus the follow-up's other terms."""
    new_names = _names(question)
    # The follow-up's names as written, with what links them: "Pays de la Loire".
    spans = [m for m in re.finditer(r"[A-ZÀ-Ý][\w-]*", question) if m.group() in new_names]
    new_text = question[spans[0].start() : spans[-1].end()] if spans else ""
    base = previous.strip()
    # The previous question's places are replaced (names after en/à/dans…, else its last name);
    # acronyms (ESS, CRESS) name the topic and stay.
    old_names = [n for n in _names(previous) if not n.isupper()]
    places = [n for n in old_names if re.search(rf"\b(?:{_PLACE_PREPOSITIONS})\s+{re.escape(n)}\b", previous)]
    replaced = (places or old_names[-1:]) if new_names else []
    for i, old in enumerate(replaced):
        base = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new_text if i == 0 else "", base)
    extra = [w for w in re.findall(r"[\w'’-]+", question) if fold(w) not in QUESTION_STOPWORDS and len(w) > 1]
    base_folded = normalize_for_match(base)
    missing = [w for w in extra if normalize_for_match(w) not in base_folded.split()]
    return " ".join([" ".join(base.split()), *missing]).strip()


def _names(text: str) -> list[str]:
    """Capitalised names as written in ``text`` (first word included: follow-ups often start with one)."""
    wanted = set(named_entities("_ " + text))
    return [w for w in re.findall(r"[A-ZÀ-Ý][\w-]*", text) if normalize_for_match(w) in wanted]


def condense(question: str, history: Sequence[Any] | None, chat_model: BaseChatModel | None = None) -> str:
    """A standalone version of ``question`` given ``history`` (unchanged when it already stands alone)."""
    turns = _turns(history)
    previous = [text for role, text in turns if role == "user" and text.strip() != question.strip()]
    if not previous or not is_follow_up(question):
        return question
    if chat_model is not None:
        from assistant.llm import message_text
        from prompts import escape_data, load_prompt

        lines = [
            f"{'Utilisateur' if r == 'user' else 'Assistant'} : {escape_data(t)}" for r, t in turns[-_HISTORY_TURNS:]
        ]
        try:
            messages = load_prompt("condense").format_messages(history="\n".join(lines), question=question)
            rewritten = message_text(chat_model.invoke(messages)).strip().strip("«»\"' ")
            if rewritten:
                logger.info("follow-up condensed by the model: %r -> %r", question, rewritten)
                return rewritten.splitlines()[0]
        except Exception as exc:  # noqa: BLE001 - a failing model must not stop the conversation
            logger.warning("follow-up condensation failed (%s); using term carry-over", exc)
    standalone = carry_over(question, previous[-1])
    logger.info("follow-up condensed by carry-over: %r -> %r", question, standalone)
    return standalone
