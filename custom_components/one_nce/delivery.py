"""Delivery reports for SMS sent from Home Assistant, found by asking 1NCE.

1NCE pushes delivery reports only to a forwarder address that takes PATCH.
Behind a Nabu Casa cloudhook, or before the address is set in the Portal, none
arrive. So every SMS sent through this integration is followed: its status is
read (`GET .../sms/{id}`) with growing gaps until it is final or the SMS has
outlived its validity, and what is found enters the receiving side's inbox,
the same door as pushed reports, which announces each status once. The
tracker hears of every announced final report, pushed or polled, from the
announcement: where push works, an SMS delivered within the first minute
costs no request at all.

An SMS is followed under the id `send_sms` returned, which is the `sms_id`
of every report of it: polled ones, and pushed ones on either platform
(Platform 2.0's reports name the SMS apart from their own id, which the
parser keeps as `report_id`). So a pushed final report ends the following,
and a status found both ways is announced once, in either order.

The SMS being followed are stored, so a restart of Home Assistant does not
lose their reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypedDict

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import (
    FINAL_STATUSES,
    DeliveryReport,
    OneNceClient,
    OneNceError,
    OneNceNotFoundError,
    SmsId,
)
from .api.concurrency import gather_all
from .const import DOMAIN, LOGGER
from .polling.backoff import Backoff
from .receiving.announce import reports_signal
from .receiving.inbox import Inbox

# A pushed report usually arrives within seconds; the first look waits for it.
FIRST_LOOK: Final = timedelta(minutes=1)
LONGEST_GAP: Final = timedelta(hours=1)
# Looks at 1, 3, 7, 15, 31, 63 minutes, then hourly.
LOOK_GAPS: Final = Backoff(FIRST_LOOK, LONGEST_GAP)
# 1NCE's validity of an SMS sent without an expiry date.
DEFAULT_VALIDITY: Final = timedelta(hours=24)
# After its validity, an SMS still needs a moment to be marked expired.
GRACE: Final = timedelta(minutes=15)
STORAGE_VERSION: Final = 1
_SAVE_DELAY: Final = 1


class _StoredSms(TypedDict):
    iccid: str
    sms_id: SmsId
    due: str
    gap: float
    until: str


@dataclass(slots=True, kw_only=True)
class FollowedSms:
    """An SMS whose final status is not known yet, and when to ask next."""

    iccid: str
    sms_id: SmsId
    due: datetime
    gap: timedelta
    until: datetime

    def as_dict(self) -> _StoredSms:
        """Store the state in JSON-friendly form."""
        return {
            "iccid": self.iccid,
            "sms_id": self.sms_id,
            "due": self.due.isoformat(),
            "gap": self.gap.total_seconds(),
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: _StoredSms) -> FollowedSms:
        """Read what `as_dict` stored."""
        due = dt_util.parse_datetime(data["due"])
        until = dt_util.parse_datetime(data["until"])
        if due is None or until is None:
            raise ValueError("unreadable date")
        return cls(
            iccid=data["iccid"],
            sms_id=str(data["sms_id"]),
            due=due,
            gap=timedelta(seconds=data["gap"]),
            until=until,
        )


type _Stored = dict[str, list[_StoredSms]]


def _store(hass: HomeAssistant, entry_id: str) -> Store[_Stored]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.delivery")


async def async_remove_delivery_store(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what a removed account still followed."""
    await _store(hass, entry_id).async_remove()


