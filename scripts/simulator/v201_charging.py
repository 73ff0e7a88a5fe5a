"""OCPP 2.0.1 smart charging of the simulated station: Set/ClearChargingProfile,
GetChargingProfiles (ReportChargingProfiles), GetCompositeSchedule.

A profile is checked as a 2.0.1 station checks it (K01: the rules a CSMS must
keep), then kept in the shared ``smart_charging.ProfileStack`` in its 1.6 shape
(the stack is the same physics), with the profile as sent kept for reports. A
schedule in W is followed in A at the station's voltage. A new limit shows at
once: TransactionEvent Updated ChargingRateChanged for a running transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.v201 import call, call_result, datatypes
from ocpp.v201.enums import (
    ChargingLimitSourceEnumType,
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingProfileStatusEnumType,
    ClearChargingProfileStatusEnumType,
    GenericStatusEnumType,
    GetChargingProfileStatusEnumType,
    TriggerReasonEnumType,
)

from .model import now_iso
from .smart_charging import MAX_COMPOSITE_SECONDS, Profile, profile_problem

if TYPE_CHECKING:
    from .charge_point import LinkBase

Purpose = ChargingProfilePurposeEnumType
# 2.0.1 purposes as the 1.6-shaped stack names them.
STACK_PURPOSE = {
    Purpose.charging_station_max_profile: "ChargePointMaxProfile",
    Purpose.tx_default_profile: "TxDefaultProfile",
    Purpose.tx_profile: "TxProfile",
}
MAX_PROFILES = 8


def _rejected(reason: str, info: str) -> call_result.SetChargingProfile:
    return call_result.SetChargingProfile(
        ChargingProfileStatusEnumType.rejected, datatypes.StatusInfoType(reason, info[:512])
    )


class Charging:
    """Mixin of :class:`~.v201_core.SimulatedChargingStation`: its smart charging."""

    def _rate_units(self) -> list[str]:
        return self.device_model.listed("SmartChargingCtrlr", "RateUnit")

    def stack_profile(self, profile: dict[str, Any]) -> Profile:
        """A 2.0.1 profile in the stack's 1.6 shape, its limits in A."""
        schedule = profile["charging_schedule"][0]
        watts = schedule["charging_rate_unit"] == "W"
        periods = []
        for period in schedule["charging_schedule_period"]:
            limit = float(period["limit"])
            phases = period.get("number_phases") or self.phases
            periods.append(
                {
                    "start_period": period["start_period"],
                    "limit": round(limit / (self.volts * phases), 1) if watts else limit,
                    "number_phases": period.get("number_phases"),
                }
            )
        return {
            "charging_profile_id": profile["id"],
            "stack_level": profile["stack_level"],
            "charging_profile_purpose": STACK_PURPOSE.get(profile["charging_profile_purpose"]),
            "charging_profile_kind": profile["charging_profile_kind"],
            "recurrency_kind": profile.get("recurrency_kind"),
            "valid_from": profile.get("valid_from"),
            "valid_to": profile.get("valid_to"),
            "transaction_id": profile.get("transaction_id"),
            "charging_schedule": {
                "charging_rate_unit": "A",
                "charging_schedule_period": periods,
                "start_schedule": schedule.get("start_schedule"),
                "duration": schedule.get("duration"),
            },
            "v201": profile,
        }

    def profile_refusal(self, evse_id: int | None, profile: dict[str, Any]) -> str:  # noqa: PLR0911 - one return per rule
        """Why this station refuses ``profile`` on ``evse_id`` (None: a remote start's), or ""."""
        purpose = profile["charging_profile_purpose"]
        kind = profile["charging_profile_kind"]
        if purpose in self.behaviour.rejected_purposes:
            return f"{purpose} not supported (as told)"
        if evse_id and evse_id not in self.connectors:
            return f"no EVSE {evse_id}"
        if purpose == Purpose.charging_station_external_constraints:
            return "ChargingStationExternalConstraints are not set by a CSMS (K01.FR.22)"
        if purpose == Purpose.charging_station_max_profile:
            if evse_id != 0:
                return "a ChargingStationMaxProfile belongs on EVSE 0"
            if kind == ChargingProfileKindEnumType.relative:
                return "a ChargingStationMaxProfile is never Relative (K01.FR.38)"
        if purpose == Purpose.tx_profile and evse_id is not None:
            sess = self.connectors[evse_id].session if evse_id else None
            if sess is None or sess.transaction_id is None:
                return f"no transaction on EVSE {evse_id} for a TxProfile (K01.FR.09, K01.FR.16)"
            if (given := profile.get("transaction_id")) is None:
                return "a TxProfile names its transaction (K01.FR.03)"
            if given != sess.transaction_id:
                return f"transaction {given} is not running on EVSE {evse_id} (K01.FR.33)"
        schedules = profile["charging_schedule"]
        if len(schedules) != 1:
            return "one charging schedule per profile is supported"
        schedule = schedules[0]
        if schedule["charging_rate_unit"] not in self._rate_units():
            return f"rate unit {schedule['charging_rate_unit']} not supported (K01.FR.26)"
        has_start = schedule.get("start_schedule") is not None
        if kind == ChargingProfileKindEnumType.relative and has_start:
            return "a Relative schedule has no startSchedule (K01.FR.41)"
        if kind != ChargingProfileKindEnumType.relative and not has_start:
            return f"an {kind} schedule needs a startSchedule (K01.FR.40)"
        switching = self.device_model.value("SmartChargingCtrlr", "ACPhaseSwitchingSupported")
        for period in schedule["charging_schedule_period"]:
            if period.get("phase_to_use") is None:
                continue
            if period.get("number_phases") != 1:
                return "phaseToUse needs numberPhases 1 (K01.FR.19)"
            if switching != "true":
                return "no phase switching here for phaseToUse (K01.FR.20)"
        model = self.device_model
        if problem := profile_problem(
            self.stack_profile(profile),
            max_stack_level=int(model.number("SmartChargingCtrlr", "ProfileStackLevel")),
            max_periods=int(model.number("SmartChargingCtrlr", "PeriodsPerSchedule")),
            units="Current",
        ):
            return problem
        kept = len(self.profiles) - self.profiles.replaces(
            evse_id or 0, self.stack_profile(profile)
        )
        if kept >= MAX_PROFILES:
            return f"{MAX_PROFILES} profiles installed already"
        return ""

    def v201_set_charging_profile(
        self, link: LinkBase, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        """Install the profile if the station can follow it; else Rejected, saying why."""
        if problem := self.profile_refusal(evse_id, charging_profile):
            self._log.warning("SetChargingProfile %s rejected: %s", charging_profile["id"], problem)
            return _rejected("InvalidProfile", problem)
        self.profiles.install(evse_id, self.stack_profile(charging_profile))
        link.defer(self._apply_limits())
        return call_result.SetChargingProfile(ChargingProfileStatusEnumType.accepted)

    def v201_clear_charging_profile(
        self,
        link: LinkBase,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        """Remove the matching profiles (all without criteria); Unknown if none matched."""
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        removed = self.profiles.clear(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=STACK_PURPOSE.get(purpose, purpose) if purpose else None,
            stack_level=criteria.get("stack_level"),
        )
        if not removed:
            return call_result.ClearChargingProfile(ClearChargingProfileStatusEnumType.unknown)
        link.defer(self._apply_limits())
        return call_result.ClearChargingProfile(ClearChargingProfileStatusEnumType.accepted)

    def v201_get_charging_profiles(
        self,
        link: LinkBase,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.GetChargingProfiles:
        """NoProfiles, or Accepted and the matching ones in ReportChargingProfiles."""
        wanted = charging_profile
        ours = ChargingLimitSourceEnumType.cso  # every profile here came from a CSMS
        sources = wanted.get("charging_limit_source") or [ours]
        found: dict[int, list[dict[str, Any]]] = {}
        for cid, stacked in self.profiles.installed():
            profile = stacked["v201"]
            if (
                evse_id in (None, cid)
                and wanted.get("charging_profile_purpose")
                in (None, profile["charging_profile_purpose"])
                and wanted.get("stack_level") in (None, profile["stack_level"])
                and profile["id"] in (wanted.get("charging_profile_id") or [profile["id"]])
                and ChargingLimitSourceEnumType.cso
                in (sources or [ChargingLimitSourceEnumType.cso])
            ):
                found.setdefault(cid, []).append(profile)
        if not found:
            return call_result.GetChargingProfiles(GetChargingProfileStatusEnumType.no_profiles)

        async def report() -> None:
            for index, (cid, profiles) in enumerate(sorted(found.items())):
                await self._send(
                    call.ReportChargingProfiles(
                        request_id=request_id,
                        charging_limit_source=ChargingLimitSourceEnumType.cso,
                        charging_profile=profiles,
                        evse_id=cid,
                        tbc=index < len(found) - 1 or None,
                    )
                )

        link.defer(report())
        return call_result.GetChargingProfiles(GetChargingProfileStatusEnumType.accepted)

    def v201_get_composite_schedule(
        self,
        link: LinkBase,
        duration: int,
        evse_id: int,
        charging_rate_unit: str | None = None,
        **_: Any,
    ) -> call_result.GetCompositeSchedule:
        """The limits over the next ``duration`` s as the meter will apply them."""
        unit = charging_rate_unit or self._rate_units()[0]
        if (evse_id and evse_id not in self.connectors) or unit not in self._rate_units():
            self._log.warning("GetCompositeSchedule: no EVSE %d or unit %s", evse_id, unit)
            reason = "UnsupportedRateUnit" if unit not in self._rate_units() else "UnknownEvse"
            return call_result.GetCompositeSchedule(
                GenericStatusEnumType.rejected, datatypes.StatusInfoType(reason)
            )
        sess = self.connectors[evse_id].session if evse_id else None
        changes = self.profiles.composite(
            evse_id, datetime.now(UTC), duration, sess.transaction_started if sess else None
        )
        periods = []
        for offset, limit in changes:
            amps = min(self.amps, limit.amps) if limit else self.amps
            phases = min(self.phases, limit.phases or self.phases) if limit else self.phases
            value = amps * self.volts * phases if unit == "W" else amps
            periods.append(
                datatypes.ChargingSchedulePeriodType(
                    start_period=offset, limit=round(value, 1), number_phases=phases
                )
            )
        return call_result.GetCompositeSchedule(
            GenericStatusEnumType.accepted,
            schedule=datatypes.CompositeScheduleType(
                evse_id=evse_id,
                duration=min(duration, MAX_COMPOSITE_SECONDS),
                schedule_start=now_iso(),
                charging_rate_unit=unit,
                charging_schedule_period=periods,
            ),
        )

    async def _apply_limits(self) -> None:
        """Show a changed limit at once: ChargingRateChanged, SuspendedEVSE when it stops
        the EV, Charging back."""
        for conn in self.connectors.values():
            sess = conn.session
            if sess is None or sess.transaction_id is None:
                continue
            offered = self._offered(conn)
            if self._offered_before.get(conn.connector_id) != offered:
                self._offered_before[conn.connector_id] = offered
                await self.send_transaction_event(conn, TriggerReasonEnumType.charging_rate_changed)
            await self._update_charging_status(conn)
