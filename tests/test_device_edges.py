"""Devices of the entry that are no charge point: diagnostics and removal stay sensible."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect
from .test_connection import (
    RemoveDevice,
    connect_configured,
    connector_devices,
    device_named,
    entity_of,
    remove_device,
)
from .test_sessions import meter, sample

__all__ = ["remove_device"]  # the fixture, used by name


def stray_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    """A device of the entry that no charge point owns (e.g. left from an older version)."""
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "stray")}, name="Stray"
    )


async def test_diagnostics_of_a_device_that_is_no_charge_point(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect, "/CP1") as cp:
        await cp.boot()
    device = stray_device(hass, setup_integration)
    diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    assert diagnostics == {"error": "this device is not a known charge point"}


async def test_a_broken_frame_is_redacted_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect("/CP1", start=False) as cp:
        await cp.raw('[2,"9","Authorize",{"idTag": "SECRET-TAG"')  # not JSON: a CALLERROR
        assert (await cp.raw([2, "10", "Heartbeat", {}]))[:2] == [3, "10"]
        device = device_named(hass, setup_integration, "CP1")
        assert device is not None
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    # The charger's own frame. (The CALLERROR echoing it back is not covered here.)
    broken = [frame["frame"] for frame in diagnostics["frames"] if frame["frame"].startswith("[2,")]
    broken = [frame for frame in broken if "Authorize" in frame]
    assert broken == ['[2,"9","Authorize",{"idTag": "**REDACTED**"']


async def test_a_device_no_charge_point_owns_can_be_removed(
    hass: HomeAssistant, setup_integration: MockConfigEntry, remove_device: RemoveDevice
) -> None:
    device = stray_device(hass, setup_integration)
    response = await remove_device(device.id)
    assert response["success"]
    assert dr.async_get(hass).async_get(device.id) is None


async def test_devices_removed_behind_the_integrations_back_come_back(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A device deleted from the registry (not by the user removing the charger) is made
    again, with its name, when its charger reports something that has entities."""
    devices = dr.async_get(hass)
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        assert parent is not None
        devices.async_remove_device(parent.id)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_status") is None

        await meter(cp, None, sample(1, 1000))
        await hass.async_block_till_done()
        again = device_named(hass, setup_integration, "CP1")
        assert again is not None
        assert again.manufacturer == "United Chargers"
        assert entity_of(hass, again.id, "connector_status") == "sensor.cp1_status"
        assert hass.states.get("sensor.cp1_status").state == "charging"
        assert hass.states.get("sensor.cp1_status").attributes["friendly_name"] == "CP1 Status"

        # A connector's device, the same.
        await cp.status(2)
        await hass.async_block_till_done()
        connector_2 = connector_devices(hass, again)["Connector 2"]
        devices.async_remove_device(connector_2.id)
        await hass.async_block_till_done()
        assert "Connector 2" not in connector_devices(hass, again)
        await cp.call(call.MeterValues(connector_id=2, meter_value=[sample(2, 2000)]))
        await hass.async_block_till_done()
        connector_2 = connector_devices(hass, again)["Connector 2"]
        status_2 = entity_of(hass, connector_2.id, "connector_status")
        assert hass.states.get(status_2).state == "available"
        assert hass.states.get(status_2).attributes["friendly_name"] == "Connector 2 Status"
