"""The HA-free central system core (`csms/`), tested without Home Assistant.

A real server on 127.0.0.1 and real `ocpp` library clients; the hooks a layer
above would implement are recorded instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
import json
import logging

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus, RegistrationStatus
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus

from custom_components.levity_ocpp.csms.connection_log import MAX_WARNED_REFUSALS
from custom_components.levity_ocpp.csms.framelog import FRAME_LOG_SIZE, Direction
from custom_components.levity_ocpp.csms.hooks import CentralSystemHooks
from custom_components.levity_ocpp.csms.model import CHARGE_POINT_CONNECTOR, ChargePoint
from custom_components.levity_ocpp.csms.negotiation import offered_subprotocols
from custom_components.levity_ocpp.csms.paths import (
    InvalidChargePointId,
    charge_point_id_from_path,
    redact_query,
)
from custom_components.levity_ocpp.csms.register import Verdict, judge
from custom_components.levity_ocpp.csms.server import CentralSystem
from custom_components.levity_ocpp.csms.timestamps import format_timestamp, parse_timestamp
from custom_components.levity_ocpp.csms.transactions import (
    CLOSED_BY_CENTRAL_SYSTEM,
    MAX_ORPHANS,
    Transaction,
    TransactionBook,
)

from .client import ConfiguredChargePoint, connect_charge_point


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


class RecordingHooks(CentralSystemHooks):
    """Remembers what the central system told the layer above, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int | None]] = []

    def charge_point_discovered(self, charge_point: ChargePoint) -> None:
        self.calls.append(("discovered", charge_point.id, None))

    def charge_point_updated(self, charge_point: ChargePoint) -> None:
        self.calls.append(("updated", charge_point.id, None))

    def connector_discovered(self, charge_point: ChargePoint, connector_id: int) -> None:
        self.calls.append(("connector", charge_point.id, connector_id))

    def connection_refused(self, path: str, remote: str | None, reason: str) -> None:
        self.calls.append(("refused", path, None))

    def of(self, kind: str, charge_point_id: str = "CP1") -> list[tuple[str, str, int | None]]:
        return [c for c in self.calls if c[0] == kind and c[1] == charge_point_id]


async def wait_until(condition: object, within: float = 5.0) -> None:
    """Wait (bounded) for the server side to catch up with something a client did."""
    async with asyncio.timeout(within):
        # The server side has no event to await: poll.
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.005)


@pytest.fixture
def hooks() -> RecordingHooks:
    return RecordingHooks()


@pytest.fixture
async def central(socket_enabled: None, hooks: RecordingHooks) -> AsyncIterator[CentralSystem]:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30, hooks=hooks)
    await central.start()
    yield central
    await central.stop()


def connect(central: CentralSystem, path: str = "/CP1", **kwargs: object):
    port = central.bound_port
    assert port
    kwargs.setdefault("charge_point_class", ConfiguredChargePoint)
    return connect_charge_point(port, path, **kwargs)  # type: ignore[arg-type]


