"""Levity OCPP: an OCPP central system for EV chargers, inside Home Assistant."""

from __future__ import annotations

from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntryChange
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.typing import ConfigType

from .central import LevityCentral, LevityConfigEntry
from .charge_point_settings import settings_from_entry
from .clock import async_track_time_bound_values
from .const import (
    CONF_ADMISSION_POLICY,
    CONF_AUTO_START_DELAY,
    CONF_COMMAND_TIMEOUT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_ID_TAG,
    CONF_METER_JUMP_LIMIT,
    DEFAULT_AUTO_START_DELAY,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_ID_TAG,
    DEFAULT_METER_JUMP_LIMIT,
    DOMAIN,
)
from .csms.server import CentralSystem
from .csms.settings import AdmissionPolicy
from .limit_options import limits_from_options
from .refusals import async_forget, async_refusals
from .services import async_setup_services
from .store import ChargePointStore, SessionStore
from .tag_statistics import IdTagStatistics

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they exist even with no entry loaded)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> bool:
    """Start the central system of this entry and its platforms."""
    store = ChargePointStore(hass, entry.entry_id)
    known = await store.async_load()
    sessions = SessionStore(hass, entry.entry_id)
    await sessions.async_load()
    central = LevityCentral(hass, entry, store, sessions, IdTagStatistics(hass, entry))
    central.central_system = CentralSystem(
        host=entry.data[CONF_HOST],
        port=entry.data[CONF_PORT],
        heartbeat_interval=entry.options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL),
        hooks=central,
        charge_points=known,
        transactions=sessions.book,
        jump_limit_kwh=entry.options.get(CONF_METER_JUMP_LIMIT, DEFAULT_METER_JUMP_LIMIT),
        auto_start_delay=entry.options.get(CONF_AUTO_START_DELAY, DEFAULT_AUTO_START_DELAY),
        id_tag=entry.options.get(CONF_ID_TAG, DEFAULT_ID_TAG),
        response_timeout=entry.options.get(CONF_COMMAND_TIMEOUT, DEFAULT_COMMAND_TIMEOUT),
        policy=AdmissionPolicy(entry.options.get(CONF_ADMISSION_POLICY, AdmissionPolicy.APPROVE)),
        settings=settings_from_entry(entry),
        limits=limits_from_options(entry.options),
    )
    store.bind(central.charge_points.values)
    central.async_register_known()
    try:
        await central.central_system.start()
    except OSError as error:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_listen",
            translation_placeholders={
                "host": entry.data[CONF_HOST],
                "port": str(entry.data[CONF_PORT]),
                "error": str(error),
            },
        ) from error
    entry.runtime_data = central
    refusals = async_refusals(hass, entry.entry_id)
    refusals.resume()
    entry.async_on_unload(refusals.pause)

    async def _stop_on_shutdown(_: Event) -> None:
        # Close the sockets so chargers reconnect to the next HA instance at once,
        # and get pending records to the recorder before its final write.
        await central.async_stop()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop_on_shutdown))
    entry.async_on_unload(async_track_time_bound_values(hass, central))

    @callback
    def _entry_changed(change: ConfigEntryChange, changed: LevityConfigEntry) -> None:
        # Charge point subentries take effect live: no reload, no charger disconnected.
        # (A dispatcher signal, not an update listener: options reload the entry.)
        if changed is entry and change is ConfigEntryChange.UPDATED:
            central.central_system.settings = settings_from_entry(entry)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> bool:
    """Stop the central system; chargers see their connection close and retry."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> None:
    """Forget the charge points of a removed central system."""
    await ChargePointStore(hass, entry.entry_id).async_remove()
    await SessionStore(hass, entry.entry_id).async_remove()
    async_forget(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: LevityConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a charge point that is not connected (it comes back if it does).

    Its open sessions end there (recorded as ended by removal). A connector's device
    goes with its charge point, not on its own.
    """
    central = entry.runtime_data
    if (target := central.device_target(device)) is None:
        return True  # no charge point of ours: nothing to forget
    charge_point, connector_id = target
    if connector_id is not None or charge_point.connected:
        return False
    await central.central_system.remove(charge_point.id)
    central.store.schedule_save()
    return True
