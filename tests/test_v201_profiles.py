"""Charging profiles for OCPP 2.0.1 follow the K01 rules before anything is sent.

Each broken rule is refused with CommandNotApplicable naming it; what the charger
reported about itself (units, phase switching, stack levels, periods) counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.v201_commands import to_call

from .v201_wire import station, wire


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TX, DEFAULT, MAX = c.ChargingPurpose.TX, c.ChargingPurpose.TX_DEFAULT, c.ChargingPurpose.CHARGER_MAX
ABSOLUTE, RECURRING = c.ScheduleKind.ABSOLUTE, c.ScheduleKind.RECURRING
RELATIVE = c.ScheduleKind.RELATIVE
SWITCHING = {"SmartChargingCtrlr/ACPhaseSwitchingSupported": "true"}


def profile(
    purpose: c.ChargingPurpose = DEFAULT, kind: c.ScheduleKind = RELATIVE, **changes: Any
) -> c.ChargingProfile:
    fields: dict[str, Any] = {
        "profile_id": 1,
        "stack_level": 1,
        "purpose": purpose,
        "kind": kind,
        "unit": c.RateUnit.AMPERE,
        "periods": (c.SchedulePeriod(0, 16.0),),
        "start_schedule": None if kind is RELATIVE else AT,
        **changes,
    }
    return c.ChargingProfile(**fields)


def periods(*starts: int, **changes: Any) -> tuple[c.SchedulePeriod, ...]:
    return tuple(c.SchedulePeriod(start, 10.0, **changes) for start in starts)


RUNNING = {1: "tx-1"}


@pytest.mark.parametrize(
    ("evse_id", "refused", "configuration", "reason"),
    [
        (1, profile(MAX, ABSOLUTE), {}, "charger-wide maximum belongs on EVSE 0"),
        (0, profile(MAX), {}, r"never relative \(K01.FR.38\)"),
        (0, profile(TX), {}, r"K01.FR.16"),
        (2, profile(TX), {}, r"no transaction is running on EVSE 2 \(K01.FR.09\)"),
        (1, profile(TX, transaction_id="tx-0"), {}, r"not the one running on EVSE 1 \(tx-1"),
        (1, profile(TX, transaction_id=1), {}, r"transaction 1 is not the one running"),
        (1, profile(transaction_id="tx-1"), {}, "only a transaction's own profile"),
        (1, profile(periods=()), {}, "at least one period"),
        (1, profile(periods=periods(60)), {}, r"first period starts at 0 \(K01.FR.31\)"),
        (1, profile(periods=periods(0, 60, 60)), {}, r"\(K01.FR.35\)"),
        (1, profile(DEFAULT, ABSOLUTE, start_schedule=None), {}, r"\(K01.FR.40\)"),
        (1, profile(kind=RECURRING, start_schedule=None), {}, r"\(K01.FR.40\)"),
        (1, profile(start_schedule=AT), {}, r"no start of its own \(K01.FR.41\)"),
        (1, profile(kind=RECURRING), {}, "recurs Daily or Weekly"),
        (1, profile(kind=RECURRING, recurrency="Monthly"), {}, "recurs Daily or Weekly"),
        (1, profile(stack_level=-1), {}, "stack level -1 is below 0"),
        (1, profile(periods=(c.SchedulePeriod(0, -1.0),)), {}, "limit of -1 is below 0"),
        (1, profile(periods=periods(0, number_phases=4)), {}, "4 phases is not 1, 2 or 3"),
        (1, profile(min_rate=-6.0), {}, "minimum rate of -6 is below 0"),
        (1, profile(valid_from=AT, valid_to=AT), {}, "stops being valid before it starts"),
        (
            1,
            profile(periods=periods(0, number_phases=3, phase_to_use=1)),
            SWITCHING,
            r"only a single-phase period picks its phase \(K01.FR.19\)",
        ),
        (
            1,
            profile(periods=periods(0, number_phases=1, phase_to_use=2)),
            {},
            r"ACPhaseSwitchingSupported, K01.FR.20",
        ),
        (
            1,
            profile(periods=periods(0, number_phases=1, phase_to_use=4)),
            SWITCHING,
            "phase 4 is not 1, 2 or 3",
        ),
        (
            1,
            profile(),
            {"ChargingScheduleAllowedChargingRateUnit": "Power"},
            r"in Power only, not in A \(K01.FR.26\)",
        ),
        (
            1,
            profile(unit=c.RateUnit.WATT),
            {"SmartChargingCtrlr/RateUnit": "A"},
            r"in Current only, not in W \(K01.FR.26\)",
        ),
        (
            1,
            profile(periods=periods(0, 60)),
            {"ChargingScheduleMaxPeriods": "1"},
            "at most 1 periods, not 2",
        ),
        (1, profile(stack_level=3), {"ChargeProfileMaxStackLevel": "2"}, "levels end at 2"),
    ],
)
def test_profiles_breaking_a_rule_are_refused(
    evse_id: int, refused: c.ChargingProfile, configuration: dict[str, str], reason: str
) -> None:
    model = station(1, 2, configuration=configuration, transactions=RUNNING)
    with pytest.raises(c.CommandNotApplicable, match=reason) as error:
        to_call(c.SetChargingProfile(evse_id, refused), model)
    assert error.value.action == "SetChargingProfile"


@pytest.mark.parametrize(
    ("refused", "reason"),
    [
        (profile(DEFAULT), "the transaction's own"),
        (profile(TX, transaction_id="tx-1"), "cannot name a transaction yet"),
        (profile(TX, periods=periods(5)), r"K01.FR.31"),
    ],
)
def test_a_remote_start_carries_only_the_new_transactions_own_profile(
    refused: c.ChargingProfile, reason: str
) -> None:
    with pytest.raises(c.CommandNotApplicable, match=reason) as error:
        to_call(c.StartCharging("TAG", 1, refused), station(1))
    assert error.value.action == "RequestStartTransaction"


async def test_what_the_charger_reported_it_can_do_is_sent() -> None:
    model = station(
        1,
        configuration={
            **SWITCHING,
            "SmartChargingCtrlr/RateUnit": "A,W",
            "ChargingScheduleMaxPeriods": "2",
            "ChargeProfileMaxStackLevel": "1",
        },
        transactions={1: "12"},
    )
    single_phase = profile(
        TX,
        unit=c.RateUnit.WATT,
        periods=(c.SchedulePeriod(0, 3680.0, 1, 2), c.SchedulePeriod(600, 7360.0, 2)),
        transaction_id=41,  # our session number for the charger's transaction "12"
    )
    sent = await wire(to_call(c.SetChargingProfile(1, single_phase), model))
    assert sent["chargingProfile"]["transactionId"] == "12"
    schedule = sent["chargingProfile"]["chargingSchedule"][0]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 3680.0, "numberPhases": 1, "phaseToUse": 2},
        {"startPeriod": 600, "limit": 7360.0, "numberPhases": 2},
    ]


@pytest.mark.parametrize("given", [None, 41, "41", "tx-1"])
async def test_a_transactions_profile_is_for_the_one_running(given: int | str | None) -> None:
    model = station(1, transactions=RUNNING)
    sent = await wire(to_call(c.SetChargingProfile(1, profile(TX, transaction_id=given)), model))
    assert sent["chargingProfile"]["transactionId"] == "tx-1"


def test_a_composite_schedule_is_asked_for_in_a_unit_the_charger_takes() -> None:
    watts_only = station(1, configuration={"ChargingScheduleAllowedChargingRateUnit": "Power"})
    with pytest.raises(c.CommandNotApplicable, match=r"K01\.FR\.26") as error:
        to_call(c.GetCompositeSchedule(1, 60, c.RateUnit.AMPERE), watts_only)
    assert error.value.action == "GetCompositeSchedule"
    assert to_call(c.GetCompositeSchedule(1, 60, c.RateUnit.WATT), watts_only).evse_id == 1
    assert to_call(c.GetCompositeSchedule(1, 60), watts_only).charging_rate_unit is None


def test_what_the_charger_reported_unreadably_is_left_for_it_to_judge() -> None:
    model = station(
        1, configuration={"ChargeProfileMaxStackLevel": "lots", "SmartChargingCtrlr/RateUnit": ""}
    )
    sent = to_call(c.SetChargingProfile(1, profile(stack_level=30)), model)
    assert sent.charging_profile.stack_level == 30


def test_a_session_the_charger_never_named_cannot_be_named_to_it() -> None:
    model = station(1, transactions=RUNNING)
    transaction = model.connector(1).transaction
    assert transaction is not None
    transaction.charger_transaction_id = None  # opened while the charger spoke 1.6
    with pytest.raises(c.CommandNotApplicable, match="never named session 41"):
        to_call(c.SetChargingProfile(1, profile(TX)), model)
    with pytest.raises(c.CommandNotApplicable, match="never named session 41") as error:
        to_call(c.StopCharging(41), model)
    assert error.value.action == "RequestStopTransaction"
