"""The deprecation guard tells Home Assistant's reports about us from the rest."""

from __future__ import annotations

import logging

from .deprecation_guard import deprecation_reports


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord(
        "homeassistant.helpers.frame", logging.WARNING, __file__, 1, message, (), None
    )


def test_a_report_naming_this_integration_counts() -> None:
    """Home Assistant's own wording, as report_usage logs it (2026.10)."""
    report = _record(
        "Detected that custom integration 'one_nce' calls "
        "`device_registry.async_get_device`, which is deprecated. This will stop "
        "working in Home Assistant 2027.8.0, please create a bug report"
    )
    assert deprecation_reports([report]) == [
        f"homeassistant.helpers.frame: {report.getMessage()}"
    ]
    path = _record(
        "custom_components/one_nce/entity.py uses something that will stop working"
    )
    assert len(deprecation_reports([path])) == 1


def test_other_integrations_and_other_warnings_do_not_count() -> None:
    assert (
        deprecation_reports(
            [
                _record(
                    "Detected that custom integration 'other' calls a deprecated API"
                ),
                _record("one_nce: 1NCE did not answer; retrying"),
                _record("someone_nce_like is deprecated"),
            ]
        )
        == []
    )
