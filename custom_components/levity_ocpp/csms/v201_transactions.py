"""OCPP 2.0.1 TransactionEvent: one message for start, progress and end of a session.

The events feed the same SessionManager as 1.6's Start/StopTransaction and
MeterValues, so sessions, the ledger, statistics, orphans and restarts behave
alike. The charger names its transactions with a string id; the central system
keeps its own session number for each (`Transaction.transaction_id`) and finds a
session by the charger's id (`TransactionBook.by_charger_id`).

Order: a charger numbers a transaction's events (seqNo). Readings go by their own
timestamps, whatever the order they arrive in; what describes the present (the
charging state, hence the connector's status) is taken only from the highest
seqNo seen. Events queued while the charger was offline may come after newer ones:
- an Updated for a session not seen yet opens it (its Started is still queued);
- a late Started gives the session its real start (time and register);
- an event older than the Ended already taken places its readings in the right
  hours of the finished session, whose total stays the charger's final word;
- events for a session the central system closed (the charger rebooted) complete
  it, as 1.6's late reports on an orphan do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import logging
from typing import Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.v201.enums import ReasonEnumType, TransactionEventEnumType

from .autostart import AutoStart
from .meter import MeterSample, energy_register
from .model import ChargePoint
from .sessions import SessionManager
from .transactions import CLOSED_BY_CHARGER, Transaction

_LOGGER = logging.getLogger(__name__)

STARTED = TransactionEventEnumType.started.value
ENDED = TransactionEventEnumType.ended.value

# Unknown transactions warned about per connection; the anomaly log has the rest.
MAX_LOGGED_UNKNOWN = 10

type StatusRefresh = Callable[[int, datetime], None]


def id_token_text(id_token: Mapping[str, Any] | None) -> str | None:
    """The id tag an IdTokenType carries (its `idToken`), None without one."""
    if not isinstance(id_token, Mapping):
        return None
    text = id_token.get("id_token")
    return text if isinstance(text, str) else None


def register_wh(samples: list[MeterSample], *, latest: bool) -> float | None:
    """The energy register of the earliest (or latest) sample that has one, in Wh."""
    for sample in reversed(samples) if latest else samples:
        if (register := energy_register(sample)) is not None:
            return register.kwh * 1000
    return None


@dataclass(frozen=True, slots=True)
class Event:
    """One TransactionEvent, validated and with its times judged."""

    type: str
    at: datetime
    seq_no: int
    info: Mapping[str, Any]  # transactionInfo
    samples: list[MeterSample]
    evse_id: int | None
    id_tag: str | None
    reservation_id: int | None = None
    offline: bool = False

    @property
    def transaction_id(self) -> str:
        """The charger's id of the transaction."""
        return str(self.info["transaction_id"])


