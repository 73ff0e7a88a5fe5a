"""The command actions over a real WebSocket: what each one puts on the wire, and to whom."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    CONF_ID_TAG,
    DOMAIN,
)
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import connect_charge_point
from .command_helpers import ScheduledChargePoint, act, commanded, device_id
from .conftest import Connect, listening_port
from .test_connection import connector_devices, device_named
from .test_sessions import start

PERIOD = [{"start_period": 0, "limit": 16.0}]


def requests(cp: ScheduledChargePoint) -> list[tuple[str, dict[str, Any]]]:
    """What the charger was asked after its boot (whose GetConfiguration is the server's own)."""
    asked = [("GetConfiguration", {"key": key}) for key in cp.configuration_requests[1:]]
    return [*cp.received, *asked]


@pytest.mark.parametrize(
    ("action", "data", "sent", "response"),
    [
        (
            "start_charging",
            {},
            ("RemoteStartTransaction", {"id_tag": "HomeAssistant", "connector_id": 1}),
            None,
        ),
        (
            "start_charging",
            {"id_tag": "CARD-1", "current_limit": 16},
            (
                "RemoteStartTransaction",
                {
                    "id_tag": "CARD-1",
                    "connector_id": 1,
                    "charging_profile": {
                        "charging_profile_id": 8999,
                        "stack_level": 4,
                        "charging_profile_purpose": "TxProfile",
                        "charging_profile_kind": "Relative",
                        "charging_schedule": {
                            "charging_rate_unit": "A",
                            "charging_schedule_period": PERIOD,
                        },
                    },
                },
            ),
            None,
        ),
        ("reset", {}, ("Reset", {"type": "Soft"}), None),
        ("reset", {"kind": "hard"}, ("Reset", {"type": "Hard"}), None),
        ("unlock", {}, ("UnlockConnector", {"connector_id": 1}), None),
        (
            "set_availability",
            {"available": False},
            ("ChangeAvailability", {"connector_id": 0, "type": "Inoperative"}),
            {"status": "Accepted"},
        ),
        (
            "set_availability",
            {"available": True, "connector_id": 1},
            ("ChangeAvailability", {"connector_id": 1, "type": "Operative"}),
            {"status": "Accepted"},
        ),
        (
            "get_configuration",
            {"keys": ["HeartbeatInterval", "Nope"]},
            ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}),
            {
                "configuration": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
                "unknown_keys": ["Nope"],
            },
        ),
        (
            "set_configuration",
            {"key": "MeterValueSampleInterval", "value": "10"},
            ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "10"}),
            {"status": "Accepted", "reboot_required": False},
        ),
        (
            "trigger_message",
            {"message": "MeterValues", "connector_id": 1},
            ("TriggerMessage", {"requested_message": "MeterValues", "connector_id": 1}),
            None,
        ),
        (
            "trigger_message",
            {"message": "Heartbeat"},
            ("TriggerMessage", {"requested_message": "Heartbeat"}),
            None,
        ),
        (
            "set_current_limit",
            {"current_limit": 16, "connector_id": 1},
            (
                "SetChargingProfile",
                {
                    "connector_id": 1,
                    "cs_charging_profiles": {
                        "charging_profile_id": 9001,
                        "stack_level": 4,
                        "charging_profile_purpose": "TxDefaultProfile",
                        "charging_profile_kind": "Relative",
                        "charging_schedule": {
                            "charging_rate_unit": "A",
                            "charging_schedule_period": PERIOD,
                        },
                    },
                },
            ),
            None,
        ),
        (
            "clear_charging_profile",
            {"purpose": "tx_default", "stack_level": 4, "profile_id": 9001},
            (
                "ClearChargingProfile",
                {"id": 9001, "charging_profile_purpose": "TxDefaultProfile", "stack_level": 4},
            ),
            {"status": "Accepted"},
        ),
        ("clear_charging_profile", {}, ("ClearChargingProfile", {}), {"status": "Accepted"}),
        (
            "get_composite_schedule",
            {"duration": 60, "unit": "A"},
            (
                "GetCompositeSchedule",
                {"connector_id": 0, "duration": 60, "charging_rate_unit": "A"},
            ),
            {
                "status": "Accepted",
                "connector_id": 0,
                "schedule_start": "2026-12-01T08:00:00Z",
                "charging_schedule": {
                    "duration": 60,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
                },
            },
        ),
        (
            "data_transfer",
            {"vendor_id": "acme", "message_id": "ping", "data": "x"},
            ("DataTransfer", {"vendor_id": "acme", "message_id": "ping", "data": "x"}),
            {"status": "Accepted", "data": "pong"},
        ),
        (
            "get_diagnostics",
            {
                "location": "ftp://example.invalid/",
                "start": "2026-12-01T08:00:00+00:00",
                "retries": 2,
                "retry_interval": 30,
            },
            (
                "GetDiagnostics",
                {
                    "location": "ftp://example.invalid/",
                    "retries": 2,
                    "retry_interval": 30,
                    "start_time": "2026-12-01T08:00:00.000Z",
                },
            ),
            {"file_name": "diag.zip"},
        ),
        (
            "update_firmware",
            {
                "location": "https://example.invalid/fw.bin",
                "retrieve_at": "2026-12-01T09:00:00+01:00",
            },
            (
                "UpdateFirmware",
                {
                    "location": "https://example.invalid/fw.bin",
                    "retrieve_date": "2026-12-01T08:00:00.000Z",
                },
            ),
            None,
        ),
        (
            "cancel_reservation",
            {"reservation_id": 5},
            ("CancelReservation", {"reservation_id": 5}),
            None,
        ),
    ],
)
async def test_each_action_reaches_its_charger_and_no_other(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    action: str,
    data: dict[str, Any],
    sent: tuple[str, dict[str, Any]],
    response: dict[str, Any] | None,
) -> None:
    async with commanded(connect, "/CP1") as cp1, commanded(connect, "/CP2") as cp2:
        for cp in (cp1, cp2):
            await cp.boot()
            await cp.status(1)
        await hass.async_block_till_done()
        result = await act(hass, action, device_id=device_id(hass, setup_integration), **data)
    assert requests(cp1) == [sent]
    assert requests(cp2) == []
    assert result == response


