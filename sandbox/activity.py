"""What the streams report: the fleet's SMS, data sessions, network and quota events.

The gateway tells this module of every MT SMS it counts, every MO part and
every final delivery status; the API tells it when a SIM is enabled or
disabled; a ticker gives every online SIM a slice of data use each
`usage_interval` (1NCE: a record at most every 15 minutes and only above
100 kB, the rest carried into the next slice, one at session close); and
`inject` plays the radio side (attach, PDP context, quota). Each becomes a
record for the usage or the event streams, in the SIM's platform: Platform
1.0 with names, Platform 2.0 with ids only and, on the event stream, the SMS
events (MO and delivery reports) that replace the forwarder there.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import random
from typing import Any, Final
import uuid

from .clock import Clock
from .config import SandboxConfig
from .fleet import Connectivity, SimState
from .gateway import SmsRecord
from .stream_records import (
    MIB_PER_KB,
    EventType,
    RecordIds,
    event_record,
    network_detail,
    pdp_detail,
    quota_detail,
    render,
    sms_mo_record,
    sms_report_record,
    usage_record,
    without_names,
)
from .streams import Shape, Streamer, StreamType

SLICE_MIN_MIB: Final = 100 * MIB_PER_KB
"""1NCE sends a slice of an open session only when more than 100 kB was used."""
_LOGGED: Final = 1000
INJECTABLE: Final = (
    "attach",
    "location-update",
    "pdp-create",
    "detach",
    "quota-threshold",
    "quota-used-up",
    "sim-enabled",
    "sim-disabled",
)


class UnknownSimError(KeyError):
    """No SIM of that ICCID in the fleet."""


@dataclass(slots=True, kw_only=True)
class Session:
    """An open PDP context: what it used since its last usage record."""

    session_id: str
    pdp_context_id: int
    slice_start: datetime
    tx: float = 0.0
    rx: float = 0.0
    total_tx: float = 0.0
    total_rx: float = 0.0


class Activity:
    """Turns the sandbox's simulation into Data Streamer records."""

    def __init__(
        self,
        config: SandboxConfig,
        clock: Clock,
        fleet: Callable[[], dict[str, SimState]],
        streamer: Streamer,
    ) -> None:
        """No sessions yet; ids and data use are seeded."""
        self._config = config
        self._clock = clock
        self._fleet = fleet
        self.streamer = streamer
        self._ids = RecordIds(config.seed)
        self._rng = random.Random(config.seed)
        self.sessions: dict[str, Session] = {}
        self.emitted: Counter[str] = Counter()
        self.log: deque[dict[str, Any]] = deque(maxlen=_LOGGED)
        """The latest records, as the nested shape of their platform sends them."""

    def clear(self) -> None:
        """Forget sessions and what was emitted (a sandbox reset)."""
        self.sessions.clear()
        self.emitted.clear()
        self.log.clear()

    async def run(self) -> None:
        """Slice data use every `usage_interval` while any stream exists."""
        while True:
            await self._clock.sleep(self.streamer.settings.usage_interval)
            if self.streamer.destinations:
                self.tick()

    def platform_of(self, sim: SimState) -> int:
        """Tell the SIM's platform (1 or 2), as the sandbox's configuration made it."""
        return sim.platform

    # --- emitting -------------------------------------------------------------

    def _emit(
        self,
        kind: StreamType,
        sim: SimState,
        record: dict[str, Any],
        *,
        sms_event: bool = False,
    ) -> None:
        """Queue a record on the streams; SMS events stay nested in flat streams.

        1NCE documents the SMS events only as nested objects, and the flat
        names of the migration pages cover usage and network events only.
        """
        platform = self.platform_of(sim)
        nested = without_names(record) if platform == 2 else record
        self.emitted[kind.value] += 1
        self.log.append({"stream": kind.value, "platform": platform, "record": nested})

        def shaped(shape: Shape) -> dict[str, Any]:
            as_sent = Shape.NESTED if sms_event else shape
            return render(record, platform=platform, shape=as_sent.value)

        self.streamer.enqueue(kind, shaped)

    def _event(
        self,
        sim: SimState,
        event_type: EventType,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        record = event_record(
            self._ids.next(),
            sim,
            self._config.organisation_id,
            event_type,
            now=self._clock.now(),
            detail=detail,
        )
        self._emit(StreamType.EVENT, sim, record)
        return record

    def _usage(
        self,
        sim: SimState,
        *,
        start: datetime,
        sms: bool,
        tx: float,
        rx: float,
        session: Session | None = None,
    ) -> dict[str, Any]:
        record = usage_record(
            self._ids.next(),
            sim,
            self._config.organisation_id,
            start=start,
            end=self._clock.now(),
            sms=sms,
            tx=tx,
            rx=rx,
            session_id=session.session_id if session else None,
            platform=self.platform_of(sim),
        )
        self._emit(StreamType.USAGE, sim, record)
        return record

    # --- SMS (called by the gateway) ------------------------------------------

    def on_sms(
        self,
        kind: str,
        sim: SimState,
        sms: SmsRecord,
        part: tuple[int, int, int] | None,
    ) -> None:
        """Record an MT SMS counted, an MO part sent, or a delivery report made."""
        if kind == "report":
            if self.platform_of(sim) == 2:
                self._emit(
                    StreamType.EVENT,
                    sim,
                    sms_report_record(
                        self._ids.next(),
                        sim,
                        self._config.organisation_id,
                        sms_id=sms.sms_id,
                        status_id=int(sms.status),
                        status=sms.status.name,
                        submit=sms.submit,
                        final=sms.final or self._clock.now(),
                    ),
                    sms_event=True,
                )
            return
        mo = kind == "mo"
        self._usage(sim, start=sms.submit, sms=True, tx=int(mo), rx=int(not mo))
        self._quota_check(sim, "sms", sim.sms_volume + 1, sim.sms_volume)
        if mo and self.platform_of(sim) == 2:
            self._emit(
                StreamType.EVENT,
                sim,
                sms_mo_record(
                    # The SMS's own id, as the forwarder sends it: a receiver
                    # taking both channels sees one message. (1NCE does not say
                    # whether the two ids are the same; nothing else links them.)
                    int(sms.sms_id),
                    sim,
                    self._config.organisation_id,
                    payload=sms.payload,
                    dcs=sms.dcs,
                    source_address=sms.source_address or sim.msisdn,
                    submit=sms.submit,
                    part=part,
                ),
                sms_event=True,
            )

    def sim_status_changed(self, sim: SimState) -> None:
        """Report that the API enabled or disabled a SIM."""
        self._event(
            sim, EventType.SIM_ACTIVATION if sim.enabled else EventType.SIM_SUSPENSION
        )

    # --- data sessions ---------------------------------------------------------

    def _session(self, sim: SimState, start: datetime) -> Session:
        session = self.sessions.get(sim.iccid)
        if session is None:
            session = Session(
                session_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                pdp_context_id=self._rng.randrange(10**9, 4 * 10**9),
                slice_start=start,
            )
            self.sessions[sim.iccid] = session
        return session

    def tick(self) -> int:
        """Every online SIM uses some data; slices over 100 kB are recorded.

        Returns how many usage records were made.
        """
        now = self._clock.now()
        since = now - timedelta(seconds=self.streamer.settings.usage_interval)
        made = 0
        for sim in list(self._fleet().values()):
            if (
                not sim.enabled
                or sim.connectivity is not Connectivity.ONLINE
                or sim.data_volume <= 0
            ):
                continue
            session = self._session(sim, since)
            if session.tx + session.rx > SLICE_MIN_MIB:
                # Data the minute-by-minute simulation booked (`on_data`).
                self._slice(sim, session)
                made += 1
            used = min(round(self._rng.uniform(0.05, 2.0), 6), sim.data_volume)
            before = sim.data_volume
            sim.data_volume = round(before - used, 6)
            sim.count(now.date(), mb=used)
            tx = round(used * 0.3, 6)
            session.tx += tx
            session.rx += used - tx
            if session.tx + session.rx > SLICE_MIN_MIB:
                self._slice(sim, session)
                made += 1
            self._quota_check(sim, "data", before, sim.data_volume)
        return made

    def on_data(self, sim: SimState, used: float, before: float) -> None:
        """Book data the SIM used outside `tick` (the minute-by-minute simulation).

        It joins the open session's next usage record, so the usage stream
        reports every MB the quota lost, and may cross a quota threshold.
        """
        session = self._session(sim, self._clock.now())
        tx = round(used * 0.3, 6)
        session.tx += tx
        session.rx += used - tx
        self._quota_check(sim, "data", before, sim.data_volume)

    def _slice(self, sim: SimState, session: Session) -> None:
        self._usage(
            sim,
            start=session.slice_start,
            sms=False,
            tx=session.tx,
            rx=session.rx,
            session=session,
        )
        session.total_tx += session.tx
        session.total_rx += session.rx
        session.tx = session.rx = 0.0
        session.slice_start = self._clock.now()

    def _quota_check(
        self, sim: SimState, service: str, before: float, after: float
    ) -> None:
        sms = service == "sms"
        total = sim.sms_total if sms else sim.data_total
        threshold = total * 0.2
        if before >= threshold > after:
            self._event(
                sim,
                EventType.SMS_QUOTA_THRESHOLD_REACHED
                if sms
                else EventType.QUOTA_THRESHOLD_REACHED,
                quota_detail(sim, service),
            )
        if before > 0 >= after:
            self._event(
                sim,
                EventType.SMS_QUOTA_USED_UP if sms else EventType.QUOTA_USED_UP,
                quota_detail(sim, service),
            )

    # --- the radio side, injected -----------------------------------------------

    def inject(
        self, iccid: str, event: str, service: str = "data"
    ) -> list[dict[str, Any]]:
        """Play a network event for a SIM; returns the records it made."""
        sim = self._fleet().get(iccid)
        if sim is None:
            raise UnknownSimError(iccid)
        if event not in INJECTABLE:
            raise ValueError(f"event must be one of {', '.join(INJECTABLE)}")
        if service not in ("data", "sms"):
            raise ValueError("service must be data or sms")
        before = len(self.log)
        now = self._clock.now()
        if event == "attach":
            if sim.connectivity is Connectivity.OFFLINE:
                sim.connectivity = Connectivity.ATTACHED
            self._event(sim, EventType.ATTACH, network_detail())
        elif event == "location-update":
            self._event(sim, EventType.LOCATION_UPDATE, network_detail())
        elif event == "pdp-create":
            self._pdp_create(sim, now)
        elif event == "detach":
            self._detach(sim, now)
        elif event.startswith("quota-"):
            self._quota(sim, service, used_up=event == "quota-used-up")
        else:
            sim.enabled = event == "sim-enabled"
            self.sim_status_changed(sim)
        added = len(self.log) - before
        return [entry["record"] for entry in list(self.log)[len(self.log) - added :]]

    def _pdp_create(self, sim: SimState, now: datetime) -> None:
        self.sessions.pop(sim.iccid, None)
        session = self._session(sim, now)
        sim.connectivity = Connectivity.ONLINE
        self._event(
            sim,
            EventType.PDP_CONTEXT_CREATED,
            pdp_detail(
                sim,
                now,
                pdp_context_id=session.pdp_context_id,
                session_id=session.session_id,
            ),
        )

    def _detach(self, sim: SimState, now: datetime) -> None:
        """PDP context deleted: the session's last usage record, then the event."""
        session = self.sessions.pop(sim.iccid, None) or self._session(sim, now)
        self.sessions.pop(sim.iccid, None)  # a made-up session for an offline SIM
        if session.tx + session.rx > 0:
            self._slice(sim, session)
        if sim.connectivity is Connectivity.ONLINE:
            sim.connectivity = Connectivity.ATTACHED
        self._event(
            sim,
            EventType.PDP_CONTEXT_DELETED,
            pdp_detail(
                sim,
                now,
                pdp_context_id=session.pdp_context_id,
                session_id=session.session_id,
                volume=(session.total_tx, session.total_rx),
            ),
        )

    def _quota(self, sim: SimState, service: str, *, used_up: bool) -> None:
        """Bring the quota under its threshold or to nothing, and say so."""
        sms = service == "sms"
        total = sim.sms_total if sms else sim.data_total
        target = 0.0 if used_up else (int(total * 0.1) if sms else total * 0.1)
        current = sim.sms_volume if sms else sim.data_volume
        if current > target:
            setattr(sim, "sms_volume" if sms else "data_volume", target)
        if used_up:
            event = EventType.SMS_QUOTA_USED_UP if sms else EventType.QUOTA_USED_UP
        else:
            event = (
                EventType.SMS_QUOTA_THRESHOLD_REACHED
                if sms
                else EventType.QUOTA_THRESHOLD_REACHED
            )
        self._event(sim, event, quota_detail(sim, service))
