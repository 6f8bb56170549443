"""Walk a new user's way through 1NCE in a real headless Chromium, 1400 px wide.

Run by `scripts/browser_test` with the browser venv's Python (Playwright, see
requirements_browser.txt) and Debian's Chromium. It starts the develop stack
(`develop_run.py --serve-for-test`: sandbox + Home Assistant on a throw-away
config, ports 18123/18765, no 1NCE entry yet; the sandbox plays a Platform
2.0 account unless `--platform 1` or `hybrid`) with the test venv's Python,
logs in through Home Assistant's login page as the develop user, and then, in
Home Assistant's own frontend:

1. adds 1NCE (Add integration, Client-ID and secret typed, nothing else; a
   wrong secret first, and a second dialog meanwhile), points the sandbox's
   forwarder at the new entry (browser_setup.py);
2. sends an SMS from Developer tools -> Actions in UI mode and waits for its
   delivery report (browser_pages.py);
3. Reconfigure (secret only) and Options from the entry's page;
4. the device pages of a SIM and of the account: no name cut, no raw
   translation key; deleting a listed SIM's device says why not;
5. the dashboard at /one-nce: its numbers against the sandbox's 1NCE API, the
   disabled SIM's grey gauge, no text cut, the usage graphs, the test-SMS
   button;
6. Home Assistant and the user switched to German: the device pages again.

Every step leaves a screenshot in .develop/browser/; `--docs` copies README's
(setup dialog, a device page, the dashboard) to docs/. Exit 0 if everything
matched, 1 if not; the last line is "browser: N passed, N failed".

    scripts/browser_test                       # the whole thing
    scripts/browser_test --docs                # and refresh README's pictures
    python scripts/browser_check.py --attach   # against a stack already up
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http import HTTPStatus
import json
import os
from pathlib import Path
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from types import FrameType
from typing import Any, Final
import urllib.error
import urllib.request

from browser_common import (
    SHOTS,
    TIMEOUT,
    Failures,
    call_ws,
    cut_texts,
    deep_text,
    log,
    shot,
)
from browser_pages import (
    check_delete_refused,
    check_device_pages,
    check_send_sms_action,
    switch_to_german,
)
from browser_setup import check_options, check_reconfigure, check_setup
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, ViewportSize, sync_playwright

ROOT: Final = Path(__file__).resolve().parents[1]
USERNAME: Final = "dev"
PASSWORD: Final = "dev-password-1nce"
CLIENT_ID: Final = "sandbox-client"
CLIENT_SECRET: Final = "sandbox-secret"
READY: Final = "ready for tests"
# The pictures README shows, copied from .develop/browser/ with --docs.
README_SHOTS: Final = ("dashboard", "setup-form", "device-sim-en")
DASHBOARD_URL: Final = "one-nce"
DASHBOARD_PATH: Final = f"/{DASHBOARD_URL}"
# The first run installs Home Assistant's frontend (about 90 MB) before starting.
START_TIMEOUT: Final = 420.0
# Without the background-networking flags Chromium's own connections are
# refused by a closed network and slow everything down.
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Tile name on the dashboard -> the 1NCE SMS quota level it counts (None: all).
FLEET_TILES: Final[dict[str, int | None]] = {
    "SIMs with sufficient SMS volume": 0,
    "SIMs with low SMS volume": 1,
    "SIMs without SMS volume": 2,
    "SIMs": None,
}
VOLUME_TILE: Final = "SMS volume left"
# How the gauge of a disabled SIM is named (and it is grey).
DISABLED: Final = " (disabled)"
# A common laptop width: the dashboard's three columns beside the sidebar, and
# the device page's three, where names must fit.
VIEWPORT: Final[ViewportSize] = {"width": 1400, "height": 900}


# --- the develop stack -------------------------------------------------------


class Stack:
    """`develop_run.py --serve-for-test` as a child process."""

    def __init__(
        self, python: str, ha_port: int, sandbox_port: int, platform: str
    ) -> None:
        """Remember how to start it."""
        self.command = [
            python,
            str(ROOT / "scripts" / "develop_run.py"),
            "--serve-for-test",
            "--ha-port",
            str(ha_port),
            "--sandbox-port",
            str(sandbox_port),
            "--platform",
            platform,
        ]
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    def start(self, timeout: float) -> None:
        """Start it and wait for its ready line; raise if it never comes."""
        log("starting: " + " ".join(self.command[1:]))
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError("the develop stack exited before it was ready")
            if READY in line:
                return
        raise RuntimeError(f"the develop stack was not ready within {timeout:.0f} s")

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            print(f"  | {line.rstrip()}", flush=True)
            self.lines.put(line)
        self.lines.put(None)

    def stop(self) -> None:
        """SIGTERM: develop_run.py stops Home Assistant and the sandbox, then exits."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        log("stopping the develop stack")
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=150)
        except subprocess.TimeoutExpired:
            log("the develop stack did not stop; killing it")
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- what the sandbox's 1NCE says ---------------------------------------------


