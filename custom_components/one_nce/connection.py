"""How Home Assistant reaches 1NCE: its own web session, one rate limiter per account.

1NCE counts 10 requests a second per customer, wherever they come from. The
config flow proves the credentials with a client of its own and the entry
then starts polling with another; with a limiter each, the two together sent
11 requests within the first second of a setup of 250 SIMs, and 1NCE refused
one (measured against the sandbox's sliding-window counter). So every client
of one account in this Home Assistant (the entry's, and a setup, reauth or
reconfigure flow's) shares one limiter, kept while Home Assistant runs.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .api import OneNceClient, RateLimiter, new_rate_limiter
from .const import DOMAIN

DATA_LIMITERS: HassKey[dict[tuple[str, str], RateLimiter]] = HassKey(
    f"{DOMAIN}_rate_limiters"
)


def create_client(
    hass: HomeAssistant,
    client_id: str,
    client_secret: str,
    api_url: str,
    **options: Any,
) -> OneNceClient:
    """Make a client for the account, on Home Assistant's session and its limiter.

    `options` go to `OneNceClient` (a shorter timeout for a form, say).
    """
    limiters = hass.data.setdefault(DATA_LIMITERS, {})
    account = (api_url.rstrip("/"), client_id.strip().lower())
    if (limiter := limiters.get(account)) is None:
        limiter = limiters[account] = new_rate_limiter()
    return OneNceClient(
        async_get_clientsession(hass),
        client_id,
        client_secret,
        base_url=api_url,
        rate_limiter=limiter,
        **options,
    )
