"""What the browser checks share: verdicts, page text, the frontend's websocket.

Imported by scripts/browser_check.py and its step modules (browser_setup.py,
browser_devices.py); runs in the browser venv (Playwright), never in Home
Assistant's.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any, Final

from playwright.sync_api import Locator, Page

ROOT: Final = Path(__file__).resolve().parents[1]
# Screenshots of every step (gitignored); README's pictures are copied from here.
SHOTS: Final = ROOT / ".develop" / "browser"
TIMEOUT: Final = 60.0
# Every text node under an element, shadow roots included, in document order.
DEEP_TEXT: Final = """(element) => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) parts.push(text);
      return;
    }
    if (node.nodeName === "STYLE" || node.nodeName === "SCRIPT") return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(element);
  return parts;
}"""
# Every element with text of its own that shows less than its text needs
# (scrollWidth above clientWidth: an ellipsis, or text clipped), shadow roots
# included; elements not laid out (clientWidth 0) are not shown, so not cut.
CUT_TEXT: Final = """(element) => {
  const cut = [];
  const walk = (node) => {
    if (node.nodeName === "STYLE" || node.nodeName === "SCRIPT") return;
    // SVG text (a gauge's value) scales with its drawing; it is never cut.
    if (node.namespaceURI === "http://www.w3.org/2000/svg") return;
    if (node.nodeType === Node.ELEMENT_NODE) {
      const own = Array.from(node.childNodes)
        .filter((child) => child.nodeType === Node.TEXT_NODE)
        .map((child) => child.textContent.trim())
        .join(" ")
        .trim();
      if (own && node.clientWidth > 0 && node.scrollWidth > node.clientWidth) {
        cut.push({text: own, needs: node.scrollWidth, has: node.clientWidth});
      }
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(element);
  return cut;
}"""
# A translation key shown instead of its text: Home Assistant's own
# ("ui.panel.config...", "component.one_nce.entity..."), or one of ours left
# bare ("already_in_progress", "sms_volume_low"): a whole text of lower-case
# words joined by underscores.
RAW_KEY: Final = re.compile(
    r"\b(?:ui|component|state|state_attributes)\.[a-z0-9_]+\.[a-z0-9_.]+"
    r"|^[a-z0-9]+(?:_[a-z0-9]+)+$"
)


def log(message: str) -> None:
    """Print one progress line of the browser check."""
    print(f"browser: {message}", flush=True)


class Failures:
    """Verdicts printed as they come; the run fails if any was not ok."""

    def __init__(self) -> None:
        """No verdict yet."""
        self.passed = 0
        self.failed: list[str] = []

    def verdict(self, ok: bool, what: str) -> bool:
        """Print one verdict, remember a failure, and pass `ok` on."""
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        return ok


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send a websocket command through the logged-in frontend's connection."""
    return page.evaluate(
        "(message) => document.querySelector('home-assistant').hass.callWS(message)",
        message,
    )


def deep_text(locator: Locator) -> list[str]:
    """Read the texts an element shows, shadow DOM included."""
    texts: list[str] = locator.evaluate(DEEP_TEXT)
    return texts


def raw_keys(texts: list[str]) -> list[str]:
    """Pick the texts that are translation keys rather than words."""
    return [text for text in texts if RAW_KEY.search(text)]


def cut_texts(locator: Locator) -> list[str]:
    """Describe each text under an element that is cut ("text: needs/has px")."""
    return [
        f"{item['text']!r} needs {item['needs']} px, has {item['has']}"
        for item in locator.evaluate(CUT_TEXT)
    ]


def shot(page: Page, name: str) -> Path:
    """Save a screenshot of the window as .develop/browser/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def wait_until(page: Page, condition: Any, timeout: float = TIMEOUT) -> Any:
    """Poll `condition()` every half second until it is truthy; return its value."""
    deadline = page.evaluate("Date.now()") + timeout * 1000
    while not (value := condition()) and page.evaluate("Date.now()") < deadline:
        page.wait_for_timeout(500)
    return value
