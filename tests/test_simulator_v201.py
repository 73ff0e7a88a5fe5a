"""The OCPP 2.0.1 simulator (scripts/simulate --ocpp 2.0.1): boot, status per EVSE,
TransactionEvents numbered within their transaction, meter values in them and in
MeterValues, the device model, and sessions across network loss and power cuts.

A tiny ``ocpp`` v201 central system (tests/simulator_central_v201.py) checks every
message against the 2.0.1 schemas over a real websocket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.v201 import call
import pytest

from scripts.simulator import Fault, SessionError
from scripts.simulator.cli import main

from .simulator_central_v201 import Central201, central_system_v201, fast_station, sampled

REGISTER = "Energy.Active.Import.Register"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[tuple[Central201, str]]:
    async with central_system_v201() as served:
        yield served


def of_transaction(central: Central201, transaction_id: str) -> list[dict[str, Any]]:
    return [
        event
        for event in central.events()
        if event["transaction_info"]["transaction_id"] == transaction_id
    ]


async def ended(central: Central201, transaction_id: str, since: int = 0) -> dict[str, Any]:
    return await central.wait_for(
        "TransactionEvent",
        lambda e: (
            e["event_type"] == "Ended" and e["transaction_info"]["transaction_id"] == transaction_id
        ),
        since=since,
    )


async def test_boot_and_a_status_per_evse(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, connectors=2) as sim:
        boot = await central.wait_for("BootNotification")
        assert boot["reason"] == "PowerUp"
        assert boot["charging_station"] == {
            "vendor_name": "Levity",
            "model": "SimCharger",
            "serial_number": "SIM-SIM1",
            "firmware_version": "1.0.0-sim",
        }
        for evse_id in (1, 2):
            status = await central.wait_for(
                "StatusNotification", lambda p, evse_id=evse_id: p["evse_id"] == evse_id
            )
            assert (status["connector_status"], status["connector_id"]) == ("Available", 1)
        assert sim.connector_status(2) == "Available"


async def test_a_pending_station_reports_its_device_model_and_boots_once_accepted(
    csms: tuple[Central201, str],
) -> None:
    central, url = csms
    central.registration, central.boot_interval = "Pending", 1
    run = asyncio.create_task(fast_station(url).run())
    try:
        await central.wait_for("BootNotification")
        reply = await central.call(call.GetBaseReport(7, "ConfigurationInventory"))
        assert reply.status == "Accepted"
        parts = [await central.wait_for("NotifyReport", lambda p: p["tbc"] is False)]
        assert parts[0]["request_id"] == 7
        central.registration = "Accepted"
        await central.wait_for("StatusNotification", within=5)
        assert len(central.sent("BootNotification")) == 2
        assert central.sent("Heartbeat") == []
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


async def test_a_session_as_transaction_events(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, energy_wh=300, meter_start_wh=2000) as sim:
        transaction_id = await sim.start_session()
        assert isinstance(transaction_id, str)
        async with asyncio.timeout(10):
            await sim.wait_session_finished()
        events = of_transaction(central, str(transaction_id))
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        started, *updated, last = events
        assert (started["event_type"], started["trigger_reason"]) == ("Started", "Authorized")
        assert started["id_token"] == {"id_token": "SIMTAG", "type": "Central"}
        assert started["evse"] == {"id": 1, "connector_id": 1}
        assert sampled(started, REGISTER) == 2000
        assert updated[0]["trigger_reason"] == "ChargingStateChanged"
        assert updated[0]["transaction_info"]["charging_state"] == "Charging"
        periodic = [e for e in updated if e["trigger_reason"] == "MeterValuePeriodic"]
        assert periodic
        assert all(
            v["context"] == "Sample.Periodic"
            for e in periodic
            for v in e["meter_value"][0]["sampled_value"]
        )
        assert (last["event_type"], last["trigger_reason"]) == ("Ended", "EVDeparted")
        assert last["transaction_info"]["stopped_reason"] == "EVDisconnected"
        assert last["transaction_info"]["charging_state"] == "Idle"
        assert sampled(last, REGISTER) - sampled(started, REGISTER) == pytest.approx(300, abs=1)
        statuses = [p["connector_status"] for p in central.sent("StatusNotification")]
        assert statuses == ["Available", "Occupied", "Available"]
        assert not any(e.get("offline") for e in events)


async def test_a_refused_id_token_ends_the_transaction(csms: tuple[Central201, str]) -> None:
    central, url = csms
    central.token_status = "Blocked"
    async with fast_station(url) as sim:
        with pytest.raises(SessionError, match="id token Blocked"):
            await sim.start_session()
        last = await central.wait_for("TransactionEvent", lambda e: e["event_type"] == "Ended")
        assert last["trigger_reason"] == "Deauthorized"
        assert last["transaction_info"]["stopped_reason"] == "DeAuthorized"


async def test_network_loss_queues_events_marked_offline(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, energy_wh=400, fault=Fault.OFFLINE, offline_intervals=4) as sim:
        transaction_id = await sim.start_session()
        async with asyncio.timeout(15):
            await sim.wait_session_finished()
        await ended(central, str(transaction_id))
        events = of_transaction(central, str(transaction_id))
        assert [e["seq_no"] for e in events] == list(range(len(events)))
        offline = [e for e in events if e.get("offline")]
        assert offline, "events of the outage are marked offline"
        assert len(central.sent("BootNotification")) == 1  # a network loss is no reboot


async def test_a_power_cut_ends_the_transaction_with_power_loss(
    csms: tuple[Central201, str],
) -> None:
    central, url = csms
    async with fast_station(url, energy_wh=400, fault=Fault.REBOOT) as sim:
        first = await sim.start_session()
        async with asyncio.timeout(15):
            await sim.wait_session_finished()
        session = sim.session()
        assert session is None
        lost = await ended(central, str(first))
        assert lost["transaction_info"]["stopped_reason"] == "PowerLoss"
        assert lost["trigger_reason"] == "AbnormalCondition"
        boots = central.sent("BootNotification")
        assert [boot["reason"] for boot in boots] == ["PowerUp", "PowerUp"]
        second = [e for e in central.events() if e["event_type"] == "Started" and e["seq_no"] == 0][
            -1
        ]
        assert second["transaction_info"]["transaction_id"] != first


async def test_clock_aligned_meter_values_in_and_out_of_transactions(
    csms: tuple[Central201, str],
) -> None:
    central, url = csms
    async with fast_station(url, aligned_interval=0.1, energy_wh=10_000_000) as sim:
        idle = await central.wait_for("MeterValues")
        assert idle["evse_id"] == 1
        values = idle["meter_value"][0]["sampled_value"]
        assert {v["measurand"] for v in values} == {REGISTER, "Voltage"}
        assert {v["context"] for v in values} == {"Sample.Clock"}
        await sim.start_session()
        clock = await central.wait_for(
            "TransactionEvent", lambda e: e["trigger_reason"] == "MeterValueClock"
        )
        assert clock["meter_value"][0]["sampled_value"][0]["context"] == "Sample.Clock"


async def test_variables_read_and_changed(csms: tuple[Central201, str]) -> None:
    central, url = csms

    def data(component: str, name: str, **more: Any) -> dict[str, Any]:
        return {"component": {"name": component}, "variable": {"name": name}, **more}

    async with fast_station(url) as sim:
        await central.wait_for("StatusNotification")
        reply = await central.call(
            call.GetVariables(
                [
                    data("OCPPCommCtrlr", "HeartbeatInterval"),
                    data("SmartChargingCtrlr", "RateUnit"),
                    data("SecurityCtrlr", "BasicAuthPassword"),
                    data("OCPPCommCtrlr", "NoSuchThing"),
                    data("NoSuchCtrlr", "Enabled"),
                    data("OCPPCommCtrlr", "HeartbeatInterval", attribute_type="Target"),
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "AvailabilityState"},
                    },
                ]
            )
        )
        results = [
            (r["attribute_status"], r.get("attribute_value")) for r in reply.get_variable_result
        ]
        assert results == [
            ("Accepted", "60"),
            ("Accepted", "A,W"),
            ("Rejected", None),
            ("UnknownVariable", None),
            ("UnknownComponent", None),
            ("NotSupportedAttributeType", None),
            ("Accepted", "Available"),
        ]
        reply = await central.call(
            call.SetVariables(
                [
                    {**data("OCPPCommCtrlr", "HeartbeatInterval"), "attribute_value": "7"},
                    {**data("SampledDataCtrlr", "TxUpdatedInterval"), "attribute_value": "1"},
                    {**data("SmartChargingCtrlr", "RateUnit"), "attribute_value": "W"},
                    {**data("SampledDataCtrlr", "TxUpdatedMeasurands"), "attribute_value": "Bogus"},
                    {**data("SecurityCtrlr", "BasicAuthPassword"), "attribute_value": "short"},
                ]
            )
        )
        assert [r["attribute_status"] for r in reply.set_variable_result] == [
            "Accepted",
            "Accepted",
            "Rejected",
            "Rejected",
            "Rejected",
        ]
        assert (sim.heartbeat_interval, sim.interval) == (7.0, 1.0)
        with pytest.raises(OccurrenceConstraintViolationError):
            await central.call(call.GetVariables([data("OCPPCommCtrlr", "ResetRetries")] * 21))


async def test_base_reports_in_parts(csms: tuple[Central201, str]) -> None:
    central, url = csms
    async with fast_station(url, connectors=2):
        await central.wait_for("StatusNotification")
        reply = await central.call(call.GetBaseReport(3, "FullInventory"))
        assert reply.status == "Accepted"
        await central.wait_for("NotifyReport", lambda p: p["tbc"] is False)
        parts = central.sent("NotifyReport")
        assert [p["seq_no"] for p in parts] == list(range(len(parts)))
        assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
        entries = [entry for part in parts for entry in part["report_data"]]
        names = {(e["component"]["name"], e["variable"]["name"]) for e in entries}
        assert ("SmartChargingCtrlr", "RateUnit") in names
        assert ("EVSE", "Power") in names
        password = next(e for e in entries if e["variable"]["name"] == "BasicAuthPassword")
        assert "value" not in password["variable_attribute"][0]
        since = central.mark()
        await central.call(call.GetBaseReport(4, "SummaryInventory"))
        summary = await central.wait_for("NotifyReport", since=since)
        assert {e["variable"]["name"] for e in summary["report_data"]} <= {
            "Available",
            "AvailabilityState",
        }


async def test_cli_runs_a_2_0_1_station(
    csms: tuple[Central201, str], capsys: pytest.CaptureFixture[str]
) -> None:
    central, url = csms
    argv = [
        "--ocpp", "2.0.1", "--url", url, "--interval", "0.05", "--duration", "2",
        "--rate-unit", "A", "--aligned-interval", "0.2", "--reject", "Reset",
    ]  # fmt: skip
    run = asyncio.create_task(main(argv))
    await central.wait_for("MeterValues")
    assert (await central.call(call.Reset("Immediate"))).status == "Rejected"
    assert await run == 0
    assert await main(["--rate-unit", "W"]) == 2
    assert "need --ocpp 2.0.1" in capsys.readouterr().err
    assert await main(["--ocpp", "2.0.1", "--reject", "RemoteStartTransaction"]) == 2
    assert "'RemoteStartTransaction' is not one of" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [({"rate_units": "kW"}, "rate_units"), ({"aligned_interval": -1}, "aligned_interval")],
)
def test_wrong_settings_refused(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fast_station("ws://127.0.0.1:1/SIM1", **option)
