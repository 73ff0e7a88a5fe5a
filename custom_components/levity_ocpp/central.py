"""The HA side of one central system: devices, dynamic entities and persistence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .amendments import SessionAmendments
from .capacity import EntityCapacity
from .charge_point_settings import charge_point_subentries
from .const import DOMAIN
from .credentials import async_forget_previous_password
from .csms.admission import UnknownChargePoint
from .csms.authorization import Authorization
from .csms.hooks import CentralSystemHooks
from .csms.limits import LimitProfile
from .csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from .csms.server import CentralSystem
from .csms.transactions import Transaction
from .current_limit import async_limit_new_transaction, async_restore_current_limits
from .id_tag_events import IdTagEvents
from .new_charge_points import async_approve, async_offer, async_withdraw, initial_settings
from .refusals import async_refusals
from .session_events import (
    EVENT_SESSION_STARTED,
    EVENT_SESSION_STOPPED,
    EVENT_SESSION_UPDATED,
    session_event_data,
    stopped_event_data,
)
from .session_store import SessionStore
from .store import ChargePointStore
from .tag_statistics import IdTagStatistics, hourly_change

_LOGGER = logging.getLogger(__name__)

# Called with (charge point, connector id; 0 for the charge point itself) whenever
# something new appeared there that platforms may have entities for.
type EntityAdder = Callable[[ChargePoint, int], None]

type LevityConfigEntry = ConfigEntry[LevityCentral]


def charge_point_identifier(entry_id: str, charge_point_id: str) -> tuple[str, str]:
    """The device registry identifier of a charge point (ids are unique per central system)."""
    return (DOMAIN, f"{entry_id}_{charge_point_id}")


def connector_identifier(entry_id: str, charge_point_id: str, connector_id: int) -> tuple[str, str]:
    """The device registry identifier of a connector's child device."""
    return (DOMAIN, f"{entry_id}_{charge_point_id}_connector_{connector_id}")


def has_connector_devices(charge_point: ChargePoint) -> bool:
    """A charger with several connectors gets one child device per connector."""
    return len(charge_point.connector_ids) > 1


