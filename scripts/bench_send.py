"""Send path: requests per `one_nce.send_sms`, and its latency over a bare POST.

Run it through `scripts/bench` (section `send`) or as `python scripts/bench_send.py`
in the test venv. Against the sandbox (harness of `bench_api.py`: Home
Assistant in this process, real time, the integration's real rate limiter):

1. counts, from the sandbox's request counters, the requests one action call
   costs: one single-part SMS with the token already held (fresh), the same
   after the token was dropped (the client must fetch one first), and a
   two-part SMS;
2. times N action calls (`hass.services.async_call(..., blocking=True)`: schema,
   SIM lookup, split, the request, the delivery tracker's record) against N
   bare aiohttp POSTs of the same body to the same sandbox endpoint with a
   bearer token, alternating one of each, paced under the 10/s limit so that
   neither waits for the limiter; prints p50/p90 of both and the overhead.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
import statistics
import sys
import time

import aiohttp
from bench_api import Bench, bench_home

from custom_components.one_nce.const import DOMAIN
from sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ICCID = "8988228066000000001"  # the sandbox's Garden gate: online, delivers
SHORT = "Wake up"
LONG = "Wake up and report " * 10  # 190 characters: two GSM-7 parts
PACE = 0.125  # seconds between calls: 8/s, under the limiter's 10/s


def requests_now(bench: Bench) -> int:
    """Count the requests the sandbox has seen so far."""
    return sum(bench.sandbox.requests.values())


async def send(bench: Bench, message: str) -> None:
    """Call the action as an automation would."""
    await bench.hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"iccid": ICCID, "message": message},
        blocking=True,
        return_response=True,
    )


async def cost(bench: Bench, message: str, *, drop_token: bool = False) -> int:
    """Count the requests one action call costs."""
    if drop_token:
        bench.entry.runtime_data.client._token = None
    before = requests_now(bench)
    await send(bench, message)
    return requests_now(bench) - before


async def bare_token(session: aiohttp.ClientSession, api_url: str) -> str:
    """Fetch a bearer token as any HTTP client would."""
    async with session.post(
        f"{api_url}/oauth/token",
        json={"grant_type": "client_credentials"},
        auth=aiohttp.BasicAuth(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    ) as response:
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
        return token


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    """Time one call, in milliseconds."""
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(argv: Sequence[str] | None = None) -> int:
    """Count, time, print; non-zero exit if a fresh single part costs more than 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=80, help="calls of each kind")
    args = parser.parse_args(argv)
    print("Send path against the sandbox (real time, real rate limiter)")
    async with bench_home(6, simulated_time=False) as bench:
        await send(bench, SHORT)  # warm up: the first call imports and caches
        await asyncio.sleep(1.1)
        fresh = await cost(bench, SHORT)
        await asyncio.sleep(1.1)
        cold = await cost(bench, SHORT, drop_token=True)
        await asyncio.sleep(1.1)
        two_parts = await cost(bench, LONG)
        print(f"  requests per send_sms, one part, token held: {fresh}")
        print(f"  requests per send_sms, one part, no token yet: {cold}")
        print(f"  requests per send_sms, two parts, token held: {two_parts}")

        api_url = str(bench.entry.data["api_url"])
        url = f"{api_url}/v2/sims/{ICCID}/sms"
        async with aiohttp.ClientSession() as session:
            token = await bare_token(session, api_url)
            headers = {"Authorization": f"Bearer {token}"}

            async def bare() -> None:
                async with session.post(
                    url, json={"payload": SHORT}, headers=headers
                ) as response:
                    await response.read()
                    assert response.status == 201, response.status

            async def action() -> None:
                await send(bench, SHORT)

            await bare()
            await asyncio.sleep(1.1)
            ours: list[float] = []
            plain: list[float] = []
            for _ in range(args.n):
                ours.append(await timed(action))
                await asyncio.sleep(PACE)
                plain.append(await timed(bare))
                await asyncio.sleep(PACE)
    for name, values in (("send_sms action", ours), ("bare aiohttp POST", plain)):
        print(
            f"  {name:<18} n={len(values)}  p50 {percentile(values, 0.5):.2f} ms  "
            f"p90 {percentile(values, 0.9):.2f} ms  mean {statistics.fmean(values):.2f} ms"
        )
    overhead = percentile(ours, 0.5) - percentile(plain, 0.5)
    print(
        f"  overhead of the action over a bare POST: {overhead:.2f} ms at p50 "
        f"({percentile(ours, 0.5) / percentile(plain, 0.5):.1f}x)"
    )
    print("  (client, Home Assistant and sandbox share this process and its loop)")
    return 0 if fresh == 1 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
