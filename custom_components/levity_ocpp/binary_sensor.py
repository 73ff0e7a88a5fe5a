"""Binary sensors: connected, plugged in, charging, problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from .central import LevityConfigEntry
from .csms.model import ChargePoint, Connector
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LevityBinarySensorDescription(BinarySensorEntityDescription, LevityEntityDescription):
    """A binary sensor of a charge point or connector, computed from the model."""

    is_on_fn: Callable[[ChargePoint, Connector], bool | None]


# A car is plugged in in these; in Available and Reserved it is not. Unavailable and
# Faulted say nothing about the cable.
_PLUGGED_IN = frozenset(
    {
        ChargePointStatus.preparing,
        ChargePointStatus.charging,
        ChargePointStatus.suspended_ev,
        ChargePointStatus.suspended_evse,
        ChargePointStatus.finishing,
    }
)
_UNPLUGGED = frozenset({ChargePointStatus.available, ChargePointStatus.reserved})


def _plugged_in(status: str | None) -> bool | None:
    if status in _PLUGGED_IN:
        return True
    return False if status in _UNPLUGGED else None


def _problem(connector: Connector) -> bool | None:
    """Faulted, or any error code the charger reported but NoError."""
    if connector.status is None and connector.error_code is None:
        return None
    return connector.status == ChargePointStatus.faulted or connector.error_code not in (
        None,
        ChargePointErrorCode.no_error,
    )


BINARY_SENSORS: tuple[LevityBinarySensorDescription, ...] = (
    LevityBinarySensorDescription(
        key="connected",
        scope=Scope.CHARGE_POINT,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        available_offline=True,  # "off" is the answer while disconnected, not "unavailable"
        is_on_fn=lambda cp, _: cp.connected,
    ),
    LevityBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda _, c: _plugged_in(c.status),
    ),
    LevityBinarySensorDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda _, c: None if c.status is None else c.status == ChargePointStatus.charging,
    ),
    LevityBinarySensorDescription(
        key="problem",
        translation_key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda _, c: _problem(c),
    ),
    LevityBinarySensorDescription(
        key="problem",
        translation_key="charge_point_problem",
        scope=Scope.CHARGE_POINT,
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda _, c: _problem(c),
    ),
)


class LevityBinarySensor(LevityEntity, BinarySensorEntity):
    """A binary sensor whose value is a function of the model."""

    entity_description: LevityBinarySensorDescription

    def current_value(self) -> bool | None:
        """Compute the value from the charge point and connector."""
        return self.entity_description.is_on_fn(self.charge_point, self.connector)

    @property
    def is_on(self) -> bool | None:
        """The sensor's value."""
        return self.current_value()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add binary sensors for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, BINARY_SENSORS, LevityBinarySensor)
