"""The shipped automation blueprints: valid as HA loads them, and they do their job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect
from .test_device_trigger import charge_point_device
from .test_readings import values
from .test_sessions import meter, start

SOURCE = Path(__file__).parent.parent / "blueprints" / "automation" / DOMAIN
BLUEPRINTS = sorted(SOURCE.glob("*.yaml"))
START = "start_when_plugged_in.yaml"
SOLAR = "follow_solar_surplus.yaml"
STOP = "stop_at_energy.yaml"


@pytest.fixture(autouse=True)
async def automations_off(hass: HomeAssistant) -> AsyncIterator[None]:
    """Turn the automations off after each test: a time pattern leaves a timer otherwise."""
    yield
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of this test's own, to install the blueprints in."""
    return hass_tmp_config_dir


def load(path: Path) -> Blueprint:
    """Load a blueprint file the way HA's automation blueprints do."""
    return Blueprint(
        yaml_util.load_yaml_dict(path),
        path=path.name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def test_the_three_blueprints_are_there() -> None:
    assert [path.name for path in BLUEPRINTS] == sorted([START, SOLAR, STOP])


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda path: path.name)
def test_a_blueprint_validates_as_home_assistant_loads_it(path: Path) -> None:
    blueprint = load(path)
    assert blueprint.domain == "automation"
    assert blueprint.metadata["description"]
    assert "source_url" not in blueprint.metadata  # no public URL is known
    assert blueprint.validate() is None  # this HA version is recent enough


def install(hass: HomeAssistant) -> None:
    folder = Path(hass.config.path("blueprints", "automation", DOMAIN))
    folder.mkdir(parents=True, exist_ok=True)
    for path in BLUEPRINTS:
        shutil.copy(path, folder / path.name)


async def use_blueprints(hass: HomeAssistant, *uses: tuple[str, dict[str, Any]]) -> None:
    """Set up one automation per (blueprint file, inputs)."""
    install(hass)
    automations = [
        {
            "id": file.removesuffix(".yaml"),
            "use_blueprint": {"path": f"{DOMAIN}/{file}", "input": inputs},
        }
        for file, inputs in uses
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()


def automation_states(hass: HomeAssistant) -> dict[str, str]:
    return {state.entity_id: state.state for state in hass.states.async_all("automation")}


async def test_every_blueprint_makes_a_working_automation(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Inputs substituted, the automation config is valid (an invalid one is unavailable)."""
    await use_blueprints(
        hass,
        (START, {"status_sensor": "sensor.cp1_status"}),
        (
            SOLAR,
            {
                "grid_power": "sensor.grid",
                "charger_power": "sensor.cp1_power",
                "status_sensor": "sensor.cp1_status",
            },
        ),
        (STOP, {"session_energy": "sensor.cp1_session_energy", "target_energy": 12}),
    )
    states = automation_states(hass)
    assert len(states) == 3
    assert set(states.values()) == {STATE_ON}, states


def charging_actions(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """Stand-ins for the charging actions (another module's job)."""
    return {
        name: async_mock_service(hass, DOMAIN, name)
        for name in ("start_charging", "stop_charging", "set_current_limit")
    }


async def test_plugging_in_starts_charging_while_allowed(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    calls = charging_actions(hass)
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"solar": {}}})
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": "input_boolean.solar"})
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        await use_blueprints(
            hass,
            (START, {"status_sensor": "sensor.cp1_status", "enabled_by": "input_boolean.solar"}),
        )
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        assert [call.data for call in calls["start_charging"]] == [{"device_id": device.id}]

        await hass.services.async_call(
            "input_boolean", "turn_off", {"entity_id": "input_boolean.solar"}
        )
        await cp.status(1, ChargePointStatus.available)
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert len(calls["start_charging"]) == 1  # not allowed now
        assert calls["stop_charging"] == calls["set_current_limit"] == []


async def test_outside_the_time_window_nothing_starts(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-06-01 09:30:00+00:00")  # the test hass runs on US/Pacific: 02:30
    calls = charging_actions(hass)
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        window = {"after": "22:00:00", "before": "03:00:00"}
        await use_blueprints(hass, (START, {"status_sensor": "sensor.cp1_status", **window}))
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert len(calls["start_charging"]) == 1  # inside the window, past midnight
        freezer.move_to("2026-06-01 12:00:00+00:00")  # 05:00: outside
        await cp.status(1, ChargePointStatus.available)
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert len(calls["start_charging"]) == 1


def power(watts: float) -> dict[str, Any]:
    return values(0, ("Power.Active.Import", str(watts), None))


async def test_the_solar_surplus_sets_the_limit_and_pauses(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    calls = charging_actions(hass)

    async def run_once() -> None:
        """What the minute's time pattern does, conditions included.

        (Firing the timers instead would fire the charger connection's keepalive
        timeouts too.)
        """
        await hass.services.async_call(
            "automation", "trigger", {"entity_id": "all", "skip_condition": False}, blocking=True
        )
        await hass.async_block_till_done()

    async def minute(grid: float | str, unit: str = "W") -> list[float]:
        """The grid meter reads this; the minute comes; the limits set so far."""
        hass.states.async_set("sensor.grid", str(grid), {"unit_of_measurement": unit})
        await run_once()
        return [call.data["current_limit"] for call in calls["set_current_limit"]]

    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, power(1380))  # 6 A on one phase at 230 V
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_power").attributes["unit_of_measurement"] == "kW"
        inputs = {
            "grid_power": "sensor.grid",
            "charger_power": "sensor.cp1_power",
            "status_sensor": "sensor.cp1_status",
            "max_current": 16,
            "hysteresis": 1,
        }
        await use_blueprints(hass, (SOLAR, inputs))
        device = charge_point_device(hass, setup_integration)

        assert await minute(-1000) == [10]  # (1380 + 1000) / 230 = 10.3 A
        assert calls["set_current_limit"][0].data["device_id"] == device.id
        await meter(cp, tx, power(2300))  # the car follows: 10 A
        assert await minute(-100) == [10]  # 10.4 A: less than the hysteresis away
        assert await minute(-5, "kW") == [10, 16]  # capped at the maximum; kW count as W
        await meter(cp, tx, power(3680))
        assert await minute(2500) == [10, 16, 0]  # 5 A < 6 A: pause
        await cp.status(1, ChargePointStatus.suspended_evse)
        await meter(cp, tx, power(0))
        assert await minute(-1500) == [10, 16, 0]  # 6.5 A: not yet 6 A + hysteresis
        assert await minute(-1700) == [10, 16, 0, 7]  # 7.4 A: resume
        assert len(await minute("unavailable")) == 4  # no reading, no change
        await cp.status(1, ChargePointStatus.available)
        assert len(await minute(-3000)) == 4  # no car, nothing to control


async def test_the_session_stops_at_its_target_energy(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    calls = charging_actions(hass)
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await hass.async_block_till_done()
        energy = "sensor.cp1_session_energy"
        await use_blueprints(hass, (STOP, {"session_energy": energy, "target_energy": 5}))
        await meter(cp, tx, values(10, ("Energy.Active.Import.Register", "1004000", None)))
        await hass.async_block_till_done()
        assert calls["stop_charging"] == []
        await meter(cp, tx, values(20, ("Energy.Active.Import.Register", "1005500", None)))
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        assert [call.data for call in calls["stop_charging"]] == [{"device_id": device.id}]
