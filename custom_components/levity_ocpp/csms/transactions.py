"""Charging sessions: transaction ids, their energy, and the rules that keep both exact."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from .model import utcnow
from .register import Verdict, judge

# Who ended a session: the charger with a StopTransaction, or the central system
# closing an orphan the charger abandoned (reboot, or a new start on the connector).
CLOSED_BY_CHARGER = "charger"
CLOSED_BY_CENTRAL_SYSTEM = "central_system"
# The user removed the charge point: its open sessions end there, for good.
CLOSED_BY_REMOVAL = "removal"
# How many orphans a central system remembers for late reports; chargers deliver
# their queue right after reconnecting, so only the latest few ever matter.
MAX_ORPHANS = 100
# Anomalies one session keeps (it is saved in the ledger): a meter that jumps on
# every reading must not grow it by one line per message.
MAX_SESSION_ANOMALIES = 20
# More than any charger delivers (a 400 kW DC charger): a meterStop beyond it is a glitch.
MAX_POWER_W = 400_000
# meterStop is whole Wh: a reading a fraction above it is the same register.
STOP_RESOLUTION_WH = 1.0


# The datetime fields of a Transaction, stored as ISO strings.
_TIMES = ("started_at", "stopped_at", "last_register_at", "successor_started_at")


def _hour(moment: datetime) -> str:
    return moment.replace(minute=0, second=0, microsecond=0).isoformat()


@dataclass(slots=True)
class Transaction:
    """One charging session as the central system records it (energies in Wh)."""

    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    started_at: datetime
    meter_start_wh: float
    reservation_id: int | None = None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    closed_by: str | None = None
    # Latest register reading by the charger's clock (not by arrival order).
    last_register_wh: float | None = None
    last_register_at: datetime | None = None
    # A reading that leapt too far, held until the next one confirms it (register.py).
    suspect_register_wh: float | None = None
    # Per hour (ISO start of the hour): the latest register reading within it, for
    # hourly statistics that follow the charger's clock.
    hourly_register_wh: dict[str, float] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)
    # For a session the central system closed: where the connector's next session
    # began. The charger's late report on this one never reaches past it.
    successor_meter_start_wh: float | None = None
    successor_started_at: datetime | None = None
    # Added to the charger's readings after a meter reset, so they carry on the
    # session's register instead of starting it again.
    register_offset_wh: float = 0.0
    # The last reading before the latest reset, on the charger's scale then, and the
    # offset in force then: a meterStop at or above it is still on that scale.
    reset_from_raw_wh: float | None = None
    offset_before_reset_wh: float = 0.0
    # meterStart was unusable (negative, and no register known): the first good
    # reading stands in for it.
    meter_start_pending: bool = False
    # Whether meterStart/meterStop are readings of the connector's register; not on
    # a charger that counts each session from zero.
    meter_is_register: bool = True
    # The charger's own id of the session, when the charger assigns it (OCPP 2.0.1
    # transactionId); `transaction_id` stays the central system's session number.
    charger_transaction_id: str | None = None
    # The highest sequence number of the charger's messages on the session taken
    # so far, and the charging state the newest of them reported (OCPP 2.0.1).
    seq_no: int | None = None
    charging_state: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the session is still going on."""
        return self.stopped_at is None

    @property
    def meter_now_wh(self) -> float:
        """The register at the stop, or the latest reading while charging."""
        if self.meter_stop_wh is not None:
            return self.meter_stop_wh
        if self.last_register_wh is not None:
            return self.last_register_wh
        return self.meter_start_wh

    @property
    def energy_kwh(self) -> float:
        """Energy delivered so far (or in all, once stopped), never negative."""
        return round(max(0.0, self.meter_now_wh - self.meter_start_wh) / 1000, 6)

    def duration_seconds(self, now: datetime | None = None) -> float:
        """How long the session ran (or has been running)."""
        end = self.stopped_at or now or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    def observe_register(
        self, at: datetime, register_wh: float, jump_limit_wh: float, resolution_wh: float = 0.0
    ) -> None:
        """Take one energy register reading; implausible ones are flagged, not used.

        After a confirmed meter reset the session counts on from where the register
        restarted: readings are kept continuous by an offset, so no Wh is lost or
        counted twice.
        """
        if register_wh < 0:
            self.flag(f"negative register reading {register_wh:g} Wh at {at} ignored")
            return
        if self.meter_start_pending:
            # meterStart was unusable: the session starts at its first good reading.
            self.meter_start_wh = register_wh
            self.meter_start_pending = False
        reading = register_wh + self.register_offset_wh
        latest = self.last_register_wh if self.last_register_wh is not None else self.meter_start_wh
        is_newest = self.last_register_at is None or at >= self.last_register_at
        if is_newest:
            verdict = judge(latest, self.suspect_register_wh, reading, jump_limit_wh, resolution_wh)
            if verdict is Verdict.BACKWARDS:
                self.flag(
                    f"register went backwards from {latest:g} Wh to {reading:g} Wh at {at}; "
                    "not used unless the next reading confirms it"
                )
                self.suspect_register_wh = reading
                return
            if verdict is Verdict.SUSPECT:
                self.flag(
                    f"register jumped by {reading - latest:g} Wh at {at}; "
                    "not used unless the next reading confirms it"
                )
                self.suspect_register_wh = reading
                return
            if verdict is Verdict.RESET:
                assert self.suspect_register_wh is not None
                restarted = self.suspect_register_wh - self.register_offset_wh
                self.flag(
                    f"meter reset: the register restarted at {restarted:g} Wh "
                    f"after {latest:g} Wh; counted on from there"
                )
                shift = latest - self.suspect_register_wh
                self.reset_from_raw_wh = latest - self.register_offset_wh
                self.offset_before_reset_wh = self.register_offset_wh
                self.register_offset_wh += shift
                reading += shift
            self.suspect_register_wh = None
            reading = max(reading, latest)  # within the resolution: the same reading
        hour = _hour(at)
        previous = self.hourly_register_wh.get(hour)
        self.hourly_register_wh[hour] = reading if previous is None else max(previous, reading)
        if is_newest:
            self.last_register_wh = reading
            self.last_register_at = at

    def continuous(self, register_wh: float) -> float:
        """A raw register reading of the charger on this session's continuous scale.

        A negative one stays negative: it is no reading at all. One at or above the
        last reading before a reset is still on the scale from before it.
        """
        if register_wh < 0:
            return register_wh
        if self.reset_from_raw_wh is not None and register_wh >= self.reset_from_raw_wh:
            return register_wh + self.offset_before_reset_wh
        return register_wh + self.register_offset_wh

    def plausible_stop(self, stop_wh: float, stopped_at: datetime, jump_limit_wh: float) -> float:
        """MeterStop (continuous), unless it contradicts the session's own readings.

        Below the latest reading, or above it by more than any charger could deliver
        since, it is a glitch: the latest reading stands, and the stop is flagged.
        """
        last = self.last_register_wh
        if last is None or stop_wh < 0:
            return stop_wh
        since = self.last_register_at or self.started_at
        hours = max(0.0, (stopped_at - since).total_seconds() / 3600)
        if stop_wh < last - STOP_RESOLUTION_WH:
            self.flag(f"meterStop {stop_wh:g} Wh is below the last reading {last:g} Wh; kept it")
            return last
        if stop_wh - last > jump_limit_wh + MAX_POWER_W * hours:
            self.flag(f"meterStop {stop_wh:g} Wh leaps from the last reading {last:g} Wh; kept it")
            return last
        return stop_wh

    def end(
        self,
        stopped_at: datetime,
        meter_stop_wh: float,
        reason: str,
        closed_by: str,
        stop_id_tag: str | None = None,
    ) -> None:
        """Set the final reading (again, when the charger reports on an orphan late).

        `meter_stop_wh` is on the session's continuous scale (see `continuous`).
        """
        if meter_stop_wh < 0 or self.meter_start_pending:
            self.flag(f"meterStop {meter_stop_wh:g} Wh is unusable; the last reading is kept")
            meter_stop_wh = self.meter_now_wh
            self.meter_start_pending = False
        if meter_stop_wh < self.meter_start_wh:
            self.flag(
                f"meterStop {meter_stop_wh:g} Wh is lower than "
                f"meterStart {self.meter_start_wh:g} Wh"
            )
        self.stopped_at = max(stopped_at, self.started_at)
        self.meter_stop_wh = meter_stop_wh
        self.stop_reason = reason
        self.closed_by = closed_by
        self.stop_id_tag = stop_id_tag

    def flag(self, anomaly: str) -> None:
        """Record something implausible about this session (kept in the ledger)."""
        if anomaly in self.anomalies:
            return
        if len(self.anomalies) >= MAX_SESSION_ANOMALIES:
            # The first ones tell how it began; the last slot holds the newest (how it ended).
            self.anomalies[-1] = anomaly
            return
        self.anomalies.append(anomaly)

    def hourly_energy_kwh(self) -> dict[str, float]:
        """The session's energy split into the hours it was charged in (sums to the total)."""
        if self.stopped_at is None or self.meter_stop_wh is None:
            return {}
        buckets: dict[str, float] = {}
        previous = self.meter_start_wh
        for hour in sorted(self.hourly_register_wh):
            reading = min(self.hourly_register_wh[hour], self.meter_stop_wh)
            buckets[hour] = (reading - previous) / 1000
            previous = max(previous, reading)
        stop_hour = _hour(self.stopped_at)
        buckets[stop_hour] = buckets.get(stop_hour, 0.0) + (self.meter_stop_wh - previous) / 1000
        return {hour: round(kwh, 6) for hour, kwh in buckets.items() if kwh > 0}

    def record(self) -> dict[str, Any]:
        """The session as a flat record (events, ledger, CSV, action responses)."""
        return {
            "transaction_id": self.transaction_id,
            "charger_transaction_id": self.charger_transaction_id,
            "charge_point_id": self.charge_point_id,
            "connector_id": self.connector_id,
            "id_tag": self.id_tag,
            "started_at": self.started_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "meter_start_wh": self.meter_start_wh,
            "meter_stop_wh": self.meter_stop_wh,
            "energy_kwh": self.energy_kwh,
            "duration_s": round(self.duration_seconds(), 3),
            "stop_reason": self.stop_reason,
            "stop_id_tag": self.stop_id_tag,
            "closed_by": self.closed_by,
            "anomalies": list(self.anomalies),
        }

    def to_dict(self) -> dict[str, Any]:
        """Serialize everything, for persistence."""
        # Field by field: `asdict`'s deep copy costs five times as much, at every
        # start and stop. Only these two are containers (of plain values).
        data = {name: getattr(self, name) for name in _FIELDS}
        data["hourly_register_wh"] = dict(self.hourly_register_wh)
        data["anomalies"] = list(self.anomalies)
        for name in _TIMES:
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        """Rebuild a transaction saved with `to_dict`."""
        # Fields a newer version saved are dropped (HA downgraded), not fatal.
        known = {item.name for item in fields(cls)}
        data = {name: value for name, value in data.items() if name in known}
        for name in _TIMES:
            data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
        return cls(**data)


