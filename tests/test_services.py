"""The 1NCE actions: sending, cancelling and listing SMS, and ordering top-ups."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
import itertools
import json
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
import voluptuous as vol
import yaml
from yarl import URL

from custom_components.one_nce.api import RateLimiter
from custom_components.one_nce.api import sms as sms_codec
from custom_components.one_nce.const import CONF_MAX_SMS_PARTS, DOMAIN
from custom_components.one_nce.sending import OutgoingSms, SentSms, async_send_sms
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    find_device,
    load_json,
    setup_integration,
    sim_url,
)

ICCID_1, ICCID_2, ICCID_3 = FLEET_ICCIDS
GARDEN_GATE = f"Garden gate ({ICCID_1})"  # how errors name SIM 1 (SIM 2 has no label)
SMS_POST = re.compile(r"/v2/sims/\d+/sms$")
TRAFFIC_LIMIT = "Traffic limit of 100 SMS per month exceeded"
INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
ERROR_TEXTS = {
    language: json.loads(
        (INTEGRATION / "translations" / f"{language}.json").read_text(encoding="utf-8")
    )["exceptions"]
    for language in ("en", "de")
}


def assert_placeholders_fit(err: HomeAssistantError) -> None:
    """The error passes exactly the values its English and German texts show.

    A placeholder the text needs but the code lost would show as `{name}`, or
    make Home Assistant fall back to the bare text; one passed but not shown
    is information the user never gets.
    """
    assert err.translation_domain == DOMAIN
    assert err.translation_key is not None
    for language, texts in ERROR_TEXTS.items():
        shown = set(re.findall(r"\{(\w+)\}", texts[err.translation_key]["message"]))
        assert shown == set(err.translation_placeholders or {}), language


def answer_sms_posts(
    aioclient_mock: AiohttpClientMocker, *, location: bool = False
) -> None:
    """Accept every SMS POST with a new id: in the body (v2) or `Location` (v1)."""
    ids = itertools.count(6026)

    async def created(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        sms_id = next(ids)
        if location:
            return AiohttpClientMockResponse(
                method, url, status=201, headers={"Location": f"{url}/{sms_id}"}
            )
        return AiohttpClientMockResponse(
            method, url, status=201, json={"id": str(sms_id)}
        )

    aioclient_mock.post(SMS_POST, side_effect=created)


def answer_sms_posts_in_turn(
    aioclient_mock: AiohttpClientMocker, *answers: int | tuple[int, str]
) -> None:
    """Answer the SMS POSTs in order: an id is accepted, (status, text) refused."""
    pending = iter(answers)

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        answer = next(pending)
        if isinstance(answer, int):
            return AiohttpClientMockResponse(
                method, url, status=201, json={"id": str(answer)}
            )
        status, text = answer
        return AiohttpClientMockResponse(
            method, url, status=status, json={"message": text}
        )

    aioclient_mock.post(SMS_POST, side_effect=next_answer)


def followed(entry: MockConfigEntry) -> list[tuple[str, str]]:
    """The (ICCID, SMS id) pairs whose delivery the integration is following."""
    return sorted(
        (sms.iccid, sms.sms_id) for sms in entry.runtime_data.delivery.followed
    )


def sent_bodies(aioclient_mock: AiohttpClientMocker) -> list[dict[str, Any]]:
    """The JSON bodies POSTed to SMS endpoints, in order."""
    return [
        data
        for method, url, data, _ in aioclient_mock.mock_calls
        if method.upper() == "POST" and SMS_POST.search(str(url))
    ]


def calls(aioclient_mock: AiohttpClientMocker) -> list[tuple[str, str]]:
    """Method and URL path (with query) of every request, in order."""
    return [
        (method.upper(), str(URL(str(url)).relative()))
        for method, url, _, _ in aioclient_mock.mock_calls
    ]


async def send(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call send_sms the way an automation asking for the response does."""
    response = await hass.services.async_call(
        DOMAIN, "send_sms", data, blocking=True, return_response=True
    )
    assert response is not None
    return response


async def call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call an action that may or may not answer."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=service in ("list_sms", "list_events"),
    )


async def next_detail_tick(entry: MockConfigEntry) -> None:
    """Run the details coordinator's next one-minute refresh now.

    Driving it directly, not with a frozen clock, keeps the client's rate
    limiter (which runs on the monotonic clock) out of the picture.
    """
    await entry.runtime_data.details.async_refresh()


def sim_device_id(hass: HomeAssistant, iccid: str) -> str:
    """The id of the device the integration created for a SIM."""
    device = find_device(hass, (DOMAIN, iccid))
    assert device is not None
    return device.id


async def set_up(
    hass: HomeAssistant, entry: MockConfigEntry, platforms: list[Platform]
) -> None:
    """Set the account up and let its background work (the usage import) finish."""
    await setup_integration(hass, entry, platforms)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> AiohttpClientMocker:
    """A loaded account with its SIM devices; requests made so far forgotten."""
    await set_up(hass, mock_config_entry, [Platform.SENSOR])
    mock_details.mock_calls.clear()
    return mock_details


@pytest.fixture
async def sms_api(loaded: AiohttpClientMocker) -> AiohttpClientMocker:
    """A loaded account whose SMS endpoint accepts everything (v2 style)."""
    answer_sms_posts(loaded)
    return loaded


# --- send_sms: what goes over the wire ---------------------------------------


