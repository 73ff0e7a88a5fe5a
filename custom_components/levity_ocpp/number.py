"""Numbers: a connector's current limit, and the lowest limit a charger takes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import LevityConfigEntry
from .csms.model import ChargePoint, Connector
from .current_limit import async_set_current_limit, kept_limit
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 1  # a limit at a time per charger: each waits for its answer
SMART_CHARGING = "SmartCharging"


@dataclass(frozen=True, kw_only=True)
class LevityNumberDescription(NumberEntityDescription, LevityEntityDescription):
    """A number of a charge point or connector: its value from the model, `set_fn` to act."""

    value_fn: Callable[[ChargePoint, Connector], float | None]
    set_fn: Callable[[LevityNumber, float], Awaitable[None]]


async def _set_limit(number: LevityNumber, amps: float) -> None:
    await async_set_current_limit(number.central, number.charge_point, number.connector_id, amps)


async def _set_minimum(number: LevityNumber, amps: float) -> None:
    number.charge_point.min_current_a = amps
    number.charge_point.notify()  # shown, and saved


async def _set_maximum(number: LevityNumber, amps: float) -> None:
    number.charge_point.max_current_a = amps
    number.charge_point.notify_all()  # the limit's own maximum moves too


NUMBERS: tuple[LevityNumberDescription, ...] = (
    LevityNumberDescription(
        key="current_limit",
        translation_key="current_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,  # 0 pauses without ending the session
        native_step=1,
        mode=NumberMode.SLIDER,
        exists_fn=lambda cp, _: cp.supports(SMART_CHARGING),
        # The limit the user set and the charger took; kept across restarts.
        value_fn=lambda cp, c: kept_limit(cp, c.connector_id),
        set_fn=_set_limit,
    ),
    LevityNumberDescription(
        key="min_current",
        translation_key="min_current",
        scope=Scope.CHARGE_POINT,
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=1,
        native_max_value=16,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        available_offline=True,  # a setting of ours
        exists_fn=lambda cp, _: cp.supports(SMART_CHARGING),
        value_fn=lambda cp, _: cp.min_current_a,
        set_fn=_set_minimum,
    ),
    LevityNumberDescription(
        key="max_current",
        translation_key="max_current",
        scope=Scope.CHARGE_POINT,
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=6,
        native_max_value=80,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        available_offline=True,  # a setting of ours: what the installation allows
        exists_fn=lambda cp, _: cp.supports(SMART_CHARGING),
        value_fn=lambda cp, _: cp.max_current_a,
        set_fn=_set_maximum,
    ),
)


class LevityNumber(LevityEntity, NumberEntity):
    """A number read back from the model; setting it asks the charger first."""

    entity_description: LevityNumberDescription

    def current_value(self) -> float | None:
        """The value, from the model."""
        return self.entity_description.value_fn(self.charge_point, self.connector)

    @property
    def native_value(self) -> float | None:
        """The number's value."""
        return self.current_value()

    @property
    def native_max_value(self) -> float:
        """The current limit goes up to what the installation allows."""
        if self.entity_description.key == "current_limit":
            return self.charge_point.max_current_a
        return super().native_max_value

    def _snapshot(self) -> tuple[object, ...]:
        return (*super()._snapshot(), self.native_max_value)

    async def async_set_native_value(self, value: float) -> None:
        """Set it; a charger that refuses leaves it as it was, and says why."""
        await self.entity_description.set_fn(self, value)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add numbers for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, NUMBERS, LevityNumber)
