"""1NCE's Data Streamer: HTTP destinations that get usage or event records.

Each destination ("stream") is of one type, `usage` or `event`, and has a
URL, a Basic Auth Header value (sent as `Authorization: Basic <value>`) and a
shape (`nested`, 1NCE's documented form, or `flat`, the migration pages'
names). Records queue per stream and go out as one JSON array every
`flush_interval` seconds or as soon as `batch_size` (at most 3,000) are
waiting. Only HTTP 200 acknowledges a batch; anything else, a redirect (never
followed) or a connection error is retried with the same records (same ids)
after a doubling gap, and after `max_failures` failures in a row the stream
is FAILED and sends nothing until restarted, as in 1NCE's Portal. Records
keep queueing meanwhile and go out after the restart.

What is streamed comes from `activity.py`, which watches what the sandbox
simulates.

A stream added in-process with `deliver` (a "local" stream) hands each batch,
the JSON text it would POST, to that coroutine instead and takes the status it
returns as the receiver's answer: a benchmark that runs its receiver in the
same process without an HTTP server drains streams this way.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
import itertools
import json
import logging
from typing import Any, Final

import aiohttp

from .clock import Clock

_LOGGER = logging.getLogger(__name__)

MAX_BATCH: Final = 3000
_HISTORY: Final = 20


class StreamType(StrEnum):
    """What a stream carries; 1NCE removed combined streams."""

    USAGE = "usage"
    EVENT = "event"


class Shape(StrEnum):
    """How records are written: 1NCE's nested objects or the flat names."""

    NESTED = "nested"
    FLAT = "flat"


class StreamStatus(StrEnum):
    """What the Portal shows for a stream."""

    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


@dataclass(slots=True, kw_only=True)
class StreamSettings:
    """How every stream behaves; `PATCH /_sandbox/streams/settings` changes it."""

    flush_interval: float = 1.0
    """Seconds between batches while records wait (1NCE: "a regular interval")."""
    batch_size: int = MAX_BATCH
    """Records per POST at most; a full batch goes out at once."""
    retry_initial: float = 0.5
    """First gap before a failed batch is sent again; each next gap doubles."""
    retry_max_gap: float = 30.0
    max_failures: int = 5
    """Failures in a row after which the stream is FAILED."""
    timeout: float = 10.0
    """Seconds a POST may take before it counts as failed."""
    usage_interval: float = 900.0
    """Seconds between data-usage slices of online SIMs (1NCE: at most 15 min)."""
    max_queued: int = 100_000
    """Records a stream holds at most; the oldest are dropped beyond."""

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a JSON object of changes; unknown keys and bad values raise."""
        types = {item.name: item.type for item in fields(self)}
        for key, value in changes.items():
            if key not in types:
                raise ValueError(f"unknown setting {key!r}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
            if types[key] in ("int", int) and not isinstance(value, int):
                raise ValueError(f"{key} must be a whole number")
            if value < 0:
                raise ValueError(f"{key} must not be negative")
        if not 1 <= changes.get("batch_size", 1) <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BATCH}")
        if changes.get("max_failures", 1) < 1:
            raise ValueError("max_failures must be at least 1")
        for key, value in changes.items():
            is_float = types[key] in ("float", float)
            setattr(self, key, float(value) if is_float else value)

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as JSON."""
        return asdict(self)


@dataclass(slots=True, kw_only=True)
class Destination:
    """One configured stream: where, how, and how it is doing."""

    stream_id: int
    kind: StreamType
    name: str
    url: str
    auth: str
    shape: Shape
    status: StreamStatus = StreamStatus.ACTIVE
    remote_status: int | None = None
    """The last HTTP status the receiver answered ("Remote Status")."""
    last_error: str | None = None
    failures: int = 0
    """Failed attempts in a row."""
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    in_flight: list[dict[str, Any]] | None = None
    """The batch being sent; a retry sends exactly these records again."""
    counts: Counter[str] = field(default_factory=Counter)
    history: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=_HISTORY)
    )
    more: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    deliver: Callable[[str], Awaitable[int]] | None = None
    """A local receiver: takes the batch's JSON text, returns the HTTP status."""

    def as_dict(self, recent: int = 0) -> dict[str, Any]:
        """Describe the stream as the Portal's list would, plus counters."""
        state: dict[str, Any] = {
            "id": self.stream_id,
            "type": self.kind.value,
            "name": self.name,
            "url": self.url,
            "shape": self.shape.value,
            "status": self.status.value,
            "remote_status": self.remote_status,
            "last_error": self.last_error,
            "failures": self.failures,
            "queued": len(self.queue),
            "in_flight": len(self.in_flight or ()),
            "requests": self.counts["requests"],
            "records_sent": self.counts["records_sent"],
            "records_acknowledged": self.counts["records_acknowledged"],
            "batches_acknowledged": self.counts["batches_acknowledged"],
            "dropped": self.counts["dropped"],
        }
        if recent:
            state["recent"] = list(self.history)[-recent:]
        return state


