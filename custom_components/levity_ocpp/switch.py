"""Switches: charging, availability, and starting to charge when a car is plugged in.

Each shows the charger's real state (its transactions and status), never a guess:
a command the charger refuses leaves the switch as it was, with the reason shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from ocpp.v16.enums import ChargePointStatus

from .central import LevityConfigEntry
from .const import CONF_ID_TAG, DEFAULT_ID_TAG
from .control import async_execute
from .csms.commands import SetAvailability, StartCharging, StopCharging
from .csms.model import ChargePoint, Connector
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 0

type Turn = Callable[["LevitySwitch", bool], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class LevitySwitchDescription(SwitchEntityDescription, LevityEntityDescription):
    """A switch of a charge point or connector: its state from the model, `turn_fn` to act."""

    is_on_fn: Callable[[ChargePoint, Connector], bool | None]
    turn_fn: Turn


async def _charge(switch: LevitySwitch, on: bool) -> None:
    connector = switch.connector
    if on:
        if connector.transaction is None:
            id_tag = switch.central.entry.options.get(CONF_ID_TAG, DEFAULT_ID_TAG)
            await switch.execute(StartCharging(id_tag, connector.connector_id))
        return
    if connector.transaction is not None:
        await switch.execute(StopCharging(connector.transaction.transaction_id))


async def _set_available(switch: LevitySwitch, on: bool) -> None:
    await switch.execute(SetAvailability(switch.connector_id, operative=on))


async def _set_auto_start(switch: LevitySwitch, on: bool) -> None:
    charge_point = switch.charge_point
    charge_point.auto_start = on
    charge_point.notify()  # the switch shows it, and the store saves it


def _available(connector: Connector) -> bool | None:
    if connector.status is None:
        return None
    return bool(connector.status != ChargePointStatus.unavailable)


SWITCHES: tuple[LevitySwitchDescription, ...] = (
    LevitySwitchDescription(
        key="charging",
        translation_key="charging",
        is_on_fn=lambda _, c: c.transaction is not None,
        turn_fn=_charge,
    ),
    LevitySwitchDescription(
        key="available",
        translation_key="available",
        entity_registry_enabled_default=False,
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda _, c: _available(c),
        turn_fn=_set_available,
    ),
    LevitySwitchDescription(
        key="available",
        translation_key="charge_point_available",
        scope=Scope.CHARGE_POINT,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,  # the connector switch does it on one connector
        is_on_fn=lambda _, c: _available(c),
        turn_fn=_set_available,
    ),
    LevitySwitchDescription(
        key="auto_start",
        translation_key="auto_start",
        scope=Scope.CHARGE_POINT,
        entity_category=EntityCategory.CONFIG,
        available_offline=True,  # a setting of ours, not of the charger
        is_on_fn=lambda cp, _: cp.auto_start,
        turn_fn=_set_auto_start,
    ),
)


class LevitySwitch(LevityEntity, SwitchEntity):
    """A switch whose state is read back from what the charger reported."""

    entity_description: LevitySwitchDescription

    def current_value(self) -> bool | None:
        """The real state, from the model."""
        return self.entity_description.is_on_fn(self.charge_point, self.connector)

    @property
    def is_on(self) -> bool | None:
        """The switch's state."""
        return self.current_value()

    async def execute(self, command: Any) -> None:
        """Send a command to this switch's charger; errors reach the user translated."""
        await async_execute(self.central, self.charge_point.id, command)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Ask the charger to turn it on."""
        await self.entity_description.turn_fn(self, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Ask the charger to turn it off."""
        await self.entity_description.turn_fn(self, False)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add switches for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, SWITCHES, LevitySwitch)
