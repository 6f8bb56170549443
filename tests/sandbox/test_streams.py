"""The sandbox's Data Streamer: streams, batches, retries, FAILED, shapes, records.

A small aiohttp receiver stands where Home Assistant's stream endpoint would.
The delivery loops are slowed to an hour, so each batch is sent by the
control API's `flush` (one attempt) and every test is deterministic; one test
lets the background loop run on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import sys
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.one_nce.api import ConnectivityStatus, OneNceClient
from sandbox.__main__ import _INJECTABLE
from sandbox.activity import INJECTABLE, SLICE_MIN_MIB
from sandbox.config import PlatformMode
from sandbox.streams import Shape, StreamType

from .conftest import Running, wait_until

GATE, LOW, EMPTY, DISABLED, OFFLINE, PLAIN = (
    f"8988228066{index:09d}" for index in range(1, 7)
)
AUTH = "dXNlcjpwYXNz"  # base64("user:pass"), as typed into the Portal
ROOT = Path(__file__).parents[2]

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


@dataclass
class StreamReceiver:
    """Records every POST; answers with `answers` in turn, then 200."""

    answers: list[int] = field(default_factory=list)
    posts: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    """(path, headers, raw body) of every request that arrived."""
    base: str = ""

    @property
    def url(self) -> str:
        """Where streams are pointed."""
        return f"{self.base}/api/one_nce/stream"

    def batches(self) -> list[list[dict[str, Any]]]:
        """The bodies of every POST to the stream path, parsed (ints stay exact)."""
        return [
            json.loads(body)
            for path, _, body in self.posts
            if path == "/api/one_nce/stream"
        ]


@pytest.fixture
async def stream_receiver(socket_enabled: None) -> AsyncGenerator[StreamReceiver]:
    """A stream endpoint on 127.0.0.1 (and a redirect target never to be hit)."""
    received = StreamReceiver()

    async def handle(request: web.Request) -> web.Response:
        received.posts.append(
            (request.path, dict(request.headers), (await request.read()).decode())
        )
        status = received.answers.pop(0) if received.answers else 200
        if 300 <= status < 400:
            return web.Response(status=status, headers={"Location": "/elsewhere"})
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/api/one_nce/stream", handle)
    app.router.add_route("*", "/elsewhere", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    received.base = str(server.make_url("")).rstrip("/")
    yield received
    await server.close()


async def _sandbox(start_sandbox: Start, platform: int = 1, **settings: Any) -> Running:
    """A sandbox whose streams send only when flushed (unless told otherwise)."""
    running: Running = await start_sandbox(platform=PlatformMode(str(platform)))
    running.state.streamer.settings.update(
        {"flush_interval": 3600, "retry_initial": 3600, **settings}
    )
    return running


async def _control(
    session: aiohttp.ClientSession,
    running: Running,
    method: str,
    path: str,
    body: Any = None,
    expect: int = 200,
) -> Any:
    async with session.request(
        method, f"{running.base}/_sandbox{path}", json=body
    ) as response:
        assert response.status == expect, await response.text()
        return await response.json()


async def _add(
    session: aiohttp.ClientSession,
    running: Running,
    kind: str,
    url: str,
    shape: str = "nested",
) -> int:
    stream = await _control(
        session,
        running,
        "POST",
        "/streams",
        {"type": kind, "url": url, "auth": AUTH, "shape": shape},
        expect=201,
    )
    assert stream["status"] == "ACTIVE"
    return int(stream["id"])


async def _flush(
    session: aiohttp.ClientSession, running: Running, stream_id: int
) -> dict[str, Any]:
    result: dict[str, Any] = await _control(
        session, running, "POST", f"/streams/{stream_id}/flush", {}
    )
    return result


async def _inject(
    session: aiohttp.ClientSession,
    running: Running,
    iccid: str,
    event: str,
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = await _control(
        session,
        running,
        "POST",
        "/streams/inject",
        {"iccid": iccid, "event": event, **extra},
        expect=201,
    )
    return result


async def test_stream_posts_a_json_array_with_the_basic_auth_header(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    await _inject(session, running, GATE, "location-update")
    await _inject(session, running, GATE, "attach")
    state = await _flush(session, running, stream_id)
    assert (state["remote_status"], state["records_acknowledged"]) == (200, 2)
    [(_, headers, body)] = stream_receiver.posts
    assert headers["Authorization"] == f"Basic {AUTH}"
    assert headers["Content-Type"] == "application/json"
    records = json.loads(body)
    assert [record["event_type"]["id"] for record in records] == [1, 2]
    assert {record["sim"]["iccid"] for record in records} == {GATE}


async def test_auth_typed_with_its_scheme_is_sent_once(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream = await _control(
        session,
        running,
        "POST",
        "/streams",
        {"type": "usage", "url": stream_receiver.url, "auth": f"Basic {AUTH}"},
        expect=201,
    )
    running.state.gateway.inject_mo(GATE, "Hi")
    await _flush(session, running, stream["id"])
    [(_, headers, _)] = stream_receiver.posts
    assert headers["Authorization"] == f"Basic {AUTH}"


async def test_full_batches_go_out_at_once_and_the_rest_on_flush(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox, batch_size=3)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    for _ in range(7):
        await _inject(session, running, PLAIN, "location-update")
    await wait_until(lambda: len(stream_receiver.posts) == 2)
    await _flush(session, running, stream_id)
    batches = stream_receiver.batches()
    assert [len(batch) for batch in batches] == [3, 3, 1]
    ids = [record["id"] for batch in batches for record in batch]
    assert ids == sorted(set(ids))
    state = await _control(session, running, "GET", f"/streams/{stream_id}")
    assert (state["batches_acknowledged"], state["queued"]) == (3, 0)


async def test_refused_batch_is_sent_again_with_the_same_ids(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    stream_receiver.answers = [500]
    await _inject(session, running, GATE, "location-update")
    failed = await _flush(session, running, stream_id)
    assert (failed["remote_status"], failed["failures"]) == (500, 1)
    assert failed["records_acknowledged"] == 0
    await _inject(session, running, GATE, "attach")  # waits behind the retry
    retried = await _flush(session, running, stream_id)
    assert (retried["remote_status"], retried["failures"]) == (200, 0)
    first, second = stream_receiver.batches()
    assert first == second
    assert retried["queued"] == 1


async def test_local_stream_hands_batches_to_a_coroutine_without_http(
    start_sandbox: Start,
) -> None:
    running = await _sandbox(start_sandbox)
    answers = [503, 200]
    bodies: list[str] = []

    async def deliver(body: str) -> int:
        bodies.append(body)
        if not answers:
            raise ConnectionResetError
        return answers.pop(0)

    stream = running.state.streamer.add(
        StreamType.EVENT, "local:bench", AUTH, Shape.NESTED, deliver=deliver
    )
    running.state.activity.inject(GATE, "location-update")
    failed = await running.state.streamer.send_once(stream.stream_id)
    assert (failed["remote_status"], failed["failures"]) == (503, 1)
    done = await running.state.streamer.send_once(stream.stream_id)
    assert (done["remote_status"], done["records_acknowledged"]) == (200, 1)
    first, second = (json.loads(body) for body in bodies)
    assert first == second
    assert [record["event_type"]["id"] for record in first] == [1]
    running.state.activity.inject(GATE, "attach")
    broken = await running.state.streamer.send_once(stream.stream_id)
    assert (broken["remote_status"], broken["last_error"]) == (
        None,
        "ConnectionResetError",
    )
    assert broken["failures"] == 1


async def test_only_200_acknowledges_and_a_redirect_is_not_followed(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    stream_receiver.answers = [204, 302]
    await _inject(session, running, GATE, "attach")
    assert (await _flush(session, running, stream_id))["remote_status"] == 204
    assert (await _flush(session, running, stream_id))["remote_status"] == 302
    state = await _flush(session, running, stream_id)
    assert (state["requests"], state["records_acknowledged"]) == (3, 1)
    assert [path for path, _, _ in stream_receiver.posts] == ["/api/one_nce/stream"] * 3


async def test_stream_fails_after_max_failures_and_a_restart_sends_what_it_held(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox, max_failures=3)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    stream_receiver.answers = [500, 503, 500]
    await _inject(session, running, GATE, "attach")
    for _ in range(3):
        state = await _flush(session, running, stream_id)
    assert (state["status"], state["remote_status"]) == ("FAILED", 500)
    await _inject(session, running, GATE, "location-update")
    state = await _flush(session, running, stream_id)
    assert (state["requests"], state["queued"]) == (3, 1)  # FAILED sends nothing
    restarted = await _control(
        session, running, "POST", f"/streams/{stream_id}/restart", {}
    )
    assert (restarted["status"], restarted["failures"]) == ("ACTIVE", 0)
    await _flush(session, running, stream_id)
    await _flush(session, running, stream_id)
    batches = stream_receiver.batches()
    assert batches[3] == batches[0]
    assert batches[4][0]["event_type"]["id"] == 1


async def test_unreachable_receiver_counts_as_a_failure(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running = await _sandbox(start_sandbox, max_failures=1)
    stream_id = await _add(session, running, "usage", "http://127.0.0.1:9/stream")
    running.state.gateway.inject_mo(GATE, "nobody listens")
    state = await _flush(session, running, stream_id)
    assert (state["status"], state["remote_status"]) == ("FAILED", None)
    assert state["last_error"] == "ClientConnectorError"


async def test_background_loop_batches_retries_and_gives_up(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(
        start_sandbox, flush_interval=0.05, retry_initial=0.01, max_failures=3
    )
    stream_id = await _add(session, running, "event", stream_receiver.url)
    await _inject(session, running, GATE, "attach")
    await wait_until(lambda: len(stream_receiver.posts) == 1)
    stream_receiver.answers = [500] * 10
    await _inject(session, running, GATE, "location-update")
    destination = running.state.streamer.destinations[stream_id]
    await wait_until(lambda: destination.status.value == "FAILED")
    later = stream_receiver.batches()[1:]
    assert len(later) == 3
    assert all(batch == later[0] for batch in later)


async def test_nested_and_flat_streams_carry_the_same_quota_event(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    nested_id = await _add(session, running, "event", stream_receiver.url)
    flat_id = await _add(session, running, "event", stream_receiver.url, "flat")
    await _inject(session, running, GATE, "quota-used-up")
    await _flush(session, running, nested_id)
    await _flush(session, running, flat_id)
    [[nested], [flat]] = stream_receiver.batches()
    assert nested["id"] == flat["id"]
    assert (nested["event_type"]["id"], flat["event_type_id"]) == (19, 19)
    assert nested["event_type"]["description"] == flat["event_type_description"]
    assert nested["sim"]["iccid"] == flat["sim_iccid"] == flat["endpoint_name"] == GATE
    assert nested["detail"]["quota"]["volume"] == flat["detail_quota_volume"] == 0
    assert flat["detail_quota_service"] == "data"
    assert flat["imsi"] == nested["imsi"]["imsi"]
    assert not any(isinstance(value, dict) for value in flat.values())
    assert running.state.fleet[GATE].data_volume == 0


def _names(value: Any) -> set[str]:
    """Every `name`/`description` key inside the id objects of a record."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _names(item)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and key in (
                "event_type",
                "event_severity",
                "event_source",
                "traffic_type",
                "organisation",
                "operator",
                "country",
                "tariff",
                "ratezone",
            ):
                found |= {f"{key}.{name}" for name in ("name", "description")} & {
                    f"{key}.{name}" for name in item
                }
            found |= _names(item)
    return found


