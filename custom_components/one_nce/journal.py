"""An append-only file of what the forwarder accepted, written before 1NCE hears 200.

1NCE counts a message as delivered once it gets a 2xx and never sends it
again, so the record of the message has to be on disk first. Home Assistant's
`Store` does not fit that: it rewrites its whole file on every save (the cost
grows with every id kept for de-duplication) and only logs a failed write. Here
each write appends just the new records, a failed write fails every request
that waited for it (so 1NCE retries), and requests that arrive together share
one write and one `fdatasync` (group commit): under load, the cost of syncing
is spread over the whole batch instead of being paid per message.

The file is JSON lines. When it has grown well past what its owner still
needs, the next write replaces it with a compact copy of the live state; a
line left torn by a crash is skipped on reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import os
from pathlib import Path
from typing import IO, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes
from homeassistant.util.json import json_loads

from .const import LOGGER

type Record = dict[str, Any]

# Rewrite the file once it holds this many times the live records (and at
# least this many lines), so that its size stays proportional to what is kept
# and the rewrite costs O(1) per appended record on average.
COMPACT_FACTOR: Final = 2
COMPACT_MIN_RECORDS: Final = 1000

_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _private(path: str, flags: int) -> int:
    """Open files only the owner can read: they hold the text of SMS."""
    return os.open(path, flags, 0o600)


def _encode(records: list[Record]) -> bytes:
    return b"".join([json_bytes(record) + b"\n" for record in records])


def _write_synced(file: IO[bytes], data: bytes) -> None:
    file.write(data)
    file.flush()
    _sync(file.fileno())


def _append(path: Path, records: list[Record]) -> None:
    """Append records and wait until the disk has them (runs in the executor)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab", opener=_private) as file:
        _write_synced(file, _encode(records))


def _replace(path: Path, records: list[Record]) -> None:
    """Write a complete new file and move it into place (runs in the executor)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.new")
    with open(temporary, "wb", opener=_private) as file:
        _write_synced(file, _encode(records))
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _read(path: Path) -> tuple[list[Record], int]:
    """Return the readable records in order, and how many lines were not."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    records: list[Record] = []
    unreadable = 0
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = json_loads(line)
        except ValueError:
            unreadable += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            unreadable += 1
    return records, unreadable


def _consume(future: asyncio.Future[None]) -> None:
    """Mark a batch's failure as seen: records queued without a waiter are fine."""
    if not future.cancelled():
        future.exception()


class Journal:
    """A JSON-lines file whose writes are shared by the requests that wait on them.

    `snapshot` returns the owner's live state as records; it is used to
    compact the file and is called between writes, never during one.
    """

    def __init__(
        self, hass: HomeAssistant, path: Path, snapshot: Callable[[], list[Record]]
    ) -> None:
        """Remember where the file lives; nothing is read until `async_load`."""
        self._hass = hass
        self._path = path
        self._snapshot = snapshot
        self._pending: list[Record] = []
        self._on_commit: list[Callable[[], None]] = []
        self._batch: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._lines = 0
        self._live = 0
        # After a failed write the file may end in a torn line; the next write
        # replaces the file instead of appending to it.
        self._rewrite = False

    async def async_load(self) -> list[Record]:
        """Read the records back, oldest first."""
        records, unreadable = await self._hass.async_add_executor_job(_read, self._path)
        if unreadable:
            LOGGER.warning(
                "Skipped %d unreadable lines in %s", unreadable, self._path.name
            )
        self._lines = len(records) + unreadable
        return records

    def append(
        self, record: Record, on_commit: Callable[[], None] | None = None
    ) -> asyncio.Future[None]:
        """Queue a record; the future is done once it is on disk.

        `on_commit` runs right after the write succeeded and before the future
        resolves, whether or not anybody still waits: the owner's state then
        matches the file even if the request that caused it was cancelled. The
        future is shared by the whole batch; await it through
        `asyncio.shield`, so that one cancelled waiter cannot cancel it.
        """
        self._pending.append(record)
        if on_commit is not None:
            self._on_commit.append(on_commit)
        if self._batch is None:
            self._batch = self._hass.loop.create_future()
            self._batch.add_done_callback(_consume)
        batch = self._batch
        if self._writer is None:
            self._writer = self._hass.async_create_task(
                self._async_write(), "one_nce journal write", eager_start=True
            )
        return batch

    async def async_close(self) -> None:
        """Wait until everything queued so far is written."""
        while (writer := self._writer) is not None:
            await asyncio.shield(writer)

    async def async_remove(self) -> None:
        """Delete the file, once nothing is queued for it any more."""
        await self.async_close()
        await self._hass.async_add_executor_job(self._path.unlink, True)

    async def _async_write(self) -> None:
        try:
            while self._pending:
                records, on_commit, batch = self._pending, self._on_commit, self._batch
                self._pending, self._on_commit, self._batch = [], [], None
                assert batch is not None
                try:
                    await self._async_write_batch(records)
                except Exception as err:  # the waiters must hear of any failure
                    self._rewrite = True
                    batch.set_exception(err)
                    continue
                for callback in on_commit:
                    try:
                        callback()
                    except Exception:
                        LOGGER.exception("Error handling a stored 1NCE message")
                batch.set_result(None)
        finally:
            self._writer = None

    async def _async_write_batch(self, records: list[Record]) -> None:
        if self._rewrite or self._lines >= max(
            COMPACT_MIN_RECORDS, COMPACT_FACTOR * self._live
        ):
            live = self._snapshot()
            await self._hass.async_add_executor_job(
                _replace, self._path, [*live, *records]
            )
            self._rewrite = False
            self._live = len(live)
            self._lines = len(live) + len(records)
            return
        await self._hass.async_add_executor_job(_append, self._path, records)
        self._lines += len(records)
