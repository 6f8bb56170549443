"""`python -m sandbox`: serve a local 1NCE, or poke a running one.

    python -m sandbox [serve] [--port 8765] [--sims 6] [--delivery-delay 2]
                      [--platform 2|1|hybrid] [--forwarder-url URL]
                      [--client-id ID] [--client-secret S]
    python -m sandbox send-mo ICCID "text" [--encoding auto|gsm7|ucs2]
    python -m sandbox set-forwarder URL
    python -m sandbox faults key=value ...      (e.g. error_rate=0.2 latency=0.5)
    python -m sandbox status
    python -m sandbox inject attach|detach|quota-used-up|... ICCID [--service sms]
    python -m sandbox streams [add usage|event URL AUTH [--shape flat] |
                               restart ID | delete ID | flush ID | tick |
                               set key=value ...]

The poking commands talk to the control API of the sandbox at `--sandbox`
(default `$ONE_NCE_SANDBOX_URL` or http://127.0.0.1:8765) with the standard
library only, so they work from any Python.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any
import urllib.error
import urllib.request

from .config import (
    CONTROL_PREFIX,
    DEFAULT_HOST,
    DEFAULT_PLATFORM,
    DEFAULT_PORT,
    PlatformMode,
    SandboxConfig,
)

_COMMANDS = (
    "serve",
    "send-mo",
    "set-forwarder",
    "faults",
    "status",
    "inject",
    "streams",
)
_INJECTABLE = (
    "attach",
    "location-update",
    "pdp-create",
    "detach",
    "quota-threshold",
    "quota-used-up",
    "sim-enabled",
    "sim-disabled",
)


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    """One request to a running sandbox's control API; exits on failure."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base.rstrip('/')}{CONTROL_PREFIX}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        sys.exit(f"sandbox: {method} {path}: HTTP {err.code} {err.read().decode()}")
    except OSError as err:
        sys.exit(f"sandbox: cannot reach {base}: {err}")


def _fault_value(text: str) -> Any:
    """Read `true`, `0.5`, `3` as JSON: fault values typed on a command line."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_url = os.environ.get(
        "ONE_NCE_SANDBOX_URL", f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    )
    parser.add_argument("--sandbox", default=default_url, help="running sandbox's URL")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the sandbox (the default)")
    defaults = SandboxConfig()
    serve.add_argument("--host", default=defaults.host)
    serve.add_argument("--port", type=int, default=defaults.port)
    serve.add_argument("--sims", type=int, default=defaults.sims)
    serve.add_argument(
        "--platform",
        type=PlatformMode,
        default=DEFAULT_PLATFORM,
        choices=list(PlatformMode),
        help="1NCE platform of the SIMs: 2 (default), 1, or hybrid "
        "(first half 1.0, the rest 2.0)",
    )
    serve.add_argument("--seed", type=int, default=defaults.seed)
    serve.add_argument("--client-id", default=defaults.client_id)
    serve.add_argument("--client-secret", default=defaults.client_secret)
    serve.add_argument("--delivery-delay", type=float, default=defaults.delivery_delay)
    serve.add_argument("--forwarder-url", default=None)
    serve.add_argument("--retry-initial", type=float, default=defaults.retry_initial)
    serve.add_argument("--rate-limit", type=int, default=defaults.faults.rate_limit)
    serve.add_argument("--verbose", action="store_true")

    send_mo = commands.add_parser("send-mo", help="make a SIM send an SMS")
    send_mo.add_argument("iccid")
    send_mo.add_argument("text")
    send_mo.add_argument("--encoding", default="auto", choices=["auto", "gsm7", "ucs2"])
    send_mo.add_argument("--source-address")

    forwarder = commands.add_parser("set-forwarder", help="where to push SMS")
    forwarder.add_argument("url", help="URL, or 'none' to hold pushes")

    faults = commands.add_parser("faults", help="show or change faults")
    faults.add_argument("changes", nargs="*", metavar="key=value")

    commands.add_parser("status", help="summary of a running sandbox")

    inject = commands.add_parser("inject", help="a network event for a SIM (streams)")
    inject.add_argument("event", choices=_INJECTABLE)
    inject.add_argument("iccid")
    inject.add_argument("--service", default="data", choices=["data", "sms"])
    inject.add_argument("--url", help="running sandbox's URL (as --sandbox)")

    streams = commands.add_parser("streams", help="Data Streamer destinations")
    streams.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=["list", "add", "restart", "delete", "flush", "tick", "set"],
    )
    streams.add_argument("args", nargs="*", help="add: TYPE URL AUTH; set: k=v")
    streams.add_argument("--shape", default="nested", choices=["nested", "flat"])
    streams.add_argument("--name", default="")
    streams.add_argument("--url", help="running sandbox's URL (as --sandbox)")
    return parser


def _streams(base: str, args: argparse.Namespace) -> Any:
    """`python -m sandbox streams ...`: the Portal's Data Streams page."""
    action, rest = args.action, args.args
    if action == "list":
        return _call(base, "GET", "/streams")
    if action == "add":
        if len(rest) != 3:
            sys.exit("sandbox: streams add TYPE URL AUTH")
        kind, url, auth = rest
        body = {"type": kind, "url": url, "auth": auth, "shape": args.shape}
        if args.name:
            body["name"] = args.name
        return _call(base, "POST", "/streams", body)
    if action == "tick":
        return _call(base, "POST", "/streams/tick", {})
    if action == "set":
        changes = {}
        for change in rest:
            key, _, value = change.partition("=")
            changes[key] = _fault_value(value)
        return _call(base, "PATCH", "/streams/settings", changes)
    if len(rest) != 1:
        sys.exit(f"sandbox: streams {action} ID")
    if action == "delete":
        return _call(base, "DELETE", f"/streams/{rest[0]}")
    return _call(base, "POST", f"/streams/{rest[0]}/{action}", {})


