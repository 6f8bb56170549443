"""The Data Streamer's record store: what it remembers survives, compacts, expires."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.one_nce.receiving import journal
from custom_components.one_nce.receiving.records import RecordStore
from homeassistant.core import HomeAssistant


async def open_store(hass: HomeAssistant, path: Path) -> RecordStore:
    store = RecordStore(hass, path)
    await store.async_load()
    return store


async def test_many_batches_leave_a_compact_file_that_reads_back(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches do not grow the file without end (compaction made early)."""
    monkeypatch.setattr(journal, "COMPACT_MIN_RECORDS", 20)
    path = tmp_path / "one_nce.entry.streamer"
    store = await open_store(hass, path)
    for record_id in range(250):
        await store.async_store([("usage", str(record_id))], {"usage"})
    await store.async_close()

    lines = path.read_bytes().count(b"\n")
    again = await open_store(hass, path)
    fresh = await again.async_store(
        [("usage", "17"), ("usage", "249"), ("usage", "250")], {"usage"}
    )
    await again.async_close()

    # All ids arrived within the hour: one line holds them, then the new ones.
    assert lines <= 25
    assert fresh == {("usage", "250")}
    assert len(again) == 251


async def test_a_torn_last_line_is_skipped_and_the_rest_kept(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """A crash mid-write loses only the line it was writing."""
    path = tmp_path / "one_nce.entry.streamer"
    store = await open_store(hass, path)
    await store.async_store([("events", "1")], {"events"})
    await store.async_close()
    with path.open("ab") as file:
        file.write(b'{"at": 1, "ids": {"events": ["2"')
        file.write(b'\n{"at": "x", "ids": {}}\n')

    again = await open_store(hass, path)
    fresh = await again.async_store([("events", "1"), ("events", "2")], {"events"})
    await again.async_close()

    assert fresh == {("events", "2")}
    assert again.last_delivery("events") is not None
    assert again.last_delivery("usage") is None


async def test_a_closed_store_refuses_to_store(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """After the entry unloads nothing can be acknowledged as stored."""
    store = await open_store(hass, tmp_path / "store")
    await store.async_close()

    try:
        await store.async_store([("usage", "1")], {"usage"})
    except OSError:
        refused = True
    else:
        refused = False

    assert refused


async def test_a_batch_of_known_records_still_counts_as_a_delivery(
    hass: HomeAssistant, tmp_path: Path, freezer: FrozenDateTimeFactory
) -> None:
    """A stream that only resends is alive: its last delivery moves on."""
    store = await open_store(hass, tmp_path / "store")
    await store.async_store([("usage", "1")], {"usage"})
    first = store.last_delivery("usage")
    freezer.tick(timedelta(hours=3))
    async_fire_time_changed(hass)

    assert await store.async_store([("usage", "1")], {"usage"}) == set()

    last = store.last_delivery("usage")
    await store.async_close()
    assert first is not None
    assert last is not None
    assert last - first == timedelta(hours=3)
