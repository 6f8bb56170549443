"""The address 1NCE's SMS forwarder calls: MO SMS by POST, delivery reports by PATCH.

1NCE retries a message for 24 hours until it hears a 2xx, then drops it, so
the answer is the contract: 200 only once the message is stored (or known),
an error whenever it is not, and a status that says whether retrying can help:

- 404 for an address no entry has; 503 while the entry or Home Assistant is
  not ready (starting, reloading), or the SIM list cannot be loaded.
- 413 for a body over 64 KiB, 400 for one that is not JSON, 422 for JSON
  that is not a forwarder message; 403 for a SIM or organisation that is not
  this account's (1NCE retries, which covers a SIM too new for our list).

A body may also be a JSON array of messages, as Platform 2.0 pushes them:
each is taken as if it had come alone, and the answer is 200 only when every
one is stored (or known); otherwise it is the first refusal's, its reason
naming the message's place in the array.

Refusals are logged at debug level with their reason: never the body, never
the address, whose last segment is the secret.

Home Assistant's webhook component cannot carry this: it accepts no PATCH and
answers 200 when a handler fails. A webhook (for a Nabu Casa cloudhook) takes
the POST path only; see `address`.

This is the first step of the one-way path of a pushed message: view ->
`api.forwarder` parse -> membership -> inbox -> announce.
"""

from __future__ import annotations

import hmac
from http import HTTPStatus
from typing import Final

from aiohttp import hdrs, web

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.json import json_loads

from ..api import DeliveryReport
from ..api.forwarder import (
    ForwarderPayloadError,
    parse_delivery_report,
    parse_mo_sms,
)
from ..const import CONF_FORWARDER_SECRET, DOMAIN, FORWARDER_PATH, LOGGER
from ..coordinator import OneNceConfigEntry
from .health import Outcome
from .membership import Membership
from .receiver import Receiver

MAX_BODY: Final = 64 * 1024


class _RefusedError(Exception):
    """A request that gets an error status; `reason` is safe to log."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def entry_for_secret(hass: HomeAssistant, secret: str) -> OneNceConfigEntry | None:
    """Find the entry whose forwarder secret this is.

    Every entry is compared, in constant time, so the answer's timing tells
    nothing about which secrets exist or how much of one was right.
    """
    supplied = secret.encode()
    found: OneNceConfigEntry | None = None
    for entry in hass.config_entries.async_entries(DOMAIN):
        stored = entry.data.get(CONF_FORWARDER_SECRET)
        if (
            isinstance(stored, str)
            and hmac.compare_digest(stored.encode(), supplied)
            and found is None
        ):
            found = entry
    return found


class OneNceForwarderView(HomeAssistantView):
    """The forwarder URL of every 1NCE entry; the last path segment picks one."""

    url = FORWARDER_PATH
    name = "api:one_nce:forwarder"
    requires_auth = False

    async def post(self, request: web.Request, secret: str) -> web.Response:
        """Receive an SMS a SIM sent (or one part of it)."""
        hass = request.app[KEY_HASS]
        return await async_handle_request(
            hass, entry_for_secret(hass, secret), request, delivery_report=False
        )

    async def patch(self, request: web.Request, secret: str) -> web.Response:
        """Receive what became of an SMS sent to a SIM."""
        hass = request.app[KEY_HASS]
        return await async_handle_request(
            hass, entry_for_secret(hass, secret), request, delivery_report=True
        )


async def async_handle_webhook(
    hass: HomeAssistant, webhook_id: str, request: web.Request, *, entry_id: str
) -> web.Response:
    """Receive an SMS through the entry's webhook (what a cloudhook reaches)."""
    entry: OneNceConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    return await async_handle_request(hass, entry, request, delivery_report=False)


async def async_handle_request(
    hass: HomeAssistant,
    entry: OneNceConfigEntry | None,
    request: web.Request,
    *,
    delivery_report: bool,
) -> web.Response:
    """Answer one request of the forwarder for `entry`."""
    if entry is None:
        LOGGER.debug("Refused a forwarder request: unknown address")
        return web.Response(status=HTTPStatus.NOT_FOUND)
    if (
        entry.state is not ConfigEntryState.LOADED
        or hass.state is not CoreState.running
    ):
        LOGGER.debug("Refused a forwarder request: %s is not ready", entry.title)
        return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
    receiver = entry.runtime_data.receiver
    try:
        new = await _async_receive(receiver, request, delivery_report)
    except _RefusedError as refused:
        LOGGER.debug(
            "Refused a forwarder request for %s (%s): %s",
            entry.title,
            int(refused.status),
            refused.reason,
        )
        receiver.health.record(Outcome.REJECTED)
        return web.Response(status=refused.status, text=refused.reason)
    receiver.health.record(Outcome.RECEIVED if new else Outcome.DUPLICATE)
    return web.Response(status=HTTPStatus.OK)


async def _async_receive(
    receiver: Receiver, request: web.Request, delivery_report: bool
) -> bool:
    """Take the body's message(s) through the pipeline; True if one was new."""
    data = await _async_read_json(request)
    if not isinstance(data, list):
        return await _async_receive_one(receiver, data, delivery_report)
    new = False
    refused: _RefusedError | None = None
    for number, item in enumerate(data, 1):
        try:
            new = await _async_receive_one(receiver, item, delivery_report) or new
        except _RefusedError as err:
            if refused is None:
                refused = _RefusedError(
                    err.status, f"message {number} of {len(data)}: {err.reason}"
                )
    if refused is not None:
        raise refused
    return new


async def _async_receive_one(
    receiver: Receiver, data: object, delivery_report: bool
) -> bool:
    """Take one message through the pipeline; True if it was new."""
    try:
        message = parse_delivery_report(data) if delivery_report else parse_mo_sms(data)
    except ForwarderPayloadError as err:
        raise _RefusedError(HTTPStatus.UNPROCESSABLE_ENTITY, err.reason) from None
    membership = await receiver.membership.async_check(
        message.iccid, message.organisation_id
    )
    if membership is Membership.FOREIGN:
        raise _RefusedError(
            HTTPStatus.FORBIDDEN, "SIM or organisation not in this account"
        )
    if membership is Membership.UNKNOWN:
        raise _RefusedError(HTTPStatus.SERVICE_UNAVAILABLE, "SIM list unavailable")
    try:
        if isinstance(message, DeliveryReport):
            return await receiver.inbox.async_accept_report(message, source="push")
        return await receiver.inbox.async_accept(message)
    except OSError as err:
        LOGGER.warning("Could not store a message from 1NCE, which will retry: %s", err)
        raise _RefusedError(HTTPStatus.SERVICE_UNAVAILABLE, "could not store") from None


async def _async_read_json(request: web.Request) -> object:
    """Read and decode at most `MAX_BODY` bytes of JSON; refuse anything else."""
    length = request.headers.get(hdrs.CONTENT_LENGTH, "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise _RefusedError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 64 KiB")
    # A cloudhook's request makes a new reader on every access to `content`.
    stream = request.content
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(MAX_BODY + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise _RefusedError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 64 KiB")
    try:
        return json_loads(b"".join(chunks))
    except ValueError:
        raise _RefusedError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
