"""The OCPP 2.0.1 connection: the commands the simulated station answers, and their "no".

Each command in ``COMMANDS`` goes to the station's ``v201_<action>`` method;
every other 2.0.1 command is answered CALLERROR NotImplemented by the library,
as a charger without that feature does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import (
    Action,
    ChangeAvailabilityStatusEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileStatusEnumType,
    ClearChargingProfileStatusEnumType,
    DataTransferStatusEnumType,
    GenericDeviceModelStatusEnumType,
    GenericStatusEnumType,
    GetChargingProfileStatusEnumType,
    RequestStartStopStatusEnumType,
    ResetStatusEnumType,
    TriggerMessageStatusEnumType,
    UnlockStatusEnumType,
)

from .behaviour import Rules
from .charge_point import LinkBase, route

HANDLER_PREFIX = "v201_"

# The refusal each command gets when told to refuse it: its own "no".
REJECTIONS: dict[str, Callable[[], Any]] = {
    Action.request_start_transaction: lambda: call_result.RequestStartTransaction(
        RequestStartStopStatusEnumType.rejected
    ),
    Action.request_stop_transaction: lambda: call_result.RequestStopTransaction(
        RequestStartStopStatusEnumType.rejected
    ),
    Action.reset: lambda: call_result.Reset(ResetStatusEnumType.rejected),
    Action.unlock_connector: lambda: call_result.UnlockConnector(
        UnlockStatusEnumType.unlock_failed
    ),
    Action.trigger_message: lambda: call_result.TriggerMessage(
        TriggerMessageStatusEnumType.rejected
    ),
    Action.change_availability: lambda: call_result.ChangeAvailability(
        ChangeAvailabilityStatusEnumType.rejected
    ),
    Action.set_charging_profile: lambda: call_result.SetChargingProfile(
        ChargingProfileStatusEnumType.rejected
    ),
    Action.clear_charging_profile: lambda: call_result.ClearChargingProfile(
        ClearChargingProfileStatusEnumType.unknown
    ),
    Action.get_charging_profiles: lambda: call_result.GetChargingProfiles(
        GetChargingProfileStatusEnumType.no_profiles
    ),
    Action.get_composite_schedule: lambda: call_result.GetCompositeSchedule(
        GenericStatusEnumType.rejected
    ),
    Action.get_base_report: lambda: call_result.GetBaseReport(
        GenericDeviceModelStatusEnumType.rejected
    ),
    Action.data_transfer: lambda: call_result.DataTransfer(DataTransferStatusEnumType.rejected),
}
# GetVariables and SetVariables say no per variable, GetTransactionStatus never.
COMMANDS = frozenset(
    (*REJECTIONS, Action.get_variables, Action.set_variables, Action.get_transaction_status)
)
V201_RULES = Rules(REJECTIONS, COMMANDS, ChargingProfilePurposeEnumType)


class Link(LinkBase, ChargePoint):
    """An OCPP 2.0.1 connection of the simulated station."""


route(Link, COMMANDS, HANDLER_PREFIX)
