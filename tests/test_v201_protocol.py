"""OCPP 2.0.1 on the wire: negotiation, a 1.6 charger beside a 2.0.1 one, events, errors."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v16 import call as call16
from ocpp.v16.enums import ChargePointStatus
from ocpp.v201 import call
from ocpp.v201.enums import ConnectorStatusEnumType as Status
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT

from .client import ConfiguredChargePoint, connect_charge_point
from .client_v201 import connect_v201, meter, sampled, stamp
from .test_v201 import charge_point_device, get_sessions


async def pin(
    hass: HomeAssistant, entry: MockConfigEntry, charge_point_id: str, version: str
) -> None:
    """Add the charge point with its OCPP version chosen, as a user does."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "charge_point_id": charge_point_id,
            "authorization": "any_tag",
            "ocpp_version": version,
            "validate_schema": True,
            "websocket_ping": True,
            "subprotocol_optional": False,
        },
    )
    await hass.async_block_till_done()


async def negotiated(port: int, offered: list[str], path: str = "/CP1") -> str | None:
    async with connect(f"ws://127.0.0.1:{port}{path}", subprotocols=offered) as websocket:  # type: ignore[arg-type]
        return websocket.subprotocol


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], "ocpp1.6"),  # both: 1.6 by default, whatever the order
        (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.1", "ocpp2.0.1"], "ocpp2.0.1"),
    ],
)
async def test_negotiation_prefers_1_6(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    offered: list[str],
    chosen: str,
) -> None:
    assert await negotiated(port, offered) == chosen


