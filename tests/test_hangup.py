"""A charger that sends its last frames and hangs up at once loses none of them.

Third-party simulators (and chargers going to sleep) write their final messages
and close the socket without waiting for the answers: every frame that arrived
must still be handled, and the routine end is no error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from custom_components.levity_ocpp.session_events import EVENT_SESSION_STOPPED

from .conftest import async_wait_until
from .test_sessions import get_sessions, sample, stamp

STATUS = "sensor.cp1_status"
OCPP16 = Subprotocol("ocpp1.6")


async def exchange(websocket: ClientConnection, unique_id: str, action: str, payload: Any) -> Any:
    """Send a CALL and return the payload of its answer, skipping the server's own CALLs."""
    await websocket.send(json.dumps([2, unique_id, action, payload]))
    async with asyncio.timeout(5):
        while True:
            frame = json.loads(await websocket.recv())
            if frame[0] == 3 and frame[1] == unique_id:
                return frame[2]


def hang_up_after(websocket: ClientConnection, frames: list[list[Any]]) -> None:
    """Write `frames` and a close frame in one go and drop the socket: no answer is read.

    websockets' sans-I/O protocol builds the bytes so that the server receives
    them together with the close, as from a charger that hangs up at once.
    """
    for frame in frames:
        websocket.protocol.send_text(json.dumps(frame).encode())
    websocket.protocol.send_close(1000, "bye")
    websocket.transport.write(b"".join(websocket.protocol.data_to_send()))
    websocket.transport.close()


async def test_frames_before_hang_up_are_all_handled(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.levity_ocpp")
    stopped = async_capture_events(hass, EVENT_SESSION_STOPPED)
    async with connect(f"ws://127.0.0.1:{port}/CP1", subprotocols=[OCPP16]) as websocket:
        boot = {"chargePointVendor": "Sim", "chargePointModel": "Burst"}
        assert (await exchange(websocket, "b1", "BootNotification", boot))["status"] == "Accepted"
        start = {"connectorId": 1, "idTag": "RESIDENT-7", "meterStart": 1000, "timestamp": stamp(0)}
        transaction_id = (await exchange(websocket, "s1", "StartTransaction", start))[
            "transactionId"
        ]
        status = {"connectorId": 1, "errorCode": "NoError"}
        hang_up_after(
            websocket,
            [
                [2, "n1", "StatusNotification", {**status, "status": "Charging"}],
                [
                    2,
                    "m1",
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": transaction_id,
                        "meterValue": [sample(30, 6000)],
                    },
                ],
                [2, "n2", "StatusNotification", {**status, "status": "Finishing"}],
                [
                    2,
                    "t1",
                    "StopTransaction",
                    {
                        "transactionId": transaction_id,
                        "meterStop": 12000,
                        "timestamp": stamp(60),
                        "reason": "EVDisconnected",
                    },
                ],
            ],
        )

    await async_wait_until(hass, lambda: len(stopped) == 1)
    [session] = await get_sessions(hass)
    assert session["transaction_id"] == transaction_id
    assert session["energy_kwh"] == pytest.approx(11.0)
    assert stopped[0].data["transaction_id"] == transaction_id
    await async_wait_until(hass, lambda: hass.states.get(STATUS).state == "unavailable")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    # The answers that found the socket closed: one line, not one per frame.
    lost = [r for r in caplog.records if "closed the connection before our answer" in r.message]
    assert len(lost) == 1
    assert lost[0].levelno == logging.DEBUG
