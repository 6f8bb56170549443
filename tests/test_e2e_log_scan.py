"""The end-to-end leg's verdict on Home Assistant's log (scripts/e2e_check.py).

The leg passes only if its scan finds nothing about the integration; a scan
that misreads the log would pass everything. These lines are in the format
Home Assistant 2026.11 writes (time with offset, level, thread, logger).
"""

from __future__ import annotations

from collections.abc import Iterator
import importlib
from pathlib import Path
import sys
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
STAMP = "2026-12-07 01:45:29.367+00:00"
LOADER = (
    f"{STAMP} WARNING (SyncWorker_0) [homeassistant.loader] We found a custom "
    "integration one_nce which has not been tested by Home Assistant. This "
    "component might cause stability problems, be sure to disable it if you "
    "experience issues with Home Assistant"
)
UNRELATED = (
    f"{STAMP} ERROR (MainThread) [homeassistant.setup] Setup failed for 'ffmpeg': "
    "Unable to import component: No module named 'haffmpeg'"
)


@pytest.fixture(scope="module")
def e2e() -> Iterator[ModuleType]:
    """scripts/e2e_check.py, which imports its neighbours by their bare names."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield importlib.import_module("e2e_check")
    finally:
        sys.path.remove(str(SCRIPTS))


def test_a_clean_start_has_only_the_allowed_line(e2e: ModuleType) -> None:
    debug = f"{STAMP} DEBUG (MainThread) [custom_components.one_nce] Fetching fleet"
    failing, allowed, others = e2e.scan("\n".join([LOADER, debug, UNRELATED]))

    assert failing == []
    assert allowed == [LOADER]
    assert others == [UNRELATED]


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(
            f"{STAMP} WARNING (MainThread) [homeassistant.helpers.frame] Detected "
            "that custom integration 'one_nce' has an update listener and should "
            "use it for scheduling a reload. This will stop working in Home "
            "Assistant 2026.12.0, please create a bug report",
            id="deprecation-report",
        ),
        pytest.param(
            f"{STAMP} INFO (MainThread) [homeassistant.helpers.deprecation] "
            "one_nce uses async_get_device, which is deprecated",
            id="deprecation-at-info",
        ),
        pytest.param(
            f"{STAMP} WARNING (MainThread) [custom_components.one_nce] 1NCE "
            "answered 500 for the SIM list",
            id="our-own-warning",
        ),
        pytest.param(
            f"{STAMP} ERROR (MainThread) [homeassistant] Error doing job: Task "
            "exception was never retrieved\nTraceback (most recent call last):\n"
            '  File "/config/custom_components/one_nce/coordinator.py", line 1\n'
            "KeyError: 'iccid'",
            id="traceback-through-our-code",
        ),
        pytest.param(
            "Traceback (most recent call last):\n"
            '  File "/config/custom_components/one_nce/__init__.py", line 1',
            id="output-outside-the-log-format",
        ),
    ],
)
def test_anything_else_about_the_integration_fails_the_leg(
    e2e: ModuleType, record: str
) -> None:
    failing, allowed, _ = e2e.scan("\n".join([record, LOADER, UNRELATED]))

    assert failing == [record]
    assert allowed == [LOADER]


def test_output_joined_to_the_allowed_line_fails_the_leg(e2e: ModuleType) -> None:
    traceback = 'Traceback (most recent call last):\n  File "/srv/x.py", line 1'
    failing, allowed, _ = e2e.scan(f"{LOADER}\n{traceback}")

    assert failing == [f"{LOADER}\n{traceback}"]
    assert allowed == []


def test_our_own_debug_words_are_no_deprecation_report(e2e: ModuleType) -> None:
    record = (
        f"{STAMP} DEBUG (MainThread) [custom_components.one_nce.usage] 1NCE's "
        "v1 usage endpoint is deprecated by 1NCE"
    )
    failing, _, others = e2e.scan(record)

    assert failing == []
    assert others == []
