"""Version-neutral commands as OCPP 2.0.1 requests (csms/v201_commands.py), without HA.

Every request is checked against the 2.0.1 JSON schema as it would go on the wire;
what 2.0.1 cannot say, or what breaks a rule the charger would refuse it for,
never gets that far.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.levity_ocpp.csms import commands as c
from custom_components.levity_ocpp.csms.limits import LimitProfile, limit_command
from custom_components.levity_ocpp.csms.v201_commands import RequestIds, id_token, to_call

from .v201_wire import station, wire


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant in this module (overrides the HA fixture of conftest.py)."""


AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PERIODS = (c.SchedulePeriod(0, 10.0, 3),)


def profile(
    purpose: c.ChargingPurpose = c.ChargingPurpose.TX_DEFAULT,
    kind: c.ScheduleKind = c.ScheduleKind.RELATIVE,
    **changes: Any,
) -> c.ChargingProfile:
    fields: dict[str, Any] = {
        "profile_id": 9001,
        "stack_level": 2,
        "purpose": purpose,
        "kind": kind,
        "unit": c.RateUnit.AMPERE,
        "periods": PERIODS,
        **changes,
    }
    return c.ChargingProfile(**fields)


SCHEDULE = {
    "id": 9001,
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0, "numberPhases": 3}],
}


