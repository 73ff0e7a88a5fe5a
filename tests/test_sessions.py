"""Charging sessions end to end: energy in sensors, events, ledger, CSV and statistics."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    get_start_time,
    statistics_during_period,
)

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.session_events import (
    EVENT_SESSION_STARTED,
    EVENT_SESSION_STOPPED,
)
from custom_components.levity_ocpp.tag_statistics import energy_statistic_id

from .client import TestChargePoint
from .conftest import Connect

T0 = datetime(2026, 11, 1, 10, 15, tzinfo=UTC)


def stamp(minutes: float) -> str:
    """A charger timestamp, minutes after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def sample(minutes: float, energy_wh: float, *, context: str = "Sample.Periodic") -> dict[str, Any]:
    """One meterValue with a realistic 3-phase profile."""
    values: list[dict[str, Any]] = [
        {
            "value": str(energy_wh),
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
            "context": context,
        },
        {"value": "11040", "measurand": "Power.Active.Import", "unit": "W", "context": context},
    ]
    for phase in ("L1", "L2", "L3"):
        values += [
            {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": phase},
            {"value": "230.0", "measurand": "Voltage", "unit": "V", "phase": f"{phase}-N"},
        ]
    return {"timestamp": stamp(minutes), "sampledValue": values}


async def start(cp: TestChargePoint, meter_start: int = 1_000_000, **fields: Any) -> int:
    payload = {
        "connector_id": 1,
        "id_tag": "RESIDENT-7",
        "meter_start": meter_start,
        "timestamp": stamp(0),
        **fields,
    }
    reply = await cp.call(call.StartTransaction(**payload), suppress=False)
    assert reply.id_tag_info["status"] == "Accepted"
    return reply.transaction_id


async def meter(cp: TestChargePoint, transaction_id: int | None, *samples: dict) -> None:
    await cp.call(
        call.MeterValues(connector_id=1, transaction_id=transaction_id, meter_value=list(samples)),
        suppress=False,
    )


async def stop(cp: TestChargePoint, transaction_id: int, meter_stop: int, minutes: float) -> Any:
    return await cp.call(
        call.StopTransaction(
            meter_stop=meter_stop,
            timestamp=stamp(minutes),
            transaction_id=transaction_id,
            reason="EVDisconnected",
            id_tag="RESIDENT-7",
            transaction_data=[sample(minutes, meter_stop, context="Transaction.End")],
        ),
        suppress=False,
    )


async def get_sessions(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", data, blocking=True, return_response=True
    )
    assert response is not None
    return response["sessions"]


async def test_full_session_energy_everywhere(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    tmp_path: Path,
) -> None:
    started = async_capture_events(hass, EVENT_SESSION_STARTED)
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    first_state_at = get_start_time(datetime.now(UTC))
    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.preparing)
        tx = await start(cp)
        await cp.status(1, ChargePointStatus.charging)
        await meter(cp, tx, sample(0, 1_000_000, context="Transaction.Begin"))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1000.0"
        assert hass.states.get("sensor.cp1_session_energy").state == "0.0"
        assert hass.states.get("sensor.cp1_power").state == "11.04"  # shown in kW
        # A 3-phase charger: current per phase (disabled: noisy), no meaningless average.
        assert hass.states.get("sensor.cp1_current") is None
        assert hass.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
        for minutes, energy in ((20, 1_003_680), (40, 1_007_360), (60, 1_011_040)):
            await meter(cp, tx, sample(minutes, energy))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_session_energy").state == "11.04"
        reply = await stop(cp, tx, 1_012_345, 67)
        assert reply.id_tag_info["status"] == "Accepted"
        await cp.status(1, ChargePointStatus.finishing)
        await hass.async_block_till_done(wait_background_tasks=True)

        energy = hass.states.get("sensor.cp1_energy")
        assert float(energy.state) == pytest.approx(1012.345)
        assert energy.attributes["state_class"] == "total_increasing"
        session = hass.states.get("sensor.cp1_session_energy")
        assert float(session.state) == pytest.approx(12.345)
        assert session.attributes["state_class"] == "total"
        assert session.attributes["last_reset"] == T0.isoformat()
        assert hass.states.get("sensor.cp1_session_duration").state == "67"
        # The session is over: it draws nothing, whatever was sampled last.
        assert hass.states.get("sensor.cp1_power").state == "0.0"
        # Only what the charger reports gets entities; per-phase voltages start disabled.
        registry = er.async_get(hass)
        device_id = registry.async_get("sensor.cp1_energy").device_id
        entries = er.async_entries_for_device(registry, device_id, include_disabled_entities=True)
        keys = {entry.translation_key for entry in entries}
        assert {"energy", "power", "current_phase", "voltage_phase"} <= keys
        assert "soc" not in keys and "temperature" not in keys
        phase = registry.async_get("sensor.cp1_voltage_l1")
        assert phase is not None and phase.disabled_by is er.RegistryEntryDisabler.INTEGRATION

    # Events carry the whole record.
    assert [e.data["transaction_id"] for e in started] == [tx]
    record = stopped[0].data
    assert record["energy_kwh"] == pytest.approx(12.345)
    assert record["meter_start_wh"] == 1_000_000 and record["meter_stop_wh"] == 1_012_345
    assert record["stop_reason"] == "EVDisconnected"
    assert record["started_at"] == T0.isoformat()
    assert record["device_id"]

    # The ledger, through the action.
    sessions = await get_sessions(hass, id_tag="RESIDENT-7")
    assert len(sessions) == 1 and sessions[0]["energy_kwh"] == pytest.approx(12.345)
    assert await get_sessions(hass, id_tag="resident-7") == sessions  # case-insensitive
    assert await get_sessions(hass, id_tag="SOMEONE-ELSE") == []
    assert await get_sessions(hass, device_id=record["device_id"], connector_id=1) == sessions
    assert await get_sessions(hass, start=T0 + timedelta(minutes=1)) == []

    # The CSV export, allowed folder only.
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "sessions.csv"
    response = await hass.services.async_call(
        DOMAIN, "export_sessions", {"path": str(target)}, blocking=True, return_response=True
    )
    assert response == {"path": str(target), "sessions": 1}
    rows = list(csv.DictReader(target.open()))
    assert float(rows[0]["energy_kwh"]) == pytest.approx(12.345)

    # Per-id-tag statistics: hourly sums following the charger's clock.
    await async_wait_recording_done(hass)
    statistic_id = energy_statistic_id(setup_integration.entry_id, "RESIDENT-7")
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        T0 - timedelta(hours=1),
        None,
        {statistic_id},
    )
    rows_by_hour = stats[statistic_id]
    assert [row["state"] for row in rows_by_hour] == pytest.approx([7.36, 4.985])
    assert rows_by_hour[-1]["sum"] == pytest.approx(12.345)

    # The energy sensor's own statistics (what the Energy dashboard uses).
    for period_start in {first_state_at, get_start_time(datetime.now(UTC))}:
        do_adhoc_statistics(hass, start=period_start, period="5minute")
    await async_wait_recording_done(hass)
    sensor_stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        first_state_at,
        None,
        {"sensor.cp1_energy"},
        "5minute",
    )
    assert sensor_stats["sensor.cp1_energy"][-1]["sum"] == pytest.approx(12.345)


