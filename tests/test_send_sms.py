"""send_sms: what goes over the wire, to whom, and the path notify shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
import voluptuous as vol

from custom_components.one_nce.api import sms as sms_codec
from custom_components.one_nce.const import DOMAIN
from custom_components.one_nce.sending import OutgoingSms, SentSms, async_send_sms
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .services_common import (
    GARDEN_GATE,
    ICCID_1,
    ICCID_2,
    answer_sms_posts,
    calls,
    next_detail_tick,
    send,
    sent_bodies,
    sim_device_id,
)

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
                "sms_ids": ["6026"],
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

    assert response["messages"][0]["sms_ids"] == ["6026", "6027"]


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
    assert response["messages"][0]["sms_ids"] == ["6027", "6028"]


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
        (ICCID_1, device_1, ["6026"]),
        (ICCID_2, sim_device_id(hass, ICCID_2), ["6027"]),
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
