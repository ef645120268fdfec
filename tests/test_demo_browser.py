"""The demo app in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``)
driven by Selenium against the app on 127.0.0.1, as a visitor uses it. Screenshots of each tab go
to ``build/demo/``.

The app runs in this process over a store of its own (built from the corpus cache that Step 2
shares), so the test never touches a learner's store. A missing browser fails the test, naming the
packages: ``scripts/ensure_env.sh`` installs them.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from helpers import data, settings, vector_store
from helpers.demo import browser
from helpers.demo.app import build_app, launch
from helpers.demo.engine import open_engine

SHOTS = settings.BUILD_DIR / "demo"
ERROR_TOAST = "[data-testid=toast-text]"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    engine = open_engine(vector_store.open_store("lancedb", path=tmp_path_factory.mktemp("demo-store")))
    engine.warm_up()
    blocks = build_app(engine)
    url = launch(blocks)
    yield url
    blocks.close()
    engine.store.close()


@pytest.fixture(scope="module")
def page(app):
    chrome = browser.chromium(1280, 1500)  # tall enough for a screenshot with results
    browser.open_page(chrome, app, "#search-text")
    yield chrome
    chrome.quit()


def result_names(page, selector: str = "#search-results") -> list[str]:
    return [e.text for e in page.find_elements(By.CSS_SELECTOR, f"{selector} .demo-card .name")]


def clear_file(page, container: str = "#search-file") -> None:
    for button in page.find_elements(By.CSS_SELECTOR, f"{container} button[aria-label=Clear]"):
        button.click()


def search_words(page, words: str) -> list[str]:
    browser.type_and_click(page, "#search-text", "#search-button", words)
    browser.wait_for_text(page, "#search-results", f"results for {words}")
    return result_names(page)


def test_search_by_words(page):
    assert "banjo" in search_words(page, "banjo")[:3]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.save_screenshot(str(SHOTS / "search.png"))


def test_search_by_a_picture_and_a_spoken_word(page):
    horse = data.concept_index()["horse"]
    browser.upload(page, "#search-file", horse.image_path)
    browser.wait_for_text(page, "#search-results", f"image: {horse.image_path.name}")
    assert result_names(page)[0] == horse.name  # the picture itself is in the store
    clip = next(c for c in data.load_speech(voice_split="test") if c.concept_id == "bicycle")
    clear_file(page)
    browser.upload(page, "#search-file", clip.path)
    browser.wait_for_text(page, "#search-results", f"speech: {clip.path.name}")
    assert "bicycle" in result_names(page)[:3]
    assert page.find_elements(By.CSS_SELECTOR, "#search-results audio")  # spoken names play inline


def test_ask_cites_its_source(page):
    browser.open_tab(page, "Ask")
    browser.type_and_click(page, "#ask-question", "#ask-button", "How much does the pear cost?")
    answer = browser.wait_for_text(page, "#ask-answer", "euros")
    assert "[1]" in answer.text and "generate" in answer.text  # cited, and each stage's time
    sources = browser.wait_for_text(page, "#ask-sources", "cited")
    assert "pear" in sources.text and sources.find_elements(By.TAG_NAME, "img")
    page.save_screenshot(str(SHOTS / "ask.png"))


def test_compare_shows_three_methods(page):
    browser.open_tab(page, "Compare")
    browser.type_and_click(page, "#compare-text", "#compare-button", "Which emoji has the code point U+1F415?")
    browser.wait_for_text(page, "#compare-keyword", " ms")
    assert "dog" in result_names(page, "#compare-keyword")[:2]  # BM25 finds the code point's card
    assert all(result_names(page, f"#compare-{method}") for method in ("vector", "hybrid"))
    page.save_screenshot(str(SHOTS / "compare.png"))


def test_bad_inputs_show_a_message_and_the_app_serves_on(page, tmp_path):
    browser.open_tab(page, "Search")
    browser.type_and_click(page, "#search-text", "#search-button", "   ")
    browser.wait_for_text(page, "#search-status", "the query is empty")
    clear_file(page)
    browser.upload(page, "#search-file", data.DATA_DIR / "concepts.csv")
    browser.wait_for_text(page, "#search-status", "concepts.csv is neither a picture, a sound nor a video")
    clear_file(page)
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 50 * 2**20)
    browser.upload(page, "#search-file", big)
    browser.wait_for_text(page, ERROR_TOAST, "exceed the maximum allowed size")  # Gradio's own check, before upload
    page.save_screenshot(str(SHOTS / "bad-input.png"))
    assert "violin" in search_words(page, "violin")  # still serving


def test_nothing_is_fetched_from_the_network(page):
    assert browser.requested_hosts(page) <= {page.current_url.split("/")[2]}


def test_a_missing_browser_names_the_packages(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda program: None)
    with pytest.raises(browser.BrowserMissing, match="apt-get install chromium chromium-driver"):
        browser.chromium()