async def test_export_is_safe_to_open_in_a_spreadsheet(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect, tmp_path: Path
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp, id_tag='=HYPERLINK("x")')
        await stop(cp, tx, 1_001_000, 10)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "sessions.csv"
    await hass.services.async_call(DOMAIN, "export_sessions", {"path": str(target)}, blocking=True)
    row = next(csv.DictReader(target.open()))
    assert row["id_tag"] == """'=HYPERLINK("x")"""
    assert row["charge_point_id"] == "CP1"


async def test_reload_mid_session_loses_nothing(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_840))
    # Reloading rebuilds everything in memory from storage.
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    # The session's facts stay readable while the charger is away; live values do not.
    assert hass.states.get("sensor.cp1_session_energy").state == "1.84"
    assert hass.states.get("sensor.cp1_power").state == STATE_UNAVAILABLE
    port = setup_integration.runtime_data.central_system.bound_port
    from .client import connect_charge_point

    async with connect_charge_point(port, "/CP1") as cp:
        await cp.status(1, ChargePointStatus.charging)  # reconnect, no reboot
        await meter(cp, tx, sample(20, 1_003_680))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_session_energy").state == "3.68"
        await stop(cp, tx, 1_005_000, 30)
        await hass.async_block_till_done()
    sessions = await get_sessions(hass)
    assert [(s["transaction_id"], s["energy_kwh"]) for s in sessions] == [(tx, 5.0)]
    # The id counter survived too: the next session gets a new id.
    async with connect_charge_point(port, "/CP1") as cp:
        assert await start(cp, 1_005_000, timestamp=stamp(40)) == tx + 1


