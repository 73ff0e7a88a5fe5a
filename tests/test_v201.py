"""OCPP 2.0.1 chargers end to end: boot, device model, status, sessions, as a user sees them."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v201.enums import ConnectorStatusEnumType as Status
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    statistics_during_period,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.session_events import (
    EVENT_SESSION_STARTED,
    EVENT_SESSION_STOPPED,
)
from custom_components.levity_ocpp.tag_statistics import energy_statistic_id

from .client_v201 import T0, connect_v201, device_model, meter, sampled
from .conftest import async_wait_until

STATUS = "sensor.cp1_status"


async def get_sessions(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", data, blocking=True, return_response=True
    )
    assert response is not None
    return response["sessions"]


def charge_point_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(device for device in devices if device.name == "CP1")


async def test_boot_and_device_model(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    hass_client: ClientSessionGenerator,
) -> None:
    async with connect_v201(port) as cp:
        reply = await cp.boot()
        assert reply.status == "Accepted"
        assert reply.interval == 60
        datetime.fromisoformat(reply.current_time)
        await hass.async_block_till_done()
        assert cp.requests[0] == ("GetBaseReport", {"report_base": "FullInventory"})
        device = charge_point_device(hass, setup_integration)
        assert (device.manufacturer, device.model) == ("Elecq", "AU101")
        assert (device.serial_number, device.sw_version) == ("SN-0042", "2.1.7")
        # The report said smart charging is enabled: the limit entities exist.
        await async_wait_until(hass, lambda: hass.states.get("number.cp1_current_limit"))
        # One EVSE: one device, the connector's entities on it.
        await cp.status(1, Status.available)
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "available"
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    configuration = diagnostics["configuration"]
    assert diagnostics["subprotocol"] == "ocpp2.0.1"
    # The 1.6 keys the features read, in 1.6's words; the rest written out.
    assert configuration["ChargeProfileMaxStackLevel"]["value"] == "8"
    assert configuration["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current,Power"
    assert configuration["MeterValueSampleInterval"] == {"value": "60", "readonly": False}
    assert configuration["NumberOfConnectors"]["value"] == "1"
    assert "SmartCharging" in configuration["SupportedFeatureProfiles"]["value"]
    assert configuration["TxCtrlr/TxStartPoint"]["value"] == "PowerPathClosed"
    assert configuration["OCPPCommCtrlr/MessageTimeout[Default]"]["value"] == "30"
    assert configuration["Connector(1,1)/ConnectorType"]["value"] == "cType2"


async def test_status_per_evse_in_the_words_of_1_6(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with connect_v201(port) as cp:
        cp.report = device_model(evses=2)
        await cp.boot()
        await hass.async_block_till_done()
        # Two EVSEs: a device each, beneath the charger's.
        parent = charge_point_device(hass, setup_integration)
        children = dr.async_entries_for_parent_device(dr.async_get(hass), parent.id)
        assert sorted(child.name for child in children) == ["Connector 1", "Connector 2"]
        await cp.status(1, Status.occupied)
        await cp.status(2, Status.faulted)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_connector_1_status").state == "preparing"
        assert hass.states.get("sensor.cp1_connector_2_status").state == "faulted"
        assert hass.states.get("binary_sensor.cp1_connector_2_problem").state == "on"
        assert hass.states.get("binary_sensor.cp1_connector_1_plugged_in").state == "on"
        await cp.status(2, Status.unavailable)
        await cp.status(1, Status.reserved)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_connector_2_status").state == "unavailable"
        assert hass.states.get("sensor.cp1_connector_1_status").state == "reserved"


async def test_full_session(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int, tmp_path: Path
) -> None:
    started = async_capture_events(hass, EVENT_SESSION_STARTED)
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.status(1, Status.occupied)
        reply = await cp.event(
            "Started",
            "tx-7f3a",
            0,
            trigger="Authorized",
            id_token="RESIDENT-7",
            charging_state="EVConnected",
            meter=[meter(0, *sampled(1_000_000, context="Transaction.Begin"))],
        )
        assert reply.id_token_info == {"status": "Accepted"}
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "preparing"
        assert hass.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
        assert hass.states.get("sensor.cp1_energy").state == "1000.0"
        await cp.event(
            "Updated",
            "tx-7f3a",
            1,
            trigger="ChargingStateChanged",
            charging_state="Charging",
            meter=[meter(1, *sampled(1_000_100, power_w=11040))],
        )
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "charging"
        assert hass.states.get("sensor.cp1_power").state == "11.04"
        # A plain MeterValues counts too (kWh with a multiplier: 1.00368 MWh).
        await cp.meter_values(1, meter(20, *sampled(1.00368, unit="kWh", multiplier=3)))
        await cp.event("Updated", "tx-7f3a", 40, meter=[meter(40, *sampled(1_007_360))])
        await cp.event("Updated", "tx-7f3a", 60, meter=[meter(60, *sampled(1_011_040))])
        await hass.async_block_till_done()
        assert float(hass.states.get("sensor.cp1_session_energy").state) == pytest.approx(11.04)
        await cp.event(
            "Ended",
            "tx-7f3a",
            67,
            trigger="EVCommunicationLost",
            charging_state="EVConnected",
            stopped_reason="EVDisconnected",
            meter=[meter(67, *sampled(1_012_345, context="Transaction.End"))],
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(STATUS).state == "finishing"
        assert float(hass.states.get("sensor.cp1_energy").state) == pytest.approx(1012.345)
        assert float(hass.states.get("sensor.cp1_session_energy").state) == pytest.approx(12.345)
        assert hass.states.get("sensor.cp1_power").state == "0.0"
        await cp.status(1, Status.available)
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "available"

    (start,) = started
    assert start.data["charger_transaction_id"] == "tx-7f3a"
    record = stopped[0].data
    assert record["transaction_id"] == start.data["transaction_id"]
    assert record["energy_kwh"] == pytest.approx(12.345)
    assert (record["meter_start_wh"], record["meter_stop_wh"]) == (1_000_000, 1_012_345)
    assert record["stop_reason"] == "EVDisconnected"
    assert record["started_at"] == T0.isoformat()
    assert record["anomalies"] == []
    (session,) = await get_sessions(hass, id_tag="RESIDENT-7")
    assert session["charger_transaction_id"] == "tx-7f3a"
    assert session["energy_kwh"] == pytest.approx(12.345)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "sessions.csv"
    await hass.services.async_call(
        DOMAIN, "export_sessions", {"path": str(target)}, blocking=True, return_response=True
    )
    (row,) = csv.DictReader(target.open())
    assert row["charger_transaction_id"] == "tx-7f3a"

    await async_wait_recording_done(hass)
    statistic_id = energy_statistic_id(setup_integration.entry_id, "RESIDENT-7")
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, T0 - timedelta(hours=1), None, {statistic_id}
    )
    assert [row["state"] for row in stats[statistic_id]] == pytest.approx([7.36, 4.985])


async def test_no_meter_values_in_started_or_ended(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """A station sending no readings with Started/Ended: the register around them counts."""
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.meter_values(1, meter(-5, *sampled(500_000)))
        await cp.event("Started", "A1", 0, id_token="CARD", charging_state="Charging")
        await cp.event("Updated", "A1", 30, meter=[meter(30, *sampled(503_000))])
        await cp.event("Ended", "A1", 31, evse=None, id_token="CARD")
        await hass.async_block_till_done(wait_background_tasks=True)
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(3.0)
    assert session["stop_reason"] == "Local"
    assert session["stop_id_tag"] == "CARD"


async def test_authorized_after_the_start(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """TxStartPoint EVConnected: the session begins at plug-in, its card comes later."""
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.event("Started", "B1", 0, trigger="CablePluggedIn", charging_state="EVConnected")
        await cp.event("Updated", "B1", 1, trigger="Authorized", id_token="LATE-CARD")
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_session_id_tag").state == "LATE-CARD"
        await cp.event("Ended", "B1", 2)
        await hass.async_block_till_done(wait_background_tasks=True)
    (session,) = await get_sessions(hass)
    assert session["id_tag"] == "LATE-CARD"
    assert datetime.fromisoformat(session["started_at"]) == T0.astimezone(UTC)
