"""The OCPP 2.0.1 simulator against the real central system in HA: its session in the
ledger and the sensors, and the actions users have (start, stop, current limit,
reset, unlock, trigger, configuration) reaching it as 2.0.1 commands.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from scripts.simulator import Fault, SimulatedChargingStation

from .command_helpers import act, device_id
from .conftest import async_wait_until
from .test_simulator import get_sessions, state_kwh

ENERGY_WH = 300
METER_START_WH = 1_000_000


def station(port: int, **settings: Any) -> SimulatedChargingStation:
    """A fast 2.0.1 station: a 300 Wh session takes about a second."""
    return SimulatedChargingStation(
        f"ws://127.0.0.1:{port}/SIM1",
        **{
            "energy_wh": ENERGY_WH,
            "meter_start_wh": METER_START_WH,
            "interval": 0.05,
            "speed": 100,
            "aligned_interval": 0,
            "retry_delay": 0.05,
            "response_timeout": 5,
            "seed": 1,
            **settings,
        },
    )


async def test_a_2_0_1_session_in_the_ledger(hass: HomeAssistant, port: int) -> None:
    async with station(port) as sim:
        charger_id = await sim.start_session()
        async with asyncio.timeout(10):
            await sim.wait_session_finished()
        await hass.async_block_till_done(wait_background_tasks=True)
        meter_stop = round(sim.meter_wh())
        (session,) = (await get_sessions(hass)).values()
        assert session["charger_transaction_id"] == charger_id
        assert session["charge_point_id"] == "SIM1"
        assert session["meter_start_wh"] == METER_START_WH
        assert session["meter_stop_wh"] == meter_stop
        assert session["energy_kwh"] == pytest.approx(ENERGY_WH / 1000, abs=0.002)
        assert state_kwh(hass, "sensor.sim1_energy") == pytest.approx(meter_stop / 1000)


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_actions_reach_a_2_0_1_station(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with station(port, energy_wh=10_000_000) as sim:
        await hass.async_block_till_done(wait_background_tasks=True)
        device = device_id(hass, setup_integration, "SIM1")
        await act(hass, "start_charging", device_id=device)
        await async_wait_until(hass, lambda: sim.transaction_id() is not None)
        await async_wait_until(hass, lambda: sim.charging_state() == "Charging")
        session = sim.session()
        assert session is not None
        assert session.remote_start_id is not None  # RequestStartTransaction

        await act(hass, "set_current_limit", device_id=device, current_limit=8)

        # The station took the limit (its entity comes once the device model says it
        # can be limited) and draws no more than it.
        def applied() -> str | None:
            state = hass.states.get("sensor.sim1_applied_current_limit")
            return state.state if state else None

        await async_wait_until(hass, lambda: applied() == "8.0")
        await async_wait_until(hass, lambda: 0 < max(sim.connectors[1].currents) < 8.5)

        with pytest.raises(HomeAssistantError, match="OngoingAuthorizedTransaction"):
            await act(hass, "unlock", device_id=device)
        await act(hass, "trigger_message", device_id=device, message="MeterValues")
        reply = await act(hass, "get_configuration", device_id=device, keys=["HeartbeatInterval"])
        assert reply == {
            "configuration": [{"key": "HeartbeatInterval", "value": "60", "readonly": None}],
            "unknown_keys": [],
        }
        reply = await act(
            hass, "set_configuration", device_id=device, key="MeterValueSampleInterval", value="1"
        )
        assert reply == {"status": "Accepted", "reboot_required": False}
        assert sim.interval == 1.0

        await act(hass, "stop_charging", device_id=device)
        await async_wait_until(hass, lambda: sim.session() is None)
        await act(hass, "reset", device_id=device, kind="hard")
        await async_wait_until(hass, lambda: sim.boot_count == 2)


@pytest.mark.parametrize("fault", [Fault.REBOOT, Fault.OFFLINE])
async def test_a_power_cut_or_network_loss_loses_no_energy(
    hass: HomeAssistant, port: int, fault: Fault
) -> None:
    async with station(port, fault=fault) as sim:
        await sim.start_session()
        session = sim.session()
        assert session is not None
        async with asyncio.timeout(10):
            await sim.wait_session_finished()
        await hass.async_block_till_done(wait_background_tasks=True)
        meter_stop = round(sim.meter_wh())
        sessions = list((await get_sessions(hass)).values())
    assert [s["charger_transaction_id"] for s in sessions] == session.transaction_ids
    assert sum(s["energy_kwh"] for s in sessions) == pytest.approx(
        (meter_stop - METER_START_WH) / 1000, abs=0.002
    )
    if fault is Fault.REBOOT:  # the lost transaction ended with the charger's PowerLoss
        assert sessions[0]["stop_reason"] == "PowerLoss"
        assert sessions[0]["closed_by"] == "charger"
