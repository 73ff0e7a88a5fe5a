"""OCPP 2.0.1 answers read as the neutral results 1.6 ones give; configuration keys as
2.0.1 variables; and what only 2.0.1 can say refused on 1.6. Without HA.
"""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call_result
import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.limits import composite_limit_a
from custom_components.levity_ocpp.csms.v16_commands import to_call as to_v16
from custom_components.levity_ocpp.csms.v201_commands import to_call, to_result
from custom_components.levity_ocpp.csms.v201_variables import (
    V16_KEYS,
    VariableRef,
    configuration_entry,
    parse_key,
)

from .v201_wire import answer, station, wire


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


REFUSED = {"reasonCode": "TxNotFound", "additionalInfo": "no such transaction"}


@pytest.mark.parametrize(
    ("action", "payload", "status", "succeeded", "data"),
    [
        (
            "RequestStartTransaction",
            {"status": "Accepted", "transactionId": "tx-5"},
            "Accepted",
            True,
            {"transaction_id": "tx-5"},
        ),
        (
            "RequestStopTransaction",
            {"status": "Rejected", "statusInfo": REFUSED},
            "Rejected",
            False,
            {
                "status_info": {
                    "reason_code": "TxNotFound",
                    "additional_info": "no such transaction",
                }
            },
        ),
        ("Reset", {"status": "Scheduled"}, "Scheduled", True, {}),
        ("ChangeAvailability", {"status": "Rejected"}, "Rejected", False, {}),
        ("UnlockConnector", {"status": "Unlocked"}, "Unlocked", True, {}),
        (
            "UnlockConnector",
            {"status": "OngoingAuthorizedTransaction"},
            "OngoingAuthorizedTransaction",
            False,
            {},
        ),
        ("TriggerMessage", {"status": "NotImplemented"}, "NotImplemented", False, {}),
        ("SetChargingProfile", {"status": "Rejected"}, "Rejected", False, {}),
        ("ClearChargingProfile", {"status": "Unknown"}, "Unknown", False, {}),
        ("GetChargingProfiles", {"status": "NoProfiles"}, "NoProfiles", False, {}),
        (
            "DataTransfer",
            {"status": "Accepted", "data": {"level": 3}},
            "Accepted",
            True,
            {"data": {"level": 3}},
        ),
        ("DataTransfer", {"status": "UnknownVendorId"}, "UnknownVendorId", False, {}),
        (
            "GetLog",
            {"status": "Accepted", "filename": "log.tar"},
            "Accepted",
            True,
            {"file_name": "log.tar"},
        ),
        ("GetLog", {"status": "AcceptedCanceled"}, "Accepted", True, {"canceled_previous": True}),
        ("UpdateFirmware", {"status": "InvalidCertificate"}, "InvalidCertificate", False, {}),
        ("ReserveNow", {"status": "Occupied"}, "Occupied", False, {}),
        ("CancelReservation", {"status": "Accepted"}, "Accepted", True, {}),
        ("GetLocalListVersion", {"versionNumber": 4}, None, True, {"list_version": 4}),
        ("SendLocalList", {"status": "VersionMismatch"}, "VersionMismatch", False, {}),
        ("ClearCache", {"status": "Rejected"}, "Rejected", False, {}),
    ],
)
async def test_answers_read_as_1_6_ones(
    action: str,
    payload: dict[str, Any],
    status: str | None,
    succeeded: bool,
    data: dict[str, Any],
) -> None:
    result = to_result(await answer(action, payload))
    assert (result.status, result.succeeded, result.data) == (status, succeeded, data)


def test_no_answer_object_is_no_status() -> None:
    assert to_result(None) == c.CommandResult(status=None)


def variable(component: str, name: str, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"component": {"name": component}, "variable": {"name": name}}
    found.update(more)
    return found


