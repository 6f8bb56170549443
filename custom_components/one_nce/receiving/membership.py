"""Whether a pushed message is about one of this account's SIMs.

The forwarder URL is the only secret, so a message naming a SIM the account
does not have is refused. A SIM can be newer than the last poll of the SIM
list, though: before refusing, the list is fetched once more, at most once a
minute however many strangers knock, and requests that arrive while it loads
share that one fetch. The refusal (403) makes 1NCE try again later, which
covers a SIM that 1NCE lists only a little after it sends its first SMS.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..api import OneNceClient, Sim

REFRESH_GUARD: Final = timedelta(minutes=1)


class Membership(StrEnum):
    """What the account says about a SIM."""

    MEMBER = "member"
    FOREIGN = "foreign"
    UNKNOWN = "unknown"
    """The SIM list could not be loaded, so nobody can tell yet."""


class SimMembership:
    """Check SIMs and organisations against one account.

    It reads the account's SIM list (`fleet`) and who the credentials belong
    to (`client`), and asks the list again through `fleet`; it knows nothing
    else of the entry.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        fleet: DataUpdateCoordinator[dict[str, Sim]],
        client: OneNceClient,
    ) -> None:
        """Start without any forced refresh behind us."""
        self._hass = hass
        self._entry = entry
        self._fleet = fleet
        self._client = client
        self._refresh: asyncio.Task[None] | None = None
        self._last_refresh: datetime | None = None

    def foreign_organisation(self, organisation_id: int | None) -> bool:
        """Whether the message names an organisation other than ours.

        Only decidable when both sides name one: 1NCE's token answer only
        sometimes carries the organisation id, and a message may omit it.
        """
        info = self._client.token_info
        if organisation_id is None or info is None or info.organisation_id is None:
            return False
        return str(organisation_id) != info.organisation_id.strip()

    async def async_check(self, iccid: str, organisation_id: int | None) -> Membership:
        """Tell whether the SIM (and organisation) belong to this account."""
        if self.foreign_organisation(organisation_id):
            return Membership.FOREIGN
        fleet = self._fleet
        if iccid in fleet.data:
            return Membership.MEMBER
        await self._async_refresh_once()
        if iccid in fleet.data:
            return Membership.MEMBER
        return Membership.FOREIGN if fleet.last_update_success else Membership.UNKNOWN

    async def _async_refresh_once(self) -> None:
        """Fetch the SIM list unless that was done within the last minute."""
        if self._refresh is None:
            now = dt_util.utcnow()
            if (
                self._last_refresh is not None
                and now - self._last_refresh < REFRESH_GUARD
            ):
                return
            self._last_refresh = now
            self._refresh = self._entry.async_create_task(
                self._hass, self._async_refresh(), "one_nce forwarder SIM list refresh"
            )
        await asyncio.shield(self._refresh)

    async def _async_refresh(self) -> None:
        try:
            await self._fleet.async_refresh()
        finally:
            self._refresh = None
