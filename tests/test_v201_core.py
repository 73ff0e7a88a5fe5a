"""The HA-free parts of OCPP 2.0.1 support: readings, device model, statuses, negotiation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.levity_ocpp.csms.charger_clock import ChargerClock
from custom_components.levity_ocpp.csms.meter import InvalidMeterValue, MeterSample, energy_register
from custom_components.levity_ocpp.csms.model import ChargePoint
from custom_components.levity_ocpp.csms.negotiation import choose_subprotocol
from custom_components.levity_ocpp.csms.settings import OcppVersion
from custom_components.levity_ocpp.csms.transactions import Transaction
from custom_components.levity_ocpp.csms.v201_device_model import (
    MAX_OPEN_REPORTS,
    DeviceModel,
    ReportCollector,
)
from custom_components.levity_ocpp.csms.v201_meter import parse_meter_values_v201
from custom_components.levity_ocpp.csms.v201_status import (
    evse_status,
    firmware_status,
    log_status,
    model_status,
)

AT = "2026-11-01T10:00:00Z"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


def value(number: Any, **fields: Any) -> dict[str, Any]:
    return {"value": number, **fields}


def test_readings_in_2_0_1_form_read_as_in_1_6() -> None:
    (late, early) = parse_meter_values_v201(
        [
            {
                "timestamp": "2026-11-01T11:00:00Z",
                "sampled_value": [
                    value(12.345, unit_of_measure={"unit": "kWh"}),
                    value(
                        11.04,
                        measurand="Power.Active.Import",
                        unit_of_measure={"unit": "W", "multiplier": 3},
                    ),
                    value(50, measurand="Frequency", unit_of_measure={"unit": "Hz"}),
                    value(
                        9000,
                        measurand="Energy.Active.Export.Register",
                        signed_meter_value={
                            "signed_meter_data": "OCMF|{...}",
                            "signing_method": "ECDSA",
                            "encoding_method": "OCMF",
                            "public_key": "ab",
                        },
                    ),
                ],
            },
            {"timestamp": AT, "sampled_value": [value(5)]},
        ][::-1]
    )[::-1]
    # Oldest first, whatever order they came in.
    assert early.timestamp < late.timestamp
    _, power, frequency, signed = late.values
    assert energy_register(late) == (12.345, 0.001)
    assert (power.value, power.unit, power.resolution) == (11040.0, "W", 10.0)
    assert (frequency.value, frequency.unit) == (50.0, "Hz")
    # A signed reading keeps its number and its signed data as sent.
    assert (signed.value, signed.format, signed.raw) == (9.0, "SignedData", "OCMF|{...}")
    assert early.values[0].value == 0.005  # Wh by default, as in 1.6


@pytest.mark.parametrize(
    ("meter_value", "error"),
    [
        ({"timestamp": AT}, "must be a list"),
        (["x"], r"meterValue\[0\] must be an object"),
        ([{"timestamp": AT}], "has no sampledValue list"),
        ([{"timestamp": AT, "sampled_value": ["x"]}], "must be an object"),
        ([{"timestamp": AT, "sampled_value": [value(True)]}], "has no value"),
        (
            [
                {"timestamp": AT, "sampled_value": [value(1)]},
                {"timestamp": "no", "sampled_value": []},
            ],
            r"meterValue\[1\] has an invalid timestamp",
        ),
    ],
)
def test_broken_readings_say_where(meter_value: Any, error: str) -> None:
    with pytest.raises(InvalidMeterValue, match=error):
        parse_meter_values_v201(meter_value)


def test_multipliers_scale_and_an_absurd_one_is_no_reading() -> None:
    (sample,) = parse_meter_values_v201(
        [
            {
                "timestamp": AT,
                "sampled_value": [
                    value(1.5, unit_of_measure={"multiplier": -3}),
                    value(1.5, measurand="Voltage", unit_of_measure={"multiplier": 10**9}),
                ],
            }
        ]
    )
    small, absurd = sample.values
    assert small.value == pytest.approx(1.5e-6)
    assert absurd.value is None


def entry(component: dict[str, Any], name: str, attributes: Any) -> dict[str, Any]:
    return {"component": component, "variable": {"name": name}, "variable_attribute": attributes}


def test_device_model_from_sloppy_reports() -> None:
    model = DeviceModel()
    model.take(
        [
            "not an entry",
            {"component": {"name": "X"}},  # no variable
            entry({"name": "ReservationCtrlr"}, "Available", [{"value": "true"}]),
            entry({"name": "LocalAuthListCtrlr"}, "Enabled", [{"type": "Target", "value": "true"}]),
            entry({"name": "EVSE", "evse": {"id": 2}}, "Power", "not a list"),
            entry({"name": "Connector", "evse": {"id": 2, "connector_id": 3}}, "Type", []),
            entry({"name": "EVSE", "evse": {"id": 0}}, "Power", [{"value": 7}]),
        ]
    )
    configuration = model.configuration()
    assert model.evses == {2: {3}}
    profiles = configuration["SupportedFeatureProfiles"]["value"].split(",")
    # Reservations are available (no Enabled said otherwise); the local list has
    # no Actual value, so it is not known to be on.
    assert "Reservation" in profiles and "LocalAuthListManagement" not in profiles
    assert configuration["EVSE(2)/Power"] == {"value": None, "readonly": False}
    assert configuration["EVSE(0)/Power"]["value"] == "7"
    assert configuration["NumberOfConnectors"]["value"] == "1"


def test_reports_are_gathered_per_request_and_bounded() -> None:
    collector = ReportCollector()
    part = [entry({"name": "OCPPCommCtrlr"}, "HeartbeatInterval", [{"value": "30"}])]
    assert collector.take(1, part, tbc=True) is None
    for request_id in range(2, MAX_OPEN_REPORTS + 3):  # never finished: the oldest go
        collector.take(request_id, [], tbc=True)
    report = collector.take(1, [], tbc=False)
    assert report is not None and "HeartbeatInterval" not in report.configuration()
    last = collector.take(MAX_OPEN_REPORTS + 2, part, tbc=False)
    assert last is not None and last.configuration()["HeartbeatInterval"]["value"] == "30"


def session(charging_state: str | None = None) -> Transaction:
    transaction = Transaction(1, "CP1", 1, "TAG", datetime.now(UTC), 0.0)
    transaction.charging_state = charging_state
    return transaction


@pytest.mark.parametrize(
    ("connectors", "transaction", "previous", "shown"),
    [
        (["Available", "Unavailable"], None, None, "Available"),
        (["Faulted", "Occupied"], session("Charging"), None, "Charging"),
        (["Unavailable", "Faulted"], None, "Charging", "Faulted"),
        (["Occupied"], session("SuspendedEVSE"), None, "SuspendedEVSE"),
        (["Occupied"], session(), None, "Preparing"),
        (["Occupied"], None, "SuspendedEV", "Finishing"),
        (["Occupied"], None, "Available", "Preparing"),
        (["Available"], session("Idle"), None, "Preparing"),  # authorized before plug-in
        (["Reserved"], None, None, "Reserved"),
        ([], session("Charging"), None, "Charging"),  # after a restart: the session says
        ([], session(), "Charging", None),
        ([], None, "Charging", None),
        (["Broken"], None, None, "Broken"),  # not 2.0.1: kept as sent
    ],
)
def test_statuses_in_the_words_of_1_6(
    connectors: list[str], transaction: Transaction | None, previous: str | None, shown: str | None
) -> None:
    assert model_status(evse_status(connectors), transaction, previous) == shown


def test_firmware_and_log_statuses_in_the_words_of_1_6() -> None:
    assert firmware_status("InstallScheduled") == "Installing"
    assert firmware_status("Installed") == "Installed"
    assert log_status("AcceptedCanceled") == "Idle"
    assert log_status("Uploading") == "Uploading"


@pytest.mark.parametrize(
    ("offered", "version", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], OcppVersion.AUTO, "ocpp1.6"),
        (["ocpp2.0.1"], OcppVersion.AUTO, "ocpp2.0.1"),
        (["ocpp2.1"], OcppVersion.AUTO, None),
        (["ocpp1.6", "ocpp2.0.1"], OcppVersion.V201, "ocpp2.0.1"),
        (["ocpp1.6"], OcppVersion.V201, None),
        (["ocpp2.0.1"], OcppVersion.V16, None),
    ],
)
def test_choose_subprotocol(offered: list[str], version: OcppVersion, chosen: str | None) -> None:
    assert choose_subprotocol(offered, version) == chosen


def test_a_clock_ahead_is_taken_as_received_and_said_once() -> None:
    model = ChargePoint("CP1")
    clock = ChargerClock(model)
    future = datetime.now(UTC) + timedelta(days=1)
    sample = clock.sample(MeterSample(future, ()))
    assert sample.timestamp < future
    assert clock.not_ahead(future) < future
    assert len(model.anomalies) == 1
    now = MeterSample(datetime.now(UTC), ())
    assert clock.sample(now) is now