async def test_variables_read_as_configuration_keys() -> None:
    reply = await answer(
        "GetVariables",
        {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "300",
                    **variable("OCPPCommCtrlr", "HeartbeatInterval"),
                },
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "A,W",
                    **variable("SmartChargingCtrlr", "RateUnit"),
                },
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "22000",
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power", "instance": "Max"},
                },
                {"attributeStatus": "Rejected", **variable("SecurityCtrlr", "BasicAuthPassword")},
                {
                    "attributeStatus": "UnknownVariable",
                    **variable("TxCtrlr", "MaxEnergyOnInvalidId"),
                },
            ]
        },
    )
    result = to_result(reply)
    assert result.status is None
    assert result.succeeded
    assert result.data == {
        "configuration_key": [
            {"key": "HeartbeatInterval", "value": "300", "readonly": None},
            {
                "key": "ChargingScheduleAllowedChargingRateUnit",
                "value": "Current,Power",
                "readonly": None,
            },
            {"key": "EVSE(1)/Power[Max]", "value": "22000", "readonly": None},
            {"key": "AuthorizationKey", "value": None, "readonly": None},
        ],
        "unknown_key": ["MaxEnergyOnInvalidId"],
        "refused_key": {"AuthorizationKey": "Rejected"},
    }


@pytest.mark.parametrize(
    ("attribute_status", "status", "succeeded"),
    [
        ("Accepted", "Accepted", True),
        ("RebootRequired", "RebootRequired", True),
        ("Rejected", "Rejected", False),
        ("UnknownComponent", "NotSupported", False),
        ("UnknownVariable", "NotSupported", False),
        ("NotSupportedAttributeType", "NotSupported", False),
    ],
)
async def test_setting_a_variable_reads_as_changing_a_key(
    attribute_status: str, status: str, succeeded: bool
) -> None:
    reply = await answer(
        "SetVariables",
        {
            "setVariableResult": [
                {
                    "attributeStatus": attribute_status,
                    "attributeStatusInfo": {"reasonCode": "Why"},
                    **variable("OCPPCommCtrlr", "HeartbeatInterval"),
                }
            ]
        },
    )
    result = to_result(reply)
    assert (result.status, result.succeeded) == (status, succeeded)
    assert result.data["attribute_status"] == attribute_status
    assert result.data["status_info"] == {"reason_code": "Why"}


async def test_a_composite_schedule_reads_back_as_the_applied_limit() -> None:
    reply = await answer(
        "GetCompositeSchedule",
        {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 300,
                "scheduleStart": "2026-12-01T08:00:00.000Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900, "numberPhases": 3}],
            },
        },
    )
    result = to_result(reply)
    assert result.status == "Accepted"
    assert result.data["connector_id"] == 1
    schedule = result.data["charging_schedule"]
    assert schedule["start_schedule"] == "2026-12-01T08:00:00.000Z"
    model = station(1)
    model.connector(1).number_phases = 3
    assert composite_limit_a(model, 1, schedule) == 10.0  # 6900 W on 3 x 230 V
    rejected = to_result(await answer("GetCompositeSchedule", {"status": "Rejected"}))
    assert (rejected.status, rejected.data) == ("Rejected", {})


async def test_configuration_keys_as_variables() -> None:
    keys = ("HeartbeatInterval", "EVSE(1)/Power", "OCPPCommCtrlr/MessageTimeout[Default]")
    sent = await wire(to_call(c.GetConfiguration(keys), station(1)))
    assert sent["getVariableData"] == [
        variable("OCPPCommCtrlr", "HeartbeatInterval"),
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "MessageTimeout", "instance": "Default"},
        },
    ]
    everything = await wire(to_call(c.GetConfiguration(), station(1)))
    assert len(everything["getVariableData"]) == len(V16_KEYS)
    reported = station(1, configuration={"HeartbeatInterval": "60", "OCPPCommCtrlr/X": "1"})
    (only,) = (await wire(to_call(c.GetConfiguration(), reported)))["getVariableData"]
    assert only == variable("OCPPCommCtrlr", "HeartbeatInterval")
    units = await wire(
        to_call(
            c.SetConfiguration("ChargingScheduleAllowedChargingRateUnit", "Current"), station(1)
        )
    )
    assert units["setVariableData"] == [
        {"attributeValue": "A", **variable("SmartChargingCtrlr", "RateUnit")}
    ]
    secret = await wire(
        to_call(c.SetConfiguration("AuthorizationKey", "s3cret-s3cret-16"), station(1))
    )
    assert secret["setVariableData"][0]["component"] == {"name": "SecurityCtrlr"}