async def test_reboot_closes_orphaned_session(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_500))
        await cp.boot()  # the charger rebooted mid-session
        await hass.async_block_till_done()
    assert len(stopped) == 1
    record = stopped[0].data
    assert record["transaction_id"] == tx
    assert record["stop_reason"] == "Reboot"
    assert record["closed_by"] == "central_system"
    assert record["meter_stop_wh"] == 1_001_500
    assert record["stopped_at"] == (T0 + timedelta(minutes=10)).isoformat()


async def test_new_start_on_busy_connector_closes_the_old_one(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        first = await start(cp)
        second = await start(cp, 1_002_000, timestamp=stamp(30))
        assert second != first
    sessions = await get_sessions(hass)
    assert [s["transaction_id"] for s in sessions] == [first]
    assert sessions[0]["stop_reason"] == "Other"


async def test_resent_start_gets_the_same_id(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        assert await start(cp) == await start(cp)
        await hass.async_block_till_done()
    assert await get_sessions(hass) == []  # nothing was closed as an orphan


async def test_late_buffered_values_do_not_overwrite_live_ones(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(30, 1_005_520))
        await meter(cp, tx, sample(10, 1_001_840))  # queued while offline, sent late
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1005.52"
        await stop(cp, tx, 1_006_000, 35)
    sessions = await get_sessions(hass)
    assert sessions[0]["energy_kwh"] == 6.0
    assert sessions[0]["anomalies"] == []


async def test_stop_for_unknown_transaction_is_answered(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        reply = await stop(cp, 4242, 1_001_000, 10)
        assert reply.id_tag_info["status"] == "Accepted"
        await hass.async_block_till_done()
        # The open session on the connector was not touched.
        assert hass.states.get("sensor.cp1_session_id_tag").state == "RESIDENT-7"
        assert await get_sessions(hass) == []
        await stop(cp, tx, 1_001_000, 10)
    assert len(await get_sessions(hass)) == 1


async def test_a_broken_sample_does_not_cost_the_stop(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        unset_clock = {**sample(30, 1_005_000), "timestamp": "0000-00-00T00:00:00Z"}
        reply = await cp.call(
            call.StopTransaction(
                meter_stop=1_005_000,
                timestamp=stamp(30),
                transaction_id=tx,
                transaction_data=[sample(15, 1_002_500), unset_clock],
            ),
            suppress=False,
        )
        assert reply is not None
        charge_point = setup_integration.runtime_data.charge_points["CP1"]
        assert any("transactionData[1]" in a.description for a in charge_point.anomalies)
    (session,) = await get_sessions(hass)
    assert session["meter_stop_wh"] == 1_005_000
    assert session["energy_kwh"] == pytest.approx(5.0)


async def test_one_glitched_reading_is_neither_shown_nor_billed(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(0, 1_000_000))
        await meter(cp, tx, sample(5, 4_294_967_295))  # 0xFFFFFFFF
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1000.0"
        await meter(cp, tx, sample(10, 1_002_000))
        await meter(cp, tx, sample(15, 1_003_000))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1003.0"
        assert hass.states.get("sensor.cp1_session_energy").state == "3.0"
        await cp.boot()  # rebooted: closed as an orphan at the last believable reading
        await stop(cp, tx, 1_003_500, 17)  # and its own stop completes it
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(3.5)
    assert any("jumped" in anomaly for anomaly in session["anomalies"])


async def test_a_real_leap_counts_once_the_next_reading_confirms_it(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """E.g. a charger that was offline for hours while charging (no queue)."""
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(0, 1_000_000))
        await meter(cp, tx, sample(120, 1_022_000))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1000.0"
        await meter(cp, tx, sample(125, 1_022_900))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1022.9"
        assert hass.states.get("sensor.cp1_session_energy").state == "22.9"


async def test_a_charger_clock_in_the_future_freezes_nothing(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """One stamp from 2099 is taken as received, so later real times still count as newer."""
    now = datetime.now(UTC)

    def at(minutes: float, energy_wh: float) -> dict[str, Any]:
        moment = (now + timedelta(minutes=minutes)).isoformat()
        return {**sample(0, energy_wh), "timestamp": moment}

    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging, timestamp="2099-01-01T00:00:00Z")
        tx = await start(cp, timestamp=now.isoformat())
        await meter(cp, tx, {**sample(0, 1_000_500), "timestamp": "2099-01-01T00:00:00Z"})
        await meter(cp, tx, at(1, 1_002_000))
        await cp.status(1, ChargePointStatus.suspended_ev, timestamp=at(2, 0)["timestamp"])
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1002.0"
        assert hass.states.get("sensor.cp1_status").state == "suspended_ev"
        charge_point = setup_integration.runtime_data.charge_points["CP1"]
        assert [a.description[:11] for a in charge_point.anomalies] == ["clock ahead"]
        await stop(cp, tx, 1_003_000, 0)
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(3.0)


async def test_register_going_backwards_is_flagged(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_002_000))
        await meter(cp, tx, sample(20, 1_001_000))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_energy").state == "1002.0"
        await meter(cp, tx, sample(30, 1_030_000))  # +28 kWh in 10 minutes
        await stop(cp, tx, 1_030_500, 40)
    (session,) = await get_sessions(hass)
    assert any("backwards" in anomaly for anomaly in session["anomalies"])
    assert any("jumped" in anomaly for anomaly in session["anomalies"])


async def test_sessions_of_one_connector_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    from homeassistant.helpers import device_registry as dr

    from .test_connection import connector_devices

    async with connect("/CP1") as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)
        first = await start(cp)
        await stop(cp, first, 1_001_000, 10)
        second = await start(cp, connector_id=2, timestamp=stamp(20))
        await stop(cp, second, 1_002_000, 30)
    parent = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{setup_integration.entry_id}_CP1"), setup_integration.entry_id
    )
    assert parent is not None
    connector_2 = connector_devices(hass, parent)["Connector 2"]
    sessions = await get_sessions(hass, device_id=connector_2.id)
    assert [s["transaction_id"] for s in sessions] == [second]
    with pytest.raises(ServiceValidationError) as error:
        await get_sessions(hass, device_id="no-such-device")
    assert error.value.translation_key == "unknown_device"


async def test_get_sessions_refuses_bad_requests(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as error:
        await get_sessions(hass, start=T0, end=T0 - timedelta(days=1))
    assert error.value.translation_key == "end_before_start"
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    with pytest.raises(ServiceValidationError) as error:
        await get_sessions(hass)
    assert error.value.translation_key == "not_loaded"
