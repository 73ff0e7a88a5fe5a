"""Base entity: one charge point (or one of its connectors), pushed by the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity, EntityDescription

from .capacity import entity_unique_id
from .central import LevityCentral
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint, Connector


class Scope(StrEnum):
    """Which part of a charger an entity describes."""

    CHARGE_POINT = "charge_point"  # once per charge point, reading connector 0
    CONNECTOR = "connector"  # once per connector 1..n


@dataclass(frozen=True, kw_only=True)
class LevityEntityDescription(EntityDescription):
    """Common to every entity table: where an entity lives and whether it exists yet.

    `exists_fn` lets entities appear only once the charger reports what they show
    (a measurand it never sends gets no entity). `available_offline` for facts that
    stay true while the charger is away (its last session, whether it is connected).
    """

    scope: Scope = Scope.CONNECTOR
    exists_fn: Callable[[ChargePoint, Connector], bool] = lambda _cp, _c: True
    available_offline: bool = False


class LevityEntity(Entity):
    """An entity that reads the model and rewrites its state only when it changed."""

    # Ours per entity in slots: HA's cached properties fill each instance dict to
    # some 40 keys, and ours on top pushed it past a dict's 42-key size (twice the bytes).
    __slots__ = (
        "_last_written",
        "_on_registry_removal",
        "central",
        "charge_point",
        "connector_id",
        "counted_id",
        "entity_description",
    )

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: LevityEntityDescription

    def __init__(
        self,
        central: LevityCentral,
        charge_point: ChargePoint,
        connector_id: int,
        description: LevityEntityDescription,
        device: dr.AnyDeviceEntry,
    ) -> None:
        """Describe `connector_id` (0: the charge point) of `charge_point`.

        `device`: its device entry (`central.device_entry`), looked up once for the
        entities of one device. HA links the entity to it as it would to the device
        of a device info, without a get-or-create per entity (20,000 at the start
        of 1,000 chargers), and keeps it current from then on: a rename of the
        device, or the entity moving to a connector's device (its registry entry's
        device_id), updates it.
        """
        self.entity_description = description
        self.central = central
        self.charge_point = charge_point
        self.connector_id = connector_id
        # The unique id as a str (HA's is optional), counted against HA's cap.
        self.counted_id = entity_unique_id(
            central.entry.entry_id, charge_point.id, connector_id, description.key
        )
        self._attr_unique_id = self.counted_id
        self.device_entry = device
        self._last_written: tuple[object, ...] = ()
        # Told when the registry entry is deleted (see on_removed_from_registry).
        self._on_registry_removal: Callable[[LevityEntity], None] | None = None

    @property
    def connector(self) -> Connector:
        """The connector this entity describes (0: the charge point)."""
        return self.charge_point.connector(self.connector_id)

    @property
    def available(self) -> bool:
        """Values are live only while the charger is connected (but for lasting facts)."""
        return self.entity_description.available_offline or self.charge_point.connected

    def current_value(self) -> object:
        """What the entity's state would be now; compared to avoid needless writes."""
        raise NotImplementedError

    def _snapshot(self) -> tuple[object, ...]:
        """Everything that, when changed, needs a state write."""
        return (self.available, self.current_value())

    async def async_added_to_hass(self) -> None:
        """Follow changes of this entity's connector, and the charge point's connection."""
        self.central.capacity.registered(self.counted_id)
        self._last_written = self._snapshot()
        charge_point, listener = self.charge_point, self._changed
        charge_point.add_listener(self.connector_id, listener)
        if self.connector_id != CHARGE_POINT_CONNECTOR:
            charge_point.add_listener(CHARGE_POINT_CONNECTOR, listener)
        # One bound method undoes both (no closure per listener).
        self.async_on_remove(self._stop_listening)

    @callback
    def _stop_listening(self) -> None:
        charge_point, listener = self.charge_point, self._changed
        charge_point.remove_listener(self.connector_id, listener)
        if self.connector_id != CHARGE_POINT_CONNECTOR:
            charge_point.remove_listener(CHARGE_POINT_CONNECTOR, listener)

    def on_removed_from_registry(self, func: Callable[[LevityEntity], None]) -> None:
        """Call `func(entity)` when the entity's registry entry is deleted (its device went).

        Not on every removal from HA: renaming an entity removes and re-adds it.
        One function per platform, shared by its entities: nothing made per entity.
        """
        self._on_registry_removal = func

    async def async_removed_from_registry(self) -> None:
        """Tell whoever asked that this entity is gone for good; it no longer counts."""
        if self._on_registry_removal is not None:
            self._on_registry_removal(self)
        self.central.capacity.update()

    @callback
    def add_to_platform_abort(self) -> None:
        """HA did not take the entity after all (a device error): it holds no place."""
        self.central.capacity.registered(self.counted_id)
        super().add_to_platform_abort()

    def _holds(self, written: tuple[object, ...], snapshot: tuple[object, ...]) -> bool:
        """Whether a change from what was written may wait (never, unless a subclass says)."""
        return False

    @callback
    def _changed(self) -> None:
        """Write the state if it changed in a way worth a recorder row.

        Reads the model and the clock as they are when called: the model may call
        its listeners later than the change, once for several changes.
        """
        snapshot = self._snapshot()
        if snapshot != self._last_written and not self._holds(self._last_written, snapshot):
            self._write(snapshot)

    @callback
    def _write(self, snapshot: tuple[object, ...]) -> None:
        self._last_written = snapshot
        self.async_write_ha_state()
