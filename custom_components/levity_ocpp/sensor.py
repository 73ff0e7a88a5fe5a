"""Sensors: connector and charge point status, error code, last heartbeat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import re

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from .central import LevityConfigEntry
from .csms.model import ChargePoint, Connector
from .entity import LevityEntity, LevityEntityDescription
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 0


def snake(value: str) -> str:
    """Turn an OCPP enum value into an HA state (`SuspendedEVSE` -> `suspended_evse`)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


def _enum_state(value: str | None, options: list[str]) -> str | None:
    """A state among `options`, or None for a value the spec doesn't know."""
    return state if value is not None and (state := snake(value)) in options else None


STATUS_OPTIONS = [snake(status.value) for status in ChargePointStatus]
# Connector 0 (the charge point as a whole) may only be these (OCPP 1.6 §4.9).
CHARGE_POINT_STATUS_OPTIONS = ["available", "unavailable", "faulted"]
ERROR_CODE_OPTIONS = [snake(code.value) for code in ChargePointErrorCode]


@dataclass(frozen=True, kw_only=True)
class LevitySensorDescription(SensorEntityDescription, LevityEntityDescription):
    """A sensor of a charge point or connector, computed from the model."""

    value_fn: Callable[[ChargePoint, Connector], StateType | datetime]


SENSORS: tuple[LevitySensorDescription, ...] = (
    LevitySensorDescription(
        key="status",
        translation_key="connector_status",
        per_connector=True,
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda _, c: _enum_state(c.status, STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="error_code",
        translation_key="connector_error_code",
        per_connector=True,
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODE_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, c: _enum_state(c.error_code, ERROR_CODE_OPTIONS),
    ),
    LevitySensorDescription(
        key="status",
        translation_key="charge_point_status",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGE_POINT_STATUS_OPTIONS,
        value_fn=lambda _, c: _enum_state(c.status, CHARGE_POINT_STATUS_OPTIONS),
    ),
    LevitySensorDescription(
        key="error_code",
        translation_key="charge_point_error_code",
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODE_OPTIONS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda _, c: _enum_state(c.error_code, ERROR_CODE_OPTIONS),
    ),
    LevitySensorDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda cp, _: cp.last_heartbeat,
    ),
)


class LevitySensor(LevityEntity, SensorEntity):
    """A sensor whose value is a function of the model."""

    entity_description: LevitySensorDescription

    def current_value(self) -> StateType | datetime:
        """Compute the value from the charge point and connector."""
        return self.entity_description.value_fn(self.charge_point, self.connector)

    @property
    def native_value(self) -> StateType | datetime:
        """The sensor's value."""
        return self.current_value()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, SENSORS, LevitySensor)
