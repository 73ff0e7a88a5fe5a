"""One correction per burst when a charger completes a stopped session late.

A charger that reconnects after a reboot sends its queued MeterValues in a burst;
each may extend the session the central system closed for it. The ledger takes
every change at once (in memory, saved soon); the recorder event and the
statistics correction follow once the burst is over, or at once when the
charger's StopTransaction settles the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .csms.model import ChargePoint
from .csms.transactions import Transaction

# Seconds without a further change before a burst's correction is recorded.
AMENDMENT_DELAY = 10.0

# Records one correction: (charge point, session, its energy per hour before).
type RecordAmendment = Callable[[ChargePoint, Transaction, dict[str, float]], None]


@dataclass(slots=True)
class _Pending:
    charge_point: ChargePoint
    transaction: Transaction
    previous_hourly_kwh: dict[str, float]
    cancel: CALLBACK_TYPE


class SessionAmendments:
    """Coalesces the corrections of each stopped session into one."""

    def __init__(self, hass: HomeAssistant, record: RecordAmendment) -> None:
        """Call `record` once per burst of corrections of a session."""
        self._hass = hass
        self._record = record
        self._pending: dict[int, _Pending] = {}

    @callback
    def amend(
        self,
        charge_point: ChargePoint,
        transaction: Transaction,
        previous_hourly_kwh: dict[str, float],
        *,
        final: bool,
    ) -> None:
        """Record a correction now (`final`) or once no other follows for a while."""
        if (pending := self._pending.pop(transaction.transaction_id, None)) is not None:
            pending.cancel()
            # What the statistics still hold: the burst's first "before".
            previous_hourly_kwh = pending.previous_hourly_kwh
        if final:
            self._record(charge_point, transaction, previous_hourly_kwh)
            return

        @callback
        def due(_now: datetime) -> None:
            if (done := self._pending.pop(transaction.transaction_id, None)) is not None:
                self._record(done.charge_point, done.transaction, done.previous_hourly_kwh)

        self._pending[transaction.transaction_id] = _Pending(
            charge_point,
            transaction,
            previous_hourly_kwh,
            async_call_later(self._hass, AMENDMENT_DELAY, due),
        )

    @callback
    def flush(self) -> None:
        """Record every pending correction now (the entry is unloading)."""
        pending, self._pending = self._pending, {}
        for item in pending.values():
            item.cancel()
            self._record(item.charge_point, item.transaction, item.previous_hourly_kwh)
