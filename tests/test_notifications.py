"""Model notifications: coalesced, after the reply, each listener once with the final state.

A handler changes the model; its listeners (HA entities writing states) run on
the next turn of the event loop, after the CALLRESULT is on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import logging
import os
import socket

from ocpp.v16.enums import ChargePointStatus
import pytest
from websockets.asyncio.client import connect

from custom_components.levity_ocpp.csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from custom_components.levity_ocpp.csms.server import CentralSystem

from .client import ConfiguredChargePoint, TestChargePoint, connect_charge_point


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def central(socket_enabled: None) -> AsyncIterator[CentralSystem]:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30)
    await central.start()
    yield central
    await central.stop()


def on_the_wire(charge_point: TestChargePoint) -> bytes:
    """What the central system has sent that the client's socket holds, unread."""
    sock = charge_point.connection.transport.get_extra_info("socket")
    peek = socket.socket(fileno=os.dup(sock.fileno()))
    try:
        return peek.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""
    finally:
        peek.close()


async def test_the_reply_is_on_the_wire_before_listeners_run(central: CentralSystem) -> None:
    port = central.bound_port
    assert port
    seen: list[tuple[str | None, bytes]] = []
    # Uncompressed, so that the reply can be told in the socket's bytes.
    async with connect(
        f"ws://127.0.0.1:{port}/CP1", subprotocols=["ocpp1.6"], compression=None
    ) as websocket:
        charger = ConfiguredChargePoint("CP1", websocket, 5)
        reader = asyncio.create_task(charger.start())
        await charger.boot()
        model = central.charge_points["CP1"]

        def entity() -> None:
            if model.connected:
                seen.append((model.connector(1).status, on_the_wire(charger)))

        model.add_listener(1, entity)
        charger._unique_id_generator = lambda: "status-1"  # the library's hook for tests
        assert await charger.status(1, ChargePointStatus.charging) is not None
        reader.cancel()

    # Told once, with the new status, when the CALLRESULT was already in the
    # charger's socket (sent, not yet read).
    (status, wire), *more = seen
    assert not more
    assert status == "Charging"
    assert wire.endswith(b'[3,"status-1",{}]')


async def test_a_message_tells_each_listener_once(central: CentralSystem) -> None:
    port = central.bound_port
    assert port
    async with connect_charge_point(port, charge_point_class=ConfiguredChargePoint) as charger:
        await charger.boot()
        model = central.charge_points["CP1"]
        seen: list[str | None] = []

        def entity() -> None:  # of connector 1, so it follows the charge point too
            seen.append(model.connector(1).status)

        model.add_listener(1, entity)
        model.add_listener(CHARGE_POINT_CONNECTOR, entity)
        await charger.status(1, ChargePointStatus.preparing)
        assert seen == ["Preparing"]


async def test_notifications_during_a_reply_wait_for_the_next_loop_turn_and_coalesce() -> None:
    model = ChargePoint("CP1")
    seen: list[str | None] = []

    def entity() -> None:
        seen.append(model.connector(1).status)

    model.add_listener(1, entity)
    model.add_listener(CHARGE_POINT_CONNECTOR, entity)
    model.hold_notifications()
    for status in ("Preparing", "Charging", "SuspendedEV"):
        model.connector(1).status = status
        model.notify(1)
    model.notify()
    model.release_notifications()
    assert seen == []
    await asyncio.sleep(0)
    assert seen == ["SuspendedEV"]  # once, though two of its connectors changed


async def test_outside_a_reply_listeners_are_told_at_once() -> None:
    """A user's action or a timer: the entity shows the change when the call returns."""
    model = ChargePoint("CP1")
    seen: list[str | None] = []
    model.add_listener(1, lambda: seen.append(model.connector(1).status))
    model.add_listener(CHARGE_POINT_CONNECTOR, lambda: seen.append("charge point"))
    model.connector(1).status = "Available"
    model.notify(1)
    assert seen == ["Available"]
    model.notify_all()
    assert seen == ["Available", "Available", "charge point"]


async def test_a_listener_removed_before_the_flush_is_not_told() -> None:
    model = ChargePoint("CP1")
    seen: list[str] = []
    remove = model.add_listener(1, lambda: seen.append("removed"))
    model.add_listener(1, lambda: seen.append("kept"))
    model.hold_notifications()
    model.notify(1)
    model.release_notifications()
    remove()  # the charger's entities were removed meanwhile
    await asyncio.sleep(0)
    assert seen == ["kept"]


async def test_a_broken_listener_does_not_silence_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = ChargePoint("CP1")
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("bug")

    model.add_listener(1, broken)
    model.add_listener(1, lambda: seen.append("told"))
    with caplog.at_level(logging.ERROR):
        model.notify(1)
    assert seen == ["told"]
    assert "CP1: a change listener failed" in caplog.text


async def test_nested_holds_release_once_all_replies_are_made() -> None:
    model = ChargePoint("CP1")
    seen: list[int] = []
    model.add_listener(1, lambda: seen.append(1))
    model.hold_notifications()
    model.hold_notifications()  # two calls answered concurrently
    model.notify(1)
    model.release_notifications()
    await asyncio.sleep(0)
    assert seen == []
    model.release_notifications()
    await asyncio.sleep(0)
    assert seen == [1]
    model.flush()  # nothing pending: nothing told
    assert seen == [1]


def test_without_a_running_loop_a_released_change_is_told_at_once() -> None:
    model = ChargePoint("CP1")
    seen: list[int] = []
    model.add_listener(1, lambda: seen.append(1))
    model.hold_notifications()
    model.notify(1)
    model.release_notifications()
    assert seen == [1]


async def test_a_disconnect_before_the_flush_is_what_listeners_see(
    central: CentralSystem,
) -> None:
    port = central.bound_port
    assert port
    seen: list[bool] = []
    async with connect_charge_point(port, charge_point_class=ConfiguredChargePoint) as charger:
        await charger.boot()
        model = central.charge_points["CP1"]
        model.add_listener(CHARGE_POINT_CONNECTOR, lambda: seen.append(model.connected))
        await charger.connection.send(
            json.dumps([2, "hb", "Heartbeat", {}])
        )  # answered, then the charger hangs up at once
    async with asyncio.timeout(5):
        while model.connected:  # noqa: ASYNC110 - the server side has no event to await
            await asyncio.sleep(0.005)
    await asyncio.sleep(0)
    assert seen[-1] is False
