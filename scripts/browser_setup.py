"""The dialogs a person goes through: add 1NCE, reconfigure it, set its options.

Steps of scripts/browser_check.py, each driving Home Assistant's own frontend
in Chromium against the sandbox: nothing is posted to Home Assistant's API
behind the dialogs' back. Each step records its verdicts, saves a screenshot
in .develop/browser/, and returns what later steps need.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
import json
import re
from typing import Final
import urllib.request

from browser_common import (
    TIMEOUT,
    Failures,
    call_ws,
    deep_text,
    log,
    raw_keys,
    shot,
    wait_until,
)
from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError

DOMAIN: Final = "one_nce"
CLIENT_ID: Final = "sandbox-client"
CLIENT_SECRET: Final = "sandbox-secret"
WRONG_SECRET: Final = "not-the-sandbox-secret"
FORWARDER: Final = re.compile(r"https?://\S+/api/one_nce/forwarder/([A-Za-z0-9_-]+)")
# What Home Assistant and we show once a step is through, or refused.
SET_UP: Final = "Your 1NCE account is set up"
INVALID_AUTH: Final = "Invalid authentication"
IN_PROGRESS: Final = "This is already being configured"
RECONFIGURED: Final = "Reconfiguration was successful"
OPTIONS_SAVED: Final = "Options successfully saved"
# The dialog's own words for a form it will not send.
NOT_FILLED: Final = "Not all required fields are filled in"


@dataclass(frozen=True, slots=True)
class Entry:
    """The 1NCE entry the setup dialog created."""

    entry_id: str
    forwarder_url: str


def _flow_dialog(page: Page) -> Locator:
    return page.locator("dialog-data-entry-flow")


def _submit(dialog: Locator, *expected: str) -> list[str]:
    """Submit, then read the dialog once Home Assistant has answered.

    While Home Assistant works on it, the dialog shows a spinner instead of the
    Submit button; the answer is in once the button is back (the form again,
    with an error) or one of `expected` shows. A form the frontend refuses to
    send never loses its button: its own error is the answer then.
    """
    submit = dialog.get_by_role("button", name="Submit")
    submit.click()
    texts: list[str] = []

    def shows(*words: str) -> bool:
        nonlocal texts
        texts = deep_text(dialog)
        return any(word in " ".join(texts) for word in words)

    page = dialog.page
    wait_until(page, lambda: shows(*expected) or not submit.count(), timeout=5)
    wait_until(page, lambda: shows(*expected, NOT_FILLED) or submit.count() > 0)
    return texts


def _open_add_integration(page: Page, base: str) -> Locator:
    """Open Devices & services, Add integration, search "1NCE" and pick it."""
    page.goto(f"{base}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    picker = page.locator("dialog-add-integration")
    # search-input up to 2025, ha-input-search from 2026.
    picker.locator("search-input input, ha-input-search input").first.fill("1NCE")
    picker.locator("ha-integration-list-item").filter(has_text="1NCE").first.click()
    dialog = _flow_dialog(page)
    dialog.get_by_label("Client-ID").wait_for()
    return dialog


def _field_value(dialog: Locator, label: str) -> str:
    value: str = dialog.get_by_label(label).input_value()
    return value


def check_setup(
    page: Page, base: str, sandbox: str, failures: Failures
) -> Entry | None:
    """Add 1NCE typing only Client-ID and secret; a second dialog meanwhile aborts.

    First a wrong secret: the dialog must say so and keep what was entered;
    then, while that dialog is open, a second one (another tab) for the same
    Client-ID must abort with a sentence; then the right secret must create
    the entry, whose closing message names the forwarder address.
    """
    dialog = _open_add_integration(page, base)
    dialog.get_by_label("Client-ID").fill(CLIENT_ID)
    dialog.get_by_label("Client secret").fill(WRONG_SECRET)
    page.wait_for_timeout(300)  # the field's label moves up as it fills
    shot(page, "setup-form")
    texts = _submit(dialog, INVALID_AUTH, SET_UP)
    shown = " ".join(texts)
    if not failures.verdict(
        INVALID_AUTH in shown,
        "setup with Client-ID and a wrong secret typed, nothing else: "
        f"the dialog says {_error_of(texts)!r}",
    ):
        shot(page, "setup-refused")
        return None
    failures.verdict(
        _field_value(dialog, "Client-ID") == CLIENT_ID,
        "after the error the Client-ID is still filled in",
    )
    url_after_error = _field_value(dialog, "API URL")
    failures.verdict(
        url_after_error == f"{sandbox}/management-api",
        f"after the error the folded API URL still holds {url_after_error!r}",
    )

    _check_second_dialog_aborts(page.context, base, failures)

    dialog.get_by_label("Client secret").fill(CLIENT_SECRET)
    texts = _submit(dialog, SET_UP)
    shot(page, "setup-done")
    shown = " ".join(texts)
    match = FORWARDER.search(shown)
    failures.verdict(
        SET_UP in shown and match is not None,
        f"setup with the right secret: {_error_of(texts) or 'entry created'}, "
        f"forwarder address {'shown' if match else 'missing'}",
    )
    failures.verdict(not raw_keys(texts), f"no raw key in the dialog {raw_keys(texts)}")
    if match is None:
        return None
    _close_flow(dialog)

    entries = call_ws(page, {"type": "config_entries/get", "domain": DOMAIN})
    loaded = wait_until(page, lambda: _loaded_entry(page))
    devices = _devices(page)
    failures.verdict(
        loaded is not None and len(devices) >= 7,
        f"{len(entries)} 1NCE entry, {'loaded' if loaded else 'NOT loaded'}, "
        f"with {len(devices)} devices (6 SIMs and the account)",
    )
    if loaded is None:
        return None
    forwarder = f"{base}/api/one_nce/forwarder/{match.group(1)}"
    _put_json(f"{sandbox}/_sandbox/forwarder", {"url": forwarder})
    log("the sandbox's SMS forwarder now pushes to the new entry")
    return Entry(entry_id=loaded, forwarder_url=match.group(0))


def _check_second_dialog_aborts(
    context: BrowserContext, base: str, failures: Failures
) -> None:
    """Another tab adds the same Client-ID while the first dialog is open."""
    other = context.new_page()
    try:
        dialog = _open_add_integration(other, base)
        dialog.get_by_label("Client-ID").fill(CLIENT_ID)
        dialog.get_by_label("Client secret").fill(CLIENT_SECRET)
        texts = _submit(dialog, IN_PROGRESS)
        shot(other, "setup-second-dialog")
        failures.verdict(
            IN_PROGRESS in " ".join(texts) and not raw_keys(texts),
            f"a second setup meanwhile says {texts[-2:]!r}",
        )
    finally:
        other.close()


def _error_of(texts: list[str]) -> str:
    """Find the error sentence a flow dialog shows, if any."""
    for text in texts:
        if NOT_FILLED in text or INVALID_AUTH in text:
            return text
    return ""


def _close_flow(dialog: Locator) -> None:
    """Leave the closing step (Finish, or the close button on older frontends)."""
    finish = dialog.get_by_role("button", name="Finish")
    if finish.count():
        finish.click()
    else:
        dialog.get_by_role("button", name="Close").last.click()
    dialog.page.wait_for_timeout(500)


def _loaded_entry(page: Page) -> str | None:
    entries = call_ws(page, {"type": "config_entries/get", "domain": DOMAIN})
    for entry in entries:
        if entry["state"] == "loaded":
            return str(entry["entry_id"])
    return None


def _devices(page: Page) -> list[dict[str, object]]:
    devices = call_ws(page, {"type": "config/device_registry/list"})
    return [
        device
        for device in devices
        if any(ident[0] == DOMAIN for ident in device["identifiers"])
    ]


def _put_json(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT):
        pass


def _entry_row(page: Page, base: str) -> Locator:
    """Open the 1NCE integration page; return the entry's row."""
    page.goto(f"{base}/config/integrations/integration/{DOMAIN}")
    # A row of its own from 2025.5 on; before, a list item of the page.
    row = (
        page.locator("ha-config-entry-row, ha-md-list-item")
        .filter(has=page.locator("ha-md-button-menu"))
        .filter(has_text="1NCE (")
        .first
    )
    row.wait_for()
    return row


