"""The shared limiter: at most `rate` requests in any `period`, and pauses for all."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.one_nce.api import (
    OneNceClient,
    OneNceRateLimitError,
    RateLimiter,
)
from custom_components.one_nce.api.client import (
    MAX_RETRY_AFTER,
    RATE_LIMIT,
    RATE_LIMIT_WINDOW,
)

from .conftest import FakeTime


def make_limiter(
    fake_time: FakeTime, rate: int = 10, period: float = 1.0
) -> RateLimiter:
    return RateLimiter(rate, period, clock=fake_time.clock, sleep=fake_time.sleep)


async def admitted_times(
    limiter: RateLimiter, fake_time: FakeTime, n: int
) -> list[float]:
    """Acquire n times concurrently; return the virtual time of each admission."""
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(fake_time.now)

    await asyncio.gather(*(one() for _ in range(n)))
    return times


async def test_burst_up_to_the_rate_passes_without_waiting(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time)
    times = await admitted_times(limiter, fake_time, 10)
    assert times == [1000.0] * 10
    assert fake_time.sleeps == []


async def test_request_beyond_the_rate_waits_for_the_window(
    fake_time: FakeTime,
) -> None:
    limiter = make_limiter(fake_time)
    times = await admitted_times(limiter, fake_time, 11)
    assert times[-1] == 1001.0
    assert fake_time.slept == 1.0


async def test_window_slides_with_the_oldest_request(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time, rate=2, period=1.0)
    await limiter.acquire()  # t=1000.0
    fake_time.advance(0.6)
    await limiter.acquire()  # t=1000.6
    await limiter.acquire()  # must wait until the first one leaves: t=1001.0
    assert fake_time.now == pytest.approx(1001.0)
    await limiter.acquire()  # and this one until the second leaves: t=1001.6
    assert fake_time.now == pytest.approx(1001.6)


async def test_no_period_ever_holds_more_than_rate(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time, rate=3, period=1.0)
    times = await admitted_times(limiter, fake_time, 20)
    for start in times:
        assert sum(start <= t < start + 1.0 for t in times) <= 3


async def test_idle_limiter_does_not_wait(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time)
    await admitted_times(limiter, fake_time, 10)
    fake_time.advance(1.0)
    await limiter.acquire()
    assert fake_time.sleeps == []


async def test_pause_holds_back_every_caller_until_it_ends(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time)
    limiter.pause(5.0)
    assert limiter.paused_for == 5.0
    times = await admitted_times(limiter, fake_time, 3)
    assert times == [1005.0] * 3
    assert limiter.paused_for == 0.0


async def test_shorter_pause_never_cuts_a_longer_one(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time)
    limiter.pause(5.0)
    limiter.pause(1.0)
    await limiter.acquire()
    assert fake_time.now == 1005.0


async def test_waiters_are_served_in_arrival_order(fake_time: FakeTime) -> None:
    limiter = make_limiter(fake_time, rate=1, period=1.0)
    order: list[int] = []

    async def one(index: int) -> None:
        await limiter.acquire()
        order.append(index)

    await asyncio.gather(*(one(index) for index in range(5)))
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("rate", "period"), [(0, 1.0), (-1, 1.0), (10, 0.0), (10, -1.0)]
)
def test_impossible_limits_are_refused(rate: int, period: float) -> None:
    with pytest.raises(ValueError, match="rate must be"):
        RateLimiter(rate, period)


async def test_limiter_without_injected_clock_runs_on_the_event_loop() -> None:
    limiter = RateLimiter(rate=2, period=60.0)
    await limiter.acquire()
    await limiter.acquire()
    limiter.pause(30.0)
    assert 29.0 < limiter.paused_for <= 30.0


def test_client_tests_run_against_the_real_limiter(client: OneNceClient) -> None:
    """The override in conftest.py is in effect: 10 per 1.25 s, not 10,000."""
    limiter = client.rate_limiter
    assert (limiter.rate, limiter.period) == (RATE_LIMIT, RATE_LIMIT_WINDOW)
    assert limiter.max_pause == MAX_RETRY_AFTER


async def test_pause_longer_than_max_pause_refuses_at_once(
    fake_time: FakeTime,
) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep, max_pause=60.0)
    limiter.pause(300)
    with pytest.raises(OneNceRateLimitError) as caught:
        await limiter.acquire()
    assert caught.value.retry_after == 300.0
    assert fake_time.sleeps == []


async def test_pause_within_max_pause_is_waited_out(fake_time: FakeTime) -> None:
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep, max_pause=60.0)
    limiter.pause(300)
    fake_time.advance(250)
    await limiter.acquire()
    assert fake_time.now == 1300.0


async def test_a_place_is_held_while_in_flight_and_counted_from_the_answer(
    fake_time: FakeTime,
) -> None:
    """However late the network delivers the first requests, the 11th leaves
    only a period after the earliest answer: 1NCE never counts 11 at once."""
    limiter = make_limiter(fake_time, rate=10, period=1.0)
    answered = asyncio.Event()
    sent_at: list[float] = []

    async def slow_request() -> None:
        async with limiter.slot():
            sent_at.append(fake_time.now)
            await answered.wait()

    first_ten = [asyncio.ensure_future(slow_request()) for _ in range(10)]
    await asyncio.sleep(0)
    eleventh = asyncio.ensure_future(admitted_times(limiter, fake_time, 1))
    fake_time.advance(5.0)  # the ten are five seconds in flight
    await asyncio.sleep(0)
    assert not eleventh.done()

    answered.set()
    await asyncio.gather(*first_ten)
    assert await eleventh == [1006.0]  # answers at 1005.0, plus the period
    assert sent_at == [1000.0] * 10


async def test_a_place_is_given_back_when_its_request_is_cancelled(
    fake_time: FakeTime,
) -> None:
    limiter = make_limiter(fake_time, rate=1, period=1.0)

    async def held() -> None:
        async with limiter.slot():
            await asyncio.Event().wait()

    request = asyncio.ensure_future(held())
    await asyncio.sleep(0)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request

    assert await admitted_times(limiter, fake_time, 1) == [1001.0]
