"""A connector's current limit as the charging profile a real charger takes.

By default the limit is a TxDefaultProfile on the connector: it holds in and out
of transactions (TxProfiles get stuck on some chargers after SuspendedEVSE). Real
chargers need other shapes, chosen per charger: a TxProfile bound to the running
transaction, an Absolute schedule at stack level 0, or a ChargePointMaxProfile on
connector 0 (Absolute from now: a charger-wide maximum is never Relative). 0 A
pauses charging without ending the session (as chargers and evcc do). A charger
that takes schedules in W only gets the limit converted with the connector's
phases and voltage.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from .commands import (
    ChargingProfile,
    ChargingPurpose,
    CommandNotApplicable,
    RateUnit,
    ScheduleKind,
    SchedulePeriod,
    SetChargingProfile,
)
from .meter import phase_average
from .model import CHARGE_POINT_CONNECTOR, ChargePoint

DEFAULT_MIN_CURRENT_A = 6.0
NOMINAL_VOLTAGE_V = 230.0
# Unknown phases count as one: a limit in W is then never more current than asked.
DEFAULT_PHASES = 1
# Our profiles' ids: one per connector (a charger replaces a profile with the same
# id, OCPP 1.6 §3.13.4), and one for the limit a remote start carries; a user's own
# profiles are best kept below these.
PROFILE_ID_BASE = 9_000
TRANSACTION_PROFILE_ID = PROFILE_ID_BASE - 1


class LimitProfile(StrEnum):
    """How a current limit is sent (a per-charger choice)."""

    TX_DEFAULT = "tx_default"  # TxDefaultProfile, Relative, at the highest stack level
    TX_DEFAULT_ABSOLUTE = "tx_default_absolute"  # TxDefaultProfile, Absolute from now, level 0
    TX = "tx"  # TxProfile of the running transaction
    CHARGER_MAX = "charger_max"  # ChargePointMaxProfile on connector 0


class CurrentSteps(StrEnum):
    """Which currents a charger takes as a limit."""

    ANY = "any"  # any value (OCPP allows steps of 0.1 A)
    STEPPED = "stepped"  # only 6, 8, 10, 13 or 16 A (and 0), as some chargers


STEPPED_CURRENTS_A = (6.0, 8.0, 10.0, 13.0, 16.0)


def allowed_current(charge_point: ChargePoint, amps: float) -> float:
    """The limit the charger takes for `amps`: never more than asked."""
    if charge_point.current_steps != CurrentSteps.STEPPED or amps <= 0:
        return amps
    return max((step for step in STEPPED_CURRENTS_A if step <= amps), default=0.0)


def max_stack_level(charge_point: ChargePoint) -> int:
    """The highest stack level the charger takes (ChargeProfileMaxStackLevel), else 0."""
    try:
        return max(0, int(charge_point.configured("ChargeProfileMaxStackLevel") or 0))
    except ValueError:
        return 0


def takes_amperes(charge_point: ChargePoint) -> bool:
    """Whether schedules may be in A (ChargingScheduleAllowedChargingRateUnit), else W."""
    units = charge_point.configured("ChargingScheduleAllowedChargingRateUnit")
    return units is None or "current" in units.casefold() or not units.strip()


def phases_and_voltage(charge_point: ChargePoint, connector_id: int) -> tuple[int, float]:
    """How many phases a connector draws on, and at what voltage, as far as it said."""
    connector = charge_point.connector(connector_id)
    values = [reading.sampled for reading in connector.readings.values()]
    phases = {
        v.phase[:2] for v in values if v.measurand == "Current.Import" and v.phase and v.value
    }
    voltage = phase_average(values, "Voltage")
    return (
        connector.number_phases or len(phases) or DEFAULT_PHASES,
        voltage if voltage and voltage > 100 else NOMINAL_VOLTAGE_V,
    )


def limit_command(
    charge_point: ChargePoint,
    connector_id: int,
    amps: float,
    choice: LimitProfile,
    now: datetime,
) -> SetChargingProfile:
    """The SetChargingProfile that limits a connector to `amps` (0: pause)."""
    connector = charge_point.connector(connector_id)
    target = CHARGE_POINT_CONNECTOR if choice is LimitProfile.CHARGER_MAX else connector_id
    purpose = {
        LimitProfile.TX_DEFAULT: ChargingPurpose.TX_DEFAULT,
        LimitProfile.TX_DEFAULT_ABSOLUTE: ChargingPurpose.TX_DEFAULT,
        LimitProfile.TX: ChargingPurpose.TX,
        LimitProfile.CHARGER_MAX: ChargingPurpose.CHARGER_MAX,
    }[choice]
    transaction_id = None
    if choice is LimitProfile.TX:
        if connector.transaction is None:
            raise CommandNotApplicable(
                charge_point.id,
                "SetChargingProfile",
                "a TxProfile needs a running transaction on the connector",
            )
        transaction_id = connector.transaction.transaction_id
    # A charger-wide maximum is never Relative (OCPP 2.0.1 K01.FR.38; it has no
    # transaction to be relative to): it holds from now on, at the usual level.
    absolute = choice in (LimitProfile.TX_DEFAULT_ABSOLUTE, LimitProfile.CHARGER_MAX)
    phases, voltage = phases_and_voltage(charge_point, connector_id)
    unit, limit = RateUnit.AMPERE, amps  # the schema's 0.1 A step is the charger's check
    if not takes_amperes(charge_point):
        unit, limit = RateUnit.WATT, round(amps * phases * voltage)
    return SetChargingProfile(
        target,
        ChargingProfile(
            profile_id=PROFILE_ID_BASE + target,
            stack_level=(
                0 if choice is LimitProfile.TX_DEFAULT_ABSOLUTE else max_stack_level(charge_point)
            ),
            purpose=purpose,
            kind=ScheduleKind.ABSOLUTE if absolute else ScheduleKind.RELATIVE,
            unit=unit,
            periods=(SchedulePeriod(0, limit, connector.number_phases),),
            transaction_id=transaction_id,
            start_schedule=now if absolute else None,
        ),
    )


def transaction_limit_profile(charge_point: ChargePoint, amps: float) -> ChargingProfile:
    """A TxProfile for a remote start: the new transaction is held at `amps` per phase."""
    return ChargingProfile(
        profile_id=TRANSACTION_PROFILE_ID,
        stack_level=max_stack_level(charge_point),
        purpose=ChargingPurpose.TX,
        kind=ScheduleKind.RELATIVE,
        unit=RateUnit.AMPERE,
        periods=(SchedulePeriod(0, amps),),
    )


def composite_limit_a(
    charge_point: ChargePoint, connector_id: int, schedule: dict[str, object]
) -> float | None:
    """The limit in A in force now, from a GetCompositeSchedule answer's schedule."""
    periods = schedule.get("charging_schedule_period")
    if not isinstance(periods, list) or not periods or not isinstance(periods[0], dict):
        return None
    try:  # the library reads JSON numbers as Decimal
        limit = float(str(periods[0].get("limit")))
    except TypeError, ValueError:
        return None
    if str(schedule.get("charging_rate_unit")) == RateUnit.WATT:
        phases, voltage = phases_and_voltage(charge_point, connector_id)
        return round(limit / (phases * voltage), 1)
    return float(limit)
