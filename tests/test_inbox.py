"""The inbox and its journal on their own: what survives, what is forgotten."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import timedelta
import json
import logging
from pathlib import Path
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.one_nce.api import DeliveryReport, DeliveryStatus, MoSms
from custom_components.one_nce.api.forwarder import parse_mo_sms
from custom_components.one_nce.receiving.inbox import InboundSms, Inbox
from custom_components.one_nce.receiving.journal import Journal
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .forwarder_common import mo_part, mo_sms, report


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the journal lives."""
    return tmp_path / "one_nce.test.inbox"


@pytest.fixture
def received() -> list[InboundSms]:
    """What the inbox handed on."""
    return []


@pytest.fixture
def reported() -> list[DeliveryReport]:
    """The delivery reports the inbox handed on."""
    return []


@pytest.fixture
async def open_inbox(
    hass: HomeAssistant,
    path: Path,
    received: list[InboundSms],
    reported: list[DeliveryReport],
) -> AsyncGenerator[Callable[[], Awaitable[Inbox]]]:
    """Open inboxes on the same journal, as successive loads of an entry do."""
    opened: list[Inbox] = []

    async def open_one() -> Inbox:
        inbox = Inbox(hass, path, on_message=received.append, on_report=reported.append)
        await inbox.async_load()
        opened.append(inbox)
        return inbox

    yield open_one
    for inbox in opened:
        await inbox.async_close()


def sms(**changes: object) -> MoSms:
    """A parsed MO SMS, as the view hands it on."""
    return parse_mo_sms(mo_sms(**changes))


def part(sms_id: int, partno: int, total: int, payload: str) -> MoSms:
    return parse_mo_sms(mo_part(sms_id, partno, total, payload))


