"""Device triggers and conditions: what the automation editor offers, and what fires."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.device_automation.trigger import (
    async_validate_trigger_config,
)
from homeassistant.const import CONF_PLATFORM
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.levity_ocpp import device_trigger
from custom_components.levity_ocpp.const import DOMAIN

from .client import TestChargePoint
from .conftest import Connect
from .test_connection import connect_configured, connector_devices, device_named, entity_of
from .test_sessions import start, stop
from .test_translations import STRINGS

STATUSES = [
    "available",
    "preparing",
    "charging",
    "suspended_ev",
    "suspended_evse",
    "finishing",
    "reserved",
    "unavailable",
    "faulted",
]


def charge_point_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    device = device_named(hass, entry, "CP1")
    assert device is not None
    return device


async def offered(
    hass: HomeAssistant, kind: DeviceAutomationType, device_id: str
) -> set[tuple[str, str | None]]:
    """(type, entity id) of each of our automations the editor lists for a device.

    (The sensor and binary sensor platforms add their own for our entities.)
    """
    listed = await async_get_device_automations(hass, kind, device_id)
    ours = [item for item in listed if item["domain"] == DOMAIN]
    assert all(item["device_id"] == device_id for item in ours)
    return {(item["type"], item.get("entity_id")) for item in ours}


def registry_id(hass: HomeAssistant, entity_id: str) -> str:
    """Device automations name entities by their registry id, as the editor does."""
    from homeassistant.helpers import entity_registry as er

    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    return entry.id


async def automation(
    hass: HomeAssistant, trigger: dict[str, Any], conditions: list[dict[str, Any]] | None = None
) -> list[ServiceCall]:
    """An automation calling test.fired with what triggered it; returns the calls."""
    calls = async_mock_service(hass, "test", "fired")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [{"trigger": "device", "domain": DOMAIN, **trigger}],
                "conditions": conditions or [],
                "actions": [
                    {
                        "action": "test.fired",
                        "data": {
                            "platform": "{{ trigger.platform }}",
                            "to": "{{ trigger.to_state.state if trigger.to_state else '' }}",
                            "transaction_id": "{{ trigger.event.data.transaction_id "
                            "if trigger.event else '' }}",
                        },
                    }
                ],
            }
        },
    )
    return calls


async def two_connectors(cp: TestChargePoint) -> None:
    await cp.boot()
    await cp.status(1)
    await cp.status(2)


def test_every_type_has_its_text() -> None:
    texts = json.loads(STRINGS.read_text(encoding="utf-8"))["device_automation"]
    assert set(texts["trigger_type"]) == {f"became_{s}" for s in STATUSES} | {
        "session_started",
        "session_stopped",
    }
    assert set(texts["condition_type"]) == {f"is_{s}" for s in STATUSES}
    assert set(texts["action_type"]) == {"start_charging", "stop_charging", "set_current_limit"}


async def test_a_single_connector_charger_offers_everything(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
    device = charge_point_device(hass, setup_integration)
    status = registry_id(hass, entity_of(hass, device.id, "connector_status"))
    assert await offered(hass, DeviceAutomationType.TRIGGER, device.id) == {
        *((f"became_{s}", status) for s in STATUSES),
        ("session_started", None),
        ("session_stopped", None),
    }
    assert await offered(hass, DeviceAutomationType.CONDITION, device.id) == {
        (f"is_{s}", status) for s in STATUSES
    }
    assert await offered(hass, DeviceAutomationType.ACTION, device.id) == {
        ("start_charging", None),
        ("stop_charging", None),
        ("set_current_limit", None),
    }


async def test_a_multi_connector_charger_offers_status_on_its_connectors(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await two_connectors(cp)
        await hass.async_block_till_done()
    parent = charge_point_device(hass, setup_integration)
    connector = connector_devices(hass, parent)["Connector 2"]
    status = registry_id(hass, entity_of(hass, connector.id, "connector_status"))
    assert await offered(hass, DeviceAutomationType.TRIGGER, parent.id) == {
        ("session_started", None),
        ("session_stopped", None),
    }
    assert await offered(hass, DeviceAutomationType.CONDITION, parent.id) == set()
    assert await offered(hass, DeviceAutomationType.ACTION, parent.id) == {
        ("set_current_limit", None)
    }
    assert ("became_preparing", status) in await offered(
        hass, DeviceAutomationType.TRIGGER, connector.id
    )
    assert ("is_charging", status) in await offered(
        hass, DeviceAutomationType.CONDITION, connector.id
    )


async def test_connector_became_preparing_fires_for_that_connector_only(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await two_connectors(cp)
        await hass.async_block_till_done()
        connector = connector_devices(hass, charge_point_device(hass, setup_integration))
        second = connector["Connector 2"]
        status = registry_id(hass, entity_of(hass, second.id, "connector_status"))
        calls = await automation(
            hass,
            {"device_id": second.id, "entity_id": status, "type": "became_preparing"},
            [
                {
                    "condition": "device",
                    "domain": DOMAIN,
                    "device_id": second.id,
                    "entity_id": status,
                    "type": "is_preparing",
                }
            ],
        )
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert calls == []
        await cp.status(2, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert [call.data for call in calls] == [
            {"platform": "device", "to": "preparing", "transaction_id": ""}
        ]
        await cp.status(2, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert len(calls) == 1


async def test_a_status_must_hold_for_the_given_time(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """The state trigger's `for` is passed on: a blip to Faulted does not fire."""
    from datetime import timedelta

    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        status = registry_id(hass, entity_of(hass, device.id, "connector_status"))
        calls = await automation(
            hass,
            {
                "device_id": device.id,
                "entity_id": status,
                "type": "became_faulted",
                "for": {"seconds": 30},
            },
        )
        await cp.status(1, ChargePointStatus.faulted)
        await cp.status(1, ChargePointStatus.available)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        await hass.async_block_till_done()
        assert calls == []
        await cp.status(1, ChargePointStatus.faulted)
        await hass.async_block_till_done()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        await hass.async_block_till_done()
        assert [call.data["to"] for call in calls] == ["faulted"]


