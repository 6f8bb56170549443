"""One rate limiter per account, whichever part of Home Assistant asks 1NCE."""

from __future__ import annotations

from custom_components.one_nce.api import DEFAULT_BASE_URL
from custom_components.one_nce.connection import create_client
from homeassistant.core import HomeAssistant


async def test_clients_of_one_account_share_its_limiter(hass: HomeAssistant) -> None:
    flows = create_client(hass, "api-user", "old secret", DEFAULT_BASE_URL)
    entry = create_client(hass, " API-User ", "new secret", f"{DEFAULT_BASE_URL}/")

    assert flows.rate_limiter is entry.rate_limiter


async def test_other_accounts_and_servers_have_limiters_of_their_own(
    hass: HomeAssistant,
) -> None:
    first = create_client(hass, "api-user", "secret", DEFAULT_BASE_URL)
    other_user = create_client(hass, "api-user-2", "secret", DEFAULT_BASE_URL)
    other_server = create_client(hass, "api-user", "secret", "http://127.0.0.1:8765")

    assert len({id(c.rate_limiter) for c in (first, other_user, other_server)}) == 3
