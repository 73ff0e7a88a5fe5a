"""HA restarts mid-session: a new `hass` on the same storage picks the session up."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.levity_ocpp.const import DOMAIN

from .client import connect_charge_point
from .conftest import Connect
from .restart_helpers import restarted
from .test_sessions import meter, sample, stamp, start, stop


async def test_new_instance_continues_the_session(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_840))
        await hass.async_block_till_done()
    # HA stops (the shutdown writes pending saves), then a new instance starts.
    await hass.async_stop()
    assert f"{DOMAIN}.{setup_integration.entry_id}.transactions" in hass_storage

    async with restarted(hass, setup_integration, async_test_recorder) as (hass2, port):
        # Known before the charger reconnects, with the session's last values.
        assert hass2.states.get("sensor.cp1_session_energy").state == "1.84"
        assert hass2.states.get("sensor.cp1_energy").state == STATE_UNAVAILABLE
        async with connect_charge_point(port, "/CP1") as cp:
            await cp.status(1, ChargePointStatus.charging)
            await hass2.async_block_till_done()
            assert hass2.states.get("sensor.cp1_session_energy").state == "1.84"
            assert hass2.states.get("sensor.cp1_energy").state == "1001.84"
            await meter(cp, tx, sample(20, 1_003_680))
            await stop(cp, tx, 1_005_000, 30)
            await hass2.async_block_till_done()
            assert hass2.states.get("sensor.cp1_session_energy").state == "5.0"
        response = await hass2.services.async_call(
            DOMAIN, "get_sessions", {}, blocking=True, return_response=True
        )
        assert response is not None
        (session,) = response["sessions"]
        assert session["transaction_id"] == tx
        assert session["energy_kwh"] == pytest.approx(5.0)
        assert session["anomalies"] == []
        async with connect_charge_point(port, "/CP1") as cp:
            assert await start(cp, 1_005_000, timestamp=stamp(40)) == tx + 1


async def test_damaged_or_newer_saved_data_does_not_stop_the_others(
    hass: HomeAssistant,
    socket_enabled: None,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One unreadable charge point is skipped; fields of a newer version are ignored."""
    prefix = f"{DOMAIN}.{config_entry.entry_id}"
    good = {"id": "GOOD", "vendor": "United Chargers", "connectors": [{"connector_id": 1}]}
    damaged = {"id": "BAD", "connectors": [{"status": "Available"}]}  # no connector_id
    hass_storage[f"{prefix}.charge_points"] = {
        "version": 1,
        "key": f"{prefix}.charge_points",
        "data": {"charge_points": [damaged, good]},
    }
    open_session = {
        "transaction_id": 7,
        "charge_point_id": "GOOD",
        "connector_id": 1,
        "id_tag": "RESIDENT-7",
        "started_at": "2026-11-01T10:15:00+00:00",
        "meter_start_wh": 1000.0,
        "field_from_a_newer_version": True,
    }
    hass_storage[f"{prefix}.transactions"] = {
        "version": 1,
        "key": f"{prefix}.transactions",
        "data": {"next_id": 8, "open": [open_session]},
    }
    # Saved by a version before approvals: GOOD is approved as it was (migration.py).
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=config_entry.entry_id,
        data=dict(config_entry.data),
        options=dict(config_entry.options),
        minor_version=1,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    central = entry.runtime_data
    assert set(central.charge_points) == {"GOOD"}
    assert central.charge_points["GOOD"].connector(1).transaction.transaction_id == 7
    assert "Skipped a saved charge point" in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_disabled_entities_stay_registered_and_appear_once_enabled(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    async_test_recorder: Any,
) -> None:
    """After a restart a disabled entity is still listed (disabled, no state); enabled, it shows."""
    error_code = "sensor.cp1_error_code"
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
        await hass.async_block_till_done()
    await hass.async_stop()

    async with restarted(hass, setup_integration, async_test_recorder) as (hass2, _port):
        registry = er.async_get(hass2)
        entry = registry.async_get(error_code)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass2.states.get(error_code) is None
        assert hass2.states.get("sensor.cp1_status") is not None  # the enabled ones are back

        registry.async_update_entity(error_code, disabled_by=None)
        assert await hass2.config_entries.async_reload(setup_integration.entry_id)
        await hass2.async_block_till_done()
        assert hass2.states.get(error_code) is not None
        again = hass2.config_entries.async_get_entry(setup_integration.entry_id)
        assert again is not None
        port = again.runtime_data.central_system.bound_port
        async with connect_charge_point(port, "/CP1") as cp:
            await cp.status(1, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
            await hass2.async_block_till_done()
            assert hass2.states.get(error_code).state == "ground_failure"