@pytest.mark.parametrize("platform", [1, 2])
async def test_platform_1_streams_carry_names_platform_2_ids_only(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
    platform: int,
) -> None:
    running = await _sandbox(start_sandbox, platform=platform)
    usage_id = await _add(session, running, "usage", stream_receiver.url)
    event_id = await _add(session, running, "event", stream_receiver.url)
    await _control(session, running, "POST", "/streams/tick", {})
    await _inject(session, running, GATE, "pdp-create")
    await _flush(session, running, usage_id)
    await _flush(session, running, event_id)
    usage, events = stream_receiver.batches()
    data = next(record for record in usage if record["sim"]["iccid"] == GATE)
    pdp = events[-1]
    if platform == 1:
        assert data["operator"]["name"] == "Telekom"
        assert data["traffic_type"] == {"id": 5, "description": "Data"}
        assert data["currency"]["code"] == "EUR"
        assert pdp["event_type"]["description"] == "Create PDP Context"
        assert "detail" not in data
    else:
        assert _names(usage) == _names(events) == set()
        assert data["traffic_type"] == {"id": 5}
        assert data["operator"]["id"] == 2
        assert "currency" not in data
        assert data["detail"]["pdp_context"]["rat_type"] == 6
        session_id = data["detail"]["pdp_context"]["ipcan_session_id"]
        assert len(session_id) == 36
        assert pdp["event_type"] == {"id": 3}


