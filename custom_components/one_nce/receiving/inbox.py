"""The one door for what 1NCE tells about SMS: de-duplicated, reassembled, announced.

Every MO SMS part and every delivery report comes in here, whichever channel
found it: pushed to the forwarder, or read back by polling. 1NCE retries
every push until it hears a 2xx, so the same SMS can arrive more than once;
a long SMS arrives as parts, in any order, maybe each twice; the same final
delivery report may be pushed and polled. The inbox remembers every id it
accepted for longer than 1NCE retries, keeps parts until their message is
complete, and hands each message and each report status on once: complete,
or after a timeout with what did arrive (`complete` False) rather than never.

What "once" promises: every accepted part and report is in the journal
before the request that brought it is answered, so nothing 1NCE was told
"stored" is lost, and a message is handed on before the journal notes that
it was. If Home Assistant is killed between the two (the moment it takes to
write one more line), the message is handed on again after the restart. So:
exactly once while Home Assistant runs, at least once across a crash, never
zero times; automations that must not act twice can use `sms_id` as the key.
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

from ..api import FINAL_STATUSES, DeliveryReport, DeliveryStatus, MoSms, SmsId
from ..const import LOGGER
from .journal import Journal, Record
from .records import RECORD_RETENTION

# As long as the Data Streamer's record ids are kept: longer than the 24 hours
# for which the forwarder retries, and than the 7 days of history a new
# stream may replay, so a replayed MO SMS is known, not announced again.
MESSAGE_RETENTION: Final = RECORD_RETENTION
# Longer than the 7 days for which 1NCE lists an SMS (a late poll of an SMS
# whose final report was pushed long ago still finds it reported), and as
# long as a replayed report may come again.
REPORT_RETENTION: Final = RECORD_RETENTION
REASSEMBLY_TIMEOUT: Final = timedelta(hours=1)
PRUNE_INTERVAL: Final = timedelta(hours=1)

_FINAL: Final = frozenset(status.value for status in FINAL_STATUSES)


class InboxClosedError(OSError):
    """The inbox was closed (its entry unloaded): nothing can be stored now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPart:
    """One part of an MO SMS as the inbox keeps it; the payload is still encoded."""

    sms_id: SmsId
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


