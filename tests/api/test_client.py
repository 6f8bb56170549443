"""The client against a mocked 1NCE: token, retries, paging, rate limit, bodies.

Every exchange goes through a real aiohttp ClientSession bound to
`aioclient_mock`; time is virtual (see conftest.FakeTime), so retries, pauses
and token ageing are asserted in seconds without any real waiting.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api import (
    CreatedSms,
    Limit,
    LimitService,
    OneNceAuthenticationError,
    OneNceClient,
    OneNceConnectionError,
    OneNceFeatureUnavailableError,
    OneNceInvalidRequestError,
    OneNceNotFoundError,
    OneNcePermissionError,
    OneNceRateLimitError,
    OneNceResponseError,
    RateLimiter,
)
from custom_components.one_nce.api.client import RATE_LIMIT_WINDOW

from .conftest import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    ICCID,
    SIM_URL,
    SIMS_URL,
    TOKEN_URL,
    FakeTime,
    SideEffect,
    answers,
    calls_to,
    read_api_fixture,
)

Loader = Callable[[str], Any]
SIM_JSON = read_api_fixture("sim_activated.json") | {"iccid": ICCID}


def sim_record(number: int) -> dict[str, Any]:
    """A minimal SIM list item with a distinct ICCID."""
    return {"iccid": f"8988228066{number:09d}", "status": "Enabled"}


def page_of(first: int, count: int) -> list[dict[str, Any]]:
    return [sim_record(number) for number in range(first, first + count)]


def token_calls(aioclient_mock: AiohttpClientMocker) -> list[tuple[Any, ...]]:
    return calls_to(aioclient_mock, "POST", TOKEN_URL)


# --- token -------------------------------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_token_request_uses_basic_auth_and_client_credentials(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    await client.async_authenticate()
    ((method, url, body, headers),) = token_calls(aioclient_mock)
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert (method.upper(), str(url)) == ("POST", f"{BASE_URL}/oauth/token")
    assert headers["Authorization"] == f"Basic {expected}"
    assert body == {"grant_type": "client_credentials"}


@pytest.mark.usefixtures("token_mock")
async def test_authenticate_tells_who_we_are(client: OneNceClient) -> None:
    info = await client.async_authenticate()
    assert (info.user_id, info.scope, info.expires_in) == ("api-user-17", "all", 3600)
    assert client.token_info == info


@pytest.mark.usefixtures("token_mock")
async def test_api_calls_carry_the_bearer_token(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, json=SIM_JSON)
    await client.async_get_sim(ICCID)
    (call,) = calls_to(aioclient_mock, "GET", SIM_URL)
    assert call[3]["Authorization"] == "Bearer eyJ-api-test-token-1"


@pytest.mark.usefixtures("token_mock")
async def test_token_is_reused_across_calls(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, json=SIM_JSON)
    await client.async_get_sim(ICCID)
    await client.async_get_sim(ICCID)
    assert len(token_calls(aioclient_mock)) == 1


async def test_token_is_renewed_ahead_of_expiry(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.post(
        TOKEN_URL,
        side_effect=answers(
            {"json": read_api_fixture("token.json")},
            {"json": read_api_fixture("token_renewed.json")},
        ),
    )
    aioclient_mock.get(SIM_URL, json=SIM_JSON)
    await client.async_get_sim(ICCID)
    fake_time.advance(3000)  # still 600 s to live: keep it
    await client.async_get_sim(ICCID)
    assert len(token_calls(aioclient_mock)) == 1
    fake_time.advance(400)  # 200 s to live: renew before it dies in flight
    await client.async_get_sim(ICCID)
    assert len(token_calls(aioclient_mock)) == 2
    last = calls_to(aioclient_mock, "GET", SIM_URL)[-1]
    assert last[3]["Authorization"] == "Bearer eyJ-api-test-token-2"


@pytest.mark.usefixtures("token_mock")
async def test_parallel_calls_on_a_cold_client_share_one_token_request(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, json=SIM_JSON)
    await asyncio.gather(*(client.async_get_sim(ICCID) for _ in range(20)))
    assert len(token_calls(aioclient_mock)) == 1
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 20


async def test_refused_token_is_renewed_once_and_the_call_retried(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(
        TOKEN_URL,
        side_effect=answers(
            {"json": read_api_fixture("token.json")},
            {"json": read_api_fixture("token_renewed.json")},
        ),
    )
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers(
            {"status": 401, "json": {"message": "Unauthorized"}}, {"json": SIM_JSON}
        ),
    )
    sim = await client.async_get_sim(ICCID)
    assert sim.iccid == ICCID
    assert len(token_calls(aioclient_mock)) == 2
    tokens = [
        call[3]["Authorization"] for call in calls_to(aioclient_mock, "GET", SIM_URL)
    ]
    assert tokens == ["Bearer eyJ-api-test-token-1", "Bearer eyJ-api-test-token-2"]


async def test_eight_calls_refused_with_one_stale_token_share_one_renewal(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    """Eight calls in flight see token 1 refused; one new token serves them all."""
    refused: list[asyncio.Future[None]] = []

    async def sim(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        # The mocker records each call just before it asks for the answer.
        if calls_to(aioclient_mock, "GET", SIM_URL)[-1][3]["Authorization"] == (
            "Bearer eyJ-api-test-token-1"
        ):
            # Answer only once all eight are on their way, as over a network.
            arrived = asyncio.get_running_loop().create_future()
            refused.append(arrived)
            if len(refused) == 8:
                for future in refused:
                    future.set_result(None)
            await arrived
            return AiohttpClientMockResponse(
                method, url, status=401, json={"message": "Unauthorized"}
            )
        return AiohttpClientMockResponse(method, url, json=SIM_JSON)

    aioclient_mock.post(
        TOKEN_URL,
        side_effect=answers(
            {"json": read_api_fixture("token.json")},
            {"json": read_api_fixture("token_renewed.json")},
        ),
    )
    aioclient_mock.get(SIM_URL, side_effect=sim)
    await client.async_authenticate()

    sims = await asyncio.gather(*(client.async_get_sim(ICCID) for _ in range(8)))

    assert [sim.iccid for sim in sims] == [ICCID] * 8
    assert len(token_calls(aioclient_mock)) == 2  # the first token, one renewal
    tokens = [
        call[3]["Authorization"] for call in calls_to(aioclient_mock, "GET", SIM_URL)
    ]
    assert (
        tokens
        == ["Bearer eyJ-api-test-token-1"] * 8 + ["Bearer eyJ-api-test-token-2"] * 8
    )


@pytest.mark.usefixtures("token_mock")
async def test_second_401_means_no_api_permission(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, status=401, json={"message": "Unauthorized"})
    with pytest.raises(OneNcePermissionError):
        await client.async_get_sim(ICCID)
    assert len(token_calls(aioclient_mock)) == 2
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 2


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("token_cognito_error.json", "Incorrect username or password."),
        ("token_bad_credentials.json", "User does not exist."),
    ],
)
async def test_bad_credentials_answered_400_raise_authentication_error(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    fixture: str,
    message: str,
) -> None:
    aioclient_mock.post(TOKEN_URL, status=400, json=read_api_fixture(fixture))
    with pytest.raises(OneNceAuthenticationError, match=message) as caught:
        await client.async_authenticate()
    assert not isinstance(caught.value, OneNcePermissionError)


async def test_token_endpoint_401_raises_authentication_error(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(TOKEN_URL, status=401, json={"message": "Unauthorized"})
    with pytest.raises(OneNceAuthenticationError):
        await client.async_get_sim(ICCID)
    assert calls_to(aioclient_mock, "GET", SIM_URL) == []


async def test_revoked_secret_costs_one_token_request_for_all_callers(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    """Six calls in flight see their token refused; one renewal answers them all."""
    revoked = False
    in_flight: list[asyncio.Future[None]] = []

    async def token(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        if revoked:
            return AiohttpClientMockResponse(
                method,
                url,
                status=400,
                json=read_api_fixture("token_bad_credentials.json"),
            )
        return AiohttpClientMockResponse(
            method, url, json=read_api_fixture("token.json")
        )

    async def sim(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        if revoked:
            # Answer only once all six are on their way, as over a network.
            arrived = asyncio.get_running_loop().create_future()
            in_flight.append(arrived)
            if len(in_flight) == 6:
                for future in in_flight:
                    future.set_result(None)
            await arrived
            return AiohttpClientMockResponse(
                method, url, status=401, json={"message": "Unauthorized"}
            )
        return AiohttpClientMockResponse(method, url, json=SIM_JSON)

    aioclient_mock.post(TOKEN_URL, side_effect=token)
    aioclient_mock.get(SIM_URL, side_effect=sim)
    await client.async_authenticate()
    revoked = True

    results = await asyncio.gather(
        *(client.async_get_sim(ICCID) for _ in range(6)), return_exceptions=True
    )

    assert all(isinstance(result, OneNceAuthenticationError) for result in results)
    assert len(token_calls(aioclient_mock)) == 2
    # A later call (a fixed secret, or a glitch that passed) asks again.
    revoked = False
    assert (await client.async_get_sim(ICCID)).iccid == ICCID
    assert len(token_calls(aioclient_mock)) == 3


@pytest.mark.parametrize("status", [404, 405, 302])
async def test_no_token_endpoint_at_the_url_is_a_connection_problem(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, status: int
) -> None:
    aioclient_mock.post(TOKEN_URL, status=status, text="<html>Not here</html>")
    with pytest.raises(OneNceConnectionError, match="API URL"):
        await client.async_authenticate()


async def test_token_answer_without_access_token_is_refused(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(TOKEN_URL, json={"status_code": 200, "expires_in": 3600})
    with pytest.raises(OneNceResponseError, match="access_token"):
        await client.async_authenticate()


async def test_rate_limited_token_request_waits_and_succeeds(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.post(
        TOKEN_URL,
        side_effect=answers(
            too_many("3"),
            {"json": read_api_fixture("token.json")},
        ),
    )
    await client.async_authenticate()
    assert fake_time.now - 1000.0 >= 3.0
    # /oauth has its own limit: calls to /sims are not held back by it.
    assert client.rate_limiter.paused_for == 0.0


# --- 429 ---------------------------------------------------------------------


def too_many(
    retry_after: str | None = None, *, header: str = "Retry-After"
) -> dict[str, Any]:
    """1NCE's 429 answer, with a `Retry-After` when one is given."""
    return {"status": 429, "headers": {header: retry_after} if retry_after else {}}


