"""The web chat over the real pipeline (real ingest, embedder, index and answers) on a one-document index."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import expect

from tests.ui_fixtures.browser import chromium, french_page, screenshot
from tests.ui_fixtures.server import running
from ui.app import build_app
from vectorstore.settings import BUNDLED_CORPUS

pytestmark = pytest.mark.integration

DOC = "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt"
QUESTION = "Quel rôle l'ESS peut-elle jouer dans un nouveau pacte économique et social ?"
UPLOADED_FACT = (
    "La coopérative Zéphyrine, installée à Albi, rassemble quarante-deux sociétaires autour de la "
    "réparation de vélos. Son règlement intérieur contient la balise <script>window.__pwned = 1</script> "
    "recopiée telle quelle depuis un site web."
)


@pytest.fixture(scope="module")
def real_url(tmp_path_factory):
    """A fresh index of one bundled document, served by the app with its default (real) back-ends."""
    from ingest.pipeline import ingest_paths

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESS_INDEX_DIR", str(tmp_path_factory.mktemp("index")))
        mp.delenv("ESS_CHROMA_URL", raising=False)  # always the embedded store, never a shared server
        mp.delenv("ESS_EMBEDDING_MODEL", raising=False)
        report = ingest_paths([BUNDLED_CORPUS / DOC])
        assert [o.status for o in report.outcomes] == ["ingested"]
        with running(build_app()) as url:
            yield url


def test_browser_asks_sees_cited_answer_and_opens_the_passage(real_url):
    with chromium() as browser:
        page = french_page(browser)
        page.goto(real_url)
        page.locator("#ess-question textarea").fill(QUESTION)
        page.locator("#ess-send").click()
        card = page.locator("#ess-source-1")
        expect(card).to_be_visible(timeout=60_000)
        expect(page.locator("#ess-chat")).to_contain_text("[1]")
        expect(card).to_contain_text("L'ESS, actrice d'un nouveau pacte économique et social")
        expect(card).to_contain_text("2020")
        card.locator("summary").click()
        expect(card.locator(".ess-passage mark")).to_be_visible()
        page.locator("#ess-pick label").first.click()
        expect(page.locator("#ess-context .ess-ctx-main mark")).to_be_visible(timeout=30_000)
        expect(page.locator("#ess-context .ess-ctx-near").first).to_be_visible()
        path = screenshot(page, "ui-chat.png")
        assert path.stat().st_size > 10_000


def test_twenty_concurrent_clients_get_twenty_answers(real_url):
    questions = [
        QUESTION,
        "Quelles propositions les acteurs de l'ESS font-ils après la crise sanitaire ?",
        "Quel rôle les Régions ont-elles joué pendant la crise ?",
        "Pourquoi l'ESS demande-t-elle à être associée aux décisions économiques et sociales ?",
    ]
    results: list = [None] * 20
    errors: list = []

    def one(i: int) -> None:
        try:
            results[i] = Client(real_url, verbose=False).predict(questions[i % 4], api_name="/ask")
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=170)
    assert errors == []
    assert all(isinstance(r, dict) and r["answer"] for r in results)
    assert all(r["citations"] or r["abstained"] for r in results)
    assert sum(bool(r["citations"]) for r in results) >= 15


def test_uploads_are_reported_per_file_and_searchable_at_once(real_url, tmp_path: Path):
    bad = tmp_path / "rapport-endommage.pdf"
    bad.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref")
    good = tmp_path / "zephyrine.txt"
    good.write_text(UPLOADED_FACT, encoding="utf-8")
    client = Client(real_url, verbose=False)
    summary, table, *_ = client.predict([handle_file(str(bad)), handle_file(str(good))],
                                        api_name="/ajouter_documents")
    rows = {r[0]: r for r in table["data"]}
    assert rows["rapport-endommage.pdf"][1] == "non ajouté" and rows["rapport-endommage.pdf"][3]
    assert rows["zephyrine.txt"][1] == "ajouté" and rows["zephyrine.txt"][2] >= 1
    assert summary.startswith("**1 document(s) ajouté(s)** sur 2")
    question = "Combien de sociétaires compte la coopérative Zéphyrine ?"
    result = client.predict(question, api_name="/ask")
    assert any(c["source"] == "zephyrine.txt" for c in result["citations"]), result
    # Ingestion may strip the markup or keep it; either way the browser must only show text.
    with chromium() as browser:
        page = french_page(browser)
        page.goto(real_url)
        page.locator("#ess-question textarea").fill(question)
        page.locator("#ess-send").click()
        sources = page.locator("#ess-sources")
        expect(sources).to_contain_text("zephyrine.txt", timeout=60_000)
        sources.locator("summary").first.click()
        expect(sources.locator(".ess-passage").first).to_contain_text("recopiée telle quelle")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#ess-sources script").count() == 0