def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web  # noqa: PLC0415  # the poking commands need no aiohttp

    from .app import create_app  # noqa: PLC0415

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        sims=args.sims,
        platform=args.platform,
        seed=args.seed,
        client_id=args.client_id,
        client_secret=args.client_secret,
        delivery_delay=args.delivery_delay,
        forwarder_url=args.forwarder_url,
        retry_initial=args.retry_initial,
    )
    config.faults.rate_limit = args.rate_limit
    base = f"http://{args.host}:{args.port}"
    print(
        f"1NCE sandbox (Platform {config.platform.value}): "
        f"API URL {base}/management-api, "
        f"Client-ID {config.client_id!r}, secret {config.client_secret!r}; "
        f"control API {base}{CONTROL_PREFIX}",
        flush=True,
    )
    web.run_app(create_app(config), host=args.host, port=args.port, print=None)


def main(argv: list[str] | None = None) -> None:
    """Dispatch; with no command (or only serve options) the sandbox is served."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if (
        not any(arg in _COMMANDS for arg in argv)
        and "-h" not in argv
        and "--help" not in argv
    ):
        argv.insert(0, "serve")
    args = _parser().parse_args(argv)
    if args.command == "serve":
        _serve(args)
        return
    if args.command == "send-mo":
        body = {"iccid": args.iccid, "text": args.text, "encoding": args.encoding}
        if args.source_address:
            body["source_address"] = args.source_address
        result = _call(args.sandbox, "POST", "/mo", body)
    elif args.command == "set-forwarder":
        url = None if args.url.lower() == "none" else args.url
        result = _call(args.sandbox, "PUT", "/forwarder", {"url": url})
    elif args.command == "faults":
        changes = {}
        for change in args.changes:
            key, _, value = change.partition("=")
            changes[key] = _fault_value(value)
        method = "PATCH" if changes else "GET"
        result = _call(args.sandbox, method, "/faults", changes if changes else None)
    elif args.command == "inject":
        body = {"iccid": args.iccid, "event": args.event, "service": args.service}
        result = _call(args.url or args.sandbox, "POST", "/streams/inject", body)
    elif args.command == "streams":
        result = _streams(args.url or args.sandbox, args)
    else:
        result = _call(args.sandbox, "GET", "")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
