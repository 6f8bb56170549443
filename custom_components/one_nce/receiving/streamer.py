"""What the Data Streamer delivered, handed on once: usage, network events, SMS.

A parsed batch goes the one way every pushed message goes: membership (our
SIM?) -> store (de-duplicate, durable) -> hand on. Usage records and network
events are remembered by (kind, id) in the `RecordStore`; MO SMS and delivery
reports go into the inbox like the forwarder's, so an SMS that both channels
bring fires one event.

New usage goes to usage listeners; new network events to event listeners,
the bus event `one_nce_network_event` and the SIM's signal. An event older
than an hour (history the stream replays) is stored, so it is never handed
on later, but updates nothing live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..api import DeliveryReport, MoSms
from ..api.records import NetworkEvent, StreamBatch, UsageRecord
from ..const import LOGGER
from .announce import Announcer
from .health import PushHealth
from .inbox import Inbox
from .membership import Membership, SimMembership
from .records import RecordStore

LIVE_EVENT_AGE: Final = timedelta(hours=1)
ANY_BATCH: Final = "any"
"""The record store's name for a delivery of any batch, whatever it held."""
_HEARD: Final = "heard_"
"""Prefix of a stream kind whose records (read or not) arrived."""


class StreamKind(StrEnum):
    """The two kinds of stream a customer creates in the Portal."""

    USAGE = "usage"
    EVENTS = "events"


class SimListUnavailableError(Exception):
    """Membership cannot be decided now: the batch must be sent again later."""


class StreamerClosedError(OSError):
    """The entry is unloading: nothing is taken in now, 1NCE must retry."""


@dataclass(slots=True)
class StreamerHealth(PushHealth):
    """Counts of the streamer's requests and records since the entry loaded."""

    requests: int = 0
    records: int = 0
    """New records handed on (or stored, for old events)."""
    duplicates: int = 0
    rejected: int = 0
    """Requests refused: wrong credential, not JSON, too large, not ready."""
    unreadable: int = 0
    """Records acknowledged but not understood (or of a kind not used)."""
    foreign: int = 0
    """Records of SIMs or organisations not in this account, dropped."""
    unreadable_reasons: dict[str, int] = field(default_factory=dict)
    """Why the records of the latest batch with unreadable ones were (fields only)."""
    last_request: datetime | None = None

    @callback
    def record_rejected(self) -> None:
        """Count one refused request."""
        self.last_request = dt_util.utcnow()
        self.rejected += 1
        self.changed()

    def as_dict(self) -> dict[str, Any]:
        """Return the counts for diagnostics."""
        return {
            "requests": self.requests,
            "records": self.records,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "unreadable": self.unreadable,
            "foreign": self.foreign,
            "unreadable_reasons": dict(self.unreadable_reasons),
            "last_request": self.last_request.isoformat()
            if self.last_request
            else None,
        }