async def test_sms_usage_records_match_the_sms_the_sandbox_carried(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    make_client: MakeClient,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "usage", stream_receiver.url)
    mo = await _control(
        session,
        running,
        "POST",
        "/mo",
        {"iccid": PLAIN, "text": "Tank level low. " * 12},
        expect=201,
    )
    client = make_client(running)
    await client.async_send_sms(GATE, "Gate: open", dcs=0)
    await client.async_send_sms(EMPTY, "refused: no SMS left")  # no record
    await _flush(session, running, stream_id)
    [records] = stream_receiver.batches()
    sms = [record for record in records if record["traffic_type"]["id"] == 6]
    assert len(sms) == len(records) == mo["parts"] + 1
    by_sim = {
        iccid: [
            (record["volume"]["tx"], record["volume"]["rx"])
            for record in sms
            if record["sim"]["iccid"] == iccid
        ]
        for iccid in (PLAIN, GATE)
    }
    assert by_sim == {PLAIN: [(1, 0)] * mo["parts"], GATE: [(0, 1)]}
    fleet = running.state.fleet
    assert fleet[PLAIN].sms_volume == 250 - mo["parts"]
    assert fleet[GATE].sms_volume == 230


async def test_data_usage_records_add_up_to_what_the_sims_used(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox, platform=2)
    stream_id = await _add(session, running, "usage", stream_receiver.url)
    fleet = running.state.fleet
    before = {iccid: sim.data_volume for iccid, sim in fleet.items()}
    for _ in range(4):
        await _control(session, running, "POST", "/streams/tick", {})
    await _inject(session, running, GATE, "detach")  # closes GATE's session
    await _flush(session, running, stream_id)
    [records] = stream_receiver.batches()
    streamed: dict[str, float] = {}
    for record in records:
        assert record["traffic_type"]["id"] == 5
        assert record["start_timestamp"] <= record["end_timestamp"]
        volume = record["volume"]
        assert volume["total"] == pytest.approx(volume["tx"] + volume["rx"])
        iccid = record["sim"]["iccid"]
        streamed[iccid] = streamed.get(iccid, 0.0) + volume["total"]
    used = {
        iccid: before[iccid] - sim.data_volume
        for iccid, sim in fleet.items()
        if before[iccid] != sim.data_volume
    }
    assert set(streamed) == set(used) == {GATE, EMPTY, PLAIN}  # the online SIMs
    assert streamed[GATE] == pytest.approx(used[GATE], abs=1e-5)  # closed: all
    for iccid in (EMPTY, PLAIN):  # open: all but what is under 100 kB
        assert -1e-6 <= used[iccid] - streamed[iccid] <= SLICE_MIN_MIB
    assert all(
        record["volume"]["total"] > SLICE_MIN_MIB
        for record in records
        if record["sim"]["iccid"] != GATE
    )