def check_reconfigure(page: Page, base: str, entry: Entry, failures: Failures) -> None:
    """Reconfigure from the entry's menu, typing only the secret."""
    row = _entry_row(page, base)
    row.locator("ha-md-button-menu, ha-button-menu").last.click()
    page.get_by_role("menuitem", name="Reconfigure").click()
    dialog = _flow_dialog(page)
    dialog.get_by_label("Client secret").wait_for()
    failures.verdict(
        _field_value(dialog, "Client-ID") == CLIENT_ID,
        "Reconfigure opens with the Client-ID filled in",
    )
    block = dialog.locator("pre code").filter(has_text="/api/one_nce/forwarder/").first
    with suppress(PlaywrightError):
        block.wait_for(timeout=TIMEOUT * 1000 / 4)
    shown = block.inner_text().strip() if block.count() else ""
    lines = block.evaluate("(e) => e.getClientRects().length") if shown else 0
    failures.verdict(
        shown == entry.forwarder_url and lines == 1,
        f"Reconfigure shows the forwarder address whole, on one line: {shown!r}",
    )
    dialog.get_by_label("Client secret").fill(CLIENT_SECRET)
    page.wait_for_timeout(300)  # the field's label moves up as it fills
    shot(page, "reconfigure-form")
    texts = _submit(dialog, RECONFIGURED)
    failures.verdict(
        RECONFIGURED in " ".join(texts) and not raw_keys(texts),
        f"Reconfigure with only the secret typed: {texts[-2:]!r}",
    )
    _close_flow(dialog)
    loaded = wait_until(page, lambda: _loaded_entry(page))
    failures.verdict(
        loaded == entry.entry_id, "the entry is loaded again after Reconfigure"
    )


def check_options(page: Page, base: str, failures: Failures) -> None:
    """Change the SMS volume warning in Options; reopening shows the new value."""
    label = "Low SMS volume threshold"
    row = _entry_row(page, base)
    row.get_by_role("button", name="Configure").click()
    dialog = _flow_dialog(page)
    dialog.get_by_label(label).fill("25")
    shot(page, "options-form")
    texts = _submit(dialog, OPTIONS_SAVED)
    failures.verdict(
        OPTIONS_SAVED in " ".join(texts) and not raw_keys(texts),
        f"Options saved from the dialog: {texts[-2:]!r}",
    )
    _close_flow(dialog)
    wait_until(page, lambda: _loaded_entry(page))
    row = _entry_row(page, base)
    row.get_by_role("button", name="Configure").click()
    dialog = _flow_dialog(page)
    field = dialog.get_by_label(label)
    field.wait_for()
    value = field.input_value()
    failures.verdict(value == "25", f"Options reopen with the warning at {value}%")
    dialog.get_by_role("button", name="Close").first.click()
