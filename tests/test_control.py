"""Driving a charger from HA: switches, buttons, auto start, and what the charger reports."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from homeassistant.const import CONF_HOST, CONF_PORT, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.levity_ocpp.const import (
    CONF_ADMISSION_POLICY,
    CONF_AUTO_START_DELAY,
    CONF_HEARTBEAT_INTERVAL,
    CONF_ID_TAG,
    DOMAIN,
)
from custom_components.levity_ocpp.migration import MINOR_VERSION

from .client import DEFAULT_CONFIGURATION
from .commanded import CommandedChargePoint
from .conftest import Connect, async_wait_until
from .test_sessions import stamp

SWITCH = "switch.cp1_charging"


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """A central system starting plugged-in cars quickly, with its own id tag."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP central system",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={
            CONF_HEARTBEAT_INTERVAL: 60,
            CONF_AUTO_START_DELAY: 0.05,
            CONF_ID_TAG: "GARAGE",
            CONF_ADMISSION_POLICY: "accept",
        },
        minor_version=MINOR_VERSION,
    )


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


async def press(hass: HomeAssistant, domain: str, service: str, entity_id: str) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id}, blocking=True)


def sent(cp: CommandedChargePoint, action: str) -> list[dict[str, Any]]:
    return [payload for name, payload in cp.received if name == action]


async def start_transaction(cp: CommandedChargePoint, id_tag: str = "GARAGE") -> int:
    reply = await cp.call(
        call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0, timestamp=stamp(0)),
        suppress=False,
    )
    return int(reply.transaction_id)


