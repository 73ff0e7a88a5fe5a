"""The version-neutral commands as OCPP 2.0.1 messages, and the answers back.

`to_call(command, charge_point)` builds the request from the command and what the
charger reported (its model): the EVSE is the neutral connector id, a connector
within it is connector 1. A command 2.0.1 cannot say, or one that breaks a rule
the charger would refuse it for, raises CommandNotApplicable saying why, before
anything is sent. `to_result(response)` gives the answer as 1.6's would read:
the same statuses, the same data keys where Home Assistant reads them.
"""

from __future__ import annotations

from datetime import datetime
import re
from typing import Any

from ocpp.v201 import call, datatypes
from ocpp.v201.enums import (
    IdTokenEnumType,
    LogEnumType,
    MessageTriggerEnumType,
    OperationalStatusEnumType,
    ResetEnumType,
    UpdateEnumType,
)

from . import commands as c
from .model import CHARGE_POINT_CONNECTOR, ChargePoint, utcnow
from .timestamps import format_timestamp
from .v201_profiles import (
    PURPOSE,
    UNIT,
    ProfileRefused,
    charger_transaction_id,
    check_unit,
    checked_profile,
    names,
    start_profile,
)
from .v201_results import to_result
from .v201_variables import V16_KEYS, station_value, value_to_v201, variable_for

__all__ = ["REQUEST_IDS", "RequestIds", "id_token", "to_call", "to_result"]

# A connector within an EVSE: the neutral commands name EVSEs, and nearly every
# EVSE has a single connector, number 1.
CONNECTOR_IN_EVSE = 1
MAX_INT32 = 2**31 - 1
# The 1.6 name of a message 2.0.1 renamed.
_TRIGGERS: dict[str, MessageTriggerEnumType] = {
    **{trigger.value: trigger for trigger in MessageTriggerEnumType},
    "DiagnosticsStatusNotification": MessageTriggerEnumType.log_status_notification,
}
# What a card reader reports: a 4, 7 or 10 byte UID in hex.
_CARD_UID = re.compile(r"(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})")


class RequestIds:
    """Ids for requests answered later (remoteStartId, GetLog, UpdateFirmware).

    Seconds since 1970 at start-up, then one more each time: a restart starts above
    every id of the previous run unless that run made more requests than it lasted
    seconds.
    """

    def __init__(self, start: datetime | None = None) -> None:
        """Start at the given time (now if none), within OCPP's 32-bit integers."""
        self._last = int((start or utcnow()).timestamp()) % MAX_INT32

    def next(self) -> int:
        """An id not used before in this run."""
        self._last = self._last % MAX_INT32 + 1
        return self._last


REQUEST_IDS = RequestIds()


def id_token(value: str) -> datatypes.IdTokenType:
    """An id tag as a 2.0.1 token: a card's UID is an ISO14443 one, others are ours."""
    kind = IdTokenEnumType.iso14443 if _CARD_UID.fullmatch(value) else IdTokenEnumType.central
    return datatypes.IdTokenType(id_token=value, type=kind)