async def test_session_triggers_of_a_connector_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await two_connectors(cp)
        await hass.async_block_till_done()
        parent = charge_point_device(hass, setup_integration)
        second = connector_devices(hass, parent)["Connector 2"]
        started = await automation(hass, {"device_id": second.id, "type": "session_started"})
        first_tx = await start(cp)
        await hass.async_block_till_done()
        assert started == []
        second_tx = await start(cp, connector_id=2)
        await hass.async_block_till_done()
        assert [call.data["transaction_id"] for call in started] == [second_tx]
        await stop(cp, first_tx, 1_001_000, 10)


async def test_session_stopped_of_a_charge_point_with_an_id_tag(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        stopped = await automation(
            hass, {"device_id": device.id, "type": "session_stopped", "id_tag": "RESIDENT-7"}
        )
        guest = await start(cp, id_tag="GUEST")
        await stop(cp, guest, 1_001_000, 10)
        await hass.async_block_till_done()
        assert stopped == []
        resident = await start(cp, meter_start=1_001_000)
        await stop(cp, resident, 1_002_000, 20)
        await hass.async_block_till_done()
        assert [call.data["transaction_id"] for call in stopped] == [resident]
        assert [call.data["platform"] for call in stopped] == ["device"]


async def test_trigger_capabilities(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
    device = charge_point_device(hass, setup_integration)
    status = registry_id(hass, entity_of(hass, device.id, "connector_status"))
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)

    async def fields(trigger: dict[str, Any]) -> list[str]:
        await client.send_json_auto_id(
            {
                "type": "device_automation/trigger/capabilities",
                "trigger": {CONF_PLATFORM: "device", "domain": DOMAIN, "device_id": device.id}
                | trigger,
            }
        )
        reply = await client.receive_json()
        assert reply["success"], reply
        return [field["name"] for field in reply["result"]["extra_fields"]]

    assert await fields({"type": "became_charging", "entity_id": status}) == ["for"]
    assert await fields({"type": "session_started"}) == ["id_tag"]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"type": "became_charging"}, "needs the entity_id"),
        ({"type": "session_started", "for": {"seconds": 5}}, "takes no 'for'"),
    ],
)
async def test_wrong_triggers_are_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    trigger: dict[str, Any],
    message: str,
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
    device = charge_point_device(hass, setup_integration)
    config = {CONF_PLATFORM: "device", "domain": DOMAIN, "device_id": device.id, **trigger}
    with pytest.raises(InvalidDeviceAutomationConfig, match=message):
        await async_validate_trigger_config(hass, config)


async def test_an_id_tag_on_a_status_trigger_is_refused(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
    device = charge_point_device(hass, setup_integration)
    status = registry_id(hass, entity_of(hass, device.id, "connector_status"))
    config = {
        CONF_PLATFORM: "device",
        "domain": DOMAIN,
        "device_id": device.id,
        "entity_id": status,
        "type": "became_charging",
        "id_tag": "RESIDENT-7",
    }
    with pytest.raises(InvalidDeviceAutomationConfig, match="takes no id_tag"):
        await async_validate_trigger_config(hass, config)


async def test_a_session_trigger_on_a_device_that_is_no_connector_fails_to_attach(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A stray child device, or one removed since the automation was written."""
    async with connect("/CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
    parent = charge_point_device(hass, setup_integration)
    stray = dr.async_get(hass).async_get_or_create_child(
        config_entry_id=setup_integration.entry_id,
        config_subentry_id=parent.config_subentry_id,
        identifiers={(DOMAIN, "stray")},
        parent_device_id=parent.id,
        name="Stray",
    )
    base = {CONF_PLATFORM: "device", "domain": DOMAIN, "type": "session_started"}
    info: Any = {}
    with pytest.raises(InvalidDeviceAutomationConfig, match="no connector"):
        await device_trigger.async_attach_trigger(
            hass, {**base, "device_id": stray.id}, lambda *_: None, info
        )
    with pytest.raises(InvalidDeviceAutomationConfig, match="Unknown device"):
        await device_trigger.async_attach_trigger(
            hass, {**base, "device_id": "gone"}, lambda *_: None, info
        )
