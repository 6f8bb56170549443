"""Fuzzing the forwarder address: whatever arrives, a clean answer and no stray event.

The address is public and unauthenticated, so these properties throw at it,
through Home Assistant's real HTTP server, what nobody should send: arbitrary
bytes, arbitrary JSON, JSON shaped like a message but with junk in every field,
and valid messages with one thing wrong (a missing key, a wrong type, a huge
string, a bad coding, a bad date, a SIM of somebody else). Each example must
get its exact status, never a 5xx; an event fires exactly once for a message
that is accepted whole, never for one that is refused; and nothing is logged
at error level, with a traceback, or as a warning of ours.

How Hypothesis meets Home Assistant's fixtures: the `hass` fixture is
function-scoped, and starting Home Assistant for every example would cost
seconds each. The tests are async and `@given`-decorated; pytest-asyncio runs
each example on the test's event loop, and all examples of one test share one
Home Assistant, one loaded entry and one HTTP client. That is what the
`function_scoped_fixture` health check warns about, and it is suppressed
knowingly: the examples must not depend on each other, so every message gets
fresh ids (from a counter, not from Hypothesis, since Hypothesis repeats
values while it shrinks), and each example checks only the events and log
records that arrived during its own request. Shrinking works as usual: a
failure is reported as the smallest body that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import itertools
import json
import logging
import string
from typing import Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.const import (
    EVENT_DELIVERY_REPORT,
    EVENT_SMS_RECEIVED,
    FORWARDER_PATH,
)
from custom_components.one_nce.receiving.view import MAX_BODY
from homeassistant.core import Event, HomeAssistant

from .conftest import FLEET_ICCIDS
from .forwarder_common import (
    GARDEN_GATE,
    delivery_report,
    forwarder_path,
    mo_sms,
    push,
    setup_receiving,
)

pytestmark = pytest.mark.usefixtures("mock_details")

FUZZ_SETTINGS: Final = settings(
    max_examples=150,
    deadline=None,
    # One Home Assistant for all examples of a test; see the module docstring.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No example database in the working tree; a failure prints its example.
    database=None,
)
# The near-valid messages come in kinds, each a test of its own, so that every
# kind is covered however Hypothesis weighs its choices.
PER_KIND_SETTINGS: Final = settings(FUZZ_SETTINGS, max_examples=30)
# Every status the forwarder may answer; anything else (a 5xx above all) fails.
ANSWERS: Final = frozenset({200, 400, 403, 404, 413, 422})
KNOWN_KEYS: Final = frozenset(
    {
        "id",
        "payload",
        "submit_date",
        "final_date",
        "dest_address",
        "source_address",
        "dcs",
        "pid",
        "endpoint",
        "name",
        "organisation",
        "multi_part_info",
        "partno",
        "total",
        "identifier",
        "status",
        "description",
    }
)


class _Fresh:
    """Stands for a new, never used id; filled in when the body is built."""

    def __init__(self, as_text: bool = False) -> None:
        self.as_text = as_text

    def __repr__(self) -> str:
        return "FRESH_TEXT" if self.as_text else "FRESH"


class _Missing:
    """Removes the key."""

    def __repr__(self) -> str:
        return "MISSING"


FRESH: Final = _Fresh()
FRESH_TEXT: Final = _Fresh(as_text=True)
MISSING: Final = _Missing()

type Path = tuple[str, ...]
type Edit = tuple[Path, Any]


@dataclass(frozen=True, slots=True)
class Case:
    """A message with edits, and the answer the forwarder owes it.

    `edits` are applied in order to a valid body; `fires` says whether the
    message, if answered 200, is complete and must fire exactly one event.
    """

    edits: tuple[Edit, ...]
    answers: frozenset[int]
    fires: bool = False


# --- values ------------------------------------------------------------------

FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats()
    | st.text(max_size=40)
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=16,
)
# JSON that a strict decoder reads (no NaN, no infinity).
STRICT_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | FINITE_FLOATS
    | st.text(max_size=40)
)
STRICT_JSON = st.recursive(
    STRICT_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
CONTAINERS = st.lists(STRICT_SCALARS, max_size=3) | st.dictionaries(
    st.text(max_size=8), STRICT_SCALARS, max_size=3
)


def _with_letter(letters: str = "abcxyéЖ") -> st.SearchStrategy[str]:
    """Text with at least one of `letters` in it: never a number, never a date."""
    return st.tuples(
        st.text(max_size=10), st.sampled_from(letters), st.text(max_size=10)
    ).map("".join)


# Anything that is not a non-negative integer of at most 2**63 - 1.
NOT_AN_INTEGER = st.one_of(
    st.booleans(),
    FINITE_FLOATS.filter(lambda value: not value.is_integer()),
    st.integers(max_value=-1),
    st.integers(min_value=2**63, max_value=2**70),
    _with_letter(),
    CONTAINERS,
)
NOT_A_STRING = st.one_of(
    st.booleans(), st.integers(), FINITE_FLOATS, CONTAINERS.filter(bool)
)
NOT_AN_OBJECT = st.one_of(
    st.booleans(),
    st.integers(),
    FINITE_FLOATS,
    st.text(max_size=20),
    st.lists(STRICT_SCALARS),
)
# Not of 1NCE's date forms: other types, impossible dates, words.
NOT_A_DATE = st.one_of(
    st.booleans(),
    st.integers(),
    FINITE_FLOATS,
    CONTAINERS,
    _with_letter("abcxyéЖ"),
    st.builds(
        "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format,
        st.integers(1, 9999),
        st.integers(13, 99),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
    ),
    st.builds(
        "2024-02-{:02d} {:02d}:00:00".format, st.integers(30, 99), st.integers(24, 99)
    ),
)
GOOD_DATES = st.sampled_from(
    [
        None,
        "",
        "2018-08-17 16:31:51",
        "2018-08-17T16:31:51Z",
        "2018-08-17T16:31:51.123+02:00",
        "2018-08-17",
    ]
)
FOREIGN_ICCIDS = (
    st.integers(18, 22)
    .flatmap(lambda size: st.text(string.digits, min_size=size, max_size=size))
    .filter(lambda iccid: iccid not in FLEET_ICCIDS)
)
NOT_AN_ICCID = st.one_of(
    _with_letter(),
    st.text(string.digits, min_size=1, max_size=17),
    st.text(string.digits, min_size=23, max_size=40),
)
LONG_TEXT = st.integers(65, 500).map(lambda size: "7" * size)
# Payload text; unpaired surrogates are left to the bytes fuzzers.
PAYLOADS = st.text(max_size=200)
HEXISH = st.text("0123456789abcdefABCDEFxyz", max_size=40)
EXTRA_KEYS = st.text(max_size=12).filter(lambda key: key not in KNOWN_KEYS)


def _refused(path: Path, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Case]:
    """Each value at `path` makes the body unreadable: 422."""
    return values.map(lambda value: Case(((path, value),), frozenset({422})))


def _accepted(
    path: Path, values: st.SearchStrategy[Any], *, fires: bool = True
) -> st.SearchStrategy[Case]:
    """Each value at `path` is still a message 1NCE may send: 200."""
    return values.map(lambda value: Case(((path, value),), frozenset({200}), fires))


def _at_any(
    paths: tuple[Path, ...], case: Callable[[Path], st.SearchStrategy[Case]]
) -> st.SearchStrategy[Case]:
    return st.sampled_from(paths).flatmap(case)


def _nested_junk(levels: tuple[Path, ...]) -> st.SearchStrategy[tuple[Edit, ...]]:
    """Unknown keys with any JSON, anywhere: tolerated (1NCE adds keys)."""
    return st.lists(
        st.tuples(
            st.sampled_from(levels).flatmap(
                lambda level: EXTRA_KEYS.map(lambda key: (*level, key))
            ),
            STRICT_JSON,
        ),
        max_size=3,
    ).map(tuple)


def _common(
    int_fields: tuple[Path, ...], required: tuple[Path, ...], dates: tuple[Path, ...]
) -> dict[str, st.SearchStrategy[Case]]:
    """What is wrong, or still right, the same way in both kinds of message."""
    return {
        "required value missing": _at_any(
            required,
            lambda path: _refused(path, st.sampled_from([MISSING, None, "", "   "])),
        ),
        "not an integer": _at_any(
            int_fields, lambda path: _refused(path, NOT_AN_INTEGER)
        ),
        "endpoint not an object": _refused(("endpoint",), NOT_AN_OBJECT),
        "endpoint.name not a string": _refused(("endpoint", "name"), NOT_A_STRING),
        "endpoint.name not an ICCID": _refused(("endpoint", "name"), NOT_AN_ICCID),
        "organisation not an object": _refused(("organisation",), NOT_AN_OBJECT),
        "not a date": _at_any(dates, lambda path: _refused(path, NOT_A_DATE)),
        "SIM of another account": FOREIGN_ICCIDS.map(
            lambda iccid: Case((((("endpoint", "name")), iccid),), frozenset({403}))
        ),
        # Lenient where 1NCE is: ids as strings, padding, optional parts absent.
        "id as a string": _accepted(("id",), st.just(FRESH_TEXT)),
        "ICCID with padding": _accepted(
            ("endpoint", "name"),
            st.sampled_from(
                [f" {GARDEN_GATE}", f"{GARDEN_GATE}\n", f"\t{GARDEN_GATE} "]
            ),
        ),
        "no organisation": _accepted(
            ("organisation",), st.sampled_from([MISSING, None])
        ),
        "endpoint.id optional or lenient": _accepted(
            ("endpoint", "id"), st.sampled_from([MISSING, None, "", " 17 ", 17.0])
        ),
        "a date in 1NCE's forms": _at_any(
            dates, lambda path: _accepted(path, GOOD_DATES)
        ),
    }


MO_CASES: Final = {
    **_common(
        (
            ("id",),
            ("endpoint", "id"),
            ("organisation", "id"),
            ("dcs",),
            ("pid",),
            ("multi_part_info", "partno"),
            ("multi_part_info", "total"),
        ),
        (("id",), ("endpoint",), ("endpoint", "name")),
        (("submit_date",),),
    ),
    # An empty text is a text; only an absent payload is missing.
    "payload missing": _refused(("payload",), st.sampled_from([MISSING, None])),
    "payload not a string": _refused(("payload",), NOT_A_STRING),
    "coding over 255": _at_any(
        (("dcs",), ("pid",)), lambda path: _refused(path, st.integers(256, 2**63 - 1))
    ),
    "address not text": _at_any(
        (("source_address",), ("dest_address",)),
        lambda path: _refused(path, st.booleans() | CONTAINERS | LONG_TEXT),
    ),
    "multi_part_info not an object": _refused(("multi_part_info",), NOT_AN_OBJECT),
    "identifier not text": _refused(
        ("multi_part_info", "identifier"), st.booleans() | CONTAINERS | LONG_TEXT
    ),
    "impossible part numbers": st.tuples(st.integers(0, 300), st.integers(0, 300))
    .filter(lambda numbers: not 1 <= numbers[0] <= numbers[1] <= 255)
    .map(
        lambda numbers: Case(
            (
                (
                    ("multi_part_info",),
                    {"partno": numbers[0], "total": numbers[1], "identifier": FRESH},
                ),
            ),
            frozenset({422}),
        )
    ),
    "long SMS without identifier": st.builds(
        lambda total, identifier: Case(
            ((("multi_part_info",), {"partno": 1, "total": total, **identifier}),),
            frozenset({422}),
        ),
        st.integers(2, 255),
        st.sampled_from([{}, {"identifier": None}, {"identifier": " "}]),
    ),
    # A part of a long SMS is taken in and waits for the others: no event yet.
    "part of a long SMS": st.integers(2, 255).flatmap(
        lambda total: st.integers(1, total).map(
            lambda partno: Case(
                (
                    (
                        ("multi_part_info",),
                        {"partno": partno, "total": total, "identifier": FRESH},
                    ),
                ),
                frozenset({200}),
            )
        )
    ),
    "single part by default": _accepted(
        ("multi_part_info",), st.sampled_from([MISSING, None])
    ),
    # Payloads are taken as they come and handed on untouched, whatever the coding.
    "any coding, any payload": st.builds(
        lambda dcs, payload: Case(
            ((("dcs",), dcs), (("payload",), payload)), frozenset({200}), fires=True
        ),
        st.integers(0, 255)
        | st.integers(0, 255).map(str)
        | st.sampled_from([None, "", MISSING]),
        PAYLOADS | HEXISH,
    ),
    # The size decides: up to 64 KiB of body is read, more is refused unread.
    "huge payload": st.builds(
        lambda size: Case(
            ((("payload",), "x" * size),), frozenset({200, 413}), fires=True
        ),
        st.integers(MAX_BODY - 1000, MAX_BODY + 1000) | st.integers(0, 4 * MAX_BODY),
    ),
}

REPORT_CASES: Final = {
    **_common(
        (("id",), ("endpoint", "id"), ("organisation", "id"), ("status", "id")),
        (("id",), ("endpoint",), ("endpoint", "name"), ("status",), ("status", "id")),
        (("submit_date",), ("final_date",)),
    ),
    "status not an object": _refused(("status",), NOT_AN_OBJECT),
    "status text not a string": _refused(("status", "status"), NOT_A_STRING),
    "unknown status": st.builds(
        lambda status_id, text: Case(
            ((("status",), {"id": status_id, "status": text}),), frozenset({422})
        ),
        st.integers(8, 2**63 - 1) | st.just(0),
        st.none() | st.text("0123456789!?", min_size=1, max_size=10),
    ),
    # The id decides when it is known; the text rescues ids 1NCE may add.
    "known status id, any text": st.builds(
        lambda status_id, text: Case(
            ((("status",), {"id": status_id, "status": text}),),
            frozenset({200}),
            fires=True,
        ),
        st.integers(1, 7) | st.integers(1, 7).map(str),
        st.none() | st.text(max_size=20),
    ),
    "new status id, known text": st.builds(
        lambda status_id, text, key: Case(
            ((("status",), {"id": status_id, key: text}),), frozenset({200}), fires=True
        ),
        st.integers(8, 10**6) | st.just(0),
        st.sampled_from(
            [
                "DELIVERED",
                "failed",
                " Expired ",
                "attempt-pending",
                "CANCELLED",
                "Buffered",
            ]
        ),
        st.sampled_from(["status", "description"]),
    ),
}

MO_JUNK: Final = _nested_junk(
    ((), ("endpoint",), ("organisation",), ("multi_part_info",))
)
REPORT_JUNK: Final = _nested_junk(((), ("endpoint",), ("organisation",), ("status",)))


# --- building and checking ------------------------------------------------------


def _fill(value: Any, fresh: Callable[[], int]) -> Any:
    """Replace the FRESH markers in `value` by new ids."""
    if isinstance(value, _Fresh):
        number = fresh()
        return str(number) if value.as_text else number
    if isinstance(value, dict):
        return {key: _fill(item, fresh) for key, item in value.items()}
    return value


def _apply(body: dict[str, Any], path: Path, value: Any) -> None:
    """Set (or with MISSING remove) the value at `path`, making parents objects."""
    parent = body
    for key in path[:-1]:
        if not isinstance(parent.get(key), dict):
            parent[key] = {}
        parent = parent[key]
    if value is MISSING:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value


def build(
    base: dict[str, Any], case: Case, junk: tuple[Edit, ...], fresh: Callable[[], int]
) -> tuple[dict[str, Any], int]:
    """Return the body of the case with a new id, and that id.

    Junk goes in first, so the case's own edit decides the answer.
    """
    sms_id = fresh()
    body = {**base, "id": sms_id}
    if isinstance(body.get("multi_part_info"), dict):
        body["multi_part_info"] = {**body["multi_part_info"], "identifier": sms_id}
    for path, value in junk:
        _apply(body, path, _fill(value, fresh))
    for path, value in case.edits:
        if path == ("id",) and isinstance(value, _Fresh):
            value = str(sms_id) if value.as_text else sms_id  # noqa: PLW2901
        _apply(body, path, _fill(value, fresh))
    return body, sms_id


class Watch:
    """The events and log records of one example, counted from its start."""

    def __init__(self, events: list[Event], caplog: pytest.LogCaptureFixture) -> None:
        self._events = events
        self._caplog = caplog
        self._first_event = len(events)
        self._first_record = len(caplog.records)

    @property
    def events(self) -> list[Event]:
        return self._events[self._first_event :]

    def assert_quiet_log(self) -> None:
        """No error, no traceback, and no warning of ours, during the example."""
        for record in self._caplog.records[self._first_record :]:
            ours = record.name.startswith("custom_components.one_nce")
            assert record.levelno < logging.ERROR, record.getMessage()
            assert record.exc_info is None, record.getMessage()
            assert not (ours and record.levelno >= logging.WARNING), record.getMessage()


@pytest.fixture
async def entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The account, loaded, receiving."""
    await setup_receiving(hass, mock_config_entry)
    return mock_config_entry


