"""Start charging when a car is plugged in (Levity's default behaviour).

Many chargers in OCPP mode wait in Preparing until the central system starts
them (Grizzl-E, Wallbox, Autel, Easee). When a connector goes to Preparing and
has no transaction, the central system sends RemoteStartTransaction after a
short delay (the Grizzl-E needs one). An OCPP 2.0.1 charger that begins its
transaction at plug-in (TxStartPoint EVConnected) waits the same way, with a
transaction that has no id tag yet: it is started too. Once per plug-in: a transaction on the
connector (ours or the charger's own) uses it up, and only the car leaving
(Available) arms it again, so a session the user stopped is not restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import logging

from ocpp.v16.enums import ChargePointStatus

from .commands import CommandFailed, CommandResult, StartCharging
from .model import ChargePoint, utcnow
from .transactions import Transaction

_LOGGER = logging.getLogger(__name__)

DEFAULT_DELAY_S = 1.0
DEFAULT_ID_TAG = "HomeAssistant"

PLUGGED_IN = ChargePointStatus.preparing.value
# Statuses in which no car is at the connector: the next Preparing is a new plug-in.
UNPLUGGED = frozenset({ChargePointStatus.available.value})

# A card presented this recently at the charger starts the session itself: Preparing
# then means "authorized, waiting for the car", not a car for us to start.
CARD_GRACE = timedelta(seconds=90)

type Execute = Callable[[str, StartCharging], Awaitable[CommandResult]]
# Whether a charge point lets only known cards charge: there a card decides, and
# starting every plugged-in car with our own tag would let anyone charge.
type CardRequired = Callable[[str], bool]


@dataclass
class AutoStart:
    """Decides when to start a connector, and starts it."""

    execute: Execute
    delay_s: float = DEFAULT_DELAY_S
    id_tag: str = DEFAULT_ID_TAG
    card_required: CardRequired = lambda _charge_point_id: False
    # Connectors whose plug-in has been used (by a start, ours or the charger's).
    _used: set[tuple[str, int]] = field(default_factory=set)
    _pending: dict[tuple[str, int], asyncio.Task[None]] = field(default_factory=dict)

    def status_changed(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A connector reported a status: perhaps a car was plugged in (or left)."""
        key = (charge_point.id, connector_id)
        status = charge_point.connector(connector_id).status
        if status in UNPLUGGED:
            self._used.discard(key)
            self._cancel(key)
            return
        if status != PLUGGED_IN or not charge_point.auto_start or connector_id == 0:
            return
        if self.card_required(charge_point.id):
            _LOGGER.debug("%s takes only known cards: no automatic start", charge_point.id)
            return
        if key in self._used or key in self._pending:
            return
        if _authorized(charge_point.connector(connector_id).transaction):
            self._used.add(key)
            return
        task = asyncio.create_task(
            self._start_later(charge_point, connector_id),
            name=f"levity_ocpp auto start {charge_point.id} connector {connector_id}",
        )
        self._pending[key] = task
        task.add_done_callback(lambda _: self._pending.pop(key, None))

    def transaction_started(self, charge_point: ChargePoint, connector_id: int) -> None:
        """A transaction began on the connector: this plug-in is used."""
        self._used.add((charge_point.id, connector_id))
        self._cancel((charge_point.id, connector_id))

    async def stop(self) -> None:
        """Cancel the starts still waiting for their delay."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _cancel(self, key: tuple[str, int]) -> None:
        if (task := self._pending.get(key)) is not None and task is not asyncio.current_task():
            task.cancel()

    async def _start_later(self, charge_point: ChargePoint, connector_id: int) -> None:
        await asyncio.sleep(self.delay_s)
        connector = charge_point.connector(connector_id)
        key = (charge_point.id, connector_id)
        card = charge_point.last_authorize
        if (
            connector.status != PLUGGED_IN
            or _authorized(connector.transaction)
            or not charge_point.auto_start
            or self.card_required(charge_point.id)
            or key in self._used
            or (card is not None and utcnow() - card < CARD_GRACE)
        ):
            return
        self._used.add(key)
        command = StartCharging(self.id_tag, connector_id)
        try:
            result = await self.execute(charge_point.id, command)
        except CommandFailed as error:
            _LOGGER.warning("Automatic start of %s connector %s: %s", *key, error)
            self._used.discard(key)  # not started: the next Preparing may try again
            return
        if not result.succeeded:
            _LOGGER.warning(
                "%s refused the automatic start of connector %s: %s", *key, result.status
            )
            return
        _LOGGER.info("%s connector %s: car plugged in, charging started", *key)


def _authorized(transaction: Transaction | None) -> bool:
    """Whether a transaction runs with an id tag (one without waits to be started)."""
    return transaction is not None and bool(transaction.id_tag)
