"""Arguments of the public ``/ask`` API checked before use: a client may send any JSON, and a wrong type
must give a French sentence, not a Python message such as « 'int' object has no attribute 'strip' »."""

from __future__ import annotations

from typing import Any

from assistant.types import RequestError, checked_k, checked_question
from ui.common import filter_kwargs

MODES = ("extractive", "llm")


def _texts(name: str, value: Any) -> list[str] | None:
    """An optional list of texts (a single text is accepted as a one-item list)."""
    if value is None:
        return None
    values = [value] if isinstance(value, str | int) and not isinstance(value, bool) else value
    if not isinstance(values, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise RequestError(f"Le filtre « {name} » doit être une liste de textes.")
    return [str(v) for v in values]


def checked_api_args(
    question: Any, k: Any, mode: Any, source: Any, publisher: Any, year: Any
) -> tuple[str, int, str, dict[str, Any]]:
    """(question, k, mode, filters) for stream_ask, or a RequestError in French naming what is wrong."""
    question = checked_question(question)
    k = checked_k(int(k) if isinstance(k, float) and k.is_integer() else k)
    if mode not in MODES:
        raise RequestError(f"Mode de réponse inconnu : choisissez « {MODES[0]} » ou « {MODES[1]} ».")
    years = _texts("year", year)
    if years and not all(y.isdigit() for y in years):
        raise RequestError("Le filtre « year » doit être une liste d'années (nombres entiers).")
    return question, k, mode, filter_kwargs(_texts("source", source), _texts("publisher", publisher), years)
