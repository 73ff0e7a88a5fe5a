"""The recorder stays small: a 3-phase charger's noisy readings write few states.

What a user looks at stays exact: a visible change is written, the energy state at
every 5-minute boundary is the last register reading, and the long-term statistics
add up to the energy delivered.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    statistics_during_period,
)

from .conftest import Connect
from .test_readings import TenSecondCharger
from .test_sessions import meter, start, stop

START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=10)
POWER_W = 11040.0
ENERGY = "sensor.cp1_energy"


def reading(measurand: str, value: float, unit: str, phase: str | None = None) -> dict[str, Any]:
    return {
        "measurand": measurand,
        "value": f"{value:.2f}",
        "unit": unit,
        **({"phase": phase} if phase else {}),
    }


def noisy_sample(at: datetime, energy_wh: float, soc: float, noise: random.Random) -> Any:
    """Ten measurands as a real 3-phase charger sends them, with a meter's noise."""
    phases = ("L1", "L2", "L3")
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "sampledValue": [
            reading("Energy.Active.Import.Register", energy_wh, "Wh"),
            reading("Power.Active.Import", POWER_W + noise.uniform(-40, 40), "W"),
            *(reading("Current.Import", 16 + noise.uniform(-0.1, 0.1), "A", p) for p in phases),
            *(reading("Voltage", 230 + noise.uniform(-2, 2), "V", f"{p}-N") for p in phases),
            reading("Current.Offered", 16, "A"),
            reading("SoC", soc, "Percent"),
            reading("Temperature", 35 + noise.uniform(-0.5, 0.5), "Celsius"),
            reading("Frequency", 50 + noise.uniform(-0.02, 0.02), "Hertz"),
        ],
    }


async def elapse_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, at: datetime) -> None:
    freezer.move_to(at)
    async_fire_time_changed(hass, at)
    await hass.async_block_till_done()


@pytest.mark.parametrize("minutes", [10])
async def test_a_charging_3_phase_charger_writes_few_states(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
    minutes: int,
) -> None:
    freezer.move_to(START - timedelta(minutes=1))
    noise = random.Random(10)
    writes: Counter[str] = Counter()
    energy_wh, soc = 5_000_000.0, 40.0
    boundary_states: list[tuple[float, float]] = []
    period_wh: list[float] = [0.0] * (minutes // 5)
    async with connect("/CP1", charge_point_class=TenSecondCharger) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp, int(energy_wh))
        await meter(cp, tx, noisy_sample(START - INTERVAL, energy_wh, soc, noise))
        await elapse_to(hass, freezer, START)

        def count(event: Event[Any]) -> None:
            if event.data["entity_id"].startswith(("sensor.cp1", "binary_sensor.cp1")):
                writes[event.data["entity_id"]] += 1

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        for step in range(minutes * 6):
            at = START + step * INTERVAL + timedelta(seconds=3)
            await elapse_to(hass, freezer, at)
            delivered = POWER_W * INTERVAL.total_seconds() / 3600 + noise.uniform(-0.5, 0.5)
            energy_wh += delivered
            period_wh[(at - START) // timedelta(minutes=5)] += delivered
            soc += 100 * delivered / 60_000  # a 60 kWh battery
            await meter(cp, tx, noisy_sample(at, energy_wh, soc, noise))
            await hass.async_block_till_done()
            # A visible change is written at once: what the user sees (0.1 kWh) is
            # the truth, or within half a step of it.
            shown, truth = float(hass.states.get(ENERGY).state), energy_wh / 1000
            assert f"{shown:.1f}" == f"{truth:.1f}" or abs(shown - truth) < 0.05 + 1e-9
            if (step + 1) % 30 == 0:  # the end of a 5-minute period
                end = START + (step + 1) * INTERVAL
                await elapse_to(hass, freezer, end - timedelta(seconds=1))
                await elapse_to(hass, freezer, end)
                boundary_states.append(
                    (float(hass.states.get(ENERGY).state), round(energy_wh / 1000, 5))
                )

        rows_per_minute = sum(writes.values()) / minutes
        print(f"state rows per charger-minute: {rows_per_minute:.1f}", dict(writes))
        assert rows_per_minute <= 15
        # No entity writes on every message (6 a minute) but the session's energy.
        assert all(n <= 2 * minutes for e, n in writes.items() if e != "sensor.cp1_session_energy")
        assert writes["sensor.cp1_session_duration"] in (minutes - 1, minutes)  # once a minute
        assert writes[ENERGY] >= minutes  # the register rises 0.3 kWh in a minute...
        # ...and at every boundary its state is the charger's last reading.
        assert [shown for shown, _ in boundary_states] == [
            pytest.approx(truth) for _, truth in boundary_states
        ]

        # The long-term statistics add up to what was delivered in each period.
        for period in range(minutes // 5):
            do_adhoc_statistics(hass, start=START + period * timedelta(minutes=5))
        await async_wait_recording_done(hass)
        stats = await hass.async_add_executor_job(
            statistics_during_period, hass, START, None, {ENERGY}, "5minute"
        )
        sums = [row["sum"] for row in stats[ENERGY]]
        increments = [sums[0], *(b - a for a, b in pairwise(sums))]
        # (Readings are sent to 0.01 Wh.)
        assert increments == [pytest.approx(wh / 1000, abs=1e-5) for wh in period_wh]


async def test_the_users_precision_and_unit_decide_what_is_visible(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A user who asks for watts, or for Wh in kWh, gets every such change written."""
    registry = er.async_get(hass)
    noise = random.Random(1)
    async with connect("/CP1", charge_point_class=TenSecondCharger) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp, 5_000_000)
        at = datetime.now(UTC)
        await meter(cp, tx, noisy_sample(at, 5_000_000, 40, noise))
        await hass.async_block_till_done()
        registry.async_update_entity_options(
            "sensor.cp1_power", "sensor", {"unit_of_measurement": "W", "display_precision": 0}
        )
        registry.async_update_entity_options(ENERGY, "sensor", {"display_precision": 3})
        await hass.async_block_till_done()
        powers, energies = set(), set()
        for step in range(1, 4):
            await meter(cp, tx, noisy_sample(at, 5_000_000 + 30 * step, 40, noise))
            await hass.async_block_till_done()
            powers.add(hass.states.get("sensor.cp1_power").state)
            energies.add(hass.states.get(ENERGY).state)
        assert hass.states.get("sensor.cp1_power").attributes["unit_of_measurement"] == "W"
        assert len(powers) == 3  # tens of watts apart: visible in W
        assert energies == {"5000.03", "5000.06", "5000.09"}


async def test_the_main_meter_holds_its_noise_while_a_connector_charges(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=TenSecondCharger) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp, 5_000_000)
        at = datetime.now(UTC)
        for watts in (11040, 11060, 11020):
            main = {
                "timestamp": at.isoformat(),
                "sampledValue": [reading("Power.Active.Import", watts, "W")],
            }
            await cp.call(call.MeterValues(connector_id=0, meter_value=[main]), suppress=False)
            await hass.async_block_till_done()
            # Tens of watts: no visible change at 0.1 kW while the session runs.
            assert hass.states.get("sensor.cp1_main_meter_power").state == "11.04"
        await stop(cp, tx, 5_001_000, 1)
