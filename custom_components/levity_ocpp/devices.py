"""Which loaded central system, charge point and connector a device stands for."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from .central import LevityConfigEntry
from .const import DOMAIN


def loaded_entries(hass: HomeAssistant) -> list[LevityConfigEntry]:
    """The config entries whose central system is running."""
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def device_filter(hass: HomeAssistant, device_id: str) -> tuple[LevityConfigEntry, str, int | None]:
    """Which central system, charge point (and connector, for a connector device)."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry in loaded_entries(hass):
            if (target := entry.runtime_data.device_target(device)) is not None:
                charge_point, connector_id = target
                return entry, charge_point.id, connector_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_device",
        translation_placeholders={"device_id": device_id},
    )
