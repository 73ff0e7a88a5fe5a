"""The version-neutral commands as OCPP 1.6 messages, and the answers back."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from ocpp.v16 import call, datatypes
from ocpp.v16.enums import (
    AvailabilityType,
    ChargingProfileKindType,
    ChargingProfilePurposeType,
    ChargingRateUnitType,
    MessageTrigger,
    ResetType,
    UpdateType,
)

from . import commands as c
from .timestamps import format_timestamp

_PURPOSE = {
    c.ChargingPurpose.CHARGER_MAX: ChargingProfilePurposeType.charge_point_max_profile,
    c.ChargingPurpose.TX_DEFAULT: ChargingProfilePurposeType.tx_default_profile,
    c.ChargingPurpose.TX: ChargingProfilePurposeType.tx_profile,
}
_KIND = {
    c.ScheduleKind.ABSOLUTE: ChargingProfileKindType.absolute,
    c.ScheduleKind.RECURRING: ChargingProfileKindType.recurring,
    c.ScheduleKind.RELATIVE: ChargingProfileKindType.relative,
}
_UNIT = {c.RateUnit.AMPERE: ChargingRateUnitType.amps, c.RateUnit.WATT: ChargingRateUnitType.watts}
TRIGGERABLE = frozenset(trigger.value for trigger in MessageTrigger)


def _time(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


def _transaction_id(value: c.TransactionId, charge_point_id: str, action: str) -> int:
    """OCPP 1.6 numbers its transactions; a 2.0.1-style name cannot be one."""
    if isinstance(value, int):
        return value
    if value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    raise c.CommandNotApplicable(
        charge_point_id, action, f"transaction {value!r} is not an OCPP 1.6 transaction id"
    )


def charging_profile(
    profile: c.ChargingProfile, charge_point_id: str, action: str
) -> datatypes.ChargingProfile:
    """A neutral charging profile as OCPP 1.6's csChargingProfiles."""
    if any(period.phase_to_use is not None for period in profile.periods):
        raise c.CommandNotApplicable(
            charge_point_id, action, "OCPP 1.6 cannot choose the phase a period charges on"
        )
    transaction_id = profile.transaction_id
    return datatypes.ChargingProfile(
        charging_profile_id=profile.profile_id,
        stack_level=profile.stack_level,
        charging_profile_purpose=_PURPOSE[profile.purpose],
        charging_profile_kind=_KIND[profile.kind],
        transaction_id=(
            _transaction_id(transaction_id, charge_point_id, action)
            if transaction_id is not None
            else None
        ),
        recurrency_kind=profile.recurrency,
        valid_from=_time(profile.valid_from),
        valid_to=_time(profile.valid_to),
        charging_schedule=datatypes.ChargingSchedule(
            charging_rate_unit=_UNIT[profile.unit],
            charging_schedule_period=[
                datatypes.ChargingSchedulePeriod(
                    start_period=period.start_s,
                    limit=period.limit,
                    number_phases=period.number_phases,
                )
                for period in profile.periods
            ],
            duration=profile.duration_s,
            start_schedule=_time(profile.start_schedule),
            min_charging_rate=profile.min_rate,
        ),
    )


