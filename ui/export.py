"""Export of a chat conversation to a Markdown file that keeps every answer's sources.

The export is meant to be pasted into notes or a brief, so each answer is followed by the passages it
cites (title, publisher, year, page or section, supporting sentence). Text from documents, file names and
users is escaped for Markdown, line by line, so a Markdown viewer shows it as text: no HTML, link, image or
code span can come from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.brief_export import escape_markdown
from assistant.types import Answer
from ui.render import markdown_lines, meta_line

# One exchange of the chat; the answer is None when producing it failed (the chat showed an error).
Turn = tuple[str, Answer | None]


def _quote_block(text: str) -> str:
    return "\n".join(f"> {escape_markdown(line)}" if line.strip() else ">" for line in text.splitlines())


def conversation_markdown(turns: Sequence[Turn], now: datetime | None = None) -> str:
    """Markdown of the whole conversation: each question, its answer, then its sources."""
    stamp = (now or datetime.now()).strftime("%d/%m/%Y %H:%M")
    out = ["# Conversation — ESS Assistant", "", f"_Exportée le {stamp}._", ""]
    if not turns:
        out += ["_Aucune question n'a encore été posée._", ""]
    for i, (question, answer) in enumerate(turns, 1):
        out += [f"## Question {i}", "", _quote_block(question), "", "### Réponse", ""]
        if answer is None:
            out += ["_La réponse n'a pas pu être produite (erreur technique)._", ""]
            continue
        out += [markdown_lines(answer.text), ""]
        out += [f"_{escape_markdown(w)}_\n" for w in answer.warnings]
        if answer.citations:
            out += ["### Sources", ""]
            for c in answer.citations:
                meta = meta_line(c.passage)
                out.append(f"- **[{c.n}]** {escape_markdown(c.passage.title)}"
                           + (f" — {escape_markdown(meta)}" if meta else ""))
                out.append(f"  (fichier : {escape_markdown(c.passage.source)})")
                out.append(f"  > « {escape_markdown(c.quote)} »")
            out.append("")
        elif answer.leads:
            out += ["### Passages à consulter", ""]
            for p in answer.leads:
                meta = meta_line(p)
                out.append(f"- {escape_markdown(p.title)}" + (f" — {escape_markdown(meta)}" if meta else ""))
            out.append("")
    return "\n".join(out)


def write_conversation(turns: Sequence[Turn], directory: Path) -> Path:
    """Write the export to a fresh file in ``directory`` (the app gives a folder of its private space)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"conversation-ess-{datetime.now():%Y%m%d-%H%M%S}.md"
    path.write_text(conversation_markdown(turns), encoding="utf-8")
    return path
