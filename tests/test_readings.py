"""What the live sensors show is what is true now: readings expire, sessions end, phases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .client import DEFAULT_CONFIGURATION, ConfiguredChargePoint
from .conftest import Connect, async_wait_until
from .test_sessions import meter, stamp, start, stop


@pytest.fixture
def all_enabled() -> Iterator[None]:
    """Every entity enabled, as if the user had turned the diagnostic ones on.

    (Voltage and temperature, which these tests read, are disabled by default.)
    """
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


class TenSecondCharger(ConfiguredChargePoint):
    """A charger that says it samples every 10 s (so a reading is stale after 60 s)."""

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [
        *DEFAULT_CONFIGURATION,
        {"key": "MeterValueSampleInterval", "readonly": False, "value": "10"},
    ]


def values(minutes: float, *sampled: tuple[str, str, str | None]) -> dict[str, Any]:
    """A meterValue of (measurand, value, phase) triples; units are the measurands' own."""
    return {
        "timestamp": stamp(minutes),
        "sampledValue": [
            {"measurand": measurand, "value": value, **({"phase": phase} if phase else {})}
            for measurand, value, phase in sampled
        ],
    }


LIVE = values(
    0,
    ("Energy.Active.Import.Register", "1000000", None),
    ("Power.Active.Import", "7360", None),
    ("Current.Import", "32", None),
    ("Voltage", "230", None),
    ("SoC", "55", None),
    ("Temperature", "31", None),
)


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


