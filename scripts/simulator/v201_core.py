"""The simulated OCPP 2.0.1 charging station: a ``SimulatedChargePoint`` speaking 2.0.1.

What is the same in both versions is the 1.6 simulator's and shared: connecting
and reconnecting, the offline queue, sessions, the meter physics, the profile
stack. What 2.0.1 says differently lives in the ``v201_*`` modules: the link and
its commands (``v201_link``, ``v201_commands``, ``v201_charging``), the device
model (``v201_device_model``), TransactionEvents and StatusNotification per EVSE
(``v201_transactions``) and the meter values (``v201_sampling``). Each EVSE has
one connector (number 1); the neutral connector id is the EVSE id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from ocpp.v201 import call, datatypes
from ocpp.v201.enums import BootReasonEnumType, ConnectorStatusEnumType
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from .charge_point import LinkBase
from .core import DEFAULT_URL, SimulatedChargePoint
from .v201_charging import Charging
from .v201_commands import Commands
from .v201_device_model import DeviceModel, Key, default_variables
from .v201_link import V201_RULES, Link
from .v201_transactions import Transactions, charging_state, connector_status

SUBPROTOCOL = Subprotocol("ocpp2.0.1")
DEFAULT_ALIGNED_SECONDS = 60.0
RATE_UNITS = ("A", "W")


class SimulatedChargingStation(Transactions, Commands, Charging, SimulatedChargePoint):
    """A scriptable OCPP 2.0.1 charging station; see :class:`SimulatedChargePoint`.

    ``rate_units`` are the units its schedules may be in (SmartChargingCtrlr.RateUnit);
    every ``aligned_interval`` seconds it sends each EVSE's clock-aligned meter values
    (MeterValues, or a TransactionEvent during a transaction; 0: never). Command
    names in ``reject`` and the like are 2.0.1 actions (RequestStartTransaction...).
    """

    RULES = V201_RULES
    SUBPROTOCOL = SUBPROTOCOL

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        rate_units: str = "A,W",
        aligned_interval: float = DEFAULT_ALIGNED_SECONDS,
        **settings: Any,
    ) -> None:
        """Configure the station; nothing happens until ``run()``."""
        super().__init__(url, **settings)
        units = [unit.strip() for unit in rate_units.split(",") if unit.strip()]
        if not units or any(unit not in RATE_UNITS for unit in units):
            raise ValueError("rate_units must be A, W or A,W")
        if aligned_interval < 0:
            raise ValueError("aligned_interval must be 0 (never) or more")
        self.boot_reason = BootReasonEnumType.power_up
        self._aligned_wakeup = asyncio.Event()
        self._offered_before: dict[int, tuple[float, int]] = {}
        self.device_model = DeviceModel(
            default_variables(
                len(self.connectors),
                heartbeat_s=self.heartbeat_interval,
                interval_s=self.interval,
                aligned_s=aligned_interval,
                phases=self.phases,
                amps=self.amps,
                volts=self.volts,
                rate_units=",".join(units),
            ),
            live=self._live,
            changed=self._changed,
        )

    def connector_status(self, evse_id: int = 1) -> ConnectorStatusEnumType:
        """An EVSE's connector status as it reports it."""
        return connector_status(self._connector(evse_id).status)

    def charging_state(self, evse_id: int = 1) -> str:
        """An EVSE's charging state as its transaction reports it."""
        return charging_state(self._connector(evse_id).status)

    def power_cycle(self) -> None:
        """A power cut: the running transactions end (PowerLoss) once it is back."""
        self.boot_reason = BootReasonEnumType.power_up
        super().power_cycle()

    def _new_link(self, ws: ClientConnection) -> Link:
        return Link(self, ws)

    def _heartbeat_payload(self) -> Any:
        return call.Heartbeat()

    def _boot_payload(self) -> Any:
        return call.BootNotification(
            charging_station=datatypes.ChargingStationType(
                vendor_name=self.vendor,
                model=self.model,
                serial_number=self.serial,
                firmware_version=self.firmware,
            ),
            reason=self.boot_reason,
        )

    async def _boot(self, link: LinkBase) -> None:
        await super()._boot(link)
        self.boot_reason = BootReasonEnumType.power_up  # until a reset or trigger says else

    def _take_heartbeat_interval(self, seconds: int) -> None:
        self.heartbeat_interval = float(seconds)
        key: Key = ("OCPPCommCtrlr", None, None, None, "HeartbeatInterval", None)
        self.device_model.variables[key].value = str(seconds)

    def _online_loops(self, link: LinkBase) -> list[Coroutine[Any, Any, None]]:
        return [*super()._online_loops(link), self._aligned_loop(link)]

    def _switches_phases(self) -> bool:
        return self.device_model.value("SmartChargingCtrlr", "Phases3to1") == "true"

    def _live(self, key: Key) -> str | None:
        """The variables that follow the station's state (AvailabilityState)."""
        component, _, evse_id, _, variable, _ = key
        if variable != "AvailabilityState":
            return None
        if component == "ChargingStation":
            return "Available" if self.operative else "Unavailable"
        if evse_id in self.connectors:
            return connector_status(self.connectors[evse_id].status)
        return None

    def _changed(self, key: Key, value: str) -> None:
        """Apply a variable the central system set (B05)."""
        match key[0], key[4]:
            case "OCPPCommCtrlr", "HeartbeatInterval":
                self.heartbeat_interval = float(value) or 60.0
                self._hb_wakeup.set()
            case "SampledDataCtrlr", "TxUpdatedInterval" if float(value) > 0:
                self.interval = float(value)
            case "AlignedDataCtrlr", "Interval" | "Enabled":
                self._aligned_wakeup.set()
