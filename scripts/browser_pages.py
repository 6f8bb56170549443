"""Pages a person uses once 1NCE is set up: an action, device pages, languages.

Steps of scripts/browser_check.py, driving Home Assistant's own frontend in
Chromium: send an SMS from Developer tools -> Actions in UI mode and see its
delivery report arrive; read a SIM's and the account's device page for names
that are cut or raw translation keys; switch Home Assistant to German and read
them again. Screenshots go to .develop/browser/.
"""

from __future__ import annotations

from typing import Any, Final

from browser_common import (
    TIMEOUT,
    Failures,
    call_ws,
    cut_texts,
    deep_text,
    log,
    raw_keys,
    shot,
    wait_until,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

DOMAIN: Final = "one_nce"
GARDEN_GATE: Final = "8988228066000000001"
ACTION: Final = "1NCE: Send SMS"
MESSAGE: Final = "Hello from Developer tools"
# Every event of a type, collected in the page through the frontend's connection.
COLLECT_EVENTS: Final = """async (eventType) => {
  window.oneNceEvents = window.oneNceEvents || [];
  await document.querySelector('home-assistant').hass.connection.subscribeEvents(
    (event) => window.oneNceEvents.push(event), eventType);
}"""


def _field_row(page: Page, name: str) -> Locator:
    """Find the row of an action's field in UI mode by the field's name."""
    return (
        page.locator("ha-service-control ha-settings-row")
        .filter(has=page.get_by_text(name, exact=True))
        .first
    )


def check_send_sms_action(page: Page, base: str, failures: Failures) -> None:
    """Send an SMS to Garden gate from the Actions tool in UI mode; await its report."""
    page.goto(f"{base}/developer-tools/action")
    picker = page.locator("ha-service-picker")
    picker.locator("input").fill(ACTION)
    page.get_by_role("option", name=ACTION).first.click()
    control = page.locator("ha-service-control")
    control.get_by_text("SIM devices", exact=True).wait_for()
    # An optional field is edited once its row's checkbox is ticked.
    _field_row(page, "SIM devices").locator("ha-checkbox").click()
    _field_row(page, "SIM devices").get_by_role("combobox").first.fill("Garden gate")
    page.get_by_role("option", name="Garden gate").first.click()
    _field_row(page, "Message").locator("textarea").fill(MESSAGE)
    page.locator("ha-service-control ha-expansion-panel").first.click()
    select = _field_row(page, "Encoding").locator("ha-select").first
    shown: str = select.evaluate("(select) => select.selectedText || ''")
    failures.verdict(
        "Automatic" in shown, f"send_sms's Encoding starts as {shown or 'nothing'!r}"
    )
    shot(page, "send-sms-action")
    page.evaluate(COLLECT_EVENTS, "one_nce_delivery_report")
    page.get_by_role("button", name="Perform action").click()

    def report() -> dict[str, Any] | None:
        events: list[dict[str, Any]] = page.evaluate("window.oneNceEvents")
        for event in events:
            if event["data"].get("iccid") == GARDEN_GATE:
                return event
        return None

    event = wait_until(page, report, timeout=TIMEOUT)
    status = event["data"]["status"] if event else None
    failures.verdict(
        status == "delivered",
        f"the SMS sent from Actions was reported: {status or 'no report'}",
    )


def _our_devices(page: Page) -> dict[str, dict[str, Any]]:
    """Find the 1NCE devices by kind: "account", and "sim" for Garden gate."""
    found: dict[str, dict[str, Any]] = {}
    for device in call_ws(page, {"type": "config/device_registry/list"}):
        ours = [ident[1] for ident in device["identifiers"] if ident[0] == DOMAIN]
        if device["entry_type"] == "service" and ours:
            found["account"] = device
        elif GARDEN_GATE in ours:
            found["sim"] = device
    return found


def _open_device(page: Page, base: str, device: dict[str, Any], name: str) -> None:
    """Open a device page and wait until its heading and entities are drawn."""
    url = f"{base}/config/devices/device/{device['id']}"
    try:
        page.goto(url)
    except PlaywrightError as err:
        # The frontend may still be finishing a navigation of its own (a
        # dialog that just closed routes back), which aborts ours: once more.
        if "ERR_ABORTED" not in str(err):
            raise
        page.wait_for_timeout(1000)
        page.goto(url)
    view = page.locator("ha-config-device-page")
    view.get_by_text(name, exact=True).first.wait_for()
    view.locator("hui-entities-card, ha-card").first.wait_for()
    page.wait_for_timeout(500)  # the last entity rows render a frame later


def check_device_pages(
    page: Page, base: str, language: str, names: dict[str, str], failures: Failures
) -> None:
    """Read a SIM's and the account's device page: no name cut, no raw key.

    `names` maps "sim" and "account" to the device name the page must show
    in this language.
    """
    devices = _our_devices(page)
    for kind in ("sim", "account"):
        device = devices.get(kind)
        if not failures.verdict(device is not None, f"the {kind} device exists"):
            continue
        assert device is not None
        _open_device(page, base, device, names[kind])
        view = page.locator("ha-config-device-page")
        cut = cut_texts(view)
        failures.verdict(
            not cut,
            f"{language}: {names[kind]}'s device page cuts no name at "
            f"{page.viewport_size and page.viewport_size['width']} px"
            + (f" (cut: {'; '.join(cut)})" if cut else ""),
        )
        raw = raw_keys(deep_text(page.locator("home-assistant")))
        failures.verdict(
            not raw,
            f"{language}: {names[kind]}'s device page shows no raw translation key"
            + (f" ({raw})" if raw else ""),
        )
        shot(page, f"device-{kind}-{language}")


def check_delete_refused(page: Page, base: str, failures: Failures) -> None:
    """Delete a SIM's device that 1NCE still lists: refused, with the reason."""
    device = _our_devices(page)["sim"]
    _open_device(page, base, device, device["name"])
    info = page.locator("ha-device-info-card")
    info.locator("ha-button-menu, ha-md-button-menu").first.click()
    page.get_by_role("menuitem", name="Delete").click()
    page.locator("dialog-box").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="OK").wait_for()
    texts = [
        text
        for dialog in page.locator("dialog-box").all()
        for text in deep_text(dialog)
    ]
    shot(page, "device-delete-refused")
    reason = next((text for text in texts if "1NCE" in text), "")
    failures.verdict(
        reason.startswith("1NCE still lists the SIM"),
        f"deleting a listed SIM's device says why not: {reason or texts!r}",
    )
    page.get_by_role("button", name="OK").click()


def switch_to_german(page: Page, entry_id: str) -> None:
    """Make Home Assistant and this user German, then reload the 1NCE entry.

    Entity and device names are translated by the server in its own language
    (core config `language`), when the entry sets up; the frontend's words
    follow the user's language (frontend user data `language`).
    """
    call_ws(page, {"type": "config/core/update", "language": "de"})
    call_ws(
        page,
        {
            "type": "frontend/set_user_data",
            "key": "language",
            "value": {"language": "de", "number_format": "language"},
        },
    )
    page.evaluate(
        "(id) => document.querySelector('home-assistant').hass.callApi("
        "'POST', `config/config_entries/entry/${id}/reload`)",
        entry_id,
    )
    page.reload()
    page.wait_for_function(
        "document.querySelector('home-assistant')?.hass?.language === 'de'"
    )
    log("Home Assistant and the user switched to German; the 1NCE entry reloaded")
