"""gather_all: results in order, and nothing left running when one fails."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.one_nce.api.concurrency import gather_all


async def _answer[T](value: T, delay: float = 0) -> T:
    await asyncio.sleep(delay)
    return value


async def test_results_come_in_the_order_asked() -> None:
    assert await gather_all(_answer("a", 0.01), _answer(2), _answer(None)) == (
        "a",
        2,
        None,
    )


async def test_a_failure_cancels_and_awaits_the_others_before_it_is_raised() -> None:
    finished: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            finished.append(name)

    async def fail() -> None:
        raise LookupError("gone")

    with pytest.raises(LookupError, match="gone"):
        await gather_all(slow("a"), fail(), slow("b"))
    # Both were cancelled and ran their clean-up before the error came back.
    assert sorted(finished) == ["a", "b"]


async def test_cancelling_the_caller_cancels_every_request() -> None:
    started = asyncio.Event()
    cancelled: list[int] = []

    async def held(number: int) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise

    caller = asyncio.ensure_future(gather_all(held(1), held(2)))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert sorted(cancelled) == [1, 2]
