"""Removing a charge point from HA: its sessions end there, and it stays removed."""

from __future__ import annotations

from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.levity_ocpp.const import DOMAIN

from .conftest import Connect, async_wait_until
from .test_connection import (
    CONNECTED,
    RemoveDevice,
    connect_configured,
    device_named,
    remove_device,  # noqa: F401 - the fixture
    state,
)
from .test_sessions import stamp


async def test_removed_charge_point_with_an_open_session_stays_removed(
    hass: HomeAssistant,
    remove_device: RemoveDevice,  # noqa: F811 - the fixture imported above
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    entry = setup_integration
    stopped = async_capture_events(hass, f"{DOMAIN}_session_stopped")
    async with connect_configured(connect) as cp:
        await cp.boot()
        reply = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="RESIDENT-7", meter_start=1000, timestamp=stamp(0)
            ),
            suppress=False,
        )
    await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
    device = device_named(hass, entry, "CP1")
    assert (await remove_device(device.id))["success"]
    await hass.async_block_till_done()
    # Recorded as ended by the removal: in the ledger and as an event.
    assert [event.data["closed_by"] for event in stopped] == ["removal"]
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", {}, blocking=True, return_response=True
    )
    assert response is not None
    (session,) = response["sessions"]
    assert session["transaction_id"] == reply.transaction_id
    assert session["closed_by"] == "removal"
    # A reload does not bring it back through its (former) open transaction.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert device_named(hass, entry, "CP1") is None
    assert "CP1" not in entry.runtime_data.charge_points
