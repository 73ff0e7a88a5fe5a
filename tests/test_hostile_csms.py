"""Hostile and broken clients against the central system core, without Home Assistant.

A real server on 127.0.0.1; clients that misbehave at the TCP, WebSocket and
OCPP-J levels. Each gets a specific answer, costs bounded log lines, and the
server goes on serving others.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
import json
import logging
import os
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, RegistrationStatus
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from custom_components.levity_ocpp.csms.guards import Limits
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.server import CentralSystem
from custom_components.levity_ocpp.csms.settings import ChargePointSettings

from .client import ConfiguredChargePoint, connect_charge_point

BOOT = {"chargePointVendor": "United Chargers", "chargePointModel": "Grizzl-E"}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class Hooks(CentralSystemHooks):
    """Remembers refusals and discoveries."""

    def __init__(self) -> None:
        self.refused: list[tuple[str, str | None, str]] = []
        self.discovered: list[str] = []

    def connection_refused(self, path: str, remote: str | None, reason: str) -> None:
        self.refused.append((path, remote, reason))

    def charge_point_discovered(self, charge_point: Any) -> None:
        self.discovered.append(charge_point.id)


type Start = Callable[..., Any]


@pytest.fixture
async def start(socket_enabled: None) -> AsyncIterator[Start]:
    """Start central systems with the given options; all stopped at the end."""
    started: list[CentralSystem] = []

    async def _start(**options: Any) -> CentralSystem:
        central = CentralSystem(
            host="127.0.0.1", port=0, heartbeat_interval=30, hooks=Hooks(), **options
        )
        await central.start()
        started.append(central)
        return central

    yield _start
    for central in started:
        await central.stop()


def url(central: CentralSystem, path: str = "/CP1") -> str:
    return f"ws://127.0.0.1:{central.bound_port}{path}"


def hooks_of(central: CentralSystem) -> Hooks:
    assert isinstance(central.hooks, Hooks)
    return central.hooks


async def wait_until(condition: Callable[[], object], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the server side has no event to await
            await asyncio.sleep(0.005)


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR from the server side (the test clients' own library may log some)."""
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("custom_components", "websockets"))
    ]
    assert not errors, [r.getMessage() for r in errors]


async def raw_reply(websocket: Any, frame: str | bytes | list[Any]) -> list[Any]:
    """Send a frame and return the answer (requests of the server's meanwhile are skipped)."""
    await websocket.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
    async with asyncio.timeout(5):
        while (reply := json.loads(await websocket.recv()))[0] == 2:
            pass
    assert isinstance(reply, list)
    return reply


# At the TCP level: caps and handshake timeouts


async def test_connections_per_address_are_capped(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(limits=Limits(max_connections_per_address=2))
    async with ws_connect(url(central, "/CP1"), subprotocols=["ocpp1.6"]) as first:
        async with ws_connect(url(central, "/CP2"), subprotocols=["ocpp1.6"]):
            with pytest.raises(InvalidMessage):
                async with ws_connect(
                    url(central, "/CP3"), subprotocols=["ocpp1.6"], open_timeout=2
                ):
                    pass
        # The ones admitted are served as usual.
        assert (await raw_reply(first, [2, "h", "Heartbeat", {}]))[:2] == [3, "h"]
        # A slot is free again once one closed.
        await wait_until(lambda: central._caps.total == 1)
        async with ws_connect(url(central, "/CP3"), subprotocols=["ocpp1.6"]) as third:
            assert (await raw_reply(third, [2, "h", "Heartbeat", {}]))[:2] == [3, "h"]
    [warning] = [w for w in our_warnings(caplog) if "Refused a connection" in w]
    assert "2 connections from this address are open" in warning
    assert hooks_of(central).refused[0][0] == "*"
    assert "CP3" not in hooks_of(central).discovered[:2]
    no_errors(caplog)


async def test_total_connections_are_capped(start: Start) -> None:
    central = await start(limits=Limits(max_connections=1))
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]):
        with pytest.raises(InvalidMessage):
            async with ws_connect(url(central, "/CP2"), open_timeout=2):
                pass
    assert "the most this central system accepts" in hooks_of(central).refused[0][2]


