"""Device actions call the integration's charging actions for their device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.device_automation.action import (
    async_validate_action_config,
)
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect
from .test_connection import connect_configured, connector_devices
from .test_device_trigger import charge_point_device, two_connectors

ACTIONS = ("start_charging", "stop_charging", "set_current_limit")


async def run_device_action(hass: HomeAssistant, action: dict[str, Any]) -> None:
    """An automation whose only action is this device action, triggered by an event."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [{"trigger": "event", "event_type": "go"}],
                "actions": [{"domain": DOMAIN, **action}],
            }
        },
    )
    hass.bus.async_fire("go")
    await hass.async_block_till_done()


def stand_ins(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """The charging actions (another module's job), recording what they were asked."""
    return {name: async_mock_service(hass, DOMAIN, name) for name in ACTIONS}


@pytest.fixture
async def connector_2(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> str:
    """The device id of connector 2 of a two-connector charger."""
    async with connect_configured(connect) as cp:
        await two_connectors(cp)
        await hass.async_block_till_done()
    return connector_devices(hass, charge_point_device(hass, setup_integration))["Connector 2"].id


@pytest.mark.parametrize(
    ("action", "called", "data"),
    [
        ({"type": "start_charging"}, "start_charging", {}),
        (
            {"type": "start_charging", "id_tag": "RESIDENT-7", "current_limit": 16},
            "start_charging",
            {"id_tag": "RESIDENT-7", "current_limit": 16.0},
        ),
        ({"type": "stop_charging"}, "stop_charging", {}),
        (
            {"type": "set_current_limit", "current_limit": "0"},
            "set_current_limit",
            {"current_limit": 0.0},
        ),
    ],
)
async def test_a_device_action_calls_its_action_for_the_device(
    hass: HomeAssistant,
    connector_2: str,
    action: dict[str, Any],
    called: str,
    data: dict[str, Any],
) -> None:
    calls = stand_ins(hass)
    await run_device_action(hass, {"device_id": connector_2, **action})
    assert {name: [call.data for call in made] for name, made in calls.items() if made} == {
        called: [{"device_id": connector_2, **data}]
    }


@pytest.mark.parametrize(
    ("action", "error"),
    [
        ({"type": "set_current_limit"}, "needs current_limit"),
        ({"type": "stop_charging", "current_limit": 6}, "takes no current_limit"),
        ({"type": "stop_charging", "id_tag": "A"}, "takes no id_tag"),
        ({"type": "set_current_limit", "current_limit": 10, "id_tag": "A"}, "takes no id_tag"),
    ],
)
async def test_fields_an_action_does_not_take_are_refused(
    hass: HomeAssistant, connector_2: str, action: dict[str, Any], error: str
) -> None:
    config = {"domain": DOMAIN, "device_id": connector_2, **action}
    with pytest.raises(InvalidDeviceAutomationConfig, match=error):
        await async_validate_action_config(hass, config)


@pytest.mark.parametrize(
    "action",
    [
        {"type": "set_current_limit", "current_limit": 81},
        {"type": "set_current_limit", "current_limit": -1},
        {"type": "set_current_limit", "current_limit": "many"},
        {"type": "start_charging", "id_tag": "X" * 21},
        {"type": "charge_faster"},
    ],
)
async def test_wrong_values_are_refused(
    hass: HomeAssistant, connector_2: str, action: dict[str, Any]
) -> None:
    config = {"domain": DOMAIN, "device_id": connector_2, **action}
    with pytest.raises(probatio.Invalid):
        await async_validate_action_config(hass, config)


async def test_action_capabilities(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, connector_2: str
) -> None:
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)

    async def fields(kind: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "device_automation/action/capabilities",
                "action": {"domain": DOMAIN, "device_id": connector_2, "type": kind},
            }
        )
        reply = await client.receive_json()
        assert reply["success"], reply
        return {field["name"]: field for field in reply["result"].get("extra_fields", [])}

    limit = {"min": 0, "max": 80, "step": 1, "unit_of_measurement": "A", "mode": "slider"}
    set_limit = await fields("set_current_limit")
    assert list(set_limit) == ["current_limit"]
    assert set_limit["current_limit"]["required"] is True
    assert set_limit["current_limit"]["selector"]["number"] == limit
    start = await fields("start_charging")
    assert list(start) == ["id_tag", "current_limit"]
    assert start["current_limit"]["optional"] is True
    assert await fields("stop_charging") == {}
