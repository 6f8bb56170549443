"""send_sms: what is refused, with a reason, before anything is sent."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
import voluptuous as vol
from yarl import URL

from custom_components.one_nce.api import sms as sms_codec
from custom_components.one_nce.const import CONF_MAX_SMS_PARTS, DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component

from .conftest import (
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    load_json,
    sim_url,
)
from .services_common import (
    ERROR_TEXTS,
    ICCID_1,
    ICCID_2,
    ICCID_3,
    SMS_POST,
    answer_sms_posts,
    assert_placeholders_fit,
    calls,
    next_detail_tick,
    send,
    sent_bodies,
    set_up,
)

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
    assert response["messages"][0]["sms_ids"] == ["6026"]

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
