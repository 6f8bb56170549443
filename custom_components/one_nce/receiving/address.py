"""Where 1NCE pushes to: an entry's secret, its addresses, and the repair issue.

1NCE pushes to one HTTPS URL per organisation, set by hand in its Portal.
That URL is all the authentication there is, so each entry gets 256 random
bits as the last path segment of our view, and a webhook whose id is derived
from them one-way (a cloudhook can only reach webhooks, and only by POST).

1NCE refuses http, IP addresses and self-signed certificates. The URL is
therefore built from an external https URL with a domain name, or Home
Assistant Cloud's remote address; without either, a repair issue says what to
set, and goes away once it is set. With Home Assistant Cloud, a cloudhook
is created as well, for SMS only (a cloudhook passes no PATCH, so no
delivery reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from enum import Enum
from functools import partial
import hashlib
import secrets
from types import ModuleType
from typing import Any, Final

from aiohttp import hdrs
from yarl import URL

from homeassistant.components import webhook
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util.network import is_ip_address

from ..const import (
    CONF_CLOUDHOOK_URL,
    CONF_FORWARDER_SECRET,
    DOMAIN,
    FORWARDER_PATH,
    LOGGER,
    STREAMER_PATH,
)
from ..coordinator import OneNceConfigEntry
from .streamer_view import OneNceStreamerView
from .view import OneNceForwarderView, async_handle_webhook

ISSUE_NO_HTTPS_URL: Final = "no_https_external_url"
LEARN_MORE_URL: Final = "https://www.home-assistant.io/docs/configuration/basic/"
WEBHOOK_NAME: Final = "1NCE SMS forwarder"
MASK: Final = "**REDACTED**"
# Shown where the address would be when Home Assistant has none to offer: dots,
# which read the same in every language; the dialogs say what goes there.
UNKNOWN_BASE_URL: Final = "https://…"


def new_secret() -> str:
    """Return a fresh forwarder secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def webhook_id_for(secret: str) -> str:
    """Derive the entry's webhook id from its secret.

    The id is as hard to guess as the secret (an entry id would not be: it
    shows in URLs and diagnostics), and knowing it reveals nothing of it.
    """
    digest = hashlib.sha256(b"one_nce webhook\x00" + secret.encode()).hexdigest()
    return f"{DOMAIN}_{digest[:40]}"


def _is_public_host(host: str | None) -> bool:
    """Whether 1NCE could reach a certificate for this host at all."""
    return bool(
        host
        and "." in host
        and not is_ip_address(host)
        and not host.endswith((".local", ".lan", ".home.arpa", ".internal"))
    )


def forwarder_url(hass: HomeAssistant, secret: str) -> str | None:
    """Build the view's address: external https with a domain, else the cloud's.

    None if Home Assistant has neither. An external URL that is an IP address,
    plain http or a local name (`.local`) is passed over: 1NCE refuses those.
    """
    path = FORWARDER_PATH.format(secret=secret)
    with suppress(NoURLAvailableError):
        base = get_url(
            hass,
            allow_internal=False,
            allow_cloud=False,
            allow_ip=False,
            require_ssl=True,
        )
        if _is_public_host(URL(base).host):
            return f"{base}{path}"
    with suppress(NoURLAvailableError):
        return f"{get_url(hass, require_cloud=True, require_ssl=True)}{path}"
    return None


