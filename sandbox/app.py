"""The part of 1NCE's management API the integration uses, served by aiohttp.

Routes live under `/management-api`, like the real base URL, so the
integration's API URL setting just points at `http://HOST:PORT/management-api`.
A middleware plays the gateway in front of them, in 1NCE's order: injected
faults and latency, bearer token, then 10 requests/s per customer; it also
counts every request by endpoint for the control API, and first lets the
fleet use the data of the minutes gone by (so every answer is up to date).
A Platform 2.0 SIM's v1 paths answer 404, as do the account's v1 paths on a
pure Platform 2.0 account.

The live API's quirks are kept on purpose (see the shared API notes): an
unknown ICCID answers 200 with an empty body, bad credentials answer 400, the
SIM list is a bare array with paging headers, usage values are strings, the
forwarder's report says `status.status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from datetime import date, timedelta
import json
import math
from typing import Any, Final

from aiohttp import BasicAuth, hdrs, web

from .config import API_PREFIX, SandboxConfig
from .control import add_control_routes
from .gateway import GatewayError
from .state import LIMIT_OPTIONS, LIMIT_UNITS, SANDBOX, Sandbox
from .stream_control import add_stream_routes

MAX_PAGE_SIZE: Final = 100
SMS_PAGE_SIZE: Final = 20
SMS_MAX_PAGE_SIZE: Final = 1000
USAGE_MONTHS_DAYS: Final = 183
_GATEWAY_PAGE: Final = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
_TOKEN_PATH: Final = "/oauth/token"
_OAUTH_PER_MINUTE: Final = 600

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(data, status=status, headers=headers)


def _error(status: int, message: str) -> web.Response:
    return _json({"statusCode": status, "message": message}, status)


def _empty(status: int = 200, **headers: str) -> web.Response:
    """Answer without a body, as 1NCE does for PUT, reset, cancel, unknown SIMs."""
    return web.Response(status=status, headers=headers or None)


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


def _endpoint(request: web.Request) -> str:
    """`GET /v2/sims/{iccid}/quota/sms`: the request's route, for the counters."""
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else "(no route)"
    return f"{request.method} {path.removeprefix(API_PREFIX)}"


