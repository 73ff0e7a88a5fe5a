"""Scripted misbehaviour: actions answered Rejected, not supported, or never answered.

A real charger refuses commands it is not in the mood for, lacks whole feature
profiles or simply never replies; these switches let a test or a developer make
the simulator do the same to the central system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
REJECTIONS: dict[Action, Callable[[], Any]] = {
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


def _actions(option: str, names: Iterable[str], allowed: frozenset[Action]) -> frozenset[Action]:
    found: set[Action] = set()
    for name in names:
        try:
            action = Action(name)
        except ValueError:
            action = None
        if action not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ValueError(f"{option}: {name!r} is not one of {choices}")
        found.add(action)
    return frozenset(found)


@dataclass(frozen=True)
class Behaviour:
    """How the simulator departs from answering every command truthfully."""

    reject: frozenset[Action] = frozenset()
    not_supported: frozenset[Action] = frozenset()
    time_out: frozenset[Action] = frozenset()
    rejected_purposes: frozenset[ChargingProfilePurposeType] = frozenset()
    vendor_ids: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        reject: Iterable[str] = (),
        not_supported: Iterable[str] = (),
        time_out: Iterable[str] = (),
        rejected_purposes: Iterable[str] = (),
        vendor_ids: Iterable[str] = (),
    ) -> Behaviour:
        """Validate action and purpose names; raise ValueError naming the wrong one."""
        behaviour = cls(
            reject=_actions("reject", reject, frozenset(REJECTIONS)),
            not_supported=_actions("not_supported", not_supported, COMMANDS),
            time_out=_actions("time_out", time_out, COMMANDS),
            rejected_purposes=frozenset(_purpose(purpose) for purpose in rejected_purposes),
            vendor_ids=frozenset(vendor_ids),
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

    def rejection(self, action: Action) -> Any:
        """The refusal to send for ``action``, or None to answer it normally."""
        return REJECTIONS[action]() if action in self.reject else None


def _purpose(name: str) -> ChargingProfilePurposeType:
    try:
        return ChargingProfilePurposeType(name)
    except ValueError:
        choices = ", ".join(ChargingProfilePurposeType)
        raise ValueError(f"reject_purpose: {name!r} is not one of {choices}") from None