class Streamer:
    """The account's streams: add, remove, restart, and the delivery loops."""

    def __init__(self, clock: Clock, settings: StreamSettings | None = None) -> None:
        """No streams yet; nothing is sent before `start`."""
        self._clock = clock
        self.settings = settings or StreamSettings()
        self.destinations: dict[int, Destination] = {}
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self.on_change: Callable[[], None] | None = None

    async def start(self) -> None:
        """Open the client session; streams added before now start too."""
        self._session = aiohttp.ClientSession()
        for destination in self.destinations.values():
            self._run(destination)

    async def stop(self) -> None:
        """Stop every loop and close the session."""
        for destination in self.destinations.values():
            await _cancel(destination)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def clear(self) -> None:
        """Forget queued records and counters (a sandbox reset); streams stay."""
        for destination in self.destinations.values():
            async with destination.lock:
                destination.queue.clear()
                destination.in_flight = None
                destination.counts.clear()
                destination.history.clear()

    def add(
        self,
        kind: StreamType,
        url: str,
        auth: str,
        shape: Shape,
        name: str = "",
        *,
        deliver: Callable[[str], Awaitable[int]] | None = None,
    ) -> Destination:
        """Create a stream; it receives what happens from now on.

        With `deliver`, batches go to that coroutine instead of `url` (see
        the module doc); retries, FAILED and the counters work as for HTTP.
        """
        stream_id = next(self._ids)
        destination = Destination(
            stream_id=stream_id,
            kind=kind,
            name=name or f"{kind.value} stream {stream_id}",
            url=url,
            auth=auth,
            shape=shape,
            deliver=deliver,
        )
        self.destinations[stream_id] = destination
        if self._session is not None:
            self._run(destination)
        if self.on_change is not None:
            self.on_change()
        return destination

    async def remove(self, stream_id: int) -> None:
        """Delete a stream and what it still held."""
        destination = self.destinations.pop(stream_id)
        await _cancel(destination)

    def restart(self, stream_id: int) -> Destination:
        """Start a FAILED (or running) stream again; held records go out."""
        destination = self.destinations[stream_id]
        destination.status = StreamStatus.ACTIVE
        destination.failures = 0
        destination.last_error = None
        if self._session is not None and (
            destination.task is None or destination.task.done()
        ):
            self._run(destination)
        destination.more.set()
        return destination

    def enqueue(
        self, kind: StreamType, records: Callable[[Shape], dict[str, Any]]
    ) -> None:
        """Queue one record on every stream of `kind`, in that stream's shape."""
        for destination in self.destinations.values():
            if destination.kind is not kind:
                continue
            destination.queue.append(records(destination.shape))
            if len(destination.queue) > self.settings.max_queued:
                destination.queue.popleft()
                destination.counts["dropped"] += 1
            if len(destination.queue) >= self.settings.batch_size:
                destination.more.set()

    async def send_once(self, stream_id: int) -> dict[str, Any]:
        """Send one batch now (tests, `flush`): the retry if one waits, else new."""
        destination = self.destinations[stream_id]
        await self._attempt(destination)
        return destination.as_dict(recent=1)

    def _run(self, destination: Destination) -> None:
        destination.task = asyncio.get_running_loop().create_task(
            self._loop(destination)
        )

    async def _loop(self, destination: Destination) -> None:
        """Wait for a batch, send it, retry it with growing gaps; stop on FAILED."""
        gap = self.settings.retry_initial
        while destination.status is StreamStatus.ACTIVE:
            if destination.in_flight is not None:
                await self._clock.sleep(gap)
                gap = min(gap * 2, self.settings.retry_max_gap)
            else:
                gap = self.settings.retry_initial
                await self._wait_for_records(destination)
            await self._attempt(destination)

    async def _wait_for_records(self, destination: Destination) -> None:
        """Return when a batch is full, or the interval passed with records waiting."""
        while len(destination.queue) < self.settings.batch_size:
            destination.more.clear()
            timer = asyncio.ensure_future(
                self._clock.sleep(self.settings.flush_interval)
            )
            full = asyncio.ensure_future(destination.more.wait())
            try:
                done, _ = await asyncio.wait(
                    {timer, full}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in (timer, full):
                    waiter.cancel()
                await asyncio.gather(timer, full, return_exceptions=True)
            if timer in done and destination.queue:
                return
            if destination.in_flight is not None:
                return

    async def _attempt(self, destination: Destination) -> bool:
        """POST the batch in flight (taking one from the queue if none); True on 200."""
        async with destination.lock:
            if destination.status is StreamStatus.FAILED:
                return False
            if destination.in_flight is None:
                if not destination.queue:
                    return True
                size = min(self.settings.batch_size, len(destination.queue))
                destination.in_flight = [
                    destination.queue.popleft() for _ in range(size)
                ]
            batch = destination.in_flight
            status, error = await self._post(destination, batch)
            destination.counts["requests"] += 1
            destination.counts["records_sent"] += len(batch)
            destination.remote_status = status
            destination.last_error = error
            destination.history.append(
                {
                    "records": len(batch),
                    "first_id": batch[0].get("id"),
                    "status": status,
                    "error": error,
                }
            )
            if status == 200:
                destination.in_flight = None
                destination.failures = 0
                destination.counts["records_acknowledged"] += len(batch)
                destination.counts["batches_acknowledged"] += 1
                return True
            destination.failures += 1
            if destination.failures >= self.settings.max_failures:
                destination.status = StreamStatus.FAILED
                _LOGGER.warning(
                    "Stream %s FAILED after %d failures (last: %s)",
                    destination.stream_id,
                    destination.failures,
                    status or error,
                )
            return False

    async def _post(
        self, destination: Destination, batch: list[dict[str, Any]]
    ) -> tuple[int | None, str | None]:
        if destination.deliver is not None:
            try:
                return await destination.deliver(json.dumps(batch)), None
            except Exception as err:  # a receiver that broke: a failure, retried
                return None, type(err).__name__
        assert self._session is not None, "streams not started"
        try:
            async with self._session.post(
                destination.url,
                data=json.dumps(batch),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Basic {destination.auth}",
                },
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as err:
            return None, type(err).__name__


async def _cancel(destination: Destination) -> None:
    task = destination.task
    destination.task = None
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
