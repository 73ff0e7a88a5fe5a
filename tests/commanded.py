"""A test charge point that answers the central system's commands as it is told to."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from .client import DEFAULT_CONFIGURATION, ConfiguredChargePoint

# Each command's confirmation, with the fields it needs besides a status.
_REPLIES: dict[str, tuple[type[Any], dict[str, Any]]] = {
    Action.remote_start_transaction: (call_result.RemoteStartTransaction, {}),
    Action.remote_stop_transaction: (call_result.RemoteStopTransaction, {}),
    Action.reset: (call_result.Reset, {}),
    Action.unlock_connector: (call_result.UnlockConnector, {"status": "Unlocked"}),
    Action.change_availability: (call_result.ChangeAvailability, {}),
    Action.change_configuration: (call_result.ChangeConfiguration, {}),
    Action.trigger_message: (call_result.TriggerMessage, {}),
    Action.set_charging_profile: (call_result.SetChargingProfile, {}),
    Action.clear_charging_profile: (call_result.ClearChargingProfile, {}),
    Action.get_composite_schedule: (call_result.GetCompositeSchedule, {}),
    Action.data_transfer: (call_result.DataTransfer, {"data": "pong"}),
    Action.get_diagnostics: (call_result.GetDiagnostics, {"file_name": "diag.zip"}),
    Action.update_firmware: (call_result.UpdateFirmware, {}),
    Action.reserve_now: (call_result.ReserveNow, {}),
    Action.cancel_reservation: (call_result.CancelReservation, {}),
    Action.get_local_list_version: (call_result.GetLocalListVersion, {"list_version": 3}),
    Action.send_local_list: (call_result.SendLocalList, {}),
    Action.clear_cache: (call_result.ClearCache, {}),
}


# Confirmations that carry no status.
_WITHOUT_STATUS = frozenset(
    {Action.get_diagnostics, Action.update_firmware, Action.get_local_list_version}
)


class CommandedChargePoint(ConfiguredChargePoint):
    """Answers every command Accepted unless told otherwise; remembers what it was sent.

    `statuses` overrides an action's status, `errors` answers it with a CALLERROR,
    `silent` never answers it.
    """

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [
        *DEFAULT_CONFIGURATION,
        {
            "key": "SupportedFeatureProfiles",
            "readonly": True,
            "value": "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
            "SmartCharging,RemoteTrigger",
        },
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start with every command accepted."""
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.statuses: dict[str, str] = {}
        self.errors: dict[str, OCPPError] = {}
        self.silent: set[str] = set()
        self.delay: float = 0.0

    async def answer(self, action: str, payload: dict[str, Any]) -> Any:
        """Record the request and answer it as configured."""
        self.received.append((action, payload))
        if self.delay:
            await asyncio.sleep(self.delay)
        if action in self.silent:
            await asyncio.Event().wait()
        if (error := self.errors.get(action)) is not None:
            raise error
        cls, fields = _REPLIES[action]
        if action not in _WITHOUT_STATUS:
            default = fields.get("status", "Accepted")
            fields = {**fields, "status": self.statuses.get(action, default)}
        return cls(**fields)


def _handler(action: str) -> Any:
    async def handle(self: CommandedChargePoint, **payload: Any) -> Any:
        return await self.answer(action, payload)

    handle.__name__ = f"on_{action}"
    return on(action)(handle)


for _action in _REPLIES:
    setattr(CommandedChargePoint, f"on_{_action}", _handler(_action))
