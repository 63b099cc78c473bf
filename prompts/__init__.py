"""French prompt texts, kept as files so they can be read and reviewed without reading code.

Each ``<name>.txt`` has a ``[system]`` and a ``[human]`` part and is loaded as a LangChain ChatPromptTemplate.
Retrieved passages reach a prompt only through ``passages_block``, which escapes anything that could close the
delimited block: a document cannot turn its text into instructions by faking the end of the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate

    from assistant.types import Passage

PROMPT_DIR = Path(__file__).resolve().parent
_PART_RE = re.compile(r"^\[(system|human)\]\s*$", re.M)
# Anything that looks like one of our delimiter tags (opening or closing), whatever its case or spacing.
_TAG_RE = re.compile(r"<(\s*/?\s*(?:passages?|historique)\b)", re.I)


@cache
def load_prompt(name: str) -> ChatPromptTemplate:
    """The prompt ``prompts/<name>.txt`` as a ChatPromptTemplate (variables in {braces})."""
    from langchain_core.prompts import ChatPromptTemplate

    text = (PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8")
    parts = _PART_RE.split(text)[1:]
    messages = [(role, body.strip()) for role, body in zip(parts[::2], parts[1::2], strict=True)]
    if [role for role, _ in messages] != ["system", "human"]:
        raise ValueError(f"prompt {name!r} must have a [system] then a [human] part")
    return ChatPromptTemplate.from_messages(messages)


def escape_data(text: str) -> str:
    """Neutralise delimiter-like tags in untrusted text: '</passages>' becomes '‹/passages>'."""
    return _TAG_RE.sub(r"‹\1", text)


def _attribute(value: object) -> str:
    return escape_data(" ".join(str(value).split())).replace('"', "'")


def passages_block(passages: Sequence[Passage]) -> str:
    """The passages numbered from 1, each in its own <passage> element, their text escaped."""
    items = []
    for n, p in enumerate(passages, start=1):
        where = f' localisation="{_attribute(p.location())}"' if p.location() else ""
        items.append(
            f'<passage numero="{n}" titre="{_attribute(p.title)}"{where}>\n{escape_data(p.text.strip())}\n</passage>'
        )
    return "\n".join(items)