# Charge point ids


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/CP1", "CP1"),
        ("/CP1/", "CP1"),
        ("/ws/CP1/", "CP1"),
        ("/any/prefix/CP1", "CP1"),
        ("//ocpp//CP1//", "CP1"),
        ("/ocpp/CP%201", "CP 1"),
        ("/%C3%A9vse-1", "évse-1"),
        ("/CP1?x=1", "CP1"),
        ("/ocpp/CP1/?token=a/b/c", "CP1"),
        ("/CP1#fragment", "CP1"),
        ("/" + "A" * 48, "A" * 48),
        ("/" + "%41" * 48, "A" * 48),  # the decoded id is what must fit in 48
        ("/CP%2D1", "CP-1"),
    ],
)
def test_charge_point_id_from_path(path: str, expected: str) -> None:
    assert charge_point_id_from_path(path) == expected


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("", "names no charge point id"),
        ("/", "names no charge point id"),
        ("///", "names no charge point id"),
        ("/?id=CP1", "names no charge point id"),
        ("/%20", "empty"),
        ("/ocpp/%20%20%20", "empty"),
        ("/%09", "empty"),  # only whitespace, even if it is a control character
        ("/" + "A" * 49, "longer than 48"),
        ("/" + "%41" * 49, "longer than 48"),
        ("/CP%07", "control characters"),
        ("/CP%0A1", "control characters"),
        ("/CP%001", "control characters"),
        ("/CP%7F", "control characters"),
        ("/CP%E2%80%8B1", "control characters"),  # zero-width space (format, Cf)
        ("/CP%E2%80%A81", "control characters"),  # U+2028 line separator
        ("/ocpp/CP%2F1", "is a path"),  # an encoded slash would read as a path
        ("/ocpp/..%5C..", "is a path"),
        ("/ocpp/%2E%2E", "is a path"),
        ("/CP1%20", "begins or ends with a space"),
        ("/%C2%A0CP1", "begins or ends with a space"),  # a no-break space
        ("/CP%C2%A01", "space other than a plain one"),
        ("/%3Cb%3ECP1", "markup"),
        ("/CP%22%3E1", "markup"),
        ("/ocpp/" + "x" * 300 + "/CP1", "path is longer than 256"),
        ("/ocpp/", "generic path word"),
        ("/OCPP16", "generic path word"),
        ("/ocpp1.6/?token=x", "generic path word"),
        ("/ws/ocppj", "generic path word"),
        ("/steve/websocket/CentralSystemService/", "generic path word"),
        ("/wss", "must end with the charge point's id"),
        ("/%63sms", "generic path word"),  # "csms", percent-encoded
    ],
)
def test_charge_point_id_from_path_refused(path: str, error: str) -> None:
    with pytest.raises(InvalidChargePointId, match=error):
        charge_point_id_from_path(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ocpp/CP1", "CP1"),
        ("/site/ocpp", "ocpp"),  # another segment is there: a charger named "ocpp"
        ("/cs/central/CP-9", "CP-9"),
    ],
)
def test_generic_words_before_the_id(path: str, expected: str) -> None:
    assert charge_point_id_from_path(path) == expected


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/CP1", "/CP1"),
        ("/CP1?token=secret&x=1", "/CP1?**REDACTED**"),
        ("/CP1?", "/CP1?**REDACTED**"),
    ],
)
def test_redact_query(path: str, shown: str) -> None:
    assert redact_query(path) == shown


async def test_refusals_reach_the_hooks_and_warn_once_per_path(
    central: CentralSystem, hooks: RecordingHooks, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(path: str) -> None:
        with pytest.raises(InvalidStatus):
            async with connect(central, path):
                pass

    await refuse("/ocpp/?token=secret")
    await refuse("/ocpp/?token=secret")
    assert (
        hooks.of("refused", "/ocpp/?**REDACTED**") == [("refused", "/ocpp/?**REDACTED**", None)] * 2
    )
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert not any("secret" in r.getMessage() for r in ours)
    # Ours only: asyncio warns about slow callbacks on a busy machine.
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    # The memory of what was warned about is bounded: the oldest path is warned again.
    for number in range(MAX_WARNED_REFUSALS):
        await refuse(f"/ws{number}/{'x' * 49}")
    await refuse("/ocpp/?token=other")
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == MAX_WARNED_REFUSALS + 2
    assert hooks.of("discovered", "ocpp") == []


def test_offered_subprotocols() -> None:
    headers = Headers()
    headers["Sec-WebSocket-Protocol"] = "ocpp2.0.1, ocpp1.6"
    headers["Sec-WebSocket-Protocol"] = " ocpp1.5 ,,"
    assert offered_subprotocols(headers) == ["ocpp2.0.1", "ocpp1.6", "ocpp1.5"]
    assert offered_subprotocols(Headers()) == []


# Timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00.123Z", datetime(2026, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-03-01T10:00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),  # naive: UTC
        ("2026-03-01T11:30:00+01:30", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T02:00:00-08:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T10:00:00+00:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01 10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("garbage", None),
        ("2026-13-01T10:00:00Z", None),
        ("2026-02-30T10:00:00Z", None),
        ("2026-03-01T25:00:00Z", None),
        ("2026-03-01T10:00:00+25:00", None),
        ("9999-12-31T23:59:59-01:00", None),  # past the last representable UTC time
        ("0001-01-01T00:00:00+01:00", None),
        ("0000-00-00T00:00:00Z", None),  # a charger whose clock was never set
    ],
)
def test_parse_timestamp(text: str | None, expected: datetime | None) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC), "2026-03-01T10:00:00.123Z"),
        (datetime(2026, 3, 1, 10, tzinfo=UTC), "2026-03-01T10:00:00.000Z"),
        (
            datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=1))),
            "2026-03-01T10:00:00.000Z",
        ),
        (
            datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=-10))),
            "2026-03-01T10:30:00.000Z",
        ),
    ],
)
def test_format_timestamp(value: datetime, expected: str) -> None:
    assert format_timestamp(value) == expected
    assert parse_timestamp(format_timestamp(value)) == value.replace(
        microsecond=value.microsecond // 1000 * 1000
    )


