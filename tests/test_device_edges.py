"""Devices of the entry that are no charge point: diagnostics and removal stay sensible."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect
from .test_connection import RemoveDevice, connect_configured, device_named, remove_device

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
