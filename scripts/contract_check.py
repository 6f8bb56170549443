"""Check the 1NCE client against strict mocks of 1NCE's official API description.

Run it by hand (through `scripts/contract_check`) where the workplace's
`shared/` folder is next to the repository (or named by ONE_NCE_SHARED) and
Node.js with npm is installed. For v2 and then v1 it starts
`shared/tools/contract-mock VERSION PORT` (Prism; npm installs it into a cache
on first use), drives the real OneNceClient through every call the client makes
to that version, and prints one line per call:

  OK        the mock accepted every request of the call
  REFUSED   the mock refused a request as off 1NCE's description; Prism's reason
            follows
  OFF-SPEC  the mock let a request pass, but it carries a query parameter or body
            key that the description lacks (Prism ignores those; 1NCE may not)
  EXAMPLE   "contract accepted request; example response not parseable": the
            request was fine, but the client cannot read the example answer Prism
            made up (e.g. "string" where the live API sends digits), or Prism
            could not make a valid example from the description at all ("... not
            available"). Not a failure.
  ERROR     anything else (no answer, an unexpected exception)

Exit status: 0 when every call is OK or EXAMPLE, 1 when any is not, 2 when a
mock could not be started. The mock only proves the documented contract; the
live API's quirks (../1nce-api/README.md) are the unit tests' business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import functools
import importlib.machinery
import importlib.util
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from types import ModuleType, SimpleNamespace
from typing import IO, TYPE_CHECKING, Any

import aiohttp
from yarl import URL

if TYPE_CHECKING:
    from custom_components.one_nce.api import OneNceClient

REPO = Path(__file__).resolve().parent.parent


def load_client_package() -> ModuleType:
    """Import the client package on its own, as it would be published.

    Importing it through `custom_components.one_nce` would run the integration's
    `__init__` and with it Home Assistant; the package needs neither.
    """
    init = REPO / "custom_components" / "one_nce" / "api" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "one_nce_api", init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


API = load_client_package()
# An ICCID the description itself uses in its examples.
ICCID = "8988280666000000000"
SMS_ID = 123
START_TIMEOUT = float(os.environ.get("CONTRACT_MOCK_START_TIMEOUT", "600"))
FAILING = ("REFUSED", "OFF-SPEC", "ERROR")


@dataclass
class Exchange:
    """One HTTP request the client made and what came back, as seen on the wire."""

    method: str
    url: URL
    body: bytes = b""
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    response: bytes = b""
    error: str | None = None

    def summary(self) -> str:
        """Say what was asked and answered, in one short phrase."""
        target = self.url.path_qs
        answer = self.error or (str(self.status) if self.status else "no answer")
        return f"{self.method} {target} -> {answer}"


def shared_dir() -> Path:
    """Find the workplace's shared folder: ONE_NCE_SHARED, else ../shared."""
    configured = os.environ.get("ONE_NCE_SHARED")
    return Path(configured) if configured else REPO.parent / "shared"


def load_mock_tool(path: Path) -> ModuleType:
    """Import contract-mock itself, to check requests against the same document."""
    loader = importlib.machinery.SourceFileLoader("contract_mock", str(path))
    spec = importlib.util.spec_from_loader("contract_mock", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def free_port() -> int:
    """Ask the OS for a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MockServer:
    """contract-mock in its own process group, stopped (with Prism) on exit."""

    def __init__(self, tool: Path, version: str) -> None:
        """Remember what to start; nothing runs before `start`."""
        self.tool = tool
        self.version = version
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[str] | None = None

    def spawn(self) -> str:
        """Start the mock on a free port and return the base URL it will serve."""
        port = free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            "w+", prefix=f"contract-mock-{self.version}-", suffix=".log"
        )
        # The same interpreter runs the mock: it has PyYAML, which the mock needs.
        self.proc = subprocess.Popen(
            [sys.executable, str(self.tool), self.version, str(port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return f"http://127.0.0.1:{port}"

    async def wait_until_answering(self, url: str) -> None:
        """Return once the mock answers HTTP at all; fail if it dies or stalls."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"contract-mock {self.version} exited with status "
                        f"{self.proc.returncode}:\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"contract-mock {self.version} did not answer within "
                        f"{START_TIMEOUT:.0f} s:\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(
                        f"{url}/", timeout=aiohttp.ClientTimeout(total=2)
                    ):
                        return  # any HTTP answer: Prism is listening
                await asyncio.sleep(0.5)

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines the mock printed, for a message on failure."""
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-lines:])

    def stop(self) -> None:
        """Stop the process group this object started, and only that one."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not None:
            self.log.close()


