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

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .coordinator import OneNceConfigEntry

REFRESH_GUARD: Final = timedelta(minutes=1)


class Membership(StrEnum):
    """What the account says about a SIM."""

    MEMBER = "member"
    FOREIGN = "foreign"
    UNKNOWN = "unknown"
    """The SIM list could not be loaded, so nobody can tell yet."""


class SimMembership:
    """Check SIMs and organisations against one account."""

    def __init__(self, hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
        """Start without any forced refresh behind us."""
        self._hass = hass
        self._entry = entry
        self._refresh: asyncio.Task[None] | None = None
        self._last_refresh: datetime | None = None

    def foreign_organisation(self, organisation_id: int | None) -> bool:
        """Whether the message names an organisation other than ours.

        Only decidable when both sides name one: 1NCE's token answer only
        sometimes carries the organisation id, and a message may omit it.
        """
        info = self._entry.runtime_data.client.token_info
        if organisation_id is None or info is None or info.organisation_id is None:
            return False
        return str(organisation_id) != info.organisation_id.strip()

    async def async_check(self, iccid: str, organisation_id: int | None) -> Membership:
        """Tell whether the SIM (and organisation) belong to this account."""
        if self.foreign_organisation(organisation_id):
            return Membership.FOREIGN
        fleet = self._entry.runtime_data.fleet
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
            await self._entry.runtime_data.fleet.async_refresh()
        finally:
            self._refresh = None
