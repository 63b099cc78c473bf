"""Markdown export of a conversation keeps every answer's sources and neutralises markup."""

from __future__ import annotations

from datetime import datetime

from markdown_it import MarkdownIt

from assistant.types import Answer, Citation
from tests.ui_fixtures.fakes import PASSAGES, SCRIPT
from ui.export import conversation_markdown, write_conversation


def _turns():
    cite = Citation(1, PASSAGES[0], "Les acteurs de l'ESS proposent un nouveau pacte économique et social.")
    piege = Citation(1, PASSAGES[3], "Le balisage doit rester inerte.")
    return [
        ("Que proposent les acteurs ?", Answer(text="Un nouveau pacte [1].", citations=[cite])),
        (f"Et ce document {SCRIPT} ?", Answer(text="Il reste inerte [1].", citations=[piege],
                                             warnings=["Une phrase non vérifiée a été retirée."])),
        ("Question sans réponse", Answer(text="Je n'ai pas trouvé.", abstained=True, leads=[PASSAGES[2]])),
        ("Question en panne", None),
    ]


def test_export_lists_questions_answers_and_sources():
    md = conversation_markdown(_turns(), now=datetime(2026, 1, 2, 3, 4))
    assert "_Exportée le 02/01/2026 03:04._" in md
    assert md.index("## Question 1") < md.index("Un nouveau pacte \\[1\\].") < md.index("## Question 2")
    assert "- **[1]** Pacte ESS — CRESS Test, 2020, p. 1" in md
    assert "> « Les acteurs de l'ESS proposent un nouveau pacte économique et social. »" in md
    assert "(fichier : pactes.txt)" in md
    assert "_Une phrase non vérifiée a été retirée._" in md
    assert "### Passages à consulter" in md and "Pacte ESS — CRESS Test, 2020, p. 3" in md
    assert md.index("## Question 4") < md.index("_La réponse n'a pas pu être produite (erreur technique)._")


def test_export_escapes_markup_from_users_and_documents():
    md = conversation_markdown(_turns())
    html = MarkdownIt("commonmark").render(md)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html


def test_write_conversation_creates_a_markdown_file(tmp_path):
    path = write_conversation(_turns()[:1], tmp_path)
    assert path.parent == tmp_path and path.suffix == ".md"
    assert "Un nouveau pacte \\[1\\]." in path.read_text(encoding="utf-8")
    assert "Aucune question" in conversation_markdown([])