async def test_start_charging_uses_the_entrys_id_tag(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    hass.config_entries.async_update_entry(
        setup_integration, options={**setup_integration.options, CONF_ID_TAG: "HOUSE"}
    )
    async with commanded(connect) as cp:
        await cp.boot()
        await act(hass, "start_charging", device_id=device_id(hass, setup_integration))
    assert cp.received == [("RemoteStartTransaction", {"id_tag": "HOUSE", "connector_id": 1})]


async def test_charging_sessions_start_and_stop_where_they_run(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        assert parent is not None
        connector_2 = connector_devices(hass, parent)["Connector 2"].id
        # Nothing runs yet: nothing to stop.
        with pytest.raises(ServiceValidationError) as error:
            await act(hass, "stop_charging", device_id=parent.id)
        assert error.value.translation_key == "no_transaction"
        assert str(error.value) == (
            "No charging session is running on CP1 (or on the connector given)"
        )
        transaction = await start(cp, connector_id=2)
        await hass.async_block_till_done()
        # Connector 2 is busy; the charge point device finds the one session running.
        with pytest.raises(ServiceValidationError) as error:
            await act(hass, "start_charging", device_id=connector_2)
        assert error.value.translation_key == "transaction_running"
        assert error.value.translation_placeholders == {
            "charge_point": "CP1",
            "connector_id": "2",
            "transaction_id": str(transaction),
        }
        await act(hass, "start_charging", device_id=parent.id, connector_id=1)
        await act(hass, "stop_charging", device_id=parent.id)
        await act(hass, "stop_charging", device_id=connector_2)
        # Two sessions running and no connector named: which one is not a guess.
        await start(cp, connector_id=1)
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as error:
            await act(hass, "stop_charging", device_id=parent.id)
        assert error.value.translation_key == "connector_required"
        with pytest.raises(ServiceValidationError) as error:
            await act(hass, "start_charging", device_id=parent.id, connector_id=0)
        assert error.value.translation_key == "not_a_connector"
        # Several connectors, none named: the charger chooses where to start.
        cp.received.clear()
        await act(hass, "start_charging", device_id=parent.id, id_tag="X")
    assert cp.received == [("RemoteStartTransaction", {"id_tag": "X"})]


async def test_a_connector_device_names_its_connector(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        assert parent is not None
        connector_2 = connector_devices(hass, parent)["Connector 2"].id
        await act(hass, "unlock", device_id=connector_2)
        await act(hass, "unlock", device_id=connector_2, connector_id=2)
        await act(hass, "set_current_limit", device_id=connector_2, current_limit=6)
        await act(hass, "reserve", device_id=connector_2, id_tag="CARD", expiry="2026-12-01T08:00")
        cases = [
            (connector_2, {"connector_id": 1}, "connector_mismatch"),
            (parent.id, {"connector_id": 3}, "unknown_connector"),
            (parent.id, {}, "connector_required"),
        ]
        for target, extra, key in cases:
            with pytest.raises(ServiceValidationError) as error:
                await act(hass, "unlock", device_id=target, **extra)
            assert error.value.translation_key == key
        assert str(error.value) == (
            "CP1 has several connectors: choose a connector device or give a connector"
        )
    assert [payload["connector_id"] for _, payload in cp.received] == [2, 2, 2, 2]
    profile = cp.received[2][1]["cs_charging_profiles"]
    assert profile["charging_profile_id"] == 9002  # its own: no other connector's is replaced
    # A time without a zone is in HA's (US/Pacific in tests).
    assert cp.received[3][1]["expiry_date"] == "2026-12-01T16:00:00.000Z"


async def test_a_command_never_reaches_another_central_systems_charger(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    other = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={CONF_HEARTBEAT_INTERVAL: 60, CONF_ADMISSION_POLICY: "accept"},
        minor_version=MINOR_VERSION,
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    other_port = listening_port(other)
    async with (
        commanded(connect) as ours,
        connect_charge_point(other_port, "/CP1", charge_point_class=ScheduledChargePoint) as theirs,
    ):
        await ours.boot()
        await theirs.boot()
        await hass.async_block_till_done()
        await act(hass, "reset", device_id=device_id(hass, other))
    assert ours.received == []
    assert theirs.received == [("Reset", {"type": "Soft"})]


async def test_reservations_get_new_ids(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        target = device_id(hass, setup_integration)
        first = await act(hass, "reserve", device_id=target, id_tag="A", expiry="2026-12-01T08:00Z")
        second = await act(
            hass, "reserve", device_id=target, id_tag="B", expiry="2026-12-01T08:00Z"
        )
    assert first is not None and second is not None
    assert second["reservation_id"] == first["reservation_id"] + 1  # type: ignore[operator]
    assert [payload["reservation_id"] for _, payload in cp.received] == [
        first["reservation_id"],
        second["reservation_id"],
    ]
    assert [payload["connector_id"] for _, payload in cp.received] == [0, 0]  # any connector


async def test_concurrent_actions_on_one_charger_all_complete_in_order(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        cp.delay = 0.02
        target = device_id(hass, setup_integration)
        await asyncio.gather(
            *(act(hass, "cancel_reservation", device_id=target, reservation_id=n) for n in range(5))
        )
    assert [payload["reservation_id"] for _, payload in cp.received] == list(range(5))