def _api_get(url: str, token: str) -> Any:
    """GET from the sandbox's 1NCE API, waiting out a 429 (Home Assistant polls too)."""
    for _ in range(5):
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            if err.code != HTTPStatus.TOO_MANY_REQUESTS:
                raise
            time.sleep(1.0)
    raise RuntimeError(f"{url}: still rate limited")


def sandbox_sims(sandbox: str) -> list[dict[str, Any]]:
    """List the SIMs through the 1NCE API, with the SMS left from each SIM's quota.

    The list's `current_quota_SMS` is the quota set for a SIM; what is left
    is only in `GET .../quota/sms`, kept here as `sms_left`.
    """
    api = f"{sandbox}/management-api"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(
        f"{api}/oauth/token",
        data=json.dumps({"grant_type": "client_credentials"}).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        token = json.load(response)["access_token"]
    sims: list[dict[str, Any]] = _api_get(f"{api}/v2/sims?page=1&pageSize=100", token)
    for sim in sims:
        quota = _api_get(f"{api}/v2/sims/{sim['iccid']}/quota/sms", token)
        sim["sms_left"] = max(0, int(float(quota["volume"])))
    return sims


def expected_tiles(sims: list[dict[str, Any]]) -> dict[str, str]:
    """Tell what the fleet tiles must show: counts by SMS quota level, the sum."""
    tiles = {
        name: str(
            sum(
                1
                for sim in sims
                if level is None or sim["quota_status_SMS"]["id"] == level
            )
        )
        for name, level in FLEET_TILES.items()
    }
    total = sum(sim["sms_left"] for sim in sims)
    tiles[VOLUME_TILE] = f"{total} SMS"
    return tiles


def gauge_sim(name: str, sims: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Find the SIM a gauge shows: by label, or the ICCID's end if unlabelled."""
    name = name.removesuffix(DISABLED)
    for sim in sims:
        if sim.get("label") == name:
            return sim
    for sim in sims:
        if not sim.get("label") and sim["iccid"][-4:] in name:
            return sim
    return None


# --- the browser ---------------------------------------------------------------


def log_in(page: Page, base: str, path: str) -> None:
    """Open a page; Home Assistant sends the browser to its login page first."""
    page.goto(f"{base}{path}")
    page.locator("input[name=username]").fill(USERNAME)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function(
        "document.querySelector('home-assistant')?.hass?.connected === true"
    )
    log(f"logged in as {USERNAME!r}; on {page.url}")


def card_texts(page: Page, tag: str) -> list[list[str]]:
    """Read the visible text of each card of one type, shadow DOM included."""
    texts: list[list[str]] = [deep_text(card) for card in page.locator(tag).all()]
    return texts


def read_dashboard(page: Page) -> tuple[dict[str, str], dict[str, str]]:
    """Tile name -> state text, gauge name -> number, as the cards show them."""
    tiles = {
        text[0]: " ".join(text[1:])
        for text in card_texts(page, "hui-tile-card")
        if text
    }
    gauges: dict[str, str] = {}
    for text in card_texts(page, "hui-gauge-card"):
        # ['231', 'SMS', 'Garden gate']: value, unit, then the card's name.
        if text:
            gauges[text[-1]] = text[0]
    return tiles, gauges


def gauge_colours(page: Page) -> dict[str, str]:
    """Gauge name -> the colour its value is drawn in (a CSS value)."""
    colours: dict[str, str] = {}
    for card in page.locator("hui-gauge-card").all():
        name = deep_text(card)[-1]
        style = card.locator("ha-gauge").first.get_attribute("style") or ""
        colours[name] = style.removeprefix("--gauge-color:").rstrip(";")
    return colours


def check_gauge_colours(
    page: Page, sims: list[dict[str, Any]], failures: Failures
) -> None:
    """Check that a disabled SIM's gauge is grey and says so, and no other is."""
    for name, colour in gauge_colours(page).items():
        sim = gauge_sim(name, sims)
        if sim is None:
            continue
        disabled = sim["status"] != "Enabled"
        grey = "disabled" in colour
        failures.verdict(
            grey == disabled and name.endswith(DISABLED) == disabled,
            f"gauge {name!r} ({sim['status']}) is drawn in {colour}",
        )


def compare(
    tiles: dict[str, str],
    gauges: dict[str, str],
    sims: list[dict[str, Any]],
    failures: Failures | None,
) -> bool:
    """Whether the dashboard shows the sandbox's numbers; print why when asked."""
    ok = True

    def verdict(good: bool, what: str) -> None:
        nonlocal ok
        ok = ok and good
        if failures is not None:
            failures.verdict(good, what)

    for name, want in expected_tiles(sims).items():
        shown = tiles.get(name)
        verdict(shown == want, f"tile {name!r}: shows {shown!r}, sandbox {want!r}")
    shown_iccids = set()
    for name, shown in gauges.items():
        sim = gauge_sim(name, sims)
        if sim is None:
            verdict(False, f"gauge {name!r}: no sandbox SIM has that label")
            continue
        shown_iccids.add(sim["iccid"])
        want = str(sim["sms_left"])
        verdict(
            shown == want,
            f"gauge {name!r} ({sim['iccid']}): shows {shown!r}, sandbox {want!r}",
        )
    first_six = {sim["iccid"] for sim in sims[:6]}
    verdict(
        first_six <= shown_iccids,
        f"a gauge for each of the sandbox's first six SIMs ({len(gauges)} gauges)",
    )
    return ok


def dashboard_cards(page: Page) -> list[dict[str, Any]]:
    """Return every card of the dashboard as Home Assistant serves its config."""
    config = call_ws(page, {"type": "lovelace/config", "url_path": DASHBOARD_URL})
    cards: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "type" in node and "cards" not in node and "sections" not in node:
                cards.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return cards


def graph_statistics(page: Page) -> dict[str, str]:
    """Map each statistic id in a statistics graph to its legend name."""
    found: dict[str, str] = {}
    for card in dashboard_cards(page):
        if card["type"] == "statistics-graph":
            for item in card.get("entities", []):
                if isinstance(item, str):
                    found[item] = item
                else:
                    found[item["entity"]] = item.get("name") or item["entity"]
    return found


def check_graphs(page: Page, failures: Failures) -> None:
    """Wait for the usage import to reach the recorder, then read the graphs.

    The integration imports six months of usage just after startup, so a page
    opened at once may draw its graphs before all statistics exist: wait for
    them, then reload the page as a person would.
    """
    wanted = graph_statistics(page)
    deadline = time.monotonic() + TIMEOUT
    while True:
        listed = call_ws(page, {"type": "recorder/list_statistic_ids"})
        missing = set(wanted) - {item["statistic_id"] for item in listed}
        if not missing or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    failures.verdict(
        not missing,
        f"the {len(wanted)} statistics the graphs show are recorded"
        + (f" (missing: {', '.join(sorted(missing))})" if missing else ""),
    )
    page.reload()
    page.locator("hui-gauge-card").first.wait_for()
    graphs = page.locator("hui-statistics-graph-card")
    failures.verdict(graphs.count() >= 1, f"{graphs.count()} statistics graph(s)")
    legends: set[str] = set()
    for index in range(graphs.count()):
        graph = graphs.nth(index)
        try:
            graph.locator("ha-chart-base canvas").first.wait_for()
        except PlaywrightError as err:
            failures.verdict(False, f"statistics graph {index + 1}: {err.message}")
            continue
        texts = deep_text(graph)
        legends.update(texts)
        failures.verdict(
            not any("No statistics" in text for text in texts),
            f"statistics graph {texts[0]!r} draws {len(texts) - 1} series",
        )
    unnamed = sorted(name for name in wanted.values() if name not in legends)
    failures.verdict(
        not unnamed,
        "every statistic is in a graph's legend"
        + (f" (not: {', '.join(unnamed)})" if unnamed else ""),
    )


def sandbox_sms(sandbox: str) -> list[dict[str, Any]]:
    """Every SMS the sandbox's gateway holds, newest first (control API)."""
    with urllib.request.urlopen(f"{sandbox}/_sandbox/sms", timeout=TIMEOUT) as response:
        sms: list[dict[str, Any]] = json.load(response)
    return sms


def send_sms_buttons(page: Page) -> list[dict[str, Any]]:
    """Find the dashboard's buttons that perform one_nce.send_sms."""
    return [
        card
        for card in dashboard_cards(page)
        if card["type"] == "button"
        and isinstance(action := card.get("tap_action"), dict)
        and action.get("perform_action") == "one_nce.send_sms"
    ]


def check_send_button(page: Page, sandbox: str, failures: Failures) -> None:
    """Press the test-SMS button, confirm, and see the SMS reach the sandbox."""
    buttons = send_sms_buttons(page)
    failures.verdict(
        bool(buttons), f"{len(buttons)} button(s) performing one_nce.send_sms"
    )
    if not buttons:
        return
    config = buttons[0]
    data = config["tap_action"].get("data", {})
    before = {sms["id"] for sms in sandbox_sms(sandbox)}
    page.locator("hui-button-card").filter(has_text=config["name"]).first.click()
    if config["tap_action"].get("confirmation"):
        page.locator("dialog-box").get_by_role("button", name="OK").click()
    deadline = time.monotonic() + TIMEOUT
    new: list[dict[str, Any]] = []
    while not new and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        new = [sms for sms in sandbox_sms(sandbox) if sms["id"] not in before]
    failures.verdict(
        any(sms["iccid"] == data.get("iccid") for sms in new),
        f"button {config['name']!r} sent an SMS to {data.get('iccid')}: "
        + (", ".join(f"{sms['iccid']} {sms['payload']!r}" for sms in new) or "none"),
    )


def check_dashboard(
    page: Page, base: str, sandbox: str, screenshot: Path, failures: Failures
) -> None:
    """Open the dashboard, compare its numbers with the sandbox's, take its picture."""
    started = time.monotonic()
    page.goto(f"{base}{DASHBOARD_PATH}")
    page.locator("hui-gauge-card").first.wait_for()
    page.locator("hui-tile-card").first.wait_for()
    sims = sandbox_sims(sandbox)
    log(f"the sandbox's 1NCE API lists {len(sims)} SIMs")
    # Entities may still be on their first update: wait until the numbers agree
    # (or the time is up, then say what differs).
    deadline = time.monotonic() + TIMEOUT
    while True:
        tiles, gauges = read_dashboard(page)
        if compare(tiles, gauges, sims, None) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    compare(tiles, gauges, sims, failures)
    check_gauge_colours(page, sims, failures)
    cut = cut_texts(page.locator("hui-root"))
    failures.verdict(
        not cut,
        f"the dashboard cuts no text at {VIEWPORT['width']} px"
        + (f" (cut: {'; '.join(cut)})" if cut else ""),
    )
    check_graphs(page, failures)
    # The whole dashboard in one picture: grow the window to the page's height
    # (a full-page shot would leave the sidebar at the window's height).
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, 600)})
    page.wait_for_timeout(2000)  # let the charts redraw and their animation end
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    page.set_viewport_size(VIEWPORT)
    log(
        f"screenshot saved: {screenshot.relative_to(ROOT, walk_up=True)} "
        f"({time.monotonic() - started:.1f} s on the dashboard)"
    )
    # Last, as it spends an SMS of the sandbox's volume: the numbers are read.
    check_send_button(page, sandbox, failures)


