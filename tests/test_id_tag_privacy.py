"""Whose card it is: statistics carry the person's name; diagnostics carry no tags at all."""

from __future__ import annotations

import json

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import list_statistic_ids
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.tag_statistics import energy_statistic_id

from .command_helpers import device_id
from .conftest import Connect
from .id_tag_helpers import (
    TAGS,
    ListKeepingChargePoint,
    authorize,
    entry_with,
    list_version,
    start_transaction,
    stop_transaction,
    tag_subentry,
)

SECRETS = ("CARD-ANNA", "HOUSE-7", "Anna's card", "House 7", "person.anna", "CARD-LOST", "GUESTS")


@pytest.fixture
def config_entry() -> MockConfigEntry:
    anna = tag_subentry(
        "CARD-ANNA", name="Anna's card", person="person.anna", parent_id_tag="HOUSE-7"
    )
    return entry_with(anna, *TAGS[1:])


async def names(hass: HomeAssistant) -> dict[str, str]:
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    return {item["statistic_id"]: item["name"] for item in listed if item["source"] == DOMAIN}


async def test_statistics_carry_the_name_of_the_card_and_its_person(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    hass.states.async_set("person.anna", "home", {"friendly_name": "Anna"})
    async with connect("/CP1") as cp:
        await cp.boot()
        for id_tag, connector_id in (("card-anna", 1), ("CARD-LOST", 2), ("STRANGER", 3)):
            reply = await start_transaction(cp, id_tag, connector_id)
            await stop_transaction(cp, reply.transaction_id)
    anna, lost, stranger = (
        energy_statistic_id(entry.entry_id, tag) for tag in ("CARD-ANNA", "CARD-LOST", "STRANGER")
    )
    assert await names(hass) == {
        anna: "EV charging, Anna: Anna's card (OCPP central system)",
        lost: "EV charging, card …LOST (OCPP central system)",
        stranger: "EV charging, card …NGER (OCPP central system)",
    }
    # Renamed, or linked to nobody: the names follow without a session.
    [subentry] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "CARD-ANNA"]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "name": "Work card"}
    )
    [lost_entry] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "CARD-LOST"]
    hass.config_entries.async_update_subentry(
        entry, lost_entry, data={**lost_entry.data, "name": "Lost card"}
    )
    assert (await names(hass))[anna] == "EV charging, Anna: Work card (OCPP central system)"
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "name": None, "person": None}
    )
    renamed = await names(hass)
    assert renamed[anna] == "EV charging, card …ANNA (OCPP central system)"
    assert renamed[lost] == "EV charging, Lost card (OCPP central system)"
    # A tag without statistics gets none by being renamed.
    [house] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "HOUSE-7"]
    hass.config_entries.async_update_subentry(entry, house, data={**house.data, "name": "H7"})
    assert len(await names(hass)) == 3


async def test_diagnostics_hide_every_tag_name_and_person(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_integration: MockConfigEntry,
    connect: Connect,
) -> None:
    entry = setup_integration
    async with connect("/CP1", charge_point_class=ListKeepingChargePoint) as cp:
        await cp.boot()
        await list_version(hass, cp, 1)
        await authorize(cp, "CARD-ANNA")
        await start_transaction(cp, "CARD-ANNA")  # open: in the device's diagnostics
        device = dr.async_get(hass).async_get(device_id(hass, entry))
        assert device is not None
        shared = {
            "device": await get_diagnostics_for_device(hass, hass_client, entry, device),
            "entry": await get_diagnostics_for_config_entry(hass, hass_client, entry),
        }
    dumped = json.dumps(shared)
    for secret in SECRETS:
        assert secret not in dumped, secret
    # What is left says enough to debug: how many tags, which blocked or expiring, the list.
    id_tags = shared["entry"]["id_tags"]
    assert len(id_tags) == len(TAGS)
    assert id_tags[0] == {
        "id_tag": "**REDACTED**",
        "name": "**REDACTED**",
        "person": "**REDACTED**",
        "parent_id_tag": "**REDACTED**",
        "blocked": False,
        "expiry": None,
    }
    assert sum(tag["blocked"] for tag in id_tags) == 2
    local_list = shared["device"]["local_list"]
    assert local_list["version"] == 1
    assert {item["status"] for item in local_list["entries"]} == {"Accepted", "Blocked", "Expired"}
