"""Adding entities from a description table, as the things they describe appear."""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
)

from .capacity import entity_unique_id, is_essential
from .central import LevityConfigEntry
from .const import DOMAIN
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from .entity import LevityEntity, LevityEntityDescription, Scope


@callback
def async_setup_dynamic_entities(
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Sequence[LevityEntityDescription],
    entity_cls: type[LevityEntity],
) -> None:
    """Add the entities that exist now, then more whenever a charger reports something new.

    Listing the known ones and registering for new ones happen in one synchronous
    step, so a charger that connects meanwhile is never missed nor added twice.
    Entities past HA's cap of enabled entities per config entry are not added (see
    capacity.py) and not marked added: the next announcement offers them again.
    """
    central = entry.runtime_data
    capacity = central.capacity
    platform = async_get_current_platform().domain
    registry = er.async_get(entry.runtime_data.hass)
    added: set[tuple[str, int, str]] = set()

    def disabled(unique_id: str) -> bool:
        """Whether the registry has this entity, disabled: HA would only drop it.

        HA's platform registers a disabled entity's entry and throws the entity
        away; at a start with many chargers that is most of them, for nothing.
        The user enabling it reloads the entry, which adds it then.
        """
        entity_id = registry.async_get_entity_id(platform, DOMAIN, unique_id)
        return entity_id is not None and registry.entities[entity_id].disabled

    def forget(entity: LevityEntity) -> None:
        # A removed device takes its entities along; if the charger comes back they
        # must be added again. One function for all of this platform's entities.
        description_key = entity.entity_description.key
        added.discard((entity.charge_point.id, entity.connector_id, description_key))

    @callback
    def add_missing(charge_point: ChargePoint, connector_id: int) -> None:
        if central.charge_points.get(charge_point.id) is not charge_point:
            # Removed meanwhile (its configuration, read after its boot, arrived
            # after the user removed it): its device and entities stay gone.
            return
        scope = Scope.CHARGE_POINT if connector_id == CHARGE_POINT_CONNECTOR else Scope.CONNECTOR
        connector = charge_point.connector(connector_id)
        device: dr.AnyDeviceEntry | None = None  # one for this device's entities, once needed
        new: list[LevityEntity] = []
        for description in descriptions:
            key = (charge_point.id, connector_id, description.key)
            if (
                description.scope is scope
                and key not in added
                and description.exists_fn(charge_point, connector)
            ):
                unique_id = entity_unique_id(
                    entry.entry_id, charge_point.id, connector_id, description.key
                )
                if disabled(unique_id):
                    continue  # not marked added: checked again when offered again
                if device is None:
                    device = central.device_entry(charge_point, connector_id)
                entity = entity_cls(central, charge_point, connector_id, description, device)
                if not capacity.admit(
                    platform,
                    entity.counted_id,
                    charge_point.id,
                    enabled=entity.entity_registry_enabled_default,
                    essential=is_essential(platform, connector_id, description.key),
                ):
                    continue  # past HA's cap: offered again when there is room
                added.add(key)
                entity.on_removed_from_registry(forget)
                new.append(entity)
        if new:
            # Its subentry is the user's approval: removing it removes these too.
            async_add_entities(new, config_subentry_id=central.subentry_id(charge_point))
            capacity.update()

    for charge_point in central.charge_points.values():
        for connector_id in (CHARGE_POINT_CONNECTOR, *charge_point.connector_ids):
            add_missing(charge_point, connector_id)
    entry.async_on_unload(central.register_entity_adder(add_missing))
