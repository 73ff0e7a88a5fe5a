"""Device conditions: a connector is <status>."""

from __future__ import annotations

from homeassistant.const import (
    CONF_CONDITION,
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_TYPE,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import condition, config_validation as cv, entity_registry as er
from homeassistant.helpers.typing import ConfigType, TemplateVarsType
import probatio

from .const import DOMAIN
from .device_targets import connector_status_entries
from .sensor import STATUS_OPTIONS

# "is_charging" holds while the connector status sensor is "charging".
CONDITION_TYPES = {f"is_{status}": status for status in STATUS_OPTIONS}

CONDITION_SCHEMA = cv.DEVICE_CONDITION_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_ENTITY_ID): cv.entity_id_or_uuid,
        probatio.Required(CONF_TYPE): probatio.In(CONDITION_TYPES),
    }
)


async def async_get_conditions(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """One condition per status, for the device's connector status sensor."""
    return [
        {
            CONF_CONDITION: "device",
            CONF_DEVICE_ID: device_id,
            CONF_DOMAIN: DOMAIN,
            CONF_ENTITY_ID: entry.id,
            CONF_TYPE: kind,
        }
        for entry in connector_status_entries(hass, device_id)
        for kind in CONDITION_TYPES
    ]


@callback
def async_condition_from_config(
    hass: HomeAssistant, config: ConfigType
) -> condition.ConditionCheckerType:
    """Test the sensor's current state (unknown or unavailable: never true)."""
    status = CONDITION_TYPES[config[CONF_TYPE]]
    entity_id = er.async_resolve_entity_id(er.async_get(hass), config[CONF_ENTITY_ID])

    def test_status(hass: HomeAssistant, variables: TemplateVarsType = None) -> bool:
        return (
            entity_id is not None
            and (state := hass.states.get(entity_id)) is not None
            and state.state == status
        )

    return test_status
