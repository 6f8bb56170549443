"""Polling while the Data Streamer delivers: ask only what the streams do not tell.

The coordinators run as in a loaded entry (tests/test_coordinator_backoff.py's
harness: list on the minute, details half a minute later, 1NCE counting every
request); `streams` is what the receiving side would answer to "did the
usage / event stream deliver within the last day?".
"""

from __future__ import annotations

from datetime import timedelta
import itertools

import pytest

from custom_components.one_nce.api import ConnectivityStatus
from custom_components.one_nce.api.records import (
    NetworkEvent,
    NetworkEventType,
    QuotaService,
    UsageKind,
    UsageRecord,
)
from homeassistant.util import dt as dt_util

from . import test_coordinator_backoff as harness
from .test_coordinator_backoff import (
    START,
    MakePolling,
    Polling,
    Troubled1nce,
    iccid_of,
    minutes,
)

pytestmark = pytest.mark.freeze_time(START)
# The harness's fixtures, used here as they are.
make_polling = harness.make_polling
virtual_time = harness.virtual_time

DAY = 24 * 60
SIMS = 10


class Streams:
    """What the receiving side says about the two streams."""

    def __init__(self, *, usage: bool = False, events: bool = False) -> None:
        self.usage = usage
        self.events = events

    def __call__(self) -> tuple[bool, bool]:
        return self.usage, self.events


def count(fake: Troubled1nce, suffix: str, since: float = 0, until: float = DAY) -> int:
    """Requests whose path ends in `suffix` made in [since, until) (a day)."""
    return sum(
        1 for when, path in fake.log if since <= when < until and path.endswith(suffix)
    )


def read_times(fake: Troubled1nce, suffix: str, iccid: str) -> list[float]:
    return [
        when
        for when, path in fake.log
        if path.endswith(suffix) and iccid_of(path) == iccid
    ]


async def run_day(
    make_polling: MakePolling, streams: Streams, *, watched: int = 0
) -> Troubled1nce:
    """A day of 10 SIMs polled with the default options, `watched` of them
    with their last-event sensor enabled."""
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(streams)
    await polling.start()
    for sim in fake.sims[:watched]:
        polling.details.async_watch_events(sim["iccid"])
    await polling.run_until(DAY)
    return fake


async def test_a_day_without_streams_polls_as_configured(
    make_polling: MakePolling,
) -> None:
    """The baseline: the list every 15 minutes, each SIM's three details and
    its event log hourly."""
    fake = await run_day(make_polling, Streams(), watched=2)

    assert count(fake, "/v2/sims") == DAY // 15
    for part in ("/quota/sms", "/quota/data", "/status"):
        assert count(fake, part) == SIMS * DAY // 60
    assert count(fake, "/events") == 2 * DAY // 60


async def test_a_day_with_both_streams_reads_each_sim_once_and_the_list_hourly(
    make_polling: MakePolling,
) -> None:
    """Quotas and status once a day per SIM, the list once an hour, and a
    watched SIM's event log once, to fill its sensor in (none was pushed)."""
    fake = await run_day(make_polling, Streams(usage=True, events=True), watched=2)

    assert count(fake, "/v2/sims") == DAY // 60
    for part in ("/quota/sms", "/quota/data", "/status"):
        assert count(fake, part) == SIMS
    assert count(fake, "/events") == 2


async def test_with_only_the_usage_stream_quotas_are_read_daily_the_status_hourly(
    make_polling: MakePolling,
) -> None:
    fake = await run_day(make_polling, Streams(usage=True), watched=1)

    assert count(fake, "/v2/sims") == DAY // 15
    assert count(fake, "/quota/sms") == count(fake, "/quota/data") == SIMS
    assert count(fake, "/status") == SIMS * DAY // 60
    assert count(fake, "/events") == DAY // 60


async def test_with_only_the_event_stream_the_status_is_read_daily_the_quotas_hourly(
    make_polling: MakePolling,
) -> None:
    fake = await run_day(make_polling, Streams(events=True), watched=1)

    assert count(fake, "/v2/sims") == DAY // 15
    assert count(fake, "/quota/sms") == count(fake, "/quota/data") == SIMS * DAY // 60
    assert count(fake, "/status") == SIMS
    assert count(fake, "/events") == 1


async def test_when_the_streams_fall_silent_polling_resumes_within_the_hour(
    make_polling: MakePolling,
) -> None:
    streams = Streams(usage=True, events=True)
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(streams)
    await polling.start()
    await polling.run_until(185)
    assert fake.list_poll_times() == [0, 60, 120, 180]
    assert count(fake, "/status", since=1) == 0

    streams.usage = streams.events = False
    await polling.run_until(185 + 60)

    # The list is back at its 15 minutes within a minute of being due ...
    polls = fake.list_poll_times()[4:]
    assert polls[0] <= 180 + 15 + 1
    assert all(b - a == 15 for a, b in itertools.pairwise(polls))
    # ... and every SIM's details were read again, spread over the ticks.
    for part in ("/quota/sms", "/quota/data", "/status"):
        assert count(fake, part, since=185) == SIMS
    assert max(fake.sims_per_tick(185, 245)) == 1


