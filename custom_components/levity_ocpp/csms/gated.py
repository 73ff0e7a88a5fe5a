"""What a connection may send before its charger is accepted, for every OCPP version.

Until a BootNotification of it is Accepted (admission.py), a charger may only
boot: any other request is answered SecurityError (OCPP 2.0.1 B02.FR.09 and
B03.FR.07 name it; 1.6 says such a charger sends nothing else) and reaches
nothing. The version's handler answers the boot itself, asking the gate.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import SecurityError
from ocpp.messages import Call

from .admission import Gate
from .guards import ConnectionGuard
from .model import ChargePoint
from .rpc import FramedChargePoint


class GatedChargePoint(FramedChargePoint):
    """A connection whose requests pass its gate before any handler sees them."""

    def __init__(
        self,
        model: ChargePoint,
        connection: Any,
        response_timeout: float,
        gate: Gate,
        guard: ConnectionGuard | None = None,
    ) -> None:
        """Handle one connection of `model`; `gate` says what it may send."""
        super().__init__(model, connection, response_timeout, guard)
        self.gate = gate

    async def _handle_call(self, msg: Call) -> None:
        """Refuse what a charger not accepted yet may not send; handle the rest."""
        if self.gate.refuses(msg.action):
            await self._send_error(
                msg.unique_id,
                SecurityError(
                    description="The charge point is not accepted by the central system",
                    details={"cause": f"{msg.action} before an accepted BootNotification"},
                ),
            )
            return
        await super()._handle_call(msg)

    async def request_boot(self) -> None:
        """Ask for a BootNotification now (the user just approved the charger)."""
        with self.cancelled_on_shutdown():
            await self._ask_to_boot()

    async def _ask_to_boot(self) -> None:
        """Send this version's TriggerMessage(BootNotification)."""
        raise NotImplementedError
