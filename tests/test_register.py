"""The energy register HA shows is the charger's: meterStart/meterStop, resets, glitches."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from .client import connect_charge_point
from .conftest import Connect
from .restart_helpers import restarted
from .test_sessions import get_sessions, meter, stamp, start, stop

ENERGY = "sensor.cp1_energy"


def register(minutes: float, value: str, unit: str = "Wh") -> dict[str, Any]:
    """A meterValue with only the energy register."""
    return {
        "timestamp": stamp(minutes),
        "sampledValue": [
            {"value": value, "measurand": "Energy.Active.Import.Register", "unit": unit}
        ],
    }


def anomalies(entry: MockConfigEntry) -> list[str]:
    return [a.description for a in entry.runtime_data.charge_points["CP1"].anomalies]


async def test_meter_start_and_stop_are_register_readings(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A charger sending no MeterValues at all: the sensor follows meterStart, meterStop."""
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 1_000_000)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1000.0"
        await cp.call(
            call.StopTransaction(meter_stop=1_007_250, timestamp=stamp(50), transaction_id=tx),
            suppress=False,
        )
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1007.25"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == 7.25


async def test_last_part_of_a_session_is_counted_at_the_stop(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 1_000_000)
        await meter(cp, tx, register(10, "1002000"))
        await stop(cp, tx, 1_003_000, 15)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1003.0"
        # An older meterStart (a queued StartTransaction) never moves it back.
        await start(cp, 1_002_500, timestamp=stamp(12), id_tag="LATE")
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1003.0"


async def test_stop_after_a_home_assistant_restart_reaches_the_sensor(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 1_000_000)
        await meter(cp, tx, register(10, "1001000"))
        await hass.async_block_till_done()
    await hass.async_stop()

    async with (
        restarted(hass, setup_integration, async_test_recorder) as (hass2, port),
        connect_charge_point(port, "/CP1") as cp,
    ):
        await stop(cp, tx, 1_004_000, 30)
        await hass2.async_block_till_done()
        assert hass2.states.get(ENERGY).state == "1004.0"


async def test_a_confirmed_drop_is_a_meter_reset(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A replaced meter: 10 Wh after 5,001 kWh, confirmed by the next reading."""
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 5_000_000)
        await meter(cp, tx, register(10, "5001000"))
        await meter(cp, tx, register(20, "10"))
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "5001.0"  # one drop alone: not shown
        await meter(cp, tx, register(30, "510"))
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "0.51"  # total_increasing counts on from here
        assert any("was reset" in anomaly for anomaly in anomalies(setup_integration))
        assert hass.states.get("sensor.cp1_session_energy").state == "1.5"
        await stop(cp, tx, 1_010, 40)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1.01"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == 2.0  # 1 kWh before the reset, 1 kWh after
    assert any("meter reset" in anomaly for anomaly in session["anomalies"])


async def test_one_backwards_glitch_is_ignored(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 5_000_000)
        await meter(cp, tx, register(10, "5001000"))
        await meter(cp, tx, register(20, "0"))
        await meter(cp, tx, register(30, "5002000"))
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "5002.0"
        await stop(cp, tx, 5_002_000, 40)
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == 2.0
    assert not any("reset" in anomaly for anomaly in session["anomalies"])


async def test_the_same_reading_at_another_precision_is_no_anomaly(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 0)
        await meter(cp, tx, register(10, "91.67"))
        await meter(cp, tx, register(20, "91.6667"))
        await stop(cp, tx, 92, 30)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "0.092"
    (session,) = await get_sessions(hass)
    assert session["anomalies"] == []
    assert anomalies(setup_integration) == []


async def test_a_negative_register_is_never_shown_nor_billed(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, -5)
        await meter(cp, tx, register(5, "-5"))
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY) is None  # no register reading yet: no sensor
        await meter(cp, tx, register(10, "1000"))
        await meter(cp, tx, register(20, "3000"))
        await stop(cp, tx, -5, 30)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "3.0"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == 2.0  # from the first good reading to the last
    assert any("negative" in anomaly for anomaly in session["anomalies"])
    assert any("negative" in anomaly for anomaly in anomalies(setup_integration))


async def test_a_charger_counting_per_session_keeps_its_register(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """meterStart 0 on a charger whose register reads 5,000 kWh is not a register reading."""
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 5_000_000)
        await stop(cp, tx, 5_001_000, 10)
        tx = await start(cp, 0, timestamp=stamp(20))
        await stop(cp, tx, 2_000, 30)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "5001.0"
    sessions = await get_sessions(hass)
    assert [session["energy_kwh"] for session in sessions] == [1.0, 2.0]
    assert not any("reset" in anomaly for anomaly in anomalies(setup_integration))


async def test_two_zero_readings_are_no_reset_and_the_stop_counts(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A meter read failure sending 0 twice: nothing counted twice, nothing lost."""
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, 1_000_000)
        for minutes, value in ((10, "1002000"), (20, "1004000"), (30, "0"), (40, "0")):
            await meter(cp, tx, register(minutes, value))
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1004.0"
        await stop(cp, tx, 1_006_000, 50)
        await hass.async_block_till_done()
        assert hass.states.get(ENERGY).state == "1006.0"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == 6.0
    assert not any("reset" in anomaly for anomaly in session["anomalies"])


async def test_a_glitched_meter_stop_does_not_decide_the_bill(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        low = await start(cp, 1_000_000)
        await meter(cp, low, register(10, "1004000"))
        await stop(cp, low, 0, 20)  # a stop reading 0 after 4 kWh
        high = await start(cp, 1_004_000, timestamp=stamp(30))
        await meter(cp, high, register(40, "1005000"))
        await stop(cp, high, 4_294_967_295, 50)  # 0xFFFFFFFF
    first, second = await get_sessions(hass)
    assert (first["energy_kwh"], second["energy_kwh"]) == (4.0, 1.0)
    assert any("meterStop" in anomaly for anomaly in first["anomalies"])
    assert any("meterStop" in anomaly for anomaly in second["anomalies"])