# The central system over real WebSockets


async def test_hooks_and_model_follow_a_charger(
    central: CentralSystem, hooks: RecordingHooks
) -> None:
    async with connect(central) as cp:
        await wait_until(lambda: "CP1" in central.charge_points)
        model = central.charge_points["CP1"]
        await wait_until(lambda: model.connected)
        assert hooks.of("discovered") == [("discovered", "CP1", None)]
        assert central.handler("CP1") is not None

        updates = len(hooks.of("updated"))
        reply = await cp.boot(charge_box_serial_number="SN-1", firmware_version="4.2")
        assert reply.status == RegistrationStatus.accepted
        assert reply.interval == 30
        assert len(hooks.of("updated")) > updates  # boot, then the configuration
        assert model.vendor == "United Chargers"
        assert model.model == "Grizzl-E"
        assert model.serial_number == "SN-1"
        assert model.firmware_version == "4.2"
        assert model.last_boot is not None
        await wait_until(lambda: "AuthorizationKey" in model.configuration)
        assert model.configuration["NumberOfConnectors"] == {"value": "2", "readonly": True}

        await cp.status(0)
        await cp.status(1, ChargePointStatus.preparing)
        await cp.status(1, ChargePointStatus.charging)
        await cp.status(2, ChargePointStatus.available)
        assert hooks.of("connector") == [
            ("connector", "CP1", 0),
            ("connector", "CP1", 1),
            ("connector", "CP1", 2),
        ]
        assert model.connector_ids == [1, 2]
        assert model.connector(1).status == "Charging"
        assert model.connector(1).error_code == "NoError"
        assert model.connector(CHARGE_POINT_CONNECTOR).status == "Available"

        heartbeat = await cp.call(call.Heartbeat(), suppress=False)
        sent = parse_timestamp(heartbeat.current_time)
        assert sent is not None
        assert model.last_heartbeat is not None
        assert abs(model.last_heartbeat - sent) < timedelta(milliseconds=1)

        directions = {frame.direction for frame in model.frames}
        assert directions == {Direction.RECEIVED, Direction.SENT}

    await wait_until(lambda: not model.connected)
    assert central.handler("CP1") is None
    [connection] = model.connections
    assert connection.path == "/CP1"
    assert connection.subprotocol == "ocpp1.6"
    assert connection.remote_address is not None
    assert connection.remote_address.startswith("127.0.0.1:")
    assert connection.disconnected_at is not None
    assert connection.close_reason

    # Back again: known already, so no second discovery and no new connectors.
    async with connect(central, "/ocpp/CP1") as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.finishing)
        assert model.connected
        assert central.charge_points["CP1"] is model
        assert model.path == "/ocpp/CP1"
    assert hooks.of("discovered") == [("discovered", "CP1", None)]
    assert len(hooks.of("connector")) == 3
    assert len(model.connections) == 2


