"""ESS Assistant: answers over a corpus of French ESS documents, every claim tied to a cited passage.

Public names are imported lazily (PEP 562) so ``from assistant import retrieve`` does not load answering,
model or UI code it does not need.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> module that defines it
_LAZY = {
    "ask": "assistant.answer",
    "stream_ask": "assistant.answer",
    "retrieve": "assistant.retrieval",
    "HybridRetriever": "assistant.retrieval",
    "Passage": "assistant.types",
    "Answer": "assistant.types",
    "Citation": "assistant.types",
    "brief": "assistant.briefing",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
