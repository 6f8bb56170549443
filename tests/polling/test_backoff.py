"""The one doubling back-off that details, usage and delivery tracking share."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.one_nce.polling.backoff import Backoff

MINUTE = timedelta(minutes=1)


def test_waits_double_from_the_first_up_to_the_longest() -> None:
    backoff = Backoff(MINUTE, 15 * MINUTE)

    assert [backoff.delay(n) for n in range(1, 7)] == [
        MINUTE,
        2 * MINUTE,
        4 * MINUTE,
        8 * MINUTE,
        15 * MINUTE,
        15 * MINUTE,
    ]


@pytest.mark.parametrize("attempt", [0, -3])
def test_no_failure_yet_waits_the_first(attempt: int) -> None:
    assert Backoff(MINUTE, timedelta(hours=1)).delay(attempt) == MINUTE


def test_thousands_of_failures_wait_the_longest_without_overflow() -> None:
    assert Backoff(MINUTE, timedelta(days=1)).delay(10_000) == timedelta(days=1)


def test_the_wait_after_a_wait_doubles_within_the_bounds() -> None:
    backoff = Backoff(MINUTE, timedelta(hours=1))

    gaps = [MINUTE]
    for _ in range(7):
        gaps.append(backoff.after(gaps[-1]))

    # Looks at 1, 3, 7, 15, 31, 63, 123, 183 minutes.
    assert [gap.total_seconds() / 60 for gap in gaps] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.after(timedelta(0)) == MINUTE
