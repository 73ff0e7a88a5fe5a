"""Command actions that fail: what the user reads, for every way a command can go wrong."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.exceptions import NotSupportedError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import CONF_COMMAND_TIMEOUT, DEFAULT_COMMAND_TIMEOUT

from .client import connect_charge_point
from .command_helpers import ScheduledChargePoint, act, commanded, device_id
from .commanded import CommandedChargePoint
from .conftest import Connect, listening_port, open_options_step


async def test_offline_rejected_and_call_error_are_told_apart(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        target = device_id(hass, setup_integration)
        cp.statuses["Reset"] = "Rejected"
        with pytest.raises(HomeAssistantError) as error:
            await act(hass, "reset", device_id=target)
        assert error.value.translation_key == "command_refused"
        assert str(error.value) == "CP1 answered reset with Rejected"
        cp.errors["UnlockConnector"] = NotSupportedError(description="no lock here")
        with pytest.raises(HomeAssistantError) as error:
            await act(hass, "unlock", device_id=target)
        assert error.value.translation_key == "command_call_error"
        assert str(error.value) == (
            "CP1 answered unlock connector with an error: NotSupported no lock here"
        )
        # A vendor's refusal is an answer for the caller, not an error.
        cp.statuses["DataTransfer"] = "UnknownVendorId"
        response = await act(hass, "data_transfer", device_id=target, vendor_id="acme")
        assert response == {"status": "UnknownVendorId", "data": "pong"}
        cp.statuses["ChangeConfiguration"] = "RebootRequired"
        response = await act(hass, "set_configuration", device_id=target, key="K", value="1")
        assert response == {"status": "RebootRequired", "reboot_required": True}
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as error:
        await act(hass, "reset", device_id=target)
    assert error.value.translation_key == "charge_point_offline"
    assert error.value.translation_placeholders == {"charge_point": "CP1", "command": "reset"}
    assert str(error.value) == "CP1 is not connected, so reset was not sent"


async def test_a_device_that_is_not_a_charge_point(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as error:
        await act(hass, "reset", device_id="no-such-device")
    assert error.value.translation_key == "unknown_device"


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"stack_level": 0}, "id"),
        ({"id": 1, "purpose": "tx", "kind": "relative", "unit": "A", "periods": []}, "periods"),
        ({"id": 1, "purpose": "cheap", "kind": "relative", "unit": "A"}, "purpose"),
        (
            {"id": 1, "purpose": "tx", "kind": "relative", "unit": "A", "periods": [{"start": 0}]},
            "periods.0.limit",
        ),
        (
            {
                "id": 1,
                "purpose": "tx",
                "kind": "relative",
                "unit": "A",
                "periods": [{"start": 60, "limit": 6}],
            },
            "periods",
        ),
        (
            {
                "id": 1,
                "purpose": "tx_default",
                "kind": "recurring",
                "unit": "A",
                "start_schedule": "2026-12-01T00:00:00Z",
                "periods": [{"start": 0, "limit": 6}],
            },
            "recurrency",
        ),
        (
            {
                "id": 1,
                "purpose": "tx_default",
                "kind": "absolute",
                "unit": "A",
                "periods": [{"start": 0, "limit": 6}],
            },
            "start_schedule",
        ),
        (
            {
                "id": 1,
                "purpose": "tx_default",
                "kind": "relative",
                "unit": "A",
                "transaction_id": 4,
                "periods": [{"start": 0, "limit": 6}],
            },
            "transaction_id",
        ),
        (
            {
                "id": 1,
                "purpose": "tx_default",
                "kind": "relative",
                "unit": "A",
                "valid_from": "2026-12-02T00:00:00",
                "valid_to": "2026-12-01T00:00:00",
                "periods": [{"start": 0, "limit": 6}],
            },
            "valid_to",
        ),
        (
            {
                "id": 1,
                "purpose": "charger_max",
                "kind": "relative",
                "unit": "W",
                "periods": [{"start": 0, "limit": 6}],
            },
            "purpose",
        ),
    ],
)
async def test_a_wrong_charging_profile_names_its_field(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    profile: dict[str, Any],
    field: str,
) -> None:
    async with commanded(connect) as cp:
        await cp.boot()
        await cp.status(1)
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as error:
            await act(
                hass,
                "set_charging_profile",
                device_id=device_id(hass, setup_integration),
                connector_id=1,
                profile=profile,
            )
    assert error.value.translation_key == "invalid_profile"
    assert error.value.translation_placeholders["field"] == field
    assert str(error.value).startswith(f"The charging profile's {field} is not valid: ")
    assert cp.received == []


async def test_a_full_charging_profile_reaches_the_charger(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    profile = {
        "id": 3,
        "stack_level": 1,
        "purpose": "tx_default",
        "kind": "recurring",
        "recurrency": "Daily",
        "unit": "W",
        "start_schedule": "2026-12-01T00:00:00Z",
        "duration": 86400,
        "min_rate": 1000,
        "valid_from": "2026-12-01T00:00:00Z",
        "valid_to": "2027-01-01T00:00:00Z",
        "periods": [{"start": 0, "limit": 11000, "number_phases": 3}, {"start": 3600, "limit": 0}],
    }
    async with commanded(connect) as cp:
        await cp.boot()
        await act(
            hass,
            "set_charging_profile",
            device_id=device_id(hass, setup_integration),
            profile=profile,
        )
    assert cp.received == [
        (
            "SetChargingProfile",
            {
                "connector_id": 0,
                "cs_charging_profiles": {
                    "charging_profile_id": 3,
                    "stack_level": 1,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Recurring",
                    "recurrency_kind": "Daily",
                    "valid_from": "2026-12-01T00:00:00.000Z",
                    "valid_to": "2027-01-01T00:00:00.000Z",
                    "charging_schedule": {
                        "duration": 86400,
                        "start_schedule": "2026-12-01T00:00:00.000Z",
                        "charging_rate_unit": "W",
                        "charging_schedule_period": [
                            {"start_period": 0, "limit": 11000.0, "number_phases": 3},
                            {"start_period": 3600, "limit": 0.0},
                        ],
                        "min_charging_rate": 1000.0,
                    },
                },
            },
        )
    ]


async def test_command_timeout_is_an_option(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    entry = setup_integration
    result = await open_options_step(hass, entry, "general")
    defaults = result["data_schema"]({})
    assert defaults[CONF_COMMAND_TIMEOUT] == DEFAULT_COMMAND_TIMEOUT
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults, CONF_COMMAND_TIMEOUT: 1.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.options[CONF_COMMAND_TIMEOUT] == 1
    async with connect_charge_point(
        listening_port(entry), "/CP1", charge_point_class=ScheduledChargePoint
    ) as cp:
        await cp.boot()
        cp.silent.add("Reset")
        with pytest.raises(HomeAssistantError) as error:
            await act(hass, "reset", device_id=device_id(hass, entry))
    assert error.value.translation_key == "command_timed_out"
    assert str(error.value) == "CP1 did not answer reset in time (no answer within 1 s)"


class VagueChargePoint(ScheduledChargePoint):
    """Reports a max stack level that is no number."""

    __test__ = False
    configuration_keys = [  # noqa: RUF012 - a test table
        *CommandedChargePoint.configuration_keys,
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "lots"},
    ]


async def test_a_limit_the_charger_could_not_take_is_not_sent(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=VagueChargePoint) as cp:
        await cp.boot()
        target = device_id(hass, setup_integration)
        # OCPP 1.6 limits come in steps of 0.1.
        with pytest.raises(HomeAssistantError) as error:
            await act(hass, "set_current_limit", device_id=target, current_limit=16.05)
        assert error.value.translation_key == "command_not_applicable"
        assert str(error.value).startswith("Cannot send set charging profile to CP1: ")
        assert cp.received == []
        await act(hass, "set_current_limit", device_id=target, current_limit=6)
    profile = cp.received[0][1]["cs_charging_profiles"]
    assert (profile["stack_level"], profile["charging_profile_id"]) == (0, 9000)
