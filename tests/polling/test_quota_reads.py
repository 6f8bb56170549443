"""Quota reads after streamed traffic, on their own: settle, coalesce, retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from custom_components.one_nce.api.records import QuotaService
from custom_components.one_nce.polling.quota_reads import SETTLE, QuotaReads

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
SMS = ("8988228066000000001", QuotaService.SMS)
DATA = ("8988228066000000001", QuotaService.DATA)
OTHER = ("8988228066000000002", QuotaService.SMS)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def reads() -> QuotaReads:
    return QuotaReads(settle=SETTLE, longest=timedelta(hours=1))


def test_traffic_is_read_once_it_settled_and_once_only() -> None:
    plan = reads()
    for minute in (0, 5, 9):
        plan.note_traffic(SMS, at(minute))

    assert plan.due(at(23), limit=10) == []
    assert plan.due(at(24), limit=10) == [SMS]
    # Being read: not handed out twice.
    assert plan.due(at(30), limit=10) == []
    plan.read(SMS, at(24))
    assert SMS not in plan
    assert plan.due(at(90), limit=10) == []


def test_traffic_during_the_read_keeps_the_quota_waiting() -> None:
    plan = reads()
    plan.note_traffic(SMS, at(0))
    assert plan.due(at(15), limit=10) == [SMS]
    plan.note_traffic(SMS, at(16))
    plan.read(SMS, at(15))

    # 15 minutes after the traffic, but not sooner than the longest wait
    # (an hour here) after the read made for the traffic before.
    assert plan.due_at(SMS) == at(75)


def test_a_quota_event_is_read_at_once_longest_waiting_first_within_the_limit() -> None:
    plan = reads()
    plan.note_traffic(DATA, at(0))
    plan.note_traffic(OTHER, at(1))
    plan.note_now(SMS, at(20))

    assert plan.due(at(20), limit=2) == [DATA, OTHER]
    assert plan.due(at(20), limit=2) == [SMS]


def test_a_failed_read_waits_a_settling_time_and_skipped_sims_wait() -> None:
    plan = reads()
    plan.note_traffic(SMS, at(0))
    assert plan.due(at(15), limit=1, skip={SMS[0]}) == []
    assert plan.due(at(15), limit=1) == [SMS]
    plan.failed(SMS, at(15))

    assert plan.due_at(SMS) == at(30)
    plan.failed(DATA, at(15))  # not waiting: stays so
    assert DATA not in plan


def test_a_sim_that_left_is_forgotten() -> None:
    plan = reads()
    plan.note_traffic(SMS, at(0))
    plan.note_traffic(DATA, at(0))
    plan.note_traffic(OTHER, at(0))
    plan.forget_absent([OTHER[0]])

    assert SMS not in plan
    assert DATA not in plan
    assert plan.due_at(SMS) is None
    assert OTHER in plan


def test_a_sim_busy_all_day_has_each_quota_read_at_most_every_longest_wait() -> None:
    """Records every 15 minutes (a data session) or every 25: never a read each."""
    for spacing in (15, 25):
        plan = QuotaReads(settle=SETTLE, longest=timedelta(hours=6))
        read_at: list[float] = []
        for minute in range(0, 24 * 60):
            if minute % spacing == 0:
                plan.note_traffic(DATA, at(minute))
            for key in plan.due(at(minute), limit=10):
                plan.read(key, at(minute))
                read_at.append(minute)

        assert len(read_at) <= 4, (spacing, read_at)
        assert all(b - a >= 6 * 60 for a, b in pairwise(read_at))


def test_a_quota_event_is_read_at_once_even_right_after_a_read() -> None:
    plan = reads()
    plan.note_traffic(SMS, at(0))
    assert plan.due(at(15), limit=10) == [SMS]
    plan.read(SMS, at(15))

    plan.note_now(SMS, at(16))

    assert plan.due(at(16), limit=10) == [SMS]