class TransactionEvents:
    """Turns one connection's TransactionEvents into sessions."""

    def __init__(
        self,
        model: ChargePoint,
        sessions: SessionManager,
        refresh_status: StatusRefresh,
        auto_start: AutoStart | None,
    ) -> None:
        """Feed `sessions` with `model`'s events; `refresh_status(evse, at)` after state changes."""
        self._model = model
        self._sessions = sessions
        self._refresh_status = refresh_status
        self._auto_start = auto_start
        self._unknown_ends_logged: set[str] = set()

    async def handle(self, event: Event) -> None:
        """Apply one TransactionEvent (already validated, its times already judged)."""
        transaction = await self._session_of(event)
        if transaction is None:
            return
        authorized = bool(event.id_tag) and not transaction.id_tag
        if authorized:
            assert event.id_tag is not None
            transaction.id_tag = event.id_tag  # authorized after it began (EVConnected)
            if self._auto_start is not None:
                self._auto_start.transaction_started(self._model, transaction.connector_id)
        newest = transaction.seq_no is None or event.seq_no > transaction.seq_no
        state_changed = newest and self._take_sequence(transaction, event)
        if event.offline:
            _LOGGER.debug(
                "%s: event %s of transaction %s was queued offline",
                self._model.id,
                event.seq_no,
                transaction.charger_transaction_id,
            )
        connector_id = transaction.connector_id
        if event.type == ENDED:
            await self._stop(transaction, event)
        else:
            if event.samples:
                await self._sessions.meter_values(
                    self._model, connector_id, event.samples, transaction.transaction_id
                )
            elif authorized:
                self._model.notify(connector_id)
            # Its sequence number moves with every event: kept at the readings' pace.
            if state_changed or authorized:
                self._sessions.hooks.transactions_changed()
            else:
                self._sessions.hooks.transactions_metered()
        if newest:
            self._refresh_status(connector_id, event.at)

    @staticmethod
    def _take_sequence(transaction: Transaction, event: Event) -> bool:
        """Take the newest event's number and charging state; return whether that changed."""
        transaction.seq_no = event.seq_no
        state = event.info.get("charging_state")
        if state is None or str(state) == transaction.charging_state:
            return False
        transaction.charging_state = str(state)
        return True

    async def _session_of(self, event: Event) -> Transaction | None:
        """The open session an event is about, opened by it if need be.

        None when the event was about a finished session and has been taken as
        a late report on it.
        """
        charger_id = event.transaction_id
        transaction = self._sessions.book.by_charger_id(self._model.id, charger_id)
        if transaction is None:
            if (ended := self._ended(charger_id)) is not None:
                # Older than the Ended taken already (or its resend).
                if event.samples:
                    await self._sessions.late_readings(self._model, ended, event.samples)
                return None
            if event.type == ENDED:
                self._unknown_end(charger_id, event.at)
                return None
            return await self._open(event)
        if not transaction.is_open:  # closed by the central system: the charger reports late
            if event.type == ENDED:
                await self._stop(transaction, event)
            elif event.samples:
                await self._sessions.meter_values(
                    self._model, transaction.connector_id, event.samples, transaction.transaction_id
                )
            return None
        if event.type == STARTED:
            self._late_start(transaction, event)
        return transaction

    async def _open(self, event: Event) -> Transaction:
        """A session the charger began: its Started, or a later event if that is late."""
        if event.evse_id is None:
            raise OccurrenceConstraintViolationError(
                details={"cause": f"evse is required: transaction {event.transaction_id} is new"}
            )
        transaction = await self._sessions.start(
            self._model,
            event.evse_id,
            event.id_tag or "",
            event.at,
            # Without its Started, the start is unknown: the register known before stands in.
            register_wh(event.samples, latest=False) if event.type == STARTED else None,
            event.reservation_id,
            charger_transaction_id=event.transaction_id,
        )
        if self._auto_start is not None and event.id_tag:
            # Begun without one (at plug-in), it waits to be authorized: perhaps by us.
            self._auto_start.transaction_started(self._model, event.evse_id)
        return transaction

    def _late_start(self, transaction: Transaction, event: Event) -> None:
        """A Started after later events of its session (or resent): the real start."""
        transaction.started_at = min(transaction.started_at, event.at)
        start_wh = register_wh(event.samples, latest=False)
        if start_wh is not None and 0 <= start_wh < transaction.meter_start_wh:
            transaction.meter_start_wh = transaction.continuous(start_wh)
            transaction.meter_start_pending = False

    async def _stop(self, transaction: Transaction, event: Event) -> None:
        await self._sessions.stop(
            self._model,
            transaction.transaction_id,
            event.at,
            register_wh(event.samples, latest=True),
            str(event.info.get("stopped_reason") or ReasonEnumType.local.value),
            event.id_tag,
            event.samples,
        )

    def _ended(self, charger_id: str) -> Transaction | None:
        """The session with this id the charger ended already (its connector's last)."""
        for connector in self._model.connectors.values():
            last = connector.last_transaction
            if (
                last is not None
                and last.charger_transaction_id == charger_id
                and last.closed_by == CLOSED_BY_CHARGER
            ):
                return last
        return None

    def _unknown_end(self, charger_id: str, at: datetime) -> None:
        """An Ended for a session never seen: its energy cannot be known, as in 1.6."""
        self._model.record_anomaly(
            f"TransactionEvent Ended for unknown transaction {charger_id} at {at.isoformat()}"
        )
        if len(self._unknown_ends_logged) < MAX_LOGGED_UNKNOWN and (
            charger_id not in self._unknown_ends_logged
        ):
            self._unknown_ends_logged.add(charger_id)
            _LOGGER.warning(
                "%s ended transaction %s, which it never started here; ignored",
                self._model.id,
                charger_id,
            )
        self._model.notify()