class DeliveryTracker:
    """Follow one account's sent SMS until their delivery is known.

    What it finds goes into `inbox`, the door of every delivery report; it
    learns of final reports (its own and pushed ones) from their
    announcement.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: OneNceClient,
        inbox: Inbox,
    ) -> None:
        """Keep the followed SMS in a store of the entry's own."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._inbox = inbox
        self._store = _store(hass, entry.entry_id)
        self._followed: dict[tuple[str, SmsId], FollowedSms] = {}
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_reports: CALLBACK_TYPE | None = None
        self._stopped = False

    @property
    def followed(self) -> list[FollowedSms]:
        """The SMS followed now, soonest due first (for diagnostics and tests)."""
        return sorted(self._followed.values(), key=lambda sms: sms.due)

    async def async_load(self) -> None:
        """Pick up the SMS followed before a restart; unreadable ones are dropped."""
        stored = await self._store.async_load() or {}
        for item in stored.get("sms", []):
            try:
                sms = FollowedSms.from_dict(item)
            except (KeyError, TypeError, ValueError):
                LOGGER.debug("Dropping unreadable followed SMS %s", item)
                continue
            self._followed[(sms.iccid, sms.sms_id)] = sms
        self._unsub_reports = async_dispatcher_connect(
            self._hass, reports_signal(self._entry.entry_id), self._reported
        )
        self._schedule()

    async def async_stop(self) -> None:
        """Stop asking and write down what is still followed, before unloading."""
        self._stopped = True
        self._cancel_timer()
        if self._unsub_reports is not None:
            self._unsub_reports()
            self._unsub_reports = None
        await self._store.async_save(self._data())

    @callback
    def _reported(self, report: DeliveryReport) -> None:
        """Stop following an SMS once a final report of it was announced."""
        if report.status in FINAL_STATUSES:
            self.forget(report.iccid, report.sms_id)

    @callback
    def follow(
        self, iccid: str, sms_ids: Iterable[SmsId], expires: datetime | None
    ) -> None:
        """Start following SMS just accepted by 1NCE."""
        now = dt_util.utcnow()
        until = (expires or now + DEFAULT_VALIDITY) + GRACE
        for sms_id in sms_ids:
            self._followed[(iccid, sms_id)] = FollowedSms(
                iccid=iccid,
                sms_id=sms_id,
                due=now + FIRST_LOOK,
                gap=FIRST_LOOK,
                until=until,
            )
        self._changed()

    @callback
    def forget(self, iccid: str, sms_id: SmsId) -> None:
        """Stop following an SMS whose final status is known (no-op if unknown)."""
        if self._followed.pop((iccid, sms_id), None) is not None:
            self._changed()

    @callback
    def _changed(self) -> None:
        self._store.async_delay_save(self._data, _SAVE_DELAY)
        self._schedule()

    def _data(self) -> _Stored:
        return {"sms": [sms.as_dict() for sms in self._followed.values()]}

    @callback
    def _cancel_timer(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    @callback
    def _schedule(self) -> None:
        """Wake up when the next SMS is due (one timer for all of them)."""
        self._cancel_timer()
        if self._stopped or not self._followed:
            return
        next_due = min(sms.due for sms in self._followed.values())
        self._unsub_timer = async_track_point_in_utc_time(
            self._hass, self._wake_up, next_due
        )

    @callback
    def _wake_up(self, _scheduled: datetime) -> None:
        self._unsub_timer = None
        # The time it was due for is passed in; after a stop it is long past.
        now = dt_util.utcnow()
        due = [sms for sms in self._followed.values() if sms.due <= now]
        for sms in due:
            # Move each on before asking, so that a slow answer is not asked
            # for twice by the next wake-up.
            sms.gap = LOOK_GAPS.after(sms.gap)
            # Kept on its own rhythm, unless Home Assistant was off meanwhile.
            sms.due = sms.due + sms.gap
            if sms.due <= now:
                sms.due = now + sms.gap
        self._changed()
        if due:
            self._entry.async_create_background_task(
                self._hass, self._async_look_up(due, now), f"{DOMAIN} delivery"
            )

    async def _async_look_up(self, due: list[FollowedSms], now: datetime) -> None:
        await gather_all(*(self._async_look_up_one(sms, now) for sms in due))

    async def _async_look_up_one(self, followed: FollowedSms, now: datetime) -> None:
        """Ask for one SMS's status and report it; errors mean asking later."""
        key = (followed.iccid, followed.sms_id)
        try:
            sms = await self._client.async_get_sms(followed.iccid, followed.sms_id)
        except OneNceNotFoundError:
            LOGGER.debug("SMS %s is no longer listed by 1NCE", followed.sms_id)
            self.forget(*key)
            return
        except OneNceError as err:
            LOGGER.debug("Status of SMS %s not read: %s", followed.sms_id, err)
            self._give_up_if_outlived(followed, now)
            return
        if (report := DeliveryReport.from_sms(followed.iccid, sms)) is not None:
            try:
                await self._inbox.async_accept_report(report, source="poll")
            except OSError as err:
                LOGGER.debug("Report of SMS %s not recorded: %s", sms.sms_id, err)
                return
            if report.status in FINAL_STATUSES:
                # Done, whether this look announced it (which already told
                # `_reported`) or it was known from before a restart, say.
                self.forget(*key)
                return
        self._give_up_if_outlived(followed, now)

    @callback
    def _give_up_if_outlived(self, followed: FollowedSms, now: datetime) -> None:
        if now >= followed.until:
            LOGGER.debug(
                "SMS %s to %s outlived its validity without a final status",
                followed.sms_id,
                followed.iccid,
            )
            self.forget(followed.iccid, followed.sms_id)
