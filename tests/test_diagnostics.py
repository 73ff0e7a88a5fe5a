"""Diagnostics a user shares: no URL secrets, no charge point id, wherever they appear."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .client import ConfiguredChargePoint
from .conftest import Connect


@pytest.mark.parametrize(
    ("path", "charge_point_id", "shown_path"),
    [
        (
            "/ocpp/GARAGE-4711?token=secret",
            "GARAGE-4711",
            "/ocpp/**REDACTED**?**REDACTED**",
        ),
        ("/ws/Garage%20Left?token=secret&x=1", "Garage Left", "/ws/**REDACTED**?**REDACTED**"),
        ("/C7?token=secret", "C7", "/**REDACTED**?**REDACTED**"),  # short: whole values only
    ],
)
async def test_diagnostics_hide_query_and_charge_point_id(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
    path: str,
    charge_point_id: str,
    shown_path: str,
) -> None:
    async with connect(path, charge_point_class=ConfiguredChargePoint) as cp:
        await cp.boot()
        await cp.status(1)
        # Chargers repeat their own id in vendor messages.
        await cp.call(
            call.DataTransfer(
                vendor_id="Acme", message_id=charge_point_id, data=f"hello from {charge_point_id}"
            ),
            suppress=False,
        )
        [device] = dr.async_entries_for_config_entry(dr.async_get(hass), setup_integration.entry_id)
        assert device.name == charge_point_id
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
        entry_diagnostics = await get_diagnostics_for_config_entry(
            hass, hass_client, setup_integration
        )

    assert diagnostics["path"] == shown_path
    [connection] = diagnostics["connections"]
    assert connection["path"] == shown_path
    assert diagnostics["id"] == "**REDACTED**"
    [transfer] = [
        json.loads(frame["frame"])
        for frame in diagnostics["frames"]
        if '"DataTransfer"' in frame["frame"]
    ]
    assert transfer[3]["messageId"] == "**REDACTED**"
    assert diagnostics["vendor"] == "United Chargers"
    assert list(entry_diagnostics["charge_points"]) == ["charge_point_1"]
    for shared in (diagnostics, entry_diagnostics):
        dumped = json.dumps(shared)
        assert "secret" not in dumped
        if len(charge_point_id) >= 4:
            assert charge_point_id not in dumped
        assert f'"{charge_point_id}"' not in dumped
        assert f"/{charge_point_id}" not in dumped


async def test_broken_frame_hides_id_tag_and_charge_point_id(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect("/GARAGE-4711", start=False) as cp:
        # Not JSON (cut short), so only the text-level redaction can hide its fields.
        reply = await cp.raw('[2,"a1","Authorize",{"idTag":"RESIDENT-7","note":"GARAGE-4711"')
        assert reply[0] == 4
        [device] = dr.async_entries_for_config_entry(dr.async_get(hass), setup_integration.entry_id)
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    [broken] = [f["frame"] for f in diagnostics["frames"] if '"Authorize"' in f["frame"]]
    assert '"idTag":"**REDACTED**"' in broken
    assert '"note":"**REDACTED**"' in broken
    dumped = json.dumps(diagnostics)
    assert "RESIDENT-7" not in dumped
    assert "GARAGE-4711" not in dumped