@pytest.fixture
async def client(hass_client_no_auth: ClientSessionGenerator) -> Any:
    """An HTTP client without credentials, as 1NCE is."""
    return await hass_client_no_auth()


@pytest.fixture
def fresh() -> Callable[[], int]:
    """New ids, never used before in the test (Hypothesis repeats its values)."""
    counter: Iterator[int] = itertools.count(10_000_000)
    return lambda: next(counter)


@pytest.fixture
def sms_events(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> list[Event]:
    """Every SMS event of the test; refusals are logged at debug and read too."""
    caplog.set_level(logging.DEBUG, logger="custom_components.one_nce")
    return async_capture_events(hass, EVENT_SMS_RECEIVED)


@pytest.fixture
def report_events(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> list[Event]:
    """Every delivery report event of the test."""
    caplog.set_level(logging.DEBUG, logger="custom_components.one_nce")
    return async_capture_events(hass, EVENT_DELIVERY_REPORT)


async def _send(client: Any, path: str, method: str, data: bytes) -> int:
    response = await client.request(
        method, path, data=data, headers={"Content-Type": "application/json"}
    )
    await response.read()
    return int(response.status)


# --- properties ---------------------------------------------------------------------


@FUZZ_SETTINGS
@given(
    data=st.binary(max_size=2048)
    | st.integers(1020, 1100).map(lambda n: b"[" * n + b"]" * n),
    method=st.sampled_from(["POST", "PATCH"]),
)
async def test_arbitrary_bytes_are_refused_cleanly(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    sms_events: list[Event],
    report_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    method: str,
) -> None:
    sms = Watch(sms_events, caplog)
    reports = Watch(report_events, caplog)

    status = await _send(client, forwarder_path(entry), method, data)
    await hass.async_block_till_done()

    assert status in {400, 422}
    assert sms.events == reports.events == []
    sms.assert_quiet_log()


@FUZZ_SETTINGS
@given(
    document=ANY_JSON
    | st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(sorted(KNOWN_KEYS), ANY_JSON),
    ),
    method=st.sampled_from(["POST", "PATCH"]),
)
async def test_arbitrary_json_gets_an_answer_and_fires_at_most_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    sms_events: list[Event],
    report_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    document: Any,
    method: str,
) -> None:
    """Junk of every type in every field: a 4xx, or (by luck) a message."""
    sms = Watch(sms_events, caplog)
    reports = Watch(report_events, caplog)

    status = await _send(
        client, forwarder_path(entry), method, json.dumps(document).encode()
    )
    await hass.async_block_till_done()

    assert status in ANSWERS - {404}
    fired = len(sms.events) + len(reports.events)
    assert fired == 0 if status != 200 else fired <= 1
    sms.assert_quiet_log()


