"""The local list and cache actions, and the clear-cache button."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.exceptions import InternalError
from ocpp.v16.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import DOMAIN

from .command_helpers import device_id
from .conftest import Connect
from .id_tag_helpers import TAGS, ListKeepingChargePoint, entry_with, list_version
from .test_local_list import CoreChargePoint


@pytest.fixture
def config_entry() -> MockConfigEntry:
    return entry_with(*TAGS)


async def call(hass: HomeAssistant, action: str, response: bool = False, **data: object) -> object:
    return await hass.services.async_call(
        DOMAIN, action, data, blocking=True, return_response=response
    )


async def test_send_the_list_on_demand(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=ListKeepingChargePoint) as cp:
        await cp.boot()
        await list_version(hass, cp, 1)
        cp1 = device_id(hass, setup_integration)
        # Nothing changed: a differential update has nothing to send.
        response = await call(
            hass, "send_local_list", True, device_id=cp1, update_type="differential"
        )
        assert response == {"version": 1, "messages": 0, "id_tags": 6}
        # The whole list again, under the next version.
        response = await call(hass, "send_local_list", True, device_id=cp1)
        assert response == {"version": 2, "messages": 1, "id_tags": 6}
        assert [sent["update_type"] for sent in cp.sent_lists()] == ["Full", "Full"]
        assert await call(hass, "get_local_list_version", True, device_id=cp1) == {"version": 2}

        cp.statuses[Action.send_local_list] = "Failed"
        with pytest.raises(HomeAssistantError) as refused:
            await call(hass, "send_local_list", device_id=cp1)
        assert refused.value.translation_key == "command_refused"
        assert refused.value.translation_placeholders["status"] == "Failed"
        cp.errors[Action.send_local_list] = InternalError()
        with pytest.raises(HomeAssistantError) as failed:
            await call(hass, "send_local_list", device_id=cp1)
        assert failed.value.translation_key == "command_call_error"


@pytest.mark.usefixtures("entities_enabled_by_default")
async def test_clear_the_cache_by_action_and_button(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=ListKeepingChargePoint) as cp:
        await cp.boot()
        cp1 = device_id(hass, setup_integration)
        await call(hass, "clear_cache", device_id=cp1)
        await hass.services.async_call(
            "button",
            "press",
            {ATTR_ENTITY_ID: "button.cp1_clear_authorization_cache"},
            blocking=True,
        )
        assert [action for action, _ in cp.received].count(Action.clear_cache) == 2
        cp.statuses[Action.clear_cache] = "Rejected"
        with pytest.raises(HomeAssistantError) as refused:
            await call(hass, "clear_cache", device_id=cp1)
        assert refused.value.translation_placeholders == {
            "charge_point": "CP1",
            "command": "clear cache",
            "status": "Rejected",
        }


async def test_a_charger_without_a_list_is_told_so(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with connect("/CP1", charge_point_class=CoreChargePoint) as cp:
        await cp.boot()
        cp1 = device_id(hass, setup_integration)
        with pytest.raises(ServiceValidationError) as refused:
            await call(hass, "send_local_list", device_id=cp1)
        assert refused.value.translation_key == "local_list_not_supported"
        assert cp.received == []
