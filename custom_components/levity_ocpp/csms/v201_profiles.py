"""Charging profiles for OCPP 2.0.1, checked against the K01 rules before they are sent.

A charger refuses a profile that breaks a rule with a bare Rejected; checked here
first, the user learns which rule, and nothing is sent. What the charger reported
about itself (rate units, phase switching, stack levels, periods) is taken into
account; what it did not report is left for it to judge.
"""

from __future__ import annotations

from itertools import pairwise

from ocpp.v201 import datatypes
from ocpp.v201.enums import (
    ChargingProfileKindEnumType,
    ChargingProfilePurposeEnumType,
    ChargingRateUnitEnumType,
    RecurrencyKindEnumType,
)

from . import commands as c
from .model import ChargePoint
from .timestamps import format_timestamp
from .transactions import Transaction
from .v201_variables import AC_PHASE_SWITCHING, V16_KEYS, station_value

PURPOSE = {
    c.ChargingPurpose.CHARGER_MAX: ChargingProfilePurposeEnumType.charging_station_max_profile,
    c.ChargingPurpose.TX_DEFAULT: ChargingProfilePurposeEnumType.tx_default_profile,
    c.ChargingPurpose.TX: ChargingProfilePurposeEnumType.tx_profile,
}
_KIND = {
    c.ScheduleKind.ABSOLUTE: ChargingProfileKindEnumType.absolute,
    c.ScheduleKind.RECURRING: ChargingProfileKindEnumType.recurring,
    c.ScheduleKind.RELATIVE: ChargingProfileKindEnumType.relative,
}
UNIT = {
    c.RateUnit.AMPERE: ChargingRateUnitEnumType.amps,
    c.RateUnit.WATT: ChargingRateUnitEnumType.watts,
}
_RECURRENCY = {kind.value: kind for kind in RecurrencyKindEnumType}
_PHASES = range(1, 4)


class ProfileRefused(Exception):
    """A profile breaks a rule of OCPP 2.0.1; the message says which."""


def _reported_int(charge_point: ChargePoint, key: str) -> int | None:
    value = station_value(charge_point, V16_KEYS[key].ref)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def check_unit(charge_point: ChargePoint, unit: c.RateUnit) -> None:
    """K01.FR.26: a schedule in a unit the charger does not take is refused."""
    units = station_value(charge_point, V16_KEYS["ChargingScheduleAllowedChargingRateUnit"].ref)
    if units is None or not units.strip():
        return
    wanted = {c.RateUnit.AMPERE: "current", c.RateUnit.WATT: "power"}[unit]
    if wanted not in {item.strip().casefold() for item in units.split(",")}:
        raise ProfileRefused(
            f"the charger takes schedules in {units} only, not in {unit.value} (K01.FR.26)"
        )


def _check_periods(charge_point: ChargePoint, profile: c.ChargingProfile) -> None:
    periods = profile.periods
    if not periods:
        raise ProfileRefused("a schedule needs at least one period")
    if periods[0].start_s != 0:
        raise ProfileRefused("the first period starts at 0 (K01.FR.31)")
    starts = [period.start_s for period in periods]
    if any(later <= earlier for earlier, later in pairwise(starts)):
        raise ProfileRefused("each period starts after the one before (K01.FR.35)")
    most = _reported_int(charge_point, "ChargingScheduleMaxPeriods")
    if most is not None and len(periods) > most:
        raise ProfileRefused(f"the charger takes at most {most} periods, not {len(periods)}")
    switching = (station_value(charge_point, AC_PHASE_SWITCHING) or "").strip().casefold()
    for period in periods:
        if period.limit < 0:
            raise ProfileRefused(f"a limit of {period.limit:g} is below 0")
        if period.number_phases is not None and period.number_phases not in _PHASES:
            raise ProfileRefused(f"{period.number_phases} phases is not 1, 2 or 3")
        if period.phase_to_use is None:
            continue
        if period.number_phases != 1:
            raise ProfileRefused("only a single-phase period picks its phase (K01.FR.19)")
        if period.phase_to_use not in _PHASES:
            raise ProfileRefused(f"phase {period.phase_to_use} is not 1, 2 or 3")
        if switching != "true":
            raise ProfileRefused(
                "the charger did not report that it can switch phases, so a period "
                "cannot pick one (ACPhaseSwitchingSupported, K01.FR.20)"
            )


def _check_schedule(charge_point: ChargePoint, profile: c.ChargingProfile) -> None:
    check_unit(charge_point, profile.unit)
    _check_periods(charge_point, profile)
    relative = profile.kind is c.ScheduleKind.RELATIVE
    if not relative and profile.start_schedule is None:
        raise ProfileRefused(f"an {profile.kind.value} schedule needs a start (K01.FR.40)")
    if relative and profile.start_schedule is not None:
        raise ProfileRefused("a relative schedule has no start of its own (K01.FR.41)")
    if profile.kind is c.ScheduleKind.RECURRING and profile.recurrency not in _RECURRENCY:
        raise ProfileRefused("a recurring schedule recurs Daily or Weekly")
    if profile.stack_level < 0:
        raise ProfileRefused(f"stack level {profile.stack_level} is below 0")
    highest = _reported_int(charge_point, "ChargeProfileMaxStackLevel")
    if highest is not None and profile.stack_level > highest:
        raise ProfileRefused(f"the charger's stack levels end at {highest}")
    if profile.min_rate is not None and profile.min_rate < 0:
        raise ProfileRefused(f"a minimum rate of {profile.min_rate:g} is below 0")
    if profile.valid_from and profile.valid_to and profile.valid_to <= profile.valid_from:
        raise ProfileRefused("the profile stops being valid before it starts")


