"""The SMS side of 1NCE: MT messages on their way, MO messages, the forwarder.

An MT SMS is PENDING when accepted, then (after `delivery_delay`) DELIVERED or
FAILED, or BUFFERED and later EXPIRED for a SIM that is offline; its final
status is PATCHed to the forwarder. An MO SMS is split the way a phone splits
it and each part is POSTed on its own. Every push is retried, with doubling
gaps, until the receiver answers 2xx or `retry_give_up` has passed: exactly
the behaviour the integration's forwarder view has to be built for.

A Platform 2.0 SIM's SMS get 18-digit ids (above 2^53, so a float would
change them); its delivery reports carry an id of their own and name the SMS
in `detail.sms.id` (a string), with ISO dates ending in `Z`; its MO SMS name
the short code `destination_address`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import json
import logging
from typing import Any, Final

import aiohttp

from . import gsm
from .clock import Clock, api_date, iso_date, zulu_date
from .config import SandboxConfig
from .fleet import FINAL, SimState, SmsStatus

_LOGGER = logging.getLogger(__name__)

SmsObserver = Callable[[str, SimState, "SmsRecord", tuple[int, int, int] | None], None]
"""Told of "mt" (counted), "mo" (a part: number, total, identifier), "report"."""

SMS_KEPT: Final = timedelta(days=7)
DEFAULT_EXPIRY: Final = timedelta(hours=24)
# An SMS to an offline SIM sits BUFFERED this many delivery delays, then expires.
EXPIRY_DELAYS: Final = 3
_ATTEMPT_LOG: Final = 200
MO_SOURCE: Final = "882285100000000"
MO_DEST: Final = "12345"
# Platform 2.0 ids: 18 digits, above 2**53. SMS and reports count in ranges of
# their own, each by a step that keeps neighbouring ids from looking serial.
WIDE_SMS_IDS: Final = 551734281731175386  # 1NCE's own example id
WIDE_REPORT_IDS: Final = 719204418236150273
WIDE_STEP: Final = 7919


class GatewayError(Exception):
    """A request the gateway refuses; `status` and `message` go to the caller."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the HTTP status next to 1NCE's wording."""
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True, kw_only=True)
class SmsRecord:
    """One SMS in a SIM's history (7 days), MT or MO."""

    sms_id: int
    iccid: str
    mt: bool
    payload: str
    dcs: int
    udh: str | None
    source_address: str | None
    submit: datetime
    expiry: datetime | None = None
    status: SmsStatus = SmsStatus.PENDING
    delivered: datetime | None = None
    final: datetime | None = None
    retry_count: int = 0

    def as_api(self) -> dict[str, Any]:
        """Render the SMS as the list and detail endpoints show it."""
        return {
            "id": self.sms_id,
            "submit_date": iso_date(self.submit),
            "delivery_date": iso_date(self.delivered) if self.delivered else None,
            "expiry_date": iso_date(self.expiry) if self.expiry else None,
            "final_date": iso_date(self.final) if self.final else None,
            "retry_count": self.retry_count,
            "dcs": self.dcs,
            "pid": 0,
            "source_address": self.source_address,
            "udh": self.udh or "",
            "payload": self.payload,
            "status": {"id": int(self.status), "description": self.status.name},
            "sms_type": {"id": 1, "description": "MT"}
            if self.mt
            else {"id": 2, "description": "MO"},
        }