@dataclass
class LevityCentral(CentralSystemHooks):
    """Owns the central system of one config entry and adapts its events to HA."""

    hass: HomeAssistant
    entry: ConfigEntry
    store: ChargePointStore
    sessions: SessionStore
    statistics: IdTagStatistics
    central_system: CentralSystem = field(init=False)
    amendments: SessionAmendments = field(init=False)
    id_tags: IdTagEvents = field(init=False)
    capacity: EntityCapacity = field(init=False)
    _adders: list[EntityAdder] = field(default_factory=list)
    # What stops left for after their replies (see `_after_reply`).
    _deferred: list[Callable[[], None]] = field(default_factory=list)
    # Charge point subentries by charge point id, for the subentries mapping they were
    # read from (HA replaces it on every change): one lookup per entity, not a walk.
    _subentries: tuple[object, dict[str, ConfigSubentry]] = (None, {})

    def __post_init__(self) -> None:
        """Coalesce late corrections of sessions (see amendments.py); count entities."""
        self.amendments = SessionAmendments(self.hass, self._record_amendment)
        self.id_tags = IdTagEvents(self.hass, self.entry)
        self.capacity = EntityCapacity(
            self.hass,
            self.entry.entry_id,
            lambda: self.entry.title,
            lambda: self.central_system.bound_port or self.entry.data[CONF_PORT],
        )
        self.capacity.on_room = self._offer_again

    async def async_stop(self) -> None:
        """Close every connection, record what is pending and save everything now."""
        await self.central_system.stop()
        self._run_deferred()
        self.amendments.flush()
        await self.statistics.async_wait()
        await self.store.async_save_now()
        await self.sessions.async_save_now()

    @property
    def charge_points(self) -> dict[str, ChargePoint]:
        """All charge points this central system knows, connected or not."""
        return self.central_system.charge_points

    @callback
    def register_entity_adder(self, adder: EntityAdder) -> Callable[[], None]:
        """Let a platform add entities for charge points and connectors seen later."""
        self._adders.append(adder)
        return lambda: self._adders.remove(adder)

    def subentry_id(self, charge_point: ChargePoint) -> str | None:
        """The subentry (the user's approval) a charge point's devices and entities belong to."""
        seen, by_id = self._subentries
        if seen is not self.entry.subentries:
            by_id = charge_point_subentries(self.entry)
            self._subentries = (self.entry.subentries, by_id)
        subentry = by_id.get(charge_point.id)
        return subentry.subentry_id if subentry is not None else None

    @callback
    def async_register_known(self) -> None:
        """Register the devices of charge points known from before the restart."""
        for charge_point in self.charge_points.values():
            if not self._device_is_current(charge_point):
                self._update_device(charge_point)
            charge_point.save_listener = self.store.changed
            self.capacity.expect(charge_point.id, CHARGE_POINT_CONNECTOR)
            for connector_id in charge_point.connector_ids:
                self._ensure_connector_device(charge_point, connector_id)
                self.capacity.expect(charge_point.id, connector_id)

    def device_target(
        self, device: dr.DeviceEntry | dr.ChildDeviceEntry
    ) -> tuple[ChargePoint, int | None] | None:
        """The charge point a device stands for, with the connector for a connector device."""
        for charge_point in self.charge_points.values():
            if charge_point_identifier(self.entry.entry_id, charge_point.id) in device.identifiers:
                return charge_point, None
            for connector_id in charge_point.connector_ids:
                identifier = connector_identifier(
                    self.entry.entry_id, charge_point.id, connector_id
                )
                if identifier in device.identifiers:
                    return charge_point, connector_id
        return None

    def device_entry(
        self, charge_point: ChargePoint, connector_id: int = CHARGE_POINT_CONNECTOR
    ) -> dr.AnyDeviceEntry:
        """Return the device an entity of this charge point or connector belongs to.

        Registered already (at discovery, or at start in `async_register_known`);
        made here if it is not. Entities are given the entry itself: with a device
        info HA would get-or-create the device again for each of them.
        """
        registry = dr.async_get(self.hass)
        entry_id = self.entry.entry_id
        if connector_id == CHARGE_POINT_CONNECTOR or not has_connector_devices(charge_point):
            device = self._device(charge_point)
            return device if device is not None else self._update_device(charge_point)
        identifier = connector_identifier(entry_id, charge_point.id, connector_id)
        if (child := registry.async_get_child_device_by_identifier(identifier, entry_id)) is None:
            self._ensure_connector_device(charge_point, connector_id)
            child = registry.async_get_child_device_by_identifier(identifier, entry_id)
        assert child is not None  # made just now
        return child

    # Central system hooks

    def charge_point_discovered(self, charge_point: ChargePoint) -> None:
        """Create the device and the charge-point-wide entities of a new charger."""
        self._update_device(charge_point)
        charge_point.save_listener = self.store.changed
        self._announce(charge_point, CHARGE_POINT_CONNECTOR)
        self.store.changed(charge_point)

    def charge_point_pending(self, charge_point: UnknownChargePoint) -> None:
        """A charger waits for the user's approval: a discovery to add or ignore it."""
        async_offer(self.hass, self.entry, charge_point)

    def unknown_charge_point_forgotten(self, charge_point_id: str) -> None:
        """A waiting charger is approved or gone: its discovery goes too."""
        async_withdraw(self.hass, self.entry, charge_point_id)

    def charge_point_accepted(self, charge_point_id: str, subprotocol: str | None) -> None:
        """The policy accepts every new charger: its subentry is added for the user."""
        async_approve(self.hass, self.entry, charge_point_id, initial_settings(subprotocol))

    def charge_point_removed(self, charge_point: ChargePoint) -> None:
        """The user removed a charge point: it leaves the store (its device is gone).

        Its entities no longer count: chargers refused for the cap may fit now.
        """
        self.store.removed(charge_point)
        self.capacity.forget(charge_point.id)

    def connection_refused(self, path: str, remote: str | None, reason: str) -> None:
        """Show the user which charger URL is wrong: a repair issue."""
        async_refusals(self.hass, self.entry.entry_id).add(path, remote, reason)

    def password_confirmed(self, charge_point_id: str) -> None:
        """The charger uses its new password: its previous one stops working."""
        async_forget_previous_password(self.hass, self.entry, charge_point_id)

    def charge_point_updated(self, charge_point: ChargePoint) -> None:
        """Refresh the device (vendor, model, firmware...) and save."""
        self._update_device(charge_point)
        self.store.changed(charge_point)

    def connector_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        """Add the entities of a connector reported for the first time."""
        if connector_id == CHARGE_POINT_CONNECTOR:
            return
        self._ensure_connector_device(charge_point, connector_id)
        self._announce(charge_point, connector_id)
        self.store.changed(charge_point)

    def charge_point_configured(self, charge_point: ChargePoint) -> None:
        """What the charger supports is known now: entities that depend on it may appear.

        A current limit kept from before is read back, and sent again if it was lost.
        """
        for connector_id in (CHARGE_POINT_CONNECTOR, *charge_point.connector_ids):
            self._announce(charge_point, connector_id)
        if any(c.current_limit_a is not None for c in charge_point.connectors.values()):
            self.entry.async_create_background_task(
                self.hass,
                async_restore_current_limits(self, charge_point),
                f"levity_ocpp restore current limit of {charge_point.id}",
            )

    def charger_reported(
        self, charge_point: ChargePoint, message: str, data: dict[str, Any]
    ) -> None:
        """A DataTransfer, firmware or diagnostics status: an event automations can use."""
        self.hass.bus.async_fire(
            f"{DOMAIN}_{message}",
            {
                "charge_point_id": charge_point.id,
                "device_id": self._device_id(charge_point),
                **data,
            },
        )

    def id_tag_presented(
        self, charge_point: ChargePoint, id_tag: str, authorization: Authorization
    ) -> None:
        """A card or app token shown at the charger: `tag_scanned`, with it as device."""
        self.id_tags.presented(
            charge_point.id, id_tag, authorization, self._device_id(charge_point)
        )

    def readings_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A new measurand series: its sensors appear now."""
        self._announce(charge_point, connector_id)

    async def persist_transactions(self, transaction: Transaction | None = None) -> None:
        """Make the book's change durable before the charger is answered.

        One transaction's change is one journal line; the whole book only when it
        changed beyond one (a removed charge point's orphans are forgotten).
        """
        if transaction is None:
            await self.sessions.async_save_book()
        else:
            await self.sessions.async_persist(transaction)

    def transactions_changed(self) -> None:
        """Save the book soon."""
        self.sessions.schedule_save_book()

    def transactions_metered(self) -> None:
        """Save open sessions' readings, on their slower cadence."""
        self.sessions.schedule_save_readings()

    def session_started(self, charge_point: ChargePoint, transaction: Transaction) -> None:
        """Tell the recorder (and automations) a session began.

        A limit sent as a TxProfile belongs to one transaction: the kept limit goes
        to the new one, once the charger has its id (the reply goes out first).
        """
        self.hass.bus.async_fire(
            EVENT_SESSION_STARTED,
            session_event_data(transaction, self._device_id(charge_point)),
        )
        connector = charge_point.connector(transaction.connector_id)
        if charge_point.limit_profile == LimitProfile.TX and connector.current_limit_a is not None:
            self.entry.async_create_background_task(
                self.hass,
                async_limit_new_transaction(self, charge_point, transaction.connector_id),
                f"levity_ocpp limit transaction {transaction.transaction_id}",
            )

    async def session_stopped(self, charge_point: ChargePoint, transaction: Transaction) -> None:
        """Ledger and book in one durable write before the reply; event and statistics after.

        Neither the event nor the statistics change the reply: they wait until it
        is on its way, and a burst's stops share one turn of the loop for them.
        """
        if charge_point.limit_profile == LimitProfile.TX:  # its limit ended with it
            charge_point.connector(transaction.connector_id).applied_limit_a = None
        session = await self.sessions.async_record_session(transaction)
        self.store.changed(charge_point)
        # The energy per hour of now: the session may change before the job runs.
        hourly_kwh = transaction.hourly_energy_kwh()

        def announce() -> None:
            device_id = self._device_id(charge_point)
            self.hass.bus.async_fire(EVENT_SESSION_STOPPED, stopped_event_data(session, device_id))
            self.statistics.add_energy_soon(transaction.id_tag, hourly_kwh)

        self._after_reply(announce)

    async def session_amended(
        self,
        charge_point: ChargePoint,
        transaction: Transaction,
        previous_hourly_kwh: dict[str, float],
        *,
        final: bool,
    ) -> None:
        """The ledger takes the correction at once; event and statistics per burst."""
        await self.sessions.async_record_session(transaction)
        self.store.changed(charge_point)  # the connector's last session
        self.amendments.amend(charge_point, transaction, previous_hourly_kwh, final=final)

    @callback
    def _record_amendment(
        self,
        charge_point: ChargePoint,
        transaction: Transaction,
        previous_hourly_kwh: dict[str, float],
    ) -> None:
        self.hass.bus.async_fire(
            EVENT_SESSION_UPDATED,
            session_event_data(transaction, self._device_id(charge_point)),
        )
        self.statistics.add_energy_soon(
            transaction.id_tag,
            hourly_change(transaction.hourly_energy_kwh(), previous_hourly_kwh),
        )

    def _after_reply(self, job: Callable[[], None]) -> None:
        """Run `job` on the next turn of the loop: after the reply it does not change."""
        self._deferred.append(job)
        if len(self._deferred) == 1:
            self.hass.loop.call_soon(self._run_deferred)

    @callback
    def _run_deferred(self) -> None:
        jobs, self._deferred = self._deferred, []
        for job in jobs:
            try:
                job()
            except Exception:
                _LOGGER.exception("Recording a stopped session's event failed")

    def _announce(self, charge_point: ChargePoint, connector_id: int) -> None:
        # The places of its essential entities are kept before any platform adds
        # the others (whichever platform comes first).
        self.capacity.expect(charge_point.id, connector_id)
        for adder in list(self._adders):
            adder(charge_point, connector_id)

    @callback
    def _offer_again(self, charge_point_ids: list[str]) -> None:
        """Room under the cap again: entities refused before are offered once more."""
        for charge_point_id in charge_point_ids:
            if (charge_point := self.charge_points.get(charge_point_id)) is not None:
                for connector_id in (CHARGE_POINT_CONNECTOR, *charge_point.connector_ids):
                    self._announce(charge_point, connector_id)

    def _device(self, charge_point: ChargePoint) -> dr.DeviceEntry | None:
        """The charge point's device, looked up (HA's supported, non-deprecated lookup)."""
        return dr.async_get(self.hass).async_get_device_by_identifier(
            charge_point_identifier(self.entry.entry_id, charge_point.id), self.entry.entry_id
        )

    def _device_id(self, charge_point: ChargePoint) -> str | None:
        device = self._device(charge_point)
        return device.id if device else None

    # Devices

    def _device_is_current(self, charge_point: ChargePoint) -> bool:
        """Whether the charge point's device says what `_update_device` would write.

        A start of a large site looks its devices up instead of writing each again,
        with the lookups HA supports: its deprecated ones walk the call stack to
        report the caller, every call (14 s of a profiled start of 1,000 chargers).
        """
        device = self._device(charge_point)
        return (
            device is not None
            and device.config_subentry_id == self.subentry_id(charge_point)
            and (device.name, device.manufacturer, device.model)
            == (charge_point.id, charge_point.vendor, charge_point.model)
            and (device.serial_number, device.sw_version)
            == (charge_point.serial_number, charge_point.firmware_version)
        )

    def _update_device(self, charge_point: ChargePoint) -> dr.DeviceEntry:
        return dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            config_subentry_id=self.subentry_id(charge_point),
            identifiers={charge_point_identifier(self.entry.entry_id, charge_point.id)},
            name=charge_point.id,
            manufacturer=charge_point.vendor,
            model=charge_point.model,
            serial_number=charge_point.serial_number,
            sw_version=charge_point.firmware_version,
        )

    def _ensure_connector_device(self, charge_point: ChargePoint, connector_id: int) -> None:
        """Give each connector of a multi-connector charger its own child device.

        When a second connector shows up, the first one's entities move from the
        charge point device to their own connector device.
        """
        if not has_connector_devices(charge_point):
            return
        device_registry = dr.async_get(self.hass)
        parent = self._update_device(charge_point)
        entity_registry = er.async_get(self.hass)
        for cid in charge_point.connector_ids:
            child = device_registry.async_get_or_create_child(
                config_entry_id=self.entry.entry_id,
                config_subentry_id=parent.config_subentry_id,
                identifiers={connector_identifier(self.entry.entry_id, charge_point.id, cid)},
                parent_device_id=parent.id,
                translation_key="connector",
                translation_placeholders={"connector_id": str(cid)},
            )
            prefix = f"{self.entry.entry_id}_{charge_point.id}_{cid}_"
            for entity in er.async_entries_for_device(
                entity_registry, parent.id, include_disabled_entities=True
            ):
                if entity.unique_id.startswith(prefix):
                    entity_registry.async_update_entity(entity.entity_id, device_id=child.id)
