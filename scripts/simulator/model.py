"""The simulator's state that survives reconnects: connectors, sessions; its errors."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, Reason

BATTERY_WH = 60_000.0
AMBIENT_C = 22.0


class Fault(StrEnum):
    """A failure injected halfway through a session."""

    REBOOT = "reboot"  # power cycle: drop the socket, boot again, no StopTransaction
    OFFLINE = "offline"  # network loss: buffer MeterValues, reconnect, flush


class SimulatorError(Exception):
    """Base class of the simulator's errors."""


class ConnectionFailed(SimulatorError):
    """The central system could not be reached (bad URL or retries exhausted)."""


class SessionError(SimulatorError):
    """A charging session could not be started."""


class Disconnected(Exception):
    """The websocket went away while a CALL was in flight."""


def now_iso() -> str:
    """Return the current UTC time as an OCPP timestamp."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Session:
    """A charging session: one or more transactions delivering ``target_wh``.

    It spans several transactions only when a power cycle interrupts it: the
    lost transaction is never stopped and a new one delivers the rest.
    """

    connector_id: int
    id_tag: str
    target_wh: float
    soc_start: float
    delivered_wh: float = 0.0
    transaction_id: int | str | None = None  # OCPP 2.0.1: the charger names it
    transaction_ids: list[int | str] = field(default_factory=list)
    transaction_started: datetime | None = None  # where Relative charging schedules start
    reservation_id: int | None = None
    charging_profile: dict[str, Any] | None = None  # RemoteStart's, installed at StartTransaction
    remote_start_id: int | None = None  # OCPP 2.0.1 RequestStartTransaction's
    id_token_type: str = "Central"  # OCPP 2.0.1: the kind of token the id tag is
    seq_no: int = 0  # OCPP 2.0.1: the next TransactionEvent's number in the transaction
    stop_reason: Reason | None = None
    interrupted: bool = False
    fault_done: bool = False
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Future[int | str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None

    @property
    def soc(self) -> float:
        """State of charge of the simulated EV in percent."""
        return min(100.0, self.soc_start + self.delivered_wh / BATTERY_WH * 100)


@dataclass(frozen=True)
class Reservation:
    """A ReserveNow in force: only ``id_tag`` may start a session until ``expiry``."""

    reservation_id: int
    id_tag: str
    expiry: datetime
    parent_id_tag: str | None = None


@dataclass
class Connector:
    """State of one connector, including its energy meter register."""

    connector_id: int
    meter_wh: float
    status: ChargePointStatus = ChargePointStatus.available
    error_code: ChargePointErrorCode = ChargePointErrorCode.no_error
    operative: bool = True
    inoperative_pending: bool = False
    session: Session | None = None
    reservation: Reservation | None = None
    voltages: list[float] = field(default_factory=list)
    currents: list[float] = field(default_factory=list)
    power_w: float = 0.0
    temperature_c: float = AMBIENT_C