@pytest.mark.parametrize(
    ("command", "action", "sent"),
    [
        (
            c.StartCharging("HomeAssistant", 1),
            "RequestStartTransaction",
            {
                "idToken": {"idToken": "HomeAssistant", "type": "Central"},
                "remoteStartId": 77,
                "evseId": 1,
            },
        ),
        (
            c.StartCharging("04A2B3C4D5E6F7", None, profile(c.ChargingPurpose.TX)),
            "RequestStartTransaction",
            {
                "idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"},
                "remoteStartId": 77,
                "chargingProfile": {
                    "id": 9001,
                    "stackLevel": 2,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": [SCHEDULE],
                },
            },
        ),
        (c.StopCharging(42), "RequestStopTransaction", {"transactionId": "tx-2"}),
        (c.StopCharging("tx-2"), "RequestStopTransaction", {"transactionId": "tx-2"}),
        (c.StopCharging("tx-9f"), "RequestStopTransaction", {"transactionId": "tx-9f"}),
        (c.Reset(c.ResetKind.SOFT), "Reset", {"type": "OnIdle"}),
        (c.Reset(c.ResetKind.HARD, 0), "Reset", {"type": "Immediate"}),
        (c.Reset(c.ResetKind.HARD, 2), "Reset", {"type": "Immediate", "evseId": 2}),
        (c.UnlockConnector(2), "UnlockConnector", {"evseId": 2, "connectorId": 1}),
        (c.SetAvailability(0, False), "ChangeAvailability", {"operationalStatus": "Inoperative"}),
        (
            c.SetAvailability(1, True),
            "ChangeAvailability",
            {"operationalStatus": "Operative", "evse": {"id": 1}},
        ),
        (
            c.TriggerMessage("DiagnosticsStatusNotification"),
            "TriggerMessage",
            {"requestedMessage": "LogStatusNotification"},
        ),
        (
            c.TriggerMessage("MeterValues", 2),
            "TriggerMessage",
            {"requestedMessage": "MeterValues", "evse": {"id": 2}},
        ),
        (
            c.TriggerMessage("StatusNotification", 2),
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}},
        ),
        (
            c.TriggerMessage("TransactionEvent", 1),
            "TriggerMessage",
            {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
        ),
        (
            c.SetChargingProfile(0, profile()),
            "SetChargingProfile",
            {
                "evseId": 0,
                "chargingProfile": {
                    "id": 9001,
                    "stackLevel": 2,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": [SCHEDULE],
                },
            },
        ),
        (
            c.SetChargingProfile(
                0,
                profile(
                    c.ChargingPurpose.CHARGER_MAX,
                    c.ScheduleKind.RECURRING,
                    start_schedule=AT,
                    recurrency="Daily",
                    duration_s=3600,
                    min_rate=6.0,
                    valid_from=AT,
                    valid_to=datetime(2027, 1, 1, tzinfo=UTC),
                ),
            ),
            "SetChargingProfile",
            {
                "evseId": 0,
                "chargingProfile": {
                    "id": 9001,
                    "stackLevel": 2,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "chargingProfileKind": "Recurring",
                    "recurrencyKind": "Daily",
                    "validFrom": "2026-12-01T08:00:00.000Z",
                    "validTo": "2027-01-01T00:00:00.000Z",
                    "chargingSchedule": [
                        {
                            **SCHEDULE,
                            "startSchedule": "2026-12-01T08:00:00.000Z",
                            "duration": 3600,
                            "minChargingRate": 6.0,
                        }
                    ],
                },
            },
        ),
        (c.ClearChargingProfile(), "ClearChargingProfile", {}),
        (
            c.ClearChargingProfile(profile_id=9001),
            "ClearChargingProfile",
            {"chargingProfileId": 9001},
        ),
        (
            c.ClearChargingProfile(connector_id=1, purpose=c.ChargingPurpose.TX, stack_level=2),
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "stackLevel": 2,
                }
            },
        ),
        (
            c.GetChargingProfiles(5, 1, c.ChargingPurpose.TX_DEFAULT, 2, (9001, 9002)),
            "GetChargingProfiles",
            {
                "requestId": 5,
                "evseId": 1,
                "chargingProfile": {
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "stackLevel": 2,
                    "chargingProfileId": [9001, 9002],
                },
            },
        ),
        (
            c.GetChargingProfiles(6),
            "GetChargingProfiles",
            {"requestId": 6, "chargingProfile": {}},
        ),
        (
            c.GetCompositeSchedule(0, 300, c.RateUnit.WATT),
            "GetCompositeSchedule",
            {"duration": 300, "evseId": 0, "chargingRateUnit": "W"},
        ),
        (
            c.DataTransfer("acme", "ping", "x"),
            "DataTransfer",
            {"vendorId": "acme", "messageId": "ping", "data": "x"},
        ),
        (
            c.GetDiagnostics("ftp://example.invalid/", AT, AT, 2, 60),
            "GetLog",
            {
                "log": {
                    "remoteLocation": "ftp://example.invalid/",
                    "oldestTimestamp": "2026-12-01T08:00:00.000Z",
                    "latestTimestamp": "2026-12-01T08:00:00.000Z",
                },
                "logType": "DiagnosticsLog",
                "requestId": 77,
                "retries": 2,
                "retryInterval": 60,
            },
        ),
        (
            c.UpdateFirmware("https://example.invalid/fw.bin", AT, 3),
            "UpdateFirmware",
            {
                "requestId": 77,
                "firmware": {
                    "location": "https://example.invalid/fw.bin",
                    "retrieveDateTime": "2026-12-01T08:00:00.000Z",
                },
                "retries": 3,
            },
        ),
        (
            c.ReserveNow(0, AT, "CARD", 5, "GROUP"),
            "ReserveNow",
            {
                "id": 5,
                "expiryDateTime": "2026-12-01T08:00:00.000Z",
                "idToken": {"idToken": "CARD", "type": "Central"},
                "groupIdToken": {"idToken": "GROUP", "type": "Central"},
            },
        ),
        (
            c.ReserveNow(2, AT, "CARD", 5),
            "ReserveNow",
            {
                "id": 5,
                "expiryDateTime": "2026-12-01T08:00:00.000Z",
                "idToken": {"idToken": "CARD", "type": "Central"},
                "evseId": 2,
            },
        ),
        (c.CancelReservation(5), "CancelReservation", {"reservationId": 5}),
        (c.GetLocalListVersion(), "GetLocalListVersion", {}),
        (
            c.SendLocalList(
                3,
                False,
                (
                    c.LocalAuthorization("DEADBEEF", "Accepted", AT, "GROUP"),
                    c.LocalAuthorization("GONE"),
                ),
            ),
            "SendLocalList",
            {
                "versionNumber": 3,
                "updateType": "Differential",
                "localAuthorizationList": [
                    {
                        "idToken": {"idToken": "DEADBEEF", "type": "ISO14443"},
                        "idTokenInfo": {
                            "status": "Accepted",
                            "cacheExpiryDateTime": "2026-12-01T08:00:00.000Z",
                            "groupIdToken": {"idToken": "GROUP", "type": "Central"},
                        },
                    },
                    {"idToken": {"idToken": "GONE", "type": "Central"}},
                ],
            },
        ),
        (c.SendLocalList(4, True), "SendLocalList", {"versionNumber": 4, "updateType": "Full"}),
        (c.ClearCache(), "ClearCache", {}),
    ],
)
async def test_every_command_as_a_valid_request(
    command: c.Command, action: str, sent: dict[str, Any]
) -> None:
    payload = to_call(command, station(1, 2, transactions={2: "tx-2"}), request_id=77)
    assert type(payload).__name__ == action
    assert await wire(payload) == sent


