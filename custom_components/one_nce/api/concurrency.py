"""Run requests side by side without leaving any behind when one fails.

`asyncio.gather` hands on the first failure at once and leaves its siblings
running: a SIM's quota read would go on after its status read failed, after
the caller gave up, even after the program that asked has unloaded. Here a
failure cancels the siblings and waits until they are gone before it is
raised, so that whoever awaited the group owns everything it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, overload


@overload
async def gather_all[A, B](a: Awaitable[A], b: Awaitable[B], /) -> tuple[A, B]: ...


@overload
async def gather_all[A, B, C](
    a: Awaitable[A], b: Awaitable[B], c: Awaitable[C], /
) -> tuple[A, B, C]: ...


@overload
async def gather_all[A, B, C, D](
    a: Awaitable[A], b: Awaitable[B], c: Awaitable[C], d: Awaitable[D], /
) -> tuple[A, B, C, D]: ...


@overload
async def gather_all[T](*awaitables: Awaitable[T]) -> tuple[T, ...]: ...


async def gather_all(*awaitables: Awaitable[Any]) -> tuple[Any, ...]:
    """Await all at once and return their results in order.

    On the first failure (or if the caller is cancelled) every one still
    running is cancelled and awaited; then the failure is raised as it was,
    not wrapped in an exception group, so callers catch the errors they know.
    """
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