async def test_plain_text_is_one_gsm7_sms_in_one_request(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """A short ASCII text costs exactly one API call: no token, no SIM re-fetch."""
    response = await send(hass, iccid=ICCID_1, message="Gate: open")

    assert calls(sms_api) == [("POST", f"/management-api/v2/sims/{ICCID_1}/sms")]
    assert sent_bodies(sms_api) == [{"payload": "Gate: open", "dcs": 0}]
    assert response == {
        "messages": [
            {
                "iccid": ICCID_1,
                "device_id": sim_device_id(hass, ICCID_1),
                "sms_ids": [6026],
                "parts": 1,
                "encoding": "gsm7",
            }
        ]
    }


async def test_sms_id_is_read_from_location_when_1nce_sends_no_body(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """1NCE's v1-style answer (201, empty body, Location) still yields the id."""
    answer_sms_posts(loaded, location=True)

    response = await send(hass, iccid=ICCID_1, message="a" * 200)

    assert response["messages"][0]["sms_ids"] == [6026, 6027]


async def test_gsm_extension_characters_count_twice(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """`€` and `[` stay 7-bit but take two septets: 160 septets fit, 161 do not."""
    fits = "€[" + "a" * 156
    response = await send(hass, iccid=ICCID_1, message=fits)
    assert sent_bodies(sms_api) == [{"payload": fits, "dcs": 0}]
    assert response["messages"][0]["encoding"] == "gsm7"

    sms_api.mock_calls.clear()
    await send(hass, iccid=ICCID_1, message=fits + "a")
    bodies = sent_bodies(sms_api)
    assert [body["dcs"] for body in bodies] == [0, 0]
    assert "".join(body["payload"] for body in bodies) == fits + "a"


@pytest.mark.parametrize(
    "text",
    ["Façade", "Привет, ворота открыты", "Alarm 🔥"],
    ids=["c-cedilla", "cyrillic", "emoji"],
)
async def test_text_outside_the_gsm_alphabet_goes_out_as_ucs2(
    hass: HomeAssistant, sms_api: AiohttpClientMocker, text: str
) -> None:
    """Anything the GSM alphabet lacks switches the whole SMS to UCS-2 (dcs 8)."""
    response = await send(hass, iccid=ICCID_1, message=text)

    assert sent_bodies(sms_api) == [{"payload": text, "dcs": 8}]
    assert response["messages"][0]["encoding"] == "ucs2"


async def test_binary_payload_is_sent_as_hex_with_dcs_4(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """With the binary encoding the message is the payload's hex, uppercased."""
    response = await send(hass, iccid=ICCID_1, message="48656c6c6f", encoding="binary")

    assert sent_bodies(sms_api) == [{"payload": "48656C6C6F", "dcs": 4}]
    assert response["messages"][0]["encoding"] == "binary"


@pytest.mark.parametrize(
    ("char", "single", "part_size"),
    [("a", 160, 153), ("ж", 70, 67)],
    ids=["gsm7", "ucs2"],
)
async def test_long_text_is_split_into_concatenated_parts(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    char: str,
    single: int,
    part_size: int,
) -> None:
    """One character past a single SMS makes two parts sharing one reference."""
    await send(hass, iccid=ICCID_1, message=char * single)
    assert len(sent_bodies(sms_api)) == 1
    assert "udh" not in sent_bodies(sms_api)[0]

    sms_api.mock_calls.clear()
    response = await send(hass, iccid=ICCID_1, message=char * (single + 1))

    first, second = sent_bodies(sms_api)
    assert first["payload"] == char * part_size
    assert second["payload"] == char * (single + 1 - part_size)
    assert first["udh"][:6] == second["udh"][:6] == "050003"
    assert first["udh"][6:8] == second["udh"][6:8]  # the same reference
    assert (first["udh"][8:], second["udh"][8:]) == ("0201", "0202")
    assert response["messages"][0]["parts"] == 2
    assert response["messages"][0]["sms_ids"] == [6027, 6028]


async def test_every_optional_field_reaches_1nce(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """Sender, sender type, own header and a validity period are all passed on."""
    # 1NCE gets milliseconds; the expiry is 12 h after the call, whenever it ran.
    before = dt_util.utcnow().replace(microsecond=0)
    await send(
        hass,
        iccid=ICCID_1,
        message="Ping",
        source_address="HomeAssist",
        source_address_type="alphanumeric",
        udh="050003CC0101",
        expiry={"hours": 12},
    )
    after = dt_util.utcnow()

    (body,) = sent_bodies(sms_api)
    expiry = datetime.fromisoformat(body.pop("expiry_date"))
    assert before + timedelta(hours=12) <= expiry <= after + timedelta(hours=12)
    assert body == {
        "payload": "Ping",
        "source_address": "HomeAssist",
        "source_address_type": {"id": 208},
        "dcs": 0,
        "udh": "050003CC0101",
    }


@pytest.mark.parametrize(
    "expiry",
    [{"hours": 12}, "12:00:00", 43200, {"minutes": 720}],
    ids=["mapping", "hh-mm-ss", "seconds", "minutes"],
)
async def test_expiry_as_a_duration_counts_from_now(
    hass: HomeAssistant, sms_api: AiohttpClientMocker, expiry: Any
) -> None:
    """However YAML writes a duration, 1NCE gets now plus that duration."""
    before = dt_util.utcnow().replace(microsecond=0)
    await send(hass, iccid=ICCID_1, message="Ping", expiry=expiry)
    after = dt_util.utcnow()

    sent = datetime.fromisoformat(sent_bodies(sms_api)[0]["expiry_date"])
    assert before + timedelta(hours=12) <= sent <= after + timedelta(hours=12)


@pytest.mark.parametrize(
    ("field", "expiry", "expected"),
    [
        ("expiry", "2030-04-03 08:00:00", "2030-04-03T06:00:00.000+00:00"),
        ("expiry", "2030-04-03T08:00:00", "2030-04-03T06:00:00.000+00:00"),
        ("expiry", "2030-04-03T08:00:00+00:00", "2030-04-03T08:00:00.000+00:00"),
        ("expiry", datetime(2030, 4, 3, 8), "2030-04-03T06:00:00.000+00:00"),
        ("expiry_at", "2030-04-03 08:00:00", "2030-04-03T06:00:00.000+00:00"),
    ],
    ids=["local-space", "local-iso", "with-zone", "datetime-object", "expiry_at"],
)
async def test_expiry_as_a_moment_means_home_assistant_local_time_unless_zoned(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    field: str,
    expiry: Any,
    expected: str,
) -> None:
    """A date and time without a zone is local; `expiry_at` still works as before."""
    await hass.config.async_set_time_zone("Europe/Berlin")

    await send(hass, iccid=ICCID_1, message="Ping", **{field: expiry})

    assert sent_bodies(sms_api)[0]["expiry_date"] == expected


async def test_expiry_that_is_neither_says_what_it_expects(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """A typo is refused naming both accepted forms, and nothing is sent."""
    with pytest.raises(vol.Invalid, match=r"a duration .* or a date and time"):
        await send(hass, iccid=ICCID_1, message="Ping", expiry="next tuesday")

    assert sms_api.mock_calls == []


async def test_one_message_goes_to_every_target_once(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """Devices and ICCIDs mix; a SIM named twice (here with its check digit) gets one SMS."""
    device_1 = sim_device_id(hass, ICCID_1)

    response = await send(
        hass,
        device_id=[device_1],
        iccid=[ICCID_2, "89882280660000000012"],
        message="All gates: close",
    )

    assert [body["payload"] for body in sent_bodies(sms_api)] == [
        "All gates: close",
        "All gates: close",
    ]
    assert [
        (message["iccid"], message["device_id"], message["sms_ids"])
        for message in response["messages"]
    ] == [
        (ICCID_1, device_1, [6026]),
        (ICCID_2, sim_device_id(hass, ICCID_2), [6027]),
    ]


async def test_sending_without_asking_for_a_response_works(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """A plain script step (no response_variable) sends all the same."""
    assert (
        await hass.services.async_call(
            DOMAIN, "send_sms", {"iccid": ICCID_1, "message": "Hi"}, blocking=True
        )
        is None
    )
    assert sent_bodies(sms_api) == [{"payload": "Hi", "dcs": 0}]


async def test_sending_refreshes_the_sms_volume_at_the_next_tick(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The sent SIM's quota is re-read at the next detail tick, and only its own."""
    await send(hass, iccid=ICCID_2, message="Hi")
    sms_api.mock_calls.clear()

    await next_detail_tick(mock_config_entry)

    assert sorted(calls(sms_api)) == [
        ("GET", f"/management-api/v2/sims/{ICCID_2}/quota/data"),
        ("GET", f"/management-api/v2/sims/{ICCID_2}/quota/sms"),
        ("GET", f"/management-api/v2/sims/{ICCID_2}/status"),
    ]


# --- send_sms: what is refused before anything is sent ------------------------


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"message": ""}, "empty_message", {}),
        (
            {"message": "a" * (153 * 6 + 1)},
            "too_many_parts",
            {"parts_needed": "7", "max_parts": "6"},
        ),
        ({"message": "Hi", "udh": "05000"}, "invalid_udh", None),
        ({"message": "Hi", "udh": "0600"}, "invalid_udh", None),
        ({"message": "0x48", "encoding": "binary"}, "invalid_binary_message", None),
        (
            {"message": "a" * 154, "udh": "050003CC0101"},
            "udh_message_too_long_gsm7",
            {"header": "6", "room": "153", "needed": "154"},
        ),
        (
            {"message": "€" * 77, "udh": "050003CC0101"},
            "udh_message_too_long_gsm7",
            {"header": "6", "room": "153", "needed": "154"},
        ),
        (
            {"message": "🔥" * 34, "udh": "050003CC0101"},
            "udh_message_too_long_ucs2",
            {"header": "6", "room": "67", "needed": "68"},
        ),
        (
            {"message": "ab" * 135, "encoding": "binary", "udh": "050003CC0101"},
            "udh_payload_too_long",
            {"header": "6", "room": "134", "needed": "135"},
        ),
        (
            {"message": "Façade €", "encoding": "gsm7"},
            "not_gsm7",
            {"characters": "ç"},
        ),
        (
            {"message": "Hi", "expiry": "2020-01-01 00:00:00"},
            "expiry_in_past",
            # Local time: the tests' Home Assistant runs in US/Pacific.
            {"expiry": "2020-01-01T00:00:00-08:00"},
        ),
        (
            {"message": "Hi", "expiry_at": "2020-01-01 00:00:00"},
            "expiry_in_past",
            None,
        ),
        ({"message": "Hi", "expiry": {"seconds": 0}}, "expiry_not_positive", {}),
        ({"message": "Hi", "expiry": "00:00:00"}, "expiry_not_positive", {}),
        ({"message": "Hi", "expiry": -60}, "expiry_not_positive", {}),
    ],
    ids=[
        "empty",
        "over-part-cap",
        "bad-udh",
        "udh-length-byte",
        "bad-binary",
        "udh-gsm7-too-long",
        "udh-gsm7-extension-too-long",
        "udh-ucs2-too-long",
        "udh-binary-too-long",
        "not-gsm7",
        "expiry-past",
        "expiry-at-past",
        "expiry-zero",
        "expiry-midnight-as-duration",
        "expiry-negative",
    ],
)
async def test_unsendable_messages_are_refused_with_a_reason(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str] | None,
) -> None:
    """Each mistake has its own translated message, and nothing reaches 1NCE."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, **data)

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    if placeholders is not None:
        assert (err.value.translation_placeholders or {}) == placeholders
    assert_placeholders_fit(err.value)
    assert sms_api.mock_calls == []


async def test_zero_validity_says_how_durations_are_written(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """A validity of "00:00:00" is refused as a duration, not as a moment passed."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi", expiry="00:00:00")

    assert str(err.value) == (
        "The validity must be longer than zero. A plain number is seconds, and "
        "HH:MM or HH:MM:SS is a duration, not a time of day"
    )


@pytest.mark.parametrize(
    ("message", "note", "other_note"),
    [
        ("a" * 154, "characters such as € and [ count twice", "emoji"),
        (
            "🔥" * 34,
            "an emoji, or another character outside Unicode's basic plane, "
            "counts twice",
            "€",
        ),
    ],
    ids=["gsm7", "ucs2"],
)
async def test_header_refusal_explains_only_its_own_alphabet(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    message: str,
    note: str,
    other_note: str,
) -> None:
    """What counts twice differs per alphabet; the other alphabet's note is left out."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message=message, udh="050003CC0101")

    assert note in str(err.value)
    assert other_note not in str(err.value)
    german = ERROR_TEXTS["de"][err.value.translation_key]["message"]
    assert "GSM 7-bit" not in german  # German writes "GSM-7-Bit"


@pytest.mark.parametrize(
    ("message", "encoding"),
    [("a" * 153, "auto"), ("€" * 76 + "a", "auto"), ("🔥" * 33 + "a", "auto")],
    ids=["gsm7", "gsm7-extension", "ucs2"],
)
async def test_message_with_own_header_that_fits_is_sent_whole(
    hass: HomeAssistant, sms_api: AiohttpClientMocker, message: str, encoding: str
) -> None:
    """The room the refusal names is exactly what fits: one unit less is sent."""
    await send(hass, iccid=ICCID_1, message=message, udh="050003CC0101")

    assert [(body["payload"], body["udh"]) for body in sent_bodies(sms_api)] == [
        (message, "050003CC0101")
    ]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (
            {"message": "Hi", "udh": "XY"},
            "The user data header (UDH) is not valid. Write it as pairs of "
            "hexadecimal digits",
        ),
        (
            {"message": "0x48", "encoding": "binary"},
            "With the binary encoding, the message is the payload as hexadecimal "
            "digits",
        ),
        (
            {"message": "a" * 200, "udh": "050003CC0101"},
            "A message with its own user data header (UDH) is sent as a single SMS "
            "and never split. Next to this 6-byte header, one SMS holds 153 "
            "characters of the GSM 7-bit alphabet, but the message needs 200",
        ),
    ],
    ids=["udh", "binary", "udh-too-long"],
)
async def test_refusals_name_fields_as_the_ui_does(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    data: dict[str, str],
    text: str,
) -> None:
    """No internal field name, and no advice to raise a cap that would not help."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, **data)

    assert str(err.value).startswith(text)
    assert "options" not in str(err.value)
    assert "udh" not in str(err.value)
    assert "field" not in str(err.value)


async def test_refusal_the_codec_has_no_text_for_still_reaches_the_user(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal added to the codec later is shown in its English words, not lost."""

    def refuse(*args: Any, **kwargs: Any) -> list[sms_codec.SmsPart]:
        raise sms_codec.SmsEncodingError("Some new reason")

    monkeypatch.setattr("custom_components.one_nce.sending.split_message", refuse)

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "message_not_sendable"
    assert str(err.value) == "The message cannot be sent as given: Some new reason"
    assert sms_api.mock_calls == []


async def test_part_cap_comes_from_the_entry_options(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """A user who allows two parts gets a refusal for a three-part text."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=mock_config_entry.unique_id,
        data=dict(mock_config_entry.data),
        options={CONF_MAX_SMS_PARTS: 2},
    )
    await set_up(hass, entry, [])
    answer_sms_posts(mock_details)
    mock_details.mock_calls.clear()

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 307)

    assert err.value.translation_key == "too_many_parts"
    assert err.value.translation_placeholders == {
        "parts_needed": "3",
        "max_parts": "2",
    }
    await send(hass, iccid=ICCID_1, message="a" * 306)
    assert len(sent_bodies(mock_details)) == 2


async def test_refusal_message_is_translated(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """What the user reads says how far over the cap the text is and what to do."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 1000)

    assert str(err.value) == (
        "The message needs 7 SMS, but at most 6 are allowed. Shorten it, or raise "
        "the maximum number of SMS parts in the integration's options"
    )


async def test_disabled_sim_is_refused(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """A disabled SIM cannot receive; the user is told which one, by its label."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_3, message="Hi")

    assert err.value.translation_key == "sim_disabled"
    assert err.value.translation_placeholders == {"sim": f"Weather station ({ICCID_3})"}
    assert sms_api.mock_calls == []


async def test_one_bad_target_stops_the_whole_send(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """Every SIM is checked first: no SIM gets the message if one cannot."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=[ICCID_1, ICCID_2, ICCID_3], message="Hi")

    assert err.value.translation_key == "sim_disabled"
    assert sms_api.mock_calls == []


@pytest.mark.parametrize(
    "change",
    [
        {"volume": 0},
        # 1NCE's v2 marks a quota past its expiry date; what is left is lost.
        {"volume": 200, "status": "EXPIRED"},
    ],
    ids=["none_left", "expired"],
)
async def test_sim_without_sms_volume_is_refused(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_api: AiohttpClientMocker,
    change: dict[str, object],
) -> None:
    """An exact quota that cannot be spent wins over the list's 'more than 20 %'.

    Before refusing, the quota is read once more (a top-up may have come in
    since); it still says the same, so nothing is sent.
    """
    quota = load_json("quota_sms_1.json") | change
    mock_api.get(sim_url(ICCID_1, "/quota/sms"), json=quota)
    for number in (1, 2, 3):
        answer_details(mock_api, number)
    await set_up(hass, mock_config_entry, [])
    answer_sms_posts(mock_api)
    mock_api.mock_calls.clear()

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "sms_volume_exhausted"
    assert err.value.translation_placeholders == {"sim": f"Garden gate ({ICCID_1})"}
    assert_placeholders_fit(err.value)
    assert calls(mock_api) == [("GET", f"/management-api/v2/sims/{ICCID_1}/quota/sms")]


async def topped_up_after_setup(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    *,
    volume_now: int,
) -> None:
    """Load with SIM 1's SMS volume used up; 1NCE says `volume_now` from then on.

    That is a top-up in the Portal after the last detail tick.
    """
    answers = iter([0])

    async def quota(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        body = load_json("quota_sms_1.json") | {"volume": next(answers, volume_now)}
        return AiohttpClientMockResponse(method, url, json=body)

    aioclient_mock.get(sim_url(ICCID_1, "/quota/sms"), side_effect=quota)
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)
    await set_up(hass, entry, [])
    answer_sms_posts(aioclient_mock)
    aioclient_mock.mock_calls.clear()


async def test_sim_topped_up_since_the_last_tick_is_sent_to(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_api: AiohttpClientMocker,
) -> None:
    """A stale "none left" costs one quota request, not a wrong refusal."""
    await topped_up_after_setup(hass, mock_config_entry, mock_api, volume_now=250)

    response = await send(hass, iccid=ICCID_1, message="Hi")

    assert calls(mock_api) == [
        ("GET", f"/management-api/v2/sims/{ICCID_1}/quota/sms"),
        ("POST", f"/management-api/v2/sims/{ICCID_1}/sms"),
    ]
    assert response["messages"][0]["sms_ids"] == [6026]

    # The details catch up at the next tick; after that, no extra request.
    await next_detail_tick(mock_config_entry)
    details = mock_config_entry.runtime_data.details.data
    assert details[ICCID_1].sms_quota.volume == 250
    mock_api.mock_calls.clear()
    await send(hass, iccid=ICCID_1, message="Hi")
    assert calls(mock_api) == [("POST", f"/management-api/v2/sims/{ICCID_1}/sms")]


async def test_sim_topped_up_is_refreshed_even_if_its_sms_then_fails(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_api: AiohttpClientMocker,
) -> None:
    """The volume 1NCE just reported reaches the sensors whatever the send does."""
    mock_api.post(SMS_POST, status=HTTPStatus.CONFLICT, json={"message": "busy"})
    await topped_up_after_setup(hass, mock_config_entry, mock_api, volume_now=250)

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "send_failed"
    await next_detail_tick(mock_config_entry)
    details = mock_config_entry.runtime_data.details.data
    assert details[ICCID_1].sms_quota.volume == 250


async def test_refusal_after_reread_leaves_the_other_targets_unsent(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_api: AiohttpClientMocker,
) -> None:
    """SIM 2 is fine, SIM 1 still has nothing: neither gets the message."""
    await topped_up_after_setup(hass, mock_config_entry, mock_api, volume_now=0)

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=[ICCID_2, ICCID_1], message="Hi")

    assert err.value.translation_key == "sms_volume_exhausted"
    assert sent_bodies(mock_api) == []


async def test_quota_that_cannot_be_reread_keeps_the_refusal(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_api: AiohttpClientMocker,
) -> None:
    """Without a newer answer the cached "none left" stands; nothing is sent."""
    quota = load_json("quota_sms_1.json") | {"volume": 0}
    answers = iter([AiohttpClientMockResponse("get", URL(), json=quota)])

    async def once(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        return next(answers, AiohttpClientMockResponse(method, url, status=404))

    mock_api.get(sim_url(ICCID_1, "/quota/sms"), side_effect=once)
    for number in (1, 2, 3):
        answer_details(mock_api, number)
    await set_up(hass, mock_config_entry, [])
    answer_sms_posts(mock_api)
    mock_api.mock_calls.clear()

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "sms_volume_exhausted"
    assert sent_bodies(mock_api) == []


async def test_list_level_decides_while_the_volume_is_unknown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Without an exact volume (1NCE answered `{}`), 'none left' in the list refuses."""
    sims = load_json("sims.json")
    sims[1]["quota_status_SMS"] = {"id": 2, "description": "No volume available"}
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=sims, headers={"X-Total-Pages": "1"})
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    aioclient_mock.get(sim_url(ICCID_2, "/quota/sms"), json={})
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)
    await set_up(hass, mock_config_entry, [])
    aioclient_mock.mock_calls.clear()

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_2, message="Hi")

    assert err.value.translation_key == "sms_volume_exhausted"
    # Asked once more; 1NCE still knows no exact volume, so the list decides.
    assert calls(aioclient_mock) == [
        ("GET", f"/management-api/v2/sims/{ICCID_2}/quota/sms")
    ]


@pytest.mark.parametrize(
    ("target", "sim"),
    [
        ({"iccid": "8988228066999999999"}, "8988228066999999999"),
        ({"device_id": "no-such-device"}, "no-such-device"),
    ],
    ids=["iccid", "device"],
)
async def test_unknown_sim_is_refused_naming_it(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    target: dict[str, str],
    sim: str,
) -> None:
    """An ICCID or device outside every loaded account is named back to the user."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, message="Hi", **target)

    assert err.value.translation_key == "unknown_sim"
    assert err.value.translation_placeholders == {"sim": sim}


async def test_account_device_is_not_a_sim(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Picking the account's own device is refused by its name, not sent anywhere."""
    registry = dr.async_get(hass)
    account = registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, mock_config_entry.entry_id)},
        name="1NCE account",
    )

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, device_id=account.id, message="Hi")

    assert err.value.translation_key == "unknown_sim"
    assert err.value.translation_placeholders == {"sim": "1NCE account"}


