"""Levity OCPP: an OCPP central system for EV chargers, inside Home Assistant."""

from __future__ import annotations

import asyncio

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    SOURCE_IGNORE,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.typing import ConfigType

from .central import LevityCentral, LevityConfigEntry
from .certificates import async_forget as async_forget_certificate, async_load_tls
from .charge_point_settings import charge_point_subentries, settings_from_entry
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
from .id_tag_settings import tag_book_from_entry
from .limit_options import limits_from_options
from .migration import async_migrate
from .new_charge_points import flow_unique_id, ignored_charge_points
from .refusals import async_forget, async_refusals
from .security_options import minimum_profile, tls_files
from .services import async_setup_services
from .session_store import SessionStore
from .store import ChargePointStore
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


async def async_migrate_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> bool:
    """Bring an entry of an older version up to date (see migration.py)."""
    return await async_migrate(hass, entry)


async def async_setup_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> bool:
    """Start the central system of this entry and its platforms."""
    store = ChargePointStore(hass, entry.entry_id)
    known = await store.async_load()
    settings = settings_from_entry(entry)
    sessions = SessionStore(hass, entry.entry_id)
    await sessions.async_load()
    central = LevityCentral(hass, entry, store, sessions, IdTagStatistics(hass, entry))
    tls = await async_load_tls(hass, entry, tls_files(entry.options))
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
        settings=settings,
        minimum_profile=minimum_profile(entry.options),
        ssl_context=tls.context if tls else None,
        tags=tag_book_from_entry(entry),
        ignored=ignored_charge_points(hass, entry),
        limits=limits_from_options(entry.options),
    )
    store.bind(central.charge_points.values)
    for charge_point in known:
        if charge_point.id not in settings:
            # Its subentry was deleted while the central system was not running.
            await central.central_system.remove(charge_point.id)
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
    if tls is not None:
        tls.async_start()
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
    def _entry_changed(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        # Charge point subentries take effect live: no reload, no charger disconnected.
        # (A dispatcher signal, not an update listener: options reload the entry.)
        if changed is entry and change is ConfigEntryChange.UPDATED:
            central.central_system.settings = settings_from_entry(entry)
            central.id_tags.refresh(central.central_system, central.statistics)
        elif changed.domain == DOMAIN and changed.source == SOURCE_IGNORE:
            # The user ignored a new charge point, or changed their mind.
            central.central_system.admission.ignored = ignored_charge_points(hass, entry)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)
    )
    entry.async_on_unload(central.capacity.async_listen())
    entry.async_on_unload(central.capacity.async_clear)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    central.capacity.started()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> bool:
    """Stop the central system; chargers see their connection close and retry."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: LevityConfigEntry) -> None:
    """Forget the charge points of a removed central system, and those it ignored."""
    await ChargePointStore(hass, entry.entry_id).async_remove()
    await SessionStore(hass, entry.entry_id).async_remove()
    async_forget(hass, entry.entry_id)
    async_forget_certificate(hass, entry.entry_id)
    for charge_point_id in ignored_charge_points(hass, entry):
        ignored = hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, flow_unique_id(entry.entry_id, charge_point_id)
        )
        if ignored is not None:
            await hass.config_entries.async_remove(ignored.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: LevityConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user remove a charge point: it is unknown again, as if never added.

    Its subentry goes (and with it the device and entities), its connection is
    closed and its open sessions end there (recorded as ended by removal); it
    must be added again to charge here. A connector's device goes with its
    charge point, not on its own.
    """
    central = entry.runtime_data
    if (target := central.device_target(device)) is None:
        return True  # no charge point of ours: nothing to forget
    charge_point, connector_id = target
    if connector_id is not None:
        return False
    # Forgotten first (its connection closes aside), then its approval goes.
    ending = central.central_system.forget(charge_point.id)
    # Tracked by HA, so a stop or a reload waits for its sessions to be recorded.
    entry.async_create_task(hass, _wait_for(ending), f"{DOMAIN} remove {charge_point.id}")
    if (subentry := charge_point_subentries(entry).get(charge_point.id)) is not None:
        hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    return True


async def _wait_for(task: asyncio.Task[None]) -> None:
    await task