@dataclass(slots=True, kw_only=True)
class Push:
    """One message for the forwarder, retried until acknowledged or too old."""

    push_id: int
    method: str
    body: dict[str, Any]
    created: float
    attempts: int = 0
    outcome: str = "pending"
    statuses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Describe what was pushed and how it went, for the control API."""
        detail = self.body.get("detail")
        sms_id = self.body.get("id")
        if isinstance(detail, dict) and isinstance(detail.get("sms"), dict):
            sms_id = detail["sms"].get("id")  # Platform 2.0: the report's own id
        return {
            "push_id": self.push_id,
            "method": self.method,
            "sms_id": sms_id,
            "kind": "delivery_report" if self.method == "PATCH" else "mo_sms",
            "attempts": self.attempts,
            "outcome": self.outcome,
            "statuses": self.statuses,
            "body": self.body,
        }


class Forwarder:
    """1NCE's SMS forwarder: one URL, POST for MO, PATCH for reports, retries."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        """Hold pushes until a URL is set; nothing is sent before `start`."""
        self._config = config
        self._clock = clock
        self.url: str | None = config.forwarder_url
        self._url_set = asyncio.Event()
        if self.url:
            self._url_set.set()
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.history: deque[Push] = deque(maxlen=_ATTEMPT_LOG)
        self.pending: dict[int, Push] = {}
        self.counts = {"acknowledged": 0, "dropped": 0, "attempts": 0}

    def set_url(self, url: str | None) -> None:
        """Point the forwarder somewhere else; held pushes go out now."""
        self.url = url or None
        if self.url:
            self._url_set.set()
        else:
            self._url_set.clear()

    async def start(self) -> None:
        """Open the client session the pushes share."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._config.forwarder_timeout)
        )

    async def stop(self) -> None:
        """Abandon pushes in flight and close the session."""
        await self.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def clear(self) -> None:
        """Forget every push, in flight or done (a sandbox reset)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pending.clear()
        self.history.clear()
        self.counts = dict.fromkeys(self.counts, 0)

    def push(self, method: str, body: dict[str, Any]) -> Push:
        """Queue a message; it is sent in the background until acknowledged."""
        push = Push(
            push_id=next(self._ids),
            method=method,
            body=body,
            created=self._clock.monotonic(),
        )
        self.pending[push.push_id] = push
        self.history.append(push)
        task = asyncio.get_running_loop().create_task(self._deliver(push))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return push

    async def _deliver(self, push: Push) -> None:
        """Send until a 2xx, doubling the gap after every failure."""
        gap = self._config.retry_initial
        while True:
            while not self.url:
                await self._url_set.wait()
            if await self._attempt(push, self.url):
                push.outcome = "acknowledged"
                self.counts["acknowledged"] += 1
                break
            age = self._clock.monotonic() - push.created
            if age + gap > self._config.retry_give_up:
                push.outcome = "dropped"
                self.counts["dropped"] += 1
                _LOGGER.warning(
                    "Dropped %s of SMS %s after %d attempts",
                    push.method,
                    push.body.get("id"),
                    push.attempts,
                )
                break
            await self._clock.sleep(gap)
            gap = min(gap * 2, self._config.retry_max_gap)
        self.pending.pop(push.push_id, None)

    async def _attempt(self, push: Push, url: str) -> bool:
        """One request; True only for a 2xx answer."""
        assert self._session is not None, "forwarder not started"
        push.attempts += 1
        self.counts["attempts"] += 1
        try:
            async with self._session.request(
                push.method,
                url,
                data=json.dumps(push.body),
                headers={"Content-Type": "application/json"},
            ) as response:
                await response.read()
                push.statuses.append(str(response.status))
                return 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as err:
            push.statuses.append(type(err).__name__)
            return False


