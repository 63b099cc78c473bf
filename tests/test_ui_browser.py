"""The web chat in a real headless Chromium, over the fake answerer (fast, deterministic)."""

from __future__ import annotations

import dataclasses
import functools
import re

import gradio as gr
import pytest
from playwright.sync_api import Page, expect

from assistant.briefing import Brief, BriefBullet, BriefSection
from assistant.types import Citation, Passage
from tests.ui_fixtures.browser import chromium, french_page, screenshot
from tests.ui_fixtures.fakes import FakeAnswerer, FakeCorpus, fake_documents, fake_ingest, fake_neighbours
from tests.ui_fixtures.server import running
from ui.app import build_app
from ui.brief_tab import build_brief_tab
from vectorstore.settings import Settings

QUESTION = "Que proposent les acteurs pour un nouveau pacte ?"
GRADIO_ENGLISH_LABELS = ("Click to upload or drop files", "File upload", "Copy table data", "Dataframe", "Fullscreen",
                         "Table actions", "Open cell menu", "chatbot conversation", "More tabs")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path_factory.mktemp("index"))
    slow_ingest = functools.partial(fake_ingest, delay=1.5)  # long enough to see the progress
    demo = build_app(FakeAnswerer(token_delay=0.06), slow_ingest, fake_neighbours, fake_documents, settings)
    with running(demo) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser, app_url) -> Page:
    """A fresh page on the app; the page must not call anything but the app itself (local-first)."""
    page = french_page(browser, accept_downloads=True)
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(app_url) else elsewhere.append(r.url))
    page.goto(app_url)
    yield page
    page.context.close()
    assert elsewhere == [], f"the page called other hosts: {elsewhere}"


def ask(page: Page, question: str) -> None:
    page.locator("#ess-question textarea").fill(question)
    page.locator("#ess-send").click()


def test_answer_streams_then_citation_opens_its_passage(page: Page):
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    ask(page, QUESTION)
    expect(page.locator("#ess-chat")).to_contain_text("▌", timeout=10_000)  # still streaming
    card = page.locator("#ess-source-1")
    expect(card).to_be_visible(timeout=15_000)
    expect(page.locator("#ess-chat")).not_to_contain_text("▌")
    expect(page.locator("#ess-chat")).to_contain_text("[1]")
    expect(card).to_contain_text("Pacte ESS")
    expect(card).to_contain_text("CRESS Test, 2020, p. 1")
    passage = card.locator(".ess-passage")
    expect(passage).to_be_hidden()
    card.locator("summary").click()
    expect(passage).to_be_visible()
    expect(passage.locator("mark")).to_have_text(
        "Les acteurs de l'ESS proposent un nouveau pacte économique et social.")
    page.get_by_label("[1] Pacte ESS — p. 1").check()
    expect(page.locator("#ess-context .ess-ctx-near")).to_contain_text("La coopération territoriale")
    screenshot(page, "ui-fake-chat.png")
    # A second answer replaces the panel; clicking the first answer brings its sources back.
    ask(page, "Conclusion sur l'emploi local ?")
    expect(card).to_contain_text("p. 3", timeout=15_000)
    page.locator("#ess-chat [data-testid='bot']").first.click()
    expect(card).to_contain_text("p. 1")
    expect(card).to_contain_text("nouveau pacte économique et social")
    # A [n] marker links to its card: the panel switches to that answer and opens the card.
    page.locator("#ess-chat [data-testid='bot']").last.get_by_role("link", name="[1]").click()
    expect(card).to_contain_text("p. 3")
    expect(card.locator(".ess-passage")).to_be_visible()


def test_markup_from_documents_and_users_stays_text(page: Page):
    ask(page, "Le balisage du document reste-t-il inerte ? <img src=x onerror=window.__pwned=2>")
    sources = page.locator("#ess-sources")
    expect(sources).to_contain_text("<script>window.__pwned = 1</script>", timeout=15_000)
    expect(sources).to_contain_text("Document <b>piégé</b>")
    expect(page.locator("#ess-chat")).to_contain_text("<img src=x onerror=window.__pwned=2>")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#ess-sources script, #ess-chat img[src='x']").count() == 0