async def test_quota_threshold_and_used_up_events_follow_the_data_use(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    sim = running.state.fleet[GATE]
    sim.data_volume = 100.01  # just above 20 % of 500 MB
    await _control(session, running, "POST", "/streams/tick", {})
    sim.data_volume = 0.01
    await _control(session, running, "POST", "/streams/tick", {})
    await _control(session, running, "POST", "/streams/tick", {})  # nothing left
    await _flush(session, running, stream_id)
    [events] = stream_receiver.batches()
    gate = [event for event in events if event["sim"]["iccid"] == GATE]
    assert [event["event_type"]["id"] for event in gate] == [18, 19]
    threshold, used_up = (event["detail"]["quota"] for event in gate)
    assert threshold["volume"] < threshold["threshold_volume"] == 100
    assert (used_up["volume"], used_up["service"]) == (0, "data")
    assert sim.data_volume == 0


async def test_last_sms_sent_streams_sms_quota_used_up(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    running.state.fleet[LOW].sms_volume = 1
    running.state.gateway.inject_mo(LOW, "last one")
    await _flush(session, running, stream_id)
    [[event]] = stream_receiver.batches()
    assert event["event_type"]["id"] == 21
    assert event["detail"]["quota"]["service"] == "sms"
    assert event["detail"]["quota"]["volume"] == 0


async def test_platform_2_event_stream_carries_mo_sms_and_delivery_reports(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    make_client: MakeClient,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox, platform=2)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    flat_id = await _add(session, running, "event", stream_receiver.url, "flat")
    client = make_client(running)
    created = await client.async_send_sms(GATE, "Gate: open", dcs=0)
    [sent] = running.state.gateway.inject_mo(PLAIN, "Hello")
    emitted = running.state.activity.emitted
    await wait_until(lambda: emitted["event"] == 2)
    await _flush(session, running, stream_id)
    await _flush(session, running, flat_id)
    records, in_flat_stream = stream_receiver.batches()
    assert in_flat_stream == records  # documented nested only: never flattened
    mo = next(record for record in records if "payload" in record)
    report = next(record for record in records if "final_date" in record)
    assert mo["payload"] == "Hello"
    assert mo["id"] == sent.sms_id  # as the forwarder sends it: one message
    assert (mo["dest_address"], mo["dcs"], mo["pid"]) == ("12345", 0, 0)
    assert mo["source_address"] == running.state.fleet[PLAIN].msisdn
    assert mo["endpoint"]["name"] == PLAIN
    assert set(mo["organisation"]) == {"id"}
    assert report["detail"] == {"sms": {"id": str(created.sms_id)}}
    assert report["status"] == {"status": "DELIVERED", "id": 4}
    assert report["endpoint"]["name"] == GATE
    assert report["final_date"].endswith("Z")
    assert report["id"] != int(created.sms_id)


async def test_platform_1_event_stream_has_no_sms_events(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    make_client: MakeClient,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox, platform=1)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    await make_client(running).async_send_sms(GATE, "Gate: open", dcs=0)
    running.state.gateway.inject_mo(PLAIN, "Hello")
    history = running.state.forwarder.history
    await wait_until(lambda: any(push.method == "PATCH" for push in history))
    state = await _flush(session, running, stream_id)
    assert state["requests"] == 0
    assert running.state.activity.emitted["event"] == 0


async def test_ids_are_exact_64_bit_integers_unique_across_streams(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    usage_id = await _add(session, running, "usage", stream_receiver.url)
    event_id = await _add(session, running, "event", stream_receiver.url)
    running.state.gateway.inject_mo(GATE, "Hi")
    await _control(session, running, "POST", "/streams/tick", {})
    await _inject(session, running, GATE, "detach")
    await _flush(session, running, usage_id)
    await _flush(session, running, event_id)
    ids = [record["id"] for batch in stream_receiver.batches() for record in batch]
    # SMS usage, 3 online SIMs' slices (GATE's at its session's close), the event
    assert len(ids) == len(set(ids)) >= 3
    assert all(isinstance(value, int) and 2**53 < value < 2**63 for value in ids)
    raw = "".join(body for _, _, body in stream_receiver.posts)
    assert all(f'"id": {value}' in raw for value in ids)  # integers, not floats


async def test_detach_and_pdp_create_change_what_the_api_reports(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    make_client: MakeClient,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    client = make_client(running)
    detached = await _inject(session, running, GATE, "detach")
    assert detached["connectivity"] == "ATTACHED"
    status = (await client.async_get_connectivity(GATE)).status
    assert status is ConnectivityStatus.ATTACHED
    attached = await _inject(session, running, OFFLINE, "attach")
    assert attached["connectivity"] == "ATTACHED"
    await _inject(session, running, GATE, "pdp-create")
    status = (await client.async_get_connectivity(GATE)).status
    assert status is ConnectivityStatus.ONLINE
    await _flush(session, running, stream_id)
    [events] = stream_receiver.batches()
    assert [(event["sim"]["iccid"], event["event_type"]["id"]) for event in events] == [
        (GATE, 5),
        (OFFLINE, 2),
        (GATE, 3),
    ]
    assert events[0]["detail"]["pdp_context"]["apn"] == "iot.1nce.net"


async def test_enabling_and_disabling_a_sim_through_the_api_streams_events(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    make_client: MakeClient,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream_id = await _add(session, running, "event", stream_receiver.url)
    client = make_client(running)
    await client.async_update_sim(GATE, enabled=False, label="Gate", imei_lock=False)
    await client.async_update_sim(GATE, enabled=False, label="Gate 2", imei_lock=False)
    await client.async_update_sim(GATE, enabled=True, label="Gate", imei_lock=False)
    await _flush(session, running, stream_id)
    [events] = stream_receiver.batches()
    assert [event["event_type"]["id"] for event in events] == [9, 8]
    assert [event["event_type"]["description"] for event in events] == [
        "SIM suspension",
        "SIM activation",
    ]


async def test_deleted_stream_gets_nothing_and_reset_keeps_streams(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    kept = await _add(session, running, "event", stream_receiver.url)
    gone = await _add(session, running, "event", stream_receiver.url)
    await _control(session, running, "DELETE", f"/streams/{gone}")
    await _control(session, running, "POST", f"/streams/{gone}/flush", {}, 404)
    await _inject(session, running, GATE, "attach")
    await _control(session, running, "POST", "/reset", {})
    overview = await _control(session, running, "GET", "/streams")
    assert [stream["id"] for stream in overview["streams"]] == [kept]
    summary = await _control(session, running, "GET", "")
    assert [stream["id"] for stream in summary["streams"]] == [kept]
    assert overview["streams"][0]["queued"] == 0
    await _inject(session, running, GATE, "location-update")
    await _flush(session, running, kept)
    [[event]] = stream_receiver.batches()
    assert event["event_type"]["id"] == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/streams", {"type": "both", "url": "https://x.example", "auth": AUTH}),
        ("/streams", {"type": "usage", "url": "ftp://x.example", "auth": AUTH}),
        ("/streams", {"type": "usage", "url": "https://x.example"}),
        ("/streams", {"type": "usage", "url": "https://x.example", "auth": "Basic "}),
        ("/streams", {"type": "usage", "url": "https://x", "auth": AUTH, "shape": "x"}),
        ("/streams/inject", {"iccid": GATE, "event": "explode"}),
        ("/streams/inject", {"iccid": GATE, "event": "attach", "service": "voice"}),
    ],
)
async def test_bad_stream_requests_are_refused(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    path: str,
    body: dict[str, Any],
) -> None:
    running = await _sandbox(start_sandbox)
    await _control(session, running, "POST", path, body, expect=400)


async def test_bad_settings_and_unknown_sims_are_refused(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running = await _sandbox(start_sandbox)
    for bad in (
        {"batch_size": 3001},
        {"platform": 3},
        {"max_failures": 0},
        {"flush_interval": "soon"},
        {"retries": 2},
        {"batch_size": 1.5},
    ):
        await _control(session, running, "PATCH", "/streams/settings", bad, 400)
    changed = await _control(
        session, running, "PATCH", "/streams/settings", {"batch_size": 10}
    )
    assert changed["batch_size"] == 10
    body = {"iccid": "8988228066999999999", "event": "attach"}
    await _control(session, running, "POST", "/streams/inject", body, 404)


async def test_quota_and_sim_injections_change_the_sim(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running = await _sandbox(start_sandbox)
    sim = running.state.fleet[GATE]
    made = await _inject(session, running, GATE, "quota-threshold", service="sms")
    assert made["records"][0]["event_type"]["id"] == 20
    assert sim.sms_volume == 25
    await _inject(session, running, GATE, "quota-threshold")
    assert sim.data_volume == pytest.approx(50)
    assert (await _inject(session, running, GATE, "sim-disabled"))["enabled"] is False
    assert (await _inject(session, running, GATE, "sim-enabled"))["enabled"] is True
    logged = await _control(session, running, "GET", "/streams/records?recent=4")
    assert [entry["record"]["event_type"]["id"] for entry in logged] == [20, 18, 9, 8]


def test_cli_offers_every_injectable_event() -> None:
    assert _INJECTABLE == INJECTABLE


async def _cli(running: Running, *args: str) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        *args,
        "--url",
        running.base,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    return json.loads(output)


async def test_cli_adds_a_stream_and_injects_attach_and_detach(
    start_sandbox: Start,
    session: aiohttp.ClientSession,
    stream_receiver: StreamReceiver,
) -> None:
    running = await _sandbox(start_sandbox)
    stream = await _cli(
        running, "streams", "add", "event", stream_receiver.url, AUTH, "--shape", "flat"
    )
    assert (stream["type"], stream["shape"]) == ("event", "flat")
    attached = await _cli(running, "inject", "attach", OFFLINE)
    assert attached["connectivity"] == "ATTACHED"
    detached = await _cli(running, "inject", "detach", GATE)
    assert detached["connectivity"] == "ATTACHED"
    flushed = await _cli(running, "streams", "flush", str(stream["id"]))
    assert flushed["records_acknowledged"] == 2
    [events] = stream_receiver.batches()
    assert [(event["sim_iccid"], event["event_type_id"]) for event in events] == [
        (OFFLINE, 2),
        (GATE, 5),
    ]
    listed = await _cli(running, "streams")
    assert listed["streams"][0]["records_acknowledged"] == 2
