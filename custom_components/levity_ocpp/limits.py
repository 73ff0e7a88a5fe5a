"""Charging profiles that cap the current of a connector, as Home Assistant sends them."""

from __future__ import annotations

from .csms.commands import (
    ChargingProfile,
    ChargingPurpose,
    RateUnit,
    ScheduleKind,
    SchedulePeriod,
)
from .csms.model import ChargePoint

# Profile ids of our own limits. A charger replaces a profile with the same id
# (OCPP 1.6 §3.13.4) on any connector, so each connector gets its own id; a
# user's profiles are best kept below these.
LIMIT_PROFILE_ID_BASE = 9000
TRANSACTION_PROFILE_ID = 8999
MAX_STACK_LEVEL_KEY = "ChargeProfileMaxStackLevel"


def _stack_level(charge_point: ChargePoint) -> int:
    """The highest stack level the charger allows, so our limit wins; 0 if it never said."""
    value = charge_point.configuration.get(MAX_STACK_LEVEL_KEY, {}).get("value")
    try:
        return max(int(str(value)), 0)
    except ValueError:
        return 0


def current_limit_profile(
    charge_point: ChargePoint, connector_id: int, amps: float
) -> ChargingProfile:
    """A TxDefaultProfile holding `connector_id` (0: every connector) at `amps` per phase."""
    return ChargingProfile(
        profile_id=LIMIT_PROFILE_ID_BASE + connector_id,
        stack_level=_stack_level(charge_point),
        purpose=ChargingPurpose.TX_DEFAULT,
        kind=ScheduleKind.RELATIVE,
        unit=RateUnit.AMPERE,
        periods=(SchedulePeriod(start_s=0, limit=amps),),
    )


def transaction_limit_profile(charge_point: ChargePoint, amps: float) -> ChargingProfile:
    """A TxProfile for a remote start: the new transaction is held at `amps` per phase."""
    return ChargingProfile(
        profile_id=TRANSACTION_PROFILE_ID,
        stack_level=_stack_level(charge_point),
        purpose=ChargingPurpose.TX,
        kind=ScheduleKind.RELATIVE,
        unit=RateUnit.AMPERE,
        periods=(SchedulePeriod(start_s=0, limit=amps),),
    )