def refused_once(
    fake_time: FakeTime, retry_after: str
) -> tuple[SideEffect, list[float]]:
    """Answer the first request 429 with `retry_after`, every later one the SIM.

    Also returns the list of times at which requests were sent, filled as
    they are.
    """
    sent_at: list[float] = []

    async def side_effect(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        sent_at.append(fake_time.now)
        answer = too_many(retry_after) if len(sent_at) == 1 else {"json": SIM_JSON}
        return AiohttpClientMockResponse(method, url, **answer)

    return side_effect, sent_at


@pytest.mark.usefixtures("token_mock")
async def test_429_waits_for_retry_after_then_succeeds(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    side_effect, sent_at = refused_once(fake_time, retry_after="2")
    aioclient_mock.get(SIM_URL, side_effect=side_effect)
    sim = await client.async_get_sim(ICCID)
    assert sim.iccid == ICCID
    assert sent_at == [1000.0, 1002.0]
    assert fake_time.slept == 2.0


@pytest.mark.usefixtures("token_mock")
async def test_retry_after_header_is_read_case_insensitively(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers(too_many("7", header="retry-after"), {"json": SIM_JSON}),
    )
    await client.async_get_sim(ICCID)
    assert fake_time.now == 1007.0


@pytest.mark.usefixtures("token_mock")
async def test_retry_after_beyond_the_cap_raises_at_once(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.get(SIM_URL, **too_many("120"))
    with pytest.raises(OneNceRateLimitError) as caught:
        await client.async_get_sim(ICCID)
    assert caught.value.retry_after == 120.0
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 1
    assert fake_time.sleeps == []


@pytest.mark.usefixtures("token_mock")
async def test_retry_after_beyond_the_cap_holds_every_caller_back(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    """Nobody asks 1NCE again before its Retry-After is over, nor hangs meanwhile."""
    side_effect, sent_at = refused_once(fake_time, retry_after="120")
    aioclient_mock.get(SIM_URL, side_effect=side_effect)
    with pytest.raises(OneNceRateLimitError):
        await client.async_get_sim(ICCID)

    # While more of the pause is left than a call would wait: refused unsent.
    fake_time.advance(30)
    others = await asyncio.gather(
        *(client.async_get_sim(ICCID) for _ in range(5)), return_exceptions=True
    )
    waits = [o.retry_after for o in others if isinstance(o, OneNceRateLimitError)]
    assert waits == [90.0] * 5
    assert sent_at == [1000.0]
    assert fake_time.sleeps == []

    # Once a call would wait out the rest, it does, and goes when it ends.
    fake_time.advance(40)
    assert (await client.async_get_sim(ICCID)).iccid == ICCID
    assert sent_at == [1000.0, 1120.0]


@pytest.mark.usefixtures("token_mock")
async def test_absurd_retry_after_pauses_every_caller_ten_minutes_at_most(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers(too_many("86400"), {"json": SIM_JSON}),
    )
    with pytest.raises(OneNceRateLimitError) as caught:
        await client.async_get_sim(ICCID)
    # Callers (pollers setting their next interval) get the same cap: asking
    # again after ten minutes costs one request if 1NCE really meant a day.
    assert caught.value.retry_after == 600.0
    assert client.rate_limiter.paused_for == 600.0
    fake_time.advance(600)
    assert (await client.async_get_sim(ICCID)).iccid == ICCID


@pytest.mark.usefixtures("token_mock")
async def test_retry_after_as_http_date_far_ahead_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    later = datetime.now(UTC) + timedelta(minutes=8)
    header = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    aioclient_mock.get(SIM_URL, **too_many(header))
    with pytest.raises(OneNceRateLimitError) as caught:
        await client.async_get_sim(ICCID)
    assert caught.value.retry_after == pytest.approx(480, abs=5)


@pytest.mark.usefixtures("token_mock")
async def test_unreadable_retry_after_waits_one_second(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers(too_many("soon"), {"json": SIM_JSON}),
    )
    await client.async_get_sim(ICCID)
    assert fake_time.now == 1001.0


@pytest.mark.parametrize(
    "headers", [{}, {"Retry-After": "inf"}, {"Retry-After": "nan"}]
)
@pytest.mark.usefixtures("token_mock")
async def test_429_without_usable_retry_after_waits_one_second(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    fake_time: FakeTime,
    headers: dict[str, str],
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers({"status": 429, "headers": headers}, {"json": SIM_JSON}),
    )
    await client.async_get_sim(ICCID)
    assert fake_time.now == 1001.0


@pytest.mark.usefixtures("token_mock")
async def test_persistent_429_raises_rate_limit_error_with_retry_after(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, **too_many("5"))
    with pytest.raises(OneNceRateLimitError, match="rate limit") as caught:
        await client.async_get_sim(ICCID)
    assert caught.value.retry_after == 5.0
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 4


# --- 5xx, timeouts, HTML -----------------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_5xx_is_retried_with_bounded_backoff_then_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    aioclient_mock.get(SIM_URL, status=500, json={"message": "Internal Server Error"})
    with pytest.raises(
        OneNceConnectionError, match=r"GET /v2/sims/\d+: HTTP 500"
    ) as caught:
        await client.async_get_sim(ICCID)
    assert not isinstance(caught.value, OneNceRateLimitError)
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.usefixtures("token_mock")
async def test_5xx_then_success_recovers(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers({"status": 502}, {"status": 504}, {"json": SIM_JSON}),
    )
    assert (await client.async_get_sim(ICCID)).iccid == ICCID


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), "timed out"),
        (aiohttp.ClientConnectionError("Connection reset by peer"), "Connection reset"),
        (aiohttp.ServerDisconnectedError(), "ServerDisconnectedError"),
    ],
)
@pytest.mark.usefixtures("token_mock")
async def test_network_failure_is_retried_then_raises_connection_error(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    exc: Exception,
    reason: str,
) -> None:
    aioclient_mock.get(SIM_URL, exc=exc)
    with pytest.raises(OneNceConnectionError, match=reason):
        await client.async_get_sim(ICCID)
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 4


