"""The address the Data Streamer POSTs to: batches of usage, event and SMS records.

1NCE sends a record again until it hears 200 for its batch and, after some
retries, stops the whole stream (FAILED) until someone restarts it in the
Portal. So the answer is the contract:

- 200 once every record of the batch is stored (records that cannot be read
  are counted and acknowledged too: retrying would never help them);
- 404 for an address no entry has; 401 without the entry's credential;
  503 while the entry is not loaded, when a SIM the list does not show
  cannot be checked because the list cannot be loaded (the records of known
  SIMs are stored and handed on first), or when records could not be stored
  (1NCE retries; what was stored is a known copy then);
- 413 for a body over 16 MiB (3,000 records take 1 to 3 MB); 400 for one
  that is not JSON, or JSON that is not a batch.

Never a redirect: the streamer does not follow one. Refusals are logged at
debug level with their reason, never the body, the address or the credential.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from aiohttp import hdrs, web

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.json import json_loads

from ..api.records import StreamBatch
from ..api.streamer import StreamerPayloadError, parse_stream_batch
from ..const import CONF_STREAMER_PASSWORD, LOGGER, STREAMER_PATH
from .credential import authorized
from .streamer import SimListUnavailableError, StreamerClosedError
from .view import entry_for_secret

MAX_BODY: Final = 16 * 1024 * 1024


class _RefusedError(Exception):
    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class OneNceStreamerView(HomeAssistantView):
    """The Data Streamer URL of every 1NCE entry; the last path segment picks one."""

    url = STREAMER_PATH
    name = "api:one_nce:streamer"
    requires_auth = False

    async def post(self, request: web.Request, secret: str) -> web.Response:
        """Receive one batch of records."""
        hass = request.app[KEY_HASS]
        entry = entry_for_secret(hass, secret)
        if entry is None:
            LOGGER.debug("Refused a Data Streamer request: unknown address")
            return web.Response(status=HTTPStatus.NOT_FOUND)
        loaded = (
            entry.state is ConfigEntryState.LOADED and hass.state is CoreState.running
        )
        streamer = entry.runtime_data.receiver.streamer if loaded else None
        try:
            password = entry.data.get(CONF_STREAMER_PASSWORD)
            if not isinstance(password, str) or not authorized(
                request.headers.get(hdrs.AUTHORIZATION), password
            ):
                raise _RefusedError(HTTPStatus.UNAUTHORIZED, "wrong credential")
            if streamer is None:
                raise _RefusedError(HTTPStatus.SERVICE_UNAVAILABLE, "not ready")
            raw = await _async_read_body(request)
            # Decoding and reading 3,000 records takes a tenth of a second or
            # more: off the event loop, so Home Assistant stays responsive.
            batch = await hass.async_add_executor_job(_decode_batch, raw)
            try:
                await streamer.async_receive(batch)
            except SimListUnavailableError:
                raise _RefusedError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "SIM list unavailable"
                ) from None
            except StreamerClosedError:
                raise _RefusedError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "not ready"
                ) from None
            except OSError as err:
                LOGGER.warning(
                    "Could not store records from 1NCE, which will retry: %s", err
                )
                raise _RefusedError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "could not store"
                ) from None
        except _RefusedError as refused:
            LOGGER.debug(
                "Refused a Data Streamer request for %s (%s): %s",
                entry.title,
                int(refused.status),
                refused.reason,
            )
            if streamer is not None:
                streamer.health.record_rejected()
            return web.Response(status=refused.status, text=refused.reason)
        return web.Response(status=HTTPStatus.OK)


async def _async_read_body(request: web.Request) -> bytes:
    """Read at most `MAX_BODY` bytes; refuse a larger body."""
    length = request.headers.get(hdrs.CONTENT_LENGTH, "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise _RefusedError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 16 MiB")
    chunks: list[bytes] = []
    size = 0
    stream = request.content
    while chunk := await stream.read(MAX_BODY + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise _RefusedError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over 16 MiB")
    return b"".join(chunks)


def _decode_batch(raw: bytes) -> StreamBatch:
    """Decode JSON and read the records (runs in an executor thread)."""
    try:
        body = json_loads(raw)
    except ValueError:
        raise _RefusedError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
    try:
        return parse_stream_batch(body)
    except StreamerPayloadError as err:
        raise _RefusedError(HTTPStatus.BAD_REQUEST, err.reason) from None