async def elapse(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("all_enabled")
async def test_what_a_session_draws_ends_with_it(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, LIVE)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "7.36"
        assert state(hass, "sensor.cp1_current") == "32.0"
        assert state(hass, "sensor.cp1_state_of_charge") == "55.0"
        await cp.status(1, ChargePointStatus.suspended_ev)  # paused: still the session's
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "7.36"
        await stop(cp, tx, 1_001_000, 20)
        await cp.status(1, ChargePointStatus.available)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "0.0"
        assert state(hass, "sensor.cp1_current") == "0.0"
        assert state(hass, "sensor.cp1_state_of_charge") == STATE_UNKNOWN
        assert state(hass, "sensor.cp1_voltage") == "230.0"  # not the session's: still true
        assert state(hass, "sensor.cp1_energy") == "1001.0"


async def test_a_stop_alone_ends_the_session_values(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A charger whose status still says Charging right after its StopTransaction."""
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, LIVE)
        await stop(cp, tx, 1_001_000, 20)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "0.0"


async def test_a_connector_without_status_follows_its_transaction(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, LIVE)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "7.36"
        await stop(cp, tx, 1_001_000, 20)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_power") == "0.0"


@pytest.mark.usefixtures("all_enabled")
async def test_readings_expire_after_a_few_sample_intervals(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with connect("/CP1", charge_point_class=TenSecondCharger) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, LIVE)
        await hass.async_block_till_done()
        await elapse(hass, freezer, 45)  # a lost sample or two is no silence
        assert state(hass, "sensor.cp1_power") == "7.36"
        await elapse(hass, freezer, 30)
        for name in ("power", "current", "voltage", "state_of_charge", "temperature"):
            assert state(hass, f"sensor.cp1_{name}") == STATE_UNKNOWN, name
        assert state(hass, "sensor.cp1_energy") == "1000.0"  # a register does not expire


@pytest.mark.usefixtures("all_enabled")
async def test_without_a_known_interval_readings_last_fifteen_minutes(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, LIVE)
        await elapse(hass, freezer, 14 * 60)
        assert state(hass, "sensor.cp1_voltage") == "230.0"
        await elapse(hass, freezer, 2 * 60)
        assert state(hass, "sensor.cp1_voltage") == STATE_UNKNOWN


async def test_session_duration_counts_while_it_runs(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        now = freezer()  # type: ignore[operator]
        await start(cp, timestamp=now.isoformat())
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_session_duration") == "0"
        for _ in range(3):
            await elapse(hass, freezer, 60)
        assert state(hass, "sensor.cp1_session_duration") == "3"


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_last_session_stays_readable_while_the_charger_is_away(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_session_end") == STATE_UNKNOWN  # still running
        await stop(cp, tx, 1_004_500, 90)
    await async_wait_until(hass, lambda: state(hass, "sensor.cp1_power") == STATE_UNAVAILABLE)
    assert state(hass, "sensor.cp1_session_energy") == "4.5"
    assert state(hass, "sensor.cp1_session_duration") == "90"
    assert state(hass, "sensor.cp1_session_id_tag") == "RESIDENT-7"
    assert state(hass, "sensor.cp1_session_end") == "2026-11-01T11:45:00+00:00"
    assert state(hass, "sensor.cp1_power") == STATE_UNAVAILABLE
    assert state(hass, "sensor.cp1_status") == STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("status", "error_code", "plugged_in", "charging", "problem"),
    [
        (
            ChargePointStatus.available,
            ChargePointErrorCode.no_error,
            STATE_OFF,
            STATE_OFF,
            STATE_OFF,
        ),
        (
            ChargePointStatus.preparing,
            ChargePointErrorCode.no_error,
            STATE_ON,
            STATE_OFF,
            STATE_OFF,
        ),
        (ChargePointStatus.charging, ChargePointErrorCode.no_error, STATE_ON, STATE_ON, STATE_OFF),
        (
            ChargePointStatus.suspended_ev,
            ChargePointErrorCode.no_error,
            STATE_ON,
            STATE_OFF,
            STATE_OFF,
        ),
        (
            ChargePointStatus.finishing,
            ChargePointErrorCode.no_error,
            STATE_ON,
            STATE_OFF,
            STATE_OFF,
        ),
        (
            ChargePointStatus.reserved,
            ChargePointErrorCode.no_error,
            STATE_OFF,
            STATE_OFF,
            STATE_OFF,
        ),
        (
            ChargePointStatus.faulted,
            ChargePointErrorCode.ground_failure,
            STATE_UNKNOWN,
            STATE_OFF,
            STATE_ON,
        ),
        (
            ChargePointStatus.charging,
            ChargePointErrorCode.high_temperature,
            STATE_ON,
            STATE_ON,
            STATE_ON,
        ),
    ],
)
async def test_plugged_in_charging_and_problem_follow_the_status(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    status: ChargePointStatus,
    error_code: ChargePointErrorCode,
    plugged_in: str,
    charging: str,
    problem: str,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(0, ChargePointStatus.available)
        await cp.status(1, status, error_code)
        await hass.async_block_till_done()
        assert state(hass, "binary_sensor.cp1_plugged_in") == plugged_in
        assert state(hass, "binary_sensor.cp1_charging") == charging
        assert state(hass, "binary_sensor.cp1_problem") == problem
        assert state(hass, "binary_sensor.cp1_charge_point_problem") == STATE_OFF
        await cp.status(0, ChargePointStatus.faulted, ChargePointErrorCode.power_meter_failure)
        await hass.async_block_till_done()
        assert state(hass, "binary_sensor.cp1_charge_point_problem") == STATE_ON


async def test_three_phases_and_the_rarer_measurands(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Total power enabled; per-phase values, noisy and rarely looked at, on request."""
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        phased = [
            (measurand, value, phase)
            for phase in ("L1", "L2", "L3")
            for measurand, value in (
                ("Current.Import", "16"),
                ("Voltage", "231"),
                ("Power.Active.Import", "3680"),
            )
        ]
        rare = [
            ("Energy.Active.Export.Register", "1500", None),
            ("Power.Offered", "11000", None),
            ("Frequency", "50.02", None),
            ("Power.Factor", "0.98", None),
        ]
        await meter(cp, tx, values(0, *phased, *rare))
        await hass.async_block_till_done()
    registry = er.async_get(hass)

    def enabled(entity_id: str) -> bool:
        entry = registry.async_get(entity_id)
        assert entry is not None, f"{entity_id} does not exist"
        return entry.disabled_by is None

    assert enabled("sensor.cp1_power")
    assert not any(enabled(f"sensor.cp1_current_{p}") for p in ("l1", "l2", "l3"))
    assert not any(enabled(f"sensor.cp1_voltage_{p}") for p in ("l1", "l2", "l3"))
    assert not any(enabled(f"sensor.cp1_power_{p}") for p in ("l1", "l2", "l3"))
    assert registry.async_get("sensor.cp1_current") is None  # no average of phases
    assert registry.async_get("sensor.cp1_voltage") is None
    for entity_id in (
        "sensor.cp1_energy_exported",
        "sensor.cp1_power_offered",
        "sensor.cp1_frequency",
        "sensor.cp1_power_factor",
    ):
        assert not enabled(entity_id), entity_id
    assert registry.async_get("sensor.cp1_current_l1").entity_category == "diagnostic"