async def test_handshakes_that_never_finish_time_out(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(limits=Limits(handshake_timeout=0.3, max_connections_per_address=2))
    silent = await asyncio.open_connection("127.0.0.1", central.bound_port)
    trickling = await asyncio.open_connection("127.0.0.1", central.bound_port)
    request = b"GET /CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"

    async def closed(reader: asyncio.StreamReader) -> bool:
        """Whether the server hung up without answering (a close or a reset)."""
        try:
            return await reader.read() == b""
        except ConnectionResetError:
            return True

    async def trickle() -> bool:
        reader, writer = trickling
        try:
            for byte in request:  # slowloris: a byte at a time, never the end of the headers
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.01)
        except ConnectionResetError:
            return True
        return await closed(reader)

    async with asyncio.timeout(3):
        assert await closed(silent[0])
        assert await trickle()
    for _, writer in (silent, trickling):
        writer.close()
    # Their slots are free again: a real charger gets in.
    await wait_until(lambda: central._caps.total == 0)
    async with connect_charge_point(central.bound_port, "/CP1") as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted
    no_errors(caplog)


# At the WebSocket level: size, encoding, rate, pings


async def _drain(websocket: Any) -> AsyncIterator[str]:
    """The frames a closed connection still holds."""
    while True:
        try:
            yield await websocket.recv()
        except ConnectionClosed:
            return


