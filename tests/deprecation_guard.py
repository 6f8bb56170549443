"""Fail any test during which Home Assistant reports a deprecation of ours.

Home Assistant announces an API's end by logging that a custom integration
"calls ..., which is deprecated" or that something "will stop working in Home
Assistant X"; the code keeps working until release X, so only this log line
shows it. On the newest release such a line names what the oldest one cannot
do the new way, which is what `custom_components/one_nce/compat.py` is for.

The fixture is autouse through tests/conftest.py. It listens on the root
logger with its own handler rather than through `caplog`, so tests that clear
or re-level `caplog` cannot hide a report from it. It checks every release
(a release without the newer API does not log about the older one).
"""

from __future__ import annotations

from collections.abc import Generator
import logging
import re

import pytest

from custom_components.one_nce.const import DOMAIN

# Home Assistant's wording (helpers/frame.py report_usage, helpers/deprecation.py).
_DEPRECATION = re.compile(r"deprecated|will stop working", re.IGNORECASE)
# How those reports name the integration: by domain, module path or file path.
_OURS = re.compile(rf"\b{DOMAIN}\b|custom_components[./]{DOMAIN}")


class _Recorder(logging.Handler):
    """Keep every record, to be searched once the test is over."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def deprecation_reports(records: list[logging.LogRecord]) -> list[str]:
    """The messages among `records` that report a deprecation of this integration."""
    reports = []
    for record in records:
        message = record.getMessage()
        if _DEPRECATION.search(message) and _OURS.search(message):
            reports.append(f"{record.name}: {message}")
    return reports


@pytest.fixture(autouse=True)
def fail_on_deprecation_reports() -> Generator[None]:
    """Fail the test if Home Assistant logged a deprecation of ours during it."""
    recorder = _Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        yield
    finally:
        root.removeHandler(recorder)
    if reports := deprecation_reports(recorder.records):
        pytest.fail(
            "Home Assistant reported a deprecation in this integration:\n"
            + "\n".join(reports),
            pytrace=False,
        )
