"""Sessions the central system closed for a charger, completed by its late reports.

A rebooted charger (or one starting anew on a busy connector) gets its open
session closed at the last known reading; the queued MeterValues and the
StopTransaction it delivers afterwards complete that session without losing or
double-counting a Wh.
"""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.recorder import get_instance
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    statistics_during_period,
)

from custom_components.levity_ocpp.amendments import AMENDMENT_DELAY
from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.session_events import (
    EVENT_SESSION_STOPPED,
    EVENT_SESSION_UPDATED,
)
from custom_components.levity_ocpp.tag_statistics import energy_statistic_id

from .client import connect_charge_point
from .conftest import Connect
from .test_sessions import T0, get_sessions, meter, sample, stamp, start, stop


async def burst_over(hass: HomeAssistant) -> None:
    """Let the coalesced correction of a burst of late MeterValues be recorded."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=AMENDMENT_DELAY + 1))
    await hass.async_block_till_done(wait_background_tasks=True)


async def hourly_statistics(hass: HomeAssistant) -> list[float]:
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    statistic_id = energy_statistic_id(entry.entry_id, "RESIDENT-7")
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, T0 - timedelta(hours=1), None, {statistic_id}
    )
    return [row["state"] for row in stats.get(statistic_id, [])]


async def sessions_by_id(hass: HomeAssistant) -> dict[int, dict]:
    return {session["transaction_id"]: session for session in await get_sessions(hass)}


async def test_late_reports_complete_a_rebooted_session(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    updated = async_capture_events(hass, EVENT_SESSION_UPDATED)
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_500))
        await cp.boot()  # rebooted; the queued messages follow
        await meter(cp, tx, sample(40, 1_007_000))
        await meter(cp, tx, sample(50, 1_009_000))
        # The ledger has each reading at once; event and statistics wait for the burst.
        (session,) = await get_sessions(hass)
        assert session["meter_stop_wh"] == 1_009_000
        assert session["stopped_at"] == (T0 + timedelta(minutes=50)).isoformat()
        assert session["closed_by"] == "central_system"
        assert updated == []
        await burst_over(hass)
        assert [event.data["meter_stop_wh"] for event in updated] == [1_009_000]

        await stop(cp, tx, 1_009_200, 52)
        await hass.async_block_till_done(wait_background_tasks=True)
        charge_point = setup_integration.runtime_data.charge_points["CP1"]
        assert not charge_point.anomalies  # not an unknown transaction
        assert hass.states.get("sensor.cp1_session_energy").state == "9.2"
        assert await start(cp, 1_009_200, timestamp=stamp(60)) == tx + 1

    (session,) = await get_sessions(hass)
    assert session["meter_stop_wh"] == 1_009_200
    assert session["energy_kwh"] == pytest.approx(9.2)
    assert session["closed_by"] == "charger"
    assert session["stop_reason"] == "EVDisconnected"
    assert session["stopped_at"] == (T0 + timedelta(minutes=52)).isoformat()
    assert len(stopped) == 1
    assert [event.data["meter_stop_wh"] for event in updated] == [1_009_000, 1_009_200]
    # Corrected, not added to twice: 10:xx up to 1 007 000 Wh, 11:xx the rest.
    assert await hourly_statistics(hass) == pytest.approx([7.0, 2.2])


async def test_resent_late_stop_is_answered_quietly(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    updated = async_capture_events(hass, EVENT_SESSION_UPDATED)
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await cp.boot()
        await stop(cp, tx, 1_003_000, 20)
        reply = await stop(cp, tx, 1_003_000, 20)  # our reply got lost
        assert reply.id_tag_info["status"] == "Accepted"
        await hass.async_block_till_done()
    assert not setup_integration.runtime_data.charge_points["CP1"].anomalies
    assert len(updated) == 1
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(3.0)


async def test_late_reading_past_the_next_session_is_capped(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        first = await start(cp)
        await meter(cp, first, sample(10, 1_001_000))
        second = await start(cp, 1_002_000, timestamp=stamp(30))
        await stop(cp, second, 1_003_000, 40)
        third = await start(cp, 1_003_000, timestamp=stamp(50))
        # A late (implausible) reading of the first session, past where the second began.
        await meter(cp, first, sample(20, 1_003_500))
        await stop(cp, third, 1_004_000, 60)
    by_id = await sessions_by_id(hass)
    assert by_id[first]["meter_stop_wh"] == 1_002_000
    assert by_id[first]["stopped_at"] <= (T0 + timedelta(minutes=30)).isoformat()
    assert any("capped" in anomaly for anomaly in by_id[first]["anomalies"])
    assert sum(session["energy_kwh"] for session in by_id.values()) == pytest.approx(4.0)


async def test_charger_counting_each_session_from_zero(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """The next session's meterStart says nothing about this one's register."""
    async with connect("/CP1") as cp:
        await cp.boot()
        first = await start(cp, 0)
        await meter(cp, first, sample(10, 8_000))
        await start(cp, 0, timestamp=stamp(30))
        await stop(cp, first, 8_500, 25)  # its StopTransaction, delivered late
    assert (await sessions_by_id(hass))[first]["energy_kwh"] == pytest.approx(8.5)


async def test_energy_already_counted_is_never_taken_back(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        reset = await start(cp, 5_000)
        await meter(cp, reset, sample(10, 8_000))
        await cp.boot()  # the reboot reset the register
        await start(cp, 0, timestamp=stamp(30))
        await meter(cp, reset, sample(10, 8_000))  # the same reading, delivered again
        lost_counter = await start(cp, 100_000, connector_id=2)
        await cp.call(
            call.MeterValues(
                connector_id=2, transaction_id=lost_counter, meter_value=[sample(10, 104_000)]
            ),
            suppress=False,
        )
        await cp.boot()
        # A charger that lost its counter in a power cut stops at meterStart.
        await stop(cp, lost_counter, 100_000, 20)
        await burst_over(hass)
    by_id = await sessions_by_id(hass)
    assert by_id[reset]["meter_stop_wh"] == 8_000
    assert by_id[reset]["energy_kwh"] == pytest.approx(3.0)
    kept = by_id[lost_counter]
    assert kept["energy_kwh"] == pytest.approx(4.0)
    assert kept["closed_by"] == "charger"
    assert any("already recorded" in anomaly for anomaly in kept["anomalies"])
    assert sum(await hourly_statistics(hass)) == pytest.approx(7.0)


async def test_late_reading_moving_energy_between_hours_corrects_statistics(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)  # 10:15
        await meter(cp, tx, sample(65, 1_004_000))  # 11:20
        await cp.boot()
        await meter(cp, tx, sample(35, 1_002_000))  # 10:50, queued, arrives late
        await stop(cp, tx, 1_005_000, 75)  # 11:30
    assert await hourly_statistics(hass) == pytest.approx([2.0, 3.0])


async def test_completed_after_a_restart_shows_on_the_connector(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await meter(cp, tx, sample(10, 1_001_500))
        await cp.boot()
        await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    port = setup_integration.runtime_data.central_system.bound_port
    async with connect_charge_point(port, "/CP1") as cp:
        await stop(cp, tx, 1_009_200, 52)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get("sensor.cp1_session_energy").state == "9.2"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(9.2)


async def test_unload_records_a_pending_correction(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    updated = async_capture_events(hass, EVENT_SESSION_UPDATED)
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await cp.boot()
        await meter(cp, tx, sample(10, 1_002_000))
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    assert [event.data["meter_stop_wh"] for event in updated] == [1_002_000]
    assert await hourly_statistics(hass) == pytest.approx([2.0])


async def test_home_assistant_stop_records_a_pending_correction(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    updated = async_capture_events(hass, EVENT_SESSION_UPDATED)
    async with connect("/CP1") as cp:
        await cp.boot()
        tx = await start(cp)
        await cp.boot()
        await meter(cp, tx, sample(10, 1_003_000))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert [event.data["meter_stop_wh"] for event in updated] == [1_003_000]
    assert await hourly_statistics(hass) == pytest.approx([3.0])