async def test_a_frame_over_the_size_limit_closes_with_1009(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(limits=Limits(max_frame_bytes=8 * 1024))
    for _ in range(3):
        async with ws_connect(url(central), subprotocols=["ocpp1.6"], max_size=None) as websocket:
            transfer = {"vendorId": "x", "data": "x" * 9000}
            await websocket.send(json.dumps([2, "big", "DataTransfer", transfer]))
            with pytest.raises(ConnectionClosed):
                await websocket.recv()
        assert websocket.close_code == 1009
    await wait_until(lambda: not central.charge_points["CP1"].connected)
    too_long = [w for w in our_warnings(caplog) if "longer than 8 KiB" in w]
    assert len(too_long) == 3  # three connections: within the few lines a minute allows
    # Nothing of the frame is kept, the message under the limit works.
    assert all(frame.size < 8 * 1024 for frame in central.charge_points["CP1"].frames)
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        transfer = {"vendorId": "x", "data": "x" * 7000}
        reply = await raw_reply(websocket, [2, "ok", "DataTransfer", transfer])
        assert reply[:2] == [3, "ok"]
    no_errors(caplog)


async def test_invalid_utf8_closes_with_1007_and_binary_gets_an_error(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start()
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        reply = await raw_reply(websocket, b'[2,"bin1","Heartbeat",{}]')
        assert reply[:3] == [4, "bin1", "FormationViolation"]
        assert "binary frame" in reply[4]["cause"]
        reply = await raw_reply(websocket, b"\xff\xfe\x00garbage")
        assert reply[:3] == [4, "-1", "FormationViolation"]
        # Still served.
        assert (await raw_reply(websocket, [2, "h", "Heartbeat", {}]))[:2] == [3, "h"]
        await websocket.send(b'[2,"u","Heartbeat",{"x":"\xff"}]', text=True)
        with pytest.raises(ConnectionClosed):
            await websocket.recv()
    assert websocket.close_code == 1007
    await wait_until(lambda: not central.charge_points["CP1"].connected)
    assert any("not UTF-8" in w and "(1007)" in w for w in our_warnings(caplog))
    frames = list(central.charge_points["CP1"].frames)
    assert [frame.binary for frame in frames if frame.direction == "received"][:2] == [True, True]
    no_errors(caplog)


async def test_unpaired_surrogate_escapes_are_refused_and_paired_ones_taken(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    """No UTF-8 text holds a lone surrogate: kept, it breaks every JSON writer after us."""
    central = await start()
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        boot = json.dumps([2, "b", "BootNotification", BOOT])
        lone = boot.replace("Grizzl-E", "Grizzl-E\\udfff")
        reply = await raw_reply(websocket, lone)
        assert reply[:3] == [4, "b", "FormationViolation"]
        assert "surrogate" in reply[4]["cause"]
        # One as the message id: answered with the id no charger uses.
        reply = await raw_reply(websocket, '[2,"\\ud800","Heartbeat",{}]')
        assert reply[:3] == [4, "-1", "FormationViolation"]
        # A pair is a character (an emoji in the model name is odd, not wrong).
        paired = boot.replace("Grizzl-E", "Grizzl-E \\ud83d\\udd0c")
        assert (await raw_reply(websocket, paired))[:2] == [3, "b"]
    assert central.charge_points["CP1"].model == "Grizzl-E \U0001f50c"
    no_errors(caplog)


async def test_a_connection_over_the_message_rate_is_closed(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(limits=Limits(messages_per_second=2))  # a burst of 20
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        for number in range(40):
            await websocket.send(json.dumps([2, f"h{number}", "Heartbeat", {}]))
        # What arrives before the close: answers to the burst, then no more.
        async with asyncio.timeout(5):
            answered = [json.loads(frame) async for frame in _drain(websocket)]
        assert all(reply[0] == 3 for reply in answered)
    assert websocket.close_code == 1008
    assert websocket.close_reason == "more than 2 messages/s"
    assert 19 <= len(answered) <= 21
    [warning] = [w for w in our_warnings(caplog) if "messages per second" in w]
    assert "CP1 sends more than 2 messages per second" in warning
    # It reconnects and is served again.
    async with connect_charge_point(central.bound_port, "/CP1") as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted
    no_errors(caplog)


async def _pings_within(central: CentralSystem, path: str, seconds: float) -> int:
    """Open a raw WebSocket and count the pings the server sends within `seconds`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", central.bound_port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    pings = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                header = await reader.readexactly(2)
                payload = await reader.readexactly(header[1] & 0x7F)
                if header[0] == 0x89:  # FIN + ping
                    pings += 1
                del payload
    except TimeoutError, asyncio.IncompleteReadError:  # unanswered pings end the connection
        pass
    finally:
        writer.close()
    return pings


async def test_pings_follow_the_chargers_setting(start: Start) -> None:
    central = await start(
        ping_interval=0.05,
        settings={"QUIET": ChargePointSettings(websocket_ping=False)},
    )
    assert await _pings_within(central, "/QUIET", 0.4) == 0
    assert await _pings_within(central, "/CP1", 0.4) >= 1


# At the OCPP-J level: answers nobody waits for, leniency


class SlowChargePoint(ConfiguredChargePoint):
    """Answers GetConfiguration twice, once too late and once more after that."""

    __test__ = False

    @on(Action.get_configuration)
    async def on_get_configuration(self, key: list[str] | None = None) -> Any:
        await asyncio.sleep(0.3)
        return call_result.GetConfiguration(configuration_key=[], unknown_key=[])


async def test_answers_nobody_waits_for_are_dropped_quietly(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(response_timeout=0.1)
    caplog.set_level(logging.DEBUG, logger="custom_components.levity_ocpp.csms.rpc")
    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        for number in range(200):
            await websocket.send(json.dumps([3, f"stale{number}", {"x": "y" * 1000}]))
            await websocket.send(json.dumps([4, f"err{number}", "InternalError", "", {}]))
        # A real request of ours is still matched with its real answer.
        await raw_reply(websocket, [2, "b", "BootNotification", BOOT])
        request = json.loads(await asyncio.wait_for(websocket.recv(), 5))
        assert request[2] == "GetConfiguration"
        await websocket.send(json.dumps([3, request[1], {"configurationKey": []}]))
        await wait_until(lambda: central.charge_points["CP1"].configuration == {})
        # Answered twice: the second is stale too.
        await websocket.send(json.dumps([3, request[1], {"configurationKey": []}]))
        assert (await raw_reply(websocket, [2, "h", "Heartbeat", {}]))[:2] == [3, "h"]
    ignored = [r for r in caplog.records if "ignored an answer" in r.getMessage()]
    assert len(ignored) == 401
    assert all(r.levelno == logging.DEBUG for r in ignored)
    assert all(len(r.getMessage()) < 400 for r in ignored)
    no_errors(caplog)


async def test_a_late_answer_to_a_timed_out_request_is_dropped(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(response_timeout=0.1)
    async with connect_charge_point(
        central.bound_port, "/CP1", charge_point_class=SlowChargePoint
    ) as cp:
        reply = await cp.call(
            call.BootNotification(**{"charge_point_vendor": "V", "charge_point_model": "M"}),
            suppress=False,
        )
        assert reply.status == RegistrationStatus.accepted
        await asyncio.sleep(0.5)  # GetConfiguration timed out; its answer came after
        assert (await cp.call(call.Heartbeat(), suppress=False)).current_time
    no_errors(caplog)


class LenientAnswers(ConfiguredChargePoint):
    """Answers GetConfiguration with a field the schema does not have."""

    __test__ = False

    @on(Action.get_configuration, skip_schema_validation=True)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        return call_result.GetConfiguration(
            configuration_key=[{"key": "K", "readonly": True, "value": "v", "colour": "red"}]
        )


async def test_schema_validation_is_per_charger(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(settings={"LAX": ChargePointSettings(validate_schema=False)})
    odd_boot = {**BOOT, "colour": "red", "chargePointVendor": "V" * 60}
    async with (
        ws_connect(url(central, "/LAX"), subprotocols=["ocpp1.6"]) as lax,
        ws_connect(url(central, "/STRICT"), subprotocols=["ocpp1.6"]) as strict,
    ):
        reply = await raw_reply(lax, [2, "b", "BootNotification", odd_boot])
        assert reply[:2] == [3, "b"] and reply[2]["status"] == "Accepted"
        assert central.charge_points["LAX"].vendor == "V" * 60
        reply = await raw_reply(strict, [2, "b", "BootNotification", {**BOOT, "colour": "red"}])
        assert reply[:3] == [4, "b", "FormationViolation"]
        reply = await raw_reply(strict, [2, "c", "BootNotification", odd_boot])
        assert reply[:2] == [4, "c"]
        assert len(json.dumps(reply)) < 600  # the frame is not echoed back
        # Without validation a missing field is still a specific error...
        reply = await raw_reply(lax, [2, "m", "BootNotification", {"chargePointModel": "M"}])
        assert reply[:3] == [4, "m", "ProtocolError"]
        assert reply[4] == {"cause": "missing charge_point_vendor"}
        # ...and a value the handler cannot take an InternalError, logged as the charger's.
        status = {"connectorId": "1", "errorCode": "NoError", "status": "Available"}
        reply = await raw_reply(lax, [2, "s", "StatusNotification", status])
        assert reply[:3] == [4, "s", "InternalError"]
        assert (await raw_reply(lax, [2, "h", "Heartbeat", {}]))[:2] == [3, "h"]
    no_errors(caplog)

    # Answers to our requests are taken leniently too.
    async with connect_charge_point(
        central.bound_port, "/LAX", charge_point_class=LenientAnswers
    ) as cp:
        await cp.boot()
        model = central.charge_points["LAX"]
        await wait_until(lambda: "K" in model.configuration)
        assert model.configuration["K"] == {"value": "v", "readonly": True}
    no_errors(caplog)


# The handshake: which charger, which protocol


async def test_look_alike_ids_are_refused_and_case_variants_are_the_charger(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start()
    async with connect_charge_point(central.bound_port, "/CPX") as cp:
        await cp.boot()
    # The same charger, spelt in other case or width: no second charge point.
    for path in ("/cpx", "/ocpp/%EF%BC%A3%EF%BC%B0%EF%BC%B8"):
        async with connect_charge_point(central.bound_port, path) as cp:
            await cp.boot()
            assert central.charge_points["CPX"].connected
            assert central.charge_points["CPX"].path == path
    assert hooks_of(central).discovered == ["CPX"]

    for path in ("/%D0%A1%D0%A0X", "/CP%CE%A7"):  # Cyrillic Es Er; Greek Chi
        with pytest.raises(InvalidStatus) as refused:
            async with connect_charge_point(central.bound_port, path):
                pass
        assert refused.value.response.status_code == 400
        assert b"looks like another charge point" in refused.value.response.body
    assert hooks_of(central).discovered == ["CPX"]
    warnings = [w for w in our_warnings(caplog) if "looks like the known charge point 'CPX'" in w]
    assert len(warnings) == 2
    assert len(hooks_of(central).refused) == 2


async def test_no_subprotocol_is_served_only_where_allowed(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    central = await start(
        settings={
            "STRICT": ChargePointSettings(),
            "GRIZZLE": ChargePointSettings(subprotocol_optional=True),
        }
    )
    async with ws_connect(url(central, "/STRICT")) as websocket:
        with pytest.raises(ConnectionClosed):
            await websocket.recv()
    assert websocket.close_code == 1002
    assert websocket.close_reason == "no OCPP version offered; supported: ocpp1.6, ocpp2.0.1"
    [warning] = [w for w in our_warnings(caplog) if "offers no OCPP version" in w]
    assert "turn on 'Allow connecting without an OCPP subprotocol'" in warning
    assert "STRICT" not in central.charge_points
    # With the switch on, and for charge points not approved yet: OCPP 1.6.
    for path in ("/GRIZZLE", "/NEWCOMER"):
        async with connect_charge_point(central.bound_port, path, subprotocols=[]) as cp:
            assert (await cp.boot()).status == RegistrationStatus.accepted
    # Offering it is always fine.
    async with connect_charge_point(central.bound_port, "/STRICT") as cp:
        assert (await cp.boot()).status == RegistrationStatus.accepted


async def test_a_bug_of_ours_costs_one_answer_and_a_few_tracebacks(
    start: Start, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    central = await start()

    def broken_serializer(*_: Any) -> None:
        raise RuntimeError("a bug")

    async def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    async with ws_connect(url(central), subprotocols=["ocpp1.6"]) as websocket:
        await raw_reply(websocket, [2, "b", "BootNotification", BOOT])
        # In the handling around our handler (the library's serializing of its reply)...
        monkeypatch.setattr(
            "custom_components.levity_ocpp.csms.rpc.serialize_as_dict", broken_serializer
        )
        for number in range(10):
            reply = await raw_reply(websocket, [2, f"h{number}", "Heartbeat", {}])
            assert reply[:3] == [4, f"h{number}", "InternalError"]
        monkeypatch.undo()
        # ...and in a handler itself.
        monkeypatch.setattr(central.sessions, "start", broken)
        start_transaction = {
            "connectorId": 1,
            "idTag": "T",
            "meterStart": 0,
            "timestamp": "2026-11-01T10:00:00Z",
        }
        reply = await raw_reply(websocket, [2, "s", "StartTransaction", start_transaction])
        assert reply[:3] == [4, "s", "InternalError"]
        monkeypatch.undo()
        assert (await raw_reply(websocket, [2, "ok", "Heartbeat", {}]))[:2] == [3, "ok"]
    tracebacks = [
        r for r in caplog.records if r.exc_info and r.name.startswith("custom_components")
    ]
    # Ours, so ERRORs with their traceback; but a few a minute, not one per frame.
    assert 1 <= len(tracebacks) <= 3
    assert all(r.levelno == logging.ERROR for r in tracebacks)
