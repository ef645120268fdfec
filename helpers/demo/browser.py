"""Debian's Chromium, headless, driven by Selenium: the demo's tests and benchmark use the app as a
visitor does (type, click, upload, read the page).

``scripts/ensure_env.sh`` installs ``chromium`` and ``chromium-driver`` where it runs as root; without
them :func:`chromium` fails with :class:`BrowserMissing`, which says what to install.
"""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

APT_PACKAGES = ("chromium", "chromium-driver")
PROGRAMS = {"chromium": "chromium", "chromium-driver": "chromedriver"}  # package -> program it installs


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed."""


def programs() -> tuple[str, str]:
    """The paths of ``chromium`` and ``chromedriver``, or :class:`BrowserMissing` naming the packages."""
    found = {package: shutil.which(program) for package, program in PROGRAMS.items()}
    missing = [package for package, path in found.items() if path is None]
    if missing:
        raise BrowserMissing(
            f"the demo's browser tests need {' and '.join(PROGRAMS[p] for p in missing)}: "
            f"sudo apt-get install {' '.join(APT_PACKAGES)} (Debian/Ubuntu; scripts/ensure_env.sh does this "
            "when run as root); macOS: brew install --cask chromium chromedriver"
        )
    return found["chromium"], found["chromium-driver"]


def chromium(width: int = 1280, height: int = 1000) -> WebDriver:
    """A headless Chromium of the given window size (close it with ``.quit()``)."""
    binary, driver = programs()
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.binary_location = binary
    return webdriver.Chrome(options=options, service=Service(driver))


def open_page(browser: WebDriver, url: str, ready: str, timeout: float = 60.0) -> float:
    """Load ``url`` as soon as its server answers, until the element ``ready`` (a CSS selector) is on
    the page; returns when that happened (``time.perf_counter()``)."""
    deadline = time.perf_counter() + timeout
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never through a proxy
    while True:
        try:
            direct.open(url, timeout=1).close()
            break
        except OSError:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.05)
    browser.get(url)
    wait = WebDriverWait(browser, max(1.0, deadline - time.perf_counter()), poll_frequency=0.05)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ready), f"{url} showed no {ready}")
    return time.perf_counter()


def wait_for_text(browser: WebDriver, selector: str, text: str, timeout: float = 30.0) -> WebElement:
    """The first element matching ``selector`` whose text contains ``text``, once there is one."""

    def found(b: WebDriver) -> WebElement | bool:
        return next((e for e in b.find_elements(By.CSS_SELECTOR, selector) if text in e.text), False)

    return WebDriverWait(browser, timeout, poll_frequency=0.01).until(
        found, f"no {selector} showed {text!r} within {timeout:.0f} s"
    )


def upload(browser: WebDriver, container: str, path: Path) -> None:
    """Give ``path`` to the file input inside the element ``container`` (a CSS selector)."""
    browser.find_element(By.CSS_SELECTOR, f"{container} input[type=file]").send_keys(str(Path(path).resolve()))


def type_into(browser: WebDriver, field: str, text: str) -> None:
    """Replace the text in the box inside ``field`` (a CSS selector)."""
    box = browser.find_element(By.CSS_SELECTOR, f"{field} textarea, {field} input")
    box.clear()
    box.send_keys(text)


def click(browser: WebDriver, selector: str) -> None:
    """Click the element ``selector`` (a CSS selector)."""
    browser.find_element(By.CSS_SELECTOR, selector).click()


def type_and_click(browser: WebDriver, field: str, button: str, text: str) -> None:
    """:func:`type_into` ``field``, then :func:`click` ``button``."""
    type_into(browser, field, text)
    click(browser, button)


ROUND_TRIP = """
const [selector, text, button, done] = arguments;
const target = document.querySelector(selector);
const start = performance.now();
const shown = () => target.innerText.includes(text);
const observer = new MutationObserver(() => {
  if (shown()) { observer.disconnect(); done(performance.now() - start); }
});
observer.observe(target, {childList: true, subtree: true, characterData: true});
document.querySelector(button).click();
"""


def round_trip_ms(browser: WebDriver, button: str, selector: str, text: str, timeout: float = 30.0) -> float:
    """Milliseconds from clicking ``button`` until the element ``selector`` shows ``text``, timed in the
    page (``performance.now``, a DOM observer), so the driver's own polling is not counted."""
    browser.set_script_timeout(timeout)
    return float(browser.execute_async_script(ROUND_TRIP, selector, text, button))


def open_tab(browser: WebDriver, name: str) -> None:
    """Click the tab button labelled ``name``."""
    tab = next(b for b in browser.find_elements(By.CSS_SELECTOR, "button[role=tab]") if b.text.strip() == name)
    tab.click()


def requested_hosts(browser: WebDriver) -> set[str]:
    """Every host the page has fetched anything from (its resources, by the browser's own record)."""
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {url.split("/")[2] for url in [browser.current_url, *urls] if "://" in url}
