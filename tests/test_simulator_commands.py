"""The simulator answers the central system's Core, RemoteTrigger, Reservation,
LocalAuthList and FirmwareManagement commands like a charger would.

A tiny ``ocpp`` central system (tests/simulator_central.py) sends each command
over a real websocket and checks the reply and what the simulator sends next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from ocpp.v16 import call
import pytest

from .simulator_central import Central, central_system, fast_simulator, sampled


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[tuple[Central, str]]:
    async with central_system() as served:
        yield served


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def remote_start(central: Central, id_tag: str = "TAG1", **kwargs: object) -> int:
    """Remote-start on connector 1; return the transaction id once Charging."""
    since = central.mark()
    reply = await central.call(call.RemoteStartTransaction(id_tag=id_tag, connector_id=1, **kwargs))
    assert reply.status == "Accepted"
    start = await central.wait_for("StartTransaction", since=since)
    assert start["id_tag"] == id_tag
    await central.status("Charging", since=since)
    return central.next_transaction_id - 1


async def test_remote_start_and_stop(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        since = central.mark()
        transaction_id = await remote_start(central)
        statuses = [p["status"] for p in central.sent("StatusNotification", since)]
        assert statuses[:2] == ["Preparing", "Charging"]
        # Busy now: a second start is refused.
        busy = await central.call(call.RemoteStartTransaction(id_tag="TAG2", connector_id=1))
        assert busy.status == "Rejected"
        unknown = await central.call(call.RemoteStopTransaction(transaction_id + 7))
        assert unknown.status == "Rejected"

        since = central.mark()
        stop = await central.call(call.RemoteStopTransaction(transaction_id))
        assert stop.status == "Accepted"
        stopped = await central.wait_for("StopTransaction", since=since)
        assert stopped["transaction_id"] == transaction_id
        assert stopped["reason"] == "Remote"
        await central.status("Available", since=since)


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
async def test_reset_ends_the_session_and_boots_again(
    csms: tuple[Central, str], kind: str, reason: str
) -> None:
    central, url = csms
    async with fast_simulator(url) as sim:
        await remote_start(central)
        since = central.mark()
        reply = await central.call(call.Reset(kind))
        assert reply.status == "Accepted"
        stopped = await central.wait_for("StopTransaction", since=since)
        assert stopped["reason"] == reason
        boot = await central.wait_for("BootNotification", since=since)
        await central.status("Available", since=central.after(boot))
        assert sim.boot_count == 2


async def test_unlock_connector(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        assert (await central.call(call.UnlockConnector(1))).status == "Unlocked"
        assert (await central.call(call.UnlockConnector(5))).status == "NotSupported"
        await remote_start(central)
        since = central.mark()
        assert (await central.call(call.UnlockConnector(1))).status == "Unlocked"
        stopped = await central.wait_for("StopTransaction", since=since)
        assert stopped["reason"] == "UnlockCommand"


async def test_change_availability(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        since = central.mark()
        reply = await central.call(call.ChangeAvailability(1, "Inoperative"))
        assert reply.status == "Accepted"
        await central.status("Unavailable", since=since)
        refused = await central.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1))
        assert refused.status == "Rejected"
        since = central.mark()
        assert (await central.call(call.ChangeAvailability(1, "Operative"))).status == "Accepted"
        await central.status("Available", since=since)
        assert (await central.call(call.ChangeAvailability(3, "Operative"))).status == "Rejected"

        # While charging, going out of service waits for the session to end.
        transaction_id = await remote_start(central)
        reply = await central.call(call.ChangeAvailability(0, "Inoperative"))
        assert reply.status == "Scheduled"
        since = central.mark()
        await central.call(call.RemoteStopTransaction(transaction_id))
        await central.status("Unavailable", since=since)


async def test_get_configuration(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, connectors=2):
        reply = await central.call(call.GetConfiguration())
        keys = {k["key"]: k for k in reply.configuration_key}
        assert keys["NumberOfConnectors"] == {
            "key": "NumberOfConnectors",
            "readonly": True,
            "value": "2",
        }
        assert keys["SupportedFeatureProfiles"]["value"] == (
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
        )
        assert keys["MeterValueSampleInterval"]["value"] == "0.05"
        assert "Power.Active.Import" in keys["MeterValuesSampledData"]["value"]
        assert keys["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current"
        assert keys["ChargeProfileMaxStackLevel"]["value"] == "8"
        assert keys["ConnectorSwitch3to1PhaseSupported"]["value"] == "true"
        assert "value" not in keys["AuthorizationKey"]  # a secret is never read back

        some = await central.call(call.GetConfiguration(key=["HeartbeatInterval", "Nope"]))
        assert [k["key"] for k in some.configuration_key] == ["HeartbeatInterval"]
        assert some.unknown_key == ["Nope"]


async def test_change_configuration(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, interval=1.0):
        for key, value, status in (
            ("NumberOfConnectors", "3", "Rejected"),  # read-only
            ("NoSuchKey", "1", "NotSupported"),
            ("HeartbeatInterval", "ten", "Rejected"),
            ("AuthorizationKey", "short", "Rejected"),
            ("AuthorizationKey", "0123456789abcdef", "Accepted"),
            ("LocalPreAuthorize", "maybe", "Rejected"),
            ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus", "Rejected"),
            ("LocalPreAuthorize", "true", "Accepted"),
        ):
            reply = await central.call(call.ChangeConfiguration(key, value))
            assert reply.status == status, key
        reply = await central.call(call.GetConfiguration(key=["LocalPreAuthorize"]))
        assert reply.configuration_key[0]["value"] == "true"

        # Sampling every second: hardly a MeterValues in half a second; then every 0.05 s.
        await remote_start(central)
        reply = await central.call(call.ChangeConfiguration("MeterValueSampleInterval", "0.05"))
        assert reply.status == "Accepted"
        await central.wait_for("MeterValues", since=central.mark(), within=2)
        since = central.mark()
        await asyncio_sleep(0.5)
        assert len(central.sent("MeterValues", since)) >= 4


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("StatusNotification", "StatusNotification"),
        ("MeterValues", "MeterValues"),
        ("Heartbeat", "Heartbeat"),
        ("BootNotification", "BootNotification"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
        ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
    ],
)
async def test_trigger_message(csms: tuple[Central, str], message: str, expected: str) -> None:
    central, url = csms
    async with fast_simulator(url):
        since = central.mark()
        reply = await central.call(call.TriggerMessage(message, connector_id=1))
        assert reply.status == "Accepted"
        payload = await central.wait_for(expected, since=since)
        if message == "MeterValues":
            assert payload["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"
            assert sampled(payload, "Energy.Active.Import.Register") > 0
        if message.endswith("StatusNotification") and message != "StatusNotification":
            assert payload["status"] == "Idle"
        refused = await central.call(call.TriggerMessage(message, connector_id=9))
        assert refused.status == "Rejected"


async def test_data_transfer(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, vendor_ids=["com.levity"]):
        unknown = await central.call(call.DataTransfer("com.other", data="x"))
        assert unknown.status == "UnknownVendorId"
        known = await central.call(call.DataTransfer("com.levity", message_id="echo", data="hi"))
        assert (known.status, known.data) == ("Accepted", "hi")


async def test_get_diagnostics_uploads(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, transfer_seconds=0.5):
        since = central.mark()
        reply = await central.call(call.GetDiagnostics("ftp://example.invalid/"))
        assert reply.file_name.startswith("diagnostics-SIM1-")
        await central.wait_for("DiagnosticsStatusNotification", since=since)
        # Mid-upload, a triggered notification tells the truth.
        await central.call(call.TriggerMessage("DiagnosticsStatusNotification"))
        await central.wait_for(
            "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded", since=since
        )
        statuses = [p["status"] for p in central.sent("DiagnosticsStatusNotification", since)]
        assert statuses[:3] == ["Uploading", "Uploading", "Uploaded"]


async def test_update_firmware(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, transfer_seconds=0.1):
        # A first request is replaced by the second, which starts at once.
        await central.call(call.UpdateFirmware("http://example.invalid/a.bin", later(3600)))
        since = central.mark()
        await central.call(call.UpdateFirmware("http://example.invalid/b.bin", later(-1)))
        await central.wait_for(
            "FirmwareStatusNotification", lambda p: p["status"] == "Installed", since=since
        )
        statuses = [p["status"] for p in central.sent("FirmwareStatusNotification", since)]
        assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]


async def test_reservations(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, connectors=2):
        since = central.mark()
        reply = await central.call(call.ReserveNow(1, later(60), "TAG1", reservation_id=7))
        assert reply.status == "Accepted"
        await central.status("Reserved", since=since)
        # Someone else cannot take the reserved connector; a second reservation neither.
        other = await central.call(call.RemoteStartTransaction(id_tag="TAG2", connector_id=1))
        assert other.status == "Rejected"
        again = await central.call(call.ReserveNow(1, later(60), "TAG2", reservation_id=8))
        assert again.status == "Occupied"
        assert (await central.call(call.ReserveNow(0, later(60), "T", 9))).status == "Rejected"
        assert (await central.call(call.ReserveNow(2, later(-5), "T", 9))).status == "Rejected"
        # Moving reservation 7 to connector 2 frees connector 1.
        since = central.mark()
        moved = await central.call(call.ReserveNow(2, later(60), "TAG1", reservation_id=7))
        assert moved.status == "Accepted"
        await central.status("Reserved", 2, since=since)
        await central.status("Available", 1, since=since)

        since = central.mark()
        assert (await central.call(call.CancelReservation(7))).status == "Accepted"
        await central.status("Available", 2, since=since)
        assert (await central.call(call.CancelReservation(7))).status == "Rejected"

        # Its own id tag uses the reservation up; StartTransaction names it.
        await central.call(call.ReserveNow(1, later(60), "TAG1", reservation_id=10))
        since = central.mark()
        await remote_start(central, "TAG1")
        start = central.sent("StartTransaction", since)[0]
        assert start["reservation_id"] == 10
        occupied = await central.call(call.ReserveNow(1, later(60), "TAG3", reservation_id=11))
        assert occupied.status == "Occupied"

        # A reservation expires by itself.
        since = central.mark()
        await central.call(call.ReserveNow(2, later(0.3), "TAG3", reservation_id=12))
        await central.status("Reserved", 2, since=since)
        await central.status("Available", 2, since=since)


async def test_reservation_refused_when_faulted_or_unavailable(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url, connectors=2) as sim:
        await sim.send_status(1, "Faulted", "GroundFailure")
        assert (await central.call(call.ReserveNow(1, later(60), "T", 1))).status == "Faulted"
        await central.call(call.ChangeAvailability(2, "Inoperative"))
        assert (await central.call(call.ReserveNow(2, later(60), "T", 1))).status == "Unavailable"


async def test_local_list(csms: tuple[Central, str]) -> None:
    central, url = csms
    async with fast_simulator(url):
        assert (await central.call(call.GetLocalListVersion())).list_version == 0
        accepted = {"status": "Accepted"}
        tags = [{"id_tag": f"TAG{n}", "id_tag_info": accepted} for n in range(3)]
        reply = await central.call(call.SendLocalList(3, "Full", tags))
        assert reply.status == "Accepted"
        assert (await central.call(call.GetLocalListVersion())).list_version == 3
        stale = await central.call(call.SendLocalList(3, "Differential", []))
        assert stale.status == "VersionMismatch"
        remove = [{"id_tag": f"TAG{n}"} for n in range(3)]
        assert (
            await central.call(call.SendLocalList(4, "Differential", remove))
        ).status == "Accepted"
        assert (await central.call(call.GetLocalListVersion())).list_version == 0  # empty now
        too_many = [{"id_tag": f"T{n}", "id_tag_info": accepted} for n in range(51)]
        assert (await central.call(call.SendLocalList(5, "Full", too_many))).status == "Failed"
        assert (await central.call(call.ClearCache())).status == "Accepted"
