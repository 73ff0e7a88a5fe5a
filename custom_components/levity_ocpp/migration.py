"""Config entry migrations: what an upgrade must do so users lose nothing.

1.1 -> 1.2: charge points need the user's approval (a `charge_point` subentry)
to be served. Every charge point an installation already knows is approved as
it was, and its device and entities move into its subentry, keeping their ids,
names and areas.
"""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .central import charge_point_identifier
from .charge_point_settings import charge_point_subentries
from .csms.model import ChargePoint
from .new_charge_points import async_approve, initial_settings
from .store import ChargePointStore

_LOGGER = logging.getLogger(__name__)

VERSION = 1
MINOR_VERSION = 2


async def async_migrate(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Migrate an entry to the current version (HA refuses a newer major version itself)."""
    if entry.minor_version < 2:
        await _async_approve_known(hass, entry)
    hass.config_entries.async_update_entry(entry, version=VERSION, minor_version=MINOR_VERSION)
    return True


async def _async_approve_known(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Give every stored charge point a subentry and move its device into it."""
    known = await ChargePointStore(hass, entry.entry_id).async_load()
    approved = charge_point_subentries(entry)
    for charge_point in known:
        subentry = approved.get(charge_point.id)
        if subentry is None:
            subentry = async_approve(
                hass, entry, charge_point.id, initial_settings(_last_subprotocol(charge_point))
            )
        _move_device(hass, entry, charge_point, subentry.subentry_id)
    _LOGGER.info("Approved the %d charge points known before", len(known))


def _last_subprotocol(charge_point: ChargePoint) -> str | None:
    """The subprotocol of its last connection; none if it is not known.

    The charge point's own `subprotocol` says "ocpp1.6" also for chargers that
    offered none: without a connection to tell, it is let in as it was before.
    """
    if charge_point.connections:
        return charge_point.connections[-1].subprotocol
    return None


def _move_device(
    hass: HomeAssistant, entry: ConfigEntry, charge_point: ChargePoint, subentry_id: str
) -> None:
    """Put a charge point's device and entities into its subentry.

    A device with child devices (connectors) cannot change subentry: the
    children are removed (their entities wait on the charge point's device) and
    come back at setup, restored by the registry with their ids, names and areas.
    """
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    parent = devices.async_get_device_by_identifier(
        charge_point_identifier(entry.entry_id, charge_point.id), entry.entry_id
    )
    if parent is None or parent.config_subentry_id == subentry_id:
        return
    children = dr.async_entries_for_parent_device(devices, parent.id)
    for device_id in (parent.id, *(child.id for child in children)):
        for entity in er.async_entries_for_device(
            entities, device_id, include_disabled_entities=True
        ):
            # First, so moving the device does not take its entities away.
            entities.async_update_entity(
                entity.entity_id, config_subentry_id=subentry_id, device_id=parent.id
            )
    for child in children:
        devices.async_remove_device(child.id)
    devices.async_update_device(parent.id, new_config_subentry_id=subentry_id)