async def test_version_pinned_per_charger(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    await pin(hass, setup_integration, "CP1", "ocpp2.0.1")
    assert await negotiated(port, ["ocpp1.6", "ocpp2.0.1"]) == "ocpp2.0.1"
    # Another charger is not pinned.
    assert await negotiated(port, ["ocpp1.6", "ocpp2.0.1"], "/CP2") == "ocpp1.6"
    # Pinned to a version it does not offer: refused, saying why.
    async with connect(f"ws://127.0.0.1:{port}/CP1", subprotocols=["ocpp1.6"]) as websocket:  # type: ignore[list-item]
        assert websocket.subprotocol is None
        with pytest.raises(ConnectionClosedError):
            await websocket.recv()
    assert websocket.close_code == 1002
    await pin(hass, setup_integration, "CP3", "ocpp1.6")
    assert await negotiated(port, ["ocpp2.0.1", "ocpp1.6"], "/CP3") == "ocpp1.6"


async def test_1_6_and_2_0_1_side_by_side(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int
) -> None:
    async with (
        connect_charge_point(port, "/OLD", charge_point_class=ConfiguredChargePoint) as old,
        connect_v201(port, "/NEW") as new,
    ):
        await old.boot()
        await new.boot()
        await old.status(1, ChargePointStatus.charging)
        await new.status(1, Status.occupied)
        reply = await old.call(
            call16.StartTransaction(
                connector_id=1, id_tag="RESIDENT-7", meter_start=500_000, timestamp=stamp(0)
            ),
            suppress=False,
        )
        await new.event(
            "Started",
            "new-1",
            0,
            id_token="RESIDENT-8",
            charging_state="Charging",
            meter=[meter(0, *sampled(20_000, context="Transaction.Begin"))],
        )
        await hass.async_block_till_done()
        # The same entities with the same meaning.
        assert hass.states.get("sensor.old_status").state == "charging"
        assert hass.states.get("sensor.new_status").state == "charging"
        await old.call(
            call16.StopTransaction(
                meter_stop=507_000, timestamp=stamp(30), transaction_id=reply.transaction_id
            ),
            suppress=False,
        )
        await new.event("Ended", "new-1", 30, meter=[meter(30, *sampled(26_500))])
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get("sensor.old_session_energy").state == "7.0"
        assert hass.states.get("sensor.new_session_energy").state == "6.5"
    sessions = {session["charge_point_id"]: session for session in await get_sessions(hass)}
    assert sessions["OLD"]["charger_transaction_id"] is None
    assert sessions["NEW"]["charger_transaction_id"] == "new-1"
    # Session numbers are the central system's own, never shared.
    assert sessions["OLD"]["transaction_id"] != sessions["NEW"]["transaction_id"]


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_security_event_data_transfer_and_monitoring(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    hass_client: ClientSessionGenerator,
) -> None:
    security = async_capture_events(hass, f"{DOMAIN}_security_event")
    transfers = async_capture_events(hass, f"{DOMAIN}_data_transfer")
    firmware = async_capture_events(hass, f"{DOMAIN}_firmware_status")
    async with connect_v201(port) as cp:
        await cp.boot()
        await cp.call(
            call.SecurityEventNotification(
                type="InvalidCsmsCertificate", timestamp=stamp(1), tech_info="expired"
            ),
            suppress=False,
        )
        reply = await cp.call(
            call.DataTransfer(vendor_id="com.elecq", message_id="Tariff", data={"eur": 0.3}),
            suppress=False,
        )
        assert reply.status == "UnknownVendorId"
        await cp.call(
            call.NotifyEvent(
                generated_at=stamp(2),
                seq_no=0,
                event_data=[
                    {
                        "event_id": n,
                        "timestamp": stamp(2),
                        "trigger": "Alerting",
                        "actual_value": "Faulted",
                        "tech_code": "E42",
                        "event_notification_type": "HardWiredNotification",
                        "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
                        "variable": {"name": "AvailabilityState"},
                    }
                    for n in range(25)
                ],
            ),
            suppress=False,
        )
        await cp.call(call.FirmwareStatusNotification(status="InvalidSignature"), suppress=False)
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        assert hass.states.get("sensor.cp1_firmware_update").state == "installation_failed"
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    (event,) = security
    assert event.data["type"] == "InvalidCsmsCertificate"
    assert event.data["tech_info"] == "expired"
    assert event.data["device_id"] == device.id
    assert transfers[0].data["data"] == {"eur": 0.3}
    assert firmware[0].data == {
        "charge_point_id": "CP1",
        "device_id": device.id,
        "status": "InstallationFailed",
        "reported_status": "InvalidSignature",
    }
    events = diagnostics["reported_events"]
    assert events[0]["kind"] == "security"
    monitoring = [e for e in events if e["kind"] == "monitoring"]
    # Bounded: 20 of one message, and a count of the rest.
    assert len(monitoring) == 21
    assert monitoring[0]["tech_code"] == "E42"
    assert monitoring[-1]["skipped"] == 5


AT = "2026-11-01T10:00:00Z"
BROKEN_READING = {
    "evseId": 1,
    "meterValue": [{"timestamp": "soon", "sampledValue": [{"value": 1}]}],
}
NO_SUCH_EVSE = {"timestamp": AT, "connectorStatus": "Available", "evseId": 4000, "connectorId": 1}
NO_SUCH_CONNECTOR = {**NO_SUCH_EVSE, "evseId": 1, "connectorId": 0}
NEW_WITHOUT_EVSE = {
    "eventType": "Updated",
    "timestamp": AT,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 3,
    "transactionInfo": {"transactionId": "X"},
}
LIMIT = {"chargingLimit": {"chargingLimitSource": "EMS"}}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        # Not an action of 2.0.1 at all / one this central system does not handle.
        ([2, "a1", "StartTransaction", {}], "NotImplemented"),
        ([2, "a2", "NotifyChargingLimit", LIMIT], "NotSupported"),
        ([2, "a3", "MeterValues", BROKEN_READING], "FormatViolation"),
        ([2, "a4", "StatusNotification", NO_SUCH_EVSE], "PropertyConstraintViolation"),
        ([2, "a6", "StatusNotification", NO_SUCH_CONNECTOR], "PropertyConstraintViolation"),
        ([2, "a5", "TransactionEvent", NEW_WITHOUT_EVSE], "OccurrenceConstraintViolation"),
    ],
)
async def test_what_is_not_handled_gets_the_right_callerror(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int, frame: list[Any], code: str
) -> None:
    async with connect_v201(port, start=False) as cp:
        answer = await cp.raw(frame)
    assert answer[:3] == [4, frame[1], code]


async def test_ended_for_an_unknown_transaction(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    hass_client: ClientSessionGenerator,
) -> None:
    async with connect_v201(port) as cp:
        await cp.boot()
        reply = await cp.event("Ended", "NEVER-SEEN", 5, meter=[meter(5, *sampled(9_000))])
        assert reply.id_token_info is None
        await hass.async_block_till_done()
        device = charge_point_device(hass, setup_integration)
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    assert await get_sessions(hass) == []
    assert any("NEVER-SEEN" in a["description"] for a in diagnostics["anomalies"])
    assert dr.async_get(hass).async_get(device.id) is not None
