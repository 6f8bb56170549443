"""The 1NCE integration: a 1NCE account's SIM fleet and its SMS in Home Assistant."""

from __future__ import annotations

from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    ServiceValidationError,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .api import DEFAULT_BASE_URL, ConnectivityStatus, UsageRecord
from .compat import reload_on_new_options
from .connection import create_client
from .const import CONF_API_URL, CONF_STREAMER_PASSWORD, DOMAIN, LOGGER
from .coordinator import (
    DetailsCoordinator,
    FleetCoordinator,
    OneNceConfigEntry,
    OneNceRuntimeData,
)
from .delivery import DeliveryTracker, async_remove_delivery_store
from .entity import async_forget_sim, device_iccid
from .limits import LimitsCoordinator
from .receiving.address import (
    async_register_forwarder,
    async_remove_address,
    async_setup_address,
)
from .receiving.credential import new_streamer_password
from .receiving.receiver import async_open_receiver, async_remove_inbox
from .receiving.streamer import Streamer, StreamKind
from .receiving.streamer_repair import (
    async_remove_streamer_issues,
    async_watch_streamer,
)
from .services import async_setup_services
from .statistics import async_remove_zone_record
from .usage import UsageCoordinator, async_remove_ledger

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NOTIFY,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the forwarder's address before any entry loads."""
    async_setup_services(hass)
    async_register_forwarder(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OneNceConfigEntry) -> bool:
    """Set the entry up; an unforeseen error still undoes what was started.

    Home Assistant runs the entry's unload callbacks (coordinator listeners,
    the receiver's files and timers, the streamer's watchdog) after its own
    setup errors only, so any other error is raised as one of them.
    """
    try:
        return await _async_set_up(hass, entry)
    except (ConfigEntryError, ConfigEntryAuthFailed, ConfigEntryNotReady):
        raise
    except Exception as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"error": repr(err)},
        ) from err


async def _async_set_up(hass: HomeAssistant, entry: OneNceConfigEntry) -> bool:
    """Connect to 1NCE, load the fleet once, then hand over to the platforms."""
    client = create_client(
        hass,
        entry.data[CONF_CLIENT_ID],
        entry.data[CONF_CLIENT_SECRET],
        entry.data.get(CONF_API_URL, DEFAULT_BASE_URL),
    )
    fleet = FleetCoordinator(hass, entry, client)
    await fleet.async_config_entry_first_refresh()
    details = DetailsCoordinator(hass, entry, client, fleet)
    details.note_fleet_update()
    entry.async_on_unload(fleet.async_add_listener(details.note_fleet_update))
    # Details fill in over the first minutes; a failure here must not keep the
    # fleet (whose list already loaded) from being set up.
    await details.async_refresh()
    usage = UsageCoordinator(hass, entry, client, lambda: fleet.data or {})
    await usage.async_load()
    # SIMs without v1 usage count their data from the data quota's drops,
    # as of the quota's own read: one read alone (after streamed traffic or
    # a quota event) leaves the SIM's scheduled `fetched_at` unchanged.
    entry.async_on_unload(
        details.async_add_listener(
            lambda: usage.note_quotas(
                {
                    iccid: (sim.data_quota, sim.data_quota_at or sim.fetched_at)
                    for iccid, sim in (details.data or {}).items()
                }
            )
        )
    )
    receiver = await async_open_receiver(hass, entry, fleet, client)
    entry.async_on_unload(receiver.async_close)
    _follow_streams(hass, entry, receiver.streamer, details, usage)
    # Reports it finds go into the receiver's inbox, like pushed ones.
    delivery = DeliveryTracker(hass, entry, client, receiver.inbox)
    entry.runtime_data = OneNceRuntimeData(
        client=client,
        fleet=fleet,
        details=details,
        usage=usage,
        delivery=delivery,
        # Nothing is fetched here: the select platform reads the limits.
        limits=LimitsCoordinator(hass, entry, client),
        receiver=receiver,
    )
    # Saving a new forwarder secret here must not reload the entry.
    await async_setup_address(hass, entry)
    async_watch_streamer(
        hass,
        entry,
        receiver.streamer,
        lambda: any(
            sim.connectivity.status is ConnectivityStatus.ONLINE
            for sim in (details.data or {}).values()
        ),
    )
    await delivery.async_load()
    entry.async_on_unload(delivery.async_stop)
    # The intervals are fixed now: changed options reload the entry.
    reload_on_new_options(entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The six-month backfill costs one request per SIM: started last, so that
    # its requests do not queue in the rate limiter ahead of the platforms'.
    entry.async_create_background_task(hass, usage.async_refresh(), f"{DOMAIN} usage")
    return True


def _follow_streams(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    streamer: Streamer,
    details: DetailsCoordinator,
    usage: UsageCoordinator,
) -> None:
    """Let what the Data Streamer pushes stand in for polling while it delivers.

    Pushed network events set a SIM's connection and last event, streamed
    traffic has its quota read and is counted as usage, and while a stream
    kind delivers, the details coordinator stops asking 1NCE for what that
    stream tells.
    """
    details.follow_streams(
        lambda: (
            streamer.delivering(StreamKind.USAGE),
            streamer.delivering(StreamKind.EVENTS),
        )
    )
    entry.async_on_unload(
        streamer.async_add_event_listener(details.async_apply_network_event)
    )
    entry.async_on_unload(
        streamer.async_add_usage_listener(details.async_note_streamed_usage)
    )

    @callback
    def count_usage(records: list[UsageRecord]) -> None:
        entry.async_create_background_task(
            hass, usage.async_add_streamed(records), f"{DOMAIN} streamed usage"
        )

    entry.async_on_unload(streamer.async_add_usage_listener(count_usage))


async def async_migrate_entry(hass: HomeAssistant, entry: OneNceConfigEntry) -> bool:
    """Give entries of 1.1 the Data Streamer's credential (1.2)."""
    if entry.version > 1:
        return False  # a newer release's entry: nothing here can read it
    if entry.minor_version < 2:
        data = dict(entry.data)
        data.setdefault(CONF_STREAMER_PASSWORD, new_streamer_password())
        hass.config_entries.async_update_entry(entry, data=data, minor_version=2)
        LOGGER.debug("Gave %s a Data Streamer credential", entry.title)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: OneNceConfigEntry) -> bool:
    """Unload the platforms; the coordinator and client go with the entry.

    The Data Streamer stops taking batches first and finishes those it is
    storing while their listeners are still there.
    """
    streamer = entry.runtime_data.receiver.streamer
    await streamer.async_stop()
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        streamer.async_resume()
        return False
    return True


async def async_remove_entry(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Drop the removed account's webhook, cloudhook, stored messages and issues."""
    await async_remove_address(hass, entry)
    await async_remove_inbox(hass, entry.entry_id)
    await async_remove_delivery_store(hass, entry.entry_id)
    await async_remove_zone_record(hass, entry.entry_id)
    async_remove_streamer_issues(hass, entry.entry_id)
    await async_remove_ledger(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: OneNceConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a SIM's device once 1NCE no longer lists the SIM.

    A listed SIM would only come back at the next poll, and the account device
    carries the account's own entities: both are refused with the reason, which
    the device page shows (a bare False shows only "rejected by integration").
    """
    iccid = device_iccid(entry, device)
    if iccid is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="account_device_kept"
        )
    if iccid in entry.runtime_data.fleet.data:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sim_still_listed",
            translation_placeholders={
                "sim": f"{device.name_by_user or device.name} ({iccid})"
            },
        )
    async_forget_sim(hass, entry, iccid)
    return True
