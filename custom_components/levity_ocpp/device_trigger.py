"""Device triggers: a connector became <status>; a session started or stopped."""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import (
    event as event_trigger,
    state as state_trigger,
)
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_EVENT_DATA,
    CONF_FOR,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio

from .const import DOMAIN
from .device_targets import connector_status_entries, session_event_match
from .sensor import STATUS_OPTIONS
from .session_events import EVENT_SESSION_STARTED, EVENT_SESSION_STOPPED

CONF_ID_TAG = "id_tag"

# "became_charging" fires when the connector status sensor turns to "charging".
STATUS_TRIGGERS = {f"became_{status}": status for status in STATUS_OPTIONS}
SESSION_TRIGGERS = {
    "session_started": EVENT_SESSION_STARTED,
    "session_stopped": EVENT_SESSION_STOPPED,
}

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_TYPE): probatio.In([*STATUS_TRIGGERS, *SESSION_TRIGGERS]),
        probatio.Optional(CONF_ENTITY_ID): cv.entity_id_or_uuid,
        probatio.Optional(CONF_FOR): cv.positive_time_period_dict,
        probatio.Optional(CONF_ID_TAG): probatio.All(cv.string, probatio.Length(min=1, max=20)),
    }
)


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """Status triggers need their sensor; a field of the other kind is a mistake."""
    validated: ConfigType = TRIGGER_SCHEMA(config)
    kind = validated[CONF_TYPE]
    if kind in STATUS_TRIGGERS:
        if CONF_ENTITY_ID not in validated:
            raise InvalidDeviceAutomationConfig(
                f"Trigger '{kind}' needs the entity_id of a connector status sensor"
            )
        if CONF_ID_TAG in validated:
            raise InvalidDeviceAutomationConfig(f"Trigger '{kind}' takes no id_tag")
    elif CONF_FOR in validated:
        raise InvalidDeviceAutomationConfig(f"Trigger '{kind}' takes no 'for' duration")
    return validated


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Session triggers for every charger device; status triggers where a connector is."""
    base = {CONF_PLATFORM: "device", CONF_DEVICE_ID: device_id, CONF_DOMAIN: DOMAIN}
    triggers: list[dict[str, Any]] = [
        {**base, CONF_ENTITY_ID: entry.id, CONF_TYPE: kind}
        for entry in connector_status_entries(hass, device_id)
        for kind in STATUS_TRIGGERS
    ]
    triggers += [{**base, CONF_TYPE: kind} for kind in SESSION_TRIGGERS]
    return triggers


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, probatio.Schema]:
    """A status must hold for a while; a session may be limited to one id tag."""
    if config[CONF_TYPE] in STATUS_TRIGGERS:
        return {
            "extra_fields": probatio.Schema(
                {probatio.Optional(CONF_FOR): cv.positive_time_period_dict}
            )
        }
    return {"extra_fields": probatio.Schema({probatio.Optional(CONF_ID_TAG): str})}


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Attach a state trigger on the status sensor, or an event trigger on the sessions."""
    kind = config[CONF_TYPE]
    if kind in STATUS_TRIGGERS:
        state_config: ConfigType = {
            CONF_PLATFORM: "state",
            CONF_ENTITY_ID: config[CONF_ENTITY_ID],
            state_trigger.CONF_TO: STATUS_TRIGGERS[kind],
        }
        if CONF_FOR in config:
            state_config[CONF_FOR] = config[CONF_FOR]
        state_config = await state_trigger.async_validate_trigger_config(hass, state_config)
        return await state_trigger.async_attach_trigger(
            hass, state_config, action, trigger_info, platform_type="device"
        )
    event_data = session_event_match(hass, config[CONF_DEVICE_ID])
    if CONF_ID_TAG in config:
        event_data[CONF_ID_TAG] = config[CONF_ID_TAG]
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: SESSION_TRIGGERS[kind],
            CONF_EVENT_DATA: event_data,
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
