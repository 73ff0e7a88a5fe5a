"""Charge points connecting, misbehaving, reconnecting and going away, end to end.

Every test drives the real central system over a real WebSocket with an `ocpp`
library client and looks at what a user (or the charger) sees: HA states, the
device registry, replies on the wire, log lines, diagnostics and storage.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import json
import logging
import os
import socket
from typing import Any

from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus, RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)
from websockets.exceptions import InvalidStatus

from custom_components.levity_ocpp.const import CONF_HEARTBEAT_INTERVAL, DOMAIN

from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import Connect, async_wait_until, listening_port

CONNECTED = "binary_sensor.cp1_connectivity"
STATUS = "sensor.cp1_status"
CHARGE_POINT_STATUS = "sensor.cp1_charge_point_status"
LAST_HEARTBEAT = "sensor.cp1_last_heartbeat"


def device_named(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> dr.DeviceEntry | None:
    """The charge point device a user finds under this name."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next((device for device in devices if device.name == name), None)


def connector_devices(hass: HomeAssistant, parent: dr.DeviceEntry) -> dict[str, dr.DeviceEntry]:
    """The child devices of a charge point device, by name ("Connector 1", ...)."""
    children = dr.async_entries_for_parent_device(dr.async_get(hass), parent.id)
    return {child.name: child for child in children if child.name}


def entity_of(hass: HomeAssistant, device_id: str, translation_key: str) -> str:
    """The entity id of the entity of a device with this translation key (its name)."""
    entries = er.async_entries_for_device(er.async_get(hass), device_id)
    matches = [e.entity_id for e in entries if e.translation_key == translation_key]
    assert len(matches) == 1, (translation_key, [e.entity_id for e in entries])
    return matches[0]


def translation_keys_of(hass: HomeAssistant, device_id: str) -> set[str | None]:
    """What a device has (by name key), disabled entities included."""
    registry = er.async_get(hass)
    entries = er.async_entries_for_device(registry, device_id, include_disabled_entities=True)
    return {e.translation_key for e in entries}


def connectivity_of(hass: HomeAssistant, device_id: str) -> str:
    """The entity id of a charge point device's connectivity binary sensor."""
    entries = er.async_entries_for_device(er.async_get(hass), device_id)
    [entity_id] = [e.entity_id for e in entries if e.unique_id.endswith("_0_connected")]
    return entity_id


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    """The state of an entity, None if it has none."""
    return current.state if (current := hass.states.get(entity_id)) else None


def connect_configured(connect: Connect, path: str = "/CP1", **kwargs: Any) -> Any:
    """Connect a charge point that answers the central system's GetConfiguration."""
    return connect(path, charge_point_class=ConfiguredChargePoint, **kwargs)


# Which charge point a path names


@pytest.mark.parametrize(
    ("path", "charge_point_id"),
    [
        ("/CP1", "CP1"),
        ("/ws/CP1/", "CP1"),
        ("/any/prefix/CP1", "CP1"),
        ("/ocpp/CP%201", "CP 1"),
        ("/ocpp/CP1?token=abc", "CP1"),
        ("/" + "A" * 48, "A" * 48),  # CiString48: the longest id OCPP allows
    ],
)
async def test_charge_point_id_from_path(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    path: str,
    charge_point_id: str,
) -> None:
    async with connect_configured(connect, path) as cp:
        reply = await cp.boot()
        assert reply.status == RegistrationStatus.accepted
        await hass.async_block_till_done()

        device = device_named(hass, setup_integration, charge_point_id)
        assert device is not None
        assert device.manufacturer == "United Chargers"
        assert state(hass, connectivity_of(hass, device.id)) == STATE_ON


@pytest.mark.parametrize(
    "path",
    [
        "/",  # no id at all
        "/%20%20",  # only blanks
        "/" + "B" * 49,  # longer than CiString48
        "/CP%07",  # a control character
        "/CP%0A1",  # a newline
    ],
)
async def test_bad_charge_point_id_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(path):
            pass
    assert refused.value.response.status_code == 400
    assert "Refused connection" in caplog.text
    await hass.async_block_till_done()
    assert dr.async_entries_for_config_entry(dr.async_get(hass), setup_integration.entry_id) == []


