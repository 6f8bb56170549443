"""send_sms: what 1NCE refuses, partial failures, and pauses between parts."""

from __future__ import annotations

from http import HTTPStatus
import itertools
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api import RateLimiter
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .services_common import (
    GARDEN_GATE,
    ICCID_1,
    ICCID_2,
    SMS_POST,
    TRAFFIC_LIMIT,
    answer_sms_posts,
    answer_sms_posts_in_turn,
    assert_placeholders_fit,
    calls,
    followed,
    next_detail_tick,
    send,
    sent_bodies,
)

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

    assert response["messages"][0]["sms_ids"] == ["6026", "6027"]
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

    assert response["messages"][0]["sms_ids"] == ["6026", "6027"]
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
