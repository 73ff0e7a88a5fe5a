"""Selects: how a charger takes its current limit, and the phases it charges on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import LevityConfigEntry
from .csms.limits import CurrentSteps, LimitProfile
from .csms.model import ChargePoint, Connector
from .current_limit import async_set_current_limit, kept_limit
from .entity import LevityEntity, LevityEntityDescription, Scope
from .platform import async_setup_dynamic_entities

PARALLEL_UPDATES = 1
SMART_CHARGING = "SmartCharging"
PHASE_OPTIONS = ["1", "3"]


@dataclass(frozen=True, kw_only=True)
class LevitySelectDescription(SelectEntityDescription, LevityEntityDescription):
    """A select of a charge point or connector: its option from the model, `select_fn` to act."""

    option_fn: Callable[[ChargePoint, Connector], str | None]
    select_fn: Callable[[LevitySelect, str], Awaitable[None]]


async def _select_profile(select: LevitySelect, option: str) -> None:
    select.charge_point.limit_profile = option
    select.charge_point.notify()  # shown, and saved; the next limit is sent this way


async def _select_steps(select: LevitySelect, option: str) -> None:
    select.charge_point.current_steps = option
    select.charge_point.notify()  # shown, and saved


async def _select_phases(select: LevitySelect, option: str) -> None:
    """Send the limit again with numberPhases; kept only once the charger took it."""
    connector = select.connector
    previous = connector.number_phases
    wanted = kept_limit(select.charge_point, select.connector_id)
    connector.number_phases = int(option)
    try:
        await async_set_current_limit(
            select.central,
            select.charge_point,
            select.connector_id,
            wanted if wanted is not None else select.charge_point.max_current_a,
            keep=wanted is not None,  # no limit was set: none is invented
        )
    except Exception:
        connector.number_phases = previous
        raise


def _phase_switching(charge_point: ChargePoint, _: Connector) -> bool:
    supported = charge_point.configured("ConnectorSwitch3to1PhaseSupported")
    return charge_point.supports(SMART_CHARGING) and (supported or "").casefold() == "true"


SELECTS: tuple[LevitySelectDescription, ...] = (
    LevitySelectDescription(
        key="limit_profile",
        translation_key="limit_profile",
        scope=Scope.CHARGE_POINT,
        options=[profile.value for profile in LimitProfile],
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,  # set once, for a charger that needs it
        available_offline=True,  # a setting of ours
        exists_fn=lambda cp, _: cp.supports(SMART_CHARGING),
        option_fn=lambda cp, _: cp.limit_profile,
        select_fn=_select_profile,
    ),
    LevitySelectDescription(
        key="current_steps",
        translation_key="current_steps",
        scope=Scope.CHARGE_POINT,
        options=[steps.value for steps in CurrentSteps],
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        available_offline=True,  # a setting of ours
        exists_fn=lambda cp, _: cp.supports(SMART_CHARGING),
        option_fn=lambda cp, _: cp.current_steps,
        select_fn=_select_steps,
    ),
    LevitySelectDescription(
        key="phases",
        translation_key="phases",
        options=PHASE_OPTIONS,
        exists_fn=_phase_switching,
        option_fn=lambda _, c: str(c.number_phases) if c.number_phases else None,
        select_fn=_select_phases,
    ),
)


class LevitySelect(LevityEntity, SelectEntity):
    """A select read back from the model."""

    entity_description: LevitySelectDescription

    def current_value(self) -> str | None:
        """The option, from the model."""
        return self.entity_description.option_fn(self.charge_point, self.connector)

    @property
    def current_option(self) -> str | None:
        """The selected option."""
        return self.current_value()

    async def async_select_option(self, option: str) -> None:
        """Choose an option."""
        await self.entity_description.select_fn(self, option)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add selects for known charge points now and for new ones as they appear."""
    async_setup_dynamic_entities(entry, async_add_entities, SELECTS, LevitySelect)