@pytest.mark.usefixtures("token_mock")
async def test_timeout_then_success_recovers(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL, side_effect=answers({"exc": TimeoutError()}, {"json": SIM_JSON})
    )
    assert (await client.async_get_sim(ICCID)).iccid == ICCID


@pytest.mark.parametrize("status", [HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.OK])
@pytest.mark.usefixtures("token_mock")
async def test_html_page_instead_of_json_is_retried_then_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, status: HTTPStatus
) -> None:
    aioclient_mock.get(
        SIM_URL,
        status=status,
        text=read_api_fixture("gateway_503.html"),
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(OneNceConnectionError, match="non-JSON"):
        await client.async_get_sim(ICCID)
    assert len(calls_to(aioclient_mock, "GET", SIM_URL)) == 4


@pytest.mark.usefixtures("token_mock")
async def test_html_503_then_json_recovers(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL,
        side_effect=answers(
            {"status": 503, "text": read_api_fixture("gateway_503.html")},
            {"json": SIM_JSON},
        ),
    )
    assert (await client.async_get_sim(ICCID)).iccid == ICCID


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": {"message": "Internal Server Error"}},
        {"status": 502, "text": "<html>Bad Gateway</html>"},
        {"status": 504},
        {"exc": TimeoutError()},
        {"exc": aiohttp.ServerDisconnectedError()},
    ],
    ids=["500", "502-html", "504", "timeout", "disconnected"],
)
@pytest.mark.parametrize(
    ("path", "send"),
    [
        ("/sms", lambda client: client.async_send_sms(ICCID, "wake up")),
        ("/topup", lambda client: client.async_top_up(ICCID)),
    ],
    ids=["sms", "top-up"],
)
@pytest.mark.usefixtures("token_mock")
async def test_sms_or_top_up_with_unknown_outcome_is_not_sent_twice(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    answer: dict[str, Any],
    path: str,
    send: Callable[[OneNceClient], Any],
) -> None:
    """A second SMS, or a second billed order, is worse than an honest error."""
    url = f"{SIM_URL}{path}"
    aioclient_mock.post(url, side_effect=answers(answer, {"status": 201, "json": {}}))
    with pytest.raises(OneNceConnectionError, match="may have acted on it"):
        await send(client)
    assert len(calls_to(aioclient_mock, "POST", url)) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 503},
        too_many("1"),
        {
            "exc": aiohttp.ClientConnectorError(
                SimpleNamespace(host="api.1nce.com", port=443, ssl=True),
                OSError(111, "Connection refused"),
            )
        },
    ],
    ids=["503", "429", "refused"],
)
@pytest.mark.usefixtures("token_mock")
async def test_sms_refused_before_1nce_acted_is_sent_again(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, answer: dict[str, Any]
) -> None:
    url = f"{SIM_URL}/sms"
    aioclient_mock.post(
        url, side_effect=answers(answer, {"status": 201, "json": {"id": "6026"}})
    )
    assert await client.async_send_sms(ICCID, "wake up") == CreatedSms(sms_id="6026")
    assert len(calls_to(aioclient_mock, "POST", url)) == 2


