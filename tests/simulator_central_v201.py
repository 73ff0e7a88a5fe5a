"""A tiny OCPP 2.0.1 central system for the simulator's tests: the ``ocpp`` library's
v201 ChargePoint on the server side of a real websocket on 127.0.0.1.

It answers every message the simulated station sends (schema-checked by the
library both ways), logs them in order, and lets a test send commands and wait
for what comes back. Like ``simulator_central`` for 1.6.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, RegistrationStatusEnumType
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from scripts.simulator.v201_core import SimulatedChargingStation

from .simulator_central import Central


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Central201(Central):
    """What the 2.0.1 central system has seen, and how it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.registration = RegistrationStatusEnumType.accepted
        self.boot_interval = 60
        self.token_status = AuthorizationStatusEnumType.accepted
        self.event_delay = 0.0  # how long a TransactionEvent waits for its answer

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        return self.sent("TransactionEvent", since)


class CentralLink201(ChargePoint):
    """The server side of one simulated station's connection."""

    def __init__(self, cp_id: str, ws: ServerConnection, central: Central201) -> None:
        super().__init__(cp_id, ws, response_timeout=2)
        self.central = central

    @on(Action.boot_notification)
    def on_boot(self, **kwargs: Any) -> call_result.BootNotification:
        self.central.record("BootNotification", kwargs)
        return call_result.BootNotification(
            now_iso(), self.central.boot_interval, self.central.registration
        )

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

    @on(Action.transaction_event)
    async def on_transaction_event(self, **kwargs: Any) -> call_result.TransactionEvent:
        self.central.record("TransactionEvent", kwargs)
        await asyncio.sleep(self.central.event_delay)
        if kwargs.get("id_token") is None:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(id_token_info={"status": self.central.token_status})

    @on(Action.notify_report)
    def on_notify_report(self, **kwargs: Any) -> call_result.NotifyReport:
        self.central.record("NotifyReport", kwargs)
        return call_result.NotifyReport()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, **kwargs: Any) -> call_result.ReportChargingProfiles:
        self.central.record("ReportChargingProfiles", kwargs)
        return call_result.ReportChargingProfiles()

    @on(Action.log_status_notification)
    def on_log_status(self, **kwargs: Any) -> call_result.LogStatusNotification:
        self.central.record("LogStatusNotification", kwargs)
        return call_result.LogStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **kwargs: Any) -> call_result.FirmwareStatusNotification:
        self.central.record("FirmwareStatusNotification", kwargs)
        return call_result.FirmwareStatusNotification()


@contextlib.asynccontextmanager
async def central_system_v201() -> AsyncIterator[tuple[Central201, str]]:
    """Serve on a free port of 127.0.0.1; yield the central and a station URL."""
    central = Central201()

    async def handler(ws: ServerConnection) -> None:
        link = CentralLink201("SIM1", ws, central)
        central.link = link  # type: ignore[assignment]
        with contextlib.suppress(ConnectionClosed):
            await link.start()

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        yield central, f"ws://127.0.0.1:{port}/SIM1"


def fast_station(url: str, **kwargs: Any) -> SimulatedChargingStation:
    """A station that samples every 0.05 s and charges 100 times faster than real."""
    settings: dict[str, Any] = {
        "interval": 0.05,
        "speed": 100,
        "energy_wh": 100_000,
        "retry_delay": 0.05,
        "response_timeout": 5,
        "transfer_seconds": 0.5,
        "aligned_interval": 0,
        "seed": 1,
        **kwargs,
    }
    return SimulatedChargingStation(url, **settings)


def sampled(event: dict[str, Any], measurand: str) -> float:
    """The value of an un-phased measurand in a TransactionEvent or MeterValues payload."""
    for value in event["meter_value"][-1]["sampled_value"]:
        if value.get("measurand") == measurand and value.get("phase") is None:
            return float(value["value"])
    raise AssertionError(f"no {measurand} in {event}")
