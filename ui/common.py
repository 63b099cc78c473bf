"""What the chat and the brief tab share: the documents behind the filters, the filters themselves, the
answer modes on offer, and French error messages instead of tracebacks."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import Any

import gradio as gr

from ingest.errors import IngestError
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

DocumentsFn = Callable[[], list[dict]]


def default_documents() -> list[dict]:
    from assistant.retrieval import list_documents

    return list_documents()


ERROR_TITLE = "Erreur"
WARNING_TITLE = "Attention"
INFO_TITLE = "Information"


def refusal(message: str) -> gr.Error:
    """An ordinary refusal (empty question, no file chosen…): a French pop-up, one log line, no traceback."""
    log.warning("Demande refusée : %s", message)
    return gr.Error(message, title=ERROR_TITLE, print_exception=False)


def warn(message: str) -> None:
    """A French « Attention » pop-up (Gradio's default title is English)."""
    gr.Warning(message, title=WARNING_TITLE)


# An absolute path in a message (« …en cours sur /home/x/index ; … »): the page does not show server folders.
_SERVER_PATH_RE = re.compile(r"(?<![\w:/.])/(?:[^\s/«»]+/)+[^\s«»;,]*")


def user_message(exc: BaseException, fallback: str) -> str:
    """The French message of errors meant for users (no index yet, bad LLM settings…), else ``fallback``."""
    from assistant.llm import LLMConfigError
    from assistant.types import RequestError
    from vectorstore.store import StoreError

    if isinstance(exc, IngestError | StoreError | LLMConfigError | RequestError):
        return _SERVER_PATH_RE.sub("(dossier du serveur)", str(exc))
    return fallback


def french_errors(action: str) -> Callable:
    """Turn any unexpected exception of a handler into a French gr.Error (the traceback goes to the log)."""

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                log.exception("UI handler %s failed", fn.__name__)
                raise gr.Error(
                    user_message(
                        exc,
                        f"{action} a échoué à cause d'une erreur interne. "
                        "Réessayez ; si le problème persiste, consultez le journal "
                        "du serveur.",
                    ),
                    title=ERROR_TITLE,
                ) from exc

        return wrapper

    return deco


def safe_documents(documents: DocumentsFn) -> list[dict]:
    """Indexed documents, or none when the index is missing or unreadable (the UI still loads)."""
    try:
        return list(documents())
    except Exception:
        log.warning("Could not list indexed documents", exc_info=True)
        return []


def filter_choices(docs: list[dict]) -> tuple[list, list, list]:
    """Dropdown choices: (title, source) pairs, publishers, years (newest first, as strings)."""
    titles = sorted({(str(d.get("title") or d["source"]), str(d["source"])) for d in docs if d.get("source")})
    publishers = sorted({str(d["publisher"]) for d in docs if d.get("publisher")})
    years = sorted({str(d["year"]) for d in docs if d.get("year")}, reverse=True)
    return titles, publishers, years


def filter_kwargs(sources: list[str] | None, publishers: list[str] | None, years: list[str] | None) -> dict:
    """Filter kwargs for stream_ask; empty selections mean no filter."""
    out: dict[str, Any] = {}
    if sources:
        out["source"] = list(sources)
    if publishers:
        out["publisher"] = list(publishers)
    if years:
        out["year"] = [int(y) for y in years]
    return out


def mode_choices(settings: Settings) -> tuple[list[tuple[str, str]], str]:
    """Answer modes offered (the configured LLM last, and preselected) and the explanation shown."""
    if settings.llm_provider:
        model = f", {settings.llm_model}" if settings.llm_model else ""
        label = f"LLM configuré ({settings.llm_provider}{model})"
        return [("Extractif (sans LLM)", "extractive"), (label, "llm")], (
            "Le mode LLM reformule à partir des passages ; chaque phrase reste vérifiée contre ses sources."
        )
    return [("Extractif (sans LLM)", "extractive")], (
        "Aucun LLM n'est configuré (variables ESS_LLM_PROVIDER et ESS_LLM_MODEL) : les réponses sont "
        "composées de phrases extraites des documents."
    )