async def _note(polling: Polling, iccid: str, kind: UsageKind) -> None:
    now = dt_util.utcnow()
    polling.details.async_note_streamed_usage(
        [
            UsageRecord(
                record_id=f"{iccid}-{minutes()}",
                iccid=iccid,
                start=now - timedelta(minutes=1),
                end=now,
                kind=kind,
                sms_mo=1 if kind is UsageKind.SMS else 0,
                data_bytes=200_000 if kind is UsageKind.DATA else 0,
            )
        ]
    )


async def test_streamed_traffic_has_its_quota_read_once_it_settles(
    make_polling: MakePolling,
) -> None:
    """Three SMS within ten minutes cost one SMS quota read, 15 minutes after
    the last; a data session reporting every 10 minutes for 100 minutes has
    its data quota read 15 minutes after its last report (a session would
    have to last 6 hours to be read before it ends)."""
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(Streams(usage=True, events=True))
    await polling.start()
    texting, surfing = fake.sims[0]["iccid"], fake.sims[1]["iccid"]

    for minute in (10, 12, 20):
        await polling.run_until(minute)
        await _note(polling, texting, UsageKind.SMS)
    for minute in range(30, 140, 10):
        await polling.run_until(minute)
        await _note(polling, surfing, UsageKind.DATA)
    await polling.run_until(240)

    assert read_times(fake, "/quota/sms", texting) == [0.5, 35.5]
    assert read_times(fake, "/quota/data", texting) == [0.5]
    assert read_times(fake, "/quota/data", surfing) == [0.5, 145.5]
    assert read_times(fake, "/quota/sms", surfing) == [0.5]
    assert count(fake, "/status") == SIMS


async def test_traffic_older_than_the_last_quota_read_reads_nothing(
    make_polling: MakePolling,
) -> None:
    """Records replayed from before the quota was read are in it already."""
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(Streams(usage=True, events=True))
    await polling.start()
    iccid = fake.sims[0]["iccid"]
    await polling.run_until(10)
    polling.details.async_note_streamed_usage(
        [
            UsageRecord(
                record_id="1",
                iccid=iccid,
                start=START - timedelta(hours=2),
                end=START - timedelta(hours=1),
                kind=UsageKind.SMS,
                sms_mt=1,
            )
        ]
    )
    await polling.run_until(60)

    assert read_times(fake, "/quota/sms", iccid) == [0.5]


async def test_events_before_a_sims_first_read_are_applied_to_it(
    make_polling: MakePolling,
) -> None:
    """A SIM whose details were never read yet keeps its pushed events for
    them: what happened after the read was sent is shown."""
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(Streams(usage=True, events=True))
    await polling.fleet.async_refresh()
    iccid = fake.sims[0]["iccid"]
    for kind, seconds in (
        (NetworkEventType.PDP_CONTEXT_CREATED, 10),  # before the read: moot
        (NetworkEventType.PDP_CONTEXT_DELETED, 60),
    ):
        polling.details.async_apply_network_event(
            NetworkEvent(
                record_id=str(seconds),
                iccid=iccid,
                timestamp=START + timedelta(seconds=seconds),
                event_type=kind,
                type_id=None,
                description=None,
            )
        )
    await polling.start()  # details read 30 seconds after the list

    details = polling.details.data[iccid]
    assert details.connectivity.status is ConnectivityStatus.ATTACHED
    assert details.last_event is not None
    assert details.last_event.event_type == "Delete PDP Context"
    other = polling.details.data[fake.sims[1]["iccid"]]
    assert other.connectivity.status is ConnectivityStatus.ONLINE
    assert count(fake, "/events") == 0


async def test_a_failed_quota_read_after_a_quota_event_is_tried_again_later(
    make_polling: MakePolling,
) -> None:
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(Streams(usage=True, events=True))
    await polling.start()
    failing, gone = fake.sims[0]["iccid"], fake.sims[1]["iccid"]
    await polling.run_until(10)
    fake.sim_status[failing] = 500
    fake.sim_status[gone] = 404
    for iccid in (failing, gone):
        polling.details.async_apply_network_event(
            NetworkEvent(
                record_id="7",
                iccid=iccid,
                timestamp=dt_util.utcnow(),
                event_type=NetworkEventType.QUOTA_THRESHOLD_REACHED,
                type_id=None,
                description=None,
                quota_service=QuotaService.DATA,
            )
        )
    await polling.hass.async_block_till_done(wait_background_tasks=True)
    del fake.sim_status[failing]
    await polling.run_until(60)

    # Read at once (failing, with the client's retries), again once traffic
    # would have settled; a SIM 1NCE does not know is not asked again.
    assert read_times(fake, "/quota/data", failing) == [0.5, *[10] * 4, 25.5]
    assert read_times(fake, "/quota/data", gone) == [0.5, 10]
    assert polling.details.data[failing].data_quota_at == START + timedelta(
        minutes=25.5
    )


@pytest.mark.parametrize(
    ("streams", "part"),
    [(Streams(usage=True), "/quota/data"), (Streams(events=True), "/status")],
)
async def test_with_one_stream_what_it_pushes_is_still_read_every_day(
    make_polling: MakePolling, streams: Streams, part: str
) -> None:
    """Reading the other parts hourly must not make this one look fresh."""
    fake, polling = make_polling(SIMS)
    polling.details.follow_streams(streams)
    await polling.start()

    await polling.run_until(3 * DAY + 60)

    assert [count(fake, part, day * DAY, (day + 1) * DAY) for day in range(3)] == [
        SIMS
    ] * 3