async def write_journal(
    hass: HomeAssistant, path: Path, records: list[dict[str, object]]
) -> None:
    """Leave a journal as an earlier run of Home Assistant did."""
    text = "".join(json.dumps(record) + "\n" for record in records)
    await hass.async_add_executor_job(path.write_text, text)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_ids_are_forgotten_after_9_days(
    hass: HomeAssistant,
    open_inbox,
    received: list[InboundSms],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Longer than a new Data Stream replays (7 days); then an id may come back."""
    inbox = await open_inbox()
    assert await inbox.async_accept(sms())

    freezer.tick(timedelta(days=8, hours=23))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not await inbox.async_accept(sms())
    freezer.tick(timedelta(hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert await inbox.async_accept(sms())
    assert len(received) == 2


async def test_reports_are_remembered_for_9_days(
    hass: HomeAssistant,
    open_inbox,
    reported: list[DeliveryReport],
    freezer: FrozenDateTimeFactory,
) -> None:
    inbox = await open_inbox()

    async def claim() -> bool:
        return await inbox.async_accept_report(
            report("1", DeliveryStatus.DELIVERED, 4, "8988228066000000001")
        )

    assert await claim()

    freezer.tick(timedelta(days=8, hours=23))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not await claim()
    freezer.tick(timedelta(hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert await claim()
    assert [report.sms_id for report in reported] == ["1", "1"]


async def test_concurrent_copies_of_one_part_are_stored_once(
    open_inbox, received: list[InboundSms]
) -> None:
    inbox = await open_inbox()

    results = await asyncio.gather(*(inbox.async_accept(sms()) for _ in range(4)))
    await inbox.async_close()
    reopened = await open_inbox()

    assert sorted(results) == [False, False, False, True]
    assert len(received) == 1
    assert not await reopened.async_accept(sms())


async def test_parts_arriving_together_complete_one_message(
    open_inbox, received: list[InboundSms]
) -> None:
    inbox = await open_inbox()

    await asyncio.gather(
        inbox.async_accept(part(1, 1, 2, "Hello ")),
        inbox.async_accept(part(2, 2, 2, "world")),
    )

    assert [(len(message.parts), message.complete) for message in received] == [
        (2, True)
    ]


async def test_copy_after_a_failed_write_is_stored_by_rewriting_the_file(
    open_inbox, received: list[InboundSms]
) -> None:
    """A failed append may leave a torn line: the next write replaces the file."""
    inbox = await open_inbox()
    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("disk full"),
    ):
        results = await asyncio.gather(
            inbox.async_accept(sms()), inbox.async_accept(sms()), return_exceptions=True
        )

    assert [type(result) for result in results] == [OSError, bool]
    assert results[1] is True
    assert len(received) == 1
    assert not await inbox.async_accept(sms())


async def test_a_failing_commit_fails_only_its_own_request(
    hass: HomeAssistant, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(hass, path, list)

    def broken() -> bool:
        raise RuntimeError("bug")

    results = await asyncio.gather(
        journal.write({"type": "seen", "id": 1, "at": 0.0}, broken),
        journal.write({"type": "seen", "id": 2, "at": 0.0}, lambda: True),
        return_exceptions=True,
    )
    await journal.async_close()

    assert [type(result) for result in results] == [RuntimeError, bool]
    assert "Error handling a stored 1NCE message" in caplog.text


async def test_journal_is_compacted_and_still_remembers(
    hass: HomeAssistant, open_inbox, path: Path, received: list[InboundSms]
) -> None:
    with patch("custom_components.one_nce.receiving.journal.COMPACT_MIN_RECORDS", 10):
        inbox = await open_inbox()
        for sms_id in range(1, 31):
            await inbox.async_accept(sms(id=sms_id))
        await inbox.async_accept(part(100, 1, 2, "half"))
        await inbox.async_close()

    records = await hass.async_add_executor_job(lines, path)
    # Thirty messages took two records each; the compact file holds far fewer.
    assert len(records) < 40
    assert {record["type"] for record in records} >= {"seen", "part"}
    reopened = await open_inbox()
    assert not await reopened.async_accept(sms(id=1))
    assert not await reopened.async_accept(part(100, 1, 2, "half"))
    assert await reopened.async_accept(part(101, 2, 2, " and half"))
    assert received[-1].complete
    assert [p.payload for p in received[-1].parts] == ["half", " and half"]


async def test_torn_and_foreign_lines_are_skipped(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    received: list[InboundSms],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A crash mid-write leaves a torn last line; the rest still counts."""
    good = {"type": "seen", "id": 6202, "at": 4102444800.0}
    content = "\n".join(
        [
            json.dumps(good),
            "",
            "[1, 2]",
            json.dumps({"type": "mystery"}),
            json.dumps({"type": "seen", "id": "x"}),
            '{"type": "part", "gro',
        ]
    )
    await hass.async_add_executor_job(path.write_text, content)
    caplog.set_level(logging.WARNING)

    inbox = await open_inbox()

    assert not await inbox.async_accept(sms())
    assert "Skipped 2 unreadable lines" in caplog.text
    assert "Skipped 2 unreadable records" in caplog.text


async def test_whole_message_not_yet_handed_on_is_handed_on_at_load(
    hass: HomeAssistant, open_inbox, path: Path, received: list[InboundSms]
) -> None:
    """Stored, but Home Assistant stopped before the message was announced."""
    inbox = await open_inbox()
    with patch.object(inbox, "_on_message", side_effect=RuntimeError("crash")):
        await inbox.async_accept(sms())
    await inbox.async_close()
    records = await hass.async_add_executor_job(lines, path)
    # Drop the "done" marker, as a stop right after storing would.
    await hass.async_add_executor_job(
        path.write_text,
        "".join(json.dumps(r) + "\n" for r in records if r["type"] != "done"),
    )

    await open_inbox()

    assert [message.parts[0].sms_id for message in received] == ["6202"]


async def test_a_failing_listener_does_not_fail_the_store(
    open_inbox, received: list[InboundSms], caplog: pytest.LogCaptureFixture
) -> None:
    inbox = await open_inbox()
    with patch.object(inbox, "_on_message", side_effect=RuntimeError("listener")):
        assert await inbox.async_accept(sms())

    assert "Error announcing an SMS received from 1NCE" in caplog.text
    assert not await inbox.async_accept(sms())


async def test_a_failing_report_listener_does_not_fail_the_store(
    open_inbox, reported: list[DeliveryReport], caplog: pytest.LogCaptureFixture
) -> None:
    inbox = await open_inbox()
    delivered = report("1", DeliveryStatus.DELIVERED, 4)
    with patch.object(inbox, "_on_report", side_effect=RuntimeError("listener")):
        assert await inbox.async_accept_report(delivered)

    assert "Error announcing a delivery report from 1NCE" in caplog.text
    assert not await inbox.async_accept_report(delivered)


async def test_records_of_reports_and_ids_that_cannot_be_read_are_skipped(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    reported: list[DeliveryReport],
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt_util.utcnow().timestamp()
    report_record = {
        "type": "report",
        "sms": "8988228066000000001/7",
        "status": "delivered",
        "at": now,
        "status_id": 4,
        "submitted": None,
        "final": None,
    }
    await write_journal(
        hass,
        path,
        [
            {"type": "seen", "id": True, "at": now},
            {"type": "seen", "id": " ", "at": now},
            {"type": "seen", "id": "62O2", "at": now},
            {**report_record, "final": "the day after"},
            {**report_record, "sms": "8988228066000000001/8"},
        ],
    )
    caplog.set_level(logging.WARNING)

    await open_inbox()
    await hass.async_block_till_done()

    assert "Skipped 4 unreadable records" in caplog.text
    # The readable report stored before a crash is announced; the other not.
    assert [r.sms_id for r in reported] == ["8"]


async def test_part_stored_while_closing_is_kept_for_the_next_load(
    open_inbox, received: list[InboundSms]
) -> None:
    inbox = await open_inbox()

    await asyncio.gather(
        inbox.async_accept(part(1, 1, 2, "Hello ")), inbox.async_close()
    )
    reopened = await open_inbox()
    await reopened.async_accept(part(2, 2, 2, "world"))

    assert [message.complete for message in received] == [True]


async def test_a_journal_written_by_the_previous_release_is_read_back(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    received: list[InboundSms],
    reported: list[DeliveryReport],
) -> None:
    """Release 0.1 stored SMS ids as JSON numbers; they are the same ids as text."""
    now = dt_util.utcnow().timestamp()
    iccid = "8988228066000000001"
    group = f"{iccid}/7000/3"
    part_fields = {"iccid": iccid, "total": 3, "dcs": 0, "source": "882285100000001"}
    written_by_0_1 = [
        {"type": "seen", "id": 6202, "at": now},
        {
            "type": "part",
            "group": group,
            "id": 7000,
            "part": 1,
            "payload": "Some",
            "dest": None,
            "submitted": None,
            "at": now,
            **part_fields,
        },
        {
            "type": "part",
            "group": group,
            "id": 7001,
            "part": 2,
            "payload": "one ",
            "dest": None,
            "submitted": None,
            "at": now,
            **part_fields,
        },
        {"type": "report", "sms": f"{iccid}/2819195", "status": "delivered", "at": now},
    ]
    await write_journal(hass, path, written_by_0_1)

    inbox = await open_inbox()
    await hass.async_block_till_done()

    # Known ids are known as text; a stored report is not announced again.
    assert not await inbox.async_accept(sms(id="6202"))
    assert not await inbox.async_accept(part(7001, 2, 3, "one "))
    assert not await inbox.async_accept_report(
        report("2819195", DeliveryStatus.DELIVERED, 4, iccid)
    )
    assert reported == []
    # The stored parts complete with the third.
    assert await inbox.async_accept(part(7002, 3, 3, "came"))
    assert [(m.parts[0].sms_id, [p.payload for p in m.parts]) for m in received] == [
        ("7000", ["Some", "one ", "came"])
    ]


async def test_a_report_stored_but_not_announced_before_a_crash_is_announced_once(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    reported: list[DeliveryReport],
) -> None:
    """Killed between storing a report and announcing it: announced after the
    restart, and noted, so the next restart does not announce it again."""
    stored = {
        "type": "report",
        "sms": "8988228066000000001/551734281731175386",
        "status": "delivered",
        "at": dt_util.utcnow().timestamp(),
        "status_id": 4,
        "submitted": "2026-12-01T10:00:00+00:00",
        "final": "2026-12-01T10:00:07+00:00",
    }
    await write_journal(hass, path, [stored])

    await (await open_inbox()).async_close()
    await hass.async_block_till_done()
    await open_inbox()
    await hass.async_block_till_done()

    assert [(r.sms_id, r.status, r.final_date) for r in reported] == [
        (
            "551734281731175386",
            DeliveryStatus.DELIVERED,
            dt_util.parse_datetime("2026-12-01T10:00:07+00:00"),
        )
    ]


def p2_report(sms_id: str, report_id: str) -> DeliveryReport:
    """A Platform 2.0 report as the view hands it on: its own id apart."""
    return DeliveryReport(
        sms_id=sms_id,
        iccid="8988228066000000001",
        endpoint_id=8765432,
        organisation_id=4567,
        status=DeliveryStatus.DELIVERED,
        status_id=4,
        submit_date=None,
        final_date=dt_util.parse_datetime("2026-12-01T10:00:07+00:00"),
        report_id=report_id,
    )


async def test_a_report_id_stored_before_a_crash_is_announced_with_it(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    reported: list[DeliveryReport],
) -> None:
    """The journal keeps the report's own id until the report is announced."""
    inbox = await open_inbox()
    with patch.object(inbox, "_announce_report"):  # killed before announcing
        assert await inbox.async_accept_report(
            p2_report("551734281731175386", "775120394")
        )
    await inbox.async_close()
    assert reported == []

    await open_inbox()
    await hass.async_block_till_done()

    assert [(r.sms_id, r.report_id) for r in reported] == [
        ("551734281731175386", "775120394")
    ]


async def test_a_report_of_the_previous_release_is_known_to_a_platform_2_push(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    reported: list[DeliveryReport],
) -> None:
    """Stored without `report_id`, under the SMS's id: the push is the same SMS."""
    stored = {
        "type": "report",
        "sms": "8988228066000000001/551734281731175386",
        "status": "delivered",
        "at": dt_util.utcnow().timestamp(),
        "status_id": 4,
        "submitted": None,
        "final": "2026-12-01T10:00:07+00:00",
    }
    await write_journal(hass, path, [stored])

    inbox = await open_inbox()
    await hass.async_block_till_done()
    pushed = await inbox.async_accept_report(
        p2_report("551734281731175386", "775120394")
    )

    assert pushed is False
    assert [(r.sms_id, r.report_id) for r in reported] == [("551734281731175386", None)]


async def test_an_unreadable_report_id_skips_its_record(
    hass: HomeAssistant,
    open_inbox,
    path: Path,
    reported: list[DeliveryReport],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored = {
        "type": "report",
        "sms": "8988228066000000001/551734281731175386",
        "status": "delivered",
        "at": dt_util.utcnow().timestamp(),
        "status_id": 4,
        "report_id": "not an id",
    }
    await write_journal(hass, path, [stored])

    inbox = await open_inbox()
    await hass.async_block_till_done()

    assert reported == []
    assert "Skipped 1 unreadable records" in caplog.text
    assert await inbox.async_accept_report(p2_report("551734281731175386", "775120394"))
