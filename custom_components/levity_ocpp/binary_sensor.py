"""Binary sensors: is the charge point connected to the central system."""

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

from .central import LevityConfigEntry
from .csms.model import ChargePoint, Connector
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LevityBinarySensorDescription(BinarySensorEntityDescription, LevityEntityDescription):
    """A binary sensor of a charge point or connector, computed from the model."""

    is_on_fn: Callable[[ChargePoint, Connector], bool | None]
    always_available: bool = False


BINARY_SENSORS: tuple[LevityBinarySensorDescription, ...] = (
    LevityBinarySensorDescription(
        key="connected",
        scope=Scope.CHARGE_POINT,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        always_available=True,  # "off" is the answer while disconnected, not "unavailable"
        is_on_fn=lambda cp, _: cp.connected,
    ),
)


class LevityBinarySensor(LevityEntity, BinarySensorEntity):
    """A binary sensor whose value is a function of the model."""

    entity_description: LevityBinarySensorDescription

    def current_value(self) -> bool | None:
        """Compute the value from the charge point and connector."""
        return self.entity_description.is_on_fn(self.charge_point, self.connector)

    @property
    def available(self) -> bool:
        """Connectivity is known even when the charger is away."""
        return self.entity_description.always_available or super().available

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