async def test_request_ids_rise_and_stay_32_bit() -> None:
    ids = RequestIds(datetime(2026, 12, 1, tzinfo=UTC))
    first = ids.next()
    assert ids.next() == first + 1
    payloads = [to_call(c.StartCharging("A"), station(1)) for _ in range(2)]
    assert payloads[1].remote_start_id == payloads[0].remote_start_id + 1
    wrapping = RequestIds(datetime.fromtimestamp(2**31 - 2, UTC))
    assert [wrapping.next(), wrapping.next()] == [2**31 - 1, 1]


@pytest.mark.parametrize(
    ("tag", "kind"),
    [("04a2b3c4", "ISO14443"), ("04A2B3C4D5E6F708090A", "ISO14443"), ("04A2B3C", "Central")],
)
def test_card_uids_are_iso14443_tokens(tag: str, kind: str) -> None:
    assert id_token(tag).type == kind


@pytest.mark.parametrize(
    ("command", "action", "reason"),
    [
        (c.StartCharging("A", 0), "RequestStartTransaction", "on an EVSE"),
        (c.StopCharging(12), "RequestStopTransaction", "no session 12 is running"),
        (c.UnlockConnector(0), "UnlockConnector", "on an EVSE"),
        (c.TriggerMessage("Reboot"), "TriggerMessage", "Reboot cannot be triggered"),
        (c.TriggerMessage("StatusNotification"), "TriggerMessage", "for one EVSE: name it"),
        (c.TriggerMessage("StatusNotification", 0), "TriggerMessage", "for one EVSE"),
        (c.SetConfiguration("NoSuchKey", "1"), "SetVariables", "'NoSuchKey' is neither"),
        (c.GetConfiguration(("Heartbeat/", "X")), "GetVariables", "'Heartbeat/' is neither"),
    ],
)
def test_what_2_0_1_cannot_say_is_not_sent(command: c.Command, action: str, reason: str) -> None:
    with pytest.raises(c.CommandNotApplicable, match=reason) as refused:
        to_call(command, station(1, 2))
    assert refused.value.action == action
    assert refused.value.charge_point_id == "CS1"


async def test_a_single_evse_charger_reports_its_status_when_asked() -> None:
    payload = to_call(c.TriggerMessage("StatusNotification"), station(1))
    assert (await wire(payload))["evse"] == {"id": 1, "connectorId": 1}


def test_every_current_limit_the_integration_sends_is_a_valid_2_0_1_profile() -> None:
    model = station(1, transactions={1: "tx-1"})
    for choice in LimitProfile:
        command = limit_command(model, 1, 10.0, choice, AT)
        payload = to_call(command, model)
        sent = payload.charging_profile
        if choice is LimitProfile.CHARGER_MAX:
            assert (payload.evse_id, sent.charging_profile_kind) == (0, "Absolute")
        if choice is LimitProfile.TX:  # our session number 41 is the charger's tx-1
            assert command.profile.transaction_id == 41
            assert sent.transaction_id == "tx-1"