def to_call(command: c.Command, charge_point_id: str) -> Any:  # noqa: PLR0911, PLR0912
    """The OCPP 1.6 request for a command."""
    match command:
        case c.StartCharging():
            return call.RemoteStartTransaction(
                id_tag=command.id_tag,
                connector_id=command.connector_id,
                charging_profile=(
                    charging_profile(command.profile, charge_point_id, "RemoteStartTransaction")
                    if command.profile is not None
                    else None
                ),
            )
        case c.StopCharging():
            return call.RemoteStopTransaction(
                transaction_id=_transaction_id(
                    command.transaction_id, charge_point_id, "RemoteStopTransaction"
                )
            )
        case c.Reset():
            if command.connector_id:
                raise c.CommandNotApplicable(
                    charge_point_id, "Reset", "OCPP 1.6 resets the whole charge point only"
                )
            hard = command.kind is c.ResetKind.HARD
            return call.Reset(type=ResetType.hard if hard else ResetType.soft)
        case c.UnlockConnector():
            return call.UnlockConnector(connector_id=command.connector_id)
        case c.SetAvailability():
            kind = AvailabilityType.operative if command.operative else AvailabilityType.inoperative
            return call.ChangeAvailability(connector_id=command.connector_id, type=kind)
        case c.GetConfiguration():
            return call.GetConfiguration(key=list(command.keys) or None)
        case c.SetConfiguration():
            return call.ChangeConfiguration(key=command.key, value=command.value)
        case c.TriggerMessage():
            if command.message not in TRIGGERABLE:
                raise c.CommandNotApplicable(
                    charge_point_id, "TriggerMessage", f"{command.message} cannot be triggered"
                )
            return call.TriggerMessage(
                requested_message=MessageTrigger(command.message),
                connector_id=command.connector_id,
            )
        case c.SetChargingProfile():
            return call.SetChargingProfile(
                connector_id=command.connector_id,
                cs_charging_profiles=charging_profile(
                    command.profile, charge_point_id, "SetChargingProfile"
                ),
            )
        case c.ClearChargingProfile():
            return call.ClearChargingProfile(
                id=command.profile_id,
                connector_id=command.connector_id,
                charging_profile_purpose=_PURPOSE[command.purpose] if command.purpose else None,
                stack_level=command.stack_level,
            )
        case c.GetChargingProfiles():
            raise c.CommandNotApplicable(
                charge_point_id, "GetChargingProfiles", "OCPP 1.6 has no GetChargingProfiles"
            )
        case c.GetCompositeSchedule():
            return call.GetCompositeSchedule(
                connector_id=command.connector_id,
                duration=command.duration_s,
                charging_rate_unit=_UNIT[command.unit] if command.unit else None,
            )
        case c.DataTransfer():
            return call.DataTransfer(
                vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
            )
        case c.GetDiagnostics():
            return call.GetDiagnostics(
                location=command.location,
                retries=command.retries,
                retry_interval=command.retry_interval_s,
                start_time=_time(command.start),
                stop_time=_time(command.stop),
            )
        case c.UpdateFirmware():
            return call.UpdateFirmware(
                location=command.location,
                retrieve_date=format_timestamp(command.retrieve_at),
                retries=command.retries,
                retry_interval=command.retry_interval_s,
            )
        case c.ReserveNow():
            return call.ReserveNow(
                connector_id=command.connector_id,
                expiry_date=format_timestamp(command.expiry),
                id_tag=command.id_tag,
                reservation_id=command.reservation_id,
                parent_id_tag=command.parent_id_tag,
            )
        case c.CancelReservation():
            return call.CancelReservation(reservation_id=command.reservation_id)
        case c.GetLocalListVersion():
            return call.GetLocalListVersion()
        case c.SendLocalList():
            return call.SendLocalList(
                list_version=command.version,
                update_type=UpdateType.full if command.full else UpdateType.differential,
                local_authorization_list=[_authorization(entry) for entry in command.entries],
            )
        case c.ClearCache():
            return call.ClearCache()


def _authorization(entry: c.LocalAuthorization) -> datatypes.AuthorizationData:
    if entry.status is None:
        return datatypes.AuthorizationData(id_tag=entry.id_tag)
    return datatypes.AuthorizationData(
        id_tag=entry.id_tag,
        id_tag_info=datatypes.IdTagInfo(
            status=entry.status,
            parent_id_tag=entry.parent_id_tag,
            expiry_date=_time(entry.expiry),
        ),
    )


def to_result(response: Any) -> c.CommandResult:
    """A 1.6 confirmation as a neutral result: its status, and the rest as plain data."""
    data = asdict(response) if is_dataclass(response) and not isinstance(response, type) else {}
    status = data.pop("status", None)
    return c.CommandResult(
        status=str(status) if status is not None else None,
        data={key: value for key, value in data.items() if value is not None},
    )