async def test_known_charge_points_are_not_discovered_again(
    socket_enabled: None, hooks: RecordingHooks
) -> None:
    known = ChargePoint("CP1", vendor="Old vendor")
    known.connector(1).status = "Available"
    central = CentralSystem(
        host="127.0.0.1", port=0, heartbeat_interval=30, hooks=hooks, charge_points=[known]
    )
    await central.start()
    try:
        assert central.charge_points == {"CP1": known}
        assert not known.connected
        async with connect(central) as cp:
            await cp.boot()
            await cp.status(1, ChargePointStatus.charging)
            await cp.status(2, ChargePointStatus.available)
            assert known.connected
            assert known.vendor == "United Chargers"
        assert hooks.of("discovered") == []
        assert hooks.of("connector") == [("connector", "CP1", 2)]
    finally:
        await central.stop()


async def test_stale_status_is_ignored(central: CentralSystem) -> None:
    async with connect(central) as cp:
        await cp.status(1, ChargePointStatus.charging, timestamp="2026-03-01T10:00:00Z")
        await cp.status(1, ChargePointStatus.preparing, timestamp="2026-03-01T09:00:00Z")
        connector = central.charge_points["CP1"].connector(1)
        assert connector.status == "Charging"
        assert connector.status_time == datetime(2026, 3, 1, 10, tzinfo=UTC)
        # Stale for connector 1 says nothing about connector 2.
        await cp.status(2, ChargePointStatus.preparing, timestamp="2026-03-01T09:00:00Z")
        assert central.charge_points["CP1"].connector(2).status == "Preparing"


async def test_stop_closes_everything(central: CentralSystem, hooks: RecordingHooks) -> None:
    port = central.bound_port
    assert port
    async with connect(central, "/CP1") as cp1, connect(central, "/CP2") as cp2:
        await cp1.boot()
        await cp2.boot()
        models = [central.charge_points["CP1"], central.charge_points["CP2"]]
        assert all(model.connected for model in models)

        await central.stop()

        async with asyncio.timeout(5):
            await cp1.connection.wait_closed()
            await cp2.connection.wait_closed()
        assert cp1.connection.close_code == 1001
        assert not any(model.connected for model in models)
        assert central.handler("CP1") is None
        assert central.bound_port is None
        assert all(model.connections[-1].disconnected_at for model in models)

    with pytest.raises(ConnectionRefusedError):
        async with connect_charge_point(port, "/CP1"):
            pass
    await central.stop()  # a second stop is harmless


async def test_no_task_outlives_a_connection_dropped_mid_call(central: CentralSystem) -> None:
    before = asyncio.all_tasks()
    async with connect(central, start=False) as cp:
        boot = {"chargePointVendor": "United Chargers", "chargePointModel": "Grizzl-E"}
        assert (await cp.raw([2, "b1", "BootNotification", boot]))[:2] == [3, "b1"]
        async with asyncio.timeout(5):
            request = json.loads(await cp.connection.recv())
        assert request[2] == "GetConfiguration"
        # The charger dies before it answers.
    await wait_until(lambda: not central.charge_points["CP1"].connected)
    await central.stop()
    await asyncio.sleep(0)
    leftovers = {task for task in asyncio.all_tasks() - before if not task.done()}
    try:
        assert not leftovers
    finally:
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


async def test_stop_before_start_is_harmless(socket_enabled: None) -> None:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30)
    assert central.bound_port is None
    await central.stop()


async def test_start_fails_on_a_taken_port(central: CentralSystem) -> None:
    other = CentralSystem(host="127.0.0.1", port=central.bound_port, heartbeat_interval=30)
    with pytest.raises(OSError):  # noqa: PT011 - EADDRINUSE, whatever its message
        await other.start()


# Model listeners