def _time(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _evse(connector_id: int | None) -> datatypes.EVSEType | None:
    """An EVSE, or None for the charger as a whole (0)."""
    if connector_id is None or connector_id == CHARGE_POINT_CONNECTOR:
        return None
    return datatypes.EVSEType(id=connector_id)


def to_call(  # noqa: PLR0911, PLR0912
    command: c.Command, charge_point: ChargePoint, *, request_id: int | None = None
) -> Any:
    """The OCPP 2.0.1 request for a command to `charge_point`.

    `request_id` is the remoteStartId or requestId of the requests that have one
    (default: the next of `REQUEST_IDS`).
    """
    action = _ACTIONS.get(type(command), type(command).__name__)
    try:
        match command:
            case c.StartCharging():
                return _start(command, charge_point, request_id)
            case c.StopCharging():
                return call.RequestStopTransaction(
                    transaction_id=_charger_id(charge_point, command.transaction_id)
                )
            case c.Reset():
                on_idle = command.kind is c.ResetKind.SOFT
                return call.Reset(
                    type=ResetEnumType.on_idle if on_idle else ResetEnumType.immediate,
                    evse_id=command.connector_id or None,
                )
            case c.UnlockConnector():
                if command.connector_id <= CHARGE_POINT_CONNECTOR:
                    raise _NotApplicable("a connector to unlock is on an EVSE, 1 or more")
                return call.UnlockConnector(
                    evse_id=command.connector_id, connector_id=CONNECTOR_IN_EVSE
                )
            case c.SetAvailability():
                status = OperationalStatusEnumType
                return call.ChangeAvailability(
                    operational_status=status.operative
                    if command.operative
                    else status.inoperative,
                    evse=_evse(command.connector_id),
                )
            case c.GetConfiguration():
                return _get_variables(command, charge_point)
            case c.SetConfiguration():
                if (ref := variable_for(command.key)) is None:
                    raise _NotApplicable(_not_a_variable(command.key))
                return call.SetVariables(
                    set_variable_data=[
                        datatypes.SetVariableDataType(
                            attribute_value=value_to_v201(command.key, command.value),
                            component=ref.component_type(),
                            variable=ref.variable_type(),
                        )
                    ]
                )
            case c.TriggerMessage():
                return _trigger(command, charge_point)
            case c.SetChargingProfile():
                return call.SetChargingProfile(
                    evse_id=command.connector_id,
                    charging_profile=checked_profile(
                        charge_point, command.connector_id, command.profile
                    ),
                )
            case c.ClearChargingProfile():
                criteria = None
                if (command.connector_id, command.purpose, command.stack_level) != (None,) * 3:
                    criteria = datatypes.ClearChargingProfileType(
                        evse_id=command.connector_id,
                        charging_profile_purpose=PURPOSE[command.purpose]
                        if command.purpose
                        else None,
                        stack_level=command.stack_level,
                    )
                return call.ClearChargingProfile(
                    charging_profile_id=command.profile_id, charging_profile_criteria=criteria
                )
            case c.GetChargingProfiles():
                return call.GetChargingProfiles(
                    request_id=command.request_id,
                    evse_id=command.connector_id,
                    charging_profile=datatypes.ChargingProfileCriterionType(
                        charging_profile_purpose=PURPOSE[command.purpose]
                        if command.purpose
                        else None,
                        stack_level=command.stack_level,
                        charging_profile_id=list(command.profile_ids) or None,
                    ),
                )
            case c.GetCompositeSchedule():
                if command.unit is not None:
                    check_unit(charge_point, command.unit)
                return call.GetCompositeSchedule(
                    duration=command.duration_s,
                    evse_id=command.connector_id,
                    charging_rate_unit=UNIT[command.unit] if command.unit else None,
                )
            case c.DataTransfer():
                return call.DataTransfer(
                    vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
                )
            case c.GetDiagnostics():
                return call.GetLog(
                    log=datatypes.LogParametersType(
                        remote_location=command.location,
                        oldest_timestamp=_time(command.start),
                        latest_timestamp=_time(command.stop),
                    ),
                    log_type=LogEnumType.diagnostics_log,
                    request_id=request_id if request_id is not None else REQUEST_IDS.next(),
                    retries=command.retries,
                    retry_interval=command.retry_interval_s,
                )
            case c.UpdateFirmware():
                return call.UpdateFirmware(
                    request_id=request_id if request_id is not None else REQUEST_IDS.next(),
                    firmware=datatypes.FirmwareType(
                        location=command.location,
                        retrieve_date_time=format_timestamp(command.retrieve_at),
                    ),
                    retries=command.retries,
                    retry_interval=command.retry_interval_s,
                )
            case c.ReserveNow():
                return call.ReserveNow(
                    id=command.reservation_id,
                    expiry_date_time=format_timestamp(command.expiry),
                    id_token=id_token(command.id_tag),
                    evse_id=command.connector_id or None,  # 0: any EVSE
                    group_id_token=id_token(command.parent_id_tag)
                    if command.parent_id_tag
                    else None,
                )
            case c.CancelReservation():
                return call.CancelReservation(reservation_id=command.reservation_id)
            case c.GetLocalListVersion():
                return call.GetLocalListVersion()
            case c.SendLocalList():
                return call.SendLocalList(
                    version_number=command.version,
                    update_type=UpdateEnumType.full
                    if command.full
                    else UpdateEnumType.differential,
                    local_authorization_list=[_authorization(entry) for entry in command.entries]
                    or None,
                )
            case c.ClearCache():
                return call.ClearCache()
    except (ProfileRefused, _NotApplicable) as refusal:
        raise c.CommandNotApplicable(charge_point.id, action, str(refusal)) from None


class _NotApplicable(Exception):
    """What 2.0.1 cannot say, in words."""


# The 2.0.1 action each command becomes (where it is not the command's own name).
_ACTIONS: dict[type, str] = {
    c.StartCharging: "RequestStartTransaction",
    c.StopCharging: "RequestStopTransaction",
    c.SetAvailability: "ChangeAvailability",
    c.GetConfiguration: "GetVariables",
    c.SetConfiguration: "SetVariables",
    c.GetDiagnostics: "GetLog",
}


def _start(
    command: c.StartCharging, charge_point: ChargePoint, request_id: int | None
) -> call.RequestStartTransaction:
    if command.connector_id is not None and command.connector_id <= CHARGE_POINT_CONNECTOR:
        raise _NotApplicable("a transaction starts on an EVSE, 1 or more")
    profile = command.profile
    return call.RequestStartTransaction(
        id_token=id_token(command.id_tag),
        remote_start_id=request_id if request_id is not None else REQUEST_IDS.next(),
        evse_id=command.connector_id,
        charging_profile=start_profile(charge_point, profile) if profile is not None else None,
    )


def _charger_id(charge_point: ChargePoint, given: c.TransactionId) -> str:
    """The charger's id of a running session named by our number (or its own id)."""
    for connector in charge_point.connectors.values():
        if (transaction := connector.transaction) is not None and names(transaction, given):
            return charger_transaction_id(transaction)
    if isinstance(given, str):  # the charger's own id, of a session we do not know
        return given
    raise _NotApplicable(f"no session {given} is running on the charger")


def _not_a_variable(key: str) -> str:
    return (
        f"{key!r} is neither an OCPP 1.6 key with a 2.0.1 counterpart nor a 2.0.1 "
        "variable written as Component/Variable"
    )


def _get_variables(command: c.GetConfiguration, charge_point: ChargePoint) -> call.GetVariables:
    """The variables named, or those with a 1.6 counterpart.

    None named: the counterparts the charger reported having (all before it has).
    """
    reported = tuple(key for key in V16_KEYS if station_value(charge_point, V16_KEYS[key].ref))
    keys = command.keys or reported or tuple(V16_KEYS)
    refs = []
    for key in keys:
        if (ref := variable_for(key)) is None:
            raise _NotApplicable(_not_a_variable(key))
        refs.append(ref)
    most = station_value(charge_point, V16_KEYS["GetConfigurationMaxKeys"].ref)
    if most is not None and most.strip().isdigit() and len(refs) > int(most):
        raise _NotApplicable(
            f"the charger answers at most {int(most)} variables at a time, not {len(refs)}: "
            "name fewer keys"
        )
    return call.GetVariables(
        get_variable_data=[
            datatypes.GetVariableDataType(
                component=ref.component_type(), variable=ref.variable_type()
            )
            for ref in refs
        ]
    )


def _trigger(command: c.TriggerMessage, charge_point: ChargePoint) -> call.TriggerMessage:
    if (message := _TRIGGERS.get(command.message)) is None:
        raise _NotApplicable(f"{command.message} cannot be triggered")
    evse = _evse(command.connector_id)
    if message is MessageTriggerEnumType.status_notification:
        evse_ids = charge_point.connector_ids
        if evse is None and len(evse_ids) == 1:
            evse = datatypes.EVSEType(id=evse_ids[0])
        if evse is None:  # F06.FR.12: a charger reports one connector's status at a time
            raise _NotApplicable("a StatusNotification is triggered for one EVSE: name it")
        evse = datatypes.EVSEType(id=evse.id, connector_id=CONNECTOR_IN_EVSE)
    return call.TriggerMessage(requested_message=message, evse=evse)


def _authorization(entry: c.LocalAuthorization) -> datatypes.AuthorizationData:
    if entry.status is None:  # a differential update without info: remove it
        return datatypes.AuthorizationData(id_token=id_token(entry.id_tag))
    return datatypes.AuthorizationData(
        id_token=id_token(entry.id_tag),
        id_token_info=datatypes.IdTokenInfoType(
            status=entry.status,
            cache_expiry_date_time=_time(entry.expiry),
            group_id_token=id_token(entry.parent_id_tag) if entry.parent_id_tag else None,
        ),
    )
