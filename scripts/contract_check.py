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
  KNOWN     the only thing off the description is a documented difference of the
            live API (KNOWN_DIFFERENCES: where 1NCE documents or answers more
            than its OpenAPI description says); printed with its source. Not
            a failure; anything else off the description still is.
  EXAMPLE   "contract accepted request; example response not parseable": the
            request was fine, but the client cannot read the example answer Prism
            made up (e.g. "string" where the live API sends digits), or Prism
            could not make a valid example from the description at all ("... not
            available"). Not a failure.
  ERROR     anything else (no answer, an unexpected exception)

Exit status: 0 when every call is OK, KNOWN or EXAMPLE, 1 when any is not, 2 when a
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
SMS = importlib.import_module(f"{API.__name__}.sms")
# An ICCID the description itself uses in its examples.
ICCID = "8988280666000000000"
SMS_ID = 123
START_TIMEOUT = float(os.environ.get("CONTRACT_MOCK_START_TIMEOUT", "600"))
FAILING = ("REFUSED", "OFF-SPEC", "ERROR")
# What the SMS checks send, cut exactly as the integration cuts a message
# (custom_components/one_nce/sending.py: split_message with encoding AUTO, a
# random reference, then one POST per part with that part's dcs and udh).
UCS2_MESSAGE = "Heizung: 21 °C ✓ - alles gut 🙂"
LONG_GSM_MESSAGE = (
    "Boiler room report: pressure 1.8 bar, flow 62 C, return 48 C, burner "
    "starts today 14, hours 3.2, fault history empty, next service due in 41 "
    "days. Reply STATUS for the full log or RESET to clear the counters."
)
SMS_REFERENCE = 0x2A


@dataclass(frozen=True)
class KnownDifference:
    """A request the description lacks but the live API documents or needs."""

    version: str
    method: str
    path: str  # a regular expression over the request's path
    query: Mapping[str, str]  # names and exact values that are known
    source: str

    def covers(self, version: str, exchange: Exchange, name: str) -> bool:
        """Whether this difference explains query parameter `name` of `exchange`."""
        return (
            version == self.version
            and exchange.method.upper() == self.method
            and re.fullmatch(self.path, exchange.url.path) is not None
            and name in self.query
            and exchange.url.query.get(name) == self.query[name]
        )


KNOWN_DIFFERENCES = (
    KnownDifference(
        version="v2",
        method="GET",
        path=r"/v2/sims/\d+/events",
        query={"sort": "-timestamp"},
        source=(
            "1nce-api/README.md, SIMs: the live API documents "
            "GET .../events?page&pageSize&sort=-timestamp; the v2 OpenAPI "
            "description lacks `sort`"
        ),
    ),
)


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


def off_spec(
    doc: Mapping[str, Any], exchange: Exchange, version: str
) -> tuple[list[str], list[str]]:
    """List what a request carries that the description does not know of.

    Returns the extras that fail the check, and apart from them those that
    KNOWN_DIFFERENCES explains (each with its source).
    """
    found = _operation(doc, exchange.method, exchange.url.path)
    if found is None:
        return [f"{exchange.method} {exchange.url.path} is not in the description"], []
    item, operation = found
    parameters = [
        _resolve(doc, parameter)
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]
    ]
    declared = {p["name"] for p in parameters if p.get("in") == "query"}
    extras: list[str] = []
    known: list[str] = []
    for name in exchange.url.query:
        if name in declared:
            continue
        sent = f"query parameter {name}={exchange.url.query[name]!r}"
        explained = [
            difference.source
            for difference in KNOWN_DIFFERENCES
            if difference.covers(version, exchange, name)
        ]
        if explained:
            known.append(f"{sent} ({explained[0]})")
        else:
            extras.append(f"{sent} is not in the description")
    if exchange.body:
        content = _resolve(doc, operation.get("requestBody", {})).get("content", {})
        media: Mapping[str, Any] = content.get("application/json") or next(
            iter(content.values()), {}
        )
        with contextlib.suppress(ValueError):
            extras += _extra_keys(
                doc, media.get("schema"), json.loads(exchange.body), ""
            )
    return extras, known


@dataclass
class Verdict:
    """How one call fared against the mock."""

    outcome: str
    detail: str