def test_listeners_are_told_about_their_connector_only() -> None:
    model = ChargePoint("CP1")
    seen: list[str] = []
    remove_main = model.add_listener(CHARGE_POINT_CONNECTOR, lambda: seen.append("main"))
    remove_one = model.add_listener(1, lambda: seen.append("one"))
    model.add_listener(2, lambda: seen.append("two"))
    model.add_listener(1, lambda: seen.append("one again"))

    model.notify(1)
    assert seen == ["one", "one again"]
    seen.clear()
    model.notify()  # the charge point itself
    assert seen == ["main"]
    seen.clear()
    model.notify(3)  # nobody listens
    assert seen == []
    model.notify_all()
    assert sorted(seen) == ["main", "one", "one again", "two"]
    seen.clear()

    remove_one()
    remove_main()
    model.notify_all()
    assert sorted(seen) == ["one again", "two"]


def test_listener_may_remove_itself_while_notified() -> None:
    model = ChargePoint("CP1")
    seen: list[str] = []

    def once() -> None:
        seen.append("once")
        remove()

    remove = model.add_listener(1, once)
    model.add_listener(1, lambda: seen.append("always"))
    model.notify(1)
    model.notify(1)
    assert seen == ["once", "always", "always"]


def test_connectors_and_frame_log() -> None:
    model = ChargePoint("CP1")
    assert model.connector_ids == []
    connector = model.connector(3)
    assert model.connector(3) is connector
    model.connector(CHARGE_POINT_CONNECTOR)
    model.connector(1)
    assert model.connector_ids == [1, 3]

    for number in range(FRAME_LOG_SIZE + 5):
        model.log_frame(Direction.RECEIVED, f"frame {number}")
    assert len(model.frames) == FRAME_LOG_SIZE
    assert model.frames[0].text == "frame 5"
    assert model.frames[-1].text == f"frame {FRAME_LOG_SIZE + 4}"


# Transaction book


def test_book_keeps_orphans_across_a_restart_and_only_the_latest() -> None:
    book = TransactionBook()
    started = datetime(2026, 11, 1, 10, tzinfo=UTC)
    for _ in range(MAX_ORPHANS + 2):
        transaction = book.allocate("CP1", 1, "TAG", started, 1000)
        book.close(
            transaction,
            stopped_at=started,
            meter_stop_wh=1000,
            reason="Reboot",
            closed_by=CLOSED_BY_CENTRAL_SYSTEM,
        )
    still_open = book.allocate("CP1", 2, "TAG", started, 5000)
    charger_closed = book.allocate("CP1", 3, "TAG", started, 5000)
    book.close(
        charger_closed, stopped_at=started, meter_stop_wh=6000, reason="Local", closed_by="charger"
    )

    restored = TransactionBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.next_id == book.next_id
    assert list(restored.open) == [still_open.transaction_id]
    assert sorted(restored.orphans) == list(range(3, MAX_ORPHANS + 3))
    assert restored.orphan("CP1", 3) == book.orphans[3]
    assert restored.orphan("CP2", 3) is None  # another charger's orphan is not its business
    assert restored.orphan("CP1", charger_closed.transaction_id) is None


@pytest.mark.parametrize(
    ("last", "suspect", "reading", "verdict"),
    [
        (None, None, 5.0, Verdict.USE),  # nothing to compare with
        (100.0, None, 104.0, Verdict.USE),
        (100.0, None, 110.0, Verdict.USE),  # exactly the limit is plausible
        (100.0, None, 99.9, Verdict.BACKWARDS),
        (100.0, None, 4_294_967.295, Verdict.SUSPECT),
        (100.0, 4_294_967.295, 101.0, Verdict.USE),  # the glitch was a glitch
        (100.0, 130.0, 131.0, Verdict.CONFIRMED),  # the leap was real
        (100.0, 130.0, 129.0, Verdict.SUSPECT),  # below the suspect one: a new leap
        (100.0, 130.0, 150.0, Verdict.SUSPECT),
        (100.0, None, -0.005, Verdict.INVALID),  # no register reads below zero
        (None, None, -5.0, Verdict.INVALID),
        (100.0, 0.01, 0.02, Verdict.RESET),  # the drop stayed: the meter was reset
        (100.0, 0.01, 100.5, Verdict.USE),  # back up: the drop was a glitch
        (100.0, 0.01, 50.0, Verdict.BACKWARDS),  # neither: another drop
    ],
)
def test_register_readings_are_judged(
    last: float | None, suspect: float | None, reading: float, verdict: Verdict
) -> None:
    assert judge(last, suspect, reading, jump_limit=10.0) is verdict


