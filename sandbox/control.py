"""The sandbox's own API, under `/_sandbox`: what 1NCE's Portal and radio do.

Nothing here exists at 1NCE. It lets a test, a benchmark or a person make a
SIM send an SMS, point the forwarder somewhere (1NCE only allows that in its
Portal), switch faults on, read request counters, skip time ahead and start
over. No authentication: the sandbox listens on 127.0.0.1 by default.

    GET    /_sandbox                    summary: config, faults, forwarder, streams,
                                        counts
    POST   /_sandbox/mo                 {"iccid", "text", "encoding"?, "source_address"?}
    GET    /_sandbox/forwarder          URL, pending and recent pushes
    PUT    /_sandbox/forwarder          {"url": "http://..." | null}
    GET    /_sandbox/faults             the faults in force
    PATCH  /_sandbox/faults             {"error_rate": 0.2, "latency": 0.5, ...}
    GET    /_sandbox/counters           requests by endpoint and by status
    DELETE /_sandbox/counters           start counting from zero
    PATCH  /_sandbox/sims/{iccid}       {"connectivity", "mt_outcome", "sms_volume", ...}
    GET    /_sandbox/sms                every SMS the gateway holds
    GET    /_sandbox/usage/{iccid}      what the SIM really used, per day (?since=)
    POST   /_sandbox/time/advance       {"seconds": 3600}
    POST   /_sandbox/reset              {"sims": N}? fresh fleet, no SMS, no faults
    ...    /_sandbox/streams/...        Data Streamer destinations: stream_control.py
"""

from __future__ import annotations

from datetime import date
import json
from typing import Any, Final

from aiohttp import web

from .config import CONTROL_PREFIX
from .fleet import Connectivity, SmsStatus
from .gateway import GatewayError
from .state import SANDBOX, Sandbox

