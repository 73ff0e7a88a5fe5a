"""OCPP 2.0.1 stations that do the unexpected: what HA shows and what goes on the wire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import json
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from ocpp.v16 import call as call16
from ocpp.v201 import call
from ocpp.v201.enums import ConnectorStatusEnumType as Status
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_AUTO_START_DELAY,
    CONF_HEARTBEAT_INTERVAL,
    DOMAIN,
)
from custom_components.levity_ocpp.csms import v201_device_model
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import ConfiguredChargePoint, connect_charge_point
from .client_v201 import connect_v201, stamp
from .conftest import async_wait_until
from .test_v201 import STATUS, charge_point_device, get_sessions


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """A central system that starts a plugged-in car at once."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={
            CONF_HEARTBEAT_INTERVAL: 60,
            CONF_AUTO_START_DELAY: 0,
            CONF_ADMISSION_POLICY: "accept",
        },
        minor_version=MINOR_VERSION,
    )


def asked(station: Any, action: str) -> list[dict[str, Any]]:
    return [fields for name, fields in station.requests if name == action]


async def test_plug_in_starts_and_the_switch_stops(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """Levity's automatic start and the charging switch, on a 2.0.1 station."""
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.status(1, Status.occupied)
        await async_wait_until(hass, lambda: asked(cp, "RequestStartTransaction"))
        (start,) = asked(cp, "RequestStartTransaction")
        assert start["id_token"]["id_token"] == "HomeAssistant"
        assert start["evse_id"] == 1
        await cp.event(
            "Started",
            "remote-1",
            0,
            trigger="RemoteStart",
            id_token="HomeAssistant",
            charging_state="Charging",
            remote_start_id=start["remote_start_id"],
        )
        await hass.async_block_till_done()
        assert hass.states.get("switch.cp1_charging").state == "on"
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.cp1_charging"}, blocking=True
        )
        # The charger's own id of the session, not the central system's number.
        assert asked(cp, "RequestStopTransaction") == [{"transaction_id": "remote-1"}]
        await cp.event("Ended", "remote-1", 5, trigger="RemoteStop", stopped_reason="Remote")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get("switch.cp1_charging").state == "off"
        # Finishing, not a new plug-in: no second start.
        assert hass.states.get(STATUS).state == "finishing"
    assert len(asked(cp, "RequestStartTransaction")) == 1
    (session,) = await get_sessions(hass)
    assert session["stop_reason"] == "Remote"


async def test_plug_in_starts_a_transaction_begun_at_plug_in(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """TxStartPoint EVConnected: begun unauthorized at plug-in, the automatic start authorizes."""
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.status(1, Status.occupied)
        await cp.event(
            "Started", "plug-1", 0, trigger="CablePluggedIn", charging_state="EVConnected"
        )
        await async_wait_until(hass, lambda: asked(cp, "RequestStartTransaction"))
        await cp.event(
            "Updated", "plug-1", 1, trigger="Authorized", id_token="HomeAssistant",
            charging_state="Charging",
        )  # fmt: skip
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp1_session_id_tag").state == "HomeAssistant"
        assert hass.states.get(STATUS).state == "charging"
        await cp.status(1, Status.occupied)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert len(asked(cp, "RequestStartTransaction")) == 1


async def test_station_messages_beside_sessions(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    hass_client: ClientSessionGenerator,
) -> None:
    uploads = async_capture_events(hass, f"{DOMAIN}_diagnostics_status")
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.call(call.Heartbeat(), suppress=False)
        reply = await cp.call(
            call.Authorize(id_token={"id_token": "04A1B2C3", "type": "ISO14443"}), suppress=False
        )
        assert reply.id_token_info == {"status": "Accepted"}
        await cp.call(call.LogStatusNotification(status="UploadFailure"), suppress=False)
        # A status queued while offline, older than the one shown, changes nothing.
        await cp.status(1, Status.faulted, minutes=10)
        await cp.status(1, Status.available, minutes=5)
        # A clock in 2099: taken as received, said once.
        await cp.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp="2099-01-01T00:00:00Z",
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "future"},
                evse={"id": 1},
            ),
            suppress=False,
        )
        await hass.async_block_till_done()
        assert hass.states.get(STATUS).state == "faulted"
        device = charge_point_device(hass, setup_integration)
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    assert diagnostics["last_heartbeat"] is not None
    assert uploads[0].data["status"] == "UploadFailed"
    assert uploads[0].data["reported_status"] == "UploadFailure"
    assert any("clock ahead" in a["description"] for a in diagnostics["anomalies"])
    (open_session,) = diagnostics["open_transactions"]
    assert datetime.fromisoformat(open_session["started_at"]).year == datetime.now(UTC).year


