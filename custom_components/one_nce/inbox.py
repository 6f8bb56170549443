"""De-duplication and reassembly of what the forwarder pushes, kept across restarts.

1NCE retries every message until it hears a 2xx, so the same SMS can arrive
more than once, and a long SMS arrives as parts, in any order, maybe each twice.
The inbox remembers every id it accepted for longer than 1NCE retries, keeps
parts until their message is complete, and hands each message on once:
complete, or after a timeout with what did arrive (`complete` False) rather
than never. Every accepted part is in the journal before the request that
brought it is answered, so a restart between two parts loses nothing.

Delivery reports are remembered the same way, per SMS and status, so that the
same final report, pushed by 1NCE and also found by polling, fires once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .api.forwarder import FINAL_STATUSES, DeliveryStatus, MoSms
from .const import LOGGER
from .journal import Journal, Record

# Longer than the 24 hours for which 1NCE retries a message.
MESSAGE_RETENTION: Final = timedelta(hours=48)
# Longer than the 7 days for which 1NCE lists an SMS, so a late poll of an SMS
# whose final report was pushed long ago still finds it reported.
REPORT_RETENTION: Final = timedelta(days=8)
REASSEMBLY_TIMEOUT: Final = timedelta(hours=1)
PRUNE_INTERVAL: Final = timedelta(hours=1)

_FINAL: Final = frozenset(status.value for status in FINAL_STATUSES)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPart:
    """One part of an MO SMS as the inbox keeps it; the payload is still encoded."""

    sms_id: int
    number: int
    payload: str
    dcs: int
    source_address: str | None
    dest_address: str | None
    submit_date: str | None
    """ISO 8601, UTC."""
    received_at: float
    """POSIX timestamp."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundSms:
    """A message ready to be announced: the parts that came, in order."""

    iccid: str
    parts: tuple[StoredPart, ...]
    total: int
    complete: bool


@dataclass(slots=True)
class _Group:
    """The parts of one long SMS received so far."""

    iccid: str
    total: int
    parts: dict[int, StoredPart] = field(default_factory=dict)
    cancel_timer: CALLBACK_TYPE | None = None

    @property
    def first_received(self) -> float:
        return min(part.received_at for part in self.parts.values())


def _part_record(key: str, group: _Group, part: StoredPart) -> Record:
    return {
        "type": "part",
        "group": key,
        "iccid": group.iccid,
        "total": group.total,
        "id": part.sms_id,
        "part": part.number,
        "payload": part.payload,
        "dcs": part.dcs,
        "source": part.source_address,
        "dest": part.dest_address,
        "submitted": part.submit_date,
        "at": part.received_at,
    }


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _part_from_record(record: Record) -> StoredPart:
    """Read a stored part back; a record that does not fit raises."""
    return StoredPart(
        sms_id=int(record["id"]),
        number=int(record["part"]),
        payload=str(record["payload"]),
        dcs=int(record["dcs"]),
        source_address=_optional_text(record.get("source")),
        dest_address=_optional_text(record.get("dest")),
        submit_date=_optional_text(record.get("submitted")),
        received_at=float(record["at"]),
    )


