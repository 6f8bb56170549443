"""The Portal's Data Streams page, as control API under `/_sandbox/streams`.

GET    /_sandbox/streams                  streams, settings, records emitted
POST   /_sandbox/streams                  {"type": "usage"|"event", "url",
                                           "auth", "shape"?: "nested"|"flat",
                                           "name"?}  -> 201 the stream
GET    /_sandbox/streams/{id}             one stream, its recent batches
DELETE /_sandbox/streams/{id}             delete it
POST   /_sandbox/streams/{id}/restart     ACTIVE again (after FAILED)
POST   /_sandbox/streams/{id}/flush       send one batch now (or its retry)
GET    /_sandbox/streams/settings         batching, retries, platform
PATCH  /_sandbox/streams/settings         {"flush_interval": 0.1, ...}
POST   /_sandbox/streams/tick             a data-usage slice for online SIMs now
POST   /_sandbox/streams/inject           {"iccid", "event", "service"?}
GET    /_sandbox/streams/records          the latest records emitted
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .activity import INJECTABLE, UnknownSimError
from .config import CONTROL_PREFIX
from .control import _object, _problem
from .state import SANDBOX, Sandbox
from .streams import Shape, StreamType


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


def _overview(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "streams": [
            destination.as_dict()
            for destination in sandbox.streamer.destinations.values()
        ],
        "settings": sandbox.streamer.settings.as_dict(),
        "emitted": dict(sandbox.activity.emitted),
    }


async def list_streams(request: web.Request) -> web.Response:
    """Every stream with its status and counters."""
    return web.json_response(_overview(_sandbox(request)))


async def add_stream(request: web.Request) -> web.Response:
    """Create a stream, as the Portal's "New Data Stream" dialog does."""
    sandbox = _sandbox(request)
    body = await _object(request)
    try:
        kind = StreamType(str(body.get("type")))
        shape = Shape(str(body.get("shape", Shape.NESTED.value)))
    except ValueError:
        return _problem(400, "type must be usage or event, shape nested or flat")
    url, auth = body.get("url"), body.get("auth")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _problem(400, "url must be an http(s) URL")
    if isinstance(auth, str):  # the Portal wants the bare value
        auth = auth.removeprefix("Basic ").strip()
    if not isinstance(auth, str) or not auth:
        return _problem(400, "auth (the Basic Auth Header value) is required")
    name = body.get("name")
    destination = sandbox.streamer.add(
        kind, url, auth, shape, name if isinstance(name, str) else ""
    )
    return web.json_response(destination.as_dict(), status=201)


def _stream_id(request: web.Request) -> int:
    stream_id = int(request.match_info["stream_id"])
    if stream_id not in _sandbox(request).streamer.destinations:
        raise web.HTTPNotFound(
            text=json.dumps({"error": "no such stream"}),
            content_type="application/json",
        )
    return stream_id


async def get_stream(request: web.Request) -> web.Response:
    """One stream with its latest batches."""
    stream_id = _stream_id(request)
    destination = _sandbox(request).streamer.destinations[stream_id]
    return web.json_response(destination.as_dict(recent=20))


async def delete_stream(request: web.Request) -> web.Response:
    """Delete a stream; what it held is gone."""
    await _sandbox(request).streamer.remove(_stream_id(request))
    return web.json_response(_overview(_sandbox(request)))


async def restart_stream(request: web.Request) -> web.Response:
    """Restart a stream: ACTIVE, no failures counted, held records go out."""
    destination = _sandbox(request).streamer.restart(_stream_id(request))
    return web.json_response(destination.as_dict())


async def flush_stream(request: web.Request) -> web.Response:
    """Send one batch now: deterministic, for tests."""
    sandbox = _sandbox(request)
    return web.json_response(await sandbox.streamer.send_once(_stream_id(request)))


async def get_settings(request: web.Request) -> web.Response:
    """Show how streams batch and retry, and the platform used."""
    return web.json_response(_sandbox(request).streamer.settings.as_dict())


async def patch_settings(request: web.Request) -> web.Response:
    """Change some settings; the rest stay."""
    settings = _sandbox(request).streamer.settings
    try:
        settings.update(await _object(request))
    except ValueError as err:
        return _problem(400, str(err))
    return web.json_response(settings.as_dict())


async def tick(request: web.Request) -> web.Response:
    """Give every online SIM a slice of data use now."""
    sandbox = _sandbox(request)
    return web.json_response({"usage_records": sandbox.activity.tick()})


async def inject(request: web.Request) -> web.Response:
    """Play a network event for a SIM (attach, detach, quota used up, ...)."""
    sandbox = _sandbox(request)
    body = await _object(request)
    iccid, event = body.get("iccid"), body.get("event")
    if not isinstance(iccid, str) or event not in INJECTABLE:
        return _problem(400, f"iccid and event ({', '.join(INJECTABLE)}) required")
    try:
        records = sandbox.activity.inject(
            iccid, str(event), str(body.get("service", "data"))
        )
    except UnknownSimError:
        return _problem(404, "no such SIM")
    except ValueError as err:
        return _problem(400, str(err))
    sim = sandbox.fleet[iccid]
    return web.json_response(
        {
            "records": records,
            "connectivity": sim.connectivity.value,
            "enabled": sim.enabled,
        },
        status=201,
    )


async def records(request: web.Request) -> web.Response:
    """List the latest records emitted, with their stream type and platform."""
    sandbox = _sandbox(request)
    try:
        recent = int(request.query.get("recent", "100"))
    except ValueError:
        return _problem(400, "recent must be a whole number")
    log = list(sandbox.activity.log)
    return web.json_response(log[-recent:] if recent > 0 else [])


def add_stream_routes(app: web.Application) -> None:
    """Register the streams' control API under `/_sandbox/streams`."""
    prefix = f"{CONTROL_PREFIX}/streams"
    one = f"{prefix}/{{stream_id:[0-9]+}}"
    app.router.add_get(prefix, list_streams)
    app.router.add_post(prefix, add_stream)
    app.router.add_get(f"{prefix}/settings", get_settings)
    app.router.add_patch(f"{prefix}/settings", patch_settings)
    app.router.add_post(f"{prefix}/tick", tick)
    app.router.add_post(f"{prefix}/inject", inject)
    app.router.add_get(f"{prefix}/records", records)
    app.router.add_get(one, get_stream)
    app.router.add_delete(one, delete_stream)
    app.router.add_post(f"{one}/restart", restart_stream)
    app.router.add_post(f"{one}/flush", flush_stream)