_OUTCOMES: Final = {
    status.name: status
    for status in (SmsStatus.DELIVERED, SmsStatus.FAILED, SmsStatus.EXPIRED)
}


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _object(request: web.Request) -> dict[str, Any]:
    """Read the JSON object sent; an empty body counts as `{}`."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _forwarder_state(sandbox: Sandbox, recent: int = 20) -> dict[str, Any]:
    forwarder = sandbox.forwarder
    return {
        "url": forwarder.url,
        "pending": len(forwarder.pending),
        **forwarder.counts,
        "recent": [push.as_dict() for push in list(forwarder.history)[-recent:]],
    }


def _counters(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "total": sum(sandbox.requests.values()),
        "by_endpoint": dict(sorted(sandbox.requests.items())),
        "by_status": dict(sorted(sandbox.statuses.items())),
    }


async def summary(request: web.Request) -> web.Response:
    """Show everything at a glance."""
    sandbox = _sandbox(request)
    config = sandbox.config
    return web.json_response(
        {
            "api_url": f"{request.url.origin()}/management-api",
            "client_id": config.client_id,
            "organisation_id": config.organisation_id,
            "platform": config.platform.value,
            "sims": [
                {
                    "iccid": sim.iccid,
                    "platform": sim.platform,
                    "label": sim.label,
                    "enabled": sim.enabled,
                    "connectivity": sim.connectivity.value,
                    "sms_volume": sim.sms_volume,
                    "mt_outcome": sim.effective_outcome.name,
                }
                for sim in list(sandbox.fleet.values())[:50]
            ],
            "sim_count": len(sandbox.fleet),
            "delivery_delay": config.delivery_delay,
            "faults": sandbox.faults.as_dict(),
            "forwarder": _forwarder_state(sandbox, recent=5),
            "streams": [
                stream.as_dict() for stream in sandbox.streamer.destinations.values()
            ],
            "counters": _counters(sandbox),
        }
    )


async def inject_mo(request: web.Request) -> web.Response:
    """Make a SIM send an SMS; it is split and pushed part by part."""
    sandbox = _sandbox(request)
    body = await _object(request)
    iccid, text = body.get("iccid"), body.get("text")
    if not isinstance(iccid, str) or not isinstance(text, str):
        return _problem(400, "iccid and text are required strings")
    source = body.get("source_address")
    try:
        records = sandbox.gateway.inject_mo(
            iccid,
            text,
            encoding=str(body.get("encoding", "auto")),
            source_address=str(source) if source is not None else None,
        )
    except GatewayError as err:
        return _problem(err.status, err.message)
    return web.json_response(
        {
            "ids": [sms.sms_id for sms in records],
            "parts": len(records),
            "dcs": records[0].dcs,
            "forwarder_url": sandbox.forwarder.url,
        },
        status=201,
    )


async def get_forwarder(request: web.Request) -> web.Response:
    """Show where pushes go and how they fared."""
    recent = int(request.query.get("recent", "20"))
    return web.json_response(_forwarder_state(_sandbox(request), recent))


async def put_forwarder(request: web.Request) -> web.Response:
    """Point the forwarder at a URL (or nowhere: pushes are then held)."""
    sandbox = _sandbox(request)
    body = await _object(request)
    url = body.get("url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        return _problem(400, "url must be an http(s) URL or null")
    sandbox.forwarder.set_url(url)
    sandbox.config.forwarder_url = url
    return web.json_response(_forwarder_state(sandbox))


async def get_faults(request: web.Request) -> web.Response:
    """Show the faults in force."""
    return web.json_response(_sandbox(request).faults.as_dict())


async def patch_faults(request: web.Request) -> web.Response:
    """Change some faults; the rest stay as they are."""
    faults = _sandbox(request).faults
    try:
        faults.update(await _object(request))
    except ValueError as err:
        return _problem(400, str(err))
    return web.json_response(faults.as_dict())


async def get_counters(request: web.Request) -> web.Response:
    """Count requests by endpoint (`GET /v2/sims/{iccid}`) and by status."""
    return web.json_response(_counters(_sandbox(request)))


async def delete_counters(request: web.Request) -> web.Response:
    """Count from zero, e.g. at the start of a benchmark."""
    sandbox = _sandbox(request)
    sandbox.reset_counters()
    return web.json_response(_counters(sandbox))


async def patch_sim(request: web.Request) -> web.Response:
    """Put a SIM in another situation: offline, out of SMS, failing delivery."""
    sandbox = _sandbox(request)
    sim = sandbox.fleet.get(request.match_info["iccid"])
    if sim is None:
        return _problem(404, "no such SIM")
    body = await _object(request)
    try:
        if "connectivity" in body:
            sim.connectivity = Connectivity(str(body["connectivity"]).upper())
        if "mt_outcome" in body:
            sim.mt_outcome = _OUTCOMES[str(body["mt_outcome"]).upper()]
        if "enabled" in body:
            sim.enabled = bool(body["enabled"])
        for key in ("sms_volume", "data_volume"):
            if key in body:
                setattr(sim, key, float(body[key]))
    except (KeyError, ValueError, TypeError):
        return _problem(400, "bad value")
    return web.json_response(sim.as_api())


async def all_sms(request: web.Request) -> web.Response:
    """List every SMS the gateway holds, newest first."""
    gateway = _sandbox(request).gateway
    return web.json_response(
        [
            {"iccid": sms.iccid, **sms.as_api()}
            for sms in sorted(
                gateway.messages.values(), key=lambda sms: sms.sms_id, reverse=True
            )
        ]
    )


async def usage_truth(request: web.Request) -> web.Response:
    """Tell what a SIM really used, per day: data (MB), MT and MO SMS.

    The sandbox's own book, to compare with what Home Assistant counted;
    `?since=YYYY-MM-DD` leaves out older days.
    """
    sandbox = _sandbox(request)
    sim = sandbox.fleet.get(request.match_info["iccid"])
    if sim is None:
        return _problem(404, "no such SIM")
    since = request.query.get("since")
    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        return _problem(400, "since must be a date (YYYY-MM-DD)")
    return web.json_response(sandbox.usage_truth(sim, first))


async def advance_time(request: web.Request) -> web.Response:
    """Skip ahead: deliveries, expiries, retries and token ages all move."""
    sandbox = _sandbox(request)
    body = await _object(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return _problem(400, "seconds must be a number >= 0")
    sandbox.clock.advance(float(seconds))
    return web.json_response({"now": sandbox.clock.now().isoformat()})


async def reset(request: web.Request) -> web.Response:
    """Start afresh, optionally with another fleet size; the URL stays."""
    sandbox = _sandbox(request)
    body = await _object(request)
    sims = body.get("sims")
    if sims is not None and (
        isinstance(sims, bool) or not isinstance(sims, int) or sims < 0
    ):
        return _problem(400, "sims must be a whole number >= 0")
    await sandbox.reset(sims)
    return web.json_response({"sims": len(sandbox.fleet)})


def add_control_routes(app: web.Application) -> None:
    """Register the control API under `/_sandbox`."""
    prefix = CONTROL_PREFIX
    app.router.add_get(prefix, summary)
    app.router.add_post(f"{prefix}/mo", inject_mo)
    app.router.add_get(f"{prefix}/forwarder", get_forwarder)
    app.router.add_put(f"{prefix}/forwarder", put_forwarder)
    app.router.add_get(f"{prefix}/faults", get_faults)
    app.router.add_patch(f"{prefix}/faults", patch_faults)
    app.router.add_get(f"{prefix}/counters", get_counters)
    app.router.add_delete(f"{prefix}/counters", delete_counters)
    app.router.add_patch(f"{prefix}/sims/{{iccid}}", patch_sim)
    app.router.add_get(f"{prefix}/sms", all_sms)
    app.router.add_get(f"{prefix}/usage/{{iccid}}", usage_truth)
    app.router.add_post(f"{prefix}/time/advance", advance_time)
    app.router.add_post(f"{prefix}/reset", reset)
