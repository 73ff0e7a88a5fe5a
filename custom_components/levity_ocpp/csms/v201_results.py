"""OCPP 2.0.1 answers as neutral results, read the way their OCPP 1.6 counterparts are.

Statuses keep their names (a Rejected is a Rejected) except where 2.0.1 says what
1.6 says in other words: AcceptedCanceled (a new log upload or firmware update
replaced the one under way) is Accepted, and a variable the charger does not know
is NotSupported, as an unknown 1.6 key is. Data keys are 1.6's where Home Assistant
reads them (configuration_key, unknown_key, charging_schedule, list_version,
file_name); everything else the charger said is kept as it said it.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import GetVariableStatusEnumType, SetVariableStatusEnumType

from . import commands as c
from .v201_variables import neutral_key, neutral_value, reported_ref

ACCEPTED_CANCELED = "AcceptedCanceled"
_SET_STATUS = {
    SetVariableStatusEnumType.accepted: c.Status.ACCEPTED,
    SetVariableStatusEnumType.rejected: c.Status.REJECTED,
    SetVariableStatusEnumType.reboot_required: c.Status.REBOOT_REQUIRED,
    SetVariableStatusEnumType.unknown_component: c.Status.NOT_SUPPORTED,
    SetVariableStatusEnumType.unknown_variable: c.Status.NOT_SUPPORTED,
    SetVariableStatusEnumType.not_supported_attribute_type: c.Status.NOT_SUPPORTED,
}
_UNKNOWN = frozenset(
    {
        GetVariableStatusEnumType.unknown_component,
        GetVariableStatusEnumType.unknown_variable,
        GetVariableStatusEnumType.not_supported_attribute_type,
    }
)


def to_result(response: Any) -> c.CommandResult:
    """A 2.0.1 answer as a neutral result: its status, and the rest as plain data."""
    if not is_dataclass(response) or isinstance(response, type):
        return c.CommandResult(status=None)
    data = {key: value for key, value in asdict(response).items() if value is not None}
    match response:
        case call_result.GetVariables():
            return _variables(data)
        case call_result.SetVariables():
            return _set_variable(data)
        case call_result.GetCompositeSchedule():
            _composite(data)
        case call_result.GetLog():
            if (file_name := data.pop("filename", None)) is not None:
                data["file_name"] = file_name
        case call_result.GetLocalListVersion():
            data["list_version"] = data.pop("version_number", None)
    status = data.pop("status", None)
    if status == ACCEPTED_CANCELED:
        status, data["canceled_previous"] = c.Status.ACCEPTED, True
    return c.CommandResult(status=None if status is None else str(status), data=data)


def _variables(data: dict[str, Any]) -> c.CommandResult:
    """GetVariables as GetConfiguration: known keys with values, and unknown ones."""
    known: list[dict[str, Any]] = []
    unknown: list[str] = []
    refused: dict[str, str] = {}
    for result in data.pop("get_variable_result", []):
        if not isinstance(result, dict):
            continue
        ref = reported_ref(result.get("component"), result.get("variable"))
        if ref is None:
            continue
        key, status = neutral_key(ref), result.get("attribute_status")
        if status in _UNKNOWN:
            unknown.append(key)
            continue
        value = result.get("attribute_value") if status == "Accepted" else None
        if status != "Accepted":  # e.g. a write-only secret: listed, without its value
            refused[key] = str(status)
        known.append(
            {
                "key": key,
                "value": neutral_value(ref, value) if isinstance(value, str) else None,
                "readonly": None,  # GetVariables does not say; a base report does
            }
        )
    data["configuration_key"] = known
    if unknown:
        data["unknown_key"] = unknown
    if refused:
        data["refused_key"] = refused
    return c.CommandResult(status=None, data=data)


def _set_variable(data: dict[str, Any]) -> c.CommandResult:
    """SetVariables of one variable as ChangeConfiguration."""
    results = [item for item in data.pop("set_variable_result", []) if isinstance(item, dict)]
    if not results:
        return c.CommandResult(status=None, data=data)
    result = results[0]
    status = result.get("attribute_status")
    if (info := result.get("attribute_status_info")) is not None:
        data["status_info"] = info
    data["attribute_status"] = status
    return c.CommandResult(status=str(_SET_STATUS.get(status, status)), data=data)


def _composite(data: dict[str, Any]) -> None:
    """A composite schedule where 1.6 has it: charging_schedule of connector_id."""
    schedule = data.pop("schedule", None)
    if not isinstance(schedule, dict):
        return
    data["connector_id"] = schedule.get("evse_id")
    data["schedule_start"] = schedule.get("schedule_start")
    data["charging_schedule"] = {
        key: value
        for key, value in {
            "charging_rate_unit": schedule.get("charging_rate_unit"),
            "charging_schedule_period": schedule.get("charging_schedule_period", []),
            "duration": schedule.get("duration"),
            "start_schedule": schedule.get("schedule_start"),
        }.items()
        if value is not None
    }