async def test_charging_switch_shows_the_charger_and_drives_it(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        cp.statuses["RemoteStartTransaction"] = "Rejected"
        await cp.status(1, ChargePointStatus.preparing)
        await async_wait_until(hass, lambda: sent(cp, "RemoteStartTransaction"))
        cp.received.clear()
        await hass.async_block_till_done()
        # The charger refuses: the switch stays off and the user is told why.
        with pytest.raises(HomeAssistantError) as refused:
            await press(hass, "switch", "turn_on", SWITCH)
        assert refused.value.translation_key == "command_refused"
        assert str(refused.value) == "CP1 answered start charging with Rejected"
        assert sent(cp, "RemoteStartTransaction") == [{"id_tag": "GARAGE", "connector_id": 1}]
        assert state(hass, SWITCH) == STATE_OFF
        # A session the charger starts by itself shows as charging.
        transaction_id = await start_transaction(cp, "RFID-1")
        await hass.async_block_till_done()
        assert state(hass, SWITCH) == STATE_ON
        await press(hass, "switch", "turn_off", SWITCH)
        assert sent(cp, "RemoteStopTransaction") == [{"transaction_id": transaction_id}]
        assert state(hass, SWITCH) == STATE_ON  # until the charger stops it
        await cp.call(
            call.StopTransaction(
                meter_stop=1000, timestamp=stamp(10), transaction_id=transaction_id
            ),
            suppress=False,
        )
        await hass.async_block_till_done()
        assert state(hass, SWITCH) == STATE_OFF


async def test_plugging_in_starts_charging_once(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.preparing)
        await async_wait_until(hass, lambda: sent(cp, "RemoteStartTransaction"))
        assert sent(cp, "RemoteStartTransaction") == [{"id_tag": "GARAGE", "connector_id": 1}]
        await cp.status(1, ChargePointStatus.preparing)  # the same plug-in, reported again
        transaction_id = await start_transaction(cp)
        await cp.call(
            call.StopTransaction(meter_stop=10, timestamp=stamp(5), transaction_id=transaction_id),
            suppress=False,
        )
        await cp.status(1, ChargePointStatus.preparing)  # user stopped it; car still there
        await asyncio.sleep(0.2)
        assert len(sent(cp, "RemoteStartTransaction")) == 1
        await cp.status(1, ChargePointStatus.available)  # unplugged
        await cp.status(1, ChargePointStatus.preparing)  # and plugged in again
        await async_wait_until(hass, lambda: len(sent(cp, "RemoteStartTransaction")) == 2)


async def test_no_auto_start_when_switched_off_or_already_charging(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await hass.async_block_till_done()
        await press(hass, "switch", "turn_off", "switch.cp1_start_charging_when_plugged_in")
        assert state(hass, "switch.cp1_start_charging_when_plugged_in") == STATE_OFF
        await cp.status(1, ChargePointStatus.preparing)
        await asyncio.sleep(0.2)
        assert sent(cp, "RemoteStartTransaction") == []
        await press(hass, "switch", "turn_on", "switch.cp1_start_charging_when_plugged_in")
        await cp.status(1, ChargePointStatus.available)
        await start_transaction(cp)  # the charger started (e.g. a card) before Preparing
        await cp.status(1, ChargePointStatus.preparing)
        await asyncio.sleep(0.2)
        assert sent(cp, "RemoteStartTransaction") == []


async def test_auto_start_setting_survives_a_reload(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await hass.async_block_till_done()
        await press(hass, "switch", "turn_off", "switch.cp1_start_charging_when_plugged_in")
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    # A setting of ours: readable while the charger is away, and kept.
    assert state(hass, "switch.cp1_start_charging_when_plugged_in") == STATE_OFF


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_availability_switches_and_buttons(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await cp.status(0, ChargePointStatus.available)
        await cp.status(1, ChargePointStatus.unavailable)
        await hass.async_block_till_done()
        assert state(hass, "switch.cp1_available") == STATE_OFF
        assert state(hass, "switch.cp1_charge_point_available") == STATE_ON
        await press(hass, "switch", "turn_on", "switch.cp1_available")
        await press(hass, "switch", "turn_off", "switch.cp1_charge_point_available")
        assert sent(cp, "ChangeAvailability") == [
            {"connector_id": 1, "type": "Operative"},
            {"connector_id": 0, "type": "Inoperative"},
        ]
        await press(hass, "button", "press", "button.cp1_unlock_connector")
        await press(hass, "button", "press", "button.cp1_restart")
        await press(hass, "button", "press", "button.cp1_refresh")
        assert sent(cp, "UnlockConnector") == [{"connector_id": 1}]
        assert sent(cp, "Reset") == [{"type": "Soft"}]
        assert sent(cp, "TriggerMessage") == [
            {"requested_message": "StatusNotification"},
            {"requested_message": "MeterValues"},
        ]
        cp.statuses["UnlockConnector"] = "UnlockFailed"
        with pytest.raises(HomeAssistantError, match="UnlockFailed"):
            await press(hass, "button", "press", "button.cp1_unlock_connector")
        hard = er.async_get(hass).async_get("button.cp1_hard_restart")
        assert hard is not None and hard.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_rarely_used_entities_start_disabled(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    """Buttons pressed by mistake on a shared charger, and duplicates, wait to be enabled.

    Restart and unlock interrupt whoever is charging; the charge point status repeats a
    single-connector charger's connector status; the charging state is for evcc; the session
    end is in the logbook and the ledger. Fewer enabled entities also let a central system
    hold more chargers under HA's cap (README, Large sites).
    """
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await cp.status(1, ChargePointStatus.available)
        await async_wait_until(hass, lambda: hass.states.get("sensor.cp1_status"))
    registry = er.async_get(hass)
    for entity_id in (
        "button.cp1_restart",
        "button.cp1_unlock_connector",
        "sensor.cp1_charge_point_status",
        "sensor.cp1_charging_state",
        "sensor.cp1_session_end",
        "switch.cp1_available",
    ):
        entry = registry.async_get(entity_id)
        assert entry is not None, f"{entity_id} is not registered"
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION, entity_id
        assert hass.states.get(entity_id) is None
    for entity_id in ("sensor.cp1_status", SWITCH, "binary_sensor.cp1_plugged_in"):
        entry = registry.async_get(entity_id)
        assert entry is not None and entry.disabled_by is None, entity_id


class CoreOnlyChargePoint(CommandedChargePoint):
    """A charger that says it supports the Core profile only."""

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [
        *DEFAULT_CONFIGURATION,
        {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core"},
    ]


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_what_a_charger_supports_decides_its_entities(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with (
        connect("/CP1", charge_point_class=CommandedChargePoint) as full,
        connect("/CP2", charge_point_class=CoreOnlyChargePoint) as core,
    ):
        await full.boot()
        await core.boot()
        await async_wait_until(hass, lambda: hass.states.get("button.cp1_refresh"))
        await async_wait_until(hass, lambda: hass.states.get("button.cp2_restart"))
    registry = er.async_get(hass)
    assert registry.async_get("button.cp1_refresh") is not None
    assert registry.async_get("sensor.cp1_firmware_update") is not None
    assert registry.async_get("button.cp2_refresh") is None
    assert registry.async_get("sensor.cp2_firmware_update") is None
    assert registry.async_get("button.cp2_restart") is not None


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_charging_state_follows_the_status(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        for status, expected in (
            (ChargePointStatus.available, "disconnected"),
            (ChargePointStatus.suspended_ev, "connected"),
            (ChargePointStatus.charging, "charging"),
            (ChargePointStatus.faulted, "error"),
        ):
            await cp.status(1, status)
            await hass.async_block_till_done()
            assert state(hass, "sensor.cp1_charging_state") == expected


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_charger_reports_become_events_and_sensors(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    firmware = async_capture_events(hass, f"{DOMAIN}_firmware_status")
    diagnostics = async_capture_events(hass, f"{DOMAIN}_diagnostics_status")
    transfers = async_capture_events(hass, f"{DOMAIN}_data_transfer")
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await cp.call(call.FirmwareStatusNotification(status="Downloading"), suppress=False)
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"), suppress=False)
        reply = await cp.call(
            call.DataTransfer(vendor_id="acme", message_id="hello", data="42"), suppress=False
        )
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_firmware_update") == "downloading"
        last = er.async_get(hass).async_get("sensor.cp1_last_data_transfer")
        assert last is not None and last.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert reply.status == "UnknownVendorId"
    assert [event.data["status"] for event in firmware] == ["Downloading"]
    assert [event.data["status"] for event in diagnostics] == ["Uploaded"]
    assert transfers[0].data["vendor_id"] == "acme"
    assert transfers[0].data["data"] == "42"
    assert transfers[0].data["device_id"]


async def test_a_card_at_the_charger_is_not_overtaken_by_auto_start(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        await cp.call(call.Authorize(id_tag="RFID-1"), suppress=False)
        await cp.status(1, ChargePointStatus.preparing)
        await asyncio.sleep(0.2)
        assert sent(cp, "RemoteStartTransaction") == []


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_a_tx_profile_limit_follows_each_new_transaction(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await cp.boot()
        # Its SmartCharging support is known once the configuration answer is read.
        await async_wait_until(hass, lambda: hass.states.get("select.cp1_current_limit_sent_as"))
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": "select.cp1_current_limit_sent_as", "option": "tx"},
            blocking=True,
        )
        first = await start_transaction(cp)
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.cp1_current_limit", "value": 10},
            blocking=True,
        )
        await cp.call(
            call.StopTransaction(meter_stop=10, timestamp=stamp(5), transaction_id=first),
            suppress=False,
        )
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp1_applied_current_limit") == "unknown"  # ended with it
        second = await start_transaction(cp)
        await async_wait_until(hass, lambda: len(sent(cp, "SetChargingProfile")) == 2, 5)
        profile = sent(cp, "SetChargingProfile")[-1]["cs_charging_profiles"]
        assert (profile["charging_profile_purpose"], profile["transaction_id"]) == (
            "TxProfile",
            second,
        )
