"""The fleet's usage: 1NCE's v1 history, the fallback sources, the Data Streamer.

`coordinator.py` polls daily and imports statistics; `ledger.py` counts the
SIMs v1 has no usage for (SMS list, data quota) and keeps it in a Store;
`stream.py` keeps the Data Streamer's usage records and the days they own.
"""

from .coordinator import (
    UsageCoordinator,
    consecutive_days,
    month_start,
    months_back,
    usage_today,
)
from .ledger import async_remove_ledger

__all__ = [
    "UsageCoordinator",
    "async_remove_ledger",
    "consecutive_days",
    "month_start",
    "months_back",
    "usage_today",
]