async def test_sending_needs_a_target(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """Neither device nor ICCID: a clear message instead of silently doing nothing."""
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, message="Hi", iccid=[" "])

    assert err.value.translation_key == "no_target"


async def test_validity_is_a_period_or_a_moment_not_both(
    hass: HomeAssistant, sms_api: AiohttpClientMocker
) -> None:
    """Two validity settings that could contradict each other are rejected."""
    with pytest.raises(vol.Invalid):
        await send(
            hass,
            iccid=ICCID_1,
            message="Hi",
            expiry={"hours": 1},
            expiry_at="2030-01-01 00:00:00",
        )


async def test_actions_exist_before_any_account_loaded(hass: HomeAssistant) -> None:
    """Automations can reference the actions at startup; a call says what is wrong."""
    assert await async_setup_component(hass, DOMAIN, {})

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "unknown_sim"
    assert sorted(hass.services.async_services_for_domain(DOMAIN)) == [
        "cancel_sms",
        "list_events",
        "list_sms",
        "send_sms",
        "top_up",
    ]


# --- send_sms: what 1NCE refuses ----------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    ],
    ids=["400", "403", "404", "409", "422"],
)
async def test_monthly_traffic_limit_is_explained_with_1nces_words(
    hass: HomeAssistant, loaded: AiohttpClientMocker, status: HTTPStatus
) -> None:
    """1NCE's words decide, whatever status it refuses with: the user can fix it."""
    loaded.post(SMS_POST, status=status, json={"message": TRAFFIC_LIMIT})

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert err.value.translation_key == "traffic_limit_exceeded"
    assert err.value.translation_placeholders == {
        "sim": GARDEN_GATE,
        "error": TRAFFIC_LIMIT,
    }
    assert str(err.value) == (
        f"1NCE refused the SMS to {GARDEN_GATE} because the monthly SMS limit of "
        f"your organisation is reached: {TRAFFIC_LIMIT}. The limit can be changed "
        "in the 1NCE Portal"
    )