def charger_transaction_id(transaction: Transaction) -> str:
    """The charger's own id of a session; ProfileRefused if it never gave one."""
    if transaction.charger_transaction_id is None:  # a session from before a 1.6 firmware
        raise ProfileRefused(f"the charger never named session {transaction.transaction_id}")
    return transaction.charger_transaction_id


def names(transaction: Transaction, given: c.TransactionId) -> bool:
    """Whether `given` is this session: our session number or the charger's own id."""
    if isinstance(given, int):
        return given == transaction.transaction_id
    return given in (transaction.charger_transaction_id, str(transaction.transaction_id))


def checked_profile(
    charge_point: ChargePoint, evse_id: int, profile: c.ChargingProfile
) -> datatypes.ChargingProfileType:
    """The profile to send with SetChargingProfile to `evse_id`, or ProfileRefused.

    A TxProfile is for the transaction running on the EVSE; it may name it by our
    session number or the charger's id, or not at all (as OCPP 1.6 allows): the
    charger's id is sent.
    """
    _check_schedule(charge_point, profile)
    transaction_id = None
    match profile.purpose:
        case c.ChargingPurpose.CHARGER_MAX:
            if evse_id != 0:
                raise ProfileRefused("a charger-wide maximum belongs on EVSE 0")
            if profile.kind is c.ScheduleKind.RELATIVE:
                raise ProfileRefused("a charger-wide maximum is never relative (K01.FR.38)")
        case c.ChargingPurpose.TX:
            if evse_id <= 0:
                raise ProfileRefused("a transaction's profile belongs on its EVSE (K01.FR.16)")
            connector = charge_point.connectors.get(evse_id)
            running = connector.transaction if connector is not None else None
            if running is None:
                raise ProfileRefused(f"no transaction is running on EVSE {evse_id} (K01.FR.09)")
            transaction_id = charger_transaction_id(running)
            given = profile.transaction_id
            if given is not None and not names(running, given):
                raise ProfileRefused(
                    f"transaction {given} is not the one running on EVSE {evse_id} "
                    f"({transaction_id}, K01.FR.33)"
                )
        case c.ChargingPurpose.TX_DEFAULT:
            if profile.transaction_id is not None:
                raise ProfileRefused("only a transaction's own profile names a transaction")
    return charging_profile(profile, transaction_id)


def start_profile(
    charge_point: ChargePoint, profile: c.ChargingProfile
) -> datatypes.ChargingProfileType:
    """The profile a RequestStartTransaction carries: the new transaction's own (F01)."""
    if profile.purpose is not c.ChargingPurpose.TX:
        raise ProfileRefused("the profile of a remote start is the transaction's own (TxProfile)")
    if profile.transaction_id is not None:
        raise ProfileRefused("the profile of a remote start cannot name a transaction yet")
    _check_schedule(charge_point, profile)
    return charging_profile(profile, None)


def charging_profile(
    profile: c.ChargingProfile, transaction_id: str | None
) -> datatypes.ChargingProfileType:
    """A neutral charging profile as OCPP 2.0.1's ChargingProfileType (one schedule)."""
    recurring = profile.kind is c.ScheduleKind.RECURRING
    return datatypes.ChargingProfileType(
        id=profile.profile_id,
        stack_level=profile.stack_level,
        charging_profile_purpose=PURPOSE[profile.purpose],
        charging_profile_kind=_KIND[profile.kind],
        charging_schedule=[
            datatypes.ChargingScheduleType(
                # One schedule per profile: it may share the profile's id.
                id=profile.profile_id,
                charging_rate_unit=UNIT[profile.unit],
                charging_schedule_period=[
                    datatypes.ChargingSchedulePeriodType(
                        start_period=period.start_s,
                        limit=period.limit,
                        number_phases=period.number_phases,
                        phase_to_use=period.phase_to_use,
                    )
                    for period in profile.periods
                ],
                start_schedule=(
                    format_timestamp(profile.start_schedule) if profile.start_schedule else None
                ),
                duration=profile.duration_s,
                min_charging_rate=profile.min_rate,
            )
        ],
        valid_from=format_timestamp(profile.valid_from) if profile.valid_from else None,
        valid_to=format_timestamp(profile.valid_to) if profile.valid_to else None,
        transaction_id=transaction_id,
        recurrency_kind=_RECURRENCY[profile.recurrency]
        if recurring and profile.recurrency
        else None,
    )
