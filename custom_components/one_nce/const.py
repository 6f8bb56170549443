"""Constants shared across the 1NCE integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

LOGGER = logging.getLogger(__package__)

DOMAIN: Final = "one_nce"
MANUFACTURER: Final = "1NCE"

CONF_API_URL: Final = "api_url"

# Options (and their defaults: a home user's fleet, kind to 1NCE's API).
CONF_LIST_INTERVAL: Final = "list_interval"
CONF_DETAIL_INTERVAL: Final = "detail_interval"
CONF_SMS_LOW_THRESHOLD: Final = "sms_low_threshold"
CONF_MAX_SMS_PARTS: Final = "max_sms_parts"

DEFAULT_LIST_INTERVAL: Final = 15  # minutes
DEFAULT_DETAIL_INTERVAL: Final = 60  # minutes
DEFAULT_SMS_LOW_THRESHOLD: Final = 20  # percent
DEFAULT_MAX_SMS_PARTS: Final = 6

MIN_LIST_INTERVAL: Final = 5
MAX_LIST_INTERVAL: Final = 24 * 60
MIN_DETAIL_INTERVAL: Final = 15
MAX_DETAIL_INTERVAL: Final = 7 * 24 * 60
MAX_SMS_PARTS_LIMIT: Final = 10

DEFAULT_LIST_UPDATE: Final = timedelta(minutes=DEFAULT_LIST_INTERVAL)

# Details are refreshed on a one-minute tick, a slice of the fleet at a time, so
# that the whole fleet is covered once per detail interval without bursts.
DETAIL_TICK: Final = timedelta(minutes=1)
# SIMs whose details were never fetched are caught up this many per tick, so a
# new installation shows numbers quickly without a burst against 1NCE.
DETAIL_CATCH_UP_BATCH: Final = 30

# Receiving: 1NCE's SMS forwarder pushes to a URL that is itself the secret.
CONF_FORWARDER_SECRET: Final = "forwarder_secret"
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
FORWARDER_PATH: Final = "/api/one_nce/forwarder/{secret}"
EVENT_SMS_RECEIVED: Final = "one_nce_sms_received"
EVENT_DELIVERY_REPORT: Final = "one_nce_delivery_report"

# Receiving: 1NCE's Data Streamer POSTs batches of records to the same secret
# address's streamer path, with an HTTP Basic credential made per entry.
CONF_STREAMER_PASSWORD: Final = "streamer_password"
STREAMER_USERNAME: Final = "one_nce"
STREAMER_PATH: Final = "/api/one_nce/streamer/{secret}"
EVENT_NETWORK_EVENT: Final = "one_nce_network_event"
