"""The organisation's monthly limits (Portal: Configuration -> Limits), v1 only.

A limit caps the data, MT SMS or MO SMS of all SIMs together and resets on
the 1st of the month. What 1NCE lets one choose changes rarely, so the options
are read once; the limits in force are read every six hours while an entity
listens, and right after a change. Once 1NCE's v1 API is gone, this says so
once and stops asking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    Limit,
    Limits,
    LimitService,
    OneNceAuthenticationError,
    OneNceClient,
    OneNceError,
    OneNceFeatureUnavailableError,
)
from .api.concurrency import gather_all
from .const import DOMAIN, LOGGER

LIMITS_INTERVAL: Final = timedelta(hours=6)
# After a failure, sooner than six hours: the selects are unavailable meanwhile.
LIMITS_RETRY_INTERVAL: Final = timedelta(minutes=30)

_NO_LIMITS: Final = Limits(data=None, sms_mt=None, sms_mo=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsState:
    """The limits in force, and what 1NCE offers to choose for each service."""

    current: Limits
    options: Mapping[LimitService, list[Limit]]


class LimitsCoordinator(DataUpdateCoordinator[LimitsState]):
    """Keep the organisation's monthly limits and their options.

    It polls only while a limit entity listens, so an account whose limit
    entities are disabled spends no requests on it. `supported` turns False
    for good once 1NCE answers that the v1 endpoints are gone.
    """

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: OneNceClient
    ) -> None:
        """Poll slowly; nothing is fetched before the first refresh."""
        self.client = client
        self.supported = True
        self._options: dict[LimitService, list[Limit]] | None = None
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} limits",
            update_interval=LIMITS_INTERVAL,
        )

    async def _async_update_data(self) -> LimitsState:
        try:
            current = await self._async_fetch()
        except OneNceFeatureUnavailableError as err:
            return self._give_up(err)
        except OneNceAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except OneNceError as err:
            self.update_interval = LIMITS_RETRY_INTERVAL
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.update_interval = LIMITS_INTERVAL
        assert self._options is not None
        return LimitsState(current=current, options=self._options)

    async def _async_fetch(self) -> Limits:
        """Read the limits in force, and the options the first time round."""
        if self._options is not None:
            return await self.client.async_get_limits()
        services = list(LimitService)
        current, options = await gather_all(
            self.client.async_get_limits(),
            gather_all(
                *(self.client.async_get_limit_options(service) for service in services)
            ),
        )
        self._options = dict(zip(services, options, strict=True))
        return current

    def _give_up(self, error: OneNceError) -> LimitsState:
        """Stop for good: the limits endpoints are gone, asking again will not help.

        Information, not a warning: a Platform 2.0 account has no v1 API from
        the start, there is nothing to fix, and the entry has no selects to
        explain it. Once per load: the coordinator is made anew each load and
        never asks again after this.
        """
        LOGGER.info(
            "1NCE no longer offers the monthly limits of the organisation (its v1 "
            "API is retired), so they cannot be shown or changed here: %s",
            error,
        )
        self.supported = False
        self.update_interval = None
        return LimitsState(current=_NO_LIMITS, options={})
