"""The current limit: the profile real chargers take, kept, read back and re-applied."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.v16 import call, call_result
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .client import connect_charge_point
from .commanded import CommandedChargePoint
from .conftest import Connect, async_wait_until, listening_port
from .test_sessions import stamp

# The applied limit and the profile select are disabled by default: enabled here.
pytestmark = pytest.mark.usefixtures("entities_enabled_by_default")

LIMIT = "number.cp1_current_limit"
PROFILE = "select.cp1_current_limit_sent_as"


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


async def set_limit(hass: HomeAssistant, amps: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {"entity_id": LIMIT, "value": amps}, blocking=True
    )


async def choose(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        "select", "select_option", {"entity_id": entity_id, "option": option}, blocking=True
    )


async def boot(hass: HomeAssistant, cp: CommandedChargePoint, charge_point_id: str = "cp1") -> None:
    """Boot, and wait until the central system has read what the charger supports."""
    await cp.boot()
    await async_wait_until(
        hass, lambda: hass.states.get(f"select.{charge_point_id}_current_limit_sent_as")
    )


def device_id(hass: HomeAssistant) -> str:
    from homeassistant.helpers import entity_registry as er

    entry = er.async_get(hass).async_get(LIMIT)
    assert entry is not None and entry.device_id is not None
    return entry.device_id


def profiles(cp: CommandedChargePoint) -> list[dict[str, Any]]:
    return [payload for action, payload in cp.received if action == "SetChargingProfile"]


class SmartCharger(CommandedChargePoint):
    """Stack levels up to 3, phase switching, and a composite schedule it keeps."""

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [
        *CommandedChargePoint.configuration_keys,
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "3"},
        {"key": "ConnectorSwitch3to1PhaseSupported", "readonly": True, "value": "true"},
    ]
    composite_limit: float | None = None

    async def answer(self, action: str, payload: dict[str, Any]) -> Any:
        if action == "GetCompositeSchedule":
            self.received.append((action, payload))
            if self.composite_limit is None:
                return call_result.GetCompositeSchedule(status="Accepted", connector_id=1)
            return call_result.GetCompositeSchedule(
                status="Accepted",
                connector_id=1,
                charging_schedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": self.composite_limit}],
                },
            )
        return await super().answer(action, payload)


class WattCharger(CommandedChargePoint):
    """Takes schedules in W only."""

    __test__ = False
    configuration_keys: ClassVar[list[dict[str, Any]]] = [
        *CommandedChargePoint.configuration_keys,
        {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Power"},
    ]


async def test_the_limit_is_a_default_profile_of_the_connector(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        assert state(hass, LIMIT) == "unknown"
        await set_limit(hass, 10)
        assert profiles(cp) == [
            {
                "connector_id": 1,
                "cs_charging_profiles": {
                    "charging_profile_id": 9001,
                    "stack_level": 3,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Relative",
                    "charging_schedule": {
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [{"start_period": 0, "limit": 10}],
                    },
                },
            }
        ]
        assert state(hass, LIMIT) == "10.0"
        assert state(hass, "sensor.cp1_applied_current_limit") == "10.0"
        # Refused: the limit stays what the charger took, and the user is told.
        cp.statuses["SetChargingProfile"] = "Rejected"
        with pytest.raises(HomeAssistantError, match="Rejected"):
            await set_limit(hass, 16)
        assert state(hass, LIMIT) == "10.0"
        # 0 pauses; between 0 and the minimum is no limit a charger takes.
        cp.statuses.clear()
        await set_limit(hass, 0)
        assert state(hass, LIMIT) == "0.0"
        with pytest.raises(ServiceValidationError) as below:
            await set_limit(hass, 3)
        assert below.value.translation_key == "limit_below_minimum"


async def test_per_charger_choices_of_profile(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await choose(hass, PROFILE, "tx")
        with pytest.raises(HomeAssistantError, match="needs a running transaction"):
            await set_limit(hass, 10)
        assert profiles(cp) == []
        reply = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp=stamp(0)),
            suppress=False,
        )
        await set_limit(hass, 10)
        (tx,) = profiles(cp)
        assert tx["cs_charging_profiles"]["charging_profile_purpose"] == "TxProfile"
        assert tx["cs_charging_profiles"]["transaction_id"] == reply.transaction_id
        await choose(hass, PROFILE, "charger_max")
        await set_limit(hass, 12)
        assert profiles(cp)[-1]["connector_id"] == 0
        limit = profiles(cp)[-1]["cs_charging_profiles"]
        assert limit["charging_profile_purpose"] == "ChargePointMaxProfile"
        await choose(hass, PROFILE, "tx_default_absolute")
        await set_limit(hass, 8)
        limit = profiles(cp)[-1]["cs_charging_profiles"]
        assert (limit["charging_profile_kind"], limit["stack_level"]) == ("Absolute", 0)
        assert "start_schedule" in limit["charging_schedule"]


async def test_phase_switching_and_watt_only_chargers(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with (
        connect("/CP1", charge_point_class=SmartCharger) as cp,
        connect("/CP2", charge_point_class=WattCharger) as watts,
    ):
        await boot(hass, cp)
        await boot(hass, watts, "cp2")
        await cp.status(1)
        await watts.status(1)
        await hass.async_block_till_done()
        await choose(hass, "select.cp1_phases", "1")
        period = profiles(cp)[-1]["cs_charging_profiles"]["charging_schedule"]
        assert period["charging_schedule_period"] == [
            {"start_period": 0, "limit": 32.0, "number_phases": 1}
        ]
        assert state(hass, "select.cp1_phases") == "1"
        assert hass.states.get("select.cp2_phases") is None  # it cannot switch phases
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.cp2_current_limit", "value": 10},
            blocking=True,
        )
        schedule = profiles(watts)[-1]["cs_charging_profiles"]["charging_schedule"]
        assert schedule["charging_rate_unit"] == "W"
        # Phases unknown: one (10 A x 230 V), never more current than asked.
        assert schedule["charging_schedule_period"][0]["limit"] == 2300


async def test_the_limit_is_kept_and_re_applied_when_the_charger_lost_it(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await set_limit(hass, 10)
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert state(hass, LIMIT) == "unavailable"  # a control, while the charger is away
    port = listening_port(setup_integration)
    async with connect_charge_point(port, "/CP1", charge_point_class=SmartCharger) as cp:
        await cp.boot()  # it lost its profiles: the composite schedule has no limit
        await async_wait_until(hass, lambda: profiles(cp))
        assert profiles(cp)[0]["cs_charging_profiles"]["charging_schedule"][
            "charging_schedule_period"
        ] == [{"start_period": 0, "limit": 10.0}]
        await hass.async_block_till_done()
        assert state(hass, LIMIT) == "10.0"  # kept across the restart
    async with connect_charge_point(port, "/CP1", charge_point_class=SmartCharger) as cp:
        cp.composite_limit = 10.0  # this time it kept it: nothing is sent again
        await cp.boot()
        await async_wait_until(
            hass, lambda: any(action == "GetCompositeSchedule" for action, _ in cp.received)
        )
        await asyncio.sleep(0.3)  # time to send a profile, if it (wrongly) would
        assert profiles(cp) == []
        assert state(hass, "sensor.cp1_applied_current_limit") == "10.0"


async def test_lowest_limit_setting_and_refused_phase_switch(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        # A charger that needs 7 A: the setting is disabled by default, enabled here.
        registry.async_update_entity("number.cp1_lowest_current_limit", disabled_by=None)
        assert await hass.config_entries.async_reload(setup_integration.entry_id)
        await hass.async_block_till_done()
    async with connect_charge_point(
        listening_port(setup_integration), "/CP1", charge_point_class=SmartCharger
    ) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.cp1_lowest_current_limit", "value": 7},
            blocking=True,
        )
        with pytest.raises(ServiceValidationError):
            await set_limit(hass, 6.5)
        cp.statuses["SetChargingProfile"] = "Rejected"
        with pytest.raises(HomeAssistantError):
            await choose(hass, "select.cp1_phases", "1")
        assert state(hass, "select.cp1_phases") == "unknown"  # not taken: not shown


async def test_a_limit_the_charger_will_not_take_again_is_not_shown_applied(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await set_limit(hass, 10)

    class Forgetful(SmartCharger):
        __test__ = False

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.statuses["SetChargingProfile"] = "Rejected"
            self.statuses["GetCompositeSchedule"] = "Rejected"

    async with connect("/CP1", charge_point_class=Forgetful) as cp:
        await cp.boot()
        await async_wait_until(hass, lambda: profiles(cp))
        await async_wait_until(
            hass, lambda: state(hass, "sensor.cp1_applied_current_limit") == "unknown"
        )
        assert state(hass, LIMIT) == "10.0"  # still what the user wants


async def test_a_charger_without_composite_schedules_gets_its_limit_again(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    from ocpp.exceptions import NotSupportedError

    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await set_limit(hass, 10)
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        cp.errors["GetCompositeSchedule"] = NotSupportedError()
        await cp.boot()
        await async_wait_until(hass, lambda: profiles(cp))


async def test_a_tx_limit_the_new_transaction_refuses_is_logged(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connect("/CP1", charge_point_class=CommandedChargePoint) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await async_wait_until(hass, lambda: hass.states.get(PROFILE))
        await choose(hass, PROFILE, "tx")
        start = call.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp=stamp(0))
        first = await cp.call(start, suppress=False)
        await set_limit(hass, 10)
        await cp.call(
            call.StopTransaction(
                meter_stop=5, timestamp=stamp(1), transaction_id=first.transaction_id
            ),
            suppress=False,
        )
        cp.statuses["SetChargingProfile"] = "Rejected"
        await cp.call(start, suppress=False)
        await async_wait_until(hass, lambda: len(profiles(cp)) == 2, 5)
        await async_wait_until(hass, lambda: "for its new transaction" in caplog.text, 5)
        # A transaction that ends before its limit goes out gets none.
        third = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="T", meter_start=9, timestamp=stamp(3)),
            suppress=False,
        )
        await cp.call(
            call.StopTransaction(
                meter_stop=9, timestamp=stamp(4), transaction_id=third.transaction_id
            ),
            suppress=False,
        )
        await asyncio.sleep(1.2)
        assert len(profiles(cp)) == 2


async def test_highest_limit_and_stepped_currents(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    from homeassistant.helpers import entity_registry as er

    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        assert hass.states.get(LIMIT).attributes["max"] == 32
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.cp1_highest_current_limit", "value": 16},
            blocking=True,
        )
        assert hass.states.get(LIMIT).attributes["max"] == 16
        await set_limit(hass, 16)
        with pytest.raises(ServiceValidationError) as above:
            await hass.services.async_call(
                DOMAIN,
                "set_current_limit",
                {"device_id": device_id(hass), "current_limit": 20},
                blocking=True,
            )
        assert above.value.translation_key == "limit_above_maximum"
        registry = er.async_get(hass)
        registry.async_update_entity("select.cp1_currents_the_charger_takes", disabled_by=None)
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    async with connect_charge_point(
        listening_port(setup_integration), "/CP1", charge_point_class=SmartCharger
    ) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await hass.async_block_till_done()
        await choose(hass, "select.cp1_currents_the_charger_takes", "stepped")
        await set_limit(hass, 12)  # a charger taking 6/8/10/13/16 A gets 10, never more
        limit = profiles(cp)[-1]["cs_charging_profiles"]["charging_schedule"]
        assert limit["charging_schedule_period"][0]["limit"] == 10.0
        assert state(hass, LIMIT) == "10.0"


async def test_a_charger_wide_maximum_is_one_limit(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)

    def limit_of(connector_id: int) -> str:
        unique_id = f"{setup_integration.entry_id}_CP1_{connector_id}_current_limit"
        entity_id = registry.async_get_entity_id("number", "levity_ocpp", unique_id)
        assert entity_id is not None
        return entity_id

    async with connect("/CP1", charge_point_class=SmartCharger) as cp:
        await boot(hass, cp)
        await cp.status(1)
        await cp.status(2)
        await hass.async_block_till_done()
        await choose(hass, PROFILE, "charger_max")
        await hass.services.async_call(
            "number", "set_value", {"entity_id": limit_of(2), "value": 12}, blocking=True
        )
        assert profiles(cp)[-1]["connector_id"] == 0
        # Both connectors show the one limit the whole charger now has.
        assert [state(hass, limit_of(n)) for n in (1, 2)] == ["12.0", "12.0"]