class Gateway:
    """SMS to and from the fleet's SIMs, and what the forwarder hears of them."""

    def __init__(
        self,
        config: SandboxConfig,
        clock: Clock,
        fleet: Callable[[], dict[str, SimState]],
        forwarder: Forwarder,
    ) -> None:
        """Start with no SMS; ids begin where 1NCE's examples do."""
        self._config = config
        self._clock = clock
        self._fleet = fleet
        self.forwarder = forwarder
        self._ids = itertools.count(6200)
        self._wide_ids = itertools.count(WIDE_SMS_IDS, WIDE_STEP)
        self._report_ids = itertools.count(WIDE_REPORT_IDS, WIDE_STEP)
        self.messages: dict[int, SmsRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.mt_this_month = 0
        self.mt_limit: int | None = None
        self.observers: list[SmsObserver] = []
        """Who hears of SMS traffic besides the forwarder (the Data Streamer)."""

    async def clear(self) -> None:
        """Forget every SMS and stop every delivery in progress."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.messages.clear()
        self.mt_this_month = 0

    def _new_id(self, sim: SimState) -> int:
        """Allocate an SMS id of the SIM's platform: 6200 upward, or 18 digits."""
        return next(self._wide_ids if sim.platform == 2 else self._ids)

    def _sim(self, iccid: str) -> SimState:
        sim = self._fleet().get(iccid)
        if sim is None:
            raise GatewayError(404, f"SIM {iccid} not found")
        return sim

    def history(self, iccid: str) -> list[SmsRecord]:
        """List the SIM's SMS of the last 7 days, newest first."""
        cutoff = self._clock.now() - SMS_KEPT
        for sms_id in [
            key for key, sms in self.messages.items() if sms.submit < cutoff
        ]:
            del self.messages[sms_id]
        return sorted(
            (sms for sms in self.messages.values() if sms.iccid == iccid),
            key=lambda sms: sms.sms_id,
            reverse=True,
        )

    def get(self, iccid: str, sms_id: int) -> SmsRecord:
        """Find one SMS of one SIM."""
        sms = self.messages.get(sms_id)
        if sms is None or sms.iccid != iccid:
            raise GatewayError(404, f"SMS {sms_id} not found")
        return sms

    def send_mt(self, iccid: str, body: object) -> SmsRecord:
        """Accept one MT SMS (one part: 1NCE does not split) and start it off."""
        sim = self._sim(iccid)
        if not isinstance(body, dict):
            raise GatewayError(400, "request body must be a JSON object")
        payload = body.get("payload")
        if not isinstance(payload, str) or not payload:
            raise GatewayError(400, "payload is required")
        dcs = _int_field(body, "dcs", gsm.DCS_GSM7)
        if dcs not in gsm.SINGLE_ROOM:
            raise GatewayError(400, f"dcs {dcs} is not supported")
        udh = body.get("udh") or None
        if udh is not None and (not isinstance(udh, str) or not _is_hex(udh)):
            raise GatewayError(400, "udh must be hex")
        if dcs == gsm.DCS_BINARY and not _is_hex(payload):
            raise GatewayError(400, "payload must be hex for dcs 4")
        if dcs == gsm.DCS_GSM7 and not gsm.is_gsm7(payload):
            raise GatewayError(400, "payload has characters outside GSM 7-bit")
        if gsm.length(payload, dcs) > gsm.room_for(dcs, udh):
            raise GatewayError(400, "payload too long for one SMS")
        source = body.get("source_address")
        now = self._clock.now()
        expiry = now + DEFAULT_EXPIRY
        if isinstance(body.get("expiry_date"), str):
            try:
                expiry = datetime.fromisoformat(body["expiry_date"])
            except ValueError:
                raise GatewayError(400, "expiry_date is not a date") from None
            if expiry.tzinfo is None:
                expiry = expiry.replace(tzinfo=UTC)
        if self.mt_limit is not None and self.mt_this_month >= self.mt_limit:
            raise GatewayError(
                400, f"Traffic limit of {self.mt_limit} SMS per month exceeded"
            )
        outcome = sim.effective_outcome
        sms = SmsRecord(
            sms_id=self._new_id(sim),
            iccid=iccid,
            mt=True,
            payload=payload,
            dcs=dcs,
            udh=udh,
            source_address=str(source) if source is not None else None,
            submit=now,
            expiry=expiry,
        )
        self.messages[sms.sms_id] = sms
        self.mt_this_month += 1
        if outcome is not SmsStatus.FAILED:
            sim.sms_volume -= 1
            sim.count(now.date(), mt=1)
            self._tell("mt", sim, sms)
        self._run(self._deliver(sms, outcome))
        return sms

    def cancel(self, iccid: str, sms_id: int) -> None:
        """Cancel an MT SMS that has not reached a final status."""
        sms = self.get(iccid, sms_id)
        if not sms.mt or sms.status in FINAL:
            raise GatewayError(400, f"SMS {sms_id} can not be cancelled")
        sms.status = SmsStatus.CANCELED
        sms.final = self._clock.now()

    async def _deliver(self, sms: SmsRecord, outcome: SmsStatus) -> None:
        delay = self._config.delivery_delay
        await self._clock.sleep(delay)
        if sms.status in FINAL:  # canceled meanwhile
            return
        if outcome is SmsStatus.EXPIRED:
            sms.status = SmsStatus.BUFFERED
            sms.retry_count = 1
            await self._clock.sleep(delay * (EXPIRY_DELAYS - 1))
            if sms.status in FINAL:
                return
        now = self._clock.now()
        sms.status = outcome
        sms.final = now
        if outcome is SmsStatus.DELIVERED:
            sms.delivered = now
        self.forwarder.push("PATCH", self._report(sms))
        self._tell("report", self._sim(sms.iccid), sms)

    def _report(self, sms: SmsRecord) -> dict[str, Any]:
        """Build a delivery report: note `status.status`, not `description`.

        Platform 1.0's report is identified by the SMS's id; Platform 2.0's
        has an id of its own and names the SMS in `detail.sms.id`.
        """
        sim = self._sim(sms.iccid)
        final = sms.final or self._clock.now()
        report: dict[str, Any] = {
            "id": sms.sms_id,
            "submit_date": api_date(sms.submit),
            "final_date": api_date(final),
            "organisation": {"id": self._config.organisation_id},
            "endpoint": {"id": 8765000 + sim.index, "name": sms.iccid},
            "status": {"id": int(sms.status), "status": sms.status.name},
        }
        if sim.platform == 2:
            report |= {
                "id": next(self._report_ids),
                "submit_date": zulu_date(sms.submit),
                "final_date": zulu_date(final),
                "detail": {"sms": {"id": str(sms.sms_id)}},
            }
        return self._numbers(report)

    def inject_mo(
        self,
        iccid: str,
        text: str,
        *,
        encoding: str = "auto",
        source_address: str | None = None,
    ) -> list[SmsRecord]:
        """Have a SIM send an SMS: split it as a phone would, push every part."""
        sim = self._sim(iccid)
        if not sim.enabled:
            raise GatewayError(409, f"SIM {iccid} is disabled and cannot send")
        if not text:
            raise GatewayError(400, "text is required")
        if encoding == "auto":
            dcs = gsm.DCS_GSM7 if gsm.is_gsm7(text) else gsm.DCS_UCS2
        elif encoding in ("gsm7", "ucs2"):
            dcs = gsm.DCS_GSM7 if encoding == "gsm7" else gsm.DCS_UCS2
            if dcs == gsm.DCS_GSM7 and not gsm.is_gsm7(text):
                raise GatewayError(400, "text has characters outside GSM 7-bit")
        else:
            raise GatewayError(400, "encoding must be auto, gsm7 or ucs2")
        pieces = gsm.split(text, dcs)
        now = self._clock.now()
        records = []
        for piece in pieces:
            payload = gsm.ucs2_hex(piece) if dcs == gsm.DCS_UCS2 else piece
            records.append(
                SmsRecord(
                    sms_id=self._new_id(sim),
                    iccid=iccid,
                    mt=False,
                    payload=payload,
                    dcs=dcs,
                    udh=None,
                    source_address=source_address or sim.msisdn,
                    submit=now,
                    status=SmsStatus.DELIVERED,
                    delivered=now,
                    final=now,
                )
            )
        identifier = records[0].sms_id
        for number, sms in enumerate(records, start=1):
            self.messages[sms.sms_id] = sms
            sim.sms_volume -= 1
            sim.count(now.date(), mo=1)
            self.forwarder.push(
                "POST",
                self._numbers(
                    {
                        "id": sms.sms_id,
                        "payload": sms.payload,
                        "submit_date": api_date(now),
                        _dest_key(sim): MO_DEST,
                        "source_address": sms.source_address,
                        "dcs": dcs,
                        "pid": 0,
                        "endpoint": {"id": 8765000 + sim.index, "name": iccid},
                        "organisation": {"id": self._config.organisation_id},
                        "multi_part_info": {
                            "partno": number,
                            "total": len(records),
                            "identifier": identifier,
                        },
                        "smsforwarderId": 17,
                    }
                ),
            )
            self._tell("mo", sim, sms, (number, len(records), identifier))
        return records

    def _tell(
        self,
        kind: str,
        sim: SimState,
        sms: SmsRecord,
        part: tuple[int, int, int] | None = None,
    ) -> None:
        for observer in self.observers:
            observer(kind, sim, sms, part)

    def _numbers(self, body: dict[str, Any]) -> dict[str, Any]:
        """Write numbers as strings when that quirk is on (the 2019 docs do)."""
        if not self._config.faults.string_numbers:
            return body
        stringified: dict[str, Any] = _stringify(body)
        return stringified

    def _run(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _dest_key(sim: SimState) -> str:
    """Where an MO SMS names its short code: Platform 2.0 spells the key out."""
    return "destination_address" if sim.platform == 2 else "dest_address"


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _is_hex(value: str) -> bool:
    return len(value) % 2 == 0 and all(
        char in "0123456789abcdefABCDEF" for char in value
    )


def _int_field(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise GatewayError(400, f"{key} must be a number") from None
