"""The version-neutral command layer over real WebSockets, without Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from ocpp.exceptions import NotSupportedError
import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.server import CentralSystem

from .client import connect_charge_point
from .commanded import CommandedChargePoint


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def central(socket_enabled: None) -> AsyncIterator[CentralSystem]:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30, response_timeout=1)
    await central.start()
    yield central
    await central.stop()


def charger(central: CentralSystem, path: str = "/CP1"):  # type: ignore[no-untyped-def]
    assert central.bound_port
    return connect_charge_point(central.bound_port, path, charge_point_class=CommandedChargePoint)


AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LIMIT = c.ChargingProfile(
    profile_id=1,
    stack_level=0,
    purpose=c.ChargingPurpose.TX_DEFAULT,
    kind=c.ScheduleKind.RELATIVE,
    unit=c.RateUnit.AMPERE,
    periods=(c.SchedulePeriod(0, 10.0, 3),),
)


@pytest.mark.parametrize(
    ("command", "action", "sent"),
    [
        (
            c.StartCharging("HA", 1, LIMIT),
            "RemoteStartTransaction",
            {
                "id_tag": "HA",
                "connector_id": 1,
                "charging_profile": {
                    "charging_profile_id": 1,
                    "stack_level": 0,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Relative",
                    "charging_schedule": {
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [
                            {"start_period": 0, "limit": 10.0, "number_phases": 3}
                        ],
                    },
                },
            },
        ),
        (c.StopCharging(7), "RemoteStopTransaction", {"transaction_id": 7}),
        (c.Reset(c.ResetKind.HARD), "Reset", {"type": "Hard"}),
        (c.UnlockConnector(2), "UnlockConnector", {"connector_id": 2}),
        (
            c.SetAvailability(0, False),
            "ChangeAvailability",
            {"connector_id": 0, "type": "Inoperative"},
        ),
        (
            c.SetConfiguration("MeterValueSampleInterval", "10"),
            "ChangeConfiguration",
            {"key": "MeterValueSampleInterval", "value": "10"},
        ),
        (
            c.TriggerMessage("MeterValues", 1),
            "TriggerMessage",
            {"requested_message": "MeterValues", "connector_id": 1},
        ),
        (
            c.ClearChargingProfile(purpose=c.ChargingPurpose.TX),
            "ClearChargingProfile",
            {"charging_profile_purpose": "TxProfile"},
        ),
        (
            c.GetCompositeSchedule(1, 60, c.RateUnit.AMPERE),
            "GetCompositeSchedule",
            {"connector_id": 1, "duration": 60, "charging_rate_unit": "A"},
        ),
        (
            c.DataTransfer("acme", "ping", "x"),
            "DataTransfer",
            {"vendor_id": "acme", "message_id": "ping", "data": "x"},
        ),
        (
            c.GetDiagnostics("ftp://example.invalid/"),
            "GetDiagnostics",
            {"location": "ftp://example.invalid/"},
        ),
        (
            c.UpdateFirmware("https://example.invalid/fw.bin", AT),
            "UpdateFirmware",
            {
                "location": "https://example.invalid/fw.bin",
                "retrieve_date": "2026-12-01T08:00:00.000Z",
            },
        ),
        (
            c.ReserveNow(1, AT, "CARD", 5),
            "ReserveNow",
            {
                "connector_id": 1,
                "expiry_date": "2026-12-01T08:00:00.000Z",
                "id_tag": "CARD",
                "reservation_id": 5,
            },
        ),
        (c.CancelReservation(5), "CancelReservation", {"reservation_id": 5}),
        (c.GetLocalListVersion(), "GetLocalListVersion", {}),
        (
            c.SendLocalList(
                4, True, (c.LocalAuthorization("CARD", "Accepted"), c.LocalAuthorization("OLD"))
            ),
            "SendLocalList",
            {
                "list_version": 4,
                "update_type": "Full",
                "local_authorization_list": [
                    {"id_tag": "CARD", "id_tag_info": {"status": "Accepted"}},
                    {"id_tag": "OLD"},
                ],
            },
        ),
        (c.ClearCache(), "ClearCache", {}),
    ],
)
async def test_each_command_reaches_the_charger_as_ocpp_16(
    central: CentralSystem, command: c.Command, action: str, sent: dict[str, object]
) -> None:
    async with charger(central, "/CP1") as cp1, charger(central, "/CP2") as cp2:
        await cp1.boot()
        await cp2.boot()
        result = await central.execute("CP1", command)
    assert result.succeeded
    assert cp1.received == [(action, sent)]
    assert cp2.received == []  # never another charger


async def test_answers_are_the_truth(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        cp.statuses["Reset"] = "Rejected"
        cp.statuses["ChangeConfiguration"] = "RebootRequired"
        cp.statuses["ChangeAvailability"] = "Scheduled"
        cp.statuses["UnlockConnector"] = "UnlockFailed"
        rejected = await central.execute("CP1", c.Reset(c.ResetKind.SOFT))
        reboot = await central.execute("CP1", c.SetConfiguration("X", "1"))
        scheduled = await central.execute("CP1", c.SetAvailability(1, False))
        unlock = await central.execute("CP1", c.UnlockConnector(1))
        data = await central.execute("CP1", c.DataTransfer("acme"))
        version = await central.execute("CP1", c.GetLocalListVersion())
    assert (rejected.status, rejected.succeeded) == ("Rejected", False)
    assert (reboot.status, reboot.succeeded) == ("RebootRequired", True)
    assert (scheduled.status, scheduled.succeeded) == ("Scheduled", True)
    assert (unlock.status, unlock.succeeded) == ("UnlockFailed", False)
    assert data.data == {"data": "pong"}
    assert (version.status, version.data) == (None, {"list_version": 3})


async def test_call_error_timeout_and_offline_are_distinct(central: CentralSystem) -> None:
    with pytest.raises(c.ChargePointOffline):
        await central.execute("CP1", c.ClearCache())  # never connected: at once
    async with charger(central) as cp:
        await cp.boot()
        cp.errors["ClearCache"] = NotSupportedError(description="no cache here")
        with pytest.raises(c.CommandCallError) as error:
            await central.execute("CP1", c.ClearCache())
        assert (error.value.code, error.value.description) == ("NotSupported", "no cache here")
        cp.silent.add("Reset")
        with pytest.raises(c.CommandTimedOut):
            await central.execute("CP1", c.Reset(c.ResetKind.SOFT))


async def test_invalid_requests_are_refused_before_sending(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        with pytest.raises(c.CommandNotApplicable):
            await central.execute("CP1", c.StartCharging("X" * 21))  # idTag is CiString20
        with pytest.raises(c.CommandNotApplicable):
            await central.execute("CP1", c.TriggerMessage("Coffee"))
    assert cp.received == []


async def test_concurrent_commands_all_complete_in_order(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        cp.delay = 0.02
        results = await asyncio.gather(
            *(central.execute("CP1", c.CancelReservation(n)) for n in range(5))
        )
    assert all(result.succeeded for result in results)
    assert [payload["reservation_id"] for _, payload in cp.received] == list(range(5))


async def test_a_charger_hanging_up_mid_call_is_offline_at_once(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        cp.silent.add("Reset")
        pending = asyncio.create_task(central.execute("CP1", c.Reset(c.ResetKind.SOFT)))
        await asyncio.sleep(0.05)
        await cp.connection.close()
        async with asyncio.timeout(0.5):  # well before the 1 s response timeout
            with pytest.raises(c.ChargePointOffline):
                await pending


async def test_a_charger_that_does_not_boot_is_asked_to(socket_enabled: None) -> None:
    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30, boot_wait=0.05)
    await central.start()
    try:
        async with charger(central) as cp:
            async with asyncio.timeout(2):
                while not cp.received:  # noqa: ASYNC110 - the charger side has no event
                    await asyncio.sleep(0.01)
            assert cp.received == [("TriggerMessage", {"requested_message": "BootNotification"})]
            await cp.boot()
            await asyncio.sleep(0.1)
            assert len(cp.received) == 1  # booted: asked once, and only then
    finally:
        await central.stop()


async def test_a_boot_we_asked_for_leaves_running_sessions_alone(socket_enabled: None) -> None:
    """After a reconnect without boot, the triggered BootNotification is no reboot."""
    from ocpp.v16 import call

    central = CentralSystem(host="127.0.0.1", port=0, heartbeat_interval=30, boot_wait=0.05)
    await central.start()
    try:
        async with charger(central) as cp:
            await cp.boot()
            await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="T", meter_start=0, timestamp="2026-12-01T08:00:00Z"
                ),
                suppress=False,
            )
        async with charger(central) as cp:  # back, without booting
            async with asyncio.timeout(2):
                while not cp.received:  # noqa: ASYNC110 - the charger side has no event
                    await asyncio.sleep(0.01)
            await cp.boot()
        assert [t.transaction_id for t in central.sessions.book.open.values()] == [1]
        async with charger(central) as cp:
            await cp.boot()  # a boot of its own: it restarted, its session is over
        assert central.sessions.book.open == {}
    finally:
        await central.stop()


async def test_an_unknown_error_code_is_still_a_call_error(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        bogus = NotSupportedError(description="nonsense")
        bogus.code = "Bogus"  # no code OCPP 1.6 defines
        cp.errors["ClearCache"] = bogus
        with pytest.raises(c.CommandCallError) as error:
            await central.execute("CP1", c.ClearCache())
    assert error.value.code == "UnknownErrorCode"


async def test_a_replaced_connection_takes_no_commands(central: CentralSystem) -> None:
    async with charger(central) as first:
        await first.boot()
        old = central.handler("CP1")
        assert old is not None
        async with charger(central) as second:
            await second.boot()
            with pytest.raises(c.ChargePointOffline):
                await old.execute(c.ClearCache())
            assert (await central.execute("CP1", c.ClearCache())).succeeded


async def test_a_cancelled_caller_is_cancelled_not_offline(central: CentralSystem) -> None:
    async with charger(central) as cp:
        await cp.boot()
        cp.silent.add("Reset")
        pending = asyncio.create_task(central.execute("CP1", c.Reset(c.ResetKind.SOFT)))
        await asyncio.sleep(0.05)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