async def test_newest_version_first_negotiates_ocpp16(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect, subprotocols=["ocpp2.0.1", "ocpp1.6"]) as cp:
        assert cp.connection.subprotocol == "ocpp1.6"
        assert (await cp.boot()).status == RegistrationStatus.accepted


async def test_no_subprotocol_works_as_ocpp16(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Grizzl-E and others offer no subprotocol at all."""
    async with connect_configured(connect, subprotocols=[]) as cp:
        assert cp.connection.subprotocol is None
        reply = await cp.boot()
        assert reply.status == RegistrationStatus.accepted
        assert reply.interval == 60
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert state(hass, CONNECTED) == STATE_ON
        assert state(hass, STATUS) == "preparing"


# One connection per charge point


async def test_duplicate_connection_replaces_previous(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connect_configured(connect) as first:
        await first.boot()
        await first.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "preparing"

        async with connect_configured(connect) as second:
            # The server closes the first socket, normally, saying why.
            async with asyncio.timeout(5):
                await first.connection.wait_closed()
            assert first.connection.close_code == 1000
            assert first.connection.close_reason == "replaced by a new connection"
            await hass.async_block_till_done()
            # The old socket going away is not the charger going away.
            assert state(hass, CONNECTED) == STATE_ON
            assert state(hass, STATUS) == "preparing"

            reply = await second.boot(firmware_version="2.0")
            assert reply.status == RegistrationStatus.accepted
            await second.status(1, ChargePointStatus.charging)
            await hass.async_block_till_done()
            assert state(hass, CONNECTED) == STATE_ON
            assert state(hass, STATUS) == "charging"
            assert device_named(hass, setup_integration, "CP1").sw_version == "2.0"
            assert "CP1 reconnected; closing its previous connection" in caplog.text
            assert "CP1 disconnected" not in caplog.text

        await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
        assert state(hass, STATUS) == STATE_UNAVAILABLE


async def _open_silent_websocket(
    port: int, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket whose peer has died: handshake done, then nothing, not even a close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    async with asyncio.timeout(5):
        response = await reader.readuntil(b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 101")
    return reader, writer


async def test_reconnect_served_at_once_when_old_socket_is_dead(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int, connect: Connect
) -> None:
    _, writer = await _open_silent_websocket(port, "/CP1")
    try:
        await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_ON)
        async with connect_configured(connect) as cp:
            async with asyncio.timeout(3):
                reply = await cp.boot()
            assert reply.status == RegistrationStatus.accepted
    finally:
        writer.close()


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_disconnect_and_reconnect(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(0)
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert state(hass, CONNECTED) == STATE_ON
        assert state(hass, STATUS) == "charging"
        assert state(hass, CHARGE_POINT_STATUS) == "available"

    await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
    assert state(hass, STATUS) == STATE_UNAVAILABLE
    assert state(hass, CHARGE_POINT_STATUS) == STATE_UNAVAILABLE
    disconnects = [r for r in caplog.records if "CP1 disconnected" in r.getMessage()]
    assert len(disconnects) == 1

    async with connect_configured(connect) as cp:
        await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_ON)
        await cp.boot()
        await cp.status(1, ChargePointStatus.finishing)
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "finishing"
        assert state(hass, CHARGE_POINT_STATUS) == "available"


# Broken and odd frames


def _is_error(reply: list[Any], unique_id: str, code: str) -> bool:
    return (
        len(reply) == 5
        and reply[0] == 4
        and reply[1] == unique_id
        and reply[2] == code
        and isinstance(reply[3], str)
        and isinstance(reply[4], dict)
    )


MALFORMED: list[tuple[str | list[Any] | dict[str, Any], str, str]] = [
    # (frame, unique id the error must carry, OCPP 1.6 error code)
    ("this is not JSON", "-1", "FormationViolation"),
    ('[2, "cut", "Heartbeat", {', "-1", "FormationViolation"),
    ({"messageTypeId": 2}, "-1", "ProtocolError"),
    ([2, "id1"], "id1", "ProtocolError"),
    (
        [2, "id2", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "x"}],
        "id2",
        "TypeConstraintViolation",
    ),
    (
        [
            2,
            "id2b",
            "BootNotification",
            {"chargePointVendor": "a", "chargePointModel": "x", "colour": "red"},
        ],
        "id2b",
        "FormationViolation",
    ),
    # "Payload for Action is incomplete" (OCPP-J 1.6 §4.2.3): ProtocolError.
    ([2, "id2c", "BootNotification", {"chargePointVendor": "a"}], "id2c", "ProtocolError"),
    ([2, "id3", 42, {}], "id3", "ProtocolError"),
    ([2, "id3b", "Heartbeat", []], "id3b", "ProtocolError"),
    ([2, 17, "Heartbeat", {}], "-1", "ProtocolError"),
    ([2, "x" * 37, "Heartbeat", {}], "-1", "ProtocolError"),
    ([7, "id4"], "id4", "PropertyConstraintViolation"),
    (
        [
            2,
            "id6",
            "StatusNotification",
            {"connectorId": 99, "errorCode": "NoError", "status": "Available"},
        ],
        "id6",
        "PropertyConstraintViolation",
    ),
    (
        [
            2,
            "id7",
            "StatusNotification",
            {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
        ],
        "id7",
        "PropertyConstraintViolation",
    ),
    # A value the schema does not allow: "at least one field contains an invalid value"
    # (the library would say FormatViolation).
    (
        [
            2,
            "id8",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
        ],
        "id8",
        "PropertyConstraintViolation",
    ),
    # A list shorter than the schema allows: occurrence constraint (1.6 spells it Occurence).
    (
        [2, "id8b", "MeterValues", {"connectorId": 1, "meterValue": []}],
        "id8b",
        "OccurenceConstraintViolation",
    ),
    (
        [
            2,
            "st0",
            "StartTransaction",
            {"connectorId": 0, "idTag": "T", "meterStart": 0, "timestamp": "2026-03-01T10:00:00Z"},
        ],
        "st0",
        "PropertyConstraintViolation",
    ),
    # Unreadable charger timestamps where they are the truth (JSON schema "format" is not
    # checked by the library, the handlers check them).
    (
        [
            2,
            "st1",
            "StartTransaction",
            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"},
        ],
        "st1",
        "FormationViolation",
    ),
    (
        [2, "sp1", "StopTransaction", {"meterStop": 0, "timestamp": "soon", "transactionId": 5}],
        "sp1",
        "FormationViolation",
    ),
    (
        [
            2,
            "mv1",
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": "now", "sampledValue": [{"value": "1"}]}],
            },
        ],
        "mv1",
        "FormationViolation",
    ),
]


async def test_malformed_frames_answered_while_others_keep_working(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with (
        connect("/CP1", start=False) as broken,
        connect_configured(connect, "/CP2") as healthy,
    ):
        for number, (frame, unique_id, code) in enumerate(MALFORMED):
            text = frame if isinstance(frame, str) else json.dumps(frame)
            reply = await broken.raw(text)
            assert _is_error(reply, unique_id, code), (frame, reply)
            # The connection survives and still answers.
            heartbeat = await broken.raw([2, f"hb{number}", "Heartbeat", {}])
            assert heartbeat[:2] == [3, f"hb{number}"]
            assert "currentTime" in heartbeat[2]
            if number == 3:
                # Meanwhile another charger goes about its business.
                assert (await healthy.boot()).status == RegistrationStatus.accepted
                await healthy.status(1, ChargePointStatus.charging)

        await hass.async_block_till_done()
        assert state(hass, "sensor.cp2_status") == "charging"
        assert state(hass, "binary_sensor.cp2_connectivity") == STATE_ON
        assert state(hass, CONNECTED) == STATE_ON
        # Out-of-range connector ids created no connectors (connector 1 is real, so
        # still a single-connector charger without connector devices).
        cp1 = device_named(hass, setup_integration, "CP1")
        assert dr.async_entries_for_parent_device(dr.async_get(hass), cp1.id) == []
        assert not [entity_id for entity_id in hass.states.async_entity_ids() if "99" in entity_id]
    # A charger's bad input is its fault, not ours: warnings, no error tracebacks.
    errors = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name.startswith("custom_components")
    ]
    assert not errors


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("FooBar", {}, "NotImplemented"),  # not an OCPP 1.6 action at all
        ("SignCertificate", {"csr": "-----BEGIN CERTIFICATE REQUEST-----"}, "NotSupported"),
        ("LogStatusNotification", {"status": "Idle"}, "NotSupported"),
    ],
)
async def test_unknown_and_unsupported_actions(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    action: str,
    payload: dict[str, Any],
    code: str,
) -> None:
    async with connect("/CP1", start=False) as cp:
        reply = await cp.raw([2, "a1", action, payload])
        assert reply[:2] == [4, "a1"]
        # Whatever the code, the connection goes on.
        assert (await cp.raw([2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]
        assert reply[2] == code


async def test_unknown_and_unsupported_actions_get_an_error(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Whatever their code, unknown actions get a CALLERROR with the CALL's id."""
    async with connect("/CP1", start=False) as cp:
        for action in ("FooBar", "SignCertificate", "LogStatusNotification"):
            reply = await cp.raw([2, f"id-{action}", action, {}])
            assert reply[:2] == [4, f"id-{action}"]
            assert reply[2] in ("NotImplemented", "NotSupported")
        assert (await cp.raw([2, "hb", "Heartbeat", {}]))[:2] == [3, "hb"]


async def test_simple_requests_answered(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", start=False) as cp:
        assert await cp.raw([2, "1", "Authorize", {"idTag": "CARD1"}]) == [
            3,
            "1",
            {"idTagInfo": {"status": "Accepted"}},
        ]
        assert await cp.raw([2, "2", "DataTransfer", {"vendorId": "com.example"}]) == [
            3,
            "2",
            {"status": "UnknownVendorId"},
        ]
        assert await cp.raw([2, "3", "FirmwareStatusNotification", {"status": "Installed"}]) == [
            3,
            "3",
            {},
        ]
        assert await cp.raw([2, "4", "DiagnosticsStatusNotification", {"status": "Uploaded"}]) == [
            3,
            "4",
            {},
        ]


# Heartbeat


async def test_heartbeat_answered_and_last_heartbeat_sensor(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        before = dt_util.utcnow()
        reply = await cp.call(call.Heartbeat(), suppress=False)
        current_time = datetime.fromisoformat(reply.current_time)
        assert current_time.utcoffset().total_seconds() == 0
        assert reply.current_time.endswith("Z")
        assert abs((current_time - before).total_seconds()) < 5

    # The sensor is disabled by default; a user enables it, HA reloads the entry.
    registry = er.async_get(hass)
    assert registry.async_get(LAST_HEARTBEAT).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(LAST_HEARTBEAT) is None
    registry.async_update_entity(LAST_HEARTBEAT, disabled_by=None)
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=RELOAD_AFTER_UPDATE_DELAY + 1)
    )
    await async_wait_until(hass, lambda: hass.states.get(LAST_HEARTBEAT) is not None)
    assert setup_integration.state is ConfigEntryState.LOADED

    async with connect_charge_point(
        listening_port(setup_integration), "/CP1", charge_point_class=ConfiguredChargePoint
    ) as cp:
        await cp.boot()
        await hass.async_block_till_done()
        first = hass.states.get(LAST_HEARTBEAT)
        assert first.state != STATE_UNAVAILABLE
        reply = await cp.call(call.Heartbeat(), suppress=False)
        await hass.async_block_till_done()
        sent = datetime.fromisoformat(reply.current_time)
        shown = datetime.fromisoformat(hass.states.get(LAST_HEARTBEAT).state)
        assert abs((shown - sent).total_seconds()) < 1
        assert hass.states.get(LAST_HEARTBEAT).attributes["device_class"] == "timestamp"


# Configuration, diagnostics


async def test_configuration_fetched_and_diagnostics_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot(charge_box_serial_number="SN-0042", iccid="8931")
        # The central system asked for every key (no key list).
        assert cp.configuration_requests == [None]
        authorized = await cp.call(call.Authorize(id_tag="SECRET"), suppress=False)
        assert authorized.id_tag_info["status"] == "Accepted"
        await cp.status(1, ChargePointStatus.available)
        await hass.async_block_till_done()

        device = device_named(hass, setup_integration, "CP1")
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
        entry_diagnostics = await get_diagnostics_for_config_entry(
            hass, hass_client, setup_integration
        )

    assert diagnostics["vendor"] == "United Chargers"
    assert diagnostics["serial_number"] == "**REDACTED**"
    assert diagnostics["iccid"] == "**REDACTED**"
    configuration = diagnostics["configuration"]
    assert configuration["AuthorizationKey"]["value"] == "**REDACTED**"
    assert configuration["NumberOfConnectors"] == {"value": "2", "readonly": True}
    assert configuration["HeartbeatInterval"]["value"] == "60"

    frames = diagnostics["frames"]
    assert {frame["direction"] for frame in frames} == {"received", "sent"}
    texts = [frame["frame"] for frame in frames]
    assert any('"BootNotification"' in text for text in texts)
    assert any('"GetConfiguration"' in text for text in texts)
    [authorize] = [text for text in texts if '"Authorize"' in text]
    assert '"idTag":"**REDACTED**"' in authorize
    assert "SECRET" not in json.dumps(diagnostics)

    [connection] = diagnostics["connections"]
    assert connection["path"] == "/**REDACTED**"  # the id identifies the charger
    assert connection["subprotocol"] == "ocpp1.6"
    assert connection["remote_address"] == "**REDACTED**"
    assert connection["connected_at"]
    assert connection["disconnected_at"] is None
    assert diagnostics["connected"] is True

    [summary] = entry_diagnostics["charge_points"].values()
    assert summary["connected"] is True
    assert summary["vendor"] == "United Chargers"
    assert summary["connectors"] == [1]
    assert entry_diagnostics["listening_port"] == listening_port(setup_integration)


async def test_diagnostics_frame_log_leaks_no_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot(charge_box_serial_number="SN-0042", iccid="8931", imsi="2620")
        device = device_named(hass, setup_integration, "CP1")
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    assert any('"GetConfiguration"' in frame["frame"] for frame in diagnostics["frames"])
    dumped = json.dumps(diagnostics)
    for secret in ("0123456789abcdef", "SN-0042", "8931", "2620"):
        assert secret not in dumped, secret


async def test_diagnostics_keep_connection_history(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect, "/ocpp/CP1") as cp:
        await cp.boot()
    await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
    async with connect_configured(connect, "/CP1", subprotocols=["ocpp2.0.1", "ocpp1.6"]) as cp:
        await cp.boot()
        device = device_named(hass, setup_integration, "CP1")
        diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    first, second = diagnostics["connections"]
    assert first["path"] == "/ocpp/**REDACTED**"
    assert first["subprotocol"] == "ocpp1.6"
    assert first["disconnected_at"] is not None
    assert second["path"] == "/**REDACTED**"
    assert second["subprotocol"] == "ocpp1.6"
    assert second["disconnected_at"] is None


# Connectors


async def test_connector_device_diagnostics_are_its_chargers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2, ChargePointStatus.charging)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        connector_2 = connector_devices(hass, parent)["Connector 2"]
        diagnostics = await get_diagnostics_for_device(
            hass, hass_client, setup_integration, connector_2
        )
    assert diagnostics["connector_id"] == 2
    assert diagnostics["id"] == "**REDACTED**"
    assert diagnostics["vendor"] == "United Chargers"
    assert diagnostics["connected"] is True


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_multi_connector_charger_gets_connector_devices(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with (
        connect_configured(connect, "/CP1") as twin,
        connect_configured(connect, "/CP2") as single,
    ):
        await twin.boot()
        await twin.status(0)
        await twin.status(1, ChargePointStatus.charging)
        await twin.status(2, ChargePointStatus.preparing)
        await single.boot()
        await single.status(0)
        await single.status(1, ChargePointStatus.suspended_ev)
        await hass.async_block_till_done()

        device_registry = dr.async_get(hass)
        parent = device_named(hass, setup_integration, "CP1")
        children = connector_devices(hass, parent)
        assert set(children) == {"Connector 1", "Connector 2"}
        status_1 = entity_of(hass, children["Connector 1"].id, "connector_status")
        status_2 = entity_of(hass, children["Connector 2"].id, "connector_status")
        assert status_1 != status_2
        assert state(hass, status_1) == "charging"
        assert state(hass, status_2) == "preparing"
        # The charger-wide entities stay on the charge point's device.
        assert state(hass, entity_of(hass, parent.id, "charge_point_status")) == "available"
        assert state(hass, connectivity_of(hass, parent.id)) == STATE_ON

        await twin.status(2, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert state(hass, status_1) == "charging"
        assert state(hass, status_2) == "charging"

        # A single-connector charger keeps its connector status on its own device.
        cp2 = device_named(hass, setup_integration, "CP2")
        assert dr.async_entries_for_parent_device(device_registry, cp2.id) == []
        assert state(hass, entity_of(hass, cp2.id, "connector_status")) == "suspended_ev"

    await async_wait_until(hass, lambda: state(hass, status_1) == STATE_UNAVAILABLE)
    assert state(hass, status_2) == STATE_UNAVAILABLE


async def test_second_connector_moves_all_connector_1_entities(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        assert "connector_status" in translation_keys_of(hass, parent.id)

        await cp.status(2)
        await hass.async_block_till_done()
        children = connector_devices(hass, parent)
        on_parent = translation_keys_of(hass, parent.id)
        on_connector_1 = translation_keys_of(hass, children["Connector 1"].id)
        on_connector_2 = translation_keys_of(hass, children["Connector 2"].id)
    # Connector 2 was born a child device: it shows what a connector has.
    assert "connector_status" in on_connector_2
    # Connector 1 moved there with everything, enabled or not; nothing of it stayed.
    assert on_connector_1 == on_connector_2
    assert not on_parent & on_connector_2


def friendly_name(hass: HomeAssistant, entity_id: str) -> str | None:
    """The name a user sees for an entity."""
    return (
        current.attributes.get("friendly_name") if (current := hass.states.get(entity_id)) else None
    )


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_entities_are_named_after_their_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Entity ids and names come from the device, and follow the user renaming it."""
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        assert entity_of(hass, parent.id, "connector_status") == STATUS
        assert friendly_name(hass, STATUS) == "CP1 Status"
        assert friendly_name(hass, CHARGE_POINT_STATUS) == "CP1 Charge point status"

        dr.async_get(hass).async_update_device(parent.id, name_by_user="Garage")
        await hass.async_block_till_done()
        assert friendly_name(hass, STATUS) == "Garage Status"
        assert friendly_name(hass, CHARGE_POINT_STATUS) == "Garage Charge point status"
        # A status after the rename writes the new name too; the entity id stays.
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "charging"
        assert friendly_name(hass, STATUS) == "Garage Status"


async def test_renamed_entity_stays_on_its_connector_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """A connector 1 entity moved to its connector's device stays there when renamed."""
    registry = er.async_get(hass)
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        await cp.status(2)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        connector_1 = connector_devices(hass, parent)["Connector 1"]
        assert entity_of(hass, connector_1.id, "connector_status") == STATUS
        assert friendly_name(hass, STATUS) == "Connector 1 Status"

        registry.async_update_entity(STATUS, new_entity_id="sensor.garage_left")
        await hass.async_block_till_done()
        renamed = registry.async_get("sensor.garage_left")
        assert renamed is not None
        assert renamed.device_id == connector_1.id
        assert state(hass, "sensor.garage_left") == "charging"
        assert friendly_name(hass, "sensor.garage_left") == "Connector 1 Status"
        await cp.status(1, ChargePointStatus.finishing)
        await hass.async_block_till_done()
        assert state(hass, "sensor.garage_left") == "finishing"
        assert hass.states.get(STATUS) is None


async def test_stale_status_does_not_overwrite_newer(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging, timestamp="2026-03-01T10:00:00Z")
        # Queued while offline, delivered late: older than what we know.
        await cp.status(1, ChargePointStatus.preparing, timestamp="2026-03-01T09:59:00Z")
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "charging"
        # Same instant, written with an offset and no 'Z': still not older.
        await cp.status(1, ChargePointStatus.finishing, timestamp="2026-03-01T11:00:00+01:00")
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "finishing"
        # Newer wins.
        await cp.status(1, ChargePointStatus.available, timestamp="2026-03-01T10:05:00Z")
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "available"


# The entry's lifecycle


async def test_unload_closes_sockets_and_stops_listening(
    hass: HomeAssistant, setup_integration: MockConfigEntry, port: int, connect: Connect
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "available"
        assert await hass.config_entries.async_unload(setup_integration.entry_id)
        assert setup_integration.state is ConfigEntryState.NOT_LOADED
        async with asyncio.timeout(5):
            await cp.connection.wait_closed()
        assert cp.connection.close_code == 1001  # going away

    with pytest.raises(ConnectionRefusedError):
        async with connect_charge_point(port, "/CP1"):
            pass
    # Unloaded: no stale value (HA removes the state, or marks it unavailable once
    # its registry has written restored states), and the entity stays registered.
    assert state(hass, STATUS) in (None, STATE_UNAVAILABLE)
    assert er.async_get(hass).async_get(STATUS) is not None


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_restart_keeps_known_charge_points(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = setup_integration
    async with connect_configured(connect) as cp:
        await cp.boot(firmware_version="1.2.3", charge_box_serial_number="SN-7")
        await cp.status(0)
        await cp.status(1, ChargePointStatus.suspended_ev)
        await hass.async_block_till_done()
        # HA stops while the charger is connected: the entry unloads and saves.
        assert await hass.config_entries.async_unload(entry.entry_id)

    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}.charge_points"]["data"]["charge_points"]
    assert [item["id"] for item in saved] == ["CP1"]
    assert saved[0]["vendor"] == "United Chargers"

    caplog.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Its device is looked up with what HA supports, not a deprecated call it warns of.
    assert "deprecated" not in caplog.text
    # Before the charger is back: known, with its identity, but offline.
    device = device_named(hass, entry, "CP1")
    assert device.manufacturer == "United Chargers"
    assert device.model == "Grizzl-E"
    assert device.sw_version == "1.2.3"
    assert device.serial_number == "SN-7"
    assert state(hass, CONNECTED) == STATE_OFF
    assert state(hass, STATUS) == STATE_UNAVAILABLE
    assert state(hass, CHARGE_POINT_STATUS) == STATE_UNAVAILABLE

    async with connect_charge_point(
        listening_port(entry), "/CP1", charge_point_class=ConfiguredChargePoint
    ) as cp:
        await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_ON)
        # Until it says otherwise, the last known status is shown again.
        assert state(hass, STATUS) == "suspended_ev"
        await cp.boot(firmware_version="1.2.4")
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert state(hass, STATUS) == "charging"
        assert state(hass, CHARGE_POINT_STATUS) == "available"
        assert device_named(hass, entry, "CP1").sw_version == "1.2.4"
        # Still one device for the charge point, not a second one.
        names = [
            d.name for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        ]
        assert names == ["CP1"]


async def test_restart_keeps_connector_devices(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.charging)
        await cp.status(2, ChargePointStatus.available)
        await hass.async_block_till_done()
    await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
    before = {
        e.entity_id: e.device_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.disabled_by is None
    }

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    parent = device_named(hass, entry, "CP1")
    children = connector_devices(hass, parent)
    assert set(children) == {"Connector 1", "Connector 2"}
    after = {
        e.entity_id: e.device_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.disabled_by is None
    }
    assert after == before  # same entities, on the same devices, none added
    status_1 = entity_of(hass, children["Connector 1"].id, "connector_status")
    assert state(hass, status_1) == STATE_UNAVAILABLE

    async with connect_charge_point(
        listening_port(entry), "/CP1", charge_point_class=ConfiguredChargePoint
    ) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.finishing)
        await hass.async_block_till_done()
        assert state(hass, status_1) == "finishing"
        assert state(hass, entity_of(hass, children["Connector 2"].id, "connector_status")) == (
            "available"
        )


async def test_removing_the_entry_forgets_its_charge_points(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    entry = setup_integration
    async with connect_configured(connect) as cp:
        await cp.boot()
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = f"{DOMAIN}.{entry.entry_id}.charge_points"
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert not any(name.startswith(f"{DOMAIN}.{entry.entry_id}") for name in hass_storage)
    assert device_named(hass, entry, "CP1") is None


type RemoveDevice = Callable[[str], Awaitable[dict[str, Any]]]


@pytest.fixture
async def remove_device(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> RemoveDevice:
    """Remove a device as the UI does; returns the websocket response."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {"type": "config/device_registry/remove", "device_id": device_id}
        )
        return await client.receive_json()

    return remove


async def test_a_charger_removed_while_its_configuration_is_read_stays_removed(
    hass: HomeAssistant,
    remove_device: RemoveDevice,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    """The core reporting its configuration after the removal brings back nothing.

    (The GetConfiguration answer, read after its boot, can be handled just after the
    user removed it: the core's hook then reaches HA for a charger it no longer has.)
    """
    entry = setup_integration
    async with connect_configured(connect) as cp:
        await cp.boot()
        await hass.async_block_till_done()
        model = entry.runtime_data.charge_points["CP1"]
        device = device_named(hass, entry, "CP1")
        assert device is not None
        assert (await remove_device(device.id))["success"]
        await asyncio.wait_for(cp.connection.wait_closed(), 5)
        await hass.async_block_till_done()
    entry.runtime_data.charge_point_configured(model)
    await hass.async_block_till_done()
    assert device_named(hass, entry, "CP1") is None
    assert er.async_get(hass).async_get(CONNECTED) is None


async def test_removing_a_connected_charge_point_closes_its_connection(
    hass: HomeAssistant,
    remove_device: RemoveDevice,
    hass_storage: dict[str, Any],
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    entry = setup_integration

    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        device = device_named(hass, entry, "CP1")
        response = await remove_device(device.id)
        assert response["success"]
        # Unknown from now on: its connection is closed, it must connect anew.
        await asyncio.wait_for(cp.connection.wait_closed(), 5)
        assert cp.connection.close_code == 1000
        await hass.async_block_till_done()
        assert device_named(hass, entry, "CP1") is None
        assert er.async_get(hass).async_get(CONNECTED) is None
        assert hass.states.get(CONNECTED) is None
        assert "CP1" not in entry.runtime_data.charge_points

    # Forgotten for good: not brought back by a restart.
    assert await hass.config_entries.async_unload(entry.entry_id)
    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}.charge_points"]["data"]["charge_points"]
    assert saved == []
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert device_named(hass, entry, "CP1") is None


async def test_removed_charge_point_comes_back_when_it_reconnects(
    hass: HomeAssistant,
    remove_device: RemoveDevice,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
    await async_wait_until(hass, lambda: state(hass, CONNECTED) == STATE_OFF)
    device = device_named(hass, setup_integration, "CP1")
    assert (await remove_device(device.id))["success"]
    await hass.async_block_till_done()

    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.preparing)
        await hass.async_block_till_done()
        device = device_named(hass, setup_integration, "CP1")
        assert device is not None
        assert device.manufacturer == "United Chargers"
        assert state(hass, connectivity_of(hass, device.id)) == STATE_ON
        assert state(hass, entity_of(hass, device.id, "connector_status")) == "preparing"


async def test_renamed_entity_is_not_added_twice(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Renaming removes and re-adds the entity; it must not look missing afterwards."""
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        er.async_get(hass).async_update_entity(STATUS, new_entity_id="sensor.garage_status")
        await hass.async_block_till_done()
        # A measurand not seen before on the connector: platforms add what is missing.
        temperature = {"value": "31.5", "measurand": "Temperature", "unit": "Celsius"}
        meter_value = [{"timestamp": "2026-11-01T10:00:00Z", "sampledValue": [temperature]}]
        await cp.call(call.MeterValues(connector_id=1, meter_value=meter_value), suppress=False)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.garage_status") is not None
    assert "does not generate unique IDs" not in caplog.text


async def test_connector_device_of_connected_charger_not_removable(
    hass: HomeAssistant,
    remove_device: RemoveDevice,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    async with connect_configured(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await cp.status(2)
        await hass.async_block_till_done()
        parent = device_named(hass, setup_integration, "CP1")
        connector_1 = connector_devices(hass, parent)["Connector 1"]
        status_1 = entity_of(hass, connector_1.id, "connector_status")
        response = await remove_device(connector_1.id)
        await cp.status(1, ChargePointStatus.charging)
        await hass.async_block_till_done()
        assert not response["success"]
        assert state(hass, status_1) == "charging"


async def test_setup_retries_when_port_is_taken(
    hass: HomeAssistant, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        entry = MockConfigEntry(
            domain=DOMAIN,
            data={CONF_HOST: "127.0.0.1", CONF_PORT: taken},
            options={CONF_HEARTBEAT_INTERVAL: 60},
        )
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert f"127.0.0.1:{taken}" in (entry.reason or caplog.text)
