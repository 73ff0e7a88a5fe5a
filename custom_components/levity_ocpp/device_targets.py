"""What a device automation on a charge point or connector device is about.

Shared by device_trigger.py, device_condition.py and device_action.py: the
connector status sensor of a device, and which session events belong to it.
Everything is read from the registries, so automations attach whether or not
the charger is connected (or the entry loaded) at that moment.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import CONF_DEVICE_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN

CONNECTOR_STATUS_KEY = "connector_status"
ATTR_CONNECTOR_ID = "connector_id"
CONNECTOR_MARK = "_connector_"


def connector_status_entries(
    hass: HomeAssistant, device_id: str, *, include_disabled: bool = False
) -> list[er.RegistryEntry]:
    """The connector status sensor of a device (none for a multi-connector charger itself).

    A single-connector charger carries it on its own device; a charger with several
    connectors has one per connector child device.
    """
    registry = er.async_get(hass)
    return [
        entry
        for entry in er.async_entries_for_device(
            registry, device_id, include_disabled_entities=include_disabled
        )
        if entry.platform == DOMAIN
        and entry.domain == Platform.SENSOR
        and entry.translation_key == CONNECTOR_STATUS_KEY
    ]


def session_event_match(hass: HomeAssistant, device_id: str) -> dict[str, Any]:
    """The event data of the session events that belong to a device.

    Session events name the charge point's device; a connector child device also
    matches on its connector id, read from its registry identifier.
    """
    registry = dr.async_get(hass)
    device = registry.async_get(device_id)
    if device is None:
        raise InvalidDeviceAutomationConfig(f"Unknown device '{device_id}'")
    if not isinstance(device, dr.ChildDeviceEntry):
        return {CONF_DEVICE_ID: device_id}
    parent = registry.async_get(device.parent_device_id)
    connector_id = _connector_id(device, parent)
    if parent is None or connector_id is None:
        raise InvalidDeviceAutomationConfig(
            f"Device '{device_id}' is no connector of a Levity OCPP charge point"
        )
    return {CONF_DEVICE_ID: parent.id, ATTR_CONNECTOR_ID: connector_id}


def _connector_id(device: dr.ChildDeviceEntry, parent: dr.AnyDeviceEntry | None) -> int | None:
    """The connector number in `<charge point identifier>_connector_<n>`."""
    if parent is None:
        return None
    for domain, parent_identifier in parent.identifiers:
        if domain != DOMAIN:
            continue
        prefix = f"{parent_identifier}{CONNECTOR_MARK}"
        for child_domain, identifier in device.identifiers:
            number = identifier.removeprefix(prefix)
            if child_domain == DOMAIN and number != identifier and number.isdecimal():
                return int(number)
    return None