class Inbox:
    """What one account has received: seen ids, open long SMS, reported SMS.

    `on_message` is called once per message, from the event loop, after the
    message is stored.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        path: Path,
        on_message: Callable[[InboundSms], None],
        *,
        timeout: timedelta = REASSEMBLY_TIMEOUT,
    ) -> None:
        """Prepare an empty inbox; `async_load` fills it from the journal."""
        self._hass = hass
        self._on_message = on_message
        self._timeout = timeout
        self._journal = Journal(hass, path, self._snapshot)
        self._seen: dict[int, float] = {}
        self._groups: dict[str, _Group] = {}
        self._reports: dict[str, dict[str, float]] = {}
        self._cancel_start: CALLBACK_TYPE | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._closed = False

    @property
    def stats(self) -> dict[str, int]:
        """Sizes, for diagnostics."""
        return {
            "remembered_ids": len(self._seen),
            "incomplete_messages": len(self._groups),
            "reported_sms": len(self._reports),
        }

    async def async_load(self) -> None:
        """Restore the state, then finish what became due while we were away."""
        unreadable = 0
        for record in await self._journal.async_load():
            try:
                self._replay(record)
            except (KeyError, TypeError, ValueError):
                unreadable += 1
        if unreadable:
            LOGGER.warning("Skipped %d unreadable records of the SMS inbox", unreadable)
        self._prune(dt_util.utcnow())
        # Messages that became due while we were away are announced once Home
        # Assistant has started, so that automations are there to see them.
        self._cancel_start = async_at_started(self._hass, self._finish_due)
        self._unsubscribe.append(
            async_track_time_interval(
                self._hass, self._prune, PRUNE_INTERVAL, cancel_on_shutdown=True
            )
        )

    async def async_close(self) -> None:
        """Stop the timers and wait for queued writes; parts stay in the journal."""
        self._closed = True
        while self._unsubscribe:
            self._unsubscribe.pop()()
        if self._cancel_start is not None:
            self._cancel_start()
            self._cancel_start = None
        for group in self._groups.values():
            if group.cancel_timer is not None:
                group.cancel_timer()
                group.cancel_timer = None
        await self._journal.async_close()

    async def async_accept(self, sms: MoSms) -> bool:
        """Store one received part; False if it is a retransmission.

        Returns once the part is on disk (and, if it completed its message,
        the message was handed on). Raises if it could not be stored. Copies
        that arrive at the same time are all written, and the first one
        stored counts: taking a part in is idempotent.
        """
        if sms.sms_id in self._seen:
            return False
        info = sms.multi_part
        key = f"{sms.iccid}/{info.identifier}/{info.total}"
        part = StoredPart(
            sms_id=sms.sms_id,
            number=info.part,
            payload=sms.payload,
            dcs=sms.dcs,
            source_address=sms.source_address,
            dest_address=sms.dest_address,
            submit_date=sms.submit_date.isoformat() if sms.submit_date else None,
            received_at=dt_util.utcnow().timestamp(),
        )
        group = self._groups.get(key) or _Group(iccid=sms.iccid, total=info.total)
        return await self._journal.write(
            _part_record(key, group, part),
            partial(self._commit_part, key, group, part),
        )

    async def async_claim_report(
        self,
        iccid: str,
        sms_id: int,
        status: DeliveryStatus,
        on_claimed: Callable[[], None],
    ) -> bool:
        """Record a delivery report unless it is known; True if it was new.

        A status seen before for the SMS is known, and so is every status
        after a final one. `on_claimed` runs once the record is stored.
        """
        key = f"{iccid}/{sms_id}"
        if not self._report_is_new(key, status):
            return False
        at = dt_util.utcnow().timestamp()

        @callback
        def commit() -> bool:
            if not self._report_is_new(key, status):
                return False  # the same report, stored at the same time, came first
            self._reports.setdefault(key, {})[status.value] = at
            on_claimed()
            return True

        record = {"type": "report", "sms": key, "status": status.value, "at": at}
        return await self._journal.write(record, commit)

    def _report_is_new(self, key: str, status: DeliveryStatus) -> bool:
        known = self._reports.get(key, {})
        return status.value not in known and _FINAL.isdisjoint(known)

    def _replay(self, record: Record) -> None:
        """Apply one journal record to the state, oldest first."""
        match record["type"]:
            case "part":
                part = _part_from_record(record)
                if part.sms_id in self._seen:
                    return  # a copy stored at the same time as the first
                key = str(record["group"])
                group = self._groups.get(key) or _Group(
                    iccid=str(record["iccid"]), total=int(record["total"])
                )
                self._groups[key] = group
                group.parts[part.number] = part
                self._seen[part.sms_id] = part.received_at
            case "done":
                self._groups.pop(str(record["group"]), None)
            case "seen":
                self._seen[int(record["id"])] = float(record["at"])
            case "report":
                statuses = self._reports.setdefault(str(record["sms"]), {})
                statuses[str(record["status"])] = float(record["at"])
            case _:
                raise ValueError("unknown record type")

    def _snapshot(self) -> list[Record]:
        """Describe the live state in as few records as possible."""
        in_groups = {
            part.sms_id
            for group in self._groups.values()
            for part in group.parts.values()
        }
        records: list[Record] = [
            {"type": "seen", "id": sms_id, "at": at}
            for sms_id, at in self._seen.items()
            if sms_id not in in_groups
        ]
        records.extend(
            _part_record(key, group, part)
            for key, group in self._groups.items()
            for part in group.parts.values()
        )
        records.extend(
            {"type": "report", "sms": key, "status": status, "at": at}
            for key, statuses in self._reports.items()
            for status, at in statuses.items()
        )
        return records

    @callback
    def _prune(self, now: datetime) -> None:
        """Forget ids and reports older than anybody could resend or poll them."""
        oldest_message = (now - MESSAGE_RETENTION).timestamp()
        self._seen = {
            sms_id: at for sms_id, at in self._seen.items() if at >= oldest_message
        }
        oldest_report = (now - REPORT_RETENTION).timestamp()
        self._reports = {
            key: statuses
            for key, statuses in self._reports.items()
            if max(statuses.values()) >= oldest_report
        }

    @callback
    def _commit_part(self, key: str, group: _Group, part: StoredPart) -> bool:
        """Take a part in once it is stored; finish its message if it is whole."""
        if part.sms_id in self._seen:
            return False  # a copy stored at the same time came first
        self._seen[part.sms_id] = part.received_at
        if self._groups.setdefault(key, group) is not group:
            # Another part of the same message was stored first.
            group = self._groups[key]
        group.parts[part.number] = part
        if len(group.parts) >= group.total:
            self._finish(key)
        elif group.cancel_timer is None:
            self._schedule_timeout(key, group)
        return True

    @callback
    def _schedule_timeout(self, key: str, group: _Group) -> None:
        if self._closed:
            # Unloading: the journal has the parts, the next load goes on.
            return

        @callback
        def timed_out(_now: datetime) -> None:
            group.cancel_timer = None
            if self._groups.get(key) is group:
                self._finish(key)

        due = dt_util.utc_from_timestamp(
            group.first_received + self._timeout.total_seconds()
        )
        group.cancel_timer = async_track_point_in_utc_time(
            self._hass, HassJob(timed_out, cancel_on_shutdown=True), due
        )

    @callback
    def _finish(self, key: str) -> None:
        """Hand a message on, complete or not, and mark it done in the journal."""
        group = self._groups.pop(key)
        if group.cancel_timer is not None:
            group.cancel_timer()
            group.cancel_timer = None
        parts = tuple(group.parts[number] for number in sorted(group.parts))
        self._journal.append({"type": "done", "group": key})
        message = InboundSms(
            iccid=group.iccid,
            parts=parts,
            total=group.total,
            complete=len(parts) >= group.total,
        )
        try:
            self._on_message(message)
        except Exception:
            LOGGER.exception("Error announcing an SMS received from 1NCE")

    @callback
    def _finish_due(self, _hass: HomeAssistant) -> None:
        """Finish the messages that are whole or overdue; time the others."""
        self._cancel_start = None
        now = dt_util.utcnow().timestamp()
        for key, group in list(self._groups.items()):
            if len(group.parts) >= group.total or (
                group.first_received + self._timeout.total_seconds() <= now
            ):
                self._finish(key)
            else:
                self._schedule_timeout(key, group)
