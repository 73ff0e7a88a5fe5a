"""On the wire, with the compiled schema checks: every answer is the one the library gave.

A real central system on 127.0.0.1 and raw WebSocket clients. Valid requests are
answered; malformed ones get the CALLERROR code and cause they got when the
library validated every payload itself; an invalid reply of ours is still
caught; `@after` handlers still run after the reply.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ocpp.routing import after
from ocpp.v16 import call
from ocpp.v16.enums import Action
import pytest
from websockets.asyncio.client import connect as ws_connect

from custom_components.levity_ocpp.csms import server
from custom_components.levity_ocpp.csms.authorization import IdTag, TagBook
from custom_components.levity_ocpp.csms.settings import ChargePointSettings
from custom_components.levity_ocpp.csms.v16 import ChargePointV16

from .test_hostile_csms import (
    Start,
    start,  # noqa: F401 - the fixture
)

BOOT16 = {"chargePointVendor": "United Chargers", "chargePointModel": "Grizzl-E"}
BOOT201 = {"chargingStation": {"model": "m", "vendorName": "v"}, "reason": "PowerUp"}
TIMESTAMP = "2026-11-01T10:00:00Z"
ENERGY = {"value": "1", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
# A group id longer than the 20 characters an IdTagInfo's parentIdTag may have.
LONG_GROUP = "G" * 25

TYPE = (
    "TypeConstraintViolation",
    "Payload for Action is syntactically correct but at least one of the fields violates "
    "data type constraints (e.g. \u201csomestring\u201d: 12)",
)
PROPERTY = (
    "PropertyConstraintViolation",
    "Payload is syntactically correct but at least one field contains an invalid value",
)
INCOMPLETE = ("ProtocolError", "Payload for Action is incomplete")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


async def raw_reply(websocket: Any, frame: list[Any]) -> list[Any]:
    """Send a frame and return the answer to it."""
    await websocket.send(json.dumps(frame))
    async with asyncio.timeout(5):
        while (reply := json.loads(await websocket.recv()))[0] == 2:
            pass
    assert isinstance(reply, list)
    return reply


def meter_values(**sampled: Any) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "meterValue": [{"timestamp": TIMESTAMP, "sampledValue": [{**ENERGY, **sampled}]}],
    }


MALFORMED_16: list[tuple[dict[str, Any], tuple[str, str], str]] = [
    (meter_values(value=1), TYPE, "1 is not of type 'string'"),
    (
        meter_values(unit="x" * 30),
        PROPERTY,
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not one of ['Wh', 'kWh', 'varh', 'kvarh', 'W', "
        "'kW', 'VA', 'kVA', 'var', 'kvar', 'A', 'V', 'K', 'Celcius', 'Celsius', 'Fahrenheit', "
        "'Percent', 'Hertz']",
    ),
    (
        meter_values(colour="red"),
        (
            "FormationViolation",
            "Payload for Action is syntactically incorrect or structure for Action",
        ),
        "Additional properties are not allowed ('colour' was unexpected)",
    ),
    (
        {"meterValue": []},
        (
            "OccurenceConstraintViolation",
            "Payload for Action is syntactically correct but at least one of the fields "
            "violates occurence constraints",
        ),
        "[] should be non-empty",
    ),
    (
        {"connectorId": "1", "meterValue": [{"timestamp": TIMESTAMP, "sampledValue": [ENERGY]}]},
        TYPE,
        "'1' is not of type 'integer'",
    ),
    (
        {"connectorId": True, "meterValue": [{"timestamp": TIMESTAMP, "sampledValue": [ENERGY]}]},
        TYPE,
        "True is not of type 'integer'",
    ),
    (
        {"connectorId": 1, "meterValue": [{"sampledValue": [ENERGY]}]},
        INCOMPLETE,
        "'timestamp' is a required property",
    ),
]


async def test_meter_values_answered_or_refused_as_the_library_did(
    start: Start,  # noqa: F811 - the fixture imported above
) -> None:
    central = await start()
    async with ws_connect(
        f"ws://127.0.0.1:{central.bound_port}/CP1", subprotocols=["ocpp1.6"]
    ) as websocket:
        assert (await raw_reply(websocket, [2, "b", "BootNotification", BOOT16]))[0] == 3
        assert await raw_reply(websocket, [2, "ok", "MeterValues", meter_values()]) == [
            3,
            "ok",
            {},
        ]
        for number, (payload, (code, description), cause) in enumerate(MALFORMED_16):
            reply = await raw_reply(websocket, [2, f"m{number}", "MeterValues", payload])
            assert reply == [4, f"m{number}", code, description, {"cause": cause}]
        # The cause names the first value the enum allows, cut short.
        reply = await raw_reply(websocket, [2, "e", "MeterValues", meter_values(measurand="Bogus")])
        assert reply[2:4] == list(PROPERTY)
        assert reply[4]["cause"].startswith(
            "'Bogus' is not one of ['Energy.Active.Export.Register'"
        )
        assert reply[4]["cause"].endswith("(218 characters)")
        assert (await raw_reply(websocket, [2, "again", "MeterValues", meter_values()]))[0] == 3


def meter_values_201(**sampled: Any) -> dict[str, Any]:
    energy = {"value": 1.5, "measurand": "Energy.Active.Import.Register"}
    return {
        "evseId": 1,
        "meterValue": [{"timestamp": TIMESTAMP, "sampledValue": [{**energy, **sampled}]}],
    }


async def test_201_meter_values_answered_or_refused_as_the_library_did(
    start: Start,  # noqa: F811 - the fixture imported above
) -> None:
    central = await start()
    async with ws_connect(
        f"ws://127.0.0.1:{central.bound_port}/CP1", subprotocols=["ocpp2.0.1"]
    ) as websocket:
        assert (await raw_reply(websocket, [2, "b", "BootNotification", BOOT201]))[0] == 3
        for number, payload in enumerate(
            [
                meter_values_201(),
                meter_values_201(customData={"vendorId": "x", "anyKeyHere": 1}),
            ]
        ):
            reply = await raw_reply(websocket, [2, f"ok{number}", "MeterValues", payload])
            assert reply == [3, f"ok{number}", {}]
        refused: list[tuple[dict[str, Any], tuple[str, str], str]] = [
            (meter_values_201(value="1"), TYPE, "'1' is not of type 'number'"),
            (
                meter_values_201(customData={"anyKeyHere": 1}),
                INCOMPLETE,
                "'vendorId' is a required property",
            ),
            (
                meter_values_201(phase="L9"),
                PROPERTY,
                "'L9' is not one of ['L1', 'L2', 'L3', 'N', 'L1-N', 'L2-N', 'L3-N', 'L1-L2', "
                "'L2-L3', 'L3-L1']",
            ),
            (
                {**meter_values_201(), "x": 1},
                (
                    "FormatViolation",
                    "Payload for Action is syntactically incorrect or structure for Action",
                ),
                "Additional properties are not allowed ('x' was unexpected)",
            ),
        ]
        for number, (payload, (code, description), cause) in enumerate(refused):
            reply = await raw_reply(websocket, [2, f"m{number}", "MeterValues", payload])
            assert reply == [4, f"m{number}", code, description, {"cause": cause}]


async def test_an_invalid_reply_of_ours_is_still_caught(
    start: Start,  # noqa: F811 - the fixture imported above
) -> None:
    central = await start(
        tags=TagBook([IdTag("CARD", parent_id_tag=LONG_GROUP)]),
        settings={"LAX": ChargePointSettings(validate_schema=False)},
    )
    port = central.bound_port
    async with ws_connect(f"ws://127.0.0.1:{port}/CP1", subprotocols=["ocpp1.6"]) as websocket:
        await raw_reply(websocket, [2, "b", "BootNotification", BOOT16])
        reply = await raw_reply(websocket, [2, "a", "Authorize", {"idTag": "CARD"}])
        assert reply == [4, "a", *TYPE, {"cause": f"'{LONG_GROUP}' is too long"}]
    # Without schema validation the reply goes out as it is, and so does a request's fault.
    async with ws_connect(f"ws://127.0.0.1:{port}/LAX", subprotocols=["ocpp1.6"]) as websocket:
        await raw_reply(websocket, [2, "b", "BootNotification", BOOT16])
        reply = await raw_reply(websocket, [2, "a", "Authorize", {"idTag": "CARD"}])
        assert reply == [3, "a", {"idTagInfo": {"status": "Accepted", "parentIdTag": LONG_GROUP}}]
        reply = await raw_reply(websocket, [2, "m", "MeterValues", meter_values(value=1)])
        assert reply == [3, "m", {}]


class AfterHeartbeat(ChargePointV16):
    """A 1.6 handler with `@after` hooks: one a coroutine taking the call's id, one plain."""

    @after(Action.heartbeat)
    async def tell_after_heartbeat(self, call_unique_id: str) -> None:
        await self.call(call.DataTransfer(vendor_id="after", data=call_unique_id))

    @after(Action.status_notification)
    def noted_after_status(self, **_: Any) -> None:
        self.model.last_data_transfer = "noted"


async def test_after_hooks_run_after_the_reply(
    start: Start,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(server.HANDLERS, "ocpp1.6", AfterHeartbeat)
    central = await start()
    async with ws_connect(
        f"ws://127.0.0.1:{central.bound_port}/CP1", subprotocols=["ocpp1.6"]
    ) as websocket:
        await raw_reply(websocket, [2, "b", "BootNotification", BOOT16])
        await websocket.send(json.dumps([2, "hb", "Heartbeat", {}]))
        frames: list[list[Any]] = []
        async with asyncio.timeout(5):
            while not frames or frames[-1][2] != "DataTransfer":
                frame = json.loads(await websocket.recv())
                if frame[0] == 2 and frame[2] != "DataTransfer":
                    # The central system's own requests after a boot: refused, so they end.
                    await websocket.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))
                else:
                    frames.append(frame)
        reply, request = frames
        assert reply[:2] == [3, "hb"]
        assert request[3] == {"vendorId": "after", "data": "hb"}
        await websocket.send(json.dumps([3, request[1], {"status": "Accepted"}]))
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        assert await raw_reply(websocket, [2, "s", "StatusNotification", status]) == [3, "s", {}]
    assert central.charge_points["CP1"].last_data_transfer == "noted"