async def test_unreadable_timestamp_is_a_broken_message(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with connect_v201(port, start=False) as cp:
        answer = await cp.raw(
            [
                2,
                "t1",
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": "yesterday",
                    "triggerReason": "Authorized",
                    "seqNo": 0,
                    "transactionInfo": {"transactionId": "T"},
                    "evse": {"id": 1},
                },
            ]
        )
    assert answer[:3] == [4, "t1", "FormatViolation"]
    assert await get_sessions(hass) == []


async def test_device_model_refused_then_asked_again(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    setup_integration.runtime_data.central_system.boot_wait = 0.05
    async with connect_v201(port) as cp:
        cp.report_status = "Rejected"
        await cp.boot()
        await hass.async_block_till_done()
        # Without a device model: only what every charger has.
        assert hass.states.get("number.cp1_current_limit") is None
    async with connect_v201(port) as cp:  # reconnects, knowing nothing of it yet
        await async_wait_until(hass, lambda: asked(cp, "GetBaseReport"))
        await cp.report_sent.wait()
        await async_wait_until(hass, lambda: hass.states.get("number.cp1_current_limit"))


async def test_oversized_device_model_is_cut(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
    hass_client: ClientSessionGenerator,
) -> None:
    monkeypatch.setattr(v201_device_model, "MAX_REPORT_VARIABLES", 5)
    async with connect_v201(port) as cp:
        await cp.boot()
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    # Kept: the first five, and what is derived from the whole report.
    assert len(diagnostics["configuration"]) == 5 + 2
    assert any("were not kept" in a["description"] for a in diagnostics["anomalies"])


async def test_reconnect_when_the_station_cannot_say(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """No answer to GetTransactionStatus, or a session begun on 1.6: it stays open."""
    setup_integration.runtime_data.central_system.boot_wait = 0.05
    async with connect_charge_point(port, charge_point_class=ConfiguredChargePoint) as old:
        await old.boot()
        await old.call(
            call16.StartTransaction(
                connector_id=1, id_tag="RESIDENT-7", meter_start=0, timestamp=stamp(0)
            ),
            suppress=False,
        )
    # The same charger on 2.0.1 now (reconnecting, no boot), with a 2.0.1 session too.
    async with connect_v201(port) as cp:
        cp.transaction_status_fails = True
        await cp.event("Started", "NEW", 1, evse=2, id_token="RESIDENT-7")
    async with connect_v201(port) as cp:
        cp.transaction_status_fails = True
        await async_wait_until(hass, lambda: asked(cp, "GetTransactionStatus"))
        await hass.async_block_till_done(wait_background_tasks=True)
    charge_point = setup_integration.runtime_data.charge_points["CP1"]
    assert charge_point.connector(1).transaction is not None
    assert charge_point.connector(2).transaction is not None
    assert asked(cp, "GetTransactionStatus") == [{"transaction_id": "NEW"}]


async def test_trigger_refused_with_an_error(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    """A station never booted here refuses to boot when asked: it is served all the same."""
    setup_integration.runtime_data.central_system.boot_wait = 0.05
    async with connect_v201(port, start=False) as cp:
        request = json.loads(await asyncio.wait_for(cp.connection.recv(), 5))
        assert request[2] == "TriggerMessage"
        await cp.connection.send(json.dumps([4, request[1], "NotSupported", "", {}]))
        assert (await cp.raw([2, "m2", "Heartbeat", {}]))[:2] == [3, "m2"]