def check_all(
    page: Page,
    base: str,
    sandbox: str,
    docs: Path | None,
    failures: Failures,
) -> None:
    """Walk through what a new user does, in order: each step needs the one before."""
    log_in(page, base, "/config/integrations/dashboard")
    entry = check_setup(page, base, sandbox, failures)
    if entry is None:
        log("no 1NCE entry was set up, so nothing after the setup can be checked")
        return
    check_send_sms_action(page, base, failures)
    check_reconfigure(page, base, entry, failures)
    check_options(page, base, failures)
    english = {"sim": "Garden gate", "account": "1NCE account"}
    check_device_pages(page, base, "en", english, failures)
    check_delete_refused(page, base, failures)
    check_dashboard(page, base, sandbox, SHOTS / "dashboard.png", failures)
    switch_to_german(page, entry.entry_id)
    german = {"sim": "Garden gate", "account": "1NCE-Konto"}
    check_device_pages(page, base, "de", german, failures)
    if docs is not None:
        for name in README_SHOTS:
            shutil.copyfile(SHOTS / f"{name}.png", docs / f"{name}.png")
        log(f"README screenshots copied to {docs.relative_to(ROOT, walk_up=True)}/")


def run_browser(
    chromium: str, base: str, sandbox: str, docs: Path | None, failures: Failures
) -> None:
    """Drive a fresh headless Chromium profile through the check."""
    with (
        tempfile.TemporaryDirectory(prefix="one_nce_chromium_") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            locale="en-US",
            timezone_id="UTC",
        )
        try:
            context.set_default_timeout(TIMEOUT * 1000)
            page = context.new_page()
            try:
                check_all(page, base, sandbox, docs, failures)
            except (PlaywrightError, OSError, RuntimeError) as err:
                failures.verdict(False, getattr(err, "message", None) or str(err))
                with suppress(PlaywrightError):
                    log(f"the page at the failure: {shot(page, 'failed')}")
        finally:
            context.close()


