"""Hostile and broken input end to end: each answered as stated while another charger charges.

Real server, real sockets, Home Assistant around it: what a user sees (devices,
sessions, diagnostics, the log, repair issues) and what the misbehaving client
gets on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from ocpp.v16.enums import ChargePointStatus, RegistrationStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import ClientConnection, connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from custom_components.levity_ocpp.const import DOMAIN, SUBENTRY_CHARGE_POINT
from custom_components.levity_ocpp.csms.framelog import FRAME_LOG_BYTES
from custom_components.levity_ocpp.limit_options import (
    CONF_HANDSHAKE_TIMEOUT,
    CONF_MAX_CONNECTIONS,
    CONF_MAX_CONNECTIONS_PER_ADDRESS,
    CONF_MAX_FRAME_SIZE,
    CONF_MESSAGE_RATE,
)
from custom_components.levity_ocpp.refusals import issue_id
from custom_components.levity_ocpp.session_events import EVENT_SESSION_STOPPED

from .client import ConfiguredChargePoint, connect_charge_point
from .conftest import Connect, async_wait_until, listening_port, open_options_step
from .test_sessions import meter, sample, start, stop

MIB = 1 << 20
# A diagnostics download per charger stays "a few hundred KiB at most".
MAX_DIAGNOSTICS_BYTES = 300 * 1024


def rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def devices(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return sorted(
        device.name or ""
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if device.via_device_id is None
    )


def server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """ERRORs (and tracebacks) logged by the central system, HA or websockets."""
    return [
        record.getMessage()
        for record in caplog.records
        if (record.levelno >= logging.ERROR or (record.exc_info and record.levelno > logging.DEBUG))
        and not record.name.startswith("ocpp")  # the test clients' own library
    ]


def lines_about(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno >= logging.INFO and text in record.getMessage()
    ]


async def ws(port: int, path: str, **kwargs: Any) -> ClientConnection:
    return await ws_connect(
        f"ws://127.0.0.1:{port}{path}", subprotocols=["ocpp1.6"], open_timeout=5, **kwargs
    )


async def reply_to(websocket: ClientConnection, frame: str | bytes | list[Any]) -> list[Any]:
    """Send a frame, return the central system's answer (its own requests skipped)."""
    await websocket.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
    async with asyncio.timeout(5):
        while (reply := json.loads(await websocket.recv()))[0] == 2:
            pass
    assert isinstance(reply, list)
    return reply


async def closed_with(websocket: ClientConnection, frame: str | bytes, **kwargs: Any) -> int:
    """Send a frame that gets the connection closed; return the close code."""
    await websocket.send(frame, **kwargs)
    async with asyncio.timeout(5):
        with contextlib.suppress(ConnectionClosed):
            async for _ in websocket:  # what it still answers before closing
                pass
    assert websocket.close_code is not None
    return websocket.close_code


