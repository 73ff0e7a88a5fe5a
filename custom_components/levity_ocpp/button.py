"""Buttons: reset, unlock, refresh (status and meter values) and clear the authorization cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import LevityConfigEntry
from .control import async_execute
from .csms.commands import (
    ClearCache,
    Command,
    Reset,
    ResetKind,
    TriggerMessage,
    UnlockConnector,
)
from .csms.model import ChargePoint
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 1  # one press at a time per charger is plenty

# OCPP 1.6 feature profiles a button needs.
CORE = "Core"
REMOTE_TRIGGER = "RemoteTrigger"


@dataclass(frozen=True, kw_only=True)
class LevityButtonDescription(ButtonEntityDescription, LevityEntityDescription):
    """A button: the commands one press sends, in order."""

    commands_fn: Callable[[int], tuple[Command, ...]]


def _supports(profile: str) -> Callable[[ChargePoint, object], bool]:
    return lambda charge_point, _: charge_point.supports(profile)


BUTTONS: tuple[LevityButtonDescription, ...] = (
    LevityButtonDescription(
        key="soft_reset",
        entity_registry_enabled_default=False,
        translation_key="soft_reset",
        scope=Scope.CHARGE_POINT,
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        commands_fn=lambda _: (Reset(ResetKind.SOFT),),
    ),
    LevityButtonDescription(
        key="hard_reset",
        translation_key="hard_reset",
        scope=Scope.CHARGE_POINT,
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        commands_fn=lambda _: (Reset(ResetKind.HARD),),
    ),
    LevityButtonDescription(
        key="unlock",
        entity_registry_enabled_default=False,
        translation_key="unlock",
        commands_fn=lambda connector_id: (UnlockConnector(connector_id),),
    ),
    LevityButtonDescription(
        key="refresh",
        translation_key="refresh",
        scope=Scope.CHARGE_POINT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,  # chargers report by themselves
        exists_fn=_supports(REMOTE_TRIGGER),
        commands_fn=lambda _: (TriggerMessage("StatusNotification"), TriggerMessage("MeterValues")),
    ),
    LevityButtonDescription(
        # Cards the charger accepted before stay accepted offline until it forgets them.
        key="clear_cache",
        translation_key="clear_cache",
        scope=Scope.CHARGE_POINT,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,  # rarely needed
        commands_fn=lambda _: (ClearCache(),),
    ),
)


class LevityButton(LevityEntity, ButtonEntity):
    """A button that sends commands to its charger."""

    entity_description: LevityButtonDescription

    def current_value(self) -> object:
        """A button has no state to follow."""
        return None

    async def async_press(self) -> None:
        """Send the commands; the first the charger refuses stops and is shown."""
        for command in self.entity_description.commands_fn(self.connector_id):
            await async_execute(self.central, self.charge_point.id, command)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add buttons for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, BUTTONS, LevityButton)