async def judge(
    doc: Mapping[str, Any],
    exchanges: list[Exchange],
    call: Callable[[], Awaitable[object]],
    version: str,
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
    extras: list[str] = []
    known: list[str] = []
    for exchange in mine:
        failing, explained = off_spec(doc, exchange, version)
        extras += failing
        known += explained
    if extras:
        return Verdict("OFF-SPEC", "; ".join(extras)), mine
    verdict = _answer_verdict(complaints, error)
    if known and verdict.outcome in ("OK", "EXAMPLE"):
        detail = "documented live-API difference: " + "; ".join(dict.fromkeys(known))
        if verdict.detail:
            detail += f" | {verdict.detail}"
        return Verdict("KNOWN", detail), mine
    return verdict, mine


def _answer_verdict(
    complaints: list[tuple[str, str]], error: Exception | None
) -> Verdict:
    """Classify a call whose requests kept the description: by its answer."""
    if complaints:
        reasons = " | ".join(dict.fromkeys(why for _, why in complaints))
        return Verdict(
            "EXAMPLE",
            "contract accepted request; example response not available "
            f"(the mock could not make one): {reasons}",
        )
    if error is None:
        return Verdict("OK", "")
    if isinstance(error, API.OneNceResponseError):
        return Verdict(
            "EXAMPLE",
            f"contract accepted request; example response not parseable: {error}",
        )
    return Verdict("ERROR", f"{type(error).__name__}: {error}")


async def send_as_the_integration_does(
    client: OneNceClient,
    message: str,
    *,
    expected_dcs: int,
    expected_parts: int,
    **sender: Any,
) -> list[object]:
    """Cut `message` as sending.py does and POST each part as it does.

    Fails (ERROR) if the cut is not the one this check means to exercise, so
    that a change in sms.py cannot silently turn it into another check.
    """
    parts = SMS.split_message(
        message,
        encoding=SMS.Encoding.AUTO,
        reference=SMS_REFERENCE,
        max_parts=255,
    )
    shape = (parts[0].dcs, len(parts))
    if shape != (expected_dcs, expected_parts):
        raise AssertionError(
            f"split_message cut this into {len(parts)} part(s) with dcs "
            f"{parts[0].dcs}, not {expected_parts} with dcs {expected_dcs}"
        )
    return [
        await client.async_send_sms(
            ICCID, part.payload, dcs=part.dcs, udh=part.udh, **sender
        )
        for part in parts
    ]


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
            # Text with dcs 8 (1NCE encodes it), sender and expiry as a user
            # may set them on the send_sms action.
            "send SMS UCS-2",
            lambda: send_as_the_integration_does(
                client,
                UCS2_MESSAGE,
                expected_dcs=8,
                expected_parts=1,
                source_address="1234567890",
                source_address_type=145,
                expiry_date=expiry,
            ),
        ),
        (
            # Two POSTs, dcs 0, each with the concatenation UDH 050003 ref 02 nn.
            "send SMS GSM 2 parts",
            lambda: send_as_the_integration_does(
                client, LONG_GSM_MESSAGE, expected_dcs=0, expected_parts=2
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


async def check_version(
    tool: ModuleType, tool_path: Path, version: str
) -> tuple[int, int]:
    """Run one version's calls against its mock; return (failed, known)."""
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
    failures = known = 0
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
                verdict, mine = await judge(doc, exchanges, call, version)
                wire = "; ".join(exchange.summary() for exchange in mine) or "-"
                line = f"{version}  {verdict.outcome:<8}  {name:<22} {wire}"
                print(f"{line}  {verdict.detail}" if verdict.detail else line)
                failures += verdict.outcome in FAILING
                known += verdict.outcome == "KNOWN"
    finally:
        mock.stop()
    return failures, known


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
    failures = known = 0
    for version in versions:
        failed, explained = await check_version(tool, tool_path, version)
        failures += failed
        known += explained
    print(
        f"== {failures} call(s) off 1NCE's description"
        if failures
        else "== every request kept 1NCE's documented contract"
    )
    if known:
        print(
            f"== {known} call(s) off the OpenAPI description only where the live "
            "API documents more (KNOWN above; not failures)"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["v2", "v1"]
    if any(version not in ("v1", "v2") for version in chosen):
        print("usage: scripts/contract_check [v2] [v1]", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(chosen)))
