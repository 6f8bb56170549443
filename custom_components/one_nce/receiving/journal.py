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
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes
from homeassistant.util.json import json_loads

from ..const import LOGGER

type Record = dict[str, Any]

# Rewrite the file once it holds this many times the live records (and at
# least this many lines), so that its size stays proportional to what is kept
# and the rewrite costs O(1) per appended record on average.
COMPACT_FACTOR: Final = 2
COMPACT_MIN_RECORDS: Final = 1000

_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _open(path: Path) -> int:
    """Open the file for appending; only the owner may read it (it holds SMS)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def _write_synced(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    _sync(fd)


def _append(path: Path, fd: int | None, data: bytes) -> int:
    """Append and wait until the disk has it; return the open file (executor).

    The file stays open between writes and the records are encoded before:
    each call is two system calls, so it rarely waits for the event loop to
    hand over the GIL.
    """
    if fd is not None:
        _write_synced(fd, data)
        return fd
    fd = _open(path)
    try:
        _write_synced(fd, data)
    except OSError:
        os.close(fd)
        raise
    return fd


def _replace(path: Path, fd: int | None, data: bytes) -> int:
    """Write a complete new file, move it into place and open it (executor)."""
    if fd is not None:
        os.close(fd)
    temporary = path.with_name(f"{path.name}.new")
    new = _open(temporary)
    try:
        os.ftruncate(new, 0)
        _write_synced(new, data)
    finally:
        os.close(new)
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return _open(path)


def _encode(records: list[Record]) -> bytes:
    return b"".join([json_bytes(record) + b"\n" for record in records])


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
        self._commits: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._fd: int | None = None
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

    async def async_replay(self, replay: Callable[[Record], None], what: str) -> None:
        """Read the records back into their owner's state, oldest first.

        A record the owner cannot read (a line of an older or damaged file)
        is skipped and counted in one warning naming `what` was restored.
        """
        unreadable = 0
        for record in await self.async_load():
            try:
                replay(record)
            except (KeyError, TypeError, ValueError):
                unreadable += 1
        if unreadable:
            LOGGER.warning("Skipped %d unreadable records of %s", unreadable, what)

    def append(self, record: Record) -> None:
        """Queue a record that nobody waits for; it goes out with the next write."""
        self._pending.append(record)
        self._start_writer()

    def write[T](self, record: Record, on_commit: Callable[[], T]) -> asyncio.Future[T]:
        """Queue a record; the future gets `on_commit()`'s result once it is on disk.

        `on_commit` runs right after the write, whether or not the caller still
        waits (a request may be cancelled), so the owner's state always
        matches the file. Each caller has a future of its own: one cancelled
        waiter cannot take the others' answers with it.
        """
        future: asyncio.Future[T] = self._hass.loop.create_future()
        self._pending.append(record)
        self._commits.append((on_commit, future))
        self._start_writer()
        return future

    async def async_close(self) -> None:
        """Wait until everything queued so far is written, then close the file."""
        while (writer := self._writer) is not None and not writer.done():
            await asyncio.shield(writer)
        if (fd := self._fd) is not None:
            self._fd = None
            await self._hass.async_add_executor_job(os.close, fd)

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            # An eagerly started writer can finish before this assignment.
            self._writer = self._hass.async_create_task(
                self._async_write(), "one_nce journal write", eager_start=True
            )

    async def _async_write(self) -> None:
        while self._pending:
            records, commits = self._pending, self._commits
            self._pending, self._commits = [], []
            try:
                await self._async_write_batch(records)
            except Exception as err:  # the waiters must hear of any failure
                self._rewrite = True
                for _on_commit, future in commits:
                    if not future.done():
                        future.set_exception(err)
                continue
            for on_commit, future in commits:
                try:
                    result = on_commit()
                except Exception as err:  # a bug; its request fails, no other
                    LOGGER.exception("Error handling a stored 1NCE message")
                    if not future.done():
                        future.set_exception(err)
                    continue
                if not future.done():
                    future.set_result(result)

    async def _async_write_batch(self, records: list[Record]) -> None:
        if self._rewrite or self._lines >= max(
            COMPACT_MIN_RECORDS, COMPACT_FACTOR * self._live
        ):
            live = self._snapshot()
            fd, self._fd = self._fd, None
            self._fd = await self._hass.async_add_executor_job(
                _replace, self._path, fd, _encode([*live, *records])
            )
            self._rewrite = False
            self._live = len(live)
            self._lines = len(live) + len(records)
            return
        self._fd = await self._hass.async_add_executor_job(
            _append, self._path, self._fd, _encode(records)
        )
        self._lines += len(records)
