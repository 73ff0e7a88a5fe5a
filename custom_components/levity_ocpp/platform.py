"""Adding entities from a description table, for charge points known now and later."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import LevityCentral, LevityConfigEntry
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from .entity import LevityEntity, LevityEntityDescription


def _entities[D: LevityEntityDescription](
    central: LevityCentral,
    charge_point: ChargePoint,
    connector_id: int | None,
    descriptions: Sequence[D],
    entity_cls: type[LevityEntity],
) -> Iterable[LevityEntity]:
    """Entities of one charge point (connector_id None) or one of its connectors."""
    for description in descriptions:
        if description.per_connector != (connector_id is not None):
            continue
        if not description.exists_fn(charge_point):
            continue
        yield entity_cls(
            central,
            charge_point,
            CHARGE_POINT_CONNECTOR if connector_id is None else connector_id,
            description,
        )


@callback
def async_setup_dynamic_entities[D: LevityEntityDescription](
    entry: LevityConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Sequence[D],
    entity_cls: type[LevityEntity],
) -> None:
    """Add entities for every known charge point and connector, then for new ones.

    Listing the known ones and registering for new ones happen in one synchronous
    step, so a charger that connects meanwhile is never missed nor added twice.
    """
    central = entry.runtime_data
    entities: list[LevityEntity] = []
    for charge_point in central.charge_points.values():
        for connector_id in (None, *charge_point.connector_ids):
            entities.extend(
                _entities(central, charge_point, connector_id, descriptions, entity_cls)
            )
    async_add_entities(entities)

    @callback
    def add_new(charge_point: ChargePoint, connector_id: int | None) -> None:
        async_add_entities(
            list(_entities(central, charge_point, connector_id, descriptions, entity_cls))
        )

    entry.async_on_unload(central.register_entity_adder(add_new))
