"""A charge point connects, boots and shows up as a device with live entities."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.loader import async_get_integration
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect, async_wait_until


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_boot_creates_device_and_entities(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        reply = await cp.boot(charge_box_serial_number="SN-42", firmware_version="05.653")
        assert reply.status == RegistrationStatus.accepted
        assert reply.interval == 60
        await cp.status(0)
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()

        device = dr.async_get(hass).async_get_device_by_identifier(
            ("levity_ocpp", f"{setup_integration.entry_id}_CP1"), setup_integration.entry_id
        )
        assert device is not None
        assert device.manufacturer == "United Chargers"
        assert device.model == "Grizzl-E"
        assert device.serial_number == "SN-42"
        assert device.sw_version == "05.653"

        assert hass.states.get("binary_sensor.cp1_connectivity").state == STATE_ON
        assert hass.states.get("sensor.cp1_status").state == "preparing"
        assert hass.states.get("sensor.cp1_charge_point_status").state == "available"
        assert hass.states.get("sensor.cp1_error_code").state == "no_error"

        await cp.status(1, ChargePointStatus.faulted, ChargePointErrorCode.ev_communication_error)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_status").state == "faulted"
        assert hass.states.get("sensor.cp1_error_code").state == "ev_communication_error"
        # Noisy diagnostics are disabled by default.
        entry = er.async_get(hass).async_get("sensor.cp1_last_heartbeat")
        assert entry is not None and entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    # The server notices the closed socket in its own time.
    await async_wait_until(
        hass, lambda: hass.states.get("binary_sensor.cp1_connectivity").state == STATE_OFF
    )
    assert hass.states.get("sensor.cp1_status").state == STATE_UNAVAILABLE


async def test_integration_ships_its_brand_icons(hass: HomeAssistant) -> None:
    """HA serves a custom integration's brand/ images (the UI shows them)."""
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.has_branding
