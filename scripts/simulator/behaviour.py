"""Scripted misbehaviour: actions answered Rejected, not supported, or never answered.

A real charger refuses commands it is not in the mood for, lacks whole feature
profiles or simply never replies; these switches let a test or a developer make
the simulator do the same to the central system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    CancelReservationStatus,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
)

# The answer each action gets when told to refuse it: its own "no" (OCPP has no
# single Rejected). GetDiagnostics without a file name means "nothing to upload";
# GetLocalListVersion -1 means "no local list support" (OCPP 1.6 §5.10).
REJECTIONS: dict[str, Callable[[], Any]] = {
    Action.cancel_reservation: lambda: call_result.CancelReservation(
        CancelReservationStatus.rejected
    ),
    Action.change_availability: lambda: call_result.ChangeAvailability(AvailabilityStatus.rejected),
    Action.change_configuration: lambda: call_result.ChangeConfiguration(
        ConfigurationStatus.rejected
    ),
    Action.clear_cache: lambda: call_result.ClearCache(ClearCacheStatus.rejected),
    Action.clear_charging_profile: lambda: call_result.ClearChargingProfile(
        ClearChargingProfileStatus.unknown
    ),
    Action.data_transfer: lambda: call_result.DataTransfer(DataTransferStatus.rejected),
    Action.get_composite_schedule: lambda: call_result.GetCompositeSchedule(
        GetCompositeScheduleStatus.rejected
    ),
    Action.get_diagnostics: call_result.GetDiagnostics,
    Action.get_local_list_version: lambda: call_result.GetLocalListVersion(-1),
    Action.remote_start_transaction: lambda: call_result.RemoteStartTransaction(
        RemoteStartStopStatus.rejected
    ),
    Action.remote_stop_transaction: lambda: call_result.RemoteStopTransaction(
        RemoteStartStopStatus.rejected
    ),
    Action.reserve_now: lambda: call_result.ReserveNow(ReservationStatus.rejected),
    Action.reset: lambda: call_result.Reset(ResetStatus.rejected),
    Action.send_local_list: lambda: call_result.SendLocalList(UpdateStatus.failed),
    Action.set_charging_profile: lambda: call_result.SetChargingProfile(
        ChargingProfileStatus.rejected
    ),
    Action.trigger_message: lambda: call_result.TriggerMessage(TriggerMessageStatus.rejected),
    Action.unlock_connector: lambda: call_result.UnlockConnector(UnlockStatus.unlock_failed),
}
# Every CALL an OCPP 1.6 central system can send; the last two have no way to say no.
COMMANDS = frozenset((*REJECTIONS, Action.get_configuration, Action.update_firmware))


@dataclass(frozen=True)
class Rules:
    """What an OCPP version's central system can send, and each command's refusal."""

    rejections: Mapping[str, Callable[[], Any]]
    commands: frozenset[str]
    purposes: type[StrEnum]


V16_RULES = Rules(REJECTIONS, COMMANDS, ChargingProfilePurposeType)


def _actions(option: str, names: Iterable[str], allowed: frozenset[str]) -> frozenset[str]:
    by_name = {str(action): action for action in allowed}
    found: set[str] = set()
    for name in names:
        if (action := by_name.get(name)) is None:
            choices = ", ".join(sorted(by_name))
            raise ValueError(f"{option}: {name!r} is not one of {choices}")
        found.add(action)
    return frozenset(found)


@dataclass(frozen=True)
class Behaviour:
    """How the simulator departs from answering every command truthfully."""

    reject: frozenset[str] = frozenset()
    not_supported: frozenset[str] = frozenset()
    time_out: frozenset[str] = frozenset()
    rejected_purposes: frozenset[str] = frozenset()
    vendor_ids: frozenset[str] = frozenset()
    rules: Rules = V16_RULES

    @classmethod
    def build(
        cls,
        *,
        reject: Iterable[str] = (),
        not_supported: Iterable[str] = (),
        time_out: Iterable[str] = (),
        rejected_purposes: Iterable[str] = (),
        vendor_ids: Iterable[str] = (),
        rules: Rules = V16_RULES,
    ) -> Behaviour:
        """Validate action and purpose names; raise ValueError naming the wrong one."""
        behaviour = cls(
            reject=_actions("reject", reject, frozenset(rules.rejections)),
            not_supported=_actions("not_supported", not_supported, rules.commands),
            time_out=_actions("time_out", time_out, rules.commands),
            rejected_purposes=frozenset(
                _purpose(purpose, rules.purposes) for purpose in rejected_purposes
            ),
            vendor_ids=frozenset(vendor_ids),
            rules=rules,
        )
        sets = (behaviour.reject, behaviour.not_supported, behaviour.time_out)
        for i, first in enumerate(sets):
            for second in sets[i + 1 :]:
                if both := first & second:
                    raise ValueError(f"{', '.join(sorted(both))} given two behaviours")
        for vendor in behaviour.vendor_ids:
            if not vendor or len(vendor) > 255:
                raise ValueError("vendor ids must be 1 to 255 characters")
        return behaviour

    def rejection(self, action: str) -> Any:
        """The refusal to send for ``action``, or None to answer it normally."""
        return self.rules.rejections[action]() if action in self.reject else None


def _purpose(name: str, purposes: type[StrEnum]) -> StrEnum:
    try:
        return purposes(name)
    except ValueError:
        choices = ", ".join(purposes)
        raise ValueError(f"reject_purpose: {name!r} is not one of {choices}") from None
