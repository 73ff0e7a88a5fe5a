"""The development simulator (scripts/simulator) against the real central system in HA."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.levity_ocpp.const import DOMAIN
from scripts.simulator import Fault, SimulatedChargePoint

ENERGY_WH = 300
METER_START_WH = 1_000_000


def simulator(port: int, fault: Fault | None = None) -> SimulatedChargePoint:
    """A fast simulator: a 300 Wh session takes about a second (~15 Wh per MeterValues)."""
    return SimulatedChargePoint(
        f"ws://127.0.0.1:{port}/SIM1",
        energy_wh=ENERGY_WH,
        meter_start_wh=METER_START_WH,
        interval=0.05,
        speed=100,
        fault=fault,
        offline_intervals=3,
        retry_delay=0.05,
        response_timeout=5,
        seed=1,
    )


async def charge(hass: HomeAssistant, sim: SimulatedChargePoint) -> list[int]:
    """Charge one session to the end; return its transaction ids (more after a reboot).

    Entities are unavailable once the charger disconnects: check them before that.
    """
    await sim.start_session()
    session = sim.session()
    assert session is not None
    async with asyncio.timeout(10):
        await sim.wait_session_finished()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert session.delivered_wh == pytest.approx(ENERGY_WH)
    return session.transaction_ids


async def get_sessions(hass: HomeAssistant) -> dict[int, dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", {}, blocking=True, return_response=True
    )
    assert response is not None
    return {session["transaction_id"]: session for session in response["sessions"]}


def state_kwh(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def test_session(hass: HomeAssistant, port: int) -> None:
    async with simulator(port) as sim:
        (transaction_id,) = await charge(hass, sim)
        meter_stop = round(sim.meter_wh())
        sessions = await get_sessions(hass)
        assert list(sessions) == [transaction_id]
        session = sessions[transaction_id]
        assert session["charge_point_id"] == "SIM1"
        assert session["closed_by"] == "charger"
        assert session["meter_start_wh"] == METER_START_WH
        assert session["meter_stop_wh"] == meter_stop
        assert session["energy_kwh"] == pytest.approx((meter_stop - METER_START_WH) / 1000)
        assert session["energy_kwh"] == pytest.approx(ENERGY_WH / 1000)
        assert state_kwh(hass, "sensor.sim1_energy") == pytest.approx(meter_stop / 1000)
        assert state_kwh(hass, "sensor.sim1_session_energy") == pytest.approx(session["energy_kwh"])


async def test_reboot_loses_no_energy(hass: HomeAssistant, port: int) -> None:
    async with simulator(port, Fault.REBOOT) as sim:
        transaction_ids = await charge(hass, sim)
        meter_stop = round(sim.meter_wh())
        sessions = await get_sessions(hass)

    assert sorted(sessions) == sorted(transaction_ids)
    assert sum(session["energy_kwh"] for session in sessions.values()) == pytest.approx(
        (meter_stop - METER_START_WH) / 1000
    )


async def test_reboot_closes_orphan(hass: HomeAssistant, port: int) -> None:
    async with simulator(port, Fault.REBOOT) as sim:
        transaction_ids = await charge(hass, sim)
        meter_stop = round(sim.meter_wh())
        assert sim.boot_count == 2
        assert len(transaction_ids) == 2
        sessions = await get_sessions(hass)
        assert sorted(sessions) == sorted(transaction_ids)
        orphan, follow_up = (sessions[t] for t in transaction_ids)
        assert orphan["closed_by"] == "central_system"
        assert orphan["stop_reason"] == "Reboot"
        assert orphan["energy_kwh"] > 0
        assert follow_up["closed_by"] == "charger"
        assert follow_up["stop_reason"] == "Local"
        assert follow_up["meter_stop_wh"] == meter_stop
        assert follow_up["energy_kwh"] > 0
        assert state_kwh(hass, "sensor.sim1_energy") == pytest.approx(meter_stop / 1000)
        assert state_kwh(hass, "sensor.sim1_session_energy") == pytest.approx(
            follow_up["energy_kwh"]
        )


async def test_offline_buffering(hass: HomeAssistant, port: int) -> None:
    states: list[str] = []

    def record(event: Event[EventStateChangedData]) -> None:
        if (state := event.data["new_state"]) is not None:
            states.append(state.state)

    unsubscribe = async_track_state_change_event(hass, "sensor.sim1_energy", record)
    async with simulator(port, Fault.OFFLINE) as sim:
        (transaction_id,) = await charge(hass, sim)
        meter_stop = round(sim.meter_wh())
        assert sim.boot_count == 1
        sessions = await get_sessions(hass)
    unsubscribe()

    assert list(sessions) == [transaction_id]
    session = sessions[transaction_id]
    assert session["closed_by"] == "charger"
    assert session["meter_start_wh"] == METER_START_WH
    assert session["meter_stop_wh"] == meter_stop
    assert session["energy_kwh"] == pytest.approx((meter_stop - METER_START_WH) / 1000)
    assert session["energy_kwh"] == pytest.approx(ENERGY_WH / 1000)
    assert session["anomalies"] == []
    # The sensor went unavailable while the charger was offline; the readings it buffered
    # arrived late but never moved the register back.
    offline = states.index(STATE_UNAVAILABLE)
    registers = [float(state) for state in states if state != STATE_UNAVAILABLE]
    assert 0 < offline < len(states) - 2
    assert registers == sorted(registers)
    assert registers[-1] == pytest.approx(meter_stop / 1000)
