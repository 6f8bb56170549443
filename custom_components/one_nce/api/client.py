"""The async client for 1NCE's management API.

One instance per set of credentials. It owns the bearer token (shared by every
concurrent caller, renewed ahead of expiry and once on a 401), a shared rate
limiter for `/sims`, and bounded retries for the failures 1NCE is known for
(5xx, timeouts, HTML error pages, 429). Everything else is typed calls that
return the models of `models.py`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import math
import time
from typing import Any, Final

import aiohttp

from ._parse import as_list, as_object, opt_str
from .concurrency import gather_all
from .exceptions import (
    OneNceAuthenticationError,
    OneNceConnectionError,
    OneNceFeatureUnavailableError,
    OneNceInvalidRequestError,
    OneNceNotFoundError,
    OneNcePermissionError,
    OneNceRateLimitError,
    OneNceResponseError,
)
from .models import (
    Connectivity,
    CreatedSms,
    Limit,
    Limits,
    LimitService,
    Quota,
    Sim,
    SimEvent,
    SimPage,
    Sms,
    SmsId,
    TokenInfo,
    Usage,
)
from .ratelimit import Clock, RateLimiter, Sleep, loop_clock
from .timeutil import format_api_datetime

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.1nce.com/management-api"
MAX_PAGE_SIZE: Final = 100
# Renew this long before 1NCE says the token expires, so a request never leaves
# with a token that dies in flight.
TOKEN_RENEW_MARGIN: Final = 300.0
# Longest Retry-After we are willing to sit out inside one call; beyond it the
# caller gets OneNceRateLimitError and decides (e.g. stretch its interval).
MAX_RETRY_AFTER: Final = 60.0
# Longest a 429 holds every caller of `/sims` back. 1NCE's limits are counted
# per second (`/sims`) and per minute (`/oauth`), so a genuine Retry-After is
# seconds long; a longer one is still heeded for up to ten minutes, but a
# garbled header or a skewed HTTP date must not silence the client for hours.
MAX_SHARED_PAUSE: Final = 600.0
# 1NCE allows 10 requests a second, counted where they arrive. Requests sent
# a second apart can arrive closer together, bunched by the network: the
# limiter counts each from when its answer came back (see ratelimit.py), and
# admits 10 per 1.25 s, a margin on top (measured against the sandbox with
# latency jitter, counting from when requests left, 1.0 s let 12 % of a
# 1,000-SIM day be refused, 1.25 s none).
RATE_LIMIT: Final = 10
RATE_LIMIT_WINDOW: Final = 1.25
_MAX_PAGES: Final = 10_000
# v2's SMS list pages with `per_page` up to 1000; a week of SMS of one SIM
# beyond 50 pages is beyond any IoT device.
MAX_SMS_PER_PAGE: Final = 1000
MAX_SMS_LIST_PAGES: Final = 50
_TOPUP_ORDER_URL_KEY: Final = "Location"


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: float


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    data: Any


def _read_body(raw: bytes, status: int, method: str) -> tuple[Any, str | None]:
    """Read an answer's JSON; or say why the answer is no answer at all.

    A gateway's HTML page in place of 1NCE's JSON (5xx, or 2xx to a GET) is
    worth asking again; a POST's 2xx is kept whatever its body, since 1NCE
    acted on it.
    """
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        return (json.loads(text) if text else None), None
    except ValueError:
        if status >= 500 or (status < 300 and method != "POST"):
            return None, f"HTTP {status} with a non-JSON body"
        return text, None


def _outcome_unknown(what: str, problem: str) -> OneNceConnectionError:
    return OneNceConnectionError(
        f"{what}: {problem}; not repeated, as 1NCE may have acted on it"
    )


def _error_message(data: Any, fallback: str) -> str:
    """Pick 1NCE's human message out of any of its error shapes."""
    if isinstance(data, Mapping):
        for key in ("message", "error", "errorMessage", "error_description"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    if isinstance(data, str) and data.strip() and len(data) < 500:
        return data.strip()
    return fallback


def _retry_after_seconds(value: str | None, now: float) -> float:
    """Read Retry-After as seconds or an HTTP date; 1 s when absent or junk."""
    if not value:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 1.0
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return 1.0
    return max(0.0, seconds)


def new_rate_limiter(
    *, clock: Clock = loop_clock, sleep: Sleep = asyncio.sleep
) -> RateLimiter:
    """Make the limiter for one 1NCE account: 10 requests per 1.25 s.

    1NCE counts its 10 requests a second per customer, whoever sends them:
    every client of one account should share one limiter (pass it as
    `rate_limiter`), or two of them together can exceed the limit.
    """
    return RateLimiter(
        RATE_LIMIT,
        RATE_LIMIT_WINDOW,
        clock=clock,
        sleep=sleep,
        max_pause=MAX_RETRY_AFTER,
    )


class OneNceClient:
    """Talk to 1NCE's management API with one set of credentials.

    The aiohttp session is injected so that the host application controls
    connection pooling, SSL and shutdown. Every public method may raise the
    exceptions of `exceptions.py`, and nothing else from aiohttp.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limiter: RateLimiter | None = None,
        request_timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        clock: Clock = loop_clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Set up; nothing is sent until the first call."""
        self._session = session
        # Sent as a plain header (not aiohttp's auth=) so it is visible to, and
        # the same for, every transport and test double.
        # Built by hand: aiohttp 3.13 deprecates BasicAuth.encode(), and this
        # is all it did (RFC 7617, Latin-1 as aiohttp's default).
        credentials = f"{client_id}:{client_secret}".encode("latin1")
        self._basic_auth = f"Basic {base64.b64encode(credentials).decode('ascii')}"
        self.base_url = base_url.rstrip("/")
        self.rate_limiter = rate_limiter or new_rate_limiter(clock=clock, sleep=sleep)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        # The token that was current when 1NCE refused the credentials, and
        # the refusal: every caller that saw that token refused gets the same
        # answer, so a revoked secret costs one token request, not one each.
        self._refusal: tuple[str | None, OneNceAuthenticationError] | None = None
        self._token_lock = asyncio.Lock()
        self.token_info: TokenInfo | None = None
        self.request_count = 0

    # --- token -----------------------------------------------------------------

    async def async_authenticate(self) -> TokenInfo:
        """Fetch a new token now; proves the credentials and tells who we are."""
        async with self._token_lock:
            await self._renew_token()
        assert self.token_info is not None
        return self.token_info

    async def _valid_token(self, stale: str | None = None) -> str:
        """Return a usable token, renewing once for all concurrent callers.

        `stale` is the token a caller just saw refused: if someone else already
        replaced it while we waited for the lock, that replacement is used and
        no second token request is made.
        """
        async with self._token_lock:
            if self._refusal is not None and stale is not None:
                refused_token, refusal = self._refusal
                if refused_token == stale:
                    raise refusal
            token = self._token
            if token is None or token.value == stale or self._clock() >= token.renew_at:
                await self._renew_token()
                token = self._token
            assert token is not None
            return token.value

    async def _renew_token(self) -> None:
        refused = self._token.value if self._token is not None else None
        try:
            await self._request_token()
        except OneNceAuthenticationError as err:
            # The old token is no good either: nobody should use it any more.
            self._token = None
            self._refusal = (refused, err)
            raise
        self._refusal = None

    async def _request_token(self) -> None:
        response = await self._send(
            "POST",
            "/oauth/token",
            json_body={"grant_type": "client_credentials"},
            authorization=self._basic_auth,
        )
        if response.status in (400, 401, 403):
            raise OneNceAuthenticationError(
                _error_message(response.data, "1NCE refused the credentials")
            )
        if response.status >= 300:
            # Not "SIM not found": no token endpoint here means a wrong API URL.
            raise OneNceConnectionError(
                f"POST /oauth/token: HTTP {response.status}; is the API URL right?"
            )
        body = as_object(response.data, "token response")
        access_token = opt_str(body, "access_token")
        if not access_token:
            raise OneNceResponseError("token response: access_token missing")
        info = TokenInfo.from_api(body)
        lifetime = info.expires_in
        margin = min(TOKEN_RENEW_MARGIN, lifetime / 10)
        self._token = _Token(access_token, self._clock() + lifetime - margin)
        self.token_info = info

    # --- transport -------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        allow_empty: bool = False,
        at_most_once: bool = False,
    ) -> _Response:
        """Send an authenticated API request and return its successful answer."""
        token = await self._valid_token()
        renewed = False
        while True:
            response = await self._send(
                method,
                path,
                params=params,
                json_body=json_body,
                token=token,
                at_most_once=at_most_once,
            )
            if response.status != 401:
                break
            if renewed:
                raise OneNcePermissionError(
                    _error_message(
                        response.data,
                        "1NCE issued a token but refuses it for the API; "
                        "the credentials lack API permission",
                    )
                )
            renewed = True
            token = await self._valid_token(stale=token)
        self._raise_for_status(response, f"{method} {path}")
        if response.data is None and not allow_empty and response.status != 204:
            # 1NCE answers 200 with an empty body for an ICCID it does not know.
            raise OneNceNotFoundError(f"{method} {path}: empty answer")
        return response

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        token: str | None = None,
        authorization: str | None = None,
        at_most_once: bool = False,
    ) -> _Response:
        """Send with retries for what is worth retrying; return the final answer.

        Retried: connection errors, timeouts, 5xx, 2xx/5xx bodies that are not
        JSON (gateway HTML pages) and 429 (after Retry-After, shared with every
        caller through the limiter). Everything else is returned to the caller.
        A POST answered 2xx is never sent again, whatever its body: 1NCE has
        acted on it, and a second one would send a second SMS or order.

        A 429 on `/sims` pauses the shared limiter for everyone, also when its
        Retry-After is longer than this call will wait: the call then raises,
        and so do the others while the pause is longer than they would wait
        (see `RateLimiter.max_pause`), instead of asking 1NCE again meanwhile.
        A 429 on `/oauth` only holds back the token request: 1NCE counts that
        limit apart.

        `at_most_once` requests (an SMS, a billed top-up) are repeated only
        where 1NCE certainly did not act: no connection, 429, 503. After a
        time-out, a dropped connection or another 5xx the outcome is unknown,
        and a second SMS or order is worse than an error that says so.
        """
        url = f"{self.base_url}{path}"
        headers = {"Accept": "application/json"}
        # Only /sims calls count against 1NCE's 10 requests/s; /oauth has its own.
        token_request = authorization is not None
        bearer = None if token is None else f"Bearer {token}"
        if credentials := authorization or bearer:
            headers["Authorization"] = credentials
        what = f"{method} {path}"
        last_problem = "no answer"
        for attempt in range(self._max_attempts):
            if attempt:
                await self._sleep(self._backoff_base * 2 ** (attempt - 1))
            self.request_count += 1
            try:
                async with self._slot(token_request):
                    status, resp_headers, raw = await self._exchange(
                        method, url, params=params, json_body=json_body, headers=headers
                    )
            except (TimeoutError, aiohttp.ClientError) as err:
                last_problem = (
                    "timed out"
                    if isinstance(err, TimeoutError)
                    else f"{type(err).__name__}: {err}"
                )
                # No connection: the request certainly never reached 1NCE.
                if at_most_once and not isinstance(err, aiohttp.ClientConnectorError):
                    raise _outcome_unknown(what, last_problem) from err
                continue

            data, problem = _read_body(raw, status, method)
            if status == 429:
                last_problem = "rate limited (429)"
                await self._rate_limited(
                    what,
                    resp_headers,
                    token_request=token_request,
                    last_attempt=attempt + 1 == self._max_attempts,
                )
                continue
            if problem is None and status >= 500:
                problem = f"HTTP {status}"
            if problem is not None:
                last_problem = problem
                if at_most_once and status >= 500 and status != 503:
                    raise _outcome_unknown(what, last_problem)
                continue
            return _Response(status, resp_headers, data)
        raise OneNceConnectionError(
            f"{what}: {last_problem} after {self._max_attempts} attempts"
        )

    def _slot(self, token_request: bool) -> AbstractAsyncContextManager[None]:
        """Take a place in the shared window, or none: /oauth is counted apart."""
        return nullcontext() if token_request else self.rate_limiter.slot()

    async def _rate_limited(
        self,
        what: str,
        headers: Mapping[str, str],
        *,
        token_request: bool,
        last_attempt: bool,
    ) -> None:
        """Heed a 429: pause whom it concerns, then wait here or raise."""
        # A garbled header or a skewed HTTP date must not silence us for
        # hours: 1NCE's limits are per second and per minute.
        wait = min(
            _retry_after_seconds(headers.get("Retry-After"), time.time()),
            MAX_SHARED_PAUSE,
        )
        if not token_request:
            self.rate_limiter.pause(wait)
        if wait > MAX_RETRY_AFTER or last_attempt:
            raise OneNceRateLimitError(
                f"{what}: 1NCE rate limit hit, retry after {wait:.0f} s",
                retry_after=wait,
            )
        if token_request:
            await self._sleep(wait)

    async def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        headers: Mapping[str, str],
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Make one HTTP exchange; headers stay case-insensitive, as HTTP's are."""
        async with self._session.request(
            method,
            url,
            params=params,
            json=json_body,
            headers=headers,
            timeout=self._timeout,
            allow_redirects=False,
        ) as resp:
            return resp.status, resp.headers.copy(), await resp.read()

    @staticmethod
    def _raise_for_status(response: _Response, what: str) -> None:
        status = response.status
        if status < 300:
            return
        message = _error_message(response.data, f"{what}: HTTP {status}")
        if status == 403:
            raise OneNcePermissionError(message)
        if status == 404:
            raise OneNceNotFoundError(message)
        if status == 410:
            raise OneNceFeatureUnavailableError(message)
        if 400 <= status < 500:
            raise OneNceInvalidRequestError(message, status)
        raise OneNceConnectionError(f"{what}: unexpected HTTP {status}")

    async def _v1_only(self, method: str, path: str, **kwargs: Any) -> _Response:
        """Call an endpoint v2 lacks; only a 404 or 410 means "not available".

        An empty 2xx body is handed back (`data` None), never read as a retired
        endpoint: for a SIM's usage it is 1NCE's way of saying "no such ICCID"
        (as for a single SIM), which is the caller's to raise.
        """
        try:
            return await self._request(method, path, allow_empty=True, **kwargs)
        except OneNceNotFoundError as err:
            raise OneNceFeatureUnavailableError(
                f"{method} {path} is not available: {err}"
            ) from err

    # --- SIMs ------------------------------------------------------------------

    async def async_get_sims_page(
        self, page: int = 1, page_size: int = MAX_PAGE_SIZE
    ) -> SimPage:
        """Fetch one page of the SIM list with its paging headers."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        response = await self._request(
            "GET",
            "/v2/sims",
            params={"page": page, "pageSize": page_size},
            allow_empty=True,
        )
        items = as_list(response.data if response.data is not None else [], "SIM list")
        return SimPage(
            sims=[Sim.from_api(item) for item in items],
            page=page,
            total_pages=_int_header(response.headers, "X-Total-Pages"),
            total_count=_int_header(response.headers, "X-Total-Count"),
        )

    async def async_get_sims(self) -> list[Sim]:
        """Fetch the whole fleet in pages of 100: ceil(N/100) requests.

        With `X-Total-Pages` the remaining pages are fetched concurrently (the
        limiter keeps them under 1NCE's rate; one failing page cancels the
        others). Without it, pages are read one by one until a short or empty
        page, so a missing header never loops.
        """
        first = await self.async_get_sims_page(1)
        pages = [first]
        if first.total_pages is not None:
            pages.extend(
                await gather_all(
                    *(
                        self.async_get_sims_page(number)
                        for number in range(2, min(first.total_pages, _MAX_PAGES) + 1)
                    )
                )
            )
        else:
            page = first
            seen = {sim.iccid for sim in first.sims}
            while len(page.sims) == MAX_PAGE_SIZE and page.page < _MAX_PAGES:
                page = await self.async_get_sims_page(page.page + 1)
                # A page with nothing new is a server that ignores `page`: stop.
                if seen.issuperset(sim.iccid for sim in page.sims):
                    break
                seen.update(sim.iccid for sim in page.sims)
                pages.append(page)
        unique: dict[str, Sim] = {}
        for page in pages:
            for sim in page.sims:
                unique.setdefault(sim.iccid, sim)
        return list(unique.values())

    async def async_get_sim(self, iccid: str) -> Sim:
        """Fetch one SIM; an ICCID outside the account raises OneNceNotFoundError."""
        response = await self._request("GET", f"/v2/sims/{_iccid(iccid)}")
        return Sim.from_api(response.data)

    async def async_update_sim(
        self,
        iccid: str,
        *,
        enabled: bool,
        label: str | None,
        imei_lock: bool,
    ) -> None:
        """Change a SIM. 1NCE replaces the record, so pass every current value."""
        body: dict[str, Any] = {
            "iccid": _iccid(iccid),
            "status": "Enabled" if enabled else "Disabled",
            "imei_lock": imei_lock,
        }
        if label is not None:
            body["label"] = label
        await self._request(
            "PUT", f"/v2/sims/{_iccid(iccid)}", json_body=body, allow_empty=True
        )

    async def async_reset_connection(self, iccid: str) -> None:
        """Queue a connectivity reset; the device re-attaches to the network."""
        await self._request("POST", f"/v2/sims/{_iccid(iccid)}/reset", allow_empty=True)

    async def async_get_sms_quota(self, iccid: str) -> Quota:
        """Fetch the SIM's SMS quota (volume left, total, expiry).

        An empty body is an ICCID outside the account (OneNceNotFoundError);
        `{}` is a SIM whose quota 1NCE does not know (`Quota.known` False).
        """
        response = await self._request("GET", f"/v2/sims/{_iccid(iccid)}/quota/sms")
        return Quota.from_api(response.data)

    async def async_get_data_quota(self, iccid: str) -> Quota:
        """Fetch the SIM's data quota (MB left, total, expiry); as the SMS quota."""
        response = await self._request("GET", f"/v2/sims/{_iccid(iccid)}/quota/data")
        return Quota.from_api(response.data)

    async def async_get_connectivity(self, iccid: str) -> Connectivity:
        """Fetch the SIM's network status, location and radio access type.

        An empty body is an ICCID outside the account (OneNceNotFoundError).
        """
        response = await self._request("GET", f"/v2/sims/{_iccid(iccid)}/status")
        return Connectivity.from_api(response.data)

    async def async_get_events(
        self, iccid: str, *, page: int = 1, page_size: int = 20
    ) -> list[SimEvent]:
        """Fetch one page of the SIM's network event log, newest first.

        1NCE's own order is not documented, so the newest are asked for: a
        page of one is then the SIM's last event.
        """
        response = await self._request(
            "GET",
            f"/v2/sims/{_iccid(iccid)}/events",
            params={"page": page, "pageSize": page_size, "sort": "-timestamp"},
            allow_empty=True,
        )
        data = response.data if response.data is not None else []
        if isinstance(data, Mapping):  # v1 wraps the list in {"events": [...]}
            data = data.get("events") or []
        return [SimEvent.from_api(item) for item in as_list(data, "events")]

    async def async_top_up(self, iccid: str) -> str | None:
        """Order a top-up of the SIM's volume. This creates a BILLED order.

        Returns the order's URL from `Location`, when 1NCE sends one.
        """
        response = await self._request(
            "POST",
            f"/v2/sims/{_iccid(iccid)}/topup",
            allow_empty=True,
            at_most_once=True,
        )
        return response.headers.get(_TOPUP_ORDER_URL_KEY)

    # --- SMS -------------------------------------------------------------------

    async def async_send_sms(
        self,
        iccid: str,
        payload: str,
        *,
        dcs: int | None = None,
        udh: str | None = None,
        source_address: str | None = None,
        source_address_type: int | None = None,
        expiry_date: datetime | None = None,
    ) -> CreatedSms:
        """Submit one MT SMS (one part; splitting is the caller's job).

        The new id comes from v2's body, or from the last segment of the
        `Location` header where 1NCE answers 201 with no body (v1's way).
        """
        body: dict[str, Any] = {"payload": payload}
        if source_address is not None:
            body["source_address"] = source_address
        if source_address_type is not None:
            body["source_address_type"] = {"id": source_address_type}
        if dcs is not None:
            body["dcs"] = dcs
        if udh:
            body["udh"] = udh
        if expiry_date is not None:
            body["expiry_date"] = format_api_datetime(expiry_date)
        response = await self._request(
            "POST",
            f"/v2/sims/{_iccid(iccid)}/sms",
            json_body=body,
            allow_empty=True,
            at_most_once=True,
        )
        sms_id: str | None = None
        if isinstance(response.data, Mapping):
            sms_id = opt_str(response.data, "id")
        if sms_id is None:
            location = response.headers.get("Location", "")
            sms_id = location.rstrip("/").rsplit("/", 1)[-1] or None
        if sms_id is None:
            raise OneNceResponseError("created SMS: no id in body or Location header")
        return CreatedSms(sms_id=sms_id)

    async def async_list_sms(
        self, iccid: str, *, page: int = 1, per_page: int = 100
    ) -> list[Sms]:
        """Fetch one page of the SIM's MT and MO SMS (1NCE keeps 7 days)."""
        response = await self._request(
            "GET",
            f"/v2/sims/{_iccid(iccid)}/sms",
            params={"page": page, "per_page": per_page},
            allow_empty=True,
        )
        data = response.data if response.data is not None else []
        return [Sms.from_api(item) for item in as_list(data, "SMS list")]

    async def async_list_all_sms(self, iccid: str) -> list[Sms]:
        """Read every page of the SIM's SMS list, 1000 a page, each SMS once.

        1NCE keeps 7 days. Reading stops at a short page, at a page with
        nothing new (a server that ignores `page` would otherwise be asked
        for the same SMS again and again) or after `MAX_SMS_LIST_PAGES`.
        """
        found: dict[str, Sms] = {}
        for page in range(1, MAX_SMS_LIST_PAGES + 1):
            items = await self.async_list_sms(
                iccid, page=page, per_page=MAX_SMS_PER_PAGE
            )
            new = {sms.sms_id: sms for sms in items if sms.sms_id not in found}
            found.update(new)
            if len(items) < MAX_SMS_PER_PAGE or not new:
                break
        else:
            _LOGGER.warning(
                "Listing the SMS of %s stopped after %d pages (%d SMS)",
                iccid,
                MAX_SMS_LIST_PAGES,
                len(found),
            )
        return list(found.values())

    async def async_get_sms(self, iccid: str, sms_id: SmsId) -> Sms:
        """Fetch one SMS, e.g. to learn whether it was delivered."""
        response = await self._request(
            "GET", f"/v2/sims/{_iccid(iccid)}/sms/{_sms_id(sms_id)}"
        )
        return Sms.from_api(response.data)

    async def async_cancel_sms(self, iccid: str, sms_id: SmsId) -> None:
        """Cancel an MT SMS that 1NCE is still trying to deliver."""
        await self._request(
            "DELETE",
            f"/v2/sims/{_iccid(iccid)}/sms/{_sms_id(sms_id)}",
            allow_empty=True,
        )

    # --- v1 only: usage and organisation limits --------------------------------

    async def async_get_usage(self, iccid: str, start: date, end: date) -> Usage:
        """Fetch daily usage (v1 only; 1NCE keeps the last six months).

        Raises OneNceFeatureUnavailableError when v1's usage is gone (404,
        410), but OneNceNotFoundError for an empty answer: that is 1NCE not
        knowing this ICCID, and other SIMs' usage is still there to fetch.
        """
        path = f"/v1/sims/{_iccid(iccid)}/usage"
        response = await self._v1_only(
            "GET",
            path,
            params={"start_dt": start.isoformat(), "end_dt": end.isoformat()},
        )
        if response.data is None:
            raise OneNceNotFoundError(f"GET {path}: empty answer")
        return Usage.from_api(response.data)

    async def async_get_limits(self) -> Limits:
        """Fetch the organisation-wide monthly limits (v1 only)."""
        response = await self._v1_only("GET", "/v1/sims/limits")
        return Limits.from_api(response.data)

    async def async_get_limit_options(self, service: LimitService) -> list[Limit]:
        """Fetch the limits one may choose for a service (v1 only)."""
        response = await self._v1_only(
            "GET", f"/v1/sims/{LimitService(service).value}/limits"
        )
        data = response.data if response.data is not None else []
        if isinstance(data, Mapping):
            data = [value for value in data.values() if isinstance(value, Mapping)]
        return [Limit.from_api(item) for item in as_list(data, "limit options")]

    async def async_set_limits(
        self,
        *,
        data_limit_id: int | None = None,
        sms_mt_limit_id: int | None = None,
        sms_mo_limit_id: int | None = None,
    ) -> None:
        """Set organisation-wide monthly limits by option id (v1 only)."""
        body: dict[str, int] = {}
        if data_limit_id is not None:
            body["dataLimitId"] = data_limit_id
        if sms_mt_limit_id is not None:
            body["smsMtLimitId"] = sms_mt_limit_id
        if sms_mo_limit_id is not None:
            body["smsMoLimitId"] = sms_mo_limit_id
        if not body:
            raise ValueError("set at least one limit")
        await self._v1_only("POST", "/v1/sims/limits", json_body=body)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    lowered = {key.lower(): value for key, value in headers.items()}
    value = lowered.get(name.lower())
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _iccid(iccid: str) -> str:
    """Refuse anything but digits before it reaches a URL path."""
    value = str(iccid).strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"not an ICCID: {iccid!r}")
    return value


def _sms_id(sms_id: SmsId) -> str:
    value = str(sms_id).strip()
    if not value or not value.replace("-", "").isalnum():
        raise ValueError(f"not an SMS id: {sms_id!r}")
    return value