def test_corrupt_pdf_upload_is_reported_and_chat_still_works(page: Page, tmp_path):
    bad = tmp_path / "rapport-abime.pdf"
    bad.write_bytes(b"%PD not really a pdf")
    page.get_by_role("tab", name="Ajouter des documents").click()
    page.locator("#ess-upload input[type=file]").set_input_files(str(bad))
    expect(page.locator("#ess-upload a")).to_have_attribute("href", re.compile(r"rapport-abime\.pdf$"))
    page.locator("#ess-add").click()
    expect(page.get_by_text("Indexation : rapport-abime.pdf").first).to_be_visible(timeout=5_000)
    table = page.locator("#ess-add-table")
    expect(table).to_contain_text("non ajouté", timeout=15_000)
    expect(table).to_contain_text("endommagé")
    expect(page.locator("#ess-add-summary")).to_contain_text("0 document(s) ajouté(s)")
    screenshot(page, "ui-fake-upload.png")
    page.get_by_role("tab", name="Discussion").click()
    ask(page, QUESTION)
    expect(page.locator("#ess-source-1")).to_be_visible(timeout=15_000)


def test_export_then_new_conversation(page: Page):
    ask(page, QUESTION)
    expect(page.locator("#ess-source-1")).to_be_visible(timeout=15_000)
    page.locator("#ess-export").click()
    link = page.locator("#ess-export-file a").first
    expect(link).to_be_visible(timeout=10_000)
    with page.expect_download() as info:
        link.click()
    text = info.value.path().read_text(encoding="utf-8")
    assert QUESTION in text and "### Sources" in text and "Pacte ESS" in text
    page.locator("#ess-new").click()
    expect(page.locator("#ess-sources")).to_contain_text("s'afficheront ici")
    expect(page.locator("#ess-chat")).not_to_contain_text(re.compile("pacte", re.I))


def test_pop_ups_and_the_upload_refusal_are_french(page: Page, tmp_path):
    page.locator("#ess-send").click()  # nothing typed
    toast = page.get_by_test_id("toast-body").last
    expect(toast).to_contain_text("Saisissez une question", timeout=10_000)
    expect(toast.locator(".toast-title")).to_have_text("Attention")
    page.get_by_test_id("toast-close").last.click()
    doc = tmp_path / "fiche-ptce.docx"
    doc.write_bytes(b"PK\x03\x04 not for us")
    page.get_by_role("tab", name="Ajouter des documents").click()
    page.locator("#ess-upload input[type=file]").set_input_files(str(doc))
    toast = page.get_by_test_id("toast-body").filter(has_text="fiche-ptce.docx")
    expect(toast).to_contain_text(
        "Type de fichier non accepté : fiche-ptce.docx. Formats acceptés : .pdf, .txt, .md.", timeout=10_000)
    expect(toast.locator(".toast-title")).to_have_text("Erreur")
    expect(page.locator("body")).not_to_contain_text("Invalid file type")
    # Screen readers and tooltips read French labels, not the ones Gradio writes in English.
    expect(page.locator("#ess-upload [aria-label='Cliquez ou déposez des fichiers']").first).to_be_attached()
    page.get_by_role("tab", name="Corpus").click()
    expect(page.locator("[aria-label='Copier le tableau']").first).to_be_attached()
    english = ", ".join(f"[aria-label='{label}'], [title='{label}']" for label in GRADIO_ENGLISH_LABELS)
    expect(page.locator(english)).to_have_count(0)
    page.get_by_role("tab", name="Discussion").click()
    expect(page.get_by_text("Quels thèmes ont été abordés lors des Agoras")).to_be_visible()
    expect(page.get_by_text("Pages:")).to_have_count(0)  # the examples' pager is labelled in English


def test_a_long_pasted_question_is_shortened_and_the_chat_says_so(page: Page):
    ask(page, QUESTION + " " + "contexte " * 600)  # about 5 500 characters
    bot = page.locator("#ess-chat [data-testid='bot']").last
    expect(bot).to_contain_text("Votre question dépassait 2\u202f000 caractères : elle a été raccourcie",
                                timeout=15_000)
    expect(page.locator("#ess-source-1")).to_be_visible(timeout=15_000)


def _eleven_note_brief(topic: str, **_: object) -> Brief:
    def cite(n: int) -> Citation:
        p = Passage(text=f"Phrase {n}.", source=f"doc{n % 3}.md", title=f"Document {n % 3}", page=n, section=None,
                    score=1.0, chunk_id=f"c{n}", publisher="RTES", year=2013)
        return Citation(n, p, p.text)

    figure = BriefBullet("Les PTCE emploient 300 personnes dans l'agglomération.", [cite(1)], "300 personnes", "2013")
    points = [BriefBullet(f"Point numéro {n} de la note.", [cite(n)]) for n in range(2, 12)]
    sections = [BriefSection("chiffres", "Chiffres clés", [figure]), BriefSection("contexte", "Contexte", points)]
    return Brief(topic, f"Note de synthèse : {topic}", "Note d'essai.", sections)