async def test_rate_limit_is_not_mistaken_for_the_traffic_limit(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """1NCE's 429 (slow down, try later) is not the monthly limit the user can raise."""
    loaded.post(
        SMS_POST,
        status=HTTPStatus.TOO_MANY_REQUESTS,
        headers={"Retry-After": "3600"},
        json={"message": "Too Many Requests"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "send_failed"


async def test_other_refusal_is_a_send_failure(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Anything else 1NCE refuses fails the action with 1NCE's message."""
    loaded.post(
        SMS_POST,
        status=HTTPStatus.BAD_REQUEST,
        json={"message": "source_address too long"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="Hi")

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "send_failed"
    assert err.value.translation_placeholders == {
        "sim": GARDEN_GATE,
        "error": "source_address too long",
    }
    assert str(err.value) == (
        f"Sending the SMS to {GARDEN_GATE} failed: source_address too long"
    )


async def test_failure_midway_names_the_part_that_went_out(
    no_sleep: None,
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Part 1 was accepted, part 2 hit an outage: the user learns both facts."""
    answers = iter(
        [
            AiohttpClientMockResponse("post", URL(), status=201, json={"id": "1"}),
            *[AiohttpClientMockResponse("post", URL(), status=503)] * 4,
        ]
    )

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        return next(answers)

    loaded.post(SMS_POST, side_effect=next_answer)

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 161)

    assert err.value.translation_key == "send_failed_partially"
    assert err.value.translation_placeholders["sent"] == f"{GARDEN_GATE}: 1"
    assert_placeholders_fit(err.value)

    # The accepted part used volume, so the quota is re-read at the next tick.
    loaded.mock_calls.clear()
    await next_detail_tick(mock_config_entry)
    assert ("GET", f"/management-api/v2/sims/{ICCID_1}/quota/sms") in calls(loaded)


async def test_failure_at_part_3_names_the_ids_of_parts_1_and_2(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Parts already sent are on their way: their ids are named and followed."""
    answer_sms_posts_in_turn(loaded, 6026, 6027, (409, "SMSC busy"))

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 400)

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "send_failed_partially"
    assert err.value.translation_placeholders == {
        "sim": GARDEN_GATE,
        "error": "SMSC busy",
        "sent": f"{GARDEN_GATE}: 6026, 6027",
    }
    assert str(err.value) == (
        f"Sending the SMS to {GARDEN_GATE} failed: SMSC busy. 1NCE had already "
        "accepted these SMS, which are on their way and are deducted from the "
        f"SMS volume (SIM: SMS ids): {GARDEN_GATE}: 6026, 6027"
    )
    assert followed(mock_config_entry) == [(ICCID_1, "6026"), (ICCID_1, "6027")]


async def test_failure_at_the_second_sim_names_what_the_first_got(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """SIM 1 got its SMS before SIM 2 failed: the error says so, with the id.

    SIM 2 got nothing, and the text does not count its parts ("0 of its 1").
    """
    answer_sms_posts_in_turn(loaded, 6026, (409, "SMSC busy"))

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=[ICCID_1, ICCID_2], message="Gates: close")

    assert err.value.translation_key == "send_failed_partially"
    assert err.value.translation_placeholders == {
        "sim": ICCID_2,
        "error": "SMSC busy",
        "sent": f"{GARDEN_GATE}: 6026",
    }
    assert str(err.value) == (
        f"Sending the SMS to {ICCID_2} failed: SMSC busy. 1NCE had already "
        "accepted these SMS, which are on their way and are deducted from the "
        f"SMS volume (SIM: SMS ids): {GARDEN_GATE}: 6026"
    )
    assert followed(mock_config_entry) == [(ICCID_1, "6026")]


async def test_traffic_limit_partway_names_every_sms_already_accepted(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The limit hit at SIM 2's second part: SIM 1's parts and SIM 2's first are named."""
    answer_sms_posts_in_turn(
        loaded, 6026, 6027, 6028, (HTTPStatus.FORBIDDEN, TRAFFIC_LIMIT)
    )

    with pytest.raises(ServiceValidationError) as err:
        await send(hass, iccid=[ICCID_1, ICCID_2], message="a" * 200)

    assert err.value.translation_key == "traffic_limit_exceeded_partially"
    assert err.value.translation_placeholders == {
        "sim": ICCID_2,
        "error": TRAFFIC_LIMIT,
        "sent": f"{GARDEN_GATE}: 6026, 6027; {ICCID_2}: 6028",
    }
    assert_placeholders_fit(err.value)
    assert str(err.value) == (
        f"1NCE refused the SMS to {ICCID_2} because the monthly SMS limit of your "
        f"organisation is reached: {TRAFFIC_LIMIT}. The limit can be changed in "
        "the 1NCE Portal. 1NCE had already accepted these SMS, which are on "
        "their way and are deducted from the SMS volume (SIM: SMS ids): "
        f"{GARDEN_GATE}: 6026, 6027; {ICCID_2}: 6028"
    )
    assert followed(mock_config_entry) == [
        (ICCID_1, "6026"),
        (ICCID_1, "6027"),
        (ICCID_2, "6028"),
    ]


@pytest.mark.parametrize(
    ("second_part", "joined"),
    [
        (
            AiohttpClientMockResponse("post", URL(), exc=TimeoutError()),
            "timed out; not repeated, as 1NCE may have acted on it. 1NCE had "
            "already accepted",
        ),
        (
            AiohttpClientMockResponse(
                "post", URL(), status=409, json={"message": "SMSC busy."}
            ),
            "failed: SMSC busy. 1NCE had already accepted",
        ),
    ],
    ids=["timeout", "1nce-full-stop"],
)
async def test_error_text_joins_the_sentence_after_it_once(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    second_part: AiohttpClientMockResponse,
    joined: str,
) -> None:
    """An error with or without its own full stop reads "... it. 1NCE", never "it.."."""
    answers = iter(
        [AiohttpClientMockResponse("post", URL(), status=201, json={"id": "1"})]
    )

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        return next(answers, second_part)

    loaded.post(SMS_POST, side_effect=next_answer)

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 161)

    assert joined in str(err.value)
    assert ".." not in str(err.value)
    assert len(sent_bodies(loaded)) == 2  # a timed-out SMS is not sent again


class VirtualTime:
    """A clock for the client's rate limiter that only moves when waited on.

    It replaces the account's limiter, so a pause 1NCE asks for ends exactly
    when the code under test has waited it out, without real waiting.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def virtual_time(
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> VirtualTime:
    """The account's limiter and send_sms's waits run on virtual time."""
    time = VirtualTime()
    mock_config_entry.runtime_data.client.rate_limiter = RateLimiter(
        10, 1.25, clock=time.clock, sleep=time.sleep, max_pause=60
    )
    monkeypatch.setattr("custom_components.one_nce.sending.sleep", time.sleep)
    return time


def answer_with_a_pause(
    loaded: AiohttpClientMocker,
    entry: MockConfigEntry,
    *answers: int | tuple[int, str],
    pause_after: int,
) -> None:
    """Answer SMS POSTs in turn; after the `pause_after`th, another caller's 429
    pauses every caller for two minutes (longer than a call waits)."""
    pending = iter(answers)
    posted = itertools.count(1)

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        answer = next(pending)
        if next(posted) == pause_after:
            entry.runtime_data.client.rate_limiter.pause(120)
        if isinstance(answer, int):
            return AiohttpClientMockResponse(
                method, url, status=201, json={"id": str(answer)}
            )
        status, retry_after = answer
        return AiohttpClientMockResponse(
            method, url, status=status, headers={"Retry-After": retry_after}
        )

    loaded.post(SMS_POST, side_effect=next_answer)


async def test_long_pause_between_parts_is_waited_out_so_the_message_is_whole(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    virtual_time: VirtualTime,
) -> None:
    """Part 2 waits the two minutes once and goes out: no half message."""
    answer_with_a_pause(loaded, mock_config_entry, 6026, 6027, pause_after=1)

    response = await send(hass, iccid=ICCID_1, message="a" * 161)

    assert response["messages"][0]["sms_ids"] == [6026, 6027]
    assert [body["udh"][-4:] for body in sent_bodies(loaded)] == ["0201", "0202"]
    assert virtual_time.waits == [pytest.approx(120)]


async def test_429_on_a_later_part_is_waited_out_up_to_ten_minutes(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    virtual_time: VirtualTime,
) -> None:
    """1NCE's own 429 on part 2 asking for an hour: the wait is capped, then sent."""
    answers = iter(
        [
            AiohttpClientMockResponse("post", URL(), status=201, json={"id": "6026"}),
            AiohttpClientMockResponse(
                "post", URL(), status=429, headers={"Retry-After": "3600"}
            ),
            AiohttpClientMockResponse("post", URL(), status=201, json={"id": "6027"}),
        ]
    )

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        return next(answers)

    loaded.post(SMS_POST, side_effect=next_answer)

    response = await send(hass, iccid=ICCID_1, message="a" * 161)

    assert response["messages"][0]["sms_ids"] == [6026, 6027]
    assert len(sent_bodies(loaded)) == 3  # part 2 refused once, then accepted
    assert virtual_time.waits == [600]


async def test_long_pause_before_the_first_part_fails_at_once(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    virtual_time: VirtualTime,
) -> None:
    """Nothing went out yet: the user is told to try later, nobody waits minutes."""
    answer_sms_posts(loaded)
    mock_config_entry.runtime_data.client.rate_limiter.pause(120)

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 161)

    assert err.value.translation_key == "send_failed"
    assert "pause" in str(err.value)
    assert sent_bodies(loaded) == []
    assert virtual_time.waits == []


async def test_pause_between_parts_is_waited_out_only_once(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    virtual_time: VirtualTime,
) -> None:
    """Refused again after the wait: the error names the part that went out."""
    answer_with_a_pause(loaded, mock_config_entry, 6026, (429, "3600"), pause_after=1)

    with pytest.raises(HomeAssistantError) as err:
        await send(hass, iccid=ICCID_1, message="a" * 161)

    assert err.value.translation_key == "send_failed_partially"
    assert err.value.translation_placeholders["sent"] == f"{GARDEN_GATE}: 6026"
    assert virtual_time.waits == [pytest.approx(120)]
    assert len(sent_bodies(loaded)) == 2


# --- the shared sending path (what the notify entity calls) -------------------


async def test_send_path_returns_the_ids_of_all_parts(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Callers other than the action get the same checks, split and ids."""
    sent = await async_send_sms(
        mock_config_entry, ICCID_1, OutgoingSms(message="Ж" * 71)
    )

    assert sent == SentSms(
        iccid=ICCID_1,
        name=GARDEN_GATE,
        sms_ids=("6026", "6027"),
        encoding=sms_codec.Encoding.UCS2,
    )
    assert [body["dcs"] for body in sent_bodies(sms_api)] == [8, 8]


async def test_send_path_refuses_a_sim_that_left_the_fleet(
    hass: HomeAssistant,
    sms_api: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A SIM gone since the last poll (e.g. a stale notify entity) is not sent to."""
    with pytest.raises(ServiceValidationError) as err:
        await async_send_sms(
            mock_config_entry, "8988228066999999999", OutgoingSms(message="Hi")
        )

    assert err.value.translation_key == "unknown_sim"
    assert sms_api.mock_calls == []


# --- cancel_sms ---------------------------------------------------------------


async def test_cancel_deletes_the_buffered_sms(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Cancelling is one DELETE of that SMS on that SIM."""
    loaded.delete(sim_url(ICCID_1, "/sms/6026"), json={"id": "6026"})

    await call(
        hass, "cancel_sms", device_id=sim_device_id(hass, ICCID_1), sms_id="6026"
    )

    assert calls(loaded) == [("DELETE", f"/management-api/v2/sims/{ICCID_1}/sms/6026")]


@pytest.mark.parametrize(
    "status", [HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST], ids=["404", "400"]
)
async def test_cancel_of_a_final_sms_is_refused(
    hass: HomeAssistant, loaded: AiohttpClientMocker, status: HTTPStatus
) -> None:
    """An SMS already delivered or expired cannot be cancelled: say so plainly."""
    loaded.delete(
        sim_url(ICCID_1, "/sms/6026"),
        status=status,
        json={"message": "SMS is in final state"},
    )

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "cancel_sms", iccid=ICCID_1, sms_id=6026)

    assert err.value.translation_key == "sms_not_cancelable"
    assert err.value.translation_placeholders == {
        "sms_id": "6026",
        "sim": ICCID_1,
        "error": "SMS is in final state",
    }


async def test_cancel_during_an_outage_fails(
    no_sleep: None, hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """1NCE being down is not the user's mistake: a plain failure, not a refusal."""
    loaded.delete(sim_url(ICCID_1, "/sms/6026"), status=HTTPStatus.BAD_GATEWAY)

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "cancel_sms", iccid=ICCID_1, sms_id="6026")

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "cancel_failed"


@pytest.mark.parametrize("two_sims", [False, True], ids=["none", "two"])
async def test_cancel_needs_exactly_one_sim(
    hass: HomeAssistant, loaded: AiohttpClientMocker, two_sims: bool
) -> None:
    """An SMS id belongs to one SIM, so exactly one must be named."""
    target = (
        {"iccid": ICCID_1, "device_id": sim_device_id(hass, ICCID_2)}
        if two_sims
        else {}
    )

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "cancel_sms", sms_id="6026", **target)

    assert err.value.translation_key == "one_sim_needed"
    assert loaded.mock_calls == []


# --- list_sms -----------------------------------------------------------------


async def test_list_shows_the_sms_tab_newest_first(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Sent and received SMS, newest first, received UCS-2 text decoded."""
    loaded.get(sim_url(ICCID_1, "/sms"), json=load_json("sms_list.json"))

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert calls(loaded) == [
        (
            "GET",
            f"/management-api/v2/sims/{ICCID_1}/sms?page=1&per_page=100",
        )
    ]
    assert response == {
        "sms": [
            {
                "id": "6040",
                "direction": "mt",
                "status": "buffered",
                "status_id": 3,
                "submit_date": "2025-04-03T08:00:00+00:00",
                "final_date": None,
                "source_address": "1234",
                "dcs": 4,
                "payload": "48656C6C6F",
                "text": None,
            },
            {
                "id": "6031",
                "direction": "mo",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-02T11:30:00+00:00",
                "final_date": "2025-04-02T11:30:00+00:00",
                "source_address": "882285100000001",
                "dcs": 8,
                "payload": "041F04400438043204350442",
                "text": "Привет",
            },
            {
                "id": "6026",
                "direction": "mt",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-02T10:00:00+00:00",
                "final_date": "2025-04-02T10:00:05+00:00",
                "source_address": "HomeAssist",
                "dcs": 0,
                "payload": "Gate: open",
                "text": "Gate: open",
            },
            {
                "id": "6012",
                "direction": "mo",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-01T09:00:00+00:00",
                "final_date": "2025-04-01T09:00:01+00:00",
                "source_address": "882285100000001",
                "dcs": 0,
                "payload": "Temp 21.5",
                "text": "Temp 21.5",
            },
        ]
    }


def sms_pages(
    aioclient_mock: AiohttpClientMocker, items: list[dict[str, Any]], *, size: int = 100
) -> None:
    """Serve `items` as 1NCE does: in pages of `size`, in the order given."""

    async def page(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        number = int(url.query["page"])
        assert url.query["per_page"] == str(size)
        chunk = items[(number - 1) * size : number * size]
        return AiohttpClientMockResponse(method, url, json=chunk)

    aioclient_mock.get(sim_url(ICCID_1, "/sms"), side_effect=page)


def listed_sms(count: int, *, start: int = 7000) -> list[dict[str, Any]]:
    """`count` SMS, a minute apart, in an order that is neither old- nor new-first."""
    first = datetime(2025, 4, 1, tzinfo=dt_util.UTC)
    # A fixed shuffle (0, 167, 84, 1, ... for 250): the newest on the last page.
    order = sorted(range(count), key=lambda number: number * 3 % count)
    return [
        {
            "id": start + number,
            "submit_date": (first + timedelta(minutes=number)).isoformat(),
            "payload": f"#{number}",
            "dcs": 0,
            "status": {"id": 4},
            "sms_type": {"id": 1 + number % 2},
        }
        for number in order
    ]


def page_requests(aioclient_mock: AiohttpClientMocker) -> list[str]:
    return [url.query["page"] for _, url, _, _ in aioclient_mock.mock_calls]


async def test_list_reads_every_page_and_returns_the_newest(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """250 SMS over three pages, in no order: the newest come back, newest first."""
    items = listed_sms(250)
    newest = max(items, key=lambda item: item["id"])
    assert items.index(newest) >= 200  # on the third page
    sms_pages(loaded, items)

    response = await call(hass, "list_sms", iccid=ICCID_1, limit=100)

    assert page_requests(loaded) == ["1", "2", "3"]  # page 3 is short: the end
    assert [item["id"] for item in response["sms"]] == [
        str(sms_id) for sms_id in range(7249, 7149, -1)
    ]


async def test_list_direction_and_limit_apply_after_reading_all_pages(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Filtering happens over all pages, so the newest received SMS are found."""
    sms_pages(loaded, listed_sms(250))

    response = await call(hass, "list_sms", iccid=ICCID_1, direction="mo", limit=3)

    assert [item["id"] for item in response["sms"]] == ["7249", "7247", "7245"]
    assert {item["direction"] for item in response["sms"]} == {"mo"}


async def test_list_stops_when_1nce_ignores_the_page(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A server answering page 1 to every page is asked twice, not twenty times."""
    same = listed_sms(100)
    loaded.get(sim_url(ICCID_1, "/sms"), json=same)

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert page_requests(loaded) == ["1", "2"]
    assert len(response["sms"]) == 20


async def test_list_reads_at_most_twenty_pages(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An endless list costs at most 20 requests (2,000 SMS, far over a week's).

    The answer may then lack SMS, and the log says so once.
    """

    async def endless(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        number = int(url.query["page"])
        return AiohttpClientMockResponse(
            method, url, json=listed_sms(100, start=number * 1000)
        )

    loaded.get(sim_url(ICCID_1, "/sms"), side_effect=endless)

    response = await call(hass, "list_sms", iccid=ICCID_1, limit=1)

    assert page_requests(loaded) == [str(number) for number in range(1, 21)]
    assert [item["id"] for item in response["sms"]] == ["20099"]
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelname == "WARNING"
    ]
    assert warnings == [
        f"Listing the SMS of {ICCID_1} stopped after 20 pages (2000 SMS); any "
        "further SMS 1NCE keeps for it were not read"
    ]


async def test_list_filters_by_direction_and_limits_the_count(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Only received SMS, and only as many as asked for, the newest kept."""
    loaded.get(sim_url(ICCID_1, "/sms"), json=load_json("sms_list.json"))

    response = await call(
        hass,
        "list_sms",
        device_id=sim_device_id(hass, ICCID_1),
        direction="mo",
        limit=1,
    )

    assert [item["id"] for item in response["sms"]] == ["6031"]


async def test_list_keeps_sms_without_payload(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """An SMS whose body 1NCE no longer shows is listed, just without text."""
    loaded.get(
        sim_url(ICCID_1, "/sms"),
        json=[{"id": 6001, "sms_type": {"id": 2}, "status": {"id": 4}}],
    )

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert [
        (item["id"], item["payload"], item["text"]) for item in response["sms"]
    ] == [("6001", None, None)]


async def test_list_failure_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A refused list request fails the action with 1NCE's words."""
    loaded.get(
        sim_url(ICCID_1, "/sms"),
        status=HTTPStatus.BAD_REQUEST,
        json={"message": "per_page too large"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "list_sms", iccid=ICCID_1)

    assert err.value.translation_key == "list_failed"
    assert err.value.translation_placeholders == {
        "sim": ICCID_1,
        "error": "per_page too large",
    }


# --- list_events -----------------------------------------------------------------


async def test_list_events_shows_the_sims_events_newest_first(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """The Portal's event list: type, time, network and severity, newest first."""
    response = await call(
        hass, "list_events", device_id=sim_device_id(hass, ICCID_1), limit=5
    )

    assert calls(loaded) == [
        (
            "GET",
            f"/management-api/v2/sims/{ICCID_1}/events"
            "?page=1&pageSize=5&sort=-timestamp",
        )
    ]
    assert response == {
        "events": [
            {
                "id": 30211,
                "timestamp": "2024-11-25T12:07:09+00:00",
                "type": "Update location",
                "description": (
                    "New location received from VLR for IMSI 901405100000001."
                ),
                "severity": "INFO",
                "source": "Network",
                "alert": False,
                "operator": "Telekom",
                "country": "Germany",
            },
            {
                "id": 30198,
                "timestamp": "2024-11-25T11:58:40+00:00",
                "type": "Delete PDP Context",
                "description": "PDP Context deleted.",
                "severity": "WARN",
                "source": "Network",
                "alert": True,
                "operator": None,
                "country": None,
            },
        ]
    }


async def test_list_events_returns_no_more_than_asked_for(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Should 1NCE send more than the limit, only the newest are returned."""
    response = await call(hass, "list_events", iccid=ICCID_1, limit=1)

    assert [event["type"] for event in response["events"]] == ["Update location"]


async def test_list_events_of_a_quiet_sim_is_empty(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A SIM without events answers an empty list, not an error."""
    response = await call(hass, "list_events", iccid=ICCID_2)

    assert response == {"events": []}
    assert calls(loaded)[0][1].endswith("?page=1&pageSize=20&sort=-timestamp")


async def test_list_events_limit_stays_within_one_page(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """More than 100 events at once is refused before 1NCE is asked."""
    with pytest.raises(vol.Invalid):
        await call(hass, "list_events", iccid=ICCID_1, limit=101)

    assert calls(loaded) == []


async def test_list_events_failure_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A refused event request fails the action with 1NCE's words."""
    loaded.clear_requests()
    loaded.get(
        sim_url(ICCID_1, "/events"),
        status=HTTPStatus.BAD_REQUEST,
        json={"message": "pageSize too large"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "list_events", iccid=ICCID_1)

    assert err.value.translation_key == "events_failed"
    assert str(err.value) == (
        f"Reading the network events of {ICCID_1} failed: pageSize too large"
    )


# --- top_up -------------------------------------------------------------------


async def test_top_up_without_confirmation_orders_nothing(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A billed order never happens by accident."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "top_up", iccid=ICCID_2, confirm=False)

    assert err.value.translation_key == "top_up_not_confirmed"
    assert loaded.mock_calls == []


async def test_confirmed_top_up_places_the_order(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """One POST to the SIM's top-up; the new volume is read at the next tick."""
    loaded.post(
        sim_url(ICCID_2, "/topup"),
        status=HTTPStatus.CREATED,
        headers={"Location": "https://portal.1nce.com/orders/77"},
    )

    await call(hass, "top_up", device_id=sim_device_id(hass, ICCID_2), confirm=True)

    assert calls(loaded) == [("POST", f"/management-api/v2/sims/{ICCID_2}/topup")]
    loaded.mock_calls.clear()
    await next_detail_tick(mock_config_entry)
    assert ("GET", f"/management-api/v2/sims/{ICCID_2}/quota/sms") in calls(loaded)


async def test_refused_top_up_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """When 1NCE refuses the order, the user reads why."""
    loaded.post(
        sim_url(ICCID_2, "/topup"),
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        json={"message": "No payment method on file"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "top_up", iccid=ICCID_2, confirm=True)

    assert err.value.translation_key == "top_up_failed"
    assert err.value.translation_placeholders == {
        "sim": ICCID_2,
        "error": "No payment method on file",
    }


# --- descriptions and translations ---------------------------------------------


def _fields(service: dict[str, Any]) -> dict[str, Any]:
    """Flatten a services.yaml field list, sections included."""
    fields: dict[str, Any] = {}
    for name, field in (service.get("fields") or {}).items():
        fields.update(field.get("fields", {name: field}))
    return fields


@pytest.mark.parametrize(
    "path",
    ["strings.json", "translations/en.json", "translations/de.json"],
)
def test_every_action_field_and_error_is_translated(path: str) -> None:
    """The UI shows a name and description for each field, and each error reads well."""
    strings = json.loads((INTEGRATION / path).read_text(encoding="utf-8"))
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    for name, service in services.items():
        translated = strings["services"][name]
        assert translated["name"]
        assert translated["description"]
        for field in _fields(service):
            assert translated["fields"][field]["name"], (name, field)
            assert translated["fields"][field]["description"], (name, field)
    # Which error keys the code uses is tests/test_translations.py's subject.


@pytest.mark.parametrize("language", ["en", "de"])
async def test_validity_help_is_short_and_names_the_default(
    hass: HomeAssistant, language: str
) -> None:
    """The form's Validity help fits in a line or two and leaves YAML to README."""
    texts = await async_get_translations(hass, language, "services", [DOMAIN])
    help_text = texts[f"component.{DOMAIN}.services.send_sms.fields.expiry.description"]

    assert "24" in help_text
    assert "YAML" not in help_text
    assert len(help_text) <= 120


async def test_send_sms_form_starts_with_automatic_encoding(
    hass: HomeAssistant,
) -> None:
    """The action form pre-fills Encoding with "auto", shown as Automatic."""
    assert await async_setup_component(hass, DOMAIN, {})
    descriptions = await async_get_all_descriptions(hass)
    advanced = descriptions[DOMAIN]["send_sms"]["fields"]["advanced"]["fields"]
    encoding = advanced["encoding"]

    assert encoding["default"] == "auto"
    assert encoding["selector"]["select"]["options"][0] == "auto"
    texts = await async_get_translations(hass, "en", "selector", [DOMAIN])
    assert texts[f"component.{DOMAIN}.selector.sms_encoding.options.auto"] == (
        "Automatic"
    )
