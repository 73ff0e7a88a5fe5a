"""Per-phase sensors (disabled by default): which phase value each one shows."""

from __future__ import annotations

from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .client import connect_charge_point
from .conftest import listening_port

PHASE_SENSORS = ("current_l1", "current_l2", "voltage_l1", "power_l3")


def reading(measurand: str, unit: str, phase: str, value: str) -> dict[str, str]:
    return {"value": value, "measurand": measurand, "unit": unit, "phase": phase}


async def send_phases(cp: Any) -> None:
    await cp.call(
        call.MeterValues(
            connector_id=1,
            meter_value=[
                {
                    "timestamp": "2026-11-01T10:15:00Z",
                    "sampledValue": [
                        reading("Current.Import", "A", "L1", "16.0"),
                        # Line-to-neutral where a charger reports it so.
                        reading("Current.Import", "A", "L2-N", "15.5"),
                        # Voltage of L1: phase to neutral, not line to line.
                        reading("Voltage", "V", "L1", "400"),
                        reading("Voltage", "V", "L1-N", "231"),
                        reading("Power.Active.Import", "W", "L3", "3680"),
                    ],
                }
            ],
        ),
        suppress=False,
    )


async def test_phase_sensors_show_their_phase(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with connect_charge_point(port, "/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        await send_phases(cp)
        await hass.async_block_till_done()

    registry = er.async_get(hass)
    # Per-phase current, voltage and power (noisy, diagnostic) on request.
    for key in PHASE_SENSORS:
        entity = registry.async_get(f"sensor.cp1_{key}")
        assert entity is not None, key
        assert entity.entity_category is EntityCategory.DIAGNOSTIC
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(f"sensor.cp1_{key}") is None  # disabled: no state
        registry.async_update_entity(entity.entity_id, disabled_by=None)
    # Phases the charger never reported get no sensor, nor does an average of phases.
    assert registry.async_get("sensor.cp1_current_l3") is None
    assert registry.async_get("sensor.cp1_power_l1") is None
    assert registry.async_get("sensor.cp1_current") is None

    # Enabled entities appear once the entry reloads. Readings from before are no
    # longer current; the charger's next ones are shown.
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    async with connect_charge_point(listening_port(setup_integration), "/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_voltage_l1").state == "unknown"
        await send_phases(cp)
        await hass.async_block_till_done()
        states = {key: hass.states.get(f"sensor.cp1_{key}") for key in PHASE_SENSORS}
        assert {key: state.state if state else None for key, state in states.items()} == {
            "current_l1": "16.0",
            "current_l2": "15.5",
            "voltage_l1": "231.0",
            "power_l3": "3.68",  # shown in kW
        }
        assert states["current_l1"].attributes["friendly_name"] == "CP1 Current L1"