def test_brief_notes_show_every_number_and_key_figures_are_a_table(browser):
    with gr.Blocks() as demo, gr.Tab("Note de synthèse"):
        build_brief_tab(make_brief=_eleven_note_brief, documents=lambda: [])
    with running(demo) as url:
        page = french_page(browser)
        page.goto(url)
        page.locator("#ess-brief-topic textarea").fill("les PTCE")
        page.locator("#ess-brief-generate").click()
        note = page.locator("#ess-brief-note")
        expect(note).to_contain_text("[11] Document 2, op. cit., p. 11.", timeout=30_000)
        text = note.inner_text()
        for n in range(1, 12):
            assert f"[{n}] " in text.split("Notes", 1)[1], n
        assert ".0." not in text and ".1." not in text
        expect(note.locator("table th")).to_have_text(["Chiffre", "Ce qu'il mesure", "Date", "Source"])
        expect(note.locator("table td").first).to_have_text("300 personnes")
        page.context.close()


def _pick(page: Page, label: str) -> None:
    page.locator("#ess-corpus-pick input").click()
    page.get_by_role("option", name=label).click()


def _upload(page: Page, path, title: str, publisher: str, year: str) -> None:
    page.get_by_role("tab", name="Ajouter des documents").click()
    page.locator("#ess-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#ess-upload a")).to_have_attribute("href", re.compile(re.escape(path.name) + "$"))
    page.locator("#ess-up-title textarea").fill(title)
    page.locator("#ess-up-publisher textarea").fill(publisher)
    page.locator("#ess-up-year textarea").fill(year)
    page.locator("#ess-add").click()
    expect(page.locator("#ess-up-title textarea")).to_have_value("", timeout=15_000)  # form emptied once done
    expect(page.locator("#ess-upload a")).to_have_count(0)
    expect(page.locator("#ess-add-summary")).to_contain_text("1 document(s) ajouté(s)")


def test_corpus_panel_lists_removes_with_confirmation_and_takes_uploads_with_metadata(browser, tmp_path):
    corpus = FakeCorpus()
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path / "index")
    demo = build_app(FakeAnswerer(), corpus.ingest, fake_neighbours, corpus.documents, settings, corpus.remove)
    note = tmp_path / "fiche-ptce.txt"
    note.write_text("Les PTCE regroupent des entreprises et des collectivités.", encoding="utf-8")
    with running(demo) as url:
        page = french_page(browser)
        page.goto(url)
        page.get_by_role("tab", name="Corpus").click()
        table = page.locator("#ess-corpus-table")
        for text in ("Pacte ESS", "CRESS Test", "2020", "05/01/2026 10:00", "pactes.txt"):
            expect(table).to_contain_text(text)
        _upload(page, note, "Fiche PTCE", "CRESS Occitanie", "2019")
        page.get_by_role("tab", name="Corpus").click()
        row = table.get_by_role("row", name=re.compile("Fiche PTCE"))
        for text in ("CRESS Occitanie", "2019", "fiche-ptce.txt"):
            expect(row).to_contain_text(text)
        # Removing asks first; « Annuler » leaves the corpus as it was.
        _pick(page, "Fiche PTCE — fiche-ptce.txt")
        page.locator("#ess-corpus-remove").click()
        expect(page.locator("#ess-corpus-question")).to_contain_text("Retirer « Fiche PTCE » (fiche-ptce.txt)")
        page.locator("#ess-corpus-no").click()
        expect(page.locator("#ess-corpus-summary")).to_contain_text("Rien n'a été modifié")
        expect(page.locator("#ess-corpus-yes")).to_be_hidden()
        expect(row).to_be_visible()
        page.locator("#ess-corpus-remove").click()
        page.locator("#ess-corpus-yes").click()
        expect(page.locator("#ess-corpus-summary")).to_contain_text("« Fiche PTCE » a été retiré du corpus")
        expect(table).not_to_contain_text("Fiche PTCE")
        expect(table).to_contain_text("Pacte ESS")
        # Screen readers hear « Terminé », not Gradio's untranslated key.
        expect(page.get_by_role("status").filter(has_text="Terminé").first).to_be_attached()
        expect(page.get_by_role("status").filter(has_text="common.")).to_have_count(0)
        assert "fiche-ptce.txt" not in corpus.docs
        # … and added again.
        _upload(page, note, "Fiche PTCE", "CRESS Occitanie", "2019")
        page.get_by_role("tab", name="Corpus").click()
        expect(table.get_by_role("row", name=re.compile("Fiche PTCE"))).to_contain_text("2019")
        screenshot(page, "ui-fake-corpus.png")
        page.context.close()
