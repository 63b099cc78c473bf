"""Debian's headless Chromium driven by Playwright (never a browser downloaded by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@contextmanager
def chromium() -> Iterator:
    """A Playwright Browser on /usr/bin/chromium; skips when the system package is missing."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium absent : installez le paquet Debian « chromium » (make test le fait).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def french_page(browser, **kwargs):
    """A page in a fresh French-speaking context (Gradio's own labels follow the browser language)."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 1000}, **kwargs)
    return context.new_page()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
