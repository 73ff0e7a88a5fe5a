"""Device actions: start charging, stop charging, set the current limit.

They call the integration's own actions for the device, so both ways of
automating a charger behave (and fail) the same.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import ATTR_DEVICE_ID, CONF_DEVICE_ID, CONF_DOMAIN, CONF_TYPE
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.helpers.typing import ConfigType, TemplateVarsType
import probatio

from .const import DOMAIN
from .device_targets import connector_status_entries

START_CHARGING = "start_charging"
STOP_CHARGING = "stop_charging"
SET_CURRENT_LIMIT = "set_current_limit"
ACTION_TYPES = (START_CHARGING, STOP_CHARGING, SET_CURRENT_LIMIT)

CONF_ID_TAG = "id_tag"
CONF_CURRENT_LIMIT = "current_limit"
MAX_CURRENT = 80  # A: above any single-phase or three-phase home or site charger
ID_TAG_LENGTH = 20  # OCPP 1.6 idToken: CiString20

# The fields each action may carry, and the ones it must.
FIELDS = {
    START_CHARGING: {CONF_ID_TAG, CONF_CURRENT_LIMIT},
    STOP_CHARGING: set(),
    SET_CURRENT_LIMIT: {CONF_CURRENT_LIMIT},
}
REQUIRED = {SET_CURRENT_LIMIT: {CONF_CURRENT_LIMIT}}

CURRENT = probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=MAX_CURRENT))
ID_TAG = probatio.All(cv.string, probatio.Length(min=1, max=ID_TAG_LENGTH))

ACTION_SCHEMA = cv.DEVICE_ACTION_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_TYPE): probatio.In(ACTION_TYPES),
        probatio.Optional(CONF_ID_TAG): ID_TAG,
        probatio.Optional(CONF_CURRENT_LIMIT): CURRENT,
    }
)

CURRENT_SELECTOR = selector.NumberSelector(
    selector.NumberSelectorConfig(
        min=0,
        max=MAX_CURRENT,
        step=1,
        unit_of_measurement="A",
        mode=selector.NumberSelectorMode.SLIDER,
    )
)


async def async_validate_action_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Each action gets exactly the fields it understands."""
    validated: ConfigType = ACTION_SCHEMA(config)
    kind = validated[CONF_TYPE]
    if extra := sorted(set(validated) & {CONF_ID_TAG, CONF_CURRENT_LIMIT} - FIELDS[kind]):
        raise InvalidDeviceAutomationConfig(f"Action '{kind}' takes no {', '.join(extra)}")
    if missing := sorted(REQUIRED.get(kind, set()) - set(validated)):
        raise InvalidDeviceAutomationConfig(f"Action '{kind}' needs {', '.join(missing)}")
    return validated


async def async_get_actions(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """A current limit for every charger device; start/stop where one connector is meant.

    A charger with several connectors is started and stopped through its connector
    devices; its own device only takes a limit for the whole charger.
    """
    kinds = [SET_CURRENT_LIMIT]
    if connector_status_entries(hass, device_id, include_disabled=True):
        kinds = [START_CHARGING, STOP_CHARGING, *kinds]
    return [{CONF_DEVICE_ID: device_id, CONF_DOMAIN: DOMAIN, CONF_TYPE: kind} for kind in kinds]


async def async_get_action_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, probatio.Schema]:
    """The limit (and, to start, the id tag) the user may give."""
    kind = config[CONF_TYPE]
    fields: dict[Any, Any] = {}
    if kind == START_CHARGING:
        fields[probatio.Optional(CONF_ID_TAG)] = selector.TextSelector()
        fields[probatio.Optional(CONF_CURRENT_LIMIT)] = CURRENT_SELECTOR
    elif kind == SET_CURRENT_LIMIT:
        fields[probatio.Required(CONF_CURRENT_LIMIT)] = CURRENT_SELECTOR
    return {"extra_fields": probatio.Schema(fields)} if fields else {}


async def async_call_action_from_config(
    hass: HomeAssistant,
    config: ConfigType,
    variables: TemplateVarsType,
    context: Context | None,
) -> None:
    """Call the integration's action of the same name for this device."""
    kind = config[CONF_TYPE]
    data: dict[str, Any] = {ATTR_DEVICE_ID: config[CONF_DEVICE_ID]}
    data.update({key: config[key] for key in FIELDS[kind] if key in config})
    await hass.services.async_call(DOMAIN, kind, data, blocking=True, context=context)