def test_no_more_variables_than_the_charger_answers_at_a_time() -> None:
    model = station(1, configuration={"GetConfigurationMaxKeys": "2"})
    with pytest.raises(c.CommandNotApplicable, match="at most 2 variables at a time, not 3"):
        to_call(c.GetConfiguration(("HeartbeatInterval", "ResetRetries", "SecurityProfile")), model)
    assert len(to_call(c.GetConfiguration(("HeartbeatInterval",)), model).get_variable_data) == 1


@pytest.mark.parametrize(
    ("key", "ref"),
    [
        ("A/B", VariableRef("A", "B")),
        ("EVSE(2)/Power[Max]", VariableRef("EVSE", "Power", variable_instance="Max", evse_id=2)),
        (
            "Connector[Left](1,2)/Type",
            VariableRef("Connector", "Type", component_instance="Left", evse_id=1, connector_id=2),
        ),
    ],
)
def test_written_out_variables_read_back_the_same(key: str, ref: VariableRef) -> None:
    assert parse_key(key) == ref
    assert ref.key == key


@pytest.mark.parametrize("key", ["Heartbeat", "A/B/C", "A(x)/B", "/B", "A/"])
def test_what_is_no_variable(key: str) -> None:
    assert parse_key(key) is None


def test_reported_variables_as_configuration_entries() -> None:
    units = VariableRef("SmartChargingCtrlr", "RateUnit")
    assert configuration_entry(units, "W", readonly=True) == (
        "ChargingScheduleAllowedChargingRateUnit",
        {"value": "Power", "readonly": True},
    )
    power = VariableRef("EVSE", "Power", evse_id=1)
    assert configuration_entry(power, None, readonly=None) == (
        "EVSE(1)/Power",
        {"value": None, "readonly": None},
    )


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (c.StopCharging("tx-1"), "'tx-1' is not an OCPP 1.6 transaction id"),
        (c.Reset(c.ResetKind.SOFT, 1), "whole charge point only"),
        (
            c.SetChargingProfile(
                1,
                c.ChargingProfile(
                    1,
                    0,
                    c.ChargingPurpose.TX_DEFAULT,
                    c.ScheduleKind.RELATIVE,
                    c.RateUnit.AMPERE,
                    (c.SchedulePeriod(0, 10.0, 1, 2),),
                ),
            ),
            "cannot choose the phase",
        ),
        (c.GetChargingProfiles(1), "no GetChargingProfiles"),
    ],
)
def test_what_only_2_0_1_says_is_refused_on_1_6(command: c.Command, reason: str) -> None:
    with pytest.raises(c.CommandNotApplicable, match=reason):
        to_v16(command, "CP1")


def test_1_6_takes_a_transaction_id_given_as_digits() -> None:
    assert to_v16(c.StopCharging("12"), "CP1").transaction_id == 12
    assert to_v16(c.Reset(c.ResetKind.HARD, 0), "CP1").type == "Hard"


def test_answers_the_schema_would_have_refused_cost_nothing() -> None:
    """With schema checks relaxed for a sloppy charger, odd entries are skipped."""
    odd = call_result.GetVariables(
        get_variable_result=[
            "text",
            {"attribute_status": "Accepted", "component": "EVSE", "variable": {"name": "Power"}},
            {"attribute_status": "Accepted", "component": {"name": 7}, "variable": {"name": "P"}},
            {
                "attribute_status": "Accepted",
                "attribute_value": 5,
                "component": {"name": "EVSE", "evse": "one"},
                "variable": {"name": "Power"},
            },
        ]
    )
    assert to_result(odd).data == {
        "configuration_key": [{"key": "EVSE/Power", "value": None, "readonly": None}]
    }
    nothing = to_result(call_result.SetVariables(set_variable_result=[]))
    assert (nothing.status, nothing.data) == (None, {})
    unscheduled = to_result(call_result.GetCompositeSchedule(status="Accepted", schedule="none"))
    assert (unscheduled.status, unscheduled.data) == ("Accepted", {})