@pytest.mark.usefixtures("token_mock")
async def test_post_answered_2xx_with_html_is_not_sent_twice(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    url = f"{SIM_URL}/topup"
    aioclient_mock.post(
        url,
        status=201,
        text="<html><body>Created</body></html>",
        headers={"Location": f"{BASE_URL}/v2/orders/1234"},
    )
    assert await client.async_top_up(ICCID) == f"{BASE_URL}/v2/orders/1234"
    assert len(calls_to(aioclient_mock, "POST", url)) == 1


# --- 4xx ---------------------------------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_refused_request_carries_1nces_message(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(
        f"{SIM_URL}/sms", status=400, json=read_api_fixture("error_traffic_limit.json")
    )
    with pytest.raises(OneNceInvalidRequestError) as caught:
        await client.async_send_sms(ICCID, "hello")
    assert caught.value.message == "Traffic limit of 10 SMS per month exceeded"
    assert caught.value.status == 400
    assert len(calls_to(aioclient_mock, "POST", f"{SIM_URL}/sms")) == 1


@pytest.mark.usefixtures("token_mock")
async def test_refused_request_with_plain_text_keeps_the_text(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.put(SIM_URL, status=422, text="SIM is expired")
    with pytest.raises(OneNceInvalidRequestError, match="SIM is expired"):
        await client.async_update_sim(ICCID, enabled=True, label=None, imei_lock=False)


@pytest.mark.usefixtures("token_mock")
async def test_refused_request_without_message_names_the_call(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.put(SIM_URL, status=409)
    with pytest.raises(OneNceInvalidRequestError, match=r"PUT /v2/sims/\d+: HTTP 409"):
        await client.async_update_sim(ICCID, enabled=True, label=None, imei_lock=False)


@pytest.mark.usefixtures("token_mock")
async def test_403_raises_permission_error(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL, status=403, json={"message": "SIM does not belong to user."}
    )
    with pytest.raises(OneNcePermissionError, match="does not belong"):
        await client.async_get_sim(ICCID)


@pytest.mark.usefixtures("token_mock")
async def test_404_raises_not_found(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL,
        status=404,
        json={
            "error_code": 1000,
            "error_token": "NotFound",
            "message": "Element not found",
        },
    )
    with pytest.raises(OneNceNotFoundError, match="Element not found"):
        await client.async_get_sim(ICCID)


@pytest.mark.usefixtures("token_mock")
async def test_unknown_iccid_answered_200_empty_raises_not_found(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, text="")
    with pytest.raises(OneNceNotFoundError):
        await client.async_get_sim(ICCID)


@pytest.mark.parametrize(
    ("path", "fetch"),
    [
        ("/quota/sms", lambda client: client.async_get_sms_quota(ICCID)),
        ("/quota/data", lambda client: client.async_get_data_quota(ICCID)),
        ("/status", lambda client: client.async_get_connectivity(ICCID)),
    ],
    ids=["sms-quota", "data-quota", "status"],
)
@pytest.mark.usefixtures("token_mock")
async def test_sim_details_answered_200_empty_raise_not_found(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    path: str,
    fetch: Callable[[OneNceClient], Any],
) -> None:
    """As for the SIM itself: 1NCE's way of saying the ICCID is not ours."""
    aioclient_mock.get(f"{SIM_URL}{path}", text="")
    with pytest.raises(OneNceNotFoundError, match="empty answer"):
        await fetch(client)


@pytest.mark.usefixtures("token_mock")
async def test_unknown_iccid_usage_answered_200_empty_is_not_found_not_retired(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(f"{BASE_URL}/v1/sims/{ICCID}/usage", text="")
    with pytest.raises(OneNceNotFoundError) as caught:
        await client.async_get_usage(ICCID, date(2021, 11, 1), date(2021, 11, 16))
    assert not isinstance(caught.value, OneNceFeatureUnavailableError)


@pytest.mark.usefixtures("token_mock")
async def test_limits_answered_empty_mean_none_set(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(f"{BASE_URL}/v1/sims/limits", text="")
    aioclient_mock.get(f"{BASE_URL}/v1/sims/smsMO/limits", text="")
    limits = await client.async_get_limits()
    assert (limits.data, limits.sms_mt, limits.sms_mo) == (None, None, None)
    assert await client.async_get_limit_options(LimitService.SMS_MO) == []


@pytest.mark.usefixtures("token_mock")
async def test_redirect_is_not_followed_but_reported(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL, status=302, headers={"Location": "https://login.example"}
    )
    with pytest.raises(OneNceConnectionError, match="unexpected HTTP 302"):
        await client.async_get_sim(ICCID)


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.usefixtures("token_mock")
async def test_retired_v1_usage_is_feature_unavailable(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, status: int
) -> None:
    aioclient_mock.get(f"{BASE_URL}/v1/sims/{ICCID}/usage", status=status)
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_usage(ICCID, date(2021, 11, 1), date(2021, 11, 16))


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.usefixtures("token_mock")
async def test_retired_v1_limits_are_feature_unavailable(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, status: int
) -> None:
    aioclient_mock.get(f"{BASE_URL}/v1/sims/limits", status=status)
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_limits()


# --- malformed bodies through the client ------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_sim_list_with_non_numeric_sms_quota_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    page = read_api_fixture("sims_page_quirks.json")
    page[1]["current_quota_SMS"] = "unlimited"
    aioclient_mock.get(SIMS_URL, json=page, headers={"X-Total-Pages": "1"})
    with pytest.raises(OneNceResponseError, match="current_quota_SMS"):
        await client.async_get_sims()


@pytest.mark.usefixtures("token_mock")
async def test_sim_list_with_non_object_item_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIMS_URL, json=[*read_api_fixture("sims_page_quirks.json"), "x"])
    with pytest.raises(OneNceResponseError, match="SIM is not an object"):
        await client.async_get_sims()


@pytest.mark.usefixtures("token_mock")
async def test_sim_list_that_is_not_a_list_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIMS_URL, json={"sims": []})
    with pytest.raises(OneNceResponseError, match="SIM list"):
        await client.async_get_sims()


@pytest.mark.usefixtures("token_mock")
async def test_single_sim_with_unknown_status_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, json=SIM_JSON | {"status": "Terminated"})
    with pytest.raises(OneNceResponseError, match="Terminated"):
        await client.async_get_sim(ICCID)


# --- paging ------------------------------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_250_sims_are_read_in_exactly_three_pages(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    headers = {"X-Total-Pages": "3", "X-Total-Count": "250"}
    for number, (first, count) in enumerate([(0, 100), (100, 100), (200, 50)], 1):
        aioclient_mock.get(
            SIMS_URL,
            params={"page": number, "pageSize": 100},
            json=page_of(first, count),
            headers=headers,
        )
    sims = await client.async_get_sims()
    assert len(sims) == 250
    assert len({sim.iccid for sim in sims}) == 250
    calls = calls_to(aioclient_mock, "GET", SIMS_URL)
    assert sorted(call[1].query["page"] for call in calls) == ["1", "2", "3"]
    assert {call[1].query["pageSize"] for call in calls} == {"100"}


@pytest.mark.usefixtures("token_mock")
async def test_sim_page_reports_paging_headers(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIMS_URL,
        json=read_api_fixture("sims_page_quirks.json"),
        headers={"x-total-pages": "4", "X-Total-Count": "garbage"},
    )
    page = await client.async_get_sims_page(2, page_size=3)
    assert (page.page, page.total_pages, page.total_count) == (2, 4, None)
    assert len(page.sims) == 3
    (call,) = calls_to(aioclient_mock, "GET", SIMS_URL)
    assert dict(call[1].query) == {"page": "2", "pageSize": "3"}


@pytest.mark.usefixtures("token_mock")
async def test_without_total_pages_paging_stops_after_a_short_page(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIMS_URL,
        side_effect=answers({"json": page_of(0, 100)}, {"json": page_of(100, 7)}),
    )
    sims = await client.async_get_sims()
    assert len(sims) == 107
    assert len(calls_to(aioclient_mock, "GET", SIMS_URL)) == 2


@pytest.mark.usefixtures("token_mock")
async def test_without_total_pages_paging_stops_on_an_empty_page(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIMS_URL,
        side_effect=answers(
            {"json": page_of(0, 100)}, {"json": page_of(100, 100)}, {"text": ""}
        ),
    )
    sims = await client.async_get_sims()
    assert len(sims) == 200
    assert len(calls_to(aioclient_mock, "GET", SIMS_URL)) == 3


@pytest.mark.usefixtures("token_mock")
async def test_server_ignoring_page_numbers_does_not_loop(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIMS_URL, json=page_of(0, 100))
    sims = await client.async_get_sims()
    assert len(sims) == 100
    assert len(calls_to(aioclient_mock, "GET", SIMS_URL)) == 2


@pytest.mark.usefixtures("token_mock")
async def test_a_failing_page_cancels_the_pages_still_on_their_way(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    """Nothing of a failed list read runs on after the caller had its error."""
    held: list[str] = []

    async def hold(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        try:
            await asyncio.Event().wait()
        finally:
            held.append(url.query["page"])
        raise AssertionError("unreachable")  # pragma: no cover

    headers = {"X-Total-Pages": "3", "X-Total-Count": "250"}
    answers: list[dict[str, Any]] = [
        {"json": page_of(0, 100), "headers": headers},
        {"status": 400, "json": {"message": "Invalid page"}},
        {"side_effect": hold},
    ]
    for number, answer in enumerate(answers, 1):
        aioclient_mock.get(SIMS_URL, params={"page": number, "pageSize": 100}, **answer)

    with pytest.raises(OneNceInvalidRequestError, match="Invalid page"):
        await client.async_get_sims()
    assert held == ["3"]


@pytest.mark.usefixtures("token_mock")
async def test_empty_fleet_is_an_empty_list(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIMS_URL, json=[], headers={"X-Total-Pages": "0"})
    assert await client.async_get_sims() == []


@pytest.mark.parametrize("page_size", [0, 101])
async def test_page_size_beyond_1nces_limits_is_refused(
    client: OneNceClient, page_size: int
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await client.async_get_sims_page(1, page_size)


# --- rate limit across callers -----------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_35_concurrent_calls_never_exceed_10_requests_per_second(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    sent_at: list[float] = []

    async def side_effect(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        sent_at.append(fake_time.now)
        return AiohttpClientMockResponse(method, url, json=SIM_JSON)

    aioclient_mock.get(SIM_URL, side_effect=side_effect)
    await asyncio.gather(*(client.async_get_sim(ICCID) for _ in range(35)))
    assert len(sent_at) == 35
    # 10 in any 1.25 s (a margin under 1NCE's 10/s for network jitter).
    for start in sent_at:
        assert sum(start <= t < start + RATE_LIMIT_WINDOW for t in sent_at) <= 10
    assert RATE_LIMIT_WINDOW == 1.25
    assert max(sent_at) - min(sent_at) == 3 * 1.25  # and no slower than needed


@pytest.mark.usefixtures("token_mock")
async def test_429_pause_holds_back_every_caller(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, fake_time: FakeTime
) -> None:
    side_effect, sent_at = refused_once(fake_time, retry_after="3")
    aioclient_mock.get(SIM_URL, side_effect=side_effect)
    await asyncio.gather(*(client.async_get_sim(ICCID) for _ in range(15)))
    assert len(sent_at) == 16  # 15 calls plus the retry of the refused one
    refused_at, *after = sent_at
    assert min(after) == refused_at + 3.0  # nobody went before Retry-After ended
    for start in after:  # and after the pause the window still holds
        assert sum(start <= t < start + 1.0 for t in after) <= 10


async def test_one_limiter_can_be_shared_by_two_clients(
    aioclient_mock: AiohttpClientMocker,
    session: aiohttp.ClientSession,
    fake_time: FakeTime,
) -> None:
    aioclient_mock.post(TOKEN_URL, json=read_api_fixture("token.json"))
    sent_at: list[float] = []

    async def side_effect(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        sent_at.append(fake_time.now)
        return AiohttpClientMockResponse(method, url, json=SIM_JSON)

    aioclient_mock.get(SIM_URL, side_effect=side_effect)
    limiter = RateLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    clients = [
        OneNceClient(
            session,
            CLIENT_ID,
            CLIENT_SECRET,
            rate_limiter=limiter,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )
        for _ in range(2)
    ]
    await asyncio.gather(*(c.async_get_sim(ICCID) for c in clients for _ in range(8)))
    assert sum(t == sent_at[0] for t in sent_at) == 10


# --- request bodies ----------------------------------------------------------


@pytest.mark.usefixtures("token_mock")
async def test_update_sim_sends_the_complete_record(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.put(SIM_URL, status=200)
    await client.async_update_sim(
        ICCID, enabled=False, label="Boiler room", imei_lock=True
    )
    ((_, _, body, _),) = calls_to(aioclient_mock, "PUT", SIM_URL)
    assert body == {
        "iccid": ICCID,
        "status": "Disabled",
        "label": "Boiler room",
        "imei_lock": True,
    }


@pytest.mark.usefixtures("token_mock")
async def test_update_sim_with_an_empty_label_clears_it(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.put(SIM_URL)
    await client.async_update_sim(ICCID, enabled=False, label="", imei_lock=True)
    (call,) = calls_to(aioclient_mock, "PUT", SIM_URL)
    assert call[2] == {
        "iccid": ICCID,
        "status": "Disabled",
        "label": "",
        "imei_lock": True,
    }


@pytest.mark.usefixtures("token_mock")
async def test_update_sim_without_label_does_not_send_one(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.put(SIM_URL, status=200)
    await client.async_update_sim(ICCID, enabled=True, label=None, imei_lock=False)
    ((_, _, body, _),) = calls_to(aioclient_mock, "PUT", SIM_URL)
    assert body == {"iccid": ICCID, "status": "Enabled", "imei_lock": False}


@pytest.mark.usefixtures("token_mock")
async def test_send_sms_sends_coding_header_sender_and_expiry(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.post(
        f"{SIM_URL}/sms", status=201, json=load_api_fixture("sms_created_v2.json")
    )
    created = await client.async_send_sms(
        ICCID,
        "00480069",
        dcs=8,
        udh="050003CC0201",
        source_address="4917600000000",
        source_address_type=145,
        expiry_date=datetime(
            2028, 3, 14, 17, 10, 29, tzinfo=timezone(timedelta(hours=1))
        ),
    )
    assert created == CreatedSms(sms_id="123")
    ((_, _, body, _),) = calls_to(aioclient_mock, "POST", f"{SIM_URL}/sms")
    assert body == {
        "payload": "00480069",
        "dcs": 8,
        "udh": "050003CC0201",
        "source_address": "4917600000000",
        "source_address_type": {"id": 145},
        "expiry_date": "2028-03-14T16:10:29.000+00:00",
    }


@pytest.mark.usefixtures("token_mock")
async def test_plain_sms_sends_only_the_payload(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(f"{SIM_URL}/sms", status=201, json={"id": 124})
    created = await client.async_send_sms(ICCID, "open the gate")
    assert created.sms_id == "124"
    ((_, _, body, _),) = calls_to(aioclient_mock, "POST", f"{SIM_URL}/sms")
    assert body == {"payload": "open the gate"}


@pytest.mark.usefixtures("token_mock")
async def test_created_sms_id_comes_from_location_when_body_is_empty(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(
        f"{SIM_URL}/sms",
        status=201,
        headers={"Location": f"{BASE_URL}/v1/sims/{ICCID}/sms/6026"},
    )
    assert await client.async_send_sms(ICCID, "hi") == CreatedSms(sms_id="6026")


@pytest.mark.usefixtures("token_mock")
async def test_created_sms_without_any_id_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(f"{SIM_URL}/sms", status=201)
    with pytest.raises(OneNceResponseError, match="no id"):
        await client.async_send_sms(ICCID, "hi")


@pytest.mark.usefixtures("token_mock")
async def test_set_limits_posts_the_chosen_option_ids(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    url = f"{BASE_URL}/v1/sims/limits"
    aioclient_mock.post(url, status=201)
    await client.async_set_limits(sms_mt_limit_id=2, sms_mo_limit_id=5, data_limit_id=3)
    ((_, _, body, _),) = calls_to(aioclient_mock, "POST", url)
    assert body == {"dataLimitId": 3, "smsMtLimitId": 2, "smsMoLimitId": 5}


async def test_set_limits_without_any_limit_is_refused(client: OneNceClient) -> None:
    with pytest.raises(ValueError, match="at least one"):
        await client.async_set_limits()


@pytest.mark.parametrize(
    "iccid", ["", "89882280/../limits", "8988 2280", "\uff18\uff19\uff18\uff18"]
)
async def test_malformed_iccid_never_reaches_a_url(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, iccid: str
) -> None:
    with pytest.raises(ValueError, match="ICCID"):
        await client.async_get_sim(iccid)
    assert aioclient_mock.mock_calls == []


@pytest.mark.parametrize("sms_id", ["", "6026/../x", "60 26"])
async def test_malformed_sms_id_never_reaches_a_url(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, sms_id: str
) -> None:
    with pytest.raises(ValueError, match="SMS id"):
        await client.async_cancel_sms(ICCID, sms_id)
    assert aioclient_mock.mock_calls == []


# --- the remaining endpoints, as the live API answers them -------------------


@pytest.mark.usefixtures("token_mock")
async def test_sim_list_reads_the_recorded_quirks(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(
        SIMS_URL,
        json=load_api_fixture("sims_page_quirks.json"),
        headers={"X-Total-Pages": "1"},
    )
    first, second, third = await client.async_get_sims()
    assert second.imei == "861234567890123"
    assert second.sms_quota == 37.0
    assert (third.label, third.imei, third.enabled) == (None, None, False)
    assert first.label == "Boiler room"


@pytest.mark.usefixtures("token_mock")
async def test_single_sim_with_status_activated_is_enabled(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(SIM_URL, json=SIM_JSON)
    assert (await client.async_get_sim(ICCID)).enabled is True


@pytest.mark.usefixtures("token_mock")
async def test_quotas_are_read_with_zoneless_dates_and_empty_bodies(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(
        f"{SIM_URL}/quota/sms", json=load_api_fixture("quota_sms_v2.json")
    )
    aioclient_mock.get(
        f"{SIM_URL}/quota/data", json=load_api_fixture("quota_empty.json")
    )
    sms = await client.async_get_sms_quota(ICCID)
    data = await client.async_get_data_quota(ICCID)
    assert sms.volume == 42.0
    assert sms.expiry_date == datetime(2031, 11, 26, tzinfo=UTC)
    assert data.known is False


@pytest.mark.usefixtures("token_mock")
async def test_sms_quota_with_garbled_volume_raises(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        f"{SIM_URL}/quota/sms", json={"volume": "lots", "total_volume": 50}
    )
    with pytest.raises(OneNceResponseError, match="volume"):
        await client.async_get_sms_quota(ICCID)


@pytest.mark.usefixtures("token_mock")
async def test_connectivity_is_read_from_v2_status(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(f"{SIM_URL}/status", json=load_api_fixture("status_v2.json"))
    connectivity = await client.async_get_connectivity(ICCID)
    assert (connectivity.status, connectivity.radio_access_type) == ("online", "4G")


@pytest.mark.parametrize(
    ("fixture", "count"), [("events_v2.json", 2), ("events_v1.json", 1)]
)
@pytest.mark.usefixtures("token_mock")
async def test_events_are_read_from_a_list_or_v1_wrapper(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    load_api_fixture: Loader,
    fixture: str,
    count: int,
) -> None:
    aioclient_mock.get(f"{SIM_URL}/events", json=load_api_fixture(fixture))
    events = await client.async_get_events(ICCID, page=2, page_size=50)
    assert len(events) == count
    (call,) = calls_to(aioclient_mock, "GET", f"{SIM_URL}/events")
    # Newest first, so that a page of one is the SIM's last event.
    assert dict(call[1].query) == {
        "page": "2",
        "pageSize": "50",
        "sort": "-timestamp",
    }


@pytest.mark.usefixtures("token_mock")
async def test_sms_list_is_paged_with_per_page(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(f"{SIM_URL}/sms", json=load_api_fixture("sms_list_v2.json"))
    messages = await client.async_list_sms(ICCID, page=1, per_page=50)
    assert [sms.sms_id for sms in messages] == ["6026", "6202"]
    (call,) = calls_to(aioclient_mock, "GET", f"{SIM_URL}/sms")
    assert dict(call[1].query) == {"page": "1", "per_page": "50"}


@pytest.mark.usefixtures("token_mock")
async def test_empty_lists_are_empty_not_errors(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(f"{SIM_URL}/sms", text="")
    aioclient_mock.get(f"{SIM_URL}/events", text="")
    assert await client.async_list_sms(ICCID) == []
    assert await client.async_get_events(ICCID) == []


@pytest.mark.usefixtures("token_mock")
async def test_single_sms_is_fetched_by_id(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(f"{SIM_URL}/sms/590", json=load_api_fixture("sms_v1.json"))
    sms = await client.async_get_sms(ICCID, 590)
    assert (sms.sms_id, sms.status_id) == ("590", 3)


@pytest.mark.usefixtures("token_mock")
async def test_cancel_sms_deletes_it(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.delete(f"{SIM_URL}/sms/6026", json={"id": "6026"})
    await client.async_cancel_sms(ICCID, "6026")
    assert len(calls_to(aioclient_mock, "DELETE", f"{SIM_URL}/sms/6026")) == 1


@pytest.mark.usefixtures("token_mock")
async def test_reset_is_queued_with_a_bodyless_post(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(f"{SIM_URL}/reset", status=201)
    await client.async_reset_connection(ICCID)
    ((_, _, body, _),) = calls_to(aioclient_mock, "POST", f"{SIM_URL}/reset")
    assert body is None


@pytest.mark.usefixtures("token_mock")
async def test_top_up_returns_the_order_location(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.post(
        f"{SIM_URL}/topup",
        status=201,
        headers={"location": f"{BASE_URL}/v2/orders/1234"},
    )
    assert await client.async_top_up(ICCID) == f"{BASE_URL}/v2/orders/1234"


@pytest.mark.usefixtures("token_mock")
async def test_usage_asks_for_the_days_and_reads_them(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    url = f"{BASE_URL}/v1/sims/{ICCID}/usage"
    aioclient_mock.get(url, json=load_api_fixture("usage_v1.json"))
    usage = await client.async_get_usage(ICCID, date(2021, 11, 14), date(2021, 11, 16))
    assert [day.sms_total for day in usage.days] == [5, 0, 3]
    (call,) = calls_to(aioclient_mock, "GET", url)
    assert dict(call[1].query) == {"start_dt": "2021-11-14", "end_dt": "2021-11-16"}


@pytest.mark.usefixtures("token_mock")
async def test_limits_and_limit_options_are_read(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient, load_api_fixture: Loader
) -> None:
    aioclient_mock.get(
        f"{BASE_URL}/v1/sims/limits", json=load_api_fixture("limits_v1.json")
    )
    aioclient_mock.get(
        f"{BASE_URL}/v1/sims/smsMT/limits",
        json=load_api_fixture("limit_options_sms_mt_v1.json"),
    )
    limits = await client.async_get_limits()
    options = await client.async_get_limit_options(LimitService.SMS_MT)
    assert limits.sms_mt == Limit(limit_id=2, limit="10", unit="SMS")
    assert [option.limit_id for option in options] == [1, 2, 3]


@pytest.mark.usefixtures("token_mock")
async def test_limit_options_in_the_documented_object_shape_are_read(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        f"{BASE_URL}/v1/sims/data/limits",
        json={"data": {"id": 1, "limit": "16", "unit": "MB"}},
    )
    options = await client.async_get_limit_options(LimitService.DATA)
    assert options == [Limit(limit_id=1, limit="16", unit="MB")]


@pytest.mark.usefixtures("token_mock")
async def test_request_count_counts_every_attempt(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    aioclient_mock.get(
        SIM_URL, side_effect=answers({"status": 500}, {"json": SIM_JSON})
    )
    await client.async_get_sim(ICCID)
    assert client.request_count == 3  # token, failed attempt, retry