@pytest.mark.parametrize(
    ("last", "reading", "resolution", "verdict"),
    [
        (0.09167, 0.0916667, 0.00001, Verdict.USE),  # 91.67 Wh, then 91.6667 Wh
        (0.09167, 0.0916, 0.00001, Verdict.BACKWARDS),
        (5.0, 4.9995, 0.001, Verdict.USE),
    ],
)
def test_register_readings_are_compared_at_the_meters_resolution(
    last: float, reading: float, resolution: float, verdict: Verdict
) -> None:
    assert judge(last, None, reading, 10.0, resolution) is verdict


def test_book_restored_from_journaled_changes_is_the_book_that_made_them() -> None:
    """Replaying each change of a transaction, in order, twice: the same book."""
    book = TransactionBook()
    started = datetime(2026, 11, 1, 10, tzinfo=UTC)
    journal: list[tuple[dict, int]] = []

    def journaled(transaction: Transaction) -> None:
        journal.append((json.loads(json.dumps(transaction.to_dict())), book.next_id))

    abandoned = book.allocate("CP1", 1, "TAG", started, 1000)
    journaled(abandoned)
    book.close(
        abandoned,
        stopped_at=started,
        meter_stop_wh=1500,
        reason="Reboot",
        closed_by=CLOSED_BY_CENTRAL_SYSTEM,
    )
    journaled(abandoned)
    successor = book.allocate("CP1", 1, "TAG", started + timedelta(hours=1), 1600)
    journaled(successor)
    finished = book.allocate("CP1", 2, "TAG", started, 5000)
    journaled(finished)
    book.close(finished, stopped_at=started, meter_stop_wh=6000, reason="Local", closed_by="x")
    journaled(finished)

    restored = TransactionBook()
    for _ in range(2):
        for data, next_id in journal:
            restored.restore(Transaction.from_dict(data), next_id)
    assert restored.to_dict() == book.to_dict()
    # Where the connector's next session began bounds the orphan's late report.
    orphan = restored.orphan("CP1", abandoned.transaction_id)
    assert orphan is not None
    assert orphan.successor_meter_start_wh == 1600
    assert restored.allocate("CP1", 3, "TAG", started, 0).transaction_id == 4


def test_book_restores_no_more_orphans_than_it_keeps() -> None:
    book = TransactionBook()
    started = datetime(2026, 11, 1, 10, tzinfo=UTC)
    for number in range(1, MAX_ORPHANS + 3):
        orphan = Transaction(number, "CP1", 1, "TAG", started, 0.0)
        orphan.end(started, 0.0, "Reboot", CLOSED_BY_CENTRAL_SYSTEM)
        book.restore(orphan, number + 1)
    assert sorted(book.orphans) == list(range(3, MAX_ORPHANS + 3))
    assert book.next_id == MAX_ORPHANS + 3


def test_book_finds_a_chargers_open_transactions_among_the_fleet() -> None:
    started = datetime(2026, 11, 1, 10, tzinfo=UTC)
    book = TransactionBook()
    one = book.allocate("CP1", 1, "TAG", started, 1000)
    two = book.allocate("CP1", 2, "TAG", started, 2000)
    other = book.allocate("CP2", 1, "TAG", started, 1000)
    assert book.open_on("CP1") == [one, two]
    assert book.open_on("CP1", 2) == [two]
    assert book.find_resent("CP2", 1, "TAG", started, 1000) is other
    assert book.find_resent("CP2", 1, "TAG", started, 1001) is None
    book.close(one, stopped_at=started, meter_stop_wh=1000, reason="Local", closed_by="charger")
    book.withdraw(two)
    assert book.open_on("CP1") == []
    assert book.find_resent("CP1", 1, "TAG", started, 1000) is None
    restored = TransactionBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.open_on("CP2") == [other]
    assert restored.open_on("CP3") == []
