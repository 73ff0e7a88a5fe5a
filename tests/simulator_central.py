"""A tiny OCPP 1.6 central system for the simulator's tests: the ``ocpp`` library's
v16 ChargePoint on the server side of a real websocket on 127.0.0.1.

It answers every charger-initiated message, logs them in order, and lets a test
send commands to the connected simulator and wait for what it sends back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from scripts.simulator import SimulatedChargePoint

type Message = tuple[str, dict[str, Any]]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Central:
    """What the central system has seen; the current connection to call through."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.link: CentralLink | None = None
        self.next_transaction_id = 1
        self._new = asyncio.Event()

    def record(self, action: str, payload: dict[str, Any]) -> None:
        self.messages.append((action, payload))
        self._new.set()

    def mark(self) -> int:
        """A position in the log: wait_for(since=mark) sees only what came later."""
        return len(self.messages)

    def after(self, payload: dict[str, Any]) -> int:
        """The position just after a message that wait_for returned."""
        return next(i for i, (_, p) in enumerate(self.messages) if p is payload) + 1

    def sent(self, action: str, since: int = 0) -> list[dict[str, Any]]:
        return [p for a, p in self.messages[since:] if a == action]

    async def wait_for(
        self,
        action: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        *,
        since: int = 0,
        within: float = 5.0,
    ) -> dict[str, Any]:
        """The first message ``action`` (matching ``where``) after ``since``."""
        async with asyncio.timeout(within):
            while True:
                self._new.clear()
                for a, payload in self.messages[since:]:
                    if a == action and (where is None or where(payload)):
                        return payload
                await self._new.wait()

    async def status(self, status: str, connector_id: int = 1, *, since: int = 0) -> None:
        await self.wait_for(
            "StatusNotification",
            lambda p: p["status"] == status and p["connector_id"] == connector_id,
            since=since,
        )

    async def call(self, payload: Any) -> Any:
        """Send a command to the simulator; CALLERRORs raise."""
        assert self.link is not None
        return await self.link.call(payload, suppress=False)


class CentralLink(ChargePoint):
    """The server side of one simulator connection."""

    def __init__(self, cp_id: str, ws: ServerConnection, central: Central) -> None:
        super().__init__(cp_id, ws, response_timeout=1)
        self.central = central

    @on(Action.boot_notification)
    def on_boot(self, **kwargs: Any) -> call_result.BootNotification:
        self.central.record("BootNotification", kwargs)
        return call_result.BootNotification(now_iso(), 60, RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: Any) -> call_result.Heartbeat:
        self.central.record("Heartbeat", kwargs)
        return call_result.Heartbeat(now_iso())

    @on(Action.status_notification)
    def on_status(self, **kwargs: Any) -> call_result.StatusNotification:
        self.central.record("StatusNotification", kwargs)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, **kwargs: Any) -> call_result.MeterValues:
        self.central.record("MeterValues", kwargs)
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start(self, **kwargs: Any) -> call_result.StartTransaction:
        self.central.record("StartTransaction", kwargs)
        transaction_id = self.central.next_transaction_id
        self.central.next_transaction_id += 1
        return call_result.StartTransaction(
            transaction_id, {"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **kwargs: Any) -> call_result.StopTransaction:
        self.central.record("StopTransaction", kwargs)
        return call_result.StopTransaction()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics(self, **kwargs: Any) -> call_result.DiagnosticsStatusNotification:
        self.central.record("DiagnosticsStatusNotification", kwargs)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware(self, **kwargs: Any) -> call_result.FirmwareStatusNotification:
        self.central.record("FirmwareStatusNotification", kwargs)
        return call_result.FirmwareStatusNotification()


@contextlib.asynccontextmanager
async def central_system() -> AsyncIterator[tuple[Central, str]]:
    """Serve on a free port of 127.0.0.1; yield the central and a charge point URL."""
    central = Central()

    async def handler(ws: ServerConnection) -> None:
        link = CentralLink("SIM1", ws, central)
        central.link = link
        with contextlib.suppress(ConnectionClosed):
            await link.start()

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        yield central, f"ws://127.0.0.1:{port}/SIM1"


def fast_simulator(url: str, **kwargs: Any) -> SimulatedChargePoint:
    """A simulator that samples every 0.05 s and charges 100 times faster than real."""
    settings: dict[str, Any] = {
        "interval": 0.05,
        "speed": 100,
        "energy_wh": 100_000,
        "retry_delay": 0.05,
        "response_timeout": 5,
        "transfer_seconds": 0.5,
        "seed": 1,
        **kwargs,
    }
    return SimulatedChargePoint(url, **settings)


def sampled(payload: dict[str, Any], measurand: str) -> float:
    """The value of an un-phased measurand in a MeterValues payload."""
    for value in payload["meter_value"][-1]["sampled_value"]:
        if value.get("measurand") == measurand and value.get("phase") is None:
            return float(value["value"])
    raise AssertionError(f"no {measurand} in {payload}")
