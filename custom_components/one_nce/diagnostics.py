"""Diagnostics for a 1NCE entry, safe to paste into a public bug report."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant

from .const import CONF_CLOUDHOOK_URL, CONF_FORWARDER_SECRET, CONF_STREAMER_PASSWORD
from .coordinator import OneNceConfigEntry
from .receiving.address import forwarder_url, masked
from .receiving.streamer import StreamKind

# Credentials, and everything that identifies a SIM or a person's device.
TO_REDACT = {
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_FORWARDER_SECRET,
    CONF_STREAMER_PASSWORD,
    CONF_CLOUDHOOK_URL,
    "access_token",
    "user_id",
    "organisation_id",
    "iccid",
    "iccid_with_luhn",
    "imsi",
    "imsi_2",
    "current_imsi",
    "msisdn",
    "imei",
    "ip_address",
    "label",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OneNceConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug polling, without secrets or identifiers."""
    runtime = entry.runtime_data
    fleet = runtime.fleet
    details = runtime.details
    limits = runtime.limits
    client = runtime.client
    token_info = client.token_info
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "client": {
            "base_url": client.base_url,
            "requests_sent": client.request_count,
            "token": async_redact_data(asdict(token_info), TO_REDACT)
            if token_info
            else None,
        },
        "fleet": {
            "last_update_success": fleet.last_update_success,
            "update_interval_seconds": fleet.update_interval.total_seconds()
            if fleet.update_interval
            else None,
            "sim_count": len(fleet.data or {}),
            "sims": [
                async_redact_data(asdict(sim), TO_REDACT)
                for sim in (fleet.data or {}).values()
            ],
        },
        "details": {
            "last_update_success": details.last_update_success,
            "detail_interval_minutes": details.detail_interval.total_seconds() / 60,
            "sims_with_details": len(details.data or {}),
            "sims_failing": len(details.failed),
        },
        "limits": {
            "supported": limits.supported,
            "last_update_success": limits.last_update_success,
            "current": asdict(limits.data.current) if limits.data else None,
        },
        "forwarder": {
            # Masked: the last segment is the secret.
            "forwarder_url": masked(
                forwarder_url(hass, str(entry.data.get(CONF_FORWARDER_SECRET, "")))
            ),
            "cloudhook_url": masked(entry.data.get(CONF_CLOUDHOOK_URL)),
            "requests": runtime.receiver.health.as_dict(),
            "inbox": runtime.receiver.inbox.stats,
        },
        "streamer": {
            # The credential is never shown: it is in the redacted entry data.
            "requests": runtime.receiver.streamer.health.as_dict(),
            "remembered_ids": len(runtime.receiver.streamer.records),
            "last_delivery": {
                kind.value: last.isoformat() if last else None
                for kind in StreamKind
                if (last := runtime.receiver.streamer.last_delivery(kind)) or True
            },
        },
    }