@contextmanager
def terminate_gracefully() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so the stack is stopped on the way out."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    """Parse arguments, start the stack, check, stop."""
    parser = argparse.ArgumentParser(prog="scripts/browser_check.py")
    parser.add_argument(
        "--ha-python",
        default=sys.executable,
        help="Python of the test venv (with Home Assistant) to run the stack",
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--ha-port", type=int, default=18123)
    parser.add_argument("--sandbox-port", type=int, default=18765)
    parser.add_argument(
        "--platform",
        choices=("2", "1", "hybrid"),
        default="2",
        help="the sandbox's 1NCE platform (default 2: Platform 2.0)",
    )
    parser.add_argument(
        "--attach", action="store_true", help="use a stack already running"
    )
    parser.add_argument(
        "--docs",
        action="store_true",
        help="also refresh README's screenshots in docs/ (always in .develop/browser/)",
    )
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.ha_port}"
    sandbox = f"http://127.0.0.1:{args.sandbox_port}"
    started = time.monotonic()
    stack = Stack(args.ha_python, args.ha_port, args.sandbox_port, args.platform)
    failures = Failures()
    with terminate_gracefully():
        try:
            if not args.attach:
                stack.start(START_TIMEOUT)
                log(f"develop stack ready after {time.monotonic() - started:.1f} s")
            run_browser(
                args.chromium,
                base,
                sandbox,
                ROOT / "docs" if args.docs else None,
                failures,
            )
        except (RuntimeError, PlaywrightError) as err:
            failures.verdict(False, getattr(err, "message", None) or str(err))
        finally:
            stack.stop()
    for failure in failures.failed:
        log(f"FAILED: {failure}")
    log(
        f"browser check {'FAILED' if failures.failed else 'passed'} "
        f"in {time.monotonic() - started:.1f} s"
    )
    # The plain closing line CI reads: "N passed, N failed".
    print(f"browser: {failures.passed} passed, {len(failures.failed)} failed")
    return 1 if failures.failed else 0


if __name__ == "__main__":
    sys.exit(main())