_FIELDS = tuple(item.name for item in fields(Transaction))


@dataclass(slots=True)
class TransactionBook:
    """The open transactions of a central system and its transaction id counter."""

    next_id: int = 1
    open: dict[int, Transaction] = field(default_factory=dict)
    # Sessions the central system closed for their charger (it rebooted, or started
    # anew on the connector): the charger may still deliver queued MeterValues and
    # its StopTransaction for them, which complete the session instead of being lost.
    orphans: dict[int, Transaction] = field(default_factory=dict)
    # The open transactions by charge point: a message of one charger looks at its
    # own, not at the fleet's. Kept by the methods that open and close them.
    _by_charge_point: dict[str, dict[int, Transaction]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Index the open transactions given."""
        for transaction in self.open.values():
            self._index(transaction)

    def _index(self, transaction: Transaction) -> None:
        self._by_charge_point.setdefault(transaction.charge_point_id, {})[
            transaction.transaction_id
        ] = transaction

    def _take_open(self, transaction_id: int) -> None:
        if (transaction := self.open.pop(transaction_id, None)) is None:
            return
        own = self._by_charge_point[transaction.charge_point_id]
        del own[transaction_id]
        if not own:
            del self._by_charge_point[transaction.charge_point_id]

    def _put_open(self, transaction: Transaction) -> None:
        self._take_open(transaction.transaction_id)
        self.open[transaction.transaction_id] = transaction
        self._index(transaction)

    def allocate(
        self,
        charge_point_id: str,
        connector_id: int,
        id_tag: str,
        started_at: datetime,
        meter_start_wh: float,
        reservation_id: int | None = None,
        charger_transaction_id: str | None = None,
    ) -> Transaction:
        """Open a transaction with a new id, unique for this central system's lifetime."""
        transaction = Transaction(
            transaction_id=self.next_id,
            charge_point_id=charge_point_id,
            connector_id=connector_id,
            id_tag=id_tag,
            started_at=started_at,
            meter_start_wh=meter_start_wh,
            reservation_id=reservation_id,
            charger_transaction_id=charger_transaction_id,
        )
        self.next_id += 1
        self._put_open(transaction)
        self._succeed_orphans(transaction)
        return transaction

    def _succeed_orphans(self, transaction: Transaction) -> None:
        """Where the connector's next session began bounds its orphans' late reports."""
        for orphan in self.orphans.values():
            if (
                orphan.charge_point_id == transaction.charge_point_id
                and orphan.connector_id == transaction.connector_id
                and orphan.successor_started_at is None
                and orphan.transaction_id < transaction.transaction_id
            ):
                orphan.successor_meter_start_wh = transaction.meter_start_wh
                orphan.successor_started_at = transaction.started_at

    def restore(self, transaction: Transaction, next_id: int) -> None:
        """Take a transaction's state as it was journaled (after a crash); repeatable.

        `next_id` is the counter when it was journaled: an id given out is never
        given out again.
        """
        self.next_id = max(self.next_id, next_id, transaction.transaction_id + 1)
        transaction_id = transaction.transaction_id
        if transaction.is_open:
            self.orphans.pop(transaction_id, None)
            self._put_open(transaction)
            self._succeed_orphans(transaction)
            return
        self._take_open(transaction_id)
        if transaction_id in self.orphans or transaction.closed_by == CLOSED_BY_CENTRAL_SYSTEM:
            self.orphans[transaction_id] = transaction
            self._trim_orphans()

    def find_resent(
        self,
        charge_point_id: str,
        connector_id: int,
        id_tag: str,
        started_at: datetime,
        meter_start_wh: float,
    ) -> Transaction | None:
        """The open transaction a repeated StartTransaction (our reply was lost) refers to."""
        for transaction in self._by_charge_point.get(charge_point_id, {}).values():
            if (
                transaction.connector_id == connector_id
                and transaction.id_tag == id_tag
                and transaction.started_at == started_at
                and transaction.meter_start_wh == meter_start_wh
            ):
                return transaction
        return None

    def open_on(self, charge_point_id: str, connector_id: int | None = None) -> list[Transaction]:
        """Open transactions of a charge point (or of one of its connectors)."""
        return [
            transaction
            for transaction in self._by_charge_point.get(charge_point_id, {}).values()
            if connector_id is None or transaction.connector_id == connector_id
        ]

    def close(
        self,
        transaction: Transaction,
        *,
        stopped_at: datetime,
        meter_stop_wh: float,
        reason: str,
        closed_by: str,
        stop_id_tag: str | None = None,
    ) -> None:
        """End a session with its final reading; it leaves the book (the ledger keeps it)."""
        transaction.end(stopped_at, meter_stop_wh, reason, closed_by, stop_id_tag)
        self._take_open(transaction.transaction_id)
        if closed_by == CLOSED_BY_CENTRAL_SYSTEM:
            self.orphans[transaction.transaction_id] = transaction
            self._trim_orphans()

    def _trim_orphans(self) -> None:
        while len(self.orphans) > MAX_ORPHANS:
            del self.orphans[min(self.orphans)]

    def withdraw(self, transaction: Transaction) -> None:
        """Drop an open transaction the charger was never told of (its save failed)."""
        self._take_open(transaction.transaction_id)

    def forget(self, charge_point_id: str) -> None:
        """Drop what the book keeps of a removed charge point (its orphans)."""
        for transaction_id in [
            tid for tid, orphan in self.orphans.items() if orphan.charge_point_id == charge_point_id
        ]:
            del self.orphans[transaction_id]

    def by_charger_id(
        self, charge_point_id: str, charger_transaction_id: str
    ) -> Transaction | None:
        """The open session, else the orphan, the charger knows by this id of its own."""
        for transaction in (*self.open.values(), *self.orphans.values()):
            if (
                transaction.charger_transaction_id == charger_transaction_id
                and transaction.charge_point_id == charge_point_id
            ):
                return transaction
        return None

    def orphan(self, charge_point_id: str, transaction_id: int) -> Transaction | None:
        """A session we closed for this charger, that it may still report on (or has)."""
        orphan = self.orphans.get(transaction_id)
        if orphan is None or orphan.charge_point_id != charge_point_id:
            return None
        return orphan

    def to_dict(self) -> dict[str, Any]:
        """Serialize the counter and the open transactions."""
        return {
            "next_id": self.next_id,
            "open": [t.to_dict() for t in self.open.values()],
            "orphans": [t.to_dict() for t in self.orphans.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransactionBook:
        """Rebuild the book as it was saved."""
        transactions = [Transaction.from_dict(item) for item in data.get("open", [])]
        orphans = [Transaction.from_dict(item) for item in data.get("orphans", [])]
        return cls(
            next_id=data.get("next_id", 1),
            open={t.transaction_id: t for t in transactions},
            orphans={t.transaction_id: t for t in orphans},
        )
