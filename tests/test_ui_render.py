"""Rendering of answers and passages: everything escaped, the supporting sentence highlighted."""

from __future__ import annotations

import re

from assistant.types import Answer, Citation, Passage
from tests.ui_fixtures.fakes import PASSAGES, SCRIPT, fake_neighbours
from ui.render import answer_markdown, citation_label, context_html, find_quote, highlight, sources_html


def _passage(text: str, **kw) -> Passage:
    base = dict(text=text, source="doc.txt", title="Titre", page=3, section=None, score=1.0, chunk_id="doc#0",
                publisher="Éditeur", year=2021)
    return Passage(**{**base, **kw})


def _marked(html: str) -> str:
    m = re.search(r"<mark>(.*?)</mark>", html, re.S)
    assert m, html
    return m.group(1)


def test_exact_quote_is_marked():
    text = "Première phrase. Les SCOP associent les salariés au capital. Dernière phrase."
    assert _marked(highlight(text, "Les SCOP associent les salariés au capital.")) == (
        "Les SCOP associent les salariés au capital."
    )


def test_quote_found_despite_ocr_case_accents_and_hyphenated_line_break():
    text = "Avant. I'Economie sociale est un levier socio-\néconomique pour les territoires. Après."
    quote = "l'économie sociale est un levier socio-économique pour les territoires"
    marked = _marked(highlight(text, quote))
    assert marked.startswith("I'Economie") and marked.endswith("territoires.")
    assert "Avant" not in marked and "Après" not in marked


def test_half_quote_cut_by_chunk_boundary_is_marked():
    text = "Début du passage : la coopération entre collectivités et associations renforce les territoires."
    # nine words from the previous chunk, then the nine words that open this one
    quote = ("Cette phrase a commencé dans le passage qui précède, "
             "la coopération entre collectivités et associations renforce les territoires.")
    assert "coopération entre collectivités" in _marked(highlight(text, quote))


def test_missing_quote_gives_plain_escaped_text():
    assert find_quote("Rien à voir ici.", "Une autre phrase absente du passage, assez longue.") is None
    assert highlight("a < b", "absente") == "a &lt; b"


def test_script_in_document_is_escaped_everywhere():
    piege = next(p for p in PASSAGES if p.source == "piege.md")
    quote = "Le balisage doit rester inerte."
    answer = Answer(text=f"Texte {SCRIPT} [1]", citations=[Citation(1, piege, quote)])
    for html in (sources_html(answer), context_html(answer.citations[0], []), answer_markdown(answer)):
        assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in sources_html(answer)
    assert "Document &lt;b&gt;piégé&lt;/b&gt;" in sources_html(answer)


def test_sources_panel_lists_each_citation_with_locator_and_quote():
    p1 = _passage("Un. La phrase citée est ici. Deux.")
    p2 = _passage("Section sans page.", page=None, section="Chapitre 2", chunk_id="doc#5", year=None)
    answer = Answer(text="A [1]. B [2].", citations=[Citation(1, p1, "La phrase citée est ici."),
                                                      Citation(2, p2, "Section sans page.")])
    html = sources_html(answer)
    assert html.count('class="ess-source"') == 2
    assert "Éditeur, 2021, p. 3" in html and "Éditeur, Chapitre 2" in html
    assert "<mark>La phrase citée est ici.</mark>" in html
    assert citation_label(answer.citations[1]) == "[2] Titre — Chapitre 2"


def test_abstention_shows_leads_and_empty_state():
    lead = _passage("Un passage peut-être utile.")
    html = sources_html(Answer(text="Je ne sais pas.", abstained=True, leads=[lead]))
    assert "Passages à consulter" in html and "Un passage peut-être utile." in html
    assert "s'afficheront ici" in sources_html(None)


def test_answer_markdown_links_markers_to_their_cards_and_adds_warnings():
    md = answer_markdown(Answer(text="Fait [1] & autre fait [2].", warnings=["Une phrase a été retirée."]))
    assert md.startswith("Fait [**[1]**](#ess-source-1) &amp; autre fait [**[2]**](#ess-source-2).")
    assert "_Une phrase a été retirée._" in md


def test_document_text_cannot_form_markdown_links():
    md = answer_markdown(Answer(text="Voir [ici](javascript:alert(1)) et ![x](http://exemple.org/p.png) [1]."))
    assert "\\[ici\\](javascript:alert(1))" in md and "!\\[x\\](http" in md
    assert md.endswith("[**[1]**](#ess-source-1).")


def test_context_puts_neighbours_in_document_order_around_the_passage():
    middle = PASSAGES[1]
    quote = "La coopération territoriale réunit collectivités et entreprises."
    html = context_html(Citation(1, middle, quote), list(reversed(fake_neighbours(middle.chunk_id))))
    marks = ("Introduction du pacte", "ess-ctx-main", "Conclusion")
    i_before, i_main, i_after = (html.index(s) for s in marks)
    assert i_before < i_main < i_after
    assert "<mark>La coopération territoriale réunit collectivités et entreprises.</mark>" in html


def test_context_drops_text_the_neighbours_share_with_the_passage():
    shared_head = "Début commun partagé par le chunk précédent et le passage cité, assez long."
    shared_tail = "Fin commune partagée par le passage cité et le chunk suivant, elle aussi longue."
    main = _passage(f"{shared_head} Cœur du passage. {shared_tail}", chunk_id="d#1", position=1)
    prev = _passage(f"Texte d'avant. {shared_head}", chunk_id="d#0", position=0)
    nxt = _passage(f"{shared_tail} Texte d'après.", chunk_id="d#2", position=2)
    html = context_html(Citation(1, main, "Cœur du passage."), [prev, main, nxt])
    assert html.count("Début commun") == 1 and html.count("Fin commune") == 1
    order = [html.index(s) for s in ("Texte d'avant.", "<mark>Cœur du passage.</mark>", "Texte d'après.")]
    assert order == sorted(order)