async def refused_with(port: int, path: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await ws(port, path)
    return refused.value.response.status_code


async def test_hostile_inputs_answered_while_another_charger_charges(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect("/CP2", charge_point_class=ConfiguredChargePoint) as healthy:
        await healthy.boot()
        await healthy.status(1, ChargePointStatus.charging)
        tx = await start(healthy)
        minute = 0

        async def meanwhile() -> None:
            """The healthy charger reports, in between every hostile step."""
            nonlocal minute
            minute += 1
            await meter(healthy, tx, sample(minute, 1_000_000 + 100 * minute))

        hostile = await ws(port, "/HOSTILE")
        assert (await reply_to(hostile, b'[2,"b1","Heartbeat",{}]'))[:3] == [
            4,
            "b1",
            "FormationViolation",
        ]
        await meanwhile()
        for frame in ("[" * 60_000, '[2,"n","Heartbeat",{"x":' + "9" * 5000 + "}]"):
            assert (await reply_to(hostile, frame))[2] == "FormationViolation"
        await meanwhile()
        # A burst of garbage: every frame answered, the log says it a few times only.
        for number in range(200):
            reply = await reply_to(hostile, f'[2,"g{number}","Nonsense{number}",{{}}]')
            assert reply[:3] == [4, f"g{number}", "NotImplemented"]
            await hostile.send(json.dumps([3, f"stale{number}", {}]))  # answers to nothing
        await meanwhile()
        assert await closed_with(hostile, b'[2,"u","Heartbeat",{"x":"\xff"}]', text=True) == 1007
        await meanwhile()
        too_big = await ws(port, "/HOSTILE", max_size=None)
        assert await closed_with(too_big, "[" + " " * (64 * 1024) + "]") == 1009
        await meanwhile()
        for path in (
            "/%D0%A1%D0%A02",  # CP2 in Cyrillic letters
            "/CP%E2%80%A82",  # U+2028
            "/ocpp/..",
            "/ocpp/CP%2F2",
            "/%3Cscript%3E",
            "/ocpp/" + "x" * 300 + "/CP9",
            "/CP2%C2%A0",  # a trailing no-break space
        ):
            assert await refused_with(port, path) == 400, path
        await meanwhile()

        assert (await stop(healthy, tx, 1_000_000 + 100 * minute + 50, minute + 1)).id_tag_info
        await hass.async_block_till_done(wait_background_tasks=True)
        await async_wait_until(hass, lambda: len(stopped) == 1)
        assert stopped[0].data["energy_kwh"] == pytest.approx((100 * minute + 50) / 1000)

        # Only the two ids that connected are charge points; no look-alike device.
        assert devices(hass, setup_integration) == ["CP2", "HOSTILE"]
        for name in ("CP2", "HOSTILE"):
            device = next(
                d
                for d in dr.async_entries_for_config_entry(
                    dr.async_get(hass), setup_integration.entry_id
                )
                if d.name == name
            )
            diagnostics = await get_diagnostics_for_device(
                hass, hass_client, setup_integration, device
            )
            assert len(json.dumps(diagnostics)) < MAX_DIAGNOSTICS_BYTES
        frames = diagnostics["frames"]
        assert any(frame.get("binary") for frame in frames) or len(frames) == 200

    assert not server_errors(caplog)
    # One broken frame is one short line; 200 of them a few lines and a count.
    hostile_lines = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith(("custom_components", "websockets"))
    ]
    assert all(len(r.getMessage()) < 1000 for r in hostile_lines)
    assert len(lines_about(caplog, "HOSTILE: Nonsense")) <= 3
    assert lines_about(caplog, "more problems were not logged") or lines_about(
        caplog, "similar problems in the last minute not logged"
    )
    assert not [r for r in caplog.records if "stale" in r.getMessage() and r.levelno > 10]
    # The look-alike is a repair issue the user can act on, with a clear reason.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(setup_integration.entry_id))
    assert issue is not None
    assert "looks like the known charge point 'CP2'" in caplog.text


async def test_memory_and_log_stay_flat_after_100_frames_of_1_mib(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the 64 KiB limit each is closed with 1009; raised to 2 MiB each is answered."""
    port = listening_port(setup_integration)
    big = json.dumps([2, "big", "DataTransfer", {"vendorId": "acme", "data": "x" * MIB}])
    unknown = json.dumps([2, "u", "Nonsense" + "y" * (500 * 1024), {}])

    async def burst(frames: int) -> None:
        for _ in range(frames):
            websocket = await ws(port, "/BURST", max_size=None)
            assert await closed_with(websocket, big) == 1009

    # Debug records keep their arguments (websockets' frames) for as long as the
    # test's log capture does: measure what the central system keeps, at INFO.
    caplog.set_level(logging.INFO)
    await burst(3)  # warm up what any first connection allocates
    gc.collect()
    before = rss()
    await burst(100)
    await hass.async_block_till_done()
    gc.collect()
    assert rss() - before < 8 * MIB

    # Raised (the options), the frames are taken, answered and their log entry cut.
    result = await open_options_step(hass, setup_integration, "limits")
    await hass.config_entries.options.async_configure(
        result["flow_id"], {**_limits(), CONF_MAX_FRAME_SIZE: 2048}
    )
    await hass.async_block_till_done()
    port = listening_port(setup_integration)
    transfers = async_capture_events(hass, f"{DOMAIN}_data_transfer")
    websocket = await ws(port, "/BURST", max_size=None)
    await reply_to(websocket, big)
    await hass.async_block_till_done()
    # The event automations see is cut to what the recorder keeps.
    assert len(transfers[0].data["data"]) == 16 * 1024
    assert transfers[0].data["data_truncated"] == MIB
    transfers.clear()
    gc.collect()
    before = rss()
    caplog.clear()
    for _ in range(100):
        assert (await reply_to(websocket, big))[:3] == [3, "big", {"status": "UnknownVendorId"}]
    reply = await reply_to(websocket, unknown)
    assert reply[:3] == [4, "u", "NotImplemented"]
    assert len(json.dumps(reply)) < 1000  # the action is not echoed back whole
    await hass.async_block_till_done()
    gc.collect()
    assert rss() - before < 8 * MIB
    # The 500 KiB unknown action cost a line of a few hundred characters.
    assert len(caplog.text) < 20_000
    model = setup_integration.runtime_data.charge_points["BURST"]
    assert model.frames.bytes <= FRAME_LOG_BYTES
    [device] = [
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), setup_integration.entry_id)
        if d.name == "BURST"
    ]
    diagnostics = await get_diagnostics_for_device(hass, hass_client, setup_integration, device)
    assert len(json.dumps(diagnostics)) < MAX_DIAGNOSTICS_BYTES
    assert any(frame.get("bytes", 0) > MIB for frame in diagnostics["frames"])  # cut, size noted
    await websocket.close()
    assert not server_errors(caplog)


def _limits(**changes: Any) -> dict[str, Any]:
    return {
        CONF_MAX_FRAME_SIZE: 64,
        CONF_MESSAGE_RATE: 50,
        CONF_MAX_CONNECTIONS: 200,
        CONF_MAX_CONNECTIONS_PER_ADDRESS: 50,
        CONF_HANDSHAKE_TIMEOUT: 10,
        **changes,
    }


async def test_limits_are_options(
    hass: HomeAssistant, setup_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    result = await open_options_step(hass, setup_integration, "limits")
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]({})
    assert schema == _limits()  # the defaults
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        _limits(
            **{
                CONF_MAX_FRAME_SIZE: 8,
                CONF_MESSAGE_RATE: 3,
                CONF_MAX_CONNECTIONS_PER_ADDRESS: 2,
                CONF_HANDSHAKE_TIMEOUT: 1,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert setup_integration.options[CONF_MAX_FRAME_SIZE] == 8
    assert setup_integration.options["heartbeat_interval"] == 60  # other options kept
    await hass.async_block_till_done()
    port = listening_port(setup_integration)

    # Frame size
    websocket = await ws(port, "/CP1", max_size=None)
    assert await closed_with(websocket, json.dumps(["x" * 9000])) == 1009
    # Message rate: a burst of ten seconds' worth, then a close
    websocket = await ws(port, "/CP1")
    for number in range(40):
        await websocket.send(json.dumps([2, f"h{number}", "Heartbeat", {}]))
    assert await closed_with(websocket, "[]") == 1008
    assert websocket.close_reason == "more than 3 messages/s"
    # Connections per address, and the handshake timeout
    silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    with pytest.raises(InvalidMessage):  # dropped at once, before any answer
        await ws(port, "/CP3")
    async with asyncio.timeout(5):
        for reader, writer in silent:
            assert await reader.read() == b""
            writer.close()
    await async_wait_until(hass, lambda: True)
    async with connect_ok(port, "/CP1") as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted
    assert lines_about(caplog, "2 connections from this address are open")
    assert not server_errors(caplog)


def connect_ok(port: int, path: str) -> Any:
    return connect_charge_point(port, path, charge_point_class=ConfiguredChargePoint)


async def _add_charge_point(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> None:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    settings = {
        "authorization": "any_tag",
        "ocpp_version": "auto",
        "validate_schema": True,
        "websocket_ping": True,
        "subprotocol_optional": False,
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**settings, **data}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_leniency_switches_serve_a_non_compliant_charger(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _add_charge_point(hass, setup_integration, charge_point_id="STRICT")
    await _add_charge_point(
        hass,
        setup_integration,
        charge_point_id="GRIZZLE",
        validate_schema=False,
        websocket_ping=False,
        subprotocol_optional=True,
    )
    boot = {"chargePointVendor": "United Chargers", "chargePointModel": "Grizzl-E", "x": 1}

    # Approved, no subprotocol, switch off: refused, and the user is told what to turn on.
    async with ws_connect(f"ws://127.0.0.1:{port}/STRICT") as strict:
        with pytest.raises(ConnectionClosed):
            await strict.recv()
    assert strict.close_code == 1002
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(setup_integration.entry_id))
    assert issue is not None
    assert (
        "Allow connecting without an OCPP subprotocol" in issue.translation_placeholders["reason"]
    )
    # The lenient one: no subprotocol, a field the schema does not have.
    async with ws_connect(f"ws://127.0.0.1:{port}/GRIZZLE") as grizzle:
        assert grizzle.subprotocol is None
        reply = await reply_to(grizzle, [2, "b", "BootNotification", boot])
        assert reply[2]["status"] == "Accepted"
    # The strict one with its subprotocol: served, the odd field refused.
    async with ws_connect(f"ws://127.0.0.1:{port}/STRICT", subprotocols=["ocpp1.6"]) as strict:
        reply = await reply_to(strict, [2, "b", "BootNotification", boot])
        assert reply[:3] == [4, "b", "FormationViolation"]
    assert not server_errors(caplog)


async def test_id_variants_are_the_charger_or_refused(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connect("/CPX", charge_point_class=ConfiguredChargePoint) as cp:
        await cp.boot()
    for path in ("/cpx", "/ws/%EF%BC%A3%EF%BC%B0%EF%BC%B8"):  # case; full-width letters
        async with connect(path, charge_point_class=ConfiguredChargePoint) as cp:
            await cp.boot()
            await cp.status(1, ChargePointStatus.preparing)
            await hass.async_block_till_done()
            assert hass.states.get("sensor.cpx_status").state == "preparing"
    # Look-alikes and tricks: refused, never a device.
    for path in ("/%D0%A1%D0%A0X", "/C%CE%A1X", "/CPX%E2%80%8B", "/CPX%E2%80%A8", "/CP%C2%A0X"):
        assert await refused_with(port, path) == 400, path
    await hass.async_block_till_done()
    assert devices(hass, setup_integration) == ["CPX"]
    assert len(lines_about(caplog, "looks like the known charge point 'CPX'")) == 2
    # The ids are shown escaped: no line separator or invisible character in the log.
    assert "\u2028" not in caplog.text and "\u200b" not in caplog.text