def _id(value: Any) -> SmsId:
    """Read an SMS id back: releases before 0.2 stored them as JSON numbers."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("not an SMS id")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError("not an SMS id")
    return str(int(text))


def _part_from_record(record: Record) -> StoredPart:
    """Read a stored part back; a record that does not fit raises."""
    return StoredPart(
        sms_id=_id(record["id"]),
        number=int(record["part"]),
        payload=str(record["payload"]),
        dcs=int(record["dcs"]),
        source_address=_optional_text(record.get("source")),
        dest_address=_optional_text(record.get("dest")),
        submit_date=_optional_text(record.get("submitted")),
        received_at=float(record["at"]),
    )


def _report_key(iccid: str, sms_id: SmsId) -> str:
    return f"{iccid}/{sms_id}"


def _report_record(report: DeliveryReport, at: float) -> Record:
    """Describe a report as the journal keeps it until it is announced.

    It is filed under the SMS's id, whichever channel brought it, so that a
    pushed report of an SMS and a polled one are recognised as one.
    """
    record: Record = {
        "type": "report",
        "sms": _report_key(report.iccid, report.sms_id),
        "status": report.status.value,
        "at": at,
        "status_id": report.status_id,
        "submitted": _isoformat(report.submit_date),
        "final": _isoformat(report.final_date),
    }
    if report.report_id is not None:
        record["report_id"] = report.report_id
    return record


def _isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _report_from_record(record: Record) -> DeliveryReport:
    """Read a stored report back, to announce it if a crash came first.

    Records written before report ids were kept have no `report_id`.
    """
    iccid, _, sms_id = str(record["sms"]).partition("/")
    report_id = record.get("report_id")
    return DeliveryReport(
        sms_id=_id(sms_id),
        iccid=iccid,
        endpoint_id=None,
        organisation_id=None,
        status=DeliveryStatus(record["status"]),
        status_id=int(record["status_id"]),
        submit_date=_parse_date(record.get("submitted")),
        final_date=_parse_date(record.get("final")),
        report_id=None if report_id is None else _id(report_id),
    )


def _parse_date(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = dt_util.parse_datetime(str(value))
    if parsed is None:
        raise ValueError("unreadable date")
    return parsed


class Inbox:
    """What one account has received: seen ids, open long SMS, reported SMS.

    `on_message` and `on_report` are called once each per message and report
    status (see the module doc), from the event loop, after it is stored.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        path: Path,
        *,
        on_message: Callable[[InboundSms], None],
        on_report: Callable[[DeliveryReport], None],
        timeout: timedelta = REASSEMBLY_TIMEOUT,
    ) -> None:
        """Prepare an empty inbox; `async_load` fills it from the journal."""
        self._hass = hass
        self._on_message = on_message
        self._on_report = on_report
        self._timeout = timeout
        self._journal = Journal(hass, path, self._snapshot)
        self._seen: dict[SmsId, float] = {}
        self._groups: dict[str, _Group] = {}
        self._reports: dict[str, dict[str, float]] = {}
        # Reports stored but not yet announced: only after a crash between
        # the two, until Home Assistant has started again.
        self._unannounced: dict[tuple[str, str], Record] = {}
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
        await self._journal.async_replay(self._replay, "the SMS inbox")
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
        self._raise_if_closed()
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

    async def async_accept_report(
        self, report: DeliveryReport, *, source: str = "push"
    ) -> bool:
        """Store and announce a delivery report unless it is known; True if new.

        A status seen before for the SMS is known, and so is every status
        after a final one, whether it was pushed or polled (`source`, for
        the log); that is kept for 8 days, across restarts. Raises if the
        report could not be stored (then nothing was announced).
        """
        self._raise_if_closed()
        key = _report_key(report.iccid, report.sms_id)
        if not self._report_is_new(key, report.status):
            LOGGER.debug(
                "Delivery report %s for SMS %s (%s) known",
                report.status,
                report.sms_id,
                source,
            )
            return False
        at = dt_util.utcnow().timestamp()

        @callback
        def commit() -> bool:
            if not self._report_is_new(key, report.status):
                return False  # the same report, stored at the same time, came first
            self._reports.setdefault(key, {})[report.status.value] = at
            self._announce_report(key, report)
            return True

        return await self._journal.write(_report_record(report, at), commit)

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise InboxClosedError("the inbox is closed")

    def _report_is_new(self, key: str, status: DeliveryStatus) -> bool:
        known = self._reports.get(key, {})
        return status.value not in known and _FINAL.isdisjoint(known)

    @callback
    def _announce_report(self, key: str, report: DeliveryReport) -> None:
        """Hand a stored report on, then note in the journal that it was."""
        self._unannounced.pop((key, report.status.value), None)
        try:
            self._on_report(report)
        except Exception:
            LOGGER.exception("Error announcing a delivery report from 1NCE")
        self._journal.append(
            {"type": "reported", "sms": key, "status": report.status.value}
        )

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
                self._seen[_id(record["id"])] = float(record["at"])
            case "report":
                key, status = str(record["sms"]), str(record["status"])
                at = float(record["at"])
                # Reports stored before 0.2 carry no details: those releases
                # announced a report before going on, so it was announced.
                if "status_id" in record:
                    _report_from_record(record)  # readable, or the record is skipped
                    self._unannounced[(key, status)] = record
                self._reports.setdefault(key, {})[status] = at
            case "reported":
                self._unannounced.pop((str(record["sms"]), str(record["status"])), None)
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
            self._unannounced.get(
                (key, status),
                {"type": "report", "sms": key, "status": status, "at": at},
            )
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
        self._unannounced = {
            (key, status): record
            for (key, status), record in self._unannounced.items()
            if key in self._reports
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
        """Hand a message on, complete or not, then note it done in the journal.

        In this order: a crash between the two hands it on again after the
        restart, where the other order would lose it. The note goes out with
        the journal's next write, which starts at once.
        """
        group = self._groups.pop(key)
        if group.cancel_timer is not None:
            group.cancel_timer()
            group.cancel_timer = None
        parts = tuple(group.parts[number] for number in sorted(group.parts))
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
        self._journal.append({"type": "done", "group": key})

    @callback
    def _finish_due(self, _hass: HomeAssistant) -> None:
        """Announce what a crash left unannounced; time the incomplete messages."""
        self._cancel_start = None
        for (key, _status), record in list(self._unannounced.items()):
            self._announce_report(key, _report_from_record(record))
        now = dt_util.utcnow().timestamp()
        for key, group in list(self._groups.items()):
            if len(group.parts) >= group.total or (
                group.first_received + self._timeout.total_seconds() <= now
            ):
                self._finish(key)
            else:
                self._schedule_timeout(key, group)
