"""Id tags as subentries: added, renamed, blocked, expired, grouped, linked to a person."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.levity_ocpp.const import SUBENTRY_ID_TAG
from custom_components.levity_ocpp.csms.authorization import IdTag, TagBook
from custom_components.levity_ocpp.id_tag_settings import tag_from_data


def tag_subentries(entry: MockConfigEntry) -> dict[str, dict]:
    return {
        subentry.title: dict(subentry.data)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ID_TAG
    }


async def open_add(hass: HomeAssistant, entry: MockConfigEntry) -> dict:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ID_TAG), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    return result


async def test_add_a_tag_with_everything(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = setup_integration
    result = await open_add(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "id_tag": " 04A1B2C3 ",
            "name": " Anna's card ",
            "person": "person.anna",
            "blocked": False,
            "expiry": "2027-01-31 18:00:00",  # the form's local time
            "parent_id_tag": "HOUSE-7",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Anna's card"
    await hass.async_block_till_done()
    assert tag_subentries(entry) == {
        "Anna's card": {
            "id_tag": "04A1B2C3",
            "name": "Anna's card",
            "person": "person.anna",
            "blocked": False,
            "expiry": "2027-01-31T17:00:00+00:00",
            "parent_id_tag": "HOUSE-7",
        }
    }
    # The central system has it at once.
    assert entry.runtime_data.central_system.tags == TagBook(
        [IdTag("04A1B2C3", expiry=datetime(2027, 1, 31, 17, tzinfo=UTC), parent_id_tag="HOUSE-7")]
    )

    # Only the tag is needed; it is then shown by itself.
    result = await open_add(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"id_tag": "APP-TOKEN-1", "blocked": True}
    )
    assert result["title"] == "APP-TOKEN-1"
    assert tag_subentries(entry)["APP-TOKEN-1"]["blocked"] is True

    # The same tag in other letters is the same tag.
    result = await open_add(hass, entry)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"id_tag": "04a1b2c3", "blocked": False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_the_form_refuses_what_a_charger_cannot_send(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    result = await open_add(hass, setup_integration)
    flow_id = result["flow_id"]
    cases = [
        ({"id_tag": "   "}, {"id_tag": "invalid_id_tag"}),
        ({"id_tag": "X" * 21}, {"id_tag": "invalid_id_tag"}),
        ({"id_tag": "CARD-Ä"}, {"id_tag": "invalid_id_tag"}),  # printable ASCII only
        ({"id_tag": "homeassistant"}, {"id_tag": "own_id_tag"}),  # always accepted anyway
        ({"id_tag": "CARD", "parent_id_tag": "card"}, {"parent_id_tag": "parent_is_self"}),
        ({"id_tag": "CARD", "parent_id_tag": "G" * 21}, {"parent_id_tag": "invalid_id_tag"}),
    ]
    for fields, errors in cases:
        result = await hass.config_entries.subentries.async_configure(
            flow_id, {"blocked": False, **fields}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors, fields
    with pytest.raises(InvalidData):  # the date selector's own check
        await hass.config_entries.subentries.async_configure(
            flow_id, {"id_tag": "CARD", "blocked": False, "expiry": "2027-02-30 12:00:00"}
        )
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"id_tag": "CARD", "blocked": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_change_a_tag(hass: HomeAssistant, setup_integration: MockConfigEntry) -> None:
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    entry = setup_integration
    result = await open_add(hass, entry)
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"id_tag": "04A1B2C3", "name": "Anna", "blocked": False, "expiry": "2027-01-31 18:00"},
    )
    (subentry_id,) = [
        sid for sid, s in entry.subentries.items() if s.subentry_type == SUBENTRY_ID_TAG
    ]
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ID_TAG),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"id_tag": "04A1B2C3"}
    # The form shows what is stored, the expiry in local time.
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested == {"name": "Anna", "blocked": False, "expiry": "2027-01-31 18:00:00"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"blocked": False, "parent_id_tag": "04a1b2c3"}
    )
    assert result["errors"] == {"parent_id_tag": "parent_is_self"}
    # Block it, take away its name and expiry, link a person.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"blocked": True, "person": "person.anna"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert tag_subentries(entry) == {
        "04A1B2C3": {
            "id_tag": "04A1B2C3",
            "name": None,
            "person": "person.anna",
            "blocked": True,
            "expiry": None,
            "parent_id_tag": None,
        }
    }
    assert entry.runtime_data.central_system.tags == TagBook([IdTag("04A1B2C3", blocked=True)])
    # Shown again: nothing left to suggest but the block (and the person).
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ID_TAG),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested == {"blocked": True, "person": "person.anna"}


def test_a_stored_expiry_that_is_no_time_means_none() -> None:
    # Storage edited by hand: the tag stays usable rather than breaking the entry.
    assert tag_from_data({"id_tag": "CARD", "expiry": "soon"}) == IdTag("CARD")
