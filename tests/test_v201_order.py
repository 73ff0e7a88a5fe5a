"""OCPP 2.0.1 sessions when messages come late, twice, out of order, or across restarts.

The charger numbers each transaction's events (seqNo) and flags those it queued
while offline. Whatever order they arrive in, a session ends up with every Wh
once, in the hours it was charged, and the connector shows the newest state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v201.enums import ConnectorStatusEnumType as Status
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.session_events import (
    EVENT_SESSION_STOPPED,
    EVENT_SESSION_UPDATED,
)

from .client_v201 import T0, connect_v201, meter, sampled
from .conftest import async_wait_until
from .restart_helpers import restarted
from .test_orphans import burst_over, hourly_statistics
from .test_v201 import STATUS, get_sessions


async def test_events_out_of_order_and_offline(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    updated = async_capture_events(hass, EVENT_SESSION_UPDATED)
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.status(1, Status.occupied, minutes=0)
        tx = "c0ffee00-0000-4000-8000-000000000001"
        await cp.event(
            "Started",
            tx,
            0,
            seq_no=0,
            id_token="RESIDENT-7",
            charging_state="Charging",
            meter=[meter(0, *sampled(1_000_000, context="Transaction.Begin"))],
        )
        # Back online: a live event first, then what was queued meanwhile.
        await cp.event(
            "Updated",
            tx,
            30,
            seq_no=3,
            trigger="ChargingStateChanged",
            charging_state="SuspendedEV",
            meter=[meter(30, *sampled(1_005_000))],
        )
        for seq_no, minutes, energy in ((1, 10, 1_001_840), (2, 20, 1_003_680)):
            await cp.event(
                "Updated",
                tx,
                minutes,
                seq_no=seq_no,
                offline=True,
                charging_state="Charging",
                meter=[meter(minutes, *sampled(energy))],
            )
        await hass.async_block_till_done()
        # The newest state and reading stand; the queued ones are history.
        assert hass.states.get(STATUS).state == "suspended_ev"
        assert hass.states.get("sensor.cp1_energy").state == "1005.0"
        assert hass.states.get("sensor.cp1_session_energy").state == "5.0"
        # Its Ended comes before the last queued Updated (seqNo 4, 10:59).
        await cp.event(
            "Ended",
            tx,
            65,
            seq_no=5,
            stopped_reason="Local",
            meter=[meter(65, *sampled(1_012_000, context="Transaction.End"))],
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        assert await hourly_statistics(hass) == pytest.approx([5.0, 7.0])
        await cp.event(
            "Updated", tx, 44, seq_no=4, offline=True, meter=[meter(44, *sampled(1_008_000))]
        )
        # Its reply was lost: the same Ended again changes nothing.
        await cp.event(
            "Ended",
            tx,
            65,
            seq_no=5,
            meter=[meter(65, *sampled(1_012_000, context="Transaction.End"))],
        )
        await burst_over(hass)
        assert hass.states.get("sensor.cp1_energy").state == "1012.0"
    (session,) = await get_sessions(hass)
    assert session["energy_kwh"] == pytest.approx(12.0)
    assert session["anomalies"] == []
    assert len(updated) == 1
    # The late reading moves energy into 10:xx; the total stays the charger's.
    assert await hourly_statistics(hass) == pytest.approx([8.0, 4.0])


async def test_started_after_its_updates(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """A station that queued its Started sends a live Updated first: one session, all of it."""
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.event(
            "Updated", "T-9", 20, seq_no=2, charging_state="Charging",
            meter=[meter(20, *sampled(2_003_000))],
        )  # fmt: skip
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "charging"
        await cp.event(
            "Started",
            "T-9",
            0,
            seq_no=0,
            offline=True,
            id_token="RESIDENT-7",
            charging_state="EVConnected",
            meter=[meter(0, *sampled(2_000_000, context="Transaction.Begin"))],
        )
        await cp.event("Updated", "T-9", 10, seq_no=1, meter=[meter(10, *sampled(2_001_000))])
        await hass.async_block_till_done()
        # The charging state stays the newest event's.
        assert hass.states.get(STATUS).state == "charging"
        assert hass.states.get("sensor.cp1_session_energy").state == "3.0"
        await cp.event("Ended", "T-9", 30, seq_no=3, meter=[meter(30, *sampled(2_004_000))])
        await hass.async_block_till_done(wait_background_tasks=True)
    (session,) = await get_sessions(hass)
    assert session["id_tag"] == "RESIDENT-7"
    assert session["started_at"] == T0.isoformat()
    assert (session["meter_start_wh"], session["energy_kwh"]) == (2_000_000, pytest.approx(4.0))


async def test_reboot_closes_open_sessions_and_late_ended_completes_them(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.event(
            "Started", "R1", 0, id_token="RESIDENT-7",
            meter=[meter(0, *sampled(1_000_000, context="Transaction.Begin"))],
        )  # fmt: skip
        await cp.event("Updated", "R1", 10, meter=[meter(10, *sampled(1_001_500))])
        # A boot asked for is no restart: the session goes on.
        await cp.boot("Triggered")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert stopped == []
        await cp.boot("PowerUp")  # it lost power: the session is over
        await hass.async_block_till_done(wait_background_tasks=True)
        assert [event.data["closed_by"] for event in stopped] == ["central_system"]
        # What it queued comes after the boot.
        await cp.event("Updated", "R1", 20, offline=True, meter=[meter(20, *sampled(1_003_000))])
        await cp.event(
            "Ended",
            "R1",
            25,
            offline=True,
            stopped_reason="PowerLoss",
            meter=[meter(25, *sampled(1_004_000, context="Transaction.End"))],
        )
        await hass.async_block_till_done(wait_background_tasks=True)
    (session,) = await get_sessions(hass)
    assert session["closed_by"] == "charger"
    assert session["stop_reason"] == "PowerLoss"
    assert session["energy_kwh"] == pytest.approx(4.0)
    assert session["stopped_at"] == (T0 + timedelta(minutes=25)).isoformat()


async def test_reconnect_asks_what_became_of_open_sessions(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """GetTransactionStatus: over, and nothing queued, means its Ended will never come."""
    central = setup_integration.runtime_data.central_system
    central.boot_wait = 0.05
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect_v201(port) as cp:
        await cp.boot()
        for tx, evse in (("GOING-ON", 1), ("QUEUED", 2), ("GONE", 3)):
            await cp.event("Started", tx, 0, evse=evse, id_token="RESIDENT-7")
    async with connect_v201(port) as cp:  # no boot: it only reconnected
        cp.transaction_status = {
            "GOING-ON": (False, True),
            "QUEUED": (True, False),
            "GONE": (False, False),
        }
        await async_wait_until(hass, lambda: stopped)
        assert len([r for r in cp.requests if r[0] == "GetTransactionStatus"]) == 3
    assert [event.data["charger_transaction_id"] for event in stopped] == ["GONE"]
    assert stopped[0].data["closed_by"] == "central_system"
    assert not any(r[0] == "TriggerMessage" for r in cp.requests)  # it registered before


async def test_a_station_never_booted_here_is_asked_to(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    setup_integration.runtime_data.central_system.boot_wait = 0.05
    async with connect_v201(port) as cp:
        await async_wait_until(hass, lambda: cp.requests)
        assert cp.requests == [("TriggerMessage", {"requested_message": "BootNotification"})]
        await cp.boot("Triggered")
        await hass.async_block_till_done()


async def test_ha_restart_mid_session_loses_nothing(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    async_test_recorder: Any,
    hass_storage: dict[str, Any],
) -> None:
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.status(1, Status.occupied)
        await cp.event(
            "Started", "HA-RESTART", 0, seq_no=0, id_token="RESIDENT-7",
            charging_state="Charging",
            meter=[meter(0, *sampled(1_000_000, context="Transaction.Begin"))],
        )  # fmt: skip
        await cp.event(
            "Updated", "HA-RESTART", 10, seq_no=1, meter=[meter(10, *sampled(1_001_840))]
        )
        await hass.async_block_till_done()
    await hass.async_stop()

    async with restarted(hass, setup_integration, async_test_recorder) as (hass2, port2):
        assert hass2.states.get("sensor.cp1_session_energy").state == "1.84"
        assert port2
        async with connect_v201(port2) as cp:
            # An older event queued before the restart is still history.
            await cp.event(
                "Updated", "HA-RESTART", 5, seq_no=0, offline=True, charging_state="SuspendedEV"
            )
            await cp.event(
                "Updated", "HA-RESTART", 20, seq_no=2, meter=[meter(20, *sampled(1_003_680))]
            )
            await hass2.async_block_till_done()
            assert hass2.states.get(STATUS).state == "charging"
            await cp.event(
                "Ended", "HA-RESTART", 30, seq_no=3,
                meter=[meter(30, *sampled(1_005_000, context="Transaction.End"))],
            )  # fmt: skip
            await hass2.async_block_till_done(wait_background_tasks=True)
            assert hass2.states.get("sensor.cp1_session_energy").state == "5.0"
        response = await hass2.services.async_call(
            DOMAIN, "get_sessions", {}, blocking=True, return_response=True
        )
        assert response is not None
        (session,) = response["sessions"]
        assert session["charger_transaction_id"] == "HA-RESTART"
        assert session["energy_kwh"] == pytest.approx(5.0)
        assert session["anomalies"] == []


async def test_late_ended_without_a_reading_keeps_the_latest(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.event(
            "Started", "R2", 0, id_token="RESIDENT-7",
            meter=[meter(0, *sampled(1_000_000, context="Transaction.Begin"))],
        )  # fmt: skip
        await cp.event("Updated", "R2", 10, meter=[meter(10, *sampled(1_001_500))])
        await cp.boot("Watchdog")
        await cp.event("Ended", "R2", 12, offline=True, stopped_reason="Reboot")
        await hass.async_block_till_done(wait_background_tasks=True)
    (session,) = await get_sessions(hass)
    assert (session["closed_by"], session["stop_reason"]) == ("charger", "Reboot")
    assert session["energy_kwh"] == pytest.approx(1.5)
    assert session["anomalies"] == ["closed by the central system because the charger rebooted"]
