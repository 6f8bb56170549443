"""The detail schedule on its own: budget, urgency, back-off, probing, log lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
import logging

import pytest

from custom_components.one_nce.polling.details_schedule import (
    DetailSchedule,
    TickResult,
)

TICK = timedelta(minutes=1)
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LOGGER = "tests.details_schedule"


def sims(count: int) -> list[str]:
    return [f"89882280660000{number:05d}" for number in range(count)]


def schedule(
    *, interval_minutes: int = 15, list_minutes: int = 15, catch_up: int = 30
) -> DetailSchedule:
    return DetailSchedule(
        tick=TICK,
        interval=timedelta(minutes=interval_minutes),
        catch_up=catch_up,
        list_interval=timedelta(minutes=list_minutes),
        logger=logging.getLogger(LOGGER),
        now=START,
    )


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def fetched_all(fleet: Iterable[str], when: datetime) -> dict[str, datetime]:
    return dict.fromkeys(fleet, when)


def fail(plan: DetailSchedule, now: datetime, iccids: Iterable[str], size: int) -> None:
    plan.record(
        now,
        TickResult(
            fetched=(),
            not_found={},
            failed={iccid: OSError("HTTP 503") for iccid in iccids},
        ),
        fleet_size=size,
        polls=1,
    )


def succeed(
    plan: DetailSchedule, now: datetime, iccids: Iterable[str], size: int
) -> None:
    plan.record(
        now,
        TickResult(fetched=list(iccids), not_found={}, failed={}),
        fleet_size=size,
        polls=1,
    )


def test_a_new_fleet_is_read_30_at_a_time_then_evenly_over_the_interval() -> None:
    fleet = sims(60)
    plan = schedule()

    assert len(plan.select(at(0), fleet, {}, slowdown=1, polls=1)) == 30
    read = fetched_all(fleet, at(0))
    # Nothing is stale yet: the steady share is ceil(60 / 15) = 4, all fresh.
    assert plan.select(at(1), fleet, read, slowdown=1, polls=1) == []
    assert len(plan.select(at(15), fleet, read, slowdown=1, polls=1)) == 4


def test_slowing_down_divides_the_batch() -> None:
    fleet = sims(60)

    assert len(schedule().select(at(0), fleet, {}, slowdown=4, polls=1)) == 8


def test_a_changed_list_state_jumps_the_queue_longest_unread_first() -> None:
    fleet = sims(60)
    plan = schedule()
    read = {iccid: at(index / 10) for index, iccid in enumerate(fleet)}
    plan.note_list(dict.fromkeys(fleet, "on"), list_ok=True, now=at(10))
    changed = {**dict.fromkeys(fleet, "on"), fleet[7]: "off", fleet[3]: "off"}
    plan.note_list(changed, list_ok=True, now=at(10))

    chosen = plan.select(at(10), fleet, read, slowdown=1, polls=1)

    assert chosen == [fleet[3], fleet[7]]
    # Asked for once: the next tick has nothing urgent left.
    assert plan.select(at(10.2), fleet, read, slowdown=1, polls=1) == []


def test_an_empty_list_changes_nothing() -> None:
    fleet = sims(3)
    plan = schedule()
    plan.note_list(dict.fromkeys(fleet, "on"), list_ok=True, now=at(0))
    plan.note_list({}, list_ok=True, now=at(1))
    plan.note_list(dict.fromkeys(fleet, "on"), list_ok=True, now=at(2))

    assert (
        plan.select(at(2), fleet, fetched_all(fleet, at(2)), slowdown=1, polls=1) == []
    )


def test_a_failing_sim_is_asked_after_1_2_4_ticks_and_asking_skips_that_once() -> None:
    fleet = sims(20)
    bad = fleet[0]
    plan = schedule(interval_minutes=60)
    read = fetched_all(fleet[1:], at(0))
    asked: list[float] = []
    for minute in range(12):
        if bad in plan.select(at(minute), fleet, read, slowdown=1, polls=1):
            asked.append(minute)
            fail(plan, at(minute), [bad], len(fleet))

    assert asked == [0, 1, 3, 7]
    assert plan.failed[bad].failures == 4

    plan.request_soon(bad, at(12))
    assert bad in plan.select(at(12), fleet, read, slowdown=1, polls=1)


def test_a_sim_1nce_does_not_know_waits_for_the_next_list_poll() -> None:
    fleet = sims(2)
    gone = fleet[1]
    plan = schedule()
    plan.record(
        at(0),
        TickResult(fetched=[fleet[0]], not_found={gone: LookupError()}, failed={}),
        fleet_size=2,
        polls=4,
    )
    read = {fleet[0]: at(0)}

    assert gone not in plan.select(at(30), fleet, read, slowdown=1, polls=4)
    assert gone in plan.select(at(30), fleet, read, slowdown=1, polls=5)


def test_three_sims_failing_in_a_row_is_an_outage_probed_one_sim_at_a_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    fleet = sims(60)
    plan = schedule(list_minutes=15)
    read = fetched_all(fleet, at(-15))
    probes: list[float] = []
    for minute in range(40):
        chosen = plan.select(at(minute), fleet, read, slowdown=1, polls=1)
        if plan.struggling:
            assert len(chosen) <= 1
            probes.extend([minute] if chosen else [])
        fail(plan, at(minute), chosen, len(fleet))

    # The failing batch at 0 (ceil(60 / 15) SIMs), then probes 1, 2, 4, 8,
    # 15 (not 16: the list interval) minutes apart.
    assert probes == [1, 3, 7, 15, 30]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("Details of 4 SIMs in a row could not be fetched")

    chosen = plan.select(at(45), fleet, read, slowdown=1, polls=1)
    succeed(plan, at(45), chosen, len(fleet))
    assert not plan.struggling
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == ["Details of SIMs are fetched from 1NCE again"]


def test_the_list_answering_brings_the_next_probe_forward() -> None:
    fleet = sims(45)
    plan = schedule()
    read = fetched_all(fleet, at(-15))
    fail(plan, at(0), plan.select(at(0), fleet, read, slowdown=1, polls=1), 45)
    assert plan.struggling
    fail(plan, at(1), plan.select(at(1), fleet, read, slowdown=1, polls=1), 45)
    assert plan.select(at(2), fleet, read, slowdown=1, polls=1) == []

    plan.note_list(dict.fromkeys(fleet, "on"), list_ok=True, now=at(2))

    assert len(plan.select(at(2), fleet, read, slowdown=1, polls=1)) == 1


def test_a_few_failing_sims_warn_once_and_say_once_when_all_are_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    fleet = sims(30)
    plan = schedule()
    plan.record(
        at(0),
        TickResult(
            fetched=fleet[2:10],
            not_found={},
            failed={fleet[0]: OSError("a"), fleet[1]: OSError("b")},
        ),
        fleet_size=30,
        polls=1,
    )
    succeed(plan, at(1), [fleet[0]], 30)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]

    succeed(plan, at(2), [fleet[1]], 30)

    assert [r.getMessage() for r in caplog.records][1:] == [
        "Details of all SIMs are fetched again"
    ]


def test_events_are_read_for_watched_sims_and_once_soon_after_watching() -> None:
    plan = schedule()
    fleet = sims(2)
    plan.watch_events(fleet[0])

    assert plan.events_due(fleet) == [fleet[0]]
    assert plan.reads_events(fleet[0])
    assert plan.events_due(fleet) == []
    assert not plan.reads_events(fleet[1])

    plan.unwatch_events(fleet[0])
    assert not plan.reads_events(fleet[0])
