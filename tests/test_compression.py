"""Per-message deflate: what a charger negotiates and that its messages still get through.

The server compresses each of its messages afresh (it keeps no compressor per
connection); a charger's messages, most of the data, are decompressed with the
context the charger keeps. A charger without compression works as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from custom_components.levity_ocpp.csms.server import CentralSystem

from .client import ConfiguredChargePoint, connect_charge_point


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def central(socket_enabled: None) -> AsyncIterator[CentralSystem]:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30)
    await central.start()
    yield central
    await central.stop()


async def boots(websocket: ClientConnection) -> bool:
    """Whether a charger on this socket is answered: its BootNotification accepted."""
    charger = ConfiguredChargePoint("CP1", websocket, 5)
    reader = asyncio.create_task(charger.start())
    try:
        reply = await charger.boot()
    finally:
        reader.cancel()
    return bool(reply.status == "Accepted")


def sample(register_wh: int) -> dict[str, object]:
    """A 3-phase sample: the repetitive JSON that compresses well across messages."""
    values: list[dict[str, str]] = [
        {"value": str(register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    for phase in ("L1", "L2", "L3"):
        values.append({"value": "15.9", "measurand": "Current.Import", "phase": phase})
        values.append({"value": "230.1", "measurand": "Voltage", "phase": f"{phase}-N"})
    return {"timestamp": datetime.now(UTC).isoformat(), "sampledValue": values}


async def test_the_server_compresses_each_message_afresh(central: CentralSystem) -> None:
    assert central.bound_port
    async with connect_charge_point(
        central.bound_port, charge_point_class=ConfiguredChargePoint
    ) as charger:
        extensions = charger.connection.response.headers["Sec-WebSocket-Extensions"]
        assert extensions.startswith("permessage-deflate")
        # Ours: no context kept, 12-bit windows. The charger's: kept (not asked to drop it).
        assert "server_no_context_takeover" in extensions
        assert "client_no_context_takeover" not in extensions
        assert "server_max_window_bits=12" in extensions
        assert "client_max_window_bits=12" in extensions

        await charger.boot()
        await charger.status(1, ChargePointStatus.charging)
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=sample(0)["timestamp"]
            ),
            suppress=False,
        )
        # Several compressed messages each way, each read with what came before.
        for step in range(1, 6):
            await charger.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[sample(1000 + 100 * step)],
                ),
                suppress=False,
            )
        session = central.charge_points["CP1"].connector(1)
        assert session.energy_register_kwh == 1.5


async def test_a_charger_that_asks_for_no_context_gets_it(central: CentralSystem) -> None:
    assert central.bound_port
    deflate = ClientPerMessageDeflateFactory(client_no_context_takeover=True)
    async with connect(
        f"ws://127.0.0.1:{central.bound_port}/CP1",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        extensions=[deflate],
        compression=None,
    ) as websocket:
        extensions = websocket.response.headers["Sec-WebSocket-Extensions"]
        assert "client_no_context_takeover" in extensions
        assert "server_no_context_takeover" in extensions
        assert await boots(websocket)


async def test_a_charger_without_compression_is_served(central: CentralSystem) -> None:
    assert central.bound_port
    async with connect(
        f"ws://127.0.0.1:{central.bound_port}/CP1",
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
    ) as websocket:
        assert "Sec-WebSocket-Extensions" not in websocket.response.headers
        assert await boots(websocket)