@pytest.mark.parametrize("kind", MO_CASES)
@PER_KIND_SETTINGS
@given(data=st.data(), junk=MO_JUNK)
async def test_near_valid_sms_gets_its_answer_and_fires_only_when_accepted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    sms_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    fresh: Callable[[], int],
    kind: str,
    data: st.DataObject,
    junk: tuple[Edit, ...],
) -> None:
    case = data.draw(MO_CASES[kind], label="case")
    body, sms_id = build(mo_sms(), case, junk, fresh)
    sent = json.dumps(body).encode()
    watch = Watch(sms_events, caplog)

    status = await _send(client, forwarder_path(entry), "POST", sent)
    await hass.async_block_till_done()

    if case.answers == frozenset({200, 413}):  # huge payloads: the size decides
        assert status == (413 if len(sent) > MAX_BODY else 200)
    else:
        assert status in case.answers
    if status == 200 and case.fires:
        assert [(e.data["sms_id"], e.data["payload"]) for e in watch.events] == [
            (str(sms_id), body["payload"])
        ]
    else:
        assert watch.events == []
    watch.assert_quiet_log()


@pytest.mark.parametrize("kind", REPORT_CASES)
@PER_KIND_SETTINGS
@given(data=st.data(), junk=REPORT_JUNK)
async def test_near_valid_report_gets_its_answer_and_fires_only_when_accepted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    report_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    fresh: Callable[[], int],
    kind: str,
    data: st.DataObject,
    junk: tuple[Edit, ...],
) -> None:
    case = data.draw(REPORT_CASES[kind], label="case")
    body, sms_id = build(delivery_report(), case, junk, fresh)
    watch = Watch(report_events, caplog)

    status = await _send(
        client, forwarder_path(entry), "PATCH", json.dumps(body).encode()
    )
    await hass.async_block_till_done()

    assert status in case.answers
    if status == 200 and case.fires:
        assert [e.data["sms_id"] for e in watch.events] == [str(sms_id)]
    else:
        assert watch.events == []
    watch.assert_quiet_log()


@FUZZ_SETTINGS
@given(
    secret=st.text(
        string.ascii_letters + string.digits + "-_.~%", min_size=1, max_size=60
    ),
    method=st.sampled_from(["POST", "PATCH"]),
)
async def test_any_other_address_answers_404(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    sms_events: list[Event],
    caplog: pytest.LogCaptureFixture,
    secret: str,
    method: str,
) -> None:
    watch = Watch(sms_events, caplog)

    status = await _send(
        client,
        FORWARDER_PATH.format(secret=secret),
        method,
        json.dumps(mo_sms()).encode(),
    )

    assert status in {404, 400} if "%" in secret else status == 404
    assert watch.events == []
    watch.assert_quiet_log()


async def test_after_the_barrage_a_valid_sms_still_fires_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client: Any,
    sms_events: list[Event],
) -> None:
    """Refusals leave nothing behind that would block or duplicate a good message."""
    for junk in (b"", b"{", b"[]", json.dumps(mo_sms(payload=7)).encode()):
        await _send(client, forwarder_path(entry), "POST", junk)

    answers = [(await push(client, entry, mo_sms(id=424242))).status for _ in range(2)]

    assert answers == [200, 200]
    assert [event.data["sms_id"] for event in sms_events] == ["424242"]
