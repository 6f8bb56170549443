"""The repair issue when a Data Streamer that delivered has gone quiet for a day.

A stream that fails too often stops (FAILED in the Portal) and stays stopped
until someone restarts it: from Home Assistant it looks like a quiet fleet.
So once a stream kind has delivered for this entry (it is configured), a day
without a batch of its records (readable or not: a stream delivering what
cannot be read is not quiet) while the details show a SIM online raises an
issue per kind that says what to check; the next batch of that kind clears
it. The issue
stays while the entry is unloaded (nothing clears it then) and goes with the
entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from .streamer import Streamer, StreamKind

SILENCE: Final = timedelta(days=1)
CHECK_INTERVAL: Final = timedelta(hours=1)
ISSUE_STREAM_SILENT: Final = "streamer_silent"


def issue_id(entry_id: str, kind: StreamKind) -> str:
    """Name the issue of one stream kind of one entry."""
    return f"{ISSUE_STREAM_SILENT}_{kind.value}_{entry_id}"


@callback
def async_watch_streamer(
    hass: HomeAssistant,
    entry: ConfigEntry,
    streamer: Streamer,
    sims_online: Callable[[], bool],
) -> None:
    """Check every hour, and after each delivery, until the entry unloads.

    Silence is counted from the later of the last delivery and now: after a
    downtime of Home Assistant, 1NCE gets a day to deliver again (it retries
    what it could not send) before the issue is raised.
    """
    loaded_at = dt_util.utcnow()

    @callback
    def check(_now: datetime | None = None) -> None:
        now = dt_util.utcnow()
        for kind in StreamKind:
            last = streamer.last_heard(kind)
            if last is None:
                continue
            if now - max(last, loaded_at) < SILENCE:
                ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id, kind))
            elif sims_online():
                ir.async_create_issue(
                    hass,
                    DOMAIN,
                    issue_id(entry.entry_id, kind),
                    is_fixable=False,
                    is_persistent=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=f"{ISSUE_STREAM_SILENT}_{kind.value}",
                    translation_placeholders={"title": entry.title},
                )

    entry.async_on_unload(streamer.async_add_delivery_listener(check))
    entry.async_on_unload(
        async_track_time_interval(hass, check, CHECK_INTERVAL, cancel_on_shutdown=True)
    )
    check()


def async_remove_streamer_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove a removed entry's issues."""
    for kind in StreamKind:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, kind))