@web.middleware
async def gateway_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Count, then misbehave as configured, then authenticate and rate-limit."""
    sandbox = _sandbox(request)
    sandbox.settle_usage()
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    sandbox.requests[_endpoint(request)] += 1
    response = await _gate(request, handler, sandbox)
    sandbox.statuses[str(response.status)] += 1
    return response


async def _gate(
    request: web.Request, handler: Handler, sandbox: Sandbox
) -> web.StreamResponse:
    if (failure := await _injected_failure(sandbox)) is not None:
        return failure
    path = request.path.removeprefix(API_PREFIX)
    if path == _TOKEN_PATH:
        wait = sandbox.oauth_limit.check(request.remote or "?", _OAUTH_PER_MINUTE)
        return _too_many(wait) if wait else await handler(request)
    if path.startswith("/v1/") and (
        not sandbox.faults.v1_available or sandbox.v1_gone(path)
    ):
        return _error(404, "Not Found")
    if (refusal := _refuse_caller(request, sandbox)) is not None:
        return refusal
    try:
        return await handler(request)
    except GatewayError as err:
        return _error(err.status, err.message)


async def _injected_failure(sandbox: Sandbox) -> web.Response | None:
    """Wait the injected latency, then fail if a fault says so."""
    faults = sandbox.faults
    if faults.latency:
        await sandbox.clock.sleep(faults.latency)
    failing = faults.fail_next > 0
    if failing:
        faults.fail_next -= 1
    elif faults.error_rate:
        failing = sandbox.rng.random() < faults.error_rate
    if not failing:
        return None
    if faults.error_html:
        return web.Response(
            status=faults.error_status, text=_GATEWAY_PAGE, content_type="text/html"
        )
    return _error(faults.error_status, "Internal server error")


def _refuse_caller(request: web.Request, sandbox: Sandbox) -> web.Response | None:
    """Check the bearer token, then the customer's rate; None lets it through."""
    scheme, _, value = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    token = sandbox.valid_token(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _json({"message": "Unauthorized"}, 401)
    if not token.api_access:
        return _json({"message": "User is not authorized to access this resource"}, 401)
    wait = sandbox.api_limit.check(token.client_id, sandbox.faults.rate_limit)
    return _too_many(wait) if wait else None


def _too_many(wait: float) -> web.Response:
    return _json(
        {"message": "Too Many Requests"},
        429,
        {hdrs.RETRY_AFTER: str(max(1, math.ceil(wait)))},
    )


async def _body(request: web.Request) -> Any:
    """Return the JSON body, None when empty; anything else is a 400."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise GatewayError(400, "request body is not JSON") from None


def _int_query(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise GatewayError(400, f"{name} must be a whole number") from None
    if number < 1:
        raise GatewayError(400, f"{name} must be at least 1")
    return number


# --- token --------------------------------------------------------------------


async def token(request: web.Request) -> web.Response:
    """`POST /oauth/token`: Basic credentials, client_credentials grant."""
    sandbox = _sandbox(request)
    try:
        auth = BasicAuth.decode(request.headers.get(hdrs.AUTHORIZATION, ""))
    except ValueError:
        auth = None
    grant = None
    if request.content_type == "application/x-www-form-urlencoded":
        grant = (await request.post()).get("grant_type")
    else:
        try:
            body = await _body(request)
        except GatewayError as err:
            return _error(400, err.message)
        if isinstance(body, dict):
            grant = body.get("grant_type")
    if grant != "client_credentials":
        return _json(
            {
                "statusCode": 400,
                "errorCode": "InvalidGrantType",
                "message": "grant_type must be client_credentials",
            },
            400,
        )
    issued = sandbox.issue_token(auth.login, auth.password) if auth else None
    if issued is None:
        return _json(
            {
                "statusCode": 400,
                "errorCode": "BadCredentials",
                "message": "Incorrect username or password.",
            },
            400,
        )
    value, issued_token = issued
    lifetime = sandbox.faults.token_lifetime
    return _json(
        {
            "status_code": 200,
            "access_token": value,
            "token_type": "bearer",
            "expires_in": int(lifetime) if lifetime.is_integer() else lifetime,
            "userId": issued_token.client_id,
            "orgId": str(sandbox.config.organisation_id),
            "scope": "all",
        }
    )


# --- SIMs ---------------------------------------------------------------------


async def list_sims(request: web.Request) -> web.Response:
    """`GET /v2/sims`: a bare array; paging in `X-*` headers."""
    sandbox = _sandbox(request)
    page = _int_query(request, "page", 1)
    size = _int_query(request, "pageSize", 10)
    if size > MAX_PAGE_SIZE:
        raise GatewayError(400, f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    sims = list(sandbox.fleet.values())
    start = (page - 1) * size
    return _json(
        [sim.as_api() for sim in sims[start : start + size]],
        headers={
            "X-Total-Pages": str(math.ceil(len(sims) / size)),
            "X-Total-Count": str(len(sims)),
            "X-Count-Per-Page": str(size),
            "X-Current-Page": str(page),
        },
    )


def _known_sim(request: web.Request) -> Any:
    sim = _sandbox(request).fleet.get(request.match_info["iccid"])
    if sim is None:
        raise GatewayError(404, f"SIM {request.match_info['iccid']} not found")
    return sim


async def get_sim(request: web.Request) -> web.Response:
    """`GET /v2/sims/{iccid}`; an ICCID not in the account: 200, empty body."""
    sim = _sandbox(request).fleet.get(request.match_info["iccid"])
    if sim is None:
        return _empty()
    return _json(sim.as_api())


async def put_sim(request: web.Request) -> web.Response:
    """`PUT /v2/sims/{iccid}`: replaces the record, so a left-out label is gone."""
    sim = _known_sim(request)
    body = await _body(request)
    if not isinstance(body, dict):
        raise GatewayError(400, "request body must be a JSON object")
    status = body.get("status")
    if status not in ("Enabled", "Disabled"):
        raise GatewayError(400, "status must be Enabled or Disabled")
    imei_lock = body.get("imei_lock", False)
    if not isinstance(imei_lock, bool):
        raise GatewayError(400, "imei_lock must be a boolean")
    label = body.get("label")
    was_enabled = sim.enabled
    sim.enabled = status == "Enabled"
    if sim.enabled != was_enabled:
        _sandbox(request).activity.sim_status_changed(sim)
    sim.imei_lock = imei_lock
    sim.label = str(label) if label not in (None, "") else None
    return _empty()


async def reset_sim(request: web.Request) -> web.Response:
    """`POST .../reset`: 201, queued."""
    _known_sim(request)
    return _empty(201)


async def quota(request: web.Request) -> web.Response:
    """`GET .../quota/sms` and `.../quota/data`."""
    return _json(_known_sim(request).quota_api(request.match_info["service"]))


async def status(request: web.Request) -> web.Response:
    """`GET .../status`: network state, location, PDP context."""
    sim = _known_sim(request)
    return _json(sim.status_api(_sandbox(request).clock.now()))


async def events(request: web.Request) -> web.Response:
    """`GET .../events`: a page of the SIM's event log."""
    sim = _known_sim(request)
    page = _int_query(request, "page", 1)
    size = _int_query(request, "pageSize", 10)
    items = sim.events_api(_sandbox(request).clock.now())
    start = (page - 1) * size
    return _json(
        items[start : start + size],
        headers={
            "X-Total-Pages": str(math.ceil(len(items) / size)),
            "X-Total-Count": str(len(items)),
        },
    )


async def top_up(request: web.Request) -> web.Response:
    """`POST .../topup`: an order (here: credited at once), its URL in `Location`."""
    sandbox = _sandbox(request)
    _known_sim(request).top_up(sandbox.clock.now())
    order = f"{request.url.origin()}{API_PREFIX}/v2/orders/{sandbox.next_order()}"
    return _empty(201, Location=order)


# --- SMS ----------------------------------------------------------------------


async def list_sms(request: web.Request) -> web.Response:
    """`GET .../sms?page&per_page`: MT and MO of the last 7 days, newest first.

    `per_page` is 20 unless asked, at most 1000 (v2's limits, every platform).
    """
    sandbox = _sandbox(request)
    _known_sim(request)
    page = _int_query(request, "page", 1)
    size = _int_query(request, "per_page", SMS_PAGE_SIZE)
    if size > SMS_MAX_PAGE_SIZE:
        raise GatewayError(400, f"per_page must be between 1 and {SMS_MAX_PAGE_SIZE}")
    items = sandbox.gateway.history(request.match_info["iccid"])
    start = (page - 1) * size
    return _json([sms.as_api() for sms in items[start : start + size]])


def _sms_id(request: web.Request) -> int:
    try:
        return int(request.match_info["sms_id"])
    except ValueError:
        raise GatewayError(400, "id must be a number") from None


async def get_sms(request: web.Request) -> web.Response:
    """`GET .../sms/{id}`."""
    _known_sim(request)
    gateway = _sandbox(request).gateway
    return _json(gateway.get(request.match_info["iccid"], _sms_id(request)).as_api())


async def send_sms(request: web.Request) -> web.Response:
    """`POST .../sms`: v2 answers `{"id"}`, v1 an empty 201 with `Location`.

    A Platform 2.0 SIM's id is 18 digits, sent as a string.
    """
    sandbox = _sandbox(request)
    iccid = request.match_info["iccid"]
    sms = sandbox.gateway.send_mt(iccid, await _body(request))
    if sandbox.faults.sms_create_v1:
        return _empty(201, Location=f"{request.url}/{sms.sms_id}")
    wide = sandbox.fleet[iccid].platform == 2
    return _json({"id": str(sms.sms_id) if wide else sms.sms_id}, 201)


async def cancel_sms(request: web.Request) -> web.Response:
    """`DELETE .../sms/{id}`: only while 1NCE still tries to deliver it."""
    _known_sim(request)
    _sandbox(request).gateway.cancel(request.match_info["iccid"], _sms_id(request))
    return _empty()


# --- v1: usage and organisation limits ------------------------------------------


def _date_query(request: web.Request, name: str) -> date:
    try:
        return date.fromisoformat(request.query[name])
    except (KeyError, ValueError):
        raise GatewayError(400, f"{name} must be a date (YYYY-MM-DD)") from None


async def usage(request: web.Request) -> web.Response:
    """`GET /v1/sims/{iccid}/usage`: newest day first, strings, a TOTAL row."""
    sim = _known_sim(request)
    start = _date_query(request, "start_dt")
    end = _date_query(request, "end_dt")
    if end < start:
        raise GatewayError(400, "end_dt must not be before start_dt")
    oldest = _sandbox(request).clock.now().date() - timedelta(days=USAGE_MONTHS_DAYS)
    start = max(start, oldest)
    stats: list[dict[str, Any]] = []
    totals = [0.0, 0.0, 0.0]
    for day in sorted(sim.usage, reverse=True):
        if not start <= day <= end:
            continue
        mt, mo, mb = sim.usage[day]
        totals = [totals[0] + mt, totals[1] + mo, totals[2] + mb]
        stats.append({"date": day.isoformat(), **_usage_row(mt, mo, mb)})
    stats.append({"date": "TOTAL", **_usage_row(*totals)})
    return _json({"stats": stats})


def _usage_row(mt: float, mo: float, mb: float) -> dict[str, Any]:
    return {
        "data": {
            "volume": f"{mb:.6f}",
            "volume_tx": f"{mb * 0.3:.6f}",
            "volume_rx": f"{mb * 0.7:.6f}",
        },
        "sms": {
            "volume": str(int(mt + mo)),
            "volume_tx": str(int(mt)),
            "volume_rx": str(int(mo)),
        },
    }


def _limit(service: str, limit_id: int) -> dict[str, Any]:
    return {
        "id": limit_id,
        "limit": str(LIMIT_OPTIONS[service][limit_id]),
        "unit": LIMIT_UNITS[service],
    }


async def get_limits(request: web.Request) -> web.Response:
    """`GET /v1/sims/limits`: the organisation's monthly limits."""
    limits = _sandbox(request).limits
    return _json({service: _limit(service, key) for service, key in limits.items()})


_SERVICES: Final = {"data": "data", "smsMT": "smsMt", "smsMO": "smsMo"}
_LIMIT_KEYS: Final = {
    "dataLimitId": "data",
    "smsMtLimitId": "smsMt",
    "smsMoLimitId": "smsMo",
}


async def limit_options(request: web.Request) -> web.Response:
    """`GET /v1/sims/{service}/limits`: what may be chosen."""
    service = _SERVICES.get(request.match_info["service"])
    if service is None:
        raise GatewayError(400, "service must be data, smsMT or smsMO")
    return _json([_limit(service, key) for key in LIMIT_OPTIONS[service]])


async def set_limits(request: web.Request) -> web.Response:
    """`POST /v1/sims/limits`: choose options by id."""
    sandbox = _sandbox(request)
    body = await _body(request)
    if not isinstance(body, dict) or not body:
        raise GatewayError(400, "request body must name at least one limit")
    chosen: dict[str, int] = {}
    for key, value in body.items():
        service = _LIMIT_KEYS.get(key)
        if service is None or value not in LIMIT_OPTIONS[service]:
            raise GatewayError(400, f"{key}: unknown limit")
        chosen[service] = value
    sandbox.limits.update(chosen)
    sandbox.gateway.mt_limit = LIMIT_OPTIONS["smsMt"][sandbox.limits["smsMt"]]
    return _empty()


def add_api_routes(app: web.Application) -> None:
    """Register the API under `/management-api`."""
    sim = f"{API_PREFIX}/v2/sims/{{iccid:[0-9]+}}"
    app.router.add_post(f"{API_PREFIX}{_TOKEN_PATH}", token)
    app.router.add_get(f"{API_PREFIX}/v2/sims", list_sims)
    app.router.add_get(sim, get_sim)
    app.router.add_put(sim, put_sim)
    app.router.add_post(f"{sim}/reset", reset_sim)
    app.router.add_get(f"{sim}/quota/{{service:sms|data}}", quota)
    app.router.add_get(f"{sim}/status", status)
    app.router.add_get(f"{sim}/events", events)
    app.router.add_post(f"{sim}/topup", top_up)
    app.router.add_get(f"{sim}/sms", list_sms)
    app.router.add_post(f"{sim}/sms", send_sms)
    app.router.add_get(f"{sim}/sms/{{sms_id}}", get_sms)
    app.router.add_delete(f"{sim}/sms/{{sms_id}}", cancel_sms)
    app.router.add_get(f"{API_PREFIX}/v1/sims/limits", get_limits)
    app.router.add_post(f"{API_PREFIX}/v1/sims/limits", set_limits)
    app.router.add_get(
        f"{API_PREFIX}/v1/sims/{{service:data|smsMT|smsMO}}/limits", limit_options
    )
    app.router.add_get(f"{API_PREFIX}/v1/sims/{{iccid:[0-9]+}}/usage", usage)


def create_app(config: SandboxConfig | None = None) -> web.Application:
    """Build a sandbox; run it with `web.run_app` or aiohttp's `TestServer`."""
    sandbox = Sandbox(config or SandboxConfig())
    app = web.Application(middlewares=[gateway_middleware])
    app[SANDBOX] = sandbox
    add_api_routes(app)
    add_control_routes(app)
    add_stream_routes(app)

    async def forwarder_running(_app: web.Application) -> AsyncIterator[None]:
        await sandbox.forwarder.start()
        await sandbox.streamer.start()
        ticker = asyncio.get_running_loop().create_task(sandbox.activity.run())
        yield
        ticker.cancel()
        await sandbox.gateway.clear()
        await sandbox.forwarder.stop()
        await sandbox.streamer.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker

    app.cleanup_ctx.append(forwarder_running)
    return app