class Streamer:
    """One entry's Data Streamer: takes batches in, hands new records on."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        records: RecordStore,
        inbox: Inbox,
        membership: SimMembership,
        announcer: Announcer,
    ) -> None:
        """Hand on through the entry's inbox and announcer."""
        self._hass = hass
        self.records = records
        self._inbox = inbox
        self._membership = membership
        self._announcer = announcer
        self.health = StreamerHealth()
        self._usage_listeners: list[Callable[[list[UsageRecord]], None]] = []
        self._event_listeners: list[Callable[[NetworkEvent], None]] = []
        self._delivery_listeners: list[Callable[[], None]] = []
        self._storing: set[asyncio.Task[None]] = set()
        self._closing = False

    @callback
    def async_add_usage_listener(
        self, listener: Callable[[list[UsageRecord]], None]
    ) -> CALLBACK_TYPE:
        """Call `listener` with each batch's new usage records."""
        self._usage_listeners.append(listener)
        return lambda: self._usage_listeners.remove(listener)

    @callback
    def async_add_event_listener(
        self, listener: Callable[[NetworkEvent], None]
    ) -> CALLBACK_TYPE:
        """Call `listener` with every new network event of the last hour."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def async_add_delivery_listener(
        self, listener: Callable[[], None]
    ) -> CALLBACK_TYPE:
        """Call `listener` whenever a batch was stored (the repair issue)."""
        self._delivery_listeners.append(listener)
        return lambda: self._delivery_listeners.remove(listener)

    def last_delivery(self, kind: StreamKind) -> datetime | None:
        """When this stream kind last delivered a batch, across restarts."""
        return self.records.last_delivery(kind)

    def delivering(
        self, kind: StreamKind, within: timedelta = timedelta(days=1)
    ) -> bool:
        """Whether this stream kind delivered within `within` (for polling to yield)."""
        last = self.last_delivery(kind)
        return last is not None and dt_util.utcnow() - last <= within

    def last_heard(self, kind: StreamKind) -> datetime | None:
        """When records shaped as this stream kind last came, readable or not.

        A stream that delivers only what cannot be read is alive (the repair
        issue) but tells nothing (`delivering`, for polling to yield).
        """
        times = [
            at
            for at in (
                self.records.last_delivery(kind),
                self.records.last_delivery(_HEARD + kind.value),
            )
            if at is not None
        ]
        return max(times, default=None)

    def in_use(self, within: timedelta = timedelta(days=1)) -> bool:
        """Whether any batch (SMS only, unreadable...) was stored within `within`."""
        last = self.records.last_delivery(ANY_BATCH)
        return last is not None and dt_util.utcnow() - last <= within

    async def async_stop(self) -> None:
        """Take no more batches; wait until those being stored are handed on.

        Called first when the entry unloads, while every listener is still
        there: a batch whose records were stored is then never answered
        200 with its hand-on lost.
        """
        self._closing = True
        if self._storing:
            await asyncio.wait(set(self._storing))

    @callback
    def async_resume(self) -> None:
        """Take batches in again (the entry could not unload after all)."""
        self._closing = False

    async def async_receive(self, batch: StreamBatch) -> None:
        """Store a batch's records and hand on the new ones.

        Returns once every record is stored; raises `OSError` if they could
        not be, `SimListUnavailableError` if membership of some SIM cannot be
        decided (after storing the records of the SIMs it could decide).
        Whatever was stored is handed on even when another part of the
        batch failed (1NCE then hears 503 and resends, and the stored
        records are recognised as copies).
        """
        health = self.health
        health.last_request = dt_util.utcnow()
        health.requests += 1
        health.unreadable += batch.unreadable + batch.unknown
        if batch.unreadable_reasons:
            health.unreadable_reasons = dict(batch.unreadable_reasons)
        if batch.unreadable or batch.unknown:
            # The reasons name fields, never values from the body.
            LOGGER.debug(
                "Acknowledged %d unreadable and %d unknown Data Streamer records: %s",
                batch.unreadable,
                batch.unknown,
                batch.unreadable_reasons,
            )
        try:
            members, undecided = await self._members(batch)
            if self._closing:
                raise StreamerClosedError("the entry is unloading")
            # The store and its hand-on run to the end even if the request
            # is cancelled: stored records must be handed on.
            task = self._hass.async_create_task(
                self._async_store(batch, members),
                "one_nce streamer store",
                eager_start=True,
            )
            self._storing.add(task)
            task.add_done_callback(self._stored)
            await asyncio.shield(task)
            if undecided:
                raise SimListUnavailableError
        finally:
            health.changed()

    def _stored(self, task: asyncio.Task[None]) -> None:
        """Forget a finished store; its failure was the request's to report."""
        self._storing.discard(task)
        if not task.cancelled():
            task.exception()

    async def _async_store(self, batch: StreamBatch, members: set[str]) -> None:
        """Store the members' records, hand on what is new, then raise any failure."""
        health = self.health
        usage = [record for record in batch.usage if record.iccid in members]
        events = [event for event in batch.events if event.iccid in members]
        mo_sms = [sms for sms in batch.mo_sms if sms.iccid in members]
        reports = [report for report in batch.reports if report.iccid in members]
        # Every authenticated batch shows the address in use; records shaped
        # as usage or events, read or not, show which stream is alive, and
        # readable ones that it delivers. SMS records show no stream kind:
        # 1NCE does not say which stream carries them.
        kinds = {ANY_BATCH}
        if batch.usage_records:
            kinds.add(_HEARD + StreamKind.USAGE.value)
        if batch.event_records:
            kinds.add(_HEARD + StreamKind.EVENTS.value)
        if batch.usage:
            kinds.add(StreamKind.USAGE.value)
        if batch.events:
            kinds.add(StreamKind.EVENTS.value)
        keys = [(StreamKind.USAGE.value, record.record_id) for record in usage]
        keys += [(StreamKind.EVENTS.value, event.record_id) for event in events]
        stored, *sms_results = await asyncio.gather(
            self.records.async_store(keys, kinds),
            *(self._accept_sms(message) for message in _messages(mo_sms, reports)),
            return_exceptions=True,
        )
        failures = [
            result
            for result in (stored, *sms_results)
            if isinstance(result, BaseException)
        ]
        new: set[tuple[str, str]] = (
            set() if isinstance(stored, BaseException) else stored
        )
        sms_new = sum(1 for result in sms_results if result is True)
        health.records += len(new) + sms_new
        if not failures:
            health.duplicates += (
                len(usage)
                + len(events)
                + len(mo_sms)
                + len(reports)
                - len(new)
                - sms_new
            )
        if not isinstance(stored, BaseException):
            for listener in list(self._delivery_listeners):
                listener()
            self._hand_on(
                _first_copies(usage, StreamKind.USAGE, new),
                _first_copies(events, StreamKind.EVENTS, new),
            )
        # Also when the request that brought the batch went away meanwhile.
        health.changed()
        if failures:
            raise failures[0]

    async def _accept_sms(self, message: MoSms | DeliveryReport) -> Any:
        if isinstance(message, DeliveryReport):
            return await self._inbox.async_accept_report(message, source="streamer")
        return await self._inbox.async_accept(message)

    async def _members(self, batch: StreamBatch) -> tuple[set[str], set[str]]:
        """Return the batch's ICCIDs of this account, and those nobody can tell yet.

        Membership is decided per SIM, not per batch: the records of known
        SIMs are taken in at once. A SIM that is not on the list while the
        list cannot be loaded is undecided; its records are neither stored
        nor dropped, and the batch is answered 503 once the rest is stored.
        That is the only answer that loses nothing (200 would drop them for
        good, as 1NCE never resends an acknowledged record); the resend
        brings the stored records again, which are then known copies.
        Records of other accounts' SIMs are counted and dropped.
        """
        organisations: dict[str, set[int | None]] = {}
        for iccid in _iccids(batch.usage, batch.events):
            organisations.setdefault(iccid, set()).add(None)
        for message in _messages(batch.mo_sms, batch.reports):
            organisations.setdefault(message.iccid, set()).add(message.organisation_id)
        members: set[str] = set()
        undecided: set[str] = set()
        for iccid, organisation_ids in organisations.items():
            verdicts = {
                await self._membership.async_check(iccid, organisation_id)
                for organisation_id in organisation_ids
            }
            if verdicts == {Membership.MEMBER}:
                members.add(iccid)
            elif Membership.UNKNOWN in verdicts and Membership.FOREIGN not in verdicts:
                undecided.add(iccid)
        foreign = sum(
            iccid not in members and iccid not in undecided
            for iccid in _iccids(batch.usage, batch.events, batch.mo_sms, batch.reports)
        )
        if foreign:
            self.health.foreign += foreign
            LOGGER.debug(
                "Dropped %d Data Streamer records of SIMs not in this account", foreign
            )
        if undecided:
            LOGGER.debug(
                "Holding back records of %d SIMs until the SIM list loads",
                len(undecided),
            )
        return members, undecided

    @callback
    def _hand_on(self, usage: list[UsageRecord], events: list[NetworkEvent]) -> None:
        if usage:
            for usage_listener in list(self._usage_listeners):
                try:
                    usage_listener(usage)
                except Exception:
                    LOGGER.exception("Error handing on usage from the Data Streamer")
        oldest = dt_util.utcnow() - LIVE_EVENT_AGE
        for event in sorted(events, key=lambda event: event.timestamp):
            if event.timestamp < oldest:
                continue
            self._announcer.network_event(event)
            for event_listener in list(self._event_listeners):
                try:
                    event_listener(event)
                except Exception:
                    LOGGER.exception("Error handing on a network event")


def _iccids(*groups: list[Any]) -> list[str]:
    return [record.iccid for group in groups for record in group]


def _messages(
    mo_sms: list[MoSms], reports: list[DeliveryReport]
) -> list[MoSms | DeliveryReport]:
    return [*mo_sms, *reports]


def _first_copies[T: UsageRecord | NetworkEvent](
    records: list[T], kind: StreamKind, new: set[tuple[str, str]]
) -> list[T]:
    """Return the new records, each once (a batch may hold one twice)."""
    wanted = {record_id for stored_kind, record_id in new if stored_kind == kind}
    first: list[T] = []
    for record in records:
        if record.record_id in wanted:
            wanted.discard(record.record_id)
            first.append(record)
    return first