def recorder(exchanges: list[Exchange]) -> aiohttp.TraceConfig:
    """Record every request the client's session makes, bodies included."""
    trace = aiohttp.TraceConfig()

    async def on_start(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        ctx.exchange = Exchange(params.method, params.url)
        exchanges.append(ctx.exchange)

    async def on_chunk_sent(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        ctx.exchange.body += params.chunk

    async def on_end(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        ctx.exchange.status = params.response.status
        ctx.exchange.headers = params.response.headers

    async def on_chunk_received(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceResponseChunkReceivedParams,
    ) -> None:
        ctx.exchange.response += params.chunk

    async def on_exception(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        ctx.exchange.error = f"{type(params.exception).__name__}: {params.exception}"

    trace.on_request_start.append(on_start)
    trace.on_request_chunk_sent.append(on_chunk_sent)
    trace.on_request_end.append(on_end)
    trace.on_response_chunk_received.append(on_chunk_received)
    trace.on_request_exception.append(on_exception)
    return trace


def _violation(item: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in item.get("location", []))
    return f"{where}: {item.get('message', item)}"


def _serves_json(doc: Mapping[str, Any], exchange: Exchange) -> bool:
    """Whether the description documents a JSON answer for this request."""
    found = _operation(doc, exchange.method, exchange.url.path)
    if found is None:
        return True
    responses = found[1].get("responses", {})
    return any(
        "json" in media
        for code, response in responses.items()
        if str(code).startswith("2")
        for media in _resolve(doc, response).get("content", {})
    )


def prism_verdict(doc: Mapping[str, Any], exchange: Exchange) -> tuple[str, str] | None:
    """Classify a Prism complaint: ("request", why) or ("mock", why); None if none.

    Where the description has its own 400 answer, Prism sends that example and
    lists its reasons in the `sl-violations` header; otherwise it makes up a
    problem+json answer: 422 (invalid request), 401, 404, 405, 406 for the
    request, 500 when it cannot build a valid example answer itself.
    """
    problem: Mapping[str, Any] = {}
    items: list[Mapping[str, Any]] = []
    if raw := exchange.headers.get("sl-violations"):
        with contextlib.suppress(ValueError):
            items = [item for item in json.loads(raw) if isinstance(item, dict)]
    if "problem+json" in exchange.headers.get("Content-Type", ""):
        with contextlib.suppress(ValueError):
            problem = json.loads(exchange.response)
            items += [i for i in problem.get("validation", []) if isinstance(i, dict)]
    if not items and not problem:
        return None
    on_request = [i for i in items if i.get("location", ["request"])[0] == "request"]
    title = f"{exchange.status} {problem.get('title', '')}".strip()
    if on_request:
        reasons = dict.fromkeys(map(_violation, on_request))
        return "request", f"{title}: " + "; ".join(reasons)
    reason = "; ".join(dict.fromkeys(map(_violation, items)))
    reason = reason or str(problem.get("detail", ""))
    mock_side = exchange.status is not None and exchange.status >= 500
    # A 406 only means "no JSON to give" where the description has none either
    # (v1's limits are documented as */*, which Prism cannot serve as JSON).
    if exchange.status == 406 and not _serves_json(doc, exchange):
        mock_side = True
        reason += " (the description documents no JSON answer here)"
    return ("mock" if mock_side else "request"), f"{title}: {reason}"


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    """Follow `$ref`s within the document to the node they name."""
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = doc
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operation(
    doc: Mapping[str, Any], method: str, path: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """Find the (path item, operation) of the description that `path` hits."""
    candidates = []
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            candidates.append((template.count("{"), template, item))
    if not candidates:
        return None
    _, _, item = min(candidates, key=lambda candidate: candidate[:2])
    return item, item[method.lower()]


def _extra_keys(
    doc: Mapping[str, Any], schema: Any, value: Any, prefix: str
) -> list[str]:
    schema = _resolve(doc, schema)
    if not isinstance(schema, Mapping) or not isinstance(value, Mapping):
        return []
    properties = schema.get("properties")
    if properties is None:
        return []
    extras = []
    for key, item in value.items():
        if key not in properties:
            extras.append(f"body key {prefix + key!r} is not in the description")
        else:
            extras.extend(_extra_keys(doc, properties[key], item, f"{prefix}{key}."))
    return extras


def off_spec(doc: Mapping[str, Any], exchange: Exchange) -> list[str]:
    """List what a request carries that the description does not know of."""
    found = _operation(doc, exchange.method, exchange.url.path)
    if found is None:
        return [f"{exchange.method} {exchange.url.path} is not in the description"]
    item, operation = found
    parameters = [
        _resolve(doc, parameter)
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]
    ]
    declared = {p["name"] for p in parameters if p.get("in") == "query"}
    extras = [
        f"query parameter {name!r} is not in the description"
        for name in exchange.url.query
        if name not in declared
    ]
    if exchange.body:
        content = _resolve(doc, operation.get("requestBody", {})).get("content", {})
        media: Mapping[str, Any] = content.get("application/json") or next(
            iter(content.values()), {}
        )
        with contextlib.suppress(ValueError):
            extras += _extra_keys(
                doc, media.get("schema"), json.loads(exchange.body), ""
            )
    return extras


@dataclass
class Verdict:
    """How one call fared against the mock."""

    outcome: str
    detail: str


async def judge(
    doc: Mapping[str, Any],
    exchanges: list[Exchange],
    call: Callable[[], Awaitable[object]],
) -> tuple[Verdict, list[Exchange]]:
    """Make one client call and classify what happened on the wire."""
    start = len(exchanges)
    error: Exception | None = None
    try:
        await call()
    except Exception as err:  # every failure is reported, not raised
        error = err
    mine = exchanges[start:]
    complaints = [v for exchange in mine if (v := prism_verdict(doc, exchange))]
    refusals = [why for kind, why in complaints if kind == "request"]
    if refusals:
        return Verdict("REFUSED", " | ".join(dict.fromkeys(refusals))), mine
    extras = [extra for exchange in mine for extra in off_spec(doc, exchange)]
    if extras:
        return Verdict("OFF-SPEC", "; ".join(extras)), mine
    if complaints:
        reasons = " | ".join(dict.fromkeys(why for _, why in complaints))
        return Verdict(
            "EXAMPLE",
            "contract accepted request; example response not available "
            f"(the mock could not make one): {reasons}",
        ), mine
    if error is None:
        return Verdict("OK", ""), mine
    if isinstance(error, API.OneNceResponseError):
        return Verdict(
            "EXAMPLE",
            f"contract accepted request; example response not parseable: {error}",
        ), mine
    return Verdict("ERROR", f"{type(error).__name__}: {error}"), mine


def v2_calls(client: OneNceClient) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """Every call the client makes to v2, in the order a user would meet them."""
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=12)
    return [
        ("token", client.async_authenticate),
        ("SIM page", lambda: client.async_get_sims_page(1)),
        ("all SIMs", client.async_get_sims),
        ("get SIM", lambda: client.async_get_sim(ICCID)),
        (
            "update SIM",
            lambda: client.async_update_sim(
                ICCID, enabled=True, label="contract check", imei_lock=False
            ),
        ),
        ("reset connectivity", lambda: client.async_reset_connection(ICCID)),
        ("SMS quota", lambda: client.async_get_sms_quota(ICCID)),
        ("data quota", lambda: client.async_get_data_quota(ICCID)),
        ("connectivity", lambda: client.async_get_connectivity(ICCID)),
        ("events", lambda: client.async_get_events(ICCID, page=1, page_size=20)),
        ("top-up", lambda: client.async_top_up(ICCID)),
        (
            "send SMS",
            lambda: client.async_send_sms(
                ICCID,
                "0048006900210020263A",
                dcs=8,
                udh="050003CC0201",
                source_address="1234567890",
                source_address_type=145,
                expiry_date=expiry,
            ),
        ),
        ("list SMS", lambda: client.async_list_sms(ICCID, page=1, per_page=100)),
        ("get SMS", lambda: client.async_get_sms(ICCID, SMS_ID)),
        ("cancel SMS", lambda: client.async_cancel_sms(ICCID, SMS_ID)),
    ]


def v1_calls(client: OneNceClient) -> list[tuple[str, Callable[[], Awaitable[object]]]]:
    """List the calls the client still makes to v1 (what v2 lacks)."""
    today = datetime.now(UTC).date()
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("token", client.async_authenticate),
        (
            "usage",
            lambda: client.async_get_usage(ICCID, today - timedelta(days=30), today),
        ),
        ("limits", client.async_get_limits),
    ]
    for service in API.LimitService:
        calls.append(
            (
                f"limit options {service.value}",
                functools.partial(client.async_get_limit_options, service),
            )
        )
    calls.append(
        (
            "set limits",
            lambda: client.async_set_limits(
                data_limit_id=1, sms_mt_limit_id=2, sms_mo_limit_id=3
            ),
        )
    )
    return calls


async def check_version(tool: ModuleType, tool_path: Path, version: str) -> int:
    """Run one version's calls against its mock; return how many failed."""
    doc = tool.merged(version)
    mock = MockServer(tool_path, version)
    print(f"== {version}: starting contract-mock (the first run installs Prism)")
    try:
        base_url = mock.spawn()
        await mock.wait_until_answering(base_url)
    except RuntimeError as err:
        mock.stop()
        raise SystemExit(f"contract_check: {err}") from None
    exchanges: list[Exchange] = []
    failures = 0
    try:
        async with aiohttp.ClientSession(
            trace_configs=[recorder(exchanges)]
        ) as session:
            client = API.OneNceClient(
                session,
                "contract-check",
                "not-a-secret",
                base_url=base_url,
                max_attempts=1,
                request_timeout=30,
            )
            calls = v2_calls(client) if version == "v2" else v1_calls(client)
            for name, call in calls:
                verdict, mine = await judge(doc, exchanges, call)
                wire = "; ".join(exchange.summary() for exchange in mine) or "-"
                line = f"{version}  {verdict.outcome:<8}  {name:<22} {wire}"
                print(f"{line}  {verdict.detail}" if verdict.detail else line)
                failures += verdict.outcome in FAILING
    finally:
        mock.stop()
    return failures


async def main(versions: list[str]) -> int:
    """Check each version in turn and say whether the client keeps the contract."""
    shared = shared_dir()
    tool_path = shared / "tools" / "contract-mock"
    if not tool_path.is_file():
        print(
            f"contract_check: no {tool_path}; put the workplace's shared/ folder "
            "next to the repository or set ONE_NCE_SHARED",
            file=sys.stderr,
        )
        return 2
    tool = load_mock_tool(tool_path)
    failures = 0
    for version in versions:
        failures += await check_version(tool, tool_path, version)
    print(
        f"== {failures} call(s) off 1NCE's description"
        if failures
        else "== every request kept 1NCE's documented contract"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["v2", "v1"]
    if any(version not in ("v1", "v2") for version in chosen):
        print("usage: scripts/contract_check [v2] [v1]", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(chosen)))