def forwarder_url_text(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """Tell the address to paste into the 1NCE Portal as well as we can.

    The view's URL if Home Assistant has a public one, else the cloudhook (SMS
    only), else the view's path behind a placeholder for the user's domain.
    """
    secret = str(data.get(CONF_FORWARDER_SECRET, ""))
    if url := forwarder_url(hass, secret):
        return url
    if cloudhook := data.get(CONF_CLOUDHOOK_URL):
        return str(cloudhook)
    return f"{UNKNOWN_BASE_URL}{FORWARDER_PATH.format(secret=secret)}"


def streamer_url_text(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """Tell the Data Streamer's address (the view only: no cloudhook takes it)."""
    path = STREAMER_PATH.format(secret=str(data.get(CONF_FORWARDER_SECRET, "")))
    base = forwarder_url(hass, "")
    if base is not None:
        return base.removesuffix(FORWARDER_PATH.format(secret="")) + path
    return f"{UNKNOWN_BASE_URL}{path}"


def masked(url: str | None) -> str | None:
    """Hide the secret last segment of a forwarder or cloudhook URL."""
    if url is None:
        return None
    return f"{url.rsplit('/', 1)[0]}/{MASK}"


@callback
def async_register_forwarder(hass: HomeAssistant) -> None:
    """Register the view, and the webhooks of the entries known so far.

    Webhooks are registered here, before any entry loads, and stay while an
    entry reloads: Home Assistant answers 200 for a webhook it does not know,
    and 1NCE would take that as delivered. Ours answers 503 instead.
    """
    hass.http.register_view(OneNceForwarderView())
    hass.http.register_view(OneNceStreamerView())
    for entry in hass.config_entries.async_entries(DOMAIN):
        if secret := entry.data.get(CONF_FORWARDER_SECRET):
            _register_webhook(hass, entry.entry_id, secret)


def _register_webhook(hass: HomeAssistant, entry_id: str, secret: str) -> None:
    with suppress(ValueError):  # already registered
        webhook.async_register(
            hass,
            DOMAIN,
            WEBHOOK_NAME,
            webhook_id_for(secret),
            partial(async_handle_webhook, entry_id=entry_id),
            local_only=False,
            allowed_methods=[hdrs.METH_POST],
        )


def _issue_id(entry: OneNceConfigEntry) -> str:
    return f"{ISSUE_NO_HTTPS_URL}_{entry.entry_id}"


async def async_setup_address(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Give the entry its addresses; give it a secret first if it has none.

    Saving the secret updates the entry's data, which never reloads it.
    The repair issue follows Home Assistant's URL settings from here on.
    """
    secret = entry.data.get(CONF_FORWARDER_SECRET)
    if not secret:
        secret = new_secret()
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_FORWARDER_SECRET: secret}
        )
    _register_webhook(hass, entry.entry_id, secret)

    @callback
    def core_config_updated(_event: Event[Any]) -> None:
        async_check_forwarder_url(hass, entry)

    entry.async_on_unload(
        hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, core_config_updated)
    )
    await _async_setup_cloudhook(hass, entry)
    async_check_forwarder_url(hass, entry)


@callback
def async_check_forwarder_url(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Raise a repair issue while 1NCE has no address to push to, else clear it."""
    if forwarder_url(hass, entry.data[CONF_FORWARDER_SECRET]) or entry.data.get(
        CONF_CLOUDHOOK_URL
    ):
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_NO_HTTPS_URL,
        translation_placeholders={"title": entry.title},
        learn_more_url=LEARN_MORE_URL,
    )


def _cloud(hass: HomeAssistant) -> ModuleType | None:
    """Return Home Assistant Cloud's module if it is loaded (an after-dependency).

    Imported late: it pulls in Alexa and Google Assistant, which nobody
    without Home Assistant Cloud should pay for.
    """
    if "cloud" not in hass.config.components:
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return cloud


async def _async_setup_cloudhook(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Create a cloudhook if Home Assistant Cloud is subscribed, now or once connected."""
    cloud = _cloud(hass)
    if (
        cloud is None
        or entry.data.get(CONF_CLOUDHOOK_URL)
        or not cloud.async_active_subscription(hass)
    ):
        return
    if await _async_create_cloudhook(hass, entry, cloud):
        return

    async def async_connection_changed(state: Enum) -> None:
        if (
            state is cloud.CloudConnectionState.CLOUD_CONNECTED
            and not entry.data.get(CONF_CLOUDHOOK_URL)
            and await _async_create_cloudhook(hass, entry, cloud)
        ):
            async_check_forwarder_url(hass, entry)

    entry.async_on_unload(
        cloud.async_listen_connection_change(hass, async_connection_changed)
    )


async def _async_create_cloudhook(
    hass: HomeAssistant, entry: OneNceConfigEntry, cloud: ModuleType
) -> bool:
    """Create the entry's cloudhook and keep its URL; False if the cloud is away."""
    try:
        url = await cloud.async_get_or_create_cloudhook(
            hass, webhook_id_for(entry.data[CONF_FORWARDER_SECRET])
        )
    except cloud.CloudNotAvailable:
        LOGGER.debug("Home Assistant Cloud not connected; cloudhook comes later")
        return False
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_CLOUDHOOK_URL: url}
    )
    return True


async def async_remove_address(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Forget a removed entry's addresses: webhook, cloudhook and repair issue."""
    if secret := entry.data.get(CONF_FORWARDER_SECRET):
        webhook.async_unregister(hass, webhook_id_for(secret))
        if entry.data.get(CONF_CLOUDHOOK_URL) and (cloud := _cloud(hass)):
            with suppress(cloud.CloudNotAvailable):
                await cloud.async_delete_cloudhook(hass, webhook_id_for(secret))
    ir.async_delete_issue(hass, DOMAIN, _issue_id(entry))
