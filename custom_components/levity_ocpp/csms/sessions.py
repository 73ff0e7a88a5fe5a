"""Version-neutral charging session rules: start, meter values, stop, orphans.

The protocol handlers (v16.py, later v201.py) translate messages into these calls.
"""

from __future__ import annotations

from datetime import datetime
import logging

from ocpp.v16.enums import Reason

from . import orphans
from .hooks import CentralSystemHooks
from .meter import MeterSample, Register, energy_register
from .model import Change, ChargePoint, Connector, utcnow
from .register import Verdict, judge
from .transactions import (
    CLOSED_BY_CENTRAL_SYSTEM,
    CLOSED_BY_CHARGER,
    CLOSED_BY_REMOVAL,
    Transaction,
    TransactionBook,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_JUMP_LIMIT_KWH = 10.0
# Unknown stops remembered so that each is logged once: a charger inventing ids must
# not grow them for ever.
MAX_UNKNOWN_STOPS_LOGGED = 1000
# meterStart and meterStop are whole Wh (OCPP 1.6 sends them as integers).
_MESSAGE_REGISTER_RESOLUTION_KWH = 0.001


def _message_register(register_wh: float) -> Register:
    """The register reading a meterStart or meterStop is."""
    return Register(register_wh / 1000, _MESSAGE_REGISTER_RESOLUTION_KWH)


class SessionManager:
    """Keeps the transaction book of a central system consistent with what chargers say."""

    def __init__(
        self,
        book: TransactionBook,
        hooks: CentralSystemHooks,
        jump_limit_kwh: float = DEFAULT_JUMP_LIMIT_KWH,
    ) -> None:
        """Manage `book`, telling `hooks` what happens to sessions."""
        self.book = book
        self.hooks = hooks
        self.jump_limit_kwh = jump_limit_kwh
        self._unknown_stops_logged: set[tuple[str, int]] = set()

    def attach_open_transactions(self, charge_points: dict[str, ChargePoint]) -> None:
        """After a restart: put each open session (and orphan) back on its connector."""
        for transaction in self.book.open.values():
            if (charge_point := charge_points.get(transaction.charge_point_id)) is None:
                charge_point = charge_points[transaction.charge_point_id] = ChargePoint(
                    transaction.charge_point_id
                )
            charge_point.connector(transaction.connector_id).transaction = transaction
        # A connector's last session, if an orphan the charger may still complete,
        # must be the book's own object so completing it shows on the connector.
        for orphan in self.book.orphans.values():
            charge_point = charge_points.get(orphan.charge_point_id)
            connector = charge_point.connectors.get(orphan.connector_id) if charge_point else None
            if (
                connector is not None
                and connector.last_transaction is not None
                and connector.last_transaction.transaction_id == orphan.transaction_id
            ):
                connector.last_transaction = orphan

    async def start(
        self,
        charge_point: ChargePoint,
        connector_id: int,
        id_tag: str,
        started_at: datetime,
        meter_start_wh: float | None,
        reservation_id: int | None = None,
        charger_transaction_id: str | None = None,
    ) -> Transaction:
        """Open a session (or find the one a resent StartTransaction means); persist it.

        `meter_start_wh` None: the charger did not say (an OCPP 2.0.1 Started event
        without meter values); the register known before stands in, else the first
        reading. `charger_transaction_id`: the charger's own id of the session (its
        resends are recognized by that id before this is called).
        """
        if charger_transaction_id is None and meter_start_wh is not None:
            resent = self.book.find_resent(
                charge_point.id, connector_id, id_tag, started_at, meter_start_wh
            )
            if resent is not None:
                _LOGGER.info(
                    "%s resent StartTransaction; answering transaction %s again",
                    charge_point.id,
                    resent.transaction_id,
                )
                return resent
        for orphan in self.book.open_on(charge_point.id, connector_id):
            await self._close_orphan(
                charge_point, orphan, Reason.other, "a new transaction started on its connector"
            )
        connector = charge_point.connector(connector_id)
        known_kwh = connector.energy_register_kwh
        usable_start = meter_start_wh
        if usable_start is None or usable_start < 0:
            usable_start = known_kwh * 1000 if known_kwh is not None else 0.0
        transaction = self.book.allocate(
            charge_point.id,
            connector_id,
            id_tag,
            started_at,
            usable_start,
            reservation_id,
            charger_transaction_id,
        )
        if meter_start_wh is None:
            transaction.meter_start_pending = known_kwh is None
        elif meter_start_wh < 0:
            transaction.flag(f"meterStart {meter_start_wh:g} Wh is negative; not used")
            transaction.meter_start_pending = known_kwh is None
        elif meter_start_wh == 0 and known_kwh:
            # A register at 0 after a non-zero one: this charger counts per session.
            transaction.meter_is_register = False
        else:
            self._publish_register(
                charge_point, connector, _message_register(meter_start_wh), started_at
            )
        # The id must survive a crash before the charger learns it (no reuse, ever).
        try:
            await self.hooks.persist_transactions(transaction)
        except BaseException:
            # Not answered: the charger's retry opens the session anew (under a new id).
            self.book.withdraw(transaction)
            raise
        connector.transaction = transaction
        self.hooks.session_started(charge_point, transaction)
        charge_point.notify(connector_id)
        return transaction

    async def meter_values(
        self,
        charge_point: ChargePoint,
        connector_id: int,
        samples: list[MeterSample],
        transaction_id: int | None,
    ) -> None:
        """Apply samples to the connector's readings and to the session they belong to."""
        connector = charge_point.connector(connector_id)
        if (
            orphan := self._orphan_reported_on(charge_point, connector, transaction_id)
        ) is not None:
            await self._complete_orphan(charge_point, orphan, samples)
            return
        transaction = self._transaction_for_meter_values(charge_point, connector, transaction_id)
        discovered = self._observe(charge_point, connector, samples, transaction)
        if transaction is not None:
            self.hooks.transactions_metered()
        # A new series is kept soon (its sensors exist from then on); new values of
        # known ones come again with the next message.
        charge_point.notify(connector_id, Change.STATE if discovered else Change.READINGS)

    def _observe(
        self,
        charge_point: ChargePoint,
        connector: Connector,
        samples: list[MeterSample],
        transaction: Transaction | None,
    ) -> bool:
        """Take the samples; return whether a series or the register was seen first now."""
        new_series = first_register = False
        received_at = utcnow()
        for sample in samples:
            new_series |= connector.readings.take(sample.values, sample.timestamp, received_at)
            register = energy_register(sample)
            if register is None:
                continue
            # The coarser of this reading and the last one is what they can be compared at.
            resolution_kwh = max(register.resolution_kwh, connector.energy_register_resolution_kwh)
            first_register |= self._publish_register(
                charge_point, connector, register, sample.timestamp
            )
            if transaction is not None:
                transaction.observe_register(
                    sample.timestamp,
                    register.kwh * 1000,
                    self.jump_limit_kwh * 1000,
                    resolution_kwh * 1000,
                )
        if new_series:
            self.hooks.readings_discovered(charge_point, connector.connector_id)
        return new_series or first_register

    async def stop(
        self,
        charge_point: ChargePoint,
        transaction_id: int,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
        id_tag: str | None,
        samples: list[MeterSample],
    ) -> Transaction | None:
        """Close a session with the charger's final reading; None if it is not ours.

        `meter_stop_wh` None: the charger did not say (an OCPP 2.0.1 Ended event
        without a register reading); the session's latest reading is its end.
        """
        if (orphan := self.book.orphan(charge_point.id, transaction_id)) is not None:
            # The charger's own stop of a session we closed for it: its word is final.
            await self._complete_orphan(
                charge_point, orphan, samples, (stopped_at, meter_stop_wh, reason, id_tag)
            )
            return orphan
        transaction = self.book.open.get(transaction_id)
        if transaction is None or transaction.charge_point_id != charge_point.id:
            key = (charge_point.id, transaction_id)
            if key not in self._unknown_stops_logged:
                if len(self._unknown_stops_logged) >= MAX_UNKNOWN_STOPS_LOGGED:
                    self._unknown_stops_logged.clear()  # bounded: one more line each, at worst
                self._unknown_stops_logged.add(key)
                _LOGGER.warning(
                    "%s stopped transaction %s, which is not open on it; ignored",
                    charge_point.id,
                    transaction_id,
                )
            charge_point.record_anomaly(
                f"StopTransaction for unknown transaction {transaction_id} "
                f"(meterStop {meter_stop_wh} Wh at {stopped_at.isoformat()})"
            )
            charge_point.notify()
            return None
        if samples:
            await self.meter_values(charge_point, transaction.connector_id, samples, transaction_id)
        if meter_stop_wh is None:
            final_wh = transaction.meter_now_wh
        else:
            self._publish_stop(charge_point, transaction, stopped_at, meter_stop_wh)
            final_wh = transaction.plausible_stop(
                transaction.continuous(meter_stop_wh), stopped_at, self.jump_limit_kwh * 1000
            )
        self.book.close(
            transaction,
            stopped_at=stopped_at,
            meter_stop_wh=final_wh,
            reason=reason or Reason.local,
            closed_by=CLOSED_BY_CHARGER,
            stop_id_tag=id_tag,
        )
        await self._finish(charge_point, transaction)
        return transaction

    async def charge_point_booted(self, charge_point: ChargePoint) -> None:
        """A (re)booted charger has abandoned its open sessions: close them."""
        for orphan in self.book.open_on(charge_point.id):
            await self._close_orphan(charge_point, orphan, Reason.reboot, "the charger rebooted")

    async def abandoned(
        self, charge_point: ChargePoint, transaction: Transaction, why: str
    ) -> None:
        """The charger says it has ended a session and will report nothing more on it."""
        if transaction.is_open:
            await self._close_orphan(charge_point, transaction, Reason.other, why)

    async def late_readings(
        self, charge_point: ChargePoint, transaction: Transaction, samples: list[MeterSample]
    ) -> None:
        """Readings of a session its charger ended already, arriving after the end.

        They were taken before it (OCPP 2.0.1 events delivered out of order): they
        place its energy in the right hours; its total is the charger's final word.
        """
        connector = charge_point.connector(transaction.connector_id)
        hourly_before = transaction.hourly_energy_kwh()
        self._observe(charge_point, connector, samples, transaction)
        if transaction.hourly_energy_kwh() == hourly_before:
            return
        # Such events come in a burst (a reconnect's queue): one correction for it.
        await self.hooks.session_amended(charge_point, transaction, hourly_before, final=False)
        charge_point.notify(transaction.connector_id)

    async def charge_point_removed(self, charge_point: ChargePoint) -> None:
        """The user removed the charge point: end its sessions, forget its orphans.

        An open session left in the book would bring the charge point back at the
        next start; a late report on an orphan would reopen what the user removed.
        """
        for transaction in self.book.open_on(charge_point.id):
            transaction.flag("ended because the charge point was removed")
            self.book.close(
                transaction,
                stopped_at=transaction.last_register_at or transaction.started_at,
                meter_stop_wh=transaction.meter_now_wh,
                reason=Reason.other,
                closed_by=CLOSED_BY_REMOVAL,
            )
            await self._finish(charge_point, transaction)
        self.book.forget(charge_point.id)
        await self.hooks.persist_transactions()

    async def _close_orphan(
        self, charge_point: ChargePoint, orphan: Transaction, reason: str, why: str
    ) -> None:
        _LOGGER.warning(
            "%s: closing transaction %s on connector %s because %s",
            charge_point.id,
            orphan.transaction_id,
            orphan.connector_id,
            why,
        )
        orphan.flag(f"closed by the central system because {why}")
        self.book.close(
            orphan,
            stopped_at=orphan.last_register_at or orphan.started_at,
            meter_stop_wh=orphan.meter_now_wh,
            reason=reason,
            closed_by=CLOSED_BY_CENTRAL_SYSTEM,
        )
        await self._finish(charge_point, orphan)

    async def _finish(self, charge_point: ChargePoint, transaction: Transaction) -> None:
        connector = charge_point.connector(transaction.connector_id)
        if connector.transaction is transaction or connector.transaction is None:
            connector.transaction = None
            connector.last_transaction = transaction
        # Records the session and the book's change in one durable write.
        await self.hooks.session_stopped(charge_point, transaction)
        charge_point.notify(transaction.connector_id)

    def _orphan_reported_on(
        self, charge_point: ChargePoint, connector: Connector, transaction_id: int | None
    ) -> Transaction | None:
        if transaction_id is None:
            return None
        orphan = self.book.orphan(charge_point.id, transaction_id)
        if orphan is None or orphan.connector_id != connector.connector_id:
            return None
        return orphan

    async def _complete_orphan(
        self,
        charge_point: ChargePoint,
        orphan: Transaction,
        samples: list[MeterSample],
        stop: tuple[datetime, float | None, str | None, str | None] | None = None,
    ) -> None:
        """Take the charger's late report on a session we closed for it (see orphans.py)."""
        connector = charge_point.connector(orphan.connector_id)
        if orphans.is_settled(orphan):
            # The charger resent what it already told us (our reply was lost).
            self._observe(charge_point, connector, samples, None)
            return
        hourly_before = orphan.hourly_energy_kwh()
        record_before = orphan.record()
        self._observe(charge_point, connector, samples, orphan)
        if stop is None:
            orphans.extend_to_latest_reading(orphan)
        else:
            stopped_at, meter_stop_wh, reason, id_tag = stop
            if meter_stop_wh is None:  # its latest reading is all the charger said
                assert orphan.meter_stop_wh is not None
                final_wh = max(orphan.meter_stop_wh, orphan.last_register_wh or 0.0)
            else:
                self._publish_stop(charge_point, orphan, stopped_at, meter_stop_wh)
                final_wh = orphan.continuous(meter_stop_wh)
            orphans.settle(orphan, stopped_at, final_wh, reason, id_tag)
        if orphan.record() == record_before and orphan.hourly_energy_kwh() == hourly_before:
            return
        _LOGGER.info(
            "%s: transaction %s completed from the charger's late report: %.3f kWh",
            charge_point.id,
            orphan.transaction_id,
            orphan.energy_kwh,
        )
        await self.hooks.session_amended(
            charge_point, orphan, hourly_before, final=stop is not None
        )
        charge_point.notify(orphan.connector_id)

    def _transaction_for_meter_values(
        self, charge_point: ChargePoint, connector: Connector, transaction_id: int | None
    ) -> Transaction | None:
        if transaction_id is None:
            return connector.transaction
        transaction = self.book.open.get(transaction_id)
        if (
            transaction is None
            or transaction.charge_point_id != charge_point.id
            or transaction.connector_id != connector.connector_id
        ):
            charge_point.record_anomaly(
                f"MeterValues for transaction {transaction_id}, which is not open on "
                f"connector {connector.connector_id}"
            )
            return None
        return transaction

    def _publish_stop(
        self,
        charge_point: ChargePoint,
        transaction: Transaction,
        stopped_at: datetime,
        meter_stop_wh: float,
    ) -> None:
        """The connector register at the stop (meterStop): the sensor shows it too."""
        if transaction.meter_is_register and meter_stop_wh >= 0:
            connector = charge_point.connector(transaction.connector_id)
            self._publish_register(
                charge_point, connector, _message_register(meter_stop_wh), stopped_at
            )

    def _publish_register(
        self, charge_point: ChargePoint, connector: Connector, register: Register, at: datetime
    ) -> bool:
        """Move the published register on; flag readings that are not to be believed.

        Return whether it is the connector's first (its sensor can exist now).
        """
        if connector.energy_register_time is not None and at < connector.energy_register_time:
            return False  # buffered history: the session record has it, the sensor shows newer
        current = connector.energy_register_kwh
        reading = register.kwh
        resolution = max(register.resolution_kwh, connector.energy_register_resolution_kwh)
        verdict = judge(
            current, connector.energy_register_suspect_kwh, reading, self.jump_limit_kwh, resolution
        )
        where = f"connector {connector.connector_id}: energy register"
        if verdict is Verdict.INVALID:
            charge_point.record_anomaly(f"{where} reading {reading:g} kWh is negative; ignored")
            return False
        if verdict in (Verdict.BACKWARDS, Verdict.SUSPECT):
            assert current is not None
            what = "went backwards" if verdict is Verdict.BACKWARDS else "jumped"
            charge_point.record_anomaly(
                f"{where} {what} from {current:g} kWh to {reading:g} kWh; "
                "not shown unless the next reading confirms it"
            )
            connector.energy_register_suspect_kwh = reading
            return False
        if verdict is Verdict.RESET:
            charge_point.record_anomaly(
                f"{where} was reset: it restarted at {connector.energy_register_suspect_kwh:g} kWh "
                f"after {current:g} kWh"
            )
        elif current is not None:
            reading = max(reading, current)  # within the resolution: the same reading
        connector.energy_register_suspect_kwh = None
        connector.energy_register_kwh = reading
        connector.energy_register_resolution_kwh = register.resolution_kwh
        connector.energy_register_time = at
        if current is None:  # the energy sensor can exist now
            self.hooks.readings_discovered(charge_point, connector.connector_id)
        return current is None
