"""Answering the SmartCharging commands: Set/ClearChargingProfile, GetCompositeSchedule.

The profiles live in :class:`~.smart_charging.ProfileStack`; the meter reads the
limit in force from it at every sample, so a new limit shows in the next
MeterValues, and a limit under 6 A suspends charging (SuspendedEVSE) at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call_result, datatypes
from ocpp.v16.enums import (
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ChargingRateUnitType,
    ClearChargingProfileStatus,
    GetCompositeScheduleStatus,
)

from .config import number
from .model import now_iso
from .smart_charging import MAX_COMPOSITE_SECONDS, Profile, profile_problem

if TYPE_CHECKING:
    from .charge_point import Link


class ChargingCommands:
    """Mixin of :class:`~.core.SimulatedChargePoint`: the SmartCharging commands."""

    def handle_set_charging_profile(
        self, link: Link, connector_id: int, cs_charging_profiles: Profile, **_: Any
    ) -> call_result.SetChargingProfile:
        """Install the profile if the charger can follow it; else Rejected, saying why."""
        profile = cs_charging_profiles
        if problem := self._profile_problem(connector_id, profile):
            self._log.warning(
                "SetChargingProfile %s rejected: %s", profile["charging_profile_id"], problem
            )
            return call_result.SetChargingProfile(ChargingProfileStatus.rejected)
        self.profiles.install(connector_id, profile)
        link.defer(self._apply_limits())
        return call_result.SetChargingProfile(ChargingProfileStatus.accepted)

    def handle_clear_charging_profile(
        self,
        link: Link,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        """Remove the matching profiles (all without criteria); Unknown if none matched."""
        removed = self.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=charging_profile_purpose,
            stack_level=stack_level,
        )
        if not removed:
            return call_result.ClearChargingProfile(ClearChargingProfileStatus.unknown)
        link.defer(self._apply_limits())
        return call_result.ClearChargingProfile(ClearChargingProfileStatus.accepted)

    def handle_get_composite_schedule(
        self, link: Link, connector_id: int, duration: int, charging_rate_unit: str | None = None
    ) -> call_result.GetCompositeSchedule:
        """The limits over the next ``duration`` s (at most a week), as the meter will apply
        them; without a profile the EV's maximum."""
        rejected = call_result.GetCompositeSchedule(GetCompositeScheduleStatus.rejected)
        if (connector_id and connector_id not in self.connectors) or duration < 1:
            self._log.warning(
                "GetCompositeSchedule: no connector %d or duration %d", connector_id, duration
            )
            return rejected
        sess = self.connectors[connector_id].session if connector_id else None
        start = datetime.now(UTC)
        changes = self.profiles.composite(
            connector_id, start, duration, sess.transaction_started if sess else None
        )
        unit = ChargingRateUnitType(charging_rate_unit or ChargingRateUnitType.amps)
        periods = []
        for offset, limit in changes:
            amps = min(self.amps, limit.amps) if limit else self.amps
            phases = min(self.phases, limit.phases or self.phases) if limit else self.phases
            value = amps * self.volts * phases if unit == ChargingRateUnitType.watts else amps
            periods.append(
                datatypes.ChargingSchedulePeriod(
                    start_period=offset, limit=round(value, 1), number_phases=phases
                )
            )
        schedule_start = now_iso()
        return call_result.GetCompositeSchedule(
            GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=schedule_start,
            charging_schedule=datatypes.ChargingSchedule(
                charging_rate_unit=unit,
                charging_schedule_period=periods,
                duration=min(duration, MAX_COMPOSITE_SECONDS),
                start_schedule=schedule_start,
            ),
        )

    def _profile_problem(self, connector_id: int | None, profile: Profile) -> str:  # noqa: PLR0911 - one return per rule
        """Why this charger would refuse ``profile`` on ``connector_id``, or "".

        ``connector_id`` None: a RemoteStart's profile, installed later.
        """
        purpose = profile["charging_profile_purpose"]
        if purpose in self.behaviour.rejected_purposes:
            return f"{purpose} not supported (as told)"
        if connector_id and connector_id not in self.connectors:
            return f"no connector {connector_id}"
        if purpose == ChargingProfilePurposeType.charge_point_max_profile and connector_id != 0:
            return "a ChargePointMaxProfile belongs on connector 0"
        if purpose == ChargingProfilePurposeType.tx_profile and connector_id is not None:
            sess = self.connectors[connector_id].session if connector_id else None
            if sess is None or sess.transaction_id is None:
                return f"no transaction running on connector {connector_id} for a TxProfile"
            if profile.get("transaction_id") not in (None, sess.transaction_id):
                return f"transaction {profile['transaction_id']} is not running"
        config = self.config
        if problem := profile_problem(
            profile,
            max_stack_level=number(config, "ChargeProfileMaxStackLevel"),
            max_periods=number(config, "ChargingScheduleMaxPeriods"),
            units=config["ChargingScheduleAllowedChargingRateUnit"].value,
        ):
            return problem
        kept = len(self.profiles) - self.profiles.replaces(connector_id or 0, profile)
        if kept >= (most := number(config, "MaxChargingProfilesInstalled")):
            return f"{most} profiles installed already"
        return ""

    async def _apply_limits(self) -> None:
        """Show a changed limit at once: SuspendedEVSE when it stops the EV, Charging back."""
        for conn in self.connectors.values():
            if conn.session is not None and conn.session.transaction_id is not None:
                self._measure(conn, 0.0)
                await self._update_charging_status(conn)
