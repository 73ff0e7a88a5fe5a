"""Charge points as subentries: added by hand, their settings changed, read live."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import SUBENTRY_CHARGE_POINT
from custom_components.levity_ocpp.csms.settings import AuthorizationMode, ChargePointSettings

SETTINGS = {
    "authorization": "known_tags",
    "ocpp_version": "auto",
    "validate_schema": False,
    "websocket_ping": False,
    "subprotocol_optional": True,
}


async def test_add_and_change_a_charge_point(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    entry = setup_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    # An id no charger can have is refused in the form.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charge_point_id": "CP\n1", **SETTINGS}
    )
    assert result["errors"] == {"charge_point_id": "invalid_charge_point_id"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "charge_point_id": " CP7 ",
            "password_action": "enter",
            "password": "s3cret-s3cret-s3cret",
            **SETTINGS,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CP7"
    await hass.async_block_till_done()
    # Live, without a reload.
    assert entry.state is ConfigEntryState.LOADED
    central_system = entry.runtime_data.central_system
    assert central_system.settings_for("CP7") == ChargePointSettings(
        password="s3cret-s3cret-s3cret",
        authorization=AuthorizationMode.KNOWN_TAGS,
        validate_schema=False,
        websocket_ping=False,
        subprotocol_optional=True,
    )
    assert central_system.settings_for("CP8") == ChargePointSettings()

    # The same id twice is refused.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charge_point_id": "CP7", "password_action": "none", **SETTINGS}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    (subentry_id,) = entry.subentries
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"charge_point_id": "CP7"}
    # The password is never shown in the form.
    assert "suggested_value" not in str(result["data_schema"].schema)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SETTINGS, "password_action": "keep", "authorization": "any_tag"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    # The password is kept unless the user asks otherwise.
    assert central_system.settings_for("CP7") == ChargePointSettings(
        password="s3cret-s3cret-s3cret",
        validate_schema=False,
        websocket_ping=False,
        subprotocol_optional=True,
    )

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGE_POINT),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SETTINGS, "password_action": "none"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert central_system.settings_for("CP7").password is None
