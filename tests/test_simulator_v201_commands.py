"""The OCPP 2.0.1 simulator answers remote control and smart charging like a station:
RequestStart/StopTransaction, Reset, UnlockConnector, TriggerMessage,
ChangeAvailability, DataTransfer, Set/ClearChargingProfile capping the power,
GetChargingProfiles, GetCompositeSchedule, and its scripted refusals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ocpp.exceptions import NotImplementedError as ActionNotImplemented
from ocpp.v201 import call
import pytest

from .simulator_central_v201 import Central201, central_system_v201, fast_station, sampled

TOKEN = {"id_token": "TAG1", "type": "ISO14443"}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[tuple[Central201, str]]:
    async with central_system_v201() as served:
        yield served


async def remote_start(central: Central201, evse_id: int = 1, **kwargs: Any) -> str:
    """Remote-start on an EVSE; return the transaction id once it charges."""
    since = central.mark()
    reply = await central.call(call.RequestStartTransaction(TOKEN, 42, evse_id, **kwargs))
    assert reply.status == "Accepted"
    started = await central.wait_for(
        "TransactionEvent", lambda e: e["event_type"] == "Started", since=since
    )
    assert (started["trigger_reason"], started["transaction_info"]["remote_start_id"]) == (
        "RemoteStart",
        42,
    )
    assert started["id_token"] == TOKEN
    await central.wait_for(
        "TransactionEvent",
        lambda e: e["transaction_info"].get("charging_state") in ("Charging", "SuspendedEVSE"),
        since=since,
    )
    return str(started["transaction_info"]["transaction_id"])


async def ended(central: Central201, since: int) -> dict[str, Any]:
    return await central.wait_for(
        "TransactionEvent", lambda e: e["event_type"] == "Ended", since=since
    )


def profile(
    profile_id: int,
    purpose: str,
    limit: float,
    *,
    unit: str = "A",
    kind: str = "Relative",
    **extra: Any,
) -> dict[str, Any]:
    period: dict[str, Any] = {"start_period": 0, "limit": limit, **extra.pop("period", {})}
    schedule: dict[str, Any] = {
        "id": profile_id,
        "charging_rate_unit": unit,
        "charging_schedule_period": [period],
        **extra.pop("schedule", {}),
    }
    return {
        "id": profile_id,
        "stack_level": 0,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": [schedule],
        **extra,
    }


async def offered_after(central: Central201, since: int) -> float:
    event = await central.wait_for(
        "TransactionEvent", lambda e: e["trigger_reason"] == "ChargingRateChanged", since=since
    )
    return sampled(event, "Current.Offered")


async def test_remote_start_and_stop(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        transaction_id = await remote_start(central)
        busy = await central.call(call.RequestStartTransaction(TOKEN, 43, 1))
        assert busy.status == "Rejected"
        assert (await central.call(call.RequestStopTransaction("nope"))).status == "Rejected"
        since = central.mark()
        reply = await central.call(call.RequestStopTransaction(transaction_id))
        assert reply.status == "Accepted"
        last = await ended(central, since)
        assert (last["trigger_reason"], last["transaction_info"]["stopped_reason"]) == (
            "RemoteStop",
            "Remote",
        )
        assert last["transaction_info"]["charging_state"] == "EVConnected"


async def test_a_remote_start_with_its_transactions_profile(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        refused = await central.call(
            call.RequestStartTransaction(
                TOKEN, 43, 1, charging_profile=profile(1, "TxDefaultProfile", 8)
            )
        )
        assert refused.status == "Rejected"
        await remote_start(central, charging_profile=profile(2, "TxProfile", 8))
        event = await central.wait_for(
            "TransactionEvent", lambda e: e["trigger_reason"] == "MeterValuePeriodic"
        )
        assert sampled(event, "Current.Offered") == 8
        reply = await central.call(
            call.GetChargingProfiles(5, {"charging_profile_purpose": "TxProfile"})
        )
        assert reply.status == "Accepted"
        report = await central.wait_for("ReportChargingProfiles")
        (reported,) = report["charging_profile"]
        assert (report["evse_id"], reported["id"]) == (1, 2)
        assert reported["transaction_id"] == event["transaction_info"]["transaction_id"]


@pytest.mark.parametrize("kind", ["Immediate", "OnIdle"])
async def test_reset_of_the_station(csms: tuple[Central201, str], kind: str) -> None:
    central, url = csms
    async with fast_station(url, energy_wh=1000) as sim:
        await remote_start(central)
        since = central.mark()
        reply = await central.call(call.Reset(kind))
        if kind == "OnIdle":  # waits for the transaction to end
            assert reply.status == "Scheduled"
            assert sim.session() is not None
        else:
            assert reply.status == "Accepted"
            last = await ended(central, since)
            assert last["transaction_info"]["stopped_reason"] == "ImmediateReset"
            assert last["trigger_reason"] == "ResetCommand"
        boot = await central.wait_for("BootNotification", since=since, within=10)
        assert boot["reason"] == "RemoteReset"
        # Back in service (its statuses follow an accepted boot) before it is reset again:
        # a Reset that overtakes the boot's answer meets a station still starting up.
        await central.wait_for("StatusNotification", since=central.after(boot), within=10)
        assert (await central.call(call.Reset("Immediate"))).status == "Accepted"


async def test_reset_of_one_evse(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, connectors=2):
        await remote_start(central, evse_id=2)
        since = central.mark()
        assert (await central.call(call.Reset("Immediate", evse_id=2))).status == "Accepted"
        await ended(central, since)
        await central.wait_for(
            "StatusNotification",
            lambda p: p["evse_id"] == 2 and p["connector_status"] == "Available",
            since=since,
        )
        assert central.sent("BootNotification", since) == []
        assert (await central.call(call.Reset("OnIdle", evse_id=3))).status == "Rejected"


async def test_unlock_connector(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        await central.wait_for("StatusNotification")
        assert (await central.call(call.UnlockConnector(1, 1))).status == "Unlocked"
        assert (await central.call(call.UnlockConnector(2, 1))).status == "UnknownConnector"
        await remote_start(central)
        reply = await central.call(call.UnlockConnector(1, 1))
        assert reply.status == "OngoingAuthorizedTransaction"


@pytest.mark.parametrize(
    ("message", "evse", "status", "sent"),
    [
        ("BootNotification", None, "Accepted", "BootNotification"),
        ("Heartbeat", None, "Accepted", "Heartbeat"),
        ("StatusNotification", {"id": 1, "connector_id": 1}, "Accepted", "StatusNotification"),
        ("StatusNotification", {"id": 1}, "Rejected", None),
        ("StatusNotification", {"id": 9, "connector_id": 1}, "Rejected", None),
        ("MeterValues", {"id": 1}, "Accepted", "MeterValues"),
        ("TransactionEvent", None, "Rejected", None),
        ("LogStatusNotification", None, "Accepted", "LogStatusNotification"),
        ("FirmwareStatusNotification", None, "Accepted", "FirmwareStatusNotification"),
        ("SignV2GCertificate", None, "NotImplemented", None),
    ],
)
async def test_trigger_message(
    csms: tuple[Central201, str],
    message: str,
    evse: dict[str, int] | None,
    status: str,
    sent: str | None,
) -> None:
    central, url = csms
    async with fast_station(url):
        await central.wait_for("StatusNotification")
        since = central.mark()
        reply = await central.call(call.TriggerMessage(message, evse))
        assert reply.status == status
        if sent is not None:
            payload = await central.wait_for(sent, since=since)
            if sent == "BootNotification":
                assert payload["reason"] == "Triggered"
            if sent == "MeterValues":
                assert payload["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"


async def test_a_transaction_event_on_request(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        await remote_start(central)
        since = central.mark()
        assert (await central.call(call.TriggerMessage("TransactionEvent"))).status == "Accepted"
        await central.wait_for(
            "TransactionEvent", lambda e: e["trigger_reason"] == "Trigger", since=since
        )


async def test_change_availability_and_data_transfer(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, vendor_ids=["com.levity"]):
        await central.wait_for("StatusNotification")
        since = central.mark()
        reply = await central.call(call.ChangeAvailability("Inoperative", {"id": 1}))
        assert reply.status == "Accepted"
        await central.wait_for(
            "StatusNotification", lambda p: p["connector_status"] == "Unavailable", since=since
        )
        assert (await central.call(call.ChangeAvailability("Operative"))).status == "Accepted"
        await remote_start(central)
        reply = await central.call(call.ChangeAvailability("Inoperative"))
        assert reply.status == "Scheduled"
        echoed = await central.call(call.DataTransfer("com.levity", "ping", {"n": 1}))
        assert (echoed.status, echoed.data) == ("Accepted", {"n": 1})
        other = await central.call(call.DataTransfer("com.other"))
        assert other.status == "UnknownVendorId"


async def test_a_limit_caps_the_power_and_clearing_lifts_it(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        await remote_start(central)
        since = central.mark()
        reply = await central.call(call.SetChargingProfile(1, profile(1, "TxDefaultProfile", 8)))
        assert reply.status == "Accepted"
        assert await offered_after(central, since) == 8
        composite = await central.call(call.GetCompositeSchedule(60, 1, "W"))
        assert composite.status == "Accepted"
        period = composite.schedule["charging_schedule_period"][0]
        assert (period["limit"], period["number_phases"]) == (8 * 230 * 3, 3)
        since = central.mark()
        watts = profile(2, "ChargingStationMaxProfile", 2760, unit="W", kind="Absolute",
                        schedule={"start_schedule": "2020-01-01T00:00:00Z"})  # fmt: skip
        assert (await central.call(call.SetChargingProfile(0, watts))).status == "Accepted"
        assert await offered_after(central, since) == 4  # 2760 W on 3 x 230 V
        since = central.mark()
        cleared = await central.call(call.ClearChargingProfile())
        assert cleared.status == "Accepted"
        assert await offered_after(central, since) == 16
        again = await central.call(call.ClearChargingProfile(charging_profile_id=1))
        assert again.status == "Unknown"
        none = await central.call(call.GetChargingProfiles(6, {}))
        assert none.status == "NoProfiles"


@pytest.mark.parametrize(
    ("evse_id", "refused", "reason"),
    [
        (1, profile(1, "ChargingStationMaxProfile", 8, kind="Absolute",
                    schedule={"start_schedule": "2020-01-01T00:00:00Z"}), "EVSE 0"),
        (0, profile(1, "ChargingStationMaxProfile", 8), "K01.FR.38"),
        (1, profile(1, "ChargingStationExternalConstraints", 8), "K01.FR.22"),
        (1, profile(1, "TxProfile", 8), "K01.FR.09"),
        (1, profile(1, "TxDefaultProfile", 8, schedule={"start_schedule": "2020-01-01T00:00:00Z"}),
         "K01.FR.41"),
        (1, profile(1, "TxDefaultProfile", 8, kind="Absolute"), "K01.FR.40"),
        (1, profile(1, "TxDefaultProfile", 8, period={"phase_to_use": 1}), "K01.FR.19"),
        (9, profile(1, "TxDefaultProfile", 8), "no EVSE 9"),
        (1, profile(1, "TxDefaultProfile", 8, stack_level=9), "stack level 9 above 8"),
    ],
)  # fmt: skip
async def test_profiles_the_station_refuses(
    csms: tuple[Central201, str], evse_id: int, refused: dict[str, Any], reason: str
) -> None:
    central, url = csms
    async with fast_station(url):
        await central.wait_for("StatusNotification")
        reply = await central.call(call.SetChargingProfile(evse_id, refused))
        assert reply.status == "Rejected"
        assert reason in reply.status_info["additional_info"]


async def test_only_the_rate_units_it_takes(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, rate_units="A", phases=1):
        await central.wait_for("StatusNotification")
        watts = profile(1, "TxDefaultProfile", 2300, unit="W")
        reply = await central.call(call.SetChargingProfile(1, watts))
        assert "K01.FR.26" in reply.status_info["additional_info"]
        single = profile(2, "TxDefaultProfile", 8, period={"number_phases": 1, "phase_to_use": 1})
        reply = await central.call(call.SetChargingProfile(1, single))
        assert "K01.FR.20" in reply.status_info["additional_info"]
        composite = await central.call(call.GetCompositeSchedule(60, 1, "W"))
        assert (composite.status, composite.status_info["reason_code"]) == (
            "Rejected",
            "UnsupportedRateUnit",
        )


async def test_scripted_refusals_and_what_it_lacks(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, reject=["RequestStartTransaction", "GetBaseReport"]):
        await central.wait_for("StatusNotification")
        assert (await central.call(call.RequestStartTransaction(TOKEN, 1))).status == "Rejected"
        assert (await central.call(call.GetBaseReport(1, "FullInventory"))).status == "Rejected"
        with pytest.raises(ActionNotImplemented):
            await central.call(call.ReserveNow(1, "2030-01-01T00:00:00Z", TOKEN))


async def test_transaction_status(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url):
        transaction_id = await remote_start(central)
        status = await central.call(call.GetTransactionStatus(transaction_id))
        assert status.ongoing_indicator is True
        # An event waiting for its answer is still queued at the station.
        central.event_delay = 0.3
        since = central.mark()
        await central.wait_for("TransactionEvent", since=since)
        queued = await central.call(call.GetTransactionStatus(transaction_id))
        assert queued.messages_in_queue is True
        central.event_delay = 0.0
        since = central.mark()
        await central.call(call.RequestStopTransaction(transaction_id))
        await ended(central, since)
        await central.wait_for("StatusNotification", since=since)
        over = await central.call(call.GetTransactionStatus(transaction_id))
        assert (over.ongoing_indicator, over.messages_in_queue) == (False, False)
        anything = await central.call(call.GetTransactionStatus())
        assert (anything.ongoing_indicator, anything.messages_in_queue) == (None, False)
