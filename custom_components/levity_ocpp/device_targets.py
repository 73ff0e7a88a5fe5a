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
    connector_id = _connector_id(device, parent.identifiers if parent else set())
    if parent is None or connector_id is None:
        raise InvalidDeviceAutomationConfig(
            f"Device '{device_id}' is no connector of a Levity OCPP charge point"
        )
    return {CONF_DEVICE_ID: parent.id, ATTR_CONNECTOR_ID: connector_id}


def _connector_id(
    device: dr.ChildDeviceEntry, parent_identifiers: set[tuple[str, str]]
) -> int | None:
    """The connector number in `<charge point identifier>_connector_<n>`."""
    prefixes = [
        f"{name}{CONNECTOR_MARK}" for domain, name in parent_identifiers if domain == DOMAIN
    ]
    numbers = [
        identifier.removeprefix(prefix)
        for domain, identifier in device.identifiers
        if domain == DOMAIN
        for prefix in prefixes
        if identifier.startswith(prefix)
    ]
    return next((int(number) for number in numbers if number.isdecimal()), None)
