"""Cards shown at a charger: HA's tag_scanned, and unknown cards offered for adding."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.components.tag import EVENT_TAG_SCANNED
from homeassistant.config_entries import SOURCE_IGNORE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.levity_ocpp import id_tag_events
from custom_components.levity_ocpp.const import DOMAIN
from custom_components.levity_ocpp.id_tag_discovery import MAX_OFFERS

from .command_helpers import act, device_id
from .commanded import CommandedChargePoint
from .conftest import Connect
from .id_tag_helpers import (
    TAGS,
    authorize,
    entry_with,
    start_transaction,
    stop_transaction,
    tag_subentry_object,
)
from .test_message_format import STRINGS, used


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """A central system whose users have the usual tags."""
    return entry_with(*TAGS)


def charger(connect: Connect, path: str = "/CP1") -> Any:
    return connect(path, charge_point_class=CommandedChargePoint)


def offers(hass: HomeAssistant) -> list[Any]:
    return hass.config_entries.flow.async_progress_by_handler(DOMAIN)


def scanned(events: list[Any]) -> list[tuple[str, str | None]]:
    return [(event.data["tag_id"], event.data["device_id"]) for event in events]


async def test_each_presented_tag_fires_tag_scanned_once(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    events = async_capture_events(hass, EVENT_TAG_SCANNED)
    async with charger(connect) as cp:
        await cp.boot()
        cp1 = device_id(hass, setup_integration)
        # As the user spelled it in Home Assistant, with the charger as device.
        await authorize(cp, "card-anna")
        # The start that follows the same card is the same presentation.
        first = await start_transaction(cp, "CARD-ANNA")
        # A card the charger accepted from its own list, shown only in the start.
        await start_transaction(cp, "CARD-LOST", connector_id=2)
        # Refused cards are presented too (automations may want to know).
        await authorize(cp, "CARD-OLD")
        await stop_transaction(cp, first.transaction_id, "CARD-ANNA")  # no presentation
        await hass.async_block_till_done(wait_background_tasks=True)
    assert scanned(events) == [("CARD-ANNA", cp1), ("CARD-LOST", cp1), ("CARD-OLD", cp1)]
    # The tag integration knows them now, scanned last at this charger.
    tags = {item["id"]: item for item in hass.data["tag"].async_items()}
    assert tags["CARD-ANNA"]["device_id"] == cp1


async def test_starts_home_assistant_asked_for_are_no_presentations(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    events = async_capture_events(hass, EVENT_TAG_SCANNED)
    async with charger(connect) as cp:
        await cp.boot()
        await cp.status(1)
        cp1 = device_id(hass, setup_integration)
        await act(hass, "start_charging", device_id=cp1, id_tag="CARD-ANNA")
        # The charger checks the remote tag (AuthorizeRemoteTxRequests), then starts.
        await authorize(cp, "CARD-ANNA")
        await start_transaction(cp, "CARD-ANNA")
        # Home Assistant's own tag is never a card.
        await authorize(cp, "HomeAssistant")
        await start_transaction(cp, "HomeAssistant", connector_id=2)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert events == []
        # The next real card is.
        await authorize(cp, "CARD-ANNA")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert scanned(events) == [("CARD-ANNA", cp1)]


async def test_an_unknown_tag_is_offered_and_added(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    events = async_capture_events(hass, EVENT_TAG_SCANNED)
    async with charger(connect) as cp:
        await cp.boot()
        await authorize(cp, "04A1B2C3")
        await authorize(cp, "04a1b2c3")  # the same card: one offer
        await hass.async_block_till_done(wait_background_tasks=True)
        [offer] = offers(hass)
        assert offer["context"]["title_placeholders"] == {"name": "04A1B2C3"}
        form = await hass.config_entries.flow.async_configure(offer["flow_id"])
        assert form["step_id"] == "add_id_tag"
        assert form["description_placeholders"] == {"id_tag": "04A1B2C3", "charge_point": "CP1"}
        assert used(STRINGS["config"]["step"]["add_id_tag"]) <= set(
            form["description_placeholders"]
        )
        result = await hass.config_entries.flow.async_configure(
            offer["flow_id"], {"name": "Bob's card", "person": "person.bob"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "id_tag_added"
        await hass.async_block_till_done()
        [added] = [s for s in entry.subentries.values() if s.data.get("id_tag") == "04A1B2C3"]
        assert added.title == "Bob's card"
        assert added.data["person"] == "person.bob"
        # Known now: reported as such, not offered again.
        await authorize(cp, "04A1B2C3")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert offers(hass) == []
    assert [tag for tag, _ in scanned(events)] == ["04A1B2C3"] * 3


async def test_an_ignored_tag_is_not_offered_again(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp:
        await cp.boot()
        await authorize(cp, "NEIGHBOUR")
        await hass.async_block_till_done(wait_background_tasks=True)
        [offer] = offers(hass)
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_IGNORE},
            data={"unique_id": offer["context"]["unique_id"], "title": "NEIGHBOUR"},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert offers(hass) == []
        await authorize(cp, "NEIGHBOUR")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert offers(hass) == []


async def test_an_offer_closes_when_the_tag_is_added_by_hand(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    entry = setup_integration
    async with charger(connect) as cp:
        await cp.boot()
        await authorize(cp, "NEW-CARD")
        await authorize(cp, "OTHER-CARD")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(offers(hass)) == 2
    hass.config_entries.async_add_subentry(entry, tag_subentry_object("new-card"))
    await hass.async_block_till_done()
    [other] = offers(hass)
    assert other["context"]["title_placeholders"] == {"name": "OTHER-CARD"}
    hass.config_entries.async_add_subentry(entry, tag_subentry_object("OTHER-CARD"))
    await hass.async_block_till_done()
    assert offers(hass) == []


async def test_offers_and_unknown_tags_are_bounded(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(id_tag_events, "MAX_NEW_UNKNOWN_PER_HOUR", 15)
    events = async_capture_events(hass, EVENT_TAG_SCANNED)
    async with charger(connect) as cp:
        await cp.boot()
        for number in range(20):
            await authorize(cp, f"RANDOM-{number}")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(offers(hass)) == MAX_OFFERS
        assert len(events) == 15
        # A tag already passed on still is; known tags always are.
        await authorize(cp, "RANDOM-0")
        await authorize(cp, "CARD-ANNA")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert [tag for tag, _ in scanned(events)][-2:] == ["RANDOM-0", "CARD-ANNA"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unknown id" in r.msg]
    assert len(warnings) == 1


async def test_an_offer_for_a_central_system_that_is_gone_aborts(
    hass: HomeAssistant, setup_integration: MockConfigEntry, connect: Connect
) -> None:
    async with charger(connect) as cp:
        await cp.boot()
        await authorize(cp, "LATE-CARD")
        await hass.async_block_till_done(wait_background_tasks=True)
    [offer] = offers(hass)
    await hass.config_entries.async_unload(setup_integration.entry_id)
    result = await hass.config_entries.flow.async_configure(offer["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"
    # Nor is a new one offered for it.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": "discovery"},
        data={
            "entry_id": setup_integration.entry_id,
            "id_tag": "LATE-CARD",
            "charge_point_id": "CP1",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_an_offer_of_a_tag_added_meanwhile_aborts(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": "discovery"},
        data={
            "entry_id": setup_integration.entry_id,
            "id_tag": "card-anna",
            "charge_point_id": "CP1",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "id_tag_already_added"
