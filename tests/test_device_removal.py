"""Removing a charge point's device from the UI."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect


async def remove(ws_client: Any, device: dr.DeviceEntry, entry_id: str) -> bool:
    await ws_client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry_id,
            "device_id": device.id,
        }
    )
    response = await ws_client.receive_json()
    return bool(response["success"])


async def test_a_charge_point_or_unknown_device_can_be_removed(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    hass_ws_client: Any,
) -> None:
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    entry_id = setup_integration.entry_id
    registry = dr.async_get(hass)
    async with connect("/CP1") as cp1:
        await cp1.boot()
        async with connect("/CP2") as cp2:
            await cp2.boot()
        cp1_device = registry.async_get_device_by_identifier((DOMAIN, f"{entry_id}_CP1"), entry_id)
        cp2_device = registry.async_get_device_by_identifier((DOMAIN, f"{entry_id}_CP2"), entry_id)
        assert cp1_device is not None and cp2_device is not None
        # A device left over from a charge point this central system no longer knows.
        stale = registry.async_get_or_create(
            config_entry_id=entry_id, identifiers={(DOMAIN, f"{entry_id}_GONE")}
        )
        assert await remove(client, stale, entry_id)
        assert await remove(client, cp2_device, entry_id)  # disconnected
        assert set(setup_integration.runtime_data.charge_points) == {"CP1"}
        assert await remove(client, cp1_device, entry_id)  # connected: it is closed
        assert setup_integration.runtime_data.charge_points == {}
    assert not setup_integration.subentries  # their approvals went with them
